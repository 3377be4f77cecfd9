//! `?`: every key binding and input command.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::bindings;
use crate::tui::input::COMMANDS;
use crate::tui::theme::Theme;

/// Draws the help over everything.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let keys = bindings::help(
        bindings::DASHBOARD,
        app.opts.replay,
        app.opts.name.is_some(),
    );
    render_box(&app.opts.theme, &keys, area, buf);
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
