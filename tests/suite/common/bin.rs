//! Running the real binary as a child process and reading its JSON lines.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PATIENCE: Duration = Duration::from_secs(15);

/// Variables of the developer's environment that would change what wsmon does.
const LEAKY: [&str; 14] = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "WSMON_LOG",
    "WSMON_TEST_PANIC",
    "RUST_LOG",
    "NO_COLOR",
];

/// A fresh directory for one run of the binary, inside the target directory.
pub fn sandbox() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "sandbox-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a sandbox directory");
    dir
}

/// Runs the binary as if on a fresh machine: its own home, config, data and working
/// directories inside `dir`, and none of the developer's proxy or logging variables.
pub fn hermetic(c: &mut std::process::Command, dir: &std::path::Path) {
    for v in LEAKY {
        c.env_remove(v);
    }
    c.env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("share"))
        .env("WSMON_DATA_DIR", dir.join("data"))
        .current_dir(dir);
}

/// This build's wsmon with `args`, hermetic (see `hermetic`), stdio piped.
pub fn wsmon(args: &[&str]) -> Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wsmon"));
    c.args(args);
    hermetic(&mut c, &sandbox());
    let mut c = Command::from(c);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

pub struct Lines {
    pub child: Child,
    out: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    err: Option<tokio::io::Lines<BufReader<tokio::process::ChildStderr>>>,
    /// The stderr lines read so far by `stderr_until` (the rest is read by `finish`).
    pub stderr_seen: Vec<String>,
    pub seen: Vec<Value>,
}

impl Lines {
    pub fn spawn(args: &[&str]) -> Lines {
        Lines::spawn_cmd(wsmon(args))
    }

    /// Runs with its own data directory (log file, history, recordings).
    pub fn spawn_in(args: &[&str], data_dir: &std::path::Path) -> Lines {
        let mut c = wsmon(args);
        c.env("WSMON_DATA_DIR", data_dir);
        Lines::spawn_cmd(c)
    }

    pub fn spawn_cmd(mut cmd: Command) -> Lines {
        let mut child = cmd.spawn().expect("wsmon runs");
        let out = BufReader::new(child.stdout.take().unwrap()).lines();
        let err = Some(BufReader::new(child.stderr.take().unwrap()).lines());
        Lines {
            child,
            out,
            err,
            stderr_seen: Vec::new(),
            seen: Vec::new(),
        }
    }

    pub async fn until(&mut self, what: &str, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.out.next_line()).await {
                Ok(Ok(Some(line))) => {
                    let v: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    assert!(
                        v["ts"]
                            .as_str()
                            .is_some_and(|t| t.len() == 24 && t.ends_with('Z')),
                        "ts: {line}"
                    );
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Ok(_) => panic!(
                    "output ended while waiting for {what}; saw {:#?}",
                    self.seen
                ),
                Err(_) => panic!("timed out waiting for {what}; saw {:#?}", self.seen),
            }
        }
    }

    /// Reads stderr until a line contains `needle`; returns that line.
    pub async fn stderr_until(&mut self, needle: &str) -> String {
        let err = self.err.as_mut().expect("stderr is still open");
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, err.next_line()).await {
                Ok(Ok(Some(line))) => {
                    self.stderr_seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                _ => panic!(
                    "stderr never said {needle:?}; it said {:#?}",
                    self.stderr_seen
                ),
            }
        }
    }

    /// The port the metrics were bound to, from the line that says where they are.
    pub async fn metrics_port(&mut self) -> u16 {
        let said = self.stderr_until("Prometheus metrics at").await;
        said.rsplit_once(':')
            .and_then(|(_, rest)| rest.trim_end_matches("/metrics").parse().ok())
            .unwrap_or_else(|| panic!("no port in {said:?}"))
    }

    pub async fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("running").to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .await
            .unwrap()
            .success();
        assert!(ok, "kill {sig} failed");
    }

    pub async fn finish(mut self) -> (i32, Vec<Value>, String) {
        while let Ok(Ok(Some(line))) = tokio::time::timeout(PATIENCE, self.out.next_line()).await {
            self.seen.push(serde_json::from_str(&line).unwrap());
        }
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("exits")
            .unwrap();
        let mut err = self.stderr_seen.join("\n");
        if !err.is_empty() {
            err.push('\n');
        }
        if let Some(mut lines) = self.err.take() {
            while let Ok(Some(line)) = lines.next_line().await {
                err.push_str(&line);
                err.push('\n');
            }
        }
        (status.code().unwrap_or(-1), self.seen, err)
    }
}

pub fn is(event: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == event
}
