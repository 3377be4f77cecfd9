//! `--headless`: every event as a JSON line on stdout; every stdin line sent as a text message.
//! With several endpoints each line names its endpoint, and stdin lines go to every endpoint
//! (or, written `@NAME text`, to one).

use std::process::ExitCode;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::engine::{Command, ConnStats, Engine, Event, Kind};
use crate::error::UsageError;
use crate::jsonl::Encoder;
use crate::metrics::Metrics;
use crate::record::{RecordOptions, RecordStatus, Recorder};
use crate::session::Endpoint;

/// Runs until a stop signal, stdout closing, or every endpoint giving up (exit code 1);
/// records the first endpoint's events to `record` as well, and feeds `metrics`.
pub async fn run(
    endpoints: Vec<Endpoint>,
    record: Option<RecordOptions>,
    metrics: Option<Arc<Metrics>>,
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

    let fleet = endpoints.len() > 1;
    let names: Vec<String> = endpoints.iter().map(|e| e.name.clone()).collect();
    let (tx, mut events) = Engine::fleet_channel(endpoints.len());
    let mut commands = Vec::with_capacity(endpoints.len());
    let mut tasks = Vec::with_capacity(endpoints.len());
    for (i, e) in endpoints.into_iter().enumerate() {
        let tap = if i == 0 {
            recorder.as_ref().map(|r| r.tap.clone())
        } else {
            None
        };
        let h = Engine::spawn_tagged(e.settings, i, tx.clone(), tap);
        commands.push(h.commands);
        tasks.push(h.task);
    }
    drop(tx);

    let stdin_task = tokio::spawn(forward_stdin(commands.clone(), names.clone()));
    // This loop runs on the thread that called block_on, not on a runtime worker: a blocking
    // write here is backpressure for the engines, and skips a hand-off to the blocking pool
    // per batch (as tokio's Stdout would do).
    let stdout = std::io::stdout();
    let mut enc = Encoder::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut stats: Vec<ConnStats> = (0..names.len()).map(|_| ConnStats::default()).collect();
    let mut gave_up: Vec<Option<u32>> = vec![None; names.len()];
    let mut stopping = false;
    let mut writable = true;
    let stop = crate::signals::wait_for_stop();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            batch = events.recv() => {
                let Some((id, batch)) = batch else { break };
                buf.clear();
                let endpoint = fleet.then(|| names[id].as_str());
                for e in batch.iter() {
                    stats[id].apply(e);
                    enc.encode_for(e, endpoint, &mut buf);
                    if let Event::GaveUp { attempts } = e.event {
                        gave_up[id] = Some(attempts);
                        if fleet {
                            eprintln!("wsmon: {}: gave up after {attempts} attempts; the other endpoints go on", names[id]);
                        }
                    }
                }
                if let Some(m) = &metrics {
                    m.apply(id, &batch);
                }
                if writable && write_out(&stdout, &buf).is_err() {
                    // The reader went away (`| head`): stop quietly.
                    writable = false;
                    stopping = true;
                    crate::engine::shutdown_all(&commands).await;
                }
                if !stopping && gave_up.iter().all(Option::is_some) {
                    stopping = true;
                    crate::engine::shutdown_all(&commands).await;
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
                    // A second signal: do not wait for the close handshakes.
                    break;
                }
                stopping = true;
                crate::engine::shutdown_all(&commands).await;
                stop.set(crate::signals::wait_for_stop());
            }
        }
    }
    stdin_task.abort();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        futures_util::future::join_all(tasks),
    )
    .await;
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
    if gave_up.iter().all(Option::is_some) {
        for (i, attempts) in gave_up.iter().enumerate() {
            let last = stats[i]
                .last_error
                .as_ref()
                .map(|f| crate::describe::failure(f))
                .unwrap_or_else(|| "no failure recorded".into());
            let who = if fleet {
                format!("{}: ", names[i])
            } else {
                String::new()
            };
            eprintln!(
                "wsmon: {who}gave up after {} attempts (max_attempts); last failure: {last}",
                attempts.unwrap_or(0)
            );
        }
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

/// Resolves when the recorder reports a problem; never when there is no recorder.
async fn changed(rx: &mut Option<tokio::sync::watch::Receiver<RecordStatus>>) -> Result<(), ()> {
    match rx {
        Some(rx) => {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
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

/// Which endpoints a stdin line goes to: `@NAME text` to the one so named, else all of them.
pub fn route<'a>(line: &'a [u8], names: &[String]) -> (Option<usize>, &'a [u8]) {
    if names.len() > 1
        && let Some(rest) = line.strip_prefix(b"@")
        && let Some(space) = rest.iter().position(|b| *b == b' ')
        && let Some(i) = names.iter().position(|n| n.as_bytes() == &rest[..space])
    {
        return (Some(i), &rest[space + 1..]);
    }
    (None, line)
}

/// Sends each stdin line as a message; at the end of input wsmon keeps watching.
async fn forward_stdin(commands: Vec<mpsc::Sender<Command>>, names: Vec<String>) {
    let mut reader = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let (target, text) = route(&line, &names);
        let Some(cmd) = stdin_line(text) else {
            continue;
        };
        for (i, c) in commands.iter().enumerate() {
            if target.is_none_or(|t| t == i) && c.send(cmd.clone()).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_name_routes_a_line_to_one_endpoint() {
        let names = vec!["eu".to_string(), "us".to_string()];
        assert_eq!(route(b"@us hello", &names), (Some(1), &b"hello"[..]));
        assert_eq!(route(b"@asia hello", &names), (None, &b"@asia hello"[..]));
        assert_eq!(route(b"plain", &names), (None, &b"plain"[..]));
        assert_eq!(
            route(b"@us hello", &names[..1]),
            (None, &b"@us hello"[..]),
            "one endpoint: sent as typed"
        );
    }
}
