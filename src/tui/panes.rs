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

/// Draws lines top-down in the area. A line too long for it goes on below when the area has
/// rows to spare (indented past the label), and is cut with `…` when it has not: a cut is
/// never silent.
pub fn lines(lines: Vec<Line<'_>>, area: Rect, buf: &mut Buffer) {
    let n = area.height as usize;
    let width = area.width as usize;
    let mut spare = n.saturating_sub(lines.len());
    let mut out: Vec<Line> = Vec::with_capacity(n);
    for line in lines {
        if out.len() == n {
            break;
        }
        if line.width() <= width {
            out.push(line);
            continue;
        }
        if spare > 0 && out.len() + 1 < n {
            spare -= 1;
            let (head, tail) = split_line(line, width, true);
            out.push(head);
            let mut rest = vec![Span::raw(" ".repeat(LABEL))];
            rest.extend(tail.spans);
            out.push(cut(Line::from(rest), width));
        } else {
            out.push(cut(line, width));
        }
    }
    Paragraph::new(out).render(area, buf);
}

/// The line in at most `width` columns, its last one `…` when it was longer.
pub fn cut(line: Line<'_>, width: usize) -> Line<'_> {
    if line.width() <= width {
        return line;
    }
    let (mut head, _) = split_line(line, width.saturating_sub(1), false);
    let style = head.spans.last().map(|s| s.style).unwrap_or_default();
    head.spans.push(Span::styled("…", style));
    head
}

/// A text in at most `width` characters, ending in `…` when it was longer.
pub fn cut_text(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The first `width` columns of a line, and the rest; `at_word`: broken at a space near the
/// end when there is one, so the words of a wrapped line stay whole.
fn split_line(line: Line<'_>, width: usize, at_word: bool) -> (Line<'_>, Line<'_>) {
    let mut head: Vec<Span> = Vec::new();
    let mut tail: Vec<Span> = Vec::new();
    let mut used = 0usize;
    for span in line.spans {
        if !tail.is_empty() || used >= width {
            tail.push(span);
            continue;
        }
        let w = span.width();
        if used + w <= width {
            used += w;
            head.push(span);
            continue;
        }
        // This span crosses the edge: split it, at a space if one is in the last third.
        let room = width - used;
        let chars: Vec<char> = span.content.chars().collect();
        let mut at = room.min(chars.len());
        if at_word
            && let Some(sp) = chars[..at].iter().rposition(|c| *c == ' ')
            && sp * 3 >= at * 2
            && sp > 0
        {
            at = sp + 1;
        }
        let (a, b): (String, String) = (chars[..at].iter().collect(), chars[at..].iter().collect());
        used = width;
        head.push(Span::styled(a, span.style));
        tail.push(Span::styled(b, span.style));
    }
    (Line::from(head), Line::from(tail))
}

/// Appends key hints (` F1 help`) while they fit in `width` with what is there already:
/// whole keys only, one that does not fit is left out rather than cut.
pub fn key_hints<'a>(v: &mut Vec<Span<'a>>, keys: &[(&str, &str)], t: &Theme, width: u16) {
    let mut used: usize = v.iter().map(|s| s.width()).sum();
    for (key, what) in keys {
        let (k, w) = (format!(" {key}"), format!(" {what} "));
        let need = k.chars().count() + w.chars().count();
        if used + need > width as usize {
            break;
        }
        used += need;
        v.push(Span::styled(k, t.key()));
        v.push(Span::styled(w, t.dim()));
    }
}

/// A plain span.
pub fn span<'a>(text: impl Into<std::borrow::Cow<'a, str>>, style: Style) -> Span<'a> {
    Span::styled(text, style)
}
