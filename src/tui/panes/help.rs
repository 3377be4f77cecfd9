//! `?`: every key binding and input command.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::input::COMMANDS;
use crate::tui::theme::Theme;

/// Every key binding: (keys, what they do).
pub const KEYS: [(&str, &str); 13] = [
    ("↑ ↓  k j", "move one message; moving up pauses following"),
    ("PgUp PgDn  wheel", "move a page / three rows"),
    ("Home g", "oldest message"),
    ("End G", "newest message, and follow again"),
    (
        "Enter",
        "detail: JSON pretty-printed, hex for binary, wrapped text",
    ),
    ("/  n  N", "search; next older hit; next newer hit"),
    ("f", "filter: all, in only, out only, events only"),
    (
        "Esc",
        "clear the search, follow again, then back to the fleet",
    ),
    ("p  R", "ping now (an RTT sample); reconnect now"),
    (
        "Tab  i",
        "type a message: Enter sends, Esc leaves, ↑↓ history",
    ),
    (
        "r  d",
        "record to a file (again: stop); write the diagnostic report",
    ),
    (
        "Space + - .",
        "in a replay: pause, faster, slower, one event",
    ),
    ("?  q  Ctrl-C", "this help; quit"),
];

/// Keys of the fleet overview.
pub const FLEET_KEYS: [(&str, &str); 10] = [
    ("↑ ↓  k j", "move the cursor; PgUp PgDn Home End jump"),
    ("Enter", "open the endpoint's dashboard (Esc comes back)"),
    ("Tab  i", "open it and type a message to it"),
    (
        "s",
        "sort: problems first, name, availability, RTT p50, reconnects",
    ),
    ("/", "filter by name or URL (Enter keeps it, Esc clears it)"),
    ("p  R", "ping the endpoint now; reconnect it now"),
    (
        "/broadcast",
        "in an endpoint's input line: send to all open ones",
    ),
    (
        "r  d",
        "in an endpoint's dashboard: record it; write its report",
    ),
    ("?", "this help"),
    ("q  Ctrl-C", "quit"),
];

/// Draws the help over everything.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    render_box(&app.opts.theme, &KEYS, area, buf);
}

/// Draws a help box of these keys and the input commands, centred in `area`.
pub fn render_box(t: &Theme, keys: &[(&str, &str)], area: Rect, buf: &mut Buffer) {
    let mut lines: Vec<Line> = vec![Line::from(Span::styled("Keys", t.title()))];
    for (k, what) in keys {
        lines.push(Line::from(vec![
            Span::styled(format!("  {k:<18}"), t.key()),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "Commands in the input line",
        t.title(),
    )));
    for (cmd, what) in COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {cmd:<24}"), t.key()),
            Span::raw(what),
        ]));
    }
    let h = (lines.len() as u16 + 2).min(area.height);
    let w = 84.min(area.width);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(t.border())
                .title(Span::styled(" wsmon keys · Esc closes ", t.title())),
        )
        .render(r, buf);
}
