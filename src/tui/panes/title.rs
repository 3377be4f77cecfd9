//! The top line: state badge, URL, how long in this state, and standing warnings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::model::{ConnState, Health};
use crate::text;
use crate::tui::app::App;

/// The badge text for a state: `OPEN`, `STALE 31s`, `OPEN · PINGS UNANSWERED ×3`,
/// `WAITING 4.2s · FLAPPING`, `CONNECTING #3`.
pub(crate) fn badge_text(app: &App) -> String {
    let health = app.stats().health(app.now);
    if let Health::Stale { silent } = health {
        return format!("STALE {}", text::duration(silent));
    }
    let state = state_text(app);
    match health {
        Health::PingsUnanswered { .. } | Health::Flapping => format!(
            "{state} · {}",
            crate::describe::health_badge(health).unwrap_or_default()
        ),
        _ => state,
    }
}

fn state_text(app: &App) -> String {
    match &app.stats().state {
        ConnState::Waiting { until, .. } => {
            let left = until.duration_since(app.now).unwrap_or_default();
            format!("WAITING {}", text::duration(left))
        }
        ConnState::Connecting { attempt } if *attempt > 1 => format!("CONNECTING #{attempt}"),
        other => other.label().to_string(),
    }
}

/// Draws the title line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let state = &app.stats().state;
    let mut left = vec![
        Span::styled(" wsmon ", t.title()),
        Span::styled(
            format!(" {} ", badge_text(app)),
            t.badge(state, app.stats().health(app.now).degraded()),
        ),
    ];
    let since = match state {
        ConnState::Open => app
            .stats()
            .uptime(app.now)
            .map(|u| format!(" up {}", text::duration(u))),
        _ => match (
            app.stats().down_for(app.now),
            app.stats().outage_for(app.now),
        ) {
            (Some(d), _) => Some(format!(" down {}", text::duration(d))),
            (None, Some(o)) => Some(format!(" reconnecting {}", text::duration(o))),
            (None, None) => None,
        },
    };
    if let Some(s) = since {
        left.push(Span::styled(s, t.state(state)));
    }
    if let Some(name) = &app.opts.name {
        left.push(Span::styled(
            format!("  {}", text::sanitize(name)),
            t.title(),
        ));
    }
    left.push(Span::styled(
        format!("  {}", text::sanitize(&app.opts.url)),
        t.value(),
    ));
    if app.opts.demo {
        left.push(Span::styled("  (demo server)", t.dim()));
    }
    let mut right: Vec<Span> = Vec::new();
    if let Some(r) = &app.replay {
        let what = if r.at.ended {
            " ⏹ REPLAY ENDED ".to_string()
        } else if r.paused {
            " ⏸ REPLAY PAUSED ".to_string()
        } else {
            format!(" ⏵ REPLAY ×{} ", crate::text::speed(r.speed))
        };
        right.push(Span::styled(what, t.warn()));
    }
    if let Some(rec) = &app.recording {
        let what = match &rec.error {
            Some(_) => " ● REC ERROR ".to_string(),
            None => format!(" ● REC {} ", text::bytes(rec.bytes)),
        };
        right.push(Span::styled(what, t.bad()));
    }
    right.extend(
        app.warnings
            .iter()
            .map(|w| Span::styled(format!(" ⚠ {w} "), t.bad())),
    );
    let right_w: u16 = right.iter().map(|s| s.width() as u16).sum();
    let room = if right_w > 0 && right_w < area.width {
        area.width - right_w - 1
    } else {
        area.width
    };
    Paragraph::new(super::cut(Line::from(left), room as usize)).render(area, buf);
    if right_w > 0 && right_w < area.width {
        let r = Rect {
            x: area.x + area.width - right_w,
            width: right_w,
            ..area
        };
        Paragraph::new(Line::from(right)).render(r, buf);
    }
}
