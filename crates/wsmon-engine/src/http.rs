//! Just enough HTTP/1.1 to read an upgrade or CONNECT answer, and the body of a refusal.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest response head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Body bytes kept from a refused upgrade.
pub(crate) const BODY_KEEP: usize = 4096;

/// A parsed status line and headers.
#[derive(Debug)]
pub(crate) struct Head {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// First header with this name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header contains `token` (case-insensitive).
    pub(crate) fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Why a response head could not be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The socket failed.
    Io(io::Error),
    /// The peer closed before a full head arrived; holds how many bytes came.
    Eof(usize),
    /// The head is larger than 16 KiB.
    TooLarge,
    /// Not HTTP; holds a printable preview of what came.
    NotHttp(String),
}

/// Reads one response head; returns it and any bytes read past it.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(Head, Vec<u8>), HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await.map_err(HeadError::Io)?;
        if n == 0 {
            if buf.is_empty() {
                return Err(HeadError::Eof(0));
            }
            // Show what came: an unfinished head of non-HTTP bytes is garbage, not a short read.
            return match parse(&buf) {
                Err(preview) => Err(HeadError::NotHttp(preview)),
                Ok(_) => Err(HeadError::Eof(buf.len())),
            };
        }
        buf.extend_from_slice(&chunk[..n]);
        match parse(&buf) {
            Ok(Some((head, len))) => {
                let rest = buf.split_off(len);
                return Ok((head, rest));
            }
            Ok(None) if buf.len() > MAX_HEAD => return Err(HeadError::TooLarge),
            Ok(None) => {}
            Err(preview) => return Err(HeadError::NotHttp(preview)),
        }
    }
}

fn parse(buf: &[u8]) -> Result<Option<(Head, usize)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 96];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let head = Head {
                status: resp.code.unwrap_or(0),
                reason: resp.reason.unwrap_or("").to_string(),
                headers: resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
            };
            Ok(Some((head, len)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err("more than 96 headers".to_string()),
        Err(_) => Err(preview(buf)),
    }
}

/// A short, printable rendering of raw bytes for messages.
pub(crate) fn preview(buf: &[u8]) -> String {
    if buf.len() >= 2 && buf[0] == 0x15 && buf[1] == 0x03
        || buf.len() >= 2 && buf[0] == 0x16 && buf[1] == 0x03
    {
        return "TLS records (the port speaks TLS: use wss://)".to_string();
    }
    let mut s = String::new();
    for &b in buf.iter().take(40) {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if buf.len() > 40 {
        s.push('…');
    }
    format!("\"{s}\"")
}

/// Reads up to 4 KiB of a refusal's body, never waiting longer than `patience`.
pub(crate) async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    head: &Head,
    mut got: Vec<u8>,
    patience: Duration,
) -> (Bytes, bool) {
    let chunked = head.header_has_token("transfer-encoding", "chunked");
    let length = head
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    if head.status == 204 || head.status == 304 || length == Some(0) {
        return (Bytes::new(), false);
    }
    // For chunked bodies read a little more raw data, since chunk framing takes room.
    let want = match (chunked, length) {
        (true, _) => BODY_KEEP * 2,
        (false, Some(len)) => len.min(BODY_KEEP + 1),
        (false, None) => BODY_KEEP + 1,
    };
    let _ = tokio::time::timeout(patience, async {
        let mut chunk = [0u8; 2048];
        while got.len() < want && !(chunked && got.windows(5).any(|w| w == b"0\r\n\r\n")) {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    let body = if chunked { dechunk(&got) } else { got };
    let truncated = body.len() > BODY_KEEP || length.is_some_and(|l| l > BODY_KEEP);
    let keep = body.len().min(BODY_KEEP);
    (Bytes::copy_from_slice(&body[..keep]), truncated)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&raw[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        raw = &raw[eol + 2..];
        let take = size.min(raw.len());
        out.extend_from_slice(&raw[..take]);
        if take < size || raw.len() < size + 2 {
            break;
        }
        raw = &raw[size + 2..];
    }
    out
}

/// Parses `Retry-After` (seconds or an HTTP date).
pub(crate) fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// What a refusal's body says, in one clean line of at most 120 characters. HTML pages (nginx,
/// tinyproxy, load balancers) are read for their `<title>`, or their text when the title only
/// repeats the status; other text by its first non-empty line.
pub(crate) fn body_summary(body: &[u8], status: u16, reason: &str) -> String {
    let Ok(text) = std::str::from_utf8(body) else {
        return String::new();
    };
    let line = if looks_like_html(text) {
        html_summary(text, status, reason)
    } else {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_string()
    };
    let mut out: String = line.chars().filter(|c| !c.is_control()).take(120).collect();
    if line.chars().count() > 120 {
        out.push('…');
    }
    out
}

fn looks_like_html(text: &str) -> bool {
    let start = text.trim_start();
    let head: String = start
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    start.starts_with('<')
        && (head.contains("<html") || head.contains("<!doctype") || head.contains("<head"))
}

/// The line an HTML page would show a person: its title, unless that only repeats the
/// status ("401 Unauthorized"), then its first text that says more.
fn html_summary(html: &str, status: u16, reason: &str) -> String {
    let texts = html_texts(html);
    let says_nothing = |t: &str| {
        let t = t.trim();
        let rest = t.strip_prefix(&status.to_string()).unwrap_or(t).trim();
        let canonical = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|c| c.canonical_reason())
            .unwrap_or("");
        rest.is_empty()
            || rest.eq_ignore_ascii_case(reason)
            || rest.eq_ignore_ascii_case(canonical)
            || t.eq_ignore_ascii_case(&format!("{status} {reason}"))
    };
    let title = title_of(html);
    if let Some(t) = &title
        && !says_nothing(t)
    {
        // "400 The plain HTTP request was sent to HTTPS port": the status is already shown.
        let t = t.trim();
        return t
            .strip_prefix(&status.to_string())
            .map_or(t, str::trim)
            .to_string();
    }
    texts
        .into_iter()
        .find(|t| !says_nothing(t) && !is_signature(t) && Some(t) != title.as_ref())
        .unwrap_or_default()
}

/// A server's signature at the foot of its page ("nginx/1.22.1", "Generated by tinyproxy
/// version 1.11.1", "Apache/2.4.57 (Debian) Server at h Port 80"): not what went wrong.
fn is_signature(t: &str) -> bool {
    let product = |w: &str| {
        w.split_once('/').is_some_and(|(name, v)| {
            !name.is_empty() && v.starts_with(|c: char| c.is_ascii_digit())
        })
    };
    let first = t.split_whitespace().next().unwrap_or("");
    (product(first) && (!t.contains(' ') || t.contains(" Server at ")))
        || t.starts_with("Generated by ")
}

fn title_of(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let t = collapse(&decode_entities(&html[start..end]));
    (!t.is_empty()).then_some(t)
}

/// The runs of text between tags, entities decoded, whitespace collapsed; scripts, styles and
/// the head left out.
fn html_texts(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let flush = |text: &mut String, out: &mut Vec<String>| {
        let t = collapse(&decode_entities(text));
        if !t.is_empty() {
            out.push(t);
        }
        text.clear();
    };
    while i < html.len() {
        if html.as_bytes()[i] == b'<' {
            flush(&mut text, &mut out);
            let skip_to = ["script", "style", "head"].iter().find_map(|tag| {
                lower[i + 1..]
                    .starts_with(tag)
                    .then(|| lower[i..].find(&format!("</{tag}")).map(|e| i + e))
                    .flatten()
            });
            let from = skip_to.unwrap_or(i);
            i = match lower[from..].find('>') {
                Some(e) => from + e + 1,
                None => html.len(),
            };
        } else {
            let next = html[i..].find('<').map_or(html.len(), |e| i + e);
            text.push_str(&html[i..next]);
            i = next;
        }
    }
    flush(&mut text, &mut out);
    out
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// A redirect's target as the WebSocket URL to try: `https://` is `wss://`, `http://` is
/// `ws://`; anything else as it is.
pub(crate) fn as_websocket_url(location: &str) -> String {
    let l = location.trim();
    let lower = l.to_ascii_lowercase();
    if lower.starts_with("https://") {
        format!("wss://{}", &l[8..])
    } else if lower.starts_with("http://") {
        format!("ws://{}", &l[7..])
    } else {
        l.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_a_head_and_keeps_what_follows() {
        let mut data: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x02hi";
        let (head, rest) = read_head(&mut data).await.unwrap();
        assert_eq!(head.status, 101);
        assert!(head.header_has_token("connection", "upgrade"));
        assert_eq!(rest, b"\x81\x02hi");
    }

    #[tokio::test]
    async fn garbage_is_named() {
        let mut data: &[u8] = b"SSH-2.0-OpenSSH_9.2\r\n";
        match read_head(&mut data).await {
            Err(HeadError::NotHttp(p)) => assert!(p.contains("SSH-2.0"), "{p}"),
            other => panic!("{other:?}"),
        }
        let mut tls: &[u8] = b"\x15\x03\x03\x00\x02\x02\x46";
        match read_head(&mut tls).await {
            Err(HeadError::NotHttp(p)) => assert!(p.contains("use wss://"), "{p}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn body_is_cut_at_4_kib() {
        let body = vec![b'x'; 10_000];
        let head_text = format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut all = head_text.into_bytes();
        all.extend_from_slice(&body);
        let mut data: &[u8] = &all;
        let (head, rest) = read_head(&mut data).await.unwrap();
        let (kept, truncated) = read_body(&mut data, &head, rest, Duration::from_secs(1)).await;
        assert_eq!(kept.len(), 4096);
        assert!(truncated);
    }

    #[tokio::test]
    async fn chunked_body_is_decoded() {
        let mut data: &[u8] =
            b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let (head, rest) = read_head(&mut data).await.unwrap();
        let (kept, truncated) = read_body(&mut data, &head, rest, Duration::from_secs(1)).await;
        assert_eq!(&kept[..], b"hello world");
        assert!(!truncated);
    }

    #[test]
    fn html_pages_are_read_for_what_they_say() {
        let nginx = b"<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(
            body_summary(nginx, 400, "Bad Request"),
            "The plain HTTP request was sent to HTTPS port"
        );
        let tinyproxy = b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\" \"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\">\n<html>\n<head><title>403 Access denied</title></head>\n<body>\n<h1>Access denied</h1>\n<p>The administrator of this proxy has not configured it to service requests from your host.</p>\n</body></html>";
        assert_eq!(
            body_summary(tinyproxy, 403, "Access denied"),
            "The administrator of this proxy has not configured it to service requests from your host."
        );
        let bare = b"<!DOCTYPE html><html><body><script>var x = '<b>';</script><p>Service &amp; API down</p></body></html>";
        assert_eq!(
            body_summary(bare, 503, "Service Unavailable"),
            "Service & API down"
        );
        assert_eq!(
            body_summary(b"\n  token expired\nmore", 401, "Unauthorized"),
            "token expired"
        );
        assert_eq!(body_summary(b"<b>not a page", 400, ""), "<b>not a page");
        let redirect = b"<html><head><title>302 Found</title></head><body><center><h1>302 Found</h1></center><hr><center>nginx/1.22.1</center></body></html>";
        assert_eq!(body_summary(redirect, 302, "Moved Temporarily"), "");
    }

    #[test]
    fn redirects_become_websocket_urls() {
        assert_eq!(as_websocket_url("https://h/x?a=1"), "wss://h/x?a=1");
        assert_eq!(as_websocket_url("HTTP://h/"), "ws://h/");
        assert_eq!(as_websocket_url("/relative"), "/relative");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn no_controls(s: &str) -> bool {
            !s.chars().any(char::is_control)
        }

        /// Header values as servers send them: visible ASCII, inner spaces.
        fn value() -> impl Strategy<Value = String> {
            "[!-~]([ -~]{0,30}[!-~])?"
        }

        /// Text a hostile page could hold: controls, escapes, entities, stray angle brackets,
        /// wide and right-to-left characters.
        fn page_text() -> impl Strategy<Value = String> {
            "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202e}a-zé漢😀&;#<>/ ]{0,60}|&(amp|lt|gt|nbsp|quot|#39);[a-z ]{0,10}"
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn generated_heads_are_read_back_and_every_cut_waits_for_more(
                status in 100..=599u16,
                reason in "[A-Za-z]([A-Za-z ]{0,20}[A-Za-z])?",
                headers in prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,15}", value()), 0..20),
                after in prop::collection::vec(any::<u8>(), 0..40),
            ) {
                let mut raw = format!("HTTP/1.1 {status} {reason}\r\n");
                for (n, v) in &headers {
                    raw.push_str(&format!("{n}: {v}\r\n"));
                }
                raw.push_str("\r\n");
                let head_len = raw.len();
                let mut bytes = raw.into_bytes();
                bytes.extend(&after);
                let (head, len) = parse(&bytes).unwrap().expect("a complete head");
                prop_assert_eq!(len, head_len);
                prop_assert_eq!(head.status, status);
                prop_assert_eq!(&head.reason, &reason);
                let read: Vec<(String, String)> = head.headers.clone();
                prop_assert_eq!(read, headers);
                for cut in 0..head_len {
                    prop_assert!(matches!(parse(&bytes[..cut]), Ok(None)), "cut at {}", cut);
                }
            }

            #[test]
            fn any_bytes_are_a_head_or_named_in_one_clean_line(
                bytes in prop::collection::vec(any::<u8>(), 0..300),
                http in any::<bool>(),
            ) {
                let bytes = if http { [&b"HTTP/1.1 "[..], &bytes].concat() } else { bytes };
                match parse(&bytes) {
                    Ok(Some((head, len))) => {
                        prop_assert!(len <= bytes.len());
                        let _ = head.header("location");
                    }
                    Ok(None) => {}
                    Err(preview) => {
                        prop_assert!(no_controls(&preview), "{}", preview);
                        prop_assert!(preview.chars().count() <= 4 * 40 + 3, "{}", preview);
                    }
                }
            }

            #[test]
            fn chunked_bodies_are_put_back_together(
                chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 0..8),
                upper in any::<bool>(),
                extension in prop::option::of("[a-z]{1,8}=[a-z0-9]{0,8}"),
            ) {
                let mut raw = Vec::new();
                for c in &chunks {
                    let size = if upper { format!("{:X}", c.len()) } else { format!("{:x}", c.len()) };
                    let ext = extension.as_ref().map(|e| format!(";{e}")).unwrap_or_default();
                    raw.extend(format!("{size}{ext}\r\n").as_bytes());
                    raw.extend(c);
                    raw.extend(b"\r\n");
                }
                raw.extend(b"0\r\n\r\n");
                let whole = chunks.concat();
                prop_assert_eq!(&dechunk(&raw), &whole);
                // A body cut anywhere (the peer closed, the patience ran out) gives what came.
                for cut in 0..raw.len() {
                    let got = dechunk(&raw[..cut]);
                    prop_assert!(whole.starts_with(&got), "cut at {}", cut);
                }
            }

            #[test]
            fn any_bytes_dechunk_without_panic(
                size in "[0-9a-fA-F]{1,20}|-1|\\PC{0,8}",
                rest in prop::collection::vec(any::<u8>(), 0..300),
            ) {
                let raw = [size.as_bytes(), b"\r\n", &rest].concat();
                prop_assert!(dechunk(&raw).len() <= raw.len());
                prop_assert!(dechunk(&rest).len() <= rest.len());
            }

            #[test]
            fn a_refusal_page_is_one_clean_line(
                title in page_text(),
                heading in page_text(),
                text in page_text(),
                script in page_text(),
                status in 100..=599u16,
                shape in 0..4usize,
            ) {
                let page = match shape {
                    0 => format!("<html><head><title>{title}</title></head><body><h1>{heading}</h1><p>{text}</p></body></html>"),
                    1 => format!("<!DOCTYPE html><html><head><script>{script}</script><title>{title}"),
                    2 => format!("<html><body><center>{heading}</center><hr><center>{text}</center>\n<{script}"),
                    _ => format!("{title}\n{text}"),
                };
                let line = body_summary(page.as_bytes(), status, "Forbidden");
                prop_assert!(no_controls(&line), "{:?}", line);
                prop_assert!(line.chars().count() <= 121, "{:?}", line);
            }

            #[test]
            fn any_body_bytes_are_one_clean_line(
                body in prop::collection::vec(any::<u8>(), 0..600),
                status in any::<u16>(),
            ) {
                let line = body_summary(&body, status, "");
                prop_assert!(no_controls(&line) && line.chars().count() <= 121, "{:?}", line);
            }

            #[test]
            fn header_values_never_panic(value in "\\PC{0,60}", scheme in "(?i)(https?|wss?|ftp)://|/|") {
                let _ = retry_after(&value);
                let url = as_websocket_url(&format!("{scheme}{value}"));
                let lower = scheme.to_ascii_lowercase();
                if lower == "https://" {
                    prop_assert!(url.starts_with("wss://"), "{}", url);
                } else if lower == "http://" {
                    prop_assert!(url.starts_with("ws://"), "{}", url);
                }
                prop_assert!(no_controls(&preview(value.as_bytes())));
            }
        }
    }
}
