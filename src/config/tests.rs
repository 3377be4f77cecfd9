//! The config as a whole: defaults, layering, errors, the shipped file, and endpoints.

use std::path::Path;
use std::time::Duration;

use super::keys::{KEYS, Scope, Slot, Value, ValueKind};
use super::*;
use crate::engine::ConnSettings;

fn no_env(_: &str) -> Option<String> {
    None
}

fn file(text: &str) -> LoadedFile {
    file::parse(Path::new("/cfg/wsmon.toml"), text.to_string()).unwrap()
}

fn flags(args: &[&str]) -> ConnArgs {
    ConnArgs::from_flags(args).unwrap()
}

fn load_one(
    cli: &ConnArgs,
    url: Option<&str>,
    f: Option<&LoadedFile>,
) -> Result<Config, ConfigError> {
    let urls: Vec<String> = url.into_iter().map(str::to_string).collect();
    load(cli, &urls, f, &no_env)
}

fn settings(c: &Config) -> &ConnSettings {
    &c.endpoints[0].resolved.settings
}

fn source(c: &Config, key: &str) -> String {
    c.endpoints[0]
        .resolved
        .provenance
        .iter()
        .chain(&c.session_provenance)
        .find(|p| p.key == key)
        .unwrap()
        .source
        .to_string()
}

#[test]
fn shipped_config_parses_to_exactly_the_defaults() {
    let shipped = file::parse(Path::new("config.toml"), SAMPLE_CONFIG.to_string())
        .expect("config.toml parses");
    let from_file = load_one(&ConnArgs::default(), None, Some(&shipped)).unwrap();
    let builtin = load_one(&ConnArgs::default(), None, None).unwrap();
    let strip = |c: &Config| {
        c.endpoints[0]
            .resolved
            .provenance
            .iter()
            .chain(&c.session_provenance)
            .map(|p| (p.key, p.value.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&from_file), strip(&builtin));
    assert_eq!(from_file.session, crate::session::SessionOptions::default());
    let d = ConnSettings::default();
    assert_eq!(settings(&from_file).ping_interval, d.ping_interval);
    assert_eq!(settings(&from_file).max_message_size, d.max_message_size);
}

#[test]
fn shipped_config_documents_every_key() {
    for key in keys::all_names() {
        let documented = SAMPLE_CONFIG.lines().any(|l| {
            let l = l.trim_start_matches('#').trim_start();
            l.starts_with(&format!("{key} ="))
                || l.starts_with(&format!("[{key}]"))
                || l.starts_with(&format!("[[{key}]]"))
        });
        assert!(documented, "config.toml does not document `{key}`");
    }
}

#[test]
fn flags_override_the_file_which_overrides_defaults() {
    let f = file("ping_interval = \"20s\"\npong_timeout = \"3s\"\n");
    let c = load_one(&flags(&["--ping-interval", "5s"]), Some("ws://h"), Some(&f)).unwrap();
    let s = settings(&c);
    assert_eq!(s.ping_interval, Some(Duration::from_secs(5)));
    assert_eq!(s.pong_timeout, Duration::from_secs(3));
    assert_eq!(s.reconnect_max, ConnSettings::default().reconnect_max);
    assert_eq!(source(&c, "ping_interval"), "flag --ping-interval");
    assert_eq!(source(&c, "pong_timeout"), "/cfg/wsmon.toml:2");
    assert_eq!(source(&c, "reconnect_max"), "default");
}

#[test]
fn range_errors_name_file_line_key_and_range() {
    let f = file("\nping_interval = \"5ms\"\n");
    let e = load_one(&ConnArgs::default(), Some("ws://h"), Some(&f)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "config file `/cfg/wsmon.toml` line 2, `ping_interval`: must be 0 (off) or between 100ms and 1h, got 5ms"
    );
    let e = load_one(&flags(&["--fps", "500"]), Some("ws://h"), None).unwrap_err();
    assert_eq!(e.to_string(), "--fps: must be between 1 and 120, got 500");
    let e = load_one(
        &flags(&["--reconnect-min", "5s", "--reconnect-max", "1s"]),
        Some("ws://h"),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--reconnect-max: must be at least reconnect_min (5s), got 1s"
    );
    let e = load_one(
        &ConnArgs::default(),
        Some("ws://h"),
        Some(&file("reconnect_min = \"2m\"\n")),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "config file `/cfg/wsmon.toml` line 1, `reconnect_min`: must be at most reconnect_max (5s, the default), got 2m: lower it, or raise reconnect_max too"
    );
    let e = load_one(
        &flags(&["--record-max-bytes", "1KiB"]),
        Some("ws://h"),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--record-max-bytes: must be 0 (no rotation) or at least 64KiB, got 1KiB"
    );
}

#[test]
fn bad_urls_and_headers_are_named() {
    let e = load_one(&ConnArgs::default(), Some("http://h"), None).unwrap_err();
    assert!(
        e.to_string().starts_with("URL: unsupported scheme `http`"),
        "{e}"
    );
    let e = load_one(&flags(&["-H", "NoColonHere"]), Some("ws://h"), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "-H/--header: header `NoColonHere` must look like 'Name: value'"
    );
    assert!(
        load_one(
            &flags(&["-H", "Sec-WebSocket-Protocol: x"]),
            Some("ws://h"),
            None
        )
        .unwrap_err()
        .to_string()
        .contains("--subprotocol")
    );
    let f = file("[headers]\n\"Bad Name\" = \"x\"\n");
    let e = load_one(&ConnArgs::default(), Some("ws://h"), Some(&f)).unwrap_err();
    assert!(
        e.to_string()
            .contains("line 1, `headers`: `Bad Name` is not a valid header name"),
        "{e}"
    );
}

#[test]
fn headers_merge_and_secrets_are_masked_in_provenance() {
    let f = file("[headers]\nAuthorization = \"Bearer file\"\nX-Team = \"blue\"\n");
    let c = load_one(
        &flags(&["-H", "authorization: Bearer flag"]),
        Some("ws://u:pw@h/?token=abc"),
        Some(&f),
    )
    .unwrap();
    assert_eq!(
        settings(&c).headers,
        [
            ("X-Team".to_string(), "blue".to_string()),
            ("authorization".into(), "Bearer flag".into())
        ]
    );
    let table = c.print_table();
    assert!(
        !table.contains("Bearer") && !table.contains("pw@") && !table.contains("abc"),
        "{table}"
    );
    assert!(table.contains("token=***"), "{table}");
}

#[test]
fn proxy_from_environment_and_no_proxy() {
    let env = |k: &str| match k {
        "HTTPS_PROXY" => Some("http://user:pw@proxy.corp:3128".to_string()),
        "NO_PROXY" => Some("localhost,.internal, 127.0.0.0/8,10.1.2.3,fd00::/8".to_string()),
        _ => None,
    };
    let load_env = |cli: &ConnArgs, url: &str| load(cli, &[url.to_string()], None, &env);
    let c = load_env(&ConnArgs::default(), "wss://api.example.com/").unwrap();
    let p = settings(&c).proxy.clone().unwrap();
    assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 3128));
    assert_eq!(p.auth.as_deref(), Some("Basic dXNlcjpwdw=="));
    assert_eq!(p.shown, "http://user:***@proxy.corp:3128/");
    assert_eq!(source(&c, "proxy"), "environment HTTPS_PROXY");
    assert_eq!(p.source, "environment HTTPS_PROXY", "failures name it");
    let c = load_env(&ConnArgs::default(), "wss://db.internal/").unwrap();
    assert!(settings(&c).proxy.is_none());
    // IP addresses and CIDR ranges, as curl, Go and requests read them.
    for (url, exempt) in [
        ("wss://127.0.0.1:8080/", true),
        ("wss://127.200.1.1/", true),
        ("wss://128.0.0.1/", false),
        ("wss://10.1.2.3/", true),
        ("wss://10.1.2.4/", false),
        ("wss://[fd12::1]/", true),
        ("wss://[fe80::1]/", false),
    ] {
        let c = load_env(&ConnArgs::default(), url).unwrap();
        assert_eq!(settings(&c).proxy.is_none(), exempt, "{url}");
    }
    // ws:// looks at HTTP_PROXY, which is unset here.
    let c = load_env(&ConnArgs::default(), "ws://api.example.com/").unwrap();
    assert!(settings(&c).proxy.is_none());
    // --proxy none beats the environment.
    let c = load_env(&flags(&["--proxy", "none"]), "wss://api.example.com/").unwrap();
    assert!(settings(&c).proxy.is_none());
    let e = load_env(&flags(&["--proxy", "socks5://p:1080"]), "wss://x/").unwrap_err();
    assert!(
        e.to_string()
            .contains("`socks5://` proxies are not supported"),
        "{e}"
    );
}

#[test]
fn missing_and_invalid_ca_files_are_config_errors() {
    let e = load_one(
        &flags(&["--ca", "/nonexistent/ca.pem"]),
        Some("wss://h"),
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--ca: cannot read CA file `/nonexistent/ca.pem`"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "this is not pem").unwrap();
    let e = load_one(
        &flags(&["--ca", junk.to_str().unwrap()]),
        Some("wss://h"),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
}

#[test]
fn zero_ping_interval_disables_the_heartbeat() {
    let c = load_one(&flags(&["--ping-interval", "0"]), Some("ws://h"), None).unwrap();
    assert_eq!(settings(&c).ping_interval, None);
}

#[test]
fn no_url_is_a_clear_error_only_when_endpoints_are_needed() {
    let c = load_one(&ConnArgs::default(), None, None).unwrap();
    assert_eq!(c.watch_list().unwrap_err(), ConfigError::NoUrl);
    assert!(
        c.print_table().contains("# url = (none)"),
        "{}",
        c.print_table()
    );
}

/// A value of `kind` other than `default`, as TOML, for the per-endpoint override test; `ca`
/// is a real CA file written for the test.
fn other_value(kind: ValueKind, default: &Value, tag: &str, ca: &Path) -> String {
    let pick = |a: u64, b: u64, d: u64| if a == d { b } else { a };
    match (kind, default) {
        (ValueKind::Duration { min, max, .. }, Value::Duration(d)) => {
            let v = if *d == max { min } else { max };
            format!("{:?}", crate::text::duration(v))
        }
        (ValueKind::Size { min, max, .. }, Value::Num(d)) => {
            pick(min, max.min(1 << 30), *d).to_string()
        }
        (ValueKind::Count { min, max }, Value::Num(d)) => pick(max, min, *d).to_string(),
        (ValueKind::Bool, Value::Bool(b)) => (!b).to_string(),
        (ValueKind::Text, _) => format!("\"https://{tag}.example\""),
        (ValueKind::CaFile, _) => format!("{:?}", ca.display().to_string()),
        (ValueKind::Path, _) => format!(
            "{:?}",
            ca.with_file_name(format!("{tag}.headers"))
                .display()
                .to_string()
        ),
        (ValueKind::Tokens, _) => format!("[\"proto-{tag}\"]"),
        (ValueKind::List, _) => format!("[\"secret_{tag}\"]"),
        (ValueKind::Headers, _) => format!("{{ X-{tag} = \"{tag}\" }}"),
        (ValueKind::Url, _) => format!("\"ws://{tag}.example:4{}/\"", tag.len()),
        (ValueKind::Proxy, _) => format!("\"http://proxy-{tag}:3128\""),
        (ValueKind::Regex, _) => format!("\"^pong-{tag}$\""),
        (ValueKind::Rules, _) => format!("[{{ when = \"^ping-{tag}$\", send = \"pong\" }}]"),
        (ValueKind::Json, _) => format!("'{{\"who\":\"{tag}\"}}'"),
        (ValueKind::Secret, _) => format!("\"secret-{tag}\""),
        (ValueKind::Choice(words), Value::Text(d)) => format!(
            "{:?}",
            words
                .iter()
                .rev()
                .find(|w| Some(**w) != d.as_deref() && **w != "none")
                .unwrap()
        ),
        (kind, default) => panic!("add a sample value for {kind:?} (default {default:?})"),
    }
}

#[test]
fn every_connection_key_can_be_overridden_per_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    for tag in ["alpha", "beta"] {
        std::fs::write(
            dir.path().join(format!("{tag}.headers")),
            format!("# headers\nX-From-File: {tag}\n"),
        )
        .unwrap();
    }
    // Keys that only some presets read have their own test (below).
    let owned = |name: &str| {
        name == "preset"
            || name == "subscribe"
            || super::presets::OWNED.iter().any(|(k, _)| *k == name)
    };
    let conn_keys: Vec<_> = KEYS
        .iter()
        .filter(|k| k.scope == Scope::Endpoint && !owned(k.name))
        .collect();
    let mut text = String::from("ping_interval = \"20s\"\n");
    for tag in ["alpha", "beta"] {
        text.push_str(&format!("\n[[endpoint]]\nname = \"{tag}\"\n"));
        for k in &conn_keys {
            text.push_str(&format!(
                "{} = {}\n",
                k.name,
                other_value(k.kind, &k.default_value(), tag, &ca)
            ));
        }
    }
    let path = dir.path().join("fleet.toml");
    std::fs::write(&path, &text).unwrap();
    let f = file::load(&path).unwrap();
    let c = load(&ConnArgs::default(), &[], Some(&f), &no_env).unwrap();
    assert_eq!(c.endpoints.len(), 2);
    let lines: Vec<&str> = text.lines().collect();
    let defaults = ConnSettings::default();
    for (e, tag) in c.endpoints.iter().zip(["alpha", "beta"]) {
        assert_eq!(e.name, tag);
        for k in &conn_keys {
            let Slot::Conn { get, .. } = k.slot else {
                unreachable!()
            };
            // The endpoint's own value took effect...
            assert_ne!(
                get(&e.resolved.settings),
                get(&defaults),
                "`{}` of `{tag}` was not overridden",
                k.name
            );
            // ...and came from its own line in its own table.
            let p = e
                .resolved
                .provenance
                .iter()
                .find(|p| p.key == k.name)
                .unwrap();
            let Source::File { line, .. } = p.source else {
                panic!("`{}` of `{tag}` came from {}", k.name, p.source)
            };
            assert!(
                lines[line - 1].starts_with(&format!("{} = ", k.name)),
                "`{}` of `{tag}` points at line {line}: {}",
                k.name,
                lines[line - 1]
            );
            assert!(
                line > e.table_line.unwrap(),
                "`{}` of `{tag}` came from another table",
                k.name
            );
        }
    }
    // The two endpoints differ where their values do, and `--print-config` shows each.
    assert_ne!(
        c.endpoints[0].resolved.settings.target.host(),
        c.endpoints[1].resolved.settings.target.host()
    );
    let table = c.print_table();
    assert_eq!(table.matches("[[endpoint]]").count(), 2, "{table}");
    assert!(table.contains("name = \"alpha\""), "{table}");
    assert!(table.contains("\"proto-beta\""), "{table}");
}

#[test]
fn an_endpoint_inherits_the_top_level_and_the_flags_win() {
    let f = file(
        "ping_interval = \"20s\"\n[headers]\nX-Top = \"1\"\n\n[[endpoint]]\nname = \"a\"\nurl = \"ws://a\"\n\n[[endpoint]]\nname = \"b\"\nurl = \"ws://b\"\nping_interval = \"5s\"\n[endpoint.headers]\nX-B = \"2\"\n",
    );
    let c = load(&flags(&["--pong-timeout", "3s"]), &[], Some(&f), &no_env).unwrap();
    let (a, b) = (&c.endpoints[0].resolved, &c.endpoints[1].resolved);
    assert_eq!(a.settings.ping_interval, Some(Duration::from_secs(20)));
    assert_eq!(b.settings.ping_interval, Some(Duration::from_secs(5)));
    assert_eq!(a.settings.headers, [("X-Top".to_string(), "1".to_string())]);
    assert_eq!(b.settings.headers, [("X-B".to_string(), "2".to_string())]);
    assert_eq!(a.settings.pong_timeout, Duration::from_secs(3));
    assert_eq!(
        b.source_of("pong_timeout"),
        Some(&Source::Cli("pong_timeout"))
    );
    assert_eq!(
        b.source_of("ping_interval").map(ToString::to_string),
        Some("/cfg/wsmon.toml:12".into())
    );
}

#[test]
fn presets_fill_in_what_the_protocol_needs_and_keep_what_was_given() {
    let c = load_one(
        &flags(&[
            "--preset",
            "socketio",
            "--on-open",
            r#"subscribe "prices""#,
            "--on-open",
            r#"42["raw"]"#,
        ]),
        Some("ws://h:3000"),
        None,
    )
    .unwrap();
    let s = settings(&c);
    assert_eq!(
        s.target.request_path(),
        "/socket.io/?EIO=4&transport=websocket"
    );
    assert_eq!(source(&c, "url"), "preset socketio");
    assert_eq!(
        s.on_open,
        [r#"subscribe "prices""#, r#"42["raw"]"#],
        "kept as written: each connection puts it in the protocol's form (its namespace)"
    );
    assert_eq!(source(&c, "on_open"), "flag --on-open");

    // A path of its own is kept.
    let c = load_one(&flags(&["--preset", "socketio"]), Some("ws://h/io/"), None).unwrap();
    assert_eq!(settings(&c).target.request_path(), "/io/");

    let c = load_one(
        &flags(&["--preset", "graphql-ws"]),
        Some("ws://h/graphql"),
        None,
    )
    .unwrap();
    let s = settings(&c);
    assert_eq!(
        s.subprotocols,
        ["graphql-ws", "graphql-transport-ws"],
        "both protocols, in the order both kinds of server accept"
    );
    assert_eq!(source(&c, "subprotocols"), "preset graphql-ws");
    assert_eq!(
        s.app_ping, None,
        "the protocol's own ping, chosen by what the server speaks"
    );
    // The user's own heartbeat wins over the preset's.
    let c = load_one(
        &flags(&[
            "--preset",
            "graphql-ws",
            "--app-ping",
            "hb",
            "--app-pong",
            "^hb$",
        ]),
        Some("ws://h/graphql"),
        None,
    )
    .unwrap();
    assert_eq!(settings(&c).app_ping.as_deref(), Some("hb"));
}

#[test]
fn a_url_given_twice_gets_a_name_of_its_own_and_table_names_must_differ() {
    let urls: Vec<String> = [
        "ws://a.example/",
        "ws://b.example/",
        "ws://a.example/",
        "ws://a.example/",
    ]
    .map(String::from)
    .to_vec();
    let c = load(&ConnArgs::default(), &urls, None, &no_env).unwrap();
    let names: Vec<&str> = c.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["a.example", "b.example", "a.example #2", "a.example #3"]
    );
    let twice = file(
        "[[endpoint]]\nname = \"x\"\nurl = \"ws://a/\"\n\n[[endpoint]]\nname = \"x\"\nurl = \"ws://b/\"\n",
    );
    let e = load(&ConnArgs::default(), &[], Some(&twice), &no_env).unwrap_err();
    assert!(
        e.to_string().contains("two endpoints are called `x`"),
        "{e}"
    );
}

#[test]
fn headers_come_from_a_file_so_credentials_stay_off_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api.headers");
    std::fs::write(
        &file,
        "# credentials\nAuthorization: Bearer sekret\n\nX-Api-Key: k123\nX-Client: from-file\n",
    )
    .unwrap();
    let at = format!("@{}", file.display());
    let cli = ConnArgs::from_flags(&["-H", &at, "-H", "X-Client: from-flag"]).unwrap();
    let c = load(&cli, &["ws://h/".to_string()], None, &no_env).unwrap();
    let h = &c.endpoints[0].resolved.settings.headers;
    let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("Authorization"), Some("Bearer sekret"));
    assert_eq!(get("X-Api-Key"), Some("k123"));
    assert_eq!(get("X-Client"), Some("from-flag"), "the later flag wins");
    let printed = c.print_table();
    assert!(
        !printed.contains("sekret") && !printed.contains("k123"),
        "{printed}"
    );
    let bad = dir.path().join("bad.headers");
    std::fs::write(&bad, "Authorization Bearer x\n").unwrap();
    let at = format!("@{}", bad.display());
    let e = load(
        &ConnArgs::from_flags(&["-H", &at]).unwrap(),
        &["ws://h/".to_string()],
        None,
        &no_env,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("bad.headers` line 1") && e.contains("'Name: value'"),
        "{e}"
    );
}
