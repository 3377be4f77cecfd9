//! The fleet overview: one row per endpoint with its state, uptime, availability,
//! reconnects, RTT p50 and trend, message rate and last failure.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

use crate::engine::ConnState;
use crate::text;
use crate::tui::app::App;
use crate::tui::fleet::{FleetApp, failed_recently};

/// Columns after the name: (header, width).
const STATE_W: usize = 12;
const UPTIME_W: usize = 9;
const AVAIL_W: usize = 8;
const RECON_W: usize = 7;
const RTT_W: usize = 9;
const TREND_W: usize = 12;
const RATE_W: usize = 8;

/// The overview's regions: title, table header, rows, footer.
pub fn regions(area: Rect) -> (Rect, Rect, Rect, Rect) {
    let row = |y: u16, h: u16| Rect {
        y: area.y + y,
        height: h,
        ..area
    };
    let h = area.height;
    if h < 4 {
        return (
            row(0, h.min(1)),
            Rect::default(),
            Rect::default(),
            Rect::default(),
        );
    }
    (row(0, 1), row(1, 1), row(2, h - 3), row(h - 1, 1))
}

/// Rows of endpoints that fit.
pub fn table_rows(area: Rect) -> usize {
    regions(area).2.height as usize
}

/// Where the cursor goes while a filter is typed.
pub fn cursor(fleet: &FleetApp, area: Rect) -> Option<(u16, u16)> {
    let input = fleet.filter_input.as_ref()?;
    let footer = regions(area).3;
    let x = footer.x + FILTER_PROMPT.chars().count() as u16 + input.visual_cursor() as u16;
    Some((x.min(footer.right().saturating_sub(1)), footer.y))
}

const FILTER_PROMPT: &str = " filter: ";

fn cell(text: &str, width: usize) -> String {
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    let n = s.chars().count();
    s.extend(std::iter::repeat_n(' ', width - n.min(width)));
    s
}

fn right(text: &str, width: usize) -> String {
    let t: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{t:>w$} ", w = width.saturating_sub(1))
}

/// The name column's width: the longest name, within 8..=28.
fn name_width(fleet: &FleetApp) -> usize {
    fleet
        .apps
        .iter()
        .map(|a| a.opts.name.as_deref().unwrap_or("").chars().count() + 2)
        .max()
        .unwrap_or(8)
        .clamp(8, 28)
}

/// A short state: `OPEN`, `STALE 40s`, `WAIT 12s`, `DIAL #3`.
pub fn state_text(app: &App) -> String {
    if let Some(silent) = app.stats().stale_for(app.now) {
        return format!("STALE {}", text::duration(silent));
    }
    match &app.stats().state {
        ConnState::Waiting { until, .. } => {
            let left = until.duration_since(app.now).unwrap_or_default();
            format!(
                "WAIT {}s",
                left.as_secs() + u64::from(left.subsec_nanos() > 0)
            )
        }
        ConnState::Connecting { attempt } if *attempt > 1 => format!("DIAL #{attempt}"),
        ConnState::Connecting { .. } => "DIALING".into(),
        other => other.label().to_string(),
    }
}

/// Draws the overview's rows in `order` (from `FleetApp::sync_view`) and, over it, the help
/// when asked for.
pub fn render(fleet: &FleetApp, order: &[usize], area: Rect, buf: &mut Buffer) {
    let t = &fleet.theme;
    let (title, header, body, footer) = regions(area);
    let c = fleet.counts();
    let mut spans = vec![
        Span::styled(" wsmon ", t.title()),
        Span::styled(
            format!(" FLEET {} ", fleet.apps.len()),
            t.badge(&ConnState::Open, false),
        ),
        Span::styled(format!("  {} open", c.open), t.good()),
        Span::styled(
            format!(" · {} down", c.down),
            if c.down > 0 { t.bad() } else { t.dim() },
        ),
        Span::styled(
            format!(" · {} connecting", c.connecting),
            if c.connecting > 0 { t.warn() } else { t.dim() },
        ),
    ];
    if c.stale > 0 {
        spans.push(Span::styled(format!(" · {} stale", c.stale), t.warn()));
    }
    spans.push(Span::styled(
        format!("   sorted by {}", fleet.sort.label()),
        t.dim(),
    ));
    if !fleet.filter.is_empty() {
        spans.push(Span::styled(
            format!("   filter `{}`", text::sanitize(&fleet.filter)),
            t.hit(),
        ));
    }
    Paragraph::new(Line::from(spans)).render(title, buf);

    let name_w = name_width(fleet);
    let fixed = 1 + name_w + STATE_W + UPTIME_W + AVAIL_W + RECON_W + RTT_W + RATE_W;
    let width = area.width as usize;
    let trend = width >= fixed + TREND_W + 20;
    let fail_w = width.saturating_sub(fixed + if trend { TREND_W } else { 0 });
    let mut head = format!(
        " {}{}{}{}{}{}",
        cell("NAME", name_w),
        cell("STATE", STATE_W),
        right("UPTIME", UPTIME_W),
        right("AVAIL", AVAIL_W),
        right("RECONN", RECON_W),
        right("RTT p50", RTT_W),
    );
    if trend {
        head.push_str(&cell("RTT trend", TREND_W));
    }
    head.push_str(&right("MSG/S", RATE_W));
    head.push_str(&cell("LAST FAILURE", fail_w));
    Paragraph::new(Line::from(Span::styled(head, t.dim()))).render(header, buf);

    if order.is_empty() {
        Paragraph::new(Span::styled(
            "  no endpoint matches the filter: Esc clears it",
            t.dim(),
        ))
        .render(body, buf);
    }
    for (row, id) in order
        .iter()
        .skip(fleet.top)
        .take(body.height as usize)
        .enumerate()
    {
        let app = &fleet.apps[*id];
        let s = app.stats();
        let now = app.now;
        let y = body.y + row as u16;
        let line_area = Rect {
            y,
            height: 1,
            ..body
        };
        let selected = *id == fleet.selected;
        let base = if selected { t.selected() } else { Style::new() };
        let uptime = match (&s.state, s.uptime(now)) {
            (ConnState::Open, Some(u)) => text::duration(u),
            _ => "-".into(),
        };
        let avail = s
            .availability(now)
            .map_or("-".into(), |a| format!("{a:.2}%"));
        let p50 = s.rtt.percentiles([50.0])[0];
        let rtt = p50.map_or("-".into(), |d| format!("{}ms", text::millis(d)));
        let rate = app.rates.msgs_in + app.rates.msgs_out;
        let rate = if rate >= 10.0 {
            format!("{rate:.0}")
        } else {
            format!("{rate:.1}")
        };
        let failure = match &s.last_failure {
            Some((at, what)) => {
                let age = now.duration_since(*at).unwrap_or_default();
                format!(
                    "{} ago: {}",
                    text::duration(round_secs(age)),
                    text::sanitize(&crate::describe::trouble(what))
                )
            }
            None => String::new(),
        };
        let recent = failed_recently(app);
        let mut spans = vec![
            Span::styled(if selected { "›" } else { " " }, base),
            Span::styled(
                cell(
                    &text::sanitize(app.opts.name.as_deref().unwrap_or("")),
                    name_w,
                ),
                base.patch(t.value()),
            ),
            Span::styled(
                cell(&state_text(app), STATE_W),
                base.patch(if s.stale_since.is_some() {
                    t.warn()
                } else {
                    t.state(&s.state)
                }),
            ),
            Span::styled(right(&uptime, UPTIME_W), base),
            Span::styled(right(&avail, AVAIL_W), base),
            Span::styled(
                right(&text::count(s.reconnects), RECON_W),
                if s.reconnects > 0 {
                    base.patch(t.warn())
                } else {
                    base
                },
            ),
            Span::styled(right(&rtt, RTT_W), base),
        ];
        let trend_x = spans.iter().map(|s| s.width() as u16).sum::<u16>();
        if trend {
            spans.push(Span::styled(" ".repeat(TREND_W), base));
        }
        spans.push(Span::styled(right(&rate, RATE_W), base));
        spans.push(Span::styled(
            cell(&failure, fail_w),
            if recent {
                base.patch(t.bad())
            } else {
                base.patch(t.dim())
            },
        ));
        Paragraph::new(Line::from(spans)).render(line_area, buf);
        if trend {
            let samples: Vec<u64> = s
                .rtt
                .recent(TREND_W - 1)
                .map(|d| d.as_micros() as u64)
                .collect();
            if !samples.is_empty() {
                let (data, max) = trend_scale(&samples);
                Sparkline::default()
                    .data(&data)
                    .max(max)
                    .style(base.patch(t.spark()))
                    .render(
                        Rect {
                            x: line_area.x + trend_x,
                            width: (TREND_W - 1) as u16,
                            ..line_area
                        },
                        buf,
                    );
            }
        }
    }

    render_footer(fleet, footer, buf);
    if let Some(why) = &fleet.confirm {
        super::confirm::render(t, why, area, buf);
    } else if fleet.help {
        let keys = crate::tui::bindings::help(crate::tui::bindings::OVERVIEW, false, true);
        super::help::render_box(t, &keys, &[], 0, area, buf);
    }
}

/// Samples scaled between their own low and high, so a one-row trend shows the variation
/// (from zero, 0.19 ms and 0.21 ms are both full bars), the lowest still a visible bar; a
/// steady RTT is a flat half bar.
fn trend_scale(samples: &[u64]) -> (Vec<u64>, u64) {
    let lo = samples.iter().copied().min().unwrap_or(0);
    let hi = samples.iter().copied().max().unwrap_or(0);
    let span = hi - lo;
    if span * 10 <= hi {
        return (vec![1; samples.len()], 2);
    }
    let floor = span / 4;
    (
        samples.iter().map(|v| v - lo + floor).collect(),
        span + floor,
    )
}

/// Ages in whole seconds once past a minute, so the column does not flicker.
fn round_secs(d: Duration) -> Duration {
    if d >= Duration::from_secs(60) {
        Duration::from_secs(d.as_secs())
    } else {
        Duration::from_millis(d.as_millis() as u64 / 100 * 100)
    }
}

fn render_footer(fleet: &FleetApp, area: Rect, buf: &mut Buffer) {
    let t = &fleet.theme;
    if let Some(input) = &fleet.filter_input {
        let line = Line::from(vec![
            Span::styled(FILTER_PROMPT, t.hit()),
            Span::raw(text::sanitize(input.value())),
            Span::styled("   Enter keeps · Esc clears", t.dim()),
        ]);
        Paragraph::new(line).render(area, buf);
        return;
    }
    let mut v: Vec<Span> = Vec::new();
    if let Some((msg, level)) = fleet.current_status() {
        v.push(Span::styled(
            format!(" {} ", text::sanitize(msg)),
            t.level(level),
        ));
        v.push(Span::styled("│", t.border()));
    }
    let keys: &[(&str, &str)] = &[
        ("q", "quit"),
        ("?", "help"),
        ("↑↓", "select"),
        ("Enter", "open"),
        ("Tab", "type"),
        ("s", "sort"),
        ("/", "filter"),
        ("p", "ping"),
        ("R", "reconnect"),
    ];
    for (key, what) in keys {
        v.push(Span::styled(format!(" {key}"), t.key()));
        v.push(Span::styled(format!(" {what} "), t.dim()));
    }
    Paragraph::new(Line::from(v)).render(area, buf);
}
