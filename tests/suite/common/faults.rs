//! Peers that misbehave on purpose: a TCP proxy that can stop forwarding without closing, and
//! raw servers that stall, send garbage, fragment, break UTF-8 or reset mid-frame.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy in front of `upstream` that forwards, or black-holes (keeps every socket open
/// and forwards nothing), at the flip of a switch: a half-open path.
pub struct FaultyProxy {
    pub addr: SocketAddr,
    blackhole: Arc<AtomicBool>,
    pub accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FaultyProxy {
    pub async fn start(upstream: SocketAddr) -> FaultyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let blackhole = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicU64::new(0));
        let (bh, acc) = (blackhole.clone(), accepted.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                acc.fetch_add(1, Ordering::SeqCst);
                let bh = bh.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let bh2 = bh.clone();
                    let up = tokio::spawn(async move { pump(&mut cr, &mut sw, &bh2).await });
                    pump(&mut sr, &mut cw, &bh).await;
                    let _ = up.await;
                });
            }
        });
        FaultyProxy {
            addr,
            blackhole,
            accepted,
            task,
        }
    }

    /// Stop (true) or resume (false) forwarding; sockets stay open either way.
    pub fn blackhole(&self, on: bool) {
        self.blackhole.store(on, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies bytes one way; while black-holed, reads and drops them. A connection that was
/// black-holed stays dead (its bytes are gone), as on a real broken path.
async fn pump(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    blackhole: &AtomicBool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut dead = false;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        dead |= blackhole.load(Ordering::SeqCst);
        if dead {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// A listener that runs `serve` for each connection it accepts.
pub struct RawServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RawServer {
    pub async fn start<F, Fut>(serve: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        RawServer::bind("127.0.0.1:0", serve).await
    }

    pub async fn bind<F, Fut>(at: &str, serve: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        RawServer::on(TcpListener::bind(at).await.unwrap(), serve)
    }

    /// A server whose connections keep a receive buffer of `bytes` (the kernel doubles it)
    /// instead of growing it: Linux grows a reading socket's buffer up to `tcp_rmem`'s
    /// maximum (32 MiB on some machines), so what it takes for wsmon's writes to stall
    /// against a peer that stops reading would otherwise depend on the machine and on how
    /// fast the peer had read.
    pub fn with_recv_buffer<F, Fut>(bytes: usize, serve: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        // Set on the listener, before any handshake: accepted sockets inherit it, the window
        // scale is agreed with it, and a buffer set by hand is never grown.
        socket.set_recv_buffer_size(bytes).unwrap();
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        socket.listen(128).unwrap();
        socket.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(socket.into()).unwrap();
        RawServer::on(listener, serve)
    }

    fn on<F, Fut>(listener: TcpListener, serve: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let addr = listener.local_addr().unwrap();
        let serve = Arc::new(serve);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn((serve.clone())(tcp));
            }
        });
        RawServer { addr, task }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads and ignores an HTTP request head.
pub async fn read_request(tcp: &mut TcpStream) {
    let mut got = Vec::new();
    let mut b = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut b).await {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
}

/// Completes the WebSocket handshake, then hands back the raw socket to write frames on.
pub async fn handshake(tcp: TcpStream) -> TcpStream {
    let ws = tokio_tungstenite::accept_async(tcp)
        .await
        .expect("handshake");
    ws.into_inner()
}

/// An unmasked server frame.
pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(if fin { 0x80 } else { 0 }) | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= u16::MAX as usize => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

/// Holds a connection open without reading, for the length of a test.
pub async fn hold(tcp: TcpStream) {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    drop(tcp);
}
