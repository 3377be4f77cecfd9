//! The graphql-ws preset against GraphQL servers others wrote, in both protocols: strawberry
//! (PyPI), which speaks both and takes the first offered, and Apollo's legacy
//! subscriptions-transport-ws (npm), which speaks only the old one.

use crate::common;

use common::bin::{Lines, is};
use common::peers::Peer;
use serde_json::Value;

fn result(v: &Value, prefix: &str) -> bool {
    v["event"] == "recv" && v["decoded"].as_str().is_some_and(|d| d.starts_with(prefix))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strawberry_in_either_protocol_subscribes_and_names_a_failed_subscription() {
    let srv = Peer::python("graphql_server.py", &[]).await;
    let url = format!("{}graphql", srv.url());
    // Both protocols offered: strawberry takes the first, the legacy one, and wsmon says so.
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "graphql-ws",
        "--subscribe",
        "subscription { ticks }",
        "--subscribe",
        "subscription { broken }",
        &url,
    ]);
    let ready = w.until("acked", is("ready")).await;
    assert_eq!(ready["protocol"], "legacy subscriptions-transport-ws");
    assert!(
        ready["detail"]
            .as_str()
            .unwrap()
            .contains("legacy subscriptions-transport-ws (subprotocol graphql-ws) · 2 subscribed"),
        "{ready}"
    );
    let said = w
        .until("the failed one named", |v| v["event"] == "warning")
        .await;
    assert_eq!(
        said["message"],
        "GraphQL (legacy subscriptions-transport-ws): subscription #2 returned errors: the ticker is broken"
    );
    for n in 1..=3 {
        let r = w.until("a result", |v| result(v, "data #1")).await;
        assert_eq!(
            r["decoded"],
            format!(r#"data #1 {{"data":{{"ticks":{n}}}}}"#)
        );
    }
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);

    // Asked for graphql-transport-ws alone: the newer protocol, with its ping as the
    // application heartbeat.
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "graphql-ws",
        "--subprotocol",
        "graphql-transport-ws",
        "--subscribe",
        "subscription { ticks }",
        "--app-ping-interval",
        "300ms",
        &url,
    ]);
    let ready = w.until("acked", is("ready")).await;
    assert_eq!(ready["protocol"], "graphql-ws");
    w.until("a result", |v| result(v, r#"next #1 {"data":{"ticks":1}}"#))
        .await;
    let mut rtts = 0;
    w.until("pings answered", |v| {
        rtts += usize::from(v["event"] == "rtt" && v["app"] == true);
        rtts == 3
    })
    .await;
    w.signal("-TERM").await;
    assert_eq!(w.finish().await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_server_keeps_its_ka_refuses_a_bad_init_and_is_subscribed_again_after_a_restart()
{
    let mut srv = Peer::start("graphql-legacy.js", &[]).await;
    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "graphql-ws",
        "--subscribe",
        "subscription { ticks }",
        "--reconnect-min",
        "100ms",
        &srv.url(),
    ]);
    let ready = w.until("acked", is("ready")).await;
    assert_eq!(ready["protocol"], "legacy subscriptions-transport-ws");
    // Two seconds of its keep-alives (one every 500 ms): no drop, results flowing, and the
    // keep-alives are not shown as data.
    let started = std::time::Instant::now();
    w.until("2 s of results", |v| {
        assert_ne!(v["event"], "closed", "dropped: {v}");
        started.elapsed() > std::time::Duration::from_secs(2) && result(v, "data #1")
    })
    .await;
    assert!(
        !w.seen
            .iter()
            .any(|v| v["event"] == "recv" && v["decoded"].as_str() == Some("ka")),
        "keep-alives are the heartbeat, not data"
    );
    srv.restart().await;
    w.until("closed", is("closed")).await;
    w.until("acked again", is("ready")).await;
    w.until("subscribed again", |v| {
        result(v, r#"data #1 {"data":{"ticks":1}}"#)
    })
    .await;
    w.signal("-TERM").await;
    let (code, lines, _) = w.finish().await;
    assert_eq!(code, 0);
    assert!(
        lines
            .iter()
            .any(|v| v["event"] == "sent" && v["decoded"] == "connection_terminate"),
        "the legacy goodbye before the close"
    );

    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "graphql-ws",
        "--init-payload",
        r#"{"token":"wrong"}"#,
        "--max-attempts",
        "1",
        &srv.url(),
    ]);
    let e = w.until("the refusal", is("error")).await;
    assert_eq!(
        e["message"],
        "GraphQL (legacy subscriptions-transport-ws): the server refused the connection: bad token"
    );
    assert_eq!(w.finish().await.0, 1);
}
