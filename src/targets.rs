//! Live targets: a file in Prometheus's file-based service discovery format (a JSON or YAML
//! list of `{targets: [...], labels: {...}}`), read again when it changes, and split into
//! shards by the same hash as Prometheus's `hashmod` relabelling.

mod watch;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use md5::{Digest, Md5};
use serde::Deserialize;

pub use watch::{Reload, Watcher};

/// The label that names a target's `[module.NAME]` (as a blackbox exporter's `module`
/// parameter is set by relabelling): dropped from the metric labels like every `__` label.
pub(crate) const MODULE_LABEL: &str = "__param_module";
/// The label that names a target on screen, in JSON lines and in the `endpoint` label.
pub(crate) const NAME_LABEL: &str = "name";
/// Labels that wsmon's metrics use themselves: a target's label must not shadow them.
pub(crate) const RESERVED: [&str; 10] = [
    "endpoint",
    "cause",
    "by",
    "direction",
    "health",
    "heartbeat",
    "kind",
    "culprit",
    "code",
    "le",
];
/// The most targets one file may hold.
pub(crate) const MAX_TARGETS: usize = 200_000;

/// How the targets file stands, for metrics and the dashboard.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetsStatus {
    /// The file.
    pub path: PathBuf,
    /// The last reading was good (else the set is the last good one).
    pub ok: bool,
    /// Targets watched from the file.
    pub targets: usize,
    /// Readings that changed the set.
    pub reloads: u64,
    /// When the set last changed (or was first read).
    pub changed_at: SystemTime,
    /// Why the last reading was refused.
    pub problem: Option<String>,
}

/// One group of a file-SD file, as Prometheus reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// One target to watch, as the file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Its URL (the identity that a reload keeps).
    pub url: String,
    /// Its name, from the `name` label or made from the URL later.
    pub name: Option<String>,
    /// The `[module.NAME]` it is watched with, from `__param_module`.
    pub module: Option<String>,
    /// Its labels, those starting `__` and `name` left out, sorted by name.
    pub labels: Vec<(String, String)>,
}

/// Which part of a split fleet this process watches: shard `index` of `count`, by
/// Prometheus's `hashmod` of the target's URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based, below `count` (as `hashmod`'s values are).
    pub index: u64,
    /// How many processes split the targets.
    pub count: u64,
}

impl Shard {
    /// Reads `I/N`; the error says what is allowed.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "`{text}` is not a shard: give I/N, this process's shard I (0 to N-1, as Prometheus's hashmod counts) of N, e.g. 0/4"
            )
        };
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard watches `url`: md5 of the URL, its last 8 bytes as a big-endian
    /// number, modulo the count, as Prometheus's `hashmod` computes it from a label.
    pub fn holds(&self, url: &str) -> bool {
        hashmod(url, self.count) == self.index
    }
}

/// Prometheus's `hashmod` of a value.
pub fn hashmod(value: &str, modulus: u64) -> u64 {
    let digest = Md5::digest(value.as_bytes());
    let mut last = [0u8; 8];
    last.copy_from_slice(&digest[8..16]);
    u64::from_be_bytes(last) % modulus
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Whether a label name is one Prometheus accepts.
fn valid_label(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The targets a file-SD file lists (in this shard), in file order, each URL once. `path`
/// chooses the format: `.json` is JSON, anything else YAML (of which JSON is a part).
pub fn parse(path: &Path, text: &str, shard: Option<Shard>) -> Result<Vec<Wanted>, String> {
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let groups: Vec<Group> = if text.trim().is_empty() {
        Vec::new()
    } else if json {
        serde_json::from_str(text).map_err(|e| {
            format!(
                "line {}: {}; a targets file is a list of {{\"targets\": [\"wss://host/path\"], \"labels\": {{...}}}}",
                e.line(),
                strip_position(&e.to_string())
            )
        })?
    } else {
        yaml_groups(text)?
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (g, group) in groups.into_iter().enumerate() {
        let mut labels = Vec::new();
        let mut name = None;
        let mut module = None;
        for (k, v) in group.labels {
            if !valid_label(&k) {
                return Err(format!(
                    "group {}: `{k}` is not a label name: use letters, digits and _ (not first a digit)",
                    g + 1
                ));
            }
            match k.as_str() {
                NAME_LABEL => name = Some(v),
                MODULE_LABEL => module = Some(v),
                _ if k.starts_with("__") => {}
                _ if RESERVED.contains(&k.as_str()) => {
                    return Err(format!(
                        "group {}: label `{k}` is one of wsmon's own metric labels ({}): call it something else",
                        g + 1,
                        RESERVED.join(", ")
                    ));
                }
                _ => labels.push((k, v)),
            }
        }
        if let Some(n) = &name
            && (n.trim().is_empty() || n.len() > 64 || n.chars().any(char::is_control))
        {
            return Err(format!(
                "group {}: label `name` must be 1 to 64 printable characters",
                g + 1
            ));
        }
        if group.targets.len() > 1 && name.is_some() {
            return Err(format!(
                "group {}: label `name` names one target, and this group has {}: give each its own group",
                g + 1,
                group.targets.len()
            ));
        }
        for url in group.targets {
            let url = url.trim().to_string();
            if url.is_empty() {
                return Err(format!("group {}: an empty target", g + 1));
            }
            if !seen.insert(url.clone()) {
                // Listed twice (two groups): the first wins, as a set of URLs.
                continue;
            }
            if out.len() >= MAX_TARGETS {
                return Err(format!(
                    "more than {MAX_TARGETS} targets: split them with --shard I/N over several processes"
                ));
            }
            if shard.is_some_and(|s| !s.holds(&url)) {
                continue;
            }
            out.push(Wanted {
                url,
                name: name.clone(),
                module: module.clone(),
                labels: labels.clone(),
            });
        }
    }
    Ok(out)
}

/// The groups of a YAML file (a pure-Rust parser: no C library inside the binary).
fn yaml_groups(text: &str) -> Result<Vec<Group>, String> {
    use yaml_rust2::{Yaml, YamlLoader};
    let shape = "a targets file is a list of groups, each `- targets: [wss://host/path]` with optional `labels:`";
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| format!("line {}: {}; {shape}", e.marker().line(), e.info()))?;
    let items = match docs.into_iter().next() {
        None | Some(Yaml::Null) => return Ok(Vec::new()),
        Some(Yaml::Array(items)) => items,
        Some(_) => return Err(format!("the file is not a list; {shape}")),
    };
    let scalar = |y: &Yaml| match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    };
    let mut groups = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let g = i + 1;
        let Yaml::Hash(map) = item else {
            return Err(format!("group {g} is not a map; {shape}"));
        };
        let mut group = Group {
            targets: Vec::new(),
            labels: BTreeMap::new(),
        };
        let mut has_targets = false;
        for (k, v) in map {
            match (k.as_str(), v) {
                (Some("targets"), Yaml::Array(list)) => {
                    has_targets = true;
                    for t in &list {
                        group.targets.push(
                            scalar(t).ok_or_else(|| {
                                format!("group {g}: each target is a URL in quotes")
                            })?,
                        );
                    }
                }
                (Some("labels"), Yaml::Hash(labels)) => {
                    for (name, value) in &labels {
                        let (Some(name), Some(value)) = (scalar(name), scalar(value)) else {
                            return Err(format!(
                                "group {g}: labels are names and texts, e.g. `region: eu`"
                            ));
                        };
                        group.labels.insert(name, value);
                    }
                }
                (Some("labels"), Yaml::Null) => {}
                (Some(key @ ("targets" | "labels")), _) => {
                    return Err(format!(
                        "group {g}: `{key}` must be a {}",
                        if key == "targets" {
                            "list of URLs"
                        } else {
                            "map of label names to texts"
                        }
                    ));
                }
                (other, _) => {
                    return Err(format!(
                        "group {g}: unknown field `{}`, expected `targets` or `labels`",
                        other.map_or_else(|| "?".to_string(), str::to_string)
                    ));
                }
            }
        }
        if !has_targets {
            return Err(format!("group {g}: missing field `targets`; {shape}"));
        }
        groups.push(group);
    }
    Ok(groups)
}

/// serde's message without its own " at line L column C" (the line is said first).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<Vec<Wanted>, String> {
        parse(Path::new("t.yml"), text, None)
    }

    #[test]
    fn yaml_and_json_read_alike() {
        let y = yaml(
            "- targets: [ws://a/x, 'wss://b/y']\n  labels:\n    region: eu\n    __meta_x: drop\n- targets: [ws://c/]\n",
        )
        .unwrap();
        let j = parse(
            Path::new("t.json"),
            r#"[{"targets":["ws://a/x","wss://b/y"],"labels":{"region":"eu","__meta_x":"drop"}},{"targets":["ws://c/"]}]"#,
            None,
        )
        .unwrap();
        assert_eq!(y, j);
        assert_eq!(y.len(), 3);
        assert_eq!(y[0].labels, vec![("region".to_string(), "eu".to_string())]);
        assert!(y[2].labels.is_empty());
    }

    #[test]
    fn a_bad_file_is_refused_with_its_line_and_shape() {
        let e = yaml("- targets: [ws://a/]\n- target: [ws://b/]\n").unwrap_err();
        assert!(e.starts_with("group 2"), "{e}");
        assert!(e.contains("unknown field `target`"), "{e}");
        let e = yaml("- targets: [\n").unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
        let e = parse(Path::new("t.json"), "[{\"targets\": [1]}]", None).unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
        let e = yaml("- targets: [ws://a/]\n  labels: {cause: x}\n").unwrap_err();
        assert!(e.contains("`cause` is one of wsmon's own"), "{e}");
        let e = yaml("- targets: [ws://a/]\n  labels: {9x: y}\n").unwrap_err();
        assert!(e.contains("`9x` is not a label name"), "{e}");
        let e = yaml("- targets: [ws://a/, ws://b/]\n  labels: {name: one}\n").unwrap_err();
        assert!(e.contains("names one target"), "{e}");
    }

    #[test]
    fn the_module_and_the_name_come_from_labels_and_are_not_metric_labels() {
        let t =
            yaml("- targets: [ws://a/]\n  labels: {name: feed, __param_module: sio, team: x}\n")
                .unwrap();
        assert_eq!(t[0].name.as_deref(), Some("feed"));
        assert_eq!(t[0].module.as_deref(), Some("sio"));
        assert_eq!(t[0].labels, vec![("team".to_string(), "x".to_string())]);
    }

    #[test]
    fn shards_split_every_target_exactly_once() {
        let text: String = (0..1000)
            .map(|i| format!("- targets: [ws://host-{i}.example/feed]\n"))
            .collect();
        let all = yaml(&text).unwrap();
        let mut counts = Vec::new();
        let mut union = HashSet::new();
        for index in 0..3 {
            let part = parse(Path::new("t.yml"), &text, Some(Shard { index, count: 3 })).unwrap();
            counts.push(part.len());
            for w in part {
                assert!(union.insert(w.url), "a target in two shards");
            }
        }
        assert_eq!(union.len(), all.len());
        // md5 spreads them: each shard holds about a third.
        assert!(counts.iter().all(|c| (250..420).contains(c)), "{counts:?}");
    }

    #[test]
    fn hashmod_is_prometheus_s() {
        // Prometheus's relabel tests (model/relabel/relabel_test.go): hashmod of "baz"
        // modulo 1000 is 976.
        assert_eq!(hashmod("baz", 1000), 976);
    }

    #[test]
    fn a_shard_is_read_or_refused() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("0 to N-1"));
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("x").is_err());
    }
}
