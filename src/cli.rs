//! Command-line arguments. Every connection setting is a flag named like its config key.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub use crate::config::ConnArgs;
use crate::config::values::{parse_duration, parse_size};

const EXAMPLES: &str = "\
Examples:
  wsmon --demo                                   a dashboard on a built-in demo server
  wsmon ws://localhost:40100/                    watch an endpoint
  wsmon wss://api.example.com/feed -H \"Authorization: Bearer $TOKEN\" --subprotocol v2.feed
  wsmon wss://dev.local/ws --ca dev-ca.pem       trust a private CA
  wsmon --headless ws://host/ws | jq .           JSON lines; stdin lines are sent
  wsmon serve --tick 1s                          a test server on 127.0.0.1:40100

Config: --config FILE, else ./wsmon.toml, else $XDG_CONFIG_HOME/wsmon/config.toml;
flags override the file, the file overrides the defaults. Exit codes: 0 ok,
1 gave up (max_attempts) or failed, 2 bad arguments or config.";

/// wsmon: watch a WebSocket connection live.
#[derive(Debug, Parser)]
#[command(
    name = "wsmon",
    version,
    about = "Watch a WebSocket connection live: state, reconnects, uptime, RTT and every message",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    max_term_width = 100
)]
pub struct Cli {
    /// A tool other than the dashboard.
    #[command(subcommand)]
    pub command: Option<Cmd>,
    /// Watching an endpoint.
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the built-in WebSocket test server (echo, ticks, floods, drops, rejections).
    Serve(ServeArgs),
    /// Replay a recording in the dashboard (or as JSON lines, or re-sent to a server).
    Replay(ReplayArgs),
    /// Write the Markdown diagnostic report of a recording.
    Report(ReportArgs),
    /// Print shell completions to stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff, for `man -l -`), made from this command line's own
    /// definition; the Debian package installs it as wsmon(1).
    #[command(name = "manpage", hide = true)]
    ManPage,
}

/// Arguments of the watch mode (the default command).
#[derive(Debug, Args, Default)]
pub struct WatchArgs {
    /// ws:// or wss:// URLs (several watch a fleet); a bare host[:port] means ws:// (port 40100
    /// when omitted).
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    /// Write JSON lines to stdout instead of drawing; send each stdin line as a text message.
    #[arg(long)]
    pub headless: bool,
    /// Start the built-in demo server on a free loopback port and watch it.
    #[arg(long, conflicts_with = "urls")]
    pub demo: bool,
    /// Config file (default: ./wsmon.toml, then $XDG_CONFIG_HOME/wsmon/config.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective config, where each value came from, and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Connection settings.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// Arguments of `wsmon replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A recording made with --record (or F6, Ctrl-O or /record in the dashboard).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Speed: 1 is real time, 10 ten times faster, 0 as fast as possible.
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub speed: f64,
    /// Start paused; each press of `.` replays one event.
    #[arg(long)]
    pub step: bool,
    /// Print the events as JSON lines instead of drawing.
    #[arg(long, conflicts_with_all = ["step", "send"])]
    pub headless: bool,
    /// Re-send the recorded outgoing messages to this server, with their original spacing.
    #[arg(long, value_name = "URL")]
    pub send: Option<String>,
    /// With --send: how long to keep listening for answers after the last message.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "2s", requires = "send")]
    pub linger: Duration,
    /// Config file for --send (default: ./wsmon.toml, then $XDG_CONFIG_HOME/wsmon/config.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Connection settings for --send.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// Arguments of `wsmon report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A recording made with --record (or F6, Ctrl-O or /record in the dashboard).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the report (- for stdout) [default: FILE.report.md, or FILE.report.html
    /// with --html].
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Write one self-contained HTML page, the timeline and RTT drawn (also chosen by an
    /// output name ending in .html).
    #[arg(long)]
    pub html: bool,
    /// Put the last 50 message payloads in the report (left out by default: a report gets
    /// pasted where the data may not belong).
    #[arg(long)]
    pub payloads: bool,
}

/// Arguments of `wsmon serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = crate::engine::target::DEFAULT_PORT)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Send a tick message this often, e.g. 1s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub tick: Option<Duration>,
    /// On each connection, first send N messages as fast as possible.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub flood: u64,
    /// Size of each flood message, e.g. 100 or 64KiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "100")]
    pub size: u64,
    /// Flood with binary frames instead of text.
    #[arg(long)]
    pub binary: bool,
    /// Close every connection after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub drop_after: Option<Duration>,
    /// Close code for --drop-after.
    #[arg(long, value_name = "CODE", default_value_t = 1012)]
    pub drop_code: u16,
    /// The close reason sent with --drop-code (default: the code's name for 1012, else
    /// "drop-after"); a server's own words, to see how a long reason is shown.
    #[arg(long, value_name = "TEXT")]
    pub drop_reason: Option<String>,
    /// With --drop-after, cut the TCP connection without a close frame.
    #[arg(long)]
    pub drop_abrupt: bool,
    /// Answer every upgrade with this HTTP status, e.g. 401.
    #[arg(long, value_name = "STATUS", value_parser = clap::value_parser!(u16).range(300..600))]
    pub reject: Option<u16>,
    /// Body of the rejection.
    #[arg(long, value_name = "TEXT", requires = "reject")]
    pub reject_body: Option<String>,
    /// Retry-After seconds sent with the rejection.
    #[arg(long, value_name = "SECS", requires = "reject")]
    pub retry_after: Option<u64>,
    /// Answer pings only after this delay.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub pong_delay: Option<Duration>,
    /// Never answer pings (a half-dead peer).
    #[arg(long, conflicts_with = "pong_delay")]
    pub no_pong: bool,
    /// Do not echo received messages.
    #[arg(long)]
    pub no_echo: bool,
    /// Serve wss with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Play the --demo scenario (ticks, JSON, binary, drops) on each connection.
    #[arg(long)]
    pub demo: bool,
    /// Accept one connection, then stop listening.
    #[arg(long)]
    pub once: bool,
}

impl ServeArgs {
    /// The server options these flags describe.
    pub(crate) fn options(&self) -> crate::server::ServeOptions {
        crate::server::ServeOptions {
            bind: self.bind,
            port: self.port,
            tick: self.tick.filter(|t| !t.is_zero()),
            flood: self.flood,
            flood_size: self.size as usize,
            flood_binary: self.binary,
            drop_after: self.drop_after,
            drop_code: (!self.drop_abrupt).then_some(self.drop_code),
            drop_reason: self.drop_reason.clone(),
            reject: self.reject,
            reject_body: self.reject_body.clone(),
            retry_after: self.retry_after,
            pong_delay: self.pong_delay,
            no_pong: self.no_pong,
            no_echo: self.no_echo,
            tls: self.tls_cert.clone().zip(self.tls_key.clone()),
            demo: self.demo,
            once: self.once,
            print: true,
            ..crate::server::ServeOptions::default()
        }
    }
}
