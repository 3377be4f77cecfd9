//! Carrying out what a key asked for: commands to an engine, recording, the report, the
//! replay's controls and the input history; anything that touches a file runs off the loop.

use super::app::{App, Effect, SavedFile, SavedKind};
use super::log::Level;
use super::summary;
use crate::session::{RecordingChange, Session};

/// Carries out `effect` for endpoint `id`, saying in `app`'s footer what came of it.
pub(crate) async fn perform(app: &mut App, id: usize, session: &mut Session, effect: Effect) {
    match effect {
        Effect::Engine(cmd) => {
            if let Err(e) = session.command(id, cmd) {
                app.say(Level::Bad, e.to_string());
            }
        }
        // A fleet turns broadcasts into one command per endpoint before they get here.
        Effect::Broadcast(_) => {}
        Effect::ToggleRecording => match session.toggle_recording(id).await {
            RecordingChange::Started(path) => {
                app.say(Level::Good, format!("recording to {}", path.display()));
                app.recording = session.recording(id);
            }
            RecordingChange::Stopped(s) => {
                app.recording = None;
                app.saved(SavedFile {
                    path: s.path.clone(),
                    what: SavedKind::Recording { parts: s.parts },
                });
                app.say(Level::Info, summary::recording(&s));
            }
            RecordingChange::Failed(why) => app.say(Level::Bad, why),
        },
        Effect::WriteReport => write_report(app).await,
        Effect::Copy(osc) => {
            use std::io::Write;
            // A few bytes to the terminal, between two frames: the clipboard is the terminal's.
            let mut out = std::io::stdout();
            if out
                .write_all(osc.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                app.say(Level::Bad, "could not write to the terminal to copy");
            }
        }
        Effect::Mouse(on) => {
            if super::terminal::set_mouse(on).is_err() {
                app.say(
                    Level::Bad,
                    "could not write to the terminal to change the mouse",
                );
            }
        }
        Effect::AppendHistory(path, line) => {
            // Appending (and now and then compacting) the file is disk I/O: not on the loop.
            tokio::task::spawn_blocking(move || super::input::append_history(&path, &line));
        }
        Effect::ReplayPause | Effect::ReplaySpeed(_) | Effect::ReplayStep => {
            replay_control(app, session, effect)
        }
    }
}

fn replay_control(app: &mut App, session: &Session, effect: Effect) {
    let Some(player) = session.player() else {
        app.say(Level::Warn, "there is no replay to control");
        return;
    };
    match effect {
        Effect::ReplayPause => {
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
        Effect::ReplaySpeed(f) => {
            let speed = (player.clock.speed() * f).clamp(0.125, 1000.0);
            player.clock.set_speed(speed);
            app.say(Level::Info, format!("speed ×{}", crate::text::speed(speed)));
        }
        Effect::ReplayStep => {
            if !player.clock.paused() {
                player.clock.toggle_pause();
            }
            player.step.notify_one();
        }
        _ => {}
    }
}

/// Writes the diagnostic report into the data directory, as Markdown and as an HTML page.
async fn write_report(app: &mut App) {
    // Payloads stay out, as in `wsmon report` without --payloads.
    let (markdown, html) = app.report_files(false);
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
            crate::paths::create_private_dir(d)?;
        }
        crate::paths::write_private(&target, markdown.as_bytes())?;
        crate::paths::write_private(&target.with_extension("html"), html.as_bytes())
    })
    .await;
    match written {
        Ok(Ok(())) => {
            app.say(
                Level::Good,
                format!("report written to {} (and .html)", path.display()),
            );
            app.saved(SavedFile {
                path,
                what: SavedKind::Report,
            });
        }
        Ok(Err(e)) => app.say(Level::Bad, format!("cannot write {}: {e}", path.display())),
        Err(e) => app.say(Level::Bad, format!("cannot write the report: {e}")),
    }
}
