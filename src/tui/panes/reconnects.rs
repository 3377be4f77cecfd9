//! Reconnects: the current outage, the totals, the countdown, and the timeline of connects
//! and drops.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{Row, frame, labeled, rows, span};
use crate::model::{Began, ConnState, Period};
use crate::text;
use crate::tui::app::App;

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let inner = frame(&app.opts.theme, "Reconnects", area, buf);
    rows(content(app, inner.height as usize), inner, buf);
}

/// The pane's lines for `height` rows; the outage's cause and the pattern are whole.
pub fn content(app: &App, height: usize) -> Vec<Row<'static>> {
    let t = &app.opts.theme;
    let s = &app.stats();
    let mut out: Vec<Row> = Vec::new();
    let outage = match &s.state {
        ConnState::Waiting { until, attempt } => vec![
            span("next try in ", t.warn()),
            span(
                text::duration(until.duration_since(app.now).unwrap_or_default()),
                t.warn().add_modifier(ratatui::style::Modifier::BOLD),
            ),
            span(format!(" (attempt {attempt})"), t.warn()),
        ],
        ConnState::Connecting { attempt } => {
            vec![span(format!("dialling, attempt {attempt}"), t.warn())]
        }
        ConnState::GaveUp => vec![span(
            format!(
                "gave up after {} · /reconnect",
                text::counted(u64::from(s.outage_attempts), "attempt", "attempts")
            ),
            t.bad(),
        )],
        ConnState::Closed => vec![span("closed by you · /reconnect to connect", t.dim())],
        ConnState::Crashed => vec![span(
            "wsmon's engine stopped (a bug): see wsmon.log",
            t.bad(),
        )],
        ConnState::Open => {
            let tries = s.last_open.as_ref().map_or(1, |o| o.attempt);
            vec![span(format!("connected on attempt {tries}"), t.good())]
        }
        ConnState::Closing => vec![span("closing", t.warn())],
        ConnState::Starting => vec![span("starting", t.dim())],
    };
    out.push(labeled(t, "now", outage).into());
    // What began the outage stays in view until it ends, however many retries follow; when
    // the latest failure says something else (the server moved on, or a /reconnect met a
    // different answer), that is shown too, so an old cause is never taken for the current one.
    if let Some((at, why)) = &s.outage_began()
        && s.state != ConnState::Open
    {
        let ago = |at: &std::time::SystemTime| {
            text::ago(app.now.duration_since(*at).unwrap_or_default()).replace(' ', "\u{a0}")
        };
        let began = crate::describe::trouble(why);
        out.push(Row::whole_then(
            labeled(t, "cause", vec![span(text::sanitize(&began), t.bad())]),
            vec![span(format!(" · {}", ago(at)), t.dim())],
        ));
        if let Some((last_at, last)) = &s.last_failure
            && last_at > at
        {
            let latest = crate::describe::trouble(last);
            if latest != began {
                out.push(Row::whole_then(
                    labeled(t, "latest", vec![span(text::sanitize(&latest), t.bad())]),
                    vec![span(format!(" · {}", ago(last_at)), t.dim())],
                ));
            }
        }
    }
    // What the drops have in common is the lead a field engineer follows first.
    if let Some(mut p) = s.pattern(app.now) {
        // The cause above says the server's reason already: the pattern keeps to its rhythm.
        if s.state != ConnState::Open
            && let crate::model::Pattern::ServerCloses { reason, .. } = &mut p
        {
            *reason = "".into();
        }
        out.push(Row::whole(labeled(
            t,
            "pattern",
            vec![span(crate::describe::pattern_short(&p), t.warn())],
        )));
    }
    out.push(Row::from(labeled(
        t,
        "total",
        vec![
            span(
                text::counted(s.reconnects, "reconnect", "reconnects"),
                t.value(),
            ),
            span(" · ", t.dim()),
            span(text::counted(s.drops, "drop", "drops"), t.value()),
        ],
    )));
    if height >= out.len() + 2 {
        out.push(Row::from(labeled(
            t,
            "dials",
            vec![
                span(text::count(s.total_attempts), t.value()),
                span(" since start", t.dim()),
            ],
        )));
    }
    let room = height.saturating_sub(out.len());
    // Newest first: each outage (how it ended: `▲ down 8.1s: 1012 → refused ×3 → open`) and
    // each connection that ended (`▼ … after 30s up: closed by server …`). The connection open
    // now is the "now" line; the first dial's wait is no outage unless a dial failed in it.
    let shown = s.timeline.periods().iter().rev().filter(|p| match p {
        Period::Up(c) => c.end.is_some(),
        Period::Out(o) => o.began != Began::Start || o.seen_down,
    });
    for p in shown.take(room) {
        let (mark, style) = match p {
            Period::Up(_) => ("▼ ", t.warn()),
            Period::Out(o) if o.until.is_some() => ("▲ ", t.good()),
            Period::Out(o) if o.seen_down => ("▼ ", t.bad()),
            Period::Out(_) => ("· ", t.dim()),
        };
        out.push(Row::from(ratatui::text::Line::from(vec![
            span(format!("{} ", text::clock(p.at())), t.dim()),
            span(mark, style),
            span(text::sanitize(&crate::describe::period(p, app.now)), style),
        ])));
    }
    out
}
