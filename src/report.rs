//! The diagnostic report: what a person pastes into a ticket, built from the same model as
//! every other output (a live session or a recording) as a typed document, then rendered to
//! Markdown and to an HTML page.

mod build;
mod document;
mod evidence;
mod html;
mod markdown;

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::engine::{Dir, Event, HttpFailure, Kind, Stamped};
use crate::jsonl::RecordHeader;
use crate::model::ConnStats;

pub use document::{Block, Chart, Document};

/// Connections and outages the report keeps (a dashboard keeps fewer).
const PERIODS_KEPT: usize = 400;
/// Failed handshakes kept with their full answer.
const HTTP_KEPT: usize = 5;
/// Messages kept for the tail, when payloads are asked for.
const MESSAGES_KEPT: usize = 50;
/// RTT samples kept for the drawn chart (halved when full, so the whole session stays).
const RTT_POINTS: usize = 1024;

/// Folds events into everything the report shows: the model, and the evidence beside it
/// (refused handshakes in full, the last messages, RTT over time).
#[derive(Clone, Debug)]
pub struct ReportBuilder {
    /// What was watched, secrets masked.
    pub header: RecordHeader,
    /// The model every output reads.
    pub stats: ConnStats,
    http: VecDeque<(SystemTime, HttpFailure, String)>,
    messages: VecDeque<Stamped>,
    // The dashboard has the messages in its log already; it does not keep a second copy.
    keep_messages: bool,
    // RTT samples over time, every `rtt_every`-th kept, for the drawn chart.
    rtt_points: Vec<(SystemTime, Duration)>,
    rtt_every: u64,
    rtt_seen: u64,
    rtt_cap: usize,
}

/// A message as the report's tail shows it.
#[derive(Clone, Copy, Debug)]
pub struct TailMessage<'a> {
    /// When.
    pub at: SystemTime,
    /// In or out.
    pub dir: Dir,
    /// Text or binary.
    pub kind: Kind,
    /// Payload.
    pub data: &'a [u8],
}

/// Where a report's events came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// The session running now (the dashboard's F7).
    Live,
    /// A recording being replayed, as far as it has got.
    Replay,
    /// A recording: its path, and how many of its lines could not be read.
    Recording(&'a std::path::Path, u64),
}

impl ReportBuilder {
    /// A report about the endpoint described by `header`, keeping the last messages itself.
    pub fn new(header: RecordHeader) -> Self {
        ReportBuilder {
            stats: ConnStats::keeping(PERIODS_KEPT),
            header,
            http: VecDeque::new(),
            messages: VecDeque::new(),
            keep_messages: true,
            rtt_points: Vec::new(),
            rtt_every: 1,
            rtt_seen: 0,
            rtt_cap: RTT_POINTS,
        }
    }

    /// A report whose message tail is supplied when it is made (the dashboard's log).
    pub(crate) fn without_messages(header: RecordHeader) -> Self {
        ReportBuilder {
            keep_messages: false,
            ..ReportBuilder::new(header)
        }
    }

    /// Keeps at most `n` RTT points for the drawn chart, and `periods` connections and
    /// outages (one of a fleet's dashboards keeps few of both).
    pub fn small(mut self, n: usize, periods: usize) -> Self {
        self.rtt_cap = n.max(2);
        self.stats = ConnStats::keeping(periods);
        self
    }

    /// Folds one event in.
    pub fn apply(&mut self, s: &Stamped) {
        self.stats.apply(s);
        match &s.event {
            Event::Rtt { rtt, app: false } => {
                self.rtt_seen += 1;
                if self.rtt_seen.is_multiple_of(self.rtt_every.max(1)) {
                    if self.rtt_points.len() >= self.rtt_cap {
                        // Keep every other point: the chart spans the whole session at half
                        // the resolution.
                        let mut i = 0;
                        self.rtt_points.retain(|_| {
                            i += 1;
                            i % 2 == 0
                        });
                        self.rtt_every = self.rtt_every.max(1) * 2;
                    }
                    crate::small::push(&mut self.rtt_points, (s.at, *rtt));
                }
            }
            Event::Error(f) => {
                if let Some(h) = &f.http {
                    if self.http.len() == HTTP_KEPT {
                        self.http.pop_front();
                    }
                    self.http
                        .push_back((s.at, h.clone(), crate::describe::message(f)));
                }
            }
            Event::Message(m) if self.keep_messages => {
                if self.messages.len() == MESSAGES_KEPT {
                    self.messages.pop_front();
                }
                self.messages.push_back(Stamped {
                    at: s.at,
                    event: Event::Message(m.detached()),
                });
            }
            _ => {}
        }
    }

    /// The messages this builder kept, for a tail.
    pub fn kept_tail(&self) -> Vec<TailMessage<'_>> {
        self.messages
            .iter()
            .filter_map(|s| match &s.event {
                Event::Message(m) => Some(TailMessage {
                    at: s.at,
                    dir: m.dir,
                    kind: m.kind,
                    data: &m.data,
                }),
                _ => None,
            })
            .collect()
    }

    /// The report as of `now` (the end of a recording), with `tail` as its last messages
    /// when payloads are asked for (`None`: left out, as a pasted report should).
    pub fn document(
        &self,
        now: SystemTime,
        source: Source<'_>,
        tail: Option<&[TailMessage<'_>]>,
    ) -> Document {
        build::document(self, now, source, tail)
    }

    /// The verdict in one line (the report's title).
    pub fn verdict(&self, now: SystemTime) -> String {
        build::headline(self, now)
    }

    /// RTT samples over time, for the drawn chart.
    pub(crate) fn rtt_points(&self) -> &[(SystemTime, Duration)] {
        &self.rtt_points
    }
}

/// The document as Markdown.
pub fn markdown(doc: &Document) -> String {
    markdown::render(doc)
}

/// The document as a self-contained HTML page.
pub fn html(doc: &Document) -> String {
    html::render(doc)
}

/// RTT samples as block characters, scaled from 0 to the largest.
pub(crate) fn sparkline(samples: &[Duration]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = samples
        .iter()
        .max()
        .copied()
        .unwrap_or_default()
        .as_secs_f64();
    if max == 0.0 {
        return String::new();
    }
    samples
        .iter()
        .map(|d| BARS[((d.as_secs_f64() / max) * 7.0).round().clamp(0.0, 7.0) as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_largest() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(sparkline(&[d(1), d(4), d(8)]), "▂▅█");
        assert_eq!(sparkline(&[]), "");
    }
}
