//! wsmon against real servers from Debian (tinyproxy, nginx; `.ci/run` installs them): the
//! failures a field engineer meets there are named for what they are.

mod common;

use common::bin::{Lines, is, wsmon};
use common::debian::{nginx, tinyproxy};
use common::pki::openssl_self_signed;
use common::{Probe, fast};
use wsmon::engine::{Cause, Event, Failure, Phase, Proxy};
use wsmon::server::{ServeOptions, Server};

async fn echo_server() -> Server {
    Server::start(ServeOptions {
        port: 0,
        ..ServeOptions::default()
    })
    .await
    .expect("server starts")
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

/// The first open or failure of a dial with `s`.
async fn first(s: wsmon::engine::ConnSettings) -> Result<(), Failure> {
    let mut p = Probe::start(s);
    let e = p
        .until("open or error", |e| {
            matches!(e, Event::Open(_) | Event::Error(_))
        })
        .await;
    p.shutdown().await;
    match e {
        Event::Error(f) => Err((*f).clone()),
        _ => Ok(()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tinyproxy_tunnels_and_its_refusals_are_the_proxys() {
    let srv = echo_server().await;
    let open = tinyproxy(None).await;
    let mut s = fast(&srv.url());
    s.proxy = Some(proxy(&open.addr(), None));
    assert_eq!(first(s).await, Ok(()), "{}", open.log());

    let guarded = tinyproxy(Some(("field", "s3cret"))).await;
    let mut s = fast(&srv.url());
    s.proxy = Some(proxy(&guarded.addr(), Some("field:s3cret")));
    assert_eq!(first(s).await, Ok(()), "{}", guarded.log());

    for auth in [Some("field:wrong"), None] {
        let mut s = fast(&srv.url());
        s.proxy = Some(proxy(&guarded.addr(), auth));
        let f = first(s).await.unwrap_err();
        assert_eq!((f.cause, f.phase), (Cause::Http, Phase::Proxy));
        let http = f.http.as_ref().expect("the proxy's answer");
        assert!(matches!(http.status, 401 | 407), "{}", http.status);
        assert!(!http.body.is_empty(), "the proxy's page is kept");
        let line = wsmon::describe::failure(&f);
        let shown = match auth {
            Some(_) => format!("proxy http://field:***@{}", guarded.addr()),
            None => format!("proxy http://{}", guarded.addr()),
        };
        assert!(
            line.starts_with(&shown) && line.contains("(from flag --proxy)"),
            "{line}"
        );
        assert!(!line.contains("wrong"), "the password is masked: {line}");
        let hint = if auth.is_some() {
            "refused the credentials"
        } else {
            "wants credentials"
        };
        assert!(line.contains(hint), "{line}");
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
        stderr.contains("last failure: proxy http://127.0.0.1:")
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
    let f = first(fast(&format!("ws://127.0.0.1:{}/", tls.port)))
        .await
        .unwrap_err();
    assert_eq!(
        wsmon::describe::failure(&f),
        "HTTP 400 Bad Request: The plain HTTP request was sent to HTTPS port"
    );

    // A redirect to https:// is advice to use wss://.
    let mut s = fast(&format!("wss://localhost:{}/moved", tls.port));
    s.ca = Some(cert.clone());
    let f = first(s).await.unwrap_err();
    assert_eq!(
        wsmon::describe::failure(&f),
        format!(
            "HTTP 302 Moved Temporarily -> https://localhost:{p}/feed: connect to wss://localhost:{p}/feed instead",
            p = tls.port
        )
    );
}
