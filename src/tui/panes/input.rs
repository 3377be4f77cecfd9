//! The input line: a message or slash command being typed, or a search.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::engine::Preset;
use crate::text;
use crate::tui::app::{App, Focus};

const PROMPT: &str = "› ";

/// Where the terminal cursor goes while typing.
pub fn cursor(app: &App, area: Rect) -> Option<(u16, u16)> {
    let input = match app.focus {
        Focus::Input => &app.input,
        Focus::Search => &app.search_input,
        Focus::Log => return None,
    };
    let width = area.width.saturating_sub(PROMPT.chars().count() as u16 + 1) as usize;
    let scroll = input.visual_scroll(width);
    let x = area.x
        + PROMPT.chars().count() as u16
        + (input.visual_cursor().saturating_sub(scroll)) as u16;
    Some((x.min(area.right().saturating_sub(1)), area.y))
}

/// Draws the line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let width = area.width.saturating_sub(PROMPT.chars().count() as u16 + 1) as usize;
    let line = match app.focus {
        Focus::Input | Focus::Search => {
            let (input, prompt, style) = if app.focus == Focus::Input {
                (&app.input, PROMPT, t.good())
            } else {
                (&app.search_input, "/ ", t.hit())
            };
            let scroll = input.visual_scroll(width);
            let shown: String = input.value().chars().skip(scroll).take(width).collect();
            Line::from(vec![
                Span::styled(prompt, style),
                Span::raw(text::sanitize(&shown)),
            ])
        }
        Focus::Log => Line::from(vec![
            Span::styled(PROMPT, t.dim()),
            Span::styled(
                if app.opts.preset == Some(Preset::SocketIo) {
                    "Tab or i to emit an event: name {json} · /raw sends as typed · /ping /reconnect"
                } else {
                    "Tab or i to type a message · /ping /reconnect /close /binary /clear"
                },
                t.dim(),
            ),
        ]),
    };
    Paragraph::new(line).render(area, buf);
    if app.stats().queued > 0 {
        let tag = format!(" {} queued until reconnect ", app.stats().queued);
        let w = tag.chars().count() as u16;
        if w < area.width / 2 {
            let r = Rect {
                x: area.right() - w,
                width: w,
                ..area
            };
            Paragraph::new(Span::styled(tag, t.warn())).render(r, buf);
        }
    }
}
