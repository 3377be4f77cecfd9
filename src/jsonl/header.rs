//! The recording header of an endpoint, and the headers of an HTTP answer as JSON lines
//! write them.

use super::schema::RecordHeader;
use crate::engine::Preset;

impl RecordHeader {
    /// What a recording or report says about the endpoint of `settings`, secrets masked.
    pub fn of(settings: &crate::engine::ConnSettings) -> RecordHeader {
        RecordHeader {
            tool: String::new(),
            url: settings.shown_url(),
            headers: settings
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), settings.redactor.header_value(n, v).into_owned()))
                .collect(),
            subprotocols: settings
                .subprotocols
                .iter()
                .map(|p| settings.redactor.subprotocol(p))
                .collect(),
            ping_interval_ms: settings.ping_interval.map_or(0, |d| d.as_millis() as u64),
            pong_timeout_ms: settings.pong_timeout.as_millis() as u64,
            preset: settings
                .custom_preset
                .clone()
                .or_else(|| settings.preset.map(|p| p.name().to_string())),
            // The user's heartbeat, or the preset's own, named.
            app_ping: settings.app_ping.clone().or_else(|| {
                settings
                    .preset
                    .and_then(Preset::heartbeat)
                    .map(|h| format!("({h})"))
            }),
            stale_after_ms: settings.stale_after.map_or(0, |d| d.as_millis() as u64),
        }
    }
}

/// Headers as a JSON object has them: lower-case names, in first-seen order, the values of a
/// repeated header joined with `, `.
pub(super) fn joined_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        match out.iter_mut().find(|(n, _)| *n == lower) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => out.push((lower, value.clone())),
        }
    }
    out
}
