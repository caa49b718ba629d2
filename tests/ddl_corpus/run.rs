//! Running the corpus on the server, statement by statement, and recording what the oracle
//! needs: where in the binlog each statement and each harness INSERT starts, the tables
//! after each statement (`information_schema`), and which tables it changed.
//!
//! After every statement, one row goes into each table whose structure the statement
//! changed (created, altered, renamed to) and into each existing table the statement names
//! (so a statement that should leave a table alone is checked too). Each file runs on a
//! fresh connection (its own `sql_mode` and session settings) in a fresh database named
//! after it; the statements may create and use other databases of their own.

use std::collections::BTreeSet;
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row};

use super::oracle::{self, Snapshot, TableKey};
use super::split::Stmt;

/// A harness INSERT: its table and binlog range `[start, end)`.
#[derive(Debug, Clone)]
pub struct Insert {
    pub table: TableKey,
    pub start: u64,
    pub end: u64,
}

/// One corpus statement and what happened around it.
#[derive(Debug)]
pub struct Record {
    pub stmt: Stmt,
    /// Binlog position before the statement ran.
    pub start: u64,
    /// The server's error, when it refused the statement.
    pub rejected: Option<String>,
    /// Tables whose structure the statement changed (including dropped ones).
    pub changed: Vec<TableKey>,
    /// The file's tables right after the statement.
    pub after: Arc<Snapshot>,
    pub inserts: Vec<Insert>,
    /// Tables that got no row, and why.
    pub skipped: Vec<(TableKey, String)>,
}

/// The server connection options (root over the socket), with `db` as default database.
pub fn opts(socket: &std::path::Path, db: Option<&str>) -> OptsBuilder {
    OptsBuilder::default()
        .socket(Some(socket.display().to_string()))
        .user(Some("root"))
        .db_name(db.map(String::from))
}

/// The binlog file and position the server is writing at.
pub async fn binlog_pos(conn: &mut Conn) -> (String, u64) {
    let row: Row = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .expect("SHOW MASTER STATUS")
        .expect("the server logs a binlog");
    let file: String = row.get(0).expect("File");
    let pos: u64 = row.get(1).expect("Position");
    (file, pos)
}

/// The corpus database for a file: `corpus_` and the file's stem.
pub fn database_for(file: &str) -> String {
    format!(
        "corpus_{}",
        file.trim_end_matches(".sql")
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

/// Runs one file's statements; returns a record per statement. `binlog` is the one binlog
/// file the whole run must stay in.
pub async fn run_file(
    socket: &std::path::Path,
    file: &str,
    stmts: Vec<Stmt>,
    binlog: &str,
    counter: &mut u64,
) -> Vec<Record> {
    let db = database_for(file);
    let mut admin = Conn::new(opts(socket, None)).await.expect("connect");
    let existing: Vec<String> = admin
        .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
        .await
        .expect("list databases");
    admin
        .query_drop(format!("CREATE DATABASE {}", oracle::quote(&db)))
        .await
        .expect("create the file's database");
    admin.disconnect().await.ok();
    // Other files' databases and the system schemas are not this file's business.
    let skip: Vec<String> = existing;
    let mut conn = Conn::new(opts(socket, Some(&db))).await.expect("connect");
    let mut before = Arc::new(Snapshot::new());
    let mut out = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        let (f, start) = binlog_pos(&mut conn).await;
        assert_eq!(
            f, binlog,
            "the server moved to a new binlog file ({f}) at {}; the oracle needs one file (no FLUSH LOGS in the corpus)",
            stmt.place()
        );
        let rejected = conn
            .query_drop(stmt.sql.as_str())
            .await
            .err()
            .map(|e| e.to_string());
        let after = Arc::new(
            oracle::snapshot(&mut conn, &skip)
                .await
                .unwrap_or_else(|e| panic!("after {}: {e}", stmt.place())),
        );
        let changed = changed_tables(&before, &after);
        let mut targets: BTreeSet<TableKey> = changed
            .iter()
            .filter(|k| after.contains_key(*k))
            .cloned()
            .collect();
        if rejected.is_none() {
            targets.extend(named_tables(&stmt, &after));
        }
        let mut rec = Record {
            stmt,
            start,
            rejected,
            changed,
            after: after.clone(),
            inserts: Vec::new(),
            skipped: Vec::new(),
        };
        for key in targets {
            write_row(&mut conn, &mut rec, key, counter).await;
        }
        before = after;
        out.push(rec);
    }
    conn.disconnect().await.ok();
    out
}

/// Writes one row into `key`, recording its binlog range, or why there is none.
async fn write_row(conn: &mut Conn, rec: &mut Record, key: TableKey, counter: &mut u64) {
    let shape = &rec.after[&key];
    if shape.table_type == "SEQUENCE" {
        rec.skipped.push((
            key,
            "a sequence: its rows come from NEXTVAL, not INSERT".into(),
        ));
        return;
    }
    if let Some(why) = oracle::uninsertable(&key) {
        rec.skipped.push((key, why.into()));
        return;
    }
    *counter += 1;
    let (_, start) = binlog_pos(conn).await;
    let mut last = String::new();
    for sql in oracle::insert_attempts(&key, shape, *counter) {
        match conn.query_drop(sql.as_str()).await {
            Ok(()) => {
                let (_, end) = binlog_pos(conn).await;
                if end == start {
                    rec.skipped.push((
                        key,
                        "a temporary table of the same name took the row (not logged)".into(),
                    ));
                    return;
                }
                rec.inserts.push(Insert {
                    table: key,
                    start,
                    end,
                });
                return;
            }
            Err(e) => last = format!("{sql}: {e}"),
        }
    }
    rec.skipped.push((
        key.clone(),
        format!(
            "HARNESS: the server refused every row the harness built for {}.{} (last: {last}); \
             teach oracle::value this column type or list the table in oracle::UNINSERTABLE with a reason",
            key.0, key.1
        ),
    ));
}

/// Tables created, dropped or changed between two snapshots.
fn changed_tables(before: &Snapshot, after: &Snapshot) -> Vec<TableKey> {
    let mut out: Vec<TableKey> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
    out
}

/// Existing tables whose name appears as a word of a statement that is not plain DML.
fn named_tables(stmt: &Stmt, after: &Snapshot) -> Vec<TableKey> {
    if matches!(
        stmt.verb().as_str(),
        "INSERT" | "REPLACE" | "UPDATE" | "DELETE" | "SELECT" | "SET" | "USE" | "DO" | "LOCK"
    ) {
        return Vec::new();
    }
    let words: BTreeSet<String> = stmt
        .sql
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$' || c == ' '))
        .flat_map(|w| {
            // A quoted name may hold spaces: keep it whole and also split into words.
            std::iter::once(w.to_lowercase()).chain(w.split(' ').map(str::to_lowercase))
        })
        .filter(|w| !w.is_empty())
        .collect();
    after
        .keys()
        .filter(|(_, t)| words.contains(&t.to_lowercase()))
        .cloned()
        .collect()
}
