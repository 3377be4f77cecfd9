//! One file per pane; each draws itself from `&App` into its region.

pub mod confirm;
pub mod connection;
pub mod detail;
pub mod footer;
pub mod help;
pub mod input;
pub mod log;
pub mod overview;
pub mod reconnects;
pub mod title;
pub mod traffic;
pub mod uptime;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::theme::Theme;

/// Width of the label column in the small panes.
pub const LABEL: usize = 8;

/// A pane's frame: its title on a top rule; returns the area inside.
pub fn frame(theme: &Theme, title: &str, area: Rect, buf: &mut Buffer) -> Rect {
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border())
        .title(Span::styled(format!(" {title} "), theme.title()));
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// A line with a dim label column and values.
pub fn labeled<'a>(theme: &Theme, label: &str, values: Vec<Span<'a>>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.dim())];
    spans.extend(values);
    Line::from(spans)
}

/// Draws lines top-down, clipped to the area.
pub fn lines(lines: Vec<Line<'_>>, area: Rect, buf: &mut Buffer) {
    let n = area.height as usize;
    Paragraph::new(lines.into_iter().take(n).collect::<Vec<_>>()).render(area, buf);
}

/// A plain span.
pub fn span<'a>(text: impl Into<std::borrow::Cow<'a, str>>, style: Style) -> Span<'a> {
    Span::styled(text, style)
}
