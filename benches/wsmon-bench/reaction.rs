//! Reaction times of the engine: a server coming back, a peer falling silent, a peer that
//! stops reading.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use wsmon::engine::target::Target;
use wsmon::engine::{ClosedBy, Command, ConnSettings, Engine, Event, Kind};
use wsmon::server::{ServeOptions, Server};

/// How long after its scheduled dial time the connection is open again, after server restarts.
pub(crate) async fn reconnect_overhead(rounds: usize) -> Vec<Duration> {
    let mut out = Vec::new();
    // The server comes back on the same port each round. A socket bound there (with
    // SO_REUSEADDR, as the listener has, and never listening) holds it meanwhile: the server
    // binds beside it, and no other program's outgoing connection is given the port while the
    // server is down.
    let hold =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    hold.set_reuse_address(true).expect("SO_REUSEADDR");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    hold.bind(&any.into()).expect("bind a loopback port");
    let port = hold
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("an IP address")
        .port();
    let srv = restart(port).await;
    let mut settings = ConnSettings::new(Target::parse(&srv.url()).expect("url"));
    settings.reconnect_min = Duration::from_millis(200);
    settings.reconnect_max = Duration::from_millis(200);
    settings.ping_interval = None;
    // Holding `commands` keeps the engine running (dropping it means shut down).
    let Engine {
        commands: _commands,
        mut events,
        task: _task,
    } = Engine::spawn(settings);
    let mut srv = Some(srv);
    let mut scheduled: Option<SystemTime> = None;
    while out.len() < rounds {
        let Some(batch) = events.recv().await else {
            break;
        };
        for s in batch.iter() {
            match &s.event {
                Event::Open(_) => {
                    if let Some(when) = scheduled.take() {
                        out.push(s.at.duration_since(when).unwrap_or_default());
                    }
                    // Take the server away; it comes back before the next dial.
                    if let Some(old) = srv.take() {
                        old.kill().await;
                    }
                }
                Event::Retry { delay, .. } => {
                    scheduled = Some(s.at + *delay);
                    // A dial refused because this loop read the last retry late (a busy
                    // machine) finds the server already back: start it once.
                    if srv.is_none() {
                        srv = Some(restart(port).await);
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The server (again) on the held `port`; a bind refused while a process spawned elsewhere
/// still holds the killed listener is tried again (`restart::server_on`), before the next dial
/// is due or, if later, before the one after: the time is measured from the dial that
/// succeeds, so the wait is not counted.
async fn restart(port: u16) -> Server {
    super::restart::server_on(port, ServeOptions::default()).await
}

/// A peer that completes every upgrade and then never reads nor writes, and fast settings
/// (ping and pong timeout 500 ms, redial after 10 ms) to dial it with.
async fn silent_peer() -> (ConnSettings, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                held.push(ws);
            }
        }
    });
    let mut settings = ConnSettings::new(Target::parse(&format!("ws://{addr}/")).expect("url"));
    settings.ping_interval = Some(Duration::from_millis(500));
    settings.pong_timeout = Duration::from_millis(500);
    settings.reconnect_min = Duration::from_millis(10);
    settings.reconnect_max = Duration::from_millis(10);
    (settings, holder)
}

/// How long beyond ping_interval + pong_timeout a silent peer is declared dead.
pub(crate) async fn dead_peer_overhead(rounds: usize) -> Vec<Duration> {
    open_to_verdict(rounds, false)
        .await
        .into_iter()
        .map(|d| d.saturating_sub(Duration::from_millis(1000)))
        .collect()
}

/// How long after the connection opened a peer that stops reading is declared dead, while
/// wsmon sends it 1 MiB messages (ping 500 ms, pong timeout 500 ms: the bound is 1 s).
pub(crate) async fn stalled_writer_verdict(rounds: usize) -> Vec<Duration> {
    open_to_verdict(rounds, true).await
}

/// `rounds` times from an open to the heartbeat's verdict against the silent peer, sorted;
/// with `flood`, 32 messages of 1 MiB are sent as each connection opens.
async fn open_to_verdict(rounds: usize, flood: bool) -> Vec<Duration> {
    let (settings, holder) = silent_peer().await;
    let Engine {
        commands,
        mut events,
        task: _task,
    } = Engine::spawn(settings);
    let mut out = Vec::new();
    let mut opened = None;
    while out.len() < rounds {
        let Some(batch) = events.recv().await else {
            break;
        };
        for s in batch.iter() {
            match &s.event {
                Event::Open(_) => {
                    opened = Some(s.at);
                    for _ in 0..if flood { 32 } else { 0 } {
                        let _ = commands.try_send(Command::Send {
                            kind: Kind::Binary,
                            data: vec![7u8; 1 << 20].into(),
                        });
                    }
                }
                Event::Closed(c) if c.by == ClosedBy::Heartbeat => {
                    if let Some(o) = opened.take() {
                        out.push(s.at.duration_since(o).unwrap_or_default());
                    }
                }
                _ => {}
            }
        }
    }
    holder.abort();
    out.sort();
    out
}
