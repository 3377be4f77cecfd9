//! A fleet of endpoints: time to all open, idle CPU and RSS, reconnects after a server restart.

use std::path::Path;
use std::process::{Command as Proc, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wsmon::server::{ServeOptions, Server};

use super::process::{cpu_seconds, dashboard_tmux, rss_kib};

/// Endpoints in the fleet measurement.
pub(crate) const FLEET: usize = 1000;
/// Endpoints in the large fleet.
pub(crate) const BIG_FLEET: usize = 10_000;

/// One fleet run: how many endpoints, how long idle CPU is measured, in which frontend, and
/// how often the server sends each connection a message (none: idle but for heartbeats).
#[derive(Clone, Copy)]
pub(crate) struct FleetRun {
    pub(crate) n: usize,
    pub(crate) secs: u64,
    pub(crate) dashboard: bool,
    pub(crate) tick: Option<Duration>,
}

/// What a fleet costs and how it behaves.
pub(crate) struct FleetCost {
    pub(crate) all_open: Duration,
    pub(crate) open_spread: Duration,
    pub(crate) cpu: f64,
    pub(crate) rss_kib: f64,
    pub(crate) back_after: Duration,
    pub(crate) peak_per_100ms: u64,
}

/// Polls `count` every 5 ms until it reaches `n`; returns the time taken, the time from the
/// first increase, and the largest increase within any 100 ms.
pub(crate) async fn watch_count(
    count: impl Fn() -> u64,
    n: u64,
    patience: Duration,
) -> (Duration, Duration, u64) {
    let t0 = Instant::now();
    let base = count();
    let mut samples: Vec<(Instant, u64)> = Vec::new();
    while count() - base < n && t0.elapsed() < patience {
        samples.push((Instant::now(), count() - base));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    samples.push((Instant::now(), count() - base));
    let first = samples.iter().find(|(_, c)| *c > 0).map_or(t0, |(t, _)| *t);
    let mut peak = 0;
    let mut j = 0;
    for i in 0..samples.len() {
        while samples[i].0 - samples[j].0 > Duration::from_millis(100) {
            j += 1;
        }
        peak = peak.max(samples[i].1 - samples[j].1);
    }
    (
        t0.elapsed(),
        samples.last().map_or(Duration::ZERO, |(t, _)| *t - first),
        peak,
    )
}

/// Runs wsmon on a fleet of endpoints of one built-in server with 15 s heartbeats: time to
/// all open, CPU over `secs` and RSS, then the reconnects after a server restart.
pub(crate) async fn fleet_cost(bin: &Path, run: &FleetRun) -> FleetCost {
    let FleetRun {
        n,
        secs,
        dashboard,
        tick,
    } = *run;
    // The server runs in this process and holds one socket per endpoint.
    let _ = rlimit::increase_nofile_limit(2 * n as u64 + 1024);
    let srv = Server::start(ServeOptions {
        port: 0,
        tick,
        ..Default::default()
    })
    .await
    .expect("server");
    let port = srv.addr().port();
    let mut config = String::from("ping_interval = \"15s\"\n");
    for i in 0..n {
        config.push_str(&format!(
            "\n[[endpoint]]\nname = \"ep-{i:04}\"\nurl = \"ws://127.0.0.1:{port}/ep-{i:04}\"\n"
        ));
    }
    let path = std::env::temp_dir().join(format!("wsmon-bench-fleet-{}.toml", std::process::id()));
    std::fs::write(&path, config).expect("write the fleet config");
    let stats = srv.stats();
    let live = || stats.upgraded.load(Ordering::Relaxed);
    let (mut child, tmux, pid) = if dashboard {
        let t = dashboard_tmux(bin, &format!("--config {}", path.display()));
        let pid = t.pane_pid();
        (None, Some(t), pid)
    } else {
        let c = Proc::new(bin)
            .args(["--headless", "--config"])
            .arg(&path)
            .env(
                "WSMON_DATA_DIR",
                std::env::temp_dir().join("wsmon-bench-data"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wsmon runs");
        let pid = c.id();
        (Some(c), None, pid)
    };
    let (all_open, open_spread, _) = watch_count(&live, n as u64, Duration::from_secs(60)).await;
    if let Some(t) = &tmux
        && let Err(screen) = t.wait_within(&[&format!("{n} open")], Duration::from_secs(10))
    {
        panic!("the overview does not show every endpoint open:\n{screen}");
    }
    // Let the first (jittered) pings and the start-up allocations settle.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu = cpu_seconds(pid) - before;
    let rss_kib = rss_kib(pid);

    srv.kill().await;
    let srv = Server::start(ServeOptions {
        port,
        tick,
        ..Default::default()
    })
    .await
    .expect("the server restarts on its port");
    let stats = srv.stats();
    let upgraded = || stats.upgraded.load(Ordering::Relaxed);
    let (back_after, _, peak_per_100ms) =
        watch_count(&upgraded, n as u64, Duration::from_secs(60)).await;
    if let Some(c) = child.as_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(tmux);
    let _ = std::fs::remove_file(&path);
    FleetCost {
        all_open,
        open_spread,
        cpu,
        rss_kib,
        back_after,
        peak_per_100ms,
    }
}
