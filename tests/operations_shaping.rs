//! Operation shaping against the real MariaDB and Kafka, as a consumer sees it:
//! - `TRUNCATE TABLE` is not emitted by default (Debezium's `skipped.operations = t`); with
//!   `skipped_operations = ["none"]` it is one `t` record on the table's topic — null key,
//!   null `before`/`after`, the source block filled, the table's own envelope schema, no
//!   tombstone — in `json`, `json_schema` and `avro`; no schema-change record either way;
//! - `skipped_operations` for `c`/`u`/`d`: snapshot reads are never skipped, and a
//!   primary-key change (delete + create) is dropped only with `u` (the update it comes from);
//! - `failure_handling_mode` on a rows event damaged in a private MariaDB's binlog (no
//!   checksums, so the server sends it as it is): `fail` stops naming the position, table
//!   and column; `warn` and `skip` pass over the event, count it in
//!   `rowtide_events_failed_total`, and deliver the rows after it.
//!
//! Every case checks that the stored checkpoint passed the last statement, emitted or not.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use common::kafka::{read_all, Record};
use common::mariadb::PrivateMariadb;
use common::mutate;
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

/// `GET path` on `addr`: the body (empty while nothing listens there yet: callers poll).
fn http_get(addr: &str, path: &str) -> String {
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or(out)
}

async fn metrics_text(addr: &str) -> String {
    let a = addr.to_string();
    tokio::task::spawn_blocking(move || http_get(&a, "/metrics"))
        .await
        .unwrap()
}

/// The value of the first sample of `name` whose line contains every one of `labels`.
fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(name))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
}

/// `(file index, position)` of a binlog file and position, for ordering.
fn ordinal(file: &str, pos: u64) -> (u64, u64) {
    let idx = file
        .rsplit('.')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a numbered binlog file");
    (idx, pos)
}

async fn master_status(c: &mut mysql_async::Conn) -> (String, u64) {
    c.query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .map(|r: mysql_async::Row| (r.get(0).unwrap(), r.get(1).unwrap()))
        .unwrap()
}

/// Waits until the stream has read up to `target` (the source position gauges); what it
/// read is then delivered and checkpointed by a graceful stop.
async fn wait_read_past(metrics_addr: &str, target: &(String, u64)) {
    let want = ordinal(&target.0, target.1);
    poll_until_async(
        &format!("the stream to read past {}:{}", target.0, target.1),
        Duration::from_secs(60),
        Duration::from_millis(200),
        async || {
            let text = metrics_text(metrics_addr).await;
            let idx = metric(&text, "rowtide_source_binlog_file_index", &[]);
            let pos = metric(&text, "rowtide_source_binlog_position_bytes", &[]);
            match (idx, pos) {
                (Some(i), Some(p)) if (i as u64, p as u64) >= want => Ok(()),
                other => Err(format!("at {other:?}")),
            }
        },
    )
    .await
}

/// The stored checkpoint (`offsets show --json`) as `(file index, position)`.
fn stored_offset(rt: &Rowtide) -> (u64, u64) {
    let out = rt.command(&["offsets", "show", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    let binlog = shown["offset"]["binlog"].as_str().expect("a binlog offset");
    let (file, pos) = binlog.rsplit_once(':').unwrap();
    ordinal(file, pos.parse().unwrap())
}

/// The envelope payload of a JSON value (with or without the schema wrapper).
fn payload(v: &Value) -> &Value {
    match v.get("payload") {
        Some(p) => p,
        None => v,
    }
}

/// A setup with the metrics endpoint on a free port and `events` in `[events]`.
fn setup(db: &str, dir: &Path, format: &'static str, events: &str) -> (Setup, String) {
    let mut s = Setup::new(db, dir);
    s.format = format;
    let addr = format!("127.0.0.1:{}", common::free_port());
    s.metrics_listen = addr.clone();
    s.extra = format!("[events]\n{events}\n");
    (s, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_is_skipped_by_default_and_the_checkpoint_passes_it() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "ops_trunc_default").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(20)); \
         INSERT INTO `{db}`.t VALUES (1, 'a')"
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The default: nothing in [events].
    let (setup, metrics) = setup(&db, dir.path(), "json", "");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    c.query_drop(format!("INSERT INTO `{db}`.t VALUES (2, 'b')"))
        .await
        .unwrap();
    c.query_drop(format!("TRUNCATE TABLE `{db}`.t"))
        .await
        .unwrap();
    let target = master_status(&mut c).await;
    c.disconnect().await.ok();
    wait_read_past(&metrics, &target).await;
    assert!(rt.stop().success(), "{}", rt.log_tail(20));

    assert!(
        stored_offset(&rt) >= ordinal(&target.0, target.1),
        "the checkpoint passed the truncate at the end of the log"
    );
    let topics = vec![setup.topic("t"), setup.topic_prefix.clone()];
    let recs = read_all(&env.kafka_brokers, &topics);
    let mut ops: Vec<(i64, String)> = recs
        .iter()
        .filter(|r| r.topic == setup.topic("t"))
        .map(|r| {
            let v = r.value_json();
            (
                r.key_json()["id"].as_i64().expect("every record has a key"),
                v["op"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ops.sort();
    assert_eq!(
        ops,
        vec![(1, "r".into()), (2, "c".into())],
        "no truncate record"
    );
    assert!(
        !recs.iter().any(|r| {
            String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).contains("TRUNCATE")
        }),
        "no schema-change record for TRUNCATE (Debezium has none)"
    );
}

/// What one run with nothing skipped wrote: the table's records with their decoded values,
/// the binlog positions around the TRUNCATE, and the database.
struct Emitted {
    recs: Vec<(Record, Value)>,
    before: (String, u64),
    after: (String, u64),
    db: String,
    topic_prefix: String,
}

/// INSERT, TRUNCATE, INSERT with `skipped_operations = ["none"]` in `format`.
async fn truncate_emitted(format: &'static str, decode: impl Fn(&Record) -> Value) -> Emitted {
    let env = common::servers().expect("test servers");
    let db = common::fresh_db(&env, &format!("ops_trunc_{format}")).await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(20))"
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (setup, metrics) = setup(&db, dir.path(), format, "skipped_operations = [\"none\"]");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    c.query_drop(format!("INSERT INTO `{db}`.t VALUES (1, 'a')"))
        .await
        .unwrap();
    let before = master_status(&mut c).await;
    c.query_drop(format!("TRUNCATE TABLE `{db}`.t"))
        .await
        .unwrap();
    let after = master_status(&mut c).await;
    c.query_drop(format!("INSERT INTO `{db}`.t VALUES (3, 'c')"))
        .await
        .unwrap();
    let end = master_status(&mut c).await;
    c.disconnect().await.ok();
    wait_read_past(&metrics, &end).await;
    assert!(rt.stop().success(), "{}", rt.log_tail(20));
    assert!(stored_offset(&rt) >= ordinal(&end.0, end.1));
    let topics = vec![setup.topic("t"), setup.topic_prefix.clone()];
    let all = read_all(&env.kafka_brokers, &topics);
    assert!(
        !all.iter().any(|r| r.topic == setup.topic_prefix
            && String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
                .contains("TRUNCATE")),
        "no schema-change record for TRUNCATE"
    );
    let recs = all
        .into_iter()
        .filter(|r| r.topic == setup.topic("t"))
        .map(|r| {
            let v = decode(&r);
            (r, v)
        })
        .collect();
    Emitted {
        recs,
        before,
        after,
        db,
        topic_prefix: setup.topic_prefix,
    }
}

/// The checks every format shares: three records (c, t, c); the truncate has no key, null
/// images, and the source block of the TRUNCATE statement; no tombstone.
fn check_truncate(e: &Emitted) -> (&Record, &Value) {
    let ops: Vec<&str> = e
        .recs
        .iter()
        .map(|(_, v)| {
            payload(v)["op"]
                .as_str()
                .expect("no tombstone: every value has op")
        })
        .collect();
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert_eq!(ops.iter().filter(|o| **o == "c").count(), 2, "{ops:?}");
    let (rec, value) = e
        .recs
        .iter()
        .find(|(_, v)| payload(v)["op"] == "t")
        .expect("a truncate record");
    assert!(rec.key.is_none(), "a truncate record has no key");
    assert_eq!(rec.topic, format!("{}.{}.t", e.topic_prefix, e.db));
    let p = payload(value);
    assert_eq!(p["before"], Value::Null);
    assert_eq!(p["after"], Value::Null);
    assert_eq!(p["transaction"], Value::Null);
    assert!(p["ts_ms"].as_i64().is_some_and(|t| t > 0), "{p}");
    let s = &p["source"];
    assert_eq!(s["connector"], "mariadb");
    assert_eq!(s["name"], json!(e.topic_prefix));
    assert_eq!(s["db"], json!(e.db));
    assert_eq!(s["table"], "t");
    assert_eq!(s["snapshot"], "false");
    assert_eq!(s["row"], 0);
    assert_eq!(s["thread"], Value::Null);
    assert_eq!(s["query"], Value::Null);
    assert!(
        s["gtid"]
            .as_str()
            .is_some_and(|g| g.split('-').count() == 3),
        "{s}"
    );
    assert_eq!(s["file"], json!(e.after.0));
    let pos = s["pos"].as_u64().unwrap();
    assert!(
        ordinal(&e.before.0, e.before.1) < ordinal(&e.after.0, pos) && pos < e.after.1,
        "the TRUNCATE's own position: {pos} within {:?}..{:?}",
        e.before,
        e.after
    );
    (rec, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_is_a_t_record_in_json() {
    if common::servers().is_none() {
        return;
    }
    let e = truncate_emitted("json", |r| r.value_json()).await;
    check_truncate(&e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_is_a_t_record_with_the_table_envelope_schema_in_json_schema() {
    if common::servers().is_none() {
        return;
    }
    let e = truncate_emitted("json_schema", |r| r.value_json()).await;
    let (_, t) = check_truncate(&e);
    let (_, c) = e
        .recs
        .iter()
        .find(|(_, v)| payload(v)["op"] == "c")
        .unwrap();
    assert_eq!(t["schema"], c["schema"], "the table's envelope schema");
    assert_eq!(
        t["schema"]["name"],
        json!(format!("{}.{}.t.Envelope", e.topic_prefix, e.db))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_is_a_t_record_with_the_table_value_subject_in_avro() {
    let Some(env) = common::servers() else { return };
    let reader = AvroReader {
        url: env.registry_url.clone(),
        cache: Default::default(),
    };
    let e = truncate_emitted("avro", |r| reader.decode(&r.value)).await;
    let (t, _) = check_truncate(&e);
    let (c, _) = e
        .recs
        .iter()
        .find(|(_, v)| payload(v)["op"] == "c")
        .unwrap();
    let id = |r: &Record| r.value.as_ref().map(|v| v[1..5].to_vec());
    assert_eq!(
        id(t),
        id(c),
        "the table's value schema (same registered id)"
    );
}

/// Decodes a Confluent-framed Avro record with the writer schema fetched by id.
struct AvroReader {
    url: String,
    cache: std::sync::Mutex<HashMap<u32, apache_avro::Schema>>,
}

impl AvroReader {
    fn decode(&self, bytes: &Option<Vec<u8>>) -> Value {
        let Some(b) = bytes else { return Value::Null };
        assert_eq!(b[0], 0, "magic byte");
        let id = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
        let mut cache = self.cache.lock().unwrap();
        let schema = cache.entry(id).or_insert_with(|| {
            let url = format!("{}/schemas/ids/{id}", self.url);
            let body: Value = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async { reqwest::get(&url).await.unwrap().json().await.unwrap() })
            })
            .join()
            .unwrap();
            apache_avro::Schema::parse_str(body["schema"].as_str().unwrap()).unwrap()
        });
        let reader = apache_avro::reader::datum::GenericDatumReader::builder(schema)
            .build()
            .expect("datum reader");
        avro_to_json(reader.read_value(&mut &b[5..]).expect("avro datum"))
    }
}

fn avro_to_json(v: apache_avro::types::Value) -> Value {
    use apache_avro::types::Value as A;
    match v {
        A::Null => Value::Null,
        A::Boolean(b) => json!(b),
        A::Int(i) => json!(i),
        A::Long(i) => json!(i),
        A::String(s) | A::Enum(_, s) => json!(s),
        A::Union(_, b) => avro_to_json(*b),
        A::Record(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, avro_to_json(v)))
                .collect(),
        ),
        other => json!(format!("{other:?}")),
    }
}

/// The table's records as `(op, key id)`, tombstones as `("tombstone", key id)`, sorted.
fn ops_by_key(recs: &[Record]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = recs
        .iter()
        .map(|r| {
            let id = r.key_json()["id"].as_i64().expect("a keyed record");
            let op = match &r.value {
                None => "tombstone".to_string(),
                Some(_) => r.value_json()["op"].as_str().unwrap().to_string(),
            };
            (op, id)
        })
        .collect();
    out.sort();
    out
}

/// One row before the start (snapshot), then insert 2, update it, move its key to 3,
/// delete 1 — with `skipped` — and what reached the table's topic.
async fn run_workload(skipped: &str) -> Vec<(String, i64)> {
    let env = common::servers().expect("test servers");
    let db = common::fresh_db(&env, "ops_skip").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v VARCHAR(20)); \
         INSERT INTO `{db}`.t VALUES (1, 'a')"
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let events = format!("skipped_operations = {skipped}");
    let (setup, metrics) = setup(&db, dir.path(), "json", &events);
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    for sql in [
        "INSERT INTO `DB`.t VALUES (2, 'b')",
        "UPDATE `DB`.t SET v = 'bb' WHERE id = 2",
        "UPDATE `DB`.t SET id = 3 WHERE id = 2",
        "DELETE FROM `DB`.t WHERE id = 1",
    ] {
        c.query_drop(sql.replace("DB", &db)).await.unwrap();
    }
    let end = master_status(&mut c).await;
    c.disconnect().await.ok();
    wait_read_past(&metrics, &end).await;
    assert!(rt.stop().success(), "{}", rt.log_tail(20));
    assert!(
        stored_offset(&rt) >= ordinal(&end.0, end.1),
        "the checkpoint passed the skipped changes"
    );
    ops_by_key(&read_all(&env.kafka_brokers, &[setup.topic("t")]))
}

fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v.iter().map(|(o, i)| (o.to_string(), *i)).collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_updates_drops_the_key_change_too() {
    if common::servers().is_none() {
        return;
    }
    let got = run_workload("[\"u\"]").await;
    // The key change is an update: with `u` skipped neither its delete nor its create
    // goes out (Debezium registers no handler for update events then).
    assert_eq!(
        got,
        pairs(&[("r", 1), ("c", 2), ("d", 1), ("tombstone", 1)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_creates_and_deletes_keeps_snapshot_reads_and_the_key_change() {
    if common::servers().is_none() {
        return;
    }
    let got = run_workload("[\"c\", \"d\"]").await;
    // Snapshot reads are never skipped; the key change comes from an update, so its
    // delete, tombstone and create go out as Debezium's do.
    assert_eq!(
        got,
        pairs(&[("r", 1), ("u", 2), ("d", 2), ("tombstone", 2), ("c", 3)])
    );
}

/// A private MariaDB (no binlog checksums) whose first binlog holds three single-row
/// inserts into `d.t`, the second damaged so that its row image claims a 200-byte value
/// where 10 bytes remain. Returns the server, the damaged event's start, and the end of
/// the third insert.
fn damaged_server() -> (PrivateMariadb, u64, u64) {
    let m = PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
        "--binlog-checksum=NONE",
    ]);
    m.sql(
        "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(40)); \
         INSERT INTO d.t VALUES (1, 'first'); INSERT INTO d.t VALUES (2, 'second row'); \
         INSERT INTO d.t VALUES (3, 'third')",
    )
    .unwrap();
    let status = m.rows("SHOW MASTER STATUS");
    let end: u64 = status[0][1].parse().unwrap();
    m.sql("FLUSH BINARY LOGS").unwrap();
    let path = m.dir.path().join("bin.000001");
    let mut bytes = std::fs::read(&path).expect("the private server's first binlog");
    let spans = mutate::events(&bytes);
    let rows: Vec<mutate::Span> = spans
        .iter()
        .copied()
        .filter(|s| matches!(bytes[s.start + 4], 23 | 30))
        .collect();
    assert_eq!(rows.len(), 3, "three WRITE_ROWS events");
    let ev = rows[1];
    let at = bytes[ev.start..ev.start + ev.len]
        .windows(10)
        .position(|w| w == b"second row")
        .expect("the value is in the event")
        + ev.start;
    assert_eq!(bytes[at - 1], 10, "the VARCHAR's length byte");
    bytes[at - 1] = 200;
    std::fs::write(&path, &bytes).unwrap();
    (m, ev.start as u64, end)
}

/// A `rowtide run` configuration for the private server, from `bin.000001:4`.
fn private_config(
    dir: &Path,
    port: u16,
    prefix: &str,
    metrics: &str,
    mode: &str,
) -> std::path::PathBuf {
    let env = common::servers().expect("test servers");
    let p = dir.join("rowtide.toml");
    std::fs::write(
        &p,
        format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"cdc\"\npassword = \"pw\"\n\
             server_id = {id}\ninclude = [\"d\\\\..*\"]\nheartbeat_interval_ms = 500\n\
             read_timeout_ms = 5000\nreconnect_backoff_ms = 200\n\
             [sink]\nbrokers = \"{brokers}\"\ntopic_prefix = \"{prefix}\"\n\
             [checkpoint]\npath = \"{state}\"\nflush_interval_ms = 100\n\
             [metrics]\nlisten = \"{metrics}\"\n\
             [events]\nfailure_handling_mode = \"{mode}\"\n",
            id = common::server_id(),
            brokers = env.kafka_brokers,
            state = dir.join("state").display(),
        ),
    )
    .unwrap();
    let out = common::proc::rowtide_command(&["offsets", "set", "--position", "bin.000001:4"], &p);
    assert!(out.status.success(), "{out:?}");
    p
}

/// The ids that reached `topic`, sorted.
fn ids(brokers: &str, topic: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = read_all(brokers, &[topic.to_string()])
        .iter()
        .map(|r| r.key_json()["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_rows_event_fails_or_is_skipped_as_configured() {
    let Some(env) = common::servers() else { return };
    let (m, damaged, end) = damaged_server();
    let position = format!("bin.000001:{damaged}");

    // fail (the default): the run stops on it, naming position, table and column; only the
    // row before it went out, and the checkpoint stays before it.
    let dir = tempfile::tempdir().unwrap();
    let prefix = common::unique("opsfail");
    let metrics = format!("127.0.0.1:{}", common::free_port());
    let cfg = private_config(dir.path(), m.port, &prefix, &metrics, "fail");
    let mut rt = Rowtide::with_config(&cfg, dir.path());
    let status = rt.wait_exit(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{}", rt.log_tail(20));
    let log = rt.log_text();
    assert!(
        log.contains("cannot decode d.t.v at") && log.contains(&position),
        "{log}"
    );
    let topic = format!("{prefix}.d.t");
    // Row 1 (before the damaged event) may or may not have been acknowledged before the
    // stop; nothing after it went out.
    let got = ids(&env.kafka_brokers, &topic);
    assert!(got.is_empty() || got == vec![1], "{got:?}");
    assert!(
        stored_offset(&rt) <= (1, damaged),
        "not past the damaged event"
    );

    for mode in ["warn", "skip"] {
        let dir = tempfile::tempdir().unwrap();
        let prefix = common::unique(&format!("ops{mode}"));
        let metrics = format!("127.0.0.1:{}", common::free_port());
        let cfg = private_config(dir.path(), m.port, &prefix, &metrics, mode);
        let mut rt = Rowtide::with_config(&cfg, dir.path());
        wait_read_past(&metrics, &("bin.000001".into(), end)).await;
        let text = metrics_text(&metrics).await;
        assert_eq!(
            metric(
                &text,
                "rowtide_events_failed_total",
                &["table=\"d.t\"", &format!("mode=\"{mode}\"")]
            ),
            Some(1.0),
            "{text}"
        );
        assert!(rt.stop().success(), "{}", rt.log_tail(20));
        let topic = format!("{prefix}.d.t");
        assert_eq!(
            ids(&env.kafka_brokers, &topic),
            vec![1, 3],
            "{mode}: the rows around the damaged event"
        );
        assert!(
            stored_offset(&rt) >= (1, end),
            "{mode}: the checkpoint passed the damaged event"
        );
        let log = rt.log_text();
        let warned = log
            .lines()
            .find(|l| l.contains("WARN") && l.contains(&position));
        match mode {
            "warn" => {
                let line = warned.unwrap_or_else(|| panic!("a warning at {position}:\n{log}"));
                assert!(
                    line.contains("d.t") && line.contains("row image ends early"),
                    "{line}"
                );
            }
            _ => assert!(warned.is_none(), "skip logs at debug only:\n{log}"),
        }
    }
}
