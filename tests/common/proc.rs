//! Running the real `rowtide` binary as a child process: write its config, start it, stop it
//! with SIGTERM (graceful) or SIGKILL (crash), read its logs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::TestEnv;

/// What a test wants in its configuration.
#[derive(Debug, Clone)]
pub struct Setup {
    pub db: String,
    pub topic_prefix: String,
    pub format: &'static str,
    pub state_dir: PathBuf,
    pub server_id: u32,
    pub snapshot_mode: &'static str,
    pub sink: &'static str,
    pub metrics_listen: String,
    /// Extra TOML appended verbatim (e.g. more `[sink.kafka]` keys).
    pub extra: String,
    pub partitions: i32,
    pub snapshot_parallelism: usize,
    /// Extra TOML lines in the `[format]` section (e.g. `provide_transaction_metadata = true`).
    pub format_extra: String,
}

impl Setup {
    pub fn new(db: &str, dir: &Path) -> Self {
        Self {
            db: db.to_string(),
            topic_prefix: format!("t{}", db.replace('_', "")),
            format: "json",
            state_dir: dir.join("state"),
            server_id: 20_000 + (std::process::id() % 10_000) + super_unique(),
            snapshot_mode: "initial",
            sink: "kafka",
            metrics_listen: String::new(),
            extra: String::new(),
            partitions: 3,
            snapshot_parallelism: 1,
            format_extra: String::new(),
        }
    }

    pub fn toml(&self, env: &TestEnv) -> String {
        let registry = if self.format == "avro" {
            format!("registry_url = \"{}\"\n", env.registry_url)
        } else {
            String::new()
        };
        format!(
            r#"[source]
host = "{host}"
port = {port}
user = "{user}"
password = "{password}"
server_id = {server_id}
include = ["{db}\\..*"]
snapshot_mode = "{snapshot_mode}"
snapshot_parallelism = {parallelism}
heartbeat_interval_ms = 1000
read_timeout_ms = 5000
reconnect_backoff_ms = 200
reconnect_backoff_max_ms = 2000

[sink]
kind = "{sink}"
brokers = "{brokers}"
topic_prefix = "{prefix}"
topic_partitions = {partitions}

[sink.kafka]
"linger.ms" = "2"

[format]
kind = "{format}"
{registry}{format_extra}
[checkpoint]
path = "{state}"
flush_interval_ms = 100

[metrics]
listen = "{metrics}"

[pipeline]
shutdown_timeout_secs = 20
{extra}
"#,
            host = env.mysql_host,
            port = env.mysql_port,
            user = env.mysql_user,
            password = env.mysql_password,
            server_id = self.server_id,
            db = self.db,
            snapshot_mode = self.snapshot_mode,
            parallelism = self.snapshot_parallelism,
            sink = self.sink,
            brokers = env.kafka_brokers,
            prefix = self.topic_prefix,
            partitions = self.partitions,
            format = self.format,
            registry = registry,
            format_extra = self.format_extra,
            state = self.state_dir.display(),
            metrics = self.metrics_listen,
            extra = self.extra,
        )
    }

    pub fn topic(&self, table: &str) -> String {
        format!("{}.{}.{}", self.topic_prefix, self.db, table)
    }
}

fn super_unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed) * 10
}

/// A running `rowtide run`.
pub struct Rowtide {
    child: Option<Child>,
    pub config: PathBuf,
    pub log: PathBuf,
    pub starts: u32,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_rowtide")
}

impl Rowtide {
    /// Writes the config into `dir` and starts `rowtide run`.
    pub fn start(env: &TestEnv, setup: &Setup, dir: &Path) -> Self {
        let config = dir.join("rowtide.toml");
        std::fs::write(&config, setup.toml(env)).unwrap();
        let mut r = Rowtide {
            child: None,
            config,
            log: dir.join("rowtide.log"),
            starts: 0,
        };
        r.spawn();
        r
    }

    /// Starts (again) with the same config; logs are appended.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(binary())
            .args(["run", "-c"])
            .arg(&self.config)
            .env("RUST_LOG", "rowtide=info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start rowtide");
        self.child = Some(child);
        self.starts += 1;
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// SIGTERM, then wait (bounded) for a clean exit; returns the status.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        unsafe_kill(child.id(), "-TERM");
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "rowtide did not stop within 40 s of SIGTERM; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: a crash at an arbitrary instant.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        unsafe_kill(child.id(), "-KILL");
        let _ = child.wait();
    }

    /// Waits for the process to exit on its own (bounded).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                self.child = None;
                return Some(st);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 60 s) until the log shows `n` connections to the binlog stream, i.e.
    /// until the `n`-th start of this process has finished its snapshot and is streaming.
    pub async fn wait_streaming(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .log_text()
            .matches("Connected to the binlog stream")
            .count()
            < n
        {
            assert!(
                Instant::now() < deadline,
                "rowtide did not start streaming:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs another rowtide command with the same config (e.g. `offsets show --json`).
    pub fn command(&self, args: &[&str]) -> std::process::Output {
        Command::new(binary())
            .args(args)
            .arg("-c")
            .arg(&self.config)
            .output()
            .expect("run rowtide command")
    }
}

fn unsafe_kill(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(sig).arg(pid.to_string()).status();
}

impl Drop for Rowtide {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs `scripts/env VERB COMPONENT` (stop/start/restart a test server).
pub fn env_script(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/env");
    let st = Command::new(script)
        .args(args)
        .status()
        .expect("run scripts/env");
    assert!(st.success(), "scripts/env {args:?} failed");
}
