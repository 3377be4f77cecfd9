//! The bottom line: a status message if there is one, then the most useful keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::text;
use crate::tui::app::{App, Focus, Overlay};

/// Columns the keys need at least: help and quit.
const KEYS_MIN: usize = 24;

/// The status notice, if one is current, as drawn (made safe for the terminal).
fn notice(app: &App) -> Option<(String, crate::tui::log::Level)> {
    app.current_status()
        .map(|(msg, level)| (text::sanitize(msg), level))
}

/// Rows the footer needs at `width`: one, and a notice too long to share it (a path, a
/// failure) wraps on rows of its own above the keys rather than being cut.
pub(crate) fn rows_needed(app: &App, width: u16) -> u16 {
    let width = width as usize;
    match notice(app) {
        Some((msg, _)) if msg.chars().count() + 3 + KEYS_MIN > width => {
            1 + super::wrap_plain(&msg, width.saturating_sub(1))
                .len()
                .min(super::WRAP_MAX) as u16
        }
        _ => 1,
    }
}

/// The keys the footer offers here, as (key, what) pairs, for `width` columns.
fn keys(app: &App, width: usize) -> Vec<(String, String)> {
    let fixed = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, w)| (k.to_string(), w.to_string()))
            .collect()
    };
    let map = &app.opts.keymap;
    match (&app.overlay, app.focus) {
        (Some(Overlay::Help), _) => fixed(&[("Esc", "close"), ("↑↓", "scroll")]),
        (Some(Overlay::Detail(d)), _) if d.seq == u64::MAX => {
            fixed(&[("↑↓ PgUp PgDn", "scroll"), ("Esc", "close")])
        }
        (Some(Overlay::Detail(_)), _) => fixed(&[
            ("↑↓ PgUp PgDn", "scroll"),
            ("← →", "older / newer message"),
            ("y", "copy"),
            ("Esc", "close"),
        ]),
        (Some(Overlay::Quit(_)), _) => fixed(&[("y", "quit"), ("Esc", "keep watching")]),
        (None, Focus::Find) => fixed(&[("Enter", "find"), ("Esc", "cancel")]),
        (None, Focus::Grep) => fixed(&[
            ("Enter", "show only the rows with it (empty: all)"),
            ("Esc", "cancel"),
        ]),
        (None, Focus::Input) if app.input.value().starts_with('/') => fixed(&[
            ("Tab", "complete"),
            ("Enter", "run"),
            ("//", "sends a text starting with /"),
        ]),
        (None, Focus::Input) if !app.following() => {
            // As `key_hints` draws them: ` key what `.
            let cost = |v: &[(String, String)]| -> usize {
                v.iter()
                    .map(|(k, w)| k.chars().count() + w.chars().count() + 3)
                    .sum()
            };
            let mut v = fixed(&[("Esc", "live view")]);
            let browse = fixed(&[("Shift-↑↓", "select"), ("Enter", "detail")]);
            // Selecting and opening are said when help, quit and a few actions still fit.
            if width >= cost(&v) + cost(&browse) + KEYS_MIN + 20 {
                v.extend(browse);
            }
            v.extend(map.footer(width.saturating_sub(cost(&v))));
            v
        }
        (None, Focus::Input) => map.footer(width),
        (None, Focus::Log) if app.replay.as_ref().is_some_and(|r| r.at.ended) => fixed(&[
            ("↑↓", "scroll"),
            ("Enter", "detail"),
            ("/", "find"),
            ("f", "filter"),
            ("d", "report"),
            ("?", "help"),
            ("q", "quit"),
        ]),
        (None, Focus::Log) => fixed(&[
            ("Space", "pause"),
            ("+ -", "speed"),
            (".", "step"),
            ("↑↓", "scroll"),
            ("Enter", "detail"),
            ("/", "find"),
            ("?", "help"),
            ("q", "quit"),
        ]),
    }
}

/// Draws the footer: a notice (wrapped on rows of its own when long), then the keys.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let width = area.width as usize;
    let mut v: Vec<Span> = Vec::new();
    let mut above: Vec<Line> = Vec::new();
    if let Some((msg, level)) = notice(app) {
        if area.height > 1 {
            let room = area.height as usize - 1;
            let mut parts = super::wrap_plain(&msg, width.saturating_sub(1));
            if parts.len() > room {
                let rest = parts.split_off(room - 1).join(" ");
                parts.push(super::cut_text(&rest, width.saturating_sub(1)));
            }
            above = parts
                .into_iter()
                .map(|p| Line::from(Span::styled(format!(" {p}"), t.level(level))))
                .collect();
        } else {
            v.push(Span::styled(format!(" {msg} "), t.level(level)));
            v.push(Span::styled("│", t.border()));
        }
    }
    if let Some(pos) = replay_position(app) {
        v.push(Span::styled(format!(" {pos} "), t.value()));
        v.push(Span::styled("│", t.border()));
    }
    if app.opts.name.is_some() && app.at_rest() {
        v.push(Span::styled(" Esc", t.key()));
        v.push(Span::styled(" overview ", t.dim()));
    }
    let used: usize = v.iter().map(|s| s.width()).sum();
    let keys = keys(app, width.saturating_sub(used));
    let pairs: Vec<(&str, &str)> = keys.iter().map(|(k, w)| (k.as_str(), w.as_str())).collect();
    super::key_hints(&mut v, &pairs, t, area.width);
    above.push(Line::from(v));
    let skip = above.len().saturating_sub(area.height as usize);
    Paragraph::new(above.split_off(skip)).render(area, buf);
}

/// Where a replay is: `event 1,204 of 3,310 · 2m10s of 5m`, or that it has ended.
pub(crate) fn replay_position(app: &App) -> Option<String> {
    let r = app.replay.as_ref()?;
    let p = &r.at;
    let events = match p.total {
        Some(n) => format!("event {} of {}", text::count(p.done), text::count(n)),
        None => format!("event {}", text::count(p.done)),
    };
    let time = match (p.first, p.last) {
        (Some(first), Some(last)) => {
            let now = if first <= last {
                app.now.clamp(first, last)
            } else {
                first
            };
            format!(
                " · {} of {}",
                text::duration(now.duration_since(first).unwrap_or_default()),
                text::duration(last.duration_since(first).unwrap_or_default())
            )
        }
        _ => String::new(),
    };
    Some(if p.ended {
        format!(
            "ended: {} replayed{time}",
            text::counted(p.done, "event", "events")
        )
    } else {
        format!("{events}{time}")
    })
}
