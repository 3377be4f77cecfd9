//! `--headless`: every event as a JSON line on stdout; every stdin line sent as a text message.
//! With several endpoints each line names its endpoint, and stdin lines go to every endpoint
//! (or, written `@NAME text`, to one).

use std::process::ExitCode;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::engine::{Command, ConnStats, Event, Kind};
use crate::jsonl::Encoder;
use crate::session::{Arrival, Session};

/// Runs on `session` until a stop signal, stdout closing, the events ending (a replay), or
/// every endpoint giving up (exit code 1).
pub async fn run(mut session: Session) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = session.names().to_vec();
    let fleet = names.len() > 1;
    if let Some(at) = session.metrics_address() {
        eprintln!("wsmon: Prometheus metrics at http://{at}/metrics");
    }
    let commands = session.command_senders();
    let stdin_task =
        (!commands.is_empty()).then(|| tokio::spawn(forward_stdin(commands, names.clone())));
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
    let mut last_rec_error: Option<String> = None;
    let stop = crate::signals::wait_for_stop();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            arrival = session.next() => {
                let (id, batch) = match arrival {
                    Arrival::Batch(id, batch) => (id, batch),
                    Arrival::Ended => break,
                    Arrival::Scrape(scrape) => {
                        scrape.answer(crate::metrics::render(
                            names.iter().map(String::as_str).zip(&stats),
                            session.now(),
                        ));
                        continue;
                    }
                    Arrival::RecordingProblem(problem) => {
                        // Say each new recording problem once, on stderr; monitoring goes on.
                        if last_rec_error.as_ref() != Some(&problem) {
                            eprintln!("wsmon: {problem}");
                        }
                        last_rec_error = Some(problem);
                        continue;
                    }
                };
                buf.clear();
                let endpoint = fleet.then(|| names[id].as_str());
                for e in batch.iter() {
                    stats[id].apply(e);
                    if let Event::Warning(w) = &e.event
                        && w.about_the_recording()
                    {
                        // A replay's notes about its file are for the person, not the output.
                        eprintln!("wsmon: {}: {}", names[id], crate::describe::warning(w));
                        continue;
                    }
                    enc.encode_for(e, endpoint, &mut buf);
                    if let Event::GaveUp { attempts } = e.event {
                        gave_up[id] = Some(attempts);
                        if fleet {
                            eprintln!("wsmon: {}: gave up after {}; the other endpoints go on", names[id], crate::text::counted(u64::from(attempts), "attempt", "attempts"));
                        }
                    }
                }
                if writable && write_out(&stdout, &buf).is_err() {
                    // The reader went away (`| head`): stop quietly.
                    writable = false;
                    stopping = true;
                    session.shutdown().await;
                }
                if !stopping && gave_up.iter().all(Option::is_some) {
                    stopping = true;
                    session.shutdown().await;
                }
            }
            _ = &mut stop => {
                if stopping {
                    // A second signal: do not wait for the close handshakes.
                    break;
                }
                stopping = true;
                session.shutdown().await;
                stop.set(crate::signals::wait_for_stop());
            }
        }
    }
    if let Some(t) = stdin_task {
        t.abort();
    }
    let finished = session.finish().await;
    for s in &finished.recordings {
        if s.lost > 0 {
            eprintln!(
                "wsmon: {} events could not be written to {}",
                s.lost,
                s.path.display()
            );
        }
    }
    if !gave_up.is_empty() && gave_up.iter().all(Option::is_some) {
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
                "wsmon: {who}gave up after {} (max_attempts); last failure: {last}",
                crate::text::counted(u64::from(attempts.unwrap_or(0)), "attempt", "attempts")
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
