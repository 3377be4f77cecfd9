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

/// Connect attempts kept for the timeline.
const ATTEMPTS_KEPT: usize = 200;
/// Failed handshakes kept with their full answer.
const HTTP_KEPT: usize = 5;
/// Messages kept for the tail.
const MESSAGES_KEPT: usize = 50;

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
        self.last_at = Some(s.at);
        match &s.event {
            Event::Connecting { attempt, .. } => {
                if self.attempts.len() == ATTEMPTS_KEPT {
                    self.attempts.pop_front();
                    self.attempts_dropped += 1;
                }
                self.attempts.push_back(Attempt {
                    at: s.at,
                    attempt: *attempt,
                    outcome: None,
                });
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
        let tail: Vec<TailMessage<'_>> = self
            .messages
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
            .collect();
        self.markdown_with(now, source, &tail)
    }

    /// The report with `tail` as its last messages (at most 50 are shown).
    pub fn markdown_with(&self, now: SystemTime, source: &str, tail: &[TailMessage<'_>]) -> String {
        let tail = &tail[tail.len().saturating_sub(MESSAGES_KEPT)..];
        let mut md = String::new();
        let s = &self.stats;
        let url = if self.header.url.is_empty() {
            "(unknown URL)"
        } else {
            &self.header.url
        };
        let _ = writeln!(md, "# wsmon report: {}\n", inline(url));
        let _ = writeln!(
            md,
            "Generated {} by wsmon {} from {source}.\n",
            timestamp(SystemTime::now()),
            env!("CARGO_PKG_VERSION")
        );

        md.push_str("## Summary\n\n| | |\n|---|---|\n");
        let state = match (&s.state, s.uptime(now), s.down_for(now)) {
            (crate::engine::ConnState::Open, Some(u), _) => {
                format!("OPEN, up {}", text::duration(u))
            }
            (st, _, Some(d)) => format!("{}, down {}", st.label(), text::duration(d)),
            (st, _, _) => st.label().to_string(),
        };
        let _ = writeln!(md, "| state at the end | {state} |");
        if let Some(start) = s.started {
            let _ = writeln!(
                md,
                "| watched | {} to {} ({}) |",
                timestamp(start),
                timestamp(now),
                text::duration(now.duration_since(start).unwrap_or_default())
            );
        }
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

        md.push_str("\n## Connection\n\n");
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
                "- Last connected to {} ({}{})",
                o.remote,
                o.tls_version.unwrap_or("plain ws"),
                o.subprotocol
                    .as_ref()
                    .map(|p| format!(", subprotocol {p}"))
                    .unwrap_or_default()
            );
        }

        md.push_str("\n## Connect timeline\n\n");
        if self.attempts_dropped > 0 {
            let _ = writeln!(
                md,
                "The last {} of {} attempts.\n",
                self.attempts.len(),
                self.attempts.len() as u64 + self.attempts_dropped
            );
        }
        if self.attempts.is_empty() {
            md.push_str("No connect attempts.\n");
        } else {
            md.push_str("| time (UTC) | attempt | result | remote | DNS ms | TCP ms | TLS ms | upgrade ms | cause |\n|---|---|---|---|---|---|---|---|---|\n");
            for a in &self.attempts {
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
                        let _ = writeln!(
                            md,
                            "| {t} | {} | failed in {phase} | | | | | | {} |",
                            a.attempt,
                            cell(text)
                        );
                    }
                    None => {
                        let _ = writeln!(
                            md,
                            "| {t} | {} | no result recorded | | | | | | |",
                            a.attempt
                        );
                    }
                }
            }
        }

        if !self.http.is_empty() {
            md.push_str("\n## Failed handshakes\n");
            for (at, h, message) in &self.http {
                let _ = writeln!(
                    md,
                    "\n### {} · HTTP {} {}\n\n{}\n",
                    timestamp(*at),
                    h.status,
                    cell(&h.reason),
                    cell(message)
                );
                let mut block = format!("HTTP/1.1 {} {}\n", h.status, h.reason);
                for (n, v) in &h.headers {
                    let _ = writeln!(block, "{n}: {v}");
                }
                block.push('\n');
                block.push_str(&String::from_utf8_lossy(&h.body));
                if h.body_truncated {
                    block.push_str("\n[body cut at 4 KiB]");
                }
                md.push_str(&code_block(&text::sanitize_multiline(&block)));
            }
        }

        md.push_str("\n## Round-trip time\n\n");
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

        md.push_str("\n## Closes\n\n");
        if self.closes.is_empty() {
            md.push_str("No connection was closed.\n");
        } else {
            md.push_str("| code | meaning | by | count |\n|---|---|---|---|\n");
            for ((code, by), n) in &self.closes {
                let (c, name) = match code {
                    Some(c) => (c.to_string(), close_code_name(*c)),
                    None if *by == ClosedBy::Heartbeat.as_str() => {
                        ("—".to_string(), "no pong in time")
                    }
                    None => ("—".to_string(), "no close frame"),
                };
                let _ = writeln!(md, "| {c} | {name} | {by} | {n} |");
            }
        }

        let _ = writeln!(md, "\n## Last {} messages\n", tail.len());
        if tail.is_empty() {
            md.push_str("No messages.\n");
        } else {
            let mut block = String::new();
            for m in tail {
                let dir = if m.dir == Dir::In { "in " } else { "out" };
                let body = match m.kind {
                    Kind::Text => text::sanitize(&text::preview_text(m.data, 400)),
                    Kind::Binary => text::preview_hex(m.data, 32),
                };
                let more = if m.data.len() > 400 { " …" } else { "" };
                let _ = writeln!(
                    block,
                    "{} {dir} {} {:>7} {body}{more}",
                    text::clock_millis(m.at),
                    if m.kind == Kind::Text { "txt" } else { "bin" },
                    text::bytes(m.data.len() as u64)
                );
            }
            md.push_str(&code_block(&block));
        }
        md
    }
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
    let markdown = builder.markdown(end, &source);
    let out = args.output.clone().unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(".report.md");
        p.into()
    });
    if out.as_os_str() == "-" {
        print!("{markdown}");
    } else {
        crate::paths::write_private(&out, markdown.as_bytes())
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
