//! Diagnostics go to `wsmon.log` in the data directory, never to the terminal being drawn on.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// A log file larger than this is moved to `wsmon.log.1` at start.
const ROTATE_AT: u64 = 10 << 20;

/// Starts file logging (level from `WSMON_LOG`, default `info`); returns the guard that flushes
/// on drop and the file path, or `None` when there is nowhere to write.
pub fn init() -> Option<(WorkerGuard, PathBuf)> {
    let dir = crate::paths::ensure_data_dir().ok()?;
    let path = dir.join("wsmon.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > ROTATE_AT) {
        let _ = std::fs::rename(&path, dir.join("wsmon.log.1"));
    }
    let file = crate::paths::open_private(&path, true).ok()?;
    crate::paths::make_private(&path);
    // Connection events only, a few lines a second at most: the default queue of 128,000
    // lines would be 4 MB of memory touched up front (a third of an idle dashboard).
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(1024)
        .finish(file);
    // `debug`, or per target: `wsmon=debug,rustls=info`.
    let filter = std::env::var("WSMON_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(filter),
        )
        .try_init()
        .ok()?;
    Some((guard, path))
}
