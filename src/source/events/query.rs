//! Query events of the [`EventHandler`]: transaction control statements (BEGIN, COMMIT,
//! ROLLBACK) and DDL.
//!
//! Invariant: a DDL statement that touches a captured table (or a database the filter may
//! capture) updates the catalog and forgets every cached decoder before its `SchemaChange`
//! goes out, so no later row is decoded with the structure from before the statement; a
//! DDL outside BEGIN is its own transaction and commits at once.

use mysql_common::binlog::events::Event;

use super::EventHandler;
use crate::catalog::ddl;
use crate::error::Result;
use std::sync::Arc;

use crate::model::{SchemaChange, SourceEvent, TableDesc};

impl EventHandler {
    /// A QUERY event: BEGIN opens, COMMIT/ROLLBACK closes, anything else may be DDL.
    pub(super) fn handle_query(
        &mut self,
        event: &Event,
        sql: &str,
        schema: &str,
        thread: u32,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let trimmed = sql.trim();
        if trimmed.eq_ignore_ascii_case("BEGIN")
            || trimmed.eq_ignore_ascii_case("START TRANSACTION")
        {
            self.begin(event, thread);
            return Ok(());
        }
        if trimmed.eq_ignore_ascii_case("COMMIT") || trimmed.eq_ignore_ascii_case("ROLLBACK") {
            // ROLLBACK appears for transactions that touched non-transactional tables: the
            // rows it logged did happen, so they are kept and the transaction ends.
            self.commit(event, out);
            return Ok(());
        }
        if self.txn.is_none() {
            self.open_txn(event, None, None, true);
        }
        if let Some(t) = &mut self.txn {
            t.thread.get_or_insert(thread);
        }
        self.handle_ddl(event, sql, schema, out)?;
        let ends = self.txn.as_ref().is_some_and(|t| t.standalone || !t.began);
        if ends {
            self.commit(event, out);
        }
        Ok(())
    }

    /// BEGIN: marks the transaction its GTID opened as begun, or opens one.
    fn begin(&mut self, event: &Event, thread: u32) {
        match &mut self.txn {
            Some(t) if !t.began && t.rows == 0 => {
                t.began = true;
                t.thread = Some(thread);
            }
            _ => {
                self.open_txn(event, None, None, false);
                if let Some(t) = &mut self.txn {
                    t.began = true;
                    t.thread = Some(thread);
                }
            }
        }
    }

    /// A statement that may be DDL: applies it to the catalog and emits a `SchemaChange`
    /// when it concerns what is captured.
    fn handle_ddl(
        &mut self,
        event: &Event,
        sql: &str,
        schema: &str,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let mut mode = sql_mode_of(event);
        mode.mariadb = matches!(self.flavor, Some(crate::model::Flavor::Mariadb));
        mode.mysql = matches!(self.flavor, Some(crate::model::Flavor::Mysql));
        let info = ddl::classify_with(sql, schema, mode);
        if info.kind == ddl::DdlKind::Other {
            return Ok(());
        }
        let captured: Vec<(String, String)> = info
            .tables
            .iter()
            .filter(|(d, t)| self.captures(d, t))
            .cloned()
            .collect();
        let db_level = matches!(
            info.kind,
            ddl::DdlKind::CreateDatabase | ddl::DdlKind::DropDatabase | ddl::DdlKind::AlterDatabase
        );
        if captured.is_empty() && !(db_level && self.filter.may_capture_db(&info.database)) {
            return Ok(());
        }
        // A DROP TABLE is one event per dropped captured table, each with its own
        // qualified statement, as Debezium writes them.
        let dropped: Vec<Arc<TableDesc>> = if info.kind == ddl::DdlKind::DropTable {
            captured
                .iter()
                .map(|(d, t)| {
                    self.catalog.get(d, t).cloned().unwrap_or_else(|| {
                        Arc::new(TableDesc {
                            db: d.clone(),
                            name: t.clone(),
                            columns: vec![],
                            primary_key: vec![],
                            charset_name: None,
                            comment: None,
                        })
                    })
                })
                .collect()
        } else {
            vec![]
        };
        // Apply to the catalog (needed when the server logs MINIMAL metadata) and forget
        // cached decoders of the touched tables.
        let tables = ddl::apply(&mut self.catalog, &info, sql, schema);
        self.decoder_cache.clear();
        self.tables.clear();
        let position = self.position_for(event, 0);
        let ts_ms = event.header().timestamp() as i64 * 1000;
        if !dropped.is_empty() {
            let (prefix, suffix) = drop_table_words(sql);
            let names = java_hash_set_order(&dropped)
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(",");
            for t in dropped.iter().cloned() {
                out.push(SourceEvent::SchemaChange(Box::new(SchemaChange {
                    database: t.db.clone(),
                    ddl: format!(
                        "{prefix}`{}`.`{}`{suffix}",
                        t.db.replace('`', "``"),
                        t.name.replace('`', "``")
                    ),
                    position: position.clone(),
                    ts_ms,
                    server_id: event.header().server_id(),
                    tables: vec![t],
                    change_type: "DROP",
                    catalog_after: Some(self.catalog.clone()),
                    source_table: Some(names.clone()),
                    snapshot: false,
                })));
            }
            return Ok(());
        }
        out.push(SourceEvent::SchemaChange(Box::new(SchemaChange {
            database: info.database.clone(),
            ddl: statement_text(sql).to_string(),
            position,
            ts_ms,
            server_id: event.header().server_id(),
            tables,
            change_type: info.kind.change_type(),
            catalog_after: Some(self.catalog.clone()),
            source_table: None,
            snapshot: false,
        })));
        Ok(())
    }
}

/// What Debezium keeps of a `DROP TABLE` statement around each table it names: the words
/// before the table list (`DROP TABLE `, `DROP TABLE IF EXISTS `, `DROP TEMPORARY TABLE `)
/// and a trailing ` RESTRICT` / ` CASCADE`.
fn drop_table_words(sql: &str) -> (String, &'static str) {
    let up = sql.to_ascii_uppercase();
    let words: Vec<&str> = up.split_whitespace().collect();
    let temporary = words.get(1) == Some(&"TEMPORARY");
    let if_exists = up.contains(" IF EXISTS ");
    let prefix = format!(
        "DROP {}TABLE {}",
        if temporary { "TEMPORARY " } else { "" },
        if if_exists { "IF EXISTS " } else { "" }
    );
    let body = up.split("/*").next().unwrap_or(&up).trim_end();
    let suffix = if body.ends_with(" RESTRICT") {
        " RESTRICT"
    } else if body.ends_with(" CASCADE") {
        " CASCADE"
    } else {
        ""
    };
    (prefix, suffix)
}

/// The statement as Debezium's DDL parser reports it: without trailing comments (MariaDB's
/// `/*!50100 PARTITION … */` included), whitespace and `;`.
fn statement_text(sql: &str) -> &str {
    let mut s = sql.trim_end();
    loop {
        let before = s;
        s = s.trim_end_matches(';').trim_end();
        if s.ends_with("*/") {
            if let Some(start) = s.rfind("/*") {
                s = s[..start].trim_end();
            }
        }
        if let Some(line_start) = s.rfind('\n').map(|i| i + 1).or(Some(0)) {
            let last = &s[line_start..];
            if let Some(c) = last.find("-- ").or_else(|| last.find('#')) {
                // Only a comment outside quotes: the part before it has balanced quotes.
                let head = &last[..c];
                if head.matches('\'').count() % 2 == 0 && head.matches('"').count() % 2 == 0 {
                    s = s[..line_start + c].trim_end();
                }
            }
        }
        if s == before {
            return s;
        }
    }
}

/// The tables of a multi-table DROP in the order Debezium lists them in `source.table`:
/// the iteration order of a Java `HashSet` of their ids (`db.table`), that is by bucket
/// of the spread `String.hashCode()`, then by insertion.
fn java_hash_set_order(tables: &[Arc<TableDesc>]) -> Vec<Arc<TableDesc>> {
    let java_hash = |s: &str| {
        s.encode_utf16()
            .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(c as u32))
    };
    let mut capacity = 16usize;
    while tables.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    let mut keyed: Vec<(usize, usize, Arc<TableDesc>)> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let id = format!("{}.{}", t.db, t.name);
        if keyed
            .iter()
            .any(|(_, _, k)| k.db == t.db && k.name == t.name)
        {
            continue;
        }
        let h = java_hash(&id);
        keyed.push((((h ^ (h >> 16)) as usize) & (capacity - 1), i, t.clone()));
    }
    keyed.sort_by_key(|(bucket, i, _)| (*bucket, *i));
    keyed.into_iter().map(|(_, _, t)| t).collect()
}

/// The session's `sql_mode` from a QUERY event's status variables (`Q_SQL_MODE_CODE`); the
/// default when the event does not carry it.
fn sql_mode_of(event: &Event) -> ddl::SqlMode {
    use mysql_common::binlog::consts::StatusVarKey;
    use mysql_common::binlog::events::{EventData, StatusVarVal};
    let Ok(Some(EventData::QueryEvent(q))) = event.read_data() else {
        return ddl::SqlMode::default();
    };
    let bits = q
        .status_vars()
        .get_status_var(StatusVarKey::SqlMode)
        .and_then(|v| match v.get_value() {
            Ok(StatusVarVal::SqlMode(m)) => Some(m.0),
            _ => None,
        });
    bits.map(ddl::SqlMode::from_bits).unwrap_or_default()
}
