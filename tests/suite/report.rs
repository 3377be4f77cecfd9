//! The report is written the same way from a live session and from its recording: the same
//! events, folded live or read back from JSON lines, give the same text.

use crate::common;

use std::time::Duration;

use common::{Probe, fast};
use wsmon::engine::{Dir, Event};
use wsmon::jsonl::{Encoder, Item, Reader, RecordHeader};
use wsmon::report::{ReportBuilder, Source, html, markdown};
use wsmon::server::ServeOptions;

/// The report without the line that says when and from what it was made, digits left out:
/// a recording keeps times to the millisecond and durations to the microsecond, so a figure
/// may round differently; the words, their order and their case must not differ.
fn body(md: &str) -> String {
    md.lines()
        .filter(|l| !l.contains("Generated "))
        .map(|l| l.replace(|c: char| c.is_ascii_digit(), "#"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_and_recorded_reports_are_the_same() {
    // A server that closes each connection after 300 ms, then one that refuses with an HTML
    // page, then one that stays.
    let a = common::server(ServeOptions {
        drop_after: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .await;
    let port = a.addr().port();
    let mut s = fast(&a.url());
    s.ping_interval = Some(Duration::from_millis(100));
    let mut p = Probe::start(s);
    for _ in 0..3 {
        p.until("a drop", |e| matches!(e, Event::Closed(_))).await;
    }
    a.kill().await;
    let b = common::restart::server_on(port, ServeOptions {
        reject: Some(503),
        reject_body: Some(
            "<html><head><title>503 Service Unavailable</title></head><body><h1>Down for maintenance</h1></body></html>".into(),
        ),
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        p.until(
            "a refusal",
            |e| matches!(e, Event::Error(f) if f.http.is_some()),
        )
        .await;
    }
    b.kill().await;
    let c = common::restart::server_on(port, ServeOptions::default()).await;
    p.until("open again", |e| matches!(e, Event::Open(_))).await;
    p.send_text("hello").await;
    p.until(
        "the echo",
        |e| matches!(e, Event::Message(m) if m.dir == Dir::In),
    )
    .await;
    let log = p.shutdown().await;
    drop(c);

    let header = RecordHeader {
        url: format!("ws://127.0.0.1:{port}/"),
        ping_interval_ms: 100,
        pong_timeout_ms: 10_000,
        ..Default::default()
    };
    let mut live = ReportBuilder::new(header.clone());
    let mut enc = Encoder::new();
    let mut lines = Vec::new();
    for e in &log {
        live.apply(e);
        enc.encode(e, &mut lines);
    }
    let mut recorded = ReportBuilder::new(header);
    let mut end = None;
    for item in Reader::new(&lines[..]) {
        if let Item::Event { event, .. } = item {
            end = Some(event.at);
            recorded.apply(&event);
        }
    }
    let end = end.expect("events read back");
    let source = Source::Recording(std::path::Path::new("x"), 0);
    let live_doc = live.document(end, source, None);
    let recorded_doc = recorded.document(end, source, None);
    let (live_md, recorded_md) = (markdown(&live_doc), markdown(&recorded_doc));
    assert_eq!(body(&live_md), body(&recorded_md));
    let (a, b) = (body(&html(&live_doc)), body(&html(&recorded_doc)));
    for (la, lb) in a.split('<').zip(b.split('<')) {
        assert_eq!(la, lb);
    }
    assert_eq!(a, b);
    // And it says what happened, who ended the connections first. (Between the servers a
    // dial may meet a closed port: the outage may hold a "refused" too.)
    let drops = live_md
        .lines()
        .find(|l| l.starts_with("drops "))
        .unwrap_or_else(|| panic!("the paste block's drops:\n{live_md}"));
    assert!(
        drops.contains("3: server 1012 service restart ×3"),
        "{drops}"
    );
    let failed = live_md
        .lines()
        .find(|l| l.starts_with("failed dials "))
        .unwrap_or_else(|| panic!("the paste block's failed dials:\n{live_md}"));
    assert!(failed.contains("HTTP 503 ×2"), "{failed}");
    let outage = live_md
        .lines()
        .find(|l| l.contains("| down ") && l.contains(": 1012 → ") && l.contains("HTTP 503"))
        .unwrap_or_else(|| panic!("the outage's sequence:\n{live_md}"));
    assert!(outage.contains("→ open |"), "{outage}");
    assert!(live_md.contains("HTTP 503 Service Unavailable: Down for maintenance"));
    assert!(
        !live_md.contains("hello"),
        "payloads are left out unless asked for:\n{live_md}"
    );
    let with_payloads = markdown(&live.document(end, source, Some(&live.kept_tail())));
    assert!(with_payloads.contains("hello"), "{with_payloads}");
}

/// One recording, three readers: the report, the replay's exit line in the dashboard, and
/// `replay --headless`. They fold the same model to the same end (the recording's `stopped`
/// line), so they say the same duration, availability and counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_the_replay_and_headless_replay_agree_on_one_recording() {
    use common::bin::{Lines, is};
    let srv = common::server(ServeOptions {
        drop_after: Some(Duration::from_millis(400)),
        drop_code: Some(1012),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("session.jsonl");
    let mut w = Lines::spawn(&[
        "--headless",
        "--record",
        rec.to_str().unwrap(),
        "--reconnect-min",
        "300ms",
        "--reconnect-max",
        "600ms",
        &srv.url(),
    ]);
    for _ in 0..3 {
        w.until("a drop", is("closed")).await;
    }
    // Stopped during the wait after a drop: not down at the end.
    w.until("the wait", is("retry")).await;
    w.signal("-TERM").await;
    let (code, _, err) = w.finish().await;
    assert_eq!(code, 0, "{err}");
    let last = std::fs::read_to_string(&rec).unwrap();
    assert!(
        last.lines()
            .last()
            .is_some_and(|l| l.contains(r#""event":"stopped","why":"signal""#)),
        "a recording ends with why it stopped: {last}"
    );

    // The report.
    let out = common::bin::wsmon(&["report", rec.to_str().unwrap(), "-o", "-"])
        .output()
        .await
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| -> String {
        md.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {name} in:\n{md}"))
    };
    let window = field("window ");
    let report_duration = window
        .split_once(" (")
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(d, _)| d.to_string())
        .unwrap();
    let report_avail = field("availability ")
        .split_once('%')
        .unwrap()
        .0
        .to_string();
    let report_drops = field("drops ").split_once(':').unwrap().0.to_string();
    assert!(
        window.ends_with("stopped: a signal (SIGTERM, SIGINT or SIGHUP)"),
        "{window}"
    );
    assert!(!md.contains("down at the end"), "{md}");

    // `replay --headless`: its summary line.
    let out = common::bin::wsmon(&[
        "replay",
        rec.to_str().unwrap(),
        "--headless",
        "--speed",
        "0",
    ])
    .output()
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["event"], "summary", "{text}");
    let headless_message = summary["message"].as_str().unwrap().to_string();

    // The dashboard's replay, to its end, then its exit line.
    let t = common::tmux::Tmux::start("agree", 100, 30);
    t.run_wsmon(&format!("replay {} --speed 0", rec.display()));
    t.wait_for(&["REPLAY ENDED"]);
    t.keys(&["q"]);
    let screen = t.wait_for(&["wsmon: replayed "]);
    let exit_line: String = screen
        .lines()
        .skip_while(|l| !l.starts_with("wsmon: replayed "))
        .take_while(|l| !l.starts_with('$'))
        .collect::<Vec<_>>()
        .join("");

    for (who, said) in [
        ("replay --headless", &headless_message),
        ("the replay's exit line", &exit_line),
    ] {
        assert!(
            said.contains(&format!(" for {report_duration}: ")),
            "{who} says another duration than the report's {report_duration}: {said}"
        );
        assert!(
            said.contains(&format!(", {report_avail}% available")),
            "{who} says another availability than the report's {report_avail}%: {said}"
        );
        assert!(
            said.contains(&format!(", {report_drops} drops (")),
            "{who} counts other drops than the report's {report_drops}: {said}"
        );
    }
    assert_eq!(summary["drops"].as_u64().unwrap().to_string(), report_drops);
}
