//! `--headless`: every event as a JSON line on stdout; every stdin line sent as a text message.
//! With several endpoints each line names its endpoint, and stdin lines go to every endpoint
//! (or, written `@NAME text`, to one).

use std::process::ExitCode;

use tokio::io::BufReader;
use tokio::sync::watch;

use std::time::SystemTime;

use crate::bounded::BoundedLine;
use crate::engine::protocol::Line;
use crate::engine::{Command, Event, Kind, Preset, Stamped, StopReason};
use crate::jsonl::Encoder;
use crate::jsonl::schema::{Body, HealthLine, PatternLine, SummaryLine, WireLine};
use crate::model::{ConnStats, Health, Pattern};
use crate::session::{Arrival, Directory, Session};

/// Runs on `session` until a stop signal, stdout closing, the events ending (a replay), or
/// every endpoint giving up (exit code 1).
pub async fn run(mut session: Session) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = session.names().to_vec();
    // A targets file's set may grow from one: every line names its endpoint from the start.
    let targets_file = session.targets_status().is_some();
    let fleet = names.len() > 1 || targets_file;
    if let Some(at) = session.metrics_address() {
        eprintln!("wsmon: Prometheus metrics at http://{at}/metrics");
        eprintln!(
            "wsmon: probes (as blackbox exporter's) at http://{at}/probe?target=URL&module=NAME"
        );
    }
    let directory = session.directory();
    let max_line = session.max_message_size();
    let stdin_task =
        (session.player().is_none()).then(|| tokio::spawn(forward_stdin(directory, max_line)));
    if let Some(t) = session.targets_status() {
        eprintln!(
            "wsmon: watching {} from {}; it is read again when it changes and on SIGHUP",
            crate::text::counted(t.targets as u64, "target", "targets"),
            t.path.display()
        );
    }
    // This loop runs on the thread that called block_on, not on a runtime worker: a blocking
    // write here is backpressure for the engines, and skips a hand-off to the blocking pool
    // per batch (as tokio's Stdout would do).
    let stdout = std::io::stdout();
    let headers = session.headers().to_vec();
    let mut out = Output::new(
        names.clone(),
        fleet,
        headers.iter().map(|h| h.app_ping.is_some()).collect(),
        headers
            .iter()
            .map(|h| h.preset.as_deref().and_then(Preset::named))
            .collect(),
    );
    let mut stopping = false;
    let mut why = None;
    let mut writable = true;
    let mut last_rec_error: Option<String> = None;
    // With a targets file, SIGHUP reads it again (the watcher listens) instead of stopping.
    let hup_stops = !targets_file;
    let stop = crate::signals::wait_for(hup_stops);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            arrival = session.next() => {
                let (id, batch) = match arrival {
                    Arrival::Batch(id, batch) => (id, batch),
                    Arrival::Ended => {
                        why.get_or_insert(StopReason::EndOfInput);
                        break;
                    }
                    Arrival::Scrape(scrape) => {
                        scrape.answer(crate::metrics::render(
                            session.watched().map(|(id, n, l)| (n, l, &out.stats[id])),
                            session.targets_status(),
                            session.now(),
                        ));
                        continue;
                    }
                    Arrival::Targets(change) => {
                        out.targets(&change);
                        continue;
                    }
                    Arrival::RecordingProblem(problem) => {
                        // Say each new recording problem once, on stderr; monitoring goes on.
                        if last_rec_error.as_ref() != Some(&problem) {
                            eprintln!("wsmon: {}", crate::text::sanitize(&problem));
                        }
                        last_rec_error = Some(problem);
                        continue;
                    }
                };
                out.take(id, &batch);
                if writable && write_out(&stdout, &out.buf).is_err() {
                    // The reader went away (`| head`): stop quietly.
                    writable = false;
                    stopping = true;
                    why.get_or_insert(StopReason::OutputClosed);
                    session.shutdown().await;
                }
                if !stopping && !targets_file && out.gave_up.iter().all(Option::is_some) {
                    stopping = true;
                    why.get_or_insert(StopReason::GaveUp);
                    session.shutdown().await;
                }
            }
            _ = &mut stop => {
                if stopping {
                    // A second signal (`timeout` signals the whole process group): stop
                    // waiting here; the last lines are still written while finishing.
                    break;
                }
                stopping = true;
                why.get_or_insert(StopReason::Signal);
                session.shutdown().await;
                stop.set(crate::signals::wait_for(hup_stops));
            }
        }
    }
    if let Some(t) = stdin_task {
        t.abort();
    }
    // The engines' last events (`closing`, `closed`) are output too, however the loop ended;
    // then each endpoint's `stopped` line, as a recording ends (a replay has its own).
    let why = why.unwrap_or(StopReason::Signal);
    // A replay's clock stands at its last event; a live session's is the wall clock.
    let at = session.now();
    let finished = session
        .finish_with(why, at, |id, batch| {
            out.take(id, batch);
            if writable && write_out(&stdout, &out.buf).is_err() {
                writable = false;
            }
        })
        .await;
    for id in 0..out.names.len() {
        if out.gone[id] {
            // Closed when the targets file dropped it; its lines were written then.
            continue;
        }
        if out.stats[id].stopped.is_none() {
            out.take(
                id,
                &[Stamped {
                    at,
                    event: Event::Stopped(why),
                }],
            );
        } else {
            out.buf.clear();
        }
        // Last, the session in numbers: the same model as the report and the exit line.
        let url = headers.get(id).map_or("", |h| h.url.as_str());
        out.summary(id, at, url);
        if writable && write_out(&stdout, &out.buf).is_err() {
            writable = false;
        }
    }
    let Output {
        stats,
        gave_up,
        names,
        ..
    } = out;
    for s in &finished.recordings {
        if s.lost > 0 {
            eprintln!(
                "wsmon: {} events could not be written to {}",
                s.lost,
                s.path.display()
            );
        }
    }
    if !targets_file && !gave_up.is_empty() && gave_up.iter().all(Option::is_some) {
        for (i, attempts) in gave_up.iter().enumerate() {
            let who = if fleet {
                format!("{}: ", names[i])
            } else {
                String::new()
            };
            eprintln!(
                "wsmon: {}",
                crate::text::sanitize(&format!(
                    "{who}{}",
                    crate::describe::gave_up(attempts.unwrap_or(0), &stats[i])
                ))
            );
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON lines being written, and what headless keeps of the events: each endpoint's
/// stats (for metrics and the exit summary) and whether it gave up.
struct Output {
    names: Vec<String>,
    /// Every line names its endpoint.
    fleet: bool,
    /// Endpoints a targets file dropped.
    gone: Vec<bool>,
    enc: Encoder,
    /// The lines of the last batch.
    buf: Vec<u8>,
    stats: Vec<ConnStats>,
    gave_up: Vec<Option<u32>>,
    /// Whether each endpoint has an application heartbeat (the pattern's advice differs).
    app_pings: Vec<bool>,
    /// Each endpoint's built-in preset, whose messages get a `decoded` field, and whether
    /// its events end with a recovery offset.
    presets: Vec<(Option<Preset>, bool)>,
    /// The pattern and the health each endpoint's last `pattern` and `health` lines said.
    said: Vec<(Option<Pattern>, Health)>,
}

impl Output {
    fn new(
        names: Vec<String>,
        fleet: bool,
        app_pings: Vec<bool>,
        presets: Vec<Option<Preset>>,
    ) -> Self {
        Output {
            presets: presets.into_iter().map(|p| (p, false)).collect(),
            fleet,
            gone: vec![false; names.len()],
            enc: Encoder::new(),
            buf: Vec::with_capacity(64 * 1024),
            stats: (0..names.len()).map(|_| ConnStats::default()).collect(),
            gave_up: vec![None; names.len()],
            app_pings,
            said: vec![(None, Health::Reconnecting); names.len()],
            names,
        }
    }

    /// A new reading of the targets file: room for the new endpoints, the gone ones marked,
    /// and a line on stderr (the journal, under systemd) saying what changed or why the file
    /// was refused.
    fn targets(&mut self, change: &crate::session::TargetsChange) {
        for (id, e) in &change.added {
            debug_assert_eq!(*id, self.names.len());
            self.names.push(e.name.clone());
            self.gone.push(false);
            self.stats.push(ConnStats::default());
            self.gave_up.push(None);
            self.app_pings.push(e.settings.app_ping.is_some());
            self.presets.push((e.settings.preset, false));
            self.said.push((None, Health::Reconnecting));
        }
        for id in &change.removed {
            self.gone[*id] = true;
        }
        let said = crate::describe::targets_read(
            &change.status,
            change.added.len(),
            change.removed.len(),
            change.relabelled.len(),
        );
        eprintln!("wsmon: {}", crate::text::sanitize(&said));
    }

    /// The `summary` line of endpoint `id`, appended to `buf`.
    fn summary(&mut self, id: usize, at: SystemTime, url: &str) {
        let s = &self.stats[id];
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        let line = SummaryLine {
            watched_ms: ms(s.watched(at)),
            availability: s.availability(at),
            up_ms: ms(s.up_total(at)),
            down_ms: ms(s.down_total(at)),
            not_probed_ms: ms(s.unprobed_total(at)),
            connects: s.connects,
            drops: s.drops,
            dials: s.total_attempts,
            health: s.health(s.end(at)).as_str().into(),
            message: crate::text::sanitize(&crate::describe::session(s, url, at)),
        };
        let endpoint = self.fleet.then(|| self.names[id].clone());
        derived_line(&mut self.buf, at, endpoint, Body::Summary(line));
    }

    /// After a batch: a `pattern` line when the drops' pattern was found, changed or ended,
    /// and a `health` line when how the endpoint is doing changed; from the same model as
    /// every other output.
    fn derived(&mut self, id: usize, at: SystemTime) {
        let s = &self.stats[id];
        let endpoint = self.fleet.then(|| self.names[id].clone());
        let pattern = s.pattern(at);
        let (said_pattern, said_health) = &self.said[id];
        let changed = match (&pattern, said_pattern) {
            (Some(a), Some(b)) => !a.same_finding(b),
            (None, None) => false,
            _ => true,
        };
        if changed {
            let app_ping = self.app_pings.get(id).copied().unwrap_or(false);
            let line = PatternLine {
                kind: pattern.as_ref().map(|p| p.kind().to_string()),
                culprit: pattern.as_ref().map(|p| p.culprit().to_string()),
                code: match &pattern {
                    Some(Pattern::ServerCloses { code, .. }) => *code,
                    _ => None,
                },
                period_ms: pattern
                    .as_ref()
                    .and_then(Pattern::period)
                    .map(|d| d.as_millis() as u64),
                message: pattern
                    .as_ref()
                    .map(|p| crate::text::sanitize(&crate::describe::pattern(p, app_ping))),
            };
            derived_line(&mut self.buf, at, endpoint.clone(), Body::Pattern(line));
        }
        let health = s.health(at);
        if std::mem::discriminant(&health) != std::mem::discriminant(said_health) {
            derived_line(
                &mut self.buf,
                at,
                endpoint,
                Body::Health(HealthLine {
                    health: health.as_str().into(),
                    degraded: health.degraded(),
                    message: crate::describe::health(health),
                }),
            );
        }
        self.said[id] = (pattern, health);
    }

    /// Folds endpoint `id`'s batch and puts its lines in `buf`.
    fn take(&mut self, id: usize, batch: &[Stamped]) {
        self.buf.clear();
        let fleet = self.fleet;
        let name = &self.names[id];
        let endpoint = fleet.then_some(name.as_str());
        for e in batch {
            self.stats[id].apply(e);
            if let Event::Warning(w) = &e.event
                && w.about_the_recording()
            {
                // A replay's notes about its file are for the person, not the output.
                eprintln!(
                    "wsmon: {}",
                    crate::text::sanitize(&format!("{name}: {}", crate::describe::warning(w)))
                );
                continue;
            }
            self.enc.encode_for(e, endpoint, &mut self.buf);
            match &e.event {
                Event::Ready { offsets, .. } => self.presets[id].1 = *offsets,
                Event::Message(m) => {
                    if let (Some(p), offsets) = self.presets[id]
                        && let Some(d) = p.decode(m.kind, &m.data, offsets)
                    {
                        // The line just written ends with `}` and a newline: the field goes
                        // before them.
                        self.buf.truncate(self.buf.len() - 2);
                        self.buf.extend_from_slice(b",\"decoded\":");
                        crate::jsonl::push_str(&mut self.buf, &d);
                        self.buf.extend_from_slice(b"}\n");
                    }
                }
                _ => {}
            }
            if let Event::GaveUp { attempts } = e.event {
                self.gave_up[id] = Some(attempts);
                if fleet {
                    eprintln!(
                        "wsmon: {}",
                        crate::text::sanitize(&format!(
                            "{name}: {}; the other endpoints go on",
                            crate::describe::gave_up(attempts, &self.stats[id])
                        ))
                    );
                }
            }
        }
        if let Some(last) = batch.last() {
            self.derived(id, last.at);
        }
        if self.gone[id] && self.stats[id].stopped.is_some() {
            // A dropped target's last lines are out: what it kept is not needed again.
            self.stats[id] = ConnStats::default();
        }
    }
}

/// A line derived from the events (`pattern`, `health`), appended to `buf`.
fn derived_line(buf: &mut Vec<u8>, at: SystemTime, endpoint: Option<String>, body: Body) {
    let line = WireLine {
        ts: at,
        endpoint,
        body,
    };
    if serde_json::to_writer(&mut *buf, &line).is_ok() {
        buf.push(b'\n');
    }
}

fn write_out(stdout: &std::io::Stdout, buf: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut lock = stdout.lock();
    lock.write_all(buf)?;
    lock.flush()
}

/// What one stdin line asks for, as a line typed in the dashboard: put in the preset's form
/// (`Command::Emit`), or as it is with `/raw TEXT`, binary with `/binary c0 ff` (and bytes
/// that are not UTF-8 as binary); `//x` is `/x` typed. Line endings are not part of it;
/// blank lines ask for nothing. The error says why a line cannot be sent (hex that is not).
pub fn stdin_line(line: &[u8]) -> Option<Result<Command, String>> {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let line = &line[..end];
    if line.is_empty() {
        return None;
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return Some(Ok(Command::Send {
            kind: Kind::Binary,
            data: bytes::Bytes::copy_from_slice(line),
        }));
    };
    Some(match Line::parse(text) {
        Ok(Line::Typed(line)) => Ok(Command::Emit { line }),
        Ok(Line::Raw(p)) => Ok(Command::Send {
            kind: p.kind,
            data: p.data,
        }),
        Err(e) => Err(format!("/binary: {e}")),
    })
}

/// Where a stdin line goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// To every endpoint, this text.
    All(&'a [u8]),
    /// To the endpoint at this index, this text.
    One(usize, &'a [u8]),
    /// Nowhere: `@NAME` names no endpoint; holds the name as written.
    Unknown(String),
}

/// Which endpoints a stdin line goes to, with several: `@NAME text` to the one so named,
/// `@* text` to all (so a message may start with `@`), a line without `@` to all. With one
/// endpoint every line is sent as typed.
pub(crate) fn route<'a>(line: &'a [u8], names: &[String]) -> Route<'a> {
    if names.len() < 2 {
        return Route::All(line);
    }
    let Some(rest) = line.strip_prefix(b"@") else {
        return Route::All(line);
    };
    let end = rest
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let (name, text) = (&rest[..end], rest.get(end + 1..).unwrap_or(&[]));
    if name == b"*" {
        return Route::All(text);
    }
    match names.iter().position(|n| n.as_bytes() == name) {
        Some(i) => Route::One(i, text),
        None => Route::Unknown(String::from_utf8_lossy(name).into_owned()),
    }
}

/// Why a line was not sent: the name, the names there are, and how to send a line that
/// starts with `@`.
fn unknown_name(name: &str, names: &[String]) -> String {
    format!(
        "no endpoint is named `{name}`; line not sent. The endpoints are: {}. Write `@NAME text` \
         for one, `@* text` for all (also for a message that starts with @)",
        names.join(", ")
    )
}

/// Sends each stdin line as a message; at the end of input wsmon keeps watching. A line
/// longer than the largest message is never held: it is refused as too large, with its first
/// bytes.
async fn forward_stdin(directory: watch::Receiver<Directory>, max: usize) {
    let mut reader = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        // Room for an `@NAME ` prefix and the line ending beside the message.
        let cmd = match crate::bounded::read_line_async(&mut reader, &mut line, max + 256).await {
            Ok(BoundedLine::End) | Err(_) => return,
            Ok(BoundedLine::Line) => None,
            Ok(BoundedLine::TooLong { len }) => Some(Command::TooLarge {
                kind: if std::str::from_utf8(&line).is_ok() {
                    Kind::Text
                } else {
                    Kind::Binary
                },
                preview: bytes::Bytes::copy_from_slice(
                    &line[..line.len().min(crate::engine::PREVIEW)],
                ),
                len,
            }),
        };
        // The endpoints now: a targets file's set changes as the file does.
        let endpoints = directory.borrow().clone();
        let names: Vec<String> = endpoints.iter().map(|(_, n, _)| n.clone()).collect();
        let (target, text) = match route(&line, &names) {
            Route::All(text) => (None, text),
            Route::One(i, text) => (Some(i), text),
            Route::Unknown(name) => {
                eprintln!(
                    "wsmon: {}",
                    crate::text::sanitize(&unknown_name(name.trim_end(), &names))
                );
                continue;
            }
        };
        let cmd = match cmd.map(Ok).or_else(|| stdin_line(text)) {
            None => continue,
            Some(Ok(cmd)) => cmd,
            Some(Err(why)) => {
                eprintln!(
                    "wsmon: stdin line not sent: {}",
                    crate::text::sanitize(&why)
                );
                continue;
            }
        };
        for (i, (_, _, c)) in endpoints.iter().enumerate() {
            // An engine that stopped (a target dropped meanwhile) takes nothing more.
            if target.is_none_or(|t| t == i) {
                let _ = c.send(cmd.clone()).await;
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
        assert_eq!(route(b"@us hello", &names), Route::One(1, b"hello"));
        assert_eq!(route(b"@asia hello", &names), Route::Unknown("asia".into()));
        assert_eq!(route(b"@us\n", &names), Route::One(1, b""));
        assert_eq!(route(b"@* @all hi", &names), Route::All(b"@all hi"));
        assert_eq!(route(b"plain", &names), Route::All(b"plain"));
        assert_eq!(
            route(b"@us hello", &names[..1]),
            Route::All(b"@us hello"),
            "one endpoint: sent as typed"
        );
        let m = unknown_name("asia", &names);
        assert!(m.contains("`asia`") && m.contains("eu, us"), "{m}");
    }
}
