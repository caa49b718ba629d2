//! When rowtide cannot follow a DDL statement (docs/operations.md, "When rowtide cannot
//! follow a DDL"), on private MariaDB servers:
//!
//! - MINIMAL row metadata: `run` stops with exit code 1 and a message naming the binlog
//!   position, the table, the statement and the ways out; with `source.ddl_skip` set to that
//!   position it goes on, and the table's rows that no longer fit the kept structure are
//!   refused (naming the skip);
//! - MINIMAL with `source.ddl_reread`: the structure is read from the server and the rows
//!   decode with their real names — unless a later statement changed the table, then the
//!   re-read is refused and `run` stops;
//! - FULL metadata: the same statement is a warning and the rows are right.
//!
//! The statement is `CREATE OR REPLACE TABLE cap.t4 LIKE other.src` where `other` is not
//! captured: its structure comes from a table rowtide never saw, so no parser can follow it
//! from the text. (`CREATE TABLE … SELECT` would not do: in ROW format the server logs it as
//! a plain CREATE TABLE with every column spelled out.)

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::kafka::{self, Record};
use common::mariadb::PrivateMariadb;
use common::proc::Rowtide;
use serde_json::json;

/// A private server with the captured `cap` database and the uncaptured `other.src`.
fn server(metadata: &str) -> PrivateMariadb {
    let m = PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        &format!("--binlog-row-metadata={metadata}"),
    ]);
    m.sql(
        "CREATE DATABASE cap; CREATE DATABASE other; \
         CREATE TABLE cap.t1 (id INT PRIMARY KEY, a VARCHAR(10)); \
         CREATE TABLE cap.t4 (id INT PRIMARY KEY, a VARCHAR(10)); \
         CREATE TABLE other.src (id INT PRIMARY KEY, x INT, y VARCHAR(5)); \
         INSERT INTO cap.t1 VALUES (1, 'before')",
    )
    .unwrap();
    m
}

/// What a test runs against: the server, its config and Kafka topics.
struct Case {
    m: PrivateMariadb,
    dir: tempfile::TempDir,
    brokers: String,
    prefix: String,
    config: PathBuf,
}

impl Case {
    fn new(metadata: &str, name: &str) -> Option<Self> {
        let env = common::servers()?;
        let m = server(metadata);
        let dir = tempfile::tempdir().unwrap();
        let prefix = common::unique(name).replace('_', "");
        let config = dir.path().join("rowtide.toml");
        let case = Case {
            m,
            dir,
            brokers: env.kafka_brokers,
            prefix,
            config,
        };
        case.configure("");
        Some(case)
    }

    /// Writes the config, with `source_extra` lines in `[source]`.
    fn configure(&self, source_extra: &str) {
        let body = format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"cdc\"\npassword = \"pw\"\n\
             server_id = {}\ninclude = [\"cap\\\\..*\"]\nheartbeat_interval_ms = 500\n\
             read_timeout_ms = 2000\n{source_extra}\n\
             [sink]\nbrokers = \"{}\"\ntopic_prefix = \"{}\"\n\
             [checkpoint]\npath = \"{}\"\nflush_interval_ms = 100\n[metrics]\nlisten = \"\"\n",
            self.m.port,
            common::server_id(),
            self.brokers,
            self.prefix,
            self.dir.path().join("state").display()
        );
        std::fs::write(&self.config, body).unwrap();
    }

    fn start(&self) -> Rowtide {
        Rowtide::with_config(&self.config, self.dir.path())
    }

    fn topic(&self, table: &str) -> String {
        format!("{}.cap.{table}", self.prefix)
    }

    /// Reads `cap.<table>` until `done` holds; on a timeout the panic shows what was read
    /// and the end of rowtide's log.
    fn wait_records(
        &self,
        rt: &Rowtide,
        table: &str,
        what: &str,
        done: impl Fn(&[Record]) -> bool,
    ) -> Vec<Record> {
        let topics = [self.topic(table)];
        common::poll::poll_until(
            what,
            Duration::from_secs(60),
            Duration::from_millis(300),
            || {
                let recs = kafka::read_all(&self.brokers, &topics);
                if done(&recs) {
                    Ok(recs)
                } else {
                    Err(format!(
                        "{} records; rowtide log:\n{}",
                        recs.len(),
                        rt.log_tail(15)
                    ))
                }
            },
        )
    }

    /// Waits until the row with key `id` of `table` is in Kafka; returns its `after`.
    fn wait_row(&self, rt: &Rowtide, table: &str, id: i64) -> serde_json::Value {
        let what = format!("cap.{table} id {id} in Kafka");
        let recs = self.wait_records(rt, table, &what, |r| r.iter().any(|r| is_row(r, id)));
        recs.iter()
            .rev()
            .find(|r| is_row(r, id))
            .map(|r| r.value_json()["after"].clone())
            .unwrap()
    }

    /// The position (`file:pos`) of the first statement containing `needle`.
    fn position_of(&self, needle: &str) -> String {
        let files = self.m.sql("SHOW BINARY LOGS").unwrap();
        for line in files.lines() {
            let file = line.split('\t').next().unwrap();
            let events = self
                .m
                .sql(&format!("SHOW BINLOG EVENTS IN '{file}'"))
                .unwrap();
            for ev in events.lines() {
                let cols: Vec<&str> = ev.split('\t').collect();
                if cols.len() >= 6 && cols[2] == "Query" && cols[5].contains(needle) {
                    return format!("{file}:{}", cols[1]);
                }
            }
        }
        panic!("no statement with `{needle}` in the binlog");
    }
}

fn is_row(r: &Record, id: i64) -> bool {
    r.value.is_some() && r.key_json()["id"] == id
}

/// Waits for `rt` to stop on its own and returns its exit code and log.
fn stops(rt: &mut Rowtide) -> (i32, String) {
    let status = rt.wait_exit(Duration::from_secs(60));
    (status.code().unwrap_or(-1), rt.log_text())
}

fn last_line(log: &str) -> &str {
    log.lines()
        .rev()
        .find(|l| l.contains("cannot") || l.contains("rowtide:"))
        .unwrap_or("")
}

#[test]
fn minimal_metadata_stops_at_the_ddl_and_ddl_skip_goes_past_it() {
    let Some(case) = Case::new("MINIMAL", "ddlskip") else {
        return;
    };
    let mut rt = case.start();
    assert_eq!(case.wait_row(&rt, "t1", 1), json!({"id": 1, "a": "before"}));
    case.m
        .sql(
            "CREATE OR REPLACE TABLE cap.t4 LIKE other.src; \
             INSERT INTO cap.t1 VALUES (2, 'after')",
        )
        .unwrap();
    let at = case.position_of("LIKE other.src");

    // (a) No way out configured: a definite error naming position, table, statement, reason
    // and the ways out with the exact lines to write.
    let (code, log) = stops(&mut rt);
    assert_eq!(code, 1, "exit code; log:\n{log}");
    let msg = last_line(&log);
    for needle in [
        format!("cannot follow the DDL at {at}"),
        "on cap.t4".to_string(),
        "CREATE OR REPLACE TABLE cap.t4 LIKE other.src".to_string(),
        "MINIMAL row metadata".to_string(),
        "other.src".to_string(),
        "[source] ddl_reread = true".to_string(),
        format!("[source] ddl_skip = [\"{at}\"]"),
        "binlog_row_metadata=FULL".to_string(),
    ] {
        assert!(msg.contains(&needle), "`{needle}` in the error:\n{msg}");
    }
    // Nothing after the statement went out: the checkpoint stays before it.
    let t1 = kafka::read_all(&case.brokers, &[case.topic("t1")]);
    assert!(!t1.iter().any(|r| is_row(r, 2)), "no row after the DDL");

    // (b) Skipping that very statement: the stream goes on past it (cap.t1's row after it
    // arrives); cap.t4 keeps its old two columns, so its three-column row is refused by the
    // structure check, naming the skip — never decoded under wrong names.
    case.configure(&format!("ddl_skip = [\"{at}\"]"));
    rt.spawn();
    assert_eq!(case.wait_row(&rt, "t1", 2), json!({"id": 2, "a": "after"}));
    case.m.sql("INSERT INTO cap.t4 VALUES (5, 6, 'z')").unwrap();
    let (code, log) = stops(&mut rt);
    assert_eq!(code, 1, "exit code; log:\n{log}");
    assert!(
        log.contains("DDL skipped as source.ddl_skip lists it"),
        "the skip is logged:\n{log}"
    );
    let msg = last_line(&log);
    assert!(
        msg.contains("3 columns but the known schema of cap.t4 has 2 (id, a)")
            && msg.contains(&format!("at {at}"))
            && msg.contains("source.ddl_skip"),
        "the refusal names the skip:\n{msg}"
    );
    let t4 = kafka::read_all(&case.brokers, &[case.topic("t4")]);
    assert!(
        !t4.iter().any(|r| is_row(r, 5)),
        "the misfit row is not sent"
    );
}

#[test]
fn ddl_reread_follows_the_table_unless_a_later_statement_changed_it() {
    let Some(case) = Case::new("MINIMAL", "ddlreread") else {
        return;
    };
    case.configure("ddl_reread = true");
    let mut rt = case.start();
    assert_eq!(case.wait_row(&rt, "t1", 1), json!({"id": 1, "a": "before"}));
    // (c) Live: re-read from the server, then the rows decode with their real names.
    case.m
        .sql(
            "CREATE OR REPLACE TABLE cap.t4 LIKE other.src; \
             INSERT INTO cap.t4 VALUES (5, 6, 'z'); UPDATE cap.t4 SET y = 'zz' WHERE id = 5",
        )
        .unwrap();
    let recs = case.wait_records(&rt, "t4", "the update of cap.t4 id 5", |r| {
        r.iter()
            .any(|r| is_row(r, 5) && r.value_json()["op"] == "u")
    });
    let values: Vec<_> = recs
        .iter()
        .filter(|r| is_row(r, 5))
        .map(|r| {
            let v = r.value_json();
            (v["op"].clone(), v["after"].clone())
        })
        .collect();
    assert_eq!(
        values,
        vec![
            (json!("c"), json!({"id": 5, "x": 6, "y": "z"})),
            (json!("u"), json!({"id": 5, "x": 6, "y": "zz"}))
        ]
    );
    assert!(
        rt.log_text().contains("re-read from the server"),
        "{}",
        rt.log_tail(20)
    );
    let st = rt.stop();
    assert!(st.success(), "graceful stop: {st:?}\n{}", rt.log_tail(20));

    // Not provably safe: a later ALTER changed the table before the stream got to the
    // statement, so the server's structure is not the one right after it.
    case.m
        .sql(
            "CREATE TABLE cap.t5 LIKE other.src; ALTER TABLE cap.t5 ADD COLUMN w INT; \
             INSERT INTO cap.t5 VALUES (1, 2, 'q', 3)",
        )
        .unwrap();
    let at = case.position_of("cap.t5 LIKE other.src");
    let alter = case.position_of("ADD COLUMN w");
    rt.spawn();
    let (code, log) = stops(&mut rt);
    assert_eq!(code, 1, "exit code; log:\n{log}");
    let msg = last_line(&log);
    assert!(
        msg.contains(&format!("cannot follow the DDL at {at}"))
            && msg.contains("not safe")
            && msg.contains(&format!("a later statement at {alter}"))
            && msg.contains("ADD COLUMN w")
            && msg.contains(&format!("[source] ddl_skip = [\"{at}\"]"))
            && !msg.contains("ddl_reread = true"),
        "the refusal names the later statement and what is left to do:\n{msg}"
    );
    let t5 = kafka::read_all(&case.brokers, &[case.topic("t5")]);
    assert!(
        t5.iter().all(|r| r.value.is_none()),
        "no row of cap.t5 was sent"
    );
}

#[test]
fn full_metadata_warns_and_decodes_from_the_table_map() {
    let Some(case) = Case::new("FULL", "ddlfull") else {
        return;
    };
    let mut rt = case.start();
    assert_eq!(case.wait_row(&rt, "t1", 1), json!({"id": 1, "a": "before"}));
    // A streamed row: its table map shows the stream that the log names columns.
    case.m.sql("INSERT INTO cap.t1 VALUES (3, 'full')").unwrap();
    assert_eq!(case.wait_row(&rt, "t1", 3), json!({"id": 3, "a": "full"}));
    case.m
        .sql(
            "CREATE OR REPLACE TABLE cap.t4 LIKE other.src; \
             INSERT INTO cap.t4 VALUES (5, 6, 'z'); INSERT INTO cap.t1 VALUES (2, 'after')",
        )
        .unwrap();
    // (d) The rows are right: their table map names every column.
    assert_eq!(
        case.wait_row(&rt, "t4", 5),
        json!({"id": 5, "x": 6, "y": "z"})
    );
    assert_eq!(case.wait_row(&rt, "t1", 2), json!({"id": 2, "a": "after"}));
    rt.assert_alive("after the DDL it could not parse");
    assert!(
        rt.log_text().contains("the server logs FULL row metadata"),
        "the warning:\n{}",
        rt.log_tail(20)
    );
    let st = rt.stop();
    assert!(st.success(), "graceful stop: {st:?}");

    // After a restart no table map has been seen yet, and the server's FULL setting alone
    // is no evidence about the log: the table's structure is forgotten, and its next rows
    // are described by their (FULL) table maps — right again.
    rt.spawn();
    common::poll::poll_until(
        "rowtide streaming again",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || match rt
            .log_text()
            .matches("Connected to the binlog stream")
            .count()
        {
            2.. => Ok(()),
            _ => Err(rt.log_tail(10)),
        },
    );
    case.m
        .sql(
            "CREATE OR REPLACE TABLE cap.t4 LIKE other.src; ALTER TABLE other.src ADD COLUMN q INT; \
             CREATE OR REPLACE TABLE cap.t4 LIKE other.src; INSERT INTO cap.t4 VALUES (7, 8, 'w', 9)",
        )
        .unwrap();
    assert_eq!(
        case.wait_row(&rt, "t4", 7),
        json!({"id": 7, "x": 8, "y": "w", "q": 9})
    );
    assert!(
        rt.log_text()
            .contains("no table map in this stream has shown yet"),
        "the warning:\n{}",
        rt.log_tail(20)
    );
    let st = rt.stop();
    assert!(st.success(), "graceful stop: {st:?}");
}

/// Runs `rowtide replay` with `args`; returns the exit code, stdout and stderr.
fn replay(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(common::proc::binary())
        .arg("replay")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The `after` of the replayed change events of `cap.<table>` with key `id`.
fn replayed(stdout: &str, table: &str, id: i64) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["topic"] == format!("replay.cap.{table}")
                && v["key"]["id"] == id
                && v["value"].is_object()
        })
        .map(|v| v["value"]["after"].clone())
        .collect()
}

#[test]
fn replay_names_its_own_ways_out_and_follows_ddl_skip() {
    // No Kafka needed, but the private server is a test server like the others.
    if common::servers().is_none() {
        return;
    }
    let m = server("MINIMAL");
    m.sql(
        "INSERT INTO cap.t1 VALUES (2, 'x'); CREATE OR REPLACE TABLE cap.t4 LIKE other.src; \
         INSERT INTO cap.t1 VALUES (3, 'after'); INSERT INTO cap.t4 VALUES (5, 6, 'z'); \
         FLUSH BINARY LOGS",
    )
    .unwrap();
    let file = m.dir.path().join("bin.000001");
    let file = file.to_str().unwrap();
    let at = {
        let events = m.sql("SHOW BINLOG EVENTS IN 'bin.000001'").unwrap();
        let line = events
            .lines()
            .find(|l| l.contains("LIKE other.src"))
            .expect("the statement in the binlog");
        format!("bin.000001:{}", line.split('\t').nth(1).unwrap())
    };

    // A MINIMAL row of cap.t1 came before the statement: the file logs MINIMAL metadata and
    // the replay stops at the statement, with the ways out a file has.
    let (code, out, err) = replay(&["--include", "cap\\..*", file]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("cannot follow the DDL at {at}"))
            && err.contains(&format!("rowtide replay --ddl-skip {at}"))
            && !err.contains("ddl_reread = true"),
        "{err}"
    );
    assert_eq!(replayed(&out, "t1", 2), vec![json!({"id": 2, "a": "x"})]);
    assert!(
        replayed(&out, "t1", 3).is_empty(),
        "stopped at the statement"
    );

    // With --ddl-skip it goes past the statement; the 3-column row of cap.t4 is refused.
    let (code, out, err) = replay(&["--include", "cap\\..*", "--ddl-skip", &at, file]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        replayed(&out, "t1", 3),
        vec![json!({"id": 3, "a": "after"})]
    );
    assert!(
        err.contains("3 columns but the known schema of cap.t4 has 2") && err.contains(&at),
        "{err}"
    );

    // Only cap.t4 captured: no table map showed the metadata before the statement, so the
    // replay goes on without the table's structure, and stops at its first row — which
    // carries no column names — naming the statement.
    let (code, _, err) = replay(&["--include", "cap\\.t4", file]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("cannot follow the DDL at {at}"))
            && err.contains("carry MINIMAL row metadata"),
        "{err}"
    );

    // --positional-names: the table's structure is forgotten, its rows decode as @1, @2, …
    // (never under the old names), and the replay completes.
    let (code, out, err) = replay(&["--include", "cap\\..*", "--positional-names", file]);
    assert_eq!(code, 0, "{err}");
    let t4: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["topic"] == "replay.cap.t4" && v["value"].is_object())
        .map(|v| v["value"]["after"].clone())
        .collect();
    assert_eq!(t4, vec![json!({"@1": 5, "@2": 6, "@3": "z"})], "{err}");
    assert_eq!(
        replayed(&out, "t1", 3),
        vec![json!({"id": 3, "a": "after"})]
    );

    // A bad entry is a usage error.
    let (code, _, err) = replay(&["--ddl-skip", "regex:(", file]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--ddl-skip") && err.contains("not a valid regex"),
        "{err}"
    );
}
