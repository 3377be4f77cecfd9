//! The byte stream under a WebSocket: plain TCP, TLS, or a test's pipe, with what the upgrade
//! read past its answer served first, and the last bytes read kept (a server's close frame as
//! it sent it).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;

/// Any byte stream a connection can run over.
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> ByteStream for T {}

/// The byte stream under the WebSocket: plain TCP, TLS over TCP, or (for tests) any other.
pub enum Wire {
    /// `ws://`.
    Plain(CountedTcp),
    /// `wss://`.
    Tls(Box<TlsStream<CountedTcp>>),
    /// A stream a test connector made (an in-memory pipe).
    Other(Box<dyn ByteStream>),
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Wire::Plain(_) => "Wire::Plain",
            Wire::Tls(_) => "Wire::Tls",
            Wire::Other(_) => "Wire::Other",
        })
    }
}

/// A TCP stream that counts the bytes the kernel took from it, so that what the peer's TCP
/// acknowledged (`TCP_INFO`) can be held against what was written: the delivery ledger.
#[derive(Debug)]
pub struct CountedTcp {
    tcp: TcpStream,
    written: u64,
    // What the peer had acknowledged when counting began (a proxy's CONNECT, the SYN).
    acked_before: u64,
}

impl CountedTcp {
    /// Counts from now on.
    pub fn new(tcp: TcpStream) -> CountedTcp {
        let acked_before = bytes_acked(&tcp).unwrap_or(0);
        CountedTcp {
            tcp,
            written: 0,
            acked_before,
        }
    }

    /// Bytes written, and of them the bytes the peer's TCP acknowledged; `None` where the
    /// kernel does not say (not Linux).
    fn delivery(&self) -> Option<(u64, u64)> {
        let acked = bytes_acked(&self.tcp)?.saturating_sub(self.acked_before);
        Some((self.written, acked.min(self.written)))
    }
}

/// `tcpi_bytes_acked` of `TCP_INFO`: the bytes of this connection the peer's TCP has
/// acknowledged. It stays readable after the connection broke, so what was acknowledged before
/// a reset is still known.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn bytes_acked(tcp: &TcpStream) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let mut info = std::mem::MaybeUninit::<libc::tcp_info>::zeroed();
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is a writable `tcp_info` of `len` bytes, and the kernel writes at most
    // `len` bytes into it (fewer on an older kernel; the rest stays zeroed).
    let rc = unsafe {
        libc::getsockopt(
            tcp.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: zeroed, then (partly) written by the kernel: every bit pattern is a valid
    // `tcp_info` (integers only).
    let info = unsafe { info.assume_init() };
    // Kernels before 4.2 do not fill `tcpi_bytes_acked`: unknown, not zero.
    let filled = len as usize >= std::mem::offset_of!(libc::tcp_info, tcpi_bytes_acked) + 8;
    filled.then_some(info.tcpi_bytes_acked)
}

#[cfg(not(target_os = "linux"))]
fn bytes_acked(_: &TcpStream) -> Option<u64> {
    None
}

impl AsyncRead for CountedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let done = Pin::new(&mut this.tcp).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = done {
            this.written += n as u64;
        }
        done
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// The connection after the upgrade: bytes the server sent right behind its 101 answer are
/// read first. (Handing them to tungstenite as a "partially read" buffer instead leaves it a
/// read buffer that shrinks to one frame, and then it reads one frame per syscall.)
#[derive(Debug)]
pub struct Transport {
    leftover: Vec<u8>,
    taken: usize,
    io: Wire,
    /// The last bytes read, enough for one close frame: tungstenite replaces a close frame
    /// whose code a peer may not send by its own 1002 and refuses one whose reason is not
    /// UTF-8, so what the server really sent is read back from here.
    tail: ReadTail,
}

/// The last `TAIL` bytes read from a stream.
#[derive(Debug)]
struct ReadTail {
    bytes: [u8; TAIL],
    len: usize,
}

/// A close frame from a server: 2 header bytes and at most 125 of payload.
const TAIL: usize = 127;

impl ReadTail {
    fn push(&mut self, new: &[u8]) {
        if new.len() >= TAIL {
            self.bytes.copy_from_slice(&new[new.len() - TAIL..]);
            self.len = TAIL;
            return;
        }
        let keep = self.len.min(TAIL - new.len());
        self.bytes.copy_within(self.len - keep..self.len, 0);
        self.bytes[keep..keep + new.len()].copy_from_slice(new);
        self.len = keep + new.len();
    }
}

impl Transport {
    pub(super) fn new(io: Wire) -> Self {
        Transport {
            leftover: Vec::new(),
            taken: 0,
            io,
            tail: ReadTail {
                bytes: [0; TAIL],
                len: 0,
            },
        }
    }

    /// Bytes the upgrade read past its answer: they are read first.
    pub(super) fn set_leftover(&mut self, leftover: Vec<u8>) {
        self.leftover = leftover;
        self.taken = 0;
    }

    /// Bytes written to the TCP connection so far and, of them, the bytes the peer's TCP
    /// acknowledged; `None` over a stream that is not TCP, or where the kernel does not say.
    pub fn delivery(&self) -> Option<(u64, u64)> {
        match &self.io {
            Wire::Plain(t) => t.delivery(),
            Wire::Tls(s) => s.get_ref().0.delivery(),
            Wire::Other(_) => None,
        }
    }

    /// The close frame that ends what was read, as the server sent it: its code (`None` for
    /// a frame without one) and its reason bytes; `None` when the bytes read last are not an
    /// unmasked close frame, or one that `accept` turns down.
    pub fn last_close_frame(
        &self,
        accept: impl Fn(Option<u16>, &[u8]) -> bool,
    ) -> Option<(Option<u16>, Vec<u8>)> {
        last_close_frame(&self.tail.bytes[..self.tail.len], accept)
    }
}

/// The close frame at the end of `tail` (see `Transport::last_close_frame`).
pub fn last_close_frame(
    tail: &[u8],
    accept: impl Fn(Option<u16>, &[u8]) -> bool,
) -> Option<(Option<u16>, Vec<u8>)> {
    (0..=125usize).find_map(|len| {
        let start = tail.len().checked_sub(len + 2)?;
        // FIN and the close opcode; no mask, and the length byte says `len`.
        if tail[start] != 0x88 || usize::from(tail[start + 1]) != len || len == 1 {
            return None;
        }
        let payload = &tail[start + 2..];
        let (code, reason) = match payload {
            [] => (None, &[][..]),
            [a, b, rest @ ..] => (Some(u16::from_be_bytes([*a, *b])), rest),
            _ => return None,
        };
        accept(code, reason).then(|| (code, reason.to_vec()))
    })
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.taken < this.leftover.len() {
            let n = buf.remaining().min(this.leftover.len() - this.taken);
            buf.put_slice(&this.leftover[this.taken..this.taken + n]);
            this.tail.push(&this.leftover[this.taken..this.taken + n]);
            this.taken += n;
            if this.taken == this.leftover.len() {
                this.leftover = Vec::new();
                this.taken = 0;
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let read = match &mut this.io {
            Wire::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Wire::Other(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        if buf.filled().len() > before {
            this.tail.push(&buf.filled()[before..]);
        }
        read
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Wire::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Wire::Other(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Wire::Plain(s) => Pin::new(s).poll_flush(cx),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Wire::Other(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Wire::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Wire::Other(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An open WebSocket.
pub type Ws = WebSocketStream<Transport>;
