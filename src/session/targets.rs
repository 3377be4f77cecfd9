//! A session's live targets: the targets file's set, kept in step with the file. A reload
//! starts the targets that are new, closes those that are gone, and leaves the others alone
//! (their connections, counters and history go on); a file that does not read, or names a
//! target that cannot be dialled, keeps the last good set and says why.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use super::{Endpoint, SessionOptions};
use crate::engine::{Command, Tagged};
use crate::probe::{DEFAULT_MODULE, Prober};
use crate::targets::{Reload, TargetsStatus, Wanted, Watcher};

/// An endpoint's labels.
pub(super) type Labels = Arc<[(String, String)]>;

/// The first reading: its endpoints, the watcher that brings the next ones, and each
/// endpoint's URL.
type FirstReading = (Vec<Endpoint>, Watcher, Vec<String>);

/// What a reading of the targets file changed.
#[derive(Clone, Debug)]
pub struct TargetsChange {
    /// The endpoints started, with their ids.
    pub added: Vec<(usize, Endpoint)>,
    /// The ids of the endpoints closed.
    pub removed: Vec<usize>,
    /// Ids whose labels changed, with their labels now (their connection goes on).
    pub relabelled: Vec<(usize, Labels)>,
    /// The file now.
    pub status: TargetsStatus,
}

/// The targets-file side of a session.
pub(super) struct LiveTargets {
    pub(super) watcher: Watcher,
    /// Where new engines send their events (the session's channel).
    pub(super) tx: mpsc::Sender<Tagged>,
    /// Each watched URL's id.
    pub(super) by_url: HashMap<String, usize>,
    pub(super) prober: Arc<Prober>,
    pub(super) status: TargetsStatus,
    /// The run's options (a recording started with F6 is set up from them).
    pub(super) options: SessionOptions,
}

/// A target as an endpoint: its module's settings for its URL, its name (the `name` label,
/// else made from the URL), fleet-tuned.
pub(super) fn endpoint_of(w: &Wanted, prober: &Prober) -> Result<Endpoint, String> {
    let module = w.module.as_deref().unwrap_or(DEFAULT_MODULE);
    let spec = prober.resolve(module, &w.url).map_err(|r| match r {
        crate::probe::Refusal::UnknownModule(m) => format!(
            "target {}: __param_module {m:?} is not a [module.NAME] of the config file (there are: {})",
            w.url,
            prober.modules().join(", ")
        ),
        crate::probe::Refusal::BadTarget(why) => format!("target {}: {why}", w.url),
        crate::probe::Refusal::NoTarget => format!("target {:?}: empty", w.url),
    })?;
    let mut settings = spec.settings;
    // As a fleet's: small idle connections, dials spread (the spread is set per reading).
    settings.read_buffer_size = 2 * 1024;
    settings.timer_grid = Duration::from_millis(50);
    let name = w
        .name
        .clone()
        .unwrap_or_else(|| settings.target.short_name());
    Ok(Endpoint {
        name,
        settings,
        labels: w.labels.clone().into(),
    })
}

/// The readings of a targets file: the first at start, the next ones as they come.
pub(super) fn first_reading(options: &SessionOptions) -> anyhow::Result<Option<FirstReading>> {
    let Some(path) = options.targets_file.clone() else {
        return Ok(None);
    };
    let (wanted, watcher) = Watcher::start(path, options.shard, options.hup_reloads)
        .map_err(crate::error::UsageError)?;
    let endpoints = wanted
        .iter()
        .map(|w| endpoint_of(w, &options.probes))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            crate::error::UsageError(format!(
                "{}: {e}",
                options.targets_file.as_ref().expect("set").display()
            ))
        })?;
    let urls = wanted.into_iter().map(|w| w.url).collect();
    Ok(Some((endpoints, watcher, urls)))
}

/// Makes `name` one that no endpoint in `taken` has (`name #2`, `#3`...), and takes it.
pub(super) fn unique_name(name: &mut String, taken: &mut HashSet<String>) {
    let base = name.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        *name = format!("{base} #{n}");
        n += 1;
    }
}

impl LiveTargets {
    /// A reading refused: the last good set stays, and the status says why.
    fn refuse(&mut self, why: String) -> TargetsChange {
        tracing::warn!(%why, "targets file refused; the last good set stays");
        self.status.ok = false;
        self.status.problem = Some(why);
        TargetsChange {
            added: Vec::new(),
            removed: Vec::new(),
            relabelled: Vec::new(),
            status: self.status.clone(),
        }
    }
}

/// The spread of `n` new dials, as a fleet's first start spreads them.
pub(super) fn stagger(n: usize) -> Duration {
    Duration::from_millis(5 * n as u64).clamp(Duration::from_millis(200), Duration::from_secs(5))
}

impl super::Session {
    /// The next reading of the targets file, applied; never without a targets file.
    pub(super) async fn next_reload(targets: &mut Option<LiveTargets>) -> Reload {
        match targets {
            Some(t) => t.watcher.next().await,
            None => std::future::pending().await,
        }
    }

    /// Applies a reading: starts what is new, closes what is gone, relabels what stays.
    pub(super) fn apply_reload(&mut self, reload: Reload) -> TargetsChange {
        let Some(live) = self.targets.as_mut() else {
            unreachable!("a reading comes only with a targets file")
        };
        let now = SystemTime::now();
        let wanted = match reload {
            Reload::Targets(w) => w,
            Reload::Bad(why) => return live.refuse(why),
        };
        // Every new target must resolve, or none is taken: a half-applied file is a set no
        // one wrote.
        let new: Vec<&Wanted> = wanted
            .iter()
            .filter(|w| !live.by_url.contains_key(&w.url))
            .collect();
        let resolved: Result<Vec<Endpoint>, String> =
            new.iter().map(|w| endpoint_of(w, &live.prober)).collect();
        let mut endpoints = match resolved {
            Ok(e) => e,
            Err(why) => {
                let why = format!("{}: {why}", live.status.path.display());
                return live.refuse(why);
            }
        };
        let keep: HashSet<&str> = wanted.iter().map(|w| w.url.as_str()).collect();
        let gone: Vec<(String, usize)> = live
            .by_url
            .iter()
            .filter(|(url, _)| !keep.contains(url.as_str()))
            .map(|(u, id)| (u.clone(), *id))
            .collect();
        let mut removed = Vec::new();
        for (url, id) in gone {
            live.by_url.remove(&url);
            removed.push(id);
        }
        removed.sort_unstable();
        let mut relabelled = Vec::new();
        for w in &wanted {
            if let Some(&id) = live.by_url.get(&w.url)
                && *self.labels[id] != *w.labels
            {
                self.labels[id] = w.labels.clone().into();
                relabelled.push((id, self.labels[id].clone()));
            }
        }
        let spread = stagger(endpoints.len());
        let tx = live.tx.clone();
        let options = live.options.clone();
        let mut added = Vec::new();
        let mut taken: HashSet<String> = self
            .names
            .iter()
            .zip(&self.live)
            .filter(|(_, l)| **l)
            .map(|(n, _)| n.clone())
            .collect();
        for (e, w) in endpoints.iter_mut().zip(&new) {
            e.settings.stagger = spread;
            unique_name(&mut e.name, &mut taken);
            let id = self.names.len() + added.len();
            live.by_url.insert(w.url.clone(), id);
            added.push(id);
        }
        let live_count = live.by_url.len();
        let changed = !added.is_empty() || !removed.is_empty() || !relabelled.is_empty();
        live.status.ok = true;
        live.status.problem = None;
        live.status.targets = live_count;
        if changed {
            live.status.reloads += 1;
            live.status.changed_at = now;
        }
        let status = live.status.clone();
        for id in &removed {
            self.remove(*id);
        }
        let mut out = Vec::new();
        for (id, e) in added.into_iter().zip(endpoints) {
            self.spawn(e.clone(), &tx, None, &options);
            debug_assert_eq!(self.names.len() - 1, id);
            out.push((id, e));
        }
        self.publish_directory();
        tracing::info!(
            added = out.len(),
            removed = removed.len(),
            targets = live_count,
            "targets file read"
        );
        TargetsChange {
            added: out,
            removed,
            relabelled,
            status,
        }
    }

    /// Closes endpoint `id` politely and stops its recording; its last events still come.
    fn remove(&mut self, id: usize) {
        self.live[id] = false;
        let super::Feed::Live(handles) = &mut self.feed else {
            return;
        };
        let h = &mut handles[id];
        if h.commands.try_send(Command::Shutdown).is_err() {
            let c = h.commands.clone();
            tokio::spawn(async move {
                let _ = c.send(Command::Shutdown).await;
            });
        }
        if let Some(r) = h.recorder.take() {
            tokio::spawn(async move {
                r.finish(crate::engine::StopReason::Quit, SystemTime::now())
                    .await;
            });
        }
    }
}
