//! The engine against real TLS servers made with a test CA, and through a real tunnelling
//! HTTP CONNECT proxy.

use crate::common;

use common::{Probe, fast};
use wsmon::engine::{Cause, Dir, Event, Phase};
use wsmon::server::{ServeOptions, Server};

fn opts() -> ServeOptions {
    ServeOptions {
        port: 0,
        ..ServeOptions::default()
    }
}

async fn server(o: ServeOptions) -> Server {
    Server::start(o).await.expect("server starts")
}

mod tls {
    use super::*;
    use crate::common::pki::pki;

    async fn tls_server(p: &common::pki::Pki) -> Server {
        server(ServeOptions {
            tls: Some((p.cert.clone(), p.key.clone())),
            ..opts()
        })
        .await
    }

    async fn first_error(
        url: String,
        ca: Option<&std::path::Path>,
        insecure: bool,
    ) -> wsmon::engine::Failure {
        let mut s = fast(&url);
        s.ca = ca.map(std::path::Path::to_path_buf);
        s.insecure = insecure;
        crate::common::first_dial(s)
            .await
            .expect_err("the dial is refused")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wss_with_the_test_ca_opens_and_reports_tls() {
        let p = pki(&["localhost"], false);
        let srv = tls_server(&p).await;
        let url = format!("wss://localhost:{}/", srv.addr().port());
        let mut s = fast(&url);
        s.ca = Some(p.ca.clone());
        let mut probe = Probe::start(s);
        let Event::Open(info) = probe.until("open", |e| matches!(e, Event::Open(_))).await else {
            unreachable!()
        };
        assert_eq!(info.tls_version, Some("TLS 1.3"));
        assert!(info.phases.tls.is_some());
        probe.send_text("over tls").await;
        probe
            .until(
                "echo",
                |e| matches!(e, Event::Message(m) if m.dir == Dir::In && m.data == "over tls"),
            )
            .await;
        probe.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_issuer_is_named() {
        let p = pki(&["localhost"], false);
        let srv = tls_server(&p).await;
        let f = first_error(
            format!("wss://localhost:{}/", srv.addr().port()),
            None,
            false,
        )
        .await;
        assert_eq!((f.cause, f.phase), (Cause::Tls, Phase::Tls));
        assert_eq!(
            wsmon::describe::message(&f),
            "certificate for localhost from an unknown CA (CN=wsmon test CA)"
        );
        assert!(
            wsmon::describe::fix(&f).unwrap().contains("--ca FILE"),
            "{f:?}"
        );
        // What was presented, and how far the dial got, are kept.
        assert!(f.chain[0].names.contains(&"localhost".to_string()), "{f:?}");
        assert_eq!(f.chain[0].issuer, "CN=wsmon test CA");
        let reached = f.reached.as_ref().expect("TCP succeeded");
        assert_eq!(reached.remote.port(), srv.addr().port());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn expired_certificate_is_named() {
        let p = pki(&["localhost"], true);
        let srv = tls_server(&p).await;
        let f = first_error(
            format!("wss://localhost:{}/", srv.addr().port()),
            Some(&p.ca),
            false,
        )
        .await;
        assert_eq!(f.cause, Cause::Tls);
        assert!(
            wsmon::describe::message(&f).starts_with("certificate expired "),
            "{}",
            wsmon::describe::message(&f)
        );
        assert!(
            wsmon::describe::message(&f).ends_with(" ago"),
            "{}",
            wsmon::describe::message(&f)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_host_name_is_named() {
        let p = pki(&["other.example"], false);
        let srv = tls_server(&p).await;
        let f = first_error(
            format!("wss://localhost:{}/", srv.addr().port()),
            Some(&p.ca),
            false,
        )
        .await;
        assert_eq!(f.cause, Cause::Tls);
        assert_eq!(
            wsmon::describe::message(&f),
            "certificate is for other.example, not localhost"
        );
        assert!(
            wsmon::describe::fix(&f)
                .as_deref()
                .unwrap()
                .contains("subjectAltName=DNS:localhost"),
            "{f:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn plain_port_under_wss_is_named() {
        let srv = server(opts()).await;
        let f = first_error(
            format!("wss://127.0.0.1:{}/", srv.addr().port()),
            None,
            false,
        )
        .await;
        assert_eq!(f.cause, Cause::Tls);
        assert!(
            wsmon::describe::fix(&f)
                .as_deref()
                .unwrap_or("")
                .contains("plain ws:// port"),
            "{f:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn insecure_skips_verification_and_warns() {
        let p = pki(&["other.example"], true);
        let srv = tls_server(&p).await;
        let mut s = fast(&format!("wss://localhost:{}/", srv.addr().port()));
        s.insecure = true;
        s.insecure = true;
        let mut probe = Probe::start(s);
        let w = probe
            .until("warning", |e| matches!(e, Event::Warning(_)))
            .await;
        assert!(matches!(
            w,
            Event::Warning(wsmon::engine::Warning::Insecure)
        ));
        probe.until("open", |e| matches!(e, Event::Open(_))).await;
        probe.shutdown().await;
    }
}

mod proxy {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wsmon::engine::Proxy;

    /// A minimal HTTP CONNECT proxy; answers 407 unless the expected credentials come.
    async fn connect_proxy(
        expect_auth: Option<&'static str>,
    ) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if client.read(&mut b).await.unwrap() == 0 {
                            return;
                        }
                        head.push(b[0]);
                    }
                    let head = String::from_utf8(head).unwrap();
                    log.lock().unwrap().push(head.clone());
                    let target = head.split_whitespace().nth(1).unwrap().to_string();
                    let authorized = expect_auth
                        .is_none_or(|a| head.contains(&format!("Proxy-Authorization: {a}\r\n")));
                    if !authorized {
                        client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n").await.unwrap();
                        return;
                    }
                    let mut upstream = tokio::net::TcpStream::connect(target).await.unwrap();
                    client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
        (addr, seen)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tunnels_through_a_connect_proxy_with_credentials() {
        let srv = server(opts()).await;
        let (paddr, seen) = connect_proxy(Some("Basic dTpw")).await;
        let mut s = fast(&srv.url());
        s.proxy = Some(Proxy {
            host: "127.0.0.1".into(),
            port: paddr.port(),
            auth: Some("Basic dTpw".into()),
            shown: format!("http://u:***@{paddr}/"),
            source: String::new(),
        });
        let mut p = Probe::start(s);
        let Event::Open(info) = p.until("open", |e| matches!(e, Event::Open(_))).await else {
            unreachable!()
        };
        assert_eq!(info.remote, paddr, "the TCP peer is the proxy");
        assert!(info.phases.proxy.is_some());
        assert_eq!(
            info.proxy.as_deref(),
            Some(format!("http://u:***@{paddr}/").as_str())
        );
        p.send_text("through the tunnel").await;
        p.until(
            "echo",
            |e| matches!(e, Event::Message(m) if m.dir == Dir::In),
        )
        .await;
        assert!(
            seen.lock().unwrap()[0].starts_with(&format!("CONNECT {} HTTP/1.1\r\n", srv.addr()))
        );
        p.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn proxy_refusal_is_an_http_failure_in_the_proxy_phase() {
        let srv = server(opts()).await;
        let (paddr, _) = connect_proxy(Some("Basic right")).await;
        let mut s = fast(&srv.url());
        s.proxy = Some(Proxy {
            host: "127.0.0.1".into(),
            port: paddr.port(),
            auth: Some("Basic wrong".into()),
            shown: format!("http://{paddr}/"),
            source: String::new(),
        });
        let mut p = Probe::start(s);
        let Event::Error(f) = p.until("error", |e| matches!(e, Event::Error(_))).await else {
            unreachable!()
        };
        assert_eq!((f.cause, f.phase), (Cause::Http, Phase::Proxy));
        assert_eq!(f.http.as_ref().unwrap().status, 407);
        assert!(
            wsmon::describe::message(&f).contains("refused CONNECT")
                && wsmon::describe::message(&f).contains("407"),
            "{}",
            wsmon::describe::message(&f)
        );
        p.shutdown().await;
    }
}
