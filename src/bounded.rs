//! Local input read with a bound: a config file, a recording's lines, stdin's lines. A line
//! or a file past its bound is never held whole (`--config /dev/zero`, a 150 MB stdin line):
//! what is kept stops at the bound, the rest is passed over, and the caller says so.

use std::io::{self, BufRead, Read};
use std::path::Path;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// A line read with a bound.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BoundedLine {
    /// The input ended.
    End,
    /// A line: its bytes (newline included) are in the buffer.
    Line,
    /// A line longer than the bound: the buffer holds its first bytes only; `len` is how long
    /// it was (newline not counted).
    TooLong {
        /// Its length.
        len: u64,
    },
}

/// Reads one line into `buf` (cleared first), keeping at most `max` bytes of it.
pub(crate) fn read_line(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<BoundedLine> {
    buf.clear();
    let mut total: u64 = 0;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(finish(buf, total, max, false));
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        keep(buf, &avail[..take], max);
        total += take as u64;
        r.consume(take);
        if done {
            return Ok(finish(buf, total, max, true));
        }
    }
}

/// `read_line` over an asynchronous reader (headless stdin).
pub(crate) async fn read_line_async(
    r: &mut (impl AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<BoundedLine> {
    buf.clear();
    let mut total: u64 = 0;
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            return Ok(finish(buf, total, max, false));
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        keep(buf, &avail[..take], max);
        total += take as u64;
        r.consume(take);
        if done {
            return Ok(finish(buf, total, max, true));
        }
    }
}

/// Keeps what fits under the bound (one byte more, to tell a line of exactly `max`).
fn keep(buf: &mut Vec<u8>, bytes: &[u8], max: usize) {
    let room = (max + 1).saturating_sub(buf.len());
    buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn finish(buf: &mut Vec<u8>, total: u64, max: usize, newline: bool) -> BoundedLine {
    if total == 0 {
        return BoundedLine::End;
    }
    let len = total - u64::from(newline);
    if len > max as u64 {
        buf.truncate(max);
        BoundedLine::TooLong { len }
    } else {
        BoundedLine::Line
    }
}

/// Reads a whole file of text, refusing one larger than `max` bytes without reading past it
/// (a device that never ends, a file that is not what was meant).
pub(crate) fn read_file(path: &Path, max: u64) -> io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is larger than {}", crate::text::size(max)),
        ));
    }
    String::from_utf8(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_past_the_bound_is_passed_over_not_kept() {
        let mut input = &b"short\nthis one is long\nend"[..];
        let mut buf = Vec::new();
        assert_eq!(
            read_line(&mut input, &mut buf, 8).unwrap(),
            BoundedLine::Line
        );
        assert_eq!(buf, b"short\n");
        assert_eq!(
            read_line(&mut input, &mut buf, 8).unwrap(),
            BoundedLine::TooLong { len: 16 }
        );
        assert_eq!(buf, b"this one", "its first bytes only");
        assert_eq!(
            read_line(&mut input, &mut buf, 8).unwrap(),
            BoundedLine::Line
        );
        assert_eq!(buf, b"end");
        assert_eq!(
            read_line(&mut input, &mut buf, 8).unwrap(),
            BoundedLine::End
        );
        let mut exact = &b"12345678\n"[..];
        assert_eq!(
            read_line(&mut exact, &mut buf, 8).unwrap(),
            BoundedLine::Line
        );
    }

    #[test]
    fn an_endless_file_is_refused_at_the_bound() {
        let e = read_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("larger than 1MiB"), "{e}");
    }
}
