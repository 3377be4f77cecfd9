//! What a dashboard is started with, for a live endpoint or a replayed recording.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Preset;
use crate::jsonl::RecordHeader;
use crate::keymap::Keymap;
use crate::session::{Endpoint, SessionOptions};
use crate::tui::theme::Theme;

/// What the dashboard was started with.
#[derive(Clone, Debug)]
pub struct UiOptions {
    /// The URL, secrets masked.
    pub url: String,
    /// Log ring size.
    pub log_capacity: usize,
    /// Most payload bytes the log keeps.
    pub log_max_bytes: usize,
    /// Frame-rate cap.
    pub fps: u32,
    /// Heartbeat period, for display.
    pub ping_interval: Option<Duration>,
    /// Dead-peer timeout, for display.
    pub pong_timeout: Duration,
    /// Watching the built-in demo server.
    pub demo: bool,
    /// Colours or monochrome.
    pub theme: Theme,
    /// Where input history lives.
    pub history: Option<PathBuf>,
    /// What is watched, secrets masked, for reports.
    pub header: RecordHeader,
    /// Replaying a recording rather than watching a live connection.
    pub replay: bool,
    /// The endpoint's name when it is one of a fleet (Esc goes back to the overview).
    pub name: Option<String>,
    /// The application protocol spoken (decodes the log, encodes what is typed).
    pub preset: Option<Preset>,
    /// The application heartbeat's message, when there is one.
    pub app_ping: Option<String>,
    /// The actions' keys (`[keys]` applied).
    pub keymap: Arc<Keymap>,
    /// Capture the mouse at start (`mouse`).
    pub mouse: bool,
    /// The endpoint's labels (a targets file's), as `name=value` words.
    pub labels: String,
}

/// An endpoint's labels as the fleet overview shows them: `region=eu team=pay`.
pub(crate) fn labels_text(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fewest log entries kept per endpoint of a fleet, however large the fleet.
const FLEET_MIN_LOG_ENTRIES: usize = 100;
/// Fewest payload bytes kept per endpoint of a fleet.
const FLEET_MIN_LOG_BYTES: usize = 64 << 10;

impl UiOptions {
    /// The dashboard of endpoint `e` in a session of `endpoints` endpoints; a fleet shares the
    /// log's bounds and names each dashboard.
    pub fn live(session: &SessionOptions, e: &Endpoint, endpoints: usize, demo: bool) -> UiOptions {
        let fleet = endpoints > 1;
        let n = endpoints.max(1);
        UiOptions {
            url: e.settings.shown_url(),
            log_capacity: if fleet {
                (session.log_capacity / n).max(FLEET_MIN_LOG_ENTRIES)
            } else {
                session.log_capacity
            },
            log_max_bytes: if fleet {
                (session.log_max_bytes / n).max(FLEET_MIN_LOG_BYTES)
            } else {
                session.log_max_bytes
            },
            fps: session.fps,
            ping_interval: e.settings.ping_interval,
            pong_timeout: e.settings.pong_timeout,
            demo,
            theme: Theme::from_env(),
            history: crate::paths::data_dir().map(|d| d.join("history")),
            header: RecordHeader::of(&e.settings),
            replay: false,
            name: fleet.then(|| e.name.clone()),
            preset: e.settings.preset,
            app_ping: e.settings.app_ping.clone(),
            keymap: session.keymap.clone(),
            mouse: session.mouse,
            labels: labels_text(&e.labels),
        }
    }

    /// The dashboard of a recording replayed from `file`, described by its `header`.
    pub fn replay(
        session: &SessionOptions,
        header: RecordHeader,
        file: &std::path::Path,
    ) -> UiOptions {
        UiOptions {
            url: if header.url.is_empty() {
                file.display().to_string()
            } else {
                header.url.clone()
            },
            log_capacity: session.log_capacity,
            log_max_bytes: session.log_max_bytes,
            fps: session.fps,
            ping_interval: (header.ping_interval_ms > 0)
                .then(|| Duration::from_millis(header.ping_interval_ms)),
            pong_timeout: Duration::from_millis(header.pong_timeout_ms),
            demo: false,
            theme: Theme::from_env(),
            history: None,
            preset: header.preset.as_deref().and_then(Preset::named),
            app_ping: header.app_ping.clone(),
            header,
            replay: true,
            name: None,
            keymap: session.keymap.clone(),
            mouse: session.mouse,
            labels: String::new(),
        }
    }
}
