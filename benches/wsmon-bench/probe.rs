//! `/probe` as Prometheus uses it: what a probe costs beyond the WebSocket dial it makes, in
//! time and in the wsmon process's CPU and memory, one at a time and 64 at once.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use wsmon::server::{ServeOptions, Server};

use super::process::{cpu_seconds, rss_kib};

/// What the probe section measured.
pub(crate) struct ProbeCost {
    /// Probes made one after another.
    pub n: usize,
    /// A bare dial, ping, pong and close of the same server (tokio-tungstenite), median.
    pub bare: Duration,
    /// A `/probe` request to its answer, as Prometheus sees it, median.
    pub probe: Duration,
    /// The wsmon process's CPU per probe (user + system).
    pub cpu_per_probe: Duration,
    /// Probes a second with 64 in flight.
    pub parallel_rate: f64,
    /// RSS of wsmon before the probes, and its peak during the parallel ones, KiB.
    pub rss_before: f64,
    pub rss_peak: f64,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One bare WebSocket check of the server at `addr` (`url`): dial, ping, pong, close.
async fn bare_check(addr: std::net::SocketAddr, url: &str) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = tcp.set_nodelay(true);
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp)
        .await
        .expect("handshake");
    ws.send(tokio_tungstenite::tungstenite::Message::Ping(
        b"x".to_vec().into(),
    ))
    .await
    .expect("ping");
    while let Some(Ok(m)) = ws.next().await {
        if m.is_pong() {
            break;
        }
    }
    let _ = ws.close(None).await;
}

/// One `/probe` request; asserts it succeeded.
async fn probe(port: u16, target: &str) {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the metrics port");
    tcp.write_all(format!("GET /probe?target={target} HTTP/1.1\r\nHost: bench\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.contains("\nprobe_success 1\n"), "{answer}");
}

pub(crate) async fn probe_cost(bin: &Path, n: usize) -> ProbeCost {
    let srv = Server::start(ServeOptions {
        port: 0,
        ..Default::default()
    })
    .await
    .expect("a server");
    let url = srv.url();
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.yml");
    std::fs::write(&targets, "[]\n").unwrap();
    let mut child = tokio::process::Command::new(bin)
        .args(["--headless", "--metrics", "127.0.0.1:0", "--targets-file"])
        .arg(&targets)
        .env("WSMON_DATA_DIR", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("wsmon runs");
    let pid = child.id().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let port: u16 = loop {
        let line = err.next_line().await.unwrap().expect("wsmon says its port");
        if let Some(rest) = line.strip_prefix("wsmon: Prometheus metrics at http://127.0.0.1:") {
            break rest.trim_end_matches("/metrics").parse().unwrap();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = err.next_line().await {} });
    // Warm both paths up.
    for _ in 0..10 {
        bare_check(srv.addr(), &url).await;
        probe(port, &url).await;
    }
    let mut bare = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        bare_check(srv.addr(), &url).await;
        bare.push(t.elapsed());
    }
    let rss_before = rss_kib(pid);
    let cpu0 = cpu_seconds(pid);
    let mut probes = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        probe(port, &url).await;
        probes.push(t.elapsed());
    }
    let cpu = cpu_seconds(pid) - cpu0;
    // 64 at once, as a scrape of many targets sharing an interval does.
    let rounds = (n / 64).max(2);
    let t = Instant::now();
    let mut peak = rss_before;
    for _ in 0..rounds {
        let batch: Vec<_> = (0..64)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { probe(port, &url).await })
            })
            .collect();
        for b in batch {
            b.await.unwrap();
        }
        peak = peak.max(rss_kib(pid));
    }
    let parallel_rate = (rounds * 64) as f64 / t.elapsed().as_secs_f64();
    let _ = child.start_kill();
    ProbeCost {
        n,
        bare: median(bare),
        probe: median(probes),
        cpu_per_probe: Duration::from_secs_f64(cpu / n as f64),
        parallel_rate,
        rss_before,
        rss_peak: peak,
    }
}
