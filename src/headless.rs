//! `--headless`: every event as a JSON line on stdout; every stdin line sent as a text message.

use std::process::ExitCode;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::app::UsageError;
use crate::engine::stats::describe_failure;
use crate::engine::{Command, ConnSettings, ConnStats, Engine, Event, Kind};
use crate::jsonl::Encoder;
use crate::record::{RecordOptions, RecordStatus, Recorder};

/// Runs until a stop signal, stdout closing, or the engine giving up (exit code 1); records
/// every event to `record` as well, if given.
pub async fn run(
    settings: ConnSettings,
    record: Option<RecordOptions>,
) -> anyhow::Result<ExitCode> {
    let recorder =
        match record {
            Some(opts) => Some(Recorder::start(opts.clone()).map_err(|e| {
                UsageError(format!("cannot record to `{}`: {e}", opts.path.display()))
            })?),
            None => None,
        };
    let mut rec_status = recorder.as_ref().map(|r| r.status.clone());
    let mut last_rec_error: Option<String> = None;
    let Engine {
        commands,
        mut events,
        task,
    } = Engine::spawn_with(settings, recorder.as_ref().map(|r| r.tap.clone()));
    let stdin_task = tokio::spawn(forward_stdin(commands.clone()));
    // This loop runs on the thread that called block_on, not on a runtime worker: a blocking
    // write here is backpressure for the engine, and skips a hand-off to the blocking pool per
    // batch (as tokio's Stdout would do).
    let stdout = std::io::stdout();
    let mut enc = Encoder::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut stats = ConnStats::default();
    let mut gave_up = None;
    let mut stopping = false;
    let mut writable = true;
    let stop = crate::signals::wait_for_stop();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            batch = events.recv() => {
                let Some(batch) = batch else { break };
                buf.clear();
                for e in batch.iter() {
                    stats.apply(e);
                    enc.encode(e, &mut buf);
                    if let Event::GaveUp { attempts } = e.event {
                        gave_up = Some(attempts);
                    }
                }
                if writable && write_out(&stdout, &buf).is_err() {
                    // The reader went away (`| head`): stop quietly.
                    writable = false;
                    stopping = true;
                    let _ = commands.send(Command::Shutdown).await;
                }
                if gave_up.is_some() && !stopping {
                    stopping = true;
                    let _ = commands.send(Command::Shutdown).await;
                }
            }
            Ok(()) = changed(&mut rec_status) => {
                // Say each new recording problem once, on stderr; monitoring goes on.
                let err = rec_status.as_ref().and_then(|r| r.borrow().error.clone());
                if err.is_some() && err != last_rec_error {
                    eprintln!("wsmon: {}", err.as_deref().unwrap_or_default());
                }
                last_rec_error = err;
            }
            _ = &mut stop => {
                if stopping {
                    // A second signal: do not wait for the close handshake.
                    break;
                }
                stopping = true;
                let _ = commands.send(Command::Shutdown).await;
                stop.set(crate::signals::wait_for_stop());
            }
        }
    }
    stdin_task.abort();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), task).await;
    drop(events);
    if let Some(r) = recorder {
        let s = r.finish().await;
        if s.lost > 0 {
            eprintln!(
                "wsmon: {} events could not be written to {}",
                s.lost,
                s.path.display()
            );
        }
    }
    if let Some(attempts) = gave_up {
        let last = stats
            .last_error
            .as_ref()
            .map(describe_failure)
            .unwrap_or_else(|| "no failure recorded".into());
        eprintln!("wsmon: gave up after {attempts} attempts (max_attempts); last failure: {last}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_out(stdout: &std::io::Stdout, buf: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut lock = stdout.lock();
    lock.write_all(buf)?;
    lock.flush()
}

/// Resolves when the recorder's status changes; never when there is no recorder.
async fn changed(rx: &mut Option<tokio::sync::watch::Receiver<RecordStatus>>) -> Result<(), ()> {
    match rx {
        Some(rx) => {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
            // Only problems are worth a line.
            if rx.borrow().error.is_some() {
                Ok(())
            } else {
                Err(())
            }
        }
        None => std::future::pending().await,
    }
}

/// What one stdin line asks for: a text message (or binary, when it is not UTF-8), without
/// its line ending; blank lines ask for nothing.
pub fn stdin_line(line: &[u8]) -> Option<Command> {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let line = &line[..end];
    if line.is_empty() {
        return None;
    }
    let kind = if std::str::from_utf8(line).is_ok() {
        Kind::Text
    } else {
        Kind::Binary
    };
    Some(Command::Send {
        kind,
        data: bytes::Bytes::copy_from_slice(line),
    })
}

/// Sends each stdin line as a message; at the end of input wsmon keeps watching.
async fn forward_stdin(commands: mpsc::Sender<Command>) {
    let mut reader = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if let Some(cmd) = stdin_line(&line)
            && commands.send(cmd).await.is_err()
        {
            return;
        }
    }
}
