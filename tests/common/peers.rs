//! Real servers of application protocols from npm (`tests/peers`, installed with `npm ci` by
//! `.ci/run`), started on a reserved port, restartable on the same port.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The folder of the peers' package.
fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("peers")
}

/// A node server running one of the scripts in `tests/peers`.
pub struct NodePeer {
    child: Child,
    script: &'static str,
    args: Vec<String>,
    /// The port it listens on.
    pub port: u16,
}

impl NodePeer {
    /// Starts `script` on a free port with `args` after the port; waits until it listens.
    pub async fn start(script: &'static str, args: &[&str]) -> NodePeer {
        let port = super::reserve_port().release();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let child = spawn(script, port, &args).await;
        NodePeer {
            child,
            script,
            args,
            port,
        }
    }

    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (its connections drop without a close frame) and starts it again on
    /// the same port.
    pub async fn restart(&mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        self.child = spawn(self.script, self.port, &self.args).await;
    }

    /// Kills the server.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Installs the peers from the lockfile the first time they are needed (`.ci/run` installs
/// them beforehand; a developer's plain `cargo test` does it here).
fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if dir().join("node_modules").is_dir() {
            return;
        }
        let out = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir())
            .output()
            .expect("npm runs: these tests need Node.js 20 and npm (apt-get install nodejs npm)");
        assert!(
            out.status.success(),
            "npm ci in tests/peers failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

async fn spawn(script: &str, port: u16, args: &[String]) -> Child {
    tokio::task::spawn_blocking(install).await.unwrap();
    let mut child = Command::new("node")
        .arg(script)
        .arg(port.to_string())
        .args(args)
        .current_dir(dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (apt-get install nodejs; .ci/run checks)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("listening") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        ready,
        Ok(true),
        "{script} did not start listening on {port}"
    );
    // Keep reading its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}
