//! The server as the oracle: each table's columns as `information_schema` has them, the
//! columns a row image carries (which is more than `information_schema` shows), and one
//! INSERT per table built from the column types.
//!
//! What a MariaDB 10.11 row image holds, in this order (checked with `mariadb-binlog
//! --print-table-metadata` on a server logging FULL metadata, which names every column):
//! 1. every column of `information_schema.COLUMNS` in `ORDINAL_POSITION` order — INVISIBLE
//!    and generated (VIRTUAL and STORED) columns included;
//! 2. for a system-versioned table whose period columns are implicit (`WITH SYSTEM
//!    VERSIONING` without `PERIOD FOR SYSTEM_TIME`): `row_start`, `row_end`, which
//!    `information_schema` does not list (explicit period columns are listed, in place);
//! 3. for every long UNIQUE key (`UNIQUE` on a BLOB/TEXT or `USING HASH`, shown as index
//!    type `HASH` on an engine other than MEMORY): a hidden `DB_ROW_HASH_<n>` column, n = 1,
//!    2, … in key order, which `information_schema` does not list either.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

/// `(database, table)`.
pub type TableKey = (String, String);

/// One column as `information_schema.COLUMNS` has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Col {
    pub name: String,
    pub data_type: String,
    pub column_type: String,
    pub extra: String,
    pub generation: Option<String>,
}

/// A table's structure at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// `BASE TABLE`, `SYSTEM VERSIONED` or `SEQUENCE`.
    pub table_type: String,
    pub engine: String,
    pub cols: Vec<Col>,
    /// Long UNIQUE keys (each adds a hidden hash column).
    pub long_unique_keys: usize,
}

impl Shape {
    /// The columns a row image of this table carries, by name, in order (see the module
    /// comment).
    pub fn row_image_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.cols.iter().map(|c| c.name.clone()).collect();
        let explicit_period = self
            .cols
            .iter()
            .any(|c| c.generation.as_deref() == Some("ROW START"));
        if self.table_type == "SYSTEM VERSIONED" && !explicit_period {
            names.push("row_start".into());
            names.push("row_end".into());
        }
        names.extend((1..=self.long_unique_keys).map(|n| format!("DB_ROW_HASH_{n}")));
        names
    }
}

/// Every table of the given databases, as the server has them now.
pub type Snapshot = BTreeMap<TableKey, Shape>;

fn text(row: &Row, i: usize) -> String {
    opt(row, i).unwrap_or_default()
}

fn opt(row: &Row, i: usize) -> Option<String> {
    row.get_opt::<Option<String>, usize>(i)
        .and_then(|r| r.ok())
        .flatten()
}

/// `'a','b'` for an SQL `IN (…)` list (`''` when empty, which matches nothing useful).
pub fn sql_list(names: &[String]) -> String {
    if names.is_empty() {
        return "''".into();
    }
    names
        .iter()
        .map(|n| format!("'{}'", n.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads the tables (base, system-versioned, sequences; not views) of every database except
/// `skip` (the system schemas and other files' databases). The queries run under a fixed
/// `sql_mode`: `information_schema` spells types differently under `ORACLE`.
pub async fn snapshot(conn: &mut Conn, skip: &[String]) -> Result<Snapshot, String> {
    let skip = sql_list(skip);
    let fixed = "SET STATEMENT sql_mode='NO_ENGINE_SUBSTITUTION' FOR";
    let tables: Vec<Row> = conn
        .query(format!(
            "{fixed} SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(ENGINE,'') FROM information_schema.TABLES \
             WHERE TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED','SEQUENCE') AND TABLE_SCHEMA NOT IN ({skip})"
        ))
        .await
        .map_err(|e| format!("reading information_schema.TABLES: {e}"))?;
    let mut snap = Snapshot::new();
    for r in &tables {
        snap.insert(
            (text(r, 0), text(r, 1)),
            Shape {
                table_type: text(r, 2),
                engine: text(r, 3),
                cols: Vec::new(),
                long_unique_keys: 0,
            },
        );
    }
    let cols: Vec<Row> = conn
        .query(format!(
            "{fixed} SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, EXTRA, GENERATION_EXPRESSION \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN ({skip}) \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
        ))
        .await
        .map_err(|e| format!("reading information_schema.COLUMNS: {e}"))?;
    for r in &cols {
        if let Some(shape) = snap.get_mut(&(text(r, 0), text(r, 1))) {
            shape.cols.push(Col {
                name: text(r, 2),
                data_type: text(r, 3).to_ascii_lowercase(),
                column_type: text(r, 4).to_ascii_lowercase(),
                extra: text(r, 5).to_ascii_uppercase(),
                generation: opt(r, 6),
            });
        }
    }
    let hashes: Vec<Row> = conn
        .query(format!(
            "{fixed} SELECT TABLE_SCHEMA, TABLE_NAME, COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA NOT IN ({skip}) AND NON_UNIQUE = 0 AND INDEX_TYPE = 'HASH' \
             GROUP BY TABLE_SCHEMA, TABLE_NAME"
        ))
        .await
        .map_err(|e| format!("reading information_schema.STATISTICS: {e}"))?;
    for r in &hashes {
        if let Some(shape) = snap.get_mut(&(text(r, 0), text(r, 1))) {
            if !shape.engine.eq_ignore_ascii_case("MEMORY") {
                shape.long_unique_keys = text(r, 2).parse().unwrap_or(0);
            }
        }
    }
    Ok(snap)
}

/// Tables the harness cannot write a row into, with the reason; matched on the table name.
/// Their statements are still run and their other rows (if any) still checked.
pub const UNINSERTABLE: &[(&str, &str)] = &[(
    "sv_trx",
    "transaction-precise system versioning (BIGINT UNSIGNED row start/end): MariaDB 10.11 \
     logs its INSERTs as statements even with binlog_format=ROW, so no row event exists",
)];

/// Whether `key` is listed in [`UNINSERTABLE`], and why.
pub fn uninsertable(key: &TableKey) -> Option<&'static str> {
    UNINSERTABLE
        .iter()
        .find(|(name, _)| *name == key.1)
        .map(|(_, why)| *why)
}

/// `` `name` `` with backquotes doubled.
pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// INSERT statements to try, in order, until the server accepts one: values from a few
/// seeds (unique keys, CHECK constraints and partition bounds each reject some), then a row
/// of defaults. Lenient `sql_mode` (values are clamped, not refused) and no foreign-key
/// checks, for this statement only.
pub fn insert_attempts(key: &TableKey, shape: &Shape, n: u64) -> Vec<String> {
    let target = format!("{}.{}", quote(&key.0), quote(&key.1));
    let cols: Vec<&Col> = shape.cols.iter().filter(|c| writable(c)).collect();
    let head =
        "SET STATEMENT sql_mode='NO_ENGINE_SUBSTITUTION', foreign_key_checks=0 FOR INSERT INTO";
    let mut out = Vec::new();
    if !cols.is_empty() {
        let names: Vec<String> = cols.iter().map(|c| quote(&c.name)).collect();
        for seed in [n, 1, 0, 2, 5, 10, 100, 1000, n + 7919] {
            // Later columns get larger values: `CHECK (b > a)` and `PERIOD FOR p(s, e)`
            // (which needs s < e) accept them.
            let values: Vec<String> = cols
                .iter()
                .zip(0u64..)
                .map(|(c, i)| value(c, seed + i))
                .collect();
            out.push(format!(
                "{head} {target} ({}) VALUES ({})",
                names.join(", "),
                values.join(", ")
            ));
        }
    }
    out.push(format!("{head} {target} () VALUES ()"));
    out
}

/// Whether the harness gives the column a value (generated and auto-increment columns are
/// left to the server).
fn writable(c: &Col) -> bool {
    !c.extra.contains("GENERATED") && !c.extra.contains("AUTO_INCREMENT") && c.generation.is_none()
}

/// An SQL expression of the column's type for `seed`.
fn value(c: &Col, seed: u64) -> String {
    let t = c.data_type.as_str();
    match t {
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "decimal" | "float"
        | "double" | "real" => seed.to_string(),
        "bit" => {
            let bits = paren_number(&c.column_type).unwrap_or(1).min(63);
            (seed & ((1u64 << bits) - 1)).to_string()
        }
        "year" => (1901 + seed % 250).to_string(),
        "date" => format!("DATE'2001-01-01' + INTERVAL {seed} DAY"),
        "datetime" | "timestamp" => {
            format!("TIMESTAMP'2001-01-01 00:00:00' + INTERVAL {seed} SECOND")
        }
        "time" => format!("SEC_TO_TIME({})", seed % 3_000_000),
        "enum" => (1 + seed % enum_size(&c.column_type)).to_string(),
        "set" => "1".into(),
        "uuid" => format!("'00000000-0000-4000-8000-{:012}'", seed % 1_000_000_000_000),
        "inet4" => format!("'10.0.{}.{}'", (seed / 256) % 256, seed % 256),
        "inet6" => format!("'2001:db8::{:x}'", seed % 0xffff),
        "point" | "geometry" => format!("POINT({seed}, {seed})"),
        "linestring" => format!("LINESTRING(POINT(0, 0), POINT({seed}, 1))"),
        "polygon" => {
            "POLYGON(LINESTRING(POINT(0, 0), POINT(1, 0), POINT(1, 1), POINT(0, 0)))".into()
        }
        "multipoint" => format!("MULTIPOINT(POINT({seed}, 0))"),
        "multilinestring" => "MULTILINESTRING(LINESTRING(POINT(0, 0), POINT(1, 1)))".into(),
        "multipolygon" => {
            "MULTIPOLYGON(POLYGON(LINESTRING(POINT(0, 0), POINT(1, 0), POINT(1, 1), POINT(0, 0))))"
                .into()
        }
        "geometrycollection" => format!("GEOMETRYCOLLECTION(POINT({seed}, 0))"),
        // Strings, binary strings and JSON (a number is a valid JSON document).
        _ => format!("'{seed}'"),
    }
}

fn paren_number(column_type: &str) -> Option<u64> {
    let open = column_type.find('(')?;
    let close = column_type[open..].find(')')? + open;
    column_type[open + 1..close].trim().parse().ok()
}

/// How many labels `enum('a','b,c')` has (commas inside quotes do not count).
fn enum_size(column_type: &str) -> u64 {
    let mut n = 1;
    let mut quoted = false;
    for c in column_type.chars() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => n += 1,
            _ => {}
        }
    }
    n
}

#[test]
fn row_image_adds_hidden_columns() {
    let col = |name: &str, generation: Option<&str>| Col {
        name: name.into(),
        data_type: "int".into(),
        column_type: "int(11)".into(),
        extra: String::new(),
        generation: generation.map(String::from),
    };
    let mut s = Shape {
        table_type: "SYSTEM VERSIONED".into(),
        engine: "InnoDB".into(),
        cols: vec![col("a", None)],
        long_unique_keys: 2,
    };
    assert_eq!(
        s.row_image_names(),
        [
            "a",
            "row_start",
            "row_end",
            "DB_ROW_HASH_1",
            "DB_ROW_HASH_2"
        ]
    );
    s.cols.push(col("s", Some("ROW START")));
    s.cols.push(col("e", Some("ROW END")));
    s.long_unique_keys = 0;
    assert_eq!(s.row_image_names(), ["a", "s", "e"]);
    assert_eq!(enum_size("enum('a','b,c','d')"), 3);
    assert_eq!(paren_number("bit(7)"), Some(7));
}
