//! The real binary in a real terminal (tmux) against an in-process echo server.

use crate::common;

use common::tmux::Tmux;
use wsmon::server::{ServeOptions, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_sends_echoes_survives_a_restart_and_gives_the_terminal_back() {
    let srv = Server::start(ServeOptions {
        keep_texts: 1000,
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

    // Typed straight away, no key first: letters that were once commands (q, r, p) are text.
    let msg = r#"{"quote":1,"subscribe":"prices","note":"rq pR"}"#;
    t.text(msg);
    t.keys(&["Enter"]);
    let s = t.wait_for(&["out txt", "in  txt"]);
    assert_eq!(s.matches(msg).count(), 2, "sent and echoed:\n{s}");
    assert_eq!(srv.stats().texts(), [msg]);

    // The server goes away: the countdown and the attempts show.
    srv.kill().await;
    t.wait_for(&["WAITING", "next try in ", "connection lost"]);
    let s = t.wait_for(&["refused by 127.0.0.1"]);
    assert!(
        s.contains("(attempt ") && s.contains("down "),
        "attempts in this outage are counted, and it is seen down:\n{s}"
    );

    // It comes back on the same port: OPEN again, one reconnect counted.
    let srv = common::restart::server_on(port, ServeOptions::default()).await;
    t.wait_for(&["OPEN", "1 reconnect · 1 drop", "→ refused → open"]);

    // F10 quits (nothing would be lost) and the shell works again.
    t.keys(&["F10"]);
    let s = t.wait_for(&["wsmon: watched", "2 connects, 1 drop (abrupt 1006)"]);
    assert!(!t.alternate_screen(), "back on the normal screen:\n{s}");
    t.text("echo restored-$((40+2))");
    t.keys(&["Enter"]);
    t.wait_for(&["restored-42"]);
    drop(srv);

    // What was typed and logged is readable by its owner only.
    common::assert_private(&t.data_dir.path().join("history"));
    common::assert_private(&t.data_dir.path().join("wsmon.log"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_overview_drills_in_broadcasts_and_comes_back() {
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
    let gone_port = common::reserve_port();
    let gone = gone_port.port;
    let metrics_port = common::reserve_port();
    let t = Tmux::start("e2e-fleet", 120, 24);
    let metrics = metrics_port.release();
    t.run_wsmon(&format!(
        "{} {} ws://127.0.0.1:{gone}/ --reconnect-max 2s --metrics 127.0.0.1:{metrics}",
        a.url(),
        b.url()
    ));
    let s = t.wait_for(&["FLEET 3", "2 open", "1 down", "refused by 127.0.0.1"]);
    let first = s
        .lines()
        .find(|l| l.starts_with('›'))
        .unwrap_or_default()
        .to_string();
    assert!(
        first.contains(&format!("127.0.0.1:{gone}")),
        "the cursor starts on the problem at the top:\n{s}"
    );

    // Down to an open endpoint, Enter opens it, ready to type; broadcast from there.
    t.keys(&["Down", "Enter"]);
    t.wait_for(&["Esc overview", "type a message"]);
    t.text("/broadcast hello fleet");
    t.keys(&["Enter"]);
    t.wait_for(&[&format!(
        "broadcast to 2 open endpoints; not sent to 127.0.0.1:{gone} (not open)"
    )]);
    assert_eq!(a.stats().texts(), ["hello fleet"]);
    assert_eq!(b.stats().texts(), ["hello fleet"]);

    // The dashboard serves metrics too: two endpoints up, one not.
    let body = common::metrics_text(metrics).await;
    let up: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("wsmon_up{"))
        .collect();
    assert_eq!(up.len(), 3, "{body}");
    assert_eq!(
        up.iter().filter(|l| l.ends_with(" 1.0")).count(),
        2,
        "{up:?}"
    );
    assert!(
        up.iter()
            .any(|l| l.contains(&format!("127.0.0.1:{gone}")) && l.ends_with(" 0.0")),
        "{up:?}"
    );

    // Esc goes back to the overview, q quits with a summary.
    t.keys(&["Escape"]);
    t.wait_for(&["FLEET 3", "sorted by problems first"]);
    t.keys(&["q"]);
    let s = t.wait_for(&["wsmon: watched 3 endpoints", "2 open, 1 down"]);
    assert!(!t.alternate_screen(), "back on the normal screen:\n{s}");
}

/// Typed hex that is not hex (`aéb` once killed the dashboard: it sliced by bytes) is an
/// error on the input line; the dashboard keeps running and sends the next good line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_of_characters_that_are_not_hex_is_refused_and_the_dashboard_runs_on() {
    let srv = common::echo_server().await;
    let t = Tmux::start("hex", 100, 30);
    t.run_wsmon(&srv.url());
    t.wait_for(&["OPEN", "no failures"]);
    let pid = t.child_pid().expect("wsmon runs in the pane");
    for (typed, says) in [
        ("/binary aéb", "odd number of hex digits (3)"),
        ("/binary aé", "`aé` is not a hex byte"),
        ("/binary 日本", "`日本` is not a hex byte"),
    ] {
        t.text(typed);
        t.keys(&["Enter"]);
        t.wait_for(&[says]);
        assert_eq!(t.child_pid(), Some(pid), "{typed}: wsmon still runs");
        // The line is given back to be fixed; Ctrl-U empties it.
        t.wait_for(&[&format!("› {typed}")]);
        t.keys(&["C-u"]);
        t.wait_gone(typed);
    }
    t.text("/binary c0 ff ee");
    t.keys(&["Enter"]);
    let s = t.wait_for(&["out bin", "in  bin"]);
    assert!(s.contains("c0 ff ee"), "sent and echoed:\n{s}");
    assert_eq!(t.child_pid(), Some(pid));
    t.keys(&["F10"]);
    let s = t.wait_for(&["wsmon: watched"]);
    assert!(!t.alternate_screen(), "back on the normal screen:\n{s}");
}

/// A fleet from a targets file in the dashboard: its labels as a column, targets added and
/// removed as the file changes (the others stay open), a bad file refused on screen while the
/// last good set goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_follows_its_targets_file_and_says_when_it_is_refused() {
    let srv = common::echo_server().await;
    let port = srv.addr().port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.yml");
    let write = |text: &str| {
        let tmp = dir.path().join("targets.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    };
    write(&format!(
        "- targets: ['ws://127.0.0.1:{port}/eu', 'ws://127.0.0.1:{port}/us']\n  labels: {{region: eu, team: pay}}\n"
    ));
    let t = Tmux::start("e2e-targets", 110, 20);
    t.run_wsmon(&format!("--targets-file {}", file.display()));
    let s = t.wait_for(&[
        "FLEET 2",
        "2 open",
        "LABELS",
        "region=eu team=pay",
        "targets.yml",
    ]);
    assert!(s.contains(&format!("127.0.0.1:{port}/eu")), "{s}");

    write(&format!(
        "- targets: ['ws://127.0.0.1:{port}/eu']\n  labels: {{region: eu, team: pay}}\n- targets: ['ws://127.0.0.1:{port}/asia']\n  labels: {{region: asia, name: tokyo}}\n"
    ));
    let s = t.wait_for(&[
        "FLEET 2",
        "tokyo",
        "region=asia",
        "1 added, 1 removed, 2 watched",
    ]);
    assert!(
        !s.contains(&format!("127.0.0.1:{port}/us")),
        "removed:\n{s}"
    );
    t.wait_for(&["2 open"]);

    write("- targets: [\n");
    let s = t.wait_for(&[
        "targets.yml refused",
        "still watching the last good set of 2",
    ]);
    assert!(s.contains("tokyo") && s.contains("2 open"), "{s}");
    t.keys(&["F10"]);
    t.wait_for(&["wsmon: watched 2 endpoints"]);
}
