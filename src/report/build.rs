//! What the report says, in order: a verdict and a short block to paste, the outages one row
//! each (repeating cycles collapsed), then the evidence. Everything is read from the model;
//! the words come from `describe`.

use std::time::{Duration, SystemTime};

use super::document::{Block, Chart, Document};
use super::{ReportBuilder, Source, TailMessage, evidence};
use crate::describe;
use crate::engine::Cause;
use crate::model::{Began, ConnState, Connection, Culprit, Outage, Period, Seen, Trouble};
use crate::text;

/// A duration as the report writes every one: to the millisecond, so a live report and one
/// from its recording (which keeps milliseconds) say the same.
pub(super) fn dur(d: Duration) -> String {
    text::duration(Duration::from_millis(d.as_millis() as u64))
}

use text::between;

/// The verdict in one line: what is wrong (if anything), then the finding.
pub(super) fn headline(b: &ReportBuilder, now: SystemTime) -> String {
    let s = &b.stats;
    let watched = s
        .started
        .map(|t| dur(between(t, now)))
        .unwrap_or_else(|| "no time".into());
    let finding = if s.connects == 0 {
        let why = s
            .last_error
            .as_ref()
            .map(|f| format!(": {}", describe::failure(f)))
            .unwrap_or_default();
        format!(
            "never connected in {watched} ({}){why}",
            text::counted(s.total_attempts, "dial", "dials")
        )
    } else if let Some(p) = s.pattern(now) {
        describe::pattern_short(&p)
    } else if s.drops == 0 {
        format!("no drops in {watched}")
    } else {
        format!(
            "{} in {watched}: {}",
            text::counted(s.drops, "drop", "drops"),
            describe::tally(&s.drops_by.0)
        )
    };
    let line = match describe::health_badge(s.health(now)) {
        Some(badge) if s.connects > 0 => format!("{badge}: {finding}"),
        _ => finding,
    };
    let mut c = line.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => line,
    }
}

/// The whole report.
pub(super) fn document(
    b: &ReportBuilder,
    now: SystemTime,
    source: Source<'_>,
    tail: Option<&[TailMessage<'_>]>,
) -> Document {
    let mut blocks = vec![Block::Fields(paste_block(b, now, source))];
    if let Some(chart) = availability_chart(b, now) {
        blocks.push(chart);
    }
    blocks.push(Block::Heading(2, "Outages".into()));
    blocks.extend(outages(b, now));
    blocks.push(Block::Heading(2, "Summary".into()));
    blocks.push(summary(b, now));
    blocks.push(Block::Heading(2, "Evidence".into()));
    blocks.extend(evidence::last_failure(b));
    blocks.extend(evidence::connection(b, now));
    blocks.extend(evidence::connections(b));
    blocks.extend(evidence::rtt(b, now));
    blocks.extend(evidence::closes(b));
    blocks.extend(evidence::messages(tail));
    let generated = match source {
        Source::Live => "the live session".to_string(),
        Source::Replay => "a replayed recording".to_string(),
        Source::Recording(path, 0) => format!("the recording {}", path.display()),
        Source::Recording(path, skipped) => format!(
            "the recording {} ({skipped} corrupt {} skipped)",
            path.display(),
            if skipped == 1 { "line" } else { "lines" }
        ),
    };
    blocks.push(Block::Text(format!(
        "Generated {} by wsmon {} from {generated}.",
        text::timestamp(SystemTime::now()),
        env!("CARGO_PKG_VERSION")
    )));
    Document {
        title: headline(b, now),
        blocks,
    }
}

/// The short block to paste: verdict, window, availability, drops by culprit, the longest
/// outage, the pattern and its advice, the last failure.
fn paste_block(
    b: &ReportBuilder,
    now: SystemTime,
    source: Source<'_>,
) -> Vec<(&'static str, String)> {
    let s = &b.stats;
    let mut f = Vec::new();
    f.push((
        "endpoint",
        if b.header.url.is_empty() {
            "(unknown URL)".to_string()
        } else {
            b.header.url.clone()
        },
    ));
    if let Some(start) = s.started {
        let end_note = match (s.stopped, source) {
            (Some((_, why)), _) => describe::stopped(why),
            (None, Source::Live) => "live, as of now".into(),
            (None, Source::Replay) => "replayed as far as this".into(),
            (None, Source::Recording(..)) => {
                "the recording has no end marker: wsmon was killed, or is still recording; it ends at its last event".into()
            }
        };
        f.push((
            "window",
            format!(
                "{} to {} ({}); {end_note}",
                text::timestamp(start),
                text::timestamp(now),
                dur(between(start, now))
            ),
        ));
    }
    let health = s.health(now);
    f.push(("verdict", describe::health(health)));
    if let Some(a) = s.availability(now) {
        let unprobed = s.unprobed_total(now);
        f.push((
            "availability",
            format!(
                "{a:.2}% ({} up, {} down{})",
                dur(s.up_total(now)),
                dur(s.down_total(now)),
                if unprobed.is_zero() {
                    String::new()
                } else {
                    format!("; {} not probed", dur(unprobed))
                }
            ),
        ));
    }
    f.push((
        "drops",
        match s.drops {
            0 => "none".into(),
            n => format!("{n}: {}", describe::tally(&s.drops_by.0)),
        },
    ));
    if s.failures_by.total() > 0 {
        f.push((
            "failed dials",
            format!(
                "{}: {}",
                s.failures_by.total(),
                describe::tally(&s.failures_by.0)
            ),
        ));
    }
    if let Some(longest) = s.longest_outage {
        f.push((
            "longest outage",
            match s.longest_down {
                Some(d) => format!("{} (seen down {})", dur(longest), dur(d)),
                None => format!(
                    "{} (never seen down: every first redial opened)",
                    dur(longest)
                ),
            },
        ));
    }
    if let Some(p) = s.pattern(now) {
        f.push(("pattern", describe::pattern_short(&p)));
        if let Some(a) = describe::advice(&p, b.header.app_ping.is_some()) {
            f.push(("advice", a));
        }
    }
    f.push((
        "last failure",
        match &s.last_failure {
            Some((at, t)) => format!("{} {}", text::clock(*at), describe::trouble(t)),
            None => match &s.last_close {
                Some(c) => format!("none; last close: {}", describe::close(c)),
                None => "none".into(),
            },
        },
    ));
    f
}

fn availability_chart(b: &ReportBuilder, now: SystemTime) -> Option<Block> {
    let s = &b.stats;
    let from = s.started?;
    let mut spans = Vec::new();
    let mut drops = Vec::new();
    let periods = s.timeline.periods();
    for (i, p) in periods.iter().enumerate() {
        let until = periods.get(i + 1).map_or(now, Period::at).min(now);
        match p {
            Period::Up(c) => {
                spans.push((c.at, until, Seen::Up, describe::period(p, now)));
                if let Some(e) = c.end.as_ref().filter(|e| e.culprit != Culprit::User) {
                    drops.push((e.at, describe::trouble(&trouble_of(e))));
                }
            }
            Period::Out(o) => {
                let seen = if o.seen_down {
                    Seen::Down
                } else {
                    Seen::Unprobed
                };
                spans.push((o.at, until, seen, describe::outage(o, now)));
            }
        }
    }
    let from = periods.front().map_or(from, Period::at);
    Some(Block::Chart(Chart::Availability {
        from,
        to: now,
        spans,
        drops,
    }))
}

fn trouble_of(e: &crate::model::Ending) -> Trouble {
    match &e.failure {
        Some(f) => Trouble::Failed(f.clone()),
        None => Trouble::Dropped(e.close.clone()),
    }
}

/// An outage as a row: when, how long the connection before it lasted, what it met.
struct Row<'a> {
    o: &'a Outage,
    up_before: Option<Duration>,
}

impl Row<'_> {
    /// Outages that repeat one another: the same steps, the same ending, after a connection
    /// of about the same life.
    fn repeats(&self, other: &Row<'_>) -> bool {
        let alike = |a: Duration, b: Duration| {
            a.abs_diff(b) <= (a.max(b) / 5).max(Duration::from_millis(500))
        };
        self.o.steps == other.o.steps
            && self.o.seen_down == other.o.seen_down
            && self.o.until.is_some() == other.o.until.is_some()
            && !self.o.gave_up
            && !other.o.gave_up
            && match (self.up_before, other.up_before) {
                (Some(a), Some(b)) => alike(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// One row per outage, oldest first; a run of outages that repeat one another is one row
/// (`×27, every ~32s`).
fn outages(b: &ReportBuilder, now: SystemTime) -> Vec<Block> {
    let s = &b.stats;
    let periods = s.timeline.periods();
    let mut rows: Vec<Row<'_>> = Vec::new();
    let mut up_before = None;
    for p in periods {
        match p {
            Period::Up(Connection { end: Some(e), .. }) => up_before = Some(e.close.uptime),
            Period::Up(_) => up_before = None,
            // Not the endpoint's outages: the first dial, and the user's own closes.
            Period::Out(o) if o.began == Began::Start && !o.seen_down => {}
            Period::Out(o) if o.began == Began::User => up_before = None,
            Period::Out(o) => rows.push(Row {
                o,
                up_before: up_before.take(),
            }),
        }
    }
    let mut blocks = Vec::new();
    if s.timeline.cut > 0 {
        blocks.push(Block::Text(format!(
            "The first {} connections and outages are left out here; the counts cover the whole session.",
            s.timeline.cut
        )));
    }
    if rows.is_empty() {
        blocks.push(Block::Text(match s.connects {
            0 => "No connection opened.".into(),
            _ => "None: the connection never dropped.".into(),
        }));
        return blocks;
    }
    let mut table = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j].repeats(&rows[i]) {
            j += 1;
        }
        let run = &rows[i..j];
        table.push(outage_row(run, now));
        i = j;
    }
    blocks.push(Block::Table {
        head: vec!["time (UTC)", "after", "outage", "repeats"],
        rows: table,
    });
    blocks
}

fn outage_row(run: &[Row<'_>], now: SystemTime) -> Vec<String> {
    let first = &run[0];
    let n = run.len() as u32;
    let mean = |d: &dyn Fn(&Row<'_>) -> Duration| run.iter().map(d).sum::<Duration>() / n;
    let approx = if n > 1 { "~" } else { "" };
    let after = match first.up_before {
        Some(_) => format!(
            "{approx}{} up",
            dur(mean(&|r| r.up_before.unwrap_or_default()))
        ),
        None if first.o.began == Began::Start => "start".into(),
        None => "closed by you".into(),
    };
    let lasted = mean(&|r| {
        let end = r.o.until.unwrap_or(now);
        between(r.o.at, end)
    });
    let head = match (first.o.seen_down, first.o.until.is_some()) {
        (true, true) => format!("down {approx}{}", dur(lasted)),
        (true, false) => format!("down {}, still at the end", dur(lasted)),
        (false, true) => format!("back in {approx}{}", dur(lasted)),
        (false, false) => format!("not probed for {}, at the end", dur(lasted)),
    };
    let mut path = describe::path(&first.o.steps);
    if first.o.until.is_some() {
        path = if path.is_empty() {
            "open".into()
        } else {
            format!("{path} → open")
        };
    }
    if first.o.gave_up {
        path.push_str(" → gave up (max_attempts)");
    }
    let repeats = if n > 1 {
        let span = between(first.o.at, run[run.len() - 1].o.at);
        format!("×{n}, every ~{}", dur(span / (n - 1)))
    } else {
        String::new()
    };
    vec![
        text::clock(first.o.at),
        after,
        if path.is_empty() {
            head
        } else {
            format!("{head}: {path}")
        },
        repeats,
    ]
}

fn summary(b: &ReportBuilder, now: SystemTime) -> Block {
    let s = &b.stats;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |k: &str, v: String| rows.push(vec![k.to_string(), v]);
    let state = match (&s.state, s.uptime(now), s.outage_for(now)) {
        _ if s.closed_at_shutdown() => format!(
            "OPEN until wsmon stopped, up {}",
            dur(s.last_close.as_ref().map(|c| c.uptime).unwrap_or_default())
        ),
        (ConnState::Open, Some(u), _) => format!("OPEN, up {}", dur(u)),
        (st, _, Some(d)) => match s.down_for(now) {
            Some(_) => format!("{}, down {}", st.label(), dur(d)),
            None => format!("{}, not seen down ({} since the drop)", st.label(), dur(d)),
        },
        (st, _, _) => st.label().to_string(),
    };
    row("state at the end", state);
    row("health at the end", describe::health(s.health(now)));
    row(
        "connects / reconnects / drops",
        format!("{} / {} / {}", s.connects, s.reconnects, s.drops),
    );
    let failed: u64 = s.failures_by_cause.iter().sum();
    let causes: Vec<String> = Cause::ALL
        .iter()
        .zip(s.failures_by_cause)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{n} {c}"))
        .collect();
    row(
        "dials / failures",
        format!(
            "{} / {failed}{}",
            s.total_attempts,
            if causes.is_empty() {
                String::new()
            } else {
                format!(" ({})", causes.join(", "))
            }
        ),
    );
    row(
        "messages",
        format!(
            "{} in ({}), {} out ({})",
            text::count(s.msgs_in),
            text::bytes(s.bytes_in),
            text::count(s.msgs_out),
            text::bytes(s.bytes_out)
        ),
    );
    if s.pings_sent > 0 {
        row(
            "pings",
            format!(
                "{} sent, {} answered{}",
                s.pings_sent,
                s.rtt.count,
                if s.unanswered > 0 {
                    format!("; the last {} unanswered", s.unanswered)
                } else {
                    String::new()
                }
            ),
        );
    }
    if s.heartbeat_drops > 0 {
        row(
            "dead-peer verdicts",
            format!("{} (wsmon closed: no answer in time)", s.heartbeat_drops),
        );
    }
    if s.dropped_sends > 0 {
        row("messages not sent", s.dropped_sends.to_string());
    }
    if s.unconfirmed > 0 {
        row(
            "messages unconfirmed",
            format!(
                "{} written but not acknowledged by the peer's TCP when their connection ended{}",
                s.unconfirmed,
                match s.resent {
                    0 => String::new(),
                    n => format!("; {n} sent again"),
                }
            ),
        );
    }
    if s.stales > 0 || b.header.stale_after_ms > 0 {
        let still = match s.stale_for(now) {
            Some(d) => format!("; stale at the end, no data for {}", dur(d)),
            None => String::new(),
        };
        row(
            &format!(
                "stale (no data for {})",
                dur(Duration::from_millis(b.header.stale_after_ms))
            ),
            format!("{} times{still}", s.stales),
        );
    }
    if s.auto_replies > 0 {
        row(
            "auto-replies",
            format!(
                "{} (answers to the server's heartbeat or the auto_reply rules)",
                s.auto_replies
            ),
        );
    }
    Block::Table {
        head: vec!["", ""],
        rows,
    }
}
