//! `source.ddl_reread`: when the live stream meets a DDL statement on a captured table that
//! rowtide cannot follow, read the table's structure from the server instead — the same
//! reading the snapshot does (`information_schema`, completed by `SHOW CREATE TABLE`).
//!
//! The server's *current* structure is the structure right after the statement only if no
//! later statement changed the table. The rule used, and why it is sound:
//!
//! 1. read the structures of the touched tables;
//! 2. then ask where the server's binlog ends now (`SHOW MASTER STATUS`);
//! 3. list every event from the end of the statement up to that point
//!    (`SHOW BINLOG EVENTS`, page by page, across files) and refuse if any statement among
//!    them names one of the tables (a DDL on it, a DROP/RENAME involving it, a DROP or CREATE
//!    of its database — or merely mentions the name: false alarms only cost a stop).
//!
//! A DDL statement is written to the binlog before it releases the table's metadata lock,
//! and reading a table's structure takes a shared lock on it; so any change the read in (1)
//! saw is already in the binlog when (2) runs, and (3) finds it. Changes after (2) do not
//! matter: the read happened before them. MySQL and MariaDB both log DDL this way (atomic
//! DDL in MySQL 8; MariaDB writes the statement at its end, under its locks).
//!
//! When the rule cannot be checked (the statement's file is gone, more than
//! [`MAX_SCANNED_EVENTS`] events to look through, the table no longer exists) the re-read is
//! refused and the handler stops with the error, as without `ddl_reread`. Recorded files
//! have no server: `replay` never re-reads.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::binlog::events::Event;

use crate::catalog::{ddl, ddl_parse};
use crate::config::SourceConfig;
use crate::error::{classify_mysql, Result};
use crate::model::{BinlogPosition, Catalog, Filter, SourceEvent, TableDesc};
use crate::mysql;
use crate::source::events::{EventHandler, PendingReread};

/// At most this many events between the statement and the server's binlog end are looked
/// through; a stream further behind cannot use the re-read.
pub const MAX_SCANNED_EVENTS: u64 = 1_000_000;

/// Events per `SHOW BINLOG EVENTS` page.
const PAGE: u64 = 5_000;

/// Does the re-read `handler` asked for after `event`, if any, and lets it complete the
/// statement. Connection failures are transient: the stream then reconnects and handles
/// the statement again.
pub(crate) async fn serve(
    cfg: &SourceConfig,
    handler: &mut EventHandler,
    event: &Event,
    out: &mut Vec<SourceEvent>,
) -> Result<()> {
    let Some(pending) = handler.take_reread() else {
        return Ok(());
    };
    let mut conn = mysql::connect(cfg).await?;
    let read = read_if_safe(&mut conn, cfg, &pending).await;
    let _ = conn.disconnect().await;
    handler.finish_reread(event, pending, read?, out)
}

/// The tables' structures now, or why they cannot be taken for the structures right after
/// the statement.
async fn read_if_safe(
    conn: &mut Conn,
    cfg: &SourceConfig,
    pending: &PendingReread,
) -> Result<std::result::Result<Vec<TableDesc>, String>> {
    let info = mysql::server_info(conn, cfg.flavor).await?;
    let tables = match read_tables(conn, &pending.tables).await? {
        Ok(t) => t,
        Err(why) => return Ok(Err(why)),
    };
    let (end, _) = mysql::current_position(conn, &info).await?;
    Ok(
        match later_statement(conn, &pending.after, &end, &pending.tables).await? {
            Some(why) => Err(why),
            None => Ok(tables),
        },
    )
}

/// Reads each table as the snapshot does: `information_schema`, completed by its
/// `SHOW CREATE TABLE` (declared types, charsets, comments).
async fn read_tables(
    conn: &mut Conn,
    wanted: &[(String, String)],
) -> Result<std::result::Result<Vec<TableDesc>, String>> {
    let mut out = Vec::with_capacity(wanted.len());
    for (db, table) in wanted {
        let only = format!("{}\\.{}", regex::escape(db), regex::escape(table));
        let filter = Filter::new(&[only], &[])?;
        let mut found = mysql::schema::load_tables(conn, &filter).await?;
        let Some(mut desc) = found.pop() else {
            return Ok(Err(format!(
                "{db}.{table} does not exist on the server any more (a later statement dropped \
                 or renamed it)"
            )));
        };
        let ddl_text = mysql::schema::snapshot_ddl(conn, std::slice::from_ref(&desc), true).await?;
        let mut scratch = Catalog::default();
        if !ddl_text.server_charset.is_empty() {
            scratch.set_charset("", &ddl_text.server_charset);
        }
        for d in &ddl_text.databases {
            if !d.charset.is_empty() {
                scratch.set_charset(&d.name, &d.charset);
            }
            for (_, text) in &d.tables {
                match ddl_parse::apply_statement(&mut scratch, text, &d.name) {
                    Ok(parsed) => {
                        if let Some(p) = parsed.first() {
                            ddl::carry_ddl(&mut desc, p);
                        }
                    }
                    Err(reason) => {
                        tracing::warn!(table = %format!("{db}.{table}"), %reason, "SHOW CREATE TABLE not understood; the re-read structure comes from information_schema alone.")
                    }
                }
            }
        }
        out.push(desc);
    }
    Ok(Ok(out))
}

/// One row of `SHOW BINLOG EVENTS`: start, type, end, info.
type BinlogEventRow = (u64, String, u64, String);

/// The first statement from `from` up to `to` that may have changed one of `tables`,
/// described; `None` when there is none. Also a description when the range cannot be read.
async fn later_statement(
    conn: &mut Conn,
    from: &BinlogPosition,
    to: &BinlogPosition,
    tables: &[(String, String)],
) -> Result<Option<String>> {
    let logs = mysql::binary_logs(conn).await?;
    let Some(first) = logs.iter().position(|(f, _)| *f == from.file) else {
        return Ok(Some(format!(
            "the binlog file {} is no longer on the server, so what happened after the \
             statement cannot be checked",
            from.file
        )));
    };
    let mut scanned = 0u64;
    for (file, _) in &logs[first..] {
        let mut pos = if *file == from.file { from.pos } else { 4 };
        loop {
            if *file == to.file && pos >= to.pos {
                return Ok(None);
            }
            let page: Vec<(String, u64, String, u32, u64, String)> = conn
                .query(format!(
                    "SHOW BINLOG EVENTS IN '{}' FROM {pos} LIMIT {PAGE}",
                    file.replace('\'', "''")
                ))
                .await
                .map_err(|e| classify_mysql(e, ""))?;
            if page.is_empty() {
                break;
            }
            for (_, start, ty, _, end, text) in page {
                let row: BinlogEventRow = (start, ty, end, text);
                if *file == to.file && row.0 >= to.pos {
                    return Ok(None);
                }
                scanned += 1;
                if scanned > MAX_SCANNED_EVENTS {
                    return Ok(Some(format!(
                        "the stream is more than {MAX_SCANNED_EVENTS} events behind the \
                         server's binlog end, too many to check that no later statement \
                         changed the table"
                    )));
                }
                if let Some(t) = touched(&row, tables) {
                    return Ok(Some(format!(
                        "a later statement at {file}:{} may have changed {t} (`{}`), so the \
                         server's structure is not the one right after this statement",
                        row.0,
                        crate::source::events::shorten(&row.3)
                    )));
                }
                pos = row.2.max(pos + 1);
            }
        }
        if *file == to.file {
            break;
        }
    }
    Ok(None)
}

/// The table (`db.t`) a `SHOW BINLOG EVENTS` row may have changed, if it is a statement
/// (not a transaction boundary) that names one of `tables` or drops/creates its database.
fn touched(row: &BinlogEventRow, tables: &[(String, String)]) -> Option<String> {
    let (_, ty, _, info) = row;
    if !ty.starts_with("Query") {
        // Row events, table maps, GTIDs, annotations (the text of row changes): none of
        // them changes a structure.
        return None;
    }
    let (_, stmt) = split_use(info);
    let word = stmt
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_ascii_uppercase();
    if ["BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION"].contains(&word.as_str())
        || word.starts_with("XA ")
    {
        return None;
    }
    // By name rather than by classifying the statement: every statement that changes a
    // table names it (quoted or not, qualified or with `use`), so this finds at least
    // what a classifier would, and errs only on the side of refusing.
    let drops_or_creates_db = creates_or_drops_database(stmt);
    for (db, t) in tables {
        let names_it = mentions(stmt, t) || mentions(stmt, &t.replace('`', "``"));
        if names_it || (drops_or_creates_db && mentions(stmt, db)) {
            return Some(format!("{db}.{t}"));
        }
    }
    None
}

/// Whether `stmt` is `CREATE [OR REPLACE] | DROP` `DATABASE | SCHEMA` (also inside an
/// executable comment `/*!40000 … */`).
fn creates_or_drops_database(stmt: &str) -> bool {
    let upper = stmt.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .skip_while(|w| w.bytes().all(|b| b.is_ascii_digit()))
        .take(4)
        .collect();
    let object = match words.as_slice() {
        ["CREATE", "OR", "REPLACE", o, ..] => *o,
        ["CREATE" | "DROP", o, ..] => *o,
        _ => return false,
    };
    object == "DATABASE" || object == "SCHEMA"
}

/// Splits `use `db`; statement` (how the server lists a statement run with a default
/// database) into the database and the statement.
fn split_use(info: &str) -> (String, &str) {
    let Some(rest) = info.strip_prefix("use `") else {
        return (String::new(), info);
    };
    let mut db = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        if ch == '`' {
            if matches!(chars.peek(), Some((_, '`'))) {
                db.push('`');
                chars.next();
                continue;
            }
            let after = &rest[i + 1..];
            let stmt = after.trim_start().strip_prefix(';').unwrap_or(after);
            return (db, stmt.trim_start());
        }
        db.push(ch);
    }
    (String::new(), info)
}

/// Whether `sql` names `table` as a whole word (case-insensitive), quoted or not.
fn mentions(sql: &str, table: &str) -> bool {
    if table.is_empty() {
        return false;
    }
    let hay = sql.to_lowercase();
    let needle = table.to_lowercase();
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    let mut from = 0;
    while let Some(i) = hay[from..].find(&needle) {
        let at = from + i;
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        if !is_word(before) && !is_word(after) {
            return true;
        }
        from = at + needle.len().max(1);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ty: &str, info: &str) -> BinlogEventRow {
        (100, ty.to_string(), 200, info.to_string())
    }

    fn t(d: &str, n: &str) -> (String, String) {
        (d.into(), n.into())
    }

    #[test]
    fn later_statements_that_may_change_the_table_are_found() {
        let tables = [t("shop", "t4")];
        let hit = |ty: &str, info: &str| touched(&row(ty, info), &tables);
        assert_eq!(
            hit("Query", "use `shop`; ALTER TABLE t4 ADD z INT").as_deref(),
            Some("shop.t4")
        );
        assert!(hit("Query", "ALTER TABLE shop.`t4` ADD z INT").is_some());
        assert!(hit("Query", "use `other`; RENAME TABLE shop.x TO shop.t4").is_some());
        assert!(hit("Query", "use `shop`; DROP TABLE IF EXISTS a, T4").is_some());
        assert!(hit("Query", "DROP DATABASE shop").is_some());
        assert!(hit("Query", "/*!40000 DROP SCHEMA IF EXISTS `shop` */").is_some());
        assert!(hit("Query", "CREATE OR REPLACE DATABASE shop").is_some());
        assert!(hit("Query", "DROP DATABASE shopping").is_none());
        assert!(hit("Query", "use `shop`; CREATE TABLE x (schema_name INT)").is_none());
        assert!(hit("Query", "use `shop`; ALTER DATABASE CHARACTER SET utf8mb4").is_none());
        assert!(touched(
            &row("Query", "ALTER TABLE `a``b` ADD z INT"),
            &[t("d", "a`b")]
        )
        .is_some());
        assert!(hit("Query_compressed", "use `shop`; alter table t4 engine=aria").is_some());
        // Conservative: a statement rowtide does not classify but that names the table.
        assert!(hit("Query", "use `shop`; OPTIMIZE TABLE t4").is_some());
        // Not: transaction boundaries, row events, annotations, other tables, longer names.
        assert!(hit("Query", "BEGIN").is_none());
        assert!(hit("Query", "COMMIT").is_none());
        assert!(hit("Table_map", "table_id: 18 (shop.t4)").is_none());
        assert!(hit("Annotate_rows", "insert into t4 values (1)").is_none());
        assert!(hit("Rows_query", "# insert into t4 values (1)").is_none());
        assert!(hit("Query", "use `shop`; ALTER TABLE t45 ADD z INT").is_none());
        assert!(hit("Query", "use `shop`; ALTER TABLE other ADD t4x INT").is_none());
        assert!(hit("Query", "use `other`; ALTER TABLE t5 ADD z INT").is_none());
    }

    #[test]
    fn use_prefixes_and_mentions() {
        assert_eq!(
            split_use("use `shop`; ALTER TABLE t"),
            ("shop".to_string(), "ALTER TABLE t")
        );
        assert_eq!(
            split_use("use `a``b`; DROP TABLE x"),
            ("a`b".to_string(), "DROP TABLE x")
        );
        assert_eq!(
            split_use("CREATE DATABASE d"),
            (String::new(), "CREATE DATABASE d")
        );
        assert!(mentions("ALTER TABLE `my table` ADD x INT", "my table"));
        assert!(mentions("alter table Ünï ADD x INT", "ünï"));
        assert!(!mentions("ALTER TABLE t45", "t4"));
        assert!(!mentions("ALTER TABLE x_t4", "t4"));
        assert!(mentions("ALTER TABLE d.t4", "t4"));
    }
}
