//! Heartbeat and traffic: RTT with percentiles and a sparkline, time since the last frame,
//! and message and byte rates each way.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

use super::{frame, labeled, lines, span};
use crate::engine::ConnState;
use crate::text;
use crate::tui::app::App;
use crate::tui::theme::Theme;

fn rtt_line<'a>(app: &App, t: &Theme) -> Vec<Span<'a>> {
    let r = &app.stats().rtt;
    match r.last {
        Some(last) => {
            let [p50, p99] = r.percentiles([50.0, 99.0]);
            vec![
                span(format!("{} ms", text::millis(last)), t.value()),
                span(" · p50 ", t.dim()),
                span(p50.map(text::millis).unwrap_or_default(), t.value()),
                span(" · p99 ", t.dim()),
                span(p99.map(text::millis).unwrap_or_default(), t.value()),
            ]
        }
        None if app.opts.ping_interval.is_none() => {
            vec![span("heartbeat off · p or /ping for a sample", t.dim())]
        }
        None => vec![span(
            format!(
                "no sample yet · ping every {}",
                text::duration(app.opts.ping_interval.unwrap_or_default())
            ),
            t.dim(),
        )],
    }
}

fn rate_spans<'a>(app: &App, t: &Theme) -> Vec<Span<'a>> {
    let r = &app.rates;
    vec![
        span("in ", t.dir_in()),
        span(
            format!("{}/s {}/s", rate(r.msgs_in), text::bytes(r.bytes_in as u64)),
            t.value(),
        ),
        span(" · ", t.dim()),
        span("out ", t.dir_out()),
        span(
            format!(
                "{}/s {}/s",
                rate(r.msgs_out),
                text::bytes(r.bytes_out as u64)
            ),
            t.value(),
        ),
    ]
}

fn rate(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

fn last_frame(app: &App) -> String {
    match (&app.stats().state, app.stats().since_last_frame(app.now)) {
        (ConnState::Open, Some(d)) => format!("{} ago", text::duration(d)),
        _ => "no connection".to_string(),
    }
}

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let inner = frame(t, "Heartbeat & traffic", area, buf);
    if inner.height == 0 {
        return;
    }
    let mut top = vec![labeled(t, "rtt", rtt_line(app, t))];
    let spark_row = Rect {
        y: inner.y + 1,
        height: 1,
        ..inner
    };
    let mut rest = vec![labeled(t, "rate", rate_spans(app, t))];
    rest.push(labeled(t, "frame", vec![span(last_frame(app), t.value())]));
    let r = &app.stats().rtt;
    if let (Some(min), Some(avg), Some(max)) = (r.min, r.avg(), r.max) {
        rest.push(labeled(
            t,
            "range",
            vec![span(
                format!(
                    "{}–{} ms · avg {} · {} samples",
                    text::millis(min),
                    text::millis(max),
                    text::millis(avg),
                    text::count(r.count)
                ),
                t.dim(),
            )],
        ));
    }
    let beat = match app.opts.ping_interval {
        Some(i) => format!(
            "ping every {} · dead after {}",
            text::duration(i),
            text::duration(app.opts.pong_timeout)
        ),
        None => "off (ping_interval = 0)".to_string(),
    };
    rest.push(labeled(t, "beat", vec![span(beat, t.dim())]));
    lines(std::mem::take(&mut top), Rect { height: 1, ..inner }, buf);
    if inner.height >= 2 {
        Paragraph::new(Line::from(span("trend", t.dim()))).render(spark_row, buf);
        let spark_area = Rect {
            x: spark_row.x + super::LABEL as u16,
            width: spark_row.width.saturating_sub(super::LABEL as u16),
            ..spark_row
        };
        let samples: Vec<u64> = r
            .recent(spark_area.width as usize)
            .map(|d| d.as_micros() as u64)
            .collect();
        if samples.is_empty() {
            Paragraph::new(span("no samples yet", t.dim())).render(spark_area, buf);
        } else {
            Sparkline::default()
                .data(&samples)
                .style(t.spark())
                .render(spark_area, buf);
        }
    }
    if inner.height > 2 {
        lines(
            rest,
            Rect {
                y: inner.y + 2,
                height: inner.height - 2,
                ..inner
            },
            buf,
        );
    }
}

/// The one-line stand-in for all panes on small terminals.
pub fn render_summary(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let s = &app.stats();
    let mut v = rtt_line(app, t);
    v.insert(0, span("rtt ", t.dim()));
    v.push(span(format!(" · {} reconnects", s.reconnects), t.dim()));
    if let Some(a) = s.availability(app.now) {
        v.push(span(format!(" · {a:.1}% up"), t.dim()));
    }
    if let Some((_, what)) = &s.last_failure {
        v.push(span(" · ", t.dim()));
        v.push(span(
            text::sanitize(&crate::describe::trouble(what)),
            t.bad(),
        ));
    }
    Paragraph::new(Line::from(v)).render(area, buf);
}
