//! The report as one self-contained HTML page: the Markdown report's text, with the timeline
//! of up and down time and the RTT over time drawn as inline SVG. No scripts, fonts or other
//! files: it opens the same from a ticket attachment on a machine with no network.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::{ReportBuilder, Row};
use crate::text;

const WIDTH: f64 = 960.0;

/// The page for `markdown`, the report `b` wrote as of `now`.
pub fn page(b: &ReportBuilder, now: SystemTime, markdown: &str) -> String {
    let title = markdown
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("# ");
    let body = to_html(markdown, &figures(b, now));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>wsmon: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;\
padding:0 1em;color:#1d1f21}h1{font-size:1.35em}h2{border-bottom:1px solid #ddd;margin-top:1.6em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;\
text-align:left;vertical-align:top}td:first-child{white-space:nowrap}th{background:#f4f4f4}pre{background:#f6f8fa;padding:.6em;\
overflow-x:auto;font-size:12px}code{font-size:.92em}svg{display:block;margin:.4em 0}\
.up{fill:#2e9e44}.down{fill:#d1343a}.drop{stroke:#d1343a;stroke-width:2}.axis{fill:#666;\
font-size:11px}.rtt{fill:none;stroke:#2f6fd1;stroke-width:1.5}.grid{stroke:#e3e3e3}";

/// The drawn timeline and RTT chart, as HTML.
fn figures(b: &ReportBuilder, now: SystemTime) -> String {
    let Some(start) = b.stats.started else {
        return String::new();
    };
    let span = now
        .duration_since(start)
        .unwrap_or_default()
        .as_secs_f64()
        .max(0.001);
    let x = |t: SystemTime| -> f64 {
        let s = t
            .duration_since(start)
            .unwrap_or_default()
            .as_secs_f64()
            .min(span);
        s / span * WIDTH
    };
    let mut out = String::new();
    out.push_str("<h2>Up and down</h2>\n");
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {w} 58\" width=\"100%\" role=\"img\" aria-label=\"connection up and down over time\">",
        w = WIDTH
    );
    for row in &b.story.rows {
        let (from, until, class, what) = match row {
            Row::Up {
                at, until, detail, ..
            } => (
                *at,
                until.unwrap_or(now),
                "up",
                format!("connected: {detail}"),
            ),
            Row::Outage {
                at, until, steps, ..
            } => (
                *at,
                until.unwrap_or(now),
                "down",
                format!(
                    "outage: {}",
                    super::story::steps_line(steps, until.is_some())
                ),
            ),
            Row::Down { at, detail, .. } => {
                let _ = write!(
                    out,
                    "<line class=\"drop\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"2\" y2=\"36\"><title>{} {}</title></line>",
                    text::timestamp(*at),
                    escape(detail),
                    x = x(*at)
                );
                continue;
            }
        };
        let (x0, x1) = (x(from), x(until));
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{x0:.1}\" y=\"6\" width=\"{:.1}\" height=\"26\"><title>{} to {}: {}</title></rect>",
            (x1 - x0).max(1.0),
            text::timestamp(from),
            text::timestamp(until),
            escape(&what)
        );
    }
    let _ = write!(
        out,
        "<text class=\"axis\" x=\"0\" y=\"52\">{}</text><text class=\"axis\" x=\"{WIDTH}\" y=\"52\" text-anchor=\"end\">{} ({})</text></svg>",
        text::timestamp(start),
        text::timestamp(now),
        text::duration(now.duration_since(start).unwrap_or_default())
    );
    out.push('\n');
    out.push_str(
        "<p>Green: connected. Red: an outage. A red line: a drop. Blank: closed by you, or not \
         watched. Hover for details.</p>\n",
    );

    let points = b.rtt_points();
    if !points.is_empty() {
        let max = points
            .iter()
            .map(|(_, d)| d.as_secs_f64())
            .fold(0.0, f64::max)
            .max(0.000_001);
        let (h, top, bottom) = (170.0, 10.0, 150.0);
        let y = |d: f64| bottom - d / max * (bottom - top);
        out.push_str("<h2>Round-trip time</h2>\n");
        let _ = write!(
            out,
            "<svg viewBox=\"0 0 {WIDTH} {h}\" width=\"100%\" role=\"img\" aria-label=\"round-trip time over time\">\
             <line class=\"grid\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{top}\" y2=\"{top}\"/>\
             <line class=\"grid\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{bottom}\" y2=\"{bottom}\"/>\
             <polyline class=\"rtt\" points=\""
        );
        for (at, d) in points {
            let _ = write!(out, "{:.1},{:.1} ", x(*at), y(d.as_secs_f64()));
        }
        let _ = write!(
            out,
            "\"/><text class=\"axis\" x=\"2\" y=\"{}\">{} ms</text><text class=\"axis\" x=\"2\" y=\"{}\">0 ms</text>\
             <text class=\"axis\" x=\"{WIDTH}\" y=\"{}\" text-anchor=\"end\">{} samples drawn</text></svg>",
            top + 11.0,
            text::millis(std::time::Duration::from_secs_f64(max)),
            bottom - 3.0,
            h - 4.0,
            points.len()
        );
        out.push('\n');
    }
    out
}

/// The subset of Markdown the report writes, as HTML: headings, paragraphs, lists, pipe
/// tables, fenced code, inline code and bold. `figures` goes after the first paragraph.
fn to_html(md: &str, figures: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    let mut placed = false;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        if let Some(fence) = fence_of(line) {
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim_end() != fence {
                end += 1;
            }
            out.push_str("<pre>");
            for l in &lines[start..end.min(lines.len())] {
                out.push_str(&escape(l));
                out.push('\n');
            }
            out.push_str("</pre>\n");
            i = end + 1;
            continue;
        }
        let heading = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&heading) && line[heading..].starts_with(' ') {
            let _ = writeln!(
                out,
                "<h{heading}>{}</h{heading}>",
                inline(&line[heading + 1..])
            );
            i += 1;
            continue;
        }
        if line.starts_with('|') {
            out.push_str("<table>\n");
            let mut first = true;
            while i < lines.len() && lines[i].starts_with('|') {
                let cells = cells(lines[i]);
                let separator = cells
                    .iter()
                    .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'));
                if !separator {
                    let tag = if first { "th" } else { "td" };
                    out.push_str("<tr>");
                    for c in cells {
                        let _ = write!(out, "<{tag}>{}</{tag}>", inline(&c));
                    }
                    out.push_str("</tr>\n");
                }
                first = false;
                i += 1;
            }
            out.push_str("</table>\n");
            continue;
        }
        if line.trim_start().starts_with("- ") {
            out.push_str("<ul>\n");
            while i < lines.len() && lines[i].trim_start().starts_with("- ") {
                let item = lines[i].trim_start().trim_start_matches("- ");
                let _ = writeln!(out, "<li>{}</li>", inline(item));
                i += 1;
            }
            out.push_str("</ul>\n");
            continue;
        }
        let _ = writeln!(out, "<p>{}</p>", inline(line));
        i += 1;
        if !placed && heading == 0 {
            out.push_str(figures);
            placed = true;
        }
    }
    if !placed {
        out.push_str(figures);
    }
    out
}

/// The closing fence of a line that opens a fenced block.
fn fence_of(line: &str) -> Option<&str> {
    let n = line.chars().take_while(|c| *c == '`').count();
    (n >= 3 && line.len() == n).then_some(line)
}

/// The cells of a table row; `\|` is a pipe inside a cell.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                out.last_mut().unwrap().push('|');
            }
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Inline Markdown: `code` (any fence length) and **bold**; everything else escaped.
fn inline(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if rest.starts_with('`') {
            let n = rest.chars().take_while(|c| *c == '`').count();
            let fence = &rest[..n];
            if let Some(end) = rest[n..].find(fence) {
                let _ = write!(out, "<code>{}</code>", escape(&rest[n..n + end]));
                rest = &rest[n + end + n..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("**")
            && let Some(end) = after.find("**")
        {
            let _ = write!(out, "<strong>{}</strong>", inline(&after[..end]));
            rest = &after[end + 2..];
            continue;
        }
        let c = rest.chars().next().unwrap();
        out.push_str(&escape(&c.to_string()));
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_markdown_subset_becomes_html() {
        let md = "# Verdict <1>\n\nmeta `a|b` line\n\n| k | v |\n|---|---|\n| x | a\\|b |\n\n- one\n  - two\n\n````\nx ``` <y>\n````\n";
        let html = to_html(md, "<svg/>");
        assert_eq!(
            html,
            "<h1>Verdict &lt;1&gt;</h1>\n<p>meta <code>a|b</code> line</p>\n<svg/>\
             <table>\n<tr><th>k</th><th>v</th></tr>\n<tr><td>x</td><td>a|b</td></tr>\n</table>\n\
             <ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<pre>x ``` &lt;y&gt;\n</pre>\n"
        );
        assert_eq!(inline("**Pattern:** x"), "<strong>Pattern:</strong> x");
        assert_eq!(inline("``a`b``"), "<code>a`b</code>");
    }
}
