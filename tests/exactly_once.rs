//! Exactly-once delivery (`sink.delivery = "exactly_once"`) through the real binary: under
//! continuous multi-row transactions on several tables, `rowtide run` is killed with
//! SIGKILL at seeded random moments and restarted; a `read_committed` consumer then sees
//! every committed row change exactly once (0 lost, 0 repeated) and the last event of every
//! key equals the database's row. Also: a second instance with the same configuration
//! fences the first, which writes nothing more and says so.
//!
//! `ROWTIDE_EOS_KILLS` sets the number of kills (default 20); `ROWTIDE_EOS_SEED` the seed.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kafka::{read_committed, Record};
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

const TABLES: [&str; 3] = ["a", "b", "c"];

/// A committed row change: (table, id, n) where n is the row's update counter (0 when
/// inserted). Ids are never reused and n only grows, so each change is one distinct value.
type Change = (String, i64, i64);

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
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn seed() -> u64 {
    std::env::var("ROWTIDE_EOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x0e05_2026)
}

async fn setup_tables(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    for t in TABLES {
        c.query_drop(format!(
            "CREATE TABLE `{db}`.{t} (id BIGINT PRIMARY KEY, n BIGINT NOT NULL, \
             payload VARCHAR(64))"
        ))
        .await
        .unwrap();
    }
    c.disconnect().await.ok();
}

/// Writes transactions of 1 to 6 inserts and updates across the tables until `stop`;
/// returns every committed change.
async fn writer(env: common::TestEnv, db: String, stop: Arc<AtomicBool>, seed: u64) -> Vec<Change> {
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    let mut rng = Lcg(seed);
    // Per table: (id, n) of every row.
    let mut rows: HashMap<&str, Vec<(i64, i64)>> =
        TABLES.iter().map(|t| (*t, Vec::new())).collect();
    let mut next_id = 1i64;
    let mut committed = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut sql = vec!["START TRANSACTION".to_string()];
        let mut txn: Vec<Change> = Vec::new();
        let mut shadow = rows.clone();
        for _ in 0..1 + rng.below(6) {
            let t = TABLES[rng.below(TABLES.len() as u64) as usize];
            let live = shadow.get_mut(t).unwrap();
            if rng.below(10) < 5 || live.is_empty() {
                let id = next_id;
                next_id += 1;
                sql.push(format!(
                    "INSERT INTO {t} VALUES ({id}, 0, REPEAT('x', {}))",
                    1 + rng.below(60)
                ));
                live.push((id, 0));
                txn.push((t.to_string(), id, 0));
            } else {
                let i = rng.below(live.len() as u64) as usize;
                live[i].1 += 1;
                let (id, n) = live[i];
                sql.push(format!("UPDATE {t} SET n = {n} WHERE id = {id}"));
                txn.push((t.to_string(), id, n));
            }
        }
        sql.push("COMMIT".into());
        c.query_drop(sql.join(";")).await.unwrap();
        rows = shadow;
        committed.extend(txn);
        if rng.below(3) == 0 {
            tokio::time::sleep(Duration::from_millis(rng.below(15))).await;
        }
    }
    c.disconnect().await.ok();
    committed
}

/// Every (table, id) → n in the database.
async fn db_state(env: &common::TestEnv, db: &str) -> HashMap<(String, i64), i64> {
    let mut c = common::admin(env).await;
    let mut out = HashMap::new();
    for t in TABLES {
        let rows: Vec<(i64, i64)> = c
            .query(format!("SELECT id, n FROM `{db}`.{t}"))
            .await
            .unwrap();
        out.extend(rows.into_iter().map(|(id, n)| ((t.to_string(), id), n)));
    }
    c.disconnect().await.ok();
    out
}

/// Each data event as a change, and the last n per key in partition order.
fn analyse(recs: &[Record]) -> (Vec<Change>, HashMap<(String, i64), i64>) {
    let mut sorted: Vec<&Record> = recs.iter().collect();
    sorted
        .sort_by(|a, b| (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset)));
    let mut events = Vec::new();
    let mut last = HashMap::new();
    for r in sorted {
        let table = r.topic.rsplit('.').next().unwrap().to_string();
        let id = r.key_json()["id"].as_i64().expect("key id");
        let v = r.value_json();
        let n = v["after"]["n"].as_i64().expect("after.n");
        events.push((table.clone(), id, n));
        last.insert((table, id), n);
    }
    (events, last)
}

/// A dedicated replication user, so that the test kills only its own dump threads (a
/// source reconnect) and never another test's.
async fn create_user(env: &common::TestEnv) -> String {
    let name: String = format!("eos{}", &common::unique("u").replace('_', "")[1..])
        .chars()
        .take(32)
        .collect();
    let mut c = common::admin(env).await;
    for host in ["127.0.0.1", "localhost"] {
        c.query_drop(format!(
            "CREATE USER '{name}'@'{host}' IDENTIFIED BY 'eos-secret'"
        ))
        .await
        .unwrap();
        c.query_drop(format!(
            "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT \
             ON *.* TO '{name}'@'{host}'"
        ))
        .await
        .unwrap();
    }
    c.disconnect().await.ok();
    name
}

/// Kills the binlog dump threads of `user` (rowtide then reconnects); returns how many.
async fn kill_dump_threads(env: &common::TestEnv, user: &str) -> usize {
    let mut c = common::admin(env).await;
    let mut killed = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while killed == 0 && Instant::now() < deadline {
        let ids: Vec<u64> = c
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST \
                 WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'",
                (user,),
            )
            .await
            .unwrap();
        for id in &ids {
            // The thread may end by itself in between; that is fine.
            if c.query_drop(format!("KILL {id}")).await.is_ok() {
                killed += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.disconnect().await.ok();
    killed
}

struct Eos {
    setup: Setup,
    config: std::path::PathBuf,
    topics: Vec<String>,
}

/// The test's configuration: exactly-once, the state in a unique Kafka topic, short
/// transactions so that kills land between and inside many of them.
fn eos_config(env: &common::TestEnv, db: &str, dir: &Path, name: &str) -> Eos {
    let setup = Setup::new(db, dir);
    let toml = setup
        .toml(env)
        .replace(
            "[sink]\n",
            "[sink]\ndelivery = \"exactly_once\"\ntransaction_max_ms = 200\n\
             transaction_max_records = 500\n",
        )
        .replace(
            "[checkpoint]\n",
            &format!(
                "[checkpoint]\nstore = \"kafka\"\nkafka_topic = \"{}.state\"\n",
                setup.topic_prefix
            ),
        );
    let config = dir.join(name);
    std::fs::write(&config, toml).unwrap();
    let topics = TABLES.iter().map(|t| setup.topic(t)).collect();
    Eos {
        setup,
        config,
        topics,
    }
}

/// Waits until a read_committed consumer sees every committed change; returns its records.
async fn wait_caught_up(
    env: &common::TestEnv,
    topics: &[String],
    committed: &[Change],
    rt: &Rowtide,
) -> Vec<Record> {
    poll_until_async(
        "every committed change visible to a read_committed consumer",
        Duration::from_secs(120),
        Duration::from_millis(500),
        async || {
            let (b, t) = (env.kafka_brokers.clone(), topics.to_vec());
            let recs = tokio::task::spawn_blocking(move || read_committed(&b, &t))
                .await
                .unwrap();
            let have: HashSet<Change> = analyse(&recs).0.into_iter().collect();
            let missing: Vec<&Change> = committed.iter().filter(|c| !have.contains(c)).collect();
            if missing.is_empty() {
                return Ok(recs);
            }
            Err(format!(
                "{} of {} committed changes missing, e.g. {:?}\nrowtide log:\n{}",
                missing.len(),
                committed.len(),
                &missing[..missing.len().min(5)],
                rt.log_tail(30)
            ))
        },
    )
    .await
}

/// 0 lost, 0 repeated, and the last event of every key is the database's row.
async fn assert_exactly_once(
    env: &common::TestEnv,
    db: &str,
    recs: &[Record],
    committed: &[Change],
    what: &str,
) {
    let (events, last) = analyse(recs);
    let mut counts: HashMap<&Change, u32> = HashMap::new();
    for e in &events {
        *counts.entry(e).or_default() += 1;
    }
    let missing: Vec<&Change> = committed
        .iter()
        .filter(|c| !counts.contains_key(c))
        .collect();
    let repeated: Vec<(&&Change, &u32)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let expected: HashSet<&Change> = committed.iter().collect();
    let unknown: Vec<&&Change> = counts.keys().filter(|c| !expected.contains(**c)).collect();
    assert!(
        missing.is_empty(),
        "{what}: {} changes lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        repeated.is_empty(),
        "{what}: {} changes repeated, e.g. {:?}",
        repeated.len(),
        &repeated[..repeated.len().min(5)]
    );
    assert!(
        unknown.is_empty(),
        "{what}: events never committed: {:?}",
        &unknown[..unknown.len().min(5)]
    );
    let state = db_state(env, db).await;
    assert_eq!(
        state.len(),
        last.len(),
        "{what}: keys in Kafka vs the database"
    );
    for (k, n) in &state {
        assert_eq!(last.get(k), Some(n), "{what}: final state of {k:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_delivers_every_change_exactly_once() {
    let Some(env) = common::servers() else { return };
    let kills: u32 = std::env::var("ROWTIDE_EOS_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let db = common::fresh_db(&env, "eos").await;
    setup_tables(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let eos = eos_config(&env, &db, dir.path(), "rowtide.toml");
    // Its own replication user: some rounds also break the source connection.
    let user = create_user(&env).await;
    let text = std::fs::read_to_string(&eos.config).unwrap().replace(
        &format!(
            "user = \"{}\"\npassword = \"{}\"",
            env.mysql_user, env.mysql_password
        ),
        &format!("user = \"{user}\"\npassword = \"eos-secret\""),
    );
    assert!(text.contains(&user));
    std::fs::write(&eos.config, text).unwrap();
    let mut rt = Rowtide::with_config(&eos.config, dir.path());
    rt.wait_streaming(1).await;
    let s = seed();
    let mut reconnects = 0;
    eprintln!("exactly-once test seed {s}, {kills} kills");
    let stop = Arc::new(AtomicBool::new(false));
    let w = tokio::spawn(writer(env.clone(), db.clone(), stop.clone(), s));
    let mut rng = Lcg(s ^ 0x5eed);
    let started = Instant::now();
    for i in 0..kills {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(1500))).await;
        if i % 5 == 2 {
            // A source reconnect: the run's open transaction is aborted and redone.
            reconnects += kill_dump_threads(&env, &user).await;
            tokio::time::sleep(Duration::from_millis(300 + rng.below(700))).await;
        }
        rt.kill9();
        if i % 4 == 3 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        rt.spawn();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let committed = w.await.unwrap();
    let recs = wait_caught_up(&env, &eos.topics, &committed, &rt).await;
    let status = rt.stop();
    assert!(
        status.success(),
        "graceful stop after the kills: {status:?}\n{}",
        rt.log_tail(30)
    );
    // Read again after the graceful stop: its last commit must not repeat anything.
    let (b, t) = (env.kafka_brokers.clone(), eos.topics.clone());
    let recs_after = tokio::task::spawn_blocking(move || read_committed(&b, &t))
        .await
        .unwrap();
    assert!(recs_after.len() >= recs.len());
    assert_exactly_once(
        &env,
        &db,
        &recs_after,
        &committed,
        &format!("after {kills} kills (seed {s})"),
    )
    .await;
    let log = rt.log_text();
    assert!(
        log.contains("Transactional producer ready"),
        "the exactly-once producer was used"
    );
    eprintln!(
        "exactly-once test: {kills} kills and {reconnects} source reconnects in {:.1} s, {} committed changes, {} events read_committed, {} rowtide starts, {} aborted runs, prefix {}",
        started.elapsed().as_secs_f64(),
        committed.len(),
        recs_after.len(),
        rt.starts,
        log.matches("Exactly-once run failed").count(),
        eos.setup.topic_prefix
    );
}

/// A second instance with the same configuration (so the same transactional.id) fences
/// the first: the first stops with a message saying so and writes nothing more; the
/// second delivers everything exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_fences_the_first() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "eosfence").await;
    setup_tables(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let first_dir = dir.path().join("first");
    let second_dir = dir.path().join("second");
    std::fs::create_dir_all(&first_dir).unwrap();
    std::fs::create_dir_all(&second_dir).unwrap();
    let eos = eos_config(&env, &db, dir.path(), "first.toml");
    let mut first = Rowtide::with_config(&eos.config, &first_dir);
    first.wait_streaming(1).await;
    let stop = Arc::new(AtomicBool::new(false));
    let w = tokio::spawn(writer(env.clone(), db.clone(), stop.clone(), seed()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The same configuration with another replica id (two replicas may not share one).
    let text = std::fs::read_to_string(&eos.config).unwrap().replace(
        &format!("server_id = {}", eos.setup.server_id),
        &format!("server_id = {}", common::server_id()),
    );
    let second_config = dir.path().join("second.toml");
    std::fs::write(&second_config, text).unwrap();
    let mut second = Rowtide::with_config(&second_config, &second_dir);
    second.wait_streaming(1).await;
    let status = first.wait_exit(Duration::from_secs(60));
    assert!(
        !status.success(),
        "the fenced instance stops with an error: {status:?}"
    );
    let log = first.log_text();
    assert!(
        log.contains("Fenced") && log.contains("transactional.id"),
        "the fenced instance says why:\n{}",
        first.log_tail(20)
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    let committed = w.await.unwrap();
    let recs = wait_caught_up(&env, &eos.topics, &committed, &second).await;
    assert_exactly_once(&env, &db, &recs, &committed, "after a takeover").await;
    assert!(second.stop().success());
}

/// A Kafka broker restart in the middle of the load (a private broker: the shared one is
/// never restarted), with a few kills of rowtide around it: still every change exactly
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_under_load_keeps_exactly_once() {
    let Some(mut env) = common::servers() else {
        return;
    };
    let mut kafka = tokio::task::spawn_blocking(common::private_kafka::PrivateKafka::start)
        .await
        .unwrap();
    env.kafka_brokers = kafka.brokers();
    let db = common::fresh_db(&env, "eosbroker").await;
    setup_tables(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let eos = eos_config(&env, &db, dir.path(), "rowtide.toml");
    let mut rt = Rowtide::with_config(&eos.config, dir.path());
    rt.wait_streaming(1).await;
    let s = seed() ^ 0xb0;
    let stop = Arc::new(AtomicBool::new(false));
    let w = tokio::spawn(writer(env.clone(), db.clone(), stop.clone(), s));
    let mut rng = Lcg(s);
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(500 + rng.below(1000))).await;
        rt.kill9();
        rt.spawn();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let kafka = tokio::task::spawn_blocking(move || {
        kafka.restart(Duration::from_secs(3));
        kafka
    })
    .await
    .unwrap();
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1000 + rng.below(1000))).await;
        rt.kill9();
        rt.spawn();
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    let committed = w.await.unwrap();
    let recs = wait_caught_up(&env, &eos.topics, &committed, &rt).await;
    assert_exactly_once(
        &env,
        &db,
        &recs,
        &committed,
        &format!("across a broker restart (seed {s})"),
    )
    .await;
    rt.assert_alive("after the broker restart");
    let log = rt.log_text();
    eprintln!(
        "broker restart test: {} committed changes, {} rowtide starts, {} pipeline restarts, {} aborted runs",
        committed.len(),
        rt.starts,
        log.matches("Pipeline interrupted").count(),
        log.matches("Exactly-once run failed").count()
    );
    assert!(rt.stop().success(), "{}", rt.log_tail(30));
    drop(kafka);
}

/// `exactly_once` without the Kafka state store is refused at load (exit 2, naming both
/// keys and the fix); with it, `rowtide check` initializes a transactional producer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_is_checked() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "eoscheck").await;
    setup_tables(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let eos = eos_config(&env, &db, dir.path(), "rowtide.toml");
    let sled = std::fs::read_to_string(&eos.config)
        .unwrap()
        .replace("store = \"kafka\"\n", "");
    let sled_config = dir.path().join("sled.toml");
    std::fs::write(&sled_config, sled).unwrap();
    let out = common::proc::rowtide_command(&["run"], &sled_config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sink.delivery") && err.contains("checkpoint.store = \"kafka\""),
        "{err}"
    );
    let out = common::proc::rowtide_command(&["check"], &eos.config);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("sink.delivery = exactly_once writes as transactional.id")
            && text.contains(&format!("rowtide-state-{}.state", eos.setup.topic_prefix)),
        "{text}"
    );
}
