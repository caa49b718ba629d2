//! Encode throughput (events/s) of JSON, JSON with schema and Avro for a representative
//! mixed-type table. Avro uses a pre-seeded schema id, so the hot loop never touches the
//! network. `encode_avro_codec` compares the two Avro paths on one envelope datum: the
//! direct writer and the apache-avro `Value` path it replaced. Before timing, a counting
//! allocator prints the allocations per event of every case.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rowtide::config::{FormatConfig, FormatKind};
use rowtide::encode::avro::AvroCodec;
use rowtide::encode::Encoder;
use rowtide::envelope::Now;
use rowtide::model::{
    Change, ColumnDesc, ColumnKind, DateTime, Flavor, Op, Position, SnapshotMarker, TableDesc,
    Value,
};

#[path = "support/alloc_count.rs"]
mod alloc_count;

#[global_allocator]
static ALLOC: alloc_count::Counting = alloc_count::Counting;

fn table() -> Arc<TableDesc> {
    let mut id = ColumnDesc::new("id", ColumnKind::BigInt);
    id.nullable = false;
    Arc::new(TableDesc {
        db: "shop".into(),
        name: "orders".into(),
        columns: vec![
            id,
            ColumnDesc::new("customer", ColumnKind::VarChar { max_bytes: 400 }),
            ColumnDesc::new(
                "amount",
                ColumnKind::Decimal {
                    precision: 12,
                    scale: 2,
                },
            ),
            ColumnDesc::new("qty", ColumnKind::Int),
            ColumnDesc::new(
                "status",
                ColumnKind::Enum {
                    values: vec!["new".into(), "paid".into()],
                },
            ),
            ColumnDesc::new("created", ColumnKind::DateTime { fsp: 6 }),
            ColumnDesc::new("updated", ColumnKind::Timestamp { fsp: 3 }),
            ColumnDesc::new("note", ColumnKind::Blob { len_bytes: 2 }),
            ColumnDesc::new("attrs", ColumnKind::Json),
            ColumnDesc::new("ratio", ColumnKind::Double),
        ],
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    })
}

fn change(t: &Arc<TableDesc>) -> Change {
    let row = vec![
        Value::Int(123_456),
        Value::String("Jane Q. Customer".into()),
        Value::Decimal("1234.56".into()),
        Value::Int(3),
        Value::String("paid".into()),
        Value::DateTime(DateTime {
            year: 2024,
            month: 5,
            day: 17,
            hour: 12,
            minute: 1,
            second: 2,
            micros: 345_678,
        }),
        Value::Timestamp {
            secs: 1_715_947_262,
            micros: 123_000,
        },
        Value::String("please leave at the door".into()),
        Value::Json(r#"{"gift":true,"tags":["a","b"]}"#.into()),
        Value::Double(0.25),
    ];
    Change {
        table: t.clone(),
        op: Op::Update,
        before: Some(row.clone()),
        after: Some(row),
        position: Position {
            file: Arc::from("mysql-bin.000042"),
            pos: 987_654,
            ..Default::default()
        },
        ts_ms: 1_715_947_262_000,
        snapshot: SnapshotMarker::False,
        thread: Some(17),
        query: None,
        server_id: 1,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let t = table();
    let ch = change(&t);
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(1));
    for kind in [FormatKind::Json, FormatKind::JsonSchema, FormatKind::Avro] {
        let cfg = FormatConfig {
            kind,
            registry_url: Some("http://127.0.0.1:9/unused".into()),
            ..FormatConfig::default()
        };
        let mut enc = Encoder::new(&cfg, "bench", Flavor::Mysql).expect("encoder");
        if kind == FormatKind::Avro {
            let (k, v) = enc.avro_schemas(&t).expect("schemas");
            let reg = enc.registry_mut().expect("registry");
            reg.seed("bench.shop.orders-key", &k.expect("key schema"), 1);
            reg.seed("bench.shop.orders-value", &v, 2);
        }
        alloc_count::report(&format!("encode/{kind:?}"), 10_000, || {
            rt.block_on(enc.encode_change(&ch)).expect("encode");
        });
        g.bench_function(format!("{kind:?}"), |b| {
            b.iter(|| rt.block_on(enc.encode_change(&ch)).expect("encode"))
        });
    }
    g.finish();
    codecs(c, &ch);
}

/// The Avro value codec alone, on the envelope datum of the same change: the direct writer
/// against the apache-avro `Value` path (both into a reused buffer).
fn codecs(c: &mut Criterion, ch: &Change) {
    let cfg = FormatConfig {
        kind: FormatKind::Avro,
        registry_url: Some("http://127.0.0.1:9/unused".into()),
        ..FormatConfig::default()
    };
    let mut enc = Encoder::new(&cfg, "bench", Flavor::Mysql).expect("encoder");
    let rec = enc
        .change_record(ch, Now::system(), None)
        .expect("change record");
    let value = rec.value.expect("value");
    let codec = AvroCodec::new(&value.schema).expect("codec");
    assert!(codec.writes_directly());
    let mut g = c.benchmark_group("encode_avro_codec");
    g.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(1024);
    alloc_count::report("avro_codec/direct", 10_000, || {
        out.clear();
        codec.encode(2, &value.datum, &mut out).expect("encode");
    });
    alloc_count::report("avro_codec/apache_avro", 10_000, || {
        out.clear();
        codec
            .encode_generic(2, &value.datum, &mut out)
            .expect("encode");
    });
    g.bench_function("direct", |b| {
        b.iter(|| {
            out.clear();
            codec.encode(2, &value.datum, &mut out).expect("encode")
        })
    });
    g.bench_function("apache_avro", |b| {
        b.iter(|| {
            out.clear();
            codec
                .encode_generic(2, &value.datum, &mut out)
                .expect("encode")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
