//! An endpoint's availability over the last minutes, sampled once a second and drawn as a
//! strip of cells: a flapping endpoint is seen, not read.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::engine::ConnState;

/// How far back the strip looks, at most.
pub const SPAN: Duration = Duration::from_secs(600);

/// The span a strip shows after watching for `watched`: whole minutes, 1 to 10, so a young
/// session's flapping shows too.
pub fn span_for(watched: Duration) -> Duration {
    let minutes = watched.as_secs().div_ceil(60).clamp(1, SPAN.as_secs() / 60);
    Duration::from_secs(minutes * 60)
}

/// How a second went for the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Up {
    /// Not connected and not dialling (waiting, closed, gave up).
    Down,
    /// Dialling, or open but carrying no data (stale).
    Doubtful,
    /// Open.
    Up,
}

/// What one cell of the strip covers: the worst and the best second in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The worst second.
    pub worst: Up,
    /// The best second.
    pub best: Up,
}

/// The samples of the last `SPAN`, one per second at most, kept as runs of the same state:
/// an endpoint that stays up holds one run, not 600 samples (a fleet has thousands).
#[derive(Clone, Debug, Default)]
pub struct StateStrip {
    // (first second, last second, state), oldest first.
    runs: VecDeque<(u64, u64, Up)>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds without a sample that a run of the same state still spans (a tick that came late).
const GAP: u64 = 2;

impl StateStrip {
    /// Records the state at `now` (once per second; later samples of a second are dropped).
    pub fn sample(&mut self, now: SystemTime, state: &ConnState, stale: bool) {
        let up = match state {
            ConnState::Open if stale => Up::Doubtful,
            ConnState::Open => Up::Up,
            ConnState::Starting | ConnState::Connecting { .. } | ConnState::Closing => Up::Doubtful,
            ConnState::Waiting { .. } | ConnState::Closed | ConnState::GaveUp => Up::Down,
        };
        let s = secs(now);
        match self.runs.back_mut() {
            Some((_, last, _)) if *last >= s => return,
            Some((_, last, was)) if *was == up && s - *last <= GAP => *last = s,
            _ => self.runs.push_back((s, s, up)),
        }
        let oldest = s.saturating_sub(SPAN.as_secs());
        while self.runs.front().is_some_and(|(_, last, _)| *last < oldest) {
            self.runs.pop_front();
        }
        if let Some((first, _, _)) = self.runs.front_mut() {
            *first = (*first).max(oldest);
        }
    }

    /// When the first sample was taken.
    pub fn first(&self) -> Option<SystemTime> {
        self.runs
            .front()
            .map(|(t, _, _)| SystemTime::UNIX_EPOCH + Duration::from_secs(*t))
    }

    /// The last `span` (at most `SPAN`) in `n` cells, oldest first; `None` for a cell with no
    /// sample (before wsmon started watching).
    pub fn cells(&self, now: SystemTime, n: usize, span: Duration) -> Vec<Option<Cell>> {
        let n = n.max(1) as u64;
        let span = span.min(SPAN).as_secs().max(1);
        let end = secs(now) + 1;
        let start = end.saturating_sub(span);
        let per = span.div_ceil(n).max(1);
        let mut out: Vec<Option<Cell>> = vec![None; n as usize];
        for &(first, last, up) in &self.runs {
            for t in first.max(start)..=last.min(end - 1) {
                let i = (((t - start) / per) as usize).min(n as usize - 1);
                out[i] = Some(match out[i] {
                    None => Cell {
                        worst: up,
                        best: up,
                    },
                    Some(c) => Cell {
                        worst: c.worst.min(up),
                        best: c.best.max(up),
                    },
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    #[test]
    fn cells_show_the_worst_and_best_second_of_their_span() {
        let mut strip = StateStrip::default();
        for s in 0..600 {
            let state = if (300..330).contains(&s) {
                ConnState::Closed
            } else {
                ConnState::Open
            };
            strip.sample(at(s), &state, false);
            strip.sample(at(s), &ConnState::Closed, false); // a second is sampled once
        }
        let cells = strip.cells(at(599), 10, SPAN);
        let down: Vec<usize> = (0..10)
            .filter(|i| cells[*i].unwrap().worst == Up::Down)
            .collect();
        assert_eq!(down, [5], "the 30 s outage is in the sixth minute");
        assert_eq!(cells[5].unwrap().best, Up::Up, "up part of that minute");
        assert_eq!(
            cells[0].unwrap(),
            Cell {
                worst: Up::Up,
                best: Up::Up
            }
        );
        assert_eq!(
            strip.runs.len(),
            3,
            "up, down, up: three runs, not 600 samples"
        );
        let fresh = StateStrip::default().cells(at(0), 4, SPAN);
        assert!(fresh.iter().all(Option::is_none));
        assert_eq!(span_for(Duration::from_secs(16)), Duration::from_secs(60));
        assert_eq!(span_for(Duration::from_secs(61)), Duration::from_secs(120));
        assert_eq!(span_for(Duration::from_secs(3600)), SPAN);
    }
}
