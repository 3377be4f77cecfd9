//! Running the real binary as a child process and reading its JSON lines.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PATIENCE: Duration = Duration::from_secs(15);

pub fn wsmon(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wsmon"));
    c.args(args)
        .env(
            "WSMON_DATA_DIR",
            std::env::temp_dir().join("wsmon-test-data"),
        )
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

pub struct Lines {
    pub child: Child,
    out: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
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

    fn spawn_cmd(mut cmd: Command) -> Lines {
        let mut child = cmd.spawn().expect("wsmon runs");
        let out = BufReader::new(child.stdout.take().unwrap()).lines();
        Lines {
            child,
            out,
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
        let mut err = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut self.child.stderr.take().unwrap(), &mut err)
            .await
            .unwrap();
        (status.code().unwrap_or(-1), self.seen, err)
    }
}

pub fn is(event: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == event
}
