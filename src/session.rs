//! A session: the endpoints being watched and what the whole run does besides (recording,
//! metrics, the dashboard's bounds). Every frontend (dashboard, headless, replay) runs on one.

mod targets;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::engine::{
    Batch, Command, ConnSettings, DropReason, Engine, Event, Stamped, StopReason, Tagged,
};
use crate::error::UsageError;
use crate::jsonl::RecordHeader;
use crate::metrics::{ScrapeQueue, Scrapes};
use crate::record::{RecordOptions, RecordStatus, Recorder};
use crate::replay::Player;
pub use crate::targets::TargetsStatus;
pub use targets::TargetsChange;

/// One endpoint to watch: its name and how to connect.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// How it is called on screen, in JSON lines and in metrics.
    pub name: String,
    /// How to connect.
    pub settings: ConnSettings,
    /// Labels its metrics carry (a targets file's), sorted by name.
    pub labels: Arc<[(String, String)]>,
}

impl Endpoint {
    /// An endpoint without labels.
    pub fn new(name: String, settings: ConnSettings) -> Endpoint {
        Endpoint {
            name,
            settings,
            labels: Arc::from([]),
        }
    }
}

/// The endpoints that take commands now, by id and name (stdin lines go to them).
pub(crate) type Directory = Arc<Vec<(usize, String, mpsc::Sender<Command>)>>;

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
    /// Start a new `wsmon.log` past this size; 0 = never.
    pub log_file_max_bytes: u64,
    /// Old `wsmon.log` files kept.
    pub log_file_keep: usize,
    /// The dashboard captures the mouse (the wheel scrolls; off: the terminal selects text).
    pub mouse: bool,
    /// The dashboard's keys, `[keys]` applied (one for every dashboard of a fleet).
    pub keymap: std::sync::Arc<crate::keymap::Keymap>,
    /// How `/probe` probes: the `[module.NAME]` tables.
    pub probes: std::sync::Arc<crate::probe::Prober>,
    /// Watch the targets this file lists, as it changes.
    pub targets_file: Option<PathBuf>,
    /// Watch only this shard of the targets file.
    pub shard: Option<crate::targets::Shard>,
    /// SIGHUP reads the targets file again (headless; in the dashboard it means the
    /// terminal is gone).
    pub hup_reloads: bool,
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
            log_file_max_bytes: crate::logging::LogFile::default().max_bytes,
            log_file_keep: crate::logging::LogFile::default().keep,
            mouse: true,
            keymap: Default::default(),
            probes: Default::default(),
            targets_file: None,
            shard: None,
            hup_reloads: false,
        }
    }
}

impl SessionOptions {
    /// How `wsmon.log` is kept.
    pub(crate) fn log_file(&self) -> crate::logging::LogFile {
        crate::logging::LogFile {
            max_bytes: self.log_file_max_bytes,
            keep: self.log_file_keep,
        }
    }

    /// How a recording of the endpoint of `settings` into `path` is set up.
    pub(crate) fn record_options(&self, path: PathBuf, settings: &ConnSettings) -> RecordOptions {
        RecordOptions {
            path,
            max_bytes: self.record_max_bytes,
            keep: self.record_keep,
            header: RecordHeader::of(settings),
        }
    }
}

/// Where a session's events come from.
enum Feed {
    /// Live engines, one per endpoint.
    Live(Vec<Handle>),
    /// A recording being replayed.
    Replay(Player),
}

/// One live endpoint: its engine and, while recording, its recorder.
struct Handle {
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
    recorder: Option<Recorder>,
    /// How a recording started with `r` is set up (the path aside).
    record_template: RecordOptions,
}

/// A running session: the endpoints' events in one channel, the commands back to them, and
/// what is attached (recorders, the metrics endpoint). The dashboard, headless mode and a
/// replay all run on one, so starting, recording, scraping and shutting down are written once.
pub struct Session {
    names: Vec<String>,
    /// Each endpoint's labels.
    labels: Vec<Arc<[(String, String)]>>,
    /// Whether each endpoint is still watched (a targets file's may be removed).
    live: Vec<bool>,
    /// The targets file, when there is one.
    targets: Option<targets::LiveTargets>,
    /// The endpoints that take commands, for those that send them from elsewhere.
    directory: watch::Sender<Directory>,
    /// The targets file's first set, until a frontend takes it (the dashboard makes one
    /// per endpoint).
    first_targets: Vec<Endpoint>,
    /// What each endpoint is, secrets masked (a replay's: its recording's header).
    headers: Vec<RecordHeader>,
    /// The largest message any endpoint may send.
    max_message: usize,
    /// Tagged batches from every endpoint (or from the replay, as endpoint 0).
    events: mpsc::Receiver<Tagged>,
    events_open: bool,
    feed: Feed,
    scrapes: Option<ScrapeQueue>,
    metrics_at: Option<SocketAddr>,
}

/// Why a command did not reach an engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Its queue is full; try again.
    Busy,
    /// The engine has stopped.
    Stopped,
    /// A replay has no connection to command.
    NotLive,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CommandError::Busy => "the engine is busy; try again",
            CommandError::Stopped => "the engine has stopped",
            CommandError::NotLive => "replay: there is no live connection",
        })
    }
}

/// What a session hands its frontend next.
#[derive(Debug)]
pub enum Arrival {
    /// Events of endpoint `.0`.
    Batch(usize, Batch),
    /// Metrics scrapes to answer with one rendering of the frontend's stats.
    Scrape(Scrapes),
    /// The recorder of endpoint 0 has a new problem (monitoring goes on).
    RecordingProblem(String),
    /// The targets file was read again: endpoints started or closed, or it was refused.
    Targets(TargetsChange),
    /// No more events will come.
    Ended,
}

/// The next metrics scrape; never, without `--metrics`.
async fn next_scrape(scrapes: &mut Option<ScrapeQueue>) -> Scrapes {
    match scrapes {
        Some(q) => q.next().await,
        None => std::future::pending().await,
    }
}

/// A new problem of endpoint 0's recorder; never, when nothing records.
async fn recording_problem(feed: &mut Feed) -> String {
    let rx = match feed {
        Feed::Live(handles) => handles
            .first_mut()
            .and_then(|h| h.recorder.as_mut())
            .map(|r| &mut r.status),
        Feed::Replay(_) => None,
    };
    let Some(rx) = rx else {
        return std::future::pending().await;
    };
    loop {
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
        if let Some(e) = rx.borrow_and_update().error.clone() {
            return e;
        }
    }
}

/// What recording an endpoint now does, after `Session::toggle_recording`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RecordingChange {
    /// Recording started into this file.
    Started(PathBuf),
    /// Recording stopped; this is what was written.
    Stopped(RecordStatus),
    /// Recording could not start.
    Failed(String),
}

/// What a session left behind when it ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Finished {
    /// Queued messages that were never sent.
    pub not_sent: u64,
    /// What each recording wrote.
    pub recordings: Vec<RecordStatus>,
}

impl Session {
    /// Starts one engine per endpoint; with `options.record`, records the (one) endpoint from
    /// the first event; with `options.metrics`, serves `/metrics` (whose scrapes the frontend
    /// answers, see `next_scrape`).
    pub async fn start(
        endpoints: Vec<Endpoint>,
        options: &SessionOptions,
    ) -> anyhow::Result<Session> {
        if options.record.is_some() && endpoints.len() > 1 {
            return Err(UsageError(format!(
                "--record records one endpoint and {} are given: record them one at a time, or press F6 in one endpoint's dashboard",
                endpoints.len()
            ))
            .into());
        }
        let scrapes = match options.metrics {
            Some(addr) => {
                let (bound, scrapes) = crate::metrics::serve(addr, options.probes.clone()).await.map_err(|e| {
                    UsageError(format!(
                        "--metrics {addr}: cannot listen there ({e}); give a free address, e.g. --metrics 127.0.0.1:9464"
                    ))
                })?;
                tracing::info!(%bound, "serving Prometheus metrics");
                Some((bound, scrapes))
            }
            None => None,
        };
        let watched = targets::first_reading(options)?;
        let (tx, events) = Engine::fleet_channel(if watched.is_some() {
            usize::MAX
        } else {
            endpoints.len()
        });
        let mut session = Session {
            names: Vec::with_capacity(endpoints.len()),
            labels: Vec::with_capacity(endpoints.len()),
            live: Vec::with_capacity(endpoints.len()),
            targets: None,
            directory: watch::channel(Arc::new(Vec::new())).0,
            first_targets: Vec::new(),
            headers: Vec::with_capacity(endpoints.len()),
            max_message: 0,
            events,
            events_open: true,
            feed: Feed::Live(Vec::with_capacity(endpoints.len())),
            metrics_at: scrapes.as_ref().map(|(bound, _)| *bound),
            scrapes: scrapes.map(|(_, s)| s),
        };
        for e in endpoints {
            let recorder = match &options.record {
                Some(path) => {
                    let opts = RecordOptions {
                        path: path.clone(),
                        ..options.record_options(PathBuf::new(), &e.settings)
                    };
                    Some(Recorder::start(opts).map_err(|err| {
                        UsageError(format!("cannot record to `{}`: {err}", path.display()))
                    })?)
                }
                None => None,
            };
            session.spawn(e, &tx, recorder, options);
        }
        if let Some((endpoints, watcher, urls)) = watched {
            let spread = targets::stagger(endpoints.len());
            let mut by_url = HashMap::with_capacity(urls.len());
            let mut taken: std::collections::HashSet<String> =
                session.names.iter().cloned().collect();
            for (mut e, url) in endpoints.into_iter().zip(urls) {
                e.settings.stagger = spread;
                targets::unique_name(&mut e.name, &mut taken);
                by_url.insert(url, session.names.len());
                session.first_targets.push(e.clone());
                session.spawn(e, &tx, None, options);
            }
            session.targets = Some(targets::LiveTargets {
                watcher,
                tx,
                status: TargetsStatus {
                    path: options.targets_file.clone().expect("a targets file"),
                    ok: true,
                    targets: by_url.len(),
                    reloads: 0,
                    changed_at: SystemTime::now(),
                    problem: None,
                },
                by_url,
                prober: options.probes.clone(),
                options: options.clone(),
            });
        }
        session.publish_directory();
        tracing::info!(endpoints = session.names.len(), "session started");
        Ok(session)
    }

    /// Starts endpoint `e`'s engine as the next id, its events into `tx`.
    fn spawn(
        &mut self,
        e: Endpoint,
        tx: &mpsc::Sender<Tagged>,
        recorder: Option<Recorder>,
        options: &SessionOptions,
    ) {
        let Feed::Live(handles) = &mut self.feed else {
            unreachable!("engines start only in a live session")
        };
        let template = options.record_options(PathBuf::new(), &e.settings);
        let tap = recorder.as_ref().map(|r| r.tap.clone());
        self.headers.push(template.header.clone());
        self.max_message = self.max_message.max(e.settings.max_message_size);
        let h = Engine::spawn_tagged(e.settings, self.names.len(), tx.clone(), tap);
        self.labels.push(e.labels);
        self.names.push(e.name);
        self.live.push(true);
        handles.push(Handle {
            commands: h.commands,
            task: h.task,
            recorder,
            record_template: template,
        });
    }

    /// Tells those who send commands which endpoints take them now.
    fn publish_directory(&self) {
        let Feed::Live(handles) = &self.feed else {
            return;
        };
        let dir: Vec<(usize, String, mpsc::Sender<Command>)> = handles
            .iter()
            .enumerate()
            .filter(|(id, _)| self.live[*id])
            .map(|(id, h)| (id, self.names[id].clone(), h.commands.clone()))
            .collect();
        self.directory.send_replace(Arc::new(dir));
    }

    /// A session over a replay of a recording (`header`: its header), as one endpoint.
    pub fn replay(mut player: Player, name: String, header: RecordHeader) -> Session {
        let events = std::mem::replace(&mut player.events, mpsc::channel(1).1);
        Session {
            names: vec![name],
            labels: vec![Arc::from([])],
            live: vec![true],
            targets: None,
            directory: watch::channel(Arc::new(Vec::new())).0,
            first_targets: Vec::new(),
            headers: vec![header],
            max_message: 0,
            events,
            events_open: true,
            feed: Feed::Replay(player),
            scrapes: None,
            metrics_at: None,
        }
    }

    /// Where `/metrics` is served, with `--metrics`.
    pub(crate) fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_at
    }

    /// The endpoints' names, in engine order (a removed target's too).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The endpoints watched now: id, name and labels (a targets file's removed ones left
    /// out), for metrics.
    pub fn watched(&self) -> impl Iterator<Item = (usize, &str, &[(String, String)])> {
        self.names
            .iter()
            .zip(&self.labels)
            .enumerate()
            .filter(|(id, _)| self.live[*id])
            .map(|(id, (n, l))| (id, n.as_str(), &l[..]))
    }

    /// The endpoints of the targets file's first reading (ids after the configured ones),
    /// once.
    pub(crate) fn take_first_targets(&mut self) -> Vec<Endpoint> {
        std::mem::take(&mut self.first_targets)
    }

    /// Whether endpoint `id` is still watched.
    pub(crate) fn is_watched(&self, id: usize) -> bool {
        self.live.get(id).copied().unwrap_or(false)
    }

    /// How the targets file stands, when there is one.
    pub(crate) fn targets_status(&self) -> Option<&TargetsStatus> {
        self.targets.as_ref().map(|t| &t.status)
    }

    /// The largest message any endpoint may send: a longer stdin line is refused unread.
    pub fn max_message_size(&self) -> usize {
        self.max_message
    }

    /// What each endpoint is (URL, heartbeat, preset), secrets masked, in engine order.
    pub fn headers(&self) -> &[RecordHeader] {
        &self.headers
    }

    /// The replay, when this is one.
    pub fn player(&self) -> Option<&Player> {
        match &self.feed {
            Feed::Replay(p) => Some(p),
            Feed::Live(_) => None,
        }
    }

    /// The session's clock: the replay's, or the wall clock.
    pub fn now(&self) -> SystemTime {
        match &self.feed {
            Feed::Replay(p) => p.clock.now(),
            Feed::Live(_) => SystemTime::now(),
        }
    }

    /// Hands a command to endpoint `id`'s engine without waiting.
    pub fn command(&self, id: usize, cmd: Command) -> Result<(), CommandError> {
        let Feed::Live(handles) = &self.feed else {
            return Err(CommandError::NotLive);
        };
        let h = handles.get(id).ok_or(CommandError::Stopped)?;
        h.commands.try_send(cmd).map_err(|e| match e {
            TrySendError::Full(_) => CommandError::Busy,
            TrySendError::Closed(_) => CommandError::Stopped,
        })
    }

    /// The endpoints that take commands, as it changes (headless mode forwards stdin lines
    /// to them).
    pub fn directory(&self) -> watch::Receiver<Directory> {
        self.directory.subscribe()
    }

    /// Asks every engine to close politely and stop (an engine already gone is skipped), or
    /// stops a replay where it is: its events end after what was already handed over. The
    /// targets file is no longer watched.
    pub async fn shutdown(&mut self) {
        self.targets = None;
        match &self.feed {
            Feed::Live(handles) => {
                for (id, h) in handles.iter().enumerate() {
                    if self.live[id] {
                        let _ = h.commands.send(Command::Shutdown).await;
                    }
                }
            }
            Feed::Replay(player) => player.stop(),
        }
    }

    /// Starts recording endpoint `id` into a new file in the data directory, or stops it.
    pub(crate) async fn toggle_recording(&mut self, id: usize) -> RecordingChange {
        let Feed::Live(handles) = &mut self.feed else {
            return RecordingChange::Failed(CommandError::NotLive.to_string());
        };
        let Some(h) = handles.get_mut(id) else {
            return RecordingChange::Failed(CommandError::Stopped.to_string());
        };
        if let Some(r) = h.recorder.take() {
            let _ = h.commands.send(Command::Tap(None)).await;
            return RecordingChange::Stopped(
                r.finish(StopReason::RecordingStopped, SystemTime::now())
                    .await,
            );
        }
        let Some(dir) = crate::paths::data_dir() else {
            return RecordingChange::Failed(
                "no data directory to record into: set WSMON_DATA_DIR or use --record FILE".into(),
            );
        };
        let opts = RecordOptions {
            path: crate::record::default_path(&dir),
            ..h.record_template.clone()
        };
        match Recorder::start(opts.clone()) {
            Ok(r) => {
                let _ = h.commands.send(Command::Tap(Some(r.tap.clone()))).await;
                h.recorder = Some(r);
                RecordingChange::Started(opts.path)
            }
            Err(e) => {
                RecordingChange::Failed(format!("cannot record to {}: {e}", opts.path.display()))
            }
        }
    }

    /// What endpoint `id`'s recorder has done so far, while it records.
    pub fn recording(&self, id: usize) -> Option<RecordStatus> {
        match &self.feed {
            Feed::Live(handles) => handles
                .get(id)?
                .recorder
                .as_ref()
                .map(|r| r.status.borrow().clone()),
            Feed::Replay(_) => None,
        }
    }

    /// The next thing a frontend must handle: a batch of events, a metrics scrape to answer,
    /// a recording problem to report, or the end of the events (a replay that ran out, or
    /// every engine gone); after the end, only scrapes and problems come.
    pub async fn next(&mut self) -> Arrival {
        let Session {
            events,
            events_open,
            feed,
            scrapes,
            targets,
            ..
        } = self;
        // Not biased: a scrape flood and an event flood each get their turn (and scrapes
        // that come together share one rendering).
        let reload = tokio::select! {
            reload = Session::next_reload(targets) => reload,
            scrape = next_scrape(scrapes) => return Arrival::Scrape(scrape),
            problem = recording_problem(feed) => return Arrival::RecordingProblem(problem),
            batch = events.recv(), if *events_open => return match batch {
                Some((id, batch)) => Arrival::Batch(id, batch),
                None => {
                    *events_open = false;
                    Arrival::Ended
                }
            },
        };
        Arrival::Targets(self.apply_reload(reload))
    }

    /// A batch that is already waiting, without waiting for one (to fold a burst at once).
    pub(crate) fn try_batch(&mut self) -> Option<Tagged> {
        self.events.try_recv().ok()
    }

    /// Closes every connection politely, lets the last events and recorded lines out (a
    /// recording ends with a `stopped` line saying `why`), and says what was left: messages
    /// never sent, and what each recording wrote.
    pub async fn finish(self, why: StopReason, at: SystemTime) -> Finished {
        self.finish_with(why, at, |_, _| {}).await
    }

    /// Like `finish`, handing each last batch to `last` as it comes (headless writes them:
    /// the `closing` and `closed` lines of a stop are part of the output).
    pub(crate) async fn finish_with(
        mut self,
        why: StopReason,
        at: SystemTime,
        mut last: impl FnMut(usize, &[Stamped]),
    ) -> Finished {
        let mut done = Finished::default();
        // New engines no longer start, and the channel ends with the last engine.
        self.targets = None;
        let handles = match std::mem::replace(&mut self.feed, Feed::Live(Vec::new())) {
            Feed::Live(handles) => handles,
            Feed::Replay(player) => {
                player.stop();
                return done;
            }
        };
        for h in &handles {
            let _ = h.commands.send(Command::Shutdown).await;
        }
        let mut tasks = Vec::new();
        let mut recorders = Vec::new();
        for h in handles {
            tasks.push(h.task);
            recorders.extend(h.recorder);
        }
        let events = &mut self.events;
        let not_sent = &mut done.not_sent;
        // Drained even after the frontend saw the end: the engines' last events come now. An
        // engine's close handshake waits at most 2 s for the peer, so its `closed` comes
        // within this bound.
        let _ = tokio::time::timeout(Duration::from_secs(3), async {
            while let Some((id, batch)) = events.recv().await {
                last(id, &batch);
                *not_sent += batch
                    .iter()
                    .filter(|s| {
                        matches!(
                            s.event,
                            Event::Dropped {
                                reason: DropReason::Shutdown,
                                ..
                            }
                        )
                    })
                    .count() as u64;
            }
            futures_util::future::join_all(tasks).await;
        })
        .await;
        for r in recorders {
            done.recordings.push(r.finish(why, at).await);
        }
        done
    }
}
