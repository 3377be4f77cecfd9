//! The story of a session for the report: connections with how long each lasted, drops with
//! their causes, and outages as the compact sequence of what each dial met
//! (`abrupt 1006 → refused ×3 → HTTP 503 ×2 → open`).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::engine::{Cause, CloseInfo, ClosedBy, Event, Failure, Phase, Stamped};

/// Timeline rows kept.
const ROWS_KEPT: usize = 200;
/// Steps of one outage kept (a long outage's sequence stays one line).
const STEPS_KEPT: usize = 12;

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
        /// What was met, in order, repeats counted.
        steps: Vec<(String, u32)>,
        /// Steps left out of a long sequence.
        steps_cut: u32,
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
pub fn close_label(c: &CloseInfo) -> String {
    match (c.by, c.code) {
        (ClosedBy::Heartbeat, _) => "no pong".into(),
        (ClosedBy::Stale, _) => "stale".into(),
        (_, Some(code)) if code != 1006 => code.to_string(),
        _ => "abrupt 1006".into(),
    }
}

/// A failed dial as a word or two: `refused`, `HTTP 503`, `TLS`, `timeout in upgrade`,
/// `proxy HTTP 407`.
pub fn failure_label(f: &Failure) -> String {
    let what = match (&f.http, f.cause) {
        (Some(h), _) => format!("HTTP {}", h.status),
        (None, Cause::Refused) => "refused".into(),
        (None, Cause::Dns) => "DNS".into(),
        (None, Cause::Tls) => "TLS".into(),
        (None, Cause::Timeout) => format!("timeout in {}", f.phase.as_str()),
        (None, Cause::Protocol) => "protocol".into(),
        (None, Cause::Io | Cause::Http) => "io".into(),
    };
    if f.phase == Phase::Proxy {
        format!("proxy {what}")
    } else {
        what
    }
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
                if let Some(Row::Outage { until, steps, .. }) = self.current_outage() {
                    *until = Some(at);
                    steps.push(("open".into(), 1));
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
                let label = failure_label(f);
                self.failures.add(label.clone());
                if self.current_outage().is_none() {
                    self.push(Row::Outage {
                        at,
                        steps: Vec::new(),
                        steps_cut: 0,
                        until: None,
                        gave_up: false,
                    });
                }
                if let Some(Row::Outage {
                    steps, steps_cut, ..
                }) = self.current_outage()
                {
                    let full = steps.len() >= STEPS_KEPT;
                    match steps.last_mut() {
                        Some((l, n)) if *l == label => *n += 1,
                        _ if full => *steps_cut += 1,
                        _ => steps.push((label, 1)),
                    }
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
                    let label = close_label(c);
                    self.drops.add(label.clone());
                    self.push(Row::Outage {
                        at,
                        steps: vec![(label, 1)],
                        steps_cut: 0,
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
        self.rows.push_back(row);
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

/// An outage's steps in one line: `abrupt 1006 → refused ×3 → HTTP 503 ×2 → open`.
pub fn steps_line(steps: &[(String, u32)], cut: u32) -> String {
    let mut parts: Vec<String> = steps
        .iter()
        .map(|(l, n)| match n {
            1 => l.clone(),
            n => format!("{l} ×{n}"),
        })
        .collect();
    if cut > 0 {
        let last = parts.pop();
        parts.push(format!("… {cut} more"));
        parts.extend(last);
    }
    parts.join(" → ")
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
        let s = |l: &str, n| (l.to_string(), n);
        assert_eq!(
            steps_line(
                &[
                    s("abrupt 1006", 1),
                    s("refused", 3),
                    s("HTTP 503", 2),
                    s("open", 1)
                ],
                0
            ),
            "abrupt 1006 → refused ×3 → HTTP 503 ×2 → open"
        );
        assert_eq!(
            steps_line(&[s("1012", 1), s("refused", 1), s("open", 1)], 4),
            "1012 → refused → … 4 more → open"
        );
        assert_eq!(count_word(1), "one");
        assert_eq!(count_word(12), "12");
    }
}
