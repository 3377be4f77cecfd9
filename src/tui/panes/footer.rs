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
