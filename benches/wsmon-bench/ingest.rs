//! Ingest throughput: the minimal read loop, `wsmon --headless`, websocat and the dashboard loop.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;
use wsmon::engine::ConnSettings;
use wsmon::engine::target::Target;
use wsmon::server::{ServeOptions, Server};
use wsmon::session::{Endpoint, Session, SessionOptions};
use wsmon::tui::app::{App, UiOptions};
use wsmon::tui::theme::Theme;

/// A server that floods `n` messages of `size` bytes to its one client, then closes.
pub(crate) async fn flood_server(n: u64, size: usize) -> Server {
    Server::start(ServeOptions {
        port: 0,
        flood: n,
        flood_size: size,
        drop_after: Some(Duration::ZERO),
        drop_code: Some(1000),
        no_echo: true,
        once: true,
        ..Default::default()
    })
    .await
    .expect("flood server")
}

pub(crate) async fn minimal_loop(n: u64, size: usize) -> Duration {
    let srv = flood_server(n, size).await;
    let t0 = Instant::now();
    let tcp = tokio::net::TcpStream::connect(srv.addr())
        .await
        .expect("connect");
    let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(srv.url(), tcp, Some(cfg))
        .await
        .expect("handshake");
    let mut got = 0u64;
    while let Some(Ok(m)) = ws.next().await {
        if m.is_text() || m.is_binary() {
            got += 1;
            if got == n {
                break;
            }
        }
    }
    assert_eq!(got, n, "the minimal loop got every message");
    t0.elapsed()
}

pub(crate) async fn headless_process(bin: &Path, n: u64, size: usize) -> Duration {
    let srv = flood_server(n, size).await;
    let t0 = Instant::now();
    // It exits when, after the flood and the close, the reconnect is refused (--max-attempts 1).
    let status = tokio::process::Command::new(bin)
        .args([
            "--headless",
            "--max-attempts",
            "1",
            "--reconnect-min",
            "10ms",
            "--reconnect-max",
            "10ms",
            "--ping-interval",
            "0",
        ])
        .arg(srv.url())
        .env(
            "WSMON_DATA_DIR",
            std::env::temp_dir().join("wsmon-bench-data"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("wsmon runs");
    assert_eq!(
        status.code(),
        Some(1),
        "wsmon --headless gave up after the flood as planned"
    );
    t0.elapsed()
}

pub(crate) async fn websocat_process(bin: &Path, n: u64, size: usize) -> Duration {
    let srv = flood_server(n, size).await;
    let t0 = Instant::now();
    let status = tokio::process::Command::new(bin)
        .args(["-U", "--max-messages-rev", &n.to_string()])
        .arg(srv.url())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("websocat runs");
    let _ = status;
    t0.elapsed()
}

pub(crate) fn ui_options() -> UiOptions {
    UiOptions {
        url: "ws://127.0.0.1/".into(),
        log_capacity: 100_000,
        log_max_bytes: 256 << 20,
        fps: 30,
        ping_interval: None,
        pong_timeout: Duration::from_secs(10),
        demo: false,
        theme: Theme::color(),
        history: None,
        header: Default::default(),
        replay: false,
        name: None,
        preset: None,
        app_ping: None,
        keymap: Default::default(),
        mouse: true,
        labels: String::new(),
    }
}

/// The dashboard's own loop (`wsmon::tui::drive`) over a real engine, drawing into a
/// TestBackend at 30 fps, while keys arrive every 20 ms; returns the ingest time and the
/// key-to-frame latencies.
pub(crate) async fn tui_loop(n: u64, size: usize) -> (Duration, Vec<Duration>) {
    let srv = flood_server(n, size).await;
    let mut settings = ConnSettings::new(Target::parse(&srv.url()).expect("url"));
    settings.ping_interval = None;
    let t0 = Instant::now();
    let endpoint = Endpoint::new("flood".into(), settings);
    let mut session = Session::start(vec![endpoint], &SessionOptions::default())
        .await
        .expect("session");
    let mut app = App::new(ui_options());
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");

    let (key_tx, mut key_rx) = mpsc::unbounded_channel::<TermEvent>();
    let injected: Arc<Mutex<VecDeque<Instant>>> = Arc::default();
    let consumed = Arc::new(AtomicUsize::new(0));
    let consumed_in = consumed.clone();
    let mut keys = futures_util::stream::poll_fn(move |cx| {
        let polled = key_rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(_)) = &polled {
            consumed_in.fetch_add(1, Ordering::SeqCst);
        }
        polled.map(|o| o.map(Ok))
    });
    let inj = injected.clone();
    let injector = tokio::spawn(async move {
        let mut i = 0u64;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let code = if i.is_multiple_of(2) {
                KeyCode::Up
            } else {
                KeyCode::Down
            };
            inj.lock().expect("lock").push_back(Instant::now());
            if key_tx
                .send(TermEvent::Key(KeyEvent::new(code, KeyModifiers::SHIFT)))
                .is_err()
            {
                return;
            }
            i += 1;
        }
    });
    let mut latencies = Vec::new();
    let mut measured = 0usize;
    let mut on_frame = |_: &App, drawn: tokio::time::Instant| {
        let drawn: Instant = drawn.into_std();
        let upto = consumed.load(Ordering::SeqCst);
        let q = injected.lock().expect("lock");
        while measured < upto {
            if let Some(t) = q.get(measured) {
                latencies.push(drawn.saturating_duration_since(*t));
            }
            measured += 1;
        }
    };
    let done = |a: &App| a.stats().msgs_in >= n;
    let mut hooks = wsmon::tui::Hooks {
        on_frame: Some(&mut on_frame),
        done: Some(&done),
    };
    wsmon::tui::drive(
        &mut app,
        &mut session,
        &mut terminal,
        &mut keys,
        std::future::pending(),
        &mut hooks,
    )
    .await
    .expect("drive");
    let took = t0.elapsed();
    assert!(app.stats().msgs_in >= n, "the dashboard got every message");
    injector.abort();
    drop(session);
    (took, latencies)
}
