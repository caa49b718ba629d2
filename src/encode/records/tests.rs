//! The record rules for operations: a skipped operation leaves only its checkpoint mark
//! (a key change is decided by its update, as Debezium's binlog source does), and a
//! truncate is one keyless record with the table's envelope and no tombstone.

use std::sync::Arc;

use super::{try_encode, Item, RecordRules};
use crate::checkpoint::Mark;
use crate::config::FormatConfig;
use crate::encode::Encoder;
use crate::envelope::transaction::TxnMeta;
use crate::model::{
    Change, ColumnDesc, ColumnKind, Flavor, Op, OpSet, Position, SnapshotMarker, SourceEvent,
    TableDesc, Value,
};

fn table() -> Arc<TableDesc> {
    Arc::new(TableDesc {
        db: "shop".into(),
        name: "t".into(),
        columns: vec![
            ColumnDesc::new("id", ColumnKind::Int),
            ColumnDesc::new("v", ColumnKind::Int),
        ],
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    })
}

fn change(op: Op, before: Option<[i64; 2]>, after: Option<[i64; 2]>) -> SourceEvent {
    let row = |r: [i64; 2]| r.iter().map(|v| Value::Int(*v)).collect();
    SourceEvent::Change(Box::new(Change {
        table: table(),
        op,
        before: before.map(row),
        after: after.map(row),
        position: Position {
            file: Arc::from("mariadb-bin.000002"),
            pos: 1000,
            row: 0,
            gtid: None,
            txn_file: Arc::from("mariadb-bin.000002"),
            txn_pos: 900,
            txn_row: 4,
            gtid_before: None,
        },
        ts_ms: 1_700_000_000_000,
        snapshot: SnapshotMarker::False,
        thread: None,
        query: None,
        server_id: 1,
    }))
}

fn rules(skipped: &[&str]) -> RecordRules {
    RecordRules {
        tombstones: true,
        schema_changes: true,
        skipped: OpSet::from_codes(skipped),
    }
}

/// The items of `ev` as (value JSON or "tombstone"/"mark", key JSON).
fn items(skipped: &[&str], ev: SourceEvent) -> Vec<Item> {
    let mut enc = Encoder::new(&FormatConfig::default(), "p", Flavor::Mariadb).unwrap();
    let mut out = vec![];
    let pending = try_encode(&mut enc, rules(skipped), ev, TxnMeta::default(), &mut out);
    assert!(matches!(pending, Ok(None)), "json needs no registry");
    out
}

fn ops(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| match &i.record {
            None => "mark".to_string(),
            Some(r) => match &r.value {
                None => "tombstone".to_string(),
                Some(v) => {
                    let v: serde_json::Value = serde_json::from_slice(v).unwrap();
                    v["op"].as_str().unwrap().to_string()
                }
            },
        })
        .collect()
}

#[test]
fn a_skipped_operation_is_only_its_mark() {
    for (op, before, after, code) in [
        (Op::Create, None, Some([1, 1]), "c"),
        (Op::Update, Some([1, 1]), Some([1, 2]), "u"),
        (Op::Delete, Some([1, 1]), None, "d"),
        (Op::Truncate, None, None, "t"),
    ] {
        let out = items(&[code], change(op, before, after));
        assert_eq!(ops(&out), ["mark"], "{code}");
        match &out[0].mark {
            Some(Mark::Row(m)) => assert_eq!(m.skip_rows, 5, "{code}: resumes after it"),
            other => panic!("{code}: {other:?}"),
        }
        // Not listed: emitted.
        assert_ne!(ops(&items(&["none"], change(op, before, after))), ["mark"]);
    }
}

#[test]
fn a_key_change_is_skipped_with_updates_only() {
    let moved = || change(Op::Update, Some([1, 1]), Some([2, 1]));
    assert_eq!(ops(&items(&["u"], moved())), ["mark"]);
    for skipped in [&["d"][..], &["c"], &["c", "d"]] {
        assert_eq!(
            ops(&items(skipped, moved())),
            ["d", "tombstone", "c"],
            "{skipped:?}: the update's handler emits both halves"
        );
    }
}

#[test]
fn a_truncate_is_one_keyless_record_without_tombstone() {
    let out = items(&["none"], change(Op::Truncate, None, None));
    assert_eq!(ops(&out), ["t"]);
    let rec = out[0].record.as_ref().unwrap();
    assert_eq!(&*rec.topic, "p.shop.t");
    assert!(rec.key.is_none(), "no key");
    let v: serde_json::Value = serde_json::from_slice(rec.value.as_ref().unwrap()).unwrap();
    assert_eq!(v["before"], serde_json::Value::Null);
    assert_eq!(v["after"], serde_json::Value::Null);
    assert_eq!(v["source"]["table"], "t");
    assert_eq!(v["source"]["pos"], 1000);
    assert!(out[0].mark.is_some(), "it carries its mark");
}
