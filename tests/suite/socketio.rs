//! Socket.IO in full against servers others wrote: python-socketio (PyPI) for a namespace
//! with auth, emits in the namespace from on_open, the keyboard's stand-in (stdin in
//! headless) and a restart, and a refusal with its data; Node `socket.io` (npm) with
//! connection state recovery.

use crate::common;

use common::bin::{Lines, is};
use common::peers::Peer;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

fn heard(v: &Value, event: &str) -> bool {
    v["event"] == "recv"
        && v["decoded"]
            .as_str()
            .is_some_and(|d| d.starts_with(&format!("/chat heard {{\"event\":\"{event}\"")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_with_auth_gets_every_emit_and_comes_back_after_a_restart() {
    let mut srv = Peer::python("socketio_server.py", &[]).await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "socketio",
        "--namespace",
        "/chat",
        "--init-payload",
        r#"{"token":"letmein"}"#,
        "--on-open",
        r#"hello {"via":"on-open"}"#,
        "--reconnect-min",
        "100ms",
        &srv.url(),
    ]);
    let ready = w.until("joined", is("ready")).await;
    assert!(
        ready["detail"]
            .as_str()
            .unwrap()
            .starts_with("joined /chat · server pings every 1s, gone after 2s without one"),
        "{ready}"
    );
    // The on_open emit went to /chat: the server heard it there.
    let h = w.until("on_open heard", |v| heard(v, "hello")).await;
    assert_eq!(
        h["decoded"],
        r#"/chat heard {"event":"hello","data":{"via":"on-open"}}"#
    );
    // A stdin line is put in the preset's form, as a typed line would be.
    let mut stdin = w.child.stdin.take().unwrap();
    stdin.write_all(b"typed {\"n\":1}\n").await.unwrap();
    stdin.flush().await.unwrap();
    let sent = w
        .until("the emit", |v| v["event"] == "sent" && v["id"] == 1)
        .await;
    assert_eq!(sent["data"], r#"42/chat,["typed",{"n":1}]"#);
    w.until("typed heard", |v| heard(v, "typed")).await;
    // Three of the server's pings answered: the session stays.
    let mut pongs = 0;
    w.until("pings answered", |v| {
        pongs += usize::from(v["event"] == "auto_reply");
        assert_ne!(v["event"], "closed", "dropped: {v}");
        pongs == 3
    })
    .await;
    // Ticks arrive in the namespace's room.
    w.until("a tick", |v| {
        v["event"] == "recv"
            && v["decoded"]
                .as_str()
                .is_some_and(|d| d.starts_with("/chat tick"))
    })
    .await;

    // A restart: joined again with the auth, on_open again, heard again.
    srv.restart().await;
    w.until("closed", is("closed")).await;
    w.until("joined again", is("ready")).await;
    w.until("on_open heard again", |v| heard(v, "hello")).await;
    w.signal("-TERM").await;
    let (code, lines, err) = w.finish().await;
    assert_eq!(code, 0, "{err}");
    assert!(
        lines
            .iter()
            .any(|v| v["event"] == "sent" && v["data"] == "41/chat,"),
        "the namespace is left before the close"
    );

    // Without the token, the refusal and its data are named.
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "socketio",
        "--namespace",
        "chat",
        "--max-attempts",
        "1",
        &srv.url(),
    ]);
    let e = w.until("the refusal", is("error")).await;
    assert_eq!(
        e["message"],
        "Socket.IO: the server refused namespace /chat: invalid token (renew it at /login)"
    );
    assert_eq!(w.finish().await.0, 1, "gave up after one attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_session_is_recovered_with_what_was_missed() {
    let srv = Peer::start("socketio-recovery.js", &[]).await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "socketio",
        "--reconnect-min",
        "300ms",
        &srv.url(),
    ]);
    let first = w.until("joined", is("ready")).await;
    assert!(
        first["detail"].as_str().unwrap().ends_with("recovery on") && first["offsets"] == true,
        "{first}"
    );
    // The offset is shown as such, not as an argument.
    let tick = w
        .until("a tick", |v| {
            v["event"] == "recv" && v["decoded"].as_str().is_some_and(|d| d.starts_with("tick"))
        })
        .await;
    assert!(
        tick["decoded"].as_str().unwrap().contains(" · offset "),
        "{tick}"
    );
    // The server cuts the transport after 1 s; the next connection asks for the session
    // back and gets the ticks it missed.
    let closed = w.until("cut", is("closed")).await;
    assert_eq!(closed["by"], "server");
    let sent = w
        .until("the CONNECT", |v| {
            v["event"] == "sent" && v["data"].as_str().is_some_and(|d| d.starts_with("40"))
        })
        .await;
    let connect: Value = serde_json::from_str(&sent["data"].as_str().unwrap()[2..]).unwrap();
    assert!(
        connect["pid"].is_string() && connect["offset"].is_string(),
        "{sent}"
    );
    let again = w.until("recovered", is("ready")).await;
    let detail = again["detail"].as_str().unwrap();
    let missed: u64 = detail
        .rsplit_once("recovered: ")
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{detail}"));
    // 300 ms down at a tick every 50 ms.
    assert!((3..=20).contains(&missed), "{detail}");
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
}
