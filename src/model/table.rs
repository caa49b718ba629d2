//! `TableDesc` and `ColumnDesc`: what the engine knows about one table at one point of the
//! log — column names, types, nullability, charsets, ENUM/SET labels, defaults and the
//! primary key.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::charset::Charset;

/// A column's SQL type, as far as decoding and Debezium's type mapping care.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnKind {
    TinyInt,
    SmallInt,
    MediumInt,
    Int,
    BigInt,
    Float,
    Double,
    Decimal {
        precision: u8,
        scale: u8,
    },
    Bit {
        bits: u16,
    },
    Year,
    Date,
    Time {
        fsp: u8,
    },
    DateTime {
        fsp: u8,
    },
    Timestamp {
        fsp: u8,
    },
    /// CHAR(n) / BINARY(n) (binary when the charset is `binary`).
    Char {
        max_bytes: u32,
    },
    /// VARCHAR(n) / VARBINARY(n).
    VarChar {
        max_bytes: u32,
    },
    /// TINYTEXT … LONGTEXT / TINYBLOB … LONGBLOB, by length-prefix width (1–4 bytes).
    Blob {
        len_bytes: u8,
    },
    Enum {
        values: Vec<String>,
    },
    Set {
        values: Vec<String>,
    },
    Json,
    Geometry,
    Vector {
        dims: u32,
    },
}

impl ColumnKind {
    /// Integers, floating point and DECIMAL: the types that can be `UNSIGNED`.
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            ColumnKind::TinyInt
                | ColumnKind::SmallInt
                | ColumnKind::MediumInt
                | ColumnKind::Int
                | ColumnKind::BigInt
                | ColumnKind::Float
                | ColumnKind::Double
                | ColumnKind::Decimal { .. }
        )
    }

    /// The `java.sql.Types` code Debezium's MySQL DDL parser assigns to a column of this
    /// kind (`binary`: BINARY/VARBINARY/BLOB rather than CHAR/VARCHAR/TEXT).
    pub fn jdbc_type(&self, binary: bool) -> i32 {
        match self {
            ColumnKind::TinyInt | ColumnKind::SmallInt => 5,
            ColumnKind::MediumInt | ColumnKind::Int | ColumnKind::Year => 4,
            ColumnKind::BigInt => -5,
            ColumnKind::Float => 6,
            ColumnKind::Double => 8,
            ColumnKind::Decimal { .. } => 3,
            ColumnKind::Bit { .. } => -7,
            ColumnKind::Date => 91,
            ColumnKind::Time { .. } => 92,
            ColumnKind::DateTime { .. } => 93,
            ColumnKind::Timestamp { .. } => 2014,
            ColumnKind::Char { .. } if binary => -2,
            ColumnKind::Char { .. } | ColumnKind::Enum { .. } | ColumnKind::Set { .. } => 1,
            ColumnKind::VarChar { .. } if binary => -3,
            ColumnKind::VarChar { .. } => 12,
            ColumnKind::Blob { .. } if binary => 2004,
            ColumnKind::Blob { .. } => 12,
            ColumnKind::Json | ColumnKind::Geometry | ColumnKind::Vector { .. } => 1111,
        }
    }

    /// CHAR, VARCHAR, TEXT/BLOB, ENUM and SET: the types whose values have a character set
    /// (the `binary` one for their binary variants).
    pub fn has_charset(&self) -> bool {
        matches!(
            self,
            ColumnKind::Char { .. }
                | ColumnKind::VarChar { .. }
                | ColumnKind::Blob { .. }
                | ColumnKind::Enum { .. }
                | ColumnKind::Set { .. }
        )
    }
}

/// What a column's declared type adds to its [`ColumnKind`]: types that share their kind
/// and wire layout with another type but are carried differently, recognised by the type
/// name of the DDL that defined the column ([`ColumnDdl::type_name`]) together with a kind
/// that fits it — `BOOLEAN` (a TINYINT(1) on the server, Connect `boolean` in Debezium),
/// `POINT` (a GEOMETRY, Debezium's `io.debezium.data.geometry.Point`) and MariaDB's `UUID`,
/// `INET4` and `INET6` (BINARY(16)/BINARY(4) in the log, their text form in events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// Nothing beyond the kind.
    Plain,
    Boolean,
    Point,
    Uuid,
    Inet4,
    Inet6,
}

impl Declared {
    /// UUID, INET4 and INET6: bytes in the binlog, the server's text form in events.
    pub fn is_text_form(self) -> bool {
        matches!(self, Declared::Uuid | Declared::Inet4 | Declared::Inet6)
    }

    /// The byte length of a text-form type's binary value (16 for UUID and INET6, 4 for INET4).
    pub fn binary_len(self) -> Option<usize> {
        match self {
            Declared::Uuid | Declared::Inet6 => Some(16),
            Declared::Inet4 => Some(4),
            _ => None,
        }
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnDesc {
    pub name: String,
    pub kind: ColumnKind,
    #[serde(default)]
    pub unsigned: bool,
    #[serde(default = "yes")]
    pub nullable: bool,
    #[serde(default = "utf8", with = "charset_serde")]
    pub charset: Charset,
    /// The column's `DEFAULT` clause; `None` when there is none (or it is unknown, as for
    /// catalogs persisted before defaults were tracked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<ColumnDefault>,
    /// What the DDL that defined the column said about it beyond decoding (declared type
    /// name, display width, charset name, comment, AUTO_INCREMENT), for schema-change
    /// events; empty when the column is known only from a table map.
    #[serde(default, skip_serializing_if = "ColumnDdl::is_empty")]
    pub ddl: ColumnDdl,
}

/// A column as its defining DDL (a statement in the log, or `SHOW CREATE TABLE` at the
/// snapshot) describes it, in the terms of Debezium's `io.debezium.connector.schema.Column`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnDdl {
    /// Upper-case type name as Debezium's DDL parser reports it (`INT`, `SMALLINT UNSIGNED`,
    /// `BOOLEAN`, `LONGTEXT`, `ENUM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// `java.sql.Types` code for `type_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jdbc_type: Option<i32>,
    /// The declared length: display width of integers, characters of CHAR/VARCHAR, digits
    /// of DECIMAL, fsp of temporal types, bits of BIT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<i64>,
    /// The MySQL charset name of a character column (declared, or inherited from the table,
    /// the database or the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset_name: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_increment: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl ColumnDdl {
    pub fn is_empty(&self) -> bool {
        *self == ColumnDdl::default()
    }
}

/// A column's `DEFAULT`, as written: the engine keeps the SQL meaning and leaves the
/// conversion to a Connect default (which depends on the column type and the handling modes)
/// to `envelope::convert::default_datum`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ColumnDefault {
    /// `DEFAULT NULL`.
    Null,
    /// A constant, as text: string literals unquoted and unescaped, numbers, `TRUE`/`FALSE`
    /// and temporal literals as written (`'2020-01-01 00:00:00'` → `2020-01-01 00:00:00`).
    Literal(String),
    /// A bit or hex literal (`b'101'`, `0x0F`, `X'0F'`): its bytes, big-endian.
    Bytes(Vec<u8>),
    /// `CURRENT_TIMESTAMP`, `NOW()` and their synonyms, with or without a precision.
    CurrentTimestamp,
    /// Any other expression (`(uuid())`, `curdate()`): computed per row, no constant value.
    Expression(String),
}

impl ColumnDefault {
    /// True for the names of `CURRENT_TIMESTAMP` and its synonyms (`now`, `localtime`,
    /// `localtimestamp`), with or without `()` or a precision, in any case.
    pub fn is_now_function(text: &str) -> bool {
        let t = text.trim().to_ascii_lowercase();
        let name = match t.split_once('(') {
            Some((n, rest)) => {
                let inner = rest.strip_suffix(')').unwrap_or("x");
                if !inner.trim().bytes().all(|b| b.is_ascii_digit()) {
                    return false;
                }
                n.trim()
            }
            None => t.as_str(),
        };
        matches!(
            name,
            "current_timestamp" | "now" | "localtime" | "localtimestamp"
        )
    }
}

fn yes() -> bool {
    true
}
fn utf8() -> Charset {
    Charset::Utf8
}

impl ColumnDesc {
    pub fn new(name: impl Into<String>, kind: ColumnKind) -> Self {
        Self {
            name: name.into(),
            kind,
            unsigned: false,
            nullable: true,
            charset: Charset::Utf8,
            default: None,
            ddl: ColumnDdl::default(),
        }
    }

    /// What the column's declared type adds to its kind ([`Declared`]); `Plain` when the
    /// DDL is unknown or its type name does not fit the kind.
    pub fn declared(&self) -> Declared {
        let Some(name) = self.ddl.type_name.as_deref() else {
            return Declared::Plain;
        };
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        match &self.kind {
            ColumnKind::TinyInt if is("BOOLEAN") || is("BOOL") => Declared::Boolean,
            ColumnKind::Geometry if is("POINT") => Declared::Point,
            ColumnKind::Char { max_bytes: 16 } if is("UUID") => Declared::Uuid,
            ColumnKind::Char { max_bytes: 16 } if is("INET6") => Declared::Inet6,
            ColumnKind::Char { max_bytes: 4 } if is("INET4") => Declared::Inet4,
            _ => Declared::Plain,
        }
    }

    /// True for columns whose values are bytes (BINARY, VARBINARY, BLOB).
    pub fn is_binary(&self) -> bool {
        matches!(
            self.kind,
            ColumnKind::Char { .. } | ColumnKind::VarChar { .. } | ColumnKind::Blob { .. }
        ) && self.charset.is_binary()
    }

    /// The SQL type name as Debezium reports it in `tableChanges` (`VARCHAR`, `INT UNSIGNED`).
    pub fn type_name(&self) -> String {
        let bin = self.charset.is_binary();
        let base = match &self.kind {
            ColumnKind::TinyInt => "TINYINT",
            ColumnKind::SmallInt => "SMALLINT",
            ColumnKind::MediumInt => "MEDIUMINT",
            ColumnKind::Int => "INT",
            ColumnKind::BigInt => "BIGINT",
            ColumnKind::Float => "FLOAT",
            ColumnKind::Double => "DOUBLE",
            ColumnKind::Decimal { .. } => "DECIMAL",
            ColumnKind::Bit { .. } => "BIT",
            ColumnKind::Year => "YEAR",
            ColumnKind::Date => "DATE",
            ColumnKind::Time { .. } => "TIME",
            ColumnKind::DateTime { .. } => "DATETIME",
            ColumnKind::Timestamp { .. } => "TIMESTAMP",
            ColumnKind::Char { .. } if bin => "BINARY",
            ColumnKind::Char { .. } => "CHAR",
            ColumnKind::VarChar { .. } if bin => "VARBINARY",
            ColumnKind::VarChar { .. } => "VARCHAR",
            ColumnKind::Blob { len_bytes } => match (bin, len_bytes) {
                (true, 1) => "TINYBLOB",
                (true, 2) => "BLOB",
                (true, 3) => "MEDIUMBLOB",
                (true, _) => "LONGBLOB",
                (false, 1) => "TINYTEXT",
                (false, 2) => "TEXT",
                (false, 3) => "MEDIUMTEXT",
                (false, _) => "LONGTEXT",
            },
            ColumnKind::Enum { .. } => "ENUM",
            ColumnKind::Set { .. } => "SET",
            ColumnKind::Json => "JSON",
            ColumnKind::Geometry => "GEOMETRY",
            ColumnKind::Vector { .. } => "VECTOR",
        };
        if self.kind.is_number() && self.unsigned {
            format!("{base} UNSIGNED")
        } else {
            base.to_string()
        }
    }
}

/// A table's structure at one point of the log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableDesc {
    pub db: String,
    pub name: String,
    pub columns: Vec<ColumnDesc>,
    /// Indexes into `columns` of the primary key, in key order (empty: no primary key).
    pub primary_key: Vec<usize>,
    /// The table's default charset name (declared, or inherited from its database), when
    /// the DDL that defined it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset_name: Option<String>,
    /// The table's `COMMENT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl TableDesc {
    /// `db.table`.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.db, self.name)
    }

    /// A stable fingerprint of the structure (names, types, defaults, key): equal structures
    /// share it.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv64::default();
        self.hash(&mut h);
        h.finish()
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for TableDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.db, self.name)
    }
}

/// FNV-1a: a fixed, platform-independent hash for fingerprints that are persisted.
#[derive(Default)]
struct Fnv64(u64);

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf29ce484222325
        } else {
            self.0
        };
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        self.0 = h;
    }
}

mod charset_serde {
    use super::*;

    pub fn serialize<S: Serializer>(cs: &Charset, s: S) -> Result<S::Ok, S::Error> {
        let name = match cs {
            Charset::Utf8 => "utf8mb4",
            Charset::Binary => "binary",
            Charset::Utf16Be => "utf16",
            Charset::Utf16Le => "utf16le",
            Charset::Utf32 => "utf32",
            Charset::Legacy(enc) => enc.name(),
        };
        s.serialize_str(name)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Charset, D::Error> {
        let name = String::deserialize(d)?;
        let cs = Charset::from_name(&name);
        if cs == Charset::Utf8 && !name.starts_with("utf8") {
            if let Some(enc) = encoding_rs::Encoding::for_label(name.as_bytes()) {
                return Ok(Charset::Legacy(enc));
            }
        }
        Ok(cs)
    }
}

impl Hash for Charset {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Charset::Legacy(enc) => enc.name().hash(state),
            other => std::mem::discriminant(other).hash(state),
        }
    }
}

/// Current table structures known from DDL or `information_schema`, by `(db, table)`.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    tables: HashMap<(String, String), Arc<TableDesc>>,
    /// Default charset of each database, and of the server (key ""), when known: what a
    /// table or column without a charset clause inherits.
    charsets: HashMap<String, String>,
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
        self.charsets.remove(db);
    }

    /// Records the default charset of database `db` (`""`: the server's).
    pub fn set_charset(&mut self, db: &str, charset: &str) {
        self.charsets
            .insert(db.to_string(), charset.to_ascii_lowercase());
    }

    /// The charset a new table of `db` inherits: the database's, else the server's.
    pub fn charset_of(&self, db: &str) -> Option<&str> {
        self.charsets
            .get(db)
            .or_else(|| self.charsets.get(""))
            .map(String::as_str)
    }

    pub fn tables(&self) -> impl Iterator<Item = &Arc<TableDesc>> {
        self.tables.values()
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
            charset_name: None,
            comment: None,
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
