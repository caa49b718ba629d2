//! Unit tests of the outbox `EventRouter`.

use std::collections::BTreeMap;

use super::*;

fn router(toml_text: &str) -> Result<Box<dyn Transform>> {
    let map: BTreeMap<String, toml::Value> = toml::from_str(toml_text).expect("test TOML");
    let mut o = Options::new(0, "outbox", &map);
    let t = build(
        &mut o,
        &Context {
            topic_prefix: "p".into(),
        },
    )?;
    o.finish()?;
    Ok(t)
}

fn text() -> Schema {
    Schema::new(Type::String)
}

/// An outbox change record: id, aggregatetype, aggregateid, type, payload (nullable).
fn outbox(op: &str, agg: &str, payload: Option<&str>) -> Record {
    let row = Schema::strukt(
        "p.db.outbox.Value",
        vec![
            Field::new("id", text()),
            Field::new("aggregatetype", text()),
            Field::new("aggregateid", text()),
            Field::new("type", text()),
            Field::new("payload", text().optional()),
        ],
    )
    .optional();
    let env = Schema::strukt(
        "p.db.outbox.Envelope",
        vec![
            Field::new("before", row.clone()),
            Field::new("after", row),
            Field::new("op", text()),
        ],
    );
    let values = Datum::Struct(vec![
        Datum::str("e1"),
        Datum::str(agg),
        Datum::str("o-1"),
        Datum::str("OrderCreated"),
        Datum::opt_str(payload),
    ]);
    let (before, after) = if op == "d" {
        (values, Datum::Null)
    } else {
        (Datum::Null, values)
    };
    Record {
        topic: "p.db.outbox".into(),
        key: None,
        value: Some(Part::new(
            Arc::new(env),
            Datum::Struct(vec![before, after, Datum::str(op)]),
        )),
        headers: vec![],
        timestamp: None,
        partition: None,
    }
}

#[test]
fn routes_by_aggregate_type_with_payload_value_and_id_header() {
    let mut t = router("").unwrap();
    let out = t
        .apply(outbox("c", "Order", Some(r#"{"a":1}"#)))
        .unwrap()
        .unwrap();
    assert_eq!(&*out.topic, "outbox.event.Order");
    let key = out.key.unwrap();
    assert_eq!(
        key.schema.to_connect_json().to_string(),
        r#"{"type":"string","optional":false}"#
    );
    assert_eq!(key.datum, Datum::str("o-1"));
    let v = out.value.unwrap();
    assert_eq!(
        v.schema.to_connect_json().to_string(),
        r#"{"type":"string","optional":true}"#
    );
    assert_eq!(v.datum, Datum::str(r#"{"a":1}"#));
    assert_eq!(out.headers.len(), 1);
    assert_eq!(
        (&*out.headers[0].key, &out.headers[0].datum),
        ("id", &Datum::str("e1"))
    );
    // Snapshot reads are events too; deletes, tombstones and updates are dropped.
    assert!(t.apply(outbox("r", "Order", Some("x"))).unwrap().is_some());
    assert!(t.apply(outbox("d", "Order", Some("x"))).unwrap().is_none());
    assert!(t.apply(outbox("u", "Order", Some("x"))).unwrap().is_none());
    let mut tomb = outbox("c", "Order", None);
    tomb.value = None;
    assert!(t.apply(tomb).unwrap().is_none());
    // A null payload: a null value with the column's schema (not a tombstone) ...
    let out = t.apply(outbox("c", "Order", None)).unwrap().unwrap();
    assert_eq!(out.value.unwrap().datum, Datum::Null);
    // ... or a tombstone with route_tombstone_on_empty_payload.
    let mut t = router(r#"route_tombstone_on_empty_payload = "true""#).unwrap();
    assert!(t
        .apply(outbox("c", "Order", Some("  ")))
        .unwrap()
        .unwrap()
        .value
        .is_none());
}

#[test]
fn expands_json_and_places_additional_fields() {
    let mut t = router(
        r#"table_expand_json_payload = "true"
           table_fields_additional_placement = "type:header:eventType,aggregateid:envelope:agg"
           route_topic_replacement = "p.${routedByValue}.events""#,
    )
    .unwrap();
    let out = t
        .apply(outbox("c", "Order", Some(r#"{"id": 1, "note": null}"#)))
        .unwrap()
        .unwrap();
    assert_eq!(&*out.topic, "p.Order.events");
    let keys: Vec<&str> = out.headers.iter().map(|h| &*h.key).collect();
    assert_eq!(keys, ["id", "eventType"]);
    let v = out.value.unwrap();
    assert_eq!(
        v.schema.to_connect_json().to_string(),
        r#"{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"}],"optional":true,"name":"payload","field":"payload"},{"type":"string","optional":false,"field":"agg"}],"optional":false,"name":"p.db.outbox.Order.Value"}"#
    );
    assert_eq!(
        v.datum.to_connect_json(&v.schema).to_string(),
        r#"{"payload":{"id":1},"agg":"o-1"}"#
    );
    // Same shape, same value schema Arc (Debezium keeps the first routed name for it).
    let again = t
        .apply(outbox("c", "Invoice", Some(r#"{"id": 2}"#)))
        .unwrap()
        .unwrap();
    assert_eq!(&*again.topic, "p.Invoice.events");
    assert!(Arc::ptr_eq(&again.value.unwrap().schema, &v.schema));
    // Not JSON: kept as text.
    let kept = t
        .apply(outbox("c", "Order", Some("plain")))
        .unwrap()
        .unwrap()
        .value
        .unwrap();
    assert_eq!(
        kept.datum.to_connect_json(&kept.schema).to_string(),
        r#"{"payload":"plain","agg":"o-1"}"#
    );
}

#[test]
fn failures_and_configuration_errors() {
    let mut t = router(r#"table_op_invalid_behavior = "fatal""#).unwrap();
    assert!(t.apply(outbox("u", "Order", Some("x"))).is_err());
    // Another table's change record (no payload column) fails, as in Debezium.
    let mut t = router(r#"table_field_event_payload = "body""#).unwrap();
    let e = t
        .apply(outbox("c", "Order", Some("x")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Unable to find payload field body"), "{e}");
    for bad in [
        r#"table_fields_additional_placement = "type""#,
        r#"table_fields_additional_placement = "type:partitions""#,
        r#"table_op_invalid_behavior = "ignore""#,
        r#"route_topic_replacement = "${nope}""#,
    ] {
        assert!(router(bad).is_err(), "{bad}");
    }
}

/// An outbox row with a `created` DATETIME(6) (MicroTimestamp) and a `shard` INT column,
/// in an envelope with `ts_ms`.
fn timed(created: Option<i64>, shard: Option<i64>, created_name: &str) -> Record {
    let int64 = |name: &str| Schema::new(Type::Int64).named(name).optional();
    let row = Schema::strukt(
        "p.db.outbox.Value",
        vec![
            Field::new("id", text()),
            Field::new("aggregatetype", text()),
            Field::new("aggregateid", text()),
            Field::new("payload", text().optional()),
            Field::new("created", int64(created_name)),
            Field::new("shard", Schema::new(Type::Int32).optional()),
            Field::new("label", text().optional()),
        ],
    )
    .optional();
    let env = Schema::strukt(
        "p.db.outbox.Envelope",
        vec![
            Field::new("before", row.clone()),
            Field::new("after", row),
            Field::new("op", text()),
            Field::new("ts_ms", Schema::new(Type::Int64).optional()),
        ],
    );
    let opt_int = |v: Option<i64>| v.map_or(Datum::Null, Datum::Int);
    let after = Datum::Struct(vec![
        Datum::str("e1"),
        Datum::str("Order"),
        Datum::str("o-1"),
        Datum::str("{}"),
        opt_int(created),
        opt_int(shard),
        Datum::str("x"),
    ]);
    Record {
        topic: "p.db.outbox".into(),
        key: None,
        value: Some(Part::new(
            Arc::new(env),
            Datum::Struct(vec![
                Datum::Null,
                after,
                Datum::str("c"),
                Datum::Int(1_700_000_000_999),
            ]),
        )),
        headers: vec![],
        timestamp: None,
        partition: None,
    }
}

#[test]
fn record_timestamp_follows_debezium() {
    const MICRO: &str = "io.debezium.time.MicroTimestamp";
    // No timestamp column: the envelope's ts_ms; no partition.
    let mut t = router("").unwrap();
    let out = t.apply(timed(Some(5), Some(2), MICRO)).unwrap().unwrap();
    assert_eq!(out.timestamp, Some(1_700_000_000_999));
    assert_eq!(out.partition, None);
    let mut t = router(r#"table_field_event_timestamp = "created""#).unwrap();
    let out = t
        .apply(timed(Some(1_600_000_000_123_456), None, MICRO))
        .unwrap()
        .unwrap();
    assert_eq!(out.timestamp, Some(1_600_000_000_123));
    // A null column falls back to ts_ms.
    let out = t.apply(timed(None, None, MICRO)).unwrap().unwrap();
    assert_eq!(out.timestamp, Some(1_700_000_000_999));
    for (name, v, ms) in [
        (
            "io.debezium.time.Timestamp",
            1_600_000_000_123,
            1_600_000_000_123,
        ),
        (
            "io.debezium.time.NanoTimestamp",
            1_600_000_000_123_456_789,
            1_600_000_000_123,
        ),
    ] {
        let out = t.apply(timed(Some(v), None, name)).unwrap().unwrap();
        assert_eq!(out.timestamp, Some(ms), "{name}");
    }
    // Another logical type, a non-INT64 column or a missing one fails the record.
    let e = t
        .apply(timed(Some(1), None, "io.debezium.time.Date"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Unsupported field type io.debezium.time.Date"),
        "{e}"
    );
    let mut t = router(r#"table_field_event_timestamp = "label""#).unwrap();
    assert!(t.apply(timed(Some(1), None, MICRO)).is_err());
    let mut t = router(r#"table_field_event_timestamp = "nothere""#).unwrap();
    let e = t
        .apply(timed(Some(1), None, MICRO))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Unable to find timestamp field nothere"), "{e}");
}

#[test]
fn partition_placement_sets_the_partition() {
    const MICRO: &str = "io.debezium.time.MicroTimestamp";
    let mut t =
        router(r#"table_fields_additional_placement = "shard:partition,label:envelope:tag""#)
            .unwrap();
    let out = t.apply(timed(None, Some(3), MICRO)).unwrap().unwrap();
    assert_eq!(out.partition, Some(3));
    // The partition column is not in the value (only envelope placements are).
    let v = out.value.unwrap();
    let names: Vec<&str> = v.schema.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["payload", "tag"]);
    let out = t.apply(timed(None, None, MICRO)).unwrap().unwrap();
    assert_eq!(
        out.partition, None,
        "a null column leaves the partitioner to choose"
    );
    // Only headers and a partition: the value is the payload itself.
    let mut t = router(r#"table_fields_additional_placement = "shard:partition""#).unwrap();
    let out = t.apply(timed(None, Some(1), MICRO)).unwrap().unwrap();
    assert_eq!(out.value.unwrap().datum, Datum::str("{}"));
    assert_eq!(out.partition, Some(1));
    // Not an INT32 column: the record fails; a missing one too unless told to ignore it.
    let mut t = router(r#"table_fields_additional_placement = "label:partition""#).unwrap();
    assert!(t.apply(timed(None, Some(1), MICRO)).is_err());
    let mut t = router(r#"table_fields_additional_placement = "gone:partition""#).unwrap();
    assert!(t.apply(timed(None, Some(1), MICRO)).is_err());
    let mut t = router(
        r#"table_fields_additional_placement = "gone:partition"
           table_fields_additional_error_on_missing = "false""#,
    )
    .unwrap();
    assert_eq!(
        t.apply(timed(None, Some(1), MICRO))
            .unwrap()
            .unwrap()
            .partition,
        None
    );
    assert!(router(r#"table_fields_additional_placement = "shard:elsewhere""#).is_err());
}
