//! Quit? A box that says what quitting would end, over whatever is on screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::text;
use crate::tui::theme::Theme;

/// Draws the question centred in `area`.
pub fn render(t: &Theme, why: &str, area: Rect, buf: &mut Buffer) {
    let w = 64.min(area.width);
    let inner = w.saturating_sub(2).max(1) as usize;
    let body = format!("Quitting now: {}.", text::sanitize(why));
    let rows = body.chars().count().div_ceil(inner) as u16 + 2;
    let h = (rows + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(r, buf);
    let lines = vec![
        Line::from(Span::raw(body)),
        Line::from(""),
        Line::from(vec![
            Span::styled(" y ", t.key()),
            Span::styled("quit  ", t.dim()),
            Span::styled(" Esc ", t.key()),
            Span::styled("keep watching", t.dim()),
        ]),
    ];
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(t.warn())
                .title(Span::styled(" Quit wsmon? ", t.warn())),
        )
        .render(r, buf);
}
