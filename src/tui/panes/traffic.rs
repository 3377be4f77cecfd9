//! Heartbeat and traffic: RTT with percentiles and a sparkline, time since the last frame,
//! and message and byte rates each way.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

use super::{frame, labeled, lines, span};
use crate::model::ConnState;
use crate::text;
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// `3 unanswered`, when pings of this connection wait for their answer.
fn unanswered<'a>(n: u64, t: &Theme) -> Option<Span<'a>> {
    (n > 0).then(|| span(format!(" · {n} unanswered"), t.warn()))
}

fn rtt_line<'a>(app: &App, t: &Theme) -> Vec<Span<'a>> {
    let s = app.stats();
    let r = &s.rtt;
    let mut v = rtt_spans(r, t);
    if v.is_empty() {
        v = no_rtt(app, t);
    }
    v.extend(unanswered(s.unanswered, t));
    v
}

/// Last, p50 and p99 of some samples; nothing without samples.
fn rtt_spans<'a>(r: &crate::model::RttStats, t: &Theme) -> Vec<Span<'a>> {
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
        None => Vec::new(),
    }
}

/// The application heartbeat's RTT, apart from the WebSocket pings'.
fn app_rtt_line<'a>(app: &App, t: &Theme) -> Vec<Span<'a>> {
    let s = app.stats();
    let mut v = rtt_spans(&s.app_rtt, t);
    if v.is_empty() {
        v.push(span(
            format!(
                "no answer yet to {}",
                text::sanitize(app.opts.app_ping.as_deref().unwrap_or(""))
            ),
            t.dim(),
        ));
    }
    v.extend(unanswered(s.app_unanswered, t));
    v
}

fn no_rtt<'a>(app: &App, t: &Theme) -> Vec<Span<'a>> {
    match app.opts.ping_interval {
        None if app.opts.replay => vec![span("heartbeat off", t.dim())],
        None => vec![span("heartbeat off · F4 or /ping for a sample", t.dim())],
        Some(i) => vec![span(
            format!("no sample yet · ping every {}", text::duration(i)),
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

/// Messages per second: `420`, `4.2k`, `42k`, `2.2M`.
fn rate(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

/// When the peer was last heard from: any frame, and data.
fn last_heard<'a>(app: &App, t: &Theme) -> Vec<Span<'a>> {
    let s = app.stats();
    if s.state != ConnState::Open {
        return vec![span("no connection", t.dim())];
    }
    let mut v = Vec::new();
    if let Some(d) = s.since_last_frame(app.now) {
        v.push(span("any frame ", t.dim()));
        v.push(span(text::ago(d), t.value()));
    }
    match (s.stale_for(app.now), s.data_age(app.now)) {
        (Some(stale), _) => {
            v.push(span(" · ", t.dim()));
            v.push(span(
                format!("STALE: no data for {}", text::duration(stale)),
                t.warn(),
            ));
        }
        (None, Some(age)) if s.last_data.is_some() => {
            v.push(span(" · data ", t.dim()));
            v.push(span(text::ago(age), t.value()));
        }
        _ => {
            v.push(span(" · no data yet", t.dim()));
        }
    }
    v
}

/// The heartbeat a preset agreed with the server, as its handshake said it (`Socket.IO server
/// pings every 25s, gone after 45s without one`, `MQTT keep-alive 60s`, `STOMP heart-beats:
/// wsmon 10s, server 10s`): the same words as the Connection pane's, from the same event.
fn preset_beat(app: &App) -> Option<String> {
    let (protocol, detail) = app.stats().ready.as_ref()?;
    detail
        .split(" · ")
        .find(|seg| {
            ["pings every", "keep-alive", "heart-beats"]
                .iter()
                .any(|k| seg.contains(k))
        })
        .map(|seg| format!("{protocol} {}", text::sanitize(seg)))
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
    let mut rest = Vec::new();
    if app.opts.app_ping.is_some() {
        rest.push(labeled(t, "app rtt", app_rtt_line(app, t)));
    }
    rest.push(labeled(t, "rate", rate_spans(app, t)));
    rest.push(labeled(t, "heard", last_heard(app, t)));
    let r = &app.stats().rtt;
    if let (Some(min), Some(avg), Some(max)) = (r.min, r.avg(), r.max) {
        rest.push(labeled(
            t,
            "range",
            vec![span(
                format!(
                    "{}–{} ms · avg {} · {}",
                    text::millis(min),
                    text::millis(max),
                    text::millis(avg),
                    text::counted(r.count, "sample", "samples")
                ),
                t.dim(),
            )],
        ));
    }
    let beat = match (preset_beat(app), app.opts.ping_interval) {
        // The protocol's own heartbeat is the one that keeps the session: it leads.
        (Some(b), Some(i)) => format!("{b} · WebSocket ping every {}", text::duration(i)),
        (Some(b), None) => b,
        (None, Some(i)) => format!(
            "ping every {} · dead after {}",
            text::duration(i),
            text::duration(app.opts.pong_timeout)
        ),
        (None, None) => "off (ping_interval = 0)".to_string(),
    };
    rest.push(labeled(t, "beat", vec![span(beat, t.dim())]));
    let replies = app.stats().auto_replies;
    if replies > 0 {
        rest.push(labeled(
            t,
            "replies",
            vec![
                span(text::count(replies), t.value()),
                span(
                    " auto-replies (the server's heartbeat, auto_reply rules)",
                    t.dim(),
                ),
            ],
        ));
    }
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
pub(crate) fn render_summary(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let s = &app.stats();
    let mut v = rtt_line(app, t);
    v.insert(0, span("rtt ", t.dim()));
    v.push(span(
        format!(
            " · {}",
            text::counted(s.reconnects, "reconnect", "reconnects")
        ),
        t.dim(),
    ));
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

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_read_at_a_glance() {
        assert_eq!(rate(420.0), "420");
        assert_eq!(rate(4_200.0), "4.2k");
        assert_eq!(rate(42_000.0), "42k");
        assert_eq!(rate(2_212_000.0), "2.2M");
    }
}
