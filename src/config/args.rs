//! The flags of the connection and session keys: one per entry of the key table, so `--help`,
//! the config file and `--print-config` can never disagree about a key.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, Args, FromArgMatches};

use super::keys::{KEYS, Key, Value, ValueKind};
use super::values::{parse_count, parse_duration, parse_size};

/// Settings given as flags, one per key of the key table (`config::keys`): each overrides
/// the config key of the same name, and `--help` shows each key's doc and default.
#[derive(Clone, Debug, Default)]
pub struct ConnArgs {
    given: Vec<(&'static Key, Value)>,
}

impl ConnArgs {
    /// The flags given, each with its key, in the key table's order.
    pub fn given(&self) -> impl Iterator<Item = (&'static Key, &Value)> {
        self.given.iter().map(|(k, v)| (*k, v))
    }

    /// Parses setting flags alone (`["--fps", "10"]`), as the command line would.
    pub fn from_flags(args: &[&str]) -> Result<ConnArgs, clap::Error> {
        // Built once: clap checks a command's whole definition when it is first built, which
        // in a debug build costs milliseconds a call (the fuzz tests make thousands).
        static FLAGS: std::sync::OnceLock<clap::Command> = std::sync::OnceLock::new();
        let cmd = FLAGS.get_or_init(|| {
            let mut cmd = ConnArgs::augment_args(clap::Command::new("wsmon").no_binary_name(true));
            cmd.build();
            cmd
        });
        ConnArgs::from_arg_matches(&cmd.clone().try_get_matches_from(args)?)
    }
}

/// The flag of a key, built from its table entry.
fn flag(key: &'static Key) -> Option<Arg> {
    if key.flag.is_empty() {
        return None;
    }
    let help = match key.kind.help_default(&key.default_value()) {
        Some(d) => format!("{} [default: {d}]", key.doc),
        None => key.doc.to_string(),
    };
    let mut arg = Arg::new(key.name).long(key.flag).help(help);
    if let Some(c) = key.short {
        arg = arg.short(c);
    }
    arg = match key.kind {
        ValueKind::Bool => return Some(arg.action(ArgAction::SetTrue)),
        ValueKind::Duration { .. } => arg.value_parser(parse_duration),
        ValueKind::Size { .. } => arg.value_parser(parse_size),
        ValueKind::Count { .. } => arg.value_parser(parse_count),
        ValueKind::Path | ValueKind::CaFile => arg.value_parser(clap::value_parser!(PathBuf)),
        ValueKind::Tokens | ValueKind::List | ValueKind::Headers | ValueKind::Rules => {
            arg.action(ArgAction::Append)
        }
        ValueKind::Text
        | ValueKind::Url
        | ValueKind::Proxy
        | ValueKind::Addr
        | ValueKind::Shard
        | ValueKind::Regex
        | ValueKind::Choice(_)
        | ValueKind::Json
        | ValueKind::Secret => arg,
    };
    Some(arg.value_name(key.value_name))
}

impl clap::Args for ConnArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.args(KEYS.iter().filter_map(flag))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for ConnArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut given = Vec::new();
        for key in KEYS.iter().filter(|k| !k.flag.is_empty()) {
            if m.value_source(key.name) != Some(clap::parser::ValueSource::CommandLine) {
                continue;
            }
            let one = |m: &clap::ArgMatches| m.get_one::<String>(key.name).cloned();
            let value = match key.kind {
                ValueKind::Bool => Value::Bool(m.get_flag(key.name)),
                ValueKind::Duration { .. } => {
                    Value::Duration(m.get_one::<Duration>(key.name).copied().unwrap_or_default())
                }
                ValueKind::Size { .. } | ValueKind::Count { .. } => {
                    Value::Num(m.get_one::<u64>(key.name).copied().unwrap_or_default())
                }
                ValueKind::Path | ValueKind::CaFile => {
                    Value::Path(m.get_one::<PathBuf>(key.name).cloned())
                }
                ValueKind::Tokens | ValueKind::List | ValueKind::Headers | ValueKind::Rules => {
                    Value::List(
                        m.get_many::<String>(key.name)
                            .map(|v| v.cloned().collect())
                            .unwrap_or_default(),
                    )
                }
                ValueKind::Text
                | ValueKind::Url
                | ValueKind::Proxy
                | ValueKind::Addr
                | ValueKind::Shard
                | ValueKind::Regex
                | ValueKind::Choice(_)
                | ValueKind::Json
                | ValueKind::Secret => Value::Text(one(m)),
            };
            given.push((key, value));
        }
        Ok(ConnArgs { given })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = ConnArgs::from_arg_matches(m)?;
        Ok(())
    }
}
