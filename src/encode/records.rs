//! The record-building rules, shared by `run` and `replay`: which records one source event
//! becomes, in order, and which checkpoint mark travels with them.
//!
//! - a change is one record; an update that moves the primary key is a delete of the old key
//!   (and its tombstone) and a create of the new one ([`Change::split`], as Debezium);
//! - a delete is followed by a tombstone when `sink.tombstones_on_delete` is on; a truncate
//!   (no key) never is;
//! - a change whose operation `events.skipped_operations` lists (the update's for a split
//!   key change, as Debezium decides on the binlog event) is only its mark;
//! - with transaction metadata, `BEGIN` comes before a transaction's first record and `END`
//!   carries the commit;
//! - only the *last* record of a change carries its mark, so the checkpoint cannot pass a
//!   change of which a record is still undelivered. Snapshot rows carry no mark: their
//!   table's mark resumes them.

use std::sync::Arc;

use super::{EncodedRecord, Encoder};
use crate::checkpoint::Mark;
use crate::envelope::schema::Datum;
use crate::envelope::transaction::{Boundary, TxnMeta};
use crate::envelope::Now;
use crate::error::Result;
use crate::metrics;
use crate::model::budget::Charge;
use crate::model::{Change, Op, OpSet, RowMark, SchemaChange, SourceEvent, SourceOffset};
use crate::sink::{Header, OutRecord};
use crate::transform::{Part, Record};

use super::shaped::header_text;

/// One item between the encoders and the sink loop: a record to deliver and/or what the
/// checkpoint may record once it (and everything before it) is delivered.
pub struct Item {
    pub record: Option<OutRecord>,
    pub mark: Option<Mark>,
    /// The bytes of the byte budget this item holds until it is acknowledged: the charge of
    /// the source event it is the last item of (empty on the others).
    pub charge: Charge,
}

impl Item {
    fn mark(mark: Mark) -> Self {
        Item {
            record: None,
            mark: Some(mark),
            charge: Charge::default(),
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
    /// Operations not emitted (`events.skipped_operations`): such a change leaves only its
    /// checkpoint mark.
    pub skipped: OpSet,
}

/// The records `run` would send for one event, without checkpoint marks (for `replay`).
pub async fn records_for(
    encoder: &mut Encoder,
    rules: RecordRules,
    ev: SourceEvent,
) -> Result<Vec<OutRecord>> {
    let mut items = vec![];
    if let Some(pending) = try_encode(encoder, rules, ev, TxnMeta::default(), &mut items)? {
        encode_ready(encoder, rules, pending, &mut items).await?;
    }
    Ok(items.into_iter().filter_map(|i| i.record).collect())
}

/// An event [`try_encode`] could not finish without awaiting the registry (Avro): either the
/// event itself, or its shaped records (transforms ran; some schema needs an id).
pub enum Pending {
    Event(Box<(SourceEvent, TxnMeta)>),
    Staged(Vec<Staged>),
}

/// A shaped item: a record still to serialize (with its position) or a finished one.
pub struct Staged {
    record: Option<StagedRecord>,
    mark: Option<Mark>,
}

enum StagedRecord {
    Done(OutRecord),
    Shaped(Record, Arc<str>),
}

/// Finishes what [`try_encode`] left pending, registering schemas first, into `out`.
pub async fn encode_ready(
    encoder: &mut Encoder,
    rules: RecordRules,
    pending: Pending,
    out: &mut Vec<Item>,
) -> Result<()> {
    match pending {
        Pending::Event(boxed) => {
            let (ev, meta) = *boxed;
            prepare_event(encoder, rules, &ev, &meta).await?;
            match try_encode(encoder, rules, ev, meta, out)? {
                None => {}
                Some(Pending::Event(boxed)) => {
                    let (ev, meta) = *boxed;
                    out.append(&mut encode_event(encoder, rules, ev, meta)?)
                }
                Some(Pending::Staged(staged)) => finish_staged(encoder, staged, out).await?,
            }
        }
        Pending::Staged(staged) => finish_staged(encoder, staged, out).await?,
    }
    Ok(())
}

async fn finish_staged(
    encoder: &mut Encoder,
    staged: Vec<Staged>,
    out: &mut Vec<Item>,
) -> Result<()> {
    for s in &staged {
        if let Some(StagedRecord::Shaped(r, _)) = &s.record {
            encoder.prepare_shaped(r).await?;
        }
    }
    serialize_staged(encoder, staged, out)
}

/// Encodes `ev` into `out` when nothing needs registering (`Ok(None)`; the common case
/// never builds a future), else hands back what must be finished with [`encode_ready`].
pub fn try_encode(
    encoder: &mut Encoder,
    rules: RecordRules,
    ev: SourceEvent,
    meta: TxnMeta,
    out: &mut Vec<Item>,
) -> Result<Option<Pending>> {
    if let SourceEvent::Change(c) = &ev {
        if rules.skipped.contains(c.op) {
            // Not emitted, but passed: the checkpoint moves over it in order.
            out.extend(change_mark(c).map(Item::mark));
            return Ok(None);
        }
    }
    if encoder.shapes() {
        if let SourceEvent::Change(c) = &ev {
            if meta.before.is_empty() || encoder.transaction_ready() {
                let staged = shaped_change_items(encoder, rules, c, meta)?;
                let ready = staged.iter().all(|s| match &s.record {
                    Some(StagedRecord::Shaped(r, _)) => encoder.shaped_ready(r),
                    _ => true,
                });
                if !ready {
                    return Ok(Some(Pending::Staged(staged)));
                }
                serialize_staged(encoder, staged, out)?;
                return Ok(None);
            }
        }
    }
    if !event_ready(encoder, &ev, &meta) {
        return Ok(Some(Pending::Event(Box::new((ev, meta)))));
    }
    out.append(&mut encode_event(encoder, rules, ev, meta)?);
    Ok(None)
}

fn serialize_staged(encoder: &mut Encoder, staged: Vec<Staged>, out: &mut Vec<Item>) -> Result<()> {
    for s in staged {
        let record = match s.record {
            None => None,
            Some(StagedRecord::Done(r)) => Some(r),
            Some(StagedRecord::Shaped(r, position)) => Some(encoder.serialize(r, position)?),
        };
        out.push(Item {
            record,
            mark: s.mark,
            charge: Charge::default(),
        });
    }
    Ok(())
}

/// True when [`encode_event`] can run without registering a schema first: always for the
/// JSON formats, and for Avro once the event's schemas have ids.
fn event_ready(encoder: &mut Encoder, ev: &SourceEvent, meta: &TxnMeta) -> bool {
    let boundaries = meta.before.is_empty() && meta.end.is_none();
    let own = match ev {
        SourceEvent::Change(c) => encoder.change_ready(c),
        SourceEvent::SchemaChange(_) => encoder.schema_change_ready(),
        SourceEvent::Heartbeat { .. } => encoder.heartbeat_ready(),
        SourceEvent::Notification(_) => encoder.notification_ready(),
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
        // Shaped changes register what the transforms make of them (`finish_staged`).
        SourceEvent::Change(_) if encoder.shapes() => {}
        SourceEvent::Change(c) => encoder.prepare_change(c).await?,
        SourceEvent::SchemaChange(_) if rules.schema_changes => {
            encoder.prepare_schema_change().await?
        }
        SourceEvent::Heartbeat { .. } => encoder.prepare_heartbeat().await?,
        SourceEvent::Notification(_) => encoder.prepare_notification().await?,
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
        SourceEvent::IncrementalProgress(p) => vec![Item::mark(Mark::Incremental(p))],
        SourceEvent::Heartbeat { offset, ts_ms } => vec![heartbeat_item(encoder, offset, ts_ms)?],
        // No mark: delivered at least once, with whatever mark comes next.
        SourceEvent::Notification(n) => match encoder.encode_notification_now(&n)? {
            Some(r) => vec![Item {
                record: Some(r.at("notification".into())),
                mark: None,
                charge: Charge::default(),
            }],
            None => vec![],
        },
    })
}

/// A change's records: `BEGIN` if it opens a transaction, then the change (split when it
/// moves the key, the two halves carrying `__debezium.newkey` / `__debezium.oldkey` headers
/// as Debezium's do), then its tombstone.
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
    let context = encoder.context_headers().clone();
    let push = |out: &mut Vec<OutRecord>, c: &Change, rec: EncodedRecord, headers: Vec<Header>| {
        let mut rec = rec.at(position.clone());
        rec.headers = headers;
        rec.headers.extend(context.iter().cloned());
        if rules.tombstones && c.op == Op::Delete && rec.key.is_some() {
            let mut tomb =
                OutRecord::tombstone(rec.topic.clone(), rec.key.clone(), position.clone());
            tomb.headers = rec.headers.clone();
            out.push(rec);
            out.push(tomb);
        } else {
            out.push(rec);
        }
    };
    match encoder.split(change) {
        Some((delete, create)) => {
            let d = encoder.encode_change_now(&delete, now, blocks.next().as_ref())?;
            let c = encoder.encode_change_now(&create, now, blocks.next().as_ref())?;
            let (old_key, new_key) = (encoder.key_part(&delete)?, encoder.key_part(&create)?);
            // As Debezium does: the old key is deleted (and tombstoned), then the new key
            // created.
            push(&mut out, &delete, d, key_header(NEWKEY, new_key));
            push(&mut out, &create, c, key_header(OLDKEY, old_key));
        }
        None => {
            let rec = encoder.encode_change_now(change, now, blocks.next().as_ref())?;
            push(&mut out, change, rec, vec![]);
        }
    }
    // Only the last record of the change carries the mark.
    let mut mark = change_mark(change);
    let n = out.len();
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(i, r)| Item {
            record: Some(r),
            mark: if i + 1 == n { mark.take() } else { None },
            charge: Charge::default(),
        })
        .collect())
}

/// Debezium's headers on the two halves of a primary-key change.
const OLDKEY: &str = "__debezium.oldkey";
const NEWKEY: &str = "__debezium.newkey";

fn key_header(name: &str, key: Option<Part>) -> Vec<Header> {
    key.map(|k| {
        vec![Header {
            key: name.into(),
            value: header_text(&k.schema, &k.datum).map(|t| Arc::from(t.into_bytes())),
        }]
    })
    .unwrap_or_default()
}

/// The checkpoint mark a change carries (snapshot rows carry none).
fn change_mark(change: &Change) -> Option<Mark> {
    (change.op != Op::Read).then(|| Mark::Row(RowMark::after(&change.position)))
}

/// [`change_items`] for the shaped path: the same records as Kafka Connect records, run
/// through the transforms. A record a transform drops leaves its mark behind, so the
/// checkpoint still passes the change.
fn shaped_change_items(
    encoder: &mut Encoder,
    rules: RecordRules,
    change: &Change,
    meta: TxnMeta,
) -> Result<Vec<Staged>> {
    metrics::table_event(&change.table, change.op.code());
    let position: Arc<str> = change.position.to_string().into();
    let mut staged = Vec::with_capacity(3 + meta.before.len());
    for b in &meta.before {
        staged.push(Staged {
            record: Some(StagedRecord::Done(boundary_record(
                encoder,
                b,
                position.clone(),
            )?)),
            mark: None,
        });
    }
    let mut blocks = meta.blocks.into_iter();
    let now = Now::system();
    let context = encoder.context_headers().clone();
    let text = Arc::new(crate::envelope::schema::string());
    let mut records: Vec<Record> = Vec::with_capacity(4);
    let mut push = |c: &Change, mut rec: Record, header: Option<(&str, Option<Part>)>| {
        if let Some((name, Some(k))) = header {
            rec.header(name, k.schema, k.datum);
        }
        // Debezium's context headers come after the connector's own, before the
        // transforms' (they are part of the record the transforms receive).
        for h in context.iter() {
            let value = h.value.as_deref().map(String::from_utf8_lossy);
            rec.header(&h.key, text.clone(), Datum::opt_str(value.as_deref()));
        }
        let tombstone =
            (rules.tombstones && c.op == Op::Delete && rec.key.is_some()).then(|| Record {
                value: None,
                ..rec.clone()
            });
        records.push(rec);
        records.extend(tombstone);
    };
    match encoder.split(change) {
        Some((delete, create)) => {
            let d = encoder.change_record(&delete, now, blocks.next().as_ref())?;
            let c = encoder.change_record(&create, now, blocks.next().as_ref())?;
            let (old_key, new_key) = (encoder.key_part(&delete)?, encoder.key_part(&create)?);
            push(&delete, d, Some((NEWKEY, new_key)));
            push(&create, c, Some((OLDKEY, old_key)));
        }
        None => {
            let rec = encoder.change_record(change, now, blocks.next().as_ref())?;
            push(change, rec, None);
        }
    }
    for rec in records {
        if let Some(r) = encoder.transform(rec)? {
            staged.push(Staged {
                record: Some(StagedRecord::Shaped(r, position.clone())),
                mark: None,
            });
        }
    }
    staged.push(Staged {
        record: None,
        mark: change_mark(change),
    });
    Ok(staged)
}

/// A DDL statement: its schema-change record (when those are on) and the catalog to store.
fn schema_change_items(
    encoder: &mut Encoder,
    rules: RecordRules,
    sc: &SchemaChange,
) -> Result<Vec<Item>> {
    let record = if rules.schema_changes {
        let rec = encoder.encode_schema_change_now(sc)?;
        let mut rec = rec.at(sc.position.to_string().into());
        rec.headers = encoder.context_headers().to_vec();
        Some(rec)
    } else {
        None
    };
    let mark = sc.catalog_after.clone().map(|c| Mark::Catalog(Box::new(c)));
    Ok(if record.is_some() || mark.is_some() {
        vec![Item {
            record,
            mark,
            charge: Charge::default(),
        }]
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
        charge: Charge::default(),
    })
}

/// A heartbeat's record; it carries the position the stream had reached (between
/// transactions), so a delivered heartbeat moves the checkpoint even when no captured table
/// changed.
fn heartbeat_item(encoder: &mut Encoder, offset: Option<SourceOffset>, ts_ms: i64) -> Result<Item> {
    let position: Arc<str> = match &offset {
        Some(o) => format!("heartbeat at {o}").into(),
        None => "heartbeat inside a transaction".into(),
    };
    Ok(Item {
        record: Some(encoder.encode_heartbeat_now(ts_ms)?.at(position)),
        mark: offset.map(|o| Mark::Offset(Box::new(o))),
        charge: Charge::default(),
    })
}

/// The record of a transaction `BEGIN`/`END` event.
fn boundary_record(encoder: &mut Encoder, b: &Boundary, position: Arc<str>) -> Result<OutRecord> {
    Ok(encoder.encode_transaction_now(b)?.at(position))
}

#[cfg(test)]
mod tests;
