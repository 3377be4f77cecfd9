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
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::{Instant, sleep_until};

use crate::app::UsageError;
use crate::engine::{Command, ConnSettings, Engine, Stamped};
use app::{App, Overlay, UiOptions};
use log::Level;

/// Most engine batches folded in before the loop looks at keys and the clock again.
const BATCHES_PER_TURN: usize = 64;

/// Restores the terminal when dropped, so every exit path (return, `?`, panic unwinding)
/// leaves a usable shell.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<(TerminalGuard, DefaultTerminal)> {
        // ratatui::init installs a panic hook that restores the terminal before the panic
        // message is printed.
        let terminal = ratatui::try_init()?;
        let guard = TerminalGuard;
        let _ = execute!(std::io::stdout(), EnableMouseCapture, EnableBracketedPaste);
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste
        );
        ratatui::restore();
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

/// Runs the dashboard until the user quits or a stop signal arrives.
pub async fn run(settings: ConnSettings, opts: UiOptions) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the dashboard needs a terminal, and stdin/stdout are redirected: use --headless for JSON lines (wsmon --headless URL | jq .)"
                .into(),
        )
        .into());
    }
    let frame_every = Duration::from_secs_f64(1.0 / f64::from(opts.fps.max(1)));
    let mut app = App::new(opts);
    let Engine {
        commands,
        mut events,
        task,
    } = Engine::spawn(settings);
    let (guard, mut terminal) = TerminalGuard::enter()?;

    let mut term_events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let stop = crate::signals::wait_for_stop();
    tokio::pin!(stop);
    let mut dirty = true;
    let mut last_draw = Instant::now() - frame_every;
    let mut engine_alive = true;

    while !app.quit {
        let countdown = matches!(app.stats.state, crate::engine::ConnState::Waiting { .. });
        tokio::select! {
            biased;
            ev = term_events.next() => {
                match ev {
                    Some(Ok(ev)) => {
                        for cmd in app.on_terminal(&ev) {
                            send(&mut app, &commands, cmd);
                        }
                        dirty = true;
                    }
                    // The terminal is gone (e.g. the SSH session dropped).
                    Some(Err(_)) | None => break,
                }
            }
            _ = sleep_until(last_draw + frame_every), if dirty => {
                app.now = SystemTime::now();
                let area = terminal.get_frame().area();
                prepare(&mut app, area);
                let r = render::regions(area);
                let drawn = terminal.draw(|f| {
                    f.render_widget(&app, f.area());
                    if app.overlay.is_none()
                        && let Some(pos) = panes::input::cursor(&app, r.input)
                    {
                        f.set_cursor_position(pos);
                    }
                });
                if drawn.is_err() {
                    break;
                }
                last_draw = Instant::now();
                dirty = false;
            }
            batch = events.recv(), if engine_alive => {
                match batch {
                    Some(batch) => {
                        apply(&mut app, &batch);
                        // Fold in what else waits, then look at keys and the clock again.
                        for _ in 1..BATCHES_PER_TURN {
                            match events.try_recv() {
                                Ok(b) => apply(&mut app, &b),
                                Err(_) => break,
                            }
                        }
                        dirty = true;
                    }
                    None => engine_alive = false,
                }
            }
            _ = clock.tick() => {
                app.tick(SystemTime::now());
                dirty = true;
            }
            // The countdown shows tenths of a second.
            _ = tokio::time::sleep(Duration::from_millis(100)), if countdown => dirty = true,
            _ = &mut stop => break,
        }
    }
    // Give the shell back first, then close politely in the background of the exit.
    drop(terminal);
    drop(guard);
    let summary = summary(&app);
    let _ = commands.send(Command::Shutdown).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while events.recv().await.is_some() {}
        let _ = task.await;
    })
    .await;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

fn apply(app: &mut App, batch: &[Stamped]) {
    app.apply(batch);
}

fn send(app: &mut App, commands: &tokio::sync::mpsc::Sender<Command>, cmd: Command) {
    match commands.try_send(cmd) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => app.say(Level::Bad, "the engine is busy; try again"),
        Err(TrySendError::Closed(_)) => app.say(Level::Bad, "the engine has stopped"),
    }
}

/// One line printed after the screen is restored.
fn summary(app: &App) -> String {
    let s = &app.stats;
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
