//! The message log: a bounded ring of messages and connection events, addressed by sequence
//! numbers that stay valid while the oldest entries are evicted.

mod entry;

use std::collections::VecDeque;

pub use entry::{Entry, Filter, Level, Origin, Quiet, Status};

/// A bounded ring of entries; the oldest go first. Each origin keeps an index of its
/// sequence numbers, so a filtered view costs what it shows, not the length of the log.
#[derive(Debug)]
pub struct MessageLog {
    entries: VecDeque<Entry>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    first_seq: u64,
    evicted: u64,
    by_origin: [VecDeque<u64>; 3],
    /// The text filter and the entries that contain it, kept as entries come and go.
    grep: Option<Grep>,
    /// Which groups of quiet rows are hidden (heartbeat, auto-replies).
    hidden: [bool; 2],
    /// While the log holds a hidden row: every entry not hidden, so the unfiltered view
    /// still costs what it shows. Built when the first hidden row comes or a group is hidden
    /// (rare), then kept as entries come and go; `None` while no row is hidden.
    visible: Option<VecDeque<u64>>,
    /// Rows of each quiet group kept (heartbeat, auto-replies), hidden or not.
    quiet: [usize; 2],
}

/// The entries that contain a text (ASCII case ignored).
#[derive(Debug)]
struct Grep {
    needle: Vec<u8>,
    hits: VecDeque<u64>,
}

fn slot(o: Origin) -> usize {
    match o {
        Origin::In => 0,
        Origin::Out => 1,
        Origin::Event => 2,
    }
}

impl Filter {
    fn origin(self) -> Option<Origin> {
        match self {
            Filter::All => None,
            Filter::In => Some(Origin::In),
            Filter::Out => Some(Origin::Out),
            Filter::Events => Some(Origin::Event),
        }
    }
}

impl MessageLog {
    /// An empty log holding at most `capacity` entries and `max_bytes` of payload.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        MessageLog {
            // Empty at first: a fleet has one log per endpoint, most of them quiet.
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            max_bytes: max_bytes.max(1),
            bytes: 0,
            first_seq: 0,
            evicted: 0,
            by_origin: Default::default(),
            grep: None,
            hidden: [false; 2],
            visible: None,
            quiet: [0; 2],
        }
    }

    /// Hides (or shows again) a group of quiet rows, those already in the log too; returns
    /// how many rows of the group the log holds.
    pub(crate) fn set_hidden(&mut self, group: Quiet, hide: bool) -> usize {
        let Some(slot) = group.slot() else { return 0 };
        self.hidden[slot] = hide;
        let any = self.entries.iter().any(|e| self.is_hidden(e));
        self.visible = any.then(|| {
            self.entries
                .iter()
                .zip(self.first_seq..)
                .filter(|(e, _)| !self.is_hidden(e))
                .map(|(_, seq)| seq)
                .collect()
        });
        self.quiet[slot]
    }

    /// Rows of a group the log holds and hides now (0 when the group is shown).
    pub(crate) fn hidden_rows(&self, group: Quiet) -> usize {
        group
            .slot()
            .filter(|s| self.hidden[*s])
            .map_or(0, |s| self.quiet[s])
    }

    fn is_hidden(&self, e: &Entry) -> bool {
        e.quiet.slot().is_some_and(|s| self.hidden[s])
    }

    /// Whether every entry of the index the filters walk is shown, so counting is arithmetic.
    fn exact(&self, filter: Filter) -> bool {
        let both = self.grep.is_some() && filter.origin().is_some();
        // Quiet rows are events: the In and Out indexes never hold one, and the visible index
        // (no text filter, no origin) holds none hidden.
        let hidden_may_show = self.visible.is_some()
            && !matches!(filter.origin(), Some(Origin::In | Origin::Out))
            && !(self.grep.is_none() && filter.origin().is_none());
        !both && !hidden_may_show
    }

    /// Shows only the entries that contain `text` (none: every entry); returns how many do.
    pub fn set_grep(&mut self, text: Option<&str>) -> usize {
        self.grep = text.filter(|t| !t.is_empty()).map(|t| {
            let needle = t.as_bytes().to_vec();
            let hits = self
                .entries
                .iter()
                .zip(self.first_seq..)
                .filter(|(e, _)| contains_ignore_case(&e.data, &needle))
                .map(|(_, seq)| seq)
                .collect();
            Grep { needle, hits }
        });
        self.grep
            .as_ref()
            .map_or(self.entries.len(), |g| g.hits.len())
    }

    /// How many entries the filter and the text filter show.
    pub fn shown_count(&self, filter: Filter) -> usize {
        match self.index(filter) {
            None => self.entries.len(),
            Some(idx) if self.exact(filter) => idx.len(),
            Some(idx) => idx.iter().filter(|s| self.keeps(**s, filter)).count(),
        }
    }

    /// The index the filters walk: the text filter's hits, or the origin's entries, or (with
    /// neither) every entry.
    fn index(&self, filter: Filter) -> Option<&VecDeque<u64>> {
        match (&self.grep, filter.origin()) {
            (Some(g), _) => Some(&g.hits),
            (None, Some(o)) => Some(&self.by_origin[slot(o)]),
            (None, None) => self.visible.as_ref(),
        }
    }

    /// Whether an entry of the index is shown: with a text filter, its origin must match too;
    /// a hidden group's rows are not.
    fn keeps(&self, seq: u64, filter: Filter) -> bool {
        if self.exact(filter) {
            return true;
        }
        self.get(seq)
            .is_some_and(|e| filter.matches(e) && !self.is_hidden(e))
    }

    fn evict_oldest(&mut self) {
        if let Some(old) = self.entries.pop_front() {
            self.by_origin[slot(old.origin)].pop_front();
            if let Some(q) = old.quiet.slot() {
                self.quiet[q] -= 1;
            }
            if let Some(v) = &mut self.visible
                && v.front() == Some(&self.first_seq)
            {
                v.pop_front();
            }
            if let Some(g) = &mut self.grep
                && g.hits.front() == Some(&self.first_seq)
            {
                g.hits.pop_front();
            }
            self.bytes -= old.data.len();
            self.first_seq += 1;
            self.evicted += 1;
        }
    }

    /// Appends an entry; returns its sequence number.
    pub fn push(&mut self, e: Entry) -> u64 {
        if self.entries.len() == self.capacity {
            self.evict_oldest();
        }
        while !self.entries.is_empty() && self.bytes + e.data.len() > self.max_bytes {
            self.evict_oldest();
        }
        // Grow by doubling, but never past the capacity: a full ring wastes no slots.
        if self.entries.len() == self.entries.capacity() {
            let more = self
                .entries
                .len()
                .max(16)
                .min(self.capacity - self.entries.len());
            self.entries.reserve_exact(more);
        }
        self.bytes += e.data.len();
        let seq = self.end_seq();
        self.by_origin[slot(e.origin)].push_back(seq);
        if let Some(q) = e.quiet.slot() {
            self.quiet[q] += 1;
        }
        let hidden = self.is_hidden(&e);
        match (&mut self.visible, hidden) {
            (Some(v), false) => v.push_back(seq),
            // The first hidden row: every row before it is shown.
            (None, true) => self.visible = Some((self.first_seq..seq).collect()),
            _ => {}
        }
        if let Some(g) = &mut self.grep
            && contains_ignore_case(&e.data, &g.needle)
        {
            g.hits.push_back(seq);
        }
        crate::small::push_back(&mut self.entries, e);
        seq
    }

    /// Sequence number of the oldest entry kept.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// One past the newest sequence number.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries evicted to stay within capacity.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The entry with this sequence number, if still kept.
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        let i = seq.checked_sub(self.first_seq)?;
        self.entries.get(usize::try_from(i).ok()?)
    }

    /// Mutable access, to update an outgoing message's status.
    pub(crate) fn get_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let i = seq.checked_sub(self.first_seq)?;
        self.entries.get_mut(usize::try_from(i).ok()?)
    }

    /// Replaces the text of an event entry (a collapsed run of repeats), keeping the byte count
    /// true; false when the entry is gone.
    pub(crate) fn rewrite(&mut self, seq: u64, text: String) -> bool {
        let Some(e) = self.get_mut(seq) else {
            return false;
        };
        let old = e.data.len();
        e.data = text.into_bytes().into_boxed_slice();
        let new = e.data.len();
        self.bytes = self.bytes + new - old;
        if let Some(g) = &mut self.grep {
            let hit = self
                .entries
                .get((seq - self.first_seq) as usize)
                .is_some_and(|e| contains_ignore_case(&e.data, &g.needle));
            let at = g.hits.partition_point(|&s| s < seq);
            let listed = g.hits.get(at) == Some(&seq);
            match (hit, listed) {
                (true, false) => g.hits.insert(at, seq),
                (false, true) => {
                    g.hits.remove(at);
                }
                _ => {}
            }
        }
        true
    }

    /// Forgets everything shown (`/clear`); sequence numbers keep counting.
    pub fn clear(&mut self) {
        self.first_seq = self.end_seq();
        self.bytes = 0;
        self.entries.clear();
        self.by_origin.iter_mut().for_each(VecDeque::clear);
        self.quiet = [0; 2];
        if let Some(v) = &mut self.visible {
            v.clear();
        }
        if let Some(g) = &mut self.grep {
            g.hits.clear();
        }
    }

    /// The newest entry the filter shows before `seq`.
    pub fn prev(&self, seq: u64, filter: Filter) -> Option<u64> {
        match self.index(filter) {
            None => (seq > self.first_seq && !self.entries.is_empty())
                .then(|| seq.min(self.end_seq()) - 1),
            Some(idx) => idx
                .range(..idx.partition_point(|&s| s < seq))
                .rev()
                .copied()
                .find(|s| self.keeps(*s, filter)),
        }
    }

    /// The oldest entry the filter shows after `seq`.
    pub fn next(&self, seq: u64, filter: Filter) -> Option<u64> {
        match self.index(filter) {
            None => {
                let n = seq.saturating_add(1).max(self.first_seq);
                (n < self.end_seq()).then_some(n)
            }
            Some(idx) => idx
                .range(idx.partition_point(|&s| s <= seq)..)
                .copied()
                .find(|s| self.keeps(*s, filter)),
        }
    }

    /// The oldest entry the filter shows.
    pub fn first(&self, filter: Filter) -> Option<u64> {
        match self.index(filter) {
            None => (!self.entries.is_empty()).then_some(self.first_seq),
            Some(idx) => idx.iter().copied().find(|s| self.keeps(*s, filter)),
        }
    }

    /// Entries the filter shows from `seq` on, oldest first.
    pub fn shown_from(&self, seq: u64, filter: Filter) -> Box<dyn Iterator<Item = u64> + '_> {
        match self.index(filter) {
            None => Box::new(seq.max(self.first_seq)..self.end_seq()),
            Some(idx) => Box::new(
                idx.range(idx.partition_point(|&s| s < seq)..)
                    .copied()
                    .filter(move |s| self.keeps(*s, filter)),
            ),
        }
    }

    /// Entries the filter shows before `seq`, newest first.
    pub(crate) fn shown_before(
        &self,
        seq: u64,
        filter: Filter,
    ) -> Box<dyn Iterator<Item = u64> + '_> {
        match self.index(filter) {
            None => Box::new((self.first_seq..seq.min(self.end_seq())).rev()),
            Some(idx) => Box::new(
                idx.range(..idx.partition_point(|&s| s < seq))
                    .rev()
                    .copied()
                    .filter(move |s| self.keeps(*s, filter)),
            ),
        }
    }

    /// How many entries the filter shows in `[from, to)`.
    pub(crate) fn count_between(&self, from: u64, to: u64, filter: Filter) -> usize {
        if to <= from {
            return 0;
        }
        match self.index(filter) {
            None => {
                (to.min(self.end_seq())
                    .saturating_sub(from.max(self.first_seq))) as usize
            }
            Some(idx) => {
                let range = idx.partition_point(|&s| s < from)..idx.partition_point(|&s| s < to);
                if !self.exact(filter) {
                    idx.range(range).filter(|s| self.keeps(**s, filter)).count()
                } else {
                    range.len()
                }
            }
        }
    }

    #[cfg(test)]
    /// Total bytes of payload kept.
    pub(crate) fn payload_bytes(&self) -> usize {
        self.bytes
    }
}

/// Whether `needle` occurs in `hay`, ignoring ASCII case.
pub(crate) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.len() > hay.len() {
        return false;
    }
    let first = needle[0].to_ascii_lowercase();
    hay.windows(needle.len())
        .any(|w| w[0].to_ascii_lowercase() == first && w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Kind;
    use std::time::SystemTime;

    fn msg(i: u64, origin: Origin) -> Entry {
        Entry::message(
            SystemTime::UNIX_EPOCH,
            origin,
            Kind::Text,
            Status::Plain,
            0,
            format!("m{i}").as_bytes(),
        )
    }

    #[test]
    fn the_text_filter_follows_pushes_evictions_and_rewrites() {
        let mut log = MessageLog::new(4, usize::MAX);
        let text = |t: &str, o: Origin| {
            Entry::message(
                SystemTime::UNIX_EPOCH,
                o,
                Kind::Text,
                Status::Plain,
                0,
                t.as_bytes(),
            )
        };
        log.push(text("an Error", Origin::In));
        log.push(text("fine", Origin::In));
        assert_eq!(log.set_grep(Some("error")), 1);
        log.push(text("error out", Origin::Out));
        log.push(text("ok", Origin::In));
        let shown = |log: &MessageLog, f: Filter| -> Vec<u64> { log.shown_from(0, f).collect() };
        assert_eq!(shown(&log, Filter::All), [0, 2]);
        assert_eq!(shown(&log, Filter::Out), [2]);
        assert_eq!(
            (log.prev(2, Filter::All), log.next(0, Filter::All)),
            (Some(0), Some(2))
        );
        assert_eq!(log.count_between(0, 4, Filter::In), 1);
        log.push(text("error again", Origin::In)); // evicts 0
        assert_eq!(shown(&log, Filter::All), [2, 4]);
        assert!(log.rewrite(3, "now an error".into()));
        assert_eq!(shown(&log, Filter::All), [2, 3, 4]);
        assert!(log.rewrite(2, "clean".into()));
        assert_eq!(shown(&log, Filter::All), [3, 4]);
        assert_eq!(log.shown_count(Filter::In), 2);
        assert_eq!(log.set_grep(None), 4);
        assert_eq!(shown(&log, Filter::All), [1, 2, 3, 4]);
    }

    #[test]
    fn hidden_groups_leave_every_view_and_come_back_with_their_rows() {
        let mut log = MessageLog::new(5, usize::MAX);
        log.set_hidden(Quiet::Heartbeat, true);
        let ping = || Entry::event(SystemTime::UNIX_EPOCH, Level::Info, "ping".into());
        log.push(msg(0, Origin::In));
        log.push(ping().quiet(Quiet::Heartbeat));
        log.push(msg(2, Origin::Out));
        log.push(ping());
        log.push(ping().quiet(Quiet::Heartbeat));
        let shown = |log: &MessageLog, f: Filter| -> Vec<u64> { log.shown_from(0, f).collect() };
        assert_eq!(shown(&log, Filter::All), [0, 2, 3]);
        assert_eq!(shown(&log, Filter::Events), [3]);
        assert_eq!(log.hidden_rows(Quiet::Heartbeat), 2);
        assert_eq!(log.shown_count(Filter::All), 3);
        assert_eq!(log.count_between(0, 5, Filter::Events), 1);
        assert_eq!(log.prev(3, Filter::All), Some(2));
        assert_eq!(
            log.shown_before(5, Filter::All).collect::<Vec<_>>(),
            [3, 2, 0]
        );
        assert_eq!(log.set_hidden(Quiet::Heartbeat, false), 2);
        assert_eq!(shown(&log, Filter::All), [0, 1, 2, 3, 4]);
        assert_eq!(log.set_hidden(Quiet::Heartbeat, true), 2);
        log.push(msg(5, Origin::In)); // evicts 0
        assert_eq!(shown(&log, Filter::All), [2, 3, 5]);
        log.push(msg(6, Origin::In)); // evicts the hidden 1
        assert_eq!(log.hidden_rows(Quiet::Heartbeat), 1);
        assert_eq!(log.set_grep(Some("ping")), 2);
        assert_eq!(shown(&log, Filter::All), [3]);
    }

    #[test]
    fn ring_evicts_oldest_and_keeps_sequence_numbers() {
        let mut log = MessageLog::new(3, usize::MAX);
        for i in 0..5 {
            assert_eq!(log.push(msg(i, Origin::In)), i);
        }
        assert_eq!(
            (log.first_seq(), log.end_seq(), log.len(), log.evicted()),
            (2, 5, 3, 2)
        );
        assert!(log.get(1).is_none());
        assert_eq!(&log.get(4).unwrap().data[..], b"m4");
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.push(msg(9, Origin::In)), 5);
    }

    #[test]
    fn an_entry_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 40);
    }

    #[test]
    fn walks_respect_the_filter() {
        let mut log = MessageLog::new(10, usize::MAX);
        for (i, o) in [
            Origin::In,
            Origin::Event,
            Origin::Out,
            Origin::In,
            Origin::Event,
        ]
        .into_iter()
        .enumerate()
        {
            log.push(msg(i as u64, o));
        }
        assert_eq!(log.prev(log.end_seq(), Filter::Events), Some(4));
        assert_eq!(log.prev(4, Filter::Events), Some(1));
        assert_eq!(log.prev(1, Filter::Events), None);
        assert_eq!(log.next(1, Filter::Events), Some(4));
        assert_eq!(log.next(0, Filter::Out), Some(2));
        assert_eq!(log.first(Filter::In), Some(0));
        assert_eq!(log.prev(3, Filter::All), Some(2));
        assert_eq!(log.next(4, Filter::All), None);
        assert_eq!(log.shown_from(1, Filter::In).collect::<Vec<_>>(), [3]);
        assert_eq!(
            log.shown_before(4, Filter::All).collect::<Vec<_>>(),
            [3, 2, 1, 0]
        );
        assert_eq!(log.count_between(0, 5, Filter::Events), 2);
        assert_eq!(log.count_between(1, 4, Filter::All), 3);
    }

    #[test]
    fn indexes_follow_eviction_and_clear() {
        let mut log = MessageLog::new(3, usize::MAX);
        for (i, o) in [
            Origin::Event,
            Origin::In,
            Origin::In,
            Origin::Event,
            Origin::In,
        ]
        .into_iter()
        .enumerate()
        {
            log.push(msg(i as u64, o));
        }
        // Kept: 2 (in), 3 (event), 4 (in); the event at 0 is gone from the index too.
        assert_eq!(log.first(Filter::Events), Some(3));
        assert_eq!(log.prev(3, Filter::Events), None);
        assert_eq!(log.first(Filter::In), Some(2));
        log.clear();
        assert_eq!(log.first(Filter::In), None);
        assert_eq!(log.prev(log.end_seq(), Filter::All), None);
    }

    #[test]
    fn the_byte_bound_evicts_the_oldest() {
        let mut log = MessageLog::new(100, 10);
        for i in 0..5 {
            log.push(msg(i, Origin::In)); // "m0".."m4": 2 bytes each
        }
        assert_eq!((log.len(), log.payload_bytes()), (5, 10));
        log.push(msg(5, Origin::In));
        assert_eq!(
            (
                log.len(),
                log.payload_bytes(),
                log.evicted(),
                log.first_seq()
            ),
            (5, 10, 1, 1)
        );
        // A single entry larger than the bound is kept alone rather than dropped.
        log.push(Entry::message(
            SystemTime::UNIX_EPOCH,
            Origin::In,
            Kind::Text,
            Status::Plain,
            0,
            &[b'x'; 50],
        ));
        assert_eq!((log.len(), log.payload_bytes()), (1, 50));
        assert_eq!(log.first(Filter::In), Some(6));
    }

    #[test]
    fn a_full_ring_does_not_overallocate() {
        let mut log = MessageLog::new(5000, usize::MAX);
        for i in 0..20_000 {
            log.push(msg(i, Origin::In));
        }
        assert_eq!(log.len(), 5000);
        assert!(
            log.entries.capacity() < 5000 + 16,
            "capacity {}",
            log.entries.capacity()
        );
    }

    #[test]
    fn case_insensitive_search() {
        assert!(contains_ignore_case(b"Hello World", b"wORLD"));
        assert!(!contains_ignore_case(b"Hello", b"world"));
        assert!(contains_ignore_case(b"abc", b""));
    }

    #[test]
    fn filter_cycle_returns_to_all() {
        let mut f = Filter::All;
        for _ in 0..4 {
            f = f.next();
        }
        assert_eq!(f, Filter::All);
    }
}
