//! Enter on a log row: the whole message, as JSON, hex or wrapped text, scrollable.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::tui::app::{App, Detail};

/// The box the detail view uses on a screen of `area`: everything between the title line
/// and the footer, so nothing of the panes peeks out beside it.
pub fn area_for(area: Rect) -> Rect {
    Rect {
        x: area.x,
        y: area.y + 1,
        width: area.width,
        height: area.height.saturating_sub(2),
    }
}

/// Lines the body takes when wrapped to `width`.
pub fn wrapped_lines(body: &str, width: usize) -> usize {
    let width = width.max(1);
    body.split('\n')
        .map(|l| l.chars().count().div_ceil(width).max(1))
        .sum()
}

/// Draws the detail view.
pub fn render(app: &App, d: &Detail, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let r = area_for(area);
    Clear.render(r, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border())
        .title(Span::styled(format!(" {} ", d.title), t.title()))
        .title_bottom(Span::styled(
            format!(" {} · ↑↓ PgUp PgDn scroll · Esc closes ", d.format),
            t.dim(),
        ));
    let inner = block.inner(r);
    let total = wrapped_lines(&d.body, inner.width as usize);
    let scroll = d.scroll.min(total.saturating_sub(inner.height as usize));
    Paragraph::new(d.body.as_str())
        .wrap(Wrap { trim: false })
        .scroll((scroll.min(u16::MAX as usize) as u16, 0))
        .block(block)
        .render(r, buf);
}
