//! The types whose declared name changes how they are carried — `POINT`, `BOOLEAN` and
//! MariaDB's `UUID`, `INET4`, `INET6` — as Debezium writes them (references are to
//! debezium/debezium at v3.6.1.Final: `Point.java`, `BinlogGeometry.java`,
//! `BinlogValueConverters.convertPoint`, `JdbcValueConverters.convertBoolean`,
//! `BinlogDefaultValueConverter.convertToBoolean`, `Uuid.java`, and the MariaDB connector's
//! `MariaDbValueConverters.convertUuid`).
//!
//! Golden tests on hand-built changes (no server); a live test against the shared MariaDB
//! (FULL metadata) through the real binary and Kafka: the same rows through the snapshot and
//! through the binlog, a BOOLEAN column added mid-stream, and a table created mid-stream,
//! with every UUID/INET text checked against the server's `CAST(… AS CHAR)`; the same kind
//! of run side by side with Debezium's MariaDB connector 3.5.0, compared row by row; and a
//! private server logging MINIMAL metadata, where the types come from the logged DDL.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::kafka::{wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use rowtide::config::{FormatConfig, FormatKind};
use rowtide::encode::Encoder;
use rowtide::envelope::convert::{column_schema, Modes};
use rowtide::envelope::Now;
use rowtide::model::{
    charset::Charset, Change, ColumnDdl, ColumnDefault, ColumnDesc, ColumnKind, Flavor, Op,
    Position, SnapshotMarker, TableDesc, Value,
};
use serde_json::{json, Value as Json};

// ---------------------------------------------------------------------------------------
// Golden tests: hand-built changes.

/// A column as DDL declaring it `type_name` describes it.
fn declared(name: &str, kind: ColumnKind, type_name: &str) -> ColumnDesc {
    let mut c = ColumnDesc::new(name, kind);
    c.ddl = ColumnDdl {
        type_name: Some(type_name.into()),
        ..ColumnDdl::default()
    };
    if matches!(c.kind, ColumnKind::Char { .. }) {
        c.charset = Charset::Binary;
    }
    c
}

fn not_null(mut c: ColumnDesc) -> ColumnDesc {
    c.nullable = false;
    c
}

fn table(columns: Vec<ColumnDesc>) -> Arc<TableDesc> {
    let mut cols = vec![not_null(ColumnDesc::new("id", ColumnKind::Int))];
    cols.extend(columns);
    Arc::new(TableDesc {
        db: "inventory".into(),
        name: "golden".into(),
        columns: cols,
        primary_key: vec![0],
        charset_name: None,
        comment: None,
    })
}

fn change(t: &Arc<TableDesc>, values: Vec<Value>) -> Change {
    let mut row = vec![Value::Int(1)];
    row.extend(values);
    let file: Arc<str> = Arc::from("mariadb-bin.000001");
    Change {
        table: t.clone(),
        op: Op::Create,
        before: None,
        after: Some(row),
        position: Position {
            file: file.clone(),
            pos: 400,
            row: 0,
            gtid: None,
            txn_file: file,
            txn_pos: 300,
            txn_row: 0,
            gtid_before: None,
        },
        ts_ms: 1_700_000_000_000,
        snapshot: SnapshotMarker::False,
        thread: None,
        query: None,
        server_id: 1,
    }
}

/// The `json_schema` value of one row: `(after, field schemas of after by name)`, or the
/// encoder's error.
fn encode(
    columns: Vec<ColumnDesc>,
    values: Vec<Value>,
) -> Result<(Json, BTreeMap<String, Json>), String> {
    let t = table(columns);
    let cfg = FormatConfig {
        kind: FormatKind::JsonSchema,
        ..FormatConfig::default()
    };
    let mut e = Encoder::new(&cfg, "dbserver1", Flavor::Mariadb).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let now = Now {
        nanos: 1_700_000_001_000_000_000,
    };
    let r = rt
        .block_on(e.encode_change_at(&change(&t, values), now))
        .map_err(|e| e.to_string())?;
    let v: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
    Ok((v["payload"]["after"].clone(), after_schemas(&v)))
}

/// The field schemas of `after` in a `json_schema` value, by field name.
fn after_schemas(v: &Json) -> BTreeMap<String, Json> {
    let after = v["schema"]["fields"]
        .as_array()
        .expect("schema fields")
        .iter()
        .find(|f| f["field"] == "after")
        .expect("after field");
    after["fields"]
        .as_array()
        .expect("after fields")
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

/// MySQL's internal POINT(x y): WKB, little-endian.
fn wkb_point(x: f64, y: f64) -> Vec<u8> {
    let mut w = vec![1, 1, 0, 0, 0];
    w.extend_from_slice(&x.to_le_bytes());
    w.extend_from_slice(&y.to_le_bytes());
    w
}

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn point_is_a_debezium_point_with_x_y_wkb_and_srid() {
    let cols = vec![
        declared("p", ColumnKind::Geometry, "POINT"),
        not_null(declared("q", ColumnKind::Geometry, "POINT")),
        declared("g", ColumnKind::Geometry, "GEOMETRY"),
    ];
    let wkb = wkb_point(1.0, 2.0);
    // A big-endian WKB point (MySQL never writes one, WKB allows it): x/y still read.
    let mut be = vec![0, 0, 0, 0, 1];
    be.extend_from_slice(&3.5f64.to_be_bytes());
    be.extend_from_slice(&(-4.0f64).to_be_bytes());
    let (after, schemas) = encode(
        cols.clone(),
        vec![
            Value::Geometry {
                srid: 0,
                wkb: wkb.clone(),
            },
            Value::Geometry {
                srid: 4326,
                wkb: be.clone(),
            },
            Value::Geometry {
                srid: 0,
                wkb: wkb.clone(),
            },
        ],
    )
    .unwrap();
    // BinlogGeometry: SRID 0 → null; Point.createValue: x, y from the WKB.
    assert_eq!(
        after["p"],
        json!({"x": 1.0, "y": 2.0, "wkb": "AQEAAAAAAAAAAADwPwAAAAAAAABA", "srid": null})
    );
    assert_eq!(
        after["q"],
        json!({"x": 3.5, "y": -4.0, "wkb": b64(&be), "srid": 4326})
    );
    // Other spatial types stay a Geometry.
    assert_eq!(after["g"], json!({"wkb": b64(&wkb), "srid": null}));
    // Point.builder(): version 1, doc, x/y required float64, wkb/srid optional; the struct
    // is optional only when the column is (unlike Geometry.builder()).
    let fields = json!([
        {"type": "double", "optional": false, "field": "x"},
        {"type": "double", "optional": false, "field": "y"},
        {"type": "bytes", "optional": true, "field": "wkb"},
        {"type": "int32", "optional": true, "field": "srid"},
    ]);
    let want = |optional: bool, field: &str| {
        json!({"type": "struct", "fields": fields, "optional": optional,
               "name": "io.debezium.data.geometry.Point", "version": 1,
               "doc": "Geometry (POINT)", "field": field})
    };
    assert_eq!(schemas["p"], want(true, "p"));
    assert_eq!(schemas["q"], want(false, "q"));
    assert_eq!(
        schemas["g"]["name"],
        json!("io.debezium.data.geometry.Geometry")
    );
    // Anything but a 2D point in a POINT column is an error, as in Debezium
    // ("Failed to parse and read a value of type POINT").
    let line = wkb[..]
        .iter()
        .chain(&[0u8; 16])
        .copied()
        .collect::<Vec<_>>();
    let err = encode(
        cols,
        vec![
            Value::Geometry { srid: 0, wkb: line },
            Value::Null,
            Value::Null,
        ],
    )
    .unwrap_err();
    assert!(err.contains("not a 2D point"), "{err}");
}

#[test]
fn boolean_from_ddl_is_a_connect_boolean_and_tinyint_1_stays_int16() {
    let mut flag = not_null(declared("flag", ColumnKind::TinyInt, "BOOLEAN"));
    flag.default = Some(ColumnDefault::Literal("TRUE".into()));
    let mut off = declared("off", ColumnKind::TinyInt, "BOOL");
    off.default = Some(ColumnDefault::Literal("0".into()));
    let cols = vec![
        declared("b", ColumnKind::TinyInt, "BOOLEAN"),
        flag,
        off,
        // What `SHOW CREATE TABLE` prints for a BOOLEAN column: `tinyint(1)`.
        declared("t1", ColumnKind::TinyInt, "TINYINT"),
    ];
    let (after, schemas) = encode(
        cols.clone(),
        vec![Value::Int(1), Value::Int(5), Value::Int(0), Value::Int(1)],
    )
    .unwrap();
    // convertBoolean: any non-zero number is true.
    assert_eq!(after["b"], json!(true));
    assert_eq!(after["flag"], json!(true));
    assert_eq!(after["off"], json!(false));
    assert_eq!(after["t1"], json!(1));
    assert_eq!(
        schemas["b"],
        json!({"type": "boolean", "optional": true, "field": "b"})
    );
    // convertToBoolean: `TRUE` → true, `0` → false.
    assert_eq!(
        schemas["flag"],
        json!({"type": "boolean", "optional": false, "default": true, "field": "flag"})
    );
    assert_eq!(
        schemas["off"],
        json!({"type": "boolean", "optional": true, "default": false, "field": "off"})
    );
    assert_eq!(
        schemas["t1"],
        json!({"type": "int16", "optional": true, "field": "t1"})
    );
    // NULL stays null.
    let (after, _) = encode(
        cols,
        vec![Value::Null, Value::Int(0), Value::Null, Value::Null],
    )
    .unwrap();
    assert_eq!(after["b"], Json::Null);
    assert_eq!(after["flag"], json!(false));
}

#[test]
fn uuid_and_inet_columns_carry_their_text() {
    let mut u = declared("u", ColumnKind::Char { max_bytes: 16 }, "UUID");
    u.default = Some(ColumnDefault::Literal(
        "00000000-0000-0000-0000-000000000001".into(),
    ));
    let cols = vec![
        u,
        declared("i4", ColumnKind::Char { max_bytes: 4 }, "INET4"),
        not_null(declared("i6", ColumnKind::Char { max_bytes: 16 }, "INET6")),
        // A BINARY(16) stays bytes.
        declared("raw", ColumnKind::Char { max_bytes: 16 }, "BINARY"),
    ];
    let (after, schemas) = encode(
        cols,
        vec![
            Value::String("123e4567-e89b-12d3-a456-426614174000".into()),
            Value::String("192.168.0.1".into()),
            Value::String("::ffff:192.168.0.1".into()),
            Value::Bytes(vec![0xab; 16]),
        ],
    )
    .unwrap();
    assert_eq!(after["u"], json!("123e4567-e89b-12d3-a456-426614174000"));
    assert_eq!(after["i4"], json!("192.168.0.1"));
    assert_eq!(after["i6"], json!("::ffff:192.168.0.1"));
    assert_eq!(after["raw"], json!(b64(&[0xab; 16])));
    // Uuid.builder(): string named io.debezium.data.Uuid, version 1; INET: plain string.
    assert_eq!(
        schemas["u"],
        json!({"type": "string", "optional": true, "name": "io.debezium.data.Uuid",
               "version": 1, "default": "00000000-0000-0000-0000-000000000001", "field": "u"})
    );
    assert_eq!(
        schemas["i4"],
        json!({"type": "string", "optional": true, "field": "i4"})
    );
    assert_eq!(
        schemas["i6"],
        json!({"type": "string", "optional": false, "field": "i6"})
    );
    assert_eq!(schemas["raw"]["type"], json!("bytes"));
}

#[test]
fn avro_schemas_of_boolean_point_and_uuid() {
    let m = Modes::default();
    let avro = |c: &ColumnDesc| rowtide::encode::avro::avro_schema(&column_schema(c, &m));
    let mut flag = not_null(declared("flag", ColumnKind::TinyInt, "BOOLEAN"));
    flag.default = Some(ColumnDefault::Literal("1".into()));
    assert_eq!(
        avro(&flag),
        json!({"type": "boolean", "connect.default": true})
    );
    assert_eq!(
        avro(&declared("b", ColumnKind::TinyInt, "BOOLEAN")),
        json!(["null", "boolean"])
    );
    // AvroData: a record named after the Connect name, doc and version as connect.*.
    assert_eq!(
        avro(&declared("p", ColumnKind::Geometry, "POINT")),
        json!(["null", {
            "type": "record", "name": "Point", "namespace": "io.debezium.data.geometry",
            "doc": "Geometry (POINT)",
            "fields": [
                {"name": "x", "type": "double"},
                {"name": "y", "type": "double"},
                {"name": "wkb", "type": ["null", "bytes"], "default": null},
                {"name": "srid", "type": ["null", "int"], "default": null},
            ],
            "connect.doc": "Geometry (POINT)", "connect.version": 1,
            "connect.name": "io.debezium.data.geometry.Point"
        }])
    );
    assert_eq!(
        avro(&declared("u", ColumnKind::Char { max_bytes: 16 }, "UUID")),
        json!(["null", {"type": "string", "connect.version": 1,
                        "connect.name": "io.debezium.data.Uuid"}])
    );
    assert_eq!(
        avro(&declared("i", ColumnKind::Char { max_bytes: 16 }, "INET6")),
        json!(["null", "string"])
    );
}

#[test]
fn avro_encodes_and_reads_back_boolean_point_and_uuid() {
    use rowtide::envelope::convert::{column_datum, row_fields};
    use rowtide::envelope::schema::{Datum, Schema};
    let m = Modes::default();
    let cols = vec![
        declared("b", ColumnKind::TinyInt, "BOOLEAN"),
        declared("p", ColumnKind::Geometry, "POINT"),
        declared("p2", ColumnKind::Geometry, "POINT"),
        declared("u", ColumnKind::Char { max_bytes: 16 }, "UUID"),
    ];
    let values = [
        Value::Int(1),
        Value::Geometry {
            srid: 4326,
            wkb: wkb_point(1.5, -2.0),
        },
        Value::Null,
        Value::String("123e4567-e89b-12d3-a456-426614174000".into()),
    ];
    let schema = Schema::strukt("inventory.golden.Value", row_fields(&cols, &m));
    let datum = Datum::Struct(
        cols.iter()
            .zip(&values)
            .map(|(c, v)| column_datum(c, v, &m).unwrap())
            .collect(),
    );
    let codec = rowtide::encode::avro::AvroCodec::new(&schema).unwrap();
    let mut out = Vec::new();
    codec.encode(1, &datum, &mut out).unwrap();
    let avro = apache_avro::Schema::parse(&rowtide::encode::avro::avro_schema(&schema)).unwrap();
    let back = apache_avro::reader::datum::GenericDatumReader::builder(&avro)
        .build()
        .unwrap()
        .read_value(&mut &out[5..])
        .unwrap();
    use apache_avro::types::Value as A;
    let A::Record(fields) = back else {
        panic!("not a record: {back:?}")
    };
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(get("b"), A::Union(1, Box::new(A::Boolean(true))));
    assert_eq!(
        get("p"),
        A::Union(
            1,
            Box::new(A::Record(vec![
                ("x".into(), A::Double(1.5)),
                ("y".into(), A::Double(-2.0)),
                (
                    "wkb".into(),
                    A::Union(1, Box::new(A::Bytes(wkb_point(1.5, -2.0))))
                ),
                ("srid".into(), A::Union(1, Box::new(A::Int(4326)))),
            ]))
        )
    );
    assert_eq!(get("p2"), A::Union(0, Box::new(A::Null)));
    assert_eq!(
        get("u"),
        A::Union(
            1,
            Box::new(A::String("123e4567-e89b-12d3-a456-426614174000".into()))
        )
    );
}

// ---------------------------------------------------------------------------------------
// Live: snapshot and stream of the same rows.

const COLUMNS: &str = "id INT PRIMARY KEY, b BOOLEAN, flag BOOL NOT NULL DEFAULT TRUE, \
    p POINT, g GEOMETRY, u UUID, i4 INET4, i6 INET6";

/// The same values for rows `k` (snapshot), `100 + k` (streamed) and `k` of the table
/// created mid-stream: edge values of each type (all-zero and all-one bytes, trailing zero
/// bytes the binlog drops, IPv4-mapped and -compatible INET6, zero runs of each length).
const VALUES: &[&str] = &[
    "1, TRUE, FALSE, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('LINESTRING(0 0,1 1)', 4326), \
     '123e4567-e89b-12d3-a456-426614174000', '192.168.0.1', '::ffff:192.168.0.1'",
    "2, FALSE, DEFAULT, ST_PointFromText('POINT(3.5 -4)', 4326), NULL, \
     '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::'",
    "3, NULL, TRUE, NULL, ST_GeomFromText('POINT(0 0)'), \
     '550e8400-e29b-41d4-a716-446655440000', '10.0.0.0', '2001:db8:0:0:1:0:0:1'",
    "4, 5, 7, ST_GeomFromText('POINT(-0.5 1e300)'), NULL, \
     'ffffffff-ffff-ffff-ffff-ffffffffffff', '255.255.255.255', 'fe80::1:0:0:0'",
    "5, 0, 0, ST_GeomFromText('POINT(0 0)', 3857), NULL, \
     '01890a5d-ac96-774b-bcce-b302099a8057', '1.2.3.4', '::1.2.3.4'",
    "6, NULL, 1, NULL, NULL, NULL, NULL, '1:0:1:0:1:0:1:0'",
    "7, NULL, 1, NULL, NULL, NULL, NULL, '::ffff:0:102:304'",
];

/// `VALUES` row `i` with its id moved by `offset`.
fn values_with_id(i: usize, offset: usize) -> String {
    let (_, rest) = VALUES[i].split_once(", ").unwrap();
    format!("{}, {rest}", i + 1 + offset)
}

/// `after` without its id, and its field schemas without the id's.
fn after_and_schemas(r: &Record) -> (Json, BTreeMap<String, Json>) {
    let v = r.value_json();
    let mut after = v["payload"]["after"].clone();
    after.as_object_mut().unwrap().remove("id");
    let mut schemas = after_schemas(&v);
    schemas.remove("id");
    (after, schemas)
}

fn by_id<'a>(recs: &'a [Record], op: &str, id: usize) -> &'a Record {
    recs.iter()
        .find(|r| {
            let v = r.value_json();
            v["payload"]["op"] == op && v["payload"]["after"]["id"] == json!(id)
        })
        .unwrap_or_else(|| panic!("no op={op} record for id {id}"))
}

/// What the server says one row's UUID/INET columns read as, and its point's x and y.
struct ServerRow {
    text: [Option<String>; 3],
    xy: Option<(f64, f64)>,
}

async fn server_text(c: &mut mysql_async::Conn, table: &str) -> BTreeMap<i64, ServerRow> {
    let rows: Vec<mysql_async::Row> = c
        .query(format!(
            "SELECT id, CAST(u AS CHAR), CAST(i4 AS CHAR), CAST(i6 AS CHAR), ST_X(p), ST_Y(p) \
             FROM {table}"
        ))
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let id: i64 = r.get(0).unwrap();
            let text = [r.get(1).unwrap(), r.get(2).unwrap(), r.get(3).unwrap()];
            let (x, y): (Option<f64>, Option<f64>) = (r.get(4).unwrap(), r.get(5).unwrap());
            (id, ServerRow { text, xy: x.zip(y) })
        })
        .collect()
}

/// Checks a record's UUID/INET text and point coordinates against the server's.
fn assert_server_text(after: &Json, want: &ServerRow, what: &str) {
    for (col, text) in ["u", "i4", "i6"].iter().zip(&want.text) {
        let want = text.as_ref().map_or(Json::Null, |s| json!(s));
        assert_eq!(after[*col], want, "{what}: {col}");
    }
    match want.xy {
        Some((x, y)) => {
            // Compared as numbers: JSON may spell a double in more than one way.
            assert_eq!(after["p"]["x"].as_f64(), Some(x), "{what}: p.x");
            assert_eq!(after["p"]["y"].as_f64(), Some(y), "{what}: p.y");
        }
        None => assert_eq!(after["p"], Json::Null, "{what}: p"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_and_stream_agree_on_point_boolean_uuid_and_inet() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "types").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop(format!("CREATE TABLE typed ({COLUMNS})"))
        .await
        .unwrap();
    let n = VALUES.len();
    for i in 0..n {
        c.query_drop(format!(
            "INSERT INTO typed VALUES ({})",
            values_with_id(i, 0)
        ))
        .await
        .unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.format = "json_schema";
    setup.partitions = 1;
    let topics = vec![setup.topic("typed"), setup.topic("fresh")];
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;

    // The same rows again, streamed; then a BOOLEAN column added mid-stream; then a table
    // created mid-stream (its CREATE says BOOLEAN, POINT, UUID… in the log).
    for i in 0..n {
        c.query_drop(format!(
            "INSERT INTO typed VALUES ({})",
            values_with_id(i, 100)
        ))
        .await
        .unwrap();
    }
    c.query_drop("ALTER TABLE typed ADD COLUMN nb BOOLEAN NOT NULL DEFAULT TRUE")
        .await
        .unwrap();
    c.query_drop(format!(
        "INSERT INTO typed VALUES ({}, 0), ({}, 2)",
        values_with_id(0, 200),
        values_with_id(1, 200)
    ))
    .await
    .unwrap();
    c.query_drop(format!("CREATE TABLE fresh ({COLUMNS})"))
        .await
        .unwrap();
    for i in 0..n {
        c.query_drop(format!(
            "INSERT INTO fresh VALUES ({})",
            values_with_id(i, 0)
        ))
        .await
        .unwrap();
    }
    let typed_text = server_text(&mut c, "typed").await;
    let fresh_text = server_text(&mut c, "fresh").await;
    c.query_drop(format!("DROP DATABASE `{db}`")).await.ok();
    c.disconnect().await.ok();

    let want = 2 * n + 2;
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(120),
        "every snapshot and streamed row",
        move |r| {
            let of = |t: usize| {
                r.iter()
                    .filter(|x| x.topic.ends_with(["typed", "fresh"][t]) && x.value.is_some())
                    .count()
            };
            of(0) >= want && of(1) >= n
        },
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_tail(30));
    let typed: Vec<Record> = recs
        .iter()
        .filter(|r| r.topic == topics[0])
        .cloned()
        .collect();
    let fresh: Vec<Record> = recs
        .iter()
        .filter(|r| r.topic == topics[1])
        .cloned()
        .collect();

    // 1. Snapshot read and streamed insert of the same values: same value, same schema;
    //    and the server's own text for UUID/INET and coordinates for POINT.
    for k in 1..=n {
        let (snap, snap_schemas) = after_and_schemas(by_id(&typed, "r", k));
        let (streamed, streamed_schemas) = after_and_schemas(by_id(&typed, "c", 100 + k));
        assert_eq!(snap, streamed, "row {k}: snapshot vs stream");
        assert_eq!(snap_schemas, streamed_schemas, "row {k}: schemas");
        assert_server_text(
            &snap,
            &typed_text[&(k as i64)],
            &format!("snapshot row {k}"),
        );
        assert_server_text(
            &streamed,
            &typed_text[&(100 + k as i64)],
            &format!("streamed row {k}"),
        );
    }
    let (first, schemas) = after_and_schemas(by_id(&typed, "r", 1));
    // A snapshotted BOOLEAN is what `SHOW CREATE TABLE` says, tinyint(1): INT16, as in
    // Debezium (its snapshot parses that text too).
    assert_eq!(first["b"], json!(1));
    assert_eq!(schemas["b"]["type"], json!("int16"));
    assert_eq!(
        schemas["flag"],
        json!({"type": "int16", "optional": false, "default": 1, "field": "flag"})
    );
    assert_eq!(first["p"]["wkb"], json!("AQEAAAAAAAAAAADwPwAAAAAAAABA"));
    assert_eq!(first["p"]["srid"], Json::Null);
    assert_eq!(
        schemas["p"]["name"],
        json!("io.debezium.data.geometry.Point")
    );
    assert_eq!(
        schemas["g"]["name"],
        json!("io.debezium.data.geometry.Geometry")
    );
    assert_eq!(schemas["u"]["name"], json!("io.debezium.data.Uuid"));
    assert_eq!(schemas["i6"]["type"], json!("string"));
    let (second, _) = after_and_schemas(by_id(&typed, "r", 2));
    assert_eq!(second["p"]["srid"], json!(4326));

    // 2. The column added mid-stream as BOOLEAN is a boolean; the snapshotted one stays INT16.
    let (added, schemas) = after_and_schemas(by_id(&typed, "c", 201));
    assert_eq!(added["nb"], json!(false));
    assert_eq!(added["b"], json!(1));
    assert_eq!(
        schemas["nb"],
        json!({"type": "boolean", "optional": false, "default": true, "field": "nb"})
    );
    assert_eq!(schemas["b"]["type"], json!("int16"));
    let (added2, _) = after_and_schemas(by_id(&typed, "c", 202));
    assert_eq!(added2["nb"], json!(true), "2 in a BOOLEAN column is true");

    // 3. A table created mid-stream: BOOLEAN columns are booleans, the rest as above.
    for k in 1..=n {
        let (after, _) = after_and_schemas(by_id(&fresh, "c", k));
        assert_server_text(&after, &fresh_text[&(k as i64)], &format!("fresh row {k}"));
        let (snap, _) = after_and_schemas(by_id(&typed, "r", k));
        for col in ["p", "g", "u", "i4", "i6"] {
            assert_eq!(after[col], snap[col], "fresh row {k}, column {col}");
        }
    }
    let (f1, schemas) = after_and_schemas(by_id(&fresh, "c", 1));
    assert_eq!(
        (f1["b"].clone(), f1["flag"].clone()),
        (json!(true), json!(false))
    );
    let (f4, _) = after_and_schemas(by_id(&fresh, "c", 4));
    assert_eq!(
        (f4["b"].clone(), f4["flag"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        schemas["flag"],
        json!({"type": "boolean", "optional": false, "default": true, "field": "flag"})
    );
    assert_eq!(
        schemas["b"],
        json!({"type": "boolean", "optional": true, "field": "b"})
    );
    assert_eq!(schemas["u"]["name"], json!("io.debezium.data.Uuid"));
}

// ---------------------------------------------------------------------------------------
// Live, side by side with Debezium's MariaDB connector (3.5.0.Final, `scripts/connect`).

const DEBEZIUM_MARIADB: &str = "io.debezium:debezium-connector-mariadb:3.5.0.Final";

/// Rows of POINT/BOOLEAN edge values for table `dp`, ids from `base`, each ending in `extra`.
fn dp_rows(base: usize, extra: &str) -> String {
    [
        "TRUE, 1, ST_GeomFromText('POINT(1 2)'), ST_PointFromText('POINT(3.5 -4)', 4326), \
         ST_GeomFromText('LINESTRING(0 0,1 1)'), '123e4567-e89b-12d3-a456-426614174001'",
        "FALSE, 0, NULL, ST_GeomFromText('POINT(0 0)'), NULL, \
         '550e8400-e29b-41d4-a716-446655440000'",
        "NULL, NULL, NULL, ST_GeomFromText('POINT(-1 1e10)', 3857), NULL, NULL",
        // Not 0 or 1 in a TINYINT(1) / BOOLEAN.
        "5, -3, NULL, ST_GeomFromText('POINT(0.001 1e-4)'), NULL, \
         'ffffffff-ffff-ffff-ffff-ffffffffffff'",
    ]
    .iter()
    .enumerate()
    .map(|(i, v)| format!("({}, {v}{extra})", base + i + 1))
    .collect::<Vec<_>>()
    .join(", ")
}

/// What Debezium 3.5 streams for a MariaDB UUID whose binary form ends in zero bytes
/// (`MariaDbValueConverters.convertUuid` reads the bytes the binlog kept — without the
/// trailing zeros — as one big-endian number): the UUID shifted right by the dropped bytes.
fn debezium_streamed_uuid(text: &str) -> String {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    // Whole bytes: the string has even length and "00" is trimmed from its end.
    let kept = hex.trim_end_matches("00");
    let n = format!("{kept:0>32}");
    format!(
        "{}-{}-{}-{}-{}",
        &n[..8],
        &n[8..12],
        &n[12..16],
        &n[16..20],
        &n[20..]
    )
}

/// `(op, after, after's field schemas)` by id, without the id, of one table's records.
fn rows_by_id(recs: &[Record]) -> BTreeMap<i64, (Json, Json, BTreeMap<String, Json>)> {
    recs.iter()
        .filter(|r| r.value.is_some())
        .map(|r| {
            let v = r.value_json();
            let id = v["payload"]["after"]["id"]
                .as_i64()
                .expect("an id in after");
            let (after, schemas) = after_and_schemas(r);
            (id, (v["payload"]["op"].clone(), after, schemas))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_and_boolean_match_debezium_in_snapshot_and_stream() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "tpar").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop(
        "CREATE TABLE dp (id INT PRIMARY KEY, b BOOLEAN, t TINYINT(1), p POINT, \
         q POINT NOT NULL, g GEOMETRY, u UUID)",
    )
    .await
    .unwrap();
    c.query_drop(format!("INSERT INTO dp VALUES {}", dp_rows(0, "")))
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let short = db.replace('_', "");
    let (dbz_prefix, our_prefix) = (format!("d{short}"), format!("r{short}"));
    let plugin = common::connect::connect_cmd(&["plugin", DEBEZIUM_MARIADB]);
    let name = common::unique("dbztypes").replace('_', "-");
    let port = common::free_port();
    let worker = common::connect::write_worker(dir.path(), &env.kafka_brokers, &plugin, port, "");
    let connector = dir.path().join("debezium.properties");
    std::fs::write(
        &connector,
        format!(
            "name={name}\nconnector.class=io.debezium.connector.mariadb.MariaDbConnector\n\
             tasks.max=1\ndatabase.hostname={}\ndatabase.port={}\ndatabase.user={}\n\
             database.password={}\ndatabase.server.id={}\ndatabase.ssl.mode=disable\n\
             topic.prefix={dbz_prefix}\ndatabase.include.list={db}\nsnapshot.mode=initial\n\
             schema.history.internal.store.only.captured.tables.ddl=true\n\
             schema.history.internal.kafka.bootstrap.servers={}\n\
             schema.history.internal.kafka.topic={dbz_prefix}-history\n",
            env.mysql_host,
            env.mysql_port,
            env.mysql_user,
            env.mysql_password,
            common::server_id(),
            env.kafka_brokers
        ),
    )
    .unwrap();
    let mut debezium = common::connect::start_worker(&name, port, &worker, &connector);
    let mut setup = Setup::new(&db, &dir.path().join("rowtide"));
    std::fs::create_dir_all(dir.path().join("rowtide")).unwrap();
    setup.topic_prefix = our_prefix.clone();
    setup.format = "json_schema";
    setup.partitions = 1;
    let mut rt = Rowtide::start(&env, &setup, &dir.path().join("rowtide"));
    let topic = |prefix: &str, t: &str| format!("{prefix}.{db}.{t}");
    let topics = |t: &str| vec![topic(&dbz_prefix, t), topic(&our_prefix, t)];
    let counts = |want: usize| {
        move |r: &[Record]| {
            let mut n = BTreeMap::new();
            for x in r.iter().filter(|x| x.value.is_some()) {
                *n.entry(x.topic.clone()).or_insert(0usize) += 1;
            }
            n.len() == 2 && n.values().all(|v| *v >= want)
        }
    };
    // Both snapshots done before anything is streamed.
    wait_for_async(
        &env.kafka_brokers,
        &topics("dp"),
        Duration::from_secs(150),
        "both snapshots",
        counts(4),
    )
    .await;
    rt.wait_streaming(1).await;

    c.query_drop(format!("INSERT INTO dp VALUES {}", dp_rows(10, "")))
        .await
        .unwrap();
    c.query_drop("ALTER TABLE dp ADD COLUMN nb BOOLEAN NOT NULL DEFAULT TRUE")
        .await
        .unwrap();
    c.query_drop(format!("INSERT INTO dp VALUES {}", dp_rows(20, ", FALSE")))
        .await
        .unwrap();
    c.query_drop(
        "INSERT INTO dp (id, q, nb) VALUES (30, POINT(0, 0), 7), (31, POINT(0, 0), DEFAULT)",
    )
    .await
    .unwrap();
    c.query_drop(
        "CREATE TABLE fr (id INT PRIMARY KEY, b BOOLEAN, f BOOL NOT NULL DEFAULT TRUE, p POINT)",
    )
    .await
    .unwrap();
    c.query_drop("INSERT INTO fr VALUES (1, TRUE, DEFAULT, POINT(1, 2)), (2, 0, 0, NULL)")
        .await
        .unwrap();
    c.disconnect().await.ok();

    let dp = wait_for_async(
        &env.kafka_brokers,
        &topics("dp"),
        Duration::from_secs(120),
        "streamed dp rows",
        counts(14),
    )
    .await;
    let fr = wait_for_async(
        &env.kafka_brokers,
        &topics("fr"),
        Duration::from_secs(120),
        "streamed fr rows",
        counts(2),
    )
    .await;
    if let Some(f) = debezium.failure().await {
        panic!("Debezium failed: {f}");
    }
    let mut shifted_uuids = 0;
    for (table, recs) in [("dp", &dp), ("fr", &fr)] {
        let [theirs, ours] = [&dbz_prefix, &our_prefix].map(|p| {
            let t = topic(p, table);
            rows_by_id(
                &recs
                    .iter()
                    .filter(|r| r.topic == t)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        });
        assert_eq!(theirs.len(), ours.len(), "{table}: row counts");
        for (id, d) in &theirs {
            let mut d = d.clone();
            let o = ours
                .get(id)
                .unwrap_or_else(|| panic!("{table} row {id}: not from rowtide"));
            // Debezium's one known difference: a streamed UUID whose last bytes are zero
            // (the binlog drops them) comes out shifted; rowtide writes the server's text.
            if d.0 == "c" && d.1["u"] != o.1["u"] {
                let ours_u = o.1["u"].as_str().expect("a UUID");
                assert_eq!(
                    d.1["u"],
                    json!(debezium_streamed_uuid(ours_u)),
                    "{table} row {id}"
                );
                d.1["u"] = o.1["u"].clone();
                shifted_uuids += 1;
            }
            assert_eq!(&d, o, "{table} row {id}: Debezium vs rowtide");
        }
    }
    // Rows 12 and 22 hold 550e8400-…-446655440000.
    assert_eq!(shifted_uuids, 2, "streamed UUIDs ending in zero bytes");
    // The schema-change events agree too: the table after `ADD COLUMN nb BOOLEAN`.
    let [theirs, ours] = [&dbz_prefix, &our_prefix].map(|p| {
        common::kafka::read_all(&env.kafka_brokers, std::slice::from_ref(p))
            .iter()
            .map(|r| r.value_json()["payload"].clone())
            .find(|v| {
                v["ddl"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("ALTER TABLE dp")
            })
            .unwrap_or_else(|| panic!("no ALTER TABLE dp event on {p}"))["tableChanges"]
            .clone()
    });
    assert_eq!(theirs, ours, "tableChanges after ALTER TABLE dp");
    // Not vacuous: the types under test are there, in both forms.
    let ours = rows_by_id(
        &dp.iter()
            .filter(|r| r.topic == topic(&our_prefix, "dp"))
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(ours[&21].2["nb"]["type"], json!("boolean"));
    assert_eq!(ours[&21].2["b"]["type"], json!("int16"));
    assert_eq!(
        ours[&1].2["p"]["name"],
        json!("io.debezium.data.geometry.Point")
    );
    assert!(rt.stop().success(), "{}", rt.log_tail(30));
    debezium.stop();
}

// ---------------------------------------------------------------------------------------
// MINIMAL metadata: the types come from the CREATE TABLE in the log alone.

#[test]
fn minimal_metadata_takes_the_types_from_the_logged_create_table() {
    if common::servers().is_none() {
        return; // no MariaDB installed here (CI fails in `servers` instead)
    }
    let m = common::mariadb::PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-metadata=MINIMAL",
    ]);
    let mut sql = format!("CREATE DATABASE dm; USE dm; CREATE TABLE typed ({COLUMNS});");
    for i in 0..VALUES.len() {
        sql.push_str(&format!(
            "INSERT INTO typed VALUES ({});",
            values_with_id(i, 0)
        ));
    }
    sql.push_str("FLUSH BINARY LOGS;");
    m.sql(&sql).unwrap();
    let server: Vec<Vec<String>> = m.rows("SELECT id, b, CAST(u AS CHAR), CAST(i4 AS CHAR), CAST(i6 AS CHAR) FROM dm.typed ORDER BY id");
    let changes = m.replay_changes("dm\\..*");
    assert_eq!(changes.len(), VALUES.len());
    let cfg = FormatConfig::default();
    let mut enc = Encoder::new(&cfg, "m", Flavor::Mariadb).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (c, want) in changes.iter().zip(&server) {
        let r = rt
            .block_on(enc.encode_change_at(c, Now { nanos: 0 }))
            .unwrap();
        let v: Json = serde_json::from_slice(&r.value.unwrap()).unwrap();
        let after = &v["after"];
        let text = |s: &str| if s == "NULL" { Json::Null } else { json!(s) };
        assert_eq!(after["id"].to_string(), want[0]);
        // The CREATE TABLE said BOOLEAN: a boolean, whatever the table map says.
        let b = match want[1].as_str() {
            "NULL" => Json::Null,
            n => json!(n != "0"),
        };
        assert_eq!(after["b"], b, "row {}", want[0]);
        assert_eq!(after["u"], text(&want[2]), "row {}", want[0]);
        assert_eq!(after["i4"], text(&want[3]), "row {}", want[0]);
        assert_eq!(after["i6"], text(&want[4]), "row {}", want[0]);
        if !after["p"].is_null() {
            assert!(
                after["p"]["x"].is_number(),
                "row {}: {}",
                want[0],
                after["p"]
            );
        }
    }
}
