//! `/probe`: one WebSocket check on demand, as Prometheus's blackbox exporter probes, so a team
//! that runs Prometheus keeps its WebSocket checks beside its HTTP and TCP ones. A probe dials
//! once with a module's settings, waits for the application protocol's handshake (a preset),
//! a ping's pong and a message matching `expect`, closes politely, and answers with metrics.

mod exposition;
mod outcome;

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use tokio::sync::Semaphore;

use crate::engine::ConnSettings;
pub(crate) use outcome::Outcome;

/// The module used when a probe names none: the run's own settings.
pub(crate) const DEFAULT_MODULE: &str = "websocket";
/// Probes run at once; more wait (within their timeout) for one to end.
pub(crate) const MAX_PROBES: usize = 64;
/// Taken off a scrape's timeout (`X-Prometheus-Scrape-Timeout-Seconds`), so the answer is
/// back before Prometheus gives up on it (blackbox exporter's default offset).
pub(crate) const SCRAPE_OFFSET: Duration = Duration::from_millis(500);
/// The shortest probe, whatever the scrape's timeout says.
const MIN_BUDGET: Duration = Duration::from_millis(100);

/// What one probe does: how to connect, what to wait for, and for how long.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    /// How to connect (the target's URL in it).
    pub settings: ConnSettings,
    /// A received message must match this.
    pub expect: Option<Regex>,
    /// The most the probe takes.
    pub timeout: Duration,
    /// Send a WebSocket ping and wait for its pong.
    pub ping: bool,
}

/// Why a probe was not run: the request is wrong, not the target.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// `target` is missing.
    NoTarget,
    /// No module of that name.
    UnknownModule(String),
    /// The target cannot be dialled as given.
    BadTarget(String),
}

/// A module's settings for a target, or why there are none.
pub(crate) type Resolve = dyn Fn(&str, &str) -> Result<ProbeSpec, Refusal> + Send + Sync;

/// Runs probes: resolves a module's settings for a target, caps how many run at once.
pub struct Prober {
    names: Vec<String>,
    resolve: Box<Resolve>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("modules", &self.names)
            .finish()
    }
}

impl PartialEq for Prober {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
    }
}

impl Default for Prober {
    /// The default module alone, on the default settings.
    fn default() -> Self {
        Prober::new(
            vec![DEFAULT_MODULE.to_string()],
            Box::new(|module: &str, target: &str| {
                if module != DEFAULT_MODULE {
                    return Err(Refusal::UnknownModule(module.to_string()));
                }
                let target = crate::engine::target::Target::parse(target)
                    .map_err(|e| Refusal::BadTarget(e.to_string()))?;
                Ok(ProbeSpec {
                    settings: ConnSettings {
                        target,
                        ..ConnSettings::default()
                    },
                    expect: None,
                    timeout: Duration::from_secs(5),
                    ping: true,
                })
            }),
        )
    }
}

impl Prober {
    /// A prober over these modules (`resolve` turns a module's name and a target into a
    /// probe).
    pub fn new(names: Vec<String>, resolve: Box<Resolve>) -> Prober {
        Prober {
            names,
            resolve,
            permits: Arc::new(Semaphore::new(MAX_PROBES)),
        }
    }

    /// A module's settings for a target.
    pub fn resolve(&self, module: &str, target: &str) -> Result<ProbeSpec, Refusal> {
        (self.resolve)(module, target)
    }

    /// The modules' names.
    pub fn modules(&self) -> &[String] {
        &self.names
    }

    /// Probes `target` with `module` (the default when `None`) within the module's timeout,
    /// shortened to `scrape_timeout` less `SCRAPE_OFFSET`; answers in the exposition format.
    pub async fn probe(
        &self,
        target: Option<&str>,
        module: Option<&str>,
        scrape_timeout: Option<Duration>,
    ) -> Result<String, Refusal> {
        let target = target.filter(|t| !t.is_empty()).ok_or(Refusal::NoTarget)?;
        let spec = (self.resolve)(module.unwrap_or(DEFAULT_MODULE), target)?;
        let mut budget = spec.timeout;
        if let Some(s) = scrape_timeout {
            budget = budget.min(s.saturating_sub(SCRAPE_OFFSET).max(MIN_BUDGET));
        }
        let started = tokio::time::Instant::now();
        let outcome = match tokio::time::timeout(budget, self.permits.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => {
                let left = budget.saturating_sub(started.elapsed()).max(MIN_BUDGET);
                let o = outcome::run(spec, left, started).await;
                drop(permit);
                o
            }
            _ => Outcome::busy(started, MAX_PROBES),
        };
        Ok(exposition::render(&outcome))
    }
}

impl Refusal {
    /// The answer's status line and body.
    pub fn answer(&self, modules: &[String]) -> (&'static str, String) {
        match self {
            Refusal::NoTarget => (
                "400 Bad Request",
                "Target parameter is missing: /probe?target=wss://host/path&module=NAME\n".into(),
            ),
            Refusal::UnknownModule(m) => (
                "400 Bad Request",
                format!(
                    "Unknown module {m:?}: the modules are {} ([module.NAME] tables in the config file)\n",
                    modules.join(", ")
                ),
            ),
            Refusal::BadTarget(why) => (
                "400 Bad Request",
                format!("Cannot probe that target: {}\n", crate::text::sanitize(why)),
            ),
        }
    }
}
