//! The verdict in words: who ended the connections, what the drops have in common and what
//! to do about it, how the endpoint is doing, and the session in one line. The facts come
//! typed from the model; the sentences are made here, once, for every output.

use std::time::{Duration, SystemTime};

use super::{close, failure, trouble};
use crate::engine::close_code::close_code_name;
use crate::engine::{Cause, Phase, Verdict};
use crate::model::{
    ConnStats, Culprit, FLAP_WITHIN, Health, Outage, Pattern, Period, Step, dial_time,
};
use crate::text;

/// Who ended a connection, in a word or two: `1012`, `abrupt 1006`, `no pong`, `stale`.
pub fn culprit(c: Culprit) -> String {
    match c {
        Culprit::Server { code: Some(code) } if code != 1006 => code.to_string(),
        Culprit::Server { .. } => "close without a code".into(),
        Culprit::ServerProtocol => "protocol error".into(),
        Culprit::Wsmon(v) => verdict(v).into(),
        Culprit::Abrupt => "abrupt 1006".into(),
        Culprit::User => "closed by you".into(),
    }
}

/// Who ended a connection, said for a tally of drops: `server 1012`, `abrupt 1006 (no close
/// frame)`, `wsmon: no pong`.
pub(crate) fn culprit_long(c: Culprit) -> String {
    match c {
        Culprit::Server { code: Some(code) } => {
            format!("server {code} {}", close_code_name(code))
        }
        Culprit::Server { code: None } => "server close without a code".into(),
        Culprit::ServerProtocol => "server protocol error".into(),
        Culprit::Wsmon(v) => format!("wsmon: {}", verdict(v)),
        Culprit::Abrupt => "abrupt 1006 (no close frame)".into(),
        Culprit::User => "closed by you".into(),
    }
}

/// wsmon's verdict in a word or two.
pub fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::NoPong => "no pong",
        Verdict::NoAppPong => "no app pong",
        Verdict::WriteStall => "write stall",
        Verdict::ProtocolHeartbeat => "no server ping",
        Verdict::Stale => "stale",
    }
}

/// A step of an outage in a word or two: `1012`, `abrupt 1006`, `no pong`, `refused`,
/// `HTTP 503`, `timeout in upgrade`, `proxy HTTP 407`.
pub(crate) fn step(s: &Step) -> String {
    match *s {
        Step::Dropped(c) => culprit(c),
        Step::Failed {
            cause,
            phase,
            status,
        } => {
            let what = match (status, cause) {
                (Some(status), _) => format!("HTTP {status}"),
                (None, Cause::Refused) => "refused".into(),
                (None, Cause::Dns) => "DNS".into(),
                (None, Cause::Tls) => "TLS".into(),
                (None, Cause::Timeout) => format!("timeout in {}", phase.as_str()),
                (None, Cause::Protocol) => "protocol".into(),
                (None, Cause::Io | Cause::Http) => "io".into(),
            };
            if phase == Phase::Proxy {
                format!("proxy {what}")
            } else {
                what
            }
        }
    }
}

/// A tally of steps in one line: `server 1012 service restart ×5, abrupt 1006 (no close
/// frame)`.
pub(crate) fn tally(items: &[(Step, u64)]) -> String {
    tally_with(items, |s| match s {
        Step::Dropped(c) => culprit_long(*c),
        other => step(other),
    })
}

/// A tally in the fewest words, for a summary line: `1012 ×5, abrupt 1006`.
pub(crate) fn tally_short(items: &[(Step, u64)]) -> String {
    tally_with(items, step)
}

fn tally_with(items: &[(Step, u64)], label: impl Fn(&Step) -> String) -> String {
    let mut parts: Vec<String> = items
        .iter()
        .take(6)
        .map(|(s, n)| {
            let label = label(s);
            match n {
                1 => label,
                n => format!("{label} ×{n}"),
            }
        })
        .collect();
    if items.len() > 6 {
        parts.push(format!("{} more kinds", items.len() - 6));
    }
    parts.join(", ")
}

/// An outage's steps in one line: `abrupt 1006 → refused ×3 → HTTP 503 ×2`.
pub fn path(steps: &[(Step, u32)]) -> String {
    steps
        .iter()
        .map(|(s, n)| match n {
            1 => step(s),
            n => format!("{} ×{n}", step(s)),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// An outage in one line, and how it ended: `down 8.1s: abrupt 1006 → refused ×3 → open`;
/// one that ended at the first dial was wsmon's wait, not downtime: `back in 0.6s: 1012 →
/// open`.
pub fn outage(o: &Outage, now: SystemTime) -> String {
    let lasted = text::duration(text::between(o.at, o.until.unwrap_or(now)));
    let head = match (o.seen_down, o.until.is_some()) {
        (true, _) => format!("down {lasted}"),
        (false, true) => format!("back in {lasted}"),
        (false, false) => format!("reconnecting for {lasted}"),
    };
    let mut line = path(&o.steps);
    match (o.until.is_some(), line.is_empty()) {
        (true, true) => line = "open".into(),
        (true, false) => line.push_str(" → open"),
        (false, _) => {}
    }
    if o.gave_up {
        line.push_str(" → gave up (max_attempts)");
    }
    if line.is_empty() {
        head
    } else {
        format!("{head}: {line}")
    }
}

/// A period of the timeline in one line, for the dashboard: a connection (how it opened and,
/// once it ended, after how long and who ended it), or an outage.
pub fn period(p: &Period, now: SystemTime) -> String {
    match p {
        Period::Up(c) => {
            let opened = format!(
                "connected in {} ms{}",
                text::millis(dial_time(&c.info)),
                if c.info.attempt > 1 {
                    format!(" on attempt {}", c.info.attempt)
                } else {
                    String::new()
                }
            );
            match &c.end {
                Some(e) => format!(
                    "{opened}; after {} up: {}",
                    text::duration(Duration::from_millis(e.close.uptime.as_millis() as u64)),
                    match &e.failure {
                        Some(f) => failure(f),
                        None => close(&e.close),
                    }
                ),
                None => opened,
            }
        }
        Period::Out(o) => outage(o, now),
    }
}

/// What a server's close code and reason say, in a few words: `4000 heartbeat timeout: no
/// ping for 5s`, `1012 service restart`.
fn server_close(code: Option<u16>, reason: &str) -> String {
    let reason = reason.trim();
    match code {
        Some(c) if reason.is_empty() || close_code_name(c).eq_ignore_ascii_case(reason) => {
            format!("{c} {}", close_code_name(c))
        }
        Some(c) if (4000..5000).contains(&c) || (3000..4000).contains(&c) => {
            format!("{c} {reason}")
        }
        Some(c) => format!("{c} {} ({reason})", close_code_name(c)),
        None => "a close frame without a code".into(),
    }
}

/// A pattern in the drops, in one line with the advice that fits the culprit; `app_ping`:
/// whether an application heartbeat is set.
pub fn pattern(p: &Pattern, app_ping: bool) -> String {
    let short = pattern_short(p);
    match advice(p, app_ping) {
        Some(a) => format!("{short}; {a}"),
        None => short,
    }
}

/// What to do about a pattern, when wsmon knows.
pub fn advice(p: &Pattern, app_ping: bool) -> Option<String> {
    Some(match *p {
        Pattern::ServerCloses {
            wants_heartbeat: true,
            period,
            ..
        } => {
            let within = period.map(|d| format!(" more often than every {}", about(d)));
            if app_ping {
                format!(
                    "the server's application wants a heartbeat and app_ping does not satisfy it: check app_ping, and send it{} (ping_interval)",
                    within.unwrap_or_default()
                )
            } else {
                format!(
                    "the server's application wants a heartbeat: set app_ping to the message it expects{}; WebSocket pings (ping_interval) do not reach the application",
                    within.map(|w| format!(", sent{w}")).unwrap_or_default()
                )
            }
        }
        Pattern::ServerCloses { .. } => {
            "the server's own decision, not the network's: its logs say why".into()
        }
        Pattern::Verdicts {
            verdict: Verdict::NoPong,
            ..
        } => "the server (or a proxy) does not answer WebSocket pings: raise pong_timeout, or set ping_interval = 0 and an app_ping it answers".into(),
        Pattern::Verdicts {
            verdict: Verdict::WriteStall,
            ..
        } => "the peer stops reading: it is overloaded or the path is black-holed".into(),
        Pattern::Verdicts { .. } => return None,
        Pattern::PathTimeout {
            period, idle: true, ..
        } => format!(
            "a heartbeat (ping_interval) shorter than {} keeps it open",
            about(period)
        ),
        Pattern::PathTimeout { .. } => {
            "a load balancer, proxy or gateway limits how long a connection lives".into()
        }
        Pattern::IdleTimeout { idle, .. } => format!(
            "a heartbeat (ping_interval) shorter than {} keeps it open",
            about(idle)
        ),
        Pattern::Flapping { .. } => return None,
    })
}

/// A period as people say it, to two significant digits: 1.505 s is "1.5s", 59.87 s "1m".
fn about(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    let mut unit = 1u64;
    while ms / unit >= 100 {
        unit *= 10;
    }
    let rounded = (ms + unit / 2) / unit * unit;
    text::duration(Duration::from_millis(rounded))
}

/// How many drops fit: `5 in a row`, `17 of the last 22`.
fn how_many(run: usize, of: usize) -> String {
    if run == of {
        format!("{run} in a row")
    } else {
        format!("{run} of the last {of}")
    }
}

/// A pattern with its culprit, without the advice: "the server closes each connection after
/// ~5s (5 in a row): 4000 heartbeat timeout: no ping for 5s".
pub(crate) fn pattern_short(p: &Pattern) -> String {
    match p {
        Pattern::ServerCloses {
            code,
            reason,
            run,
            of,
            period: Some(period),
            ..
        } => format!(
            "the server closes {} after ~{} ({}): {}",
            if run == of {
                "each connection"
            } else {
                "most connections"
            },
            about(*period),
            how_many(*run, *of),
            server_close(*code, reason)
        ),
        Pattern::ServerCloses {
            code,
            reason,
            run,
            of,
            ..
        } if run == of => format!(
            "the server closed the last {run} connections: {}",
            server_close(*code, reason)
        ),
        Pattern::ServerCloses {
            code,
            reason,
            run,
            of,
            ..
        } => format!(
            "the server closed {run} of the last {of} connections: {}",
            server_close(*code, reason)
        ),
        Pattern::Verdicts {
            verdict: v,
            run,
            period,
        } => format!(
            "wsmon ended the last {run} connections{}: {}",
            period
                .map(|p| format!(" after ~{}", about(p)))
                .unwrap_or_default(),
            verdict(*v)
        ),
        Pattern::PathTimeout {
            period,
            run,
            idle: true,
        } => format!(
            "drops every ~{} without a close frame ({run} in a row), no traffic since each opened: an idle timeout on the path",
            about(*period)
        ),
        Pattern::PathTimeout { period, run, .. } => format!(
            "drops every ~{} without a close frame ({run} in a row): a timeout on the path",
            about(*period)
        ),
        Pattern::IdleTimeout { idle, run } => format!(
            "drops after ~{} without traffic, without a close frame ({run} in a row): an idle timeout on the path",
            about(*idle)
        ),
        Pattern::Flapping { short, of } => format!(
            "flapping: {short} of the last {of} connections ended within {} of opening",
            text::duration(FLAP_WITHIN)
        ),
    }
}

/// The badge a sick or down endpoint gets beside its state: `PINGS UNANSWERED`, `FLAPPING`.
pub(crate) fn health_badge(h: Health) -> Option<String> {
    match h {
        Health::PingsUnanswered { unanswered } => Some(format!("PINGS UNANSWERED ×{unanswered}")),
        Health::Flapping => Some("FLAPPING".into()),
        Health::Stale { silent } => Some(format!("STALE {}", text::duration(silent))),
        Health::Down => Some("DOWN".into()),
        Health::GaveUp => Some("GAVE UP".into()),
        Health::Healthy | Health::Reconnecting | Health::Closed => None,
    }
}

/// How an endpoint is doing, in a few words for a summary line.
pub fn health(h: Health) -> String {
    match h {
        Health::Healthy => "healthy".into(),
        Health::PingsUnanswered { unanswered } => {
            format!("open, but its last {unanswered} pings got no pong")
        }
        Health::Flapping => "flapping".into(),
        Health::Stale { silent } => format!("open, but no data for {}", text::duration(silent)),
        Health::Reconnecting => "reconnecting".into(),
        Health::Down => "down".into(),
        Health::Closed => "closed by you".into(),
        Health::GaveUp => "gave up (max_attempts)".into(),
    }
}

/// A whole session in one line, for the exit summary and the replay's last line: how long,
/// how the endpoint did, the counts, availability, the pattern, and always the last failure
/// or close.
pub fn session(s: &ConnStats, url: &str, now: SystemTime) -> String {
    let end = s.end(now);
    let by = if s.drops > 0 {
        format!(" ({})", tally_short(&s.drops_by.0))
    } else {
        String::new()
    };
    let stale = match s.stales {
        0 => String::new(),
        n => format!(", stale {n}×"),
    };
    let unconfirmed = match (s.unconfirmed, s.resent) {
        (0, _) => String::new(),
        (n, 0) => format!(", {} unconfirmed", text::count(n)),
        (n, r) => format!(
            ", {} unconfirmed ({} sent again)",
            text::count(n),
            text::count(r)
        ),
    };
    let avail = s
        .availability(end)
        .map(|a| {
            let unprobed = s.unprobed_total(end);
            format!(
                ", {a:.2}% available ({} down{})",
                text::duration(s.down_total(end)),
                if unprobed < Duration::from_millis(1) {
                    String::new()
                } else {
                    format!(", {} not probed", text::duration(unprobed))
                }
            )
        })
        .unwrap_or_default();
    let pattern = s
        .pattern(end)
        .map(|p| format!("; {}", pattern_short(&p)))
        .unwrap_or_default();
    let last = match (&s.last_failure, &s.last_close) {
        (Some((_, t)), _) => format!("; last failure: {}", trouble(t)),
        (None, Some(c)) => format!("; no failure; last close: {}", close(c)),
        (None, None) => "; no failure".into(),
    };
    format!(
        "watched {url} for {}: {}; {}, {}{by}{stale}, {} in / {} out{unconfirmed}{avail}{pattern}{last}",
        text::duration(s.watched(now)),
        health(s.health(end)),
        text::counted(s.connects, "connect", "connects"),
        text::counted(s.drops, "drop", "drops"),
        text::count(s.msgs_in),
        text::count(s.msgs_out)
    )
}

/// The line said when `max_attempts` ran out: how many, and the last failure or close.
pub fn gave_up(attempts: u32, stats: &ConnStats) -> String {
    let last = match &stats.last_failure {
        Some((_, t)) => trouble(t),
        None => "no failure recorded".into(),
    };
    format!(
        "gave up after {} (max_attempts); last: {last}",
        text::counted(u64::from(attempts), "failed attempt", "failed attempts")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_said_roughly() {
        let ms = std::time::Duration::from_millis;
        assert_eq!(about(ms(1_505)), "1.5s");
        assert_eq!(about(ms(59_870)), "1m");
        assert_eq!(about(ms(100_400)), "1m40s");
        let p = Pattern::PathTimeout {
            period: ms(1_505),
            run: 6,
            idle: false,
        };
        assert_eq!(
            pattern(&p, false),
            "drops every ~1.5s without a close frame (6 in a row): a timeout on the path; a \
             load balancer, proxy or gateway limits how long a connection lives"
        );
    }

    #[test]
    fn a_server_that_closes_each_connection_is_named_with_the_advice_that_fits() {
        let p = Pattern::ServerCloses {
            code: Some(4000),
            reason: "heartbeat timeout: no ping for 5s".into(),
            run: 5,
            of: 5,
            period: Some(std::time::Duration::from_millis(5_020)),
            wants_heartbeat: true,
        };
        let said = pattern(&p, false);
        assert!(
            said.starts_with(
                "the server closes each connection after ~5s (5 in a row): 4000 heartbeat \
                 timeout: no ping for 5s; the server's application wants a heartbeat: set app_ping"
            ),
            "{said}"
        );
        assert!(!said.contains("on the path"), "{said}");
        let restart = Pattern::ServerCloses {
            code: Some(1012),
            reason: "service restart".into(),
            run: 4,
            of: 4,
            period: Some(std::time::Duration::from_secs(3)),
            wants_heartbeat: false,
        };
        assert_eq!(
            pattern(&restart, false),
            "the server closes each connection after ~3s (4 in a row): 1012 service restart; \
             the server's own decision, not the network's: its logs say why"
        );
    }
}
