//! Replaying a recording: events fed with their original timing (scaled, paused or stepped)
//! to the same frontends as a live connection; or the recorded outgoing messages re-sent to a
//! server to reproduce a bug.

use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::engine::{Command, ConnSettings, Dir, Engine, Event, Kind, Stamped, Tagged, Warning};
use crate::jsonl::{Encoder, Item, Reader};

/// Events per batch handed to the frontend.
const BATCH: usize = 1024;

/// The replay's idea of "now": recorded time, advancing at `speed` times real time.
#[derive(Debug)]
pub struct ReplayClock {
    state: Mutex<ClockState>,
    changed: Notify,
}

#[derive(Debug)]
struct ClockState {
    virt: SystemTime,
    real: Instant,
    speed: f64,
    paused: bool,
    /// The recording has ended: time stands still at its last event.
    ended: bool,
}

impl ReplayClock {
    /// A clock at `speed` (0 = as fast as possible), paused or not.
    pub fn new(speed: f64, paused: bool) -> Arc<ReplayClock> {
        Arc::new(ReplayClock {
            state: Mutex::new(ClockState {
                virt: SystemTime::UNIX_EPOCH,
                real: Instant::now(),
                speed,
                paused,
                ended: false,
            }),
            changed: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The replayed time now.
    pub fn now(&self) -> SystemTime {
        let s = self.lock();
        if s.paused || s.ended || s.speed <= 0.0 {
            return s.virt;
        }
        s.virt + s.real.elapsed().mul_f64(s.speed)
    }

    /// Replay speed (0 = as fast as possible).
    pub fn speed(&self) -> f64 {
        self.lock().speed
    }

    /// Whether the replay is paused.
    pub fn paused(&self) -> bool {
        self.lock().paused
    }

    /// Sets the time, keeping speed and pause.
    fn set(&self, at: SystemTime) {
        let mut s = self.lock();
        s.virt = at;
        s.real = Instant::now();
    }

    /// Stops the clock at `at`, the recording's last event: nothing happens after it.
    fn finish(&self, at: SystemTime) {
        let mut s = self.lock();
        s.virt = at;
        s.ended = true;
    }

    /// Changes the speed from now on.
    pub(crate) fn set_speed(&self, speed: f64) {
        let now = self.now();
        let mut s = self.lock();
        s.virt = now;
        s.real = Instant::now();
        s.speed = speed.clamp(0.0, 10_000.0);
        drop(s);
        self.changed.notify_waiters();
    }

    /// Pauses or resumes; returns whether it is now paused.
    pub(crate) fn toggle_pause(&self) -> bool {
        let now = self.now();
        let mut s = self.lock();
        s.virt = now;
        s.real = Instant::now();
        s.paused = !s.paused;
        let paused = s.paused;
        drop(s);
        self.changed.notify_waiters();
        paused
    }
}

/// How far a replay has got: events replayed of those in the file, and the recorded time
/// they span.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    /// Events in the file; 0 until counted.
    total: AtomicU64,
    /// The first and the last event's time, as soon as they are known.
    span: Mutex<(Option<SystemTime>, Option<SystemTime>)>,
    ended: AtomicBool,
}

/// A replay's progress at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Position {
    /// Events replayed.
    pub done: u64,
    /// Events in the recording, once counted.
    pub total: Option<u64>,
    /// The recording's first event.
    pub first: Option<SystemTime>,
    /// The recording's last event.
    pub last: Option<SystemTime>,
    /// Everything was replayed.
    pub ended: bool,
}

impl Progress {
    /// Where the replay is now.
    pub fn position(&self) -> Position {
        let (first, last) = *self.span.lock().unwrap_or_else(|e| e.into_inner());
        Position {
            done: self.done.load(Ordering::Relaxed),
            total: Some(self.total.load(Ordering::Relaxed)).filter(|n| *n > 0),
            first,
            last,
            ended: self.ended.load(Ordering::Relaxed),
        }
    }

    fn span(&self, f: impl FnOnce(&mut (Option<SystemTime>, Option<SystemTime>))) {
        f(&mut self.span.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Counts the events of a recording and reads the time of its last one, without parsing
/// every line: the replay's "event n of N" and its length.
fn survey(path: &Path) -> io::Result<(u64, Option<SystemTime>)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    let (mut lines, mut headers) = (0u64, 0u64);
    let mut at_line_start = true;
    let mut last_line: Vec<u8> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            if b == b'\n' {
                if !current.is_empty() {
                    lines += 1;
                    const HEADER: &[u8] = b"\"event\":\"recording\"";
                    if current.windows(HEADER.len()).any(|w| w == HEADER) {
                        headers += 1;
                    }
                    last_line = std::mem::take(&mut current);
                }
                at_line_start = true;
            } else if at_line_start || !current.is_empty() {
                // Only the head of a line is kept (the header test and the timestamp are
                // there), so a line of megabytes costs nothing here.
                if current.len() < 256 {
                    current.push(b);
                }
                at_line_start = false;
            }
        }
    }
    if !current.is_empty() {
        lines += 1;
        last_line = current;
    }
    // `{"ts":"2026-11-25T12:00:00.000Z",...`: the timestamp is the first field.
    let last = std::str::from_utf8(&last_line)
        .ok()
        .and_then(|l| l.strip_prefix("{\"ts\":\""))
        .and_then(|l| l.split('"').next())
        .and_then(|ts| humantime::parse_rfc3339(ts).ok());
    Ok((lines - headers, last))
}

/// A replay in progress.
pub struct Player {
    /// Batches of replayed events, tagged as endpoint 0.
    pub events: mpsc::Receiver<Tagged>,
    /// Its clock.
    pub clock: Arc<ReplayClock>,
    /// How far it has got.
    pub progress: Arc<Progress>,
    /// Released once per step while paused.
    pub step: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Player {
    /// Stops the replay.
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// Items read ahead of the replay clock.
const READ_AHEAD: usize = 4096;

/// Starts replaying `path`; problems with single lines are reported in-band as warnings.
pub async fn play(path: &Path, speed: f64, paused: bool) -> io::Result<Player> {
    let reader = Reader::open(path)?;
    let progress = Arc::new(Progress::default());
    // The file is read on a blocking thread, ahead of the clock; the feed times what it reads.
    let (items_tx, items) = mpsc::channel(READ_AHEAD);
    let (surveyed, file) = (progress.clone(), path.to_path_buf());
    tokio::task::spawn_blocking(move || {
        if let Ok((events, last)) = survey(&file) {
            surveyed.total.store(events, Ordering::Relaxed);
            surveyed.span(|s| s.1 = last);
        }
    });
    tokio::task::spawn_blocking(move || {
        for item in reader {
            if items_tx.blocking_send(item).is_err() {
                return;
            }
        }
    });
    let clock = ReplayClock::new(speed, paused);
    let step = Arc::new(Notify::new());
    let (tx, events) = mpsc::channel(64);
    let task = tokio::spawn(feed(
        items,
        clock.clone(),
        step.clone(),
        progress.clone(),
        tx,
    ));
    Ok(Player {
        events,
        clock,
        progress,
        step,
        task,
    })
}

/// Times and sends the events read from the recording.
async fn feed(
    mut items: mpsc::Receiver<Item>,
    clock: Arc<ReplayClock>,
    step: Arc<Notify>,
    progress: Arc<Progress>,
    tx: mpsc::Sender<Tagged>,
) {
    let (mut replayed, mut skipped) = (0u64, 0u64);
    let mut last_at: Option<SystemTime> = None;
    let mut batch: Vec<Stamped> = Vec::with_capacity(BATCH);
    while let Some(item) = items.recv().await {
        let s = match item {
            Item::Event { event, .. } => event,
            Item::Header { .. } => continue,
            Item::Skipped { line, reason } => {
                skipped += 1;
                batch.push(Stamped {
                    at: last_at.unwrap_or(SystemTime::now()),
                    event: Event::Warning(Warning::SkippedLine { line, reason }),
                });
                continue;
            }
        };
        if last_at.is_none() {
            clock.set(s.at);
            progress.span(|span| span.0 = Some(s.at));
        }
        last_at = Some(s.at);
        // Hand over what is due before waiting for this one.
        if !batch.is_empty()
            && (clock.now() < s.at || batch.len() >= BATCH)
            && tx
                .send((0, Arc::new(std::mem::take(&mut batch))))
                .await
                .is_err()
        {
            return;
        }
        if !wait_until(&clock, &step, s.at).await {
            return;
        }
        replayed += 1;
        progress.done.store(replayed, Ordering::Relaxed);
        batch.push(s);
    }
    let end = last_at.unwrap_or(SystemTime::now());
    // Time stops at the last event: uptimes and ages do not run on after the recording.
    clock.finish(end);
    progress.span(|span| span.1 = Some(end));
    progress.ended.store(true, Ordering::Relaxed);
    batch.push(Stamped {
        at: end,
        event: Event::Warning(Warning::EndOfRecording { replayed, skipped }),
    });
    let _ = tx.send((0, Arc::new(batch))).await;
}

/// Waits until the replay clock reaches `at` (or a step releases one event while paused).
async fn wait_until(clock: &ReplayClock, step: &Notify, at: SystemTime) -> bool {
    loop {
        if clock.speed() <= 0.0 && !clock.paused() {
            clock.set(at);
            return true;
        }
        if clock.paused() {
            tokio::select! {
                _ = step.notified() => {
                    clock.set(at);
                    return true;
                }
                _ = clock.changed.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        }
        let now = clock.now();
        let Ok(ahead) = at.duration_since(now) else {
            return true;
        };
        if ahead.is_zero() {
            return true;
        }
        let real = ahead
            .div_f64(clock.speed().max(1e-6))
            .min(Duration::from_millis(250));
        tokio::select! {
            _ = tokio::time::sleep(real) => {}
            _ = clock.changed.notified() => {}
        }
    }
}

/// One recorded outgoing message and when it went.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// When it was sent.
    pub at: SystemTime,
    /// Text or binary.
    pub kind: Kind,
    /// Payload.
    pub data: bytes::Bytes,
}

/// The outgoing messages of a recording, in order, and the lines skipped as corrupt.
pub(crate) fn sent_messages(path: &Path) -> io::Result<(Vec<Sent>, Vec<String>)> {
    let mut sent = Vec::new();
    let mut problems = Vec::new();
    for item in Reader::open(path)? {
        match item {
            Item::Event {
                event:
                    Stamped {
                        at,
                        event: Event::Message(m),
                    },
                ..
            } if m.dir == Dir::Out => sent.push(Sent {
                at,
                kind: m.kind,
                data: m.data,
            }),
            Item::Skipped { line, reason } => {
                problems.push(crate::describe::warning(&Warning::SkippedLine {
                    line,
                    reason,
                }))
            }
            _ => {}
        }
    }
    Ok((sent, problems))
}

/// `wsmon replay FILE --send URL`: re-sends the recorded outgoing messages with their original
/// spacing (divided by `speed`), printing the new session as JSON lines.
pub async fn send(
    path: &Path,
    settings: ConnSettings,
    speed: f64,
    linger: Duration,
) -> anyhow::Result<ExitCode> {
    let (sent, problems) = sent_messages(path)
        .map_err(|e| anyhow::anyhow!("cannot open recording `{}`: {e}", path.display()))?;
    for p in &problems {
        eprintln!(
            "wsmon: {}",
            crate::text::sanitize(&format!("{}: {p}", path.display()))
        );
    }
    if sent.is_empty() {
        return Err(crate::error::UsageError(format!(
            "`{}` has no sent messages to replay",
            path.display()
        ))
        .into());
    }
    let Engine {
        commands,
        mut events,
        task,
    } = Engine::spawn(settings);
    let mut out = tokio::io::stdout();
    let mut enc = Encoder::new();
    let mut buf = Vec::new();
    // Wait for the first open before the clock starts.
    let mut open = false;
    while !open {
        let Some(batch) = events.recv().await else {
            return Ok(ExitCode::from(1));
        };
        buf.clear();
        for s in batch.iter() {
            enc.encode(s, &mut buf);
            open |= matches!(s.event, Event::Open(_));
            if matches!(s.event, Event::GaveUp { .. }) {
                let _ = out.write_all(&buf).await;
                eprintln!("wsmon: gave up connecting; nothing was re-sent");
                return Ok(ExitCode::from(1));
            }
        }
        out.write_all(&buf).await?;
        out.flush().await?;
    }
    let start = Instant::now();
    let first = sent[0].at;
    let mut next = 0;
    let stop = crate::signals::wait_for_stop();
    tokio::pin!(stop);
    let mut done_at: Option<Instant> = None;
    loop {
        let due = sent.get(next).map(|m| {
            let offset = m.at.duration_since(first).unwrap_or_default();
            start
                + if speed > 0.0 {
                    offset.div_f64(speed)
                } else {
                    Duration::ZERO
                }
        });
        let linger_until = done_at.map(|d| d + linger);
        tokio::select! {
            _ = crate::deadline::sleep_until(due) => {
                let m = &sent[next];
                let _ = commands.send(Command::Send { kind: m.kind, data: m.data.clone() }).await;
                next += 1;
                if next == sent.len() {
                    done_at = Some(Instant::now());
                }
            }
            _ = crate::deadline::sleep_until(linger_until) => break,
            batch = events.recv() => {
                let Some(batch) = batch else { break };
                buf.clear();
                for s in batch.iter() {
                    enc.encode(s, &mut buf);
                }
                if out.write_all(&buf).await.is_err() || out.flush().await.is_err() {
                    break;
                }
            }
            _ = &mut stop => break,
        }
    }
    let _ = commands.send(Command::Shutdown).await;
    while let Ok(Some(batch)) = tokio::time::timeout(Duration::from_secs(3), events.recv()).await {
        buf.clear();
        for s in batch.iter() {
            enc.encode(s, &mut buf);
        }
        let _ = out.write_all(&buf).await;
    }
    let _ = out.flush().await;
    let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn the_replay_clock_runs_at_its_speed_and_stops_when_paused() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * S;
        let clock = ReplayClock::new(2.0, false);
        clock.set(t0);
        tokio::time::sleep(S).await;
        assert_eq!(clock.now(), t0 + 2 * S, "twice as fast as real time");
        assert!(clock.toggle_pause());
        tokio::time::sleep(10 * S).await;
        assert_eq!(clock.now(), t0 + 2 * S, "paused: the clock stands");
        assert!(!clock.toggle_pause());
        clock.set_speed(0.5);
        tokio::time::sleep(4 * S).await;
        assert_eq!(clock.now(), t0 + 4 * S, "half as fast");
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_replay_releases_one_event_per_step() {
        let clock = ReplayClock::new(1.0, true);
        let step = Notify::new();
        let at = SystemTime::UNIX_EPOCH + 5000 * S;
        clock.set(SystemTime::UNIX_EPOCH);
        let waiting = wait_until(&clock, &step, at);
        tokio::pin!(waiting);
        // Paused: an hour goes by and the event does not come.
        assert!(
            tokio::time::timeout(3600 * S, &mut waiting).await.is_err(),
            "a paused replay waits"
        );
        step.notify_one();
        assert!(waiting.await, "a step releases it");
        assert_eq!(clock.now(), at, "and the clock moves to it");
    }
}
