//! The message log: one row per message or connection event, newest at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::engine::{Kind, Preset};
use crate::text;
use crate::tui::app::App;
use crate::tui::log::{Entry, Filter, Origin, Quiet, Status, contains_ignore_case};
use crate::tui::theme::Theme;

/// Columns before the message text: `HH:MM:SS.mmm dir kind   size `.
const PREFIX: usize = 12 + 1 + 3 + 1 + 3 + 1 + 7 + 1;

fn title<'a>(app: &App, t: &Theme, width: usize) -> Line<'a> {
    let mut v = vec![
        Span::styled(" Messages ", t.title()),
        Span::styled("UTC ", t.dim()),
    ];
    if app.filter != Filter::All {
        v.push(Span::styled(format!(" {} ", app.filter.label()), t.warn()));
    }
    if let Some(g) = &app.grep {
        v.push(Span::styled(
            format!(
                " {} with `{}` ",
                text::counted(app.log.shown_count(app.filter) as u64, "row", "rows"),
                text::sanitize(g)
            ),
            t.hit(),
        ));
    }
    if !app.following() {
        v.push(Span::styled(
            format!(
                " paused, {} new · Esc follows ",
                text::count(app.paused_new)
            ),
            t.warn(),
        ));
    }
    if app.log.evicted() > 0 {
        v.push(Span::styled(
            format!(" {} dropped from view ", text::count(app.log.evicted())),
            t.dim(),
        ));
    }
    if let Some(q) = &app.search {
        v.push(Span::styled(
            format!(" find `{}` F3 ", text::sanitize(q)),
            t.hit(),
        ));
    }
    // Hidden rows (heartbeat, auto-replies) are kept, and counted: F9 and /autoreplies show
    // them again. A text filter's count is in the title already: then every row kept is said.
    let (pings, replies) = match app.grep {
        None => (
            app.log.hidden_rows(Quiet::Heartbeat),
            app.log.hidden_rows(Quiet::AutoReply),
        ),
        Some(_) => (0, 0),
    };
    let mut kept = format!(
        " {} kept ",
        text::count((app.log.len() - pings - replies) as u64)
    );
    let hidden: Vec<String> = [(pings, "heartbeat"), (replies, "auto-reply")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{} {what}", text::count(*n as u64)))
        .collect();
    if !hidden.is_empty() {
        kept.push_str(&format!("· hidden rows: {} ", hidden.join(", ")));
    }
    let used: usize = v.iter().map(|s| s.width()).sum();
    if used + kept.len() + 4 <= width {
        v.push(Span::styled(kept, t.dim()));
    }
    Line::from(v)
}

/// Draws the log.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.opts.theme;
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(t.border())
        .title(title(app, t, area.width as usize));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 {
        return;
    }
    let rows = app.visible(inner.height as usize);
    if rows.is_empty() {
        let msg = match (&app.grep, app.filter) {
            (Some(g), _) => format!(
                "no row contains `{}` · Esc shows every row",
                text::sanitize(g)
            ),
            (None, Filter::All) => "no messages yet".to_string(),
            (None, f) => format!("nothing matches the filter ({}) · F2 changes it", f.label()),
        };
        let y = inner.y + inner.height / 2;
        Paragraph::new(Span::styled(msg, t.dim()))
            .alignment(Alignment::Center)
            .render(
                Rect {
                    y,
                    height: 1,
                    ..inner
                },
                buf,
            );
        return;
    }
    for (i, seq) in rows.iter().enumerate() {
        let Some(e) = app.log.get(*seq) else { continue };
        let row = Rect {
            y: inner.y + i as u16,
            height: 1,
            ..inner
        };
        let selected = app.selected == Some(*seq);
        if selected {
            buf.set_style(row, t.selected());
        }
        // One column more than fits, so a longer text shows its cut as `…`.
        let line = super::cut(
            row_line(
                e,
                app.search.as_deref(),
                inner.width as usize + 1,
                t,
                app.opts.preset.map(|p| (p, app.offsets)),
            ),
            inner.width as usize,
        );
        // set_line skips the paragraph machinery (wrapping, alignment): rows are one line.
        buf.set_line(row.x, row.y, &line, row.width);
    }
}

/// Payloads up to this size are decoded for the application protocol; a larger one is shown
/// as it came (decoding parses it whole, on every frame it is on screen).
const DECODE_MAX: usize = 64 << 10;

/// One log row; `width` bounds how much of a payload is looked at. With a preset (and
/// whether its events end with a recovery offset), the protocol's messages read as what they
/// mean (`42["tick",{..}]` as `tick {..}`).
pub(crate) fn row_line<'a>(
    e: &'a Entry,
    search: Option<&str>,
    width: usize,
    t: &Theme,
    decoding: Option<(Preset, bool)>,
) -> Line<'a> {
    let (preset, offsets) = match decoding {
        Some((p, o)) => (Some(p), o),
        None => (None, false),
    };
    let mut v = vec![
        Span::styled(text::clock_millis(e.at()), t.dim()),
        Span::raw(" "),
    ];
    let room = width.saturating_sub(PREFIX).max(8);
    match e.origin {
        Origin::Event => {
            v.push(Span::styled("evt", t.level(e.level)));
            v.push(Span::raw(" "));
            let body = text::preview_text(&e.data, room * 4);
            let first = body.split('\n').next().unwrap_or("").to_string();
            push_text(
                &mut v,
                &first,
                width.saturating_sub(17),
                search,
                t.level(e.level),
                t,
            );
        }
        Origin::In | Origin::Out => {
            let (dir, style) = if e.origin == Origin::In {
                ("in ", t.dir_in())
            } else {
                ("out", t.dir_out())
            };
            v.push(Span::styled(dir, style));
            v.push(Span::styled(
                if e.kind == Kind::Binary {
                    " bin "
                } else {
                    " txt "
                },
                t.dim(),
            ));
            v.push(Span::styled(
                format!("{:>7} ", text::bytes(e.data.len() as u64)),
                t.dim(),
            ));
            match e.status {
                Status::Plain => {}
                Status::Queued => v.push(Span::styled("[queued] ", t.warn())),
                Status::SentLater => v.push(Span::styled("[queued · sent later ↓] ", t.dim())),
                Status::Waited(s) => v.push(Span::styled(
                    match s {
                        0 => "[sent from the queue] ".to_string(),
                        s => format!(
                            "[sent after {} queued] ",
                            text::duration(std::time::Duration::from_secs(u64::from(s)))
                        ),
                    },
                    t.warn(),
                )),
                Status::NotSent(r) => v.push(Span::styled(
                    format!("[not sent: {}] ", r.as_str().replace('_', " ")),
                    t.bad(),
                )),
                Status::Unconfirmed => v.push(Span::styled("[unconfirmed] ", t.bad())),
            }
            match (decoded(e, preset, offsets), e.kind) {
                (Some(d), _) => {
                    let (head, args) = d.split_once(' ').unwrap_or((&d, ""));
                    let head = format!("{} ", text::sanitize(head));
                    let used = head.chars().count();
                    v.push(Span::styled(head, t.title()));
                    push_text(
                        &mut v,
                        args,
                        room.saturating_sub(used),
                        search,
                        Style::new(),
                        t,
                    );
                }
                (None, Kind::Text) => {
                    let body = text::preview_text(&e.data, room * 4);
                    push_text(&mut v, &body, room, search, Style::new(), t);
                }
                (None, Kind::Binary) => {
                    v.push(Span::styled(text::preview_hex(&e.data, room / 3), t.dim()))
                }
            }
        }
    }
    Line::from(v)
}

/// The entry as its application protocol reads it, when it is one of the protocol's messages.
fn decoded(e: &Entry, preset: Option<Preset>, offsets: bool) -> Option<String> {
    let p = preset?;
    if e.data.len() > DECODE_MAX {
        return None;
    }
    p.decode(e.kind, &e.data, offsets)
}

/// Appends escaped text, with search hits highlighted.
fn push_text(
    v: &mut Vec<Span<'_>>,
    body: &str,
    room: usize,
    search: Option<&str>,
    style: Style,
    t: &Theme,
) {
    for (seg, escaped) in text::segments(body, room) {
        if escaped {
            v.push(Span::styled(seg.into_owned(), t.escaped()));
            continue;
        }
        match search.filter(|q| !q.is_empty() && contains_ignore_case(seg.as_bytes(), q.as_bytes()))
        {
            None => v.push(Span::styled(seg.into_owned(), style)),
            Some(q) => {
                let s = seg.as_ref();
                let lower = s.to_ascii_lowercase();
                let ql = q.to_ascii_lowercase();
                let mut at = 0;
                while let Some(i) = lower[at..].find(&ql) {
                    let start = at + i;
                    let end = start + ql.len();
                    if !s.is_char_boundary(start) || !s.is_char_boundary(end) {
                        break;
                    }
                    v.push(Span::styled(s[at..start].to_string(), style));
                    v.push(Span::styled(s[start..end].to_string(), t.hit()));
                    at = end;
                }
                v.push(Span::styled(s[at..].to_string(), style));
            }
        }
    }
}
