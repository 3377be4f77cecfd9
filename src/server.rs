//! `wsmon serve`: a real WebSocket server in the same binary, a known-good peer for field work,
//! and the peer of the tests, the benchmarks and `--demo`.

mod demo;
pub mod pong_filter;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::engine::close_code::close_code_name;
use crate::engine::dial::ws_config;
use pong_filter::{PongFilter, PongPolicy};

/// How the server behaves; every field has a `wsmon serve` flag.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port to listen on (0 = any free port).
    pub port: u16,
    /// Send a tick message this often.
    pub tick: Option<Duration>,
    /// On each connection, first send this many messages...
    pub flood: u64,
    /// ...of this many bytes each.
    pub flood_size: usize,
    /// Flood with binary frames instead of text.
    pub flood_binary: bool,
    /// Close every connection after this long.
    pub drop_after: Option<Duration>,
    /// Close code used by `drop_after`; `None` drops the TCP connection without a close frame.
    pub drop_code: Option<u16>,
    /// The close reason sent with `drop_code` (at most 123 bytes are sent).
    pub drop_reason: Option<String>,
    /// Answer every upgrade with this HTTP status instead of 101.
    pub reject: Option<u16>,
    /// Body of a rejection.
    pub reject_body: Option<String>,
    /// `Retry-After` seconds sent with a rejection.
    pub retry_after: Option<u64>,
    /// Delay every pong by this long.
    pub pong_delay: Option<Duration>,
    /// Never answer pings.
    pub no_pong: bool,
    /// Do not echo received messages.
    pub no_echo: bool,
    /// PEM certificate chain and key for wss.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Play the lively `--demo` scenario on each connection.
    pub demo: bool,
    /// Print one line per connection and close to stdout.
    pub print: bool,
    /// Largest message accepted.
    pub max_message_size: usize,
    /// Accept one connection, then stop listening (benchmarks: a reconnect is refused).
    pub once: bool,
    /// Keep the first this many received texts in `ServerStats::texts` (the tests read what
    /// wsmon sent); built with the `test-support` feature only.
    #[cfg(feature = "test-support")]
    pub keep_texts: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: crate::engine::target::DEFAULT_PORT,
            tick: None,
            flood: 0,
            flood_size: 100,
            flood_binary: false,
            drop_after: None,
            drop_code: Some(1012),
            drop_reason: None,
            reject: None,
            reject_body: None,
            retry_after: None,
            pong_delay: None,
            no_pong: false,
            no_echo: false,
            tls: None,
            demo: false,
            print: false,
            max_message_size: 64 << 20,
            once: false,
            #[cfg(feature = "test-support")]
            keep_texts: 0,
        }
    }
}

/// What the server has seen: `wsmon serve` sums it up when it stops, the tests check what the
/// client really did.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// TCP connections accepted.
    pub accepted: AtomicU64,
    /// WebSocket handshakes completed.
    pub upgraded: AtomicU64,
    /// Connections currently alive (accepted and not yet ended).
    pub live: AtomicU64,
    /// Most connections alive at once.
    pub max_live: AtomicU64,
    /// Data messages received.
    pub received: AtomicU64,
    /// Pings received.
    pub pings: AtomicU64,
    /// The first `ServeOptions::keep_texts` text messages received, in order.
    #[cfg(feature = "test-support")]
    pub texts: Mutex<Vec<String>>,
    /// Close frames received from clients, by code (1005: a close without a code); a map of
    /// at most 65,536 codes, so a long run stays bounded.
    pub close_codes: Mutex<std::collections::BTreeMap<u16, u64>>,
}

impl ServerStats {
    /// Text messages received so far (the first `keep_texts`).
    #[cfg(feature = "test-support")]
    pub fn texts(&self) -> Vec<String> {
        self.texts.lock().expect("stats lock").clone()
    }

    /// The close codes received, each with how many times.
    pub fn closes(&self) -> Vec<(u16, u64)> {
        let codes = self.close_codes.lock().expect("stats lock");
        codes.iter().map(|(c, n)| (*c, *n)).collect()
    }

    /// What the server saw, in one line: `12 connections (11 upgraded, at most 3 at once),
    /// 340 messages and 20 pings received; close codes 1000 x9, 1001 x2`.
    pub fn summary(&self) -> String {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let count = |a: &AtomicU64, one, many| crate::text::counted(n(a), one, many);
        let mut out = format!(
            "{} ({} upgraded, at most {} at once), {} and {} received",
            count(&self.accepted, "connection", "connections"),
            crate::text::count(n(&self.upgraded)),
            crate::text::count(n(&self.max_live)),
            count(&self.received, "message", "messages"),
            count(&self.pings, "ping", "pings"),
        );
        let closes = self.closes();
        if !closes.is_empty() {
            let codes: Vec<String> = closes.iter().map(|(c, k)| format!("{c} x{k}")).collect();
            out.push_str(&format!("; close codes {}", codes.join(", ")));
        }
        out
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    stats: Arc<ServerStats>,
}

impl Server {
    /// Binds and starts accepting.
    pub async fn start(opts: ServeOptions) -> io::Result<Server> {
        let acceptor = match &opts.tls {
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
            None => None,
        };
        let listener = TcpListener::bind((opts.bind, opts.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let stats = Arc::new(ServerStats::default());
        let tls = acceptor.is_some();
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::new(opts),
            acceptor,
            stats.clone(),
            stop_rx,
        ));
        Ok(Server {
            addr,
            tls,
            stop,
            task,
            stats,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A URL for clients.
    pub fn url(&self) -> String {
        format!("{}://{}/", if self.tls { "wss" } else { "ws" }, self.addr)
    }

    /// What it has seen.
    pub fn stats(&self) -> Arc<ServerStats> {
        self.stats.clone()
    }

    /// Stops like a killed process: the listener closes and every connection is dropped at
    /// once, without close frames.
    pub async fn kill(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Resolves when the server has stopped by itself (`once`, after its connection ended).
    pub(crate) async fn finished(&mut self) {
        let _ = (&mut self.task).await;
    }
}

fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> io::Result<TlsAcceptor> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let certs = crate::engine::tls::load_pem_certs(cert)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot read the private key `{}`: {e}", key.display()),
        )
    })?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| io::Error::other(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("certificate and key do not fit: {e}"),
        )
    })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop(
    listener: TcpListener,
    opts: Arc<ServeOptions>,
    acceptor: Option<TlsAcceptor>,
    stats: Arc<ServerStats>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let counter = Arc::new(AtomicU64::new(0));
    let mut listener = Some(listener);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {
                if listener.is_none() && conns.is_empty() {
                    break;
                }
            }
            (tcp, peer) = accept(listener.as_ref()) => {
                if opts.once {
                    listener = None;
                }
                let _ = tcp.set_nodelay(true);
                stats.accepted.fetch_add(1, Ordering::Relaxed);
                let live = stats.live.fetch_add(1, Ordering::SeqCst) + 1;
                stats.max_live.fetch_max(live, Ordering::SeqCst);
                let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
                let (opts, acceptor, stats) = (opts.clone(), acceptor.clone(), stats.clone());
                conns.spawn(async move {
                    let result = match acceptor {
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(tls) => connection(tls, peer, n, &opts, &stats).await,
                            Err(e) => Err(format!("TLS handshake failed: {e}")),
                        },
                        None => connection(tcp, peer, n, &opts, &stats).await,
                    };
                    if let Err(e) = result {
                        say(&opts, format!("{peer} #{n} failed: {e}"));
                    }
                    stats.live.fetch_sub(1, Ordering::SeqCst);
                });
            }
        }
    }
    // Dropping the set aborts every connection: the sockets close without close frames.
    conns.shutdown().await;
}

async fn accept(listener: Option<&TcpListener>) -> (tokio::net::TcpStream, SocketAddr) {
    match listener {
        Some(l) => crate::net::accept(l).await,
        None => std::future::pending().await,
    }
}

fn say(opts: &ServeOptions, line: String) {
    if opts.print {
        let ts = crate::text::timestamp(SystemTime::now());
        println!("{ts} {}", crate::text::sanitize(&line));
    } else {
        tracing::info!(target: "wsmon::server", "{line}");
    }
}

/// Reads an HTTP request head (for rejections), up to 16 KiB.
async fn read_request<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Rejected",
    }
}

/// Answers an upgrade with a non-101 status, like a gateway or an auth layer would.
async fn reject<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    status: u16,
    opts: &ServeOptions,
    location: &str,
) -> io::Result<()> {
    read_request(&mut s).await?;
    let reason = reason_phrase(status);
    let body = opts
        .reject_body
        .clone()
        .unwrap_or_else(|| format!("{status} {reason}: rejected by wsmon serve --reject"));
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(secs) = opts.retry_after {
        head.push_str(&format!("Retry-After: {secs}\r\n"));
    }
    match status {
        401 => head.push_str("WWW-Authenticate: Bearer realm=\"wsmon\"\r\n"),
        426 => head.push_str("Upgrade: websocket\r\n"),
        300..=399 => head.push_str(&format!("Location: {location}\r\n")),
        _ => {}
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    s.flush().await?;
    let _ = s.shutdown().await;
    Ok(())
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin + Send>(
    stream: S,
    peer: SocketAddr,
    n: u64,
    opts: &ServeOptions,
    stats: &ServerStats,
) -> Result<(), String> {
    let reject_status = opts
        .reject
        .or_else(|| if opts.demo { demo::reject_for(n) } else { None });
    if let Some(status) = reject_status {
        let location = format!("ws://{peer}/moved");
        let mut o = opts.clone();
        if opts.demo {
            o.retry_after = Some(2);
            o.reject_body = Some("maintenance window, back in a moment".into());
        }
        reject(stream, status, &o, &location)
            .await
            .map_err(|e| e.to_string())?;
        say(
            opts,
            format!(
                "{peer} #{n} rejected with {status} {}",
                reason_phrase(status)
            ),
        );
        return Ok(());
    }
    let policy = if opts.no_pong {
        PongPolicy::Drop
    } else if let Some(d) = opts.pong_delay {
        PongPolicy::Delay(d)
    } else {
        PongPolicy::Normal
    };
    let mut chosen = None;
    // The callback's error type is tungstenite's; its size is not ours to choose.
    #[expect(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| {
        // Choose the client's first subprotocol, as most servers do.
        if let Some(first) = req
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|p| p.trim().to_string())
        {
            if let Ok(value) = HeaderValue::from_str(&first) {
                resp.headers_mut().insert("sec-websocket-protocol", value);
            }
            chosen = Some(first);
        }
        Ok(resp)
    };
    let mut ws = tokio_tungstenite::accept_hdr_async_with_config(
        PongFilter::new(stream, PongPolicy::Normal),
        callback,
        Some(ws_config(opts.max_message_size)),
    )
    .await
    .map_err(|e| format!("upgrade failed: {e}"))?;
    ws.get_mut().set_policy(policy);
    stats.upgraded.fetch_add(1, Ordering::Relaxed);
    let proto = chosen.as_deref().unwrap_or("-");
    say(opts, format!("{peer} #{n} open (subprotocol {proto})"));
    let opened = Instant::now();
    let mut counts = (0u64, 0u64);
    let outcome = serve_connection(&mut ws, n, opts, stats, &mut counts).await;
    let secs = opened.elapsed().as_secs_f64();
    let (rx, tx) = counts;
    say(
        opts,
        format!("{peer} #{n} closed: {outcome}, after {secs:.1}s, {rx} in / {tx} out"),
    );
    Ok(())
}

async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin + Send>(
    ws: &mut WebSocketStream<PongFilter<S>>,
    n: u64,
    opts: &ServeOptions,
    stats: &ServerStats,
    counts: &mut (u64, u64),
) -> String {
    if opts.flood > 0 {
        if let Err(e) = flood(ws, opts.flood, opts.flood_size, opts.flood_binary).await {
            return format!("flood failed: {e}");
        }
        counts.1 += opts.flood;
    }
    let mut scenario = opts.demo.then(|| demo::Scenario::new(n));
    let start = Instant::now();
    let mut next_tick = opts.tick.map(|t| start + t);
    let drop_at = opts
        .drop_after
        .map(|d| start + d)
        .or_else(|| scenario.as_ref().map(|s| start + s.drop_after()));
    let mut tick_seq = 0u64;
    let held_check = Duration::from_millis(5);
    loop {
        let next_scene = scenario.as_ref().map(|s| s.next_at(start));
        tokio::select! {
            item = ws.next() => {
                match item {
                    Some(Ok(Message::Text(t))) => {
                        counts.0 += 1;
                        stats.received.fetch_add(1, Ordering::Relaxed);
                        #[cfg(feature = "test-support")]
                        if opts.keep_texts > 0 {
                            let mut texts = stats.texts.lock().expect("stats lock");
                            if texts.len() < opts.keep_texts {
                                texts.push(t.to_string());
                            }
                        }
                        let reply = match scenario.as_mut() {
                            Some(s) => s.reply(&t),
                            None if opts.no_echo => None,
                            None => Some(Message::Text(t)),
                        };
                        if let Some(reply) = reply {
                            if ws.send(reply).await.is_err() { return "send failed".into(); }
                            counts.1 += 1;
                        }
                    }
                    Some(Ok(Message::Binary(b))) => {
                        counts.0 += 1;
                        stats.received.fetch_add(1, Ordering::Relaxed);
                        if !opts.no_echo {
                            if ws.send(Message::Binary(b)).await.is_err() { return "send failed".into(); }
                            counts.1 += 1;
                        }
                    }
                    Some(Ok(Message::Ping(_))) => {
                        stats.pings.fetch_add(1, Ordering::Relaxed);
                        // Hand tungstenite's queued pong to the filter now, so a delayed pong
                        // is timed from this ping and not from the next write.
                        let _ = ws.flush().await;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or((1005, String::new()));
                        *stats.close_codes.lock().expect("stats lock").entry(code).or_default() += 1;
                        // Let tungstenite send its answer, then wait for the client to hang up.
                        while let Some(Ok(_)) = ws.next().await {}
                        return format!("closed by client {code} {}{}", close_code_name(code), if reason.is_empty() { String::new() } else { format!(" ({reason})") });
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return format!("error: {e}"),
                    None => return "client went away".into(),
                }
            }
            _ = crate::deadline::sleep_until(next_tick) => {
                tick_seq += 1;
                next_tick = opts.tick.map(|t| Instant::now() + t);
                let ts = crate::text::timestamp(SystemTime::now());
                let text = format!("{{\"type\":\"tick\",\"seq\":{tick_seq},\"ts\":\"{ts}\"}}");
                if ws.send(Message::Text(text.into())).await.is_err() { return "send failed".into(); }
                counts.1 += 1;
            }
            _ = crate::deadline::sleep_until(next_scene) => {
                if let Some(s) = scenario.as_mut() {
                    for msg in s.due(start) {
                        if ws.send(msg).await.is_err() { return "send failed".into(); }
                        counts.1 += 1;
                    }
                }
            }
            _ = tokio::time::sleep(held_check), if ws.get_ref().has_held_pongs() => {
                let _ = ws.flush().await;
            }
            _ = crate::deadline::sleep_until(drop_at) => {
                let code = match scenario.as_ref() { Some(s) => s.drop_code(), None => opts.drop_code };
                return match code {
                    Some(code) => {
                        let reason = match &opts.drop_reason {
                            // A close frame holds at most 123 bytes of reason: cut at a character.
                            Some(r) => {
                                let mut end = r.len().min(123);
                                while !r.is_char_boundary(end) {
                                    end -= 1;
                                }
                                r[..end].to_string()
                            }
                            None if code == 1012 => "service restart".to_string(),
                            None => "drop-after".to_string(),
                        };
                        let frame = CloseFrame { code: CloseCode::from(code), reason: Utf8Bytes::from(reason) };
                        let _ = tokio::time::timeout(Duration::from_secs(2), async {
                            if ws.close(Some(frame)).await.is_ok() {
                                while let Some(Ok(_)) = ws.next().await {}
                            }
                        }).await;
                        format!("dropped with {code} {}", close_code_name(code))
                    }
                    None => "dropped without a close frame".into(),
                };
            }
        }
    }
}

/// Writes `count` pre-encoded frames straight to the socket: far faster than any client reads,
/// so floods measure the client, not the server.
async fn flood<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<PongFilter<S>>,
    count: u64,
    size: usize,
    binary: bool,
) -> io::Result<()> {
    ws.flush().await.map_err(io::Error::other)?;
    let sock = ws.get_mut();
    let mut buf = Vec::with_capacity(512 * 1024);
    let digits = size.min(16);
    let mut seq = 0u64;
    while seq < count {
        buf.clear();
        while seq < count && buf.len() < 256 * 1024 {
            seq += 1;
            push_frame_header(&mut buf, if binary { 0x82 } else { 0x81 }, size);
            let start = buf.len();
            buf.resize(start + size, b'x');
            let mut v = seq;
            for i in (0..digits).rev() {
                buf[start + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
        sock.write_all(&buf).await?;
    }
    sock.flush().await
}

fn push_frame_header(buf: &mut Vec<u8>, first: u8, len: usize) {
    buf.push(first);
    if len < 126 {
        buf.push(len as u8);
    } else if len <= u16::MAX as usize {
        buf.push(126);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(127);
        buf.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// The payload of the `seq`-th flood message (1-based), for checks in tests.
pub fn flood_payload(seq: u64, size: usize) -> Bytes {
    let mut v = vec![b'x'; size];
    let digits = size.min(16);
    let mut s = seq;
    for i in (0..digits).rev() {
        v[i] = b'0' + (s % 10) as u8;
        s /= 10;
    }
    Bytes::from(v)
}
