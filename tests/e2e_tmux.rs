//! The real binary in a real terminal (tmux) against an in-process echo server.

mod common;

use common::tmux::Tmux;
use wsmon::server::{ServeOptions, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_sends_echoes_survives_a_restart_and_gives_the_terminal_back() {
    let srv = Server::start(ServeOptions {
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let port = srv.addr().port();
    let t = Tmux::start("e2e", 100, 30);
    t.run_wsmon(&format!(
        "ws://127.0.0.1:{port}/ --reconnect-min 300ms --reconnect-max 1s"
    ));

    let s = t.wait_for(&["OPEN", &format!("127.0.0.1:{port}"), "no failures"]);
    assert!(t.alternate_screen(), "the dashboard owns the screen:\n{s}");

    t.keys(&["Tab"]);
    t.text("hello from e2e");
    t.keys(&["Enter"]);
    let s = t.wait_for(&["out txt", "in  txt"]);
    assert_eq!(
        s.matches("hello from e2e").count(),
        2,
        "sent and echoed:\n{s}"
    );
    assert_eq!(srv.stats().texts(), ["hello from e2e"]);

    // The server goes away: the countdown and the attempts show.
    srv.kill().await;
    t.wait_for(&["WAITING", "next try #", "connection lost"]);
    let s = t.wait_for(&["refused by 127.0.0.1"]);
    assert!(
        s.contains("failed"),
        "attempts in this outage are counted:\n{s}"
    );

    // It comes back on the same port: OPEN again, one reconnect counted.
    let srv = Server::start(ServeOptions {
        port,
        ..Default::default()
    })
    .await
    .unwrap();
    t.wait_for(&["OPEN", "1 reconnects"]);

    // q quits and the shell works again.
    // A pause between them, as a person makes: ESC followed at once by q reads as Alt-q.
    t.keys(&["Escape"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    t.keys(&["q"]);
    let s = t.wait_for(&["wsmon: watched", "2 connects, 1 drops"]);
    assert!(!t.alternate_screen(), "back on the normal screen:\n{s}");
    t.text("echo restored-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_for(&["restored-42"]);
    drop(srv);
}
