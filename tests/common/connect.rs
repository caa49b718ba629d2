//! Kafka Connect standalone workers started by `scripts/connect` (Debezium's connectors
//! from Maven Central): the script, a worker stopped on drop, and its health.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::proc::last_lines;

pub fn connect_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/connect")
}

/// Runs `scripts/connect ARGS`, returns stdout; panics with its stderr on failure.
pub fn connect_cmd(args: &[&str]) -> String {
    let out = Command::new(connect_script())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/connect");
    assert!(
        out.status.success(),
        "scripts/connect {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The last `lines` lines of the file at `path`.
pub fn tail(path: &Path, lines: usize) -> String {
    last_lines(&std::fs::read_to_string(path).unwrap_or_default(), lines)
}

/// A Kafka Connect standalone worker started by `scripts/connect`; stopped on drop.
pub struct Worker {
    pub name: String,
    pub port: u16,
    /// The connectors it runs (their `name=`).
    pub connectors: Vec<String>,
    pub run_dir: PathBuf,
    stopped: bool,
}

impl Worker {
    pub fn log(&self) -> PathBuf {
        self.run_dir.join("connect.log")
    }

    /// `None` while healthy, or the failure (a connector or task FAILED, with its trace).
    pub async fn failure(&self) -> Option<String> {
        for connector in &self.connectors {
            let url = format!(
                "http://127.0.0.1:{}/connectors/{connector}/status",
                self.port
            );
            let Some(body) = status(&url).await else {
                continue;
            };
            let mut states = vec![body["connector"].clone()];
            states.extend(body["tasks"].as_array().cloned().unwrap_or_default());
            if let Some(s) = states.iter().find(|s| s["state"] == "FAILED") {
                let trace = s["trace"].as_str().unwrap_or("no trace");
                return Some(format!("{connector}: {trace}"));
            }
        }
        None
    }

    pub fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            connect_cmd(&["stop", &self.name]);
        }
    }
}

async fn status(url: &str) -> Option<serde_json::Value> {
    reqwest::get(url).await.ok()?.json().await.ok()
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            let _ = Command::new(connect_script())
                .args(["stop", &self.name])
                .status();
        }
    }
}

/// Writes `dir/worker.properties` for a standalone worker with JsonConverter keys and values
/// with schemas, offsets in `dir`, the REST API on `port`, the plugins in `plugin`, and
/// `extra` lines; returns its path.
pub fn write_worker(dir: &Path, brokers: &str, plugin: &str, port: u16, extra: &str) -> PathBuf {
    let path = dir.join("worker.properties");
    std::fs::write(
        &path,
        format!(
            "bootstrap.servers={brokers}
key.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=true
offset.storage.file.filename={offsets}
offset.flush.interval.ms=1000
plugin.path={plugin}
plugin.discovery=service_load
listeners=http://127.0.0.1:{port}
{extra}",
            offsets = dir.join("connect.offsets").display(),
        ),
    )
    .unwrap();
    path
}

/// Starts worker `name` (REST on `port`) with the `worker` and `connector` property files;
/// blocks until the connector and its task are RUNNING, or panics naming the log. The
/// connector file's `name=` must be `name`.
pub fn start_worker(name: &str, port: u16, worker: &Path, connector: &Path) -> Worker {
    start(
        name,
        port,
        worker,
        &[connector.to_path_buf()],
        vec![name.to_string()],
    )
}

/// Starts worker `name` (REST on `port`) running every connector file of `connectors` (each
/// with its own `name=`); blocks until all of them and their tasks are RUNNING, or panics
/// naming the log.
pub fn start_workers(name: &str, port: u16, worker: &Path, connectors: &[PathBuf]) -> Worker {
    let names = connectors
        .iter()
        .map(|c| {
            let text = std::fs::read_to_string(c).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("name="))
                .unwrap_or_else(|| panic!("{} has no name=", c.display()))
                .trim()
                .to_string()
        })
        .collect();
    start(name, port, worker, connectors, names)
}

fn start(
    name: &str,
    port: u16,
    worker: &Path,
    connectors: &[PathBuf],
    names: Vec<String>,
) -> Worker {
    let run_dir = Path::new(
        &std::env::var("ROWTIDE_DEV_RUN")
            .unwrap_or_else(|_| format!("{}/rowtide-dev", std::env::temp_dir().display())),
    )
    .join(format!("connect-{name}"));
    let mut w = Worker {
        name: name.to_string(),
        port,
        connectors: names,
        run_dir,
        stopped: false,
    };
    let out = Command::new(connect_script())
        .args(["start", &w.name])
        .arg(worker)
        .args(connectors)
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/connect start");
    if !out.status.success() {
        w.stopped = true; // the script stops what it started when it fails
        panic!(
            "{}\nlast lines of {}:\n{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            w.log().display(),
            tail(&w.log(), 30)
        );
    }
    w
}
