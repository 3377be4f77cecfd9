//! wsmon-bench: measures what the performance budgets are about and prints one table.
//!
//! Ingest throughput side by side (a minimal tokio-tungstenite read loop, `wsmon --headless`,
//! the dashboard's engine and loop drawing into a TestBackend at 30 fps, and websocat when it is
//! installed), key-to-frame latency under a flood, idle CPU and RSS, RSS with a full log, frame
//! time against log length, reconnect and dead-peer reaction times, a fleet of 1,000 endpoints
//! (CPU, RSS, reconnects after a server restart), and exec-to-first-frame.
//! The real binary is measured where a process matters (headless, idle, memory, start-up).
//!
//!     cargo build --release && target/release/wsmon-bench            # everything (about 7 min)
//!     target/release/wsmon-bench --quick                             # smaller and shorter
//!     target/release/wsmon-bench --only ingest,render                # some sections

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command as Proc, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;
use wsmon::engine::target::Target;
use wsmon::engine::{ClosedBy, ConnSettings, Dir, Engine, Event, Kind, Message, Stamped};
use wsmon::server::{ServeOptions, Server};
use wsmon::tui::app::{App, UiOptions};
use wsmon::tui::theme::Theme;

/// Counts live heap bytes and allocations made and freed by the measuring thread, for the
/// per-message overhead measurement; other threads (servers winding down) do not count.
struct Counting;

thread_local! {
    // Const-initialised cells without destructors: using them allocates nothing.
    static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LIVE_BYTES: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    static LIVE_BLOCKS: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

fn count(bytes: isize, blocks: isize) {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = LIVE_BYTES.try_with(|b| b.set(b.get() + bytes));
            let _ = LIVE_BLOCKS.try_with(|b| b.set(b.get() + blocks));
        }
    });
}

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count(layout.size() as isize, 1);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        count(-(layout.size() as isize), -1);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize, 0);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap bytes per kept message beyond its payload, with 16 bytes of allocator bookkeeping
/// counted per allocation: a full log of 100,000 messages of `size` bytes, whose payloads
/// arrive as slices of 128 KiB read buffers as tungstenite hands them over.
fn heap_per_message(size: usize) -> f64 {
    let n = 100_000usize;
    COUNTING.with(|c| c.set(true));
    let (bytes0, blocks0) = (LIVE_BYTES.with(|b| b.get()), LIVE_BLOCKS.with(|b| b.get()));
    let mut app = App::new(ui_options());
    let at = SystemTime::now();
    let mut buf = Bytes::from(vec![b'x'; 128 * 1024]);
    let mut batch = Vec::with_capacity(1024);
    for _ in 0..n {
        if buf.len() < size {
            buf = Bytes::from(vec![b'x'; 128 * 1024]);
        }
        let data = buf.split_to(size);
        batch.push(Stamped {
            at,
            event: Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data,
                id: 0,
            }),
        });
        if batch.len() == 1024 {
            app.apply(&std::mem::take(&mut batch));
        }
    }
    app.apply(&std::mem::take(&mut batch));
    drop(buf);
    let bytes = (LIVE_BYTES.with(|b| b.get()) - bytes0) as f64;
    let blocks = (LIVE_BLOCKS.with(|b| b.get()) - blocks0) as f64;
    COUNTING.with(|c| c.set(false));
    assert_eq!(app.log.len(), n, "the log is full");
    let per = (bytes + 16.0 * blocks) / n as f64 - size as f64;
    drop(app);
    per
}

/// What to run.
struct Opts {
    quick: bool,
    only: Option<Vec<String>>,
    wsmon: PathBuf,
    websocat: Option<PathBuf>,
}

/// A line of the table.
struct Row {
    what: String,
    value: String,
    budget: String,
    verdict: &'static str,
}

fn row(
    what: impl Into<String>,
    value: impl Into<String>,
    budget: impl Into<String>,
    ok: Option<bool>,
) -> Row {
    let r = Row {
        what: what.into(),
        value: value.into(),
        budget: budget.into(),
        verdict: match ok {
            Some(true) => "ok",
            Some(false) => "MISSED",
            None => "",
        },
    };
    // Progress on stderr, so a long run shows where it is; the table comes at the end.
    eprintln!("  {}: {} {}", r.what, r.value, r.verdict);
    r
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut opts = Opts {
        quick: false,
        only: None,
        wsmon: exe_dir.join("wsmon"),
        websocat: which("websocat"),
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => opts.quick = true,
            "--only" => {
                opts.only = args
                    .next()
                    .map(|s| s.split(',').map(str::to_string).collect())
            }
            "--wsmon" => opts.wsmon = args.next().map(PathBuf::from).unwrap_or_default(),
            "--websocat" => opts.websocat = args.next().map(PathBuf::from),
            "--no-websocat" => opts.websocat = None,
            "-h" | "--help" => {
                println!(
                    "usage: wsmon-bench [--quick] [--only ingest,latency,idle,memory,render,reaction,fleet,startup] [--wsmon PATH] [--websocat PATH | --no-websocat]"
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("wsmon-bench: unknown argument `{other}` (see --help)");
                return ExitCode::from(2);
            }
        }
    }
    if !opts.wsmon.is_file() {
        eprintln!(
            "wsmon-bench: no wsmon binary at {}: cargo build --release first, or pass --wsmon PATH",
            opts.wsmon.display()
        );
        return ExitCode::from(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let rows = rt.block_on(run(&opts));
    print_table(&opts, &rows);
    rt.shutdown_timeout(Duration::from_secs(1));
    ExitCode::SUCCESS
}

fn wants(opts: &Opts, section: &str) -> bool {
    opts.only
        .as_ref()
        .is_none_or(|o| o.iter().any(|s| s == section))
}

async fn run(opts: &Opts) -> Vec<Row> {
    let mut rows = Vec::new();
    let (small_n, big_n) = if opts.quick {
        (200_000, 2_000)
    } else {
        (1_000_000, 10_000)
    };
    let runs = if opts.quick { 1 } else { 5 };
    if wants(opts, "ingest") || wants(opts, "latency") {
        for (n, size) in [(small_n, 100usize), (big_n, 64 * 1024)] {
            let label = format!("{} x {}", human_count(n), human_size(size));
            let minimal = median(runs, || minimal_loop(n, size)).await;
            let headless = median(runs, || headless_process(&opts.wsmon, n, size)).await;
            let mut latencies = Vec::new();
            let mut tui_times = Vec::new();
            for _ in 0..runs {
                let (t, lat) = tui_loop(n, size).await;
                tui_times.push(t);
                latencies.extend(lat);
            }
            tui_times.sort();
            let tui = tui_times[tui_times.len() / 2];
            let websocat = match &opts.websocat {
                Some(w) => Some(median(runs, || websocat_process(w, n, size)).await),
                None => None,
            };
            let rate = |d: Duration| n as f64 / d.as_secs_f64();
            let mbps = |d: Duration| (n as f64 * size as f64) / d.as_secs_f64() / 1e6;
            let show = |d: Duration| {
                format!(
                    "{} msg/s, {:.0} MB/s ({:.3} s)",
                    human_rate(rate(d)),
                    mbps(d),
                    d.as_secs_f64()
                )
            };
            rows.push(row(
                format!("ingest {label}: minimal tokio-tungstenite loop"),
                show(minimal),
                "the limit",
                None,
            ));
            let tui_share = rate(tui) / rate(minimal);
            rows.push(row(
                format!("ingest {label}: dashboard (engine + loop, TestBackend, 30 fps)"),
                format!("{} = {:.0}% of minimal", show(tui), tui_share * 100.0),
                if size == 100 { ">= 50% of minimal" } else { "" },
                (size == 100).then_some(tui_share >= 0.5),
            ));
            let ws_rate = websocat.map(rate);
            rows.push(row(
                format!("ingest {label}: wsmon --headless > /dev/null"),
                match ws_rate {
                    Some(w) => format!("{} = {:.1}x websocat", show(headless), rate(headless) / w),
                    None => show(headless),
                },
                if size == 100 { ">= 2x websocat" } else { "" },
                if size == 100 {
                    ws_rate.map(|w| rate(headless) >= 2.0 * w)
                } else {
                    None
                },
            ));
            if let Some(w) = websocat {
                rows.push(row(
                    format!("ingest {label}: websocat -U > /dev/null"),
                    show(w),
                    "peer",
                    None,
                ));
            }
            if size == 100 && wants(opts, "latency") {
                latencies.sort();
                let p = |q: f64| {
                    latencies
                        .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
                        .copied()
                        .unwrap_or_default()
                };
                let (p50, p99) = (p(0.5), p(0.99));
                rows.push(row(
                    format!(
                        "key to frame under the {label} flood (p50 / p99, {} keys)",
                        latencies.len()
                    ),
                    format!("{} / {}", ms(p50), ms(p99)),
                    "p99 <= 50 ms",
                    Some(p99 <= Duration::from_millis(50)),
                ));
            }
        }
    }
    if wants(opts, "idle") || wants(opts, "memory") {
        let secs = if opts.quick { 10 } else { 60 };
        let (cpu, rss) = idle_cost(&opts.wsmon, secs).await;
        let per_minute = cpu * 60.0 / secs as f64;
        rows.push(row(
            format!("idle dashboard, heartbeat 15 s, {secs} s: CPU"),
            format!(
                "{cpu:.2} CPU s = {:.3}% of a core ({per_minute:.2} s per 60 s)",
                cpu / secs as f64 * 100.0
            ),
            "<= 0.12 CPU s per 60 s",
            Some(per_minute <= 0.12),
        ));
        rows.push(row(
            "idle dashboard: RSS, empty log",
            format!("{:.1} MB", rss / 1024.0),
            "<= 15 MB",
            Some(rss <= 15.0 * 1024.0),
        ));
        if wants(opts, "memory") {
            for size in [100usize, 1024] {
                let mut rss = Vec::new();
                for _ in 0..if opts.quick { 1 } else { 3 } {
                    rss.push(full_log_rss(&opts.wsmon, size, 100_000).await);
                }
                rss.sort_by(f64::total_cmp);
                let full = rss[rss.len() / 2];
                let per_msg = heap_per_message(size);
                let budget = if size == 100 {
                    "<= 40 MB; overhead <= 128 B"
                } else {
                    "overhead <= 128 B"
                };
                let ok = per_msg <= 128.0 && (size != 100 || full <= 40.0 * 1024.0);
                rows.push(row(
                    format!(
                        "log full, 100,000 x {}: RSS of wsmon; heap per message beyond the payload",
                        human_size(size)
                    ),
                    format!("{:.1} MB; {per_msg:.0} B", full / 1024.0),
                    budget,
                    Some(ok),
                ));
            }
        }
    }
    if wants(opts, "render") {
        let big = if opts.quick { 200_000 } else { 1_000_000 };
        let (_, fold) = filled_app(big, 100_000);
        rows.push(row(
            format!(
                "fold {} messages into the dashboard state (log ring 100,000)",
                human_count(big as u64)
            ),
            format!("{:.0} ns per message", fold.as_nanos() as f64 / big as f64),
            "",
            None,
        ));
        for (label, filter_events, paused) in [
            ("following", false, false),
            ("paused mid-log", false, true),
            ("filter: events only", true, false),
        ] {
            let small = render_cost(10, filter_events, paused);
            let screenful = render_cost(1000, filter_events, paused);
            let large = render_cost(big, filter_events, paused);
            let ratio = large.as_secs_f64() / small.as_secs_f64();
            rows.push(row(
                format!(
                    "frame time 120x40, {label}: 10 / 1k / {} messages",
                    human_count(big as u64)
                ),
                format!(
                    "{} / {} / {} ({ratio:.2}x of 10; {:.2}x of 1k, the same rows on screen)",
                    us(small),
                    us(screenful),
                    us(large),
                    large.as_secs_f64() / screenful.as_secs_f64()
                ),
                "within 2x",
                Some(ratio <= 2.0),
            ));
        }
    }
    if wants(opts, "reaction") {
        let over = reconnect_overhead(if opts.quick { 5 } else { 20 }).await;
        rows.push(row(
            format!(
                "server back: OPEN after the scheduled dial (max of {})",
                over.len()
            ),
            format!("p50 {} / max {}", ms(pct(&over, 0.5)), ms(pct(&over, 1.0))),
            "<= 20 ms",
            Some(pct(&over, 1.0) <= Duration::from_millis(20)),
        ));
        let dead = dead_peer_overhead(if opts.quick { 3 } else { 10 }).await;
        rows.push(row(
            format!(
                "silent peer: verdict beyond ping_interval + pong_timeout (max of {})",
                dead.len()
            ),
            format!("p50 {} / max {}", ms(pct(&dead, 0.5)), ms(pct(&dead, 1.0))),
            "<= 100 ms",
            Some(pct(&dead, 1.0) <= Duration::from_millis(100)),
        ));
    }
    if wants(opts, "fleet") {
        let secs = if opts.quick { 15 } else { 60 };
        for dashboard in [false, true] {
            let f = fleet_cost(&opts.wsmon, FLEET, secs, dashboard).await;
            let mode = if dashboard { "dashboard" } else { "--headless" };
            rows.push(row(
                format!("fleet of {FLEET}, heartbeat 15 s, {mode}: all open after start"),
                format!("{} (staggered over {})", ms(f.all_open), ms(f.open_spread)),
                "",
                None,
            ));
            let share = f.cpu / secs as f64 * 100.0;
            rows.push(row(
                format!("fleet of {FLEET}, {mode}, idle {secs} s: CPU; RSS"),
                format!("{share:.2}% of a core; {:.1} MB", f.rss_kib / 1024.0),
                "< 2% of a core; < 150 MB",
                Some(share < 2.0 && f.rss_kib < 150.0 * 1024.0),
            ));
            rows.push(row(
                format!("fleet of {FLEET}, {mode}: server restart, reconnects"),
                format!(
                    "all back in {}; at most {} in any 100 ms",
                    ms(f.back_after),
                    f.peak_per_100ms
                ),
                "not in lockstep",
                Some(f.peak_per_100ms < FLEET as u64 / 2),
            ));
        }
    }
    if wants(opts, "startup") {
        let times = startup(&opts.wsmon, if opts.quick { 3 } else { 10 }).await;
        rows.push(row(
            format!("exec to first frame (p50 / max of {})", times.len()),
            format!("{} / {}", ms(pct(&times, 0.5)), ms(pct(&times, 1.0))),
            "<= 50 ms",
            Some(pct(&times, 1.0) <= Duration::from_millis(50)),
        ));
    }
    rows
}

// ---- fleet ----------------------------------------------------------------------------------

/// Endpoints in the fleet measurement.
const FLEET: usize = 1000;

/// What a fleet costs and how it behaves.
struct FleetCost {
    all_open: Duration,
    open_spread: Duration,
    cpu: f64,
    rss_kib: f64,
    back_after: Duration,
    peak_per_100ms: u64,
}

/// Polls `count` every 5 ms until it reaches `n`; returns the time taken, the time from the
/// first increase, and the largest increase within any 100 ms.
async fn watch_count(
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

/// Runs wsmon on a fleet of `n` endpoints of one built-in server with 15 s heartbeats:
/// time to all open, idle CPU over `secs` and RSS, then the reconnects after a server restart.
async fn fleet_cost(bin: &Path, n: usize, secs: u64, dashboard: bool) -> FleetCost {
    let srv = Server::start(ServeOptions {
        port: 0,
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
        let t = Tmux::start(&dashboard_cmd(bin, &format!("--config {}", path.display())));
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
    if let Some(t) = &tmux {
        assert!(
            t.wait_for(&format!("{n} open"), Duration::from_secs(10)),
            "the overview shows every endpoint open:\n{}",
            t.screen()
        );
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

// ---- ingest ---------------------------------------------------------------------------------

/// A server that floods `n` messages of `size` bytes to its one client, then closes.
async fn flood_server(n: u64, size: usize) -> Server {
    Server::start(ServeOptions {
        port: 0,
        flood: n,
        flood_size: size,
        drop_after: Some(Duration::ZERO),
        drop_code: Some(1000),
        no_echo: true,
        once: true,
        ..Default::default()
    })
    .await
    .expect("flood server")
}

async fn minimal_loop(n: u64, size: usize) -> Duration {
    let srv = flood_server(n, size).await;
    let t0 = Instant::now();
    let tcp = tokio::net::TcpStream::connect(srv.addr())
        .await
        .expect("connect");
    let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(srv.url(), tcp, Some(cfg))
        .await
        .expect("handshake");
    let mut got = 0u64;
    while let Some(Ok(m)) = ws.next().await {
        if m.is_text() || m.is_binary() {
            got += 1;
            if got == n {
                break;
            }
        }
    }
    assert_eq!(got, n, "the minimal loop got every message");
    t0.elapsed()
}

async fn headless_process(bin: &Path, n: u64, size: usize) -> Duration {
    let srv = flood_server(n, size).await;
    let t0 = Instant::now();
    // It exits when, after the flood and the close, the reconnect is refused (--max-attempts 1).
    let status = tokio::process::Command::new(bin)
        .args([
            "--headless",
            "--max-attempts",
            "1",
            "--reconnect-min",
            "10ms",
            "--reconnect-max",
            "10ms",
            "--ping-interval",
            "0",
        ])
        .arg(srv.url())
        .env(
            "WSMON_DATA_DIR",
            std::env::temp_dir().join("wsmon-bench-data"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("wsmon runs");
    assert_eq!(
        status.code(),
        Some(1),
        "wsmon --headless gave up after the flood as planned"
    );
    t0.elapsed()
}

async fn websocat_process(bin: &Path, n: u64, size: usize) -> Duration {
    let srv = flood_server(n, size).await;
    let t0 = Instant::now();
    let status = tokio::process::Command::new(bin)
        .args(["-U", "--max-messages-rev", &n.to_string()])
        .arg(srv.url())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("websocat runs");
    let _ = status;
    t0.elapsed()
}

fn ui_options() -> UiOptions {
    UiOptions {
        url: "ws://127.0.0.1/".into(),
        log_capacity: 100_000,
        log_max_bytes: 256 << 20,
        fps: 30,
        ping_interval: None,
        pong_timeout: Duration::from_secs(10),
        demo: false,
        theme: Theme::color(),
        history: None,
        header: Default::default(),
        replay: false,
        name: None,
    }
}

/// The dashboard's own loop (`wsmon::tui::drive`) over a real engine, drawing into a
/// TestBackend at 30 fps, while keys arrive every 20 ms; returns the ingest time and the
/// key-to-frame latencies.
async fn tui_loop(n: u64, size: usize) -> (Duration, Vec<Duration>) {
    let srv = flood_server(n, size).await;
    let mut settings = ConnSettings::new(Target::parse(&srv.url()).expect("url"));
    settings.ping_interval = None;
    let t0 = Instant::now();
    let (tx, mut events) = Engine::fleet_channel(1);
    let wsmon::engine::EngineHandle { commands, task } =
        Engine::spawn_tagged(settings, 0, tx, None);
    let mut app = App::new(ui_options());
    let mut session = wsmon::tui::Session::live(vec![commands]);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");

    let (key_tx, mut key_rx) = mpsc::unbounded_channel::<TermEvent>();
    let injected: Arc<Mutex<VecDeque<Instant>>> = Arc::default();
    let consumed = Arc::new(AtomicUsize::new(0));
    let consumed_in = consumed.clone();
    let mut keys = futures_util::stream::poll_fn(move |cx| {
        let polled = key_rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(_)) = &polled {
            consumed_in.fetch_add(1, Ordering::SeqCst);
        }
        polled.map(|o| o.map(Ok))
    });
    let inj = injected.clone();
    let injector = tokio::spawn(async move {
        let mut i = 0u64;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let code = if i.is_multiple_of(2) {
                KeyCode::Up
            } else {
                KeyCode::Down
            };
            inj.lock().expect("lock").push_back(Instant::now());
            if key_tx
                .send(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
                .is_err()
            {
                return;
            }
            i += 1;
        }
    });
    let mut latencies = Vec::new();
    let mut measured = 0usize;
    let mut on_frame = |_: &App, drawn: tokio::time::Instant| {
        let drawn: Instant = drawn.into_std();
        let upto = consumed.load(Ordering::SeqCst);
        let q = injected.lock().expect("lock");
        while measured < upto {
            if let Some(t) = q.get(measured) {
                latencies.push(drawn.saturating_duration_since(*t));
            }
            measured += 1;
        }
    };
    let done = |a: &App| a.stats().msgs_in >= n;
    let mut hooks = wsmon::tui::Hooks {
        on_frame: Some(&mut on_frame),
        done: Some(&done),
    };
    wsmon::tui::drive(
        &mut app,
        &mut events,
        &mut session,
        &mut terminal,
        &mut keys,
        std::future::pending(),
        &mut hooks,
    )
    .await
    .expect("drive");
    let took = t0.elapsed();
    assert!(app.stats().msgs_in >= n, "the dashboard got every message");
    injector.abort();
    drop(events);
    task.abort();
    (took, latencies)
}

// ---- processes in a terminal ----------------------------------------------------------------

/// A private tmux server running one command.
struct Tmux(String);

impl Tmux {
    fn start(cmd: &str) -> Tmux {
        let name = format!("wsmon-bench-{}-{}", std::process::id(), rand_suffix());
        let ok = Proc::new("tmux")
            .args([
                "-L",
                &name,
                "new-session",
                "-d",
                "-s",
                "b",
                "-x",
                "120",
                "-y",
                "40",
                cmd,
            ])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "tmux is needed for the idle, memory and start-up measurements"
        );
        Tmux(name)
    }

    fn screen(&self) -> String {
        let out = Proc::new("tmux")
            .args(["-L", &self.0, "capture-pane", "-p", "-t", "b"])
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane_pid(&self) -> u32 {
        let out = Proc::new("tmux")
            .args([
                "-L",
                &self.0,
                "display-message",
                "-p",
                "-t",
                "b",
                "#{pane_pid}",
            ])
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("pane pid")
    }

    fn wait_for(&self, needle: &str, patience: Duration) -> bool {
        let t0 = Instant::now();
        while t0.elapsed() < patience {
            if self.screen().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Proc::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .status();
    }
}

fn rand_suffix() -> u32 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

fn clock_ticks() -> f64 {
    Proc::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds (user + system) used by a process so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / clock_ticks()
}

/// Resident set size in KiB.
fn rss_kib(pid: u32) -> f64 {
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

async fn idle_cost(bin: &Path, secs: u64) -> (f64, f64) {
    let srv = Server::start(ServeOptions {
        port: 0,
        ..Default::default()
    })
    .await
    .expect("server");
    let t = Tmux::start(&dashboard_cmd(bin, &srv.url()));
    assert!(
        t.wait_for("OPEN", Duration::from_secs(10)),
        "the dashboard opened"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = t.pane_pid();
    let before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu = cpu_seconds(pid) - before;
    (cpu, rss_kib(pid))
}

async fn full_log_rss(bin: &Path, size: usize, keep: usize) -> f64 {
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
    let t = Tmux::start(&dashboard_cmd(bin, &args));
    let kept = format!("{} kept", wsmon::tui::text::count(keep as u64));
    assert!(
        t.wait_for(&kept, Duration::from_secs(60)),
        "the log filled:\n{}",
        t.screen()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    rss_kib(t.pane_pid())
}

async fn startup(bin: &Path, runs: usize) -> Vec<Duration> {
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

// ---- render ---------------------------------------------------------------------------------

/// A dashboard state with `count` messages of about 100 bytes folded in; returns it and the
/// time the folding took (batches made beforehand, as the engine hands them over).
fn filled_app(count: usize, capacity: usize) -> (App, Duration) {
    let mut opts = ui_options();
    opts.log_capacity = capacity;
    let mut app = App::new(opts);
    let at = SystemTime::now();
    let payload = Bytes::from_static(br#"{"type":"tick","seq":123456,"price":101.25,"ts":"2026-11-25T18:00:00.000Z","pad":"xxxxxxx"}"#);
    let batches: Vec<Vec<Stamped>> = (0..count)
        .map(|_| Stamped {
            at,
            event: Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data: payload.clone(),
                id: 0,
            }),
        })
        .collect::<Vec<_>>()
        .chunks(1024)
        .map(<[Stamped]>::to_vec)
        .collect();
    let t0 = Instant::now();
    for b in &batches {
        app.apply(b);
    }
    (app, t0.elapsed())
}

/// Average time to lay out and draw one 120x40 frame with `count` messages in the log.
fn render_cost(count: usize, filter_events: bool, paused: bool) -> Duration {
    let (mut app, _) = filled_app(count, count.max(100));
    let at = SystemTime::now();
    app.now = at;
    if filter_events {
        for _ in 0..3 {
            app.on_terminal(&TermEvent::Key(KeyEvent::new(
                KeyCode::Char('f'),
                KeyModifiers::NONE,
            )));
        }
    }
    if paused {
        app.selected = Some(app.log.first_seq() + app.log.len() as u64 / 2);
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let mut draw = |app: &mut App| {
        wsmon::tui::prepare(app, area);
        terminal
            .draw(|f| f.render_widget(&*app, f.area()))
            .expect("draw");
    };
    for _ in 0..20 {
        draw(&mut app);
    }
    let frames = 200;
    let t0 = Instant::now();
    for _ in 0..frames {
        draw(&mut app);
    }
    t0.elapsed() / frames
}

// ---- reaction times -------------------------------------------------------------------------

/// How long after its scheduled dial time the connection is open again, after server restarts.
async fn reconnect_overhead(rounds: usize) -> Vec<Duration> {
    let mut out = Vec::new();
    let srv = Server::start(ServeOptions {
        port: 0,
        ..Default::default()
    })
    .await
    .expect("server");
    let port = srv.addr().port();
    let mut settings = ConnSettings::new(Target::parse(&srv.url()).expect("url"));
    settings.reconnect_min = Duration::from_millis(200);
    settings.reconnect_max = Duration::from_millis(200);
    settings.ping_interval = None;
    // Holding `commands` keeps the engine running (dropping it means shut down).
    let Engine {
        commands: _commands,
        mut events,
        task: _task,
    } = Engine::spawn(settings);
    let mut srv = Some(srv);
    let mut scheduled: Option<SystemTime> = None;
    while out.len() < rounds {
        let Some(batch) = events.recv().await else {
            break;
        };
        for s in batch.iter() {
            match &s.event {
                Event::Open(_) => {
                    if let Some(when) = scheduled.take() {
                        out.push(s.at.duration_since(when).unwrap_or_default());
                    }
                    // Take the server away; it comes back before the next dial.
                    if let Some(old) = srv.take() {
                        old.kill().await;
                    }
                }
                Event::Retry { delay, .. } => {
                    scheduled = Some(s.at + *delay);
                    srv = Some(
                        Server::start(ServeOptions {
                            port,
                            ..Default::default()
                        })
                        .await
                        .expect("restart"),
                    );
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// How long beyond ping_interval + pong_timeout a silent peer is declared dead.
async fn dead_peer_overhead(rounds: usize) -> Vec<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                held.push(ws);
            }
        }
    });
    let mut settings = ConnSettings::new(Target::parse(&format!("ws://{addr}/")).expect("url"));
    settings.ping_interval = Some(Duration::from_millis(500));
    settings.pong_timeout = Duration::from_millis(500);
    settings.reconnect_min = Duration::from_millis(10);
    settings.reconnect_max = Duration::from_millis(10);
    let Engine {
        commands: _commands,
        mut events,
        task: _task,
    } = Engine::spawn(settings);
    let mut out = Vec::new();
    let mut opened = None;
    while out.len() < rounds {
        let Some(batch) = events.recv().await else {
            break;
        };
        for s in batch.iter() {
            match &s.event {
                Event::Open(_) => opened = Some(s.at),
                Event::Closed(c) if c.by == ClosedBy::Heartbeat => {
                    if let Some(o) = opened.take() {
                        let took = s.at.duration_since(o).unwrap_or_default();
                        out.push(took.saturating_sub(Duration::from_millis(1000)));
                    }
                }
                _ => {}
            }
        }
    }
    holder.abort();
    out.sort();
    out
}

// ---- helpers --------------------------------------------------------------------------------

async fn median<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let mut v = Vec::new();
    for _ in 0..runs {
        v.push(f().await);
    }
    v.sort();
    v[v.len() / 2]
}

fn pct(sorted: &[Duration], q: f64) -> Duration {
    assert!(!sorted.is_empty(), "a measurement produced no samples");
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn human_count(n: impl Into<u64>) -> String {
    let n = n.into();
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn human_size(n: usize) -> String {
    if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} B")
    }
}

fn human_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.0}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn print_table(opts: &Opts, rows: &[Row]) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "wsmon-bench {}{}: {cores} cores ({cpu}), Linux {}, websocat: {}\n",
        env!("CARGO_PKG_VERSION"),
        if opts.quick { " --quick" } else { "" },
        kernel.trim(),
        opts.websocat
            .as_ref()
            .map_or("not installed".to_string(), |p| p.display().to_string())
    );
    println!("| measurement | result | budget | |\n|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.what, r.value, r.budget, r.verdict
        );
    }
}
