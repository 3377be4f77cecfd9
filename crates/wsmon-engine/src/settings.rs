//! Everything one engine needs to dial and keep a connection alive. `Default` is the one
//! source of the defaults: the config layer, `--help` and `config.toml`'s test read them here.

use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use super::protocol::Preset;
use super::redact::Redactor;
use super::target::{DEFAULT_PORT, Target};

/// "When a received text matches `when`, send `send`."
#[derive(Clone, Debug)]
pub struct AutoReply {
    /// What to answer.
    pub when: Regex,
    /// The answer.
    pub send: String,
}

/// A value never shown, not even in a debug dump.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// What to do when a feed falls silent for `stale_after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaleAction {
    /// Say so (the connection stays).
    Report,
    /// Say so and reconnect: for feeds that resume only on a new subscription.
    Reconnect,
}

impl StaleAction {
    /// Every action, by its name in config.
    pub const NAMES: [(&'static str, StaleAction); 2] = [
        ("report", StaleAction::Report),
        ("reconnect", StaleAction::Reconnect),
    ];

    /// Its name in config.
    pub fn name(self) -> &'static str {
        match self {
            StaleAction::Report => "report",
            StaleAction::Reconnect => "reconnect",
        }
    }
}

/// An HTTP proxy to tunnel through with CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// Proxy host name or IP.
    pub host: String,
    /// Proxy port.
    pub port: u16,
    /// `Proxy-Authorization` value from credentials in the proxy URL.
    pub auth: Option<String>,
    /// The proxy URL with its password masked, for display.
    pub shown: String,
    /// Where the proxy was set ("flag --proxy", "environment HTTPS_PROXY", a config line);
    /// empty when not known.
    pub source: String,
}

impl Proxy {
    /// The proxy as a failure names it: its URL and where it was set.
    pub fn name(&self) -> crate::problem::ProxyName {
        crate::problem::ProxyName {
            shown: self.shown.clone(),
            source: self.source.clone(),
        }
    }
}

/// Everything one engine needs to dial and keep a connection alive.
#[derive(Clone, Debug)]
pub struct ConnSettings {
    /// Where to connect.
    pub target: Target,
    /// Extra request headers, in order.
    pub headers: Vec<(String, String)>,
    /// Subprotocols to offer, in preference order.
    pub subprotocols: Vec<String>,
    /// `Origin` header.
    pub origin: Option<String>,
    /// HTTP CONNECT proxy, after `NO_PROXY` was applied.
    pub proxy: Option<Proxy>,
    /// PEM file of CA certificates trusted besides the Web PKI roots.
    pub ca: Option<PathBuf>,
    /// Certificate verification is off (`--insecure`).
    pub insecure: bool,
    /// Bound on the whole dial: DNS, TCP, proxy, TLS and upgrade.
    pub connect_timeout: Duration,
    /// Shortest reconnect delay.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Give up after this many failed attempts in one outage; 0 = never.
    pub max_attempts: u32,
    /// A connection open this long resets the backoff.
    pub stable_after: Duration,
    /// Heartbeat ping period; `None` disables the heartbeat.
    pub ping_interval: Option<Duration>,
    /// No frame this long after a ping means the peer is dead.
    pub pong_timeout: Duration,
    /// A file of `Name: value` header lines, read when the config is (credentials kept off
    /// the command line); its headers come after the others of the same name.
    pub header_file: Option<std::path::PathBuf>,
    /// Messages that may wait while the connection is down.
    pub send_queue: usize,
    /// Send again, on the next connection, messages that were written but not acknowledged by
    /// the peer's TCP when a connection died (they may arrive twice).
    pub resend_unconfirmed: bool,
    /// Largest incoming (and outgoing) message, in bytes.
    pub max_message_size: usize,
    /// Masks secrets in everything the engine reports.
    pub redactor: Redactor,
    /// The socket's read buffer (allocated when the connection opens): large for floods, small
    /// when one process watches many endpoints.
    pub read_buffer_size: usize,
    /// Timers of an open connection fire on this grid (zero: exactly when due). A fleet's
    /// heartbeats then wake the process a few times a second for many connections at once,
    /// rather than once per ping; each is at most this much late.
    pub timer_grid: Duration,
    /// Spread for a fleet: the first dial waits a random part of this, the first ping and the
    /// retries are jittered, so many engines do not act in lockstep. Zero for one endpoint.
    pub stagger: Duration,
    /// Texts sent in order after every successful open (after a preset's handshake), before
    /// the queued messages.
    pub on_open: Vec<String>,
    /// The application heartbeat, as written (`/binary c0 00` for binary): sent every
    /// `app_ping_interval`. A preset with a heartbeat of its own uses it when this is unset.
    pub app_ping: Option<String>,
    /// How often the application heartbeat is sent; `None`: every `ping_interval`.
    pub app_ping_interval: Option<Duration>,
    /// A received text matching this answers `app_ping` (an RTT sample).
    pub app_pong: Option<Regex>,
    /// Received texts answered automatically (not data; counted).
    pub auto_reply: Vec<AutoReply>,
    /// An open connection with no data for this long is stale; `None` = never.
    pub stale_after: Option<Duration>,
    /// What a stale feed does.
    pub stale_action: StaleAction,
    /// The application protocol spoken over the WebSocket.
    pub preset: Option<Preset>,
    /// The name of the config file's `[preset.NAME]` in use (its values are already in these
    /// settings); `None` for a built-in preset or none.
    pub custom_preset: Option<String>,
    /// Socket.IO: the namespace to join.
    pub namespace: String,
    /// Socket.IO: the CONNECT packet's auth object; graphql-ws: the `connection_init`
    /// payload (JSON).
    pub init_payload: Option<String>,
    /// What to subscribe to after every handshake, as the preset means it (a GraphQL
    /// subscription, an MQTT topic filter, a STOMP destination; a custom preset's template).
    pub subscribe: Vec<String>,
    /// A custom preset's subscribe message, `{}` standing for each `subscribe` value.
    pub subscribe_template: Option<String>,
    /// MQTT: the client identifier (`None`: `wsmon-` and a random number, kept by the engine).
    pub client_id: Option<String>,
    /// MQTT and STOMP: the login name (`None`: the URL's user, if any).
    pub username: Option<String>,
    /// MQTT and STOMP: the password (`None`: the URL's, if any). Never shown.
    pub password: Option<Secret>,
    /// MQTT: which version to speak.
    pub mqtt_version: super::protocol::VersionChoice,
    /// STOMP: the `host` header (`None`: the URL's host).
    pub stomp_host: Option<String>,
    /// Seed for the engine's randomness (jitter, stagger); `None` draws one. Tests that
    /// assert on delays set it.
    pub seed: Option<u64>,
}

impl Default for ConnSettings {
    fn default() -> Self {
        ConnSettings {
            target: Target::parse(&format!("ws://127.0.0.1:{DEFAULT_PORT}/"))
                .expect("the default URL is valid"),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            origin: None,
            proxy: None,
            ca: None,
            insecure: false,
            connect_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(5),
            max_attempts: 0,
            stable_after: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(15)),
            pong_timeout: Duration::from_secs(10),
            header_file: None,
            send_queue: 1000,
            resend_unconfirmed: false,
            max_message_size: 64 << 20,
            redactor: Redactor::default(),
            read_buffer_size: 128 * 1024,
            timer_grid: Duration::ZERO,
            stagger: Duration::ZERO,
            on_open: Vec::new(),
            app_ping: None,
            app_ping_interval: None,
            app_pong: None,
            auto_reply: Vec::new(),
            stale_after: None,
            stale_action: StaleAction::Report,
            preset: None,
            custom_preset: None,
            namespace: "/".to_string(),
            init_payload: None,
            subscribe: Vec::new(),
            subscribe_template: None,
            client_id: None,
            username: None,
            password: None,
            mqtt_version: super::protocol::VersionChoice::Auto,
            stomp_host: None,
            seed: None,
        }
    }
}

impl ConnSettings {
    /// Settings for `target` with the defaults.
    pub fn new(target: Target) -> Self {
        ConnSettings {
            target,
            ..ConnSettings::default()
        }
    }

    /// The URL as it may be shown.
    pub fn shown_url(&self) -> String {
        self.target.redacted(&self.redactor)
    }
}
