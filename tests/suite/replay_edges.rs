//! A replay's edges with the real binary: stopped by a signal half-way, and files that hold
//! no recording refused at once.

use crate::common;

use std::time::{Duration, Instant};

use common::bin::{Lines, wsmon};

/// A recording of `n` received messages a minute apart.
fn slow_recording(n: usize) -> String {
    let start = humantime::parse_rfc3339("2026-11-25T12:00:00Z").unwrap();
    let mut text = String::new();
    text.push_str(
        r#"{"ts":"2026-11-25T12:00:00.000Z","event":"connecting","attempt":1,"url":"ws://h/"}"#,
    );
    text.push('\n');
    for i in 0..n {
        let at = humantime::format_rfc3339_millis(start + Duration::from_secs(60 * i as u64));
        text.push_str(&format!(
            r#"{{"ts":"{at}","event":"recv","kind":"text","len":4,"data":"m{i:03}"}}"#
        ));
        text.push('\n');
    }
    text
}

/// At a speed that would take days, the first SIGTERM (or SIGINT, SIGHUP) ends a headless
/// replay where it is, with its last lines: `stopped` (why: signal) and the summary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_replay_stops_on_the_first_signal() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("slow.jsonl");
    std::fs::write(&rec, slow_recording(100)).unwrap();
    for sig in ["-TERM", "-INT", "-HUP"] {
        let mut w = Lines::spawn(&[
            "replay",
            rec.to_str().unwrap(),
            "--headless",
            "--speed",
            "0.0001",
        ]);
        w.until("the first message", |v| v["event"] == "recv").await;
        let sent = Instant::now();
        w.signal(sig).await;
        let (code, lines, err) = w.finish().await;
        let took = sent.elapsed();
        assert_eq!(code, 0, "{sig}: {err}");
        // The next message is due in 60 s / 0.0001 = a week: ending at all is the point.
        assert!(took < Duration::from_secs(20), "{sig}: took {took:?}");
        let events: Vec<&str> = lines.iter().filter_map(|v| v["event"].as_str()).collect();
        assert_eq!(
            events.iter().filter(|e| **e == "recv").count(),
            1,
            "{sig}: stopped where it was: {events:?}"
        );
        let tail = &lines[lines.len() - 2..];
        assert_eq!(tail[0]["event"], "stopped", "{sig}: {lines:?}");
        assert_eq!(tail[0]["why"], "signal", "{sig}: {lines:?}");
        assert_eq!(tail[1]["event"], "summary", "{sig}: {lines:?}");
    }
}

/// An empty file, a blank one, 1 MB of junk and JSON that is not wsmon's: `replay` (dashboard,
/// headless, --send) and `report` refuse each in one line with exit code 2, before anything
/// else (no terminal is needed to be told).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_and_report_refuse_a_file_holding_no_recording() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let blank = dir.path().join("blank.jsonl");
    std::fs::write(&blank, "\n\n  \n").unwrap();
    let junk = dir.path().join("junk.bin");
    let bytes: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&junk, bytes).unwrap();
    let other = dir.path().join("other.jsonl");
    std::fs::write(
        &other,
        "{\"level\":\"info\",\"msg\":\"hello\"}\n".repeat(500),
    )
    .unwrap();
    for (file, says) in [
        (&empty, "is empty"),
        (&blank, "is empty"),
        (&junk, "is not a wsmon recording"),
        (&other, "is not a wsmon recording"),
    ] {
        let f = file.to_str().unwrap();
        for args in [
            vec!["replay", f],
            vec!["replay", f, "--headless"],
            vec!["replay", f, "--send", "ws://127.0.0.1:9/"],
            vec!["report", f, "-o", "-"],
        ] {
            let out = wsmon(&args).output().await.unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(
                err.contains("--record"),
                "{args:?}: says how to make one: {err}"
            );
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
}
