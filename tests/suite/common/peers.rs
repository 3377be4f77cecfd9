//! Real servers that others wrote, started on a reserved port and restartable on the same
//! port: from npm (`tests/peers`, pinned by its lockfile) and from PyPI (`tests/peers/py`,
//! pinned by `tests/peers/requirements.txt`). `scripts/test` installs both; a plain `cargo
//! test` installs them here the first time they are needed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The folder of the peers.
fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("peers")
}

/// What runs a peer's script.
#[derive(Clone, Copy, Debug)]
enum Runtime {
    /// Node.js, with the npm packages of `tests/peers`.
    Node,
    /// Python, in the virtual environment `tests/peers/.venv`.
    Python,
}

/// A server running one of the scripts in `tests/peers` (Node) or `tests/peers/py` (Python).
pub struct Peer {
    child: Child,
    runtime: Runtime,
    script: &'static str,
    args: Vec<String>,
    /// The port it listens on.
    pub port: u16,
}

/// The Node.js peers' old name.
pub type NodePeer = Peer;

impl Peer {
    /// Starts the Node.js `script` on a free port with `args` after the port; waits until it
    /// listens.
    pub async fn start(script: &'static str, args: &[&str]) -> Peer {
        Peer::start_with(Runtime::Node, script, args).await
    }

    /// Starts the Python `script` (in `tests/peers/py`) the same way.
    pub async fn python(script: &'static str, args: &[&str]) -> Peer {
        Peer::start_with(Runtime::Python, script, args).await
    }

    async fn start_with(runtime: Runtime, script: &'static str, args: &[&str]) -> Peer {
        let port = super::reserve_port().release();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let child = spawn(runtime, script, port, &args).await;
        Peer {
            child,
            runtime,
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
        self.child = spawn(self.runtime, self.script, self.port, &self.args).await;
    }

    /// Kills the server.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Installs the npm peers from the lockfile the first time they are needed.
fn install_node() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The copy of the lockfile in node_modules says what is installed (scripts/test
        // keeps it the same way).
        let stamp = dir().join("node_modules").join(".wsmon-package-lock.json");
        let wanted = std::fs::read(dir().join("package-lock.json")).unwrap();
        if std::fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
            return;
        }
        let out = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir())
            .output()
            .expect("npm runs: these tests need Node.js 20 and npm (scripts/test installs them)");
        assert!(
            out.status.success(),
            "npm ci in tests/peers failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&stamp, wanted).unwrap();
    });
}

/// The Python of the peers' virtual environment, made and filled from the pinned
/// requirements the first time it is needed.
fn python() -> PathBuf {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let venv = dir().join(".venv");
    let python = venv.join("bin").join("python");
    ONCE.call_once(|| {
        let stamp = venv.join("requirements.txt");
        let wanted = std::fs::read_to_string(dir().join("requirements.txt")).unwrap();
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return;
        }
        let run = |cmd: &mut std::process::Command, what: &str| {
            let out = cmd
                .output()
                .unwrap_or_else(|e| panic!("{what}: {e} (scripts/test installs python3)"));
            assert!(
                out.status.success(),
                "{what} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv),
            "python3 -m venv tests/peers/.venv",
        );
        run(
            std::process::Command::new(&python)
                .args(["-m", "pip", "install", "-q", "-r"])
                .arg(dir().join("requirements.txt")),
            "pip install -r tests/peers/requirements.txt",
        );
        std::fs::write(&stamp, wanted).unwrap();
    });
    python
}

async fn spawn(runtime: Runtime, script: &str, port: u16, args: &[String]) -> Child {
    let mut cmd = match runtime {
        Runtime::Node => {
            tokio::task::spawn_blocking(install_node).await.unwrap();
            let mut c = Command::new("node");
            c.arg(script).current_dir(dir());
            c
        }
        Runtime::Python => {
            let python = tokio::task::spawn_blocking(python).await.unwrap();
            let mut c = Command::new(python);
            c.arg(script).current_dir(dir().join("py"));
            c
        }
    };
    let mut child = cmd
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{runtime:?} runs {script}: {e} (scripts/test installs it)"));
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
