//! An endpoint's last minutes drawn as a strip of cells, from the model's own stretches of
//! up, stale, down and not probed: a flapping endpoint is seen, not read, and a wait that
//! ended in a successful dial is grey, not red.

use std::time::{Duration, SystemTime};

use crate::model::{Availability, RECENT, Seen};

/// How far back the strip looks, at most.
pub(crate) const SPAN: Duration = RECENT;

/// The span a strip shows after watching for `watched`: whole minutes, 1 to 10, so a young
/// session's flapping shows too.
pub(crate) fn span_for(watched: Duration) -> Duration {
    let minutes = watched.as_secs().div_ceil(60).clamp(1, SPAN.as_secs() / 60);
    Duration::from_secs(minutes * 60)
}

/// What one cell of the strip covers: the worst and the best stretch in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The worst.
    pub worst: Seen,
    /// The best.
    pub best: Seen,
}

/// The last `span` (at most `SPAN`) up to `now` in `n` cells, oldest first; `None` for a cell
/// before wsmon started watching.
pub fn cells(a: &Availability, now: SystemTime, n: usize, span: Duration) -> Vec<Option<Cell>> {
    let n = n.max(1);
    let span = span.min(SPAN).max(Duration::from_secs(1));
    let start = now.checked_sub(span).unwrap_or(SystemTime::UNIX_EPOCH);
    let per = span / n as u32;
    let mut out: Vec<Option<Cell>> = vec![None; n];
    for s in a.spans(now) {
        if s.to <= start {
            continue;
        }
        let from = s.from.max(start);
        let first = (from.duration_since(start).unwrap_or_default().as_nanos()
            / per.as_nanos().max(1)) as usize;
        let last = (s
            .to
            .duration_since(start)
            .unwrap_or_default()
            .as_nanos()
            .saturating_sub(1)
            / per.as_nanos().max(1)) as usize;
        for c in out
            .iter_mut()
            .take(last.min(n - 1) + 1)
            .skip(first.min(n - 1))
        {
            *c = Some(match *c {
                None => Cell {
                    worst: s.seen,
                    best: s.seen,
                },
                Some(c) => Cell {
                    worst: c.worst.min(s.seen),
                    best: c.best.max(s.seen),
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    #[test]
    fn cells_show_the_worst_and_best_stretch_of_their_span() {
        let mut a = Availability::default();
        a.enter(at(0), Seen::Up);
        a.enter(at(300), Seen::Unprobed);
        a.found_down(at(301));
        a.enter(at(330), Seen::Up);
        a.enter(at(480), Seen::Unprobed);
        a.enter(at(481), Seen::Up);
        let cells = cells(&a, at(600), 10, SPAN);
        let down: Vec<usize> = (0..10)
            .filter(|i| cells[*i].unwrap().worst == Seen::Down)
            .collect();
        assert_eq!(down, [5], "the 30 s outage is in the sixth minute");
        assert_eq!(cells[5].unwrap().best, Seen::Up, "up part of that minute");
        assert_eq!(
            cells[8].unwrap().worst,
            Seen::Unprobed,
            "a reconnect at the first dial is not down"
        );
        assert_eq!(
            cells[0].unwrap(),
            Cell {
                worst: Seen::Up,
                best: Seen::Up
            }
        );
        let fresh = super::cells(&Availability::default(), at(0), 4, SPAN);
        assert!(fresh.iter().all(Option::is_none));
        assert_eq!(span_for(Duration::from_secs(16)), Duration::from_secs(60));
        assert_eq!(span_for(Duration::from_secs(61)), Duration::from_secs(120));
        assert_eq!(span_for(Duration::from_secs(3600)), SPAN);
    }
}
