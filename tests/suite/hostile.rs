//! Text from the network is inert everywhere wsmon writes it: a server that puts terminal
//! escapes (set the clipboard, clear the screen, set the title, a C1 CSI) in a refusal's
//! header and body, in a message, in its close reason, and in its certificate's name, gets
//! none of them through raw to headless output, stderr, the recording, the Markdown and HTML
//! reports, or wsmon.log.

use crate::common;

use std::time::Duration;

use common::bin::{Lines, is, wsmon};
use common::faults::{RawServer, frame, handshake, read_request};
use tokio::io::AsyncWriteExt;

/// Escapes a hostile peer would like a terminal to obey: OSC 52 (clipboard), clear screen,
/// OSC 0 (title), and CSI as the single C1 character.
const HOSTILE: &str = "\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{1b}]0;TITLE\u{7}\u{9b}31m";

/// Raw control characters in `bytes` (as text): C0 other than newline and tab, DEL, C1.
fn raw_controls(bytes: &[u8]) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect()
}

fn assert_inert(what: &str, bytes: &[u8]) {
    let found = raw_controls(bytes);
    assert!(
        found.is_empty(),
        "{what} holds raw control characters {found:?}:\n{}",
        String::from_utf8_lossy(bytes)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_from_the_network_is_inert_in_every_output() {
    let dials = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = dials.clone();
    let srv = RawServer::start(move |mut tcp| {
        let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n == 0 {
                // A refusal whose header (C1 only: an HTTP parser refuses C0 there) and body
                // carry escapes.
                read_request(&mut tcp).await;
                let body = format!("denied {HOSTILE}");
                let head = format!(
                    "HTTP/1.1 401 Unauthorized\r\nX-Evil: \u{9b}31mred \u{9b}2J\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                let _ = tcp.write_all(body.as_bytes()).await;
                return;
            }
            // A message, then a close, with escapes.
            let mut tcp = handshake(tcp).await;
            let _ = tcp
                .write_all(&frame(true, 0x1, format!("hello {HOSTILE}").as_bytes()))
                .await;
            let mut close = 4000u16.to_be_bytes().to_vec();
            close.extend_from_slice(&HOSTILE.as_bytes()[..HOSTILE.len().min(120)]);
            let _ = tcp.write_all(&frame(true, 0x8, &close)).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let rec = data.path().join("rec.jsonl");
    let mut w = Lines::spawn_in(
        &[
            "--headless",
            "--record",
            rec.to_str().unwrap(),
            "--reconnect-min",
            "50ms",
            &srv.url(),
        ],
        data.path(),
    );
    let refusal = w.until("the refusal", is("error")).await;
    assert_eq!(refusal["status"], 401, "{refusal}");
    w.until("the hostile close", |v| {
        v["event"] == "closed" && v["by"] == "server"
    })
    .await;
    w.signal("-TERM").await;
    let (_, _, err) = w.finish().await;
    let stdout: Vec<u8> = std::fs::read(&rec).unwrap();
    assert_inert("the recording", &stdout);
    assert_inert("stderr", err.as_bytes());
    for (flag, name) in [(None, "report.md"), (Some("--html"), "report.html")] {
        let out = data.path().join(name);
        let mut args = vec!["report", rec.to_str().unwrap(), "-o", out.to_str().unwrap()];
        args.extend(flag);
        let o = wsmon(&args).output().await.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read(&out).unwrap();
        assert_inert(name, &text);
        let text = String::from_utf8_lossy(&text);
        assert!(
            text.contains("\\e]0;TITLE") && text.contains("X-Evil"),
            "{name} shows the header and the escapes, made visible"
        );
    }
    // Headless output itself (the replay of the recording prints the same lines).
    let o = wsmon(&[
        "replay",
        rec.to_str().unwrap(),
        "--headless",
        "--speed",
        "0",
    ])
    .output()
    .await
    .unwrap();
    assert_inert("headless output", &o.stdout);
    assert_inert("headless stderr", &o.stderr);
    let log = std::fs::read(data.path().join("wsmon.log")).unwrap_or_default();
    assert_inert("wsmon.log", &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_name_with_escapes_is_inert() {
    use rcgen::{CertificateParams, DnType, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, format!("evil{HOSTILE}"));
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let srv = wsmon::server::Server::start(wsmon::server::ServeOptions {
        port: 0,
        tls: Some((cert_path, key_path)),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = format!("wss://localhost:{}/", srv.addr().port());
    let out = wsmon(&["--headless", "--max-attempts", "1", &url])
        .env("WSMON_DATA_DIR", dir.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The lines as written: the certificate's name is in them, escaped.
    assert_inert("the headless output", &out.stdout);
    let tls: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .find(|v: &serde_json::Value| v["event"] == "error")
        .expect("a TLS failure");
    assert_eq!(tls["cause"], "tls", "{tls}");
    assert!(
        tls["chain"][0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("CN=evil\u{1b}]52"),
        "the presented certificate is named, escaped: {tls}"
    );
    assert_inert("stderr", &out.stderr);
    let log = std::fs::read(dir.path().join("wsmon.log")).unwrap_or_default();
    assert_inert("wsmon.log", &log);
}
