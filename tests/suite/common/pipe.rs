//! Connections without a network: a connector that hands the engine one end of an in-memory
//! pipe and runs a WebSocket peer on the other, so the engine's timing can be checked on
//! tokio's paused clock (where time jumps to the next timer whenever everything waits).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{SinkExt, StreamExt};
use tokio::io::DuplexStream;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use wsmon::engine::dial::Dialed;
use wsmon::engine::{Cause, ConnSettings, Connector, Failure, OpenInfo, Phase, Phases, Problem};

/// The peer's end of a pipe, already a WebSocket.
pub type Peer = WebSocketStream<DuplexStream>;

/// A peer's part in one connection.
pub type PeerTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What happens to dial number `n` (1-based).
pub enum Answer {
    /// Refused, as if nothing listened.
    Refuse,
    /// A connection whose far end this runs.
    Open(Box<dyn FnOnce(Peer) -> PeerTask + Send>),
    /// A connection whose far end is raw bytes (the WebSocket frames as they arrive).
    Raw(Box<dyn FnOnce(DuplexStream) -> PeerTask + Send>),
}

/// Connects through pipes, following a script; counts the dials.
pub struct Pipes {
    script: Box<dyn Fn(u64) -> Answer + Send + Sync>,
    /// Dials made so far.
    pub dials: AtomicU64,
}

impl Pipes {
    /// A connector whose dial `n` is answered by `script(n)`.
    pub fn new(script: impl Fn(u64) -> Answer + Send + Sync + 'static) -> Pipes {
        Pipes {
            script: Box::new(script),
            dials: AtomicU64::new(0),
        }
    }

    /// Dials made so far.
    pub fn dialled(&self) -> u64 {
        self.dials.load(Ordering::SeqCst)
    }
}

impl Connector for Pipes {
    fn connect<'a>(
        &'a self,
        s: &'a ConnSettings,
        _deadline: Instant,
        phase: &'a mut Phase,
    ) -> Pin<Box<dyn Future<Output = Result<Dialed, Failure>> + Send + 'a>> {
        Box::pin(async move {
            let n = self.dials.fetch_add(1, Ordering::SeqCst) + 1;
            match (self.script)(n) {
                Answer::Refuse => {
                    *phase = Phase::Tcp;
                    Err(Failure::new(
                        Cause::Refused,
                        Phase::Tcp,
                        Problem::ConnectRefused {
                            addr: ([127, 0, 0, 1], n as u16).into(),
                            tried: 1,
                        },
                    ))
                }
                answer => {
                    let (ours, theirs) = tokio::io::duplex(64 * 1024);
                    tokio::spawn(async move {
                        match answer {
                            Answer::Open(peer) => {
                                peer(
                                    WebSocketStream::from_raw_socket(theirs, Role::Server, None)
                                        .await,
                                )
                                .await
                            }
                            Answer::Raw(peer) => peer(theirs).await,
                            Answer::Refuse => {}
                        }
                    });
                    let info = OpenInfo {
                        attempt: 0,
                        phases: Phases::default(),
                        remote: SocketAddr::from(([127, 0, 0, 1], 1)),
                        proxy: None,
                        subprotocol: None,
                        tls_version: None,
                        cert: None,
                    };
                    Ok(Dialed::over(ours, s, info).await)
                }
            }
        })
    }
}

/// A peer that never reads nor writes: pings go unanswered (a half-open connection).
pub fn silent() -> Answer {
    Answer::Open(Box::new(|peer| {
        Box::pin(async move {
            let _held = peer;
            std::future::pending::<()>().await;
        })
    }))
}

/// A peer that reads what arrives but never answers (a pong needs a WebSocket that reads
/// and writes): it says when each chunk of frames arrived.
pub fn deaf(arrivals: tokio::sync::mpsc::UnboundedSender<Instant>) -> Answer {
    Answer::Raw(Box::new(move |mut pipe| {
        Box::pin(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 || arrivals.send(Instant::now()).is_err() {
                    return;
                }
            }
        })
    }))
}

/// A peer that stops reading at once and holds the pipe: what we write piles up (a frozen
/// server, a black-holed path).
pub fn frozen() -> Answer {
    Answer::Raw(Box::new(|pipe| {
        Box::pin(async move {
            let _held = pipe;
            std::future::pending::<()>().await;
        })
    }))
}

/// A peer that reads everything (so its pings are answered) and echoes data messages.
pub fn echo() -> Answer {
    Answer::Open(Box::new(|mut peer| {
        Box::pin(async move {
            while let Some(Ok(m)) = peer.next().await {
                if (m.is_text() || m.is_binary()) && peer.send(m).await.is_err() {
                    return;
                }
            }
        })
    }))
}

/// A peer that reads (and so answers pings) until `after` from now, then drops the pipe
/// without a close frame.
pub fn answers_then_vanishes(after: std::time::Duration) -> Answer {
    Answer::Open(Box::new(move |mut peer| {
        Box::pin(async move {
            let _ =
                tokio::time::timeout(after, async { while peer.next().await.is_some() {} }).await;
        })
    }))
}
