//! Column and key shaping (`[events]`): which columns the `before`/`after` rows carry
//! (`column_include` / `column_exclude`), how values are rewritten (`column_mask`,
//! `column_mask_hash`, `column_truncate`), which schema parameters a column gets
//! (`column_propagate_source_type`, `datatype_propagate_source_type`) and which columns
//! form the key (`message_key_columns`). Mirrors Debezium 3.5's `ColumnNameFilter`,
//! `ColumnMappers` (`TruncateColumn`, `MaskStrings`, `PropagateSourceMetadataToSchemaParameter`)
//! and `Key.CustomKeyMapper`, as `TableSchemaBuilder.create` applies them:
//!
//! - the column filter and the mappers apply to the value rows only; key fields are the
//!   plain columns (neither filtered nor mapped);
//! - a column gets the mapper of the *first* matching rule, rules ordered as
//!   `ColumnMappers.create` adds them: truncate, mask, propagate by column, propagate by
//!   data type, hash v1, hash v2;
//! - every name is matched whole and case-insensitively: columns as `db.table.column`, data
//!   types as `db.table.TYPE`.
//!
//! Invariant: a [`ColumnPlan`] is computed once per table structure; the value fields it
//! gives and the datums [`ColumnPlan::row`] builds agree (a mapper changes a value, never
//! its schema type: masks and hashes only touch string columns, truncation strings and
//! binary strings).

mod hash;

use std::sync::Arc;

use regex::Regex;

use crate::config::shaping::{key_column_patterns, HashVersion};
use crate::config::EventsConfig;
use crate::envelope::convert::{column_datum, column_schema, ConvertError, Modes};
use crate::envelope::schema::{Datum, Field, Schema, Type};
use crate::envelope::schema_change;
use crate::error::{Error, Result};
use crate::model::{ColumnDesc, TableDesc, Value};

pub use hash::{java_serialized, Hasher};

/// `PropagateSourceMetadataToSchemaParameter`'s schema parameters.
pub const SOURCE_TYPE: &str = "__debezium.source.column.type";
pub const SOURCE_LENGTH: &str = "__debezium.source.column.length";
pub const SOURCE_SCALE: &str = "__debezium.source.column.scale";
pub const SOURCE_NAME: &str = "__debezium.source.column.name";

/// The compiled column and key options of `[events]`.
#[derive(Debug)]
pub struct Shaping {
    filter: Filter,
    rules: Vec<Rule>,
    /// `message.key.columns` as Debezium expands it: one `<table regex>.<column>` pattern
    /// per listed column, in the order written.
    key_columns: Vec<Regex>,
}

#[derive(Debug)]
enum Filter {
    All,
    Include(Vec<Regex>),
    Exclude(Vec<Regex>),
}

#[derive(Debug)]
struct Rule {
    pattern: Regex,
    /// Matched against `db.table.TYPE` (`datatype.propagate.source.type`) instead of
    /// `db.table.column`.
    on_type: bool,
    mapper: Mapper,
}

#[derive(Debug, Clone)]
enum Mapper {
    Truncate(usize),
    Mask(Arc<str>),
    Hash(Arc<Hasher>),
    Propagate,
}

/// What happens to the values of one emitted column.
#[derive(Debug, Clone)]
enum Action {
    Keep,
    /// Every value, null included, becomes this text (`MaskingValueConverter`).
    Replace(Arc<str>),
    /// Non-null text becomes its hash, cut to the column length when that is known.
    Hash(Arc<Hasher>, Option<usize>),
    /// Text longer than this many UTF-16 units (Java `String.length()`) is cut; so are
    /// binary strings longer than this many bytes.
    Truncate(usize),
}

/// One emitted column of the value rows.
#[derive(Debug, Clone)]
struct ValueColumn {
    index: usize,
    action: Action,
}

/// The shaped structure of one table: its value fields and how to fill them, and its key
/// columns.
#[derive(Debug, Clone)]
pub struct ColumnPlan {
    columns: Vec<ValueColumn>,
    /// The `…Value` struct fields, one per emitted column.
    pub fields: Vec<Field>,
    /// Indexes (into the table's columns) of the key, in key order; empty: no key.
    pub key: Vec<usize>,
}

/// A regex matched whole and case-insensitively, as Debezium's `Predicates.includes`.
fn anchored(p: &str, key: &str) -> Result<Regex> {
    Regex::new(&format!("(?i)^(?:{p})$"))
        .map_err(|e| Error::Config(format!("{key}: {p:?} is not a valid regex: {e}")))
}

fn all(list: &[String], key: &str) -> Result<Vec<Regex>> {
    list.iter().map(|p| anchored(p, key)).collect()
}

impl Shaping {
    /// The compiled options, or `None` when `[events]` sets no column or key option.
    pub fn new(cfg: &EventsConfig) -> Result<Option<Self>> {
        if !cfg.shapes_columns() && cfg.message_key_columns.is_none() {
            return Ok(None);
        }
        let filter = if !cfg.column_include.is_empty() {
            Filter::Include(all(&cfg.column_include, "events.column_include")?)
        } else if !cfg.column_exclude.is_empty() {
            Filter::Exclude(all(&cfg.column_exclude, "events.column_exclude")?)
        } else {
            Filter::All
        };
        let mut rules = vec![];
        let mut add = |list: &[String], key: &str, on_type: bool, mapper: Mapper| -> Result<()> {
            for p in list {
                rules.push(Rule {
                    pattern: anchored(p, key)?,
                    on_type,
                    mapper: mapper.clone(),
                });
            }
            Ok(())
        };
        for t in &cfg.column_truncate {
            add(
                &t.columns,
                "events.column_truncate",
                false,
                Mapper::Truncate(t.chars),
            )?;
        }
        for m in &cfg.column_mask {
            let mask: Arc<str> = "*".repeat(m.chars).into();
            add(&m.columns, "events.column_mask", false, Mapper::Mask(mask))?;
        }
        let propagate = &cfg.column_propagate_source_type;
        add(
            propagate,
            "events.column_propagate_source_type",
            false,
            Mapper::Propagate,
        )?;
        let by_type = &cfg.datatype_propagate_source_type;
        add(
            by_type,
            "events.datatype_propagate_source_type",
            true,
            Mapper::Propagate,
        )?;
        for version in [HashVersion::V1, HashVersion::V2] {
            for h in cfg.column_mask_hash.iter().filter(|h| h.version == version) {
                let hasher = Hasher::new(&h.algorithm, &h.salt, h.version).ok_or_else(|| {
                    Error::Config(format!(
                        "events.column_mask_hash: {:?} is not a known digest",
                        h.algorithm
                    ))
                })?;
                let mapper = Mapper::Hash(Arc::new(hasher));
                add(&h.columns, "events.column_mask_hash", false, mapper)?;
            }
        }
        let key_columns = match &cfg.message_key_columns {
            Some(text) => key_column_patterns(text)?
                .iter()
                .map(|p| anchored(p, "events.message_key_columns"))
                .collect::<Result<_>>()?,
            None => vec![],
        };
        Ok(Some(Shaping {
            filter,
            rules,
            key_columns,
        }))
    }

    fn emitted(&self, name: &str) -> bool {
        match &self.filter {
            Filter::All => true,
            Filter::Include(l) => l.iter().any(|r| r.is_match(name)),
            Filter::Exclude(l) => !l.iter().any(|r| r.is_match(name)),
        }
    }

    fn mapper(&self, t: &TableDesc, c: &ColumnDesc, name: &str) -> Option<&Mapper> {
        let mut by_type = None;
        self.rules
            .iter()
            .find(|r| {
                if r.on_type {
                    let n = by_type.get_or_insert_with(|| {
                        format!("{}.{}.{}", t.db, t.name, SourceColumn::of(c).type_name)
                    });
                    r.pattern.is_match(n)
                } else {
                    r.pattern.is_match(name)
                }
            })
            .map(|r| &r.mapper)
    }

    /// The key columns: those `message_key_columns` names for this table (per pattern, in
    /// table order), else the primary key.
    fn key(&self, t: &TableDesc) -> Vec<usize> {
        let mut key: Vec<usize> = vec![];
        for p in &self.key_columns {
            for (i, c) in t.columns.iter().enumerate() {
                let name = format!("{}.{}.{}", t.db, t.name, c.name);
                // Debezium would list a column matched twice twice (and fail on the
                // duplicate field); it is kept once.
                if p.is_match(&name) && !key.contains(&i) {
                    key.push(i);
                }
            }
        }
        if key.is_empty() {
            t.primary_key.clone()
        } else {
            key
        }
    }

    /// The plan of one table structure.
    pub fn plan(&self, t: &TableDesc, m: &Modes) -> ColumnPlan {
        let mut columns = vec![];
        let mut fields = vec![];
        for (index, c) in t.columns.iter().enumerate() {
            let name = format!("{}.{}.{}", t.db, t.name, c.name);
            if !self.emitted(&name) {
                continue;
            }
            let mut schema = column_schema(c, m);
            let action = match self.mapper(t, c, &name) {
                Some(mapper) => apply(mapper, c, &mut schema),
                None => Action::Keep,
            };
            fields.push(Field::new(c.name.clone(), schema));
            columns.push(ValueColumn { index, action });
        }
        ColumnPlan {
            columns,
            fields,
            key: self.key(t),
        }
    }
}

/// A column as Debezium's relational model sees it (`Column.typeName/jdbcType/length/scale`).
struct SourceColumn {
    type_name: String,
    jdbc_type: i32,
    length: Option<i64>,
    scale: Option<i64>,
}

impl SourceColumn {
    fn of(c: &ColumnDesc) -> Self {
        let (length, scale) = if c.ddl.is_empty() {
            schema_change::length_scale(c)
        } else {
            (c.ddl.length, c.ddl.scale)
        };
        SourceColumn {
            type_name: c.ddl.type_name.clone().unwrap_or_else(|| c.type_name()),
            jdbc_type: c
                .ddl
                .jdbc_type
                .unwrap_or_else(|| schema_change::jdbc_type(c)),
            length,
            scale,
        }
    }

    /// `MaskStrings.create`: the character types (`CHAR`, `VARCHAR`, `LONGVARCHAR`, `CLOB`,
    /// `NCHAR`, `NVARCHAR`, `LONGNVARCHAR`, `NCLOB`, `DATALINK`) are masked; others pass.
    fn is_character(&self) -> bool {
        matches!(
            self.jdbc_type,
            1 | 12 | -1 | 2005 | -15 | -9 | -16 | 2011 | 70
        )
    }
}

/// A mapper's `alterFieldSchema` on `schema` and the value action it implies.
fn apply(mapper: &Mapper, c: &ColumnDesc, schema: &mut Schema) -> Action {
    let src = SourceColumn::of(c);
    let text = schema.ty == Type::String;
    match mapper {
        Mapper::Mask(mask) => {
            schema.parameters.push(("masked".into(), "true".into()));
            if src.is_character() && text {
                Action::Replace(mask.clone())
            } else {
                Action::Keep
            }
        }
        Mapper::Hash(h) => {
            schema.parameters.push(("masked".into(), "true".into()));
            if src.is_character() && text {
                let cut = src.length.filter(|l| *l > 0).map(|l| l as usize);
                Action::Hash(h.clone(), cut)
            } else {
                Action::Keep
            }
        }
        Mapper::Truncate(n) => {
            // TruncateColumn.isTruncationPossible: the length is unknown or above the cut.
            if src.length.is_none_or(|l| l < 0 || l > *n as i64) {
                schema
                    .parameters
                    .push(("truncateLength".into(), n.to_string()));
                Action::Truncate(*n)
            } else {
                Action::Keep
            }
        }
        Mapper::Propagate => {
            let p = &mut schema.parameters;
            p.push((SOURCE_TYPE.into(), src.type_name.to_uppercase()));
            if let Some(l) = src.length {
                p.push((SOURCE_LENGTH.into(), l.to_string()));
            }
            if let Some(s) = src.scale {
                p.push((SOURCE_SCALE.into(), s.to_string()));
            }
            p.push((SOURCE_NAME.into(), c.name.clone()));
            Action::Keep
        }
    }
}

/// The first `n` UTF-16 units of `s` (Java's `substring(0, n)`), without a half surrogate
/// pair at the end.
fn cut_utf16(s: &mut String, n: usize) {
    let mut units = 0;
    for (at, ch) in s.char_indices() {
        units += ch.len_utf16();
        if units > n {
            s.truncate(at);
            return;
        }
    }
}

impl ColumnPlan {
    /// The value row of `row` (one datum per emitted column, mappers applied); `Err` names
    /// the column whose value could not be converted.
    pub fn row(
        &self,
        cols: &[ColumnDesc],
        row: &[Value],
        m: &Modes,
    ) -> std::result::Result<Datum, (String, ConvertError)> {
        let mut out = Vec::with_capacity(self.columns.len());
        for vc in &self.columns {
            let (Some(col), Some(v)) = (cols.get(vc.index), row.get(vc.index)) else {
                return Err((format!("#{}", vc.index), "the column is missing".into()));
            };
            let d = column_datum(col, v, m).map_err(|r| (col.name.clone(), r))?;
            out.push(act(&vc.action, col, d));
        }
        Ok(Datum::Struct(out))
    }
}

fn act(action: &Action, col: &ColumnDesc, d: Datum) -> Datum {
    match (action, d) {
        (Action::Keep, d) => d,
        (Action::Replace(mask), _) => Datum::Str(mask.to_string()),
        (Action::Hash(h, cut), Datum::Str(s)) => {
            let mut hex = h.hash(&s);
            if let Some(n) = cut {
                hex.truncate(*n);
            }
            Datum::Str(hex)
        }
        (Action::Truncate(n), Datum::Str(mut s)) => {
            cut_utf16(&mut s, *n);
            Datum::Str(s)
        }
        (Action::Truncate(n), Datum::Bytes(mut b)) if col.is_binary() => {
            b.truncate(*n);
            Datum::Bytes(b)
        }
        (_, d) => d,
    }
}

#[cfg(test)]
mod tests;
