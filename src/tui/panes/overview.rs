//! The fleet overview: one row per endpoint with its state, uptime, availability,
//! reconnects, RTT p50 and trend, message rate and last failure.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline, Widget};

use crate::model::{ConnState, Health};
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
pub(crate) fn regions(area: Rect) -> (Rect, Rect, Rect, Rect) {
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
pub(crate) fn table_rows(area: Rect) -> usize {
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

/// Text in a column of `width`, a space after it; cut with `…` when it does not fit.
fn cell(text: &str, width: usize) -> String {
    let mut s = super::cut_text(text, width.saturating_sub(1));
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
        .watched()
        .map(|(_, a)| a.opts.name.as_deref().unwrap_or("").chars().count() + 2)
        .max()
        .unwrap_or(8)
        .clamp(8, 28)
}

/// The labels column's width: the longest labels, within 8..=32; 0 when no endpoint has any.
fn labels_width(fleet: &FleetApp) -> usize {
    match fleet
        .watched()
        .map(|(_, a)| a.opts.labels.chars().count())
        .max()
        .unwrap_or(0)
    {
        0 => 0,
        n => (n + 1).clamp(8, 32),
    }
}

/// A short state: `OPEN`, `STALE 40s`, `WAIT 12s`, `DIAL #3`.
pub(crate) fn state_text(app: &App) -> String {
    match app.stats().health(app.now) {
        Health::Stale { silent } => return format!("STALE {}", text::duration(silent)),
        Health::Flapping => return "FLAPPING".into(),
        Health::PingsUnanswered { .. } => return "NO PONGS".into(),
        _ => {}
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
            format!(" FLEET {} ", fleet.watched().count()),
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
    if c.sick > 0 {
        spans.push(Span::styled(format!(" · {} sick", c.sick), t.warn()));
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

    if let Some(w) = &fleet.targets {
        let (text, style) = if w.status.ok {
            (format!("   {}", file_name(&w.status.path)), t.dim())
        } else {
            (format!("   {} refused", file_name(&w.status.path)), t.bad())
        };
        spans.push(Span::styled(text, style));
    }
    Paragraph::new(Line::from(spans)).render(title, buf);

    let name_w = name_width(fleet);
    let mut cols = columns(area.width as usize, name_w, labels_width(fleet));
    cols.span = strip_span(fleet);
    let fail_w = cols.fail_w;
    let mut head = format!(" {}", cell("NAME", name_w));
    if cols.labels_w > 0 {
        head.push_str(&cell("LABELS", cols.labels_w));
    }
    head.push_str(&cell("STATE", STATE_W));
    for c in &cols.shown {
        head.push_str(&match c {
            Col::Uptime => right("UPTIME", UPTIME_W),
            Col::Avail => right("AVAIL", AVAIL_W),
            Col::Strip => cell(&format!(" LAST {} MIN", cols.span.as_secs() / 60), STRIP_W),
            Col::Recon => right("RECONN", RECON_W),
            Col::Rtt => right("RTT p50", RTT_W),
            Col::Trend => cell("RTT trend", TREND_W),
            Col::Rate => right("MSG/S", RATE_W),
        });
    }
    head.push_str(&cell("LAST FAILURE", fail_w));
    Paragraph::new(Line::from(Span::styled(head, t.dim()))).render(header, buf);

    if order.is_empty() {
        let why = match &fleet.targets {
            Some(w) if fleet.filter.is_empty() => format!(
                "  no targets in {}: wsmon reads it again when it changes",
                w.status.path.display()
            ),
            _ => "  no endpoint matches the filter: Esc clears it".to_string(),
        };
        Paragraph::new(Span::styled(why, t.dim())).render(body, buf);
    }
    let shown_rows = order
        .len()
        .saturating_sub(fleet.top)
        .min(body.height as usize);
    for (row, id) in order
        .iter()
        .skip(fleet.top)
        .take(body.height as usize)
        .enumerate()
    {
        let line_area = Rect {
            y: body.y + row as u16,
            height: 1,
            ..body
        };
        render_row(fleet, *id, &cols, name_w, line_area, buf);
    }
    // Room left under the rows: the selected endpoint's connection and timeline.
    let spare = body.height as usize - shown_rows;
    if spare >= DETAIL_MIN_ROWS && fleet.shown_selected() {
        let area = Rect {
            y: body.y + shown_rows as u16 + 1,
            height: (spare - 1) as u16,
            ..body
        };
        render_selected(fleet, area, buf);
    }

    render_footer(fleet, footer, buf);
    if let Some(why) = &fleet.confirm {
        super::confirm::render(t, why, area, buf);
    } else if fleet.help {
        let keys: Vec<(String, String)> =
            crate::tui::bindings::help(crate::tui::bindings::OVERVIEW, false, true)
                .into_iter()
                .map(|(k, w)| (k.to_string(), w.to_string()))
                .collect();
        super::help::render_box(t, &keys, ("", &[]), 0, area, buf);
    }
}

/// Rows under the table it takes to show the selected endpoint's detail.
const DETAIL_MIN_ROWS: usize = 7;

/// Width of the availability strip.
const STRIP_W: usize = 13;

/// The least room the failure column keeps: columns of less value go first.
const FAIL_MIN: usize = 34;

/// An optional column of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Uptime,
    Avail,
    Strip,
    Recon,
    Rtt,
    Trend,
    Rate,
}

impl Col {
    fn width(self) -> usize {
        match self {
            Col::Uptime => UPTIME_W,
            Col::Avail => AVAIL_W,
            Col::Strip => STRIP_W,
            Col::Recon => RECON_W,
            Col::Rtt => RTT_W,
            Col::Trend => TREND_W,
            Col::Rate => RATE_W,
        }
    }
}

/// The columns that fit, in display order, the failure column's width, and the time the
/// availability strip spans.
struct Columns {
    shown: Vec<Col>,
    /// The labels column's width (0: not shown).
    labels_w: usize,
    fail_w: usize,
    span: Duration,
}

/// The strip's span: the whole time watched, in minutes, up to ten.
fn strip_span(fleet: &FleetApp) -> Duration {
    let first = fleet.watched().filter_map(|(_, a)| a.stats().started).min();
    let watched = first.map_or(Duration::ZERO, |f| {
        fleet.now.duration_since(f).unwrap_or_default()
    });
    crate::tui::strip::span_for(watched)
}

/// Which optional columns fit beside a failure column of at least `FAIL_MIN`: added in
/// order of value (availability and the strip first, the RTT trend last).
fn columns(width: usize, name_w: usize, labels_w: usize) -> Columns {
    const BY_VALUE: [Col; 7] = [
        Col::Avail,
        Col::Strip,
        Col::Recon,
        Col::Rtt,
        Col::Uptime,
        Col::Rate,
        Col::Trend,
    ];
    const ORDER: [Col; 7] = [
        Col::Uptime,
        Col::Avail,
        Col::Strip,
        Col::Recon,
        Col::Rtt,
        Col::Trend,
        Col::Rate,
    ];
    let mut used = 1 + name_w + STATE_W;
    // Labels say which region or team a row is: they come before every optional column.
    let labels_w = if used + labels_w + FAIL_MIN <= width {
        labels_w
    } else {
        0
    };
    used += labels_w;
    let mut take = Vec::new();
    for c in BY_VALUE {
        if used + c.width() + FAIL_MIN <= width {
            used += c.width();
            take.push(c);
        }
    }
    Columns {
        shown: ORDER.into_iter().filter(|c| take.contains(c)).collect(),
        labels_w,
        fail_w: width.saturating_sub(used),
        span: crate::tui::strip::SPAN,
    }
}

/// A file's name without its directories (the title has little room).
fn file_name(path: &std::path::Path) -> String {
    text::sanitize(&path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    ))
}

/// A failure's age in a few characters: `<1s`, `17s`, `4m`, `2h`, `3d`.
fn short_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "<1s".into(),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// One endpoint's row.
fn render_row(
    fleet: &FleetApp,
    id: usize,
    cols: &Columns,
    name_w: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let t = &fleet.theme;
    let app = &fleet.apps[id];
    let s = app.stats();
    let now = app.now;
    let selected = id == fleet.selected;
    let base = if selected { t.selected() } else { Style::new() };
    let mut spans = vec![
        Span::styled(if selected { "›" } else { " " }, base),
        Span::styled(
            cell(
                &text::sanitize(app.opts.name.as_deref().unwrap_or("")),
                name_w,
            ),
            base.patch(t.value()),
        ),
    ];
    if cols.labels_w > 0 {
        spans.push(Span::styled(
            cell(&text::sanitize(&app.opts.labels), cols.labels_w),
            base.patch(t.dim()),
        ));
    }
    spans.extend([Span::styled(
        cell(&state_text(app), STATE_W),
        base.patch(if s.health(now).degraded() {
            t.warn()
        } else {
            t.state(&s.state)
        }),
    )]);
    let mut trend_x = None;
    for c in &cols.shown {
        match c {
            Col::Uptime => {
                let uptime = match (&s.state, s.uptime(now)) {
                    (ConnState::Open, Some(u)) => text::duration(u),
                    _ => "-".into(),
                };
                spans.push(Span::styled(right(&uptime, UPTIME_W), base));
            }
            Col::Avail => {
                let avail = s
                    .availability(now)
                    .map_or("-".into(), |a| format!("{a:.2}%"));
                spans.push(Span::styled(right(&avail, AVAIL_W), base));
            }
            Col::Strip => {
                spans.push(Span::styled(" ", base));
                for c in crate::tui::strip::cells(&s.avail, now, STRIP_W - 1, cols.span) {
                    use crate::model::Seen;
                    // Down shows in any cell it touches; a moment not probed (a dial, a
                    // reconnect's wait) only when it is all the cell holds.
                    let (ch, style) = match c {
                        None => ("·", t.dim()),
                        Some(c) if c.best == Seen::Down => ("▁", t.bad()),
                        Some(c) if c.worst == Seen::Down => ("▄", t.bad()),
                        Some(c) if c.worst == Seen::Stale || c.best == Seen::Stale => {
                            ("▆", t.warn())
                        }
                        Some(c) if c.best == Seen::Up => ("█", t.good()),
                        Some(_) => ("░", t.dim()),
                    };
                    spans.push(Span::styled(ch, base.patch(style)));
                }
            }
            Col::Recon => spans.push(Span::styled(
                right(&text::count(s.reconnects), RECON_W),
                if s.reconnects > 0 {
                    base.patch(t.warn())
                } else {
                    base
                },
            )),
            Col::Rtt => {
                let p50 = s.rtt.percentiles([50.0])[0];
                let rtt = p50.map_or("-".into(), |d| format!("{}ms", text::millis(d)));
                spans.push(Span::styled(right(&rtt, RTT_W), base));
            }
            Col::Trend => {
                trend_x = Some(spans.iter().map(|s| s.width() as u16).sum::<u16>());
                spans.push(Span::styled(" ".repeat(TREND_W), base));
            }
            Col::Rate => {
                let rate = app.rates.msgs_in + app.rates.msgs_out;
                let rate = if rate >= 10.0 {
                    format!("{rate:.0}")
                } else {
                    format!("{rate:.1}")
                };
                spans.push(Span::styled(right(&rate, RATE_W), base));
            }
        }
    }
    // The cause first, then how long ago: what a cut would keep is what matters.
    let failure = match &s.last_failure {
        Some((at, what)) => format!(
            "{} {}",
            short_age(now.duration_since(*at).unwrap_or_default()),
            text::sanitize(&crate::describe::trouble(what))
        ),
        None => String::new(),
    };
    spans.push(Span::styled(
        cell(&failure, cols.fail_w),
        if failed_recently(app) {
            base.patch(t.bad())
        } else {
            base.patch(t.dim())
        },
    ));
    Paragraph::new(Line::from(spans)).render(area, buf);
    if let Some(x) = trend_x {
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
                        x: area.x + x,
                        width: (TREND_W - 1) as u16,
                        ..area
                    },
                    buf,
                );
        }
    }
}

/// The selected endpoint's Connection and Reconnects panes, side by side, in the room the
/// table leaves.
fn render_selected(fleet: &FleetApp, area: Rect, buf: &mut Buffer) {
    let app = &fleet.apps[fleet.selected];
    let t = &fleet.theme;
    let title = Line::from(vec![
        Span::styled(
            format!(
                " {} ",
                text::sanitize(app.opts.name.as_deref().unwrap_or(""))
            ),
            t.title(),
        ),
        Span::styled(text::sanitize(&app.opts.url), t.dim()),
        Span::styled("  Enter opens it", t.dim()),
    ]);
    Paragraph::new(super::cut(title, area.width as usize)).render(Rect { height: 1, ..area }, buf);
    let rest = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let half = rest.width / 2;
    super::connection::render(
        app,
        Rect {
            width: half.saturating_sub(1),
            ..rest
        },
        buf,
    );
    super::reconnects::render(
        app,
        Rect {
            x: rest.x + half + 1,
            width: rest.width - half - 1,
            ..rest
        },
        buf,
    );
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
        ("s", "sort"),
        ("/", "filter"),
        ("p", "ping"),
        ("R", "reconnect"),
    ];
    super::key_hints(&mut v, keys, t, area.width);
    Paragraph::new(Line::from(v)).render(area, buf);
}
