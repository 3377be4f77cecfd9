//! Engine facts in words: the one place that turns failures, closes, warnings and timeline
//! milestones into the sentences the dashboard, headless mode, the report and the recordings
//! show. The engine reports typed facts; nothing reads these sentences back.

mod app;
mod problem;
mod verdict;

pub use app::app_problem;
pub use problem::{fix, http_tail, message};
pub use verdict::*;

use crate::engine::close_code::close_code_name;
use crate::engine::{Cause, CloseInfo, ClosedBy, Failure, OpenInfo, Phase, StopReason, Warning};
use crate::model::{Trouble, dial_time};
use crate::text;

/// A dial phase as a person says it: "DNS lookup", "TLS handshake".
pub fn phase(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "DNS lookup",
        Phase::Tcp => "TCP connect",
        Phase::Proxy => "proxy CONNECT",
        Phase::Tls => "TLS handshake",
        Phase::Upgrade => "HTTP upgrade",
        Phase::App => "application handshake",
        Phase::Open => "open connection",
    }
}

/// A failure in one line, cause first: "TLS: certificate expired", "HTTP 401 Unauthorized:
/// token expired".
pub fn failure(f: &Failure) -> String {
    if f.phase == Phase::Proxy {
        // The message names the proxy and where it was set; an HTTP status there is the
        // proxy's, not the server's.
        return message(f);
    }
    match (&f.http, f.cause) {
        (Some(h), _) => format!(
            "HTTP {} {}{}",
            h.status,
            h.reason,
            http_tail(h, f.retry_after)
        ),
        (None, Cause::Tls) => format!("TLS: {}", message(f)),
        (None, Cause::Dns) => format!("DNS: {}", message(f)),
        (None, Cause::Timeout) => format!("timeout: {}", message(f)),
        (None, Cause::Protocol) => format!("protocol: {}", message(f)),
        (None, Cause::Refused | Cause::Io | Cause::Http) => message(f),
    }
}

/// A failure in full, for the detail view: the summary line, then cause, phase and message,
/// then the HTTP answer when there was one.
pub(crate) fn failure_detail(f: &Failure) -> String {
    let mut out = format!(
        "{}\n\ncause    {}\nphase    {}\nmessage  {}\n",
        failure(f),
        f.cause,
        phase(f.phase),
        message(f)
    );
    if let Some(a) = fix(f) {
        out.push_str(&format!("fix      {a}\n"));
    }
    if let Some(r) = &f.reached {
        out.push_str(&format!(
            "reached  {} ({})\n",
            r.remote,
            phases_done(&r.phases)
        ));
    }
    if let Some(wait) = f.retry_after {
        out.push_str(&format!("retry-after {}\n", text::duration(wait)));
    }
    for (i, c) in f.chain.iter().enumerate() {
        let what = if i == 0 {
            "the server's certificate"
        } else {
            "then"
        };
        out.push_str(&format!("\n{what}\n{}", cert_detail(c)));
    }
    if let Some(h) = &f.http {
        out.push_str(&format!("\nHTTP/1.1 {} {}\n", h.status, h.reason));
        for (n, v) in &h.headers {
            out.push_str(&format!("{n}: {v}\n"));
        }
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(&h.body));
        if h.body_truncated {
            out.push_str("\n[body cut at 4 KiB]");
        }
    }
    out
}

/// The phases a failed dial finished, in one line: `dns 0.1 tcp 0.3 ms`.
pub(crate) fn phases_done(p: &crate::engine::Phases) -> String {
    let mut out = format!("dns {} tcp {}", text::millis(p.dns), text::millis(p.tcp));
    if let Some(px) = p.proxy {
        out.push_str(&format!(" proxy {}", text::millis(px)));
    }
    if let Some(t) = p.tls {
        out.push_str(&format!(" tls {}", text::millis(t)));
    }
    out.push_str(" ms");
    out
}

/// Days from `now` until a certificate expires, in words: `87 days left`, `expired 3 days ago`.
pub(crate) fn cert_expiry(c: &crate::engine::CertInfo, now: std::time::SystemTime) -> String {
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match c.days_left(now) {
        d if d < 0 => format!("expired {} ago", text::counted((-d) as u64, "day", "days")),
        d => format!("{} left", text::counted(d as u64, "day", "days")),
    }
}

/// A certificate in full, one fact a line, as F8 and the report show it.
pub(crate) fn cert_detail(c: &crate::engine::CertInfo) -> String {
    let date = crate::text::unix_date;
    let mut out = format!("subject  {}\nissuer   {}\n", c.subject, c.issuer);
    if !c.names.is_empty() {
        out.push_str(&format!("names    {}\n", c.names.join(", ")));
    }
    out.push_str(&format!(
        "valid    {} to {}\nsha256   {}\n",
        date(c.not_before),
        date(c.not_after),
        c.sha256
    ));
    out
}

/// The upgrade request wsmon sent, as the detail of a refused handshake shows it: the
/// headers that were configured (secret values masked) and the handshake's own.
pub(crate) fn request_sent(
    url: &str,
    headers: &[(String, String)],
    subprotocols: &[String],
) -> String {
    let mut out = format!("\n\nthe request sent (secret values masked):\nGET {url}\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\n"));
    }
    if !subprotocols.is_empty() {
        out.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\n",
            subprotocols.join(", ")
        ));
    }
    out.push_str("(and Host, Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version)");
    out
}

/// A close in one line: "closed by server: 1012 service restart (deploy)".
pub fn close(info: &CloseInfo) -> String {
    let code = match info.code {
        Some(c) => format!("{c} {}", close_code_name(c)),
        None => "no close code".to_string(),
    };
    // A reason that only repeats the code's name adds nothing.
    let redundant = info
        .code
        .is_some_and(|c| close_code_name(c).eq_ignore_ascii_case(info.reason.trim()));
    let reason = if info.reason.is_empty() || redundant {
        String::new()
    } else {
        format!(" ({})", info.reason)
    };
    match info.by {
        ClosedBy::Server => format!("closed by server: {code}{reason}"),
        ClosedBy::Client => format!("closed by you: {code}{reason}"),
        ClosedBy::Heartbeat => {
            if info.reason.is_empty() {
                "closed by wsmon: no pong".to_string()
            } else {
                format!("closed by wsmon: {}", info.reason)
            }
        }
        ClosedBy::Stale => format!("closed by wsmon: the feed was stale{reason}"),
        ClosedBy::Error => format!("connection lost: {code}{reason}"),
    }
}

/// What went wrong last, in one line.
pub(crate) fn trouble(t: &Trouble) -> String {
    match t {
        Trouble::Failed(f) => failure(f),
        Trouble::Dropped(c) => close(c),
    }
}

/// A connection that just opened, in one line: "open: 10.0.0.1:443 in 12 ms, TLS 1.3".
pub fn open(info: &OpenInfo) -> String {
    let mut out = format!(
        "open: {} in {} ms",
        info.remote,
        text::millis(dial_time(info))
    );
    if let Some(proto) = &info.subprotocol {
        out.push_str(&format!(", subprotocol {proto}"));
    }
    if let Some(v) = info.tls_version {
        out.push_str(&format!(", {v}"));
    }
    if info.attempt > 1 {
        out.push_str(&format!(
            " after {}",
            text::counted(u64::from(info.attempt), "attempt", "attempts")
        ));
    }
    out
}

/// A connection that just opened, in full: the line, then the time of each phase.
pub(crate) fn open_detail(info: &OpenInfo) -> String {
    let p = &info.phases;
    let mut out = format!(
        "{}\n\nDNS      {} ms\nTCP      {} ms\n",
        open(info),
        text::millis(p.dns),
        text::millis(p.tcp)
    );
    if let Some(px) = p.proxy {
        out.push_str(&format!(
            "proxy    {} ms ({})\n",
            text::millis(px),
            info.proxy.as_deref().unwrap_or("")
        ));
    }
    if let Some(tls) = p.tls {
        out.push_str(&format!("TLS      {} ms\n", text::millis(tls)));
    }
    out.push_str(&format!(
        "upgrade  {} ms\ntotal    {} ms\n",
        text::millis(p.handshake),
        text::millis(dial_time(info))
    ));
    out
}

/// Messages written but not confirmed when a connection died, in words.
pub fn unconfirmed(count: u64, resent: bool) -> String {
    let n = text::counted(count, "message was", "messages were");
    if resent {
        format!(
            "{n} written but not acknowledged by the peer's TCP when the connection ended: sent again now (resend_unconfirmed), so some may arrive twice"
        )
    } else {
        format!(
            "{n} written but not acknowledged by the peer's TCP when the connection ended: they may or may not have arrived, and are not sent again (resend_unconfirmed = true would)"
        )
    }
}

/// Why a session ended, in words.
pub fn stopped(why: StopReason) -> String {
    let how = match why {
        StopReason::Quit => "the user quit",
        StopReason::Signal => "a signal (SIGTERM, SIGINT or SIGHUP)",
        StopReason::GaveUp => "every endpoint gave up (max_attempts)",
        StopReason::OutputClosed => "the output went away",
        StopReason::EndOfInput => "the events ran out",
        StopReason::RecordingStopped => "the user stopped recording",
        StopReason::Rotated => "the recording continues in the next part",
    };
    format!("stopped: {how}")
}

/// A warning in one line.
pub fn warning(w: &Warning) -> String {
    match w {
        Warning::Insecure => "--insecure: the server certificate is NOT verified; anyone on the path can read and change this connection".into(),
        Warning::PingNotConnected => "not connected: ping not sent".into(),
        Warning::SkippedLine { line, reason } => format!("line {line}: {reason}; skipped"),
        Warning::EndOfRecording { replayed, skipped } => format!(
            "end of the recording: {} replayed, {} skipped",
            text::counted(*replayed, "event", "events"),
            text::counted(*skipped, "line", "lines")
        ),
        Warning::AppPingTooSlow { lives, interval } => format!(
            "the server ended the last {} after {}, sooner than the application heartbeat's interval ({}): if it wants an application ping more often, set app_ping_interval below that",
            text::counted(lives.len() as u64, "connection", "connections"),
            lives
                .iter()
                .map(|d| text::duration(*d))
                .collect::<Vec<_>>()
                .join(" and "),
            text::duration(*interval)
        ),
        Warning::NotSent(why) => format!("not sent: {}", app_problem(why)),
        Warning::App(what) => app_problem(what),
        Warning::Note(text) => text.clone(),
    }
}

/// The short badge a standing warning gets in the title, if it stands.
pub(crate) fn warning_badge(w: &Warning) -> Option<&'static str> {
    match w {
        Warning::Insecure => Some("TLS NOT VERIFIED (--insecure)"),
        _ => None,
    }
}

/// A reading of the targets file in one line: what it changed, or why it was refused (the
/// last good set still watched).
pub(crate) fn targets_read(
    status: &crate::targets::TargetsStatus,
    added: usize,
    removed: usize,
    relabelled: usize,
) -> String {
    match &status.problem {
        Some(why) => format!(
            "targets file refused, still watching the last good set of {}: {why}",
            status.targets
        ),
        None => format!(
            "targets file {}: {added} added, {removed} removed{}, {} watched",
            status.path.display(),
            if relabelled == 0 {
                String::new()
            } else {
                format!(", {relabelled} relabelled")
            },
            status.targets
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{HttpFailure, Problem};

    #[test]
    fn http_failure_in_plain_words() {
        let f = Failure {
            cause: Cause::Http,
            phase: Phase::Upgrade,
            http: Some(HttpFailure {
                status: 401,
                reason: "Unauthorized".into(),
                headers: vec![],
                body: "token expired\nmore".into(),
                body_truncated: false,
            }),
            retry_after: None,
            ..Failure::new(Cause::Http, Phase::Upgrade, Problem::UpgradeRefused)
        };
        assert_eq!(failure(&f), "HTTP 401 Unauthorized: token expired");
        let mut redirect = f.clone();
        let h = redirect.http.as_mut().unwrap();
        h.status = 302;
        h.reason = "Found".into();
        h.headers = vec![("Location".into(), "wss://x/".into())];
        h.body = Default::default();
        redirect.retry_after = Some(std::time::Duration::from_secs(5));
        assert_eq!(
            failure(&redirect),
            "HTTP 302 Found -> wss://x/: connect to that URL instead (Retry-After 5s)"
        );
        redirect.http.as_mut().unwrap().headers = vec![("Location".into(), "https://x/a".into())];
        assert_eq!(
            failure(&redirect),
            "HTTP 302 Found -> https://x/a: connect to wss://x/a instead (Retry-After 5s)"
        );
    }

    #[test]
    fn close_reasons_are_not_repeated() {
        let mut c = CloseInfo {
            code: Some(1012),
            reason: "service restart".into(),
            by: ClosedBy::Server,
            uptime: std::time::Duration::ZERO,
            verdict: None,
        };
        assert_eq!(close(&c), "closed by server: 1012 service restart");
        c.reason = "deploy 42".into();
        assert_eq!(
            close(&c),
            "closed by server: 1012 service restart (deploy 42)"
        );
    }
}
