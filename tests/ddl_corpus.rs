//! The DDL corpus, with the server as the oracle: several hundred real DDL statements
//! (`tests/ddl_corpus/*.sql`, sources in `tests/ddl_corpus/SOURCES.md`) run one by one on a
//! private MariaDB logging `binlog_row_metadata=MINIMAL` — where rowtide knows a table only
//! from the DDL it reads. After each statement the harness writes one row into every table
//! the statement changed or names, and records the table's columns as the server has them at
//! that moment. Then `rowtide replay` reads the server's binlog, and every row it prints must
//! carry exactly those column names, in order.
//!
//! Each statement ends up followed, ignored harmlessly, failed or unchecked (see
//! `report`); any failure fails the test, naming the statement, its `file:line` and the
//! difference. A statement the server refuses fails the test too: the corpus must be valid.
//! `ROWTIDE_DDL_CORPUS_REPORT=<path>` writes the whole per-statement report;
//! `ROWTIDE_DDL_CORPUS_ONLY=<text>` runs only the files whose name contains it.
//!
//! Layout: `split` (statements of a file), `oracle` (what the server says a row holds, and
//! a row to write), `run` (running the corpus and recording), `verdict` (replaying and
//! comparing), `report`.

mod common;

#[path = "ddl_corpus/oracle.rs"]
mod oracle;
#[path = "ddl_corpus/report.rs"]
mod report;
#[path = "ddl_corpus/run.rs"]
mod run;
#[path = "ddl_corpus/split.rs"]
mod split;
#[path = "ddl_corpus/verdict.rs"]
mod verdict;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::mariadb::PrivateMariadb;
use mysql_async::prelude::Queryable;

/// The corpus files, in name order, with their statements.
fn corpus() -> Vec<(String, Vec<split::Stmt>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ddl_corpus");
    let only = std::env::var("ROWTIDE_DDL_CORPUS_ONLY").unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(&only))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no corpus files in {} match {only:?}",
        dir.display()
    );
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            let stmts = split::split(&name, &text);
            (name, stmts)
        })
        .collect()
}

fn mariadb_installed() -> bool {
    let found = Command::new("mariadb-install-db")
        .arg("--help")
        .output()
        .is_ok();
    if !found {
        let msg = "mariadb-install-db is not installed (scripts/env up installs it)";
        assert!(!common::in_ci(), "{msg}");
        eprintln!("SKIPPED: {msg}");
    }
    found
}

#[tokio::test]
async fn every_corpus_statement_is_followed_or_ignored_harmlessly() {
    if !mariadb_installed() {
        return;
    }
    let server = PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=MINIMAL",
        "--max-binlog-size=1073741824",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci",
        // Not strict: the harness's rows must survive the corpus's type changes (a
        // VARCHAR holding '418' altered to UUID), which strict mode refuses.
        "--sql-mode=NO_ENGINE_SUBSTITUTION",
        "--innodb-flush-log-at-trx-commit=0",
        "--sync-binlog=0",
    ]);
    let started = std::time::Instant::now();
    let mut conn = mysql_async::Conn::new(run::opts(&server.socket, None))
        .await
        .expect("connect to the private MariaDB");
    let (binlog, _) = run::binlog_pos(&mut conn).await;
    let mut records = Vec::new();
    let mut counter = 0;
    for (file, stmts) in corpus() {
        records.extend(run::run_file(&server.socket, &file, stmts, &binlog, &mut counter).await);
    }
    let logs: Vec<String> = conn
        .query_map("SHOW BINARY LOGS", |(name, _size): (String, u64)| name)
        .await
        .expect("SHOW BINARY LOGS");
    conn.disconnect().await.ok();
    assert!(
        logs == [binlog.as_str()],
        "the corpus must stay in one binlog file, the server wrote {logs:?}"
    );
    let ran = started.elapsed();
    let binlogs = [server.dir.path().join(&binlog)];
    let verdict = verdict::judge(&records, common::proc::binary(), &binlogs);
    let lines = report::lines(&records, &verdict);
    let totals = report::totals(&lines);
    eprintln!(
        "DDL corpus: {totals}; {} rows checked (corpus ran in {:.1}s, replays in {:.1}s)",
        verdict.checked,
        ran.as_secs_f64(),
        (started.elapsed() - ran).as_secs_f64()
    );
    if let Ok(path) = std::env::var("ROWTIDE_DDL_CORPUS_REPORT") {
        let header = format!(
            "rowtide DDL corpus report (MariaDB, binlog_row_metadata=MINIMAL); {} rows checked",
            verdict.checked
        );
        std::fs::write(&path, report::text(&lines, &header))
            .unwrap_or_else(|e| panic!("write the report to {path}: {e}"));
    }
    let failed = report::failures(&lines);
    assert!(
        failed.is_empty(),
        "{totals}. Failed statements:\n{failed}\n(ROWTIDE_DDL_CORPUS_REPORT=<path> writes the whole report)"
    );
    // Not vacuous: every harness row was found and compared.
    let written: usize = records.iter().map(|r| r.inserts.len()).sum();
    assert!(
        written > 0 && verdict.checked >= written,
        "the harness wrote {written} rows but only {} row events were compared",
        verdict.checked
    );
}
