//! The reads of an incremental snapshot: a table's rows in key order, one chunk at a time,
//! each `SELECT` a statement of its own (no long transaction, no lock), bounded by the key
//! after which it starts and by the table's largest key when its snapshot began.
//!
//! Keys travel as [`KeyPart`]s, the values exactly as the server returned them, so a key
//! read from one chunk (or from the checkpoint) is bound unchanged into the next `SELECT`.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value as MyValue};

use super::snapshot::{convert_row, quote};
use crate::error::{classify_mysql, Error};
use crate::model::{KeyPart, Row, TableDesc};

/// A table as an incremental snapshot reads it.
#[derive(Debug, Clone)]
pub struct ChunkTable {
    pub desc: std::sync::Arc<TableDesc>,
    /// Indexes into the columns of the key that orders the chunks (the primary key, or the
    /// configured surrogate key).
    pub key: Vec<usize>,
    /// The `additional-conditions` filter.
    pub filter: Option<String>,
}

/// One row of a chunk: its values and its key.
pub struct ChunkRow {
    pub row: Row,
    pub key: Vec<KeyPart>,
}

/// `ER_TABLE_DEF_CHANGED`: the table changed after the transaction's read view.
const TABLE_DEF_CHANGED: u16 = 1412;
/// `ER_LOCK_DEADLOCK`.
const LOCK_DEADLOCK: u16 = 1213;
/// `ER_LOCK_WAIT_TIMEOUT`.
const LOCK_WAIT_TIMEOUT: u16 = 1205;
/// `ER_QUERY_INTERRUPTED` (a `KILL QUERY` of the chunk's select).
const QUERY_INTERRUPTED: u16 = 1317;

/// Why a chunk could not be read.
pub enum ChunkError {
    /// The server refused the statement (a bad filter, a dropped table or column): this
    /// table cannot be snapshotted, the rest goes on.
    Refused(String),
    Other(Error),
}

impl From<mysql_async::Error> for ChunkError {
    fn from(e: mysql_async::Error) -> Self {
        match e {
            // Worth reading again (after the restart that resumes from the last chunk), not a
            // reason to give the table up: the table was rebuilt after the chunk's read view
            // was taken (an online ALTER, OPTIMIZE, a gh-ost swap), a deadlock, a lock wait.
            mysql_async::Error::Server(se)
                if matches!(
                    se.code,
                    TABLE_DEF_CHANGED | LOCK_DEADLOCK | LOCK_WAIT_TIMEOUT | QUERY_INTERRUPTED
                ) =>
            {
                ChunkError::Other(Error::SourceTransient(format!(
                    "the server could not read the chunk now: {} (error {}); it is read again",
                    se.message, se.code
                )))
            }
            mysql_async::Error::Server(se) => ChunkError::Refused(format!(
                "the server refused the chunk query: {} (error {})",
                se.message, se.code
            )),
            e => ChunkError::Other(classify_mysql(e, "")),
        }
    }
}

pub fn key_part(v: MyValue) -> KeyPart {
    match v {
        MyValue::NULL => KeyPart::Null,
        MyValue::Bytes(b) => KeyPart::Bytes(b),
        MyValue::Int(i) => KeyPart::Int(i),
        MyValue::UInt(u) => KeyPart::UInt(u),
        MyValue::Float(f) => KeyPart::Float(f),
        MyValue::Double(d) => KeyPart::Double(d),
        MyValue::Date(y, mo, d, h, mi, s, us) => KeyPart::Date(y, mo, d, h, mi, s, us),
        MyValue::Time(neg, d, h, mi, s, us) => KeyPart::Time(neg, d, h, mi, s, us),
    }
}

pub fn param(k: &KeyPart) -> MyValue {
    match k.clone() {
        KeyPart::Null => MyValue::NULL,
        KeyPart::Bytes(b) => MyValue::Bytes(b),
        KeyPart::Int(i) => MyValue::Int(i),
        KeyPart::UInt(u) => MyValue::UInt(u),
        KeyPart::Float(f) => MyValue::Float(f),
        KeyPart::Double(d) => MyValue::Double(d),
        KeyPart::Date(y, mo, d, h, mi, s, us) => MyValue::Date(y, mo, d, h, mi, s, us),
        KeyPart::Time(neg, d, h, mi, s, us) => MyValue::Time(neg, d, h, mi, s, us),
    }
}

impl ChunkTable {
    fn key_cols(&self) -> Vec<String> {
        self.key
            .iter()
            .map(|&i| quote(&self.desc.columns[i].name))
            .collect()
    }

    fn table_sql(&self) -> String {
        format!("{}.{}", quote(&self.desc.db), quote(&self.desc.name))
    }

    /// The table's largest key now (within the filter); `None` when it has no row.
    pub async fn max_key(
        &self,
        conn: &mut Conn,
    ) -> std::result::Result<Option<Vec<KeyPart>>, ChunkError> {
        let cols = self.key_cols();
        let desc: Vec<String> = cols.iter().map(|c| format!("{c} DESC")).collect();
        let filter = match &self.filter {
            Some(f) => format!(" WHERE ({f})"),
            None => String::new(),
        };
        let sql = format!(
            "SELECT {} FROM {}{filter} ORDER BY {} LIMIT 1",
            cols.join(", "),
            self.table_sql(),
            desc.join(", ")
        );
        let row: Option<mysql_async::Row> = conn.exec_first(sql, ()).await?;
        Ok(row.map(|r| r.unwrap().into_iter().map(key_part).collect()))
    }

    /// Up to `limit` rows after `after` (from the first row when `None`) and not beyond
    /// `max`, in key order.
    pub async fn read(
        &self,
        conn: &mut Conn,
        after: Option<&[KeyPart]>,
        max: &[KeyPart],
        limit: usize,
    ) -> std::result::Result<Vec<ChunkRow>, ChunkError> {
        let cols: Vec<String> = self.desc.columns.iter().map(|c| quote(&c.name)).collect();
        let keys = self.key_cols();
        let mut params: Vec<MyValue> = Vec::new();
        let mut conds = Vec::new();
        if let Some(after) = after {
            conds.push(lexicographic(&keys, after, ">", false, &mut params));
        }
        conds.push(lexicographic(&keys, max, "<", true, &mut params));
        if let Some(f) = &self.filter {
            conds.push(format!("({f})"));
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {limit}",
            cols.join(", "),
            self.table_sql(),
            conds.join(" AND "),
            keys.join(", ")
        );
        let rows: Vec<mysql_async::Row> = conn.exec(sql, params).await?;
        let name = self.desc.full_name();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let values = r.unwrap_raw();
            let key = self
                .key
                .iter()
                .map(|&i| key_part(values[i].clone().unwrap_or(MyValue::NULL)))
                .collect();
            let row = convert_row(&self.desc, values).map_err(|(column, reason)| {
                ChunkError::Other(Error::Decode {
                    table: name.clone(),
                    column,
                    position: "incremental snapshot".into(),
                    reason,
                })
            })?;
            out.push(ChunkRow { row, key });
        }
        Ok(out)
    }
}

/// `(k1, k2, …) op (v1, v2, …)` in the expanded form index range scans use:
/// `k1 op v1 OR (k1 = v1 AND k2 op v2) OR …`, plus `OR (all equal)` when `or_equal`.
fn lexicographic(
    keys: &[String],
    values: &[KeyPart],
    op: &str,
    or_equal: bool,
    params: &mut Vec<MyValue>,
) -> String {
    let mut terms = Vec::new();
    for i in 0..keys.len() {
        let mut parts = Vec::new();
        for j in 0..i {
            parts.push(format!("{} = ?", keys[j]));
            params.push(param(&values[j]));
        }
        parts.push(format!("{} {op} ?", keys[i]));
        params.push(param(&values[i]));
        terms.push(format!("({})", parts.join(" AND ")));
    }
    if or_equal {
        let parts: Vec<String> = keys
            .iter()
            .zip(values)
            .map(|(k, v)| {
                params.push(param(v));
                format!("{k} = ?")
            })
            .collect();
        terms.push(format!("({})", parts.join(" AND ")));
    }
    format!("({})", terms.join(" OR "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "boom".into(),
            state: "HY000".into(),
        })
    }

    #[test]
    fn a_rebuilt_table_or_a_deadlock_is_read_again_and_a_bad_filter_gives_the_table_up() {
        for code in [1412, 1213, 1205, 1317] {
            match ChunkError::from(server_error(code)) {
                ChunkError::Other(e) => assert!(e.is_transient(), "{code}: {e}"),
                ChunkError::Refused(r) => panic!("{code} gave the table up: {r}"),
            }
        }
        // Unknown column (a filter naming a column the table lacks), no such table.
        for code in [1054, 1146] {
            assert!(
                matches!(ChunkError::from(server_error(code)), ChunkError::Refused(_)),
                "{code}"
            );
        }
    }

    #[test]
    fn composite_keys_compare_lexicographically() {
        let keys = vec!["`a`".to_string(), "`b`".to_string()];
        let mut params = Vec::new();
        let sql = lexicographic(
            &keys,
            &[KeyPart::Int(1), KeyPart::Bytes(b"x".to_vec())],
            ">",
            false,
            &mut params,
        );
        assert_eq!(sql, "((`a` > ?) OR (`a` = ? AND `b` > ?))");
        assert_eq!(
            params,
            vec![
                MyValue::Int(1),
                MyValue::Int(1),
                MyValue::Bytes(b"x".to_vec())
            ]
        );
        let mut params = Vec::new();
        let sql = lexicographic(&keys[..1], &[KeyPart::UInt(9)], "<", true, &mut params);
        assert_eq!(sql, "((`a` < ?) OR (`a` = ?))");
        assert_eq!(params.len(), 2);
    }

    #[test]
    fn key_parts_round_trip_to_parameters() {
        for v in [
            MyValue::NULL,
            MyValue::Int(-3),
            MyValue::UInt(3),
            MyValue::Bytes(b"k".to_vec()),
            MyValue::Date(2024, 2, 29, 1, 2, 3, 4),
            MyValue::Time(true, 1, 2, 3, 4, 5),
        ] {
            assert_eq!(param(&key_part(v.clone())), v);
        }
    }
}
