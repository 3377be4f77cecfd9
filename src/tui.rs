//! The dashboard frontend: a ratatui screen over the engine's events and commands.
//! It never touches the socket; it reads events and sends commands.

pub mod app;
pub mod fleet;
pub mod input;
pub mod log;
pub mod panes;
pub mod render;
pub mod theme;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, EventStream,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Frame};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::{Instant, sleep_until};

use crate::engine::{Command, ConnSettings, ConnState, DropReason, Engine, Event, Stamped, Tagged};
use crate::error::UsageError;
use crate::metrics::Metrics;
use crate::record::{RecordOptions, Recorder};
use crate::replay::Player;
use crate::text;
use app::{App, Effect, Overlay, ReplayView, UiOptions};
use fleet::FleetApp;
use log::Level;

/// Most engine batches folded in before the loop looks at keys and the clock again.
const BATCHES_PER_TURN: usize = 64;

/// Whether wsmon has the terminal in raw mode on the alternate screen right now.
static TERMINAL_OWNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Gives the terminal back, once: a second "leave the alternate screen" would restore the
/// cursor to where it was on entry and print over whatever came since (a panic message).
fn restore_terminal() {
    if TERMINAL_OWNED.swap(false, std::sync::atomic::Ordering::SeqCst) {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste
        );
        ratatui::restore();
    }
}

/// Restores the terminal when dropped, so every exit path (return, `?`, panic unwinding)
/// leaves a usable shell; a panic hook restores it before the panic message is printed.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<(TerminalGuard, DefaultTerminal)> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        ratatui::crossterm::terminal::enable_raw_mode()?;
        TERMINAL_OWNED.store(true, std::sync::atomic::Ordering::SeqCst);
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            ratatui::crossterm::terminal::EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        let terminal =
            ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Lays out and clamps scrolling for a screen of `area` before drawing.
pub fn prepare(app: &mut App, area: Rect) {
    let regions = render::regions(area);
    app.sync_view(regions.log_rows());
    if let Some(Overlay::Detail(d)) = &mut app.overlay {
        let inner = panes::detail::area_for(area);
        let (w, h) = (
            inner.width.saturating_sub(2) as usize,
            inner.height.saturating_sub(2) as usize,
        );
        let total = panes::detail::wrapped_lines(&d.body, w);
        d.scroll = d.scroll.min(total.saturating_sub(h));
    }
}

/// What the loop draws and feeds: one endpoint's dashboard, or a fleet of them.
pub trait Screen {
    /// Frame-rate cap.
    fn fps(&self) -> u32;
    /// Sets the clock the panes show.
    fn set_now(&mut self, now: SystemTime);
    /// Folds a batch of endpoint `id`'s events in; returns whether the screen should be
    /// redrawn now rather than at the next clock tick.
    fn apply(&mut self, id: usize, batch: &[Stamped]) -> bool;
    /// Handles a terminal event; returns what to do, and for which endpoint.
    fn on_terminal(&mut self, ev: &TermEvent) -> Vec<(usize, Effect)>;
    /// Called about once a second.
    fn tick(&mut self, now: SystemTime);
    /// A countdown in tenths of a second is on screen.
    fn counting_down(&self) -> bool;
    /// The user asked to quit.
    fn quit(&self) -> bool;
    /// Endpoint `id`'s dashboard.
    fn app_mut(&mut self, id: usize) -> &mut App;
    /// Lays out and draws a frame.
    fn draw(&mut self, frame: &mut Frame<'_>);
}

/// Draws one dashboard filling the frame, with the cursor where typing goes.
fn draw_app(app: &mut App, frame: &mut Frame<'_>) {
    let area = frame.area();
    prepare(app, area);
    let r = render::regions(area);
    frame.render_widget(&*app, area);
    if app.overlay.is_none()
        && let Some(pos) = panes::input::cursor(app, r.input)
    {
        frame.set_cursor_position(pos);
    }
}

fn waiting(app: &App) -> bool {
    matches!(app.stats().state, ConnState::Waiting { .. })
}

impl Screen for App {
    fn fps(&self) -> u32 {
        self.opts.fps
    }
    fn set_now(&mut self, now: SystemTime) {
        self.now = now;
    }
    fn apply(&mut self, _id: usize, batch: &[Stamped]) -> bool {
        App::apply(self, batch);
        true
    }
    fn on_terminal(&mut self, ev: &TermEvent) -> Vec<(usize, Effect)> {
        let effects = App::on_terminal(self, ev);
        let mut out = Vec::with_capacity(effects.len());
        for e in effects {
            match e {
                // With one endpoint, "every open endpoint" is this one when it is open.
                Effect::Broadcast(cmd) if self.stats().state == ConnState::Open => {
                    out.push((0, Effect::Engine(cmd)));
                }
                Effect::Broadcast(_) => self.say(
                    Level::Warn,
                    "broadcast: the connection is not open; nothing sent",
                ),
                other => out.push((0, other)),
            }
        }
        out
    }
    fn tick(&mut self, now: SystemTime) {
        App::tick(self, now);
    }
    fn counting_down(&self) -> bool {
        waiting(self)
    }
    fn quit(&self) -> bool {
        self.quit
    }
    fn app_mut(&mut self, _id: usize) -> &mut App {
        self
    }
    fn draw(&mut self, frame: &mut Frame<'_>) {
        draw_app(self, frame);
    }
}

impl Screen for FleetApp {
    fn fps(&self) -> u32 {
        self.apps.first().map_or(30, |a| a.opts.fps)
    }
    fn set_now(&mut self, now: SystemTime) {
        FleetApp::set_now(self, now);
    }
    fn apply(&mut self, id: usize, batch: &[Stamped]) -> bool {
        FleetApp::apply(self, id, batch)
    }
    fn on_terminal(&mut self, ev: &TermEvent) -> Vec<(usize, Effect)> {
        FleetApp::on_terminal(self, ev)
    }
    fn tick(&mut self, now: SystemTime) {
        FleetApp::tick(self, now);
    }
    fn counting_down(&self) -> bool {
        self.drilled.is_some_and(|d| waiting(&self.apps[d]))
    }
    fn quit(&self) -> bool {
        self.quit
    }
    fn app_mut(&mut self, id: usize) -> &mut App {
        &mut self.apps[id]
    }
    fn draw(&mut self, frame: &mut Frame<'_>) {
        if let Some(d) = self.drilled {
            draw_app(&mut self.apps[d], frame);
            return;
        }
        let area = frame.area();
        let order = self.sync_view(panes::overview::table_rows(area));
        panes::overview::render(self, &order, area, frame.buffer_mut());
        if let Some(pos) = panes::overview::cursor(self, area) {
            frame.set_cursor_position(pos);
        }
    }
}

/// What the dashboard is attached to.
pub enum Session {
    /// Live engines, one per endpoint, perhaps recording.
    Live {
        /// Each endpoint's command channel, in engine order.
        commands: Vec<mpsc::Sender<Command>>,
        /// Each endpoint's recorder, while recording.
        recorders: Vec<Option<Recorder>>,
        /// How a recording started with `r` is set up (path aside), per endpoint.
        record_templates: Vec<RecordOptions>,
        /// Prometheus metrics fed with every batch.
        metrics: Option<Arc<Metrics>>,
    },
    /// A recording being replayed.
    Replay {
        /// The replay's clock and controls.
        player: Player,
    },
}

impl Session {
    /// Live engines without recorders or metrics (benchmarks drive the loop with these).
    pub fn live(commands: Vec<mpsc::Sender<Command>>) -> Session {
        let n = commands.len();
        Session::Live {
            commands,
            recorders: (0..n).map(|_| None).collect(),
            record_templates: vec![
                RecordOptions {
                    path: Default::default(),
                    max_bytes: 0,
                    keep: 1,
                    header: Default::default(),
                };
                n
            ],
            metrics: None,
        }
    }

    fn now(&self) -> SystemTime {
        match self {
            Session::Live { .. } => SystemTime::now(),
            Session::Replay { player } => player.clock.now(),
        }
    }
}

fn check_terminal() -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the dashboard needs a terminal, and stdin/stdout are redirected: use --headless for JSON lines (wsmon --headless URL | jq .)"
                .into(),
        )
        .into());
    }
    Ok(())
}

/// One endpoint to watch: how to reach it, how to show it, how `r` records it.
pub struct Watch {
    /// Connection settings.
    pub settings: ConnSettings,
    /// Dashboard options.
    pub opts: UiOptions,
    /// How a recording of it is set up.
    pub record: RecordOptions,
}

/// Watches live connections until the user quits or a stop signal arrives: one endpoint's
/// dashboard, or with several an overview of them all. `record_now` records each endpoint to
/// its `Watch::record` from the first event; `metrics` is fed with every event.
pub async fn run(
    watches: Vec<Watch>,
    record_now: bool,
    metrics: Option<Arc<Metrics>>,
) -> anyhow::Result<ExitCode> {
    check_terminal()?;
    let n = watches.len();
    let (tx, mut events) = Engine::fleet_channel(n);
    let mut commands = Vec::with_capacity(n);
    let mut tasks = Vec::with_capacity(n);
    let mut recorders = Vec::with_capacity(n);
    let mut templates = Vec::with_capacity(n);
    let mut apps = Vec::with_capacity(n);
    for (id, w) in watches.into_iter().enumerate() {
        let recorder = if record_now {
            Some(Recorder::start(w.record.clone()).map_err(|e| {
                UsageError(format!(
                    "cannot record to `{}`: {e}",
                    w.record.path.display()
                ))
            })?)
        } else {
            None
        };
        let tap = recorder.as_ref().map(|r| r.tap.clone());
        let h = Engine::spawn_tagged(w.settings, id, tx.clone(), tap);
        commands.push(h.commands);
        tasks.push(h.task);
        recorders.push(recorder);
        templates.push(w.record);
        apps.push(App::new(w.opts));
    }
    drop(tx);
    let mut session = Session::Live {
        commands: commands.clone(),
        recorders,
        record_templates: templates,
        metrics,
    };
    let summaries = if n == 1 {
        let mut app = apps.pop().expect("one endpoint");
        run_loop(&mut app, &mut events, &mut session).await?;
        vec![summary(&app)]
    } else {
        let mut fleet = FleetApp::new(apps);
        run_loop(&mut fleet, &mut events, &mut session).await?;
        fleet_summary(&fleet)
    };
    // The screen is back; now close politely and let the recorders write their last lines.
    crate::engine::shutdown_all(&commands).await;
    let mut not_sent = 0u64;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some((_, batch)) = events.recv().await {
            not_sent += batch
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
    drop(events);
    for line in summaries {
        println!("{line}");
    }
    let Session::Live { recorders, .. } = session else {
        unreachable!("a live run has a live session")
    };
    if not_sent > 0 {
        println!(
            "wsmon: {not_sent} queued message{} not sent: the connection was down when wsmon stopped{}",
            if not_sent == 1 { " was" } else { "s were" },
            if recorders.iter().any(Option::is_some) {
                " (they are in the recording)"
            } else {
                ""
            }
        );
    }
    for r in recorders.into_iter().flatten() {
        let s = r.finish().await;
        println!("{}", recording_summary(&s));
    }
    Ok(ExitCode::SUCCESS)
}

/// Replays a recording in the dashboard.
pub async fn run_replay(
    path: &std::path::Path,
    opts: UiOptions,
    speed: f64,
    step: bool,
) -> anyhow::Result<ExitCode> {
    check_terminal()?;
    let player = crate::replay::play(path, speed, step)
        .await
        .map_err(|e| UsageError(format!("cannot open recording `{}`: {e}", path.display())))?;
    let mut app = App::new(opts);
    let mut session = Session::Replay { player };
    let Session::Replay { player } = &mut session else {
        unreachable!()
    };
    let mut events = std::mem::replace(&mut player.events, mpsc::channel(1).1);
    run_loop(&mut app, &mut events, &mut session).await?;
    if let Session::Replay { player } = &session {
        player.stop();
    }
    println!(
        "wsmon: replayed {}: {}",
        path.display(),
        summary(&app).trim_start_matches("wsmon: ")
    );
    Ok(ExitCode::SUCCESS)
}

/// The one loop on the real terminal: terminal events, event batches, frames, clock, signals.
async fn run_loop<S: Screen>(
    screen: &mut S,
    events: &mut mpsc::Receiver<Tagged>,
    session: &mut Session,
) -> anyhow::Result<()> {
    let (guard, mut terminal) = TerminalGuard::enter()?;
    let mut term_events = EventStream::new();
    let result = drive(
        screen,
        events,
        session,
        &mut terminal,
        &mut term_events,
        crate::signals::wait_for_stop(),
        &mut Hooks::default(),
    )
    .await;
    drop(terminal);
    drop(guard);
    result
}

/// Called after every frame with the screen and when the frame was drawn.
pub type FrameHook<'a, S> = &'a mut dyn FnMut(&S, Instant);

/// Ways to watch the loop from outside; benchmarks use them, the dashboard does not.
pub struct Hooks<'a, S> {
    /// Called after every frame is drawn.
    pub on_frame: Option<FrameHook<'a, S>>,
    /// Checked after each fold of event batches; the loop returns when it holds.
    pub done: Option<&'a dyn Fn(&S) -> bool>,
}

impl<S> Default for Hooks<'_, S> {
    fn default() -> Self {
        Hooks {
            on_frame: None,
            done: None,
        }
    }
}

/// The dashboard's loop over any backend and any source of terminal events: one `select!`
/// over terminal events, event batches, the frame deadline and the clock. The real terminal
/// and the benchmarks (a `TestBackend`) run this same code.
pub async fn drive<Sc, B, S>(
    screen: &mut Sc,
    events: &mut mpsc::Receiver<Tagged>,
    session: &mut Session,
    terminal: &mut ratatui::Terminal<B>,
    term_events: &mut S,
    stop: impl std::future::Future<Output = ()>,
    hooks: &mut Hooks<'_, Sc>,
) -> anyhow::Result<()>
where
    Sc: Screen,
    B: ratatui::backend::Backend,
    S: futures_util::Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let frame_every = Duration::from_secs_f64(1.0 / f64::from(screen.fps().max(1)));
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    let mut dirty = true;
    let mut last_draw = Instant::now() - frame_every;
    let mut events_open = true;
    screen.set_now(session.now());

    while !screen.quit() {
        let countdown = screen.counting_down();
        tokio::select! {
            biased;
            ev = term_events.next() => {
                match ev {
                    Some(Ok(ev)) => {
                        for (id, effect) in screen.on_terminal(&ev) {
                            perform(screen.app_mut(id), id, session, effect).await;
                        }
                        dirty = true;
                    }
                    // The terminal is gone (e.g. the SSH session dropped).
                    Some(Err(_)) | None => break,
                }
            }
            _ = sleep_until(last_draw + frame_every), if dirty => {
                screen.set_now(session.now());
                match session {
                    Session::Live { recorders, .. } => {
                        for (id, r) in recorders.iter().enumerate() {
                            if let Some(r) = r {
                                screen.app_mut(id).recording = Some(r.status.borrow().clone());
                            }
                        }
                    }
                    Session::Replay { player } => {
                        screen.app_mut(0).replay = Some(ReplayView {
                            speed: player.clock.speed(),
                            paused: player.clock.paused(),
                        });
                    }
                }
                if terminal.draw(|f| screen.draw(f)).is_err() {
                    break;
                }
                last_draw = Instant::now();
                dirty = false;
                if let Some(f) = hooks.on_frame.as_mut() {
                    f(screen, last_draw);
                }
                // For the test that proves a panic restores the terminal and prints its message.
                if std::env::var_os("WSMON_TEST_PANIC").is_some() {
                    panic!("WSMON_TEST_PANIC is set: a deliberate panic after the first frame");
                }
            }
            batch = events.recv(), if events_open => {
                match batch {
                    Some((id, batch)) => {
                        let mut changed = fold(screen, session, id, &batch);
                        // Fold in what else waits, then look at keys and the clock again.
                        for _ in 1..BATCHES_PER_TURN {
                            match events.try_recv() {
                                Ok((id, b)) => changed |= fold(screen, session, id, &b),
                                Err(_) => break,
                            }
                        }
                        dirty |= changed;
                        if hooks.done.is_some_and(|done| done(screen)) {
                            break;
                        }
                    }
                    None => events_open = false,
                }
            }
            _ = clock.tick() => {
                screen.tick(session.now());
                dirty = true;
            }
            // The countdown shows tenths of a second.
            _ = tokio::time::sleep(Duration::from_millis(100)), if countdown => dirty = true,
            _ = &mut stop => break,
        }
    }
    Ok(())
}

/// Folds a batch into the screen and the metrics; returns whether to redraw now.
fn fold<Sc: Screen>(screen: &mut Sc, session: &Session, id: usize, batch: &[Stamped]) -> bool {
    if let Session::Live {
        metrics: Some(m), ..
    } = session
    {
        m.apply(id, batch);
    }
    screen.apply(id, batch)
}

/// Carries out what a key asked for.
async fn perform(app: &mut App, id: usize, session: &mut Session, effect: Effect) {
    match (effect, session) {
        (Effect::Engine(cmd), Session::Live { commands, .. }) => match commands[id].try_send(cmd) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => app.say(Level::Bad, "the engine is busy; try again"),
            Err(TrySendError::Closed(_)) => app.say(Level::Bad, "the engine has stopped"),
        },
        (
            Effect::ToggleRecording,
            Session::Live {
                commands,
                recorders,
                record_templates,
                ..
            },
        ) => {
            let commands = &commands[id];
            let recorder = &mut recorders[id];
            let record_template = &record_templates[id];
            match recorder.take() {
                Some(r) => {
                    let _ = commands.send(Command::Tap(None)).await;
                    let s = r.finish().await;
                    app.recording = None;
                    app.say(Level::Info, recording_summary(&s));
                }
                None => {
                    let Some(dir) = crate::paths::data_dir() else {
                        app.say(Level::Bad, "no data directory to record into: set WSMON_DATA_DIR or use --record FILE");
                        return;
                    };
                    let mut opts = record_template.clone();
                    opts.path = crate::record::default_path(&dir);
                    match Recorder::start(opts.clone()) {
                        Ok(r) => {
                            let _ = commands.send(Command::Tap(Some(r.tap.clone()))).await;
                            app.say(Level::Good, format!("recording to {}", opts.path.display()));
                            app.recording = Some(r.status.borrow().clone());
                            *recorder = Some(r);
                        }
                        Err(e) => app.say(
                            Level::Bad,
                            format!("cannot record to {}: {e}", opts.path.display()),
                        ),
                    }
                }
            }
        }
        (Effect::WriteReport, _) => {
            let markdown = app.report_markdown(if app.opts.replay {
                "a replayed recording"
            } else {
                "a live session"
            });
            let Some(dir) = crate::paths::data_dir() else {
                app.say(
                    Level::Bad,
                    "no data directory for the report: set WSMON_DATA_DIR",
                );
                return;
            };
            let path = crate::record::default_path(&dir);
            let path = dir.join("reports").join(
                path.file_name()
                    .map(|n| n.to_string_lossy().replace(".jsonl", ".md"))
                    .unwrap_or_default()
                    .replace("wsmon-", "wsmon-report-"),
            );
            let target = path.clone();
            let written = tokio::task::spawn_blocking(move || {
                if let Some(d) = target.parent() {
                    std::fs::create_dir_all(d)?;
                }
                std::fs::write(&target, markdown)
            })
            .await;
            match written {
                Ok(Ok(())) => app.say(Level::Good, format!("report written to {}", path.display())),
                Ok(Err(e)) => app.say(Level::Bad, format!("cannot write {}: {e}", path.display())),
                Err(e) => app.say(Level::Bad, format!("cannot write the report: {e}")),
            }
        }
        (Effect::ReplayPause, Session::Replay { player }) => {
            let paused = player.clock.toggle_pause();
            app.say(
                Level::Info,
                if paused {
                    "paused: Space resumes, . steps one event"
                } else {
                    "playing"
                },
            );
        }
        (Effect::ReplaySpeed(f), Session::Replay { player }) => {
            let speed = (player.clock.speed() * f).clamp(0.125, 1000.0);
            player.clock.set_speed(speed);
            app.say(Level::Info, format!("speed ×{}", trim_speed(speed)));
        }
        (Effect::ReplayStep, Session::Replay { player }) => {
            if !player.clock.paused() {
                player.clock.toggle_pause();
            }
            player.step.notify_one();
        }
        (_, Session::Replay { .. }) => app.say(Level::Warn, "replay: there is no live connection"),
        (_, Session::Live { .. }) => {}
    }
}

/// A speed factor without trailing zeros: `10`, `0.5`.
pub fn trim_speed(speed: f64) -> String {
    let s = format!("{speed:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn recording_summary(s: &crate::record::RecordStatus) -> String {
    let mut line = format!(
        "wsmon: recorded {} events ({}) to {}",
        text::count(s.events),
        text::bytes(s.bytes),
        s.path.display()
    );
    if s.lost > 0 {
        line.push_str(&format!(
            "; {} events could not be written",
            text::count(s.lost)
        ));
    }
    line
}
/// One line printed after the screen is restored.
fn summary(app: &App) -> String {
    let s = &app.stats();
    let now = SystemTime::now();
    let watched = s
        .started
        .map(|t| now.duration_since(t).unwrap_or_default())
        .unwrap_or_default();
    let avail = s
        .availability(now)
        .map(|a| format!(", {a:.2}% available"))
        .unwrap_or_default();
    format!(
        "wsmon: watched {} for {}: {} connects, {} drops, {} in / {} out{avail}",
        app.opts.url,
        text::duration(watched),
        s.connects,
        s.drops,
        text::count(s.msgs_in),
        text::count(s.msgs_out)
    )
}

/// Most endpoints named one by one in a fleet's summary.
const SUMMARY_ENDPOINTS: usize = 20;

/// The lines printed after a fleet's screen is restored: totals, then the endpoints that
/// dropped or are down, worst first.
fn fleet_summary(fleet: &FleetApp) -> Vec<String> {
    let now = SystemTime::now();
    let c = fleet.counts();
    let (mut connects, mut drops, mut msgs_in, mut msgs_out) = (0, 0, 0, 0);
    for a in &fleet.apps {
        let s = a.stats();
        connects += s.connects;
        drops += s.drops;
        msgs_in += s.msgs_in;
        msgs_out += s.msgs_out;
    }
    let mut lines = vec![format!(
        "wsmon: watched {} endpoints: {} open, {} down, {} connecting at the end; {connects} connects, {drops} drops, {} in / {} out",
        fleet.apps.len(),
        c.open,
        c.down,
        c.connecting,
        text::count(msgs_in),
        text::count(msgs_out)
    )];
    let mut troubled: Vec<usize> = (0..fleet.apps.len())
        .filter(|i| {
            let s = fleet.apps[*i].stats();
            s.drops > 0 || s.state != ConnState::Open
        })
        .collect();
    troubled.sort_by_key(|i| (fleet::severity(&fleet.apps[*i]), fleet.name(*i).to_string()));
    for i in troubled.iter().take(SUMMARY_ENDPOINTS) {
        let s = fleet.apps[*i].stats();
        let avail = s
            .availability(now)
            .map(|a| format!(", {a:.2}% available"))
            .unwrap_or_default();
        let last = s
            .last_failure
            .as_ref()
            .map(|(_, what)| format!("; last failure: {}", crate::describe::trouble(what)))
            .unwrap_or_default();
        lines.push(format!(
            "  {}: {}, {} drops{avail}{last}",
            fleet.name(*i),
            s.state.label(),
            s.drops
        ));
    }
    if troubled.len() > SUMMARY_ENDPOINTS {
        lines.push(format!(
            "  and {} more that dropped or are down",
            troubled.len() - SUMMARY_ENDPOINTS
        ));
    }
    lines
}
