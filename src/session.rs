//! A session: the endpoints being watched and what the whole run does besides (recording,
//! metrics, the dashboard's bounds). Every frontend runs on one.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::engine::ConnSettings;
use crate::jsonl::RecordHeader;
use crate::record::RecordOptions;

/// One endpoint to watch: its name and how to connect.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// How it is called on screen, in JSON lines and in metrics.
    pub name: String,
    /// How to connect.
    pub settings: ConnSettings,
}

/// What a session does besides watching. `Default` is the one source of these defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionOptions {
    /// Messages the dashboard's log keeps (shared by a fleet).
    pub log_capacity: usize,
    /// Payload bytes the dashboard's log keeps (shared by a fleet).
    pub log_max_bytes: usize,
    /// Dashboard frame-rate cap.
    pub fps: u32,
    /// Record every event to this file from the start.
    pub record: Option<PathBuf>,
    /// Start a new recording file past this size; 0 = never.
    pub record_max_bytes: u64,
    /// Rotated recording files kept.
    pub record_keep: usize,
    /// Serve Prometheus metrics here.
    pub metrics: Option<SocketAddr>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            log_capacity: 100_000,
            log_max_bytes: 256 << 20,
            fps: 30,
            record: None,
            record_max_bytes: 0,
            record_keep: 5,
            metrics: None,
        }
    }
}

impl SessionOptions {
    /// How a recording of the endpoint of `settings` into `path` is set up.
    pub fn record_options(&self, path: PathBuf, settings: &ConnSettings) -> RecordOptions {
        RecordOptions {
            path,
            max_bytes: self.record_max_bytes,
            keep: self.record_keep,
            header: RecordHeader::of(settings),
        }
    }
}
