//! The DDL side of a snapshot, as Debezium's snapshot writes it to the schema-change topic:
//! the server's charset settings, a `DROP TABLE IF EXISTS` for every captured table, then
//! per database `DROP DATABASE IF EXISTS`, `CREATE DATABASE … CHARSET … COLLATE …`, `USE`
//! and each captured table's `SHOW CREATE TABLE`, whose `tableChanges` come from parsing
//! that text (as Debezium's DDL parser does). The same parse completes the captured tables'
//! descriptions (declared types, widths, charsets, comments), so streamed DDL describes
//! them as Debezium does too.
//!
//! Invariant: these events carry no checkpoint mark; the snapshot's own events do.

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::{ddl, ddl_parse};
use crate::model::{now_ms, Catalog, Position, SchemaChange, SourceEvent, SourceOffset, TableDesc};
use crate::mysql::schema::SnapshotDdl;

/// The snapshot's DDL, read once, with each `SHOW CREATE TABLE` parsed.
pub struct DdlSnapshot {
    ddl: SnapshotDdl,
    parsed: HashMap<(String, String), Arc<TableDesc>>,
}

impl DdlSnapshot {
    /// Parses every table's `SHOW CREATE TABLE` (a table whose text does not parse keeps
    /// its `information_schema` description, with a warning).
    pub fn new(ddl: SnapshotDdl) -> Self {
        let mut scratch = Catalog::default();
        Self::charsets_into(&ddl, &mut scratch);
        let mut parsed = HashMap::new();
        for db in &ddl.databases {
            for (table, text) in &db.tables {
                match ddl_parse::apply_statement(&mut scratch, text, &db.name) {
                    Ok(mut t) if !t.is_empty() => {
                        parsed.insert((db.name.clone(), table.clone()), t.remove(0));
                    }
                    Ok(_) => {}
                    Err(reason) => tracing::warn!(
                        table = %format!("{}.{table}", db.name),
                        %reason,
                        "SHOW CREATE TABLE not understood; its schema-change event describes the table from information_schema."
                    ),
                }
            }
        }
        Self { ddl, parsed }
    }

    fn charsets_into(ddl: &SnapshotDdl, catalog: &mut Catalog) {
        if !ddl.server_charset.is_empty() {
            catalog.set_charset("", &ddl.server_charset);
        }
        for db in &ddl.databases {
            if !db.charset.is_empty() {
                catalog.set_charset(&db.name, &db.charset);
            }
        }
    }

    /// Completes `tables` (from `information_schema`) with their DDL's description.
    pub fn complete(&self, tables: &mut [TableDesc]) {
        for t in tables.iter_mut() {
            if let Some(p) = self.parsed.get(&(t.db.clone(), t.name.clone())) {
                ddl::carry_ddl(t, p);
            }
        }
    }

    /// Records the databases' and the server's default charsets in `catalog`.
    pub fn charsets(&self, catalog: &mut Catalog) {
        Self::charsets_into(&self.ddl, catalog);
    }

    /// The schema-change events, in Debezium's order, at the snapshot's point.
    pub fn events(&self, offset: &SourceOffset, known: &[Arc<TableDesc>]) -> Vec<SourceEvent> {
        let file: Arc<str> = Arc::from(offset.binlog.file.as_str());
        let position = Position {
            file: file.clone(),
            pos: offset.binlog.pos,
            row: 0,
            gtid: None,
            txn_file: file,
            txn_pos: offset.binlog.pos,
            txn_row: 0,
            gtid_before: None,
        };
        let event = |database: &str, ddl: String, tables: Vec<Arc<TableDesc>>, kind| {
            SourceEvent::SchemaChange(Box::new(SchemaChange {
                database: database.to_string(),
                ddl,
                position: position.clone(),
                ts_ms: now_ms(),
                server_id: 0,
                tables,
                change_type: kind,
                catalog_after: None,
                source_table: None,
                snapshot: true,
            }))
        };
        let describe = |db: &str, table: &str| -> Arc<TableDesc> {
            self.parsed
                .get(&(db.to_string(), table.to_string()))
                .or_else(|| known.iter().find(|t| t.db == db && t.name == table))
                .cloned()
                .unwrap_or_else(|| {
                    Arc::new(TableDesc {
                        db: db.to_string(),
                        name: table.to_string(),
                        columns: vec![],
                        primary_key: vec![],
                        charset_name: None,
                        comment: None,
                    })
                })
        };
        let q = |name: &str| format!("`{}`", name.replace('`', "``"));
        let mut out = vec![event(
            "",
            format!(
                "SET character_set_server={}, collation_server={}",
                self.ddl.server_charset, self.ddl.server_collation
            ),
            vec![],
            "",
        )];
        for db in &self.ddl.databases {
            for (table, _) in &db.tables {
                out.push(event(
                    &db.name,
                    format!("DROP TABLE IF EXISTS {}.{}", q(&db.name), q(table)),
                    vec![describe(&db.name, table)],
                    "DROP",
                ));
            }
        }
        for db in &self.ddl.databases {
            out.push(event(
                &db.name,
                format!("DROP DATABASE IF EXISTS {}", q(&db.name)),
                vec![],
                "",
            ));
            out.push(event(
                &db.name,
                format!(
                    "CREATE DATABASE {} CHARSET {} COLLATE {}",
                    q(&db.name),
                    db.charset,
                    db.collation
                ),
                vec![],
                "",
            ));
            out.push(event(&db.name, format!("USE {}", q(&db.name)), vec![], ""));
            for (table, text) in &db.tables {
                out.push(event(
                    &db.name,
                    text.clone(),
                    vec![describe(&db.name, table)],
                    "CREATE",
                ));
            }
        }
        out
    }
}
