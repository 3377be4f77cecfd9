//! Recording: every engine event appended as the headless JSON line, on a thread of its own so
//! disk I/O never touches the render loop. Flushed at least once a second and on exit; rotated
//! by size; a write error is reported and monitoring goes on.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch};

use crate::engine::{Batch, Event, Stamped, StopReason, Tap};
use crate::jsonl::{Encoder, RecordHeader};

/// Batches in flight to the recorder; beyond this the engine (and so the socket) waits.
const QUEUE: usize = 256;
/// The longest a written line waits in memory before reaching the file.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Room kept at the end of a rotated part for its `stopped` line.
const STOPPED_LINE: u64 = 128;
/// How often a broken file is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// Where and how to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordOptions {
    /// The file (appended to).
    pub path: PathBuf,
    /// Start a new file when it would grow past this; 0 = never.
    pub max_bytes: u64,
    /// Rotated files kept (`FILE.1` newest).
    pub keep: usize,
    /// Written as the first line of each file: what is being recorded, secrets masked.
    pub header: RecordHeader,
}

/// What the recorder has done so far, for the screen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordStatus {
    /// The file being written.
    pub path: PathBuf,
    /// Bytes written, across rotations.
    pub bytes: u64,
    /// Events written.
    pub events: u64,
    /// Events that could not be written.
    pub lost: u64,
    /// The current write problem, if any.
    pub error: Option<String>,
    /// A notice worth showing (rotation, file recreated).
    pub notice: Option<String>,
    /// Still recording.
    pub active: bool,
    /// Rotated parts kept beside the file (`FILE.1` newest).
    pub parts: usize,
}

/// A running recorder: attach `tap` to an engine; read `status`; `finish` when the engine let go.
pub struct Recorder {
    /// The tap to give the engine.
    pub tap: Tap,
    /// Progress and problems.
    pub status: watch::Receiver<RecordStatus>,
    thread: std::thread::JoinHandle<()>,
}

impl Recorder {
    /// Opens (creates or appends to) the file and starts the recorder thread.
    pub fn start(opts: RecordOptions) -> io::Result<Recorder> {
        if let Some(dir) = opts.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir(dir)?;
        }
        let mut writer = RecordFile::open(opts)?;
        let (tx, mut rx) = mpsc::channel::<Batch>(QUEUE);
        let (status_tx, status) = watch::channel(writer.status());
        let handle = tokio::runtime::Handle::current();
        let thread = std::thread::Builder::new()
            .name("wsmon-recorder".into())
            .spawn(move || {
                loop {
                    let next = handle
                        .block_on(async { tokio::time::timeout(FLUSH_EVERY, rx.recv()).await });
                    match next {
                        Ok(Some(batch)) => writer.write_batch(&batch),
                        Ok(None) => break,
                        Err(_) => {}
                    }
                    writer.tend();
                    status_tx.send_if_modified(|s| {
                        let now = writer.status();
                        let changed = *s != now;
                        *s = now;
                        changed
                    });
                }
                writer.flush();
                let mut last = writer.status();
                last.active = false;
                status_tx.send_replace(last);
            })?;
        Ok(Recorder {
            tap: Tap(tx),
            status,
            thread,
        })
    }

    /// Ends the recording with a `stopped` line saying `why` at `at`, and waits for the last lines
    /// to reach the disk; call after the engine dropped its tap.
    pub async fn finish(self, why: StopReason, at: SystemTime) -> RecordStatus {
        let Recorder {
            tap,
            status,
            thread,
        } = self;
        let _ = tap
            .0
            .send(std::sync::Arc::new(vec![Stamped {
                at,
                event: Event::Stopped(why),
            }]))
            .await;
        drop(tap);
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        status.borrow().clone()
    }
}

/// The file side of the recorder.
struct RecordFile {
    opts: RecordOptions,
    file: Option<BufWriter<File>>,
    size: u64,
    bytes: u64,
    events: u64,
    lost: u64,
    error: Option<String>,
    notice: Option<String>,
    parts: usize,
    last_flush: Instant,
    last_retry: Instant,
    enc: Encoder,
    buf: Vec<u8>,
}

impl RecordFile {
    fn open(opts: RecordOptions) -> io::Result<RecordFile> {
        let mut w = RecordFile {
            opts,
            file: None,
            size: 0,
            bytes: 0,
            events: 0,
            lost: 0,
            error: None,
            notice: None,
            parts: 0,
            last_flush: Instant::now(),
            last_retry: Instant::now(),
            enc: Encoder::new(),
            buf: Vec::with_capacity(64 * 1024),
        };
        w.reopen()?;
        Ok(w)
    }

    fn status(&self) -> RecordStatus {
        RecordStatus {
            path: self.opts.path.clone(),
            bytes: self.bytes,
            events: self.events,
            lost: self.lost,
            error: self.error.clone(),
            notice: self.notice.clone(),
            active: true,
            parts: self.parts,
        }
    }

    /// Opens the file for appending and writes the header line.
    fn reopen(&mut self) -> io::Result<()> {
        let file = crate::paths::open_private(&self.opts.path, true)?;
        self.size = file.metadata()?.len();
        let mut file = BufWriter::with_capacity(256 * 1024, file);
        let header = crate::jsonl::schema::header_line(SystemTime::now(), &self.opts.header);
        file.write_all(&header)?;
        self.size += header.len() as u64;
        self.bytes += header.len() as u64;
        self.file = Some(file);
        Ok(())
    }

    fn write_batch(&mut self, batch: &Batch) {
        if self.file.is_none() && self.last_retry.elapsed() >= RETRY_EVERY {
            self.last_retry = Instant::now();
            match self.reopen() {
                Ok(()) => {
                    self.notice = Some(format!(
                        "recording again after a write error; {} events were not recorded",
                        self.lost
                    ));
                    self.error = None;
                }
                Err(e) => self.error = Some(describe(&self.opts.path, &e)),
            }
        }
        if self.file.is_none() {
            self.lost += batch.len() as u64;
            return;
        }
        self.buf.clear();
        // Events of this batch already in the file, and encoded in `buf` but not yet written.
        let (mut written, mut pending) = (0usize, 0usize);
        for e in batch.iter() {
            let start = self.buf.len();
            self.enc.encode(e, &mut self.buf);
            // Rotate at a line boundary so no part grows past the limit, its `stopped` line
            // included.
            if self.opts.max_bytes > 0
                && self.size > 0
                && self.size + self.buf.len() as u64 + STOPPED_LINE > self.opts.max_bytes
            {
                let line = self.buf.split_off(start);
                if !self.write_pending(pending) {
                    self.lost += (batch.len() - written) as u64;
                    return;
                }
                written += pending;
                pending = 0;
                self.rotate();
                self.buf = line;
                if self.file.is_none() {
                    self.lost += (batch.len() - written) as u64;
                    return;
                }
            }
            pending += 1;
        }
        if !self.write_pending(pending) {
            self.lost += (batch.len() - written) as u64;
        }
    }

    /// Writes the encoded lines in `buf` (`events` of them); false if the file failed.
    fn write_pending(&mut self, events: usize) -> bool {
        let Some(file) = self.file.as_mut() else {
            return false;
        };
        match file.write_all(&self.buf) {
            Ok(()) => {
                self.size += self.buf.len() as u64;
                self.bytes += self.buf.len() as u64;
                self.events += events as u64;
                self.buf.clear();
                true
            }
            Err(e) => {
                self.buf.clear();
                self.fail(&e, 0);
                false
            }
        }
    }

    fn fail(&mut self, e: &io::Error, events: usize) {
        self.error = Some(describe(&self.opts.path, e));
        self.lost += events as u64;
        // Drop the writer (its buffer cannot be written either); try a fresh file later.
        if let Some(f) = self.file.take() {
            let (_, _buffered) = f.into_parts();
        }
        self.last_retry = Instant::now();
    }

    /// Flushes once a second and notices a file removed from under us.
    fn tend(&mut self) {
        if self.last_flush.elapsed() < FLUSH_EVERY {
            return;
        }
        self.flush();
        if self.file.is_some() && removed(&self.opts.path, self.file.as_ref().map(|f| f.get_ref()))
        {
            self.file = None;
            match self.reopen() {
                Ok(()) => {
                    self.notice = Some(format!(
                        "{} was removed; recording into a new file",
                        self.opts.path.display()
                    ))
                }
                Err(e) => self.error = Some(describe(&self.opts.path, &e)),
            }
        }
    }

    fn flush(&mut self) {
        self.last_flush = Instant::now();
        if let Some(f) = self.file.as_mut()
            && let Err(e) = f.flush()
        {
            self.fail(&e, 0);
        }
    }

    /// `FILE` becomes `FILE.1`, `FILE.1` becomes `FILE.2`, ...; at most `keep` are kept.
    /// Each part ends with a `stopped` line that says the recording goes on in the next.
    fn rotate(&mut self) {
        let mut line = Vec::new();
        self.enc.encode(
            &Stamped {
                at: SystemTime::now(),
                event: Event::Stopped(StopReason::Rotated),
            },
            &mut line,
        );
        if let Some(f) = self.file.as_mut()
            && f.write_all(&line).is_ok()
        {
            self.bytes += line.len() as u64;
        }
        self.flush();
        self.file = None;
        let keep = self.opts.keep.max(1);
        let base = self.opts.path.clone();
        let numbered = |i: usize| PathBuf::from(format!("{}.{i}", base.display()));
        let _ = std::fs::remove_file(numbered(keep));
        for i in (1..keep).rev() {
            let _ = std::fs::rename(numbered(i), numbered(i + 1));
        }
        match std::fs::rename(&self.opts.path, numbered(1)) {
            Ok(()) => self.parts = (self.parts + 1).min(keep),
            Err(e) => self.error = Some(describe(&self.opts.path, &e)),
        }
        match self.reopen() {
            Ok(()) => {
                self.notice = Some(format!(
                    "rotated: the previous part is {}",
                    numbered(1).display()
                ))
            }
            Err(e) => self.error = Some(describe(&self.opts.path, &e)),
        }
    }
}

/// Whether `path` no longer names the file we hold open.
fn removed(path: &Path, open: Option<&File>) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Some(open) = open else { return false };
        match (std::fs::metadata(path), open.metadata()) {
            (Ok(on_disk), Ok(ours)) => on_disk.ino() != ours.ino() || on_disk.dev() != ours.dev(),
            (Err(_), _) => true,
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = open;
        !path.exists()
    }
}

fn describe(path: &Path, e: &io::Error) -> String {
    let what = match e.raw_os_error() {
        Some(28) => "the disk is full".to_string(),
        Some(122) => "the disk quota is exceeded".to_string(),
        _ => e.to_string(),
    };
    format!(
        "cannot write {}: {what}; monitoring goes on, events are counted as not recorded",
        path.display()
    )
}

/// A timestamped recording path in the data directory, for the `r` key.
pub(crate) fn default_path(data_dir: &Path) -> PathBuf {
    let ts = crate::text::timestamp(SystemTime::now()).replace([':', '-'], "");
    let stamp = &ts[..15];
    data_dir
        .join("recordings")
        .join(format!("wsmon-{stamp}Z.jsonl"))
}
