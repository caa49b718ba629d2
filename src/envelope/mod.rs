//! Debezium envelopes: turns a [`Change`] into the key and envelope datums and derives, per
//! table structure, their Connect-style schemas (`<prefix>.<db>.<table>.Key`, `…Value`,
//! `…Envelope`). The type mapping lives in [`convert`], the schema model in [`schema`].
//!
//! Invariant: schemas are derived once per `TableDesc::fingerprint()` and cached; the datums
//! built for a change always match the cached schemas of that change's table.

pub mod columns;
pub mod convert;
pub mod schema;
pub(crate) mod schema_change;
pub(crate) mod source_info;
pub mod transaction;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::config::EventsConfig;
use crate::envelope::columns::{ColumnPlan, Shaping};
use crate::envelope::convert::{column_datum, Modes};
use crate::envelope::schema::{int64, string, Datum, Field, Schema};
use crate::envelope::source_info::{source_datum, source_schema, SourceFields};
use crate::error::{Error, Result};
use crate::model::{ByTable, Change, Flavor, Row, SnapshotMarker, TableDesc};

/// Debezium's `event.block` transaction schema (optional; null while transaction metadata
/// is not provided).
pub fn transaction_schema() -> Schema {
    Schema::strukt(
        "event.block",
        vec![
            Field::new("id", string()),
            Field::new("total_order", int64()),
            Field::new("data_collection_order", int64()),
        ],
    )
    .version(1)
    .optional()
}

/// The schemas of one table structure.
#[derive(Debug)]
pub struct TableSchemas {
    /// `<prefix>.<db>.<table>.Key`, or `None` for a table without a key.
    pub key: Option<Arc<Schema>>,
    /// `<prefix>.<db>.<table>.Envelope`.
    pub envelope: Arc<Schema>,
    /// The fingerprint of the table structure these schemas were derived from.
    pub fingerprint: u64,
    /// The table's topic, `<prefix>.<db>.<table>` (shared by every record of the table).
    pub topic: Arc<str>,
    /// Indexes of the key columns, in key order: the primary key, or the
    /// `events.message_key_columns` of the table; empty: no key.
    pub key_columns: Vec<usize>,
    /// The column plan when `[events]` shapes columns or keys (`None`: every column, as is).
    plan: Option<ColumnPlan>,
    /// The largest encoded value seen so far, so encoders allocate once per record.
    value_size: AtomicUsize,
}

impl TableSchemas {
    /// A buffer capacity for this table's next encoded value.
    pub fn value_capacity(&self) -> usize {
        self.value_size.load(Ordering::Relaxed).max(256)
    }

    /// Records the size of an encoded value (kept as a running maximum, capped at 1 MiB so a
    /// single huge row does not make every later buffer huge).
    pub fn saw_value_size(&self, n: usize) {
        let n = n.min(1 << 20);
        if n > self.value_size.load(Ordering::Relaxed) {
            self.value_size.store(n, Ordering::Relaxed);
        }
    }
}

/// Builds envelopes and caches per-table schemas.
#[derive(Debug)]
pub struct EnvelopeBuilder {
    prefix: String,
    flavor: Flavor,
    modes: Modes,
    source: Schema,
    cache: HashMap<u64, Arc<TableSchemas>>,
    /// Schemas by shared table description (the per-event lookup).
    by_table: ByTable<Arc<TableSchemas>>,
    /// The `[events]` column and key options, when any is set.
    shaping: Option<Arc<Shaping>>,
}

/// Processing time (now) for the envelope's `ts_ms/ts_us/ts_ns`.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub nanos: i64,
}

impl Now {
    pub fn system() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        Now { nanos }
    }
}

impl EnvelopeBuilder {
    pub fn new(prefix: &str, flavor: Flavor, modes: Modes) -> Self {
        EnvelopeBuilder {
            prefix: prefix.to_string(),
            flavor,
            modes,
            source: source_schema(flavor),
            cache: HashMap::new(),
            by_table: ByTable::default(),
            shaping: None,
        }
    }

    /// Applies the `[events]` column and key options to every table from now on.
    pub fn shape(&mut self, events: &EventsConfig) -> Result<()> {
        self.shaping = Shaping::new(events)?.map(Arc::new);
        self.cache.clear();
        self.by_table = ByTable::default();
        Ok(())
    }

    /// A builder with the same settings and options and empty caches.
    pub fn like(&self) -> Self {
        let mut b = EnvelopeBuilder::new(&self.prefix, self.flavor, self.modes);
        b.shaping = self.shaping.clone();
        b
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    pub fn modes(&self) -> Modes {
        self.modes
    }

    /// The schema-name (and topic) stem of a table: `<prefix>.<db>.<table>`.
    pub fn stem(&self, t: &TableDesc) -> String {
        format!("{}.{}.{}", self.prefix, t.db, t.name)
    }

    /// The schemas of a table structure (derived once per fingerprint).
    pub fn schemas(&mut self, t: &TableDesc) -> Arc<TableSchemas> {
        let fp = t.fingerprint();
        if let Some(s) = self.cache.get(&fp) {
            return s.clone();
        }
        let s = Arc::new(self.derive(t, fp));
        self.cache.insert(fp, s.clone());
        s
    }

    /// As [`Self::schemas`] for a shared description: a pointer lookup after the first call.
    pub fn schemas_of(&mut self, t: &Arc<TableDesc>) -> Arc<TableSchemas> {
        if let Some(s) = self.by_table.get(t) {
            return s.clone();
        }
        let s = self.schemas(t);
        self.by_table.get_or_insert_with(t, || s.clone());
        s
    }

    fn derive(&self, t: &TableDesc, fingerprint: u64) -> TableSchemas {
        let stem = self.stem(t);
        let plan = self.shaping.as_ref().map(|s| s.plan(t, &self.modes));
        let key_columns = plan
            .as_ref()
            .map_or_else(|| t.primary_key.clone(), |p| p.key.clone());
        let key = if key_columns.is_empty() {
            None
        } else {
            let fields = key_columns
                .iter()
                .filter_map(|i| t.columns.get(*i))
                .map(|c| Field::new(c.name.clone(), convert::column_schema(c, &self.modes)))
                .collect();
            Some(Arc::new(Schema::strukt(format!("{stem}.Key"), fields)))
        };
        let fields = match &plan {
            Some(p) => p.fields.clone(),
            None => convert::row_fields(&t.columns, &self.modes),
        };
        let row = Schema::strukt(format!("{stem}.Value"), fields).optional();
        let envelope = Schema::strukt(
            format!("{stem}.Envelope"),
            vec![
                Field::new("before", row.clone()),
                Field::new("after", row),
                Field::new("source", self.source.clone()),
                Field::new("transaction", transaction_schema()),
                Field::new("op", string()),
                Field::new("ts_ms", int64().optional()),
                Field::new("ts_us", int64().optional()),
                Field::new("ts_ns", int64().optional()),
            ],
        )
        .version(2);
        TableSchemas {
            key,
            envelope: Arc::new(envelope),
            fingerprint,
            topic: stem.into(),
            key_columns,
            plan,
            value_size: AtomicUsize::new(0),
        }
    }

    fn err(c: &Change, reason: String) -> Error {
        Error::Encode {
            table: c.table.full_name(),
            position: c.position.to_string(),
            reason,
        }
    }

    /// The schemas of a change's table when `[events]` shapes columns or keys (a pointer
    /// lookup once [`Self::schemas_of`] saw the table; derived here otherwise).
    fn shaped(&self, t: &Arc<TableDesc>) -> Option<Arc<TableSchemas>> {
        self.shaping.as_ref()?;
        if let Some(s) = self.by_table.get(t) {
            return Some(s.clone());
        }
        let fp = t.fingerprint();
        Some(match self.cache.get(&fp) {
            Some(s) => s.clone(),
            None => Arc::new(self.derive(t, fp)),
        })
    }

    /// The conversion modes of one change's values: a snapshot row's differ from a
    /// streamed one's (`Modes::snapshot_read`).
    fn modes_of(&self, c: &Change) -> Modes {
        Modes {
            snapshot_read: c.snapshot != SnapshotMarker::False,
            ..self.modes
        }
    }

    fn row_datum(&self, c: &Change, row: &Row, plan: Option<&ColumnPlan>) -> Result<Datum> {
        let t = &c.table;
        let modes = self.modes_of(c);
        if row.len() != t.columns.len() {
            return Err(Self::err(
                c,
                format!(
                    "row has {} values for {} columns",
                    row.len(),
                    t.columns.len()
                ),
            ));
        }
        if let Some(p) = plan {
            return p
                .row(&t.columns, row, &modes)
                .map_err(|(col, r)| Self::err(c, format!("column {col}: {r}")));
        }
        let mut out = Vec::with_capacity(row.len());
        for (col, v) in t.columns.iter().zip(row) {
            out.push(
                column_datum(col, v, &modes)
                    .map_err(|r| Self::err(c, format!("column {}: {r}", col.name)))?,
            );
        }
        Ok(Datum::Struct(out))
    }

    /// The key datum (the key columns — primary key or `events.message_key_columns` — of
    /// the after image, or of the before image for a delete), or `None` for a table without
    /// a key and for a truncate (which Debezium sends without a key).
    pub fn key_datum(&self, c: &Change) -> Result<Option<Datum>> {
        let t = &c.table;
        let shaped = self.shaped(t);
        let key = shaped.as_ref().map_or(&t.primary_key, |s| &s.key_columns);
        if key.is_empty() || c.op == crate::model::Op::Truncate {
            return Ok(None);
        }
        let Some(row) = c.after.as_ref().or(c.before.as_ref()) else {
            return Err(Self::err(
                c,
                "change has neither a before nor an after image".into(),
            ));
        };
        let modes = self.modes_of(c);
        let mut out = Vec::with_capacity(key.len());
        for &i in key {
            let (Some(col), Some(v)) = (t.columns.get(i), row.get(i)) else {
                return Err(Self::err(c, format!("key column #{i} is missing")));
            };
            out.push(
                column_datum(col, v, &modes)
                    .map_err(|r| Self::err(c, format!("key column {}: {r}", col.name)))?,
            );
        }
        Ok(Some(Datum::Struct(out)))
    }

    /// The envelope datum with its `transaction` block (null when `txn` is `None`); `now`
    /// is the processing time.
    pub fn envelope_datum(
        &self,
        c: &Change,
        now: Now,
        txn: Option<&transaction::TxnBlock>,
    ) -> Result<Datum> {
        let shaped = self.shaped(&c.table);
        let plan = shaped.as_ref().and_then(|s| s.plan.as_ref());
        let before = match &c.before {
            Some(r) => self.row_datum(c, r, plan)?,
            None => Datum::Null,
        };
        let after = match &c.after {
            Some(r) => self.row_datum(c, r, plan)?,
            None => Datum::Null,
        };
        let source = source_datum(&SourceFields {
            connector: self.flavor.connector(),
            name: &self.prefix,
            ts_ms: c.ts_ms,
            snapshot: c.snapshot.as_str(),
            db: &c.table.db,
            table: Some(&c.table.name),
            server_id: c.server_id,
            gtid: c.position.gtid.as_deref(),
            file: &c.position.file,
            pos: c.position.pos,
            row: c.position.row,
            thread: c.thread,
            query: c.query.as_deref(),
        });
        Ok(Datum::Struct(vec![
            before,
            after,
            source,
            txn.map_or(Datum::Null, transaction::TxnBlock::datum),
            Datum::str(c.op.code()),
            Datum::Int(now.nanos.div_euclid(1_000_000)),
            Datum::Int(now.nanos.div_euclid(1_000)),
            Datum::Int(now.nanos),
        ]))
    }
}

/// Heartbeat key `io.debezium.connector.common.ServerNameKey {serverName}` (SchemaFactory).
pub fn heartbeat_key_schema() -> Schema {
    Schema::strukt(
        "io.debezium.connector.common.ServerNameKey",
        vec![Field::new("serverName", string())],
    )
    .version(1)
}

/// Heartbeat value `io.debezium.connector.common.Heartbeat {ts_ms}` (SchemaFactory).
pub fn heartbeat_value_schema() -> Schema {
    Schema::strukt(
        "io.debezium.connector.common.Heartbeat",
        vec![Field::new("ts_ms", int64())],
    )
    .version(1)
}

/// Transaction metadata key `io.debezium.connector.common.TransactionMetadataKey {id}`.
pub fn transaction_key_schema() -> Schema {
    Schema::strukt(
        "io.debezium.connector.common.TransactionMetadataKey",
        vec![Field::new("id", string())],
    )
    .version(1)
}

/// Transaction metadata value (`status`, `id`, `event_count`, `data_collections`, `ts_ms`).
pub fn transaction_value_schema() -> Schema {
    let per_collection = Schema::strukt(
        "event.collection",
        vec![
            Field::new("data_collection", string()),
            Field::new("event_count", int64()),
        ],
    )
    .version(1)
    .optional();
    Schema::strukt(
        "io.debezium.connector.common.TransactionMetadataValue",
        vec![
            Field::new("status", string()),
            Field::new("id", string()),
            Field::new("event_count", int64().optional()),
            Field::new("data_collections", schema::array(per_collection).optional()),
            Field::new("ts_ms", int64()),
        ],
    )
    .version(1)
}
