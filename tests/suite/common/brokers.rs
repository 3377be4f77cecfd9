//! The message brokers field engineers meet, from Debian (`scripts/test` installs them), each
//! started by one helper on reserved ports with its config in a temp dir: mosquitto (an MQTT
//! broker with a WebSocket listener, a password file and an ACL) and RabbitMQ (STOMP and MQTT
//! over WebSocket, users and topic permissions from a definitions file).

use std::path::Path;
use std::time::Duration;

use super::debian::{Daemon, start_with};

/// The login both brokers accept.
pub const USER: (&str, &str) = ("probe", "probe-pass");

/// mosquitto with a WebSocket listener on `Daemon::port` and a plain MQTT listener on
/// `Mosquitto::mqtt_port` (for `mosquitto_pub`/`mosquitto_sub`); only `USER` may log in, and
/// it may use `sensors/#` only.
pub struct Mosquitto {
    /// The daemon; its port is the WebSocket listener.
    pub daemon: Daemon,
    /// The plain MQTT listener.
    pub mqtt_port: u16,
}

impl Mosquitto {
    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.daemon.port)
    }

    /// Publishes `payload` to `topic` with `mosquitto_pub`, as another client would.
    pub async fn publish(&self, topic: &str, payload: &str) {
        let out = tokio::process::Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.mqtt_port.to_string()])
            .args([
                "-u", USER.0, "-P", USER.1, "-q", "1", "-t", topic, "-m", payload,
            ])
            .output()
            .await
            .expect("mosquitto_pub runs (apt-get install mosquitto-clients)");
        assert!(
            out.status.success(),
            "mosquitto_pub: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Waits for one message on `topic` with `mosquitto_sub`; returns its payload. Call it
    /// before the message is sent (it subscribes first).
    pub fn receive_one(&self, topic: &str) -> tokio::task::JoinHandle<String> {
        let port = self.mqtt_port.to_string();
        let topic = topic.to_string();
        tokio::spawn(async move {
            let out = tokio::process::Command::new("mosquitto_sub")
                .args(["-h", "127.0.0.1", "-p", &port, "-u", USER.0, "-P", USER.1])
                .args(["-C", "1", "-W", "20", "-t", &topic])
                .output()
                .await
                .expect("mosquitto_sub runs (apt-get install mosquitto-clients)");
            String::from_utf8_lossy(&out.stdout).trim_end().to_string()
        })
    }
}

/// mosquitto (see `Mosquitto`).
pub async fn mosquitto() -> Mosquitto {
    let dir = tempfile::tempdir().unwrap();
    let (ws, mqtt) = (super::reserve_port(), super::reserve_port());
    let (ws, mqtt) = (ws.release(), mqtt.release());
    let d = dir.path();
    let passwd = d.join("passwd");
    let out = std::process::Command::new("mosquitto_passwd")
        .args(["-c", "-b"])
        .arg(&passwd)
        .args([USER.0, USER.1])
        .output()
        .expect("mosquitto_passwd runs (apt-get install mosquitto)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        d.join("acl"),
        format!("user {}\ntopic readwrite sensors/#\n", USER.0),
    )
    .unwrap();
    // mosquitto 2.0.11 refuses to start with only a WebSocket listener: a plain one too.
    // Started as root it would become the `mosquitto` user, who cannot read the test's
    // private files: it stays who started it.
    let conf = format!(
        "listener {mqtt} 127.0.0.1\nlistener {ws}\nprotocol websockets\nsocket_domain ipv4\n\
         allow_anonymous false\npassword_file {}\nacl_file {}\npersistence false\n\
         log_type all\nuser {}\n",
        passwd.display(),
        d.join("acl").display(),
        std::env::var("USER").unwrap_or_else(|_| "root".into())
    );
    std::fs::write(d.join("mosquitto.conf"), conf).unwrap();
    fix_modes(d);
    let conf = d.join("mosquitto.conf").display().to_string();
    let daemon = start_with("mosquitto", &["-c", &conf], &[], dir, ws).await;
    Mosquitto {
        daemon,
        mqtt_port: mqtt,
    }
}

/// mosquitto reads its password and ACL files only when they are not world-readable... and
/// as a user it can read: the owner's only.
fn fix_modes(d: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for f in ["passwd", "acl"] {
        let _ = std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(0o600));
    }
}

/// A RabbitMQ node for one test: STOMP over WebSocket on `port`, MQTT over WebSocket on
/// `mqtt_port`, both at `/ws`. `USER` may log in (and `guest`); `USER` may publish to and
/// read MQTT topics under `sensors/` only.
pub struct Rabbit {
    /// The node; its port is the web STOMP listener.
    pub daemon: Daemon,
    /// The web MQTT listener.
    pub mqtt_port: u16,
    epmd_port: u16,
}

impl Rabbit {
    /// `ws://127.0.0.1:PORT/ws` for STOMP.
    pub fn stomp_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.daemon.port)
    }

    /// `ws://127.0.0.1:PORT/ws` for MQTT.
    pub fn mqtt_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.mqtt_port)
    }
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        // Erlang's port mapper outlives the node (it is a daemon of its own): once the node
        // is gone, stop it too.
        self.daemon.kill_group();
        for _ in 0..50 {
            let out = std::process::Command::new("epmd")
                .args(["-port", &self.epmd_port.to_string(), "-kill"])
                .output();
            match out {
                Ok(o) if String::from_utf8_lossy(&o.stdout).contains("living nodes") => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => break,
            }
        }
    }
}

/// RabbitMQ with the web STOMP and web MQTT plugins (see `Rabbit`); takes 10-20 s to boot.
pub async fn rabbitmq() -> Rabbit {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    // All held at once, so no two are the same port, then released for RabbitMQ to bind.
    let held: [super::ReservedPort; 7] = std::array::from_fn(|_| super::reserve_port());
    let [amqp, stomp, mqtt, web_stomp, web_mqtt, dist, epmd] = held.map(|p| p.release());
    let defs = serde_json::json!({
        "users": [
            {"name": USER.0, "password": USER.1, "tags": ""},
            {"name": "guest", "password": "guest", "tags": "administrator"}
        ],
        "vhosts": [{"name": "/"}],
        "permissions": [
            {"user": USER.0, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
            {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
        ],
        "topic_permissions": [
            {"user": USER.0, "vhost": "/", "exchange": "amq.topic",
             "write": "^sensors\\.", "read": "^sensors\\."}
        ]
    });
    std::fs::write(d.join("definitions.json"), defs.to_string()).unwrap();
    std::fs::write(
        d.join("rabbitmq.conf"),
        format!(
            "listeners.tcp.default = {amqp}\nstomp.listeners.tcp.1 = {stomp}\n\
             mqtt.listeners.tcp.default = {mqtt}\nweb_stomp.tcp.port = {web_stomp}\n\
             web_mqtt.tcp.port = {web_mqtt}\nloopback_users = none\n\
             load_definitions = {}\nlog.console = true\nlog.console.level = warning\n\
             log.file = false\n",
            d.join("definitions.json").display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("enabled_plugins"),
        "[rabbitmq_web_stomp,rabbitmq_web_mqtt].",
    )
    .unwrap();
    let p = |name: &str| d.join(name).display().to_string();
    let node = format!("wsmon{web_stomp}@localhost");
    let env = [
        ("HOME", p("")),
        ("RABBITMQ_NODENAME", node.clone()),
        ("RABBITMQ_MNESIA_BASE", p("mnesia")),
        ("RABBITMQ_LOG_BASE", p("log")),
        ("RABBITMQ_ENABLED_PLUGINS_FILE", p("enabled_plugins")),
        ("RABBITMQ_CONFIG_FILE", p("rabbitmq")),
        ("RABBITMQ_PID_FILE", p("pid")),
        ("RABBITMQ_PLUGINS_EXPAND_DIR", p("plugins-expand")),
        ("RABBITMQ_FEATURE_FLAGS_FILE", p("feature_flags")),
        ("RABBITMQ_QUORUM_DIR", p("quorum")),
        ("RABBITMQ_STREAM_DIR", p("stream")),
        ("RABBITMQ_DIST_PORT", dist.to_string()),
        ("ERL_EPMD_PORT", epmd.to_string()),
    ];
    // The script that runs the node in the foreground, not the one that becomes the
    // rabbitmq user (the node's files are in the test's temp dir).
    let daemon = start_with(
        "/usr/lib/rabbitmq/bin/rabbitmq-server",
        &[],
        &env,
        dir,
        web_stomp,
    )
    .await;
    // The MQTT listener comes up with the same plugin start; wait for it too.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", web_mqtt))
        .await
        .is_err()
    {
        assert!(tokio::time::Instant::now() < deadline, "{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Listening is not booted: until the boot steps end (the definitions' users and
    // permissions among them), a STOMP CONNECT gets "Processing error". Ask the node.
    let ctl_env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let cwd = daemon.dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("/usr/lib/rabbitmq/bin/rabbitmqctl")
            .args(["-n", &node, "await_startup", "--timeout", "60"])
            .envs(ctl_env)
            .current_dir(cwd)
            .output()
    })
    .await
    .unwrap()
    .expect("rabbitmqctl runs");
    assert!(
        out.status.success(),
        "rabbitmqctl await_startup: {}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    Rabbit {
        daemon,
        mqtt_port: web_mqtt,
        epmd_port: epmd,
    }
}
