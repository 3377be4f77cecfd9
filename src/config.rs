//! Configuration: defaults, then the config file, then flags, merged into one validated value.
//! Every error names where the bad value came from (flag, or file and line), the key, and what
//! is allowed. The keys themselves are one table (`keys`); `file` reads the file against it,
//! `layer` merges and checks, `endpoints` assembles a fleet.

mod args;
pub mod endpoints;
pub mod file;
pub mod keys;
pub mod layer;
pub mod modules;
pub mod presets;
pub mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::session::{Endpoint, SessionOptions};
pub use args::ConnArgs;
pub use endpoints::{Configured, name_for};
use file::LoadedFile;
pub use values::parse_proxy;

#[cfg(test)]
/// The documented default config, shipped at the repository root.
pub(crate) const SAMPLE_CONFIG: &str = include_str!("../config.toml");

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
    /// The flag of this key (the URL argument for `url`).
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
    /// Filled in by a preset.
    Preset(&'static str),
}

/// How a key's flag is named, for a source that is a flag.
fn flag_of(key: &str) -> String {
    keys::find(key).map_or_else(|| key.to_string(), |k| k.flag_display())
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Cli(key) => write!(f, "flag {}", flag_of(key)),
            Source::File { path, line } => write!(f, "{}:{line}", path.display()),
            Source::Env(name) => write!(f, "environment {name}"),
            Source::Demo => f.write_str("--demo"),
            Source::Preset(name) => write!(f, "preset {name}"),
        }
    }
}

/// How the location of a value is named in errors.
pub fn at(key: &str, source: &Source) -> String {
    match source {
        Source::Cli(k) => flag_of(k),
        Source::File { path, line } => {
            format!("config file `{}` line {line}, `{key}`", path.display())
        }
        Source::Env(name) => format!("environment variable {name}"),
        Source::Default | Source::Demo | Source::Preset(_) => format!("`{key}`"),
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

/// The merged, validated configuration of a run.
#[derive(Clone, Debug)]
pub struct Config {
    /// What the session does besides watching.
    pub session: SessionOptions,
    /// Where each session value came from.
    pub session_provenance: Vec<Provenance>,
    /// The endpoints, each with its settings and where they came from.
    pub endpoints: Vec<Configured>,
    /// The config file used, if any.
    pub file: Option<PathBuf>,
}

/// Merges flags over the file over the defaults for `urls` (or the file's endpoints), reading
/// the proxy variables through `env`, and checks everything.
pub fn load(
    cli: &ConnArgs,
    urls: &[String],
    file: Option<&LoadedFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let cli_layer = layer::from_cli(cli)?;
    let top = file
        .map(|f| layer::from_table(f, &f.top))
        .unwrap_or_default();
    let (mut session, session_provenance) = layer::session(&[&cli_layer, &top])?;
    if let Some(f) = file {
        session.keymap = std::sync::Arc::new(f.keymap.clone());
    }
    session.probes = std::sync::Arc::new(modules::prober(&cli_layer, file)?);
    let endpoints = endpoints::configure(&cli_layer, urls, file, env)?;
    Ok(Config {
        session,
        session_provenance,
        endpoints,
        file: file.map(|f| f.path.clone()),
    })
}

impl Config {
    /// The endpoints to watch; an error when one has no URL.
    pub fn watch_list(&self) -> Result<Vec<Endpoint>, ConfigError> {
        self.endpoints
            .iter()
            .map(|c| {
                if c.resolved.has_url {
                    Ok(Endpoint::new(c.name.clone(), c.resolved.settings.clone()))
                } else {
                    Err(ConfigError::NoUrl)
                }
            })
            .collect()
    }

    /// The `--print-config` table: every key, its value and where it came from; a fleet
    /// gets one `[[endpoint]]` block per endpoint.
    pub(crate) fn print_table(&self) -> String {
        let mut out = String::new();
        match &self.file {
            Some(path) => out.push_str(&format!("# config file: {}\n", path.display())),
            None => out.push_str("# config file: none (./wsmon.toml and $XDG_CONFIG_HOME/wsmon/config.toml not found)\n"),
        }
        out.push_str(
            "# Every setting in effect, and where it came from; this is a config file as it is\n",
        );
        out.push_str("# (secret values are printed as ***: put the real ones back).\n");
        let fleet = self.endpoints.len() > 1;
        if !fleet {
            let rows: Vec<&Provenance> = self
                .endpoints
                .iter()
                .flat_map(|e| &e.resolved.provenance)
                .chain(&self.session_provenance)
                .collect();
            push_rows(&mut out, &rows);
            return out;
        }
        let rows: Vec<&Provenance> = self.session_provenance.iter().collect();
        push_rows(&mut out, &rows);
        out.push_str(&format!(
            "\n# {} endpoints, each with its own connection settings\n",
            self.endpoints.len()
        ));
        for e in &self.endpoints {
            out.push_str("\n[[endpoint]]\n");
            let name = Provenance {
                key: "name",
                value: format!("{:?}", e.name),
                source: match (&self.file, e.table_line) {
                    (Some(path), Some(line)) => Source::File {
                        path: path.clone(),
                        line,
                    },
                    _ => Source::Default,
                },
            };
            let rows: Vec<&Provenance> = std::iter::once(&name)
                .chain(&e.resolved.provenance)
                .collect();
            push_rows(&mut out, &rows);
        }
        out
    }
}

fn push_rows(out: &mut String, rows: &[&Provenance]) {
    let width = rows
        .iter()
        .map(|p| p.key.len() + 3 + p.value.len())
        .max()
        .unwrap_or(0);
    for p in rows {
        // Paste-able: a key with no value is a comment, so the output reads back as config.
        let line = match p.value.as_str() {
            "(none)" | "(off)" => format!("# {} = {}", p.key, p.value),
            v => format!("{} = {v}", p.key),
        };
        out.push_str(&format!("{line:width$}  # {}\n", p.source));
    }
}

/// Finds the config file: `--config`, else `./wsmon.toml`, else the XDG config dir.
pub(crate) fn find_file(explicit: Option<&Path>) -> Result<Option<LoadedFile>, ConfigError> {
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

#[cfg(test)]
mod tests;
