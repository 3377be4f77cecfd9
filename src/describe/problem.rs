//! A failure's facts (`engine::Problem`) in words: the message a person reads, and the fix
//! where wsmon knows one. Short verdict first (what wscat or curl would say, with the host),
//! the fix apart from it.

use std::time::Duration;

use crate::engine::{
    BadHead, ChainMiss, Failure, HttpFailure, NotInCaFile, Phase, Problem, ProxyName, TlsProblem,
};
use crate::text;

/// What to do about a self-signed certificate (also one marked CA:TRUE, as `openssl req
/// -x509` makes: trusted explicitly, it is accepted as the server's own).
const SELF_SIGNED_FIX: &str = "trust it with --ca FILE (its PEM) or skip checks with --insecure";

/// What to do about a server that is not speaking TLS on a `wss://` port.
const PLAIN_PORT_FIX: &str = "is this a plain ws:// port? try ws:// instead of wss://";

/// A failure's message: one line naming the problem, with the values that show it.
pub fn message(f: &Failure) -> String {
    problem(&f.problem, f.http.as_ref(), f.retry_after)
}

/// What to do about a failure, when wsmon knows.
pub fn fix(f: &Failure) -> Option<String> {
    match &f.problem {
        Problem::Tls { host, problem } => tls_fix(problem, host),
        Problem::ProxyRefused { proxy, credentials } => {
            let from = if proxy.source.is_empty() {
                String::new()
            } else {
                format!(" (the proxy is set by {})", proxy.source)
            };
            Some(match f.http.as_ref().map_or(0, |h| h.status) {
                407 | 401 if *credentials => {
                    format!("the proxy refused the credentials in its URL{from}")
                }
                407 | 401 => format!(
                    "the proxy wants credentials: put them in its URL, http://user:password@host:port{from}"
                ),
                _ => format!("ask the proxy's owner why it refuses this target{from}"),
            })
        }
        Problem::Recorded { fix, .. } => fix.clone(),
        _ => None,
    }
}

/// What an HTTP refusal says beyond its status line, for a one-line summary: where a
/// redirect points (as a ws/wss URL to try), the first line of the body, and how long the
/// server asked us to wait. Empty when there is nothing more.
pub fn http_tail(h: &HttpFailure, retry_after: Option<Duration>) -> String {
    let mut tail = String::new();
    match h.redirect() {
        Some((loc, ws)) => {
            let to = if ws == loc.trim() { "that URL" } else { &ws };
            tail.push_str(&format!(" -> {loc}: connect to {to} instead"));
        }
        None if h.status / 100 == 3 => tail.push_str(" (a redirect without Location)"),
        None => {}
    }
    let line = h.body_line();
    if !line.is_empty() {
        tail.push_str(&format!(": {line}"));
    }
    if let Some(wait) = retry_after {
        tail.push_str(&format!(" (Retry-After {}s)", wait.as_secs()));
    }
    tail
}

/// The proxy as a failure names it: "proxy http://u:***@p:3128 (from environment HTTPS_PROXY)".
fn proxy_named(p: &ProxyName) -> String {
    if p.source.is_empty() {
        format!("proxy {}", p.shown)
    } else {
        format!("proxy {} (from {})", p.shown, p.source)
    }
}

fn problem(p: &Problem, http: Option<&HttpFailure>, retry_after: Option<Duration>) -> String {
    let tried = |n: usize| {
        if n > 1 {
            format!(" (tried {n} addresses)")
        } else {
            String::new()
        }
    };
    let status = || http.map_or((0, ""), |h| (h.status, h.reason.as_str()));
    match p {
        Problem::NoSuchHost { host } => {
            format!("cannot resolve `{host}`: no such host (check the spelling, or the DNS/VPN)")
        }
        Problem::DnsUnanswered { host } => format!(
            "cannot resolve `{host}`: the DNS server did not answer (temporary failure; check the network)"
        ),
        Problem::DnsFailed { host, error } => format!("cannot resolve `{host}`: {error}"),
        Problem::NoAddresses { host } => format!("`{host}` resolved to no addresses"),
        Problem::ConnectRefused { addr, tried: n } => format!(
            "refused by {addr}{}: nothing is listening on that port",
            tried(*n)
        ),
        Problem::ConnectUnanswered { addr, tried: n } => format!(
            "no answer from {addr}{}: a firewall may be dropping packets",
            tried(*n)
        ),
        Problem::ConnectFailed {
            addr,
            tried: n,
            error,
        } => format!("cannot connect to {addr}{}: {error}", tried(*n)),
        Problem::AtProxy { proxy, problem: p } => {
            format!("{}: {}", proxy_named(proxy), problem(p, http, retry_after))
        }
        Problem::Io { error } => error.clone(),
        Problem::ProxyRefused { proxy, .. } => {
            let (code, reason) = status();
            let says = http.map(HttpFailure::body_line).unwrap_or_default();
            let says = if says.is_empty() || says.eq_ignore_ascii_case(reason) {
                String::new()
            } else {
                format!(" ({says})")
            };
            let host = proxy
                .shown
                .trim_start_matches("http://")
                .trim_end_matches('/');
            format!("proxy {host} refused CONNECT: {code} {reason}{says}")
        }
        Problem::BadAnswer { proxy, how } => {
            let who = proxy
                .as_ref()
                .map_or_else(|| "the server".to_string(), proxy_named);
            match how {
                BadHead::Io(e) => format!("{who}: {e}"),
                BadHead::Closed(0) => format!("{who} closed the connection without answering"),
                BadHead::Closed(n) => format!(
                    "{who} closed the connection after {n} bytes of an unfinished HTTP answer"
                ),
                BadHead::TooLarge => format!("{who} sent HTTP headers larger than 16 KiB"),
                BadHead::NotHttp(p) => format!("{who} did not answer with HTTP: {p}"),
            }
        }
        Problem::SendRequest { error } => format!("sending the upgrade request: {error}"),
        Problem::UpgradeRefused => {
            let (code, reason) = status();
            let tail = http.map_or_else(String::new, |h| http_tail(h, retry_after));
            format!("the server answered the upgrade with {code} {reason}{tail}")
        }
        Problem::NoUpgradeHeader => {
            "the server answered 101 without `Upgrade: websocket`".to_string()
        }
        Problem::NoConnectionHeader => {
            "the server answered 101 without `Connection: upgrade`".to_string()
        }
        Problem::NoAcceptHeader => {
            "the server answered 101 without Sec-WebSocket-Accept".to_string()
        }
        Problem::WrongAccept { got, expected } => format!(
            "wrong Sec-WebSocket-Accept `{got}` (expected `{expected}`): a proxy may be rewriting the handshake"
        ),
        Problem::UnofferedExtension { extension } => {
            format!("the server enabled extension `{extension}`, which wsmon did not offer")
        }
        Problem::UnofferedSubprotocol { chosen, offered } => {
            let offered = if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            };
            format!(
                "the server chose subprotocol `{chosen}`, which was not offered (offered: {offered})"
            )
        }
        Problem::BadServerName { host, error } => {
            format!("`{host}` cannot be used as a TLS server name: {error}")
        }
        Problem::TlsSetup { error } => error.clone(),
        Problem::Tls { host, problem } => tls(problem, host),
        Problem::DialTimeout {
            phase,
            limit,
            proxy,
        } => dial_timeout(*phase, *limit, proxy.as_ref()),
        Problem::BadClose {
            code,
            code_allowed,
            reason,
        } => {
            let what = match code {
                Some(c) if !code_allowed => {
                    format!("close code {c}, which no peer may send (RFC 6455 7.4)")
                }
                Some(c) => format!("close code {c} with a reason that is not UTF-8"),
                None => "a close frame without a code".to_string(),
            };
            format!(
                "the server broke the WebSocket protocol: it sent {what}, reason \"{}\"; wsmon answered 1002",
                reason.escape_ascii()
            )
        }
        Problem::NoPong {
            limit,
            answered,
            uptime,
        } => {
            // A pong earlier on this connection: the peer stopped answering. None at all:
            // it accepts connections but does not answer pings.
            let seen = if *answered {
                "the peer answered pings and then went silent: the peer or the path is gone (half-open connection)".to_string()
            } else {
                format!(
                    "the server accepted the connection {} ago but has answered no ping on it: it does not answer pings, or the path drops them",
                    text::duration(*uptime)
                )
            };
            format!("no pong for {}: {seen}", text::duration(*limit))
        }
        Problem::NoAppPong {
            limit,
            pattern,
            ping,
        } => format!(
            "no application pong for {}: nothing matching `{pattern}` answered `{ping}`: the server's application is not answering (WebSocket pings may still be)",
            text::duration(*limit)
        ),
        Problem::WriteStall { limit, waiting } => format!(
            "nothing written for {}: the peer stopped reading ({}): the peer is frozen or the path is black-holed",
            text::duration(*limit),
            text::counted(*waiting as u64, "message waiting", "messages waiting")
        ),
        Problem::NoCloseFrame => {
            "the connection ended without a close frame (1006 abnormal closure)".to_string()
        }
        Problem::DroppedWithoutClose => {
            "the server dropped the TCP connection without a close frame (1006 abnormal closure)"
                .to_string()
        }
        Problem::Socket { error } => format!("socket error: {error}"),
        Problem::Reset => "connection reset by peer (TCP RST)".to_string(),
        Problem::BrokenPipe => "connection broken while sending (peer gone)".to_string(),
        Problem::EndedMidFrame => "the connection ended in the middle of a frame".to_string(),
        Problem::TooLarge { size, max } => format!(
            "incoming message of {size} bytes is larger than max_message_size ({max} bytes): raise max_message_size to accept it"
        ),
        Problem::Capacity { error } => format!("{error}: raise max_message_size"),
        Problem::BadUtf8 { detail } => {
            format!("the server sent a text message that is not valid UTF-8 ({detail})")
        }
        Problem::ProtocolViolation { detail } => {
            format!("WebSocket protocol violation by the server: {detail}")
        }
        Problem::App(what) => super::app_problem(what),
        Problem::EngineStopped { panic } => {
            format!("wsmon's engine for this endpoint stopped: {panic}")
        }
        Problem::Recorded { message, .. } => message.clone(),
        // The engine's problems grow with it; one this version has no words for is still
        // named by what it is.
        other => format!("{other:?}"),
    }
}

fn dial_timeout(phase: Phase, limit: Duration, proxy: Option<&ProxyName>) -> String {
    let secs = text::duration(limit);
    if let Some(p) = proxy {
        let what = match phase {
            Phase::Dns => "its DNS lookup did not finish",
            Phase::Tcp => "the TCP connect to it did not finish",
            _ => "it did not answer CONNECT",
        };
        return format!("{}: {what} within {secs} (connect_timeout)", proxy_named(p));
    }
    match phase {
        Phase::Upgrade => format!(
            "the server accepted the connection but did not answer the WebSocket upgrade within {secs} (connect_timeout)"
        ),
        Phase::Tls => format!("the TLS handshake did not finish within {secs} (connect_timeout)"),
        Phase::Dns => format!("the DNS lookup did not finish within {secs} (connect_timeout)"),
        Phase::Tcp => format!("the TCP connect did not finish within {secs} (connect_timeout)"),
        Phase::Proxy => {
            format!("the proxy did not answer CONNECT within {secs} (connect_timeout)")
        }
        Phase::App | Phase::Open => {
            format!("the dial did not finish within {secs} (connect_timeout)")
        }
    }
}

/// A refused TLS handshake in one short line: `untrusted self-signed certificate for localhost`.
fn tls(p: &TlsProblem, host: &str) -> String {
    match p {
        TlsProblem::NotTls => "the server did not speak TLS".to_string(),
        TlsProblem::ClosedInHandshake => {
            "the server closed the connection during the TLS handshake".to_string()
        }
        TlsProblem::Alert(alert) => {
            format!("the server refused the TLS handshake (alert: {alert})")
        }
        TlsProblem::Incompatible(why) => {
            format!("no TLS version or cipher in common with the server ({why})")
        }
        TlsProblem::Handshake(e) => format!("TLS handshake failed: {e}"),
        TlsProblem::SelfSigned => format!("untrusted self-signed certificate for {host}"),
        TlsProblem::UnknownCa(top) => format!("certificate for {host} from an unknown CA ({top})"),
        TlsProblem::Expired {
            until: Some(t),
            now,
        } => {
            format!("certificate expired {}", days_word(*t, *now))
        }
        TlsProblem::Expired { until: None, .. } => "certificate expired".to_string(),
        TlsProblem::NotValidYet { from: Some(t), now } => {
            format!("certificate not valid yet (valid {})", days_word(*t, *now))
        }
        TlsProblem::NotValidYet { from: None, .. } => "certificate not valid yet".to_string(),
        TlsProblem::WrongName(None) => format!("certificate is not for {host}"),
        TlsProblem::WrongName(Some(names)) if names.is_empty() => {
            format!("certificate names no host (no subjectAltName), not {host}")
        }
        TlsProblem::WrongName(Some(names)) => {
            format!("certificate is for {}, not {host}", names.join(", "))
        }
        TlsProblem::Revoked => "certificate has been revoked".to_string(),
        TlsProblem::BadSignature => "certificate has a bad signature".to_string(),
        TlsProblem::BadEncoding => "certificate is not correctly encoded".to_string(),
        TlsProblem::NotForServers => "certificate is not meant for TLS servers".to_string(),
        TlsProblem::NoServerAuth => {
            "certificate is not meant for TLS servers (no serverAuth)".to_string()
        }
        TlsProblem::ServerCertAsCa => "the chain uses a server certificate as a CA".to_string(),
        TlsProblem::NotInCaFile(_) => {
            format!("certificate for {host} not trusted by the --ca file")
        }
        TlsProblem::Rejected(what) => format!("certificate rejected: {what}"),
        other => format!("TLS handshake failed: {other:?}"),
    }
}

fn tls_fix(p: &TlsProblem, host: &str) -> Option<String> {
    let reissue =
        || format!("connect with a name it holds, or reissue it with subjectAltName=DNS:{host}");
    Some(match p {
        TlsProblem::NotTls | TlsProblem::ClosedInHandshake => PLAIN_PORT_FIX.to_string(),
        TlsProblem::SelfSigned => SELF_SIGNED_FIX.to_string(),
        TlsProblem::UnknownCa(_) => "trust that CA with --ca FILE or in this machine's store (SSL_CERT_FILE too), or have the server send its intermediate certificates".to_string(),
        TlsProblem::Expired { until: Some(t), .. } => format!(
            "the server must renew it (valid until {}); if that date is right, check this machine's clock",
            text::unix_date(*t)
        ),
        TlsProblem::Expired { until: None, .. } => {
            "the server must renew it; check this machine's clock too".to_string()
        }
        TlsProblem::NotValidYet { .. } => "check this machine's clock".to_string(),
        TlsProblem::WrongName(Some(names)) if names.is_empty() => format!(
            "reissue it with subjectAltName=DNS:{host}: TLS clients no longer read the subject CN"
        ),
        TlsProblem::WrongName(_) => reissue(),
        TlsProblem::ServerCertAsCa => "the server sends the wrong intermediate certificates".to_string(),
        TlsProblem::NotInCaFile(why) => not_in_ca_file(why),
        _ => return None,
    })
}

/// Why the chain the server sent does not lead to a certificate in the `--ca` file.
fn not_in_ca_file(why: &NotInCaFile) -> String {
    let file = why.file.display();
    let holds = why
        .holds
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match &why.miss {
        ChainMiss::SelfSigned { subject, same_name } => {
            let which = if *same_name {
                "another certificate with the same name: was it regenerated?"
            } else {
                "a different certificate"
            };
            format!(
                "the server's certificate is self-signed (`{subject}`) and is not the one in `{file}` \
                 (it holds {holds}, {which}): pass the server's own certificate with --ca"
            )
        }
        ChainMiss::WrongKey { issuer } => format!(
            "the chain names `{issuer}` from `{file}` as its issuer but is not signed by that \
             certificate's key (was the CA reissued?)"
        ),
        ChainMiss::OnlyLeaf { issuer } => format!(
            "the server sends only its own certificate, issued by `{issuer}`, which is not \
             in `{file}` (it holds {holds}): if `{issuer}` is an intermediate CA, the server \
             does not send its intermediate certificates (configure its full chain); \
             otherwise the chain is not signed by the CA in that file"
        ),
        ChainMiss::EndsAt { subject, issuer } => format!(
            "the chain the server sends ends at `{subject}`, issued by `{issuer}`, which is not in \
             `{file}` (it holds {holds}): the chain is not signed by the CA in that file"
        ),
    }
}

/// `3 days ago`, `5 hours ago`, `in 2 days`: how far `then` is from `now` (Unix seconds).
fn days_word(then: i64, now: i64) -> String {
    let d = now - then;
    let (n, unit) = match d.abs() {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 86_400 => (1, "day"),
        s if s >= 7_200 => (s / 3_600, "hours"),
        s if s >= 120 => (s / 60, "minutes"),
        s => (s, "seconds"),
    };
    if d >= 0 {
        format!("{n} {unit} ago")
    } else {
        format!("in {n} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Cause;

    #[test]
    fn times_are_said_in_the_unit_that_reads() {
        let now = 1_800_000_000;
        assert_eq!(days_word(now - 3 * 86_400 - 5, now), "3 days ago");
        assert_eq!(days_word(now - 86_400, now), "1 day ago");
        assert_eq!(days_word(now - 5 * 3_600, now), "5 hours ago");
        assert_eq!(days_word(now + 10 * 86_400, now), "in 10 days");
    }

    #[test]
    fn a_problem_met_on_the_way_to_a_proxy_names_the_proxy_and_where_it_was_set() {
        let proxy = ProxyName {
            shown: "http://u:***@p:3128".into(),
            source: "environment HTTPS_PROXY".into(),
        };
        let f = Failure::new(
            Cause::Refused,
            Phase::Proxy,
            Problem::AtProxy {
                proxy: proxy.clone(),
                problem: Box::new(Problem::ConnectRefused {
                    addr: "10.0.0.1:3128".parse().unwrap(),
                    tried: 2,
                }),
            },
        );
        assert_eq!(
            message(&f),
            "proxy http://u:***@p:3128 (from environment HTTPS_PROXY): refused by 10.0.0.1:3128 (tried 2 addresses): nothing is listening on that port"
        );
        let t = Failure::new(
            Cause::Timeout,
            Phase::Proxy,
            Problem::DialTimeout {
                phase: Phase::Tcp,
                limit: Duration::from_secs(10),
                proxy: Some(proxy),
            },
        );
        assert_eq!(
            message(&t),
            "proxy http://u:***@p:3128 (from environment HTTPS_PROXY): the TCP connect to it did not finish within 10s (connect_timeout)"
        );
        assert_eq!(fix(&t), None);
    }

    #[test]
    fn a_write_stall_counts_what_waits_in_words() {
        let f = |waiting| {
            message(&Failure::new(
                Cause::Timeout,
                Phase::Open,
                Problem::WriteStall {
                    limit: Duration::from_secs(5),
                    waiting,
                },
            ))
        };
        assert!(f(1).contains("(1 message waiting)"), "{}", f(1));
        assert!(f(3).contains("(3 messages waiting)"), "{}", f(3));
    }
}
