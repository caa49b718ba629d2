//! Read-only incremental snapshots (`[snapshot] read_only = true`) through the real binary,
//! MariaDB → `rowtide run` → Kafka, as a user with only SELECT, REPLICATION SLAVE and
//! REPLICATION CLIENT (MariaDB's BINLOG MONITOR) — no write grant anywhere, and no signal
//! table at all: the snapshot is requested through the Kafka signal topic.
//!
//! A 200,000-row table with a composite key is snapshotted while two writers insert,
//! update, delete and change primary keys at full speed; `kill -9` in the middle, then a
//! restart that resumes from the last acknowledged chunk. Afterwards the last event per key
//! in Kafka equals the table exactly, every key no writer touched has an `r` event, no
//! deleted row comes back, and the server's user statistics show that rowtide's user wrote
//! nothing and was refused nothing.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kafka::{read_all, wait_for_async, Record};
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

const ROWS: u64 = 200_000;

fn envelope(r: &Record) -> serde_json::Value {
    let v = r.value_json();
    match v.get("payload") {
        Some(p) if v.get("schema").is_some() => p.clone(),
        _ => v,
    }
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

/// One writer: random inserts, updates, deletes and key changes until `stop`; returns the
/// keys it touched (as `id/k`). New keys start at `fresh` (each writer has its own range).
async fn writer(
    env: common::TestEnv,
    db: String,
    seed: u64,
    fresh: u64,
    stop: Arc<AtomicBool>,
) -> HashSet<String> {
    let mut c = common::admin(&env).await;
    let mut rng = Lcg(seed);
    let mut touched = HashSet::new();
    let mut next_new = fresh;
    while !stop.load(Ordering::Relaxed) {
        let id = rng.next() % ROWS;
        let k = format!("k{}", id % 7);
        let sql = match rng.next() % 4 {
            0 => {
                next_new += 1;
                touched.insert(format!("{next_new}/n"));
                format!("INSERT INTO `{db}`.big VALUES ({next_new}, 'n', 1)")
            }
            1 => format!("UPDATE `{db}`.big SET v = v + 1 WHERE id = {id} AND k = '{k}'"),
            2 => format!("DELETE FROM `{db}`.big WHERE id = {id} AND k = '{k}'"),
            _ => {
                next_new += 1;
                touched.insert(format!("{next_new}/{k}"));
                format!("UPDATE `{db}`.big SET id = {next_new} WHERE id = {id} AND k = '{k}'")
            }
        };
        touched.insert(format!("{id}/{k}"));
        c.query_drop(sql).await.unwrap();
    }
    touched
}

/// The end offset of each partition of `topic` (3 partitions).
fn end_offsets(brokers: &str, topic: &str) -> Vec<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "readonly-snapshot-test")
        .create()
        .unwrap();
    (0..3)
        .map(|p| {
            c.fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap()
                .1
        })
        .collect()
}

/// No stream event goes out that is older than an `r` event before it: the first change of
/// a key after its `r` event is the first change after the chunk's snapshot, so its
/// `before` image is the `r` event's row (and it is no insert). Only within the records of
/// one run (a restart repeats stream events: at least once). Returns the keys checked.
fn assert_no_regress(recs: &[&Record]) -> usize {
    let mut read: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut checked = 0;
    for r in recs {
        if r.value.is_none() {
            continue;
        }
        let e = envelope(r);
        let op = e["op"].as_str().unwrap();
        if op == "r" {
            read.insert(key_of(&e["after"]), e["after"].clone());
            continue;
        }
        let key = key_of(if op == "d" { &e["before"] } else { &e["after"] });
        let Some(row) = read.remove(&key) else {
            continue;
        };
        checked += 1;
        assert!(
            op != "c" && e["before"] == row,
            "a stream event older than the snapshot row before it: r {row} then {op} {e}"
        );
    }
    checked
}

fn key_of(row: &serde_json::Value) -> String {
    format!("{}/{}", row["id"], row["k"].as_str().unwrap_or_default())
}

/// Creates the read-only user and checks it can write nothing.
async fn read_only_user(c: &mut mysql_async::Conn, user: &str) {
    c.query_drop(format!(
        "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'ro-secret'"
    ))
    .await
    .unwrap();
    c.query_drop(format!(
        "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'127.0.0.1'"
    ))
    .await
    .unwrap();
    let grants: Vec<String> = c
        .query(format!("SHOW GRANTS FOR '{user}'@'127.0.0.1'"))
        .await
        .unwrap();
    let all = grants.join("\n").to_ascii_uppercase();
    for w in [
        "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "ALL PRIV", "SUPER",
    ] {
        assert!(!all.contains(w), "the read-only user may {w}: {all}");
    }
}

/// The read-only user's statistics: (rows changed, update commands, access denied,
/// select commands).
async fn user_stats(c: &mut mysql_async::Conn, user: &str) -> (u64, u64, u64, u64) {
    let row: Option<(u64, u64, u64, u64)> = c
        .exec_first(
            "SELECT ROWS_UPDATED + ROWS_INSERTED + ROWS_DELETED, UPDATE_COMMANDS, ACCESS_DENIED, \
             SELECT_COMMANDS FROM information_schema.USER_STATISTICS WHERE USER = ?",
            (user,),
        )
        .await
        .unwrap();
    row.unwrap_or_else(|| panic!("no USER_STATISTICS row for {user} (userstat is off?)"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_snapshot_under_writes_is_exact_writes_nothing_and_resumes_after_kill9() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let Some(env) = common::servers() else { return };
    let started = Instant::now();
    let db = common::fresh_db(&env, "ro_snap").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop(format!(
        "CREATE TABLE `{db}`.big (id BIGINT NOT NULL, k VARCHAR(16) NOT NULL, v INT, \
         PRIMARY KEY (id, k))"
    ))
    .await
    .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.big SELECT seq, CONCAT('k', seq % 7), seq FROM seq_0_to_{}",
        ROWS - 1
    ))
    .await
    .unwrap();
    let user = format!("ro{}", db.replace('_', "").trim_start_matches("rosnap"));
    read_only_user(&mut c, &user).await;
    // Per-user statistics (not otherwise on): what rowtide's user did on the server.
    let userstat: Option<String> = c.query_first("SELECT @@GLOBAL.userstat").await.unwrap();
    c.query_drop("SET GLOBAL userstat = 1").await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    let topic = format!("{}-signals", setup.topic_prefix);
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &env.kafka_brokers)
        .create()
        .unwrap();
    for r in admin
        .create_topics(
            [&NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap()
    {
        r.unwrap();
    }
    setup.extra = format!(
        "\n[signals]\nkafka_topic = \"{topic}\"\n\n[snapshot]\nchunk_size = 1000\nread_only = true\n"
    );
    let mut ro_env = env.clone();
    ro_env.mysql_user = user.clone();
    ro_env.mysql_password = "ro-secret".into();
    let mut rt = Rowtide::start(&ro_env, &setup, dir.path());
    rt.wait_streaming(1).await;

    let stop = Arc::new(AtomicBool::new(false));
    let writers = [(42, ROWS + 1_000_000), (7, ROWS + 5_000_000)].map(|(seed, fresh)| {
        tokio::spawn(writer(env.clone(), db.clone(), seed, fresh, stop.clone()))
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Through the Kafka topic (the default in read-only mode): rowtide writes no signal row.
    let out = rt.command(&["snapshot", &format!("{db}.big")]);
    assert!(out.status.success(), "{out:?}");
    rt.wait_log(
        "Incremental snapshot in progress.",
        1,
        Duration::from_secs(120),
    )
    .await;
    rt.kill9();
    let first_run = end_offsets(&env.kafka_brokers, &setup.topic("big"));
    rt.spawn();
    rt.wait_log(
        "Incremental snapshot resumed from the checkpoint.",
        1,
        Duration::from_secs(60),
    )
    .await;
    let log = rt.log_text();
    let resumed = log
        .lines()
        .find(|l| l.contains("Incremental snapshot resumed from the checkpoint."))
        .unwrap();
    let chunks: u64 = resumed
        .split("chunks_done=")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{resumed}"));
    assert!(
        chunks > 0,
        "resumed from a chunk, not from the start: {resumed}"
    );
    rt.wait_log(
        "Incremental snapshot finished.",
        1,
        Duration::from_secs(180),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut touched = HashSet::new();
    for w in writers {
        touched.extend(w.await.unwrap());
    }
    c.query_drop(format!("INSERT INTO `{db}`.big VALUES (-1, 'end', 0)"))
        .await
        .unwrap();
    let big = setup.topic("big");
    wait_for_async(
        &env.kafka_brokers,
        std::slice::from_ref(&big),
        Duration::from_secs(60),
        "the end marker",
        |recs| recs.iter().any(|r| envelope(r)["after"]["k"] == "end"),
    )
    .await;
    rt.assert_alive("at the end");
    assert!(rt.stop().success());
    let (changed, updates, denied, selects) = user_stats(&mut c, &user).await;
    if userstat.as_deref() != Some("1") {
        c.query_drop("SET GLOBAL userstat = 0").await.ok();
    }
    c.query_drop(format!("DROP USER '{user}'@'127.0.0.1'"))
        .await
        .ok();

    let log = rt.log_text();
    assert!(
        log.contains("Incremental snapshots are read-only"),
        "the mode is announced: {log}"
    );
    for bad in [
        "Incremental snapshot paused",
        "ERROR",
        "could not insert its watermark",
    ] {
        assert!(!log.contains(bad), "`{bad}` in the log: {log}");
    }
    // The statistics did count this user's statements (the chunks are SELECTs).
    assert!(selects >= 200, "{selects} select commands counted");
    assert_eq!(
        (changed, updates, denied),
        (0, 0, 0),
        "rowtide's read-only user changed rows, ran writing statements or was refused \
         (rows, update commands, access denied)"
    );

    let mut recs = read_all(&env.kafka_brokers, &[big]);
    recs.sort_by_key(|r| (r.partition, r.offset));
    let (run1, run2): (Vec<&Record>, Vec<&Record>) = recs
        .iter()
        .partition(|r| r.offset < first_run[r.partition as usize]);
    let checked = assert_no_regress(&run1) + assert_no_regress(&run2);
    assert!(
        checked > 10,
        "only {checked} keys changed after their r event"
    );
    let mut last: BTreeMap<String, Option<i64>> = BTreeMap::new();
    let mut read: HashSet<String> = HashSet::new();
    let mut incremental_reads = 0u64;
    for r in &recs {
        if r.value.is_none() {
            continue;
        }
        let e = envelope(r);
        match e["op"].as_str().unwrap() {
            "d" => {
                last.insert(key_of(&e["before"]), None);
            }
            op => {
                let key = key_of(&e["after"]);
                if op == "r" {
                    assert_eq!(e["source"]["snapshot"], "incremental", "{e}");
                    read.insert(key.clone());
                    incremental_reads += 1;
                }
                last.insert(key, e["after"]["v"].as_i64());
            }
        }
    }
    let rows: Vec<(i64, String, Option<i64>)> = c
        .query(format!("SELECT id, k, v FROM `{db}`.big"))
        .await
        .unwrap();
    let want: BTreeMap<String, Option<i64>> = rows
        .into_iter()
        .map(|(id, k, v)| (format!("{id}/{k}"), v))
        .collect();
    let have: BTreeMap<String, Option<i64>> = last
        .into_iter()
        .filter_map(|(k, v)| Some((k, Some(v?))))
        .collect();
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !have.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .take(5)
        .collect();
    let differ: Vec<_> = want
        .iter()
        .filter(|(k, v)| have.get(*k).is_some_and(|h| h != *v))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differ.is_empty(),
        "Kafka differs from the table: missing {missing:?}, resurrected/extra {extra:?}, \
         different {differ:?} ({} rows, {} keys in Kafka)",
        want.len(),
        have.len()
    );
    let untouched: Vec<&String> = want
        .keys()
        .filter(|k| !touched.contains(*k) && !k.ends_with("/end"))
        .collect();
    let not_read: Vec<_> = untouched
        .iter()
        .filter(|k| !read.contains(**k))
        .take(5)
        .collect();
    assert!(not_read.is_empty(), "never read: {not_read:?}");
    assert!(untouched.len() > 100_000, "{} untouched", untouched.len());
    assert!(
        incremental_reads < ROWS + ROWS / 2,
        "{incremental_reads} reads: resumed, not started over"
    );
    eprintln!(
        "{} rows, {} touched keys, {incremental_reads} incremental reads, {checked} keys \
         changed after their r event, resumed after {chunks} chunks, {:?}",
        want.len(),
        touched.len(),
        started.elapsed()
    );
}

/// On a quiet server the log may end in events that are no transaction (here a rotation's
/// header): the snapshot position then names the end of those, where no commit is ever
/// streamed, and the chunk goes out because the binlog reader stands there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_snapshot_finishes_on_a_quiet_server_after_a_rotation() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "ro_quiet").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop(format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY, v INT)"))
        .await
        .unwrap();
    c.query_drop(format!(
        "INSERT INTO `{db}`.t SELECT seq, seq FROM seq_1_to_2500"
    ))
    .await
    .unwrap();
    let user = format!("rq{}", db.replace('_', "").trim_start_matches("roquiet"));
    read_only_user(&mut c, &user).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    setup.snapshot_mode = "no_data";
    // The snapshot starts by itself (new_tables) when the table is new to the checkpoint:
    // no signal channel at all.
    setup.extra =
        "\n[snapshot]\nchunk_size = 1000\nread_only = true\nnew_tables = \"incremental\"\n".into();
    let mut ro_env = env.clone();
    ro_env.mysql_user = user.clone();
    ro_env.mysql_password = "ro-secret".into();
    // A first run records a checkpoint whose catalog does not know `t2`.
    let mut rt = Rowtide::start(&ro_env, &setup, dir.path());
    rt.wait_streaming(1).await;
    assert!(rt.stop().success());
    c.query_drop(format!("CREATE TABLE `{db}`.t2 LIKE `{db}`.t"))
        .await
        .unwrap();
    c.query_drop(format!("INSERT INTO `{db}`.t2 SELECT * FROM `{db}`.t"))
        .await
        .unwrap();
    c.query_drop("FLUSH BINARY LOGS").await.unwrap();
    rt.spawn();
    rt.wait_log("Incremental snapshot finished.", 1, Duration::from_secs(60))
        .await;
    assert!(rt.stop().success());
    c.query_drop(format!("DROP USER '{user}'@'127.0.0.1'"))
        .await
        .ok();
    let recs = read_all(&env.kafka_brokers, &[setup.topic("t2")]);
    let reads: HashSet<String> = recs
        .iter()
        .filter(|r| r.value.is_some())
        .map(envelope)
        .filter(|e| e["op"] == "r")
        .map(|e| e["after"]["id"].to_string())
        .collect();
    assert_eq!(reads.len(), 2500, "every row of t2 read once at least");
}

/// Contradictory read-only configurations exit 2 with the reason, before touching a server.
#[test]
fn read_only_configurations_that_cannot_work_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rowtide.toml");
    let base = "[source]\nhost = \"127.0.0.1\"\nuser = \"cdc_ro\"\ninclude = [\"db\\\\..*\"]\n\n\
                [sink]\nkind = \"stdout\"\n";
    let cases = [
        // No signal channel and no new-table snapshots: nothing could ever start one.
        (
            "\n[snapshot]\nread_only = true\n",
            &["snapshot", "db.t"][..],
            "no incremental snapshot can ever start",
        ),
        // rowtide would have to write the signal table.
        (
            "\n[signals]\ntable = \"db.sig\"\n\n[snapshot]\nread_only = true\n",
            &["snapshot", "--via", "table", "db.t"][..],
            "does not insert signals into [signals] table",
        ),
    ];
    for (extra, args, message) in cases {
        std::fs::write(&config, format!("{base}{extra}")).unwrap();
        let out = common::proc::rowtide_command(args, &config);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra}: {stderr}");
        assert!(stderr.contains(message), "{extra}: {stderr}");
    }
}
