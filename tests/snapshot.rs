//! The initial snapshot through the real binary: a database with a 1,000,000-row table, a
//! table without a primary key and a table of every column type, with writers running
//! during the snapshot. Afterwards the Kafka topics hold, per key, exactly the database's
//! final state; every transaction committed after the snapshot point arrives as a streamed
//! event exactly once and none before it does; snapshot reads decode exactly like streamed
//! changes; and rowtide's memory stays flat while it copies the large table.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kafka::{read_all, wait_for_async, Record};
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;
use serde_json::Value;

const BIG_ROWS: i64 = 1_000_000;

const ALL_TYPES: &str = "CREATE TABLE alltypes (
    id INT PRIMARY KEY,
    ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, ii INT UNSIGNED, bi BIGINT UNSIGNED,
    f FLOAT, d DOUBLE, dec1 DECIMAL(20,6), b1 BIT(1), b9 BIT(9), y YEAR,
    dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(3) NULL,
    c CHAR(5), vc VARCHAR(30), lt VARCHAR(10) CHARACTER SET latin1, tx TEXT,
    bn BINARY(4), vb VARBINARY(8), bl BLOB, e ENUM('small','large'), s SET('a','b','c'),
    js JSON, g GEOMETRY NULL)";

const ALL_VALUES: &str = "1, -5, 65535, -8388608, 4294967295, 18446744073709551615, \
    1.5, -2.25e100, -12345.678901, b'1', b'100000001', 2024, '2024-02-29', '-838:59:59.000001', \
    '2024-02-29 23:59:59.999999', '2024-02-29 12:00:00.123', 'ab', 'héllo 😀', 'é€', 'text', \
    x'0102', x'ff00fe', x'00ff', 'large', 'a,c', '{\"k\": [1, 2]}', ST_GeomFromText('POINT(1 2)', 4326)";

async fn prepare(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop(
        "CREATE TABLE big (id BIGINT PRIMARY KEY, v INT NOT NULL, label VARCHAR(32), at DATETIME(3))",
    )
    .await
    .unwrap();
    c.query_drop(format!(
        "INSERT INTO big SELECT seq, 0, CONCAT('row-', seq), '2024-01-01 00:00:00.000' + INTERVAL seq SECOND \
         FROM seq_1_to_{BIG_ROWS}"
    ))
    .await
    .unwrap();
    c.query_drop("CREATE TABLE nopk (a INT, b VARCHAR(10))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO nopk SELECT seq % 7, CONCAT('n', seq) FROM seq_1_to_1000")
        .await
        .unwrap();
    c.query_drop(ALL_TYPES).await.unwrap();
    c.query_drop(format!("INSERT INTO alltypes VALUES ({ALL_VALUES})"))
        .await
        .unwrap();
    c.disconnect().await.ok();
}

/// Writes while the snapshot runs; returns the GTID sequence number of each committed
/// transaction with the keys it touched in `big`.
async fn writer(env: common::TestEnv, db: String, stop: Arc<AtomicBool>) -> Vec<u64> {
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    let mut seqs = Vec::new();
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let id = (n * 7919) % BIG_ROWS + 1;
        let sql = match n % 5 {
            0 => format!("DELETE FROM big WHERE id = {id}"),
            1 => format!("INSERT INTO big VALUES ({}, 1, 'new', NULL)", BIG_ROWS + n),
            2 => format!("INSERT INTO nopk VALUES ({n}, 'w{n}')"),
            _ => format!("UPDATE big SET v = v + 1, label = 'upd-{n}' WHERE id = {id}"),
        };
        c.query_drop(&sql).await.unwrap();
        let g: Option<String> = c.query_first("SELECT @@last_gtid").await.unwrap();
        if let Some(seq) = g.and_then(|g| g.rsplit('-').next().and_then(|s| s.parse().ok())) {
            seqs.push(seq);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    c.disconnect().await.ok();
    seqs
}

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn gtid_seq(v: &Value) -> Option<u64> {
    v["source"]["gtid"]
        .as_str()?
        .rsplit('-')
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_then_stream_gives_the_final_state_without_gaps_or_repeats() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "snap").await;
    let t0 = Instant::now();
    prepare(&env, &db).await;
    eprintln!(
        "prepared {BIG_ROWS} rows in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topics = vec![
        setup.topic("big"),
        setup.topic("nopk"),
        setup.topic("alltypes"),
    ];

    let stop = Arc::new(AtomicBool::new(false));
    let w = tokio::spawn(writer(env.clone(), db.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    let pid = rt.pid().unwrap();

    // Sample memory while the snapshot runs.
    let mut samples = Vec::new();
    poll_until_async(
        "the snapshot to finish",
        Duration::from_secs(600),
        Duration::from_millis(200),
        async || {
            let log = rt.log_text();
            if log.contains("Snapshot finished") {
                return Ok(());
            }
            samples.push(rss_kb(pid, "VmRSS:"));
            Err(format!("log:\n{log}"))
        },
    )
    .await;
    let snapshot_secs = started.elapsed().as_secs_f64();
    let peak_kb = rss_kb(pid, "VmHWM:");
    // Keep writing a little after the snapshot, then stop the writers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let writer_seqs = w.await.unwrap();

    // Add one more all-types row after the snapshot: it must decode like the snapshot row.
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop(format!(
        "INSERT INTO alltypes VALUES ({})",
        ALL_VALUES.replacen("1, ", "2, ", 1)
    ))
    .await
    .unwrap();
    let big_rows: Vec<(i64, i32, Option<String>)> =
        c.query("SELECT id, v, label FROM big").await.unwrap();
    let nopk_rows: Vec<(Option<i32>, Option<String>)> =
        c.query("SELECT a, b FROM nopk").await.unwrap();
    c.disconnect().await.ok();

    // Wait until Kafka has the last write (the all-types row 2): everything before it has
    // then been read. A graceful stop delivers whatever is still in flight (other topics
    // and partitions are acknowledged independently), and only then is Kafka read back.
    wait_for_async(
        &env.kafka_brokers,
        &topics[2..],
        Duration::from_secs(300),
        "the all-types row 2, the last write",
        |r| r.iter().any(|r| r.key_json()["id"] == 2),
    )
    .await;
    assert!(
        rt.stop().success(),
        "{}",
        rt.log_text()
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let b = env.kafka_brokers.clone();
    let t = topics.clone();
    let recs: Vec<Record> = tokio::task::spawn_blocking(move || read_all(&b, &t))
        .await
        .unwrap();

    let snap_point: String = rt
        .log_text()
        .lines()
        .find(|l| l.contains("Snapshot transaction open"))
        .map(|l| l.to_string())
        .unwrap_or_default();

    // --- big: per key, the final state equals the database.
    let mut state: HashMap<i64, (i64, String)> = HashMap::new();
    let mut streamed_seqs: BTreeMap<u64, u32> = BTreeMap::new();
    let mut snapshot_reads = 0u64;
    let mut markers: HashMap<String, u64> = HashMap::new();
    let mut sorted: Vec<&Record> = recs.iter().filter(|r| r.topic == topics[0]).collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    for r in &sorted {
        let id = r.key_json()["id"].as_i64().unwrap();
        let v = r.value_json();
        if v.is_null() {
            state.remove(&id);
            continue;
        }
        match v["op"].as_str().unwrap() {
            "r" => {
                snapshot_reads += 1;
                *markers
                    .entry(v["source"]["snapshot"].as_str().unwrap().to_string())
                    .or_default() += 1;
                state.insert(
                    id,
                    (
                        v["after"]["v"].as_i64().unwrap(),
                        v["after"]["label"].as_str().unwrap_or("").to_string(),
                    ),
                );
            }
            "c" | "u" => {
                state.insert(
                    id,
                    (
                        v["after"]["v"].as_i64().unwrap(),
                        v["after"]["label"].as_str().unwrap_or("").to_string(),
                    ),
                );
            }
            "d" => {
                state.remove(&id);
            }
            other => panic!("op {other}"),
        }
        if v["op"] != "r" {
            let seq = gtid_seq(&v).expect("streamed events carry a GTID");
            *streamed_seqs.entry(seq).or_default() += 1;
        }
    }
    assert!(
        snapshot_reads >= BIG_ROWS as u64 - 1000,
        "snapshot reads: {snapshot_reads}"
    );
    let db_state: HashMap<i64, (i64, String)> = big_rows
        .into_iter()
        .map(|(id, v, l)| (id, (v as i64, l.unwrap_or_default())))
        .collect();
    assert_eq!(state.len(), db_state.len(), "row count of big");
    for (id, want) in &db_state {
        assert_eq!(state.get(id), Some(want), "final state of big id {id}");
    }

    // --- streamed transactions: every writer transaction from the first streamed one on,
    // none before it, each exactly once (deletes carry a tombstone, not counted here).
    let nopk_recs: Vec<Value> = recs
        .iter()
        .filter(|r| r.topic == topics[1])
        .map(|r| r.value_json())
        .collect();
    let mut all_streamed: HashSet<u64> = streamed_seqs.keys().copied().collect();
    for v in &nopk_recs {
        if v["op"] != "r" {
            all_streamed.insert(gtid_seq(v).unwrap());
        }
    }
    let first = *all_streamed
        .iter()
        .min()
        .expect("writes during the snapshot were streamed");
    let missing: Vec<u64> = writer_seqs
        .iter()
        .copied()
        .filter(|s| *s >= first && !all_streamed.contains(s))
        .collect();
    assert!(
        missing.is_empty(),
        "writer transactions after the snapshot point missing: {missing:?}"
    );
    let before_point: Vec<&u64> = writer_seqs.iter().filter(|s| **s < first).collect();
    assert!(
        !before_point.is_empty(),
        "some writes happened before the snapshot point (they are in the snapshot)"
    );
    let repeated: Vec<(&u64, &u32)> = streamed_seqs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "streamed events repeated: {repeated:?}"
    );

    // --- nopk: snapshot rows + streamed inserts = the database's multiset.
    let mut have: Vec<(i64, String)> = nopk_recs
        .iter()
        .filter(|v| v["op"] == "r" || v["op"] == "c")
        .map(|v| {
            (
                v["after"]["a"].as_i64().unwrap(),
                v["after"]["b"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want: Vec<(i64, String)> = nopk_rows
        .into_iter()
        .map(|(a, b)| (a.unwrap() as i64, b.unwrap()))
        .collect();
    have.sort();
    want.sort();
    assert_eq!(have, want, "keyless table contents");
    assert!(
        recs.iter()
            .filter(|r| r.topic == topics[1])
            .all(|r| r.key.is_none()),
        "keyless table has null keys"
    );

    // --- all types: the snapshot read and the streamed insert of the same values agree.
    let at: Vec<Value> = recs
        .iter()
        .filter(|r| r.topic == topics[2])
        .map(|r| r.value_json())
        .collect();
    let snap = at
        .iter()
        .find(|v| v["op"] == "r")
        .expect("all-types snapshot row")["after"]
        .clone();
    let streamed = at
        .iter()
        .find(|v| v["op"] == "c")
        .expect("all-types streamed row")["after"]
        .clone();
    for (k, v) in snap.as_object().unwrap() {
        if k != "id" {
            assert_eq!(
                &streamed[k], v,
                "column {k}: snapshot {v} vs streamed {}",
                streamed[k]
            );
        }
    }

    // --- markers: one first, one last, the rest true / per-table markers.
    assert!(markers.values().sum::<u64>() == snapshot_reads);
    let peak_mb = peak_kb as f64 / 1024.0;
    let rate = BIG_ROWS as f64 / snapshot_secs;
    eprintln!(
        "snapshot: {BIG_ROWS} rows in {snapshot_secs:.1} s ({rate:.0} rows/s, debug build), peak RSS {peak_mb:.0} MB, \
         samples {:?} kB, {} streamed transactions, {snap_point}",
        &samples[..samples.len().min(10)],
        all_streamed.len()
    );
    // Memory stays flat: bounded by the queues, not by the 1M-row table.
    assert!(
        peak_mb < 300.0,
        "peak RSS {peak_mb:.0} MB while snapshotting {BIG_ROWS} rows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_snapshot_reads_every_table_at_one_point() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "psnap").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for t in ["a", "b", "c", "d"] {
        c.query_drop(format!("CREATE TABLE {t} (id INT PRIMARY KEY, v INT)"))
            .await
            .unwrap();
        c.query_drop(format!("INSERT INTO {t} SELECT seq, 0 FROM seq_1_to_20000"))
            .await
            .unwrap();
    }
    c.disconnect().await.ok();
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_parallelism = 3;
    let topics: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|t| setup.topic(t))
        .collect();
    // Writers touch every table while the snapshot runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (env, db, stop) = (env.clone(), db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut c = common::admin(&env).await;
            c.query_drop(format!("USE `{db}`")).await.unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let t = ["a", "b", "c", "d"][n % 4];
                c.query_drop(format!(
                    "UPDATE {t} SET v = v + 1 WHERE id = {}",
                    n % 20000 + 1
                ))
                .await
                .unwrap();
                c.query_drop(format!("INSERT INTO {t} VALUES ({}, 1)", 100_000 + n))
                    .await
                    .unwrap();
            }
        })
    };
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_log("Snapshot finished", 1, Duration::from_secs(300))
        .await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let mut c = common::admin(&env).await;
    c.query_drop(format!("INSERT INTO `{db}`.d VALUES (999999, 0)"))
        .await
        .unwrap();
    let mut want: HashMap<String, HashMap<i64, i64>> = HashMap::new();
    for t in ["a", "b", "c", "d"] {
        let rows: Vec<(i64, i64)> = c
            .query(format!("SELECT id, v FROM `{db}`.{t}"))
            .await
            .unwrap();
        want.insert(t.to_string(), rows.into_iter().collect());
    }
    c.disconnect().await.ok();
    // The fence (the last write) in Kafka means every earlier write was read; a graceful
    // stop delivers what is still in flight; then Kafka is read back.
    wait_for_async(
        &env.kafka_brokers,
        &topics[3..],
        Duration::from_secs(300),
        "the fence row 999999, the last write",
        |r| r.iter().any(|r| r.key_json()["id"] == 999_999),
    )
    .await;
    assert!(rt.stop().success());
    let b = env.kafka_brokers.clone();
    let t2 = topics.clone();
    let recs = tokio::task::spawn_blocking(move || read_all(&b, &t2))
        .await
        .unwrap();
    let log = rt.log_text();
    assert!(
        log.contains("Parallel snapshot transactions open"),
        "three workers at one point:\n{log}"
    );
    for (t, topic) in ["a", "b", "c", "d"].iter().zip(&topics) {
        let mut state: HashMap<i64, i64> = HashMap::new();
        let mut sorted: Vec<&Record> = recs.iter().filter(|r| &r.topic == topic).collect();
        sorted.sort_by_key(|r| (r.partition, r.offset));
        for r in sorted {
            let v = r.value_json();
            state.insert(
                r.key_json()["id"].as_i64().unwrap(),
                v["after"]["v"].as_i64().unwrap(),
            );
        }
        assert_eq!(&state, &want[*t], "final state of table {t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_the_snapshot_resumes_table_by_table_without_a_gap() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "csnap").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for (t, n) in [
        ("t1_first", 20_000),
        ("t2_second", 400_000),
        ("t3_third", 20_000),
    ] {
        c.query_drop(format!("CREATE TABLE {t} (id INT PRIMARY KEY, v INT)"))
            .await
            .unwrap();
        c.query_drop(format!("INSERT INTO {t} SELECT seq, 0 FROM seq_1_to_{n}"))
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topics: Vec<String> = ["t1_first", "t2_second", "t3_third"]
        .iter()
        .map(|t| setup.topic(t))
        .collect();
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    // Crash while the second (large) table is being copied, once the first table's rows
    // are all in Kafka (only then may the checkpoint record it as done).
    poll_until_async(
        "the copy of t2_second, with all of t1_first in Kafka",
        Duration::from_secs(120),
        Duration::from_millis(50),
        async || {
            let log = rt.log_text();
            let started_second = log.contains(&format!("{db}.t2_second"))
                && log.contains("Snapshot of table started");
            if !started_second {
                return Err(format!("log:\n{log}"));
            }
            let b = env.kafka_brokers.clone();
            let t = vec![topics[0].clone()];
            let n = tokio::task::spawn_blocking(move || read_all(&b, &t).len())
                .await
                .unwrap();
            if n >= 20_000 {
                Ok(())
            } else {
                Err(format!("{n} records of t1_first in Kafka; log:\n{log}"))
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rt.kill9();
    // Changes while rowtide is down, to every table.
    for t in ["t1_first", "t2_second", "t3_third"] {
        c.query_drop(format!("UPDATE {t} SET v = 7 WHERE id <= 10"))
            .await
            .unwrap();
        c.query_drop(format!("DELETE FROM {t} WHERE id = 11"))
            .await
            .unwrap();
    }
    rt.spawn();
    rt.wait_log("Snapshot finished", 1, Duration::from_secs(300))
        .await;
    let mut want: HashMap<String, HashMap<i64, i64>> = HashMap::new();
    for t in ["t1_first", "t2_second", "t3_third"] {
        let rows: Vec<(i64, i64)> = c.query(format!("SELECT id, v FROM {t}")).await.unwrap();
        want.insert(t.to_string(), rows.into_iter().collect());
    }
    c.disconnect().await.ok();
    let t2 = topics.clone();
    let recs = wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(300),
        "the final state of every table after the crash",
        move |recs| {
            ["t1_first", "t2_second", "t3_third"]
                .iter()
                .zip(&t2)
                .all(|(t, topic)| final_state(recs, topic) == want[*t])
        },
    )
    .await;
    assert!(rt.stop().success());
    let log = rt.log_text();
    assert!(log.contains("Resuming an interrupted snapshot"), "{log}");
    // The finished table was not read again: exactly one snapshot read per row.
    let reads = recs
        .iter()
        .filter(|r| r.topic == topics[0] && r.value.is_some() && r.value_json()["op"] == "r")
        .count();
    assert_eq!(
        reads, 20_000,
        "t1_first was recorded as done and not copied twice"
    );
}

/// The last state per key in partition order (tombstones and deletes remove the key).
fn final_state(recs: &[Record], topic: &str) -> HashMap<i64, i64> {
    let mut sorted: Vec<&Record> = recs.iter().filter(|r| r.topic == topic).collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let mut state = HashMap::new();
    for r in sorted {
        let id = r.key_json()["id"].as_i64().unwrap();
        let v = r.value_json();
        if v.is_null() || v["op"] == "d" {
            state.remove(&id);
        } else {
            state.insert(id, v["after"]["v"].as_i64().unwrap());
        }
    }
    state
}

/// MariaDB lists system-versioned tables as `SYSTEM VERSIONED`, not `BASE TABLE`: they are
/// snapshotted all the same, and with the columns their streamed rows carry — implicit
/// `row_start`/`row_end` (absent from `information_schema.COLUMNS`) after the declared
/// ones, explicit period columns where they are declared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_versioned_tables_are_snapshotted_with_the_columns_they_stream() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "svsnap").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for sql in [
        "CREATE TABLE sv (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING",
        "INSERT INTO sv VALUES (1, 10), (2, 20)",
        "CREATE TABLE sv_explicit (id INT PRIMARY KEY, \
         s TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE, \
         e TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE, v INT, \
         PERIOD FOR SYSTEM_TIME (s, e)) WITH SYSTEM VERSIONING",
        "INSERT INTO sv_explicit (id, v) VALUES (1, 10)",
    ] {
        c.query_drop(sql).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topics = vec![setup.topic("sv"), setup.topic("sv_explicit")];
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    c.query_drop("INSERT INTO sv VALUES (3, 30)").await.unwrap();
    c.query_drop("INSERT INTO sv_explicit (id, v) VALUES (2, 20)")
        .await
        .unwrap();
    c.disconnect().await.ok();
    wait_for_async(
        &env.kafka_brokers,
        &topics,
        Duration::from_secs(60),
        "the streamed rows of both tables",
        |r| r.iter().filter(|r| r.value_json()["op"] == "c").count() == 2,
    )
    .await;
    assert!(rt.stop().success());
    let b = env.kafka_brokers.clone();
    let recs = tokio::task::spawn_blocking(move || read_all(&b, &topics))
        .await
        .unwrap();
    let names = |table: &str, op: &str| -> Vec<Vec<String>> {
        let topic = setup.topic(table);
        recs.iter()
            .filter(|r| r.topic == topic && r.value_json()["op"] == op)
            .map(|r| {
                let v = r.value_json();
                v["after"].as_object().unwrap().keys().cloned().collect()
            })
            .collect()
    };
    let implicit = ["id", "v", "row_start", "row_end"]
        .map(String::from)
        .to_vec();
    assert_eq!(names("sv", "r"), vec![implicit.clone(), implicit.clone()]);
    assert_eq!(names("sv", "c"), vec![implicit]);
    let explicit = ["id", "s", "e", "v"].map(String::from).to_vec();
    assert_eq!(names("sv_explicit", "r"), vec![explicit.clone()]);
    assert_eq!(names("sv_explicit", "c"), vec![explicit]);
}
