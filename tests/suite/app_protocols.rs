//! wsmon against real servers of the application protocols people run, from npm (not
//! wsmon's own server, which shares its assumptions): a Socket.IO 4 server and a graphql-ws
//! server. One connection stays up through many of the server's heartbeats, events flow, and
//! after a server restart the subscription is made again.

use crate::common;

use common::bin::{Lines, is};
use common::peers::NodePeer;
use serde_json::Value;

/// Waits for `n` lines that `pred` accepts; returns the last.
async fn nth(w: &mut Lines, what: &str, n: usize, pred: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..n {
        last = w.until(what, &pred).await;
    }
    last
}

fn tick(v: &Value) -> bool {
    v["event"] == "recv"
        && v["data"]
            .as_str()
            .is_some_and(|d| d.starts_with("42[\"tick\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_stays_connected_through_its_heartbeats_and_resubscribes_after_a_restart() {
    // pingInterval 300 ms + pingTimeout 200 ms: without answering its pings wsmon would be
    // dropped after half a second.
    let mut srv = NodePeer::start("socketio-server.js", &["300", "200"]).await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "socketio",
        "--on-open",
        r#"42["subscribe","prices"]"#,
        "--reconnect-min",
        "100ms",
        "--reconnect-max",
        "300ms",
        &srv.url(),
    ]);
    let ready = w.until("ready", is("ready")).await;
    assert_eq!(ready["protocol"], "socket.io");
    assert!(
        ready["detail"]
            .as_str()
            .unwrap()
            .starts_with("joined / · server pings every 300ms, gone after 500ms"),
        "{ready}"
    );
    // Eight of the server's pings answered (about 2.4 s) while the events keep coming.
    let pong = nth(&mut w, "the server's pings answered", 8, is("auto_reply")).await;
    assert_eq!(
        (pong["received"].as_str(), pong["sent"].as_str()),
        (Some("2"), Some("3"))
    );
    assert_eq!(pong["count"], 8);
    w.until("an event", tick).await;
    assert!(
        !w.seen.iter().any(|v| v["event"] == "closed"),
        "one connection all along: {:#?}",
        w.seen
    );
    let opens = w.seen.iter().filter(|v| v["event"] == "open").count();
    assert_eq!(opens, 1);

    // The server restarts: wsmon reconnects, joins again, subscribes again, events flow again.
    srv.restart().await;
    w.until("the drop", is("closed")).await;
    w.until("reopen", is("open")).await;
    w.until("ready again", is("ready")).await;
    let resent = w
        .until("on_open again", |v| {
            v["event"] == "sent" && v["data"] == r#"42["subscribe","prices"]"#
        })
        .await;
    assert!(
        resent["id"].is_null(),
        "an on_open message, not a typed one"
    );
    w.until("events again", tick).await;
    w.signal("-TERM").await;
    let (code, _, _) = w.finish().await;
    assert_eq!(code, 0);
    srv.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_names_a_refused_namespace() {
    let srv = NodePeer::start("socketio-server.js", &[]).await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "socketio",
        "--namespace",
        "admin",
        "--max-attempts",
        "1",
        &srv.url(),
    ]);
    let e = w.until("error", is("error")).await;
    assert_eq!(
        (e["cause"].as_str(), e["phase"].as_str()),
        (Some("protocol"), Some("app"))
    );
    assert_eq!(
        e["message"],
        "Socket.IO: the server refused namespace /admin: Not authorized"
    );
    let (code, _, err) = w.finish().await;
    assert_eq!(code, 1, "{err}");
    srv.kill().await;
}

const SUBSCRIBE: &str =
    r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { ticks }"}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_ws_acks_keeps_its_heartbeat_and_restores_the_subscription_after_a_restart() {
    let mut srv = NodePeer::start("graphql-server.js", &[]).await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "graphql-ws",
        "--on-open",
        SUBSCRIBE,
        "--ping-interval",
        "300ms",
        "--reconnect-min",
        "100ms",
        "--reconnect-max",
        "300ms",
        &srv.url(),
    ]);
    let open = w.until("open", is("open")).await;
    assert_eq!(open["subprotocol"], "graphql-transport-ws");
    let ready = w.until("ready", is("ready")).await;
    assert_eq!(ready["detail"], "connection_ack");
    let next = |v: &Value| {
        v["event"] == "recv" && v["data"].as_str().is_some_and(|d| d.contains("\"next\""))
    };
    nth(&mut w, "results", 5, next).await;
    // The application heartbeat: graphql-ws's own ping/pong, timed.
    let rtt = w
        .until("an app rtt", |v| v["event"] == "rtt" && v["app"] == true)
        .await;
    assert!(rtt["ms"].as_f64().is_some());
    // Past the server's 1 s init timeout, still one connection (no 4408).
    nth(&mut w, "more results", 10, next).await;
    assert!(
        !w.seen.iter().any(|v| v["event"] == "closed"),
        "{:#?}",
        w.seen
    );

    srv.restart().await;
    w.until("the drop", is("closed")).await;
    w.until("ready again", is("ready")).await;
    w.until("subscribed again", |v| {
        v["event"] == "sent" && v["data"] == SUBSCRIBE
    })
    .await;
    nth(&mut w, "results again", 3, next).await;
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
    srv.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_ws_without_the_preset_is_closed_for_a_missing_init() {
    // What a user sees without the preset: the server's own verdict, with its code.
    let srv = NodePeer::start("graphql-server.js", &[]).await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--subprotocol",
        "graphql-transport-ws",
        "--max-attempts",
        "1",
        &srv.url(),
    ]);
    let closed = w.until("closed", is("closed")).await;
    assert_eq!(
        (closed["code"].as_u64(), closed["by"].as_str()),
        (Some(4408), Some("server"))
    );
    w.signal("-TERM").await;
    w.finish().await;
    srv.kill().await;
}

/// A preset of the config file's own: its subprotocol offered, its on_open and one
/// subscribe message per `subscribe` value sent on every open, in that order; its heartbeat
/// kept; and `--preset list` names it beside the built-in ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preset_of_the_config_files_own_is_spoken_on_every_open() {
    use wsmon::server::ServeOptions;
    let srv = common::server(ServeOptions {
        keep_texts: 100,
        no_echo: true,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wsmon.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[preset.ticker]
on_open = ['{{"op":"auth","key":"k"}}']
subscribe = '{{"op":"subscribe","channel":"{{}}"}}'
app_ping = '{{"op":"ping"}}'
app_ping_interval = "200ms"

[[endpoint]]
name = "feed"
url = "{}"
preset = "ticker"
subscribe = ["btc", "eth"]
"#,
            srv.url()
        ),
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let out = common::bin::wsmon(&["--config", c, "--preset", "list"])
        .output()
        .await
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for name in [
        "socketio ",
        "graphql-ws ",
        "mqtt ",
        "stomp ",
        "ticker ",
        "none ",
    ] {
        assert!(list.contains(name), "{name}: {list}");
    }
    assert!(
        list.contains("line 2: app_ping, app_ping_interval, on_open, subscribe"),
        "{list}"
    );

    let mut w = Lines::spawn(&["--headless", "--config", c]);
    w.until("open", is("open")).await;
    let mut pings = 0;
    w.until("pings", |v| {
        pings += usize::from(v["event"] == "ping" && v["app"] == true);
        pings == 3
    })
    .await;
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
    let texts = srv.stats().texts();
    assert_eq!(
        texts[..3],
        [
            r#"{"op":"auth","key":"k"}"#,
            r#"{"op":"subscribe","channel":"btc"}"#,
            r#"{"op":"subscribe","channel":"eth"}"#,
        ]
    );
    assert!(
        texts[3..].iter().all(|t| t == r#"{"op":"ping"}"#) && texts.len() >= 6,
        "{texts:?}"
    );
}
