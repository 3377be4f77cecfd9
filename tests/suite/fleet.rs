//! A fleet of endpoints: `[[endpoint]]` tables, staggered engines against a real server,
//! headless lines naming their endpoint with `@NAME` routing, the Prometheus endpoint scraped
//! with a real HTTP client, and the overview's sort, filter, drill-down and broadcast.

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use common::bin::{Lines, is};
use tokio::io::AsyncWriteExt;
use wsmon::cli::ConnArgs;
use wsmon::config::{self, file};
use wsmon::engine::*;
use wsmon::server::{ServeOptions, Server};
use wsmon::session::Endpoint;

fn no_env(_: &str) -> Option<String> {
    None
}

fn endpoints_of(text: &str, cli_urls: &[&str]) -> Result<Vec<Endpoint>, String> {
    let f =
        file::parse(Path::new("/etc/wsmon.toml"), text.to_string()).map_err(|e| e.to_string())?;
    let urls: Vec<String> = cli_urls.iter().map(|s| s.to_string()).collect();
    config::load(&ConnArgs::default(), &urls, Some(&f), &no_env)
        .and_then(|c| c.watch_list())
        .map_err(|e| e.to_string())
}

const FLEET_TOML: &str = r#"ping_interval = "20s"
reconnect_max = "1m"

[[endpoint]]
name = "eu"
url = "ws://eu.example:1/feed?token=s3cret"
ping_interval = "5s"

[[endpoint]]
url = "ws://us.example:2/x"
[endpoint.headers]
X-Region = "us"
"#;

#[test]
fn endpoint_tables_layer_over_the_top_level_keys() {
    let eps = endpoints_of(FLEET_TOML, &[]).unwrap();
    let names: Vec<&str> = eps.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["eu", "us.example:2/x"],
        "a table without a name is named by its URL"
    );
    assert_eq!(eps[0].settings.ping_interval, Some(Duration::from_secs(5)));
    assert_eq!(eps[1].settings.ping_interval, Some(Duration::from_secs(20)));
    assert!(
        eps.iter()
            .all(|e| e.settings.reconnect_max == Duration::from_secs(60))
    );
    assert!(
        eps[1]
            .settings
            .headers
            .iter()
            .any(|(k, v)| k == "X-Region" && v == "us"),
        "{:?}",
        eps[1].settings.headers
    );
    assert!(
        !eps[0].settings.shown_url().contains("s3cret"),
        "tokens stay masked"
    );
    assert!(
        eps.iter().all(|e| !e.settings.stagger.is_zero()),
        "a fleet staggers its starts"
    );
}

#[test]
fn urls_on_the_command_line_replace_the_tables() {
    let eps = endpoints_of(FLEET_TOML, &["ws://a.example:9/", "ws://a.example:9/"]).unwrap();
    let names: Vec<&str> = eps.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["a.example:9", "a.example:9 #2"],
        "names stay unique"
    );
    let one = endpoints_of("", &["ws://solo.example/"]).unwrap();
    assert_eq!(one.len(), 1);
    assert!(
        one[0].settings.stagger.is_zero(),
        "one endpoint starts at once"
    );
}

#[test]
fn bad_endpoint_tables_name_the_line_and_the_fix() {
    let cases = [
        (
            "[[endpoint]]\nname = \"a\"\nurl = \"ws://h/1\"\n\n[[endpoint]]\nname = \"b\"\n",
            "line 5: this [[endpoint]] has no `url`",
        ),
        (
            "[[endpoint]]\nname = \"a\"\nurl = \"ws://h/1\"\n[[endpoint]]\nname = \"a\"\nurl = \"ws://h/2\"\n",
            "line 4: two endpoints are called `a`",
        ),
        (
            "url = \"ws://h/\"\n[[endpoint]]\nurl = \"ws://h/1\"\n",
            "line 1: `url` and [[endpoint]] tables are both set",
        ),
        (
            "[[endpoint]]\nurl = \"ws://h/1\"\nping_intervall = \"5s\"\n",
            "line 3",
        ),
        (
            "[[endpoint]]\nurl = \"ws://h/1\"\nping_interval = \"5ms\"\n",
            "ping_interval",
        ),
        (
            "[[endpoint]]\nurl = \"ws://h/1\"\nname = \"\"\n",
            "line 3: `name` must be",
        ),
    ];
    for (text, want) in cases {
        let err = endpoints_of(text, &[]).expect_err(text);
        assert!(
            err.contains(want),
            "for\n{text}\nexpected `{want}` in: {err}"
        );
        assert!(err.contains("/etc/wsmon.toml"), "names the file: {err}");
    }
    let err = endpoints_of(
        "[[endpoint]]\nurl = \"ws://h/1\"\nping_intervall = \"5s\"\n",
        &[],
    )
    .unwrap_err();
    assert!(
        err.contains("ping_intervall"),
        "names the unknown key: {err}"
    );
}

/// Events per engine of a fleet, collected from the shared channel.
async fn collect_until(
    rx: &mut tokio::sync::mpsc::Receiver<Tagged>,
    per: &mut HashMap<usize, Vec<Stamped>>,
    what: &str,
    done: impl Fn(&HashMap<usize, Vec<Stamped>>) -> bool,
) {
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    while !done(per) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((id, batch))) => per.entry(id).or_default().extend(batch.iter().cloned()),
            _ => panic!("timed out waiting for {what}"),
        }
    }
}

fn count(per: &HashMap<usize, Vec<Stamped>>, f: impl Fn(&Event) -> bool) -> usize {
    per.values()
        .filter(|evs| evs.iter().any(|s| f(&s.event)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_spreads_its_connects_and_its_reconnects_after_a_server_restart() {
    const N: usize = 24;
    let srv = common::echo_server().await;
    let port = srv.addr().port();
    let (tx, mut rx) = Engine::fleet_channel(N);
    let mut handles = Vec::new();
    for id in 0..N {
        let mut s = common::fast(&srv.url());
        s.stagger = Duration::from_secs(1);
        s.reconnect_min = Duration::from_millis(500);
        s.reconnect_max = Duration::from_secs(5);
        handles.push(Engine::spawn_tagged(s, id, tx.clone(), None));
    }
    drop(tx);
    let mut per: HashMap<usize, Vec<Stamped>> = HashMap::new();
    let is_open = |e: &Event| matches!(e, Event::Open(_));
    collect_until(&mut rx, &mut per, "every engine open", |p| {
        count(p, is_open) == N
    })
    .await;
    let opens: Vec<_> = per
        .values()
        .map(|evs| evs.iter().find(|s| is_open(&s.event)).unwrap().at)
        .collect();
    let spread = |ts: &[std::time::SystemTime]| {
        let min = ts.iter().min().unwrap();
        let max = ts.iter().max().unwrap();
        max.duration_since(*min).unwrap()
    };
    // Uniform over 1 s, 24 connects all within 300 ms has a chance below 1e-10.
    assert!(
        spread(&opens) >= Duration::from_millis(300),
        "connects spread: {:?}",
        spread(&opens)
    );

    // The server restarts: every connection drops at once.
    srv.kill().await;
    let is_retry = |e: &Event| matches!(e, Event::Retry { .. });
    collect_until(&mut rx, &mut per, "every engine retrying", |p| {
        count(p, is_retry) == N
    })
    .await;
    let delays: Vec<Duration> = per
        .values()
        .map(|evs| {
            evs.iter()
                .find_map(|s| match s.event {
                    Event::Retry { delay, .. } => Some(delay),
                    _ => None,
                })
                .unwrap()
        })
        .collect();
    let (lo, hi) = (delays.iter().min().unwrap(), delays.iter().max().unwrap());
    assert!(
        *lo >= Duration::from_millis(500) && *hi <= Duration::from_secs(1),
        "{delays:?}"
    );
    assert!(
        *hi - *lo >= Duration::from_millis(100),
        "first retries spread: {delays:?}"
    );

    // And they all come back once it is up again.
    let _srv = common::restart::server_on(port, ServeOptions::default()).await;
    for evs in per.values_mut() {
        evs.clear();
    }
    collect_until(&mut rx, &mut per, "every engine open again", |p| {
        count(p, is_open) == N
    })
    .await;
    for h in &handles {
        let _ = h.commands.send(Command::Shutdown).await;
    }
}

async fn scrape(port: u16) -> prometheus_parse::Scrape {
    let text = common::metrics_text(port).await;
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

/// The value of `name` with these labels.
fn value(s: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .and_then(|x| match &x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(*v),
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_fleet_names_each_line_routes_at_name_and_serves_metrics() {
    let a = Server::start(ServeOptions {
        keep_texts: 1000,
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let b = Server::start(ServeOptions {
        keep_texts: 1000,
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let (name_a, name_b) = (
        format!("127.0.0.1:{}", a.addr().port()),
        format!("127.0.0.1:{}", b.addr().port()),
    );
    let mut w = Lines::spawn(&[
        "--headless",
        "--ping-interval",
        "200ms",
        "--reconnect-min",
        "100ms",
        "--reconnect-max",
        "300ms",
        "--metrics",
        "127.0.0.1:0",
        &a.url(),
        &b.url(),
    ]);
    // Port 0: the one it got is on stderr.
    let mport = w.metrics_port().await;
    let mut opened = Vec::new();
    while opened.len() < 2 {
        let o = w.until("open", is("open")).await;
        opened.push(
            o["endpoint"]
                .as_str()
                .expect("every line names its endpoint")
                .to_string(),
        );
    }
    opened.sort();
    let mut want = vec![name_a.clone(), name_b.clone()];
    want.sort();
    assert_eq!(opened, want);

    let mut stdin = w.child.stdin.take().unwrap();
    stdin
        .write_all(format!("@{name_b} only-b\n@{name_b}x typo\nto-all\n").as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    let mut echoes = Vec::new();
    while echoes.len() < 3 {
        let r = w.until("echoes", is("recv")).await;
        echoes.push((
            r["endpoint"].as_str().unwrap().to_string(),
            r["data"].as_str().unwrap().to_string(),
        ));
    }
    echoes.sort();
    let mut want = vec![
        (name_a.clone(), "to-all".to_string()),
        (name_b.clone(), "only-b".to_string()),
        (name_b.clone(), "to-all".to_string()),
    ];
    want.sort();
    assert_eq!(echoes, want);
    assert_eq!(a.stats().texts(), ["to-all"]);
    assert_eq!(b.stats().texts(), ["only-b", "to-all"]);
    // A name that is not there: refused, with the names that are.
    let refused = w
        .stderr_until(&format!("no endpoint is named `{name_b}x`"))
        .await;
    assert!(
        refused.contains(&name_a) && refused.contains(&name_b),
        "{refused}"
    );
    let seen_rtt = |w: &Lines| {
        w.seen
            .iter()
            .any(|v| v["event"] == "rtt" && v["endpoint"] == name_a.as_str())
    };
    if !seen_rtt(&w) {
        w.until("an RTT sample of a", |v| {
            v["event"] == "rtt" && v["endpoint"] == name_a.as_str()
        })
        .await;
    }
    let m = scrape(mport).await;
    for n in [&name_a, &name_b] {
        assert_eq!(
            value(&m, "wsmon_up", &[("endpoint", n)]),
            Some(1.0),
            "{n} up"
        );
        assert_eq!(
            value(&m, "wsmon_state", &[("endpoint", n)]),
            Some(2.0),
            "{n} open"
        );
        assert!(value(&m, "wsmon_uptime_seconds", &[("endpoint", n)]).unwrap() > 0.0);
    }
    let out = |n: &str| {
        value(
            &m,
            "wsmon_messages_total",
            &[("endpoint", n), ("direction", "out")],
        )
    };
    assert_eq!((out(&name_a), out(&name_b)), (Some(1.0), Some(2.0)));
    assert_eq!(
        value(
            &m,
            "wsmon_bytes_total",
            &[("endpoint", &name_b), ("direction", "in")]
        ),
        Some(12.0),
        "only-b + to-all echoed"
    );
    // The RTT histogram: buckets are cumulative and +Inf holds every sample.
    let hist = m
        .samples
        .iter()
        .find(|s| {
            s.metric == "wsmon_rtt_seconds" && s.labels.get("endpoint") == Some(name_a.as_str())
        })
        .expect("an RTT histogram per endpoint");
    let prometheus_parse::Value::Histogram(buckets) = &hist.value else {
        panic!("wsmon_rtt_seconds is a histogram: {:?}", hist.value)
    };
    let count = buckets
        .iter()
        .find(|b| b.less_than.is_infinite())
        .unwrap()
        .count;
    assert!(count >= 1.0, "{buckets:?}");
    assert!(
        buckets.windows(2).all(|w| w[0].count <= w[1].count),
        "cumulative: {buckets:?}"
    );
    assert!(
        buckets
            .iter()
            .filter(|b| b.less_than >= 0.25)
            .all(|b| b.count == count),
        "loopback RTT is under 250 ms: {buckets:?}"
    );

    // Endpoint a's server goes away: its metrics say so, b's do not change.
    a.kill().await;
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    loop {
        let m = scrape(mport).await;
        // Seen down once a dial failed: the drop alone says only that the connection ended.
        let down = value(&m, "wsmon_up", &[("endpoint", &name_a)]) == Some(0.0)
            && value(
                &m,
                "wsmon_health",
                &[("endpoint", &name_a), ("health", "down")],
            ) == Some(1.0);
        let failures: f64 = ["refused", "io", "protocol"]
            .iter()
            .filter_map(|c| {
                value(
                    &m,
                    "wsmon_failures_total",
                    &[("endpoint", &name_a), ("cause", c)],
                )
            })
            .sum();
        if down && failures >= 1.0 {
            assert_eq!(value(&m, "wsmon_up", &[("endpoint", &name_b)]), Some(1.0));
            assert!(
                value(
                    &m,
                    "wsmon_disconnected_seconds_total",
                    &[("endpoint", &name_a)]
                )
                .unwrap()
                    > 0.0
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a's metrics never showed it down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = tokio::task::spawn_blocking(move || {
        ureq::get(&format!("http://127.0.0.1:{mport}/nope")).call()
    })
    .await
    .unwrap();
    assert!(
        matches!(status, Err(ureq::Error::StatusCode(404))),
        "{status:?}"
    );

    w.signal("-TERM").await;
    let (code, seen, err) = w.finish().await;
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        err.contains(&format!("http://127.0.0.1:{mport}/metrics")),
        "says where metrics are: {err}"
    );
    assert!(
        seen.iter().all(|v| v["endpoint"].is_string()),
        "every line names its endpoint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_feed_is_stale_in_the_metrics_and_fresh_again_when_data_flows() {
    // The server says nothing of its own: only the echo of what is sent.
    let server = Server::start(ServeOptions {
        keep_texts: 100,
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let name = format!("127.0.0.1:{}", server.addr().port());
    let mut w = Lines::spawn(&[
        "--headless",
        "--stale-after",
        "1s",
        "--metrics",
        "127.0.0.1:0",
        &server.url(),
    ]);
    let mport = w.metrics_port().await;
    let stale = w.until("stale", is("stale")).await;
    assert!(stale["silent_ms"].as_u64().unwrap() >= 1000, "{stale}");
    let m = scrape(mport).await;
    let one = |metric: &str| value(&m, metric, &[("endpoint", &name)]);
    assert_eq!(one("wsmon_up"), Some(1.0), "open, and yet");
    assert_eq!(one("wsmon_stale"), Some(1.0));
    assert_eq!(one("wsmon_stales_total"), Some(1.0));
    let age = one("wsmon_last_message_age_seconds").unwrap();
    assert!(age >= 1.0, "no data since the open: {age}");
    assert_eq!(
        value(
            &m,
            "wsmon_unanswered_pings",
            &[("endpoint", &name), ("heartbeat", "application")]
        ),
        Some(0.0)
    );

    let mut stdin = w.child.stdin.take().unwrap();
    let sent = std::time::Instant::now();
    stdin.write_all(b"wake up\n").await.unwrap();
    stdin.flush().await.unwrap();
    let fresh = w.until("fresh", is("fresh")).await;
    assert!(fresh["silent_ms"].as_u64().unwrap() >= 1000, "{fresh}");
    let m = scrape(mport).await;
    let one = |metric: &str| value(&m, metric, &[("endpoint", &name)]);
    assert_eq!(one("wsmon_stale"), Some(0.0), "the echo is data");
    assert_eq!(one("wsmon_stales_total"), Some(1.0));
    let age = one("wsmon_last_message_age_seconds").unwrap();
    let bound = sent.elapsed().as_secs_f64();
    assert!(
        age <= bound,
        "the echo came after it was sent: {age} > {bound}"
    );
    w.signal("-TERM").await;
    let (code, _, err) = w.finish().await;
    assert_eq!(code, 0, "stderr: {err}");
}

#[test]
fn a_fleet_larger_than_the_open_files_limit_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.toml");
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!("[[endpoint]]\nurl = \"ws://127.0.0.1:9/{i}\"\n"));
    }
    std::fs::write(&path, text).unwrap();
    let mut c = std::process::Command::new("sh");
    c.arg("-c").arg(format!(
        "ulimit -n 60 && exec {} --headless --config {}",
        env!("CARGO_BIN_EXE_wsmon"),
        path.display()
    ));
    common::bin::hermetic(&mut c, &common::bin::sandbox());
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("100 endpoints need about 164 open files") && err.contains("ulimit -n 164"),
        "{err}"
    );
}

#[test]
fn record_with_a_fleet_is_refused_with_the_fix() {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wsmon"));
    c.args([
        "--headless",
        "--record",
        "never.jsonl",
        "ws://127.0.0.1:9/a",
        "ws://127.0.0.1:9/b",
    ]);
    common::bin::hermetic(&mut c, &common::bin::sandbox());
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--record records one endpoint and 2 are given"),
        "{err}"
    );
    assert!(!std::path::Path::new("/tmp/wsmon-never.jsonl").exists());
}

// ---- the overview -----------------------------------------------------------------------------
