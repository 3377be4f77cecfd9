//! The diagnostic report: one Markdown file a person can paste into a ticket, built from the
//! same events as everything else (a live session or a recording).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::engine::close_code::close_code_name;
use crate::engine::stats::SPARK_LEN;
use crate::engine::{Cause, ClosedBy, ConnStats, Dir, Event, HttpFailure, Kind, Phases, Stamped};
use crate::error::UsageError;
use crate::jsonl::{Item, RecordHeader};
use crate::text;
use crate::text::timestamp;

mod html;
mod story;

pub use story::{Row, Story};

/// Connect attempts kept for the timeline.
const ATTEMPTS_KEPT: usize = 200;
/// Failed handshakes kept with their full answer.
const HTTP_KEPT: usize = 5;
/// Lines kept for the tail (messages, and connection events on their own).
const MESSAGES_KEPT: usize = 50;
/// Connect attempts shown with their phase timings.
const ATTEMPTS_SHOWN: usize = 20;
/// RTT samples kept for the drawn chart (halved when full, so the whole session stays).
const RTT_POINTS: usize = 1024;

/// How one dial ended.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Open {
        phases: Phases,
        remote: String,
        subprotocol: Option<String>,
        tls: Option<&'static str>,
    },
    Failed {
        text: String,
        phase: &'static str,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct Attempt {
    at: SystemTime,
    attempt: u32,
    outcome: Option<Outcome>,
}

/// Folds events into everything the report shows.
#[derive(Clone, Debug, Default)]
pub struct ReportBuilder {
    /// What was watched, secrets masked.
    pub header: RecordHeader,
    /// The same numbers the dashboard shows.
    pub stats: ConnStats,
    attempts: VecDeque<Attempt>,
    attempts_dropped: u64,
    closes: BTreeMap<(Option<u16>, &'static str), u64>,
    http: VecDeque<(SystemTime, HttpFailure, String)>,
    messages: VecDeque<Stamped>,
    // The dashboard has the messages in its log already; it does not keep a second copy.
    keep_messages: bool,
    last_at: Option<SystemTime>,
    /// Connects, drops and outages, for the verdict and the timeline.
    pub story: Story,
    // Connection events in words, for the tail (kept the same way live and from a recording).
    conn_events: VecDeque<(SystemTime, String, u32)>,
    // RTT samples over time, every `rtt_every`-th kept, for the drawn chart.
    rtt_points: Vec<(SystemTime, Duration)>,
    rtt_every: u64,
    rtt_seen: u64,
    // How many points the chart keeps (0: the default).
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

impl ReportBuilder {
    /// A report about the endpoint described by `header`, keeping the last messages itself.
    pub fn new(header: RecordHeader) -> Self {
        ReportBuilder {
            header,
            keep_messages: true,
            ..Default::default()
        }
    }

    /// Keeps at most `n` RTT points for the drawn chart (a fleet's dashboards keep few).
    pub fn with_chart_points(mut self, n: usize) -> Self {
        self.rtt_cap = n.max(2);
        self
    }

    /// A report whose message tail is supplied when it is written (the dashboard's log).
    pub fn without_messages(header: RecordHeader) -> Self {
        ReportBuilder {
            header,
            keep_messages: false,
            ..Default::default()
        }
    }

    /// Folds one event in.
    pub fn apply(&mut self, s: &Stamped) {
        self.stats.apply(s);
        self.story.apply(s);
        self.last_at = Some(s.at);
        if let Some(line) = event_line(&s.event) {
            match self.conn_events.back_mut() {
                // Dial after dial meeting the same answer is one line that counts.
                Some((_, last, n)) if *last == line => *n += 1,
                _ => {
                    if self.conn_events.len() == MESSAGES_KEPT {
                        self.conn_events.pop_front();
                    }
                    crate::small::push_back(&mut self.conn_events, (s.at, line, 1));
                }
            }
        }
        if let Event::Rtt { rtt, app: false } = s.event {
            self.rtt_seen += 1;
            if self.rtt_seen.is_multiple_of(self.rtt_every.max(1)) {
                let cap = if self.rtt_cap == 0 {
                    RTT_POINTS
                } else {
                    self.rtt_cap
                };
                if self.rtt_points.len() >= cap {
                    // Keep every other point: the chart spans the whole session at half the
                    // resolution.
                    let mut i = 0;
                    self.rtt_points.retain(|_| {
                        i += 1;
                        i % 2 == 0
                    });
                    self.rtt_every = self.rtt_every.max(1) * 2;
                }
                crate::small::push(&mut self.rtt_points, (s.at, rtt));
            }
        }
        match &s.event {
            Event::Connecting { attempt, .. } => {
                if self.attempts.len() == ATTEMPTS_KEPT {
                    self.attempts.pop_front();
                    self.attempts_dropped += 1;
                }
                crate::small::push_back(
                    &mut self.attempts,
                    Attempt {
                        at: s.at,
                        attempt: *attempt,
                        outcome: None,
                    },
                );
            }
            Event::Open(info) => {
                let outcome = Outcome::Open {
                    phases: info.phases.clone(),
                    remote: info.remote.to_string(),
                    subprotocol: info.subprotocol.clone(),
                    tls: info.tls_version,
                };
                match self.attempts.back_mut().filter(|a| a.outcome.is_none()) {
                    Some(a) => a.outcome = Some(outcome),
                    // A recording started mid-connection begins with its open event.
                    None => self.attempts.push_back(Attempt {
                        at: s.at,
                        attempt: info.attempt,
                        outcome: Some(outcome),
                    }),
                }
            }
            Event::Error(f) => {
                if f.phase != crate::engine::Phase::Open
                    && let Some(a) = self.attempts.back_mut().filter(|a| a.outcome.is_none())
                {
                    a.outcome = Some(Outcome::Failed {
                        text: crate::describe::failure(f),
                        phase: f.phase.as_str(),
                    });
                }
                if let Some(h) = &f.http {
                    if self.http.len() == HTTP_KEPT {
                        self.http.pop_front();
                    }
                    self.http.push_back((s.at, h.clone(), f.message.clone()));
                }
            }
            Event::Closed(c) => {
                *self.closes.entry((c.code, c.by.as_str())).or_default() += 1;
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

    /// The report, as of `now`; `source` says where the events came from.
    pub fn markdown(&self, now: SystemTime, source: &str) -> String {
        self.markdown_with(now, source, &self.kept_tail())
    }

    /// The report as one self-contained HTML page: `markdown`, this report as of `now`, with
    /// the timeline and RTT drawn.
    pub fn html(&self, now: SystemTime, markdown: &str) -> String {
        html::page(self, now, markdown)
    }

    fn kept_tail(&self) -> Vec<TailMessage<'_>> {
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

    /// The verdict in one line: drops and their causes, failed dials, the longest outage, a
    /// pattern, and how it ended. "3 drops in 1m37s: 1001, 1012, abrupt 1006; one HTTP 503;
    /// longest outage 4.2s; drops every ~30s (3 in a row)".
    pub fn verdict(&self, now: SystemTime) -> String {
        let s = &self.stats;
        let story = &self.story;
        let watched = s
            .started
            .map(|t| text::duration(now.duration_since(t).unwrap_or_default()))
            .unwrap_or_else(|| "no time".into());
        let mut parts = Vec::new();
        if s.connects == 0 {
            let why = s
                .last_error
                .as_ref()
                .map(|f| format!(": {}", crate::describe::failure(f)))
                .unwrap_or_default();
            parts.push(format!(
                "never connected in {watched} ({}){why}",
                text::counted(s.total_attempts, "dial", "dials")
            ));
        } else {
            let n = story.drops.total();
            if n == 0 {
                parts.push(format!("no drops in {watched}"));
            } else {
                parts.push(format!(
                    "{} in {watched}: {}",
                    text::counted(n, "drop", "drops"),
                    tally_list(&story.drops.0, |l, n| match n {
                        1 => l.to_string(),
                        n => format!("{l} ×{n}"),
                    })
                ));
            }
            if story.failures.total() > 0 {
                parts.push(tally_list(&story.failures.0, |l, n| {
                    format!("{} {l}", story::count_word(n))
                }));
            }
        }
        if let Some(d) = story.longest_outage {
            parts.push(format!("longest outage {}", text::duration(d)));
        }
        if let Some(p) = s.pattern(now) {
            parts.push(crate::describe::pattern_short(&p));
        }
        if s.connects > 0
            && let Some(since) = story.down_since()
        {
            parts.push(format!(
                "down at the end, for {}",
                text::duration(now.duration_since(since).unwrap_or_default())
            ));
        } else if let Some(d) = s.stale_for(now) {
            parts.push(format!(
                "stale at the end, no data for {}",
                text::duration(d)
            ));
        } else if let Some(u) = s.uptime(now)
            && s.drops == 0
        {
            parts.push(format!("open for {}", text::duration(u)));
        }
        let mut line = parts.join("; ");
        if let Some(first) = line.get(..1) {
            line = first.to_uppercase() + &line[1..];
        }
        line
    }

    /// The report with `tail` as its last messages; the last 50 lines of messages and
    /// connection events are shown, in order.
    pub fn markdown_with(&self, now: SystemTime, source: &str, tail: &[TailMessage<'_>]) -> String {
        let mut md = String::new();
        let s = &self.stats;
        let url = if self.header.url.is_empty() {
            "(unknown URL)"
        } else {
            &self.header.url
        };
        let _ = writeln!(md, "# {}\n", text::sanitize(&self.verdict(now)));
        let watched = match s.started {
            Some(start) => format!(
                " from {} to {} ({})",
                timestamp(start),
                timestamp(now),
                text::duration(now.duration_since(start).unwrap_or_default())
            ),
            None => String::new(),
        };
        let _ = writeln!(
            md,
            "wsmon report on {}{watched}. Generated {} by wsmon {} from {source}.",
            inline(url),
            timestamp(SystemTime::now()),
            env!("CARGO_PKG_VERSION")
        );
        if let Some(p) = s.pattern(now) {
            let _ = writeln!(
                md,
                "\n**Pattern:** {}.",
                cell(&crate::describe::pattern(&p))
            );
        }
        self.timeline_section(&mut md, now);
        self.summary_section(&mut md, now);
        md.push_str("\n## Evidence\n");
        self.failure_section(&mut md);
        self.connection_section(&mut md, url);
        self.attempts_section(&mut md);
        self.rtt_section(&mut md);
        self.closes_section(&mut md);
        self.tail_section(&mut md, tail);
        md
    }

    fn timeline_section(&self, md: &mut String, now: SystemTime) {
        md.push_str("\n## Timeline\n\n");
        let story = &self.story;
        if story.rows.is_empty() {
            md.push_str("Nothing happened: no connect attempt finished.\n");
            return;
        }
        if story.rows_cut > 0 {
            let _ = writeln!(
                md,
                "The last {} rows; {} earlier left out.\n",
                story.rows.len(),
                story.rows_cut
            );
        }
        md.push_str("| time (UTC) | what | detail | lasted |\n|---|---|---|---|\n");
        // To the millisecond, as a recording keeps times.
        let between = |from: SystemTime, to: SystemTime| {
            Duration::from_millis(
                millis_since_epoch(to).saturating_sub(millis_since_epoch(from)) as u64,
            )
        };
        let lasted = |from: SystemTime, until: Option<SystemTime>, word: &str| match until {
            Some(u) => format!("{} {word}", text::duration(between(from, u))),
            None => format!(
                "{} {word}, still at the end",
                text::duration(between(from, now))
            ),
        };
        for row in &story.rows {
            let t = timestamp(row.at());
            match row {
                Row::Up {
                    at,
                    attempt,
                    detail,
                    until,
                } => {
                    let tries = if *attempt > 1 {
                        format!(" on attempt {attempt}")
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        md,
                        "| {t} | ▲ connected{tries} | {} | {} |",
                        cell(detail),
                        lasted(*at, *until, "up")
                    );
                }
                Row::Down {
                    detail,
                    up,
                    by_user,
                    ..
                } => {
                    let what = if *by_user {
                        "■ closed"
                    } else {
                        "▼ dropped"
                    };
                    let _ = writeln!(
                        md,
                        "| {t} | {what} | {} | after {} up |",
                        cell(detail),
                        text::duration(Duration::from_millis(up.as_millis() as u64))
                    );
                }
                Row::Outage {
                    at,
                    steps,
                    until,
                    gave_up,
                } => {
                    let mut line = story::steps_line(steps, until.is_some());
                    if *gave_up {
                        line.push_str(" → gave up (max_attempts)");
                    }
                    let _ = writeln!(
                        md,
                        "| {t} | outage | {} | {} |",
                        cell(&line),
                        lasted(*at, *until, "down")
                    );
                }
            }
        }
    }

    fn summary_section(&self, md: &mut String, now: SystemTime) {
        let s = &self.stats;
        md.push_str("\n## Summary\n\n| | |\n|---|---|\n");
        let state = match (&s.state, s.uptime(now), s.down_for(now)) {
            (crate::engine::ConnState::Open, Some(u), _) => {
                format!("OPEN, up {}", text::duration(u))
            }
            (st, _, Some(d)) => format!("{}, down {}", st.label(), text::duration(d)),
            (st, _, _) => st.label().to_string(),
        };
        let _ = writeln!(md, "| state at the end | {state} |");
        if let Some(a) = s.availability(now) {
            let _ = writeln!(
                md,
                "| availability | {a:.2}% ({} up, {} down) |",
                text::duration(s.up_total(now)),
                text::duration(s.down_total(now))
            );
        }
        let _ = writeln!(
            md,
            "| connects / reconnects / drops | {} / {} / {} |",
            s.connects, s.reconnects, s.drops
        );
        let failed: u64 = s.failures_by_cause.iter().sum();
        let causes: Vec<String> = Cause::ALL
            .iter()
            .zip(s.failures_by_cause)
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| format!("{n} {c}"))
            .collect();
        let _ = writeln!(
            md,
            "| dials / failures | {} / {failed}{} |",
            s.total_attempts,
            if causes.is_empty() {
                String::new()
            } else {
                format!(" ({})", causes.join(", "))
            }
        );
        let _ = writeln!(
            md,
            "| messages | {} in ({}), {} out ({}) |",
            text::count(s.msgs_in),
            text::bytes(s.bytes_in),
            text::count(s.msgs_out),
            text::bytes(s.bytes_out)
        );
        if s.heartbeat_drops > 0 {
            let _ = writeln!(
                md,
                "| dead-peer verdicts | {} (no pong in time) |",
                s.heartbeat_drops
            );
        }
        if s.dropped_sends > 0 {
            let _ = writeln!(md, "| messages not sent | {} |", s.dropped_sends);
        }
        if s.stales > 0 || self.header.stale_after_ms > 0 {
            let still = match s.stale_for(now) {
                Some(d) => format!("; stale at the end, no data for {}", text::duration(d)),
                None => String::new(),
            };
            let _ = writeln!(
                md,
                "| stale (no data for {}) | {} times{still} |",
                text::duration(Duration::from_millis(self.header.stale_after_ms)),
                s.stales
            );
        }
        if s.auto_replies > 0 {
            let _ = writeln!(
                md,
                "| auto-replies | {} (answers to the server's heartbeat or the auto_reply rules) |",
                s.auto_replies
            );
        }
        if let Some((at, what)) = &s.last_failure {
            let _ = writeln!(
                md,
                "| last failure | {} at {} |",
                cell(&crate::describe::trouble(what)),
                timestamp(*at)
            );
        }
    }

    /// The last failure in full: its HTTP answer (status, headers, body) when it had one,
    /// then the older refused handshakes.
    fn failure_section(&self, md: &mut String) {
        let s = &self.stats;
        let Some((at, what)) = &s.last_failure else {
            return;
        };
        let _ = writeln!(
            md,
            "\n### Last failure\n\n{} at {}\n",
            cell(&crate::describe::trouble(what)),
            timestamp(*at)
        );
        if let crate::engine::stats::Trouble::Failed(f) = what {
            let _ = writeln!(
                md,
                "- cause: {}, in the {}\n- message: {}",
                f.cause,
                crate::describe::phase(f.phase),
                cell(&f.message)
            );
        }
        let mut shown: Vec<&HttpFailure> = Vec::new();
        for (at, h, message) in self.http.iter().rev() {
            // The same refusal again says nothing new.
            if shown.iter().any(|s| {
                s.status == h.status && s.body == h.body && s.headers.len() == h.headers.len()
            }) {
                continue;
            }
            shown.push(h);
            let _ = writeln!(
                md,
                "\n#### {} · HTTP {} {}\n\n{}\n",
                timestamp(*at),
                h.status,
                cell(&h.reason),
                cell(message)
            );
            let mut block = format!("HTTP/1.1 {} {}\n", h.status, h.reason);
            for (n, v) in &h.headers {
                let _ = writeln!(block, "{}: {v}", title_case(n));
            }
            block.push('\n');
            block.push_str(&String::from_utf8_lossy(&h.body));
            if h.body_truncated {
                block.push_str("\n[body cut at 4 KiB]");
            }
            md.push_str(&code_block(&text::sanitize_multiline(&block)));
        }
    }

    fn connection_section(&self, md: &mut String, url: &str) {
        let s = &self.stats;
        md.push_str("\n### Connection and TLS\n\n");
        let _ = writeln!(md, "- URL: {}", inline(url));
        if self.header.headers.is_empty() {
            md.push_str("- Request headers: none beyond the handshake\n");
        } else {
            md.push_str("- Request headers (secret values masked):\n");
            for (n, v) in &self.header.headers {
                let _ = writeln!(md, "  - {}", inline(&format!("{n}: {v}")));
            }
        }
        if !self.header.subprotocols.is_empty() {
            let _ = writeln!(
                md,
                "- Subprotocols offered: {}",
                inline(&self.header.subprotocols.join(", "))
            );
        }
        if self.header.ping_interval_ms > 0 {
            let _ = writeln!(
                md,
                "- Heartbeat: a ping every {}, dead after {} without an answer",
                text::duration(Duration::from_millis(self.header.ping_interval_ms)),
                text::duration(Duration::from_millis(self.header.pong_timeout_ms))
            );
        } else {
            md.push_str("- Heartbeat: off\n");
        }
        if let Some(p) = &self.header.preset {
            let _ = writeln!(md, "- Application protocol: {}", inline(p));
        }
        if let Some(ping) = &self.header.app_ping {
            let _ = writeln!(
                md,
                "- Application heartbeat: {} every ping interval",
                inline(ping)
            );
        }
        if let Some(o) = &s.last_open {
            let _ = writeln!(
                md,
                "- Last connected to {}{} ({}{})",
                o.remote,
                o.proxy
                    .as_ref()
                    .map(|p| format!(" through proxy {p}"))
                    .unwrap_or_default(),
                o.tls_version.unwrap_or("plain ws, no TLS"),
                o.subprotocol
                    .as_ref()
                    .map(|p| format!(", subprotocol {p}"))
                    .unwrap_or_default()
            );
        }
    }

    fn attempts_section(&self, md: &mut String) {
        md.push_str("\n### Connect attempts and phase timings\n\n");
        if self.attempts.is_empty() {
            md.push_str("No connect attempts.\n");
            return;
        }
        let shown = self.attempts.len().min(ATTEMPTS_SHOWN);
        let total = self.attempts.len() as u64 + self.attempts_dropped;
        if total > shown as u64 {
            let _ = writeln!(md, "The last {shown} of {total} attempts.\n");
        }
        md.push_str("| time (UTC) | attempt | result | remote | DNS ms | TCP ms | TLS ms | upgrade ms | cause |\n|---|---|---|---|---|---|---|---|---|\n");
        let shown_attempts: Vec<&Attempt> = self
            .attempts
            .iter()
            .skip(self.attempts.len() - shown)
            .collect();
        let mut i = 0;
        while i < shown_attempts.len() {
            let a = shown_attempts[i];
            let t = timestamp(a.at);
            match &a.outcome {
                Some(Outcome::Open {
                    phases: p,
                    remote,
                    subprotocol,
                    tls,
                }) => {
                    let mut result = "open".to_string();
                    if let Some(v) = tls {
                        result.push_str(&format!(", {v}"));
                    }
                    if let Some(sp) = subprotocol {
                        result.push_str(&format!(", {}", cell(sp)));
                    }
                    let _ = writeln!(
                        md,
                        "| {t} | {} | {result} | {remote} | {} | {} | {} | {} | |",
                        a.attempt,
                        text::millis(p.dns),
                        text::millis(p.tcp),
                        p.tls.map(text::millis).unwrap_or_else(|| "—".into()),
                        text::millis(p.handshake)
                    );
                }
                Some(Outcome::Failed { text, phase }) => {
                    // The same failure attempt after attempt is one row.
                    let mut j = i + 1;
                    while j < shown_attempts.len() && shown_attempts[j].outcome == a.outcome {
                        j += 1;
                    }
                    let attempts = if j - i > 1 {
                        format!("{}–{}", a.attempt, shown_attempts[j - 1].attempt)
                    } else {
                        a.attempt.to_string()
                    };
                    let _ = writeln!(
                        md,
                        "| {t} | {attempts} | failed in {phase} | | | | | | {} |",
                        cell(text)
                    );
                    i = j;
                    continue;
                }
                None => {
                    let _ = writeln!(
                        md,
                        "| {t} | {} | no result recorded | | | | | | |",
                        a.attempt
                    );
                }
            }
            i += 1;
        }
    }

    fn rtt_section(&self, md: &mut String) {
        let s = &self.stats;
        md.push_str("\n### Round-trip time\n\n");
        let r = &s.rtt;
        if r.count == 0 {
            md.push_str("No RTT samples (the heartbeat was off, or no pong came back).\n");
        } else {
            let [p50, p95, p99] = r.percentiles([50.0, 95.0, 99.0]);
            let ms = |d: Option<Duration>| d.map(text::millis).unwrap_or_else(|| "—".into());
            md.push_str("| samples | last | min | p50 | p95 | p99 | max | avg |\n|---|---|---|---|---|---|---|---|\n");
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.count,
                ms(r.last),
                ms(r.min),
                ms(p50),
                ms(p95),
                ms(p99),
                ms(r.max),
                ms(r.avg())
            );
            let recent: Vec<Duration> = r.recent(SPARK_LEN).collect();
            let _ = writeln!(
                md,
                "\nAll values in ms. The last {} samples, oldest first:\n",
                recent.len()
            );
            md.push_str(&code_block(&sparkline(&recent)));
        }
        let a = &s.app_rtt;
        if a.count > 0 {
            let [p50, p99] = a.percentiles([50.0, 99.0]);
            let ms = |d: Option<Duration>| d.map(text::millis).unwrap_or_else(|| "—".into());
            let _ = writeln!(
                md,
                "\nApplication heartbeat (app_ping to app_pong), in ms:\n\n| samples | last | min | p50 | p99 | max |\n|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {} |",
                a.count,
                ms(a.last),
                ms(a.min),
                ms(p50),
                ms(p99),
                ms(a.max)
            );
        }
    }

    fn closes_section(&self, md: &mut String) {
        md.push_str("\n### Closes\n\n");
        if self.closes.is_empty() {
            md.push_str("No connection was closed.\n");
            return;
        }
        md.push_str("| code | meaning | by | count |\n|---|---|---|---|\n");
        for ((code, by), n) in &self.closes {
            let (c, name) = match code {
                Some(c) => (c.to_string(), close_code_name(*c)),
                None if *by == ClosedBy::Heartbeat.as_str() => ("—".to_string(), "no pong in time"),
                None => ("—".to_string(), "no close frame"),
            };
            let _ = writeln!(md, "| {c} | {name} | {by} | {n} |");
        }
    }

    /// The last 50 lines of messages and connection events, in the order they happened.
    fn tail_section(&self, md: &mut String, tail: &[TailMessage<'_>]) {
        enum Line<'a> {
            Message(&'a TailMessage<'a>),
            Event(&'a str, u32),
        }
        let tail = &tail[tail.len().saturating_sub(MESSAGES_KEPT)..];
        let mut lines: Vec<(SystemTime, usize, Line<'_>)> = tail
            .iter()
            .enumerate()
            .map(|(i, m)| (m.at, i, Line::Message(m)))
            .collect();
        lines.extend(
            self.conn_events
                .iter()
                .enumerate()
                .map(|(i, (at, e, n))| (*at, i, Line::Event(e, *n))),
        );
        // By time, to the millisecond a recording keeps (so a live report and one from its
        // recording agree); within a millisecond an open comes before the messages on it and
        // any other event after them.
        let rank = |l: &Line<'_>| match l {
            Line::Event(e, _) if e.starts_with("open: ") => 0,
            Line::Message(_) => 1,
            Line::Event(..) => 2,
        };
        lines.sort_by_key(|(at, i, l)| (millis_since_epoch(*at), rank(l), *i));
        let lines = &lines[lines.len().saturating_sub(MESSAGES_KEPT)..];
        let _ = writeln!(
            md,
            "\n## Last {} lines: messages and connection events\n",
            lines.len()
        );
        if lines.is_empty() {
            md.push_str("No messages.\n");
            return;
        }
        let mut block = String::new();
        for (at, _, line) in lines {
            match line {
                Line::Message(m) => {
                    let dir = if m.dir == Dir::In { "in " } else { "out" };
                    let body = match m.kind {
                        Kind::Text => text::sanitize(&text::preview_text(m.data, 400)),
                        Kind::Binary => text::preview_hex(m.data, 32),
                    };
                    let more = if m.data.len() > 400 { " …" } else { "" };
                    let _ = writeln!(
                        block,
                        "{} {dir} {} {:>7} {body}{more}",
                        text::clock_millis(*at),
                        if m.kind == Kind::Text { "txt" } else { "bin" },
                        text::bytes(m.data.len() as u64)
                    );
                }
                Line::Event(e, n) => {
                    let times = if *n > 1 {
                        format!(" ×{n}")
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        block,
                        "{} ─── {}{times}",
                        text::clock_millis(*at),
                        text::sanitize(e)
                    );
                }
            }
        }
        md.push_str(&code_block(&block));
    }

    /// RTT samples over time, for the drawn chart.
    pub fn rtt_points(&self) -> &[(SystemTime, Duration)] {
        &self.rtt_points
    }
}

/// A connection event of the tail, in words; `None` for what is not one.
fn event_line(e: &Event) -> Option<String> {
    Some(match e {
        Event::Open(info) => crate::describe::open(info),
        // A connection that broke was described by its error just before.
        Event::Closed(c) if c.by == ClosedBy::Error => return None,
        Event::Closed(c) => crate::describe::close(c),
        Event::Error(f) => crate::describe::failure(f),
        Event::GaveUp { attempts } => format!(
            "gave up after {}",
            text::counted(u64::from(*attempts), "attempt", "attempts")
        ),
        Event::Stale { silent } => format!("stale: no data for {}", text::duration(*silent)),
        Event::Fresh { .. } => "fresh: data again".to_string(),
        _ => return None,
    })
}

fn millis_since_epoch(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// Labels and counts as a list, at most 6 named.
fn tally_list(items: &[(String, u64)], each: impl Fn(&str, u64) -> String) -> String {
    let mut parts: Vec<String> = items.iter().take(6).map(|(l, n)| each(l, *n)).collect();
    if items.len() > 6 {
        parts.push(format!("{} more kinds", items.len() - 6));
    }
    parts.join(", ")
}

/// A header name as HTTP/1.1 writes it (`content-type` is `Content-Type`): the same whether
/// the answer came live or from a recording, which keeps names in lower case.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `wsmon report FILE`: the report of a recording, written next to it (or to `-o FILE`, or
/// to stdout with `-o -`); lines that cannot be read are named on stderr and skipped.
pub fn command(args: &crate::cli::ReportArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let reader = crate::jsonl::Reader::open(&args.file).map_err(|e| {
        UsageError(format!(
            "cannot open recording `{}`: {e}",
            args.file.display()
        ))
    })?;
    let mut builder = ReportBuilder::new(Default::default());
    let mut last = None;
    let mut skipped = 0;
    for item in reader {
        match item {
            Item::Header { header, .. } => builder.header = header,
            Item::Event { event, .. } => {
                last = Some(event.at);
                builder.apply(&event);
            }
            Item::Skipped { line, reason } => {
                skipped += 1;
                eprintln!(
                    "wsmon: {}: {}",
                    args.file.display(),
                    crate::describe::warning(&crate::engine::Warning::SkippedLine { line, reason })
                );
            }
        }
    }
    let Some(end) = last else {
        return Err(UsageError(format!("`{}` holds no events", args.file.display())).into());
    };
    let mut source = format!("the recording `{}`", args.file.display());
    if skipped > 0 {
        source.push_str(&format!(" ({skipped} corrupt lines skipped)"));
    }
    let html = args.html
        || args
            .output
            .as_ref()
            .and_then(|o| o.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    let markdown = builder.markdown(end, &source);
    let text = if html {
        builder.html(end, &markdown)
    } else {
        markdown
    };
    let out = args.output.clone().unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(if html { ".report.html" } else { ".report.md" });
        p.into()
    });
    if out.as_os_str() == "-" {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        // A reader that went away (`| head`) is not an error.
        let _ = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
    } else {
        crate::paths::write_private(&out, text.as_bytes())
            .with_context(|| format!("cannot write {}", out.display()))?;
        println!("{}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// RTT samples as block characters, scaled from 0 to the largest.
pub fn sparkline(samples: &[Duration]) -> String {
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

/// Text for a table cell: one line, escaped, pipes kept out of the table syntax.
fn cell(s: &str) -> String {
    text::sanitize(s).replace('|', "\\|")
}

/// Text as inline code, with a fence longer than any backtick run inside.
fn inline(s: &str) -> String {
    let s = text::sanitize(s);
    let fence = "`".repeat(longest_backtick_run(&s) + 1);
    format!("{fence}{s}{fence}")
}

fn code_block(body: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(3));
    let nl = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}\n{body}{nl}{fence}\n")
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_the_content() {
        assert_eq!(code_block("a ``` b"), "````\na ``` b\n````\n");
        assert_eq!(inline("x`y"), "``x`y``");
        assert_eq!(cell("a|b\n"), "a\\|b\\n");
    }

    #[test]
    fn sparkline_scales_to_the_largest() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(sparkline(&[d(1), d(4), d(8)]), "▂▅█");
        assert_eq!(sparkline(&[]), "");
    }
}
