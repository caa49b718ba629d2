//! The catalog: each captured table's columns, types and key *at every point of the log*.
//!
//! With `binlog_row_metadata=FULL` every TABLE_MAP event describes its table completely and
//! [`table_map::describe`] builds the `TableDesc` from it. Without it (MINIMAL metadata), the
//! catalog starts from `information_schema` (or, for recorded files, from the DDL it sees)
//! and follows CREATE/ALTER/RENAME/DROP statements from QUERY events ([`ddl`]). Its
//! history is kept so that an old event decodes with the schema it was written under.

pub mod ddl;
pub mod ddl_parse;
pub mod table;
pub mod table_map;

use std::collections::HashMap;
use std::sync::Arc;

pub use table::{ColumnDefault, ColumnDesc, ColumnKind, TableDesc};

/// Current table structures known from DDL or `information_schema`, by `(db, table)`.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    tables: HashMap<(String, String), Arc<TableDesc>>,
}

impl Catalog {
    pub fn get(&self, db: &str, table: &str) -> Option<&Arc<TableDesc>> {
        self.tables.get(&(db.to_string(), table.to_string()))
    }

    pub fn put(&mut self, desc: TableDesc) -> Arc<TableDesc> {
        let desc = Arc::new(desc);
        self.tables
            .insert((desc.db.clone(), desc.name.clone()), desc.clone());
        desc
    }

    pub fn remove(&mut self, db: &str, table: &str) -> Option<Arc<TableDesc>> {
        self.tables.remove(&(db.to_string(), table.to_string()))
    }

    pub fn drop_database(&mut self, db: &str) {
        self.tables.retain(|(d, _), _| d != db);
    }

    pub fn tables(&self) -> impl Iterator<Item = &Arc<TableDesc>> {
        self.tables.values()
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}
