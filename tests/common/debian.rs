//! Real servers from Debian packages (`.ci/run` installs them): tinyproxy as an HTTP CONNECT
//! proxy and nginx, each run in the foreground with a config in a temp dir on a reserved port.

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
}

/// Where a Debian tool is installed (`/usr/sbin` is not on every user's PATH).
fn tool(name: &str) -> PathBuf {
    for d in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is not installed: .ci/run installs it with apt (apt-get install {name})");
}

async fn start(program: &str, args: &[&str], dir: tempfile::TempDir, port: u16) -> Daemon {
    let log = std::fs::File::create(dir.path().join("daemon.log")).unwrap();
    let child = Command::new(tool(program))
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    let d = Daemon { child, dir, port };
    let deadline = tokio::time::Instant::now() + super::PATIENCE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{program} did not listen on {port}: {}",
            d.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    d
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
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
