//! Driving the real binary inside tmux: a private tmux server per test (or benchmark), keys in
//! and screen text out. The benchmarks include this file too, so there is one harness.

use std::process::Command;
use std::time::{Duration, Instant};

/// How long `wait_for` waits for a screen; only reached when something is wrong.
const PATIENCE: Duration = Duration::from_secs(20);

/// A tmux server with one session, `t`.
pub struct Tmux {
    socket: String,
    /// A private data directory for the wsmon started in it.
    pub data_dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts bash (no rc files) in a `w`x`h` pane.
    pub fn start(name: &str, w: u16, h: u16) -> Tmux {
        Tmux::start_cmd(name, w, h, "env -u RUST_BACKTRACE bash --norc --noprofile")
    }

    /// Starts `cmd` as the pane's program in a `w`x`h` pane.
    pub fn start_cmd(name: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "this needs tmux: apt-get install tmux (scripts/test installs it)"
        );
        let socket = format!("wsmon-{name}-{}-{}", std::process::id(), unique());
        let t = Tmux {
            socket,
            data_dir: tempfile::tempdir().expect("a temporary directory"),
        };
        let (w, h) = (w.to_string(), h.to_string());
        let ok = t
            .tmux(&["new-session", "-d", "-s", "t", "-x", &w, "-y", &h, cmd])
            .status
            .success();
        assert!(ok, "tmux new-session failed");
        t.tmux(&["set-option", "-g", "status", "off"]);
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Runs `bin` with `args` in the pane's shell, in a hermetic environment: its own working,
    /// data and config directories, no proxy or logging variables.
    pub fn run(&self, bin: &str, args: &str) {
        let d = self.data_dir.path().display();
        let line = format!(
            "cd {d}; export PS1='$ ' TERM=xterm-256color HOME={d} WSMON_DATA_DIR={d} \
             XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/share; unset HTTP_PROXY HTTPS_PROXY \
             ALL_PROXY NO_PROXY http_proxy https_proxy all_proxy no_proxy WSMON_LOG RUST_LOG \
             NO_COLOR; {bin} {args}"
        );
        self.text(&line);
        self.keys(&["Enter"]);
    }

    /// Runs this build's wsmon with `args` in the pane's shell (see `run`).
    pub fn run_wsmon(&self, args: &str) {
        self.run(env!("CARGO_BIN_EXE_wsmon"), args);
    }

    /// Named keys (`Enter`, `Tab`, `Escape`, `Up`...).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Literal text.
    pub fn text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// A control-mode client of this server: it looks at the screen without starting a
    /// process per look (a benchmark's polling would otherwise take CPU from what it times).
    #[allow(dead_code)]
    pub fn control(&self) -> Control {
        use std::process::Stdio;
        // An attached client would size the window to itself (80x24): the pane keeps its size.
        self.tmux(&["set-option", "-g", "window-size", "manual"]);
        let mut child = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(["-C", "attach-session", "-t", "t"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tmux -C runs");
        let stdin = child.stdin.take().expect("stdin");
        let out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut c = Control { child, stdin, out };
        // Pane output is not wanted, only the answers to captures.
        c.command("refresh-client -f no-output");
        c
    }

    fn format(&self, what: &str) -> String {
        String::from_utf8_lossy(
            &self
                .tmux(&["display-message", "-p", "-t", "t", what])
                .stdout,
        )
        .trim()
        .to_string()
    }

    /// Whether the pane is on the alternate screen (a full-screen program owns it).
    pub fn alternate_screen(&self) -> bool {
        self.format("#{alternate_on}") == "1"
    }

    /// Waits until the screen shows all of `needles`; returns that screen.
    pub fn wait_for(&self, needles: &[&str]) -> String {
        match self.wait_within(needles, PATIENCE) {
            Ok(s) => s,
            Err(s) => panic!("timed out waiting for {needles:?}; screen:\n{s}"),
        }
    }

    /// Waits up to `patience` for the screen to show all of `needles`: the screen that did,
    /// or the last one seen.
    pub fn wait_within(&self, needles: &[&str], patience: Duration) -> Result<String, String> {
        let deadline = Instant::now() + patience;
        loop {
            let s = self.screen();
            if needles.iter().all(|n| s.contains(n)) {
                return Ok(s);
            }
            if Instant::now() >= deadline {
                return Err(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen no longer shows `needle`; returns that screen.
    pub fn wait_gone(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let s = self.screen();
            if !s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?} to go; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the pane's own program (the shell, or the command it was started with).
    pub fn pane_pid(&self) -> u32 {
        self.format("#{pane_pid}").parse().expect("a pane pid")
    }

    /// The pid of the program the pane's shell is running (wsmon).
    pub fn child_pid(&self) -> Option<u32> {
        let shell = self.pane_pid().to_string();
        let out = Command::new("pgrep").args(["-P", &shell]).output().ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// The pane's title (what an OSC 0/2 escape sequence would set).
    pub fn title(&self) -> String {
        self.format("#{pane_title}")
    }
}

/// A tmux control-mode client (see `Tmux::control`).
#[allow(dead_code)]
pub struct Control {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    out: std::io::BufReader<std::process::ChildStdout>,
}

#[allow(dead_code)]
impl Control {
    /// Runs a tmux command; returns its output (the lines between `%begin` and `%end`).
    pub fn command(&mut self, cmd: &str) -> String {
        use std::io::{BufRead, Write};
        writeln!(self.stdin, "{cmd}").expect("tmux -C takes commands");
        self.stdin.flush().expect("flushed");
        let mut inside = false;
        let mut text = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            if self.out.read_line(&mut line).unwrap_or(0) == 0 {
                return text;
            }
            if line.starts_with("%begin") {
                inside = true;
            } else if line.starts_with("%end") || line.starts_with("%error") {
                if inside {
                    return text;
                }
            } else if inside {
                text.push_str(&line);
            }
        }
    }

    /// The visible screen.
    pub fn screen(&mut self) -> String {
        self.command("capture-pane -p -t t")
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// A number that differs between the servers one process starts.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
