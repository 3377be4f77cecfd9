//! What wsmon saw of an endpoint over time: up, down, or not probed. A connection is up while
//! it is open. Once a connection ends, nothing is known until the next dial: if that dial
//! fails, the endpoint was down since the drop (and stays down until a dial succeeds); if it
//! succeeds, the wait between was wsmon's own choice, not the endpoint's downtime, and counts
//! as not probed. Availability is up / (up + down): the time wsmon chose not to look is left
//! out, and shown as such.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// What a stretch of time was, as far as wsmon saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seen {
    /// A dial failed and none had succeeded since.
    Down,
    /// Not looked at: before the first result, between a drop and the next dial that
    /// succeeded, after the user closed, after the session stopped.
    Unprobed,
    /// Open, but carrying no data (stale).
    Stale,
    /// Open.
    Up,
}

impl Seen {
    /// The wire name (the report, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Seen::Down => "down",
            Seen::Unprobed => "not probed",
            Seen::Stale => "stale",
            Seen::Up => "up",
        }
    }
}

/// How far back the recent spans reach (the dashboard's strip shows at most this).
pub const RECENT: Duration = Duration::from_secs(600);
/// Most recent spans kept, whatever their age: a fleet of flapping endpoints stays bounded.
const RECENT_SPANS: usize = 1024;

/// A stretch of time and what it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Its start.
    pub from: SystemTime,
    /// Its end.
    pub to: SystemTime,
    /// What it was.
    pub seen: Seen,
}

/// Totals of up, down and not-probed time, the stretch going on, and the recent stretches.
#[derive(Clone, Debug, Default)]
pub struct Availability {
    up: Duration,
    down: Duration,
    unprobed: Duration,
    current: Option<(SystemTime, Seen)>,
    recent: VecDeque<Span>,
    // When watching began, until the first dial's result: a first dial that opens is not
    // counted at all; one that fails makes the time since the start down.
    first_result: Option<SystemTime>,
}

impl Availability {
    /// Watching begins at `at`; nothing is known until the first dial's result.
    pub fn start(&mut self, at: SystemTime) {
        if self.current.is_none() && self.first_result.is_none() {
            self.first_result = Some(at);
        }
    }

    /// From `at` on, the endpoint is `seen`.
    pub(crate) fn enter(&mut self, at: SystemTime, seen: Seen) {
        self.first_result = None;
        match self.current {
            Some((_, now)) if now == seen => {}
            Some((from, was)) => {
                let at = at.max(from);
                self.add(from, at, was);
                self.current = Some((at, seen));
            }
            None => self.current = Some((at, seen)),
        }
    }

    /// A dial failed: the stretch going on, if nothing was known of it, was down all along.
    pub(crate) fn found_down(&mut self, at: SystemTime) {
        if let Some(start) = self.first_result.take() {
            self.current = Some((start, Seen::Down));
            return;
        }
        match self.current {
            Some((from, Seen::Unprobed)) => self.current = Some((from, Seen::Down)),
            Some((_, Seen::Down)) => {}
            _ => self.enter(at, Seen::Down),
        }
    }

    /// The session ended at `at`: nothing more is counted.
    pub fn stop(&mut self, at: SystemTime) {
        self.first_result = None;
        if let Some((from, was)) = self.current.take() {
            self.add(from, at.max(from), was);
        }
    }

    fn add(&mut self, from: SystemTime, to: SystemTime, seen: Seen) {
        let d = to.duration_since(from).unwrap_or_default();
        match seen {
            Seen::Up | Seen::Stale => self.up += d,
            Seen::Down => self.down += d,
            Seen::Unprobed => self.unprobed += d,
        }
        if d.is_zero() {
            return;
        }
        match self.recent.back_mut() {
            Some(last) if last.seen == seen && last.to == from => last.to = to,
            _ => crate::small::push_back(&mut self.recent, Span { from, to, seen }),
        }
        let horizon = to.checked_sub(RECENT).unwrap_or(SystemTime::UNIX_EPOCH);
        while self.recent.len() > RECENT_SPANS
            || self.recent.front().is_some_and(|s| s.to < horizon)
        {
            self.recent.pop_front();
        }
    }

    /// What the endpoint is now, and since when.
    pub fn current(&self) -> Option<(SystemTime, Seen)> {
        self.current
    }

    fn live(&self, now: SystemTime, which: impl Fn(Seen) -> bool) -> Duration {
        match self.current {
            Some((from, seen)) if which(seen) => now.duration_since(from).unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }

    /// Time open, up to `now`.
    pub fn up(&self, now: SystemTime) -> Duration {
        self.up + self.live(now, |s| matches!(s, Seen::Up | Seen::Stale))
    }

    /// Time known down, up to `now`.
    pub fn down(&self, now: SystemTime) -> Duration {
        self.down + self.live(now, |s| s == Seen::Down)
    }

    /// Time not probed, up to `now`.
    pub(crate) fn unprobed(&self, now: SystemTime) -> Duration {
        self.unprobed + self.live(now, |s| s == Seen::Unprobed)
    }

    /// Up as a share of the time whose state is known, in percent; `None` before anything
    /// is known.
    pub(crate) fn percent(&self, now: SystemTime) -> Option<f64> {
        let up = self.up(now).as_secs_f64();
        let total = up + self.down(now).as_secs_f64();
        (total > 0.0).then(|| 100.0 * up / total)
    }

    /// The stretches of the last `RECENT` up to `now`, oldest first, the one going on last.
    pub(crate) fn spans(&self, now: SystemTime) -> impl Iterator<Item = Span> + '_ {
        self.recent
            .iter()
            .copied()
            .chain(
                self.current
                    .filter(|(from, _)| now > *from)
                    .map(|(from, seen)| Span {
                        from,
                        to: now,
                        seen,
                    }),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    #[test]
    fn a_wait_that_ends_in_an_open_is_not_downtime() {
        let mut a = Availability::default();
        a.start(at(0));
        a.enter(at(1), Seen::Up); // the first dial is not counted
        a.enter(at(5), Seen::Unprobed); // dropped after 4 s
        a.enter(at(16), Seen::Up); // back at the first dial, 11 s later
        assert_eq!(a.up(at(20)), Duration::from_secs(8));
        assert_eq!(a.down(at(20)), Duration::ZERO);
        assert_eq!(a.unprobed(at(20)), Duration::from_secs(11));
        assert_eq!(a.percent(at(20)), Some(100.0));
        let mut never = Availability::default();
        never.start(at(0));
        never.found_down(at(10)); // a first dial that timed out after 10 s
        assert_eq!(never.down(at(12)), Duration::from_secs(12));
    }

    #[test]
    fn a_failed_dial_makes_the_whole_wait_since_the_drop_down() {
        let mut a = Availability::default();
        a.enter(at(0), Seen::Up);
        a.enter(at(10), Seen::Unprobed);
        a.found_down(at(11));
        a.found_down(at(13));
        a.enter(at(15), Seen::Up);
        assert_eq!(a.down(at(20)), Duration::from_secs(5));
        assert_eq!(a.up(at(20)), Duration::from_secs(15));
        assert_eq!(a.percent(at(20)), Some(75.0));
        let spans: Vec<Seen> = a.spans(at(20)).map(|s| s.seen).collect();
        assert_eq!(spans, [Seen::Up, Seen::Down, Seen::Up]);
        a.stop(at(22));
        assert_eq!(
            a.up(at(99)),
            Duration::from_secs(17),
            "nothing after the stop"
        );
    }
}
