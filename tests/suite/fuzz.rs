//! Property tests over the parsers that read untrusted input: config files, flags' values,
//! URLs, recordings, typed lines and headless stdin. None may panic; errors stay one line.

use crate::common;

use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use wsmon::cli::ConnArgs;
use wsmon::config::{Config, ConfigError, file, load};
use wsmon::engine::transport::last_close_frame;
use wsmon::engine::{Command, Kind};
use wsmon::tui::input::{Action, parse_line};

fn no_env(_: &str) -> Option<String> {
    None
}

fn resolve(
    cli: &ConnArgs,
    url: Option<&str>,
    f: Option<&file::LoadedFile>,
) -> Result<Config, ConfigError> {
    let urls: Vec<String> = url.into_iter().map(str::to_string).collect();
    load(cli, &urls, f, &no_env)
}

/// Every documented key, and one misspelt.
fn keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = wsmon::config::keys::all_names().collect();
    keys.push("pong_timout");
    keys
}

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "[a-z0-9 :/.?=&%-]{0,20}".prop_map(|s| format!("{s:?}")),
        prop::sample::select(vec![
            "\"500ms\"",
            "\"15s\"",
            "\"2m\"",
            "\"0\"",
            "\"64MiB\"",
            "\"-1s\"",
            "\"1h30m\"",
            "\"\"",
            "\"ws://h\"",
            "\"wss://u:p@h/?token=x\""
        ])
        .prop_map(str::to_string),
        prop::collection::vec("[a-z]{0,6}", 0..3).prop_map(|v| format!("{v:?}")),
        Just("{ A = \"b\" }".to_string()),
        Just("1.5".to_string()),
    ]
}

/// JSON text as a server might write it: numbers in any notation, strings with escapes and
/// brackets, nesting, and white space between tokens.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?",
        r#""([a-z ,:\[\]{}]|\\"|\\\\|\\n|\\u00e9){0,12}""#,
        Just("true".to_string()),
        Just("null".to_string()),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let ws = "[ \n\t]{0,2}";
        prop_oneof![
            (prop::collection::vec((ws, inner.clone()), 0..6)).prop_map(|items| {
                let parts: Vec<String> =
                    items.into_iter().map(|(w, v)| format!("{w}{v}")).collect();
                format!("[{}]", parts.join(","))
            }),
            (prop::collection::vec(("[a-z]{1,4}", ws, inner), 0..6)).prop_map(|items| {
                let parts: Vec<String> = items
                    .into_iter()
                    .map(|(k, w, v)| format!("\"{k}\"{w}:{w}{v}"))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }),
        ]
    })
}

/// Every command the input line knows, and some near misses.
const SLASH_NAMES: [&str; 24] = [
    "ping",
    "reconnect",
    "clear",
    "find",
    "search",
    "grep",
    "copy",
    "record",
    "report",
    "pings",
    "failure",
    "quit",
    "exit",
    "q",
    "filter",
    "raw",
    "help",
    "?",
    "binary",
    "close",
    "broadcast",
    "",
    "/",
    "bin",
];

/// Text as a hostile user or a paste brings it: controls, escapes, wide and combining
/// characters, right-to-left marks, long runs.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{202e}\\u{fe0f}\\u{0301}aé漢😀0-9a-fA-F ]{0,80}",
        "[0-9a-fA-F ]{0,40}[^0-9a-fA-F ]?[0-9a-fA-F ]{0,8}",
        "[\\PC]{200,400}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn pretty_json_changes_only_white_space(doc in json_text()) {
        let doc = format!("[{doc}]");
        let pretty = wsmon::text::pretty_json(doc.as_bytes()).expect("valid JSON is printed");
        let squeeze = |s: &str| -> String {
            // White space outside strings removed: what is left must be the same bytes.
            let (mut out, mut in_str, mut esc) = (String::new(), false, false);
            for c in s.chars() {
                if in_str {
                    out.push(c);
                    if esc { esc = false } else if c == '\\' { esc = true } else if c == '"' { in_str = false }
                } else if c == '"' {
                    in_str = true;
                    out.push(c);
                } else if !c.is_whitespace() {
                    out.push(c);
                }
            }
            out
        };
        prop_assert_eq!(squeeze(&pretty), squeeze(&doc));
        // Still JSON (1e999 is, though no f64 holds it: a Value would refuse it).
        prop_assert!(serde_json::from_str::<serde::de::IgnoredAny>(&pretty).is_ok());
    }

    #[test]
    fn any_text_as_a_config_file_is_accepted_or_refused_in_one_line(text in "\\PC{0,200}") {
        match file::parse(Path::new("/f.toml"), text) {
            Err(e) => prop_assert!(!e.to_string().contains('\n'), "{}", e),
            Ok(f) => {
                if let Err(e) = resolve(&ConnArgs::default(), None, Some(&f)) {
                    prop_assert!(!e.to_string().contains('\n'), "{}", e);
                }
            }
        }
    }

    #[test]
    fn plausible_config_files_never_panic(lines in prop::collection::vec((prop::sample::select(keys()), toml_value()), 0..8)) {
        let mut text = String::new();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in lines {
            if seen.insert(k) {
                if k == "headers" {
                    text.push_str(&format!("headers = {{ X = {v} }}\n"));
                } else {
                    text.push_str(&format!("{k} = {v}\n"));
                }
            }
        }
        match file::parse(Path::new("/f.toml"), text) {
            Ok(f) => {
                if let Err(e) = resolve(&ConnArgs::default(), None, Some(&f)) {
                    let m = e.to_string();
                    prop_assert!(!m.contains('\n') && m.contains("/f.toml"), "names the file: {}", m);
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("/f.toml` line "), "{}", e),
        }
    }

    #[test]
    fn flag_values_never_panic(s in "\\PC{0,40}") {
        let _ = wsmon::config::values::parse_duration(&s);
        let _ = wsmon::config::values::parse_size(&s);
        let _ = wsmon::engine::target::Target::parse(&s);
        for flag in ["-H", "--subprotocol", "--origin", "--proxy", "--metrics", "--redact-query", "--ca"] {
            // A value clap itself refuses is clap's one-line error; anything else is ours.
            let Ok(cli) = ConnArgs::from_flags(&[flag, &s]) else { continue };
            if let Err(e) = resolve(&cli, Some(&s), None) {
                prop_assert!(!e.to_string().contains('\n'));
            }
        }
    }

    #[test]
    fn any_line_of_a_recording_decodes_or_is_refused(line in "\\PC{0,300}") {
        let _ = wsmon::jsonl::decode(&line);
    }

    #[test]
    fn near_miss_recording_lines_never_panic(
        event in prop::sample::select(vec!["open", "recv", "sent", "closed", "error", "retry", "queued", "dropped", "rtt", "connecting", "recording"]),
        fields in prop::collection::vec((prop::sample::select(vec!["attempt", "kind", "data", "base64", "len", "code", "by", "cause", "phase", "status", "headers", "ms", "delay_ms", "remote", "dns_ms", "tcp_ms", "handshake_ms", "id", "reason", "queued", "uptime_ms", "message"]), toml_value()), 0..8),
    ) {
        let mut obj = format!("{{\"ts\":\"2026-11-25T12:00:00.000Z\",\"event\":\"{event}\"");
        for (k, v) in fields {
            obj.push_str(&format!(",\"{k}\":{v}"));
        }
        obj.push('}');
        let _ = wsmon::jsonl::decode(&obj);
    }

    #[test]
    fn typed_lines_never_panic(line in "\\PC{0,120}") {
        let _ = wsmon::tui::input::parse_line(&line);
    }

    #[test]
    fn slash_commands_with_any_arguments_never_panic(
        name in prop::sample::select(SLASH_NAMES.to_vec()),
        sep in "[ \t\u{a0}\u{3000}]{1,2}",
        args in hostile_text(),
    ) {
        let line = format!("/{name}{sep}{args}");
        let _ = parse_line(&line);
    }

    #[test]
    fn binary_sends_exactly_the_bytes_its_hex_spells(
        bytes in prop::collection::vec(any::<u8>(), 1..64),
        spaced in any::<bool>(),
        upper in any::<bool>(),
    ) {
        let hex: Vec<String> = bytes
            .iter()
            .map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") })
            .collect();
        let line = format!("/binary {}", hex.join(if spaced { " " } else { "" }));
        match parse_line(&line) {
            Action::Engine(Command::Send { kind, data }) => {
                prop_assert_eq!(kind, Kind::Binary);
                prop_assert_eq!(&data[..], &bytes[..]);
            }
            other => prop_assert!(false, "{line}: {other:?}"),
        }
    }

    #[test]
    fn close_takes_a_sendable_code_and_a_reason_that_fits(
        code in any::<u16>(),
        reason in hostile_text(),
    ) {
        let line = format!("/close {code} {reason}");
        let trimmed = reason.trim();
        let sendable = wsmon::engine::close_code::is_sendable_close_code(code);
        match parse_line(&line) {
            Action::Engine(Command::Close { code: c, reason: r }) => {
                prop_assert!(sendable && trimmed.len() <= 123, "{line}");
                prop_assert_eq!(c, code);
                prop_assert_eq!(r, trimmed);
            }
            Action::Error(e) => {
                prop_assert!(!sendable || trimmed.len() > 123, "{line}: {e}");
                prop_assert!(e.starts_with("/close: "), "{e}");
            }
            other => prop_assert!(false, "{line}: {other:?}"),
        }
    }

    #[test]
    fn a_close_frame_at_the_end_of_what_was_read_is_found(
        before in prop::collection::vec(any::<u8>(), 0..300),
        code in prop::option::of(any::<u16>()),
        reason in prop::collection::vec(any::<u8>(), 0..=123),
    ) {
        let mut tail = before;
        let reason = if code.is_some() { reason } else { Vec::new() };
        let payload: Vec<u8> = code
            .map(|c| c.to_be_bytes().iter().chain(&reason).copied().collect())
            .unwrap_or_default();
        tail.extend([0x88, payload.len() as u8]);
        tail.extend(&payload);
        let found = last_close_frame(&tail, |_, _| true);
        prop_assert!(found.is_some());
        // A shorter frame that also ends the bytes may be found first; the one written ends
        // them too, so any frame found is a suffix of what was read.
        let (c, r) = found.unwrap();
        let len = r.len() + if c.is_some() { 2 } else { 0 };
        prop_assert!(tail.ends_with(&r));
        prop_assert!(len <= payload.len());
        prop_assert_eq!(
            last_close_frame(&tail, |c, r| c == code && r == &reason[..]),
            Some((code, reason.clone()))
        );
    }

    #[test]
    fn any_bytes_read_last_never_panic_the_close_frame_reader(
        tail in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        if let Some((code, reason)) = last_close_frame(&tail, |_, _| true) {
            prop_assert!(reason.len() <= 123);
            prop_assert!(code.is_some() || reason.is_empty());
        }
    }

    #[test]
    fn protocol_messages_decode_without_panic(
        text in "(42|43|0|40|41|44|CONNECTED\n|MESSAGE\n|ERROR\n)?\\PC{0,80}",
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        offsets in any::<bool>(),
    ) {
        for (_, p) in wsmon::engine::Preset::NAMES {
            let _ = p.decode(Kind::Text, text.as_bytes(), offsets);
            let _ = p.decode(Kind::Binary, &bytes, offsets);
        }
    }

    #[test]
    fn stdin_lines_become_one_message_each(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = std::str::from_utf8(&bytes).ok();
        match wsmon::headless::stdin_line(&bytes) {
            None => prop_assert!(bytes.iter().all(|b| *b == b'\n' || *b == b'\r')),
            // Bytes that are not UTF-8 go as they are, binary.
            Some(Ok(Command::Send { kind: Kind::Binary, data })) if text.is_none() => {
                prop_assert!(!data.ends_with(b"\n") && !data.ends_with(b"\r"));
            }
            // A text line is typed: put in the preset's form, without its line ending.
            Some(Ok(Command::Emit { line })) => {
                prop_assert!(text.is_some());
                prop_assert!(!line.ends_with('\n') && !line.ends_with('\r'));
            }
            // `/raw` and `/binary` go as written; bad hex is refused with why.
            Some(Ok(Command::Send { .. })) | Some(Err(_)) => {
                prop_assert!(text.is_some_and(|t| t.starts_with("/raw") || t.starts_with("/binary")));
            }
            Some(other) => prop_assert!(false, "{:?}", other),
        }
    }
}

/// Random bytes on the real binary's stdin, against a real echo server: it keeps going, every
/// line becomes one message, and it stops cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_stdin_into_the_real_binary() {
    use tokio::io::AsyncWriteExt;

    let srv = common::echo_server().await;
    let mut w = common::bin::Lines::spawn(&["--headless", &srv.url()]);
    w.until("open", common::bin::is("open")).await;
    let mut stdin = w.child.stdin.take().unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut lines = 0;
    let mut blob = Vec::new();
    for i in 0..500 {
        let len = (seed % 300) as usize + if i == 250 { 1 << 20 } else { 0 };
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let b = (seed & 0xff) as u8;
            blob.push(if b == b'\n' || b == b'\r' { b'x' } else { b });
        }
        blob.push(b'\n');
        lines += 1;
    }
    stdin.write_all(&blob).await.unwrap();
    stdin.flush().await.unwrap();
    let mut echoed = 0;
    w.until("every line echoed", |v| {
        echoed += usize::from(v["event"] == "recv");
        echoed == lines
    })
    .await;
    w.signal("-TERM").await;
    let (code, _, err) = w.finish().await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        srv.stats()
            .received
            .load(std::sync::atomic::Ordering::SeqCst),
        lines as u64
    );
    let _ = Duration::ZERO;
}
