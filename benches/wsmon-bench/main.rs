//! wsmon-bench: measures what the performance budgets are about and prints one table.
//!
//! Ingest throughput side by side (a minimal tokio-tungstenite read loop, `wsmon --headless`,
//! the dashboard's engine and loop drawing into a TestBackend at 30 fps, and websocat when it is
//! installed), key-to-frame latency under a flood, idle CPU and RSS, RSS with a full log, frame
//! time against log length, reconnect and dead-peer reaction times, fleets of 1,000 and 10,000
//! endpoints idle and of 1,000 with traffic (CPU, RSS, reconnects after a server restart), and
//! exec-to-first-frame.
//! The real binary is measured where a process matters (headless, idle, memory, start-up).
//! It is a benchmark target, not a binary, so `cargo install` does not ship it:
//!
//!     cargo bench --bench wsmon-bench                       # everything (about 7 min)
//!     cargo bench --bench wsmon-bench -- --quick            # smaller and shorter
//!     cargo bench --bench wsmon-bench -- --only ingest,render   # some sections

// A counting allocator (render.rs) measures the heap a message costs: the benchmark's one
// unsafe code. Its items are `pub` for the smoke test that includes it as a module.
#![allow(unsafe_code, unreachable_pub)]

mod fleet;
mod ingest;
mod probe;
mod process;
mod reaction;
mod render;
// The tests' server restart on a port just left.
#[path = "../../tests/suite/common/restart.rs"]
mod restart;
// The tests' tmux harness; the benchmark uses only part of it.
#[allow(dead_code)]
#[path = "../../tests/suite/common/tmux.rs"]
mod tmux;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fleet::{BIG_FLEET, FLEET, FleetRun, fleet_cost};
use ingest::{headless_process, minimal_loop, tui_loop, websocat_process};
use process::terminal_ingest;
use process::{full_log_rss, idle_cost, startup};
use reaction::{dead_peer_overhead, reconnect_overhead, stalled_writer_verdict};
use render::{View, filled_app, heap_per_message, render_cost};

/// What to run.
pub struct Opts {
    /// Smaller and shorter runs.
    pub quick: bool,
    /// Only these sections.
    pub only: Option<Vec<String>>,
    /// The wsmon binary measured as a process.
    pub wsmon: PathBuf,
    /// websocat, for the peer rows.
    pub websocat: Option<PathBuf>,
}

/// A line of the table.
pub struct Row {
    /// What was measured.
    pub what: String,
    /// The figure.
    pub value: String,
    /// What it should be.
    pub budget: String,
    /// ok, MISSED, or nothing when there is no budget.
    pub verdict: &'static str,
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
    // The allocator settings of the wsmon binary, so the in-process loops are timed as it runs.
    wsmon::app::keep_freed_memory();
    let mut args = std::env::args().skip(1);
    let mut opts = Opts {
        quick: false,
        only: None,
        // Cargo builds the binary with the same profile as the benchmark (release).
        wsmon: PathBuf::from(env!("CARGO_BIN_EXE_wsmon")),
        websocat: which("websocat"),
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            // `cargo bench` passes --bench to every benchmark target.
            "--bench" => {}
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
                    "usage: wsmon-bench [--quick] [--only ingest,terminal,latency,idle,memory,render,reaction,fleet,fleet10k,traffic,probe,startup] [--wsmon PATH] [--websocat PATH | --no-websocat]"
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
            "wsmon-bench: no wsmon binary at {}: run it with cargo bench --bench wsmon-bench, or pass --wsmon PATH",
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
    print!("{}", table(&opts, &rows));
    rt.shutdown_timeout(Duration::from_secs(1));
    ExitCode::SUCCESS
}

pub fn wants(opts: &Opts, section: &str) -> bool {
    opts.only
        .as_ref()
        .is_none_or(|o| o.iter().any(|s| s == section))
}

pub async fn run(opts: &Opts) -> Vec<Row> {
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
                if size == 100 { ">= 70% of minimal" } else { "" },
                (size == 100).then_some(tui_share >= 0.7),
            ));
            let ws_rate = websocat.map(rate);
            rows.push(row(
                format!("ingest {label}: wsmon --headless > /dev/null"),
                match ws_rate {
                    Some(w) => format!("{} = {:.1}x websocat", show(headless), rate(headless) / w),
                    None => show(headless),
                },
                if size == 100 {
                    ">= 2x websocat"
                } else {
                    ">= 1.5x websocat"
                },
                ws_rate.map(|w| rate(headless) >= if size == 100 { 2.0 } else { 1.5 } * w),
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
                    "p99 <= 16 ms",
                    Some(p99 <= Duration::from_millis(16)),
                ));
            }
        }
    }
    if wants(opts, "ingest") || wants(opts, "terminal") {
        // What a user sees: the dashboard in a real terminal, from launch to the last message
        // on screen, best of three, against the minimal loop's best of three in the same run.
        let n = if opts.quick { 600_000 } else { 3_000_000 };
        let best = |mut v: Vec<Duration>| {
            v.sort();
            v[0]
        };
        let mut minimal = Vec::new();
        let mut terminal = Vec::new();
        for _ in 0..3 {
            minimal.push(minimal_loop(n, 100).await);
            terminal.push(terminal_ingest(&opts.wsmon, n, 100).await);
        }
        let (minimal, terminal) = (best(minimal), best(terminal));
        let share = minimal.as_secs_f64() / terminal.as_secs_f64();
        rows.push(row(
            format!(
                "ingest {} x 100 B: dashboard in a real terminal (tmux 120x40, launch to the last message on screen, best of 3)",
                human_count(n)
            ),
            format!(
                "{:.3} s = {:.0}% of minimal ({:.3} s)",
                terminal.as_secs_f64(),
                share * 100.0,
                minimal.as_secs_f64()
            ),
            ">= 70% of minimal",
            Some(share >= 0.7),
        ));
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
            "<= 10 MB",
            Some(rss <= 10.0 * 1024.0),
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
        for (label, view) in [
            ("following", View::Following),
            ("paused mid-log", View::Paused),
            ("filter: events only", View::Events),
            ("text filter (Ctrl-G), every row matching", View::Grep),
        ] {
            let small = render_cost(10, view);
            let screenful = render_cost(1000, view);
            let large = render_cost(big, view);
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
        let stall = stalled_writer_verdict(if opts.quick { 3 } else { 10 }).await;
        rows.push(row(
            format!(
                "peer stops reading while 32 MiB are sent: verdict after OPEN (max of {})",
                stall.len()
            ),
            format!(
                "p50 {} / max {}",
                ms(pct(&stall, 0.5)),
                ms(pct(&stall, 1.0))
            ),
            "<= 1 s (ping_interval + pong_timeout)",
            Some(pct(&stall, 1.0) <= Duration::from_secs(1)),
        ));
    }
    let secs = if opts.quick { 15 } else { 60 };
    let mut runs = Vec::new();
    for (section, n, tick) in [
        ("fleet", FLEET, None),
        ("fleet10k", BIG_FLEET, None),
        ("traffic", FLEET, Some(Duration::from_millis(100))),
    ] {
        if wants(opts, section) {
            for dashboard in [false, true] {
                runs.push(FleetRun {
                    n,
                    secs,
                    dashboard,
                    tick,
                });
            }
        }
    }
    for run in &runs {
        let f = fleet_cost(&opts.wsmon, run).await;
        let n = run.n;
        let mode = if run.dashboard {
            "dashboard"
        } else {
            "--headless"
        };
        let what = match run.tick {
            Some(t) => format!("fleet of {n} x {} msg/s", (1.0 / t.as_secs_f64()).round()),
            None => format!("fleet of {n}"),
        };
        let (cpu_budget, mb_budget) = match (n, run.tick, run.dashboard) {
            (_, Some(_), _) => (None, None),
            (BIG_FLEET, None, false) => (Some(3.0), Some(200.0)),
            (BIG_FLEET, None, true) => (Some(4.0), Some(200.0)),
            _ => (Some(2.0), Some(150.0)),
        };
        let budget_15s = n == BIG_FLEET;
        rows.push(row(
            format!("{what}, heartbeat 15 s, {mode}: all open after start"),
            format!("{} (staggered over {})", ms(f.all_open), ms(f.open_spread)),
            if budget_15s { "<= 15 s" } else { "" },
            budget_15s.then(|| f.all_open <= Duration::from_secs(15)),
        ));
        let share = f.cpu / run.secs as f64 * 100.0;
        let mb = f.rss_kib / 1024.0;
        rows.push(row(
            format!("{what}, {mode}, {} s: CPU; RSS", run.secs),
            format!("{share:.2}% of a core; {mb:.1} MB"),
            match (cpu_budget, mb_budget) {
                (Some(c), Some(m)) => format!("<= {c}% of a core; <= {m} MB"),
                _ => String::new(),
            },
            cpu_budget
                .zip(mb_budget)
                .map(|(c, m)| share <= c && mb <= m),
        ));
        rows.push(row(
            format!("{what}, {mode}: server restart, reconnects"),
            format!(
                "all back in {}; at most {} in any 100 ms",
                ms(f.back_after),
                f.peak_per_100ms
            ),
            if budget_15s {
                "<= 15 s, not in lockstep"
            } else {
                "not in lockstep"
            },
            Some(
                f.peak_per_100ms < n as u64 / 2
                    && (!budget_15s || f.back_after <= Duration::from_secs(15)),
            ),
        ));
    }
    if wants(opts, "probe") {
        let n = if opts.quick { 200 } else { 1000 };
        let p = probe::probe_cost(&opts.wsmon, n).await;
        let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
        rows.push(row(
            format!(
                "/probe of a local server, {} one at a time: median answer; a bare dial+ping+close",
                p.n
            ),
            format!(
                "{}; {} (overhead {})",
                us(p.probe),
                us(p.bare),
                us(p.probe.saturating_sub(p.bare))
            ),
            "",
            None,
        ));
        rows.push(row(
            "/probe: wsmon CPU per probe; 64 at once: probes a second; RSS before, peak",
            format!(
                "{}; {:.0}/s; {:.1} MB, {:.1} MB",
                us(p.cpu_per_probe),
                p.parallel_rate,
                p.rss_before / 1024.0,
                p.rss_peak / 1024.0
            ),
            "",
            None,
        ));
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

/// The table as printed: the machine, then one row per measurement.
pub fn table(opts: &Opts, rows: &[Row]) -> String {
    use std::fmt::Write as _;
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
    let mut out = format!(
        "wsmon-bench {}{}: {cores} cores ({cpu}), Linux {}, websocat: {}\n\n",
        env!("CARGO_PKG_VERSION"),
        if opts.quick { " --quick" } else { "" },
        kernel.trim(),
        opts.websocat
            .as_ref()
            .map_or("not installed".to_string(), |p| p.display().to_string())
    );
    out.push_str("| measurement | result | budget | |\n|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.what, r.value, r.budget, r.verdict
        );
    }
    out
}
