//! Reading table structures from `information_schema`: the catalog's starting point when
//! the server does not log FULL table metadata, the source of `rowtide schema`, and the
//! table list for snapshots.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::catalog::{ColumnDesc, ColumnKind, TableDesc};
use crate::change::charset::Charset;
use crate::error::{classify_mysql, Result};
use crate::source::Filter;

/// Parses `enum('a','b''c')` / `set(...)` labels.
fn labels(column_type: &str) -> Vec<String> {
    let Some(start) = column_type.find('(') else {
        return vec![];
    };
    let body = &column_type[start + 1..column_type.rfind(')').unwrap_or(column_type.len())];
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    cur.push('\'');
                    i += 1;
                } else {
                    in_str = false;
                    out.push(std::mem::take(&mut cur));
                }
            } else if c == '\\' && i + 1 < chars.len() {
                cur.push(chars[i + 1]);
                i += 1;
            } else {
                cur.push(c);
            }
        } else if c == '\'' {
            in_str = true;
        }
        i += 1;
    }
    out
}

fn paren_numbers(column_type: &str) -> Vec<u32> {
    column_type
        .find('(')
        .map(|s| {
            column_type[s + 1..]
                .split([',', ')'])
                .take_while(|p| !p.is_empty())
                .filter_map(|p| p.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Maps one `information_schema.COLUMNS` row to a column description.
pub fn column_from_info(
    name: &str,
    data_type: &str,
    column_type: &str,
    charset: Option<&str>,
    nullable: bool,
    char_max_bytes: Option<u64>,
) -> ColumnDesc {
    let dt = data_type.to_ascii_lowercase();
    let ct = column_type.to_ascii_lowercase();
    let nums = paren_numbers(&ct);
    let fsp = nums.first().copied().unwrap_or(0) as u8;
    let unsigned = ct.contains("unsigned");
    let mut cs = charset.map(Charset::from_name).unwrap_or(Charset::Utf8);
    let kind = match dt.as_str() {
        "tinyint" | "bool" | "boolean" => ColumnKind::TinyInt,
        "smallint" => ColumnKind::SmallInt,
        "mediumint" => ColumnKind::MediumInt,
        "int" | "integer" => ColumnKind::Int,
        "bigint" => ColumnKind::BigInt,
        "float" => ColumnKind::Float,
        "double" | "real" | "double precision" => ColumnKind::Double,
        "decimal" | "numeric" | "fixed" => ColumnKind::Decimal {
            precision: nums.first().copied().unwrap_or(10) as u8,
            scale: nums.get(1).copied().unwrap_or(0) as u8,
        },
        "bit" => ColumnKind::Bit {
            bits: nums.first().copied().unwrap_or(1) as u16,
        },
        "year" => ColumnKind::Year,
        "date" => ColumnKind::Date,
        "time" => ColumnKind::Time { fsp },
        "datetime" => ColumnKind::DateTime { fsp },
        "timestamp" => ColumnKind::Timestamp { fsp },
        "char" | "binary" => {
            if dt == "binary" {
                cs = Charset::Binary;
            }
            ColumnKind::Char {
                max_bytes: char_max_bytes.unwrap_or(nums.first().copied().unwrap_or(1) as u64)
                    as u32,
            }
        }
        "varchar" | "varbinary" => {
            if dt == "varbinary" {
                cs = Charset::Binary;
            }
            ColumnKind::VarChar {
                max_bytes: char_max_bytes.unwrap_or(nums.first().copied().unwrap_or(255) as u64)
                    as u32,
            }
        }
        "tinytext" | "tinyblob" => ColumnKind::Blob { len_bytes: 1 },
        "text" | "blob" => ColumnKind::Blob { len_bytes: 2 },
        "mediumtext" | "mediumblob" => ColumnKind::Blob { len_bytes: 3 },
        "longtext" | "longblob" => ColumnKind::Blob { len_bytes: 4 },
        "enum" => ColumnKind::Enum {
            values: labels(column_type),
        },
        "set" => ColumnKind::Set {
            values: labels(column_type),
        },
        "json" => ColumnKind::Json,
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => ColumnKind::Geometry,
        "vector" => ColumnKind::Vector {
            dims: nums.first().copied().unwrap_or(0),
        },
        _ => ColumnKind::Blob { len_bytes: 4 },
    };
    if dt.ends_with("blob") {
        cs = Charset::Binary;
    }
    ColumnDesc {
        name: name.to_string(),
        kind,
        unsigned,
        nullable,
        charset: cs,
    }
}

/// Reads the captured tables' structures (base tables only), sorted by name.
pub async fn load_tables(conn: &mut Conn, filter: &Filter) -> Result<Vec<TableDesc>> {
    type ColRow = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<u64>,
    );
    let cols: Vec<ColRow> = conn
        .query(
            "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, \
             c.CHARACTER_SET_NAME, c.IS_NULLABLE, c.CHARACTER_OCTET_LENGTH \
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
             WHERE t.TABLE_TYPE = 'BASE TABLE' \
             AND c.TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') \
             ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION",
        )
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    let keys: Vec<(String, String, String)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE CONSTRAINT_NAME = 'PRIMARY' \
             AND TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        )
        .await
        .map_err(|e| classify_mysql(e, ""))?;
    let mut tables: Vec<TableDesc> = Vec::new();
    for (db, table, col, dt, ct, cs, nullable, octets) in cols {
        if !filter.captures(&db, &table) {
            continue;
        }
        let fixed_len = matches!(
            dt.to_ascii_lowercase().as_str(),
            "char" | "binary" | "varchar" | "varbinary"
        );
        let c = column_from_info(
            &col,
            &dt,
            &ct,
            cs.as_deref(),
            nullable == "YES",
            if fixed_len { octets } else { None },
        );
        match tables.last_mut() {
            Some(t) if t.db == db && t.name == table => t.columns.push(c),
            _ => tables.push(TableDesc {
                db,
                name: table,
                columns: vec![c],
                primary_key: vec![],
            }),
        }
    }
    for (db, table, col) in keys {
        if let Some(t) = tables.iter_mut().find(|t| t.db == db && t.name == table) {
            if let Some(i) = t.column_index(&col) {
                t.primary_key.push(i);
            }
        }
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_column_types() {
        let c = column_from_info(
            "e",
            "enum",
            "enum('a','it''s','c')",
            Some("utf8mb4"),
            true,
            None,
        );
        assert_eq!(
            c.kind,
            ColumnKind::Enum {
                values: vec!["a".into(), "it's".into(), "c".into()]
            }
        );
        let c = column_from_info("d", "decimal", "decimal(10,2) unsigned", None, false, None);
        assert_eq!(
            c.kind,
            ColumnKind::Decimal {
                precision: 10,
                scale: 2
            }
        );
        assert!(c.unsigned && !c.nullable);
        let c = column_from_info("t", "datetime", "datetime(6)", None, true, None);
        assert_eq!(c.kind, ColumnKind::DateTime { fsp: 6 });
        let c = column_from_info("b", "varbinary", "varbinary(16)", None, true, Some(16));
        assert!(c.is_binary());
    }
}
