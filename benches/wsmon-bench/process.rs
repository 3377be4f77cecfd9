//! The real binary as a process in a terminal: idle cost, memory with a full log, start-up.

use std::io::Read;
use std::path::Path;
use std::process::{Command as Proc, Stdio};
use std::time::{Duration, Instant};

use wsmon::server::{ServeOptions, Server};

use super::tmux::Tmux;

fn clock_ticks() -> f64 {
    Proc::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds (user + system) used by a process so far.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / clock_ticks()
}

/// Resident set size in KiB.
pub(crate) fn rss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

fn dashboard_cmd(bin: &Path, url: &str) -> String {
    let data = std::env::temp_dir().join("wsmon-bench-data");
    format!(
        "exec env WSMON_DATA_DIR={} TERM=xterm-256color {} {url}",
        data.display(),
        bin.display()
    )
}

/// The dashboard on `args` in a 120x40 tmux pane, as its only program.
pub(crate) fn dashboard_tmux(bin: &Path, args: &str) -> Tmux {
    Tmux::start_cmd("bench", 120, 40, &dashboard_cmd(bin, args))
}

/// The dashboard in a real terminal under a flood of `n` messages of `size` bytes: from
/// launching it in a 120x40 tmux pane to the last message on screen (its sequence number,
/// which the flood writes at the start of each message).
pub(crate) async fn terminal_ingest(bin: &Path, n: u64, size: usize) -> Duration {
    let srv = super::ingest::flood_server(n, size).await;
    let last = format!("{n:016}");
    let t0 = Instant::now();
    let t = dashboard_tmux(
        bin,
        &format!("{} --ping-interval 0 --reconnect-min 5s", srv.url()),
    );
    // Looked at through one control-mode client: a `tmux capture-pane` process per look would
    // take the CPU the dashboard needs on a small machine.
    let mut eye = t.control();
    loop {
        let screen = eye.screen();
        if screen.contains(&last) {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the last message never showed:\n{screen}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub(crate) async fn idle_cost(bin: &Path, secs: u64) -> (f64, f64) {
    let srv = Server::start(ServeOptions {
        port: 0,
        ..Default::default()
    })
    .await
    .expect("server");
    let t = dashboard_tmux(bin, &srv.url());
    if let Err(screen) = t.wait_within(&["OPEN"], Duration::from_secs(10)) {
        panic!("the dashboard did not open:\n{screen}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = t.pane_pid();
    let before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu = cpu_seconds(pid) - before;
    (cpu, rss_kib(pid))
}

pub(crate) async fn full_log_rss(bin: &Path, size: usize, keep: usize) -> f64 {
    let srv = Server::start(ServeOptions {
        port: 0,
        flood: 100_000,
        flood_size: size,
        no_echo: true,
        ..Default::default()
    })
    .await
    .expect("server");
    let args = format!("--log-capacity {keep} {}", srv.url());
    let t = dashboard_tmux(bin, &args);
    let kept = format!("{} kept", wsmon::text::count(keep as u64));
    if let Err(screen) = t.wait_within(&[&kept], Duration::from_secs(60)) {
        panic!("the log did not fill:\n{screen}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    rss_kib(t.pane_pid())
}

pub(crate) async fn startup(bin: &Path, runs: usize) -> Vec<Duration> {
    let srv = Server::start(ServeOptions {
        port: 0,
        ..Default::default()
    })
    .await
    .expect("server");
    let mut times = Vec::new();
    for _ in 0..runs {
        // script(1) without a terminal of its own makes a 0x0 pty; give it a size.
        let cmd = format!("stty rows 40 cols 120; {}", dashboard_cmd(bin, &srv.url()));
        let t0 = Instant::now();
        // A pseudo-terminal from script(1); the first frame is the first "wsmon" title it prints.
        let mut child = Proc::new("script")
            .args(["-qfec", &cmd, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script(1) runs");
        let mut out = child.stdout.take().expect("stdout");
        let took = tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    return None;
                }
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(5).any(|w| w == b"wsmon") {
                    return Some(t0.elapsed());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let _ = child.kill();
        let _ = child.wait();
        let _ = Proc::new("pkill")
            .args(["-f", &format!("{} {}", bin.display(), srv.url())])
            .status();
        if let Some(t) = took {
            times.push(t);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    times.sort();
    times
}
