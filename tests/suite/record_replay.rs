//! Recording, replay and the report, against real servers with the real binary.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::bin::{Lines, is, wsmon};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use wsmon::jsonl::{Line, decode};
use wsmon::server::{ServeOptions, Server};

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Headless output without the lines it derives from the events (`health`, `pattern`,
/// `summary`): what a recording holds.
fn underived(lines: Vec<Value>) -> Vec<Value> {
    lines
        .into_iter()
        .filter(|v| !["health", "pattern", "summary"].contains(&v["event"].as_str().unwrap_or("")))
        .collect()
}

fn events_of(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event"] != "recording")
        .collect()
}

async fn run_to_end(args: &[&str]) -> (i32, String, String) {
    let out = wsmon(args).output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A session with a flood, a drop and reconnect, a 401, and a recovery: recorded by the real
/// binary, then replayed headless and compared line for line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_replays_to_the_same_events_and_loses_nothing() {
    const FLOOD: u64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.jsonl");
    let a = common::server(ServeOptions {
        flood: FLOOD,
        flood_size: 100,
        drop_after: Some(Duration::from_millis(1500)),
        ..Default::default()
    })
    .await;
    let port = a.addr().port();
    let url = a.url();
    let mut w = Lines::spawn(&[
        "--headless",
        "--record",
        rec.to_str().unwrap(),
        "--reconnect-min",
        "100ms",
        "--reconnect-max",
        "300ms",
        &url,
    ]);
    w.until("open", is("open")).await;
    w.until("closed by the server", |v| {
        v["event"] == "closed" && v["code"] == 1012
    })
    .await;
    a.kill().await;
    // Now the upgrade is refused with 401 and a body.
    let b = common::restart::server_on(
        port,
        ServeOptions {
            reject: Some(401),
            reject_body: Some("token expired".into()),
            ..Default::default()
        },
    )
    .await;
    w.until("401", |v| v["event"] == "error" && v["status"] == 401)
        .await;
    b.kill().await;
    let c = common::restart::server_on(port, ServeOptions::default()).await;
    w.until("reopen", is("open")).await;
    let mut stdin = w.child.stdin.take().unwrap();
    stdin.write_all(b"after the outage\n").await.unwrap();
    w.until("echo", |v| {
        v["event"] == "recv" && v["data"] == "after the outage"
    })
    .await;
    w.signal("-TERM").await;
    let (code, printed, _) = w.finish().await;
    assert_eq!(code, 0);
    drop(c);

    common::assert_private(&rec);
    let lines = read_lines(&rec);
    assert!(
        lines[0].contains("\"event\":\"recording\""),
        "a header line first"
    );
    let recorded = events_of(&lines);
    // Every message the server flooded is in the file, in order.
    let floods: Vec<&Value> = recorded
        .iter()
        .filter(|v| v["event"] == "recv" && v["len"] == 100)
        .collect();
    assert_eq!(
        floods.len() as u64,
        FLOOD,
        "every received message is recorded"
    );
    for (i, v) in floods.iter().enumerate() {
        let expected = wsmon::server::flood_payload(i as u64 + 1, 100);
        assert_eq!(
            v["data"].as_str().unwrap().as_bytes(),
            &expected[..],
            "message {i} in order"
        );
    }
    // The file holds exactly what was printed (the same events, the same lines), besides the
    // lines headless derives from them.
    let printed = underived(printed);
    assert_eq!(recorded, printed, "the recording is the headless output");
    let names: Vec<&str> = recorded
        .iter()
        .map(|v| v["event"].as_str().unwrap())
        .filter(|n| *n != "recv")
        .collect();
    for needed in ["connecting", "open", "closed", "retry", "error", "sent"] {
        assert!(names.contains(&needed), "{needed} recorded: {names:?}");
    }

    // Replayed headless at full speed: the same events.
    let (code, out, err) = run_to_end(&[
        "replay",
        rec.to_str().unwrap(),
        "--headless",
        "--speed",
        "0",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let replayed = underived(
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    );
    assert_eq!(
        replayed, recorded,
        "replay gives back the recorded sequence"
    );
    assert!(err.contains("events replayed, 0 lines skipped"), "{err}");

    // The report has every section.
    let (code, md, err) = run_to_end(&["report", rec.to_str().unwrap(), "-o", "-"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        md.starts_with("# 1 drop in ")
            && md
                .lines()
                .next()
                .unwrap()
                .ends_with(": server 1012 service restart"),
        "the verdict first:\n{md}"
    );
    for section in [
        "endpoint        ws://127.0.0.1:",
        "stopped: a signal (SIGTERM, SIGINT or SIGHUP)",
        "drops           1: server 1012 service restart",
        "failed dials    1: HTTP 401",
        "## Outages",
        ": 1012 → HTTP 401 → open |",
        "## Summary",
        "| state at the end | OPEN until wsmon stopped",
        "| connects / reconnects / drops | 2 / 1 / 1 |",
        "## Evidence",
        "### Last failure",
        "### Connection and TLS",
        "### Connections and dial timings",
        "server 1012 service restart after 1.",
        "HTTP/1.1 401 Unauthorized",
        "Content-Type: text/plain",
        "token expired",
        "### Round-trip time",
        "### Drops by culprit",
        "| the server | 1012 | service restart | 1 |",
        "Message payloads are left out",
    ] {
        assert!(md.contains(section), "report lacks {section:?}:\n{md}");
    }
    // The server drops after 1.5 s of its own clock; a busy machine reads the flood later.
    let up = md
        .lines()
        .find_map(|l| l.split_once(" up | down "))
        .and_then(|(before, _)| before.rsplit("| ").next())
        .and_then(|d| d.trim_end_matches('s').parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no outage row with the time up before it:\n{md}"));
    assert!((1.5..3.0).contains(&up), "up {up}s before the drop:\n{md}");
    assert!(!md.contains("after the outage"), "no payloads:\n{md}");
    assert!(
        !md.contains("not probed for"),
        "wsmon's own stop is not an outage:\n{md}"
    );
    let (code, md, _) =
        run_to_end(&["report", rec.to_str().unwrap(), "--payloads", "-o", "-"]).await;
    assert_eq!(code, 0);
    assert!(md.contains("after the outage"), "with --payloads:\n{md}");
    let out = dir.path().join("ticket.md");
    let (code, _, err) =
        run_to_end(&["report", rec.to_str().unwrap(), "-o", out.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    common::assert_private(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_and_truncated_lines_are_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("r.jsonl");
    let good =
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"recv","kind":"text","len":2,"data":"ok"}"#;
    let text = [
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"connecting","attempt":1,"url":"ws://h/"}"#,
        good,
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"recv","kind":"te"#,
        "garbage that is not JSON",
        good,
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"warp_drive"}"#,
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"recv","kind":"text","len":2,"da"#,
    ]
    .join("\n");
    std::fs::write(&rec, text).unwrap();
    let (code, out, err) = run_to_end(&[
        "replay",
        rec.to_str().unwrap(),
        "--headless",
        "--speed",
        "0",
    ])
    .await;
    assert_eq!(code, 0);
    let engine_lines = out
        .lines()
        .filter(|l| !l.contains("\"event\":\"stopped\"") && !l.contains("\"event\":\"summary\""))
        .count();
    assert_eq!(engine_lines, 3, "the good lines replay: {out}");
    assert!(
        out.lines()
            .last()
            .is_some_and(|l| l.contains("\"event\":\"summary\"")),
        "a replay's output ends with its summary: {out}"
    );
    assert!(err.contains("line 3: not valid JSON"), "{err}");
    assert!(err.contains("line 4: not valid JSON"), "{err}");
    assert!(err.contains("line 6: unknown event `warp_drive`"), "{err}");
    assert!(
        err.contains("line 7:") && err.contains("cut short"),
        "{err}"
    );
    assert!(err.contains("3 events replayed, 4 lines skipped"), "{err}");
    let (code, md, err) = run_to_end(&["report", rec.to_str().unwrap(), "-o", "-"]).await;
    assert_eq!(code, 0);
    assert!(md.contains("4 corrupt lines skipped"), "{md}");
    assert!(err.contains("line 3"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_parts_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rot.jsonl");
    let srv = common::server(ServeOptions {
        flood: 5_000,
        flood_size: 100,
        ..Default::default()
    })
    .await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--record",
        rec.to_str().unwrap(),
        "--record-max-bytes",
        "64KiB",
        "--record-keep",
        "3",
        &srv.url(),
    ]);
    let mut got = 0;
    w.until("the flood", |v| {
        if v["event"] == "recv" {
            got += 1;
        }
        got == 5_000
    })
    .await;
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
    let mut parts = vec![rec.clone()];
    for i in 1..=3 {
        parts.push(dir.path().join(format!("rot.jsonl.{i}")));
    }
    for p in &parts {
        let size = std::fs::metadata(p)
            .unwrap_or_else(|_| panic!("{} exists", p.display()))
            .len();
        assert!(size <= 64 << 10, "{} is {size} bytes", p.display());
        assert!(
            read_lines(p)[0].contains("\"recording\""),
            "each part starts with a header"
        );
    }
    assert!(
        !dir.path().join("rot.jsonl.4").exists(),
        "only 3 rotated parts are kept"
    );
    // The newest parts hold the newest messages, in order across parts.
    let mut seqs = Vec::new();
    for p in parts.iter().rev() {
        for v in events_of(&read_lines(p)) {
            if v["event"] == "recv" {
                seqs.push(v["data"].as_str().unwrap()[..16].parse::<u64>().unwrap());
            }
        }
    }
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous across parts"
    );
    assert_eq!(*seqs.last().unwrap(), 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_error_is_reported_and_monitoring_goes_on() {
    if !Path::new("/dev/full").exists() {
        panic!("this test needs /dev/full to simulate a full disk");
    }
    let srv = common::server(ServeOptions {
        tick: Some(Duration::from_millis(50)),
        ..Default::default()
    })
    .await;
    let mut w = Lines::spawn(&["--headless", "--record", "/dev/full", &srv.url()]);
    w.until("open", is("open")).await;
    for _ in 0..40 {
        w.until("ticks keep coming", is("recv")).await;
    }
    w.signal("-TERM").await;
    let (code, _, err) = w.finish().await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("cannot write /dev/full: the disk is full; monitoring goes on"),
        "{err}"
    );
    assert!(
        err.contains("events could not be written to /dev/full"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_removed_while_open_is_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("gone.jsonl");
    let srv = common::echo_server().await;
    let mut w = Lines::spawn(&["--headless", "--record", rec.to_str().unwrap(), &srv.url()]);
    w.until("open", is("open")).await;
    std::fs::remove_file(&rec).unwrap();
    // The recorder looks once a second; it starts a new file when it sees the old one gone.
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while !rec.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the recording was never recreated"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut stdin = w.child.stdin.take().unwrap();
    stdin
        .write_all(b"written after the removal\n")
        .await
        .unwrap();
    w.until("echo", is("recv")).await;
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
    let text = std::fs::read_to_string(&rec).expect("recreated");
    assert!(text.contains("written after the removal"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_flushes_everything_received() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("hup.jsonl");
    let srv = common::server(ServeOptions {
        flood: 10_000,
        flood_size: 64,
        ..Default::default()
    })
    .await;
    let mut w = Lines::spawn(&["--headless", "--record", rec.to_str().unwrap(), &srv.url()]);
    let mut got = 0;
    w.until("the flood", |v| {
        got += u64::from(v["event"] == "recv");
        got == 10_000
    })
    .await;
    w.signal("-HUP").await;
    assert_eq!(w.finish().await.0, 0);
    let recorded = events_of(&read_lines(&rec))
        .iter()
        .filter(|v| v["event"] == "recv")
        .count();
    assert_eq!(recorded, 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_send_reproduces_the_outgoing_messages() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("sent.jsonl");
    let lines = [
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"sent","kind":"text","len":3,"id":1,"data":"one"}"#,
        r#"{"ts":"2026-11-25T12:00:00.200Z","event":"recv","kind":"text","len":3,"data":"one"}"#,
        r#"{"ts":"2026-11-25T12:00:00.300Z","event":"sent","kind":"binary","len":2,"id":2,"base64":"AAE="}"#,
        r#"{"ts":"2026-11-25T12:00:00.500Z","event":"sent","kind":"text","len":5,"id":3,"data":"three"}"#,
    ];
    std::fs::write(&rec, lines.join("\n") + "\n").unwrap();
    let srv = Server::start(ServeOptions {
        keep_texts: 1000,
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let (code, out, err) = run_to_end(&[
        "replay",
        rec.to_str().unwrap(),
        "--send",
        &srv.url(),
        "--linger",
        "300ms",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the original spacing is kept"
    );
    assert_eq!(srv.stats().texts(), ["one", "three"]);
    assert_eq!(
        srv.stats()
            .received
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );
    let echoed: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["event"] == "recv")
        .collect();
    assert_eq!(echoed.len(), 3, "the answers are printed: {out}");
}

#[test]
fn the_decoder_accepts_what_the_header_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let path = dir.path().join("h.jsonl");
    rt.block_on(async {
        let header = wsmon::jsonl::RecordHeader {
            tool: String::new(),
            url: "wss://h/?token=***".into(),
            headers: vec![("Authorization".into(), "***".into())],
            subprotocols: vec!["v1".into()],
            ping_interval_ms: 15000,
            pong_timeout_ms: 10000,
            preset: Some("graphql-ws".into()),
            app_ping: Some(r#"{"type":"ping"}"#.into()),
            stale_after_ms: 30_000,
        };
        let r = wsmon::record::Recorder::start(wsmon::record::RecordOptions {
            path: path.clone(),
            max_bytes: 0,
            keep: 1,
            header: header.clone(),
        })
        .unwrap();
        let s = r
            .finish(
                wsmon::engine::StopReason::Quit,
                std::time::SystemTime::now(),
            )
            .await;
        assert_eq!(s.events, 1, "the `stopped` line that ends it");
        let text = std::fs::read_to_string(&path).unwrap();
        match decode(text.lines().next().unwrap()).unwrap() {
            Line::Header(_, h) => assert_eq!(
                h,
                wsmon::jsonl::RecordHeader {
                    tool: format!("wsmon {}", env!("CARGO_PKG_VERSION")),
                    ..header
                }
            ),
            other => panic!("{other:?}"),
        }
    });
}

/// A replay's clocks stop at the recording's last event, the title says it ended, and the
/// footer says where the replay is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_stops_its_clocks_at_the_end_and_says_where_it_is() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use wsmon::session::{Session, SessionOptions};
    use wsmon::tui::app::{App, UiOptions};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.jsonl");
    // Ten seconds of a connection: open at :00, messages at :01 and :10, nothing after.
    let lines = [
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"recording","tool":"wsmon","url":"ws://h/","headers":{},"subprotocols":[],"ping_interval_ms":0,"pong_timeout_ms":0}"#,
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"connecting","attempt":1,"url":"ws://h/"}"#,
        r#"{"ts":"2026-11-25T12:00:00.010Z","event":"open","attempt":1,"dns_ms":0.1,"tcp_ms":0.2,"proxy_ms":null,"tls_ms":null,"handshake_ms":0.3,"remote":"127.0.0.1:1","proxy":null,"subprotocol":null,"tls_version":null}"#,
        r#"{"ts":"2026-11-25T12:00:01.000Z","event":"recv","kind":"text","len":5,"data":"first"}"#,
        r#"{"ts":"2026-11-25T12:00:10.010Z","event":"recv","kind":"text","len":4,"data":"last"}"#,
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let player = wsmon::replay::play(&path, 0.0, false).await.unwrap();
    let header = match decode(lines[0]).unwrap() {
        Line::Header(_, h) => h,
        other => panic!("{other:?}"),
    };
    let mut session = Session::replay(player, path.display().to_string(), Default::default());
    let mut app = App::new(UiOptions::replay(&SessionOptions::default(), header, &path));
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
    let mut keys = futures_util::stream::pending();
    let ended = |a: &App| {
        (a.log.first_seq()..a.log.end_seq()).any(|s| {
            a.log
                .get(s)
                .is_some_and(|e| e.data.starts_with(b"end of the recording"))
        })
    };
    let mut hooks = wsmon::tui::Hooks {
        on_frame: None,
        done: Some(&ended),
    };
    wsmon::tui::drive(
        &mut app,
        &mut session,
        &mut terminal,
        &mut keys,
        std::future::pending(),
        &mut hooks,
    )
    .await
    .unwrap();
    let screen = |app: &mut App, session: &Session, terminal: &mut Terminal<TestBackend>| {
        app.now = session.now();
        let p = session.player().unwrap();
        app.replay = Some(wsmon::tui::app::ReplayView {
            speed: p.clock.speed(),
            paused: p.clock.paused(),
            at: p.progress.position(),
        });
        wsmon::tui::prepare(app, terminal.get_frame().area());
        terminal.draw(|f| f.render_widget(&*app, f.area())).unwrap();
        terminal
            .backend()
            .buffer()
            .content
            .iter()
            .map(|c| c.symbol())
            .collect::<String>()
    };
    let first = screen(&mut app, &session, &mut terminal);
    assert!(first.contains("REPLAY ENDED"), "{first}");
    assert!(
        first.contains("up 10s "),
        "the uptime at the last event: {first}"
    );
    assert!(
        first.contains("ended: 4 events replayed · 10.0s of 10.0s"),
        "{first}"
    );
    assert!(!first.contains("F4"), "no live keys in the footer: {first}");
    // An hour of the dashboard's ticks later, by the wall clock: the replay's clock stands
    // at the last event, so nothing moves (no sleep needed to show it).
    let ended_at = session.now();
    for s in 1..=3600 {
        app.tick(std::time::SystemTime::now() + Duration::from_secs(s));
    }
    assert_eq!(
        session.now(),
        ended_at,
        "the replay's clock stands at its end"
    );
    let later = screen(&mut app, &session, &mut terminal);
    assert_eq!(first, later, "nothing moves after the end of the recording");
}
