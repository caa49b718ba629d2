//! The record-building rules, shared by `run` and `replay`: which records one source event
//! becomes, in order, and which checkpoint mark travels with them.
//!
//! - a change is one record; an update that moves the primary key is a delete of the old key
//!   (and its tombstone) and a create of the new one ([`Change::split`], as Debezium);
//! - a delete is followed by a tombstone when `sink.tombstones_on_delete` is on;
//! - with transaction metadata, `BEGIN` comes before a transaction's first record and `END`
//!   carries the commit;
//! - only the *last* record of a change carries its mark, so the checkpoint cannot pass a
//!   change of which a record is still undelivered. Snapshot rows carry no mark: their
//!   table's mark resumes them.

use std::sync::Arc;

use super::{EncodedRecord, Encoder};
use crate::checkpoint::Mark;
use crate::envelope::transaction::{Boundary, TxnMeta};
use crate::envelope::Now;
use crate::error::Result;
use crate::metrics;
use crate::model::{Change, Op, RowMark, SchemaChange, SourceEvent, SourceOffset};
use crate::sink::OutRecord;

/// One item between the encoders and the sink loop: a record to deliver and/or what the
/// checkpoint may record once it (and everything before it) is delivered.
pub struct Item {
    pub record: Option<OutRecord>,
    pub mark: Option<Mark>,
}

impl Item {
    fn mark(mark: Mark) -> Self {
        Item {
            record: None,
            mark: Some(mark),
        }
    }
}

/// What the record rules depend on in the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RecordRules {
    /// A tombstone after every delete (`sink.tombstones_on_delete`).
    pub tombstones: bool,
    /// Schema-change events on the `<topic_prefix>` topic (`sink.schema_changes`).
    pub schema_changes: bool,
}

/// The records `run` would send for one event, without checkpoint marks (for `replay`).
pub async fn records_for(
    encoder: &mut Encoder,
    rules: RecordRules,
    ev: SourceEvent,
) -> Result<Vec<OutRecord>> {
    let meta = TxnMeta::default();
    prepare_event(encoder, rules, &ev, &meta).await?;
    let items = encode_event(encoder, rules, ev, meta)?;
    Ok(items.into_iter().filter_map(|i| i.record).collect())
}

/// Encodes one event into `out`, registering its schemas first when needed (Avro). The
/// common case — schemas already registered, or a JSON format — never builds a future:
/// encoding itself is synchronous.
pub async fn encode_ready(
    encoder: &mut Encoder,
    rules: RecordRules,
    ev: SourceEvent,
    meta: TxnMeta,
    out: &mut Vec<Item>,
) -> Result<()> {
    prepare_event(encoder, rules, &ev, &meta).await?;
    out.append(&mut encode_event(encoder, rules, ev, meta)?);
    Ok(())
}

/// [`encode_ready`] without awaiting when nothing needs registering: `Ok(None)` when the
/// event was encoded into `out`, `Some(event)` when its schemas must be registered first
/// (then call [`encode_ready`]).
pub fn try_encode(
    encoder: &mut Encoder,
    rules: RecordRules,
    ev: SourceEvent,
    meta: TxnMeta,
    out: &mut Vec<Item>,
) -> Result<Option<(SourceEvent, TxnMeta)>> {
    if !event_ready(encoder, &ev, &meta) {
        return Ok(Some((ev, meta)));
    }
    out.append(&mut encode_event(encoder, rules, ev, meta)?);
    Ok(None)
}

/// True when [`encode_event`] can run without registering a schema first: always for the
/// JSON formats, and for Avro once the event's schemas have ids.
fn event_ready(encoder: &mut Encoder, ev: &SourceEvent, meta: &TxnMeta) -> bool {
    let boundaries = meta.before.is_empty() && meta.end.is_none();
    let own = match ev {
        SourceEvent::Change(c) => encoder.change_ready(c),
        SourceEvent::SchemaChange(_) => encoder.schema_change_ready(),
        _ => true,
    };
    own && (boundaries || encoder.transaction_ready())
}

/// Registers whatever schemas [`encode_event`] will need for this event (Avro only). The
/// only asynchronous step of encoding: the per-event path stays synchronous.
async fn prepare_event(
    encoder: &mut Encoder,
    rules: RecordRules,
    ev: &SourceEvent,
    meta: &TxnMeta,
) -> Result<()> {
    match ev {
        SourceEvent::Change(c) => encoder.prepare_change(c).await?,
        SourceEvent::SchemaChange(_) if rules.schema_changes => {
            encoder.prepare_schema_change().await?
        }
        _ => {}
    }
    if !meta.before.is_empty() || meta.end.is_some() {
        encoder.prepare_transaction().await?;
    }
    Ok(())
}

/// The items of one source event, in order. `meta` is what transaction metadata adds
/// around it (empty when that is off).
pub fn encode_event(
    encoder: &mut Encoder,
    rules: RecordRules,
    ev: SourceEvent,
    meta: TxnMeta,
) -> Result<Vec<Item>> {
    Ok(match ev {
        SourceEvent::Change(change) => change_items(encoder, rules, &change, meta)?,
        SourceEvent::SchemaChange(sc) => schema_change_items(encoder, rules, &sc)?,
        // A delivered change needs no record; transaction metadata counted it already.
        SourceEvent::Skipped(_) => vec![],
        SourceEvent::Commit { offset, .. } => vec![commit_item(encoder, offset, meta)?],
        SourceEvent::SnapshotTableDone { table } => {
            vec![Item::mark(Mark::SnapshotTable(table))]
        }
        SourceEvent::SnapshotStarted {
            offset,
            done,
            catalog,
        } => vec![Item::mark(Mark::SnapshotStarted {
            offset: Box::new(offset),
            done,
            catalog: Box::new(catalog),
        })],
        SourceEvent::SnapshotCompleted { offset } => {
            vec![Item::mark(Mark::SnapshotDone(Box::new(offset)))]
        }
    })
}

/// A change's records: `BEGIN` if it opens a transaction, then the change (split when it
/// moves the key), then its tombstone.
fn change_items(
    encoder: &mut Encoder,
    rules: RecordRules,
    change: &Change,
    meta: TxnMeta,
) -> Result<Vec<Item>> {
    metrics::table_event(&change.table, change.op.code());
    let position: Arc<str> = change.position.to_string().into();
    let mut out: Vec<OutRecord> = Vec::with_capacity(3 + meta.before.len());
    for b in &meta.before {
        out.push(boundary_record(encoder, b, position.clone())?);
    }
    let mut blocks = meta.blocks.into_iter();
    let now = Now::system();
    let push = |out: &mut Vec<OutRecord>, c: &Change, rec: EncodedRecord| {
        if rules.tombstones && c.op == Op::Delete && rec.key.is_some() {
            let (topic, key) = (rec.topic.clone(), rec.key.clone());
            out.push(rec.at(position.clone()));
            out.push(OutRecord::tombstone(topic, key, position.clone()));
        } else {
            out.push(rec.at(position.clone()));
        }
    };
    match change.split() {
        Some((delete, create)) => {
            let d = encoder.encode_change_now(&delete, now, blocks.next().as_ref())?;
            let c = encoder.encode_change_now(&create, now, blocks.next().as_ref())?;
            // As Debezium does: the old key is deleted (and tombstoned), then the new key
            // created.
            push(&mut out, &delete, d);
            push(&mut out, &create, c);
        }
        None => {
            let rec = encoder.encode_change_now(change, now, blocks.next().as_ref())?;
            push(&mut out, change, rec);
        }
    }
    // Only the last record of the change carries the mark.
    let mut mark = (change.op != Op::Read).then(|| Mark::Row(RowMark::after(&change.position)));
    let n = out.len();
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(i, r)| Item {
            record: Some(r),
            mark: if i + 1 == n { mark.take() } else { None },
        })
        .collect())
}

/// A DDL statement: its schema-change record (when those are on) and the catalog to store.
fn schema_change_items(
    encoder: &mut Encoder,
    rules: RecordRules,
    sc: &SchemaChange,
) -> Result<Vec<Item>> {
    let record = if rules.schema_changes {
        let rec = encoder.encode_schema_change_now(sc)?;
        Some(rec.at(sc.position.to_string().into()))
    } else {
        None
    };
    let mark = sc.catalog_after.clone().map(|c| Mark::Catalog(Box::new(c)));
    Ok(if record.is_some() || mark.is_some() {
        vec![Item { record, mark }]
    } else {
        vec![]
    })
}

/// The end of a transaction: its `END` record (with transaction metadata) carries the
/// commit's mark.
fn commit_item(encoder: &mut Encoder, offset: SourceOffset, meta: TxnMeta) -> Result<Item> {
    if let Some(gtids) = &offset.gtid_set {
        metrics::gtid_set(gtids);
    }
    let record = match &meta.end {
        Some(end) => Some(boundary_record(encoder, end, offset.to_string().into())?),
        None => None,
    };
    Ok(Item {
        record,
        mark: Some(Mark::Offset(Box::new(offset))),
    })
}

/// The record of a transaction `BEGIN`/`END` event.
fn boundary_record(encoder: &mut Encoder, b: &Boundary, position: Arc<str>) -> Result<OutRecord> {
    Ok(encoder.encode_transaction_now(b)?.at(position))
}
