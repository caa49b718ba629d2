//! The retry policy seen from outside: with `source.max_reconnect_attempts` set, a source
//! that stays unreachable stops `rowtide run` with exit code 1 and a message naming the
//! attempts and the last error; with the default (0) it keeps retrying until it is told to
//! stop, and then exits 0. Needs no server: the source is a closed local port.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A local port with nothing listening on it.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn config(dir: &std::path::Path, port: u16, attempts: u32) -> std::path::PathBuf {
    let path = dir.join("rowtide.toml");
    std::fs::write(
        &path,
        format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"cdc\"\npassword = \"pw\"\n\
             server_id = 4711\nconnect_timeout_ms = 2000\nreconnect_backoff_ms = 20\n\
             reconnect_backoff_max_ms = 40\nmax_reconnect_attempts = {attempts}\n\
             [sink]\nkind = \"stdout\"\n[checkpoint]\npath = \"{}\"\n[metrics]\nlisten = \"\"\n",
            dir.join("state").display()
        ),
    )
    .unwrap();
    path
}

fn start(cfg: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rowtide"))
        .args(["run", "-c"])
        .arg(cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rowtide")
}

fn wait(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn stderr_of(child: &mut std::process::Child) -> String {
    let mut s = String::new();
    child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn an_unreachable_source_stops_run_after_max_reconnect_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let mut child = start(&config(dir.path(), port, 3));
    let status = wait(&mut child, Duration::from_secs(60));
    let Some(status) = status else {
        let _ = child.kill();
        panic!("rowtide did not give up within 60 s");
    };
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "exit code; stderr:\n{err}");
    assert!(
        err.contains("gave up after 3 reconnect attempts"),
        "stderr names the attempts:\n{err}"
    );
    assert!(
        err.contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "stderr names the last error:\n{err}"
    );
}

#[test]
fn an_unreachable_source_is_retried_until_shutdown_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = start(&config(dir.path(), closed_port(), 0));
    // Many backoff steps (20–40 ms each) fit in this: a limit would have been hit.
    assert!(
        wait(&mut child, Duration::from_secs(3)).is_none(),
        "rowtide stopped by itself while retrying forever:\n{}",
        stderr_of(&mut child)
    );
    let pid = child.id().to_string();
    let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(ok.success());
    let status = wait(&mut child, Duration::from_secs(20)).expect("stops after SIGTERM");
    assert_eq!(
        status.code(),
        Some(0),
        "graceful stop:\n{}",
        stderr_of(&mut child)
    );
}
