//! The binary's edge: parse arguments, pick a mode, map errors to one line and an exit code.

mod report_command;
mod serve_command;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Cmd, WatchArgs};
use crate::config::{self, ConfigError};
use crate::engine::target::Target;
use crate::error::UsageError;
use crate::server::{ServeOptions, Server};
use crate::session::Session;
use crate::tui::app::{App, UiOptions};

/// How wsmon presents an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The full-screen dashboard.
    Tui,
    /// JSON lines on stdout.
    Headless,
}

/// Under a flood the dashboard's thread frees a payload copy per message while the engine's
/// batches come and go: glibc gave freed memory back to the kernel and took it again, a page
/// fault per page, about a tenth of the dashboard's time. Up to 64 MiB freed is kept for reuse
/// instead (RSS after a flood stays where the flood took it, within that). Called first thing
/// by the binary, and by the benchmarks that time the dashboard's loop in their own process.
// The one unsafe call outside the engine's socket option read: allowed here, denied elsewhere.
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, before the program's threads start.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

/// Parses the process arguments and runs; the whole program.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wsmon: {}", crate::text::sanitize(&one_line(&e)));
            if e.downcast_ref::<ConfigError>().is_some() || e.downcast_ref::<UsageError>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

/// Prints clap's help/version as is, and its errors as one line with exit code 2.
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    eprintln!("wsmon: {}", clap_message(&e));
    ExitCode::from(2)
}

/// A clap error in one line that names what is wrong and where the help is: the missing
/// argument by name, a bad number in words, and the subcommand's own `--help`.
fn clap_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    let tips: Vec<&str> = lines.filter(|l| l.starts_with("tip:")).collect();
    let mut msg = match (e.kind(), e.get(ContextKind::InvalidArg)) {
        (ErrorKind::MissingRequiredArgument, Some(ContextValue::Strings(args))) => {
            format!("missing {}", args.join(", "))
        }
        (ErrorKind::ValueValidation | ErrorKind::InvalidValue, Some(ContextValue::String(arg))) => {
            let value = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(v)) => v.clone(),
                _ => String::new(),
            };
            let why = first.rsplit_once(": ").map_or("", |(_, w)| w);
            match why {
                "invalid digit found in string" => {
                    format!("{arg}: `{value}` is not a whole number")
                }
                "number too large to fit in target type" => {
                    format!("{arg}: `{value}` is too large")
                }
                "cannot parse integer from empty string" => format!("{arg}: a number is needed"),
                "" => first.clone(),
                other => format!("{arg}: `{value}`: {other}"),
            }
        }
        _ => first,
    };
    for tip in tips {
        msg.push_str("; ");
        msg.push_str(tip);
    }
    // `Usage: wsmon report [OPTIONS] <FILE>` names the command whose help to read.
    let usage = e
        .get(ContextKind::Usage)
        .map(|u| u.to_string())
        .unwrap_or_default();
    let command: Vec<&str> = usage
        .trim_start_matches("Usage:")
        .split_whitespace()
        .take_while(|w| !w.starts_with(['[', '<', '-']))
        .collect();
    let command = if !command.is_empty() {
        command.join(" ")
    } else {
        // Not every error carries its usage: the subcommand is the first word given.
        match std::env::args().nth(1).as_deref() {
            Some(sub @ ("serve" | "report" | "replay" | "completions")) => format!("wsmon {sub}"),
            _ => "wsmon".to_string(),
        }
    };
    format!("{msg} (see {command} --help)")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The runtime for watching `endpoints`: two workers, so one connection's socket and its
/// frontend run in parallel under a flood; one thread for a fleet, whose cost is wake-ups:
/// there every engine and the frontend run on the thread that woke, with no hand-over between
/// threads.
fn runtime_for(endpoints: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    if endpoints <= FLEET_ON_ONE_THREAD {
        return runtime();
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// From how many endpoints a fleet runs on one thread.
const FLEET_ON_ONE_THREAD: usize = 8;

/// Runs parsed arguments.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Cmd::Serve(args)) => {
            let _log = crate::logging::init(crate::logging::LogFile::default());
            runtime()?.block_on(serve_command::serve(args.options()))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Replay(args)) => replay(args),
        Some(Cmd::Report(args)) => report_command::command(&args),
        Some(Cmd::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "wsmon", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::ManPage) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .context("cannot render the manual page")?;
            std::io::Write::write_all(&mut std::io::stdout(), &page)
                .context("cannot write the manual page")?;
            Ok(ExitCode::SUCCESS)
        }
        None => watch(cli.watch),
    }
}

fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let file = config::find_file(args.config.as_deref())?;
    // `--preset list`: the presets a run can choose, built-in and the config file's.
    if args
        .conn
        .given()
        .any(|(k, v)| k.name == "preset" && *v == config::keys::Value::Text(Some("list".into())))
    {
        print!("{}", config::presets::list(file.as_ref()));
        return Ok(ExitCode::SUCCESS);
    }
    let env = |k: &str| std::env::var(k).ok();
    // The demo server's port is known once it runs; everything else is checked now.
    let urls = if args.demo {
        vec![DEMO_PLACEHOLDER.to_string()]
    } else {
        args.urls.clone()
    };
    let mut cfg = config::load(&args.conn, &urls, file.as_ref(), &env)?;
    if args.demo {
        for e in &mut cfg.endpoints {
            config::layer::demo(&mut e.resolved);
        }
    }
    if args.print_config {
        print!("{}", cfg.print_table());
        return Ok(ExitCode::SUCCESS);
    }
    let mode = if args.headless {
        Mode::Headless
    } else {
        Mode::Tui
    };
    // A targets file may be the only source of endpoints: then no URL is needed.
    let targets_file = cfg.session.targets_file.is_some();
    let endpoints = match cfg.watch_list() {
        Err(config::ConfigError::NoUrl) if targets_file => Vec::new(),
        other => other?,
    };
    if cfg.session.record.is_some() && targets_file {
        return Err(UsageError(
            "--record records one endpoint from its start, and a targets file's set changes: record one target with F6 in its dashboard (or watch it alone with its URL and --record FILE)".into(),
        )
        .into());
    }
    if cfg.session.shard.is_some() && !targets_file {
        return Err(UsageError(
            "--shard splits a targets file's targets: give --targets-file FILE (or targets_file in the config) too".into(),
        )
        .into());
    }
    // In headless mode (a service) SIGHUP reads the targets file again, as daemons do; in
    // the dashboard it means the terminal is gone.
    cfg.session.hup_reloads = mode == Mode::Headless;
    // The engines have their settings now; where each value came from is not needed again,
    // and for a fleet of 10,000 it is tens of MB.
    cfg.endpoints = Vec::new();
    // A targets file's set may grow: room for a large fleet, as far as the hard limit goes
    // (a dial past it fails and says so).
    let expected = if targets_file {
        let room = endpoints.len().max(TARGETS_FILE_ROOM);
        let _ = rlimit::increase_nofile_limit(room as u64 + SPARE_FDS);
        room
    } else {
        ensure_fd_limit(endpoints.len())?;
        endpoints.len()
    };
    let _log = crate::logging::init(cfg.session.log_file());
    let rt = runtime_for(expected)?;
    let result = rt.block_on(async move {
        let (endpoints, _demo) = if args.demo {
            let server = Server::start(ServeOptions {
                port: 0,
                demo: true,
                ..ServeOptions::default()
            })
            .await
            .context("cannot start the demo server on loopback")?;
            let target = Target::parse(&server.url()).expect("the demo server's URL is valid");
            let mut endpoints = endpoints;
            for e in &mut endpoints {
                e.name = config::name_for(&target);
                e.settings.target = target.clone();
            }
            (endpoints, Some(server))
        } else {
            (endpoints, None)
        };
        tracing::info!(endpoints = endpoints.len(), ?mode, "watching");
        match mode {
            Mode::Headless => {
                let session = Session::start(endpoints, &cfg.session).await?;
                crate::headless::run(session).await
            }
            Mode::Tui => {
                // Refuse a redirected terminal before any connection is made.
                crate::tui::terminal::check()?;
                let mut all = endpoints.clone();
                let mut session = Session::start(endpoints, &cfg.session).await?;
                // A targets file's first set: dashboards for them too, in id order.
                all.extend(session.take_first_targets());
                let n = all.len();
                let apps = all
                    .iter()
                    .map(|e| App::new(UiOptions::live(&cfg.session, e, n, args.demo)))
                    .collect();
                crate::tui::run(session, apps, &cfg.session).await
            }
        }
    });
    // A blocking read of stdin cannot be interrupted; do not wait for it on the way out.
    rt.shutdown_background();
    result
}

/// The endpoints a targets file is given room for (open files, the runtime) before it is
/// read: its set changes while wsmon runs.
const TARGETS_FILE_ROOM: usize = 10_000;

/// Stands for the demo server's URL until the server runs and has a port.
const DEMO_PLACEHOLDER: &str = "ws://127.0.0.1:40100/";

/// Files a run opens besides one socket per endpoint: stdio, terminal, log file, metrics
/// connections, the runtime's own.
const SPARE_FDS: u64 = 64;

/// Raises the soft open-files limit as far as a fleet needs (many systems start at 1024);
/// says how to fix it when the hard limit is too low, rather than failing dial after dial.
fn ensure_fd_limit(endpoints: usize) -> Result<(), UsageError> {
    let need = endpoints as u64 + SPARE_FDS;
    match rlimit::increase_nofile_limit(need) {
        Ok(got) if got < need => Err(UsageError(format!(
            "{endpoints} endpoints need about {need} open files and this process may open only {got}: raise the limit (ulimit -n {need}) or watch fewer endpoints"
        ))),
        // Fine, or the limit cannot be read: go ahead and let dials report what happens.
        _ => Ok(()),
    }
}

fn replay(args: crate::cli::ReplayArgs) -> anyhow::Result<ExitCode> {
    if !args.file.is_file() {
        return Err(UsageError(format!(
            "no recording at `{}`: give a file made with --record or F6 in the dashboard",
            args.file.display()
        ))
        .into());
    }
    crate::jsonl::check_recording(&args.file).map_err(|e| UsageError(e.to_string()))?;
    if !(args.speed >= 0.0 && args.speed <= 10_000.0) {
        return Err(UsageError(format!(
            "--speed must be between 0 (as fast as possible) and 10000, got {}",
            args.speed
        ))
        .into());
    }
    let file = config::find_file(args.config.as_deref())?;
    let urls: Vec<String> = args.send.iter().cloned().collect();
    let cfg = config::load(&args.conn, &urls, file.as_ref(), &|k| std::env::var(k).ok())?;
    let settings = match &args.send {
        Some(_) => Some(cfg.watch_list()?.remove(0).settings),
        None => None,
    };
    let _log = crate::logging::init(cfg.session.log_file());
    let rt = runtime()?;
    let result = rt.block_on(async {
        if let Some(settings) = settings {
            return crate::replay::send(&args.file, settings, args.speed, args.linger).await;
        }
        if !args.headless {
            // Refuse a redirected terminal before reading anything.
            crate::tui::terminal::check()?;
        }
        let player = crate::replay::play(&args.file, args.speed, args.step)
            .await
            .map_err(|e| {
                UsageError(format!(
                    "cannot open recording `{}`: {e}",
                    args.file.display()
                ))
            })?;
        let header = crate::jsonl::read::header_of(&args.file)
            .ok()
            .flatten()
            .unwrap_or_default();
        let session = Session::replay(player, args.file.display().to_string(), header.clone());
        if args.headless {
            return crate::headless::run(session).await;
        }
        let app = App::new(UiOptions::replay(&cfg.session, header, &args.file));
        crate::tui::run_replay(session, app, &args.file).await
    });
    rt.shutdown_background();
    result
}
