//! Reading a TABLE_MAP event: the wire layout of each column (how many bytes, which
//! encoding) and, when the server logs `binlog_row_metadata=FULL`, the complete
//! [`TableDesc`] — names, signedness, charsets, ENUM/SET labels and primary key — which
//! [`carry_over`] completes from the catalog (JSON-ness, defaults).

use mysql_common::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_common::constants::ColumnType as T;

use crate::model::{Charset, ColumnDesc, ColumnKind, TableDesc};

/// How one column's value is laid out in a row image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Tiny,
    Short,
    Int24,
    Long,
    LongLong,
    Float,
    Double,
    NewDecimal {
        precision: u8,
        scale: u8,
    },
    Year,
    Date,
    /// Old TIME (before 5.6.4): signed HHMMSS in 3 bytes.
    Time,
    Time2 {
        fsp: u8,
    },
    /// Old DATETIME: YYYYMMDDhhmmss in 8 bytes.
    DateTime,
    DateTime2 {
        fsp: u8,
    },
    Timestamp,
    Timestamp2 {
        fsp: u8,
    },
    Bit {
        bits: u16,
    },
    /// VARCHAR / VARBINARY: length prefix of 1 byte when `max_len < 256`, else 2.
    VarString {
        max_len: u16,
    },
    /// CHAR / BINARY: same rule as VarString, on the column's maximum byte length.
    FixedString {
        max_len: u16,
    },
    /// MariaDB `VARCHAR(n)/VARBINARY(n) COMPRESSED` (type 141): laid out like VarString
    /// (`max_len` is the stored maximum: the value's maximum byte length + 1 header byte),
    /// the bytes are the compressed stored form (see `decode::compressed`).
    CompressedVarString {
        max_len: u16,
    },
    /// MariaDB `BLOB/TEXT COMPRESSED` (type 140): laid out like Blob, compressed bytes.
    CompressedBlob {
        len_bytes: u8,
    },
    Enum {
        pack_len: u8,
    },
    Set {
        pack_len: u8,
    },
    /// BLOB/TEXT and friends: `len_bytes`-byte length prefix, then the data.
    Blob {
        len_bytes: u8,
    },
    Json {
        len_bytes: u8,
    },
    Geometry {
        len_bytes: u8,
    },
    Vector {
        len_bytes: u8,
    },
}

impl Wire {
    /// The column kind that follows from the wire layout alone (MINIMAL metadata).
    pub fn default_kind(self) -> ColumnKind {
        match self {
            Wire::Tiny => ColumnKind::TinyInt,
            Wire::Short => ColumnKind::SmallInt,
            Wire::Int24 => ColumnKind::MediumInt,
            Wire::Long => ColumnKind::Int,
            Wire::LongLong => ColumnKind::BigInt,
            Wire::Float => ColumnKind::Float,
            Wire::Double => ColumnKind::Double,
            Wire::NewDecimal { precision, scale } => ColumnKind::Decimal { precision, scale },
            Wire::Year => ColumnKind::Year,
            Wire::Date => ColumnKind::Date,
            Wire::Time => ColumnKind::Time { fsp: 0 },
            Wire::Time2 { fsp } => ColumnKind::Time { fsp },
            Wire::DateTime => ColumnKind::DateTime { fsp: 0 },
            Wire::DateTime2 { fsp } => ColumnKind::DateTime { fsp },
            Wire::Timestamp => ColumnKind::Timestamp { fsp: 0 },
            Wire::Timestamp2 { fsp } => ColumnKind::Timestamp { fsp },
            Wire::Bit { bits } => ColumnKind::Bit { bits },
            Wire::VarString { max_len } => ColumnKind::VarChar {
                max_bytes: max_len as u32,
            },
            Wire::CompressedVarString { max_len } => ColumnKind::VarChar {
                max_bytes: max_len.saturating_sub(1) as u32,
            },
            Wire::CompressedBlob { len_bytes } => ColumnKind::Blob { len_bytes },
            Wire::FixedString { max_len } => ColumnKind::Char {
                max_bytes: max_len as u32,
            },
            Wire::Enum { .. } => ColumnKind::Enum { values: vec![] },
            Wire::Set { .. } => ColumnKind::Set { values: vec![] },
            Wire::Blob { len_bytes } => ColumnKind::Blob { len_bytes },
            Wire::Json { .. } => ColumnKind::Json,
            Wire::Geometry { .. } => ColumnKind::Geometry,
            Wire::Vector { len_bytes: _ } => ColumnKind::Vector { dims: 0 },
        }
    }

    /// Whether the server's optional metadata lists this column among numeric columns
    /// (signedness bits).
    fn is_numeric(self) -> bool {
        matches!(
            self,
            Wire::Tiny
                | Wire::Short
                | Wire::Int24
                | Wire::Long
                | Wire::LongLong
                | Wire::Float
                | Wire::Double
                | Wire::NewDecimal { .. }
        )
        // Not YEAR: the server's `is_numeric_type` (log_event.cc) leaves it out, although
        // mysql_common counts it; counting it here would shift every later column's bit.
    }

    /// Whether the server lists this column in the charset metadata. The server's
    /// `is_character_type` includes GEOMETRY ("base class is blob") and, on MySQL 9,
    /// VECTOR; skipping them would give the next text column their `binary` collation.
    fn is_character(self) -> bool {
        matches!(
            self,
            Wire::VarString { .. }
                | Wire::FixedString { .. }
                | Wire::Blob { .. }
                | Wire::CompressedVarString { .. }
                | Wire::CompressedBlob { .. }
                | Wire::Geometry { .. }
                | Wire::Vector { .. }
        )
    }
}

/// MariaDB's binlog-only type codes for columns with the `COMPRESSED` attribute
/// (`MYSQL_TYPE_BLOB_COMPRESSED = 140`, `MYSQL_TYPE_VARCHAR_COMPRESSED = 141` in its
/// `mysql_com.h`; a 10.11 server logs TEXT/BLOB COMPRESSED as 140 and VARCHAR/VARBINARY
/// COMPRESSED as 141). mysql_common does not know them, so the type bytes and metadata are
/// read here. Their metadata is that of BLOB (1 byte: length-prefix size) and VARCHAR
/// (2 bytes: maximum stored length, which counts the compression header byte:
/// `VARCHAR(100) COMPRESSED` in utf8mb4 says 401).
const MARIADB_BLOB_COMPRESSED: u8 = 140;
const MARIADB_VARCHAR_COMPRESSED: u8 = 141;

/// Reads the wire layout of every column of a table map; `Err` names the column index and
/// the unsupported type.
pub fn layout(tme: &TableMapEvent<'_>) -> Result<Vec<Wire>, String> {
    let (types, metas) = raw_types_and_metadata(tme)?;
    let mut out = Vec::with_capacity(types.len());
    for (i, (&code, meta)) in types.iter().zip(&metas).enumerate() {
        let m = |k: usize| meta.get(k).copied().unwrap_or(0);
        let w = match code {
            MARIADB_VARCHAR_COMPRESSED => Wire::CompressedVarString {
                max_len: u16::from_le_bytes([m(0), m(1)]),
            },
            MARIADB_BLOB_COMPRESSED => Wire::CompressedBlob { len_bytes: m(0) },
            _ => {
                let raw = T::try_from(code)
                    .map_err(|_| format!("column {i}: unknown binlog column type {code}"))?;
                wire_of(i, raw, &m)?
            }
        };
        if let Wire::Blob { len_bytes }
        | Wire::CompressedBlob { len_bytes }
        | Wire::Json { len_bytes }
        | Wire::Geometry { len_bytes }
        | Wire::Vector { len_bytes } = w
        {
            if !(1..=4).contains(&len_bytes) {
                return Err(format!("column {i}: bad length-prefix size {len_bytes}"));
            }
        }
        out.push(w);
    }
    Ok(out)
}

/// The layout of column `i` of a type mysql_common knows, from its metadata bytes `m`.
fn wire_of(i: usize, raw: T, m: &dyn Fn(usize) -> u8) -> Result<Wire, String> {
    Ok(match raw {
        T::MYSQL_TYPE_TINY => Wire::Tiny,
        T::MYSQL_TYPE_SHORT => Wire::Short,
        T::MYSQL_TYPE_INT24 => Wire::Int24,
        T::MYSQL_TYPE_LONG => Wire::Long,
        T::MYSQL_TYPE_LONGLONG => Wire::LongLong,
        T::MYSQL_TYPE_FLOAT => Wire::Float,
        T::MYSQL_TYPE_DOUBLE => Wire::Double,
        T::MYSQL_TYPE_NEWDECIMAL => Wire::NewDecimal {
            precision: m(0),
            scale: m(1),
        },
        T::MYSQL_TYPE_YEAR => Wire::Year,
        T::MYSQL_TYPE_DATE | T::MYSQL_TYPE_NEWDATE => Wire::Date,
        T::MYSQL_TYPE_TIME => Wire::Time,
        T::MYSQL_TYPE_TIME2 => Wire::Time2 { fsp: m(0) },
        T::MYSQL_TYPE_DATETIME => Wire::DateTime,
        T::MYSQL_TYPE_DATETIME2 => Wire::DateTime2 { fsp: m(0) },
        T::MYSQL_TYPE_TIMESTAMP => Wire::Timestamp,
        T::MYSQL_TYPE_TIMESTAMP2 => Wire::Timestamp2 { fsp: m(0) },
        T::MYSQL_TYPE_BIT => Wire::Bit {
            bits: m(1) as u16 * 8 + m(0) as u16,
        },
        T::MYSQL_TYPE_VARCHAR | T::MYSQL_TYPE_VAR_STRING => Wire::VarString {
            max_len: u16::from_le_bytes([m(0), m(1)]),
        },
        T::MYSQL_TYPE_STRING => {
            let (b0, b1) = (m(0), m(1));
            let (real, len) = if b0 != 0 && (b0 & 0x30) != 0x30 {
                // CHAR longer than 255 bytes: two bits of the length live in byte 0.
                (b0 | 0x30, b1 as u16 | ((((b0 & 0x30) ^ 0x30) as u16) << 4))
            } else {
                (b0, b1 as u16)
            };
            match real {
                0xf7 => Wire::Enum { pack_len: b1 },
                0xf8 => Wire::Set { pack_len: b1 },
                _ => Wire::FixedString { max_len: len },
            }
        }
        T::MYSQL_TYPE_ENUM => Wire::Enum { pack_len: m(1) },
        T::MYSQL_TYPE_SET => Wire::Set { pack_len: m(1) },
        T::MYSQL_TYPE_TINY_BLOB
        | T::MYSQL_TYPE_MEDIUM_BLOB
        | T::MYSQL_TYPE_LONG_BLOB
        | T::MYSQL_TYPE_BLOB => Wire::Blob { len_bytes: m(0) },
        T::MYSQL_TYPE_JSON => Wire::Json { len_bytes: m(0) },
        T::MYSQL_TYPE_GEOMETRY => Wire::Geometry { len_bytes: m(0) },
        T::MYSQL_TYPE_VECTOR => Wire::Vector { len_bytes: m(0) },
        other => {
            return Err(format!(
                "column {i}: binlog column type {other:?} is not supported"
            ))
        }
    })
}

/// How many metadata bytes the table map holds for a column of type `code`.
fn metadata_size(code: u8) -> Option<usize> {
    Some(match code {
        MARIADB_VARCHAR_COMPRESSED => 2,
        MARIADB_BLOB_COMPRESSED => 1,
        _ => match T::try_from(code).ok()? {
            T::MYSQL_TYPE_TINY_BLOB
            | T::MYSQL_TYPE_BLOB
            | T::MYSQL_TYPE_MEDIUM_BLOB
            | T::MYSQL_TYPE_LONG_BLOB
            | T::MYSQL_TYPE_DOUBLE
            | T::MYSQL_TYPE_FLOAT
            | T::MYSQL_TYPE_GEOMETRY
            | T::MYSQL_TYPE_TIME2
            | T::MYSQL_TYPE_DATETIME2
            | T::MYSQL_TYPE_TIMESTAMP2
            | T::MYSQL_TYPE_JSON
            | T::MYSQL_TYPE_VECTOR => 1,
            T::MYSQL_TYPE_VARCHAR
            | T::MYSQL_TYPE_NEWDECIMAL
            | T::MYSQL_TYPE_SET
            | T::MYSQL_TYPE_ENUM
            | T::MYSQL_TYPE_STRING
            | T::MYSQL_TYPE_BIT => 2,
            T::MYSQL_TYPE_TYPED_ARRAY => return None,
            _ => 0,
        },
    })
}

/// The raw type byte and metadata bytes of every column, read in one pass from the
/// event's own bytes (mysql_common's accessors stop at a type code it does not know, and
/// rescan from column 0 on every call).
fn raw_types_and_metadata(tme: &TableMapEvent<'_>) -> Result<(Vec<u8>, Vec<Vec<u8>>), String> {
    use mysql_common::proto::MySerialize;
    let n = tme.columns_count() as usize;
    let mut buf = Vec::new();
    tme.serialize(&mut buf);
    let mut cur = Bytes(&buf);
    let bad = |what: &str| format!("table map cannot be read: it ends inside the {what}");
    cur.take(8).ok_or_else(|| bad("table id"))?;
    for what in ["database name", "table name"] {
        // length byte, name, NUL
        let len = cur.take(1).ok_or_else(|| bad(what))?[0] as usize;
        cur.take(len + 1).ok_or_else(|| bad(what))?;
    }
    if cur.lenenc().ok_or_else(|| bad("column count"))? != n as u64 {
        return Err("table map cannot be read: column count does not match".into());
    }
    let types = cur.take(n).ok_or_else(|| bad("column types"))?.to_vec();
    let meta_len = cur.lenenc().ok_or_else(|| bad("metadata length"))? as usize;
    let mut meta = Bytes(cur.take(meta_len).ok_or_else(|| bad("column metadata"))?);
    let mut metas = Vec::with_capacity(n);
    for (i, &code) in types.iter().enumerate() {
        let size = metadata_size(code)
            .ok_or_else(|| format!("column {i}: unknown binlog column type {code}"))?;
        let m = meta
            .take(size)
            .ok_or_else(|| format!("column {i}: metadata cannot be read"))?;
        metas.push(m.to_vec());
    }
    Ok((types, metas))
}

/// A minimal reader over a table map's bytes.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    /// A length-encoded integer.
    fn lenenc(&mut self) -> Option<u64> {
        let first = self.take(1)?[0];
        let width = match first {
            0..=0xfa => return Some(first as u64),
            0xfc => 2,
            0xfd => 3,
            0xfe => 8,
            _ => return None,
        };
        let b = self.take(width)?;
        Some(b.iter().rev().fold(0u64, |acc, &x| acc << 8 | x as u64))
    }
}

/// Builds the table's description from a FULL-metadata table map; `None` when the server
/// did not log column names (MINIMAL metadata).
pub fn describe(tme: &TableMapEvent<'_>, wires: &[Wire]) -> Result<Option<TableDesc>, String> {
    let ext = OptionalMetaExtractor::new(tme.iter_optional_meta())
        .map_err(|e| format!("optional metadata: {e}"))?;
    let names: Vec<String> = ext
        .iter_column_name()
        .map(|r| r.map(|n| n.name().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("column names: {e}"))?;
    if names.len() != wires.len() {
        return Ok(None);
    }
    build(tme, wires, &ext, names, false).map(Some)
}

/// Builds a description from a table map without column names (MINIMAL metadata): the
/// names are `@1`, `@2`, … (as `mysqlbinlog -v` prints them); types, signedness and
/// charsets come from the wire layout and whatever optional metadata the server logged
/// (MySQL 8 logs signedness and charsets even with MINIMAL). Only for replaying files whose
/// schema is unknown — the names say nothing about the real table.
pub fn describe_positional(tme: &TableMapEvent<'_>, wires: &[Wire]) -> Result<TableDesc, String> {
    let ext = OptionalMetaExtractor::new(tme.iter_optional_meta())
        .map_err(|e| format!("optional metadata: {e}"))?;
    let names = (1..=wires.len()).map(|i| format!("@{i}")).collect();
    build(tme, wires, &ext, names, true)
}

/// ENUM/SET labels and VECTOR dimensions from the optional metadata, in column order.
struct Extras {
    enums: std::vec::IntoIter<Vec<String>>,
    sets: std::vec::IntoIter<Vec<String>>,
    vector_dims: std::vec::IntoIter<u32>,
}

/// Reads the ENUM/SET labels and VECTOR dimensions the server logged for the table.
fn read_extras(tme: &TableMapEvent<'_>) -> Result<Extras, String> {
    let mut enum_values: Vec<Vec<String>> = Vec::new();
    let mut set_values: Vec<Vec<String>> = Vec::new();
    let mut vector_dims: Vec<u32> = Vec::new();
    for field in tme.iter_optional_meta() {
        match field.map_err(|e| format!("optional metadata: {e}"))? {
            OptionalMetadataField::EnumStrValue(v) => {
                for col in v.iter_values() {
                    let col = col.map_err(|e| format!("enum labels: {e}"))?;
                    enum_values.push(
                        col.values()
                            .iter()
                            .map(|x| x.value().into_owned())
                            .collect(),
                    );
                }
            }
            OptionalMetadataField::SetStrValue(v) => {
                for col in v.iter_values() {
                    let col = col.map_err(|e| format!("set labels: {e}"))?;
                    set_values.push(
                        col.values()
                            .iter()
                            .map(|x| x.value().into_owned())
                            .collect(),
                    );
                }
            }
            OptionalMetadataField::Dimensionality(v) => {
                for d in v.iter_dimensionalities() {
                    vector_dims.push(d.map_err(|e| format!("vector dimensions: {e}"))? as u32);
                }
            }
            _ => {}
        }
    }
    Ok(Extras {
        enums: enum_values.into_iter(),
        sets: set_values.into_iter(),
        vector_dims: vector_dims.into_iter(),
    })
}

impl Extras {
    /// The kind of a column laid out as `w`, with the next labels or dimensions filled in.
    fn kind_for(&mut self, w: Wire) -> ColumnKind {
        let mut kind = w.default_kind();
        match &mut kind {
            ColumnKind::Enum { values } => *values = self.enums.next().unwrap_or_default(),
            ColumnKind::Set { values } => *values = self.sets.next().unwrap_or_default(),
            ColumnKind::Vector { dims } => *dims = self.vector_dims.next().unwrap_or(0),
            _ => {}
        }
        kind
    }
}

/// Builds a description from the layout, the optional metadata and the column names.
fn build(
    tme: &TableMapEvent<'_>,
    wires: &[Wire],
    ext: &OptionalMetaExtractor<'_>,
    names: Vec<String>,
    names_are_positional: bool,
) -> Result<TableDesc, String> {
    let mut extras = read_extras(tme)?;
    let mut signed = ext.iter_signedness();
    let mut charsets = ext.iter_charset();
    let mut enum_set_charsets = ext.iter_enum_and_set_charset();
    let nulls = tme.null_bitmask();
    let mut columns = Vec::with_capacity(wires.len());
    for (i, (&w, name)) in wires.iter().zip(names).enumerate() {
        let unsigned = if w.is_numeric() {
            signed.next().unwrap_or(false)
        } else {
            false
        };
        let charset = if w.is_character() {
            text_charset(
                w,
                next_collation(&mut charsets, "charsets")?,
                names_are_positional,
            )
        } else if matches!(w, Wire::Enum { .. } | Wire::Set { .. }) {
            match next_collation(&mut enum_set_charsets, "enum/set charsets")? {
                0 => Charset::Utf8,
                id => Charset::from_collation(id),
            }
        } else {
            Charset::Utf8
        };
        columns.push(ColumnDesc {
            name,
            kind: extras.kind_for(w),
            unsigned,
            nullable: nulls.get(i).map(|b| *b).unwrap_or(true),
            charset,
            // The binlog carries no defaults: `carry_over` takes them from the catalog.
            default: None,
            ddl: Default::default(),
        });
    }
    let primary_key: Vec<usize> = ext
        .iter_primary_key()
        .map(|r| r.map(|i| i as usize))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("primary key: {e}"))?;
    Ok(TableDesc {
        db: tme.database_name().into_owned(),
        name: tme.table_name().into_owned(),
        columns,
        primary_key,
        charset_name: None,
        comment: None,
    })
}

/// The next collation id from a charset metadata iterator, 0 when it has none left;
/// `what` names the metadata in the error.
fn next_collation(
    ids: &mut impl Iterator<Item = std::io::Result<u16>>,
    what: &str,
) -> Result<u16, String> {
    Ok(ids
        .next()
        .transpose()
        .map_err(|e| format!("{what}: {e}"))?
        .unwrap_or(0))
}

/// The charset of a column the server lists in the charset metadata, from its collation id.
fn text_charset(w: Wire, id: u16, names_are_positional: bool) -> Charset {
    if matches!(w, Wire::Geometry { .. } | Wire::Vector { .. }) {
        Charset::Binary
    } else if id == 0 {
        // No charset metadata (MySQL 5.7, MariaDB < 10.5): text unless the
        // catalog says otherwise; BLOB columns are only safe as bytes.
        if matches!(w, Wire::Blob { .. } | Wire::CompressedBlob { .. }) && names_are_positional {
            Charset::Binary
        } else {
            Charset::Utf8
        }
    } else {
        Charset::from_collation(id)
    }
}

/// Completes a description built from a table map with what only the catalog knows about
/// the same table: the JSON-ness of MariaDB JSON columns (LONGTEXT in the log) and column
/// defaults (the binlog carries none). A column takes over only from the catalog column of
/// the same name and kind, so a catalog that is out of step never lends a default to a
/// different column. (The catalog holds no stale structure to lend from: a table whose DDL
/// was not followed is dropped from it, see `source::events::ddl_guard`.)
pub fn carry_over(desc: &mut TableDesc, known: &TableDesc) {
    for c in desc.columns.iter_mut() {
        let Some(k) = known
            .columns
            .iter()
            .find(|k| k.name.eq_ignore_ascii_case(&c.name))
        else {
            continue;
        };
        if k.kind == ColumnKind::Json && matches!(c.kind, ColumnKind::Blob { .. }) {
            c.kind = ColumnKind::Json;
        }
        if std::mem::discriminant(&c.kind) == std::mem::discriminant(&k.kind) {
            c.default = k.default.clone();
            c.ddl = k.ddl.clone();
        }
    }
    desc.charset_name = known.charset_name.clone();
    desc.comment = known.comment.clone();
}

/// Checks that a catalog description (MINIMAL metadata) fits the table map's layout, so
/// that values are never read under the wrong column.
pub fn check_fits(desc: &TableDesc, wires: &[Wire]) -> Result<(), String> {
    if desc.columns.len() != wires.len() {
        return Err(format!(
            "the binlog row has {} columns but the known schema of {} has {} ({}); \
             the schema history is out of step with the log",
            wires.len(),
            desc.full_name(),
            desc.columns.len(),
            desc.columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (c, w) in desc.columns.iter().zip(wires) {
        let ok = match (&c.kind, w) {
            // MariaDB JSON is LONGTEXT
            (ColumnKind::Json, Wire::Blob { .. } | Wire::CompressedBlob { .. }) => true,
            (ColumnKind::Enum { .. }, Wire::Enum { .. })
            | (ColumnKind::Set { .. }, Wire::Set { .. }) => true,
            (
                ColumnKind::Char { .. } | ColumnKind::VarChar { .. },
                Wire::VarString { .. } | Wire::FixedString { .. },
            ) => true,
            (k, w) => std::mem::discriminant(k) == std::mem::discriminant(&w.default_kind()),
        };
        if !ok {
            return Err(format!(
                "column {}.{} is known as {} but the binlog row carries {:?}; \
                 the schema history is out of step with the log",
                desc.full_name(),
                c.name,
                c.type_name(),
                w
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ColumnDefault;

    #[test]
    fn carry_over_takes_defaults_by_name_and_kind() {
        let table = |cols: Vec<ColumnDesc>| TableDesc {
            db: "d".into(),
            name: "t".into(),
            columns: cols,
            primary_key: vec![],
            charset_name: None,
            comment: None,
        };
        let with = |mut c: ColumnDesc, d: &str| {
            c.default = Some(ColumnDefault::Literal(d.into()));
            c
        };
        let known = table(vec![
            with(ColumnDesc::new("a", ColumnKind::Int), "1"),
            with(ColumnDesc::new("b", ColumnKind::Int), "2"),
            ColumnDesc::new("j", ColumnKind::Json),
            with(ColumnDesc::new("s", ColumnKind::Int), "3"),
        ]);
        // From the table map: `b` moved, `s` changed type, `new` is unknown to the catalog.
        let mut desc = table(vec![
            ColumnDesc::new("B", ColumnKind::Int),
            ColumnDesc::new("a", ColumnKind::Int),
            ColumnDesc::new("j", ColumnKind::Blob { len_bytes: 4 }),
            ColumnDesc::new("s", ColumnKind::VarChar { max_bytes: 40 }),
            ColumnDesc::new("new", ColumnKind::Int),
        ]);
        carry_over(&mut desc, &known);
        let defaults: Vec<Option<ColumnDefault>> =
            desc.columns.iter().map(|c| c.default.clone()).collect();
        let lit = |s: &str| Some(ColumnDefault::Literal(s.into()));
        assert_eq!(defaults, vec![lit("2"), lit("1"), None, None, None]);
        assert_eq!(desc.columns[2].kind, ColumnKind::Json);
    }
}
