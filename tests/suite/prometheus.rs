//! wsmon beside a real Prometheus (Debian's, started by `common::debian::prometheus`): the
//! long-lived fleet scraped at /metrics, blackbox-style probes through /probe with the
//! relabelling users copy from contrib/prometheus, a targets file read again while it runs,
//! shards that split it as Prometheus's own hashmod does, and the shipped rules and config
//! checked by promtool.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::debian::{self, Daemon};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use wsmon::server::ServeOptions;

/// A headless wsmon serving metrics, its JSON lines thrown away (a thousand connections say
/// a lot), its stderr kept.
struct Exporter {
    child: Child,
    port: u16,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Exporter {
    async fn start(args: &[&str]) -> Exporter {
        let mut all = vec!["--headless", "--metrics", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut c = common::bin::wsmon(&all);
        c.stdout(Stdio::null());
        let mut child = c.spawn().expect("wsmon runs");
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let port = loop {
            let line = tokio::time::timeout(common::PATIENCE, err.next_line())
                .await
                .expect("wsmon says where its metrics are")
                .unwrap()
                .unwrap_or_else(|| panic!("wsmon ended: {:?}", stderr.lock().unwrap()));
            stderr.lock().unwrap().push(line.clone());
            if let Some(rest) = line.strip_prefix("wsmon: Prometheus metrics at http://127.0.0.1:")
            {
                break rest.trim_end_matches("/metrics").parse().unwrap();
            }
        };
        let kept = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        Exporter {
            child,
            port,
            stderr,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    async fn scrape(&self) -> prometheus_parse::Scrape {
        let text = common::metrics_text(self.port).await;
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
    }

    /// Scrapes until `done` holds.
    async fn scrape_until(
        &self,
        what: &str,
        done: impl Fn(&prometheus_parse::Scrape) -> bool,
    ) -> prometheus_parse::Scrape {
        let deadline = Instant::now() + common::PATIENCE * 2;
        loop {
            let s = self.scrape().await;
            if done(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: never; stderr: {:?}",
                self.stderr.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn said(&self, needle: &str) -> bool {
        self.stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn value(v: &prometheus_parse::Value) -> f64 {
    match v {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        other => panic!("not a number: {other:?}"),
    }
}

/// Each endpoint's value of `metric`.
fn by_endpoint(s: &prometheus_parse::Scrape, metric: &str) -> Vec<(String, f64)> {
    s.samples
        .iter()
        .filter(|x| x.metric == metric)
        .map(|x| {
            (
                x.labels.get("endpoint").unwrap_or("").to_string(),
                value(&x.value),
            )
        })
        .collect()
}

fn one(s: &prometheus_parse::Scrape, metric: &str) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == metric)
        .map(|x| value(&x.value))
}

/// A targets file of `urls`, YAML, each in its own group labelled `shard=I`.
fn targets_yaml(urls: &[String]) -> String {
    urls.iter()
        .enumerate()
        .map(|(i, u)| format!("- targets: [\"{u}\"]\n  labels: {{group: g{}}}\n", i % 4))
        .collect()
}

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The relabelling of contrib/prometheus/prometheus.yml's probe job, sending probes to `to`.
fn probe_relabelling(to: &str) -> String {
    format!(
        "    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: {to}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_fleet_and_probes_an_up_a_401_a_tls_failed_and_a_regex_failed_target()
 {
    let ticking = common::server(ServeOptions {
        tick: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .await;
    let quiet = common::server(ServeOptions::default()).await;
    let refusing = common::server(ServeOptions {
        reject: Some(401),
        reject_body: Some("token expired".into()),
        ..Default::default()
    })
    .await;
    let pki = common::pki::pki(&["localhost"], false);
    let untrusted = common::server(ServeOptions {
        tls: Some((pki.cert.clone(), pki.key.clone())),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wsmon.toml");
    std::fs::write(
        &config,
        "[module.tick]\nexpect = \"tick\"\ntimeout = \"3s\"\n\n[module.never]\nexpect = \"^no such message$\"\ntimeout = \"1s\"\n",
    )
    .unwrap();
    // The long-lived fleet: the quiet server stays up, the refusing one down.
    let fleet = dir.path().join("fleet.yml");
    let quiet_url = format!("{}fleet", quiet.url());
    let refused_url = format!("{}fleet", refusing.url());
    std::fs::write(
        &fleet,
        format!("- targets: ['{quiet_url}']\n  labels: {{region: eu}}\n- targets: ['{refused_url}']\n  labels: {{region: us}}\n"),
    )
    .unwrap();
    let w = Exporter::start(&[
        "--config",
        config.to_str().unwrap(),
        "--targets-file",
        fleet.to_str().unwrap(),
    ])
    .await;

    // What Prometheus probes, each with its module by label, as a user's file-SD file says.
    let up = ticking.url();
    let refused = refusing.url();
    let tls = untrusted.url().replace("127.0.0.1", "localhost");
    let regex = format!("{}regex", ticking.url());
    let probes = format!(
        "- targets: ['{up}']\n  labels: {{__param_module: tick}}\n- targets: ['{refused}', '{tls}']\n- targets: ['{regex}']\n  labels: {{__param_module: never}}\n"
    );
    let shard_targets: Vec<String> = (0..40)
        .map(|i| format!("{}shard-{i}", quiet.url()))
        .collect();
    let prom_config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: wsmon_fleet\n    static_configs:\n      - targets: ['{addr}']\n  - job_name: wsmon_probe\n    metrics_path: /probe\n    scrape_timeout: 5s\n    scrape_interval: 6s\n    file_sd_configs:\n      - files: [probes.yml]\n{relabel}  - job_name: shard_0\n    metrics_path: /probe\n    scrape_interval: 5s\n    scrape_timeout: 4s\n    file_sd_configs:\n      - files: [shards.yml]\n    relabel_configs:\n      - source_labels: [__address__]\n        modulus: 2\n        target_label: __tmp_shard\n        action: hashmod\n      - source_labels: [__tmp_shard]\n        regex: '0'\n        action: keep\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: {addr}\n",
        addr = w.addr(),
        relabel = probe_relabelling(&w.addr()),
    );
    let shards_yaml = targets_yaml(&shard_targets);
    let prom: Daemon = debian::prometheus(
        &prom_config,
        &[("probes.yml", &probes), ("shards.yml", &shards_yaml)],
    )
    .await;
    debian::promtool(prom.dir.path(), &["check", "config", "prometheus.yml"]);

    // The fleet: up and down, with the targets file's labels.
    let r = prom.query_until("wsmon_up", |r| r.len() == 2).await;
    for (labels, v) in &r {
        let want = if labels["region"] == "eu" { 1.0 } else { 0.0 };
        assert_eq!(*v, want, "{labels}");
        assert_eq!(labels["job"], "wsmon_fleet");
    }
    let r = prom
        .query_until(
            r#"wsmon_failures_total{cause="http",region="us"} > 0"#,
            |r| r.len() == 1,
        )
        .await;
    assert!(r[0].1 >= 1.0);
    assert_eq!(
        prom.query("wsmon_targets_file_ok").await[0].1,
        1.0,
        "the targets file read"
    );

    // The probes, as a blackbox exporter user reads them.
    let probe = |name: &'static str, series: usize| {
        let prom = &prom;
        async move {
            prom.query_until(&format!("{name}{{job=\"wsmon_probe\"}}"), |r| {
                r.len() >= series
            })
            .await
            .into_iter()
            .map(|(l, v)| (l["instance"].as_str().unwrap().to_string(), (l, v)))
            .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let success = probe("probe_success", 4).await;
    assert_eq!(success[&up].1, 1.0, "up: {:?}", success[&up]);
    for t in [&refused, &tls, &regex] {
        assert_eq!(success[t].1, 0.0, "{t}: {:?}", success[t]);
    }
    let status = probe("probe_websocket_status_code", 4).await;
    assert_eq!(status[&up].1, 101.0);
    assert_eq!(status[&refused].1, 401.0);
    assert_eq!(status[&tls].1, 0.0);
    let upgraded = probe("probe_websocket_connection_upgraded", 4).await;
    assert_eq!(upgraded[&up].1, 1.0);
    assert_eq!(upgraded[&regex].1, 1.0);
    assert_eq!(upgraded[&refused].1, 0.0);
    let regex_failed = probe("probe_failed_due_to_regex", 4).await;
    assert_eq!(regex_failed[&regex].1, 1.0);
    assert_eq!(regex_failed[&up].1, 0.0);
    // The failure's phase and cause, as labels.
    let failures = prom
        .query_until(r#"probe_ws_failure_info{job="wsmon_probe"}"#, |r| {
            r.len() == 3
        })
        .await;
    let phase_of = |t: &str| {
        let (l, _) = failures
            .iter()
            .find(|(l, _)| l["instance"] == t)
            .unwrap_or_else(|| panic!("{t}: {failures:?}"));
        (
            l["phase"].as_str().unwrap().to_string(),
            l["cause"].as_str().unwrap().to_string(),
            l["message"].as_str().unwrap().to_string(),
        )
    };
    let (phase, cause, message) = phase_of(&refused);
    assert_eq!((phase.as_str(), cause.as_str()), ("upgrade", "http"));
    assert!(
        message.contains("401") && message.contains("token expired"),
        "{message}"
    );
    let (phase, cause, message) = phase_of(&tls);
    assert_eq!(
        (phase.as_str(), cause.as_str()),
        ("tls", "tls"),
        "{message}"
    );
    assert!(
        message.contains("unknown CA") || message.contains("self-signed"),
        "{message}"
    );
    let (phase, cause, _) = phase_of(&regex);
    assert_eq!((phase.as_str(), cause.as_str()), ("expect", "timeout"));
    // A TLS probe that failed still gives the certificate's expiry (from the chain it saw).
    let expiry = prom
        .query_until(
            &format!("probe_ssl_earliest_cert_expiry{{instance=\"{tls}\"}}"),
            |r| r.len() == 1,
        )
        .await;
    assert!(expiry[0].1 > 1.7e9, "{expiry:?}");
    let rtt = probe("probe_ws_rtt_seconds", 2).await;
    assert!(rtt[&up].1 > 0.0 && rtt[&up].1 < 1.0, "{:?}", rtt[&up]);
    let phases = prom
        .query_until(
            &format!("probe_websocket_duration_seconds{{instance=\"{up}\"}}"),
            |r| r.len() >= 3,
        )
        .await;
    let names: BTreeSet<&str> = phases
        .iter()
        .map(|(l, _)| l["phase"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["connect", "resolve", "upgrade"]));

    // Prometheus's hashmod and `wsmon --shard 0/2` choose the same targets.
    let shard = wsmon::targets::Shard { index: 0, count: 2 };
    let by_wsmon: BTreeSet<String> = shard_targets
        .iter()
        .filter(|u| shard.holds(u))
        .cloned()
        .collect();
    // Every kept target is scraped once within the job's interval.
    let kept = prom
        .query_until(r#"up{job="shard_0"}"#, |r| r.len() >= by_wsmon.len())
        .await;
    let by_prometheus: BTreeSet<String> = kept
        .iter()
        .map(|(l, _)| l["instance"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(by_prometheus, by_wsmon);
    assert!(!by_wsmon.is_empty() && by_wsmon.len() < shard_targets.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_targets_reload_adding_and_removing_a_hundred_while_nine_hundred_keep_their_uptime()
 {
    const N: usize = 1000;
    let srv = common::server(ServeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.yml");
    let urls: Vec<String> = (0..N + 100).map(|i| format!("{}t{i}", srv.url())).collect();
    std::fs::write(&file, targets_yaml(&urls[..N])).unwrap();
    let w = Exporter::start(&["--targets-file", file.to_str().unwrap()]).await;
    let prom = debian::prometheus(
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: wsmon_fleet\n    static_configs:\n      - targets: ['{}']\n",
            w.addr()
        ),
        &[],
    )
    .await;
    // One PromQL result for the whole fleet: every target up, counted by its label.
    let r = prom
        .query_until("count by (group) (wsmon_up == 1)", |r| {
            r.iter().map(|(_, v)| *v).sum::<f64>() == N as f64
        })
        .await;
    assert_eq!(r.len(), 4, "{r:?}");
    let before = w.scrape().await;
    let uptime_before: std::collections::HashMap<String, f64> =
        by_endpoint(&before, "wsmon_uptime_seconds")
            .into_iter()
            .collect();
    assert_eq!(uptime_before.len(), N);

    // Drop the first hundred, add a hundred new ones.
    let reloaded_at = Instant::now();
    write_atomically(&file, &targets_yaml(&urls[100..N + 100]));
    let after = w
        .scrape_until("the reload applied and the new targets open", |s| {
            one(s, "wsmon_targets_file_reloads_total") == Some(1.0)
                && by_endpoint(s, "wsmon_up")
                    .iter()
                    .filter(|(_, v)| *v == 1.0)
                    .count()
                    == N
        })
        .await;
    let waited = reloaded_at.elapsed().as_secs_f64();
    let name = |u: &String| u.trim_start_matches("ws://").to_string();
    let up: std::collections::HashMap<String, f64> =
        by_endpoint(&after, "wsmon_up").into_iter().collect();
    let uptime: std::collections::HashMap<String, f64> =
        by_endpoint(&after, "wsmon_uptime_seconds")
            .into_iter()
            .collect();
    let dials: std::collections::HashMap<String, f64> = by_endpoint(&after, "wsmon_dials_total")
        .into_iter()
        .collect();
    assert_eq!(up.len(), N, "the removed ones are gone from the metrics");
    for u in &urls[..100] {
        assert!(!up.contains_key(&name(u)), "{u} was removed");
    }
    for u in &urls[100..N] {
        let n = name(u);
        // Kept: the same connection, its uptime grown through the reload.
        assert_eq!(dials[&n], 1.0, "{n} was not dialled again");
        assert!(
            uptime[&n] >= uptime_before[&n] + waited * 0.5,
            "{n}: uptime {} then {}",
            uptime_before[&n],
            uptime[&n]
        );
    }
    for u in &urls[N..] {
        let n = name(u);
        assert_eq!(up[&n], 1.0, "{n} is new and open");
        assert!(uptime[&n] < uptime[&name(&urls[100])], "{n} is newer");
    }
    assert!(
        w.said("100 added, 100 removed, 1000 watched"),
        "{:?}",
        w.stderr
    );
    let r = prom
        .query_until("wsmon_targets_file_reloads_total", |r| {
            r.first().is_some_and(|(_, v)| *v == 1.0)
        })
        .await;
    assert_eq!(r.len(), 1);

    // A bad file keeps the last good set, and says so.
    write_atomically(&file, "- targets: [\n");
    let bad = w
        .scrape_until("the bad file is refused", |s| {
            one(s, "wsmon_targets_file_ok") == Some(0.0)
        })
        .await;
    assert_eq!(one(&bad, "wsmon_targets"), Some(N as f64));
    assert_eq!(by_endpoint(&bad, "wsmon_up").len(), N);
    assert!(w.said("targets file refused, still watching the last good set of 1000"));

    // SIGHUP reads it again (and the service goes on).
    write_atomically(&file, &targets_yaml(&urls[..10]));
    let _ = tokio::process::Command::new("kill")
        .args(["-HUP", &w.child.id().unwrap().to_string()])
        .status()
        .await;
    let s = w
        .scrape_until("the good file is back", |s| {
            one(s, "wsmon_targets_file_ok") == Some(1.0) && one(s, "wsmon_targets") == Some(10.0)
        })
        .await;
    assert_eq!(by_endpoint(&s, "wsmon_up").len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_split_one_targets_file_with_no_target_in_both() {
    const N: usize = 1000;
    let srv = common::server(ServeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.json");
    let urls: Vec<String> = (0..N).map(|i| format!("{}s{i}", srv.url())).collect();
    let json: Vec<serde_json::Value> = urls
        .iter()
        .map(|u| serde_json::json!({"targets": [u], "labels": {"team": "a"}}))
        .collect();
    std::fs::write(&file, serde_json::to_string(&json).unwrap()).unwrap();
    let f = file.to_str().unwrap();
    let a = Exporter::start(&["--targets-file", f, "--shard", "0/2"]).await;
    let b = Exporter::start(&["--targets-file", f, "--shard", "1/2"]).await;
    let mut sets = Vec::new();
    for w in [&a, &b] {
        let s = w
            .scrape_until("the shard's targets are open", |s| {
                let up = by_endpoint(s, "wsmon_up");
                !up.is_empty() && up.iter().all(|(_, v)| *v == 1.0)
            })
            .await;
        let names: BTreeSet<String> = by_endpoint(&s, "wsmon_up")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(one(&s, "wsmon_targets"), Some(names.len() as f64));
        sets.push(names);
    }
    assert!(sets[0].is_disjoint(&sets[1]), "a target in both shards");
    assert_eq!(sets[0].len() + sets[1].len(), N);
    // md5 spreads them about evenly.
    assert!((400..600).contains(&sets[0].len()), "{}", sets[0].len());
}

#[test]
fn the_shipped_rules_pass_their_tests_and_the_scrape_config_is_valid() {
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/prometheus");
    let out = debian::promtool(&contrib, &["test", "rules", "wsmon.rules.test.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
    let out = debian::promtool(&contrib, &["check", "config", "prometheus.yml"]);
    assert!(out.contains("SUCCESS: 1 rule files found"), "{out}");
    let out = debian::promtool(&contrib, &["check", "rules", "wsmon.rules.yml"]);
    assert!(out.contains("SUCCESS: 8 rules found"), "{out}");
}

/// Sends one raw request to `port` and returns the whole answer.
async fn raw(port: u16, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(common::PATIENCE, tcp.read_to_end(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_keeps_within_the_scrape_timeout_and_a_wrong_request_is_told_why() {
    // A server that takes the connection and never answers the upgrade.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_port = hole.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = hole.accept().await {
            held.push(tcp);
        }
    });
    let srv = common::server(ServeOptions::default()).await;
    let w = Exporter::start(&[&srv.url()]).await;
    let target = format!("ws://127.0.0.1:{hole_port}/");
    let started = Instant::now();
    let a = raw(
        w.port,
        &format!(
            "GET /probe?target={target} HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 3\r\n\r\n"
        ),
    )
    .await;
    let took = started.elapsed();
    assert!(a.starts_with("HTTP/1.1 200 OK\r\n"), "{a}");
    assert!(a.contains("Content-Type: text/plain; version=0.0.4"), "{a}");
    let body = a.split("\r\n\r\n").nth(1).unwrap();
    let s = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    assert_eq!(one(&s, "probe_success"), Some(0.0));
    // The module's 5 s, cut to the scrape's 3 s less the 0.5 s kept for the answer.
    let d = one(&s, "probe_duration_seconds").unwrap();
    assert!((2.0..3.0).contains(&d), "probe_duration_seconds {d}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    let info = s
        .samples
        .iter()
        .find(|x| x.metric == "probe_ws_failure_info")
        .expect("a failure");
    assert_eq!(info.labels.get("phase"), Some("upgrade"), "{info:?}");
    assert_eq!(info.labels.get("cause"), Some("timeout"), "{info:?}");
    assert_eq!(one(&s, "probe_websocket_connection_upgraded"), Some(0.0));

    let a = raw(
        w.port,
        &format!("GET /probe?target={target}&module=feed HTTP/1.1\r\n\r\n"),
    )
    .await;
    assert!(a.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{a}");
    assert!(
        a.contains("Unknown module \"feed\": the modules are websocket"),
        "{a}"
    );
    let a = raw(
        w.port,
        "GET /probe?target=http%3A%2F%2Fh%2F HTTP/1.1\r\n\r\n",
    )
    .await;
    assert!(a.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{a}");
    assert!(a.contains("Cannot probe that target"), "{a}");
    let a = raw(w.port, "POST /probe?target=ws://h/ HTTP/1.1\r\n\r\n").await;
    assert!(a.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{a}");
}
