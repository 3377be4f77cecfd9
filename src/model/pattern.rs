//! Patterns in the drops that no single drop shows, with the culprit the evidence names: a
//! server that ends each connection itself with the same close code (its own decision, often
//! an application heartbeat it misses), wsmon's own verdict again and again, connections cut
//! without a close frame after the same lifetime or the same idle time (a timeout on the
//! path: a load balancer, proxy or gateway), or connections ending within seconds of opening
//! (flapping).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::timeline::Culprit;
use crate::engine::Verdict;

/// Drops remembered for pattern finding.
const KEPT: usize = 16;
/// Fewest drops in a row that make a pattern of the same culprit, or a steady period.
const RUN: usize = 3;
/// Fewest drops in a row at the same idle time that make an idle timeout.
const IDLE_RUN: usize = 2;
/// A connection that ends sooner than this after opening is flapping.
pub const FLAP_WITHIN: Duration = Duration::from_secs(10);
/// How many of the last drops are looked at for flapping, and how many must be short.
const FLAP_WINDOW: usize = 6;
const FLAP_SHORT: usize = 3;
/// Connections that end in a pattern sooner than this are flapping, whoever ends them.
const SHORT_LIFE: Duration = Duration::from_secs(60);

/// One drop of an open connection (not closed by the user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropRecord {
    /// When it dropped.
    pub at: SystemTime,
    /// How long the connection had been open.
    pub up: Duration,
    /// How long nothing had crossed it, either way, before it dropped.
    pub idle: Duration,
    /// The longest silence before that final one (zero when nothing crossed it at all).
    pub busiest_gap: Duration,
    /// Who ended it.
    pub culprit: Culprit,
    /// The server's close reason, for a server close.
    pub reason: Arc<str>,
}

/// What the drops have in common.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// The server ended the last `run` connections itself, with the same close code.
    ServerCloses {
        /// The code it sent.
        code: Option<u16>,
        /// The reason of the newest close.
        reason: Arc<str>,
        /// Connections it closed so: the last `run` in a row, or `run` of the last `of`.
        run: usize,
        /// The drops looked at: `run` when they were all in a row.
        of: usize,
        /// Their lifetime, when they lasted about the same.
        period: Option<Duration>,
        /// The reason says the server missed an application heartbeat (ping, heartbeat,
        /// idle, timeout, keepalive): WebSocket pings do not reach its application.
        wants_heartbeat: bool,
    },
    /// wsmon's own verdict ended the last `run` connections the same way.
    Verdicts {
        /// Which verdict.
        verdict: Verdict,
        /// Connections in a row.
        run: usize,
        /// Their lifetime, when they lasted about the same.
        period: Option<Duration>,
    },
    /// The last `run` connections ended without a close frame after about `period`; `idle`
    /// when they carried no traffic at all (the period is then as likely an idle timeout).
    PathTimeout {
        /// The typical lifetime.
        period: Duration,
        /// Drops in a row that fit it.
        run: usize,
        /// Whether each was idle for (nearly) all of its life.
        idle: bool,
    },
    /// The last `run` connections ended without a close frame after about `idle` without
    /// traffic, having lived different lengths and been busier before.
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

impl Pattern {
    /// The wire name of its kind (headless `pattern` lines, the metrics' label).
    pub fn kind(&self) -> &'static str {
        match self {
            Pattern::ServerCloses { .. } => "server_closes",
            Pattern::Verdicts { .. } => "wsmon_verdicts",
            Pattern::PathTimeout { .. } => "path_timeout",
            Pattern::IdleTimeout { .. } => "idle_timeout",
            Pattern::Flapping { .. } => "flapping",
        }
    }

    /// Who the evidence points at: `server`, `wsmon`, `path`, or `mixed` for flapping.
    pub fn culprit(&self) -> &'static str {
        match self {
            Pattern::ServerCloses { .. } => "server",
            Pattern::Verdicts { .. } => "wsmon",
            Pattern::PathTimeout { .. } | Pattern::IdleTimeout { .. } => "path",
            Pattern::Flapping { .. } => "mixed",
        }
    }

    /// The typical lifetime of the connections, when they had one.
    pub fn period(&self) -> Option<Duration> {
        match self {
            Pattern::ServerCloses { period, .. } | Pattern::Verdicts { period, .. } => *period,
            Pattern::PathTimeout { period, .. } => Some(*period),
            Pattern::IdleTimeout { .. } | Pattern::Flapping { .. } => None,
        }
    }

    /// Connections end soon after they open: the endpoint is flapping, whoever ends them.
    pub fn flapping(&self) -> bool {
        match self {
            Pattern::Flapping { .. } => true,
            _ => self.period().is_some_and(|p| p < SHORT_LIFE),
        }
    }

    /// The same finding, however many drops it counts now: what a `pattern` line is written
    /// for when it changes.
    pub(crate) fn same_finding(&self, other: &Pattern) -> bool {
        match (self, other) {
            (
                Pattern::ServerCloses {
                    code: a,
                    period: pa,
                    ..
                },
                Pattern::ServerCloses {
                    code: b,
                    period: pb,
                    ..
                },
            ) => a == b && same_opt(*pa, *pb),
            (
                Pattern::Verdicts {
                    verdict: a,
                    period: pa,
                    ..
                },
                Pattern::Verdicts {
                    verdict: b,
                    period: pb,
                    ..
                },
            ) => a == b && same_opt(*pa, *pb),
            (
                Pattern::PathTimeout {
                    period: a,
                    idle: ia,
                    ..
                },
                Pattern::PathTimeout {
                    period: b,
                    idle: ib,
                    ..
                },
            ) => ia == ib && same(*a, *b),
            (Pattern::IdleTimeout { idle: a, .. }, Pattern::IdleTimeout { idle: b, .. }) => {
                same(*a, *b)
            }
            (Pattern::Flapping { .. }, Pattern::Flapping { .. }) => true,
            _ => false,
        }
    }
}

fn same_opt(a: Option<Duration>, b: Option<Duration>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Whether a close reason says an application heartbeat was missed.
pub fn asks_for_heartbeat(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    [
        "ping",
        "heartbeat",
        "heart beat",
        "idle",
        "timeout",
        "timed out",
        "inactiv",
        "keepalive",
        "keep-alive",
        "keep alive",
    ]
    .iter()
    .any(|w| r.contains(w))
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
        crate::small::push_back(&mut self.recent, d);
    }

    /// The newest drops, newest first, while `keep` holds.
    fn newest_while(&self, keep: impl Fn(&DropRecord) -> bool) -> Vec<&DropRecord> {
        self.recent.iter().rev().take_while(|d| keep(d)).collect()
    }

    /// The run of drops (newest first) whose `key` is the same as the newest one's, and its
    /// median.
    fn steady(drops: &[&DropRecord], key: impl Fn(&DropRecord) -> Duration) -> (usize, Duration) {
        let Some(first) = drops.first() else {
            return (0, Duration::ZERO);
        };
        let anchor = key(first);
        let mut values: Vec<Duration> = drops
            .iter()
            .map(|d| key(d))
            .take_while(|v| same(*v, anchor))
            .collect();
        values.sort();
        (values.len(), values[values.len() / 2])
    }

    /// The server's own closes when they are most of the recent drops, though not the newest
    /// in a row (a restart now and then between them): `17 of the last 22`.
    fn dominant_server_close(&self, open_for: Option<Duration>) -> Option<Pattern> {
        let of = self.recent.len();
        let mut codes: Vec<(Option<u16>, usize)> = Vec::new();
        for d in &self.recent {
            if let Culprit::Server { code } = d.culprit {
                match codes.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, n)) => *n += 1,
                    None => codes.push((code, 1)),
                }
            }
        }
        let (code, run) = codes.into_iter().max_by_key(|(_, n)| *n)?;
        if run < RUN || run * 3 < of * 2 {
            return None;
        }
        let theirs: Vec<&DropRecord> = self
            .recent
            .iter()
            .rev()
            .filter(|d| d.culprit == Culprit::Server { code })
            .collect();
        let (steady, period) = DropLog::steady(&theirs, |d| d.up);
        let period = (steady >= RUN && steady * 3 >= run * 2).then_some(period);
        if period.is_some_and(|p| open_for.is_some_and(|u| u > p && !same(u, p))) {
            return None;
        }
        Some(Pattern::ServerCloses {
            code,
            reason: theirs[0].reason.clone(),
            run,
            of,
            period,
            wants_heartbeat: theirs.iter().any(|d| asks_for_heartbeat(&d.reason)),
        })
    }

    /// What the drops have in common, if anything; `open_for` is how long the current
    /// connection has been open (a connection that outlived the period broke the pattern).
    pub fn pattern(&self, open_for: Option<Duration>) -> Option<Pattern> {
        let outlived = |p: Duration| open_for.is_some_and(|u| u > p && !same(u, p));
        let last = self.recent.back()?;
        let culprit = last.culprit;
        let alike = self.newest_while(|d| d.culprit == culprit);
        let (steady_run, period) = DropLog::steady(&alike, |d| d.up);
        let period = (steady_run >= RUN).then_some(period);
        let broken = period.is_some_and(outlived);
        match culprit {
            Culprit::Server { code } if alike.len() >= RUN && !broken => {
                return Some(Pattern::ServerCloses {
                    code,
                    reason: last.reason.clone(),
                    run: alike.len(),
                    of: alike.len(),
                    period,
                    wants_heartbeat: alike.iter().any(|d| asks_for_heartbeat(&d.reason)),
                });
            }
            Culprit::Wsmon(verdict) if alike.len() >= RUN && !broken => {
                return Some(Pattern::Verdicts {
                    verdict,
                    run: alike.len(),
                    period,
                });
            }
            Culprit::Abrupt => {
                // Below a second, a steady lifetime is as likely the reconnect rhythm.
                if let Some(period) =
                    period.filter(|p| !outlived(*p) && *p >= Duration::from_secs(1))
                {
                    let idle = alike.iter().take(steady_run).all(|d| same(d.idle, d.up));
                    return Some(Pattern::PathTimeout {
                        period,
                        run: steady_run,
                        idle,
                    });
                }
                // The same silence before each drop, longer than any the connection had
                // before: an idle timeout (a connection that ticks every second is not idle
                // after a second).
                let quiet: Vec<&DropRecord> = alike
                    .iter()
                    .copied()
                    .take_while(|d| d.busiest_gap.is_zero() || d.idle > d.busiest_gap * 2)
                    .collect();
                let (run, idle) = DropLog::steady(&quiet, |d| d.idle);
                if run >= IDLE_RUN && idle >= Duration::from_secs(1) {
                    return Some(Pattern::IdleTimeout { idle, run });
                }
            }
            _ => {}
        }
        if let Some(p) = self.dominant_server_close(open_for) {
            return Some(p);
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

    fn log(drops: &[(u64, u64, Culprit)]) -> DropLog {
        let mut l = DropLog::default();
        let mut at = SystemTime::UNIX_EPOCH;
        for &(up, idle, culprit) in drops {
            at += Duration::from_millis(up + 50);
            l.push(DropRecord {
                at,
                up: Duration::from_millis(up),
                idle: Duration::from_millis(idle),
                busiest_gap: Duration::ZERO,
                culprit,
                reason: "heartbeat timeout: no ping for 5s".into(),
            });
        }
        l
    }

    const ABRUPT: Culprit = Culprit::Abrupt;

    #[test]
    fn a_server_that_closes_each_connection_itself_is_named_not_the_path() {
        let server = Culprit::Server { code: Some(4000) };
        let l = log(&[
            (5_010, 5_000, server),
            (4_990, 4_990, server),
            (5_020, 5_000, server),
        ]);
        let p = l.pattern(None).unwrap();
        assert_eq!(
            p,
            Pattern::ServerCloses {
                code: Some(4000),
                reason: "heartbeat timeout: no ping for 5s".into(),
                run: 3,
                of: 3,
                period: Some(Duration::from_millis(5_010)),
                wants_heartbeat: true,
            }
        );
        assert!(p.flapping());
        assert_eq!(p.culprit(), "server");
    }

    #[test]
    fn abrupt_drops_after_a_steady_lifetime_are_a_timeout_on_the_path() {
        let l = log(&[
            (40_000, 100, ABRUPT),
            (1_510, 1_500, ABRUPT),
            (1_490, 1_480, ABRUPT),
            (1_530, 1_520, ABRUPT),
            (1_500, 1_500, ABRUPT),
        ]);
        assert_eq!(
            l.pattern(None),
            Some(Pattern::PathTimeout {
                period: Duration::from_millis(1_510),
                run: 4,
                idle: true
            })
        );
        assert!(
            !matches!(
                l.pattern(Some(Duration::from_secs(5))),
                Some(Pattern::PathTimeout { .. })
            ),
            "a connection that outlived the period broke it"
        );
        let busy = log(&[
            (60_000, 200, ABRUPT),
            (60_100, 10, ABRUPT),
            (59_900, 900, ABRUPT),
        ]);
        assert!(matches!(
            busy.pattern(None),
            Some(Pattern::PathTimeout {
                idle: false,
                run: 3,
                ..
            })
        ));
    }

    #[test]
    fn the_same_idle_time_is_an_idle_timeout_only_when_it_is_longer_than_the_usual_gaps() {
        let l = log(&[
            (95_000, 60_000, ABRUPT),
            (300_000, 60_200, ABRUPT),
            (130_000, 59_900, ABRUPT),
        ]);
        assert_eq!(
            l.pattern(None),
            Some(Pattern::IdleTimeout {
                idle: Duration::from_millis(60_000),
                run: 3
            })
        );
        // A feed that ticks every second is never idle for more than a second.
        let mut ticking = DropLog::default();
        for up in [95_000, 300_000, 130_000] {
            ticking.push(DropRecord {
                at: SystemTime::UNIX_EPOCH,
                up: Duration::from_millis(up),
                idle: Duration::from_millis(1_000),
                busiest_gap: Duration::from_millis(1_000),
                culprit: ABRUPT,
                reason: "".into(),
            });
        }
        assert_eq!(ticking.pattern(None), None);
    }

    #[test]
    fn short_irregular_lives_are_flapping_and_two_drops_are_nothing() {
        let l = log(&[
            (300, 10, ABRUPT),
            (4_000, 100, Culprit::Server { code: Some(1012) }),
            (90_000, 30, ABRUPT),
            (1_200, 5, Culprit::Wsmon(Verdict::NoPong)),
            (7_000, 2, ABRUPT),
        ]);
        assert_eq!(l.pattern(None), Some(Pattern::Flapping { short: 4, of: 5 }));
        assert_eq!(
            log(&[(1_500, 1, ABRUPT), (1_500, 2, ABRUPT)]).pattern(None),
            None
        );
    }

    #[test]
    fn a_server_that_closes_most_connections_is_named_though_a_restart_came_between() {
        let s = Culprit::Server { code: Some(1012) };
        let mut drops = vec![(25_000, 1_000, s); 9];
        drops.push((22_000, 500, ABRUPT));
        drops.extend([(25_000, 1_000, s); 2]);
        let p = log(&drops).pattern(Some(Duration::from_secs(3))).unwrap();
        assert!(
            matches!(
                p,
                Pattern::ServerCloses {
                    code: Some(1012),
                    run: 11,
                    of: 12,
                    period: Some(_),
                    ..
                }
            ),
            "{p:?}"
        );
    }

    #[test]
    fn the_reasons_that_ask_for_a_heartbeat() {
        for r in [
            "heartbeat timeout",
            "no PING for 5s",
            "idle connection",
            "Keep-Alive missed",
        ] {
            assert!(asks_for_heartbeat(r), "{r}");
        }
        for r in ["service restart", "bad token", ""] {
            assert!(!asks_for_heartbeat(r), "{r}");
        }
    }
}
