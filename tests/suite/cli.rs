//! The binary's edge: bad input is one line on stderr with exit code 2, never a panic;
//! --print-config shows values and their sources with secrets masked; --help is complete.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wsmon"));
        c.args(args);
        common::bin::hermetic(&mut c, self.dir.path());
        c.env("COLUMNS", "100").output().expect("wsmon runs")
    }
}

/// Runs and checks the bad-input contract; returns the one stderr line.
fn bad(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.run(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line expected: {err}");
    assert!(err.starts_with("wsmon: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace") && !err.contains("Error {"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    err
}

#[test]
fn bad_urls() {
    let sb = Sandbox::new();
    assert!(bad(&sb, &["ftp://example.com"]).contains("use ws:// or wss://"));
    assert!(
        bad(&sb, &["https://example.com/socket"])
            .contains("wss:// is the WebSocket form of https://")
    );
    assert!(bad(&sb, &["ws://exa mple.com"]).contains("is not a valid URL"));
    assert!(bad(&sb, &["--headless"]).contains("no URL given"));
}

#[test]
fn the_dashboard_refuses_a_redirected_stdout_and_suggests_headless() {
    let sb = Sandbox::new();
    let e = bad(&sb, &["ws://127.0.0.1:9/"]);
    assert!(
        e.contains("needs a terminal") && e.contains("--headless"),
        "{e}"
    );
}

#[test]
fn bad_flags() {
    let sb = Sandbox::new();
    let e = bad(&sb, &["-H", "NoColon", "ws://h"]);
    assert!(
        e.contains("-H/--header: header `NoColon` must look like 'Name: value'"),
        "{e}"
    );
    let e = bad(&sb, &["-H", "Connection: close", "ws://h"]);
    assert!(e.contains("set by wsmon"), "{e}");
    let e = bad(&sb, &["--ping-interval", "5x", "ws://h"]);
    assert!(
        e.contains("--ping-interval") && e.contains("like 500ms, 15s or 2m"),
        "{e}"
    );
    let e = bad(&sb, &["--pong-timeout", "1ms", "ws://h"]);
    assert_eq!(
        e.trim(),
        "wsmon: --pong-timeout: must be between 100ms and 10m, got 1ms"
    );
    let e = bad(&sb, &["--fps", "0", "ws://h"]);
    assert!(e.contains("--fps: must be between 1 and 120, got 0"), "{e}");
    let e = bad(&sb, &["--max-message-size", "lots", "ws://h"]);
    assert!(e.contains("64MiB"), "{e}");
    let e = bad(&sb, &["--no-such-flag", "ws://h"]);
    assert!(e.contains("--no-such-flag"), "{e}");
}

#[test]
fn bad_config_files() {
    let sb = Sandbox::new();
    let f = sb.write("typo.toml", "url = \"ws://h\"\npong_timout = \"5s\"\n");
    let e = bad(&sb, &["--config", &f, "--print-config"]);
    assert!(
        e.contains("line 2: unknown key `pong_timout` (did you mean `pong_timeout`?)"),
        "{e}"
    );
    let f = sb.write("type.toml", "max_attempts = \"ten\"\n");
    let e = bad(&sb, &["--config", &f]);
    assert!(
        e.contains("line 1: `max_attempts`") && e.contains("whole number"),
        "{e}"
    );
    let f = sb.write("range.toml", "\n\nreconnect_min = \"1h\"\n");
    let e = bad(&sb, &["--config", &f, "ws://h"]);
    assert!(
        e.contains("line 3, `reconnect_min`: must be between 10ms and 10m, got 1h"),
        "{e}"
    );
    let f = sb.write("syntax.toml", "url = \"ws://h\n");
    assert!(bad(&sb, &["--config", &f]).contains("line 1"));
    let e = bad(&sb, &["--config", "/nonexistent/wsmon.toml", "ws://h"]);
    assert!(
        e.contains("cannot read config file `/nonexistent/wsmon.toml`: no such file"),
        "{e}"
    );
    let e = bad(
        &sb,
        &["--config", &sb.dir.path().display().to_string(), "ws://h"],
    );
    assert!(e.contains("cannot read config file"), "{e}");
    let binary = sb.dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x9f]).unwrap();
    let e = bad(&sb, &["--config", binary.to_str().unwrap(), "ws://h"]);
    assert!(e.contains("it is not UTF-8 text"), "{e}");
    let f = sb.write("neg.toml", "reconnect_min = -1\n");
    let e = bad(&sb, &["--config", &f, "ws://h"]);
    assert!(e.contains("a duration cannot be negative, got -1"), "{e}");
    // ./wsmon.toml is found without --config.
    sb.write("wsmon.toml", "fps = 1000\n");
    let e = bad(&sb, &["ws://h"]);
    assert!(
        e.contains("wsmon.toml` line 1, `fps`: must be between 1 and 120, got 1000"),
        "{e}"
    );
}

#[test]
fn bad_certificate_files() {
    let sb = Sandbox::new();
    let e = bad(&sb, &["--ca", "/nonexistent/ca.pem", "wss://h"]);
    assert!(
        e.contains("--ca: cannot read CA file `/nonexistent/ca.pem`"),
        "{e}"
    );
    let junk = sb.write("junk.pem", "hello, I am not a certificate\n");
    let e = bad(&sb, &["--ca", &junk, "wss://h"]);
    assert!(e.contains("holds no PEM certificate"), "{e}");
    let broken = sb.write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let e = bad(&sb, &["--ca", &broken, "wss://h"]);
    assert!(e.contains("broken.pem"), "{e}");
}

#[test]
fn print_config_shows_sources_and_masks_secrets() {
    let sb = Sandbox::new();
    let f = sb.write("c.toml", "url = \"wss://u:pw@api.example.com/?token=abc\"\nping_interval = \"20s\"\n[headers]\nAuthorization = \"Bearer TOPSECRET\"\n");
    let out = sb.run(&["--config", &f, "--print-config", "--pong-timeout", "3s"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("url = \"wss://u:***@api.example.com/?token=***\""),
        "{text}"
    );
    assert!(
        text.contains("ping_interval = \"20s\"") && text.contains("c.toml:2"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("pong_timeout = \"3s\"") && l.ends_with("# flag --pong-timeout")), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("reconnect_max = \"5s\"") && l.ends_with("# default")),
        "{text}"
    );
    assert!(text.contains("\"Authorization\" = \"***\""), "{text}");
    assert!(
        !text.contains("TOPSECRET") && !text.contains(":pw@") && !text.contains("abc"),
        "{text}"
    );
}

#[test]
fn help_is_complete() {
    let sb = Sandbox::new();
    let out = sb.run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("help", help);
    let out = sb.run(&["serve", "--help"]);
    insta::assert_snapshot!("serve_help", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn every_config_key_has_a_flag() {
    let sb = Sandbox::new();
    let help = String::from_utf8(sb.run(&["--help"]).stdout).unwrap();
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")).unwrap();
    for line in config.lines() {
        let l = line.trim_start_matches('#').trim();
        let Some((key, _)) = l.split_once(" = ") else {
            continue;
        };
        if key.contains(' ') || key.chars().any(|c| c.is_uppercase()) {
            continue;
        }
        // [keys] lines are actions, not settings.
        if wsmon::keymap::named(key).is_some() {
            continue;
        }
        let flag = match key {
            // Each URL is an argument; `name` only names an [[endpoint]] table; `mouse` is
            // the file's (a running dashboard toggles it with Alt-M); `expect`, `timeout` and
            // `ping` belong to [module.NAME] tables (a probe's query names its module).
            "url" | "name" | "mouse" | "expect" | "timeout" | "ping" => continue,
            "headers" => "--header".to_string(),
            "subprotocols" => "--subprotocol".to_string(),
            other => format!("--{}", other.replace('_', "-")),
        };
        assert!(
            help.contains(&flag),
            "config key `{key}` has no flag {flag}"
        );
    }
}

#[test]
fn completions_are_printed() {
    let sb = Sandbox::new();
    let out = sb.run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("--ping-interval") && text.contains("serve"),
        "bash completion lists flags"
    );
}

#[test]
fn print_config_is_a_config_file_that_reads_back_the_same() {
    let sb = Sandbox::new();
    let values = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("# "))
            .map(|l| l.split("  # ").next().unwrap().trim_end().to_string())
            .collect()
    };
    for args in [
        vec![
            "--ping-interval",
            "3s",
            "--on-open",
            "hi",
            "--preset",
            "socketio",
            "ws://h:3000/",
        ],
        vec!["ws://a/", "ws://b/x", "--stale-after", "1m"],
    ] {
        let out = sb.run(&[args.as_slice(), &["--print-config"]].concat());
        assert_eq!(out.status.code(), Some(0));
        let first = String::from_utf8(out.stdout).unwrap();
        let file = sb.write("printed.toml", &first);
        // The URLs are in the file now (a fleet as [[endpoint]] tables).
        let out = sb.run(&["--config", &file, "--print-config"]);
        let again = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{first}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(values(&again), values(&first), "{first}\n---\n{again}");
    }
}

#[test]
fn a_missing_argument_or_a_bad_number_names_it_and_the_subcommands_help() {
    let sb = Sandbox::new();
    for (args, want) in [
        (
            vec!["report"],
            "wsmon: missing <FILE> (see wsmon report --help)",
        ),
        (
            vec!["replay"],
            "wsmon: missing <FILE> (see wsmon replay --help)",
        ),
        (
            vec!["completions"],
            "wsmon: missing <SHELL> (see wsmon completions --help)",
        ),
        (
            vec!["serve", "--port", "notanumber"],
            "wsmon: --port <PORT>: `notanumber` is not a whole number (see wsmon serve --help)",
        ),
    ] {
        assert_eq!(bad(&sb, &args).trim(), want);
    }
}

/// `wsmon serve` says where it listens and, when it stops, what it saw: what a client sent
/// and how it closed, counted by the server and not by wsmon's engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wsmon_serve_sums_up_what_it_saw_when_it_stops() {
    use futures_util::SinkExt;
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wsmon"))
        .args(["serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = out.next_line().await.unwrap().unwrap();
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap_or_else(|| panic!("no URL in {banner}"));
    let tcp = tokio::net::TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    ws.send(Message::Ping("p".into())).await.unwrap();
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))
    .await
    .unwrap();
    // The server counts the close when it reads it: wait for its line about the connection.
    loop {
        let line = out.next_line().await.unwrap().expect("serve's output");
        if line.contains("closed by client") {
            break;
        }
    }
    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = Vec::new();
    while let Some(line) = out.next_line().await.unwrap() {
        rest.push(line);
    }
    assert!(child.wait().await.unwrap().success());
    assert_eq!(
        rest.last().map(String::as_str),
        Some(
            "wsmon serve: served 1 connection (1 upgraded, at most 1 at once), 1 message and 1 ping received; close codes 1000 x1"
        ),
        "{rest:?}"
    );
}
