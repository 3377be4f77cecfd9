//! The mqtt and stomp presets against the brokers people run, from Debian: mosquitto, and
//! RabbitMQ with its web STOMP and web MQTT plugins. Each stays up through several heartbeat
//! periods, receives what another client publishes, sends what is typed (and the broker
//! confirms it), comes back after a broker restart with its subscriptions restored, and
//! names the broker's refusals.

use crate::common;

use std::time::{Duration, Instant};

use common::bin::{Lines, wsmon};
use common::brokers::{self, USER};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

fn is(event: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == event
}

fn decoded(v: &Value) -> &str {
    v["decoded"].as_str().unwrap_or("")
}

/// Stops wsmon; its output must say it said goodbye (`goodbye`, as decoded) before closing.
async fn stop_with_goodbye(w: Lines, goodbye: &str) -> Vec<Value> {
    w.signal("-TERM").await;
    let (code, lines, err) = w.finish().await;
    assert_eq!(code, 0, "{err}");
    assert!(
        lines
            .iter()
            .any(|v| v["event"] == "sent" && decoded(v).starts_with(goodbye)),
        "{goodbye} before the close"
    );
    lines
}

/// Waits until `n` application RTTs came after the last line seen, with no drop between.
async fn stays_up(w: &mut Lines, n: usize) {
    let mut rtts = 0;
    let v = w
        .until("heartbeats", |v| {
            rtts += usize::from(v["event"] == "rtt" && v["app"] == true);
            rtts == n || v["event"] == "closed"
        })
        .await;
    assert_eq!(v["event"], "rtt", "dropped while idle: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_with_mosquitto() {
    let mut broker = brokers::mosquitto().await;
    let mut cmd = wsmon(&[
        "--headless",
        "--preset",
        "mqtt",
        "--username",
        USER.0,
        "--subscribe",
        "sensors/#",
        "--app-ping-interval",
        "500ms",
        "--reconnect-min",
        "100ms",
        &broker.url(),
    ]);
    // The password from the environment: not on the command line.
    cmd.env("WSMON_PASSWORD", USER.1);
    let mut w = Lines::spawn_cmd(cmd);
    let ready = w.until("ready", is("ready")).await;
    assert!(
        ready["detail"]
            .as_str()
            .unwrap()
            .contains("CONNACK accepted · MQTT 3.1.1"),
        "{ready}"
    );
    assert!(
        ready["detail"]
            .as_str()
            .unwrap()
            .ends_with("keep-alive 1s · subscribing to sensors/#"),
        "{ready}"
    );
    // Four keep-alive periods (the broker drops a client silent for 1.5 of them).
    stays_up(&mut w, 8).await;
    assert!(
        !w.seen
            .iter()
            .any(|v| v["event"] == "sent" && decoded(v).contains(USER.1)),
        "the password is never shown"
    );

    // What another client publishes comes in, read as `topic payload`.
    broker.publish("sensors/1", r#"{"t":21}"#).await;
    let got = w
        .until("the publish", |v| {
            v["event"] == "recv" && decoded(v).starts_with("sensors/1")
        })
        .await;
    assert_eq!(decoded(&got), r#"sensors/1 {"t":21} · QoS 1"#);

    // A typed line publishes; the broker delivers it to another client and acknowledges it.
    let other = broker.receive_one("sensors/typed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut stdin = w.child.stdin.take().unwrap();
    stdin
        .write_all(b"sensors/typed hello broker\n")
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    assert_eq!(other.await.unwrap(), "hello broker");
    w.until("the PUBACK", |v| {
        v["event"] == "recv" && decoded(v).starts_with("PUBACK")
    })
    .await;
    // A line the protocol cannot send is named, not sent raw.
    stdin.write_all(b"sensors/# nope\n").await.unwrap();
    let why = w.until("why it is not sent", is("warning")).await;
    assert_eq!(why["code"], "not_sent", "{why}");
    assert!(
        why["message"].as_str().unwrap().starts_with("not sent: "),
        "{why}"
    );
    let d = w.until("not sent", is("dropped")).await;
    assert_eq!(d["reason"], "unsendable", "{d}");

    // The broker restarts: back, subscribed again, and publishes flow again.
    broker.daemon.restart().await;
    w.until("closed", is("closed")).await;
    w.until("ready again", is("ready")).await;
    broker.publish("sensors/2", "after the restart").await;
    w.until("a publish after the restart", |v| {
        v["event"] == "recv" && decoded(v) == "sensors/2 after the restart · QoS 1"
    })
    .await;
    let lines = stop_with_goodbye(w, "DISCONNECT 0x00").await;
    assert!(
        !lines.iter().any(|v| v["event"] == "unconfirmed"),
        "every publish was acknowledged"
    );

    // A wrong password: the refusal, named, on every attempt.
    let out = wsmon(&[
        "--headless",
        "--preset",
        "mqtt",
        "--username",
        USER.0,
        "--password",
        "wrong",
        "--max-attempts",
        "2",
        &broker.url(),
    ])
    .output()
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "gives up: {text}");
    assert!(
        text.contains(
            "MQTT: the broker refused the connection: not authorized (CONNACK 0x05, MQTT 3.1.1)"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stomp_and_mqtt_with_rabbitmq() {
    let booted = Instant::now();
    let mut rabbit = brokers::rabbitmq().await;
    let boot = booted.elapsed();

    // The host header is the URL's host by default, which RabbitMQ takes for a virtual
    // host: the refusal says what to set.
    let refused = |extra: &'static [&'static str], password: &'static str| {
        let url = rabbit.stomp_url();
        async move {
            let mut args = vec!["--headless", "--preset", "stomp", "--max-attempts", "1"];
            args.extend(extra);
            args.extend(["--username", USER.0, "--password", password]);
            args.push(&url);
            let out = wsmon(&args).output().await.unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let text = refused(&[], USER.1).await;
    assert!(
        text.contains("STOMP: the server sent ERROR")
            && text.contains("Virtual host '127.0.0.1' access denied")
            && text.contains("set stomp_host"),
        "{text}"
    );
    // A wrong password.
    let text = refused(&["--stomp-host", "/"], "wrong").await;
    assert!(
        text.contains("STOMP: the server sent ERROR: Bad CONNECT"),
        "{text}"
    );

    let mut w = Lines::spawn(&[
        "--headless",
        "--preset",
        "stomp",
        "--stomp-host",
        "/",
        // The test's user may read MQTT sensor topics only; guest may read any.
        "--username",
        "guest",
        "--password",
        "guest",
        "--subscribe",
        "/topic/ticks",
        "--app-ping-interval",
        "500ms",
        "--reconnect-min",
        "200ms",
        &rabbit.stomp_url(),
    ]);
    let ready = w.until("CONNECTED", is("ready")).await;
    let detail = ready["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("CONNECTED · STOMP 1.2 · server RabbitMQ/")
            && detail.contains("heart-beats: wsmon 1s, server 1s")
            && detail.ends_with("subscribed to /topic/ticks"),
        "{detail}"
    );
    // Several agreed heart-beat periods: the broker's beats are judged and wsmon's kept.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut stdin = w.child.stdin.take().unwrap();
    stdin
        .write_all(b"/topic/ticks hello stomp\n")
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    // What is sent comes back through the subscription, and the broker's receipt confirms it.
    let msg = w
        .until("the message", |v| {
            v["event"] == "recv" && decoded(v) == "/topic/ticks hello stomp"
        })
        .await;
    assert!(msg["data"].as_str().unwrap().starts_with("MESSAGE\n"));
    w.until("the receipt", |v| {
        v["event"] == "recv" && decoded(v) == "RECEIPT 1"
    })
    .await;
    assert!(
        !w.seen.iter().any(|v| v["event"] == "closed"),
        "stayed up through the heart-beats: {:?}",
        w.seen
    );

    // MQTT on the same broker: a topic the user may not read is refused, and said so (RabbitMQ
    // answers it by closing the connection, not with a SUBACK code).
    let mqtt = |filters: &[&str]| {
        let mut args = vec![
            "--headless".to_string(),
            "--preset".into(),
            "mqtt".into(),
            "--username".into(),
            USER.0.into(),
            "--password".into(),
            USER.1.into(),
        ];
        for f in filters {
            args.push("--subscribe".into());
            args.push(f.to_string());
        }
        args.push(rabbit.mqtt_url());
        Lines::spawn(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let mut m = mqtt(&["sensors/#", "secret/#"]);
    m.until("CONNACK", is("ready")).await;
    let refusal = m
        .until("the refusal", |v| {
            v["event"] == "warning" && v["message"].as_str().unwrap_or("").contains("secret/#")
        })
        .await;
    let said = refusal["message"].as_str().unwrap();
    assert!(
        said.starts_with("MQTT: the broker")
            && said.contains("SUBSCRIBE to sensors/#, secret/#")
            && said.contains("refuses"),
        "{said}"
    );
    m.signal("-TERM").await;
    m.finish().await;
    let mut m = mqtt(&["sensors/#"]);
    m.until("CONNACK", is("ready")).await;
    m.until("SUBACK", |v| {
        v["event"] == "recv" && decoded(v) == "SUBACK #1 granted QoS 1"
    })
    .await;
    let mut mqtt_in = m.child.stdin.take().unwrap();
    mqtt_in.write_all(b"sensors/rabbit hi\n").await.unwrap();
    mqtt_in.flush().await.unwrap();
    m.until("its own publish, through its subscription", |v| {
        v["event"] == "recv" && decoded(v).starts_with("sensors/rabbit hi")
    })
    .await;
    m.signal("-TERM").await;
    assert_eq!(m.finish().await.0, 0);

    // RabbitMQ restarts: the STOMP session comes back subscribed.
    let restarted = Instant::now();
    rabbit.daemon.restart().await;
    let reboot = restarted.elapsed();
    w.until("closed", is("closed")).await;
    w.until("CONNECTED again", is("ready")).await;
    stdin
        .write_all(b"/topic/ticks after the restart\n")
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    w.until("a message after the restart", |v| {
        v["event"] == "recv" && decoded(v) == "/topic/ticks after the restart"
    })
    .await;
    stop_with_goodbye(w, "DISCONNECT").await;
    eprintln!("rabbitmq: booted in {boot:.1?}, restarted in {reboot:.1?}");
}
