//! The report as Markdown: for a ticket, a chat or a terminal.

use std::fmt::Write as _;

use super::document::{Block, Document};
use crate::text;

/// The document as Markdown.
pub(super) fn render(doc: &Document) -> String {
    let mut md = format!("# {}\n", text::sanitize(&doc.title));
    for block in &doc.blocks {
        if matches!(block, Block::Chart(_)) {
            continue;
        }
        md.push('\n');
        match block {
            Block::Heading(level, h) => {
                let _ = writeln!(
                    md,
                    "{} {}",
                    "#".repeat(usize::from(*level)),
                    text::sanitize(h)
                );
            }
            Block::Text(t) => {
                let _ = writeln!(md, "{}", text::sanitize(t));
            }
            Block::Fields(fields) => md.push_str(&code_block(&fields_text(fields))),
            Block::Table { head, rows } => {
                let _ = writeln!(md, "| {} |", head.join(" | "));
                let _ = writeln!(md, "|{}", "---|".repeat(head.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
                    let _ = writeln!(md, "| {} |", cells.join(" | "));
                }
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(md, "- {}", text::sanitize(item));
                }
            }
            Block::Pre(body) => md.push_str(&code_block(&text::sanitize_multiline(body))),
            Block::Chart(_) => {}
        }
    }
    md
}

/// Names and values in two aligned columns, each value on one line.
pub(super) fn fields_text(fields: &[(&str, String)]) -> String {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in fields {
        let _ = writeln!(out, "{k:<width$}  {}", text::sanitize(v));
    }
    out
}

/// Text for a table cell: one line, escaped, pipes kept out of the table syntax.
fn cell(s: &str) -> String {
    text::sanitize(s).replace('|', "\\|")
}

fn code_block(body: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(body) + 1).max(3));
    let nl = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}\n{body}{nl}{fence}\n")
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_markdown_that_nothing_inside_can_break() {
        let doc = Document {
            title: "Verdict\nsecond".into(),
            blocks: vec![
                Block::Fields(vec![("a", "1".into()), ("longer", "x ``` y".into())]),
                Block::Table {
                    head: vec!["k", "v"],
                    rows: vec![vec!["x".into(), "a|b".into()]],
                },
                Block::Chart(super::super::document::Chart::Rtt {
                    from: std::time::SystemTime::UNIX_EPOCH,
                    to: std::time::SystemTime::UNIX_EPOCH,
                    points: vec![],
                }),
                Block::List(vec!["one".into()]),
            ],
        };
        assert_eq!(
            render(&doc),
            "# Verdict\\nsecond\n\n````\na       1\nlonger  x ``` y\n````\n\n| k | v |\n|---|---|\n| x | a\\|b |\n\n- one\n"
        );
    }
}
