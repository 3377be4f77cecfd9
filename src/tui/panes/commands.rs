//! The list of `/commands` shown above the input line while one is typed: the commands that
//! match what is typed so far, with their keys, so a command is found without the help.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::keymap::Keymap;
use crate::tui::app::{App, Focus};

/// Most commands listed at once.
const SHOWN: usize = 10;

/// The `/` being typed, without the slash, while it is still a command's name.
pub fn typed(app: &App) -> Option<&str> {
    if app.focus != Focus::Input || app.overlay.is_some() {
        return None;
    }
    app.input
        .value()
        .strip_prefix('/')
        .filter(|p| !p.starts_with('/') && !p.contains(char::is_whitespace))
}

/// Draws the list over the bottom of `log` (the log's own rows stay below it when it closes).
pub fn render(app: &App, log: Rect, buf: &mut Buffer) {
    let Some(prefix) = typed(app) else { return };
    let t = &app.opts.theme;
    let map = &app.opts.keymap;
    let found = Keymap::completions(prefix);
    let mut lines: Vec<Line> = found
        .iter()
        .take(SHOWN)
        .map(|a| {
            let name = if a.args.is_empty() {
                format!("/{}", a.name)
            } else {
                format!("/{} {}", a.name, a.args)
            };
            Line::from(vec![
                Span::styled(format!(" {name:<27}"), t.key()),
                Span::styled(format!("{:<16}", map.label(a)), t.value()),
                Span::styled(a.help, t.dim()),
            ])
        })
        .collect();
    if found.len() > SHOWN {
        lines.push(Line::from(Span::styled(
            format!(
                " … {} more: type on to narrow, /help lists all",
                found.len() - SHOWN
            ),
            t.dim(),
        )));
    }
    if found.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(" no command starts with /{prefix}: /help lists them; // sends a text that starts with /"),
            t.warn(),
        )));
    }
    let h = (lines.len() as u16 + 1).min(log.height);
    if h < 2 {
        return;
    }
    let r = Rect {
        y: log.bottom() - h,
        height: h,
        ..log
    };
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::new()
                .borders(Borders::TOP)
                .border_style(t.border())
                .title(Span::styled(" commands · Tab completes ", t.title())),
        )
        .render(r, buf);
}
