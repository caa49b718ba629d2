//! One large table read over several snapshot connections in primary-key ranges
//! (`source.snapshot_range_rows`), through the real binary against the real MariaDB and
//! Kafka: every row is read exactly once and the final state per key equals the database
//! while writers run; a `kill -9` in the middle of the table resumes range by range — the
//! ranges Kafka already acknowledged are not read again.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::kafka::{read_all, wait_for_async, Record};
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

/// The config of `setup` with `snapshot_range_rows` set (and extra producer keys).
fn config_with_ranges(
    env: &common::TestEnv,
    setup: &Setup,
    range_rows: u64,
    producer: &str,
) -> String {
    let parallelism = format!("snapshot_parallelism = {}", setup.snapshot_parallelism);
    let toml = setup
        .toml(env)
        .replace(
            &parallelism,
            &format!("{parallelism}\nsnapshot_range_rows = {range_rows}"),
        )
        .replace(
            "\"linger.ms\" = \"2\"",
            &format!("\"linger.ms\" = \"2\"\n{producer}"),
        );
    assert!(toml.contains("snapshot_range_rows"));
    toml
}

/// Per key (the key column `key`): the last state (`v`, or absent after a delete) and the
/// number of snapshot reads.
fn replay(recs: &[Record], topic: &str, key: &str) -> (HashMap<i64, i64>, HashMap<i64, u32>) {
    let mut sorted: Vec<&Record> = recs.iter().filter(|r| r.topic == topic).collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let (mut state, mut reads) = (HashMap::new(), HashMap::new());
    for r in sorted {
        let id = r.key_json()[key].as_i64().unwrap();
        let v = r.value_json();
        if v.is_null() || v["op"] == "d" {
            state.remove(&id);
            continue;
        }
        if v["op"] == "r" {
            *reads.entry(id).or_default() += 1;
        }
        state.insert(id, v["after"]["v"].as_i64().unwrap());
    }
    (state, reads)
}

/// Updates, inserts and deletes in `big` until `stop`; deleted keys are never re-inserted
/// (new keys start at 10,000,000).
async fn writer(env: common::TestEnv, db: String, stop: Arc<AtomicBool>) {
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    let mut n: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let id = (n * 7919) % 120_000 + 1;
        c.query_drop(format!("UPDATE big SET v = v + 1 WHERE id = {id}"))
            .await
            .unwrap();
        c.query_drop(format!("INSERT INTO big VALUES ({}, 1)", 10_000_000 + n))
            .await
            .unwrap();
        if n % 5 == 0 {
            c.query_drop(format!("DELETE FROM big WHERE id = {}", 120_000 - n))
                .await
                .unwrap();
        }
        c.query_drop(format!(
            "UPDATE pair SET v = v + 1 WHERE g = {} AND id = {}",
            n % 40,
            n % 1000
        ))
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_large_table_is_read_in_key_ranges_over_parallel_connections() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "rsnap").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for sql in [
        "CREATE TABLE big (id BIGINT PRIMARY KEY, v INT NOT NULL)",
        "INSERT INTO big SELECT seq, 0 FROM seq_1_to_120000",
        // A composite key: split by its leading column.
        "CREATE TABLE pair (g INT, id INT, v INT NOT NULL, PRIMARY KEY (g, id))",
        "INSERT INTO pair SELECT seq DIV 1000, seq % 1000, 0 FROM seq_0_to_39999",
        // A text key: never split, read whole.
        "CREATE TABLE word (k VARCHAR(20) PRIMARY KEY, v INT NOT NULL)",
        "INSERT INTO word SELECT CONCAT('w', seq), seq FROM seq_1_to_3000",
        "ANALYZE TABLE big, pair, word",
    ] {
        c.query_drop(sql).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    // More connections than tables: the big tables' ranges keep them all busy.
    setup.snapshot_parallelism = 4;
    let topics: Vec<String> = ["big", "pair", "word"]
        .iter()
        .map(|t| setup.topic(t))
        .collect();
    let config = dir.path().join("rowtide.toml");
    std::fs::write(&config, config_with_ranges(&env, &setup, 10_000, "")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writing = tokio::spawn(writer(env.clone(), db.clone(), stop.clone()));
    let mut rt = Rowtide::with_config(&config, dir.path());
    rt.wait_log("Snapshot finished", 1, Duration::from_secs(300))
        .await;
    stop.store(true, Ordering::Relaxed);
    writing.await.unwrap();
    c.query_drop("INSERT INTO word VALUES ('zz-fence', 0)")
        .await
        .unwrap();
    let want_big: HashMap<i64, i64> = c
        .query("SELECT id, v FROM big")
        .await
        .unwrap()
        .into_iter()
        .collect();
    let want_pair: HashMap<(i64, i64), i64> = c
        .query_map("SELECT g, id, v FROM pair", |(g, id, v)| ((g, id), v))
        .await
        .unwrap()
        .into_iter()
        .collect();
    c.disconnect().await.ok();
    wait_for_async(
        &env.kafka_brokers,
        &topics[2..],
        Duration::from_secs(300),
        "the fence row, the last write",
        |r| r.iter().any(|r| r.key_json()["k"] == "zz-fence"),
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_tail(30));
    let b = env.kafka_brokers.clone();
    let t = topics.clone();
    let recs = tokio::task::spawn_blocking(move || read_all(&b, &t))
        .await
        .unwrap();
    let log = rt.log_text();
    assert!(
        log.contains("Parallel snapshot transactions open") && log.contains("workers=4"),
        "four connections for three tables:\n{log}"
    );
    let split_line = |table: &str| {
        log.lines()
            .find(|l| {
                l.contains("Table split into key ranges") && l.contains(&format!("{db}.{table}"))
            })
            .map(str::to_string)
    };
    assert!(
        split_line("big").is_some_and(|l| l.contains("ranges=")),
        "{log}"
    );
    assert!(split_line("pair").is_some(), "{log}");
    assert!(
        split_line("word").is_none(),
        "a text key is read whole:\n{log}"
    );
    assert!(
        log.matches("Snapshot of range finished").count() >= 12,
        "big and pair in ranges:\n{log}"
    );

    // big: the final state per key is the database's; every original key that still
    // exists was read exactly once (ranges neither overlap nor leave gaps).
    let (state, reads) = replay(&recs, &topics[0], "id");
    assert_eq!(state, want_big, "final state of big");
    assert!(reads.values().all(|&n| n == 1), "a key read twice");
    let missing: Vec<i64> = want_big
        .keys()
        .filter(|&&id| id <= 120_000 && !reads.contains_key(&id))
        .copied()
        .collect();
    assert!(missing.is_empty(), "keys never read: {missing:?}");

    // pair: composite keys, split on g.
    let mut sorted: Vec<&Record> = recs.iter().filter(|r| r.topic == topics[1]).collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let mut pair_state: HashMap<(i64, i64), i64> = HashMap::new();
    let mut pair_reads: HashSet<(i64, i64)> = HashSet::new();
    for r in sorted {
        let k = r.key_json();
        let key = (k["g"].as_i64().unwrap(), k["id"].as_i64().unwrap());
        let v = r.value_json();
        if v["op"] == "r" {
            assert!(pair_reads.insert(key), "pair {key:?} read twice");
        }
        pair_state.insert(key, v["after"]["v"].as_i64().unwrap());
    }
    assert_eq!(pair_reads.len(), 40_000, "every pair row read once");
    assert_eq!(pair_state, want_pair, "final state of pair");

    // One `first` and one `last` marker in the whole snapshot.
    let mut markers: HashMap<String, u32> = HashMap::new();
    for r in &recs {
        let v = r.value_json();
        if v["op"] == "r" {
            *markers
                .entry(v["source"]["snapshot"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert_eq!(markers.get("first"), Some(&1), "{markers:?}");
    assert_eq!(markers.get("last"), Some(&1), "{markers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_inside_a_large_table_resumes_range_by_range() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "rcrash").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    for sql in [
        "CREATE TABLE big (id BIGINT PRIMARY KEY, v INT NOT NULL, pad CHAR(200) NOT NULL DEFAULT '')",
        "INSERT INTO big SELECT seq, 0, REPEAT('x', 200) FROM seq_1_to_200000",
        "ANALYZE TABLE big",
    ] {
        c.query_drop(sql).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topic = setup.topic("big");
    // Kafka throttles rowtide (a produce quota on its client id), so the copy of the
    // 20 ranges takes long enough to be interrupted in the middle.
    let client_id = format!("rowtide-{db}");
    let producer = format!("\"client.id\" = \"{client_id}\"");
    let config = dir.path().join("rowtide.toml");
    std::fs::write(&config, config_with_ranges(&env, &setup, 10_000, &producer)).unwrap();
    common::kafka::produce_quota(&env.kafka_brokers, &client_id, Some(3_000_000));
    let mut rt = Rowtide::with_config(&config, dir.path());
    // Crash once four ranges are in Kafka (and, after a flush interval, in the checkpoint).
    poll_until_async(
        "40,000 snapshot records of big in Kafka",
        Duration::from_secs(180),
        Duration::from_millis(200),
        async || {
            let (b, t) = (env.kafka_brokers.clone(), topic.clone());
            let n = tokio::task::spawn_blocking(move || common::kafka::count(&b, &t))
                .await
                .unwrap();
            match n >= 40_000 {
                true => Ok(()),
                false => Err(format!("{n} records; log:\n{}", rt.log_tail(10))),
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    rt.kill9();
    assert!(
        !rt.log_text().contains("Snapshot of table finished"),
        "the crash came after the whole table was read; the quota is too loose"
    );
    common::kafka::produce_quota(&env.kafka_brokers, &client_id, None);
    // Changes while rowtide is down.
    c.query_drop("UPDATE big SET v = 7 WHERE id <= 10 OR id > 199990")
        .await
        .unwrap();
    c.query_drop("DELETE FROM big WHERE id IN (11, 150000)")
        .await
        .unwrap();
    rt.spawn();
    rt.wait_log("Snapshot finished", 1, Duration::from_secs(300))
        .await;
    let want: HashMap<i64, i64> = c
        .query("SELECT id, v FROM big")
        .await
        .unwrap()
        .into_iter()
        .collect();
    c.disconnect().await.ok();
    let watched = topic.clone();
    let recs = wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&topic),
        Duration::from_secs(300),
        "the final state of big after the crash",
        move |recs| replay(recs, &watched, "id").0 == want,
    )
    .await;
    assert!(rt.stop().success(), "{}", rt.log_tail(30));
    let second = std::fs::read_to_string(rt.log_path(2)).unwrap();
    assert!(
        second.contains("Resuming an interrupted snapshot"),
        "{second}"
    );
    // The ranges acknowledged before the crash are not read again: the first range (ids
    // below 10,001) has one read per key, and the second start reads only ranges above it.
    let (_, reads) = replay(&recs, &topic, "id");
    let first_range_reads: Vec<u32> = (1..=10_000)
        .filter_map(|id| reads.get(&id).copied())
        .collect();
    // (Key 11 was read before the crash and deleted while rowtide was down.)
    assert_eq!(
        first_range_reads.len(),
        10_000,
        "every first-range key was read"
    );
    assert!(
        first_range_reads.iter().all(|&n| n == 1),
        "first range read again"
    );
    let restarted: Vec<&str> = second
        .lines()
        .filter(|l| {
            l.contains("Snapshot of range started") || l.contains("Snapshot of table started")
        })
        .collect();
    assert!(!restarted.is_empty(), "{second}");
    for l in &restarted {
        assert!(
            !l.contains("range=[.."),
            "the second start read the first range again: {l}"
        );
    }
    let reread = reads.values().filter(|&&n| n > 1).count();
    assert!(
        reread < 200_000 - 30_000,
        "{reread} keys read twice: no range was kept"
    );
}
