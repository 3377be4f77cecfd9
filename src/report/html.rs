//! The report as one self-contained HTML page: the same document as the Markdown, with the
//! availability over time and the RTT drawn as inline SVG. No scripts, fonts or other files:
//! it opens the same from a ticket attachment on a machine with no network. Every text from
//! the network is escaped (and its control characters made visible) before it is written.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::document::{Block, Chart, Document};
use crate::model::Seen;
use crate::text;

const WIDTH: f64 = 960.0;

/// The document as an HTML page.
pub(super) fn render(doc: &Document) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(&doc.title));
    for block in &doc.blocks {
        match block {
            Block::Heading(level, h) => {
                let _ = writeln!(body, "<h{level}>{}</h{level}>", escape(h));
            }
            Block::Text(t) => {
                let _ = writeln!(body, "<p>{}</p>", escape(t));
            }
            Block::Fields(fields) => {
                let _ = writeln!(
                    body,
                    "<pre class=\"paste\">{}</pre>",
                    escape_multiline(&super::markdown::fields_text(fields))
                );
            }
            Block::Table { head, rows } => {
                body.push_str("<table>\n<tr>");
                for h in head {
                    let _ = write!(body, "<th>{}</th>", escape(h));
                }
                body.push_str("</tr>\n");
                for row in rows {
                    body.push_str("<tr>");
                    for c in row {
                        let _ = write!(body, "<td>{}</td>", escape(c));
                    }
                    body.push_str("</tr>\n");
                }
                body.push_str("</table>\n");
            }
            Block::List(items) => {
                body.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(body, "<li>{}</li>", escape(item));
                }
                body.push_str("</ul>\n");
            }
            Block::Pre(t) => {
                let _ = writeln!(body, "<pre>{}</pre>", escape_multiline(t));
            }
            Block::Chart(chart) => body.push_str(&draw(chart)),
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>wsmon: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(&doc.title)
    )
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;\
padding:0 1em;color:#1d1f21}h1{font-size:1.35em}h2{border-bottom:1px solid #ddd;margin-top:1.6em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;\
text-align:left;vertical-align:top}td:first-child{white-space:nowrap}th{background:#f4f4f4}pre{background:#f6f8fa;padding:.6em;\
overflow-x:auto;font-size:12px}pre.paste{font-size:13px;border-left:3px solid #2f6fd1}svg{display:block;margin:.4em 0}\
.up{fill:#2e9e44}.stale{fill:#e0a100}.down{fill:#d1343a}.unprobed{fill:#c8c8c8}.drop{stroke:#d1343a;stroke-width:2}.axis{fill:#666;\
font-size:11px}.rtt{fill:none;stroke:#2f6fd1;stroke-width:1.5}.grid{stroke:#e3e3e3}";

fn draw(chart: &Chart) -> String {
    let (from, to) = match chart {
        Chart::Availability { from, to, .. } | Chart::Rtt { from, to, .. } => (*from, *to),
    };
    let span = to
        .duration_since(from)
        .unwrap_or_default()
        .as_secs_f64()
        .max(0.001);
    let x = |t: SystemTime| -> f64 {
        t.duration_since(from)
            .unwrap_or_default()
            .as_secs_f64()
            .min(span)
            / span
            * WIDTH
    };
    let mut out = String::new();
    match chart {
        Chart::Availability { spans, drops, .. } => {
            let _ = write!(
                out,
                "<svg viewBox=\"0 0 {WIDTH} 58\" width=\"100%\" role=\"img\" aria-label=\"up, down and not probed over time\">"
            );
            for (a, b, seen, words) in spans {
                let class = match seen {
                    Seen::Up => "up",
                    Seen::Stale => "stale",
                    Seen::Down => "down",
                    Seen::Unprobed => "unprobed",
                };
                let (x0, x1) = (x(*a), x(*b));
                let _ = write!(
                    out,
                    "<rect class=\"{class}\" x=\"{x0:.1}\" y=\"6\" width=\"{:.1}\" height=\"26\"><title>{} to {}: {}</title></rect>",
                    (x1 - x0).max(1.0),
                    text::timestamp(*a),
                    text::timestamp(*b),
                    escape(words)
                );
            }
            for (at, words) in drops {
                let _ = write!(
                    out,
                    "<line class=\"drop\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"2\" y2=\"36\"><title>{} {}</title></line>",
                    text::timestamp(*at),
                    escape(words),
                    x = x(*at)
                );
            }
            let _ = writeln!(
                out,
                "<text class=\"axis\" x=\"0\" y=\"52\">{}</text><text class=\"axis\" x=\"{WIDTH}\" y=\"52\" text-anchor=\"end\">{} ({})</text></svg>",
                text::timestamp(from),
                text::timestamp(to),
                text::duration(to.duration_since(from).unwrap_or_default())
            );
            out.push_str(
                "<p>Green: connected (amber: connected but stale). Red: seen down, a dial failed. \
                 Grey: not probed, wsmon was waiting or closed. A red line: a drop. Hover for details.</p>\n",
            );
        }
        Chart::Rtt { points, .. } => {
            let max = points
                .iter()
                .map(|(_, ms)| *ms)
                .fold(0.0, f64::max)
                .max(0.001);
            let (h, top, bottom) = (170.0, 10.0, 150.0);
            let y = |ms: f64| bottom - ms / max * (bottom - top);
            let _ = write!(
                out,
                "<svg viewBox=\"0 0 {WIDTH} {h}\" width=\"100%\" role=\"img\" aria-label=\"round-trip time over time\">\
                 <line class=\"grid\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{top}\" y2=\"{top}\"/>\
                 <line class=\"grid\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{bottom}\" y2=\"{bottom}\"/>\
                 <polyline class=\"rtt\" points=\""
            );
            for (at, ms) in points {
                let _ = write!(out, "{:.1},{:.1} ", x(*at), y(*ms));
            }
            let _ = writeln!(
                out,
                "\"/><text class=\"axis\" x=\"2\" y=\"{}\">{} ms</text><text class=\"axis\" x=\"2\" y=\"{}\">0 ms</text>\
                 <text class=\"axis\" x=\"{WIDTH}\" y=\"{}\" text-anchor=\"end\">{} samples drawn</text></svg>",
                top + 11.0,
                text::millis(std::time::Duration::from_secs_f64(max / 1000.0)),
                bottom - 3.0,
                h - 4.0,
                points.len()
            );
        }
    }
    out
}

/// Text for HTML: control characters made visible, markup characters escaped.
fn escape(s: &str) -> String {
    html_escape(&text::sanitize(s))
}

/// Like `escape`, keeping line breaks.
fn escape_multiline(s: &str) -> String {
    html_escape(&text::sanitize_multiline(s))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_html_with_every_text_escaped() {
        let doc = Document {
            title: "Verdict <1>".into(),
            blocks: vec![
                Block::Table {
                    head: vec!["k", "v"],
                    rows: vec![vec!["x".into(), "a|b \u{1b}]0;TITLE\u{7}".into()]],
                },
                Block::List(vec!["one".into()]),
                Block::Pre("x <y>\nz".into()),
            ],
        };
        let html = render(&doc);
        assert!(html.contains("<h1>Verdict &lt;1&gt;</h1>\n<table>\n<tr><th>k</th><th>v</th></tr>\n<tr><td>x</td><td>a|b "), "{html}");
        assert!(
            !html.contains('\u{1b}') && !html.contains('\u{7}'),
            "{html}"
        );
        assert!(
            html.contains("<ul>\n<li>one</li>\n</ul>\n<pre>x &lt;y&gt;\nz</pre>"),
            "{html}"
        );
    }
}
