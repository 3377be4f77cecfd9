//! One probe's run on a one-shot engine, and what it found.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::ProbeSpec;
use crate::engine::{Cause, Command, Dir, Engine, Event, Phase, Phases};

/// What a probe found.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Outcome {
    /// Every check passed.
    pub success: bool,
    /// From the request to the answer.
    pub duration: Duration,
    /// The phases the dial finished (those of a failed dial up to its failure).
    pub phases: Option<Phases>,
    /// The application protocol's handshake, from open to ready (a preset's).
    pub app: Option<Duration>,
    /// The address reached.
    pub remote: Option<SocketAddr>,
    /// The HTTP status of the upgrade's answer (101 when it upgraded).
    pub status: Option<u16>,
    /// The connection was upgraded to a WebSocket.
    pub upgraded: bool,
    /// The TLS version negotiated.
    pub tls_version: Option<&'static str>,
    /// The earliest `notAfter` of the certificates seen (Unix seconds): the server's on a
    /// connection, every one the server presented when it was refused.
    pub cert_expiry: Option<i64>,
    /// A ping's round trip.
    pub rtt: Option<Duration>,
    /// Whether a message matched `expect` (`None` without one).
    pub matched: Option<bool>,
    /// From open to the first matching message.
    pub matched_after: Option<Duration>,
    /// What failed: the phase, the cause and the engine's words.
    pub failure: Option<(&'static str, &'static str, String)>,
}

impl Outcome {
    /// A probe that found no free slot within its timeout.
    pub(crate) fn busy(started: Instant, cap: usize) -> Outcome {
        Outcome {
            duration: started.elapsed(),
            failure: Some((
                "queue",
                "busy",
                format!("{cap} probes were running for the whole timeout"),
            )),
            ..Outcome::default()
        }
    }

    fn fail(&mut self, phase: &'static str, cause: &'static str, message: impl Into<String>) {
        if self.failure.is_none() {
            self.failure = Some((phase, cause, message.into()));
        }
    }
}

/// How long a probe's engine may take to close politely after the answer went out.
const CLOSE_WITHIN: Duration = Duration::from_secs(3);

/// Runs one probe within `budget`; `started` is when its request came.
pub(super) async fn run(mut spec: ProbeSpec, budget: Duration, started: Instant) -> Outcome {
    let deadline = started + budget;
    let s = &mut spec.settings;
    // One dial, no retry, no heartbeat of its own: the probe pings once, when it is ready.
    s.max_attempts = 1;
    s.ping_interval = None;
    s.stale_after = None;
    s.stagger = Duration::ZERO;
    // The engine's own dial timeout names the phase that was slow; the probe's deadline is a
    // little later so that the engine's verdict, not the probe's, is what is said.
    s.connect_timeout = s.connect_timeout.min(budget.saturating_sub(budget / 20));
    let wants_ready = s.preset.is_some();
    let mut engine = Engine::spawn(spec.settings);
    let mut o = Outcome {
        matched: spec.expect.as_ref().map(|_| false),
        ..Outcome::default()
    };
    let mut opened: Option<Instant> = None;
    let mut ready = false;
    let mut pinged = false;
    let finished = |o: &Outcome, ready: bool| {
        ready && (!spec.ping || o.rtt.is_some()) && o.matched != Some(false)
    };
    let timed_out = loop {
        let batch = tokio::select! {
            b = engine.events.recv() => b,
            () = tokio::time::sleep_until(deadline) => break true,
        };
        let Some(batch) = batch else { break false };
        let mut over = false;
        for st in batch.iter() {
            match &st.event {
                Event::Open(info) => {
                    opened = Some(Instant::now());
                    o.phases = Some(info.phases.clone());
                    o.remote = Some(info.remote);
                    o.status = Some(101);
                    o.upgraded = true;
                    o.tls_version = info.tls_version;
                    o.cert_expiry = info.cert.as_ref().map(|c| c.not_after);
                    ready = !wants_ready;
                }
                Event::Ready { .. } => {
                    o.app = opened.map(|t| t.elapsed());
                    ready = true;
                }
                Event::Rtt { rtt, app: false } => o.rtt = Some(*rtt),
                Event::Message(m) if m.dir == Dir::In => {
                    if let (Some(re), Some(false)) = (&spec.expect, o.matched) {
                        let text = String::from_utf8_lossy(&m.data);
                        if re.is_match(&text) {
                            o.matched = Some(true);
                            o.matched_after = opened.map(|t| t.elapsed());
                        }
                    }
                }
                Event::Error(f) => {
                    if let Some(r) = &f.reached {
                        o.remote = Some(r.remote);
                        o.phases.get_or_insert_with(|| r.phases.clone());
                    }
                    if let Some(h) = &f.http {
                        o.status = Some(h.status);
                    }
                    if let Some(min) = f.chain.iter().map(|c| c.not_after).min() {
                        o.cert_expiry = Some(min);
                    }
                    o.fail(
                        f.phase.as_str(),
                        f.cause.as_str(),
                        crate::describe::message(f),
                    );
                    over = true;
                }
                Event::Closed(c) if o.failure.is_none() => {
                    let code = c
                        .code
                        .map_or_else(|| "no code".to_string(), |c| c.to_string());
                    o.fail(
                        Phase::Open.as_str(),
                        "closed",
                        format!(
                            "the server closed the connection ({code}) before the probe was done"
                        ),
                    );
                    over = true;
                }
                Event::GaveUp { .. } | Event::Stopped(_) => over = true,
                _ => {}
            }
        }
        if over {
            break false;
        }
        if ready && spec.ping && !pinged {
            pinged = true;
            let _ = engine.commands.try_send(Command::Ping);
        }
        if finished(&o, ready) {
            break false;
        }
    };
    if timed_out {
        let (phase, what) = match (opened, ready) {
            (None, _) => (Phase::Open.as_str(), "the connection did not open"),
            (Some(_), false) => (
                Phase::App.as_str(),
                "the application protocol was not ready",
            ),
            (Some(_), true) if spec.ping && o.rtt.is_none() => ("ping", "no pong came"),
            (Some(_), true) => ("expect", "no message matched expect"),
        };
        o.fail(
            phase,
            Cause::Timeout.as_str(),
            format!("{what} within the probe's {:.1}s", budget.as_secs_f64()),
        );
    }
    o.success = o.failure.is_none() && finished(&o, ready);
    o.duration = started.elapsed();
    // Closed politely after the answer, not before it: the close handshake is not the probe's.
    let Engine {
        commands,
        mut events,
        ..
    } = engine;
    tokio::spawn(async move {
        let _ = commands.send(Command::Shutdown).await;
        let _ = tokio::time::timeout(CLOSE_WITHIN, async {
            while events.recv().await.is_some() {}
        })
        .await;
    });
    o
}
