//! The metrics HTTP endpoint: a bounded number of connections, each with a deadline for
//! its request and its answer; `GET /metrics` and `GET /probe` are served. Scrapes reach the frontend
//! that folds the events, which renders the metrics at most every `RENDER_GAP` and answers
//! every scrape waiting with that one rendering, so a scrape flood cannot take the fold's time.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::probe::Prober;

/// Connections served at once; more wait in the listen backlog until one ends. Probes hold
/// theirs for seconds, so there is room for `MAX_PROBES` of them and as many scrapes.
pub const MAX_CONNECTIONS: usize = 2 * crate::probe::MAX_PROBES;
/// How long a client has to send its whole request head (a scraper sends it at once).
pub(super) const HEAD_WITHIN: Duration = Duration::from_secs(2);
/// How long a scrape waits for the frontend to answer.
pub(super) const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// How long a client has to take the whole answer.
pub(super) const WRITE_WITHIN: Duration = Duration::from_secs(5);
/// Renderings are at least this far apart: scrapes that come sooner wait for the next one,
/// so a scrape flood costs at most four walks over every endpoint's stats a second, and
/// every answer is rendered after its request came.
pub(super) const RENDER_GAP: Duration = Duration::from_millis(250);
/// A probe's answer: the text format blackbox exporter answers in.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The longest request head read.
const MAX_HEAD: usize = 8192;

/// One scrape waiting for its answer.
#[derive(Debug)]
struct Scrape(oneshot::Sender<Arc<str>>);

/// Scrapes waiting for an answer, taken together so that one rendering answers them all.
/// The frontend that folds the events (and so holds the stats) answers them.
#[derive(Debug)]
pub struct Scrapes(Vec<Scrape>);

impl Scrapes {
    /// Answers every waiting scrape with this metrics text.
    pub fn answer(self, text: String) {
        let text: Arc<str> = text.into();
        for s in self.0 {
            let _ = s.0.send(text.clone());
        }
    }
}

/// The scrapes of one endpoint, as they come.
#[derive(Debug)]
pub struct ScrapeQueue {
    rx: mpsc::Receiver<Scrape>,
    /// Scrapes taken from the channel and not yet handed out (kept here, so that a `select!`
    /// that drops `next` loses none).
    waiting: Vec<Scrape>,
    last_render: Option<Instant>,
}

impl ScrapeQueue {
    /// The scrapes to answer with one new rendering, no sooner than `RENDER_GAP` after the
    /// last. Never resolves once the endpoint is gone.
    pub async fn next(&mut self) -> Scrapes {
        loop {
            if self.waiting.is_empty() {
                match self.rx.recv().await {
                    Some(s) => self.waiting.push(s),
                    None => return std::future::pending().await,
                }
            }
            while let Ok(s) = self.rx.try_recv() {
                self.waiting.push(s);
            }
            if let Some(due) = self.last_render.map(|at| at + RENDER_GAP)
                && Instant::now() < due
            {
                tokio::time::sleep_until(due.into()).await;
                continue;
            }
            self.last_render = Some(Instant::now());
            return Scrapes(std::mem::take(&mut self.waiting));
        }
    }
}

/// Serves `GET /metrics` and `GET /probe` (with `prober`) on `addr`; returns the address bound
/// (useful with port 0) and the scrapes to answer.
pub async fn serve(addr: SocketAddr, prober: Arc<Prober>) -> io::Result<(SocketAddr, ScrapeQueue)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(16);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            // Taken before accepting: past the cap, connections wait in the kernel's backlog
            // and cost wsmon nothing.
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (tcp, _) = crate::net::accept(&listener).await;
            let tx = tx.clone();
            let prober = prober.clone();
            tokio::spawn(async move {
                answer(tcp, tx, &prober).await;
                drop(permit);
            });
        }
    });
    Ok((
        bound,
        ScrapeQueue {
            rx,
            waiting: Vec::new(),
            last_render: None,
        },
    ))
}

/// Reads a request head: `None` when the client closes, sends too much, or is too slow.
async fn read_head(tcp: &mut TcpStream) -> Option<Vec<u8>> {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    let reading = async {
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            if req.len() >= MAX_HEAD {
                return None;
            }
            match tcp.read(&mut buf).await {
                Ok(n) if n > 0 => req.extend_from_slice(&buf[..n]),
                _ => return None,
            }
        }
        Some(())
    };
    tokio::time::timeout(HEAD_WITHIN, reading).await.ok()??;
    Some(req)
}

/// What a request asks for.
#[derive(Debug, PartialEq)]
enum Route {
    /// `GET /metrics`.
    Metrics,
    /// `GET /probe`, with its query's `target` and `module`.
    Probe {
        /// The target's URL.
        target: Option<String>,
        /// The module's name.
        module: Option<String>,
    },
    /// `/metrics` or `/probe` with another method.
    WrongMethod(&'static str),
    /// Any other path.
    NotFound,
    /// Not an HTTP request line.
    Bad,
}

/// Routes a request head by its request line.
fn route(head: &[u8]) -> Route {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return Route::Bad;
    };
    if !version.starts_with("HTTP/") {
        return Route::Bad;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match (method, path) {
        ("GET", "/metrics") => Route::Metrics,
        ("GET", "/probe") => {
            let mut target = None;
            let mut module = None;
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                match &*k {
                    "target" => target = Some(v.into_owned()),
                    "module" => module = Some(v.into_owned()),
                    _ => {}
                }
            }
            Route::Probe { target, module }
        }
        (_, "/metrics") => Route::WrongMethod("/metrics"),
        (_, "/probe") => Route::WrongMethod("/probe"),
        _ => Route::NotFound,
    }
}

/// `X-Prometheus-Scrape-Timeout-Seconds`: how long the scraper waits for this answer.
fn scrape_timeout(head: &[u8]) -> Option<Duration> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).ok()?;
    let h = req.headers.iter().find(|h| {
        h.name
            .eq_ignore_ascii_case("x-prometheus-scrape-timeout-seconds")
    })?;
    let secs: f64 = std::str::from_utf8(h.value).ok()?.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// Answers one connection's request, within the deadlines.
async fn answer(mut tcp: TcpStream, scrapes: mpsc::Sender<Scrape>, prober: &Prober) {
    let Some(head) = read_head(&mut tcp).await else {
        return;
    };
    let text = "text/plain; charset=utf-8";
    let (status, ctype, extra, body): (_, _, _, Arc<str>) = match route(&head) {
        Route::Metrics => {
            let (reply, answer) = oneshot::channel();
            let answered = async {
                scrapes.send(Scrape(reply)).await.ok()?;
                answer.await.ok()
            };
            match tokio::time::timeout(ANSWER_WITHIN, answered).await {
                Ok(Some(body)) => (
                    "200 OK",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    "",
                    body,
                ),
                _ => (
                    "503 Service Unavailable",
                    text,
                    "",
                    "wsmon did not answer in time (it is stopping, or busy); try again\n".into(),
                ),
            }
        }
        Route::Probe { target, module } => {
            match prober
                .probe(target.as_deref(), module.as_deref(), scrape_timeout(&head))
                .await
            {
                Ok(body) => ("200 OK", EXPOSITION, "", body.into()),
                Err(refusal) => {
                    let (status, body) = refusal.answer(prober.modules());
                    (status, text, "", body.into())
                }
            }
        }
        Route::WrongMethod(path) => (
            "405 Method Not Allowed",
            text,
            "Allow: GET\r\n",
            format!("only GET is served at {path}\n").into(),
        ),
        Route::NotFound => (
            "404 Not Found",
            text,
            "",
            "not found: wsmon serves GET /metrics and GET /probe?target=URL&module=NAME\n".into(),
        ),
        Route::Bad => (
            "400 Bad Request",
            text,
            "",
            "not an HTTP request: wsmon serves GET /metrics and GET /probe\n".into(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(WRITE_WITHIN, async {
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(body.as_bytes()).await?;
        tcp.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_metrics_is_served() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Route::WrongMethod("/metrics")
        );
        assert_eq!(
            route(b"GET /probe?module=x&target=wss%3A%2F%2Fh%2Fp%3Fa%3D1 HTTP/1.1\r\n\r\n"),
            Route::Probe {
                target: Some("wss://h/p?a=1".into()),
                module: Some("x".into())
            }
        );
        assert_eq!(
            route(b"GET /probe HTTP/1.1\r\n\r\n"),
            Route::Probe {
                target: None,
                module: None
            }
        );
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"\x16\x03\x01\x02\x00"), Route::Bad);
        assert_eq!(route(b""), Route::Bad);
        assert_eq!(route(b"GET /metrics SSH-2.0\r\n\r\n"), Route::Bad);
    }

    #[test]
    fn the_scrape_timeout_is_read_from_its_header() {
        let head =
            b"GET /probe HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 4.5\r\n\r\n";
        assert_eq!(scrape_timeout(head), Some(Duration::from_millis(4500)));
        assert_eq!(scrape_timeout(b"GET /probe HTTP/1.1\r\n\r\n"), None);
        let bad = b"GET /probe HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: -1\r\n\r\n";
        assert_eq!(scrape_timeout(bad), None);
    }
}
