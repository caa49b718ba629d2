//! Child processes in tests: `Process` (start, restart, stop with SIGTERM or SIGKILL, check
//! that it is alive, read its logs) and `Rowtide`, the real `rowtide run` with a config
//! written from a `Setup`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use super::poll::{poll_until, poll_until_async};
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
            server_id: super::server_id(),
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

/// A child process (the `rowtide` binary, a private `mariadbd`) started from a fixed command
/// line. Each start writes its stdout and stderr to a new file `<dir>/<name>.<start>.log`, so
/// a restart never truncates what an earlier start logged. `stop` sends SIGTERM (graceful),
/// `kill9` SIGKILL (a crash); dropping it kills the process.
pub struct Process {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
    logs: Logs,
    child: Option<Child>,
    /// How many times it was started.
    pub starts: u32,
}

/// Where a process logs: `<dir>/<name>.<start>.log`.
struct Logs {
    dir: PathBuf,
    name: String,
}

impl Logs {
    fn path(&self, start: u32) -> PathBuf {
        self.dir.join(format!("{}.{start}.log", self.name))
    }

    /// What the first `starts` starts logged, in order.
    fn text(&self, starts: u32) -> String {
        (1..=starts)
            .map(|n| std::fs::read_to_string(self.path(n)).unwrap_or_default())
            .collect()
    }

    fn tail(&self, starts: u32, lines: usize) -> String {
        last_lines(&self.text(starts), lines)
    }
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(n)..].join("\n")
}

impl Process {
    /// A process that `spawn` starts as `program args…`, logging into `dir`; not started yet.
    pub fn new<S: AsRef<OsStr>>(
        name: &str,
        program: impl AsRef<OsStr>,
        args: impl IntoIterator<Item = S>,
        dir: &Path,
    ) -> Self {
        Process {
            program: program.as_ref().to_owned(),
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            envs: Vec::new(),
            logs: Logs {
                dir: dir.to_path_buf(),
                name: name.to_string(),
            },
            child: None,
            starts: 0,
        }
    }

    /// Sets an environment variable for every start.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    /// Starts (again) with the same command line, logging into a new file.
    pub fn spawn(&mut self) {
        assert!(
            self.child.is_none(),
            "{} is already running",
            self.logs.name
        );
        self.starts += 1;
        let path = self.log_path(self.starts);
        let log = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("new log file {}: {e}", path.display()));
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.logs.name));
        self.child = Some(child);
    }

    /// The log file of the `start`-th start (1 is the first).
    pub fn log_path(&self, start: u32) -> PathBuf {
        self.logs.path(start)
    }

    /// What every start logged, in order.
    pub fn log_text(&self) -> String {
        self.logs.text(self.starts)
    }

    /// The last `lines` lines of [`Self::log_text`].
    pub fn log_tail(&self, lines: usize) -> String {
        self.logs.tail(self.starts, lines)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Panics, with the exit status and the end of the log, unless the process is running
    /// (started and not exited). `what` says when, e.g. "while Kafka is down".
    pub fn assert_alive(&mut self, what: &str) {
        let name = &self.logs.name;
        let Some(child) = self.child.as_mut() else {
            panic!("{name} is not running {what}: it was never started or was stopped");
        };
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{name} is not running {what}: it exited with {status}; last lines of its log:\n{}",
                self.logs.tail(self.starts, 40)
            );
        }
    }

    /// The exit status when the process has exited (checked without waiting); `None` while
    /// it runs or when it was never started.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGTERM, then a bounded wait (40 s) for the exit; returns the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        signal(self.pid().expect("running"), "-TERM");
        self.wait_exit(Duration::from_secs(40))
    }

    /// SIGKILL: a crash at an arbitrary instant.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "-KILL");
        let _ = child.wait();
    }

    /// Waits (at most `timeout`, else panics with the end of the log and, on drop, kills it)
    /// for the process to exit, and returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let (logs, starts) = (&self.logs, self.starts);
        let child = self.child.as_mut().expect("running");
        let what = format!("{} to exit", logs.name);
        let status = poll_until(&what, timeout, Duration::from_millis(50), || {
            match child.try_wait().unwrap() {
                Some(status) => Ok(status),
                None => Err(format!("still running; log:\n{}", logs.tail(starts, 20))),
            }
        });
        self.child = None;
        status
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(sig).arg(pid.to_string()).status();
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_rowtide")
}

/// Runs a one-shot rowtide command with a config, e.g. `["offsets", "show", "--json"]`.
pub fn rowtide_command(args: &[&str], config: &Path) -> Output {
    Command::new(binary())
        .args(args)
        .arg("-c")
        .arg(config)
        .output()
        .expect("run rowtide command")
}

/// A running `rowtide run` (a [`Process`] named "rowtide", logging at info level).
pub struct Rowtide {
    process: Process,
    pub config: PathBuf,
}

impl Rowtide {
    /// Writes the config of `setup` into `dir` and starts `rowtide run`.
    pub fn start(env: &TestEnv, setup: &Setup, dir: &Path) -> Self {
        let config = dir.join("rowtide.toml");
        std::fs::write(&config, setup.toml(env)).unwrap();
        Self::with_config(&config, dir)
    }

    /// Starts `rowtide run -c config`, logging into `dir`.
    pub fn with_config(config: &Path, dir: &Path) -> Self {
        let args = [OsStr::new("run"), OsStr::new("-c"), config.as_os_str()];
        let mut process =
            Process::new("rowtide", binary(), args, dir).env("RUST_LOG", "rowtide=info");
        process.spawn();
        Rowtide {
            process,
            config: config.to_path_buf(),
        }
    }

    /// Waits (up to `timeout`) until the log holds `needle` at least `n` times.
    pub async fn wait_log(&self, needle: &str, n: usize, timeout: Duration) {
        let what = format!("{n} × \"{needle}\" in the rowtide log");
        poll_until_async(&what, timeout, Duration::from_millis(100), async || {
            let log = self.log_text();
            if log.matches(needle).count() >= n {
                Ok(())
            } else {
                Err(format!("log:\n{log}"))
            }
        })
        .await
    }

    /// Waits (up to 60 s) until the log shows `n` connections to the binlog stream, i.e.
    /// until the `n`-th start of this process has finished its snapshot and is streaming.
    pub async fn wait_streaming(&self, n: usize) {
        self.wait_log("Connected to the binlog stream", n, Duration::from_secs(60))
            .await
    }

    /// Runs another rowtide command with the same config (e.g. `offsets show --json`).
    pub fn command(&self, args: &[&str]) -> Output {
        rowtide_command(args, &self.config)
    }
}

impl std::ops::Deref for Rowtide {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.process
    }
}

impl std::ops::DerefMut for Rowtide {
    fn deref_mut(&mut self) -> &mut Process {
        &mut self.process
    }
}

/// Runs `scripts/env VERB COMPONENT` (stop/start/restart a test server).
pub fn env_script(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/env");
    let st = Command::new(script)
        .args(args)
        .status()
        .expect("run scripts/env");
    // Not while unwinding from a failed test (a second panic would abort the test binary).
    assert!(
        st.success() || std::thread::panicking(),
        "scripts/env {args:?} failed"
    );
}
