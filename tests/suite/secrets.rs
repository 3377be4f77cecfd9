//! Secrets never reach the output, the recording, the report, the log file or the screen:
//! Authorization, Cookie and Proxy-Authorization values, URL passwords, and the query
//! parameters named in redact_query.

use crate::common;

use std::path::Path;

use common::bin::{Lines, is, wsmon};
use common::tmux::Tmux;
use tokio::io::AsyncWriteExt;
use wsmon::server::ServeOptions;

const SECRETS: [&str; 7] = [
    "SECRET-AUTH",
    "SECRET-COOKIE",
    "SECRET-PROXYAUTH",
    "SECRET-PASS",
    "SECRET-TOKEN",
    "SECRET-APIKEY",
    "SECRET-PROXYPASS",
];

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{s} leaked into {what}:\n{text}");
    }
}

fn every_file_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(every_file_under(&p));
        } else {
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            ));
        }
    }
    out
}

fn secret_args(url: &str) -> Vec<String> {
    vec![
        "-H".into(),
        "Authorization: Bearer SECRET-AUTH".into(),
        "-H".into(),
        "Cookie: sid=SECRET-COOKIE".into(),
        "-H".into(),
        "Proxy-Authorization: Basic SECRET-PROXYAUTH".into(),
        url.to_string(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_output_recording_report_and_log_are_clean() {
    let data = tempfile::tempdir().unwrap();
    let rec = data.path().join("session.jsonl");
    let srv = common::echo_server().await;
    let url = format!(
        "ws://alice:SECRET-PASS@{}/feed?token=SECRET-TOKEN&apikey=SECRET-APIKEY&room=7",
        srv.addr()
    );
    let mut args = vec![
        "--headless".to_string(),
        "--record".into(),
        rec.display().to_string(),
    ];
    args.extend(secret_args(&url));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut w = Lines::spawn_in(&argv, data.path());
    let c = w.until("connecting", is("connecting")).await;
    assert_eq!(
        c["url"],
        format!(
            "ws://alice:***@{}/feed?token=***&apikey=***&room=7",
            srv.addr()
        )
    );
    w.until("open", is("open")).await;
    let mut stdin = w.child.stdin.take().unwrap();
    stdin.write_all(b"hello\n").await.unwrap();
    w.until("echo", is("recv")).await;
    w.signal("-TERM").await;
    let (code, seen, err) = w.finish().await;
    assert_eq!(code, 0);
    assert_clean("stdout", &format!("{seen:?}"));
    assert_clean("stderr", &err);

    let out = wsmon(&["report", rec.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let report = std::fs::read_to_string(format!("{}.report.md", rec.display())).unwrap();
    assert!(
        report.contains("Authorization: ***") && report.contains("Cookie: ***"),
        "{report}"
    );
    let files = every_file_under(data.path());
    let log = &files
        .iter()
        .find(|(p, _)| p.ends_with("wsmon.log"))
        .expect("the log file exists")
        .1;
    assert!(
        log.contains("alice:***@") && log.contains("token=***"),
        "the log names the masked URL:\n{log}"
    );
    assert!(files.iter().any(|(p, _)| p.ends_with(".report.md")));
    for (path, text) in files {
        assert_clean(&path, &text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_passwords_are_masked() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = format!("http://bob:SECRET-PROXYPASS@127.0.0.1:{port}");
    let w = Lines::spawn_in(
        &[
            "--headless",
            "--max-attempts",
            "1",
            "--proxy",
            &proxy,
            "ws://example.com/",
        ],
        data.path(),
    );
    let (code, seen, err) = w.finish().await;
    assert_eq!(code, 1);
    assert_clean("stdout", &format!("{seen:?}"));
    assert_clean("stderr", &err);
    for (path, text) in every_file_under(data.path()) {
        assert_clean(&path, &text);
    }
    let out = wsmon(&["--proxy", &proxy, "--print-config", "ws://example.com/"])
        .output()
        .await
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("bob:***@127.0.0.1"), "{table}");
    assert_clean("--print-config", &table);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_and_the_files_the_dashboard_writes_are_clean() {
    let srv = common::server(ServeOptions {
        reject: Some(401),
        ..Default::default()
    })
    .await;
    let url = format!(
        "ws://alice:SECRET-PASS@{}/feed?token=SECRET-TOKEN&apikey=SECRET-APIKEY",
        srv.addr()
    );
    let t = Tmux::start("secrets", 120, 40);
    let args: Vec<String> = secret_args(&url).iter().map(|a| format!("'{a}'")).collect();
    t.run_wsmon(&args.join(" "));
    let s = t.wait_for(&["HTTP 401", "token=***"]);
    assert_clean("the screen", &s);
    // Record, write a report, open the error's detail (headers), then quit.
    t.keys(&["F6"]);
    t.wait_for(&["recording to"]);
    t.keys(&["F7"]);
    t.wait_for(&["report written"]);
    t.keys(&["F8"]);
    let s = t.wait_for(&["WWW-Authenticate"]);
    assert_clean("the detail view", &s);
    t.keys(&["Escape"]);
    t.wait_gone("WWW-Authenticate: ");
    // A recording is running: quitting asks first.
    t.keys(&["F10"]);
    t.wait_for(&["Quit wsmon?", "the recording stops"]);
    t.keys(&["y"]);
    t.wait_for(&["wsmon: recorded"]);
    let files = every_file_under(t.data_dir.path());
    assert!(
        files.iter().any(|(p, _)| p.contains("recordings/")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|(p, _)| p.contains("reports/")),
        "{files:?}"
    );
    for (path, text) in files {
        assert_clean(&path, &text);
    }
}
