//! Every dashboard action over an SSH client that sends no function keys: the real binary in
//! tmux at 80x24, driven once by `/commands` alone and once by Ctrl/Alt chords alone; and the
//! failure lines that matter, read whole at 80x24 (a 401 with a reason, a 1012 with a reason,
//! a self-signed certificate, a proxy that refuses).

use crate::common;

use std::time::Duration;

use common::tmux::Tmux;
use wsmon::server::{ServeOptions, Server};

async fn echo() -> Server {
    common::server(ServeOptions {
        keep_texts: 100,
        ..Default::default()
    })
    .await
}

/// One way of asking for each action: a `/command` typed and sent, or a chord.
enum Way {
    Command,
    Chord,
}

impl Way {
    /// Asks for `action` (`/name` for commands, the chord's tmux key name for chords).
    fn ask(&self, t: &Tmux, command: &str, chord: &str) {
        match self {
            Way::Command => {
                t.text(command);
                t.keys(&["Enter"]);
            }
            Way::Chord => t.keys(&[chord]),
        }
    }
}

/// Drives every action one way, checking what each does on screen.
async fn every_action(way: Way, name: &str) {
    let srv = echo().await;
    let t = Tmux::start(name, 80, 24);
    t.run_wsmon(&format!("{} --ping-interval 300ms", srv.url()));
    t.wait_for(&["OPEN", "no failures"]);
    t.text("hello keys");
    t.keys(&["Enter"]);
    t.wait_for(&["out txt", "in  txt"]);

    // Help, then back.
    way.ask(&t, "/help", "M-h");
    t.wait_for(&["wsmon keys · Esc closes", "F1 Alt-H", "F10 Ctrl-C"]);
    t.keys(&["Escape"]);
    t.wait_gone("wsmon keys · Esc closes");

    // The kind filter cycles: received only, then back to all.
    way.ask(&t, "/filter", "M-v");
    t.wait_for(&["in only"]);
    for _ in 0..3 {
        way.ask(&t, "/filter", "M-v");
    }
    t.wait_gone("only ─");

    // Find, the next hits, then one Esc back to the live view.
    match way {
        Way::Command => {
            t.text("/find hello");
            t.keys(&["Enter"]);
        }
        Way::Chord => {
            t.keys(&["C-s"]);
            t.wait_for(&["find:"]);
            t.text("hello");
            t.keys(&["Enter"]);
        }
    }
    t.wait_for(&["find `hello`"]);
    way.ask(&t, "/prev", "M-p");
    t.wait_for(&["no newer match for `hello`"]);
    way.ask(&t, "/next", "M-n");
    t.wait_for(&["hello keys"]);
    t.keys(&["Escape"]);
    t.wait_gone("find `hello`");

    // Only the rows with a text.
    match way {
        Way::Command => {
            t.text("/grep hello");
            t.keys(&["Enter"]);
        }
        Way::Chord => {
            t.keys(&["C-g"]);
            t.wait_for(&["only rows with:"]);
            t.text("hello");
            t.keys(&["Enter"]);
        }
    }
    t.wait_for(&["2 rows with `hello`"]);
    t.keys(&["Escape"]);
    t.wait_gone("rows with `hello`");

    // A ping asked for shows its pong; the heartbeat's rows come and go, those there too.
    way.ask(&t, "/ping", "C-p");
    t.wait_for(&["pong "]);
    way.ask(&t, "/pings", "M-k");
    t.wait_for(&["heartbeat pings and pongs are shown"]);
    t.wait_for(&["ping #"]);
    way.ask(&t, "/pings", "M-k");
    t.wait_for(&["heartbeat pings and pongs are hidden"]);
    way.ask(&t, "/autoreplies", "M-a");
    t.wait_for(&["automatic replies are shown"]);

    // Scrolling: the oldest pauses, the newest follows again; a page up and back down.
    way.ask(&t, "/top", "M-<");
    t.wait_for(&["paused, "]);
    way.ask(&t, "/bottom", "M->");
    t.wait_gone("paused, ");
    way.ask(&t, "/pageup", "M-u");
    t.wait_for(&["paused, "]);
    way.ask(&t, "/pagedown", "M-j");
    t.wait_gone("paused, ");

    // Files: a recording started and stopped, a report, listed with full paths.
    way.ask(&t, "/record", "C-o");
    t.wait_for(&["recording to "]);
    way.ask(&t, "/record", "C-o");
    t.wait_for(&["wsmon: recorded "]);
    way.ask(&t, "/report", "C-d");
    t.wait_for(&["report written to "]);
    way.ask(&t, "/files", "M-o");
    let s = t.wait_for(&[
        "3 files written in this session",
        "(recording)",
        "(report, HTML)",
    ]);
    assert!(
        s.contains(&t.data_dir.path().display().to_string()),
        "full paths:\n{s}"
    );
    t.keys(&["Escape"]);
    t.wait_gone("written in this session");

    // Copy, the mouse, the last failure (none), a reconnect.
    way.ask(&t, "/copy", "M-y");
    t.wait_for(&["copied "]);
    way.ask(&t, "/mouse", "M-m");
    t.wait_for(&["mouse off"]);
    way.ask(&t, "/failure", "C-l");
    t.wait_for(&["no failure in the log"]);
    way.ask(&t, "/reconnect", "C-r");
    t.wait_for(&["1 reconnect · 0 drops", "closed by you"]);

    // Quit: the exit summary lists every file written.
    way.ask(&t, "/quit", "C-c");
    // The list is printed a line at a time: wait for its last line, not its heading.
    let s = t.wait_for(&[
        "wsmon: watched",
        "written in this session:",
        "(report, Markdown)",
    ]);
    assert!(!t.alternate_screen(), "back on the normal screen:\n{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_by_its_command_alone_at_80x24() {
    every_action(Way::Command, "cmds").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_by_its_chord_alone_at_80x24() {
    every_action(Way::Chord, "chords").await;
}

/// The text of the Connection pane (the left column of the top row of panes) at 80x24, its
/// rows joined past their labels: what a person reads there, however it wrapped.
fn connection_pane(screen: &str) -> String {
    let rows: Vec<&str> = screen.lines().collect();
    let Some(top) = rows.iter().position(|r| r.starts_with(" Connection ")) else {
        return String::new();
    };
    let mut out = Vec::new();
    for r in &rows[top + 1..] {
        if r.starts_with(" Uptime ") {
            break;
        }
        let left: String = r.chars().take(40).collect();
        out.push(left.chars().skip(8).collect::<String>().trim().to_string());
    }
    out.join(" ").replace('\u{a0}', " ")
}

/// Starts wsmon at 80x24 on `args` and waits until the Connection pane holds `whole`, however
/// its rows wrap.
fn reads_whole(name: &str, args: &str, whole: &[&str]) -> String {
    let t = Tmux::start(name, 80, 24);
    t.run_wsmon(args);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = t.screen();
        let pane = connection_pane(&s);
        if whole.iter().all(|w| pane.contains(w)) {
            t.keys(&["C-c"]);
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the Connection pane does not hold {whole:?} whole:\n{pane}\n\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_failures_that_matter_are_read_whole_at_80x24() {
    // A 401 with the server's reason.
    let reason = "token expired at 12:00 UTC; renew it and reconnect";
    let srv = common::server(ServeOptions {
        reject: Some(401),
        reject_body: Some(reason.into()),
        ..Default::default()
    })
    .await;
    let s = reads_whole(
        "r401",
        &srv.url(),
        &[&format!("HTTP 401 Unauthorized: {reason}")],
    );
    assert!(s.contains("cause   HTTP 401 Unauthorized"), "{s}");
    drop(srv);

    // A server that closes with 1012 and says why.
    let why = "rolling deploy 42 of the feed, back within a minute";
    let srv = common::server(ServeOptions {
        drop_after: Some(Duration::from_millis(300)),
        drop_reason: Some(why.into()),
        ..Default::default()
    })
    .await;
    reads_whole(
        "r1012",
        &format!("{} --reconnect-min 5s", srv.url()),
        &[&format!("closed by server: 1012 service restart ({why})")],
    );
    drop(srv);

    // A self-signed certificate: the verdict, then the fix; the address TCP reached.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = common::pki::openssl_self_signed(dir.path(), "server", "localhost");
    let srv = common::server(ServeOptions {
        tls: Some((cert, key)),
        ..Default::default()
    })
    .await;
    let port = srv.addr().port();
    reads_whole(
        "rtls",
        &format!("wss://localhost:{port}/"),
        &[
            "TLS: untrusted self-signed certificate for localhost",
            "trust it with --ca FILE (its PEM) or skip checks with --insecure",
            &format!("127.0.0.1:{port} reached"),
        ],
    );
    drop(srv);

    // A proxy that wants credentials (tinyproxy from Debian).
    let proxy = common::debian::tinyproxy(Some(("user", "secret"))).await;
    let target = echo().await;
    reads_whole(
        "rproxy",
        &format!("{} --proxy http://{}", target.url(), proxy.addr()),
        &[
            &format!(
                "proxy {} refused CONNECT: 407 Proxy Authentication Required",
                proxy.addr()
            ),
            "the proxy wants credentials: put them in its URL",
        ],
    );
}
