//! F1: every key binding and input command, scrollable when it does not fit.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::bindings;
use crate::tui::theme::Theme;

/// Draws the help over everything: the fixed keys, then every action with its keys and its
/// `/command` (one table, so the help cannot disagree with the keys).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let keys: Vec<(String, String)> = bindings::help(
        bindings::DASHBOARD,
        app.opts.replay,
        app.opts.name.is_some(),
    )
    .into_iter()
    .map(|(k, w)| (k.to_string(), w.to_string()))
    .collect();
    let actions = bindings::action_help(&app.opts.keymap, app.opts.replay);
    let heading = if app.opts.replay {
        "Actions: a key, or a chord where function keys do not reach"
    } else {
        "Actions: a key, a chord (where F-keys do not reach), or the /command typed"
    };
    render_box(
        &app.opts.theme,
        &keys,
        (heading, &actions),
        app.help_scroll,
        area,
        buf,
    );
}

/// The rows of one table (keys or commands): the label, then its text wrapped beside it.
fn rows<'a>(t: &Theme, items: &[(String, String)], label_w: usize, width: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for (label, what) in items {
        for (i, part) in super::wrap_plain(what, width.saturating_sub(label_w + 2))
            .into_iter()
            .enumerate()
        {
            let key = if i == 0 { label.as_str() } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("  {key:<label_w$}"), t.key()),
                Span::raw(part),
            ]));
        }
    }
    lines
}

/// Draws a help box of these keys and actions, centred in `area`, from line `scroll`.
pub(crate) fn render_box(
    t: &Theme,
    keys: &[(String, String)],
    (heading, actions): (&str, &[(String, String)]),
    scroll: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let w = 96.min(area.width);
    let inner_w = w.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = vec![Line::from(Span::styled("Keys", t.title()))];
    lines.extend(rows(t, keys, 17, inner_w));
    if !actions.is_empty() {
        lines.push(Line::from(Span::styled(heading.to_string(), t.title())));
        lines.extend(rows(t, actions, 17, inner_w));
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
