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

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

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

/// Values kept per shared table description and found by its address, so a per-event
/// lookup does not hash the description. Each entry holds a `Weak` to its description: that
/// keeps the allocation (not the description) alive, so while an entry exists no other
/// table can appear at its address. Entries of dropped descriptions are pruned as the map
/// grows.
#[derive(Debug)]
pub struct ByTable<T> {
    map: HashMap<usize, (Weak<TableDesc>, T)>,
    prune_at: usize,
}

impl<T> Default for ByTable<T> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            prune_at: 1024,
        }
    }
}

impl<T> ByTable<T> {
    pub fn get(&self, t: &Arc<TableDesc>) -> Option<&T> {
        self.map.get(&(Arc::as_ptr(t) as usize)).map(|(_, v)| v)
    }

    pub fn get_or_insert_with(&mut self, t: &Arc<TableDesc>, make: impl FnOnce() -> T) -> &mut T {
        if self.map.len() >= self.prune_at {
            self.map.retain(|_, (w, _)| w.strong_count() > 0);
            self.prune_at = (self.map.len() * 2).max(1024);
        }
        match self.map.entry(Arc::as_ptr(t) as usize) {
            Entry::Occupied(o) => &mut o.into_mut().1,
            Entry::Vacant(v) => &mut v.insert((Arc::downgrade(t), make())).1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(name: &str) -> Arc<TableDesc> {
        Arc::new(TableDesc {
            db: "db".into(),
            name: name.into(),
            columns: vec![],
            primary_key: vec![],
        })
    }

    #[test]
    fn by_table_keeps_one_value_per_live_description_and_prunes_dropped_ones() {
        let mut m: ByTable<String> = ByTable::default();
        let a = desc("a");
        assert_eq!(m.get_or_insert_with(&a, || "a".into()), "a");
        assert_eq!(m.get_or_insert_with(&a, || "other".into()), "a");
        // Descriptions come and go (a new one per DDL): dropped ones are pruned, live ones stay.
        for i in 0..5000 {
            let t = desc(&format!("t{i}"));
            m.get_or_insert_with(&t, || t.name.clone());
        }
        assert!(m.map.len() < 2100, "{} entries", m.map.len());
        assert_eq!(m.get_or_insert_with(&a, || "other".into()), "a");
    }
}
