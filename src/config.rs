//! Configuration: defaults, then the config file, then flags, merged into one validated value.
//! Every error names where the bad value came from (flag, or file and line), the key, and what
//! is allowed.

pub mod file;
pub mod values;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;
use toml::Spanned;

use crate::cli::ConnArgs;
use crate::engine::redact::{DEFAULT_REDACT_QUERY, Redactor};
use crate::engine::target::Target;
use crate::engine::{ConnSettings, Proxy};
use crate::text::{duration as format_duration, size as format_size};
use file::LoadedFile;

/// The documented default config, shipped at the repository root.
pub const SAMPLE_CONFIG: &str = include_str!("../config.toml");

/// The defaults, in one place.
pub mod defaults {
    use std::time::Duration;
    /// `connect_timeout`.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// `reconnect_min`.
    pub const RECONNECT_MIN: Duration = Duration::from_millis(500);
    /// `reconnect_max`.
    pub const RECONNECT_MAX: Duration = Duration::from_secs(30);
    /// `max_attempts`.
    pub const MAX_ATTEMPTS: u32 = 0;
    /// `stable_after`.
    pub const STABLE_AFTER: Duration = Duration::from_secs(10);
    /// `ping_interval`.
    pub const PING_INTERVAL: Duration = Duration::from_secs(15);
    /// `pong_timeout`.
    pub const PONG_TIMEOUT: Duration = Duration::from_secs(10);
    /// `send_queue`.
    pub const SEND_QUEUE: usize = 1000;
    /// `max_message_size`.
    pub const MAX_MESSAGE_SIZE: u64 = 64 << 20;
    /// `log_capacity`.
    pub const LOG_CAPACITY: usize = 100_000;
    /// `log_max_bytes`.
    pub const LOG_MAX_BYTES: u64 = 256 << 20;
    /// `fps`.
    pub const FPS: u32 = 30;
    /// `record_max_bytes` (no rotation).
    pub const RECORD_MAX_BYTES: u64 = 0;
    /// `record_keep`.
    pub const RECORD_KEEP: usize = 5;
}

/// A config problem, said in one line.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file `{}`: {reason}; fix it or pass another with --config FILE", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("config file `{}` line {line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("{at}: {message}")]
    Invalid {
        /// Where the value came from: the flag, or the file, line and key.
        at: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// No URL anywhere.
    #[error(
        "no URL given: run `wsmon ws://host:port/path`, set `url` in the config file, or try `wsmon --demo`"
    )]
    NoUrl,
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Built in.
    Default,
    /// A flag.
    Cli(&'static str),
    /// A config file line.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// An environment variable.
    Env(String),
    /// Set by `--demo`.
    Demo,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Cli(flag) => write!(f, "flag {flag}"),
            Source::File { path, line } => write!(f, "{}:{line}", path.display()),
            Source::Env(name) => write!(f, "environment {name}"),
            Source::Demo => f.write_str("--demo"),
        }
    }
}

/// One line of `--print-config`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// Config key.
    pub key: &'static str,
    /// The value as it would be written, secrets masked.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

/// The merged, validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The URL, if one was given.
    pub target: Option<Target>,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Subprotocols.
    pub subprotocols: Vec<String>,
    /// Origin.
    pub origin: Option<String>,
    /// Proxy, after `NO_PROXY`.
    pub proxy: Option<Proxy>,
    /// Extra CA file.
    pub ca: Option<PathBuf>,
    /// No certificate verification.
    pub insecure: bool,
    /// Dial bound.
    pub connect_timeout: Duration,
    /// Backoff floor.
    pub reconnect_min: Duration,
    /// Backoff ceiling.
    pub reconnect_max: Duration,
    /// Attempts per outage (0 = forever).
    pub max_attempts: u32,
    /// Uptime that resets the backoff.
    pub stable_after: Duration,
    /// Heartbeat period (`None` = off).
    pub ping_interval: Option<Duration>,
    /// Dead-peer timeout.
    pub pong_timeout: Duration,
    /// Send queue bound.
    pub send_queue: usize,
    /// Largest message.
    pub max_message_size: u64,
    /// Masked query parameters.
    pub redactor: Redactor,
    /// Dashboard log ring size.
    pub log_capacity: usize,
    /// Payload bytes the dashboard log keeps.
    pub log_max_bytes: u64,
    /// Dashboard frame-rate cap.
    pub fps: u32,
    /// Recording file.
    pub record: Option<PathBuf>,
    /// Recording rotation size (0 = never).
    pub record_max_bytes: u64,
    /// Rotated recording files kept.
    pub record_keep: usize,
    /// Where to serve Prometheus metrics.
    pub metrics: Option<std::net::SocketAddr>,
    /// Where each value came from.
    pub provenance: Vec<Provenance>,
    /// The config file used, if any.
    pub file: Option<PathBuf>,
}

impl Config {
    /// Engine settings for the configured URL.
    pub fn settings(&self) -> Result<ConnSettings, ConfigError> {
        let target = self.target.clone().ok_or(ConfigError::NoUrl)?;
        self.settings_for(target)
    }

    /// Engine settings for `target` with this config's values.
    pub fn settings_for(&self, target: Target) -> Result<ConnSettings, ConfigError> {
        let at_ca = || self.where_is("ca");
        let tls =
            crate::engine::tls::client_config(self.ca.as_deref(), self.insecure).map_err(|e| {
                ConfigError::Invalid {
                    at: at_ca(),
                    message: e.to_string(),
                }
            })?;
        Ok(ConnSettings {
            target,
            headers: self.headers.clone(),
            subprotocols: self.subprotocols.clone(),
            origin: self.origin.clone(),
            proxy: self.proxy.clone(),
            tls,
            insecure: self.insecure,
            connect_timeout: self.connect_timeout,
            reconnect_min: self.reconnect_min,
            reconnect_max: self.reconnect_max,
            max_attempts: self.max_attempts,
            stable_after: self.stable_after,
            ping_interval: self.ping_interval,
            pong_timeout: self.pong_timeout,
            send_queue: self.send_queue,
            max_message_size: self.max_message_size as usize,
            redactor: self.redactor.clone(),
            read_buffer_size: 128 * 1024,
            stagger: Duration::ZERO,
        })
    }

    /// Where a key's value came from.
    pub fn source_of(&self, key: &str) -> Option<&Source> {
        self.provenance
            .iter()
            .find(|p| p.key == key)
            .map(|p| &p.source)
    }

    fn where_is(&self, key: &str) -> String {
        self.provenance
            .iter()
            .find(|p| p.key == key)
            .map(|p| at(key, &p.source))
            .unwrap_or_else(|| format!("`{key}`"))
    }

    /// Recording options for `path`, with a header describing `settings` (secrets masked).
    pub fn record_options(
        &self,
        path: PathBuf,
        settings: &ConnSettings,
    ) -> crate::record::RecordOptions {
        crate::record::RecordOptions {
            path,
            max_bytes: self.record_max_bytes,
            keep: self.record_keep,
            header: record_header(settings),
        }
    }

    /// The `--print-config` table.
    pub fn print_table(&self) -> String {
        let mut out = String::new();
        if let Some(path) = &self.file {
            out.push_str(&format!("# config file: {}\n", path.display()));
        } else {
            out.push_str("# config file: none (./wsmon.toml and $XDG_CONFIG_HOME/wsmon/config.toml not found)\n");
        }
        let width = self
            .provenance
            .iter()
            .map(|p| p.key.len() + 3 + p.value.len())
            .max()
            .unwrap_or(0);
        for p in &self.provenance {
            let line = format!("{} = {}", p.key, p.value);
            out.push_str(&format!("{line:width$}  # {}\n", p.source));
        }
        out
    }
}

/// What a recording or report says about the endpoint, with secrets masked.
pub fn record_header(settings: &ConnSettings) -> crate::jsonl::RecordHeader {
    crate::jsonl::RecordHeader {
        tool: String::new(),
        url: settings.shown_url(),
        headers: settings
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), settings.redactor.header_value(n, v).into_owned()))
            .collect(),
        subprotocols: settings.subprotocols.clone(),
        ping_interval_ms: settings.ping_interval.map_or(0, |d| d.as_millis() as u64),
        pong_timeout_ms: settings.pong_timeout.as_millis() as u64,
    }
}

/// One endpoint to watch: its name and its settings.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// How it is called on screen, in JSON lines and in metrics.
    pub name: String,
    /// How to connect.
    pub settings: ConnSettings,
}

/// A readable name for a URL: host, port when not the default, and path.
pub fn name_for(target: &Target) -> String {
    let shown = target.redacted(&Redactor::new(Vec::new()));
    let after_scheme = shown.split_once("://").map_or(shown.as_str(), |(_, r)| r);
    let without_query = after_scheme.split('?').next().unwrap_or(after_scheme);
    let without_user = without_query
        .rsplit_once('@')
        .map_or(without_query, |(_, r)| r);
    without_user.trim_end_matches('/').to_string()
}

/// The endpoints to watch: the URLs given on the command line (one endpoint each), else the
/// config's `[[endpoint]]` tables, else its `url`. Each endpoint's settings are the flags over
/// its table over the top-level keys over the defaults, validated like a single URL's.
pub fn endpoints(
    top: &Config,
    cli: &ConnArgs,
    cli_urls: &[String],
    file: Option<&LoadedFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Endpoint>, ConfigError> {
    let mut out: Vec<Endpoint> = Vec::new();
    let tables = file
        .and_then(|f| f.file.endpoint.as_ref())
        .filter(|t| !t.is_empty());
    if !cli_urls.is_empty() {
        for url in cli_urls {
            let cfg = resolve(cli, Some(url), file, env)?;
            let settings = cfg.settings()?;
            out.push(Endpoint {
                name: name_for(&settings.target),
                settings,
            });
        }
    } else if let (Some(tables), Some(f)) = (tables, file) {
        if let Some(url) = &f.file.url {
            return Err(ConfigError::Syntax {
                path: f.path.clone(),
                line: f.line_of(&url.span()),
                message: "`url` and [[endpoint]] tables are both set: put each URL in its own [[endpoint]] table".into(),
            });
        }
        for table in tables {
            let line = f.line_of(&table.span());
            let layered = f.with_file(f.file.with_endpoint(table.get_ref()));
            let cfg = resolve(cli, None, Some(&layered), env)?;
            let settings = cfg.settings().map_err(|e| match e {
                ConfigError::NoUrl => ConfigError::Syntax {
                    path: f.path.clone(),
                    line,
                    message: "this [[endpoint]] has no `url`: add url = \"ws://host:port/path\""
                        .into(),
                },
                other => other,
            })?;
            let name = match &table.get_ref().name {
                Some(n) => {
                    let text = n.get_ref().trim();
                    if text.is_empty() || text.len() > 64 || text.chars().any(char::is_control) {
                        return Err(ConfigError::Syntax {
                            path: f.path.clone(),
                            line: f.line_of(&n.span()),
                            message: "`name` must be 1 to 64 printable characters".into(),
                        });
                    }
                    text.to_string()
                }
                None => name_for(&settings.target),
            };
            if out.iter().any(|e| e.name == name) {
                return Err(ConfigError::Syntax {
                    path: f.path.clone(),
                    line,
                    message: format!(
                        "two endpoints are called `{name}`: give each a different `name`"
                    ),
                });
            }
            out.push(Endpoint { name, settings });
        }
    } else {
        let settings = top.settings()?;
        out.push(Endpoint {
            name: name_for(&settings.target),
            settings,
        });
    }
    // URLs given twice on the command line still need names of their own.
    for i in 1..out.len() {
        let mut n = 2;
        let base = out[i].name.clone();
        while out[..i].iter().any(|e| e.name == out[i].name) {
            out[i].name = format!("{base} #{n}");
            n += 1;
        }
    }
    if out.len() > 1 {
        // A fleet: spread the starts and keep each idle connection small.
        let stagger = Duration::from_millis(5 * out.len() as u64)
            .clamp(Duration::from_millis(200), Duration::from_secs(5));
        let small_buffers = out.len() > 8;
        for e in &mut out {
            e.settings.stagger = stagger;
            if small_buffers {
                e.settings.read_buffer_size = 16 * 1024;
            }
        }
    }
    Ok(out)
}

/// How the location of a value is named in errors.
fn at(key: &str, source: &Source) -> String {
    match source {
        Source::Cli(flag) => flag.to_string(),
        Source::File { path, line } => {
            format!("config file `{}` line {line}, `{key}`", path.display())
        }
        Source::Env(name) => format!("environment variable {name}"),
        Source::Default | Source::Demo => format!("`{key}`"),
    }
}

/// Finds the config file: `--config`, else `./wsmon.toml`, else the XDG config dir.
pub fn find_file(explicit: Option<&Path>) -> Result<Option<LoadedFile>, ConfigError> {
    if let Some(path) = explicit {
        return file::load(path).map(Some);
    }
    let mut candidates = vec![PathBuf::from("wsmon.toml")];
    if let Some(dir) = dirs::config_dir() {
        candidates.push(dir.join("wsmon").join("config.toml"));
    }
    for path in candidates {
        if path.is_file() {
            return file::load(&path).map(Some);
        }
    }
    Ok(None)
}

/// Builds values layer by layer and remembers where each came from.
struct Layers<'a> {
    file: Option<&'a LoadedFile>,
    provenance: Vec<Provenance>,
}

/// A value and where it came from.
struct Picked<T> {
    value: T,
    source: Source,
}

impl<T> Picked<T> {
    fn at(&self, key: &str) -> String {
        at(key, &self.source)
    }
}

impl<'a> Layers<'a> {
    fn source_of<T>(&self, s: &Spanned<T>) -> Source {
        let file = self.file.expect("spans only come from a file");
        Source::File {
            path: file.path.clone(),
            line: file.line_of(&s.span()),
        }
    }

    /// `cli` over `file` over `default`: the `cfg_layer` of the style notes.
    fn pick<T: Clone>(
        &self,
        flag: &'static str,
        cli: Option<T>,
        file: Option<&Spanned<T>>,
        default: T,
    ) -> Picked<T> {
        match (cli, file) {
            (Some(v), _) => Picked {
                value: v,
                source: Source::Cli(flag),
            },
            (None, Some(s)) => Picked {
                value: s.get_ref().clone(),
                source: self.source_of(s),
            },
            (None, None) => Picked {
                value: default,
                source: Source::Default,
            },
        }
    }

    fn record<T>(&mut self, key: &'static str, picked: &Picked<T>, shown: String) {
        self.provenance.push(Provenance {
            key,
            value: shown,
            source: picked.source.clone(),
        });
    }
}

fn invalid(at: String, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        at,
        message: message.into(),
    }
}

/// Checks a duration against its range; `zero_ok` allows 0 meaning off.
fn validate_duration(
    key: &str,
    p: &Picked<Duration>,
    min: Duration,
    max: Duration,
    zero_ok: bool,
) -> Result<(), ConfigError> {
    let v = p.value;
    if (zero_ok && v.is_zero()) || (v >= min && v <= max) {
        return Ok(());
    }
    let range = format!(
        "between {} and {}",
        format_duration(min),
        format_duration(max)
    );
    let allowed = if zero_ok {
        format!("0 (off) or {range}")
    } else {
        range
    };
    Err(invalid(
        p.at(key),
        format!("must be {allowed}, got {}", format_duration(v)),
    ))
}

/// Checks a count against its range.
fn validate_count<T: Into<u64> + Copy>(
    key: &str,
    p: &Picked<T>,
    min: u64,
    max: u64,
) -> Result<(), ConfigError> {
    let v: u64 = p.value.into();
    if (min..=max).contains(&v) {
        return Ok(());
    }
    Err(invalid(
        p.at(key),
        format!("must be between {min} and {max}, got {v}"),
    ))
}

/// Checks a header name and value; returns it trimmed.
fn validate_header(name: &str, value: &str) -> Result<(String, String), String> {
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(format!(
            "`{name}` is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"
        ));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(format!(
            "the value of header `{name}` contains a line break"
        ));
    }
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "upgrade" | "connection" | "sec-websocket-key" | "sec-websocket-version" | "sec-websocket-extensions" => {
            Err(format!("`{name}` is set by wsmon for the WebSocket handshake; remove it"))
        }
        "sec-websocket-protocol" => Err("use --subprotocol NAME (or `subprotocols = [...]`) instead of a Sec-WebSocket-Protocol header".into()),
        _ => Ok((name.to_string(), value.trim().to_string())),
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses `-H 'Name: value'`.
fn parse_header_arg(arg: &str) -> Result<(String, String), String> {
    let Some((name, value)) = arg.split_once(':') else {
        return Err(format!("header `{arg}` must look like 'Name: value'"));
    };
    validate_header(name, value)
}

/// Parses a proxy URL; `none` means no proxy.
fn parse_proxy(text: &str, redactor: &Redactor) -> Result<Option<Proxy>, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let with_scheme = if t.contains("://") {
        t.to_string()
    } else {
        format!("http://{t}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        format!("`{t}` is not a proxy URL ({e}): write it like http://proxy.corp:3128")
    })?;
    match url.scheme() {
        "http" => {}
        "https" => return Err("TLS to the proxy (https://) is not supported: use an http:// proxy URL; the tunnel still carries wss:// end to end".into()),
        other => return Err(format!("`{other}://` proxies are not supported: use an http:// CONNECT proxy")),
    }
    let host = url.host_str().ok_or_else(|| format!("`{t}` has no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port().unwrap_or(80);
    let auth = if url.username().is_empty() {
        None
    } else {
        use base64::Engine as _;
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        let pass = percent_encoding::percent_decode_str(url.password().unwrap_or(""))
            .decode_utf8_lossy()
            .into_owned();
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        ))
    };
    Ok(Some(Proxy {
        host,
        port,
        auth,
        shown: redactor.url(&url),
    }))
}

/// Whether `NO_PROXY` exempts `host`.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches("*.")
                .trim_start_matches('.');
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

/// Merges flags over the file over the defaults, reading the environment through `env`
/// (the proxy variables), and validates everything.
pub fn resolve(
    cli: &ConnArgs,
    cli_url: Option<&str>,
    file: Option<&LoadedFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let f = file.map(|l| &l.file);
    let mut l = Layers {
        file,
        provenance: Vec::new(),
    };
    macro_rules! file_key {
        ($k:ident) => {
            f.and_then(|f| f.$k.as_ref())
        };
    }

    // redact_query first: everything shown afterwards is masked with it.
    let rq_cli = (!cli.redact_query.is_empty()).then(|| cli.redact_query.clone());
    let rq = l.pick(
        "--redact-query",
        rq_cli,
        file_key!(redact_query),
        DEFAULT_REDACT_QUERY.iter().map(|s| s.to_string()).collect(),
    );
    let redactor = Redactor::new(rq.value.clone());
    l.record("redact_query", &rq, format!("{:?}", rq.value));

    let url = l.pick(
        "URL",
        cli_url.map(str::to_string),
        file_key!(url),
        String::new(),
    );
    let target = if url.value.trim().is_empty() {
        None
    } else {
        Some(Target::parse(&url.value).map_err(|e| invalid(url.at("url"), e.to_string()))?)
    };
    l.record(
        "url",
        &url,
        target.as_ref().map_or_else(
            || "(none)".into(),
            |t| format!("{:?}", t.redacted(&redactor)),
        ),
    );

    // Headers: file entries, then flags (a flag replaces a file header of the same name).
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut header_source = Source::Default;
    if let Some(h) = file_key!(headers) {
        header_source = l.source_of(h);
        for (name, value) in h.get_ref() {
            let hv = validate_header(name, value)
                .map_err(|m| invalid(at("headers", &header_source), m))?;
            headers.push(hv);
        }
    }
    for arg in &cli.headers {
        let (name, value) = parse_header_arg(arg).map_err(|m| invalid("-H/--header".into(), m))?;
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        headers.push((name, value));
        header_source = Source::Cli("-H/--header");
    }
    let shown_headers = headers
        .iter()
        .map(|(n, v)| format!("{n:?} = {:?}", redactor.header_value(n, v)))
        .collect::<Vec<_>>()
        .join(", ");
    l.provenance.push(Provenance {
        key: "headers",
        value: format!("{{ {shown_headers} }}"),
        source: header_source,
    });

    let sp_cli = (!cli.subprotocols.is_empty()).then(|| cli.subprotocols.clone());
    let subprotocols = l.pick("--subprotocol", sp_cli, file_key!(subprotocols), Vec::new());
    for p in &subprotocols.value {
        if p.is_empty() || !p.bytes().all(is_token_byte) {
            return Err(invalid(
                subprotocols.at("subprotocols"),
                format!(
                    "`{p}` is not a valid subprotocol name (letters, digits and !#$%&'*+-.^_`|~ only)"
                ),
            ));
        }
    }
    l.record(
        "subprotocols",
        &subprotocols,
        format!("{:?}", subprotocols.value),
    );

    let origin = l.pick(
        "--origin",
        cli.origin.clone().map(Some),
        file_key!(origin)
            .map(|s| Spanned::new(s.span(), Some(s.get_ref().clone())))
            .as_ref(),
        None,
    );
    if let Some(o) = &origin.value
        && o.bytes().any(|b| b == b'\r' || b == b'\n')
    {
        return Err(invalid(
            origin.at("origin"),
            "the origin contains a line break",
        ));
    }
    l.record(
        "origin",
        &origin,
        origin
            .value
            .as_ref()
            .map_or_else(|| "(none)".into(), |o| format!("{o:?}")),
    );

    // Proxy: flag, file, then the environment variable for the scheme.
    let proxy_pick = l.pick(
        "--proxy",
        cli.proxy.clone(),
        file_key!(proxy),
        String::new(),
    );
    let secure = target.as_ref().is_some_and(Target::is_secure);
    let (proxy_text, proxy_source) = if proxy_pick.source != Source::Default {
        (proxy_pick.value.clone(), proxy_pick.source.clone())
    } else {
        let names: &[&str] = if secure {
            &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        } else {
            &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        };
        names
            .iter()
            .find_map(|n| {
                env(n)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (v, Source::Env(n.to_string())))
            })
            .unwrap_or((String::new(), Source::Default))
    };
    let mut proxy =
        parse_proxy(&proxy_text, &redactor).map_err(|m| invalid(at("proxy", &proxy_source), m))?;
    let mut proxy_shown = proxy
        .as_ref()
        .map_or_else(|| "(none)".to_string(), |p| format!("{:?}", p.shown));
    if let (Some(_), Some(t), Source::Env(_)) = (&proxy, &target, &proxy_source) {
        let no_proxy = env("NO_PROXY")
            .or_else(|| env("no_proxy"))
            .unwrap_or_default();
        if no_proxy_matches(&no_proxy, t.host()) {
            proxy = None;
            proxy_shown = format!("(none: NO_PROXY matches {})", t.host());
        }
    }
    l.provenance.push(Provenance {
        key: "proxy",
        value: proxy_shown,
        source: proxy_source,
    });

    let ca = l.pick(
        "--ca",
        cli.ca.clone().map(Some),
        file_key!(ca)
            .map(|s| Spanned::new(s.span(), Some(s.get_ref().clone())))
            .as_ref(),
        None,
    );
    if let Some(path) = &ca.value {
        // Read it now so a bad file is a config error, not a failure at the first dial.
        crate::engine::tls::load_pem_certs(path)
            .map_err(|e| invalid(ca.at("ca"), e.to_string()))?;
    }
    l.record(
        "ca",
        &ca,
        ca.value.as_ref().map_or_else(
            || "(none)".into(),
            |p| format!("{:?}", p.display().to_string()),
        ),
    );

    let insecure = l.pick(
        "--insecure",
        cli.insecure.then_some(true),
        file_key!(insecure),
        false,
    );
    l.record("insecure", &insecure, insecure.value.to_string());

    macro_rules! duration_key {
        ($key:ident, $flag:literal, $default:expr) => {{
            let p = l.pick(
                $flag,
                cli.$key,
                file_key!($key)
                    .map(|s| Spanned::new(s.span(), s.get_ref().0))
                    .as_ref(),
                $default,
            );
            l.record(
                stringify!($key),
                &p,
                format!("{:?}", format_duration(p.value)),
            );
            p
        }};
    }
    let connect_timeout = duration_key!(
        connect_timeout,
        "--connect-timeout",
        defaults::CONNECT_TIMEOUT
    );
    validate_duration(
        "connect_timeout",
        &connect_timeout,
        Duration::from_millis(100),
        Duration::from_secs(300),
        false,
    )?;
    let reconnect_min = duration_key!(reconnect_min, "--reconnect-min", defaults::RECONNECT_MIN);
    validate_duration(
        "reconnect_min",
        &reconnect_min,
        Duration::from_millis(10),
        Duration::from_secs(600),
        false,
    )?;
    let reconnect_max = duration_key!(reconnect_max, "--reconnect-max", defaults::RECONNECT_MAX);
    validate_duration(
        "reconnect_max",
        &reconnect_max,
        Duration::from_millis(10),
        Duration::from_secs(3600),
        false,
    )?;
    if reconnect_max.value < reconnect_min.value && reconnect_max.source == Source::Default {
        // Only reconnect_min was set: it is the one to fix.
        return Err(invalid(
            reconnect_min.at("reconnect_min"),
            format!(
                "must be at most reconnect_max ({}, the default), got {}: lower it, or raise reconnect_max too",
                format_duration(reconnect_max.value),
                format_duration(reconnect_min.value)
            ),
        ));
    }
    if reconnect_max.value < reconnect_min.value {
        return Err(invalid(
            reconnect_max.at("reconnect_max"),
            format!(
                "must be at least reconnect_min ({}), got {}",
                format_duration(reconnect_min.value),
                format_duration(reconnect_max.value)
            ),
        ));
    }
    let max_attempts = l.pick(
        "--max-attempts",
        cli.max_attempts,
        file_key!(max_attempts),
        defaults::MAX_ATTEMPTS,
    );
    validate_count("max_attempts", &max_attempts, 0, 1_000_000)?;
    l.record(
        "max_attempts",
        &max_attempts,
        max_attempts.value.to_string(),
    );
    let stable_after = duration_key!(stable_after, "--stable-after", defaults::STABLE_AFTER);
    validate_duration(
        "stable_after",
        &stable_after,
        Duration::ZERO,
        Duration::from_secs(3600),
        true,
    )?;
    let ping_interval = duration_key!(ping_interval, "--ping-interval", defaults::PING_INTERVAL);
    validate_duration(
        "ping_interval",
        &ping_interval,
        Duration::from_millis(100),
        Duration::from_secs(3600),
        true,
    )?;
    let pong_timeout = duration_key!(pong_timeout, "--pong-timeout", defaults::PONG_TIMEOUT);
    validate_duration(
        "pong_timeout",
        &pong_timeout,
        Duration::from_millis(100),
        Duration::from_secs(600),
        false,
    )?;

    let send_queue = l.pick(
        "--send-queue",
        cli.send_queue,
        file_key!(send_queue),
        defaults::SEND_QUEUE,
    );
    validate_count(
        "send_queue",
        &Picked {
            value: send_queue.value as u64,
            source: send_queue.source.clone(),
        },
        1,
        1_000_000,
    )?;
    l.record("send_queue", &send_queue, send_queue.value.to_string());

    let mms = l.pick(
        "--max-message-size",
        cli.max_message_size,
        file_key!(max_message_size)
            .map(|s| Spanned::new(s.span(), s.get_ref().0))
            .as_ref(),
        defaults::MAX_MESSAGE_SIZE,
    );
    if !(1024..=1 << 30).contains(&mms.value) {
        return Err(invalid(
            mms.at("max_message_size"),
            format!(
                "must be between 1KiB and 1GiB, got {}",
                format_size(mms.value)
            ),
        ));
    }
    l.record(
        "max_message_size",
        &mms,
        format!("{:?}", format_size(mms.value)),
    );

    let log_capacity = l.pick(
        "--log-capacity",
        cli.log_capacity,
        file_key!(log_capacity),
        defaults::LOG_CAPACITY,
    );
    validate_count(
        "log_capacity",
        &Picked {
            value: log_capacity.value as u64,
            source: log_capacity.source.clone(),
        },
        100,
        10_000_000,
    )?;
    l.record(
        "log_capacity",
        &log_capacity,
        log_capacity.value.to_string(),
    );
    let lmb = l.pick(
        "--log-max-bytes",
        cli.log_max_bytes,
        file_key!(log_max_bytes)
            .map(|s| Spanned::new(s.span(), s.get_ref().0))
            .as_ref(),
        defaults::LOG_MAX_BYTES,
    );
    if !(1 << 20..=64 << 30).contains(&lmb.value) {
        return Err(invalid(
            lmb.at("log_max_bytes"),
            format!(
                "must be between 1MiB and 64GiB, got {}",
                format_size(lmb.value)
            ),
        ));
    }
    l.record(
        "log_max_bytes",
        &lmb,
        format!("{:?}", format_size(lmb.value)),
    );
    let fps = l.pick("--fps", cli.fps, file_key!(fps), defaults::FPS);
    validate_count("fps", &fps, 1, 120)?;
    l.record("fps", &fps, fps.value.to_string());

    let record = l.pick(
        "--record",
        cli.record.clone().map(Some),
        file_key!(record)
            .map(|s| Spanned::new(s.span(), Some(s.get_ref().clone())))
            .as_ref(),
        None,
    );
    l.record(
        "record",
        &record,
        record.value.as_ref().map_or_else(
            || "(none)".into(),
            |p| format!("{:?}", p.display().to_string()),
        ),
    );
    let rmb = l.pick(
        "--record-max-bytes",
        cli.record_max_bytes,
        file_key!(record_max_bytes)
            .map(|s| Spanned::new(s.span(), s.get_ref().0))
            .as_ref(),
        defaults::RECORD_MAX_BYTES,
    );
    if rmb.value != 0 && rmb.value < 64 << 10 {
        return Err(invalid(
            rmb.at("record_max_bytes"),
            format!(
                "must be 0 (no rotation) or at least 64KiB, got {}",
                format_size(rmb.value)
            ),
        ));
    }
    l.record(
        "record_max_bytes",
        &rmb,
        if rmb.value == 0 {
            "0".into()
        } else {
            format!("{:?}", format_size(rmb.value))
        },
    );
    let keep = l.pick(
        "--record-keep",
        cli.record_keep,
        file_key!(record_keep),
        defaults::RECORD_KEEP,
    );
    validate_count(
        "record_keep",
        &Picked {
            value: keep.value as u64,
            source: keep.source.clone(),
        },
        1,
        100,
    )?;
    l.record("record_keep", &keep, keep.value.to_string());

    let metrics = l.pick(
        "--metrics",
        cli.metrics.clone().map(Some),
        file_key!(metrics)
            .map(|s| Spanned::new(s.span(), Some(s.get_ref().clone())))
            .as_ref(),
        None,
    );
    let metrics_addr = match &metrics.value {
        None => None,
        Some(text) => Some(text.trim().parse::<std::net::SocketAddr>().map_err(|_| {
            invalid(metrics.at("metrics"), format!("`{text}` is not an address to listen on: write ip:port, like 127.0.0.1:9464 or 0.0.0.0:9464"))
        })?),
    };
    l.record(
        "metrics",
        &metrics,
        metrics_addr.map_or_else(|| "(off)".into(), |a| format!("{:?}", a.to_string())),
    );

    // Keep the printed order that of config.toml.
    l.provenance.sort_by_key(|p| {
        file::KEYS
            .iter()
            .position(|k| *k == p.key)
            .unwrap_or(usize::MAX)
    });
    Ok(Config {
        target,
        headers,
        subprotocols: subprotocols.value,
        origin: origin.value,
        proxy,
        ca: ca.value,
        insecure: insecure.value,
        connect_timeout: connect_timeout.value,
        reconnect_min: reconnect_min.value,
        reconnect_max: reconnect_max.value,
        max_attempts: max_attempts.value,
        stable_after: stable_after.value,
        ping_interval: Some(ping_interval.value).filter(|d| !d.is_zero()),
        pong_timeout: pong_timeout.value,
        send_queue: send_queue.value,
        max_message_size: mms.value,
        redactor,
        log_capacity: log_capacity.value,
        log_max_bytes: lmb.value,
        fps: fps.value,
        record: record.value,
        record_max_bytes: rmb.value,
        record_keep: keep.value,
        metrics: metrics_addr,
        provenance: l.provenance,
        file: file.map(|f| f.path.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn file(text: &str) -> LoadedFile {
        file::parse(Path::new("/cfg/wsmon.toml"), text.to_string()).unwrap()
    }

    fn resolve_with(
        cli: &ConnArgs,
        url: Option<&str>,
        f: Option<&LoadedFile>,
    ) -> Result<Config, ConfigError> {
        resolve(cli, url, f, &no_env)
    }

    #[test]
    fn shipped_config_parses_to_exactly_the_defaults() {
        let shipped = file::parse(Path::new("config.toml"), SAMPLE_CONFIG.to_string())
            .expect("config.toml parses");
        let from_file = resolve_with(&ConnArgs::default(), None, Some(&shipped)).unwrap();
        let builtin = resolve_with(&ConnArgs::default(), None, None).unwrap();
        let strip = |c: &Config| {
            c.provenance
                .iter()
                .map(|p| (p.key, p.value.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&from_file), strip(&builtin));
        assert_eq!(from_file.ping_interval, Some(defaults::PING_INTERVAL));
        assert_eq!(from_file.max_message_size, defaults::MAX_MESSAGE_SIZE);
    }

    #[test]
    fn shipped_config_documents_every_key() {
        for key in file::KEYS {
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
        let cli = ConnArgs {
            ping_interval: Some(Duration::from_secs(5)),
            ..Default::default()
        };
        let c = resolve_with(&cli, Some("ws://h"), Some(&f)).unwrap();
        assert_eq!(c.ping_interval, Some(Duration::from_secs(5)));
        assert_eq!(c.pong_timeout, Duration::from_secs(3));
        assert_eq!(c.reconnect_max, defaults::RECONNECT_MAX);
        let src = |k: &str| {
            c.provenance
                .iter()
                .find(|p| p.key == k)
                .unwrap()
                .source
                .to_string()
        };
        assert_eq!(src("ping_interval"), "flag --ping-interval");
        assert_eq!(src("pong_timeout"), "/cfg/wsmon.toml:2");
        assert_eq!(src("reconnect_max"), "default");
    }

    #[test]
    fn range_errors_name_file_line_key_and_range() {
        let f = file("\nping_interval = \"5ms\"\n");
        let e = resolve_with(&ConnArgs::default(), Some("ws://h"), Some(&f)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "config file `/cfg/wsmon.toml` line 2, `ping_interval`: must be 0 (off) or between 100ms and 1h, got 5ms"
        );
        let cli = ConnArgs {
            fps: Some(500),
            ..Default::default()
        };
        let e = resolve_with(&cli, Some("ws://h"), None).unwrap_err();
        assert_eq!(e.to_string(), "--fps: must be between 1 and 120, got 500");
        let cli = ConnArgs {
            reconnect_min: Some(Duration::from_secs(5)),
            reconnect_max: Some(Duration::from_secs(1)),
            ..Default::default()
        };
        let e = resolve_with(&cli, Some("ws://h"), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--reconnect-max: must be at least reconnect_min (5s), got 1s"
        );
        let e = resolve_with(
            &ConnArgs::default(),
            Some("ws://h"),
            Some(&file("reconnect_min = \"2m\"\n")),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "config file `/cfg/wsmon.toml` line 1, `reconnect_min`: must be at most reconnect_max (30s, the default), got 2m: lower it, or raise reconnect_max too"
        );
    }

    #[test]
    fn bad_urls_and_headers_are_named() {
        let e = resolve_with(&ConnArgs::default(), Some("http://h"), None).unwrap_err();
        assert!(
            e.to_string().starts_with("URL: unsupported scheme `http`"),
            "{e}"
        );
        let cli = ConnArgs {
            headers: vec!["NoColonHere".into()],
            ..Default::default()
        };
        let e = resolve_with(&cli, Some("ws://h"), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "-H/--header: header `NoColonHere` must look like 'Name: value'"
        );
        let cli = ConnArgs {
            headers: vec!["Sec-WebSocket-Protocol: x".into()],
            ..Default::default()
        };
        assert!(
            resolve_with(&cli, Some("ws://h"), None)
                .unwrap_err()
                .to_string()
                .contains("--subprotocol")
        );
        let f = file("[headers]\n\"Bad Name\" = \"x\"\n");
        let e = resolve_with(&ConnArgs::default(), Some("ws://h"), Some(&f)).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 1, `headers`: `Bad Name` is not a valid header name"),
            "{e}"
        );
    }

    #[test]
    fn headers_merge_and_secrets_are_masked_in_provenance() {
        let f = file("[headers]\nAuthorization = \"Bearer file\"\nX-Team = \"blue\"\n");
        let cli = ConnArgs {
            headers: vec!["authorization: Bearer flag".into()],
            ..Default::default()
        };
        let c = resolve_with(&cli, Some("ws://u:pw@h/?token=abc"), Some(&f)).unwrap();
        assert_eq!(
            c.headers,
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
            "NO_PROXY" => Some("localhost,.internal".to_string()),
            _ => None,
        };
        let c = resolve(
            &ConnArgs::default(),
            Some("wss://api.example.com/"),
            None,
            &env,
        )
        .unwrap();
        let p = c.proxy.clone().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 3128));
        assert_eq!(p.auth.as_deref(), Some("Basic dXNlcjpwdw=="));
        assert_eq!(p.shown, "http://user:***@proxy.corp:3128/");
        let c = resolve(&ConnArgs::default(), Some("wss://db.internal/"), None, &env).unwrap();
        assert!(c.proxy.is_none());
        // ws:// looks at HTTP_PROXY, which is unset here.
        let c = resolve(
            &ConnArgs::default(),
            Some("ws://api.example.com/"),
            None,
            &env,
        )
        .unwrap();
        assert!(c.proxy.is_none());
        // --proxy none beats the environment.
        let cli = ConnArgs {
            proxy: Some("none".into()),
            ..Default::default()
        };
        assert!(
            resolve(&cli, Some("wss://api.example.com/"), None, &env)
                .unwrap()
                .proxy
                .is_none()
        );
        let cli = ConnArgs {
            proxy: Some("socks5://p:1080".into()),
            ..Default::default()
        };
        let e = resolve(&cli, Some("wss://x/"), None, &env).unwrap_err();
        assert!(
            e.to_string()
                .contains("`socks5://` proxies are not supported"),
            "{e}"
        );
    }

    #[test]
    fn missing_and_invalid_ca_files_are_config_errors() {
        let cli = ConnArgs {
            ca: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let e = resolve_with(&cli, Some("wss://h"), None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--ca: cannot read CA file `/nonexistent/ca.pem`"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "this is not pem").unwrap();
        let cli = ConnArgs {
            ca: Some(junk),
            ..Default::default()
        };
        let e = resolve_with(&cli, Some("wss://h"), None).unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
    }

    #[test]
    fn zero_ping_interval_disables_the_heartbeat() {
        let cli = ConnArgs {
            ping_interval: Some(Duration::ZERO),
            ..Default::default()
        };
        assert_eq!(
            resolve_with(&cli, Some("ws://h"), None)
                .unwrap()
                .ping_interval,
            None
        );
    }

    #[test]
    fn no_url_is_a_clear_error_only_when_settings_are_needed() {
        let c = resolve_with(&ConnArgs::default(), None, None).unwrap();
        assert_eq!(c.settings().unwrap_err(), ConfigError::NoUrl);
    }
}
