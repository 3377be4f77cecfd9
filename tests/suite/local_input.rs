//! What a careless user can hand the real binary locally: an endless config file, a stdin line
//! of 150 MB, a symbolic link or a world-readable file where wsmon writes.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::bin::{Lines, wsmon};
use tokio::io::AsyncWriteExt;

/// Peak resident memory of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_config_file_is_refused_in_one_line() {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        wsmon(&["--config", "/dev/zero", "--headless"]).output(),
    )
    .await
    .expect("refused, not read for ever")
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("larger than 64MiB"),
        "{err}"
    );
    assert!(err.contains("--config FILE"), "says the fix: {err}");
}

/// A 150 MB line on stdin is refused while it is read: wsmon holds no more of it than a
/// message may be (1 MiB here; its peak memory stays far below the line), its `dropped` line
/// carries the length and a short preview, and the next line is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdin_line_past_the_message_size_is_dropped_unread() {
    const HUGE: usize = 150_000_000;
    let srv = common::echo_server().await;
    let mut w = Lines::spawn(&["--headless", "--max-message-size", "1MiB", &srv.url()]);
    w.until("open", |v| v["event"] == "open").await;
    let pid = w.child.id().unwrap();
    let mut stdin = w.child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        let chunk = vec![b'x'; 1 << 20];
        let mut left = HUGE;
        while left > 0 {
            let n = left.min(chunk.len());
            stdin.write_all(&chunk[..n]).await.unwrap();
            left -= n;
        }
        stdin.write_all(b"\nafter the long one\n").await.unwrap();
        stdin.flush().await.unwrap();
        stdin
    });
    let dropped = w.until("dropped", |v| v["event"] == "dropped").await;
    assert_eq!(dropped["len"], HUGE as u64, "{dropped}");
    let preview = dropped["data"].as_str().unwrap_or_default();
    assert!(
        preview.len() <= 256 && preview.starts_with("xxx"),
        "a short preview: {} bytes",
        preview.len()
    );
    let sent = w
        .until("the next line", |v| {
            v["event"] == "sent" && v["data"] == "after the long one"
        })
        .await;
    assert_eq!(sent["len"], 18);
    let peak = peak_rss_kib(pid);
    assert!(
        peak < 40 * 1024,
        "peak memory {peak} KiB while a {HUGE}-byte line went by"
    );
    drop(writer.await.unwrap());
    w.signal("-TERM").await;
    let (code, _, err) = w.finish().await;
    assert_eq!(code, 0, "{err}");
    eprintln!("stdin line of {HUGE} bytes: peak RSS {peak} KiB");
}

/// A symbolic link where wsmon would write a recording or a report is refused with the reason
/// and the fix, the file it points to untouched; a file that existed world-readable is made
/// the owner's only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_not_written_through_and_files_become_private() {
    let srv = common::echo_server().await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "keep me\n").unwrap();
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let l = link.to_str().unwrap();

    let out = wsmon(&["--headless", "--record", l, &srv.url()])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is a symbolic link") && err.contains("give the path of the file itself"),
        "{err}"
    );

    // A recording to report on, then the report written over the link.
    let rec = dir.path().join("open.jsonl");
    std::fs::write(&rec, "").unwrap();
    std::fs::set_permissions(&rec, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut w = Lines::spawn(&["--headless", "--record", rec.to_str().unwrap(), &srv.url()]);
    w.until("open", |v| v["event"] == "open").await;
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
    assert_eq!(
        std::fs::metadata(&rec).unwrap().permissions().mode() & 0o777,
        0o600,
        "a recording file that existed 0644 is made 0600"
    );
    let out = wsmon(&["report", rec.to_str().unwrap(), "-o", l])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");

    let report = dir.path().join("old.md");
    std::fs::write(&report, "an old report").unwrap();
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = wsmon(&[
        "report",
        rec.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ])
    .output()
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    common::assert_private(&report);
    assert!(std::fs::read_to_string(&report).unwrap().starts_with("# "));
}
