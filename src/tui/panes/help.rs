//! F1: every key binding and input command, scrollable when it does not fit.

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
    // A replay has no input line: its commands would do nothing.
    let commands: &[(&str, &str)] = if app.opts.replay { &[] } else { &COMMANDS };
    render_box(&app.opts.theme, &keys, commands, app.help_scroll, area, buf);
}

/// `text` in lines of at most `width` characters, broken between words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let n = line.chars().count();
        if n > 0 && n + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// The rows of one table (keys or commands): the label, then its text wrapped beside it.
fn rows<'a>(t: &Theme, items: &[(&str, &str)], label_w: usize, width: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for (label, what) in items {
        for (i, part) in wrap(what, width.saturating_sub(label_w + 2))
            .into_iter()
            .enumerate()
        {
            let key = if i == 0 { *label } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("  {key:<label_w$}"), t.key()),
                Span::raw(part),
            ]));
        }
    }
    lines
}

/// Draws a help box of these keys and input commands, centred in `area`, from line `scroll`.
pub fn render_box(
    t: &Theme,
    keys: &[(&str, &str)],
    commands: &[(&str, &str)],
    scroll: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let w = 96.min(area.width);
    let inner_w = w.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = vec![Line::from(Span::styled("Keys", t.title()))];
    lines.extend(rows(t, keys, 20, inner_w));
    if !commands.is_empty() {
        lines.push(Line::from(Span::styled(
            "Commands: type them in the input line",
            t.title(),
        )));
        lines.extend(rows(t, commands, 27, inner_w));
    }
    let h = (lines.len() as u16 + 2).min(area.height);
    let shown = h.saturating_sub(2) as usize;
    let scroll = scroll.min(lines.len().saturating_sub(shown));
    let more = lines.len() > shown;
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(r, buf);
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border())
        .title(Span::styled(" wsmon keys · Esc closes ", t.title()));
    if more {
        block = block.title_bottom(Span::styled(
            format!(
                " ↑↓ PgUp PgDn scroll · {}-{} of {} ",
                scroll + 1,
                (scroll + shown).min(lines.len()),
                lines.len()
            ),
            t.dim(),
        ));
    }
    Paragraph::new(lines)
        .scroll((scroll as u16, 0))
        .block(block)
        .render(r, buf);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_between_words() {
        assert_eq!(
            wrap("send the line or run a command", 12),
            ["send the", "line or run", "a command"]
        );
        assert_eq!(wrap("short", 20), ["short"]);
    }
}
