//! Real servers from Debian packages (`scripts/test` installs them): tinyproxy as an HTTP CONNECT
//! proxy, nginx, HAProxy, and the brokers (`brokers.rs`), each run in the foreground with a
//! config in a temp dir on a reserved port.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A Debian daemon running for one test; killed when dropped.
pub struct Daemon {
    child: Child,
    /// Its working directory, with its config and logs.
    pub dir: tempfile::TempDir,
    /// The loopback port it listens on.
    pub port: u16,
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Daemon {
    /// The address it listens on, `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its log so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Kills it (its connections drop without a goodbye) and starts it again, same config,
    /// same port; returns when it listens again.
    #[allow(dead_code)]
    pub async fn restart(&mut self) {
        self.kill_group();
        let _ = self.child.wait().await;
        // What it started dies a moment later: wait until the port is free.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_ok()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = spawn(&self.program, &self.args, &self.env, self.dir.path());
        listening(&self.program, self.port, || self.log()).await;
    }
}

/// Where a Debian tool is installed (`/usr/sbin` is not on every user's PATH).
fn tool(name: &str) -> PathBuf {
    for d in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is not installed: scripts/test installs it (apt-get install {name})");
}

fn spawn(program: &str, args: &[String], env: &[(String, String)], dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("daemon.log"))
        .unwrap();
    Command::new(tool(program))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        // Its own process group: a daemon started by a script (RabbitMQ) is killed whole.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"))
}

/// Waits until `port` takes connections (a broker may take seconds to boot).
async fn listening(program: &str, port: u16, log: impl Fn() -> String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{program} did not listen on {port}: {}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts `program` with `args` and `env` in `dir`; returns once it listens on `port`.
pub async fn start_with(
    program: &str,
    args: &[&str],
    env: &[(&str, String)],
    dir: tempfile::TempDir,
    port: u16,
) -> Daemon {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let child = spawn(program, &args, &env, dir.path());
    let d = Daemon {
        child,
        dir,
        port,
        program: program.to_string(),
        args,
        env,
    };
    listening(program, port, || d.log()).await;
    d
}

async fn start(program: &str, args: &[&str], dir: tempfile::TempDir, port: u16) -> Daemon {
    start_with(program, args, &[], dir, port).await
}

impl Daemon {
    /// Kills the daemon and everything it started.
    pub fn kill_group(&mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) with a process group id is a plain system call.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// tinyproxy on a reserved port; with `auth`, it asks for `BasicAuth user password`.
pub async fn tinyproxy(auth: Option<(&str, &str)>) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = super::reserve_port().release();
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow 127.0.0.1\n\
         LogLevel Info\nLogFile \"{log}\"\nPidFile \"{pid}\"\n",
        log = dir.path().join("tinyproxy.log").display(),
        pid = dir.path().join("tinyproxy.pid").display(),
    );
    if let Some((user, password)) = auth {
        conf.push_str(&format!("BasicAuth {user} {password}\n"));
    }
    let path = dir.path().join("tinyproxy.conf");
    std::fs::write(&path, conf).unwrap();
    let path = path.display().to_string();
    start("tinyproxy", &["-d", "-c", &path], dir, port).await
}

/// nginx on a reserved port, serving `server` (the inside of a `server { }` block, where
/// `PORT` stands for the port) as its only server.
pub async fn nginx(server: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = super::reserve_port().release();
    let d = dir.path().display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/daemon.log;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d};\n  proxy_temp_path {d};\n\
         fastcgi_temp_path {d};\n  uwsgi_temp_path {d};\n  scgi_temp_path {d};\n\
         server {{\n{}\n  }}\n}}\n",
        server.replace("PORT", &port.to_string())
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let (path, prefix) = (path.display().to_string(), format!("{d}/"));
    start("nginx", &["-p", &prefix, "-c", &path], dir, port).await
}

/// HAProxy on a reserved port, in TCP-through-HTTP mode in front of `backend` (a WebSocket
/// server), closing a tunnel that carried nothing for `tunnel_timeout` the way load balancers
/// do: without a close frame.
pub async fn haproxy(backend: std::net::SocketAddr, tunnel_timeout: Duration) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = super::reserve_port().release();
    let conf = format!(
        "global\n  maxconn 64\n\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n\
         timeout server 30s\n  timeout tunnel {}ms\n\nfrontend ws\n  bind 127.0.0.1:{port}\n\
         default_backend app\n\nbackend app\n  server s1 {backend}\n",
        tunnel_timeout.as_millis()
    );
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, conf).unwrap();
    let path = path.display().to_string();
    // -db: stay in the foreground, no daemon.
    start("haproxy", &["-db", "-f", &path], dir, port).await
}

/// Debian's Prometheus on a reserved port with `config` (a `prometheus.yml`; its relative
/// files are looked up in the daemon's directory, where `files` are written first), storing
/// its data in a temp dir.
pub async fn prometheus(config: &str, files: &[(&str, &str)]) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = super::reserve_port().release();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, config).unwrap();
    let (config, data, listen) = (
        format!("--config.file={}", path.display()),
        format!("--storage.tsdb.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    );
    let d = start(
        "prometheus",
        &[&config, &data, &listen, "--log.level=warn"],
        dir,
        port,
    )
    .await;
    // Listening is not ready: queries are refused (503) until the storage is open.
    let ready = format!("http://{}/-/ready", d.addr());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let url = ready.clone();
        let ok = tokio::task::spawn_blocking(move || ureq::get(&url).call().is_ok())
            .await
            .unwrap();
        if ok {
            return d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus never became ready: {}",
            d.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Daemon {
    /// An instant PromQL query through Prometheus's HTTP API: each series' labels and value.
    pub async fn query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        let url = format!(
            "http://{}/api/v1/query?query={}",
            self.addr(),
            percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC)
        );
        let body = tokio::task::spawn_blocking(move || {
            ureq::get(&url)
                .call()
                .expect("Prometheus answers queries")
                .into_body()
                .read_to_string()
                .expect("a text body")
        })
        .await
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(v["status"], "success", "{promql}: {body}");
        v["data"]["result"]
            .as_array()
            .expect("a vector")
            .iter()
            .map(|r| {
                let value = r["value"][1].as_str().unwrap().parse().unwrap_or(f64::NAN);
                (r["metric"].clone(), value)
            })
            .collect()
    }

    /// Polls `promql` until `done` holds for its result (Prometheus scrapes on its own
    /// clock); the last result.
    pub async fn query_until(
        &self,
        promql: &str,
        done: impl Fn(&[(serde_json::Value, f64)]) -> bool,
    ) -> Vec<(serde_json::Value, f64)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.query(promql).await;
            if done(&r) {
                return r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{promql}: still {r:?}; Prometheus said: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Runs `promtool` with `args` in `dir`; its output, asserting it succeeded.
pub fn promtool(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(tool("promtool"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs (scripts/test installs prometheus)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}: {text}");
    text
}
