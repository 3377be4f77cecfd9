//! The real binary in --headless mode against the built-in server: the JSON-lines contract,
//! stdin sends, signals, exit codes, and secrets kept out of the output.

use crate::common;

use common::bin::{Lines, is};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use wsmon::server::{ServeOptions, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_lines_are_sent_and_echoes_are_printed_then_sigterm_closes_cleanly() {
    let srv = Server::start(ServeOptions {
        keep_texts: 1000,
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut w = Lines::spawn(&["--headless", &srv.url()]);
    let c = w.until("connecting", is("connecting")).await;
    assert_eq!(
        (c["attempt"].as_u64(), c["url"].as_str()),
        (Some(1), Some(srv.url().as_str()))
    );
    let open = w.until("open", is("open")).await;
    for key in ["dns_ms", "tcp_ms", "handshake_ms"] {
        assert!(open[key].as_f64().is_some(), "{key} in {open}");
    }
    assert_eq!(open["tls_ms"], Value::Null);
    assert_eq!(open["remote"], srv.addr().to_string());

    let mut stdin = w.child.stdin.take().unwrap();
    stdin
        .write_all("{\"subscribe\":\"prices\"}\nsecond line\r\n\n".as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    let sent = w.until("sent", is("sent")).await;
    assert_eq!(
        (
            sent["kind"].as_str(),
            sent["data"].as_str(),
            sent["len"].as_u64()
        ),
        (Some("text"), Some("{\"subscribe\":\"prices\"}"), Some(22))
    );
    let recv = w.until("recv", is("recv")).await;
    assert_eq!(recv["data"], "{\"subscribe\":\"prices\"}");
    let recv = w.until("recv 2", is("recv")).await;
    assert_eq!(
        recv["data"], "second line",
        "the CR is stripped and blank lines skipped"
    );

    w.signal("-TERM").await;
    let (code, seen, err) = w.finish().await;
    assert_eq!(code, 0, "stderr: {err}");
    let closed = seen
        .iter()
        .rev()
        .find(|v| v["event"] == "closed")
        .expect("closed line");
    assert_eq!(
        (closed["code"].as_u64(), closed["by"].as_str()),
        (Some(1001), Some("client"))
    );
    assert_eq!(
        srv.stats().texts(),
        ["{\"subscribe\":\"prices\"}", "second line"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_and_sigint_also_close_cleanly() {
    for sig in ["-HUP", "-INT"] {
        let srv = common::echo_server().await;
        let mut w = Lines::spawn(&["--headless", &srv.url()]);
        w.until("open", is("open")).await;
        w.signal(sig).await;
        let (code, seen, err) = w.finish().await;
        assert_eq!(code, 0, "{sig}: {err}");
        assert!(
            seen.iter()
                .any(|v| v["event"] == "closed" && v["by"] == "client"),
            "{sig}: {seen:?}"
        );
        assert_eq!(srv.stats().closes(), [(1001, 1)]);
    }
}

/// `timeout` signals the whole process group, so wsmon gets SIGTERM twice at once; with a peer
/// that never answers the close, the close handshake runs its full grace. The `closing` and
/// `closed` lines are still written, last, and the exit is clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigterm_never_loses_the_last_lines() {
    let peer = common::faults::RawServer::start(|tcp| async move {
        let tcp = common::faults::handshake(tcp).await;
        common::faults::hold(tcp).await;
    })
    .await;
    let mut w = Lines::spawn(&["--headless", &peer.url()]);
    w.until("open", is("open")).await;
    w.signal("-TERM").await;
    w.signal("-TERM").await;
    let (code, seen, err) = w.finish().await;
    assert_eq!(code, 0, "stderr: {err}");
    let events: Vec<&str> = seen.iter().filter_map(|v| v["event"].as_str()).collect();
    // The engine's last lines, then how it ended: `stopped` with why, and the summary (wsmon's
    // own close on the way out is not a change of the endpoint's health).
    assert_eq!(
        events[events.len() - 4..],
        ["closing", "closed", "stopped", "summary"],
        "the last lines: {events:?}"
    );
    let closed = seen.iter().rev().find(|v| v["event"] == "closed").unwrap();
    assert_eq!(closed["by"], "client", "{closed}");
    let stopped = &seen[seen.len() - 2];
    assert_eq!(stopped["why"], "signal", "{stopped}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_attempts_exit_1_with_one_line_on_stderr() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("ws://127.0.0.1:{port}/");
    let w = Lines::spawn(&[
        "--headless",
        "--max-attempts",
        "3",
        "--reconnect-min",
        "20ms",
        "--reconnect-max",
        "40ms",
        &url,
    ]);
    let (code, seen, err) = w.finish().await;
    assert_eq!(code, 1);
    let events: Vec<&str> = seen.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        [
            "connecting",
            "error",
            "retry",
            "health",
            "connecting",
            "error",
            "retry",
            "connecting",
            "error",
            "gave_up",
            "health",
            "stopped",
            "summary"
        ]
    );
    assert_eq!(seen[1]["cause"], "refused");
    assert_eq!(
        (seen[3]["health"].as_str(), seen[10]["health"].as_str()),
        (Some("down"), Some("gave_up"))
    );
    assert_eq!(seen[11]["why"], "gave_up");
    assert_eq!(seen[12]["connects"], 0);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("wsmon: gave up after 3 failed attempts (max_attempts); last: ")
            && err.contains("refused"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_refusal_is_reported_with_status_headers_and_body() {
    let srv = common::server(ServeOptions {
        reject: Some(401),
        reject_body: Some("token expired".into()),
        ..Default::default()
    })
    .await;
    let mut w = Lines::spawn(&["--headless", &srv.url()]);
    let e = w.until("error", is("error")).await;
    assert_eq!(
        (
            e["cause"].as_str(),
            e["phase"].as_str(),
            e["status"].as_u64()
        ),
        (Some("http"), Some("upgrade"), Some(401))
    );
    assert_eq!(e["body"], "token expired");
    assert_eq!(e["headers"]["www-authenticate"], "Bearer realm=\"wsmon\"");
    assert_eq!(e["body_truncated"], false);
    w.until("retry", is("retry")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_output() {
    let srv = common::server(ServeOptions {
        reject: Some(403),
        ..Default::default()
    })
    .await;
    let url = format!("ws://alice:hunter2@{}/feed?token=s3cr3t&room=1", srv.addr());
    let mut w = Lines::spawn(&[
        "--headless",
        "--max-attempts",
        "1",
        "-H",
        "Authorization: Bearer SECRET-BEARER",
        "-H",
        "Cookie: session=SECRET-COOKIE",
        &url,
    ]);
    let c = w.until("connecting", is("connecting")).await;
    assert_eq!(
        c["url"],
        format!("ws://alice:***@{}/feed?token=***&room=1", srv.addr())
    );
    let (_, seen, err) = w.finish().await;
    let all = format!("{seen:?}{err}");
    for secret in ["hunter2", "s3cr3t", "SECRET-BEARER", "SECRET-COOKIE"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
}
