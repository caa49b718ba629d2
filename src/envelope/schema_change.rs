//! Schema-change events on the `<prefix>` topic: Debezium's `SchemaChangeKey`
//! `{databaseName}` and `SchemaChangeValue` `{source, ts_ms, databaseName, schemaName, ddl,
//! tableChanges}` with the `io.debezium.connector.schema.{Change,Table,Column}` structs of
//! `SchemaFactory` (Debezium 3.6).
//!
//! Invariant: field order and optionality are those of `SchemaFactory.schemaHistory*`.

use crate::envelope::schema::{array, boolean, int32, int64, string, Datum, Field, Schema};
use crate::envelope::source_info::{source_datum, source_schema, SourceFields};
use crate::model::{
    Charset, ColumnDefault, ColumnDesc, ColumnKind, Flavor, SchemaChange, TableDesc,
};

pub fn key_schema(flavor: Flavor) -> Schema {
    Schema::strukt(
        format!(
            "io.debezium.connector.{}.SchemaChangeKey",
            flavor.connector()
        ),
        vec![Field::new("databaseName", string())],
    )
    .version(1)
}

fn column_schema() -> Schema {
    Schema::strukt(
        "io.debezium.connector.schema.Column",
        vec![
            Field::new("name", string()),
            Field::new("jdbcType", int32()),
            Field::new("nativeType", int32().optional()),
            Field::new("typeName", string()),
            Field::new("typeExpression", string().optional()),
            Field::new("charsetName", string().optional()),
            Field::new("length", int32().optional()),
            Field::new("scale", int32().optional()),
            Field::new("position", int32()),
            Field::new("optional", boolean().optional()),
            Field::new("autoIncremented", boolean().optional()),
            Field::new("generated", boolean().optional()),
            Field::new("comment", string().optional()),
            Field::new("defaultValueExpression", string().optional()),
            Field::new("enumValues", array(string()).optional()),
        ],
    )
    .version(1)
}

fn table_schema() -> Schema {
    Schema::strukt(
        "io.debezium.connector.schema.Table",
        vec![
            Field::new("defaultCharsetName", string().optional()),
            Field::new("primaryKeyColumnNames", array(string()).optional()),
            Field::new("columns", array(column_schema())),
            Field::new("comment", string().optional()),
        ],
    )
    .version(1)
    .optional()
}

fn change_schema() -> Schema {
    Schema::strukt(
        "io.debezium.connector.schema.Change",
        vec![
            Field::new("type", string()),
            Field::new("id", string()),
            Field::new("table", table_schema()),
        ],
    )
    .version(1)
}

pub fn value_schema(flavor: Flavor) -> Schema {
    Schema::strukt(
        format!(
            "io.debezium.connector.{}.SchemaChangeValue",
            flavor.connector()
        ),
        vec![
            Field::new("source", source_schema(flavor)),
            Field::new("ts_ms", int64()),
            Field::new("databaseName", string().optional()),
            Field::new("schemaName", string().optional()),
            Field::new("ddl", string().optional()),
            Field::new("tableChanges", array(change_schema())),
        ],
    )
    .version(1)
}

/// java.sql.Types code Debezium's MySQL DDL parser assigns to a column type.
pub fn jdbc_type(c: &ColumnDesc) -> i32 {
    c.kind.jdbc_type(c.charset.is_binary())
}

fn charset_name(c: &ColumnDesc) -> Option<String> {
    if !c.kind.has_charset() || c.charset.is_binary() {
        return None;
    }
    Some(match c.charset {
        Charset::Utf8 => "utf8mb4".to_string(),
        Charset::Binary => "binary".to_string(),
        Charset::Utf16Be => "utf16".to_string(),
        Charset::Utf16Le => "utf16le".to_string(),
        Charset::Utf32 => "utf32".to_string(),
        Charset::Legacy(enc) if enc == encoding_rs::WINDOWS_1252 => "latin1".to_string(),
        Charset::Legacy(enc) => enc.name().to_lowercase(),
    })
}

pub(crate) fn length_scale(c: &ColumnDesc) -> (Option<i64>, Option<i64>) {
    let per_char = match c.charset {
        Charset::Utf8 | Charset::Utf16Be | Charset::Utf16Le | Charset::Utf32 => 4,
        _ => 1,
    };
    match &c.kind {
        ColumnKind::Decimal { precision, scale } => (Some(*precision as i64), Some(*scale as i64)),
        ColumnKind::Bit { bits } => (Some(*bits as i64), None),
        ColumnKind::Time { fsp } | ColumnKind::DateTime { fsp } | ColumnKind::Timestamp { fsp }
            if *fsp > 0 =>
        {
            (Some(*fsp as i64), None)
        }
        ColumnKind::Char { max_bytes } | ColumnKind::VarChar { max_bytes } => {
            (Some((*max_bytes / per_char) as i64), None)
        }
        ColumnKind::Vector { dims } => (Some(*dims as i64), None),
        _ => (None, None),
    }
}

/// One column: as the DDL that defined it describes it (see [`crate::model::ColumnDdl`]),
/// else derived from its kind (a column known only from a table map).
fn column_datum(c: &ColumnDesc, position: usize) -> Datum {
    let from_ddl = !c.ddl.is_empty();
    let (length, scale) = if from_ddl {
        (c.ddl.length, c.ddl.scale)
    } else {
        length_scale(c)
    };
    let charset = if from_ddl {
        c.ddl.charset_name.clone()
    } else {
        charset_name(c)
    };
    let enum_values = match &c.kind {
        ColumnKind::Enum { values } | ColumnKind::Set { values } => Datum::Array(
            values
                .iter()
                .map(|v| Datum::Str(format!("'{}'", v.replace('\'', "''"))))
                .collect(),
        ),
        _ => Datum::Null,
    };
    let type_name = c.ddl.type_name.clone().unwrap_or_else(|| c.type_name());
    let jdbc = c.ddl.jdbc_type.unwrap_or_else(|| jdbc_type(c));
    Datum::Struct(vec![
        Datum::str(c.name.clone()),
        Datum::Int(jdbc as i64),
        Datum::Null,
        Datum::str(type_name.clone()),
        Datum::Str(type_name),
        charset.map_or(Datum::Null, Datum::Str),
        length.map_or(Datum::Null, Datum::Int),
        scale.map_or(Datum::Null, Datum::Int),
        Datum::Int(position as i64),
        Datum::Bool(c.nullable),
        // Debezium's MySQL DDL parser marks AUTO_INCREMENT columns as generated too.
        Datum::Bool(c.ddl.auto_increment),
        Datum::Bool(c.ddl.auto_increment),
        c.ddl.comment.clone().map_or(Datum::Null, Datum::Str),
        default_expression(c).map_or(Datum::Null, Datum::Str),
        enum_values,
    ])
}

/// `defaultValueExpression` as Debezium's DDL parser records it (`DefaultValueParserListener`):
/// a literal's text unquoted, `CURRENT_TIMESTAMP`/`NOW()` as `1970-01-01 00:00:00`, a bit or
/// hex literal as its digits; none for `DEFAULT NULL` and for expressions.
fn default_expression(c: &ColumnDesc) -> Option<String> {
    match c.default.as_ref()? {
        ColumnDefault::Literal(s) => Some(s.clone()),
        ColumnDefault::CurrentTimestamp => Some("1970-01-01 00:00:00".into()),
        ColumnDefault::Bytes(b) if matches!(c.kind, ColumnKind::Bit { .. }) => {
            let bits: String = b.iter().map(|x| format!("{x:08b}")).collect();
            let bits = bits.trim_start_matches('0');
            Some(if bits.is_empty() { "0" } else { bits }.to_string())
        }
        ColumnDefault::Bytes(b) => Some(hex::encode_upper(b)),
        ColumnDefault::Null | ColumnDefault::Expression(_) => None,
    }
}

fn table_datum(t: &TableDesc) -> Datum {
    Datum::Struct(vec![
        t.charset_name.clone().map_or(Datum::Null, Datum::Str),
        Datum::Array(
            t.primary_key
                .iter()
                .filter_map(|i| t.columns.get(*i))
                .map(|c| Datum::str(c.name.clone()))
                .collect(),
        ),
        Datum::Array(
            t.columns
                .iter()
                .enumerate()
                .map(|(i, c)| column_datum(c, i + 1))
                .collect(),
        ),
        t.comment.clone().map_or(Datum::Null, Datum::Str),
    ])
}

pub fn key_datum(sc: &SchemaChange) -> Datum {
    Datum::Struct(vec![Datum::str(sc.database.clone())])
}

pub fn value_datum(sc: &SchemaChange, flavor: Flavor, prefix: &str) -> Datum {
    let tables: Vec<String> = sc.tables.iter().map(|t| t.name.clone()).collect();
    let table = sc
        .source_table
        .clone()
        .or_else(|| (!tables.is_empty()).then(|| tables.join(",")));
    let source = source_datum(&SourceFields {
        connector: flavor.connector(),
        name: prefix,
        ts_ms: sc.ts_ms,
        snapshot: if sc.snapshot { "true" } else { "false" },
        db: &sc.database,
        table: table.as_deref(),
        server_id: if sc.snapshot { 0 } else { sc.server_id },
        gtid: if sc.snapshot {
            None
        } else {
            sc.position.gtid.as_deref()
        },
        file: &sc.position.file,
        pos: sc.position.pos,
        row: 0,
        thread: None,
        query: None,
    });
    let changes = sc
        .tables
        .iter()
        .map(|t| {
            Datum::Struct(vec![
                Datum::str(sc.change_type),
                Datum::Str(format!("\"{}\".\"{}\"", t.db, t.name)),
                if sc.change_type == "DROP" {
                    Datum::Null
                } else {
                    table_datum(t)
                },
            ])
        })
        .collect();
    Datum::Struct(vec![
        source,
        Datum::Int(sc.ts_ms),
        Datum::str(sc.database.clone()),
        Datum::Null,
        Datum::str(sc.ddl.clone()),
        Datum::Array(changes),
    ])
}
