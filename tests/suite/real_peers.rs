//! wsmon against real servers from Debian (tinyproxy, nginx; `scripts/test` installs them): the
//! failures a field engineer meets there are named for what they are.

use crate::common;

use common::bin::{Lines, is, wsmon};
use common::debian::{nginx, tinyproxy};
use common::pki::openssl_self_signed;
use common::{fast, first_dial};
use wsmon::engine::{Cause, Phase, Proxy};
use wsmon::server::{ServeOptions, Server};

async fn echo_server() -> Server {
    common::server(ServeOptions {
        ..ServeOptions::default()
    })
    .await
}

fn proxy(addr: &str, auth: Option<&str>) -> Proxy {
    let url = match auth {
        Some(a) => format!("http://{a}@{addr}"),
        None => format!("http://{addr}"),
    };
    let mut p = wsmon::config::parse_proxy(&url)
        .expect("a proxy URL")
        .expect("a proxy");
    p.source = "flag --proxy".into();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tinyproxy_tunnels_and_its_refusals_are_the_proxys() {
    let srv = echo_server().await;
    let open = tinyproxy(None).await;
    let mut s = fast(&srv.url());
    s.proxy = Some(proxy(&open.addr(), None));
    assert_eq!(first_dial(s).await, Ok(()), "{}", open.log());

    let guarded = tinyproxy(Some(("field", "s3cret"))).await;
    let mut s = fast(&srv.url());
    s.proxy = Some(proxy(&guarded.addr(), Some("field:s3cret")));
    assert_eq!(first_dial(s).await, Ok(()), "{}", guarded.log());

    for auth in [Some("field:wrong"), None] {
        let mut s = fast(&srv.url());
        s.proxy = Some(proxy(&guarded.addr(), auth));
        let f = first_dial(s).await.unwrap_err();
        assert_eq!((f.cause, f.phase), (Cause::Http, Phase::Proxy));
        let http = f.http.as_ref().expect("the proxy's answer");
        assert!(matches!(http.status, 401 | 407), "{}", http.status);
        assert!(!http.body.is_empty(), "the proxy's page is kept");
        let line = wsmon::describe::failure(&f);
        let shown = match auth {
            Some(_) => format!("proxy field:***@{} refused CONNECT: ", guarded.addr()),
            None => format!("proxy {} refused CONNECT: ", guarded.addr()),
        };
        assert!(line.starts_with(&shown), "{line}");
        let advice = wsmon::describe::fix(&f).unwrap();
        assert!(
            advice.ends_with("(the proxy is set by flag --proxy)"),
            "{advice}"
        );
        assert!(
            !line.contains("wrong") && !advice.contains("wrong"),
            "the password is masked: {line} / {advice}"
        );
        let hint = if auth.is_some() {
            "refused the credentials"
        } else {
            "wants credentials"
        };
        assert!(advice.contains(hint), "{advice}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_from_the_environment_that_is_down_is_named_with_its_variable() {
    let srv = echo_server().await;
    let dead = common::reserve_port();
    let dead_url = format!("http://127.0.0.1:{}", dead.port);
    let mut c = wsmon(&[&srv.url(), "--headless", "--max-attempts", "1"]);
    c.env("HTTP_PROXY", &dead_url);
    let mut w = Lines::spawn_cmd(c);
    let e = w.until("error", is("error")).await;
    assert_eq!(e["phase"], "proxy");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!(
            "proxy {dead_url}/ (from environment HTTP_PROXY): refused by"
        )),
        "{msg}"
    );
    let (_, _, stderr) = w.finish().await;
    assert!(
        stderr.contains("; last: proxy http://127.0.0.1:")
            && stderr.contains("(from environment HTTP_PROXY)"),
        "{stderr}"
    );
    drop(dead);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_pages_are_read_for_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = openssl_self_signed(dir.path(), "nginx", "localhost");
    let tls = nginx(&format!(
        "listen 127.0.0.1:PORT ssl;\n ssl_certificate {};\n ssl_certificate_key {};\n\
         location /moved {{ return 302 https://localhost:PORT/feed; }}\n\
         location / {{ return 404; }}",
        cert.display(),
        key.display()
    ))
    .await;

    // ws:// to nginx's TLS port: its HTML page says what is wrong.
    let f = first_dial(fast(&format!("ws://127.0.0.1:{}/", tls.port)))
        .await
        .unwrap_err();
    assert_eq!(
        wsmon::describe::failure(&f),
        "HTTP 400 Bad Request: The plain HTTP request was sent to HTTPS port"
    );

    // A redirect to https:// is advice to use wss://.
    let mut s = fast(&format!("wss://localhost:{}/moved", tls.port));
    s.ca = Some(cert.clone());
    let f = first_dial(s).await.unwrap_err();
    assert_eq!(
        wsmon::describe::failure(&f),
        format!(
            "HTTP 302 Moved Temporarily -> https://localhost:{p}/feed: connect to wss://localhost:{p}/feed instead",
            p = tls.port
        )
    );
}

/// nginx in front of the server, with its WebSocket idle timeout at 1.5 s (as load balancers
/// are set up, only shorter): a connection without traffic is cut every 1.5 s. The dashboard's
/// pattern and the report's verdict name the period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_timeout_in_nginx_is_found_as_a_period_and_the_report_says_so() {
    let srv = echo_server().await;
    let lb = nginx(&format!(
        "listen 127.0.0.1:PORT;\n location / {{\n proxy_pass http://{};\n proxy_http_version 1.1;\n\
         proxy_set_header Upgrade $http_upgrade;\n proxy_set_header Connection \"upgrade\";\n\
         proxy_read_timeout 1500ms;\n proxy_send_timeout 1500ms;\n }}",
        srv.addr()
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("lb.jsonl");
    let mut w = Lines::spawn(&[
        "--headless",
        "--record",
        rec.to_str().unwrap(),
        "--ping-interval",
        "0",
        "--reconnect-min",
        "50ms",
        "--reconnect-max",
        "200ms",
        &format!("ws://127.0.0.1:{}/", lb.port),
    ]);
    for _ in 0..6 {
        w.until("a drop", is("closed")).await;
    }
    w.signal("-TERM").await;
    let (code, _, err) = w.finish().await;
    assert_eq!(code, 0, "{err}");

    let out = wsmon(&["report", rec.to_str().unwrap(), "-o", "-"])
        .output()
        .await
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    // nginx cuts the tunnel without a close frame: the path, not the server's application.
    let verdict = md.lines().next().unwrap_or_default();
    assert!(
        verdict.contains("drops every ~1.5s without a close frame (")
            && verdict.ends_with("no traffic since each opened: an idle timeout on the path"),
        "the period is named: {verdict}"
    );
    assert!(
        md.lines()
            .any(|l| l.starts_with("drops ") && l.contains(": abrupt 1006 (no close frame) ×")),
        "{md}"
    );
    assert!(
        md.contains("advice          a heartbeat (ping_interval) shorter than 1.5s keeps it open"),
        "{md}"
    );
}
