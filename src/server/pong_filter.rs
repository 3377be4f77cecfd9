//! A write-side filter that holds back or drops the pong frames tungstenite sends on its own,
//! so the built-in server can play a slow or silent peer (`--pong-delay`, `--no-pong`).

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// What to do with outgoing pongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PongPolicy {
    /// Send them as tungstenite writes them.
    Normal,
    /// Send each one this long after it was written.
    Delay(Duration),
    /// Never send them.
    Drop,
}

/// Where the parser is in the outgoing frame stream.
#[derive(Debug)]
enum Parse {
    Header(Vec<u8>),
    Payload { left: u64, pong: bool },
}

/// Wraps the server side of a connection; server frames are unmasked, so they parse easily.
#[derive(Debug)]
pub(crate) struct PongFilter<S> {
    inner: S,
    policy: PongPolicy,
    parse: Parse,
    out: Vec<u8>,
    written: usize,
    pong: Vec<u8>,
    held: VecDeque<(Instant, Vec<u8>)>,
}

impl<S> PongFilter<S> {
    /// Filters `inner` with `policy`.
    pub(crate) fn new(inner: S, policy: PongPolicy) -> Self {
        PongFilter {
            inner,
            policy,
            parse: Parse::Header(Vec::with_capacity(14)),
            out: Vec::new(),
            written: 0,
            pong: Vec::new(),
            held: VecDeque::new(),
        }
    }

    /// Starts filtering; call after the HTTP handshake, whose bytes are not frames.
    pub(crate) fn set_policy(&mut self, policy: PongPolicy) {
        self.policy = policy;
    }

    /// Whether delayed pongs wait to be sent.
    pub(crate) fn has_held_pongs(&self) -> bool {
        !self.held.is_empty()
    }

    fn at_boundary(&self) -> bool {
        matches!(&self.parse, Parse::Header(h) if h.is_empty())
    }

    fn take(&mut self, mut buf: &[u8]) {
        if self.policy == PongPolicy::Normal {
            self.out.extend_from_slice(buf);
            return;
        }
        while !buf.is_empty() {
            match &mut self.parse {
                Parse::Header(h) => {
                    h.push(buf[0]);
                    buf = &buf[1..];
                    if let Some(len) = header_payload_len(h) {
                        let pong = h[0] & 0x0f == 0x0a;
                        let header = std::mem::take(h);
                        if pong {
                            self.pong.extend_from_slice(&header);
                        } else {
                            self.out.extend_from_slice(&header);
                        }
                        self.parse = Parse::Payload { left: len, pong };
                        self.finish_frame_if_empty();
                    }
                }
                Parse::Payload { left, pong } => {
                    let n = (*left).min(buf.len() as u64) as usize;
                    if *pong {
                        self.pong.extend_from_slice(&buf[..n]);
                    } else {
                        self.out.extend_from_slice(&buf[..n]);
                    }
                    *left -= n as u64;
                    buf = &buf[n..];
                    self.finish_frame_if_empty();
                }
            }
        }
    }

    fn finish_frame_if_empty(&mut self) {
        if let Parse::Payload { left: 0, pong } = self.parse {
            if pong {
                let frame = std::mem::take(&mut self.pong);
                if let PongPolicy::Delay(d) = self.policy {
                    self.held.push_back((Instant::now() + d, frame));
                }
            }
            self.parse = Parse::Header(Vec::with_capacity(14));
        }
    }

    fn release_due(&mut self) {
        let now = Instant::now();
        while self.at_boundary() && self.held.front().is_some_and(|(due, _)| *due <= now) {
            let (_, frame) = self.held.pop_front().expect("checked");
            self.out.extend_from_slice(&frame);
        }
    }
}

/// The payload length once the header is complete.
fn header_payload_len(h: &[u8]) -> Option<u64> {
    if h.len() < 2 {
        return None;
    }
    let masked = h[1] & 0x80 != 0;
    let mask = if masked { 4 } else { 0 };
    let (len, ext) = match h[1] & 0x7f {
        126 => (None, 2),
        127 => (None, 8),
        n => (Some(n as u64), 0),
    };
    if h.len() < 2 + ext + mask {
        return None;
    }
    Some(len.unwrap_or_else(|| {
        h[2..2 + ext]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | *b as u64)
    }))
}

impl<S: AsyncWrite + Unpin> PongFilter<S> {
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.out.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.out[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.out.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PongFilter<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PongFilter<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Keep at most one buffer's worth in hand: write out what we hold before taking more.
        if this.out.len() > 256 * 1024 {
            match this.drain(cx) {
                Poll::Ready(Ok(())) => {}
                other => return other.map(|r| r.map(|_| 0)),
            }
        }
        this.take(buf);
        this.release_due();
        match this.drain(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(buf.len())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.release_due();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    const PONG: &[u8] = &[0x8a, 0x02, b'h', b'i'];
    const TEXT: &[u8] = &[0x81, 0x03, b'a', b'b', b'c'];

    #[tokio::test]
    async fn drops_pongs_and_keeps_data_even_when_split() {
        let mut f = PongFilter::new(Vec::new(), PongPolicy::Drop);
        let mut all = TEXT.to_vec();
        all.extend_from_slice(PONG);
        all.extend_from_slice(TEXT);
        for b in &all {
            f.write_all(std::slice::from_ref(b)).await.unwrap();
        }
        f.flush().await.unwrap();
        assert_eq!(f.inner, [TEXT, TEXT].concat());
    }

    #[tokio::test(start_paused = true)]
    async fn delays_pongs_until_due() {
        let mut f = PongFilter::new(Vec::new(), PongPolicy::Delay(Duration::from_millis(100)));
        f.write_all(PONG).await.unwrap();
        f.flush().await.unwrap();
        assert!(f.inner.is_empty());
        assert!(f.has_held_pongs());
        tokio::time::advance(Duration::from_millis(100)).await;
        f.flush().await.unwrap();
        assert_eq!(f.inner, PONG);
    }

    #[test]
    fn extended_lengths_parse() {
        assert_eq!(header_payload_len(&[0x82, 126, 0x01, 0x00]), Some(256));
        assert_eq!(
            header_payload_len(&[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
            Some(65536)
        );
        assert_eq!(header_payload_len(&[0x82, 126, 0x01]), None);
    }
}
