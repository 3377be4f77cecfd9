//! The dashboard frontend: a ratatui screen over a session's events, answering with commands.
//! It never touches the socket. `terminal` owns the terminal, `event_loop` is the one loop,
//! `effects` carries out what keys ask for, `app` and `fleet` are the state, one file per pane.

pub mod app;
pub mod bindings;
pub mod effects;
pub mod event_loop;
pub mod fleet;
pub mod input;
pub mod log;
pub mod panes;
pub mod render;
pub mod strip;
pub mod summary;
pub mod terminal;
pub mod theme;

/// A line on stdout after the screen is given back; a terminal that is gone (the SSH
/// session dropped) loses it quietly instead of ending wsmon in a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

use std::path::Path;
use std::process::ExitCode;

pub use event_loop::{FrameHook, Hooks, Screen, drive, prepare};

use app::App;
use fleet::FleetApp;

use crate::engine::{Event, Stamped};
use crate::session::Session;

/// Watches a live session until the user quits or a stop signal arrives: one endpoint's
/// dashboard, or with several an overview of them all (one `App` per endpoint, in order).
pub async fn run(
    mut session: Session,
    mut apps: Vec<App>,
    options: &crate::session::SessionOptions,
) -> anyhow::Result<ExitCode> {
    terminal::check()?;
    // Every endpoint's model ends where the session does, as a recording of it does.
    let stopped = |why, at| Stamped {
        at,
        event: Event::Stopped(why),
    };
    let targets = session.targets_status().cloned();
    let (lines, apps, why, at) = if apps.len() == 1 && targets.is_none() {
        let mut app = apps.pop().expect("one endpoint");
        let why = event_loop::run_on_terminal(&mut app, &mut session).await?;
        let at = std::time::SystemTime::now();
        app.apply(&[stopped(why, at)]);
        app.now = at;
        (vec![summary::one(&app)], vec![app], why, at)
    } else {
        let mut fleet = FleetApp::new(apps);
        fleet.targets = targets.map(|status| fleet::Watched {
            template: options.clone(),
            status,
        });
        let why = event_loop::run_on_terminal(&mut fleet, &mut session).await?;
        let at = std::time::SystemTime::now();
        for (id, app) in fleet.apps.iter_mut().enumerate() {
            if session.is_watched(id) {
                app.apply(&[stopped(why, at)]);
            }
        }
        fleet.now = at;
        (summary::for_fleet(&fleet), fleet.apps, why, at)
    };
    // The screen is back; now close politely and let the recorders write their last lines.
    let finished = session.finish(why, at).await;
    for line in lines {
        say!("{}", crate::text::sanitize(&line));
    }
    if finished.not_sent > 0 {
        say!(
            "wsmon: {} queued message{} not sent: the connection was down when wsmon stopped{}",
            finished.not_sent,
            if finished.not_sent == 1 {
                " was"
            } else {
                "s were"
            },
            if finished.recordings.is_empty() {
                ""
            } else {
                " (they are in the recording)"
            }
        );
    }
    for s in &finished.recordings {
        say!("{}", crate::text::sanitize(&summary::recording(s)));
    }
    let apps: Vec<&App> = apps.iter().collect();
    for line in summary::files_written(&finished.recordings, &apps) {
        say!("{}", crate::text::sanitize(&line));
    }
    Ok(ExitCode::SUCCESS)
}

/// Replays a recording (a replay session) in the dashboard.
pub(crate) async fn run_replay(
    mut session: Session,
    mut app: App,
    path: &Path,
) -> anyhow::Result<ExitCode> {
    terminal::check()?;
    let why = event_loop::run_on_terminal(&mut app, &mut session).await?;
    session.finish(why, std::time::SystemTime::now()).await;
    say!(
        "wsmon: {}",
        crate::text::sanitize(&format!(
            "replayed {}: {}",
            path.display(),
            summary::one(&app).trim_start_matches("wsmon: ")
        ))
    );
    Ok(ExitCode::SUCCESS)
}
