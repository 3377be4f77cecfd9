//! `--headless`: every event as a JSON line on stdout; every stdin line sent as a text message.

use std::process::ExitCode;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::engine::stats::describe_failure;
use crate::engine::{Command, ConnSettings, ConnStats, Engine, Event, Kind};
use crate::jsonl::Encoder;

/// Runs until a stop signal, stdout closing, or the engine giving up (exit code 1).
pub async fn run(settings: ConnSettings) -> anyhow::Result<ExitCode> {
    let Engine {
        commands,
        mut events,
        task,
    } = Engine::spawn(settings);
    let stdin_task = tokio::spawn(forward_stdin(commands.clone()));
    let mut out = tokio::io::stdout();
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
                for e in &batch {
                    stats.apply(e);
                    enc.encode(e, &mut buf);
                    if let Event::GaveUp { attempts } = e.event {
                        gave_up = Some(attempts);
                    }
                }
                if writable && (out.write_all(&buf).await.is_err() || out.flush().await.is_err()) {
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

/// Sends each stdin line as a text message (invalid UTF-8 goes as binary); blank lines are
/// skipped. At end of input wsmon keeps watching.
async fn forward_stdin(commands: mpsc::Sender<Command>) {
    let mut reader = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        let kind = if std::str::from_utf8(&line).is_ok() {
            Kind::Text
        } else {
            Kind::Binary
        };
        let data = bytes::Bytes::copy_from_slice(&line);
        if commands.send(Command::Send { kind, data }).await.is_err() {
            return;
        }
    }
}
