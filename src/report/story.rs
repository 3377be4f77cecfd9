//! The story of a session for the report: connections with how long each lasted, drops with
//! their causes, and outages as the compact sequence of what each dial met
//! (`abrupt 1006 → refused ×3 → HTTP 503 ×2 → open`).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::engine::stats::{Step, extend_path};
use crate::engine::{CloseInfo, ClosedBy, Event, Failure, Phase, Stamped};

/// Timeline rows kept.
const ROWS_KEPT: usize = 200;

/// One row of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// A connection opened; `until` when it ended (still open without).
    Up {
        /// When it opened.
        at: SystemTime,
        /// The attempt of its outage that opened it.
        attempt: u32,
        /// The open, in words (remote, dial time, TLS).
        detail: String,
        /// When it ended.
        until: Option<SystemTime>,
    },
    /// An open connection ended.
    Down {
        /// When.
        at: SystemTime,
        /// The close or failure, in words.
        detail: String,
        /// How long it had been open.
        up: Duration,
        /// Whether the user closed it (not a drop).
        by_user: bool,
    },
    /// Time without a connection, and what each dial met.
    Outage {
        /// When it began.
        at: SystemTime,
        /// What was met, in order, repeats counted (the first 12 kinds).
        steps: Vec<(Step, u32)>,
        /// When it ended (a connection opened).
        until: Option<SystemTime>,
        /// Whether wsmon gave up (max_attempts).
        gave_up: bool,
    },
}

impl Row {
    /// When the row begins.
    pub fn at(&self) -> SystemTime {
        match self {
            Row::Up { at, .. } | Row::Down { at, .. } | Row::Outage { at, .. } => *at,
        }
    }
}

/// A close as one word or two: `1012`, `abrupt 1006`, `no pong`, `stale`.
fn close_label(c: &CloseInfo) -> String {
    crate::describe::step(&Step::of_close(c))
}

/// A failed dial as a word or two: `refused`, `HTTP 503`, `proxy HTTP 407`.
fn failure_label(f: &Failure) -> String {
    crate::describe::step(&Step::of_failure(f))
}

/// Counts of labels in first-seen order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally(pub Vec<(String, u64)>);

impl Tally {
    fn add(&mut self, label: String) {
        match self.0.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => self.0.push((label, 1)),
        }
    }

    /// Total counted.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

/// The timeline and the counts the verdict is made of, folded from events.
#[derive(Clone, Debug, Default)]
pub struct Story {
    /// Rows, oldest first (the last 200).
    pub rows: VecDeque<Row>,
    /// Rows left out at the start.
    pub rows_cut: u64,
    /// Every drop by its label.
    pub drops: Tally,
    /// Every failed dial by its label.
    pub failures: Tally,
    /// The longest outage that ended.
    pub longest_outage: Option<Duration>,
    // The failure of the open connection, for the close that follows it.
    open_failure: Option<String>,
}

impl Story {
    /// Folds one event in.
    pub fn apply(&mut self, s: &Stamped) {
        let at = s.at;
        match &s.event {
            Event::Open(info) => {
                let began = self.down_since();
                if let Some(Row::Outage { until, .. }) = self.current_outage() {
                    *until = Some(at);
                }
                if let Some(began) = began {
                    let lasted = at.duration_since(began).unwrap_or_default();
                    self.longest_outage = Some(self.longest_outage.unwrap_or_default().max(lasted));
                }
                self.open_failure = None;
                self.push(Row::Up {
                    at,
                    attempt: info.attempt,
                    detail: crate::describe::open(info)
                        .trim_start_matches("open: ")
                        .to_string(),
                    until: None,
                });
            }
            Event::Error(f) if f.phase == Phase::Open => {
                self.open_failure = Some(crate::describe::failure(f));
            }
            Event::Error(f) => {
                self.failures.add(failure_label(f));
                if self.current_outage().is_none() {
                    self.push(Row::Outage {
                        at,
                        steps: Vec::new(),
                        until: None,
                        gave_up: false,
                    });
                }
                if let Some(Row::Outage { steps, .. }) = self.current_outage() {
                    extend_path(steps, Step::of_failure(f));
                }
            }
            Event::Closed(c) => {
                for row in self.rows.iter_mut().rev() {
                    if let Row::Up { until, .. } = row {
                        if until.is_none() {
                            *until = Some(at);
                        }
                        break;
                    }
                }
                let by_user = c.by == ClosedBy::Client;
                let detail = match (c.by, self.open_failure.take()) {
                    (ClosedBy::Error, Some(f)) => f,
                    _ => crate::describe::close(c),
                };
                self.push(Row::Down {
                    at,
                    detail,
                    up: c.uptime,
                    by_user,
                });
                if !by_user {
                    self.drops.add(close_label(c));
                    self.push(Row::Outage {
                        at,
                        steps: vec![(Step::of_close(c), 1)],
                        until: None,
                        gave_up: false,
                    });
                }
            }
            Event::GaveUp { .. } => {
                if let Some(Row::Outage { gave_up, .. }) = self.current_outage() {
                    *gave_up = true;
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, row: Row) {
        if self.rows.len() == ROWS_KEPT {
            self.rows.pop_front();
            self.rows_cut += 1;
        }
        crate::small::push_back(&mut self.rows, row);
    }

    /// The outage going on, if the last row is one.
    fn current_outage(&mut self) -> Option<&mut Row> {
        self.rows
            .back_mut()
            .filter(|r| matches!(r, Row::Outage { until: None, .. }))
    }

    /// The outage going on at the end, and since when.
    pub fn down_since(&self) -> Option<SystemTime> {
        match self.rows.back() {
            Some(Row::Outage {
                at, until: None, ..
            }) => Some(*at),
            _ => None,
        }
    }
}

/// An outage's steps in one line, and how it ended: `abrupt 1006 → refused ×3 → HTTP 503 ×2
/// → open`.
pub fn steps_line(steps: &[(Step, u32)], ended: bool) -> String {
    let path = crate::describe::path(steps);
    match (ended, path.is_empty()) {
        (false, _) => path,
        (true, true) => "open".into(),
        (true, false) => format!("{path} → open"),
    }
}

/// A count as people write it in a sentence: "one", "two", ..., then digits.
pub fn count_word(n: u64) -> String {
    const WORDS: [&str; 10] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    WORDS
        .get(n as usize)
        .map_or_else(|| n.to_string(), |w| (*w).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_compact() {
        use crate::engine::{Cause, ClosedBy, Phase};
        let mut path = vec![(
            Step::Dropped {
                by: ClosedBy::Error,
                code: None,
            },
            1,
        )];
        let refused = Step::Failed {
            cause: Cause::Refused,
            phase: Phase::Tcp,
            status: None,
        };
        let busy = Step::Failed {
            cause: Cause::Http,
            phase: Phase::Upgrade,
            status: Some(503),
        };
        for s in [refused, refused, refused, busy, busy] {
            extend_path(&mut path, s);
        }
        assert_eq!(
            steps_line(&path, true),
            "abrupt 1006 → refused ×3 → HTTP 503 ×2 → open"
        );
        assert_eq!(steps_line(&path[..1], false), "abrupt 1006");
        assert_eq!(count_word(1), "one");
        assert_eq!(count_word(12), "12");
    }
}
