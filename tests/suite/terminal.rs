//! The terminal is given back on every exit path (quit, panic, SIGTERM, SIGHUP, SIGINT):
//! checked in tmux by running a command at the shell prompt afterwards. And nothing a server
//! sends reaches the terminal raw.

use crate::common;

use std::time::Duration;

use common::faults::{RawServer, frame, handshake, hold};
use common::tmux::Tmux;
use tokio::io::AsyncWriteExt;
use wsmon::server::{ServeOptions, Server};

/// After wsmon ended: the normal screen is back and the shell runs a command.
fn assert_shell_works(t: &Tmux, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while t.alternate_screen() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still on the alternate screen:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    t.text("echo shell-is-back-$((6*7)); stty -a | grep -o -- '-icanon' || echo cooked");
    t.keys(&["Enter"]);
    let s = t.wait_for(&["shell-is-back-42"]);
    assert!(
        s.contains("cooked"),
        "{what}: the terminal is back in cooked mode:\n{s}"
    );
}

async fn started(name: &str, srv: &Server, extra: &str) -> Tmux {
    let t = Tmux::start(name, 100, 30);
    t.run_wsmon(&format!("{extra} {}; echo EXIT=$?", srv.url()));
    t.wait_for(&["OPEN"]);
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_restore_the_terminal() {
    let srv = common::server(ServeOptions {
        tick: Some(Duration::from_millis(200)),
        ..Default::default()
    })
    .await;
    for (sig, name) in [("-TERM", "sigterm"), ("-HUP", "sighup"), ("-INT", "sigint")] {
        let t = started(name, &srv, "").await;
        let pid = t.child_pid().expect("wsmon's pid");
        let ok = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        t.wait_for(&["wsmon: watched", "EXIT=0"]);
        assert_shell_works(&t, name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_restores_the_terminal_and_prints_its_message() {
    let srv = common::echo_server().await;
    let t = Tmux::start("panic", 100, 30);
    t.run(
        &format!("WSMON_TEST_PANIC=1 {}", env!("CARGO_BIN_EXE_wsmon")),
        &format!("{}; echo EXIT=$?", srv.url()),
    );
    // "EXIT=$?" is on the command line already; the status itself is what to wait for.
    let s = t.wait_for(&["EXIT=1"]);
    assert!(
        s.contains("WSMON_TEST_PANIC is set: a deliberate panic"),
        "the panic message is printed:\n{s}"
    );
    assert!(s.contains("EXIT=101"), "{s}");
    assert_shell_works(&t, "panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_the_server_never_reach_the_terminal() {
    // Printed raw, this message would set the window title, clear the screen, turn text red,
    // ring the bell and reverse the text direction.
    let srv = RawServer::start(|tcp| async move {
        let mut tcp = handshake(tcp).await;
        let evil = "\u{1b}]2;PWNED\u{7}\u{1b}[2J\u{1b}[31mred\u{202e}gnp.exe";
        let _ = tcp.write_all(&frame(true, 1, evil.as_bytes())).await;
        hold(tcp).await;
    })
    .await;
    let t = Tmux::start("escapes", 100, 30);
    t.run_wsmon(&srv.url());
    let s = t.wait_for(&["OPEN", "\\e]2;PWNED\\x07\\e[2J\\e[31mred\\u{202e}gnp.exe"]);
    assert_ne!(
        t.title(),
        "PWNED",
        "the title was not changed by the message"
    );
    assert!(s.contains("Connection"), "the screen was not cleared:\n{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_messages_not_sent_at_exit_are_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Tmux::start("unsent", 100, 30);
    t.run_wsmon(&format!(
        "ws://127.0.0.1:{port}/ --reconnect-min 1s --reconnect-max 2s; echo EXIT=$?"
    ));
    t.wait_for(&["refused by"]);
    for m in ["first", "second", "third"] {
        t.text(m);
        t.keys(&["Enter"]);
    }
    t.wait_for(&["3 queued until reconnect"]);
    t.keys(&["C-c"]);
    t.wait_for(&["Quit wsmon?", "3 queued messages waiting"]);
    t.keys(&["y"]);
    let s = t.wait_for(&["EXIT=0"]);
    assert!(
        s.contains(
            "wsmon: 3 queued messages were not sent: the connection was down when wsmon stopped"
        ),
        "{s}"
    );
}
