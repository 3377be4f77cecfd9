//! One dial, in timed phases: DNS, TCP, proxy CONNECT, TLS, HTTP upgrade.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;

use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::event::{Cause, Failure, HttpFailure, OpenInfo, Phase, Phases, Reached};
use super::http::{self, HeadError};
use super::problem::{BadHead, Problem, ProxyName};
use super::redact::Redactor;
use super::settings::ConnSettings;
use super::tls;
pub use super::transport::{ByteStream, CountedTcp, Transport, Wire, Ws};

/// How an engine opens its connections: over the network (`Network`), or, in tests, over
/// any byte stream, so that timing can be checked on tokio's paused clock.
pub trait Connector: Send + Sync + 'static {
    /// One dial of `s` that must finish by `deadline`; `phase` follows its progress so a
    /// timeout can name where it struck.
    fn connect<'a>(
        &'a self,
        s: &'a ConnSettings,
        deadline: Instant,
        phase: &'a mut Phase,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<Dialed, Failure>> + Send + 'a>>;
}

/// The real dial: DNS, TCP, proxy CONNECT, TLS and the HTTP upgrade.
#[derive(Clone, Copy, Debug, Default)]
pub struct Network;

impl Connector for Network {
    fn connect<'a>(
        &'a self,
        s: &'a ConnSettings,
        deadline: Instant,
        phase: &'a mut Phase,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<Dialed, Failure>> + Send + 'a>> {
        Box::pin(dial(s, deadline, phase))
    }
}

/// A successful dial.
pub struct Dialed {
    /// The socket.
    pub ws: Ws,
    /// What was learned on the way (attempt is filled in by the caller).
    pub info: OpenInfo,
}

impl Dialed {
    /// A connection over a byte stream that is already past its upgrade (what a test
    /// connector returns; the peer runs a WebSocket server on the other end).
    pub async fn over(
        stream: impl ByteStream + 'static,
        s: &ConnSettings,
        info: OpenInfo,
    ) -> Dialed {
        let transport = Transport::new(Wire::Other(Box::new(stream)));
        let ws =
            WebSocketStream::from_raw_socket(transport, Role::Client, Some(client_ws_config(s)))
                .await;
        Dialed { ws, info }
    }
}

/// The WebSocket settings for a connection with these limits.
pub fn ws_config(max_message_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
}

/// The WebSocket settings for a client connection made with `s`.
fn client_ws_config(s: &ConnSettings) -> WebSocketConfig {
    ws_config(s.max_message_size).read_buffer_size(s.read_buffer_size)
}

/// Dials once; `phase` tracks progress so the caller can name where a timeout struck.
pub async fn dial(
    s: &ConnSettings,
    deadline: Instant,
    phase: &mut Phase,
) -> Result<Dialed, Failure> {
    let mut phases = Phases::default();

    *phase = Phase::Dns;
    let (dial_host, dial_port) = match &s.proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (s.target.host(), s.target.port()),
    };
    // Reaching the proxy is the proxy's part of the path: its failures say so first.
    let at_proxy = |f: Failure| match &s.proxy {
        Some(p) => Failure {
            phase: Phase::Proxy,
            problem: Problem::AtProxy {
                proxy: p.name(),
                problem: Box::new(f.problem),
            },
            ..f
        },
        None => f,
    };
    let t = Instant::now();
    let addrs = match dial_host.parse::<IpAddr>() {
        // An IP literal needs no lookup, and reports no DNS time.
        Ok(ip) => vec![SocketAddr::new(ip, dial_port)],
        Err(_) => {
            let addrs = resolve(dial_host, dial_port).await.map_err(at_proxy)?;
            phases.dns = t.elapsed();
            addrs
        }
    };

    *phase = Phase::Tcp;
    let t = Instant::now();
    let tcp = connect_any(&addrs, deadline).await.map_err(at_proxy)?;
    phases.tcp = t.elapsed();
    let remote = tcp.peer_addr().unwrap_or(addrs[0]);
    let _ = tcp.set_nodelay(true);
    let mut tcp = tcp;

    // From here a failure keeps the address it reached and the phases that finished.
    let reached = |f: Failure, phases: &Phases| Failure {
        reached: Some(Box::new(Reached {
            remote,
            phases: phases.clone(),
        })),
        ..f
    };
    if let Some(proxy) = &s.proxy {
        *phase = Phase::Proxy;
        let t = Instant::now();
        proxy_connect(
            &mut tcp,
            &s.target.authority(),
            proxy,
            &s.redactor,
            deadline,
        )
        .await
        .map_err(|f| reached(f, &phases))?;
        phases.proxy = Some(t.elapsed());
    }

    let (mut stream, tls_version, cert) = if s.target.is_secure() {
        *phase = Phase::Tls;
        let t = Instant::now();
        let name =
            rustls::pki_types::ServerName::try_from(s.target.host().to_string()).map_err(|e| {
                Failure::new(
                    Cause::Tls,
                    Phase::Tls,
                    Problem::BadServerName {
                        host: s.target.host().to_string(),
                        error: e.to_string(),
                    },
                )
            })?;
        // Built once per (CA file, insecure) and shared by every engine that uses it.
        let config = tls::client_config(s.ca.as_deref(), s.insecure).map_err(|e| {
            Failure::new(
                Cause::Tls,
                Phase::Tls,
                Problem::TlsSetup {
                    error: e.to_string(),
                },
            )
        })?;
        let tls_stream = TlsConnector::from(config)
            .connect(name, CountedTcp::new(tcp))
            .await
            .map_err(|e| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let (problem, chain) = tls::handshake_problem(&e, now);
                let problem = Problem::Tls {
                    host: s.target.host().to_string(),
                    problem,
                };
                let f = Failure {
                    chain,
                    ..Failure::new(Cause::Tls, Phase::Tls, problem)
                };
                reached(f, &phases)
            })?;
        phases.tls = Some(t.elapsed());
        let conn = tls_stream.get_ref().1;
        let version = conn.protocol_version().map(tls::version_name);
        let cert = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| tls::CertInfo::of(c));
        (
            Transport::new(Wire::Tls(Box::new(tls_stream))),
            version,
            cert,
        )
    } else {
        (
            Transport::new(Wire::Plain(CountedTcp::new(tcp))),
            None,
            None,
        )
    };

    *phase = Phase::Upgrade;
    let t = Instant::now();
    let (leftover, subprotocol) = upgrade(&mut stream, s, deadline)
        .await
        .map_err(|f| reached(f, &phases))?;
    phases.handshake = t.elapsed();

    stream.set_leftover(leftover);
    let ws =
        WebSocketStream::from_raw_socket(stream, Role::Client, Some(client_ws_config(s))).await;
    Ok(Dialed {
        ws,
        info: OpenInfo {
            attempt: 0,
            phases,
            remote,
            proxy: s.proxy.as_ref().map(|p| p.shown.clone()),
            // A subprotocol that carries a credential is shown masked, like a header.
            subprotocol: subprotocol.map(|p| s.redactor.subprotocol(&p)),
            tls_version,
            cert,
        },
    })
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Failure> {
    let found = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Failure::new(Cause::Dns, Phase::Dns, dns_problem(host, &e)))?;
    let addrs: Vec<SocketAddr> = found.collect();
    if addrs.is_empty() {
        return Err(Failure::new(
            Cause::Dns,
            Phase::Dns,
            Problem::NoAddresses {
                host: host.to_string(),
            },
        ));
    }
    Ok(addrs)
}

fn dns_problem(host: &str, e: &io::Error) -> Problem {
    let host = host.to_string();
    let text = e.to_string();
    // getaddrinfo's wording varies; sort it into what it means.
    if text.contains("not known")
        || text.contains("No address")
        || text.contains("nodename")
        || text.contains("Name or service")
    {
        Problem::NoSuchHost { host }
    } else if text.contains("Temporary failure") || text.contains("try again") {
        Problem::DnsUnanswered { host }
    } else {
        Problem::DnsFailed { host, error: text }
    }
}

async fn connect_any(addrs: &[SocketAddr], deadline: Instant) -> Result<TcpStream, Failure> {
    let mut last: Option<(SocketAddr, io::Error)> = None;
    for (i, addr) in addrs.iter().enumerate() {
        // Leave the later addresses a share of the time, so one black hole does not eat it all.
        let left = (addrs.len() - i) as u32;
        let now = Instant::now();
        let share = deadline.saturating_duration_since(now) / left;
        let until = if left > 1 {
            now + share
                .max(std::time::Duration::from_secs(1))
                .min(deadline - now)
        } else {
            deadline
        };
        match timeout_at(until, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => return Ok(tcp),
            Ok(Err(e)) => last = Some((*addr, e)),
            Err(_) => last = Some((*addr, io::Error::new(io::ErrorKind::TimedOut, "no answer"))),
        }
    }
    let (addr, e) = last.expect("resolve returns at least one address");
    let tried = addrs.len();
    Err(match e.kind() {
        io::ErrorKind::ConnectionRefused => Failure::new(
            Cause::Refused,
            Phase::Tcp,
            Problem::ConnectRefused { addr, tried },
        ),
        io::ErrorKind::TimedOut => Failure::new(
            Cause::Timeout,
            Phase::Tcp,
            Problem::ConnectUnanswered { addr, tried },
        ),
        _ => Failure::new(
            Cause::Io,
            Phase::Tcp,
            Problem::ConnectFailed {
                addr,
                tried,
                error: e.to_string(),
            },
        ),
    })
}

async fn proxy_connect(
    tcp: &mut TcpStream,
    authority: &str,
    proxy: &super::settings::Proxy,
    redactor: &Redactor,
    deadline: Instant,
) -> Result<(), Failure> {
    let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = &proxy.auth {
        req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await.map_err(|e| {
        let io = Problem::Io {
            error: e.to_string(),
        };
        Failure::new(
            Cause::Io,
            Phase::Proxy,
            Problem::AtProxy {
                proxy: proxy.name(),
                problem: Box::new(io),
            },
        )
    })?;
    let (head, rest) = http::read_head(tcp)
        .await
        .map_err(|e| head_failure(e, Phase::Proxy, Some(proxy.name())))?;
    if head.status / 100 == 2 {
        return Ok(());
    }
    // The proxy's page says why it refused (tinyproxy: "not configured to service requests
    // from your host"): keep it like a server's.
    let http = refusal(tcp, head, rest, deadline, redactor).await;
    let mut failure = Failure::new(
        Cause::Http,
        Phase::Proxy,
        Problem::ProxyRefused {
            proxy: proxy.name(),
            credentials: proxy.auth.is_some(),
        },
    );
    failure.http = Some(http);
    Err(failure)
}

fn head_failure(e: HeadError, phase: Phase, proxy: Option<ProxyName>) -> Failure {
    let (cause, how) = match e {
        HeadError::Io(e) => (Cause::Io, BadHead::Io(e.to_string())),
        HeadError::Eof(n) => (Cause::Protocol, BadHead::Closed(n)),
        HeadError::TooLarge => (Cause::Protocol, BadHead::TooLarge),
        HeadError::NotHttp(p) => (Cause::Protocol, BadHead::NotHttp(p)),
    };
    Failure::new(cause, phase, Problem::BadAnswer { proxy, how })
}

fn redact_headers(headers: &[(String, String)], r: &Redactor) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.clone(), r.header_value(n, v).into_owned()))
        .collect()
}

/// Sends the upgrade request and checks the answer; returns bytes read past the head and the
/// chosen subprotocol.
async fn upgrade(
    stream: &mut Transport,
    s: &ConnSettings,
    deadline: Instant,
) -> Result<(Vec<u8>, Option<String>), Failure> {
    let key = generate_key();
    let request = upgrade_request(s, &key);
    stream.write_all(request.as_bytes()).await.map_err(|e| {
        Failure::new(
            Cause::Io,
            Phase::Upgrade,
            Problem::SendRequest {
                error: e.to_string(),
            },
        )
    })?;
    let (head, rest) = http::read_head(stream)
        .await
        .map_err(|e| head_failure(e, Phase::Upgrade, None))?;
    if head.status != 101 {
        return Err(http_failure(
            refusal(stream, head, rest, deadline, &s.redactor).await,
        ));
    }
    if !head
        .header("upgrade")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
    {
        return Err(Failure::new(
            Cause::Protocol,
            Phase::Upgrade,
            Problem::NoUpgradeHeader,
        ));
    }
    if !head.header_has_token("connection", "upgrade") {
        return Err(Failure::new(
            Cause::Protocol,
            Phase::Upgrade,
            Problem::NoConnectionHeader,
        ));
    }
    let expected = derive_accept_key(key.as_bytes());
    match head.header("sec-websocket-accept") {
        Some(v) if v.trim() == expected => {}
        Some(v) => {
            return Err(Failure::new(
                Cause::Protocol,
                Phase::Upgrade,
                Problem::WrongAccept {
                    got: v.to_string(),
                    expected,
                },
            ));
        }
        None => {
            return Err(Failure::new(
                Cause::Protocol,
                Phase::Upgrade,
                Problem::NoAcceptHeader,
            ));
        }
    }
    if let Some(ext) = head.header("sec-websocket-extensions") {
        return Err(Failure::new(
            Cause::Protocol,
            Phase::Upgrade,
            Problem::UnofferedExtension {
                extension: ext.to_string(),
            },
        ));
    }
    let subprotocol = head
        .header("sec-websocket-protocol")
        .map(|p| p.trim().to_string());
    if let Some(p) = &subprotocol
        && !s.subprotocols.iter().any(|offered| offered == p)
    {
        return Err(Failure::new(
            Cause::Protocol,
            Phase::Upgrade,
            Problem::UnofferedSubprotocol {
                chosen: s.redactor.subprotocol(p),
                offered: s
                    .subprotocols
                    .iter()
                    .map(|o| s.redactor.subprotocol(o))
                    .collect(),
            },
        ));
    }
    Ok((rest, subprotocol))
}

fn upgrade_request(s: &ConnSettings, key: &str) -> String {
    let has = |name: &str| s.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut req = format!("GET {} HTTP/1.1\r\n", s.target.request_path());
    // A Host or Origin given as a header replaces the one wsmon would send.
    if !has("host") {
        req.push_str(&format!("Host: {}\r\n", s.target.host_header()));
    }
    req.push_str(&format!(
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    ));
    if !s.subprotocols.is_empty() {
        req.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            s.subprotocols.join(", ")
        ));
    }
    if let Some(origin) = s.origin.as_ref().filter(|_| !has("origin")) {
        req.push_str(&format!("Origin: {origin}\r\n"));
    }
    if !has("authorization")
        && let Some(auth) = s.target.basic_auth()
    {
        req.push_str(&format!("Authorization: {auth}\r\n"));
    }
    if !has("user-agent") {
        req.push_str(concat!(
            "User-Agent: wsmon/",
            env!("CARGO_PKG_VERSION"),
            "\r\n"
        ));
    }
    for (name, value) in &s.headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req
}

/// A refused upgrade or CONNECT as it is kept: status, headers (secret values masked) and the
/// start of the body, read for at most a second and never past the dial's deadline.
async fn refusal<S: AsyncRead + Unpin>(
    stream: &mut S,
    head: http::Head,
    rest: Vec<u8>,
    deadline: Instant,
    r: &Redactor,
) -> HttpFailure {
    let patience = deadline
        .saturating_duration_since(Instant::now())
        .min(std::time::Duration::from_secs(1));
    let (body, body_truncated) = http::read_body(stream, &head, rest, patience).await;
    HttpFailure {
        status: head.status,
        headers: redact_headers(&head.headers, r),
        reason: head.reason,
        body,
        body_truncated,
    }
}

/// The failure of an upgrade the server refused.
fn http_failure(answer: HttpFailure) -> Failure {
    let retry_after = answer.header("retry-after").and_then(http::retry_after);
    Failure {
        http: Some(answer),
        retry_after,
        ..Failure::new(Cause::Http, Phase::Upgrade, Problem::UpgradeRefused)
    }
}

/// A failure for a dial that ran out of `connect_timeout` in `phase`; on the way to `proxy`,
/// the proxy is named first.
pub fn timeout_failure(
    phase: Phase,
    limit: std::time::Duration,
    proxy: Option<&super::settings::Proxy>,
) -> Failure {
    let proxy = proxy
        .filter(|_| matches!(phase, Phase::Dns | Phase::Tcp | Phase::Proxy))
        .map(|p| p.name());
    Failure::new(
        Cause::Timeout,
        if proxy.is_some() { Phase::Proxy } else { phase },
        Problem::DialTimeout {
            phase,
            limit,
            proxy,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    #[test]
    fn request_carries_headers_subprotocols_and_url_credentials() {
        let mut s = ConnSettings::new(Target::parse("ws://u:p@example.com:8080/feed?x=1").unwrap());
        s.subprotocols = vec!["v1.chat".into(), "v2.chat".into()];
        s.origin = Some("https://app.example.com".into());
        s.headers = vec![("X-Team".into(), "blue".into())];
        let req = upgrade_request(&s, "KEY");
        assert!(
            req.starts_with("GET /feed?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n"),
            "{req}"
        );
        assert!(req.contains("Sec-WebSocket-Protocol: v1.chat, v2.chat\r\n"));
        assert!(req.contains("Origin: https://app.example.com\r\n"));
        assert!(req.contains("Authorization: Basic dTpw\r\n"));
        assert!(req.contains("X-Team: blue\r\n"));
        assert!(req.ends_with("\r\n\r\n"));
    }

    #[test]
    fn explicit_authorization_wins_over_url_credentials() {
        let mut s = ConnSettings::new(Target::parse("ws://u:p@h/").unwrap());
        s.headers = vec![("Authorization".into(), "Bearer t".into())];
        let req = upgrade_request(&s, "KEY");
        assert!(!req.contains("Basic"));
        assert!(req.contains("Authorization: Bearer t\r\n"));
    }

    #[tokio::test]
    async fn the_next_address_is_tried_when_the_first_refuses() {
        let good = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good_addr = good.local_addr().unwrap();
        let refused_addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let tcp = connect_any(&[refused_addr, good_addr], deadline)
            .await
            .expect("the second address answers");
        assert_eq!(tcp.peer_addr().unwrap(), good_addr);
        drop(good);
        let f = connect_any(&[refused_addr, good_addr], deadline)
            .await
            .unwrap_err();
        assert_eq!(f.cause, Cause::Refused);
        assert!(
            matches!(f.problem, Problem::ConnectRefused { tried: 2, .. }),
            "{:?}",
            f.problem
        );
    }

    #[test]
    fn body_line_is_one_clean_line() {
        let line = |body: &'static [u8]| {
            HttpFailure {
                status: 400,
                reason: String::new(),
                headers: vec![],
                body: bytes::Bytes::from_static(body),
                body_truncated: false,
            }
            .body_line()
        };
        assert_eq!(line(b"\n  token expired\nmore"), "token expired");
        assert_eq!(line(b"\xff\xfe"), "");
        assert_eq!(line(b"a\x1b[31mb"), "a[31mb");
    }
}
