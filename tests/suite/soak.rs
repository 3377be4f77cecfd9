//! A bounded soak: the real binary watching four endpoints of a server that drops every
//! connection 20 times a second, with debug logging, until the log has rotated three times
//! (a few seconds). wsmon.log must rotate while four engines write to it, keep only what it
//! is told to, and never split a line between two files.

use crate::common;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use wsmon::server::ServeOptions;

const MAX: u64 = 64 * 1024;
/// Rotations to see before stopping; each takes about 2 s at this rate.
const ROTATIONS: usize = 3;
/// The soak's bound: a machine 3x slower than this one still sees three rotations.
const BOUND: Duration = Duration::from_secs(75);

/// The first line of a file, which names it (each starts with its own timestamp).
fn first_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().next().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wsmon_log_rotates_while_running_and_keeps_what_it_is_told() {
    let srv = common::server(ServeOptions {
        drop_after: Some(Duration::from_millis(50)),
        ..Default::default()
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let urls: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|p| format!("{}{p}", srv.url()))
        .collect();
    let mut args = vec![
        "--headless",
        "--log-file-max-bytes",
        "64KiB",
        "--log-file-keep",
        "2",
        "--reconnect-min",
        "20ms",
        "--reconnect-max",
        "100ms",
    ];
    args.extend(urls.iter().map(String::as_str));
    let mut cmd = common::bin::wsmon(&args);
    // Its output is not read here: nothing must hold the engines back.
    cmd.env("WSMON_DATA_DIR", data.path())
        .env("WSMON_LOG", "debug")
        .stdout(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().unwrap();
    let log = data.path().join("wsmon.log");
    let started = Instant::now();
    // Each rotation gives wsmon.log.1 a new first line.
    let mut seen: HashSet<String> = HashSet::new();
    let mut largest = 0;
    while seen.len() < ROTATIONS && started.elapsed() < BOUND {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            std::fs::metadata(format!("/proc/{pid}")).is_ok(),
            "wsmon stopped during the soak"
        );
        if let Some(l) = first_line(&data.path().join("wsmon.log.1")) {
            seen.insert(l);
        }
        for name in ["wsmon.log", "wsmon.log.1", "wsmon.log.2"] {
            if let Ok(m) = std::fs::metadata(data.path().join(name)) {
                largest = largest.max(m.len());
            }
        }
    }
    let took = started.elapsed();
    assert!(
        seen.len() >= ROTATIONS,
        "{} rotations in {took:?}, and wsmon.log is {} bytes",
        seen.len(),
        std::fs::metadata(&log).map_or(0, |m| m.len())
    );
    let drops = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .map(|t| t.matches("closed code=Some(1012)").count())
        .sum::<usize>();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("wsmon stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));

    // Two old files kept, no third; none past the cap; all the owner's only.
    let mut names: Vec<String> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("wsmon.log"))
        .collect();
    names.sort();
    assert_eq!(names, ["wsmon.log", "wsmon.log.1", "wsmon.log.2"]);
    assert!(largest <= MAX, "a file reached {largest} bytes");
    for n in &names {
        let p = data.path().join(n);
        let m = std::fs::metadata(&p).unwrap();
        assert!(m.len() <= MAX, "{n} is {} bytes", m.len());
        assert_eq!(m.permissions().mode() & 0o777, 0o600, "{n}");
        // Whole lines only: each starts with its timestamp and the file ends with a newline.
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "{n} ends mid-line");
        for line in text.lines() {
            assert!(
                line.len() > 27 && line.as_bytes()[4] == b'-' && line.as_bytes()[10] == b'T',
                "{n}: a line that does not start with its time: {line:?}"
            );
        }
    }
    eprintln!(
        "soak: {ROTATIONS} rotations in {took:.1?}, {drops} drops in the files kept, largest file {largest} bytes"
    );
}
