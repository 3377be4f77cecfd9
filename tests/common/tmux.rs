//! Driving the real binary inside tmux: a private tmux server per test, a real shell in the
//! pane, keys in and screen text out.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server with one session running bash.
pub struct Tmux {
    socket: String,
    pub data_dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts bash in a `w`x`h` pane.
    pub fn start(name: &str, w: u16, h: u16) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "these tests need tmux: apt-get install tmux (.ci/run installs it)"
        );
        let socket = format!("wsmon-{name}-{}", std::process::id());
        let t = Tmux {
            socket,
            data_dir: tempfile::tempdir().unwrap(),
        };
        let ok = t
            .tmux(&[
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
                "env -u RUST_BACKTRACE bash --norc --noprofile",
            ])
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

    /// Runs wsmon with `args` in the pane's shell.
    pub fn run_wsmon(&self, args: &str) {
        let line = format!(
            "export PS1='$ ' WSMON_DATA_DIR={} TERM=xterm-256color; {} {args}",
            self.data_dir.path().display(),
            env!("CARGO_BIN_EXE_wsmon")
        );
        self.text(&line);
        self.keys(&["Enter"]);
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

    /// Whether the pane is on the alternate screen (a full-screen program owns it).
    pub fn alternate_screen(&self) -> bool {
        String::from_utf8_lossy(
            &self
                .tmux(&["display-message", "-p", "-t", "t", "#{alternate_on}"])
                .stdout,
        )
        .trim()
            == "1"
    }

    /// Waits until the screen shows all of `needles`; returns that screen.
    pub fn wait_for(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if needles.iter().all(|n| s.contains(n)) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needles:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of the program the pane's shell is running (wsmon).
    pub fn child_pid(&self) -> Option<u32> {
        let shell = String::from_utf8_lossy(
            &self
                .tmux(&["display-message", "-p", "-t", "t", "#{pane_pid}"])
                .stdout,
        )
        .trim()
        .to_string();
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
        String::from_utf8_lossy(
            &self
                .tmux(&["display-message", "-p", "-t", "t", "#{pane_title}"])
                .stdout,
        )
        .trim()
        .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
