//! Uptime: this connection, total up and down time, and availability.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{frame, labeled, lines, span};
use crate::model::ConnState;
use crate::text;
use crate::tui::app::App;

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let inner = frame(t, "Uptime", area, buf);
    let s = &app.stats();
    let now = app.now;
    let mut out = Vec::new();
    let (label, current) = match (&s.state, s.uptime(now)) {
        (ConnState::Open, Some(u)) => (
            "up",
            vec![
                span(
                    text::duration(u),
                    t.good().add_modifier(ratatui::style::Modifier::BOLD),
                ),
                span(" this connection", t.dim()),
            ],
        ),
        _ => match (s.down_for(now), s.outage_for(now)) {
            (Some(d), _) => (
                "down",
                vec![
                    span(text::duration(d), t.bad()),
                    span(" this outage", t.dim()),
                ],
            ),
            // Not seen down: wsmon waits to dial again, or is dialling.
            (None, Some(o)) => (
                "gone",
                vec![
                    span(text::duration(o), t.warn()),
                    span(" since the drop, not seen down", t.dim()),
                ],
            ),
            (None, None) => ("now", vec![span("not connected", t.bad())]),
        },
    };
    out.push(labeled(t, label, current));
    out.push(labeled(
        t,
        "total",
        vec![
            span(text::duration(s.up_total(now)), t.value()),
            span(" up · ", t.dim()),
            span(text::duration(s.down_total(now)), t.value()),
            span(" down", t.dim()),
            span(
                match s.unprobed_total(now) {
                    d if d.is_zero() => String::new(),
                    d => format!(" · {} not probed", text::duration(d)),
                },
                t.dim(),
            ),
        ],
    ));
    let avail = match s.availability(now) {
        Some(a) => {
            let style = if a >= 99.0 {
                t.good()
            } else if a >= 90.0 {
                t.warn()
            } else {
                t.bad()
            };
            let label = format!("{a:.2}% ");
            let bar_w = (inner.width as usize).saturating_sub(super::LABEL + label.len() + 1);
            let filled = ((a / 100.0) * bar_w as f64).round() as usize;
            vec![
                span(label, style.add_modifier(ratatui::style::Modifier::BOLD)),
                span("█".repeat(filled), style),
                span("░".repeat(bar_w - filled.min(bar_w)), t.dim()),
            ]
        }
        None => vec![span("—", t.dim())],
    };
    out.push(labeled(t, "avail", avail));
    if let Some(started) = s.started {
        out.push(labeled(
            t,
            "since",
            vec![
                span(format!("{} UTC", text::clock(started)), t.value()),
                span(
                    format!(
                        " · watching {}",
                        text::duration(now.duration_since(started).unwrap_or_default())
                    ),
                    t.dim(),
                ),
            ],
        ));
    }
    lines(out, inner, buf);
}
