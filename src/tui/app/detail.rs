//! The detail view: one log entry in full (JSON pretty-printed, hex for binary, wrapped text).

use super::{App, Overlay};
use crate::engine::Preset;
use crate::text;
use crate::tui::log::{Entry, Level, Origin, Status};

/// Detail views show at most this much of a payload.
pub const DETAIL_MAX: usize = 512 << 10;

/// A log entry shown in full.
#[derive(Clone, Debug, PartialEq)]
pub struct Detail {
    /// Which entry.
    pub seq: u64,
    /// The header line.
    pub title: String,
    /// How the body is shown: "JSON", "hex", "text", "event", or the preset that decoded it.
    pub format: &'static str,
    /// The body, already made safe for the terminal.
    pub body: String,
    /// First line shown.
    pub scroll: usize,
}

impl App {
    // ---- detail -----------------------------------------------------------------------------

    pub(super) fn open_detail(&mut self) {
        let Some(seq) = self.cursor() else {
            self.say(Level::Info, "the log is empty");
            return;
        };
        let Some(e) = self.log.get(seq) else { return };
        self.overlay = Some(Overlay::Detail(detail_of(
            seq,
            e,
            self.opts.preset,
            self.offsets,
        )));
    }
}

/// Builds the detail view of an entry; with a preset, a protocol message (a Socket.IO packet,
/// a GraphQL result, an MQTT packet, a STOMP frame) is shown decoded, above the message as it
/// was on the wire.
pub fn detail_of(seq: u64, e: &Entry, preset: Option<Preset>, offsets: bool) -> Detail {
    let dir = match e.origin {
        Origin::In => "received",
        Origin::Out => "sent",
        Origin::Event => "event",
    };
    let status = match e.status {
        Status::Plain => String::new(),
        Status::Queued => " · queued, not sent yet".into(),
        Status::SentLater => " · queued while down, sent later (its own row)".into(),
        Status::Waited(s) => format!(" · sent after waiting {}s in the queue", s),
        Status::NotSent(r) => format!(" · NOT SENT ({})", r.as_str()),
        Status::Unconfirmed => {
            " · UNCONFIRMED: written, but the connection died before the peer's TCP acknowledged it; it may or may not have arrived".into()
        }
    };
    let cut = e.data.len() > DETAIL_MAX;
    let data = &e.data[..e.data.len().min(DETAIL_MAX)];
    let (format, mut body) = if e.origin == Origin::Event {
        (
            "event",
            text::sanitize_multiline(&String::from_utf8_lossy(data)),
        )
    } else if let Some((name, decoded)) =
        preset.and_then(|p| Some((p.name(), p.decode(e.kind, data, offsets)?)))
    {
        let wire = match e.kind {
            crate::engine::Kind::Binary => text::hexdump(data),
            crate::engine::Kind::Text => text::sanitize_multiline(
                &text::pretty_json(data)
                    .unwrap_or_else(|| String::from_utf8_lossy(data).into_owned()),
            ),
        };
        (
            name,
            format!(
                "{}\n\non the wire:\n{wire}",
                text::sanitize_multiline(&decoded)
            ),
        )
    } else if e.kind == crate::engine::Kind::Binary {
        ("hex", text::hexdump(data))
    } else if let Some(json) = text::pretty_json(data) {
        ("JSON", text::sanitize_multiline(&json))
    } else {
        (
            "text",
            text::sanitize_multiline(&String::from_utf8_lossy(data)),
        )
    };
    if cut {
        body.push_str(&format!(
            "\n[showing the first {} of {}]",
            text::bytes(DETAIL_MAX as u64),
            text::bytes(e.data.len() as u64)
        ));
    }
    let title = if e.origin == Origin::Event {
        format!("{} UTC · connection event", text::clock_millis(e.at()))
    } else {
        format!(
            "{} UTC · {dir} · {} · {}{status}",
            text::clock_millis(e.at()),
            e.kind.as_str(),
            text::bytes(e.data.len() as u64)
        )
    };
    Detail {
        seq,
        title,
        format,
        body,
        scroll: 0,
    }
}
