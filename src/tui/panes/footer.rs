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
        (Some(Overlay::Detail(_)), _) => &[("↑↓ PgUp PgDn", "scroll"), ("Esc", "close")],
        (None, Focus::Input) => &[
            ("Enter", "send"),
            ("Esc", "back"),
            ("↑↓", "history"),
            ("/help", "commands"),
        ],
        (None, Focus::Search) => &[("Enter", "find"), ("Esc", "cancel")],
        (None, Focus::Log) if !app.following() => &[
            ("End", "follow"),
            ("↑↓", "scroll"),
            ("Enter", "detail"),
            ("/", "search"),
            ("f", "filter"),
            ("?", "help"),
            ("q", "quit"),
        ],
        (None, Focus::Log) => &[
            ("q", "quit"),
            ("?", "help"),
            ("Tab", "type"),
            ("/", "search"),
            ("f", "filter"),
            ("↑↓", "scroll"),
            ("Enter", "detail"),
            ("p", "ping"),
            ("R", "reconnect"),
        ],
    };
    if app.opts.name.is_some() && app.at_rest() {
        v.push(Span::styled(" Esc", t.key()));
        v.push(Span::styled(" overview ", t.dim()));
    }
    for (key, what) in keys {
        v.push(Span::styled(format!(" {key}"), t.key()));
        v.push(Span::styled(format!(" {what} "), t.dim()));
    }
    Paragraph::new(Line::from(v)).render(area, buf);
}
