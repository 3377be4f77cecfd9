//! One file per pane; each draws itself from `&App` into its region.

pub mod commands;
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
pub(crate) const LABEL: usize = 8;

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

/// Most rows a line that matters (a failure, its cause, a pattern) wraps over.
pub(crate) const WRAP_MAX: usize = 3;

/// A line of a pane, and whether it matters enough to wrap rather than be cut.
pub struct Row<'a> {
    /// The line.
    pub line: Line<'a>,
    /// It wraps over up to `WRAP_MAX` rows (indented past the label), and other lines make
    /// room for it.
    pub whole: bool,
    /// Said after the line when it fits (`(2.4s ago)`): left out rather than cutting the line.
    pub tail: Vec<Span<'a>>,
}

impl<'a> From<Line<'a>> for Row<'a> {
    fn from(line: Line<'a>) -> Self {
        Row {
            line,
            whole: false,
            tail: Vec::new(),
        }
    }
}

impl<'a> Row<'a> {
    /// A line that wraps rather than being cut.
    pub fn whole(line: Line<'a>) -> Row<'a> {
        Row {
            line,
            whole: true,
            tail: Vec::new(),
        }
    }

    /// A line that wraps rather than being cut, and what follows it when there is room.
    pub(crate) fn whole_then(line: Line<'a>, tail: Vec<Span<'a>>) -> Row<'a> {
        Row {
            line,
            whole: true,
            tail,
        }
    }

    /// The line with its tail when that fits in `WRAP_MAX` rows at `width`, else without.
    fn fitted(&self, width: usize) -> Line<'a> {
        let mut with = self.line.clone();
        with.spans.extend(self.tail.iter().cloned());
        if self.tail.is_empty() || wrap_parts(with.clone(), width).len() <= WRAP_MAX {
            with
        } else {
            self.line.clone()
        }
    }

    /// Rows it takes at `width` columns.
    fn height(&self, width: usize) -> usize {
        if self.whole {
            wrap_parts(self.fitted(width), width).len().min(WRAP_MAX)
        } else {
            1
        }
    }
}

/// Rows a pane's lines need at `width` so that every line that matters is whole: the lines
/// down to the last of them, each at its wrapped height.
pub fn needed(rows: &[Row<'_>], width: usize) -> usize {
    let last = rows.iter().rposition(|r| r.whole).map_or(0, |i| i + 1);
    rows[..last].iter().map(|r| r.height(width)).sum()
}

/// Draws rows top-down: a line that matters wraps over up to `WRAP_MAX` rows and the lines
/// after it give way; other lines go on below when rows are spare, else are cut with `…`.
pub fn rows(rows: Vec<Row<'_>>, area: Rect, buf: &mut Buffer) {
    let n = area.height as usize;
    let width = area.width as usize;
    let heights: Vec<usize> = rows.iter().map(|r| r.height(width)).collect();
    // Lines that do not matter give way from the bottom up until the rest fits.
    let mut shown = vec![true; rows.len()];
    let mut total: usize = heights.iter().sum();
    for i in (0..rows.len()).rev() {
        if total <= n {
            break;
        }
        if !rows[i].whole {
            shown[i] = false;
            total -= heights[i];
        }
    }
    let mut out: Vec<Line> = Vec::with_capacity(n);
    for (row, _) in rows.into_iter().zip(shown).filter(|(_, s)| *s) {
        let room = n - out.len();
        if room == 0 {
            break;
        }
        if !row.whole {
            out.push(cut(row.line, width));
            continue;
        }
        let mut parts = wrap_parts(row.fitted(width), width);
        let keep = room.min(WRAP_MAX);
        if parts.len() > keep {
            // Out of rows: the last one kept ends with `…`, never silently.
            let mut rest: Vec<Span> = Vec::new();
            for (j, l) in parts.drain(keep - 1..).enumerate() {
                if j > 0 {
                    rest.push(Span::raw(" "));
                }
                rest.extend(l.spans);
            }
            let room = if keep == 1 { width } else { width - LABEL };
            parts.push(cut(Line::from(rest), room));
        }
        out.extend(indent(parts));
    }
    Paragraph::new(out).render(area, buf);
}

/// A line in rows of at most `width` columns, broken between words (never between a number
/// and what follows it: `3 days`, `1012 service`), later rows indented past the label column.
pub fn wrap(line: Line<'_>, width: usize) -> Vec<Line<'static>> {
    indent(wrap_parts(line, width))
}

/// Rows after the first indented past the label column.
fn indent(parts: Vec<Line<'static>>) -> Vec<Line<'static>> {
    parts
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            if i > 0 {
                l.spans.insert(0, Span::raw(" ".repeat(LABEL)));
            }
            l
        })
        .collect()
}

/// The rows of `wrap` before indenting: the first `width` wide, the others `width - LABEL`.
fn wrap_parts(line: Line<'_>, width: usize) -> Vec<Line<'static>> {
    let cells: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    let width = width.max(LABEL + 8);
    let mut out: Vec<Vec<(char, Style)>> = Vec::new();
    let mut start = 0;
    let mut first = true;
    while start < cells.len() {
        let room = if first { width } else { width - LABEL };
        let end = (start + room).min(cells.len());
        let cut_at = if end == cells.len() {
            end
        } else {
            // The last space in reach that is a place to break.
            (start + 1..=end)
                .rev()
                .find(|&i| cells[i].0 == ' ' && !cells[i - 1].0.is_ascii_digit())
                .unwrap_or(end)
        };
        out.push(cells[start..cut_at].to_vec());
        start = cut_at;
        while start < cells.len() && cells[start].0 == ' ' {
            start += 1;
        }
        first = false;
    }
    out.into_iter()
        .map(|row| {
            let mut spans: Vec<Span<'static>> = Vec::new();
            for (c, style) in row {
                match spans.last_mut() {
                    Some(last) if last.style == style => last.content.to_mut().push(c),
                    _ => spans.push(Span::styled(c.to_string(), style)),
                }
            }
            Line::from(spans)
        })
        .collect()
}

/// A line with a dim label column and values.
pub(crate) fn labeled<'a>(theme: &Theme, label: &str, values: Vec<Span<'a>>) -> Line<'a> {
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
pub(crate) fn cut_text(text: &str, width: usize) -> String {
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
pub(crate) fn key_hints<'a>(v: &mut Vec<Span<'a>>, keys: &[(&str, &str)], t: &Theme, width: u16) {
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

/// A text in rows of at most `width` characters, broken between words (a word longer than a
/// row is broken where it must: a path).
pub(crate) fn wrap_plain(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let n = line.chars().count();
        if n > 0 && n + 1 + word.len() > width {
            out.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            let rest = word.split_off(width);
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            out.push(word.iter().collect());
            word = rest;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.extend(word);
    }
    out.push(line);
    out
}

/// A plain span.
pub(crate) fn span<'a>(text: impl Into<std::borrow::Cow<'a, str>>, style: Style) -> Span<'a> {
    Span::styled(text, style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_wraps_between_words_and_breaks_only_what_is_too_long() {
        assert_eq!(
            wrap_plain("send the line or run a command", 12),
            ["send the", "line or run", "a command"]
        );
        assert_eq!(wrap_plain("short", 20), ["short"]);
        assert_eq!(
            wrap_plain("to /a/very/long/path/name", 10),
            ["to", "/a/very/lo", "ng/path/na", "me"]
        );
    }

    #[test]
    fn a_line_that_matters_wraps_without_breaking_a_number_from_its_unit() {
        let line = Line::from(vec![
            Span::raw("last    "),
            Span::raw("closed by server: 1012 service restart"),
            Span::raw(" (8.0s ago)"),
        ]);
        let rows: Vec<String> = wrap(line, 30)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(
            rows,
            [
                "last    closed by server:",
                "        1012 service restart",
                "        (8.0s ago)"
            ]
        );
        for r in &rows {
            assert!(r.chars().count() <= 30, "{r}");
        }
    }
}
