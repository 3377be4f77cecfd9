//! Presets in the config: a `[preset.NAME]` of the file is a layer under every other (its
//! values are the preset's, anything set elsewhere wins); a built-in preset fills in what it
//! needs where nothing was set (Socket.IO's path, the subprotocols it offers); and a key that
//! belongs to another preset, or a message that cannot be sent, is refused in one line.

use super::file::LoadedFile;
use super::keys::{self, Key, Value};
use super::layer::{Given, Layer};
use super::{ConfigError, Provenance, Source, at};
use crate::engine::protocol::{Line, graphql_subprotocols, stomp_subprotocols};
use crate::engine::{ConnSettings, Preset};

/// The `[preset.NAME]` the layers choose, as a layer, with its subscribe template; `None`
/// for a built-in preset or none. A name that is neither is refused with the choices.
pub(crate) fn custom_layer(
    preset: (&Value, &Source),
    file: Option<&LoadedFile>,
) -> Result<Option<(Layer, Option<String>)>, ConfigError> {
    let (Value::Text(Some(name)), source) = preset else {
        return Ok(None);
    };
    if name == "none" || Preset::named(name).is_some() {
        return Ok(None);
    }
    let key = keys::find("preset").expect("the preset key");
    let Some((f, table)) = file.and_then(|f| Some((f, f.preset(name)?))) else {
        let custom: Vec<&str> = file
            .map(|f| f.presets.iter().map(|p| p.name.as_str()).collect())
            .unwrap_or_default();
        let mut choices: Vec<&str> = Preset::NAMES.iter().map(|(n, _)| *n).collect();
        choices.extend(custom);
        return Err(ConfigError::Invalid {
            at: at(key.name, source),
            message: format!(
                "`{name}` is not a preset: use {}, none, or a [preset.{name}] table of your own in the config file (wsmon --preset list shows them)",
                choices.join(", ")
            ),
        });
    };
    let layer = table
        .table
        .entries
        .iter()
        .map(|e| Given {
            key: e.key,
            value: e.value.clone(),
            source: Source::File {
                path: f.path.clone(),
                line: e.line,
            },
        })
        .collect();
    Ok(Some((
        layer,
        table.template.as_ref().map(|(t, _)| t.clone()),
    )))
}

/// What a built-in preset fills in where nothing else was set: Socket.IO's endpoint path;
/// the subprotocols GraphQL, MQTT and STOMP servers expect.
pub fn apply(settings: &mut ConnSettings, provenance: &mut [Provenance]) {
    let Some(preset) = settings.preset else {
        return;
    };
    let name = preset.name();
    let mut set = |key: &str, value: String| {
        if let Some(p) = provenance.iter_mut().find(|p| p.key == key) {
            p.value = value;
            p.source = Source::Preset(name);
        }
    };
    let subprotocols: Vec<String> = match preset {
        Preset::SocketIo => {
            if let Some(t) = settings
                .target
                .with_default_path("/socket.io/", "EIO=4&transport=websocket")
            {
                set("url", format!("{:?}", t.redacted(&settings.redactor)));
                settings.target = t;
            }
            Vec::new()
        }
        Preset::GraphqlWs => graphql_subprotocols(),
        Preset::Mqtt => vec!["mqtt".to_string()],
        Preset::Stomp => stomp_subprotocols(),
    };
    if settings.subprotocols.is_empty() && !subprotocols.is_empty() {
        settings.subprotocols = subprotocols;
        set("subprotocols", format!("{:?}", settings.subprotocols));
    }
}

/// The keys that only some presets read, and which.
pub(crate) const OWNED: [(&str, &[&str]); 7] = [
    ("namespace", &["socketio"]),
    ("init_payload", &["socketio", "graphql-ws"]),
    ("client_id", &["mqtt"]),
    ("mqtt_version", &["mqtt"]),
    ("stomp_host", &["stomp"]),
    ("username", &["mqtt", "stomp"]),
    ("password", &["mqtt", "stomp"]),
];

/// Refuses a key set for a preset that does not read it, `subscribe` where the preset has
/// no subscriptions, and a message value that cannot be sent (bad `/binary` hex).
pub fn check(settings: &ConnSettings, provenance: &[Provenance]) -> Result<(), ConfigError> {
    // Set somewhere, to something other than its default (config.toml spells defaults out).
    let given = |key: &str| {
        let k = keys::find(key)?;
        let keys::Slot::Conn { get, .. } = k.slot else {
            return None;
        };
        if get(settings) == k.default_value() {
            return None;
        }
        provenance
            .iter()
            .find(|p| p.key == key)
            .filter(|p| !matches!(p.source, Source::Default | Source::Preset(_)))
    };
    let refuse = |p: &Provenance, message: String| ConfigError::Invalid {
        at: at(p.key, &p.source),
        message,
    };
    let preset = settings
        .custom_preset
        .clone()
        .or_else(|| settings.preset.map(|p| p.name().to_string()))
        .unwrap_or_else(|| "none".to_string());
    for (key, readers) in OWNED {
        if let Some(p) = given(key)
            && !readers.contains(&preset.as_str())
        {
            return Err(refuse(
                p,
                format!(
                    "only the {} preset{} read{} it, and this endpoint's preset is {preset}: set preset = \"{}\", or remove {}",
                    readers.join(" and "),
                    if readers.len() > 1 { "s" } else { "" },
                    if readers.len() > 1 { "" } else { "s" },
                    readers[0],
                    flag_or_key(key)
                ),
            ));
        }
    }
    if let Some(p) = given("subscribe") {
        let means = settings.preset.and_then(Preset::subscribe_means);
        let custom = settings.subscribe_template.is_some();
        if means.is_none() && !custom {
            let why = match (settings.preset, &settings.custom_preset) {
                (Some(Preset::SocketIo), _) => {
                    "Socket.IO has no subscriptions of its own (send an event with on_open instead)"
                        .to_string()
                }
                (_, Some(name)) => format!(
                    "[preset.{name}] has no subscribe message: add subscribe = '...{{}}...' to it"
                ),
                _ => "no preset is spoken: choose one (graphql-ws, mqtt, stomp) or use on_open"
                    .to_string(),
            };
            return Err(refuse(p, why));
        }
    }
    for key in ["on_open", "app_ping"] {
        let values: Vec<&String> = match key {
            "on_open" => settings.on_open.iter().collect(),
            _ => settings.app_ping.iter().collect(),
        };
        for v in values {
            if let Err(e) = Line::parse(v)
                && let Some(p) = provenance.iter().find(|p| p.key == key)
            {
                return Err(refuse(p, format!("`{v}`: {e}")));
            }
        }
    }
    for rule in &settings.auto_reply {
        if let Err(e) = Line::parse(&rule.send)
            && let Some(p) = provenance.iter().find(|p| p.key == "auto_reply")
        {
            return Err(refuse(p, format!("the answer `{}`: {e}", rule.send)));
        }
    }
    Ok(())
}

fn flag_or_key(key: &str) -> String {
    keys::find(key).map_or_else(
        || key.to_string(),
        |k: &Key| format!("{} / {}", k.name, k.flag_display()),
    )
}

/// The presets a run can choose, a line each (`wsmon --preset list`).
pub fn list(file: Option<&LoadedFile>) -> String {
    let mut out = String::new();
    for (name, p) in Preset::NAMES {
        out.push_str(&format!("{name:<11} {}\n", p.about()));
    }
    if let Some(f) = file {
        for p in &f.presets {
            let subs = if p.template.is_some() {
                ", subscribe"
            } else {
                ""
            };
            let keys: Vec<&str> = p.table.entries.iter().map(|e| e.key.name).collect();
            out.push_str(&format!(
                "{:<11} from {} line {}: {}{subs}\n",
                p.name,
                f.path.display(),
                p.line,
                keys.join(", ")
            ));
        }
    }
    out.push_str("none        plain WebSocket: what is typed goes as it is\n");
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::ConnArgs;
    use crate::config::{Config, ConfigError, file, load};
    use crate::engine::Preset;

    fn run(args: &[&str], url: &str, toml: Option<&str>) -> Result<Config, ConfigError> {
        let f = toml.map(|t| file::parse(Path::new("/cfg/wsmon.toml"), t.to_string()).unwrap());
        load(
            &ConnArgs::from_flags(args).unwrap(),
            &[url.to_string()],
            f.as_ref(),
            &|_| None,
        )
    }

    fn refused(args: &[&str], toml: Option<&str>) -> String {
        run(args, "ws://h/", toml).unwrap_err().to_string()
    }

    #[test]
    fn each_preset_offers_its_subprotocols_and_reads_its_keys() {
        let c = run(
            &[
                "--preset",
                "mqtt",
                "--subscribe",
                "sensors/#",
                "--client-id",
                "probe-1",
                "--username",
                "alice",
                "--password",
                "s3cret",
                "--mqtt-version",
                "5",
            ],
            "ws://h:8080/",
            None,
        )
        .unwrap();
        let s = &c.endpoints[0].resolved.settings;
        assert_eq!(s.preset, Some(Preset::Mqtt));
        assert_eq!(s.subprotocols, ["mqtt"]);
        assert_eq!(s.subscribe, ["sensors/#"]);
        assert_eq!(s.client_id.as_deref(), Some("probe-1"));
        assert_eq!(s.password.as_ref().map(|p| p.0.as_str()), Some("s3cret"));
        let table = c.print_table();
        assert!(table.contains("password = \"***\""), "{table}");
        assert!(!table.contains("s3cret"), "{table}");
        let c = run(
            &["--preset", "stomp", "--stomp-host", "/"],
            "ws://h/ws",
            None,
        )
        .unwrap();
        let s = &c.endpoints[0].resolved.settings;
        assert_eq!(s.subprotocols, ["v12.stomp", "v11.stomp", "v10.stomp"]);
        assert_eq!(s.stomp_host.as_deref(), Some("/"));
    }

    #[test]
    fn a_key_of_another_preset_is_refused_with_the_fix() {
        let e = refused(&["--namespace", "/chat"], None);
        assert!(
            e.contains("--namespace")
                && e.contains("only the socketio preset reads it")
                && e.contains("preset is none"),
            "{e}"
        );
        let e = refused(&["--preset", "stomp", "--init-payload", "{}"], None);
        assert!(
            e.contains("only the socketio and graphql-ws presets read it")
                && e.contains("preset is stomp"),
            "{e}"
        );
        let e = refused(&["--preset", "socketio", "--client-id", "x"], None);
        assert!(e.contains("only the mqtt preset reads it"), "{e}");
        let e = refused(&["--preset", "socketio", "--subscribe", "x"], None);
        assert!(e.contains("Socket.IO has no subscriptions"), "{e}");
        let e = refused(&["--subscribe", "x"], None);
        assert!(e.contains("no preset is spoken"), "{e}");
        let e = refused(&["--preset", "mqtt", "--on-open", "/binary c0 0"], None);
        assert!(e.contains("--on-open") && e.contains("odd number"), "{e}");
        let e = refused(&["--preset", "nats"], None);
        assert!(
            e.contains("`nats` is not a preset")
                && e.contains("socketio, graphql-ws, mqtt, stomp")
                && e.contains("--preset list"),
            "{e}"
        );
    }

    #[test]
    fn a_preset_of_the_files_own_is_a_layer_under_every_other() {
        let toml = r#"
[preset.ticker]
subprotocols = ["ticker.v2"]
on_open = ['{"op":"hello"}']
subscribe = '{"op":"subscribe","channel":"{}"}'
app_ping = '{"op":"ping"}'
app_pong = '"op":"pong"'
app_ping_interval = "5s"
stale_after = "30s"

[[endpoint]]
name = "eu"
url = "ws://eu.example/feed"
preset = "ticker"
subscribe = ["btc", "eth"]

[[endpoint]]
name = "us"
url = "ws://us.example/feed"
preset = "ticker"
app_ping_interval = "2s"
"#;
        let f = file::parse(Path::new("/cfg/wsmon.toml"), toml.to_string()).unwrap();
        let c = load(&ConnArgs::default(), &[], Some(&f), &|_| None).unwrap();
        let eu = &c.endpoints[0].resolved;
        assert_eq!(eu.settings.custom_preset.as_deref(), Some("ticker"));
        assert_eq!(eu.settings.preset, None);
        assert_eq!(eu.settings.subprotocols, ["ticker.v2"]);
        assert_eq!(
            eu.settings.subscribe_template.as_deref(),
            Some(r#"{"op":"subscribe","channel":"{}"}"#)
        );
        assert_eq!(eu.settings.subscribe, ["btc", "eth"]);
        assert_eq!(
            eu.source_of("app_ping").unwrap().to_string(),
            "/cfg/wsmon.toml:6"
        );
        let us = &c.endpoints[1].resolved.settings;
        assert_eq!(
            us.app_ping_interval,
            Some(std::time::Duration::from_secs(2)),
            "the endpoint's own value wins over the preset's"
        );
        let listed = super::list(Some(&f));
        assert!(
            listed.contains("mqtt ") && listed.contains("ticker"),
            "{listed}"
        );
        assert!(listed.contains("/cfg/wsmon.toml line 2"), "{listed}");

        let bad = file::parse(
            Path::new("/cfg/wsmon.toml"),
            "[preset.mine]\nurl = \"ws://x/\"\n".into(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.contains("line 2") && bad.contains("`url` cannot be set in [preset.mine]"),
            "{bad}"
        );
        let bad = file::parse(Path::new("/c.toml"), "[preset.mqtt]\non_open = []\n".into())
            .unwrap_err()
            .to_string();
        assert!(bad.contains("built-in preset's name"), "{bad}");
    }
}
