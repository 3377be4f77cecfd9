//! Shared helpers: an engine probe that records every event, and fast settings for tests.
#![allow(dead_code, unreachable_pub)]

pub mod bin;
pub mod brokers;
pub mod debian;
pub mod faults;
pub mod peers;
pub mod pipe;
pub mod pki;
pub mod restart;
pub mod tmux;
pub mod ui;

use std::time::Duration;

use std::sync::Arc;

use wsmon::engine::target::Target;
use wsmon::engine::{Command, ConnSettings, Connector, Engine, Event, Stamped};

/// Wait this long at most for something that should happen; only reached when a test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Settings that retry quickly so tests run fast.
pub fn fast(url: &str) -> ConnSettings {
    let mut s = ConnSettings::new(Target::parse(url).expect("test URL"));
    s.reconnect_min = Duration::from_millis(50);
    s.reconnect_max = Duration::from_millis(400);
    s.connect_timeout = Duration::from_secs(5);
    s.ping_interval = None;
    s
}

/// Drives an engine and keeps every event it reported.
pub struct Probe {
    pub engine: Engine,
    pub log: Vec<Stamped>,
    seen: usize,
    patience: Duration,
}

impl Probe {
    pub fn start(settings: ConnSettings) -> Probe {
        Probe {
            engine: Engine::spawn(settings),
            log: Vec::new(),
            seen: 0,
            patience: PATIENCE,
        }
    }

    /// An engine that connects through `connector`, for tests on tokio's paused clock: there
    /// virtual time is free, so the patience is long.
    pub fn start_with(settings: ConnSettings, connector: Arc<dyn Connector>) -> Probe {
        Probe {
            engine: Engine::spawn_with(settings, connector),
            log: Vec::new(),
            seen: 0,
            patience: Duration::from_secs(24 * 3600),
        }
    }

    /// Waits at most `patience` for an event (a connector on the real clock).
    pub fn patience_for_tests(&mut self, patience: Duration) {
        self.patience = patience;
    }

    /// Waits for the next event (after those already returned) that matches.
    pub async fn until(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + self.patience;
        loop {
            while self.seen < self.log.len() {
                let e = &self.log[self.seen].event;
                self.seen += 1;
                if pred(e) {
                    return e.clone();
                }
            }
            match tokio::time::timeout_at(deadline, self.engine.events.recv()).await {
                Ok(Some(batch)) => self.log.extend(batch.iter().cloned()),
                Ok(None) => panic!(
                    "engine ended while waiting for {what}; events:\n{}",
                    self.dump()
                ),
                Err(_) => panic!("timed out waiting for {what}; events:\n{}", self.dump()),
            }
        }
    }

    pub async fn send(&self, cmd: Command) {
        self.engine.commands.send(cmd).await.expect("engine alive");
    }

    pub async fn send_text(&self, text: &str) {
        self.send(Command::Send {
            kind: wsmon::engine::Kind::Text,
            data: text.to_string().into(),
        })
        .await;
    }

    /// Shuts the engine down and collects its last events.
    pub async fn shutdown(mut self) -> Vec<Stamped> {
        let _ = self.engine.commands.send(Command::Shutdown).await;
        while let Ok(Some(batch)) =
            tokio::time::timeout(self.patience, self.engine.events.recv()).await
        {
            self.log.extend(batch.iter().cloned());
        }
        self.log
    }

    /// The messages of the failures seen so far, oldest first.
    pub fn failure_messages(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|s| match &s.event {
                Event::Error(f) => Some(wsmon::describe::message(f)),
                _ => None,
            })
            .collect()
    }

    pub fn dump(&self) -> String {
        self.log
            .iter()
            .map(|s| format!("  {:?}", s.event))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.log.iter().map(|s| &s.event)
    }
}

/// A loopback port held by a bound socket that does not listen: connecting to it is
/// refused, and nothing else (another test, another process) can take it until `release`.
pub struct ReservedPort {
    socket: Option<socket2::Socket>,
    pub port: u16,
}

/// Released reservations, kept bound for a while (see `release`).
static LINGERING: std::sync::Mutex<Vec<(std::time::Instant, socket2::Socket)>> =
    std::sync::Mutex::new(Vec::new());

impl ReservedPort {
    /// Hands the port to a server the test starts on it now. The reservation stays bound for
    /// a minute more: it has `SO_REUSEADDR`, as servers do, so the server's listener binds
    /// beside it, while the kernel gives the port to no one's outgoing connection in between
    /// (with tests running side by side, one did take a port freed a moment before).
    pub fn release(mut self) -> u16 {
        if let Some(socket) = self.socket.take() {
            let mut held = LINGERING.lock().unwrap();
            held.retain(|(at, _)| at.elapsed() < Duration::from_secs(60));
            held.push((std::time::Instant::now(), socket));
        }
        self.port
    }
}

/// How the first dial with `settings` ends: it opens, or fails with this failure.
pub async fn first_dial(settings: ConnSettings) -> Result<(), wsmon::engine::Failure> {
    let mut p = Probe::start(settings);
    let e = p
        .until("open or error", |e| {
            matches!(e, Event::Open(_) | Event::Error(_))
        })
        .await;
    p.shutdown().await;
    match e {
        Event::Error(f) => Err((*f).clone()),
        _ => Ok(()),
    }
}

/// A port on loopback that nothing listens on, held until released.
pub fn reserve_port() -> ReservedPort {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&any.into()).expect("bind a loopback port");
    let port = socket
        .local_addr()
        .unwrap()
        .as_socket()
        .expect("an IP address")
        .port();
    ReservedPort {
        socket: Some(socket),
        port,
    }
}

/// wsmon's own server on a free loopback port, echoing what it gets (the peer most tests need).
pub async fn echo_server() -> wsmon::server::Server {
    server(wsmon::server::ServeOptions::default()).await
}

/// wsmon's own server with `opts` on a free loopback port.
pub async fn server(opts: wsmon::server::ServeOptions) -> wsmon::server::Server {
    wsmon::server::Server::start(wsmon::server::ServeOptions { port: 0, ..opts })
        .await
        .expect("a test server on a free loopback port")
}

/// The text of `/metrics` on `port`.
pub async fn metrics_text(port: u16) -> String {
    tokio::task::spawn_blocking(move || {
        ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
            .call()
            .expect("the metrics endpoint answers")
            .into_body()
            .read_to_string()
            .expect("a text body")
    })
    .await
    .unwrap()
}

/// The file or directory at `path` exists and only its owner may read it (0600 / 0700).
pub fn assert_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mode = m.permissions().mode() & 0o777;
    let want = if m.is_dir() { 0o700 } else { 0o600 };
    assert_eq!(mode, want, "{} is {mode:o}", path.display());
}
