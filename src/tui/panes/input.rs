//! The input line: the message or slash command being typed (on a live dashboard it always
//! has the keys), or a find / text-filter prompt.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use tui_input::Input;

use crate::engine::Preset;
use crate::tui::app::{App, Focus};

const PROMPT: &str = "› ";

/// The prompt and the line being typed, if something is typed here now.
fn typing(app: &App) -> Option<(&'static str, &Input)> {
    match app.focus {
        Focus::Input => Some((PROMPT, &app.input)),
        Focus::Find => Some(("find: ", &app.search_input)),
        Focus::Grep => Some(("only rows with: ", &app.search_input)),
        Focus::Log => None,
    }
}

/// One cell per character, so the cursor lands where it is drawn: a newline (a pasted
/// message of several lines) is `⏎`, a tab `→`, other control characters `·`.
fn cell(c: char) -> char {
    match c {
        '\n' => '⏎',
        '\t' => '→',
        c if c.is_control() => '·',
        c => c,
    }
}

/// What fits in `width` columns around the cursor, and the cursor's column in it.
fn window(input: &Input, width: usize) -> (String, usize) {
    let cells: Vec<char> = input.value().chars().map(cell).collect();
    let cursor = input.cursor().min(cells.len());
    let width = width.max(1);
    // Keep the cursor on screen: scroll so it sits at the right edge when it would not fit.
    let start = (cursor + 1).saturating_sub(width);
    let shown: String = cells.iter().skip(start).take(width).collect();
    let col = Span::raw(cells[start..cursor].iter().collect::<String>()).width();
    (shown, col)
}

/// Where the terminal cursor goes while typing.
pub fn cursor(app: &App, area: Rect) -> Option<(u16, u16)> {
    let (prompt, input) = typing(app)?;
    if app.overlay.is_some() {
        return None;
    }
    let p = prompt.chars().count() as u16;
    let (_, col) = window(input, area.width.saturating_sub(p + 1) as usize);
    let x = area.x + p + col as u16;
    Some((x.min(area.right().saturating_sub(1)), area.y))
}

/// Draws the line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let line = match typing(app) {
        Some((prompt, input)) if !(app.focus == Focus::Input && input.value().is_empty()) => {
            let p = prompt.chars().count() as u16;
            let (shown, _) = window(input, area.width.saturating_sub(p + 1) as usize);
            let style = if app.focus == Focus::Input {
                t.good()
            } else {
                t.hit()
            };
            Line::from(vec![Span::styled(prompt, style), Span::raw(shown)])
        }
        Some(_) => Line::from(vec![
            Span::styled(PROMPT, t.good()),
            Span::styled(
                match app.opts.preset {
                    Some(Preset::SocketIo) => {
                        "type an event: name {json} · Enter emits · ↑↓ history · /raw sends as typed · F1 keys"
                    }
                    Some(Preset::Mqtt) => {
                        "type topic payload · Enter publishes · ↑↓ history · /raw sends as typed · F1 keys"
                    }
                    Some(Preset::Stomp) => {
                        "type destination body · Enter sends · ↑↓ history · /raw sends as typed · F1 keys"
                    }
                    Some(Preset::GraphqlWs) => {
                        "type subscription {...} or a message · Enter sends · ↑↓ history · F1 keys"
                    }
                    None => "type a message · Enter sends · ↑↓ history · /help commands · F1 keys",
                },
                t.dim(),
            ),
        ]),
        None => Line::from(vec![
            Span::styled(PROMPT, t.dim()),
            Span::styled("a replay: nothing is sent from here", t.dim()),
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
