//! Avro against the real registry (Apicurio, Confluent-compatible API): events are encoded
//! with registered schemas, the writer schema is fetched back by id, the bytes are decoded
//! by a second implementation (Python fastavro) and compared with the JSON encoding of the
//! same events; an added nullable column registers a new version; an incompatible change is
//! refused with `IncompatibleSchema` naming the subject.

mod common;

use std::io::Write as _;
use std::sync::Arc;

use rowtide::config::{FormatConfig, FormatKind};
use rowtide::encode::registry::Registry;
use rowtide::encode::Encoder;
use rowtide::envelope::Now;
use rowtide::model::{
    charset::Charset, position::Position, Change, ColumnDesc, ColumnKind, DateTime, Flavor, Op,
    SnapshotMarker, TableDesc, Value,
};
use rowtide::Error;
use serde_json::Value as Json;

const NOW: Now = Now {
    nanos: 1_700_000_001_234_567_891,
};

const DECODER: &str = r#"
import base64, decimal, io, json, sys
import fastavro

def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, decimal.Decimal):
        sign, digits, exp = v.as_tuple()
        n = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        bits = n.bit_length() if n >= 0 else (~n).bit_length()
        return base64.b64encode(n.to_bytes(bits // 8 + 1, "big", signed=True)).decode()
    return v

schema = fastavro.parse_schema(json.loads(open(sys.argv[1]).read()))
data = open(sys.argv[2], "rb").read()
assert data[0] == 0, "magic byte"
rec = fastavro.schemaless_reader(io.BytesIO(data[5:]), schema)
print(json.dumps(plain(rec)))
"#;

fn python() -> Option<String> {
    match std::env::var("ROWTIDE_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            let msg = "ROWTIDE_TEST_PYTHON is not set (a python with fastavro, see \
                       scripts/py-requirements.txt)";
            if common::in_ci() {
                panic!("{msg}");
            }
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

fn col(name: &str, kind: ColumnKind) -> ColumnDesc {
    ColumnDesc::new(name, kind)
}

fn mixed_table(name: &str, extra: bool) -> Arc<TableDesc> {
    let mut id = col("id", ColumnKind::Int);
    id.nullable = false;
    let mut big = col("big", ColumnKind::BigInt);
    big.unsigned = true;
    let mut blob = col("blob", ColumnKind::Blob { len_bytes: 2 });
    blob.charset = Charset::Binary;
    let mut columns = vec![
        id,
        col("ti", ColumnKind::TinyInt),
        big,
        col(
            "price",
            ColumnKind::Decimal {
                precision: 65,
                scale: 30,
            },
        ),
        col("f", ColumnKind::Float),
        col("g", ColumnKind::Double),
        col("d", ColumnKind::Date),
        col("t", ColumnKind::Time { fsp: 6 }),
        col("dt", ColumnKind::DateTime { fsp: 6 }),
        col("ts", ColumnKind::Timestamp { fsp: 3 }),
        col("name", ColumnKind::VarChar { max_bytes: 400 }),
        blob,
        col("bits", ColumnKind::Bit { bits: 64 }),
        col("flag", ColumnKind::Bit { bits: 1 }),
        col(
            "e",
            ColumnKind::Enum {
                values: vec!["x".into(), "y".into()],
            },
        ),
        col(
            "s",
            ColumnKind::Set {
                values: vec!["a".into(), "b".into()],
            },
        ),
        col("j", ColumnKind::Json),
        col("geo", ColumnKind::Geometry),
        col("y", ColumnKind::Year),
    ];
    if extra {
        columns.push(col("added", ColumnKind::VarChar { max_bytes: 40 }));
    }
    Arc::new(TableDesc {
        db: "inventory".into(),
        name: name.into(),
        columns,
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    })
}

fn row(id: i64, extra: bool) -> Vec<Value> {
    let mut r = vec![
        Value::Int(id),
        Value::Int(-128),
        Value::UInt(u64::MAX),
        Value::Decimal(
            "-12345678901234567890123456789012345.123456789012345678901234567890".into(),
        ),
        Value::Float(1.5),
        Value::Double(-2.25),
        Value::Date {
            year: 2018,
            month: 4,
            day: 1,
        },
        Value::Time(-3_020_398_999_999),
        Value::DateTime(DateTime {
            year: 2018,
            month: 6,
            day: 20,
            hour: 6,
            minute: 37,
            second: 3,
            micros: 123_456,
        }),
        Value::Timestamp {
            secs: 1_529_501_823,
            micros: 123_000,
        },
        Value::String("ünïcode".into()),
        Value::Bytes(vec![0xff, 0xfe, 0, 0x80]),
        Value::Bit(23_989_979),
        Value::Bit(1),
        Value::String("y".into()),
        Value::String("".into()),
        Value::Json(r#"{"k":1}"#.into()),
        Value::Geometry {
            srid: 4326,
            wkb: hex::decode("0101000000000000000000F03F000000000000F03F").unwrap(),
        },
        Value::Null,
    ];
    if extra {
        r.push(Value::String("new".into()));
    }
    r
}

fn change(
    t: &Arc<TableDesc>,
    op: Op,
    before: Option<Vec<Value>>,
    after: Option<Vec<Value>>,
) -> Change {
    Change {
        table: t.clone(),
        op,
        before,
        after,
        position: Position {
            file: Arc::from("mariadb-bin.000001"),
            pos: 4242,
            row: 1,
            gtid: Some(Arc::from("0-1-9")),
            ..Default::default()
        },
        ts_ms: 1_700_000_000_000,
        snapshot: SnapshotMarker::False,
        thread: Some(3),
        query: None,
        server_id: 1,
    }
}

fn cfg(kind: FormatKind, url: &str) -> FormatConfig {
    FormatConfig {
        kind,
        registry_url: Some(url.to_string()),
        ..FormatConfig::default()
    }
}

/// Decodes a framed Avro record with its writer schema fetched from the registry by id.
async fn decode(python: &str, reg: &Registry, framed: &[u8]) -> (u32, Json) {
    assert_eq!(framed[0], 0, "magic byte");
    let id = u32::from_be_bytes([framed[1], framed[2], framed[3], framed[4]]);
    let schema = reg.schema_by_id(id).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sp, dp, pp) = (
        dir.path().join("s.avsc"),
        dir.path().join("d.bin"),
        dir.path().join("dec.py"),
    );
    std::fs::write(&sp, schema).unwrap();
    std::fs::write(&dp, framed).unwrap();
    std::fs::File::create(&pp)
        .unwrap()
        .write_all(DECODER.as_bytes())
        .unwrap();
    let out = std::process::Command::new(python)
        .arg(&pp)
        .arg(&sp)
        .arg(&dp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fastavro failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (id, serde_json::from_slice(&out.stdout).unwrap())
}

#[tokio::test]
async fn avro_decodes_with_fastavro_and_evolves() {
    let Some(env) = common::servers() else { return };
    let Some(py) = python() else { return };
    let prefix = common::unique("avro");
    let mut avro = Encoder::new(
        &cfg(FormatKind::Avro, &env.registry_url),
        &prefix,
        Flavor::Mariadb,
    )
    .unwrap();
    let mut json = Encoder::new(
        &cfg(FormatKind::Json, &env.registry_url),
        &prefix,
        Flavor::Mariadb,
    )
    .unwrap();
    let reg = Registry::new(&cfg(FormatKind::Avro, &env.registry_url)).unwrap();

    let v1 = mixed_table("mixed", false);
    let v2 = mixed_table("mixed", true);
    let changes = vec![
        change(&v1, Op::Create, None, Some(row(1, false))),
        change(&v1, Op::Update, Some(row(1, false)), Some(row(2, false))),
        change(&v1, Op::Delete, Some(row(2, false)), None),
        change(&v2, Op::Create, None, Some(row(3, true))),
    ];
    let mut value_ids = Vec::new();
    for c in &changes {
        let a = avro.encode_change_at(c, NOW).await.unwrap();
        let j = json.encode_change_at(c, NOW).await.unwrap();
        assert_eq!(a.topic, j.topic);
        let (kid, key) = decode(&py, &reg, a.key.as_deref().unwrap()).await;
        let (vid, value) = decode(&py, &reg, a.value.as_deref().unwrap()).await;
        let jkey: Json = serde_json::from_slice(&j.key.unwrap()).unwrap();
        let jvalue: Json = serde_json::from_slice(&j.value.unwrap()).unwrap();
        assert_eq!(key, jkey, "key of {:?}", c.op);
        assert_eq!(value, jvalue, "value of {:?}", c.op);
        assert!(kid > 0);
        value_ids.push(vid);
    }
    // Same structure → same id; the ALTERed structure → a new id, registered as version 2.
    assert_eq!(value_ids[0], value_ids[2]);
    assert_ne!(value_ids[0], value_ids[3]);
    let subject = format!("{prefix}.inventory.mixed-value");
    assert_eq!(reg.versions(&subject).await.unwrap().len(), 2);
}

#[tokio::test]
async fn incompatible_change_names_the_subject() {
    let Some(env) = common::servers() else { return };
    let prefix = common::unique("incompat");
    let mut avro = Encoder::new(
        &cfg(FormatKind::Avro, &env.registry_url),
        &prefix,
        Flavor::Mysql,
    )
    .unwrap();
    let mk = |kind: ColumnKind| {
        let mut id = col("id", ColumnKind::Int);
        id.nullable = false;
        let mut x = col("x", kind);
        x.nullable = false;
        Arc::new(TableDesc {
            db: "inventory".into(),
            name: "t".into(),
            columns: vec![id, x],
            primary_key: vec![0],
            charset_name: None,
            comment: None,
        })
    };
    let t1 = mk(ColumnKind::Int);
    avro.encode_change(&change(
        &t1,
        Op::Create,
        None,
        Some(vec![Value::Int(1), Value::Int(2)]),
    ))
    .await
    .unwrap();
    let t2 = mk(ColumnKind::VarChar { max_bytes: 40 });
    let err = avro
        .encode_change(&change(
            &t2,
            Op::Create,
            None,
            Some(vec![Value::Int(1), Value::String("2".into())]),
        ))
        .await
        .unwrap_err();
    match err {
        Error::IncompatibleSchema { subject, message } => {
            assert_eq!(subject, format!("{prefix}.inventory.t-value"), "{message}");
        }
        other => panic!("expected IncompatibleSchema, got {other}"),
    }
}
