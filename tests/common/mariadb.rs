//! A throwaway MariaDB with its own settings (a private datadir on a free port, its own
//! binlog), for tests that need server options the shared test server does not have
//! (`binlog_row_metadata=MINIMAL`, `log_bin_compress=ON`, a failing configuration …).
//! The server is killed and its directory removed on drop. Users `cdc` (replication
//! grants) and `noslave` (SELECT only) exist, both with password `pw`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::free_port;
use super::poll::poll_until;
use super::proc::Process;

/// A throwaway MariaDB with its own settings, stopped on drop.
pub struct PrivateMariadb {
    pub server: Process,
    pub port: u16,
    pub socket: PathBuf,
    pub dir: tempfile::TempDir,
}

impl PrivateMariadb {
    pub fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // Several tests install their own instance at once; an install that fails (seen
        // once in CI, without a message) is retried on a clean directory.
        let mut last = String::new();
        let mut installed = false;
        for attempt in 0..3 {
            if attempt > 0 {
                let _ = std::fs::remove_dir_all(&data);
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            // Its own TMPDIR: a server starting on /tmp (the bootstrap one too) removes the
            // `#sql…` files there, among them the shared server's temporary tables, whose
            // queries then fail ("Error on delete of '/tmp/#sql-temptable-…'").
            let out = Command::new("mariadb-install-db")
                .env("TMPDIR", dir.path())
                .args([
                    "--no-defaults",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ])
                .arg(format!("--datadir={}", data.display()))
                .output()
                .expect("mariadb-install-db");
            if out.status.success() {
                installed = true;
                break;
            }
            last = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            installed,
            "mariadb-install-db failed 3 times; last output:\n{last}"
        );
        let port = free_port();
        let socket = dir.path().join("s.sock");
        let mut args = vec![
            "--no-defaults".to_string(),
            "--user=root".into(),
            "--bind-address=127.0.0.1".into(),
            "--skip-name-resolve".into(),
            "--server-id=9".into(),
            format!("--datadir={}", data.display()),
            format!("--port={port}"),
            format!("--socket={}", socket.display()),
            format!("--log-error={}", dir.path().join("error.log").display()),
            format!("--log-bin={}", dir.path().join("bin").display()),
            format!("--tmpdir={}", dir.path().display()),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut server = Process::new("mariadbd", "mariadbd", args, dir.path());
        server.spawn();
        let m = PrivateMariadb {
            server,
            port,
            socket,
            dir,
        };
        poll_until(
            "the private MariaDB to accept connections",
            Duration::from_secs(30),
            Duration::from_millis(100),
            || m.sql("SELECT 1"),
        );
        m.sql(
            "CREATE USER cdc@'127.0.0.1' IDENTIFIED BY 'pw'; \
             GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO cdc@'127.0.0.1'; \
             CREATE USER noslave@'127.0.0.1' IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO noslave@'127.0.0.1'",
        )
        .unwrap();
        m
    }

    pub fn sql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-N", "-B"])
            .arg(format!("--socket={}", self.socket.display()))
            .arg("-e")
            .arg(sql)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).to_string())
        }
    }

    pub fn kill(&mut self) {
        self.server.kill9();
    }
}

impl PrivateMariadb {
    /// The rows of a query as tab-separated fields (`-N -B` output; values that the client
    /// would escape — tabs, newlines, binary — are best selected as `HEX(…)`).
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.sql(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }

    /// The row changes of tables matching `include` (a table-filter regex) in this server's
    /// first binlog file, decoded by `replay` (the caller flushes the logs first).
    pub fn replay_changes(&self, include: &str) -> Vec<rowtide::model::Change> {
        let file = self.dir.path().join("bin.000001");
        let mut changes = Vec::new();
        rowtide::source::file::replay_file(
            &file,
            rowtide::model::Filter::new(&[include.to_string()], &[]).unwrap(),
            &mut |ev| {
                if let rowtide::model::SourceEvent::Change(c) = ev {
                    changes.push(*c);
                }
                Ok(())
            },
        )
        .expect("replay of the private server's binlog");
        changes
    }
}
