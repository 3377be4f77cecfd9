//! The dashboard frontend: a ratatui screen over the engine's events and commands.
//! It never touches the socket; it reads events and sends commands.

pub mod app;
pub mod input;
pub mod log;
pub mod panes;
pub mod render;
pub mod text;
pub mod theme;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    EventStream,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::{Instant, sleep_until};

use crate::app::UsageError;
use crate::engine::{Batch, Command, ConnSettings, Engine};
use crate::record::{RecordOptions, Recorder};
use crate::replay::Player;
use app::{App, Effect, Overlay, ReplayView, UiOptions};
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

/// What the dashboard is attached to.
pub enum Session {
    /// A live engine, perhaps with a recorder.
    Live {
        commands: mpsc::Sender<Command>,
        recorder: Option<Recorder>,
        /// How a recording started with `r` is set up (path aside).
        record_template: RecordOptions,
    },
    /// A recording being replayed.
    Replay { player: Player },
}

impl Session {
    /// A live engine without a recorder (benchmarks drive the loop with one).
    pub fn live(commands: mpsc::Sender<Command>) -> Session {
        Session::Live {
            commands,
            recorder: None,
            record_template: RecordOptions {
                path: Default::default(),
                max_bytes: 0,
                keep: 1,
                header: Default::default(),
            },
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

/// Watches a live connection until the user quits or a stop signal arrives; `record` starts
/// recording from the first event.
pub async fn run(
    settings: ConnSettings,
    opts: UiOptions,
    record: RecordOptions,
    record_now: bool,
) -> anyhow::Result<ExitCode> {
    check_terminal()?;
    let recorder = if record_now {
        Some(Recorder::start(record.clone()).map_err(|e| {
            UsageError(format!("cannot record to `{}`: {e}", record.path.display()))
        })?)
    } else {
        None
    };
    let tap = recorder.as_ref().map(|r| r.tap.clone());
    let Engine {
        commands,
        events,
        task,
    } = Engine::spawn_with(settings, tap);
    let mut session = Session::Live {
        commands: commands.clone(),
        recorder,
        record_template: record,
    };
    let mut app = App::new(opts);
    let mut events = events;
    run_loop(&mut app, &mut events, &mut session).await?;
    let summary = summary(&app);
    // The screen is back; now close politely and let the recorder write its last lines.
    let _ = commands.send(Command::Shutdown).await;
    let mut not_sent = 0u64;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(batch) = events.recv().await {
            not_sent += batch
                .iter()
                .filter(|s| {
                    matches!(
                        s.event,
                        crate::engine::Event::Dropped {
                            reason: crate::engine::DropReason::Shutdown,
                            ..
                        }
                    )
                })
                .count() as u64;
        }
        let _ = task.await;
    })
    .await;
    drop(events);
    println!("{summary}");
    if not_sent > 0 {
        println!(
            "wsmon: {not_sent} queued message{} not sent: the connection was down when wsmon stopped{}",
            if not_sent == 1 { " was" } else { "s were" },
            if matches!(
                session,
                Session::Live {
                    recorder: Some(_),
                    ..
                }
            ) {
                " (they are in the recording)"
            } else {
                ""
            }
        );
    }
    if let Session::Live {
        recorder: Some(r), ..
    } = session
    {
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
async fn run_loop(
    app: &mut App,
    events: &mut mpsc::Receiver<Batch>,
    session: &mut Session,
) -> anyhow::Result<()> {
    let (guard, mut terminal) = TerminalGuard::enter()?;
    let mut term_events = EventStream::new();
    let result = drive(
        app,
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

/// Called after every frame with the app and when the frame was drawn.
pub type FrameHook<'a> = &'a mut dyn FnMut(&App, Instant);

/// Ways to watch the loop from outside; benchmarks use them, the dashboard does not.
#[derive(Default)]
pub struct Hooks<'a> {
    /// Called after every frame is drawn.
    pub on_frame: Option<FrameHook<'a>>,
    /// Checked after each fold of event batches; the loop returns when it holds.
    pub done: Option<&'a dyn Fn(&App) -> bool>,
}

/// The dashboard's loop over any backend and any source of terminal events: one `select!`
/// over terminal events, event batches, the frame deadline and the clock. The real terminal
/// and the benchmarks (a `TestBackend`) run this same code.
pub async fn drive<B, S>(
    app: &mut App,
    events: &mut mpsc::Receiver<Batch>,
    session: &mut Session,
    terminal: &mut ratatui::Terminal<B>,
    term_events: &mut S,
    stop: impl std::future::Future<Output = ()>,
    hooks: &mut Hooks<'_>,
) -> anyhow::Result<()>
where
    B: ratatui::backend::Backend,
    S: futures_util::Stream<Item = std::io::Result<ratatui::crossterm::event::Event>> + Unpin,
{
    let frame_every = Duration::from_secs_f64(1.0 / f64::from(app.opts.fps.max(1)));
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    let mut dirty = true;
    let mut last_draw = Instant::now() - frame_every;
    let mut events_open = true;
    app.now = session.now();

    while !app.quit {
        let countdown = matches!(app.stats().state, crate::engine::ConnState::Waiting { .. });
        let rec_status = match session {
            Session::Live {
                recorder: Some(r), ..
            } => Some(r.status.clone()),
            _ => None,
        };
        tokio::select! {
            biased;
            ev = term_events.next() => {
                match ev {
                    Some(Ok(ev)) => {
                        for effect in app.on_terminal(&ev) {
                            perform(app, session, effect).await;
                        }
                        dirty = true;
                    }
                    // The terminal is gone (e.g. the SSH session dropped).
                    Some(Err(_)) | None => break,
                }
            }
            _ = sleep_until(last_draw + frame_every), if dirty => {
                app.now = session.now();
                if let Some(rx) = &rec_status {
                    app.recording = Some(rx.borrow().clone());
                }
                if let Session::Replay { player } = session {
                    app.replay = Some(ReplayView { speed: player.clock.speed(), paused: player.clock.paused() });
                }
                let area: Rect = terminal.size().map(|s| Rect::new(0, 0, s.width, s.height)).unwrap_or_default();
                prepare(app, area);
                let r = render::regions(area);
                let drawn = terminal.draw(|f| {
                    f.render_widget(&*app, f.area());
                    if app.overlay.is_none()
                        && let Some(pos) = panes::input::cursor(app, r.input)
                    {
                        f.set_cursor_position(pos);
                    }
                });
                if drawn.is_err() {
                    break;
                }
                last_draw = Instant::now();
                dirty = false;
                if let Some(f) = hooks.on_frame.as_mut() {
                    f(app, last_draw);
                }
                // For the test that proves a panic restores the terminal and prints its message.
                if std::env::var_os("WSMON_TEST_PANIC").is_some() {
                    panic!("WSMON_TEST_PANIC is set: a deliberate panic after the first frame");
                }
            }
            batch = events.recv(), if events_open => {
                match batch {
                    Some(batch) => {
                        app.apply(&batch);
                        // Fold in what else waits, then look at keys and the clock again.
                        for _ in 1..BATCHES_PER_TURN {
                            match events.try_recv() {
                                Ok(b) => app.apply(&b),
                                Err(_) => break,
                            }
                        }
                        dirty = true;
                        if hooks.done.is_some_and(|done| done(app)) {
                            break;
                        }
                    }
                    None => events_open = false,
                }
            }
            _ = clock.tick() => {
                app.tick(session.now());
                dirty = true;
            }
            // The countdown shows tenths of a second.
            _ = tokio::time::sleep(Duration::from_millis(100)), if countdown => dirty = true,
            _ = &mut stop => break,
        }
    }
    Ok(())
}

/// Carries out what a key asked for.
async fn perform(app: &mut App, session: &mut Session, effect: Effect) {
    match (effect, session) {
        (Effect::Engine(cmd), Session::Live { commands, .. }) => match commands.try_send(cmd) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => app.say(Level::Bad, "the engine is busy; try again"),
            Err(TrySendError::Closed(_)) => app.say(Level::Bad, "the engine has stopped"),
        },
        (
            Effect::ToggleRecording,
            Session::Live {
                commands,
                recorder,
                record_template,
            },
        ) => {
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
