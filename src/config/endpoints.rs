//! The endpoints of a run: the URLs on the command line (one endpoint each), else the file's
//! `[[endpoint]]` tables, else its `url`; named, checked, and spread out when there are many.

use std::time::Duration;

use super::file::LoadedFile;
use super::layer::{self, Layer, Resolved};
use super::{ConfigError, Source};
use crate::engine::target::Target;

/// One endpoint as configured: its name, where its table is, and its resolved settings.
#[derive(Clone, Debug)]
pub struct Configured {
    /// How it is called on screen, in JSON lines and in metrics.
    pub name: String,
    /// The line of its `[[endpoint]]` table, when it has one.
    pub table_line: Option<usize>,
    /// Its settings and where each came from.
    pub resolved: Resolved,
}

/// A readable name for a URL: host, port when not the default, and path.
pub fn name_for(target: &Target) -> String {
    target.short_name()
}

/// The endpoints: each command-line URL over the flags and the file's top level; else each
/// `[[endpoint]]` table over the top level; else the top level alone (which may lack a URL:
/// `--print-config` shows that, a run refuses it).
pub fn configure(
    cli: &Layer,
    urls: &[String],
    file: Option<&LoadedFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Configured>, ConfigError> {
    let top = file
        .map(|f| layer::from_table(f, &f.top))
        .unwrap_or_default();
    let mut out: Vec<Configured> = Vec::new();
    // Every name so far: table names must differ, a URL given twice gets `#2`.
    let mut seen = std::collections::HashSet::new();
    if !urls.is_empty() {
        let url_key = super::keys::find("url").expect("the url key");
        for url in urls {
            let given: Layer = vec![layer::Given {
                key: url_key,
                value: super::keys::Value::Text(Some(url.clone())),
                source: Source::Cli("url"),
            }];
            let resolved = layer::connection(&[&given, cli, &top], file, env)?;
            // A URL given twice still needs a name of its own.
            let base = name_for(&resolved.settings.target);
            let mut name = base.clone();
            let mut n = 2;
            while !seen.insert(name.clone()) {
                name = format!("{base} #{n}");
                n += 1;
            }
            out.push(Configured {
                name,
                table_line: None,
                resolved,
            });
        }
    } else if let Some(f) = file.filter(|f| !f.endpoints.is_empty()) {
        if let Some(url) = f.top.get("url") {
            return Err(ConfigError::Syntax {
                path: f.path.clone(),
                line: url.line,
                message: "`url` and [[endpoint]] tables are both set: put each URL in its own [[endpoint]] table".into(),
            });
        }
        for table in &f.endpoints {
            let own = layer::from_table(f, &table.table);
            let resolved = layer::connection(&[cli, &own, &top], file, env)?;
            if !resolved.has_url {
                return Err(ConfigError::Syntax {
                    path: f.path.clone(),
                    line: table.line,
                    message: "this [[endpoint]] has no `url`: add url = \"ws://host:port/path\""
                        .into(),
                });
            }
            let name = match &table.name {
                Some((n, line)) => {
                    let text = n.trim();
                    if text.is_empty() || text.len() > 64 || text.chars().any(char::is_control) {
                        return Err(ConfigError::Syntax {
                            path: f.path.clone(),
                            line: *line,
                            message: "`name` must be 1 to 64 printable characters".into(),
                        });
                    }
                    text.to_string()
                }
                None => name_for(&resolved.settings.target),
            };
            // A set, not a scan: a fleet's file has thousands of names.
            if !seen.insert(name.clone()) {
                return Err(ConfigError::Syntax {
                    path: f.path.clone(),
                    line: table.line,
                    message: format!(
                        "two endpoints are called `{name}`: give each a different `name`"
                    ),
                });
            }
            out.push(Configured {
                name,
                table_line: Some(table.line),
                resolved,
            });
        }
    } else {
        let resolved = layer::connection(&[cli, &top], file, env)?;
        out.push(Configured {
            name: name_for(&resolved.settings.target),
            table_line: None,
            resolved,
        });
    }
    if out.len() > 1 {
        // A fleet: spread the starts and keep each idle connection small.
        let stagger = Duration::from_millis(5 * out.len() as u64)
            .clamp(Duration::from_millis(200), Duration::from_secs(5));
        let many = out.len() > 8;
        for e in &mut out {
            e.resolved.settings.stagger = stagger;
            if many {
                // tungstenite fills its whole read buffer with zeros before each read, so its
                // size is resident per connection: 2 KiB holds a heartbeat's frames many times
                // over (it grows for a larger frame).
                e.resolved.settings.read_buffer_size = 2 * 1024;
                e.resolved.settings.timer_grid = Duration::from_millis(50);
            }
        }
    }
    Ok(out)
}
