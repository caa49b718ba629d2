//! Query events of the [`EventHandler`]: transaction control statements (BEGIN, COMMIT,
//! ROLLBACK) and DDL.
//!
//! Invariant: a DDL statement that touches a captured table (or a database the filter may
//! capture) — other than TRUNCATE, which is a change (`truncate`) — updates the catalog and forgets every cached decoder before its `SchemaChange`
//! goes out, so no later row is decoded with the structure from before the statement; a
//! DDL outside BEGIN is its own transaction and commits at once. A statement the catalog
//! cannot apply is skipped (`source.ddl_skip`), re-read from the server, tolerated (FULL
//! metadata) or a definite error, as `ddl_guard` explains — never a silently stale
//! structure under MINIMAL metadata. While a re-read is pending the handler emits nothing
//! more for the statement: [`EventHandler::finish_reread`] completes it.

use mysql_common::binlog::events::Event;

use super::ddl_guard::{shorten, NotFollowed, PendingReread, RowMetadata};
use super::EventHandler;
use crate::catalog::ddl;
use crate::catalog::ddl_skip::StatementAt;
use crate::error::Result;
use std::sync::Arc;

use crate::model::{BinlogPosition, SchemaChange, SourceEvent, TableDesc};

/// Whether a DDL statement is done with, or waits for a re-read of its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DdlDone {
    Done,
    /// The live stream re-reads the tables and calls [`EventHandler::finish_reread`].
    Deferred,
}

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
        if self.handle_ddl(event, sql, schema, out)? == DdlDone::Deferred {
            return Ok(());
        }
        self.end_query(event, out);
        Ok(())
    }

    /// Commits at the end of a statement that is its own transaction (DDL outside BEGIN).
    fn end_query(&mut self, event: &Event, out: &mut Vec<SourceEvent>) {
        let ends = self.txn.as_ref().is_some_and(|t| t.standalone || !t.began);
        if ends {
            self.commit(event, out);
        }
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

    /// Records what the server's `binlog_row_metadata` is (live stream, at connect): until
    /// a table map shows it, it decides what a DDL that cannot be followed means.
    pub fn set_row_metadata_setting(&mut self, value: Option<&str>) {
        self.ddl.set_server_setting(value);
    }

    /// The re-read of tables the last event asked for (live stream with `ddl_reread`).
    pub(crate) fn take_reread(&mut self) -> Option<PendingReread> {
        self.ddl.take_pending()
    }

    /// A statement that may be DDL: applies it to the catalog and emits a `SchemaChange`
    /// when it concerns what is captured.
    fn handle_ddl(
        &mut self,
        event: &Event,
        sql: &str,
        schema: &str,
        out: &mut Vec<SourceEvent>,
    ) -> Result<DdlDone> {
        let mut mode = sql_mode_of(event);
        mode.mariadb = matches!(self.flavor, Some(crate::model::Flavor::Mariadb));
        mode.mysql = matches!(self.flavor, Some(crate::model::Flavor::Mysql));
        let info = ddl::classify_with(sql, schema, mode);
        if info.kind == ddl::DdlKind::Other {
            return Ok(DdlDone::Done);
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
            return Ok(DdlDone::Done);
        }
        // TRUNCATE is no schema change (the structure stays): a truncate event, as
        // Debezium's binlog source makes of it.
        if info.kind == ddl::DdlKind::TruncateTable {
            self.emit_truncates(event, &captured, out);
            return Ok(DdlDone::Done);
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
        // Apply to the catalog (needed when the server logs MINIMAL metadata).
        let tables = match ddl::apply(&mut self.catalog, &info, sql, schema) {
            Ok(tables) => {
                self.ddl.followed(&captured);
                tables
            }
            // The skip list is for statements rowtide cannot follow, so it is consulted
            // only now, for every kind of entry: a statement that applies gives the right
            // structure, and skipping it could only keep a stale one (a broad `regex:` entry
            // would pass over a later RENAME COLUMN and misname rows silently; a FILE:POS
            // entry left in place after RESET MASTER would do the same). The catalog is
            // unchanged when applying fails: a statement applies whole or not at all.
            Err(_) if self.skip_listed(event, sql, &captured) => return Ok(DdlDone::Done),
            Err(reason) => match self.not_applied(event, &info, sql, captured, reason)? {
                Some(tables) => tables,
                None => return Ok(DdlDone::Deferred),
            },
        };
        self.emit_ddl(event, &info, sql, dropped, tables, out);
        Ok(DdlDone::Done)
    }

    /// Whether `source.ddl_skip` lists the statement; if so it is logged, counted and
    /// passed over (the catalog keeps what it had).
    fn skip_listed(&mut self, event: &Event, sql: &str, captured: &[(String, String)]) -> bool {
        let pos = self.here(event);
        let gtid = self.txn.as_ref().and_then(|t| t.gtid.clone());
        let at = StatementAt {
            file: &self.file,
            pos,
            gtid: gtid.as_deref(),
            sql: sql.trim(),
        };
        let Some(entry) = self.ddl.skip_entry(at) else {
            return false;
        };
        let position = format!("{}:{pos}", self.file);
        tracing::warn!(%position, entry = %entry, statement = %shorten(sql), "DDL skipped as source.ddl_skip lists it; the catalog keeps the previous structure.");
        crate::metrics::ddl_skipped();
        self.ddl
            .skipped(captured, format!("at {position} (entry \"{entry}\")"));
        self.decoder_cache.clear();
        self.tables.clear();
        true
    }

    /// A CREATE/ALTER the catalog could not apply. Returns the structures to report and go
    /// on with, `None` when the live stream re-reads them first, or the definite error when
    /// the rows after it would need a structure rowtide cannot know (see `ddl_guard`).
    fn not_applied(
        &mut self,
        event: &Event,
        info: &ddl::DdlInfo,
        sql: &str,
        captured: Vec<(String, String)>,
        reason: String,
    ) -> Result<Option<Vec<Arc<TableDesc>>>> {
        let here = self.position_for(event, 0);
        let nf = NotFollowed {
            position: here.to_string(),
            tables: names(&captured),
            statement: shorten(sql),
            reason,
        };
        // A statement rebuilt from a compressed event has no position of its own: it ends
        // where the compressed event ends.
        let end = match event.header().log_pos() {
            0 => self.outer_end,
            end => u64::from(end),
        };
        if self.ddl.rereads() && end != 0 {
            self.ddl.set_pending(PendingReread {
                info: info.clone(),
                sql: sql.to_string(),
                tables: captured,
                after: BinlogPosition::new(self.file.to_string(), end),
                not_followed: nf,
            });
            return Ok(None);
        }
        self.go_on_without(captured, &nf, &nf.reason).map(Some)
    }

    /// Goes on past a statement that was not applied when the stream can (FULL metadata, or
    /// not known yet), returning the touched tables' structures as they stand; else the
    /// definite error with `reason`.
    fn go_on_without(
        &mut self,
        captured: Vec<(String, String)>,
        nf: &NotFollowed,
        reason: &str,
    ) -> Result<Vec<Arc<TableDesc>>> {
        let known: Vec<Arc<TableDesc>> = captured
            .iter()
            .filter_map(|(d, t)| self.catalog.get(d, t).cloned())
            .collect();
        let metadata = match self.ddl.metadata() {
            // `replay --positional-names`: the tables' rows decode as @1, @2, … instead.
            RowMetadata::Minimal if self.allow_positional_names => RowMetadata::Unknown,
            m => m,
        };
        match metadata {
            RowMetadata::Minimal => return Err(self.ddl.error(nf, &minimal_reason(reason))),
            RowMetadata::Full => {
                // Forgotten as well: the old structure would lend its declared types to
                // same-named columns of the next table map (`carry_over`), a later ALTER
                // would apply on top of it, and the checkpoint would keep it for MINIMAL
                // rows after a restart. The next table map describes the table afresh.
                self.forget(&captured);
                tracing::warn!(position = %nf.position, tables = %nf.tables, %reason, statement = %nf.statement, "DDL not understood; the server logs FULL row metadata, so rows are still decoded from their table maps, but the tables' structure is forgotten until their next table map describes it: declared types (BOOLEAN, UUID, POINT …), comments and defaults are missing from the schema until a new snapshot or a DDL rowtide follows (a CREATE TABLE) describes them.");
            }
            RowMetadata::Unknown => {
                // The old structure could name columns wrongly: forget it, so that the
                // next rows are described by their table map or refused.
                self.forget(&captured);
                tracing::warn!(position = %nf.position, tables = %nf.tables, %reason, statement = %nf.statement, "DDL not understood and no table map in this stream has shown yet whether the log names columns (FULL metadata); the tables' structure is forgotten until their next table map describes it, and rows without column names will be refused.");
            }
        }
        self.ddl.not_followed(&captured, nf);
        Ok(known)
    }

    /// Drops `tables` from the catalog (and the checkpoint's copy of it, which is taken
    /// from the catalog after the statement).
    fn forget(&mut self, tables: &[(String, String)]) {
        for (d, t) in tables {
            self.catalog.remove(d, t);
        }
    }

    /// Completes the statement the live stream re-read the tables for: `read` holds their
    /// structures from the server, or why the re-read was not safe.
    pub(crate) fn finish_reread(
        &mut self,
        event: &Event,
        pending: PendingReread,
        read: std::result::Result<Vec<TableDesc>, String>,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let tables = match read {
            Ok(descs) => {
                let tables: Vec<Arc<TableDesc>> =
                    descs.into_iter().map(|d| self.catalog.put(d)).collect();
                self.ddl.followed(&pending.tables);
                crate::metrics::ddl_reread();
                tracing::info!(position = %pending.not_followed.position, tables = %pending.not_followed.tables, "DDL not understood; the tables' structure was re-read from the server (no later statement touched them).");
                tables
            }
            Err(why) => {
                let nf = &pending.not_followed;
                let reason = format!(
                    "{}; reading the structure from the server instead (source.ddl_reread) is \
                     not safe: {why}",
                    nf.reason
                );
                self.go_on_without(pending.tables.clone(), nf, &reason)?
            }
        };
        self.emit_ddl(event, &pending.info, &pending.sql, vec![], tables, out);
        self.end_query(event, out);
        Ok(())
    }

    /// Forgets cached decoders and emits the statement's `SchemaChange` event(s).
    fn emit_ddl(
        &mut self,
        event: &Event,
        info: &ddl::DdlInfo,
        sql: &str,
        dropped: Vec<Arc<TableDesc>>,
        tables: Vec<Arc<TableDesc>>,
        out: &mut Vec<SourceEvent>,
    ) {
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
            return;
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
    }
}

/// The error's reason when the server logs MINIMAL metadata.
fn minimal_reason(reason: &str) -> String {
    format!(
        "the server logs MINIMAL row metadata, so rowtide learns the table's columns from its \
         DDL, and this statement cannot be applied: {reason}"
    )
}

/// `db.t1, db.t2`.
fn names(tables: &[(String, String)]) -> String {
    tables
        .iter()
        .map(|(d, t)| format!("{d}.{t}"))
        .collect::<Vec<_>>()
        .join(", ")
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
                if head.matches('\'').count().is_multiple_of(2)
                    && head.matches('"').count().is_multiple_of(2)
                {
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

#[cfg(test)]
mod tests;
