//! Blocking snapshots through the real binary, MariaDB → `rowtide run` → Kafka, while
//! writers insert, update and delete continuously in the snapshotted table `a` and in
//! another captured table `b` (some transactions touch both): one snapshot requested by a
//! row of the signal table, one by `rowtide snapshot --blocking`. Afterwards:
//! - the last event per key in Kafka equals the database, for both tables;
//! - the seams are exact, per writer (each writer owns its keys and writes serially, so its
//!   commit order is its binlog order): the changes of `a` emitted before a snapshot are a
//!   prefix of the writer's log and all lie before the snapshot's binlog point Q
//!   (`source.file/pos`), the snapshot's rows equal the writer's state right after that
//!   prefix, and the changes emitted after it continue the log exactly from there (nothing
//!   missing, nothing repeated), all after Q; changes of `a` and `b` were written between
//!   the signal and Q, so the seam was exercised;
//! - every change of `b` arrives exactly once, in order — including those written between
//!   the signal and Q and while the rows were read.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::kafka::{read_all, wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

const SIGNAL_TABLE: &str =
    "(id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)";
/// Rows of `a` before the writers start (even ids: writer 1's, odd: writer 2's).
const A_ROWS: i64 = 20_000;

/// One change as the writer made it and as the consumer sees it: op, key, the row's `seq`
/// before and after (every write sets a `seq` no other write uses).
type Step = (char, i64, Option<i64>, Option<i64>);

fn envelope(r: &Record) -> serde_json::Value {
    let v = r.value_json();
    match v.get("payload") {
        Some(p) if v.get("schema").is_some() => p.clone(),
        _ => v,
    }
}

fn step_of(e: &serde_json::Value) -> Step {
    let op = e["op"].as_str().unwrap().chars().next().unwrap();
    let id = if e["after"].is_object() {
        e["after"]["id"].as_i64()
    } else {
        e["before"]["id"].as_i64()
    };
    (
        op,
        id.unwrap(),
        e["before"]["seq"].as_i64(),
        e["after"]["seq"].as_i64(),
    )
}

/// `source.file/pos` of an event, ordered as the log is (same base name, padded index).
fn point(e: &serde_json::Value) -> (String, i64) {
    (
        e["source"]["file"].as_str().unwrap().to_string(),
        e["source"]["pos"].as_i64().unwrap(),
    )
}

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// One writer's keys of one table: the live rows and their `seq`.
struct Keys {
    live: Vec<i64>,
    seq: HashMap<i64, i64>,
    next_id: i64,
    stride: i64,
}

impl Keys {
    fn new(initial: impl Iterator<Item = i64>, next_id: i64, stride: i64) -> Self {
        let live: Vec<i64> = initial.collect();
        let seq = live.iter().map(|&k| (k, 0)).collect();
        Self {
            live,
            seq,
            next_id,
            stride,
        }
    }

    /// The next random change to `table`: its SQL and its step.
    fn change(&mut self, rng: &mut Lcg, table: &str, seq: i64) -> (String, Step) {
        let pick = rng.next();
        if self.live.len() < 10 || pick.is_multiple_of(3) {
            let id = self.next_id;
            self.next_id += self.stride;
            self.live.push(id);
            self.seq.insert(id, seq);
            let sql = format!("INSERT INTO {table} (id, seq) VALUES ({id}, {seq})");
            return (sql, ('c', id, None, Some(seq)));
        }
        let i = (rng.next() as usize) % self.live.len();
        let id = self.live[i];
        let old = self.seq[&id];
        if pick % 3 == 1 {
            self.seq.insert(id, seq);
            let sql = format!("UPDATE {table} SET seq = {seq} WHERE id = {id}");
            return (sql, ('u', id, Some(old), Some(seq)));
        }
        self.live.swap_remove(i);
        self.seq.remove(&id);
        let sql = format!("DELETE FROM {table} WHERE id = {id}");
        (sql, ('d', id, Some(old), None))
    }
}

/// What a writer did, per table, in commit order.
#[derive(Default)]
struct Log {
    a: Vec<Step>,
    b: Vec<Step>,
}

/// Writer `w`: 1 writes `a` (even ids), 2 writes `a` (odd ids) and `b` (ids below 10^6) in
/// the same transactions, 3 writes `b` (ids from 10^6).
async fn writer(env: common::TestEnv, db: String, w: i64, stop: Arc<AtomicBool>) -> Log {
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    let mut rng = Lcg(w as u64 * 7919);
    let mut a = match w {
        1 => Some(Keys::new((0..A_ROWS).step_by(2), 100_000, 2)),
        2 => Some(Keys::new((1..A_ROWS).step_by(2), 100_001, 2)),
        _ => None,
    };
    let mut b = match w {
        2 => Some(Keys::new(std::iter::empty(), 1, 1)),
        3 => Some(Keys::new(std::iter::empty(), 1_000_000, 1)),
        _ => None,
    };
    let mut log = Log::default();
    let mut n = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let mut next_seq = || {
            n += 1;
            w * 1_000_000_000 + n
        };
        let sa = a.as_mut().map(|k| k.change(&mut rng, "a", next_seq()));
        let sb = b.as_mut().map(|k| k.change(&mut rng, "b", next_seq()));
        c.query_drop("BEGIN").await.unwrap();
        for (sql, _) in sa.iter().chain(sb.iter()) {
            c.query_drop(sql).await.unwrap();
        }
        c.query_drop("COMMIT").await.unwrap();
        log.a.extend(sa.map(|s| s.1));
        log.b.extend(sb.map(|s| s.1));
    }
    log
}

/// Which writer wrote key `id` of table `a` (`None`: the end marker).
fn a_writer(id: i64) -> Option<usize> {
    match id {
        i if i < 0 => None,
        i if i % 2 == 0 => Some(1),
        _ => Some(2),
    }
}

fn b_writer(id: i64) -> Option<usize> {
    match id {
        i if i < 0 => None,
        i if i < 1_000_000 => Some(2),
        _ => Some(3),
    }
}

/// The rows of `a` of writer `w` after the first `j` steps of its log.
fn state_after(w: usize, log: &[Step], j: usize) -> BTreeMap<i64, i64> {
    let first = if w == 1 { 0 } else { 1 };
    let mut s: BTreeMap<i64, i64> = (first..A_ROWS).step_by(2).map(|k| (k, 0)).collect();
    for &(op, id, _, after) in &log[..j] {
        match op {
            'd' => s.remove(&id),
            _ => s.insert(id, after.unwrap()),
        };
    }
    s
}

/// Table `a`'s topic cut at its snapshots: the stream events between them, and each
/// snapshot's rows (id → seq) with its point.
struct Cut {
    segments: Vec<Vec<serde_json::Value>>,
    snapshots: Vec<(BTreeMap<i64, i64>, (String, i64))>,
}

fn cut(records: &[Record]) -> Cut {
    let mut cut = Cut {
        segments: vec![vec![]],
        snapshots: vec![],
    };
    let mut in_snapshot = false;
    let mut markers: Vec<String> = vec![];
    for r in records.iter().filter(|r| r.value.is_some()) {
        let e = envelope(r);
        if e["op"] == "r" {
            if !in_snapshot {
                in_snapshot = true;
                cut.snapshots.push((BTreeMap::new(), point(&e)));
                markers.clear();
            }
            let (rows, at) = cut.snapshots.last_mut().unwrap();
            assert_eq!(&point(&e), at, "every row of a snapshot at its point: {e}");
            let id = e["after"]["id"].as_i64().unwrap();
            rows.insert(id, e["after"]["seq"].as_i64().unwrap());
            markers.push(e["source"]["snapshot"].as_str().unwrap().to_string());
            continue;
        }
        if in_snapshot {
            in_snapshot = false;
            check_markers(&markers);
            cut.segments.push(vec![]);
        }
        cut.segments.last_mut().unwrap().push(e);
    }
    assert!(!in_snapshot, "the topic ends with a snapshot's rows");
    cut
}

/// One table read by a blocking snapshot: Debezium's initial-snapshot markers.
fn check_markers(markers: &[String]) {
    let n = markers.len();
    assert!(n > 2, "{markers:?}");
    assert_eq!(markers[0], "first");
    assert_eq!(markers[n - 1], "last");
    assert!(markers[1..n - 1].iter().all(|m| m == "true"), "{markers:?}");
}

/// The seams of writer `w`'s changes of `a`: before each snapshot exactly the changes
/// before its point, the snapshot equal to the state they leave, after it exactly the
/// changes from its point on.
fn check_seams(w: usize, log: &[Step], cut: &Cut) {
    let mine = |seg: &[serde_json::Value]| -> Vec<(Step, (String, i64))> {
        seg.iter()
            .map(|e| (step_of(e), point(e)))
            .filter(|(s, _)| a_writer(s.1) == Some(w))
            .collect()
    };
    let pre = mine(&cut.segments[0]);
    assert_eq!(
        pre.iter().map(|s| s.0).collect::<Vec<_>>(),
        log[..pre.len()].to_vec(),
        "writer {w}: the changes before the first snapshot are a prefix of its log"
    );
    let mut cursor = pre.len();
    for (i, (rows, q)) in cut.snapshots.iter().enumerate() {
        let before = mine(&cut.segments[i]);
        for (s, at) in &before {
            assert!(
                at < q,
                "writer {w}: {s:?} at {at:?} emitted before snapshot {i}, whose point {q:?} \
                 comes before it (the snapshot's rows would hide it)"
            );
        }
        let after = mine(&cut.segments[i + 1]);
        let first = after
            .first()
            .unwrap_or_else(|| panic!("writer {w}: no change after snapshot {i}"));
        let j = log
            .iter()
            .position(|s| *s == first.0)
            .unwrap_or_else(|| panic!("writer {w}: {:?} is not in its log", first.0));
        assert!(
            j == cursor,
            "writer {w}: around snapshot {i} the stream resumes at step {j}, but {cursor} \
             steps were emitted before it (repeated or missing changes at the seam)"
        );
        let theirs: BTreeMap<i64, i64> = rows
            .iter()
            .filter(|(id, _)| a_writer(**id) == Some(w))
            .map(|(k, v)| (*k, *v))
            .collect();
        assert!(
            theirs == state_after(w, log, j),
            "writer {w}: snapshot {i} is not the state just before the first change emitted \
             after it (step {j}): a change is missing or repeated at the seam"
        );
        let end = j + after.len();
        assert!(end <= log.len(), "writer {w}: more changes than written");
        assert_eq!(
            after.iter().map(|s| s.0).collect::<Vec<_>>(),
            log[j..end].to_vec(),
            "writer {w}: the changes after snapshot {i} are its log from step {j}, each once"
        );
        for (s, at) in &after {
            assert!(
                at > q,
                "writer {w}: {s:?} at {at:?} emitted after snapshot {i}, whose point {q:?} \
                 already holds it"
            );
        }
        cursor = end;
    }
    assert_eq!(cursor, log.len(), "writer {w}: every change reached Kafka");
}

/// The last state per key in a topic (id → seq).
fn final_state(records: &[Record]) -> BTreeMap<i64, i64> {
    let mut s = BTreeMap::new();
    for r in records.iter().filter(|r| r.value.is_some()) {
        let e = envelope(r);
        let (op, id, _, after) = step_of(&e);
        match op {
            'd' => s.remove(&id),
            _ => s.insert(id, after.unwrap()),
        };
    }
    s
}

fn same_state(t: &str, kafka: &BTreeMap<i64, i64>, table: &BTreeMap<i64, i64>) {
    let diff: Vec<_> = kafka
        .keys()
        .chain(table.keys())
        .filter(|k| kafka.get(k) != table.get(k))
        .take(10)
        .map(|k| (k, kafka.get(k), table.get(k)))
        .collect();
    assert!(
        diff.is_empty(),
        "{t}: the last event per key differs from the table (key, kafka, table): {diff:?}"
    );
}

async fn table_state(c: &mut mysql_async::Conn, db: &str, t: &str) -> BTreeMap<i64, i64> {
    let rows: Vec<(i64, i64)> = c
        .query(format!("SELECT id, seq FROM `{db}`.{t}"))
        .await
        .unwrap();
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_snapshots_under_writes_leave_no_gap_and_no_duplicate() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "blocking").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for sql in [
        format!("CREATE TABLE rt_signals {SIGNAL_TABLE}"),
        "CREATE TABLE a (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, pad VARCHAR(64))".into(),
        "CREATE TABLE b (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL)".into(),
        format!(
            "INSERT INTO a SELECT seq, 0, REPEAT('x', 40) FROM seq_0_to_{}",
            A_ROWS - 1
        ),
        format!(
            "GRANT INSERT ON `{db}`.rt_signals TO '{}'@'127.0.0.1'",
            env.mysql_user
        ),
    ] {
        c.query_drop(sql).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    setup.partitions = 1;
    setup.extra = format!("\n[signals]\ntable = \"{db}.rt_signals\"\n");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (1..=3)
        .map(|w| tokio::spawn(writer(env.clone(), db.clone(), w, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Through the signal table…
    c.query_drop(format!(
        r#"INSERT INTO rt_signals VALUES ('blk-1', 'execute-snapshot',
           '{{"data-collections": ["{db}.a"], "type": "blocking"}}')"#
    ))
    .await
    .unwrap();
    rt.wait_log("Blocking snapshot finished", 1, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // …and through `rowtide snapshot --blocking`.
    let out = rt.command(&["snapshot", "--blocking", &format!("{db}.a")]);
    assert!(out.status.success(), "{out:?}");
    rt.wait_log("Blocking snapshot finished", 2, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = vec![];
    for w in writers {
        logs.push(w.await.unwrap());
    }
    c.query_drop("INSERT INTO a VALUES (-1, -1, 'end')")
        .await
        .unwrap();
    c.query_drop("INSERT INTO b VALUES (-1, -1)").await.unwrap();
    let (ta, tb, ts) = (
        setup.topic("a"),
        setup.topic("b"),
        setup.topic("rt_signals"),
    );
    for t in [&ta, &tb] {
        wait_for_async(
            &env.kafka_brokers,
            std::slice::from_ref(t),
            Duration::from_secs(60),
            "the end marker",
            |recs| recs.iter().any(|r| envelope(r)["after"]["id"] == -1),
        )
        .await;
    }
    rt.assert_alive("after two blocking snapshots");
    let log = rt.log_text();
    assert!(
        log.matches("Blocking snapshot started; the stream is relayed up to its point.")
            .count()
            == 2,
        "{log}"
    );
    let (ra, rb, rs) = (
        read_all(&env.kafka_brokers, std::slice::from_ref(&ta)),
        read_all(&env.kafka_brokers, std::slice::from_ref(&tb)),
        read_all(&env.kafka_brokers, std::slice::from_ref(&ts)),
    );

    // The final state per key.
    same_state("a", &final_state(&ra), &table_state(&mut c, &db, "a").await);
    same_state("b", &final_state(&rb), &table_state(&mut c, &db, "b").await);

    // The seams of `a`, per writer.
    let cut = cut(&ra);
    assert_eq!(cut.snapshots.len(), 2, "two blocking snapshots of a");
    for w in [1usize, 2] {
        check_seams(w, &logs[w - 1].a, &cut);
    }

    // Every change of `b`, exactly once, in order.
    let b_events: Vec<serde_json::Value> = rb
        .iter()
        .filter(|r| r.value.is_some())
        .map(envelope)
        .collect();
    for w in [2usize, 3] {
        let got: Vec<Step> = b_events
            .iter()
            .map(step_of)
            .filter(|s| b_writer(s.1) == Some(w))
            .collect();
        assert!(
            got == logs[w - 1].b,
            "writer {w}: b's changes in Kafka are not its log exactly once ({} vs {})",
            got.len(),
            logs[w - 1].b.len()
        );
    }
    // Some of them were written while the stream waited (between a signal and its point).
    let signals: Vec<(String, i64)> = rs
        .iter()
        .filter(|r| r.value.is_some())
        .map(envelope)
        .filter(|e| e["op"] == "c" && e["after"]["type"] == "execute-snapshot")
        .map(|e| point(&e))
        .collect();
    assert_eq!(signals.len(), 2, "{signals:?}");
    let a_events: Vec<serde_json::Value> = cut.segments.concat();
    let between = |events: &[serde_json::Value]| -> usize {
        signals
            .iter()
            .zip(&cut.snapshots)
            .map(|(p, (_, q))| {
                events
                    .iter()
                    .filter(|e| {
                        let at = point(e);
                        &at > p && &at < q
                    })
                    .count()
            })
            .sum()
    };
    let (in_a, in_b) = (between(&a_events), between(&b_events));
    println!("changes between a signal and its snapshot's point: a {in_a}, b {in_b}");
    assert!(
        in_a > 0 && in_b > 0,
        "no change fell between a signal and its snapshot's point: the seam was not exercised"
    );
    assert!(rt.stop().success());
}

/// A filtered blocking snapshot emits only the matching rows, with Debezium's `Initial
/// Snapshot` notifications (STARTED, IN_PROGRESS, TABLE_SCAN_COMPLETED with the row count,
/// COMPLETED); `kill -9` while a blocking
/// snapshot's rows are being read: the restart takes it again from the start (the request
/// was in the checkpoint), and the last event per key still equals the table while a writer
/// changed it throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_blocking_snapshot_and_one_killed_midway() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "blocking_kill").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    const BIG: i64 = 400_000;
    for sql in [
        format!("CREATE TABLE rt_signals {SIGNAL_TABLE}"),
        "CREATE TABLE d (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL)".into(),
        "INSERT INTO d SELECT seq, seq FROM seq_0_to_99".into(),
        "CREATE TABLE big (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, pad VARCHAR(64))".into(),
        format!(
            "INSERT INTO big SELECT seq, 0, REPEAT('y', 40) FROM seq_0_to_{}",
            BIG - 1
        ),
        format!(
            "GRANT INSERT ON `{db}`.rt_signals TO '{}'@'127.0.0.1'",
            env.mysql_user
        ),
    ] {
        c.query_drop(sql).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    setup.partitions = 1;
    let nt = format!("{}.notifications", setup.topic_prefix);
    setup.extra =
        format!("\n[signals]\ntable = \"{db}.rt_signals\"\n\n[notifications]\ntopic = \"{nt}\"\n");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;

    // Filtered: only the matching rows, as a complete blocking snapshot of one table.
    let out = rt.command(&[
        "snapshot",
        "--blocking",
        &format!("{db}.d"),
        "--filter",
        "id < 10",
    ]);
    assert!(out.status.success(), "{out:?}");
    let td = setup.topic("d");
    let recs = wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&td),
        Duration::from_secs(60),
        "the filtered snapshot's rows",
        |recs| recs.len() >= 10,
    )
    .await;
    let ids: Vec<i64> = recs
        .iter()
        .map(envelope)
        .inspect(|e| assert_eq!(e["op"], "r", "{e}"))
        .map(|e| e["after"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (0..10).collect::<Vec<_>>());
    let markers: Vec<String> = recs
        .iter()
        .map(|r| {
            envelope(r)["source"]["snapshot"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    check_markers(&markers);
    // Debezium's blocking snapshot notifications: its initial-snapshot ones.
    let notes = wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&nt),
        Duration::from_secs(60),
        "the filtered snapshot's notifications",
        |recs| recs.len() >= 4,
    )
    .await;
    let notes: Vec<serde_json::Value> = notes.iter().map(|r| r.value_json()).collect();
    let kinds: Vec<(&str, &str)> = notes
        .iter()
        .map(|n| {
            (
                n["aggregate_type"].as_str().unwrap(),
                n["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("Initial Snapshot", "STARTED"),
            ("Initial Snapshot", "IN_PROGRESS"),
            ("Initial Snapshot", "TABLE_SCAN_COMPLETED"),
            ("Initial Snapshot", "COMPLETED"),
        ],
        "{notes:#?}"
    );
    let scanned = &notes[2]["additional_data"];
    assert_eq!(
        scanned["scanned_collection"],
        format!("{db}.d"),
        "{scanned}"
    );
    assert_eq!(scanned["total_rows_scanned"], "10", "{scanned}");
    assert_eq!(scanned["status"], "SUCCEEDED", "{scanned}");
    assert_eq!(scanned["data_collections"], format!("{db}.d"), "{scanned}");

    // Killed while the rows are read.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = {
        let (env, db, stop) = (env.clone(), db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut c = common::admin(&env).await;
            let mut rng = Lcg(11);
            let mut n = 0i64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = (rng.next() as i64) % BIG;
                let sql = match n % 3 {
                    0 => format!("DELETE FROM `{db}`.big WHERE id = {id}"),
                    1 => format!("UPDATE `{db}`.big SET seq = {n} WHERE id = {id}"),
                    _ => format!("INSERT INTO `{db}`.big VALUES ({}, {n}, 'n')", BIG + n),
                };
                c.query_drop(sql).await.unwrap();
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = rt.command(&["snapshot", "--blocking", &format!("{db}.big")]);
    assert!(out.status.success(), "{out:?}");
    rt.wait_log(
        "the stream reached its point and waits while the rows are read",
        2,
        Duration::from_secs(60),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        rt.log_text().matches("Blocking snapshot finished").count(),
        1,
        "the big snapshot was still running when killed"
    );
    rt.kill9();
    rt.spawn();
    rt.wait_log(
        "Blocking snapshot interrupted before its rows were acknowledged: taken again from the start.",
        1,
        Duration::from_secs(60),
    )
    .await;
    rt.wait_log("Blocking snapshot finished", 2, Duration::from_secs(120))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    writes.await.unwrap();
    c.query_drop("INSERT INTO big VALUES (-1, -1, 'end')")
        .await
        .unwrap();
    let tb = setup.topic("big");
    let recs = wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&tb),
        Duration::from_secs(120),
        "the end marker",
        |recs| recs.iter().any(|r| envelope(r)["after"]["id"] == -1),
    )
    .await;
    same_state(
        "big",
        &final_state(&recs),
        &table_state(&mut c, &db, "big").await,
    );
    // The snapshot taken after the restart is complete: one block of r rows holding every
    // row of the table at its point (the table's size then, give or take the writer).
    let last_block = recs
        .iter()
        .rev()
        .skip_while(|r| r.value.is_none() || envelope(r)["op"] != "r")
        .take_while(|r| r.value.is_some() && envelope(r)["op"] == "r")
        .count() as i64;
    assert!(
        (BIG - 20_000..BIG + 20_000).contains(&last_block),
        "the snapshot after the restart emitted {last_block} rows"
    );
    rt.assert_alive("after the restarted blocking snapshot");
    assert!(rt.stop().success());
}
