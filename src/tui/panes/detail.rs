//! Enter on a log row: the whole message, as JSON, hex or wrapped text, scrollable.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::tui::app::{App, Detail};
use crate::tui::theme::{JsonToken, Theme};

/// The box the detail view uses on a screen of `area`: everything between the title line
/// and the footer, so nothing of the panes peeks out beside it.
pub(crate) fn area_for(area: Rect) -> Rect {
    Rect {
        x: area.x,
        y: area.y + 1,
        width: area.width,
        height: area.height.saturating_sub(2),
    }
}

/// Lines the body takes when wrapped to `width`.
pub(crate) fn wrapped_lines(body: &str, width: usize) -> usize {
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
    let body: Text = if d.format == "JSON" {
        d.body
            .lines()
            .map(|l| json_line(l, t))
            .collect::<Vec<_>>()
            .into()
    } else {
        Text::raw(d.body.as_str())
    };
    Paragraph::new(body)
        .wrap(Wrap { trim: false })
        .scroll((scroll.min(u16::MAX as usize) as u16, 0))
        .block(block)
        .render(r, buf);
}

/// One line of pretty-printed JSON in colour: keys, strings, numbers, literals, punctuation.
fn json_line<'a>(line: &'a str, t: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let token = match b[i] {
            b' ' => {
                while i < b.len() && b[i] == b' ' {
                    i += 1;
                }
                None
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                let key = line[i..].trim_start().starts_with(':');
                Some(if key { JsonToken::Key } else { JsonToken::Str })
            }
            b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                i += 1;
                Some(JsonToken::Punct)
            }
            c => {
                while i < b.len() && !matches!(b[i], b',' | b' ' | b']' | b'}') {
                    i += 1;
                }
                Some(if c == b'-' || c.is_ascii_digit() {
                    JsonToken::Num
                } else {
                    JsonToken::Lit
                })
            }
        };
        // Splitting on ASCII bytes keeps UTF-8 whole: every split is next to ASCII.
        let piece = &line[start..i];
        spans.push(match token {
            Some(k) => Span::styled(piece, t.json(k)),
            None => Span::raw(piece),
        });
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_coloured_by_token() {
        let t = Theme::color();
        let line = json_line(r#"  "price": 0.10, "name": "a \"b\" é", "ok": true"#, &t);
        let kinds: Vec<(String, Option<JsonToken>)> = line
            .spans
            .iter()
            .map(|s| {
                let k = [
                    JsonToken::Key,
                    JsonToken::Str,
                    JsonToken::Num,
                    JsonToken::Lit,
                    JsonToken::Punct,
                ]
                .into_iter()
                .find(|k| t.json(*k) == s.style && s.style != ratatui::style::Style::default());
                (s.content.to_string(), k)
            })
            .filter(|(c, _)| !c.trim().is_empty())
            .collect();
        assert_eq!(
            kinds,
            [
                ("\"price\"".into(), Some(JsonToken::Key)),
                (":".into(), Some(JsonToken::Punct)),
                ("0.10".into(), Some(JsonToken::Num)),
                (",".into(), Some(JsonToken::Punct)),
                ("\"name\"".into(), Some(JsonToken::Key)),
                (":".into(), Some(JsonToken::Punct)),
                ("\"a \\\"b\\\" é\"".into(), Some(JsonToken::Str)),
                (",".into(), Some(JsonToken::Punct)),
                ("\"ok\"".into(), Some(JsonToken::Key)),
                (":".into(), Some(JsonToken::Punct)),
                ("true".into(), Some(JsonToken::Lit)),
            ]
        );
    }
}
