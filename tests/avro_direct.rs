//! Property test: the direct Avro writer and the apache-avro path give identical bytes (or
//! the same error) — for random Connect schemas and datums (optional fields, defaults,
//! logical types, nested structs and arrays, out-of-range values), and for random rows of
//! every column type through the real envelope builder under every handling mode.
//! Fixed seed, bounded cases: deterministic in CI.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use rowtide::config::{
    BigintUnsignedMode, BinaryMode, DecimalMode, FormatConfig, FormatKind, TimePrecisionMode,
};
use rowtide::encode::avro::AvroCodec;
use rowtide::encode::Encoder;
use rowtide::envelope::convert::{decimal_schema, CONNECT_DATE, CONNECT_TIME, CONNECT_TIMESTAMP};
use rowtide::envelope::schema::{Datum, Field, Schema, Type};
use rowtide::envelope::Now;
use rowtide::model::{
    Change, Charset, ColumnDesc, ColumnKind, DateTime, Flavor, Op, Position, SnapshotMarker,
    TableDesc, Value,
};

fn runner(cases: u32, seed: u64) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Both paths on one datum: equal bytes, or both an error with the same text.
fn same_bytes(codec: &AvroCodec, d: &Datum) -> Result<Result<(), String>, TestCaseError> {
    let (mut direct, mut generic) = (Vec::new(), Vec::new());
    let a = codec.encode(7, d, &mut direct);
    let b = codec.encode_generic(7, d, &mut generic);
    prop_assert_eq!(&a, &b, "datum {:?}", d);
    if a.is_ok() {
        prop_assert_eq!(&direct, &generic, "datum {:?}", d);
    }
    Ok(a)
}

// ---- random Connect schemas and datums ----

fn leaf() -> impl Strategy<Value = Schema> {
    let named = |ty: Type, name: &str| {
        let mut s = Schema::new(ty);
        s.name = Some(name.to_string());
        s
    };
    prop_oneof![
        Just(Schema::new(Type::Int8)),
        Just(Schema::new(Type::Int16)),
        Just(Schema::new(Type::Int32)),
        Just(Schema::new(Type::Int64)),
        Just(Schema::new(Type::Float32)),
        Just(Schema::new(Type::Float64)),
        Just(Schema::new(Type::Boolean)),
        Just(Schema::new(Type::String)),
        Just(Schema::new(Type::Bytes)),
        Just(named(Type::Int32, CONNECT_DATE)),
        Just(named(Type::Int32, CONNECT_TIME)),
        Just(named(Type::Int64, CONNECT_TIMESTAMP)),
        Just(named(Type::Int64, "io.debezium.time.MicroTimestamp")),
        (1u32..40, 0u32..10).prop_map(|(p, s)| decimal_schema(p.max(s), s)),
    ]
}

fn schema() -> impl Strategy<Value = Schema> {
    let modified = |inner: BoxedStrategy<Schema>| {
        (inner, any::<bool>()).prop_map(|(mut s, opt)| {
            s.optional = opt;
            s
        })
    };
    modified(leaf().boxed()).prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            modified(inner.clone())
                .prop_map(|items| Schema::new(Type::Array(Box::new(items))))
                .boxed(),
            proptest::collection::vec(modified(inner), 1..5)
                .prop_map(|fs| {
                    let fields = fs
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| Field::new(format!("f{i}-x"), s))
                        .collect();
                    Schema::strukt("s", fields)
                })
                .boxed(),
        ]
    })
}

/// Unique record names (a repeated name would be a reference to the first record).
fn name_records(s: &mut Schema, next: &mut usize) {
    match &mut s.ty {
        Type::Struct(fields) => {
            s.name = Some(format!("ns.r{next}"));
            *next += 1;
            for f in fields {
                name_records(&mut f.schema, next);
            }
        }
        Type::Array(items) => name_records(items, next),
        _ => {}
    }
}

fn datum(s: &Schema) -> BoxedStrategy<Datum> {
    let logical = s.name.as_deref();
    let base: BoxedStrategy<Datum> = match &s.ty {
        Type::Int8 | Type::Int16 | Type::Int32
            if logical == Some(CONNECT_DATE) || logical == Some(CONNECT_TIME) =>
        {
            any::<i64>().prop_map(Datum::Int).boxed()
        }
        Type::Int8 | Type::Int16 | Type::Int32 => prop_oneof![
            9 => any::<i32>().prop_map(|i| Datum::Int(i as i64)),
            1 => any::<i64>().prop_map(Datum::Int),
        ]
        .boxed(),
        Type::Int64 => any::<i64>().prop_map(Datum::Int).boxed(),
        Type::Float32 => any::<f32>().prop_map(Datum::F32).boxed(),
        Type::Float64 => any::<f64>().prop_map(Datum::F64).boxed(),
        Type::Boolean => any::<bool>().prop_map(Datum::Bool).boxed(),
        Type::String => ".{0,12}".prop_map(Datum::Str).boxed(),
        Type::Bytes => proptest::collection::vec(any::<u8>(), 0..12)
            .prop_map(Datum::Bytes)
            .boxed(),
        Type::Array(items) => proptest::collection::vec(datum(items), 0..4)
            .prop_map(Datum::Array)
            .boxed(),
        Type::Struct(fields) => fields
            .iter()
            .map(|f| datum(&f.schema))
            .collect::<Vec<_>>()
            .prop_map(Datum::Struct)
            .boxed(),
    };
    // Nulls everywhere: in optional fields, and (an error on both paths) elsewhere.
    let null_weight = if s.optional { 3 } else { 1 };
    prop_oneof![null_weight => Just(Datum::Null), 10 => base].boxed()
}

/// Gives some leaves a default (taken from a datum of the same schema).
fn with_defaults(s: Schema, seeds: &[Datum], at: &mut usize) -> Schema {
    let mut s = s;
    match &mut s.ty {
        Type::Struct(fields) => {
            for f in fields.iter_mut() {
                let inner = std::mem::replace(&mut f.schema, Schema::new(Type::Boolean));
                f.schema = with_defaults(inner, seeds, at);
            }
        }
        Type::Array(_) => {}
        _ => {
            *at += 1;
            if let Some(d) = seeds.get(*at % seeds.len().max(1)) {
                if at.is_multiple_of(3) && matches!((&s.ty, d), (Type::String, Datum::Str(_))) {
                    s.default = Some(d.clone());
                } else if at.is_multiple_of(4) && matches!(s.ty, Type::Int32 | Type::Int64) {
                    s.default = Some(Datum::Int(*at as i64));
                }
            }
        }
    }
    s
}

#[test]
fn random_schemas_and_datums_encode_identically() {
    let mut r = runner(400, 0x5eed_a7f0);
    let strategy = (
        schema(),
        proptest::collection::vec(".{0,6}".prop_map(Datum::Str), 1..4),
    )
        .prop_flat_map(|(s, seeds)| {
            let mut s = with_defaults(s, &seeds, &mut 0);
            name_records(&mut s, &mut 0);
            let d = proptest::collection::vec(datum(&s), 1..6);
            (Just(s), d)
        });
    let (direct, ok) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    r.run(&strategy, |(s, datums)| {
        let codec = AvroCodec::new(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Every schema derived from a Connect schema is written directly.
        prop_assert!(codec.writes_directly(), "{}", codec.schema_json);
        direct.set(direct.get() + 1);
        for d in &datums {
            ok.set(ok.get() + u32::from(same_bytes(&codec, d)?.is_ok()));
        }
        Ok(())
    })
    .unwrap();
    let (direct, ok) = (direct.get(), ok.get());
    assert!(
        direct >= 400 && ok >= 400,
        "{direct} schemas, {ok} datums encoded"
    );
}

// ---- rows of every column type through the envelope ----

fn column_kinds() -> Vec<(ColumnDesc, BoxedStrategy<Value>)> {
    let c = |name: &str, kind: ColumnKind| ColumnDesc::new(name, kind);
    let uns = |mut d: ColumnDesc| {
        d.unsigned = true;
        d
    };
    let bin = |mut d: ColumnDesc| {
        d.charset = Charset::Binary;
        d
    };
    let decl = |mut d: ColumnDesc, t: &str| {
        d.ddl.type_name = Some(t.into());
        d
    };
    let int = |lo: i64, hi: i64| (lo..=hi).prop_map(Value::Int).boxed();
    let uint = |hi: u64| (0..=hi).prop_map(Value::UInt).boxed();
    let text = || "[a-zA-Z0-9 éß€😀]{0,16}".prop_map(Value::String).boxed();
    let bytes = || {
        proptest::collection::vec(any::<u8>(), 0..16)
            .prop_map(Value::Bytes)
            .boxed()
    };
    let dt = (
        1000u16..9999,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
        0u32..1_000_000,
    )
        .prop_map(|(year, month, day, hour, minute, second, micros)| {
            Value::DateTime(DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                micros,
            })
        });
    let labels = vec!["new".to_string(), "paid".into(), "x y".into()];
    vec![
        (c("ti", ColumnKind::TinyInt), int(-128, 127)),
        (uns(c("tiu", ColumnKind::TinyInt)), uint(255)),
        (decl(c("flag", ColumnKind::TinyInt), "BOOLEAN"), int(-1, 1)),
        (c("si", ColumnKind::SmallInt), int(-32768, 32767)),
        (uns(c("siu", ColumnKind::SmallInt)), uint(65535)),
        (c("mi", ColumnKind::MediumInt), int(-8_388_608, 8_388_607)),
        (
            c("i", ColumnKind::Int),
            int(i32::MIN as i64, i32::MAX as i64),
        ),
        (uns(c("iu", ColumnKind::Int)), uint(u32::MAX as u64)),
        (
            c("bi", ColumnKind::BigInt),
            any::<i64>().prop_map(Value::Int).boxed(),
        ),
        (
            uns(c("biu", ColumnKind::BigInt)),
            any::<u64>().prop_map(Value::UInt).boxed(),
        ),
        (
            c("f", ColumnKind::Float),
            any::<f32>().prop_map(Value::Float).boxed(),
        ),
        (
            c("d", ColumnKind::Double),
            any::<f64>().prop_map(Value::Double).boxed(),
        ),
        (
            c(
                "dec",
                ColumnKind::Decimal {
                    precision: 20,
                    scale: 4,
                },
            ),
            (any::<bool>(), 0u64..10_000_000_000_000_000, 0u32..10_000)
                .prop_map(|(neg, i, f)| {
                    Value::Decimal(format!("{}{i}.{f:04}", if neg { "-" } else { "" }))
                })
                .boxed(),
        ),
        (
            c(
                "dec0",
                ColumnKind::Decimal {
                    precision: 5,
                    scale: 0,
                },
            ),
            (-99_999i64..99_999)
                .prop_map(|i| Value::Decimal(i.to_string()))
                .boxed(),
        ),
        (
            c("b1", ColumnKind::Bit { bits: 1 }),
            (0u64..2).prop_map(Value::Bit).boxed(),
        ),
        (
            c("b13", ColumnKind::Bit { bits: 13 }),
            (0u64..8192).prop_map(Value::Bit).boxed(),
        ),
        (
            c("b64", ColumnKind::Bit { bits: 64 }),
            any::<u64>().prop_map(Value::Bit).boxed(),
        ),
        (
            c("y", ColumnKind::Year),
            prop_oneof![Just(0u16), 1901u16..2155]
                .prop_map(Value::Year)
                .boxed(),
        ),
        (
            c("dt0", ColumnKind::Date),
            (1000u16..9999, 0u8..=12, 0u8..=28)
                .prop_map(|(year, month, day)| Value::Date { year, month, day })
                .boxed(),
        ),
        (
            c("tm", ColumnKind::Time { fsp: 6 }),
            (-3_020_399_999_999i64..3_020_399_999_999)
                .prop_map(Value::Time)
                .boxed(),
        ),
        (
            c("tm0", ColumnKind::Time { fsp: 0 }),
            (-3_020_399i64..3_020_399)
                .prop_map(|s| Value::Time(s * 1_000_000))
                .boxed(),
        ),
        (
            c("dt6", ColumnKind::DateTime { fsp: 6 }),
            dt.clone().boxed(),
        ),
        (c("dt3", ColumnKind::DateTime { fsp: 3 }), dt.boxed()),
        (
            c("ts", ColumnKind::Timestamp { fsp: 6 }),
            (0i64..2_147_483_647, 0u32..1_000_000)
                .prop_map(|(secs, micros)| Value::Timestamp { secs, micros })
                .boxed(),
        ),
        (c("ch", ColumnKind::Char { max_bytes: 40 }), text()),
        (c("vc", ColumnKind::VarChar { max_bytes: 400 }), text()),
        (c("tx", ColumnKind::Blob { len_bytes: 2 }), text()),
        (bin(c("bn", ColumnKind::Char { max_bytes: 8 })), bytes()),
        (bin(c("vb", ColumnKind::VarChar { max_bytes: 64 })), bytes()),
        (bin(c("bl", ColumnKind::Blob { len_bytes: 4 })), bytes()),
        (
            c(
                "e",
                ColumnKind::Enum {
                    values: labels.clone(),
                },
            ),
            proptest::sample::select(labels.clone())
                .prop_map(Value::String)
                .boxed(),
        ),
        (
            c("s", ColumnKind::Set { values: labels }),
            proptest::sample::select(vec!["", "new", "new,paid", "paid,x y"])
                .prop_map(|s| Value::String(s.into()))
                .boxed(),
        ),
        (
            c("j", ColumnKind::Json),
            proptest::sample::select(vec![r#"{"a":1}"#, "[]", "null", r#"{"k":"v\u00e9"}"#])
                .prop_map(|s| Value::Json(s.into()))
                .boxed(),
        ),
        (
            c("g", ColumnKind::Geometry),
            (0u32..5000, proptest::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(srid, wkb)| Value::Geometry { srid, wkb })
                .boxed(),
        ),
        (
            decl(c("pt", ColumnKind::Geometry), "POINT"),
            (0u32..5000, any::<f64>(), any::<f64>())
                .prop_map(|(srid, x, y)| {
                    let mut wkb = vec![1u8, 1, 0, 0, 0];
                    wkb.extend_from_slice(&x.to_le_bytes());
                    wkb.extend_from_slice(&y.to_le_bytes());
                    Value::Geometry { srid, wkb }
                })
                .boxed(),
        ),
        (
            c("v", ColumnKind::Vector { dims: 3 }),
            proptest::collection::vec(any::<f32>(), 3)
                .prop_map(Value::Vector)
                .boxed(),
        ),
    ]
}

fn table(nullable: &[bool]) -> Arc<TableDesc> {
    let mut columns: Vec<ColumnDesc> = column_kinds().into_iter().map(|(c, _)| c).collect();
    let mut id = ColumnDesc::new("id", ColumnKind::BigInt);
    id.nullable = false;
    for (c, n) in columns.iter_mut().zip(nullable) {
        c.nullable = *n;
    }
    columns.insert(0, id);
    Arc::new(TableDesc {
        db: "db".into(),
        name: "all_types".into(),
        columns,
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    })
}

/// A row's values, each with whether it is NULL (honoured only in nullable columns: the
/// server never sends NULL for a NOT NULL column).
fn row() -> impl Strategy<Value = Vec<(Value, bool)>> {
    let cols: Vec<_> = column_kinds()
        .into_iter()
        .map(|(_, v)| (v, proptest::bool::weighted(0.2)))
        .collect();
    (any::<i64>(), cols).prop_map(|(id, mut vs)| {
        vs.insert(0, (Value::Int(id), false));
        vs
    })
}

fn values(t: &TableDesc, row: Vec<(Value, bool)>) -> Vec<Value> {
    row.into_iter()
        .zip(&t.columns)
        .map(|((v, null), c)| if null && c.nullable { Value::Null } else { v })
        .collect()
}

fn modes() -> impl Strategy<Value = FormatConfig> {
    (
        prop_oneof![
            Just(DecimalMode::Precise),
            Just(DecimalMode::Double),
            Just(DecimalMode::String)
        ],
        prop_oneof![
            Just(TimePrecisionMode::AdaptiveTimeMicroseconds),
            Just(TimePrecisionMode::Connect)
        ],
        prop_oneof![
            Just(BigintUnsignedMode::Long),
            Just(BigintUnsignedMode::Precise)
        ],
        prop_oneof![
            Just(BinaryMode::Bytes),
            Just(BinaryMode::Base64),
            Just(BinaryMode::Hex)
        ],
    )
        .prop_map(|(decimal, time, bigint, binary)| FormatConfig {
            kind: FormatKind::Avro,
            registry_url: Some("http://127.0.0.1:9/unused".into()),
            decimal_handling_mode: decimal,
            time_precision_mode: time,
            bigint_unsigned_handling_mode: bigint,
            binary_handling_mode: binary,
            ..FormatConfig::default()
        })
}

#[test]
fn rows_of_every_column_type_encode_identically() {
    let n = column_kinds().len();
    let mut r = runner(150, 0xa770_d12e);
    let strategy = (
        modes(),
        proptest::collection::vec(any::<bool>(), n),
        row(),
        row(),
        prop_oneof![
            Just(Op::Create),
            Just(Op::Update),
            Just(Op::Delete),
            Just(Op::Read)
        ],
        any::<bool>(),
    );
    let rows = std::cell::Cell::new(0u32);
    r.run(&strategy, |(cfg, nullable, before, after, op, mariadb)| {
        let t = table(&nullable);
        // A NULL in a NOT NULL column takes the column's fallback (as from a snapshot).
        let (before, after) = (values(&t, before), values(&t, after));
        let flavor = if mariadb {
            Flavor::Mariadb
        } else {
            Flavor::Mysql
        };
        let mut enc = Encoder::new(&cfg, "p", flavor).unwrap();
        let change = Change {
            table: t.clone(),
            op,
            before: (op != Op::Create && op != Op::Read).then_some(before),
            after: (op != Op::Delete).then_some(after),
            position: Position {
                file: Arc::from("mysql-bin.000001"),
                pos: 4,
                ..Default::default()
            },
            ts_ms: 1_700_000_000_000,
            snapshot: if op == Op::Read {
                SnapshotMarker::True
            } else {
                SnapshotMarker::False
            },
            thread: Some(1),
            query: None,
            server_id: 1,
        };
        let rec = enc
            .change_record(&change, Now::system(), None)
            .map_err(|e| TestCaseError::reject(e.to_string()))?;
        for part in rec.key.iter().chain(rec.value.iter()) {
            let codec = AvroCodec::new(&part.schema).unwrap();
            prop_assert!(codec.writes_directly(), "{}", codec.schema_json);
            let encoded = same_bytes(&codec, &part.datum)?;
            prop_assert!(encoded.is_ok(), "a valid row must encode: {:?}", encoded);
        }
        rows.set(rows.get() + 1);
        Ok(())
    })
    .unwrap();
    assert!(rows.get() >= 150, "{} rows compared", rows.get());
}
