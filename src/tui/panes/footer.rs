//! The bottom line: a status message if there is one, then the most useful keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::text;
use crate::tui::app::{App, Focus, Overlay};

/// Draws the footer.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let mut v: Vec<Span> = Vec::new();
    if let Some((msg, level)) = app.current_status() {
        v.push(Span::styled(
            format!(" {} ", text::sanitize(msg)),
            t.level(level),
        ));
        v.push(Span::styled("│", t.border()));
    }
    let keys: &[(&str, &str)] = match (&app.overlay, app.focus) {
        (Some(Overlay::Help), _) => &[("Esc", "close")],
        (Some(Overlay::Detail(_)), _) => &[
            ("↑↓ PgUp PgDn", "scroll"),
            ("← →", "older / newer message"),
            ("y", "copy"),
            ("Esc", "close"),
        ],
        (Some(Overlay::Quit(_)), _) => &[("y", "quit"), ("Esc", "keep watching")],
        (None, Focus::Find) => &[("Enter", "find"), ("Esc", "cancel")],
        (None, Focus::Grep) => &[
            ("Enter", "show only the rows with it (empty: all)"),
            ("Esc", "cancel"),
        ],
        (None, Focus::Input) if !app.following() => &[
            ("Esc", "follow"),
            ("Shift-↑↓", "select"),
            ("Enter", "detail (or send)"),
            ("F3", "find"),
            ("Ctrl-G", "only rows with"),
            ("F1", "help"),
            ("F10", "quit"),
        ],
        (None, Focus::Input) => &[
            ("F1", "help"),
            ("F2", "filter"),
            ("F3", "find"),
            ("F4", "ping"),
            ("F5", "reconnect"),
            ("F6", "record"),
            ("F8", "last failure"),
            ("F10", "quit"),
            ("PgUp", "scroll"),
        ],
        (None, Focus::Log) if app.replay.as_ref().is_some_and(|r| r.at.ended) => &[
            ("↑↓", "scroll"),
            ("Enter", "detail"),
            ("/", "find"),
            ("f", "filter"),
            ("d", "report"),
            ("?", "help"),
            ("q", "quit"),
        ],
        (None, Focus::Log) => &[
            ("Space", "pause"),
            ("+ -", "speed"),
            (".", "step"),
            ("↑↓", "scroll"),
            ("Enter", "detail"),
            ("/", "find"),
            ("?", "help"),
            ("q", "quit"),
        ],
    };
    if let Some(pos) = replay_position(app) {
        v.push(Span::styled(format!(" {pos} "), t.value()));
        v.push(Span::styled("│", t.border()));
    }
    if app.opts.name.is_some() && app.at_rest() {
        v.push(Span::styled(" Esc", t.key()));
        v.push(Span::styled(" overview ", t.dim()));
    }
    super::key_hints(&mut v, keys, t, area.width);
    Paragraph::new(Line::from(v)).render(area, buf);
}

/// Where a replay is: `event 1,204 of 3,310 · 2m10s of 5m`, or that it has ended.
pub fn replay_position(app: &App) -> Option<String> {
    let r = app.replay.as_ref()?;
    let p = &r.at;
    let events = match p.total {
        Some(n) => format!("event {} of {}", text::count(p.done), text::count(n)),
        None => format!("event {}", text::count(p.done)),
    };
    let time = match (p.first, p.last) {
        (Some(first), Some(last)) => {
            let now = if first <= last {
                app.now.clamp(first, last)
            } else {
                first
            };
            format!(
                " · {} of {}",
                text::duration(now.duration_since(first).unwrap_or_default()),
                text::duration(last.duration_since(first).unwrap_or_default())
            )
        }
        _ => String::new(),
    };
    Some(if p.ended {
        format!(
            "ended: {} replayed{time}",
            text::counted(p.done, "event", "events")
        )
    } else {
        format!("{events}{time}")
    })
}
