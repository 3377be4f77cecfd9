//! Watching a targets file: read again when it changes (its size, time or content) and, where
//! SIGHUP means "reload" (headless), on SIGHUP; each new reading is handed over whole.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Shard, Wanted};

/// How often the file's size and time are looked at.
pub(super) const POLL: Duration = Duration::from_secs(1);
/// The largest targets file read (200,000 targets with labels fit).
const MAX_FILE: u64 = 64 << 20;

/// A new reading of the targets file.
#[derive(Clone, Debug, PartialEq)]
pub enum Reload {
    /// The file changed and reads well: these are the targets now.
    Targets(Vec<Wanted>),
    /// The file changed and does not read: the last good set stays; this says why.
    Bad(String),
}

/// The task that watches a targets file, and its readings.
#[derive(Debug)]
pub struct Watcher {
    rx: mpsc::Receiver<Reload>,
    task: JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the file looked like when it was last read.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    text: Option<String>,
}

/// Reads and parses the file: its text too, so that a change that keeps the size and time
/// (a fast editor) is still seen by the content.
fn read(path: &Path, shard: Option<Shard>) -> (Result<Vec<Wanted>, String>, Seen) {
    let meta = std::fs::metadata(path).ok();
    let mut seen = Seen {
        len: meta.as_ref().map_or(0, std::fs::Metadata::len),
        modified: meta.and_then(|m| m.modified().ok()),
        text: None,
    };
    let text = match crate::bounded::read_file(path, MAX_FILE) {
        Ok(t) => t,
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "no such file (create it: a file of no targets is `[]`)".to_string()
                }
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            };
            return (
                Err(format!(
                    "cannot read targets file {}: {why}",
                    path.display()
                )),
                seen,
            );
        }
    };
    let parsed = super::parse(path, &text, shard).map_err(|e| format!("{}: {e}", path.display()));
    seen.text = Some(text);
    (parsed, seen)
}

impl Watcher {
    /// Reads `path` now (an error stops the start: there is no last good set yet) and
    /// watches it; with `on_hup`, SIGHUP reads it again too.
    pub fn start(
        path: PathBuf,
        shard: Option<Shard>,
        on_hup: bool,
    ) -> Result<(Vec<Wanted>, Watcher), String> {
        let (first, mut seen) = read(&path, shard);
        let first = first?;
        let (tx, rx) = mpsc::channel(4);
        let task = tokio::spawn(async move {
            let mut hup = hangups(on_hup);
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let forced = tokio::select! {
                    _ = tick.tick() => false,
                    Some(()) = next_hup(&mut hup) => true,
                };
                let p = path.clone();
                let last = seen.clone();
                let Ok(Some((reading, now))) = tokio::task::spawn_blocking(move || {
                    let meta = std::fs::metadata(&p).ok();
                    let same_stamp = meta
                        .as_ref()
                        .is_some_and(|m| m.len() == last.len && m.modified().ok() == last.modified);
                    if !forced && same_stamp {
                        return None;
                    }
                    let (reading, now) = read(&p, shard);
                    // Unchanged content (a touch): nothing to do unless asked.
                    (forced || now.text != last.text || now.text.is_none())
                        .then_some((reading, now))
                })
                .await
                else {
                    continue;
                };
                let unchanged_failure =
                    reading.is_err() && seen.text.is_none() && now.text.is_none() && !forced;
                seen = now;
                if unchanged_failure {
                    // Still missing: said once already.
                    continue;
                }
                let msg = match reading {
                    Ok(t) => Reload::Targets(t),
                    Err(e) => Reload::Bad(e),
                };
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
        });
        Ok((first, Watcher { rx, task }))
    }

    /// The next reading; never, once the watcher is gone.
    pub async fn next(&mut self) -> Reload {
        match self.rx.recv().await {
            Some(r) => r,
            None => std::future::pending().await,
        }
    }
}

/// SIGHUP as a stream, when it means "reload".
fn hangups(on_hup: bool) -> Option<tokio::signal::unix::Signal> {
    if !on_hup {
        return None;
    }
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

async fn next_hup(hup: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match hup {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
