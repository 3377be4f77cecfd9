//! Patterns in the drops that no single drop shows: connections cut after the same lifetime
//! (a session or idle timeout in a load balancer, proxy or gateway: 60 s, 100 s, 300 s,
//! 3600 s), cut after the same time without traffic (an idle timeout), or ending within
//! seconds of opening (flapping).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// Drops remembered for pattern finding.
const KEPT: usize = 16;
/// Fewest drops in a row that make a steady period.
const PERIODIC_RUN: usize = 3;
/// Fewest drops in a row at the same idle time that make an idle timeout.
const IDLE_RUN: usize = 2;
/// A connection that ends sooner than this after opening is flapping.
pub const FLAP_WITHIN: Duration = Duration::from_secs(10);
/// How many of the last drops are looked at for flapping, and how many must be short.
const FLAP_WINDOW: usize = 6;
const FLAP_SHORT: usize = 3;

/// One drop of an open connection (not closed by the user or by wsmon's stale action).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropRecord {
    /// When it dropped.
    pub at: SystemTime,
    /// How long the connection had been open.
    pub up: Duration,
    /// How long nothing had crossed it, either way, before it dropped.
    pub idle: Duration,
}

/// What the drops have in common.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// The last `run` connections each lasted about `period`; `quiet` when they carried no
    /// traffic at the end (the period is then as likely an idle timeout).
    Periodic {
        /// The typical lifetime.
        period: Duration,
        /// Drops in a row that fit it.
        run: usize,
        /// Whether each was idle for (nearly) all of its life.
        quiet: bool,
    },
    /// The last `run` connections each dropped after about `idle` without traffic, having
    /// lived different lengths.
    IdleTimeout {
        /// The typical idle time before the drop.
        idle: Duration,
        /// Drops in a row that fit it.
        run: usize,
    },
    /// `short` of the last `of` connections ended within `FLAP_WITHIN` of opening.
    Flapping {
        /// How many were short.
        short: usize,
        /// How many were looked at.
        of: usize,
    },
}

/// The last drops, for pattern finding.
#[derive(Clone, Debug, Default)]
pub struct DropLog {
    recent: VecDeque<DropRecord>,
}

/// Whether two durations are the same period: within 10%, and never closer than 100 ms
/// apart counts as different (timers and reconnects jitter).
fn same(a: Duration, b: Duration) -> bool {
    let tol = (a.max(b) / 10).max(Duration::from_millis(100));
    a.abs_diff(b) <= tol
}

impl DropLog {
    /// Remembers a drop.
    pub fn push(&mut self, d: DropRecord) {
        if self.recent.len() == KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(d);
    }

    /// The run of newest drops whose `key` is the same as the newest one's, and its median.
    fn run(&self, key: impl Fn(&DropRecord) -> Duration) -> (usize, Duration) {
        let Some(last) = self.recent.back() else {
            return (0, Duration::ZERO);
        };
        let anchor = key(last);
        let mut values: Vec<Duration> = self
            .recent
            .iter()
            .rev()
            .map(&key)
            .take_while(|v| same(*v, anchor))
            .collect();
        values.sort();
        (values.len(), values[values.len() / 2])
    }

    /// What the drops have in common, if anything; `open_for` is how long the current
    /// connection has been open (a connection that outlived the period broke the pattern).
    pub fn pattern(&self, open_for: Option<Duration>) -> Option<Pattern> {
        let outlived = |p: Duration| open_for.is_some_and(|u| u > p && !same(u, p));
        let (run, period) = self.run(|d| d.up);
        if run >= PERIODIC_RUN && period >= Duration::from_secs(1) && !outlived(period) {
            let quiet = self
                .recent
                .iter()
                .rev()
                .take(run)
                .all(|d| same(d.idle, d.up));
            return Some(Pattern::Periodic { period, run, quiet });
        }
        let (run, idle) = self.run(|d| d.idle);
        if run >= IDLE_RUN && idle >= Duration::from_secs(1) {
            return Some(Pattern::IdleTimeout { idle, run });
        }
        let of = self.recent.len().min(FLAP_WINDOW);
        let short = self
            .recent
            .iter()
            .rev()
            .take(of)
            .filter(|d| d.up < FLAP_WITHIN)
            .count();
        if short >= FLAP_SHORT && open_for.is_none_or(|u| u < FLAP_WITHIN * 6) {
            return Some(Pattern::Flapping { short, of });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(drops: &[(u64, u64)]) -> DropLog {
        let mut l = DropLog::default();
        let mut at = SystemTime::UNIX_EPOCH;
        for &(up, idle) in drops {
            at += Duration::from_millis(up + 50);
            l.push(DropRecord {
                at,
                up: Duration::from_millis(up),
                idle: Duration::from_millis(idle),
            });
        }
        l
    }

    #[test]
    fn a_steady_lifetime_is_a_period() {
        let l = log(&[
            (40_000, 100),
            (1_510, 1_500),
            (1_490, 1_480),
            (1_530, 1_520),
            (1_500, 1_500),
            (1_470, 1_460),
            (1_505, 1_500),
        ]);
        assert_eq!(
            l.pattern(None),
            Some(Pattern::Periodic {
                period: Duration::from_millis(1_505),
                run: 6,
                quiet: true
            })
        );
        assert!(l.pattern(Some(Duration::from_millis(900))).is_some());
        assert_eq!(
            l.pattern(Some(Duration::from_secs(5)))
                .map(|p| matches!(p, Pattern::Periodic { .. })),
            Some(false),
            "a connection that outlived the period broke it"
        );
        let busy = log(&[(60_000, 200), (60_100, 10), (59_900, 900)]);
        assert!(matches!(
            busy.pattern(None),
            Some(Pattern::Periodic {
                quiet: false,
                run: 3,
                ..
            })
        ));
    }

    #[test]
    fn the_same_idle_time_with_different_lifetimes_is_an_idle_timeout() {
        let l = log(&[(95_000, 60_000), (300_000, 60_200), (130_000, 59_900)]);
        assert_eq!(
            l.pattern(None),
            Some(Pattern::IdleTimeout {
                idle: Duration::from_millis(60_000),
                run: 3
            })
        );
    }

    #[test]
    fn short_irregular_lives_are_flapping_and_two_drops_are_nothing() {
        let l = log(&[
            (300, 10),
            (4_000, 100),
            (90_000, 30),
            (1_200, 5),
            (7_000, 2),
        ]);
        assert_eq!(l.pattern(None), Some(Pattern::Flapping { short: 4, of: 5 }));
        assert_eq!(log(&[(1_500, 1), (1_500, 2)]).pattern(None), None);
        assert_eq!(log(&[(90_000, 1), (5_000, 20_000)]).pattern(None), None);
    }
}
