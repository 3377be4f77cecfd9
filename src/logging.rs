//! Diagnostics go to `wsmon.log` in the data directory, never to the terminal being drawn on.
//! The file is rotated while wsmon runs, by size (`log_file_max_bytes`, `log_file_keep` old
//! parts kept), so a month of flapping does not fill a disk; and every line is written with
//! its control characters made visible, so `tail -f wsmon.log` shows a hostile close reason
//! instead of obeying it.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// How `wsmon.log` is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogFile {
    /// Start a new file past this size; 0 = never.
    pub max_bytes: u64,
    /// Old files kept: `wsmon.log.1` is the newest.
    pub keep: usize,
}

impl Default for LogFile {
    fn default() -> Self {
        LogFile {
            max_bytes: 10 << 20,
            keep: 3,
        }
    }
}

/// Starts file logging (level from `WSMON_LOG`, default `info`); returns the guard that flushes
/// on drop and the file path, or `None` when there is nowhere to write.
pub(crate) fn init(opts: LogFile) -> Option<(WorkerGuard, PathBuf)> {
    let dir = crate::paths::ensure_data_dir().ok()?;
    let path = dir.join("wsmon.log");
    let file = RotatingLog::open(path.clone(), opts).ok()?;
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

/// The log file: lines made safe, and a new file past the size limit.
pub(crate) struct RotatingLog {
    path: PathBuf,
    file: File,
    size: u64,
    opts: LogFile,
}

impl RotatingLog {
    /// Opens (appends to) `path`, rotating first if it is already past the limit.
    pub(crate) fn open(path: PathBuf, opts: LogFile) -> io::Result<RotatingLog> {
        let file = crate::paths::open_private(&path, true)?;
        let size = file.metadata()?.len();
        let mut log = RotatingLog {
            path,
            file,
            size,
            opts,
        };
        if log.full(0) {
            log.rotate()?;
        }
        Ok(log)
    }

    fn full(&self, adding: usize) -> bool {
        self.opts.max_bytes > 0 && self.size > 0 && self.size + adding as u64 > self.opts.max_bytes
    }

    /// `wsmon.log` becomes `wsmon.log.1`, `.1` becomes `.2`, ...; `keep` of them are kept.
    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.opts.keep.max(1);
        let numbered = |i: usize| numbered(&self.path, i);
        let _ = std::fs::remove_file(numbered(keep));
        for i in (1..keep).rev() {
            let _ = std::fs::rename(numbered(i), numbered(i + 1));
        }
        std::fs::rename(&self.path, numbered(1))?;
        self.file = crate::paths::open_private(&self.path, true)?;
        self.size = 0;
        Ok(())
    }
}

fn numbered(path: &Path, i: usize) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{i}"));
    PathBuf::from(p)
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Whole lines come in (one event each): each is made safe on its own.
        let text = String::from_utf8_lossy(buf);
        let mut safe = String::with_capacity(text.len());
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                safe.push('\n');
            }
            safe.push_str(&crate::text::sanitize(line));
        }
        if self.full(safe.len()) {
            // A log that cannot rotate keeps writing where it is.
            let _ = self.rotate();
        }
        self.file.write_all(safe.as_bytes())?;
        self.size += safe.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_while_written_and_its_lines_are_safe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wsmon.log");
        let mut log = RotatingLog::open(
            path.clone(),
            LogFile {
                max_bytes: 1000,
                keep: 2,
            },
        )
        .unwrap();
        for i in 0..100 {
            writeln!(log, "line {i}: reason \u{1b}]0;TITLE\u{7}\u{1b}[2J").unwrap();
        }
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(now.len() <= 1000, "{}", now.len());
        assert!(numbered(&path, 1).exists() && numbered(&path, 2).exists());
        assert!(!numbered(&path, 3).exists(), "two old parts kept");
        assert!(!now.contains('\u{1b}') && !now.contains('\u{7}'), "{now}");
        assert!(now.contains("\\e]0;TITLE\\x07\\e[2J"), "{now}");
    }
}
