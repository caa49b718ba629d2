//! Crash safety through the real binary: under a continuous write load, `rowtide run` is
//! killed with SIGKILL at random moments and restarted; at the end every committed row
//! change is in Kafka at least once and the last event of every key equals the database's
//! row. With graceful restarts (SIGTERM) no event may repeat at all.
//!
//! `ROWTIDE_CRASH_KILLS` sets the number of kills (default 20).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kafka::{read_all, Record};
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use mysql_async::prelude::Queryable;

/// A committed change: (id, version, op) where op is 'c', 'u' or 'd'.
type Committed = (i64, i64, char);

/// A small deterministic generator (the seed is printed so a failure can be replayed).
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

/// Writes random transactions until `stop`; returns what was committed.
async fn writer(
    env: common::TestEnv,
    db: String,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> Vec<Committed> {
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    let mut rng = Lcg(seed);
    let mut live: HashMap<i64, i64> = HashMap::new();
    let mut next_id = 1i64;
    let mut committed = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let stmts = 1 + rng.below(4);
        let mut txn: Vec<Committed> = Vec::new();
        let mut shadow = live.clone();
        let mut sql = vec!["START TRANSACTION".to_string()];
        for _ in 0..stmts {
            let roll = rng.below(10);
            let existing: Vec<i64> = shadow.keys().copied().collect();
            if roll < 5 || existing.is_empty() {
                let id = next_id;
                next_id += 1;
                sql.push(format!(
                    "INSERT INTO items VALUES ({id}, 1, REPEAT('x', {}))",
                    1 + rng.below(60)
                ));
                shadow.insert(id, 1);
                txn.push((id, 1, 'c'));
            } else if roll < 8 {
                let id = existing[rng.below(existing.len() as u64) as usize];
                let v = shadow[&id] + 1;
                sql.push(format!("UPDATE items SET version = {v} WHERE id = {id}"));
                shadow.insert(id, v);
                txn.push((id, v, 'u'));
            } else {
                let id = existing[rng.below(existing.len() as u64) as usize];
                let v = shadow[&id];
                sql.push(format!("DELETE FROM items WHERE id = {id}"));
                shadow.remove(&id);
                txn.push((id, v, 'd'));
            }
        }
        sql.push("COMMIT".into());
        c.query_drop(sql.join(";")).await.unwrap();
        live = shadow;
        committed.extend(txn);
        if rng.below(3) == 0 {
            tokio::time::sleep(Duration::from_millis(rng.below(20))).await;
        }
    }
    c.disconnect().await.ok();
    committed
}

async fn setup_table(env: &common::TestEnv, db: &str) {
    let mut c = common::admin(env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.items (id BIGINT PRIMARY KEY, version BIGINT NOT NULL, payload VARCHAR(64))"
    ))
    .await
    .unwrap();
    c.disconnect().await.ok();
}

async fn db_state(env: &common::TestEnv, db: &str) -> HashMap<i64, i64> {
    let mut c = common::admin(env).await;
    let rows: Vec<(i64, i64)> = c
        .query(format!("SELECT id, version FROM `{db}`.items"))
        .await
        .unwrap();
    c.disconnect().await.ok();
    rows.into_iter().collect()
}

/// (id, version, op) of every data event, and the last state per key in partition order.
fn analyse(recs: &[Record]) -> (Vec<Committed>, HashMap<i64, Option<i64>>) {
    let mut sorted: Vec<&Record> = recs.iter().collect();
    sorted.sort_by_key(|r| (r.partition, r.offset));
    let mut events = Vec::new();
    let mut last: HashMap<i64, Option<i64>> = HashMap::new();
    for r in sorted {
        let id = r.key_json()["id"].as_i64().expect("key id");
        let v = r.value_json();
        if v.is_null() {
            last.insert(id, None);
            continue;
        }
        let op = v["op"].as_str().unwrap();
        match op {
            "c" | "u" | "r" => {
                let ver = v["after"]["version"].as_i64().unwrap();
                if op != "r" {
                    events.push((id, ver, op.chars().next().unwrap()));
                }
                last.insert(id, Some(ver));
            }
            "d" => {
                events.push((id, v["before"]["version"].as_i64().unwrap(), 'd'));
                last.insert(id, None);
            }
            other => panic!("unexpected op {other}"),
        }
    }
    (events, last)
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Waits until every committed change is in Kafka and returns the records.
async fn wait_caught_up(
    env: &common::TestEnv,
    topic: &str,
    committed: &[Committed],
    seed: u64,
    rt: &Rowtide,
) -> Vec<Record> {
    poll_until_async(
        &format!("every committed change in Kafka (seed {seed})"),
        Duration::from_secs(120),
        Duration::from_millis(500),
        async || {
            let (b, t) = (env.kafka_brokers.clone(), vec![topic.to_string()]);
            let recs = tokio::task::spawn_blocking(move || read_all(&b, &t))
                .await
                .unwrap();
            let have: HashSet<Committed> = analyse(&recs).0.into_iter().collect();
            let missing: Vec<&Committed> = committed.iter().filter(|c| !have.contains(c)).collect();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing() {
    let Some(env) = common::servers() else { return };
    let kills: u32 = std::env::var("ROWTIDE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let db = common::fresh_db(&env, "crash").await;
    setup_table(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topic = setup.topic("items");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    let s = seed();
    eprintln!("crash test seed {s}, {kills} kills");
    let stop = Arc::new(AtomicBool::new(false));
    let w = tokio::spawn(writer(env.clone(), db.clone(), stop.clone(), s));
    let mut rng = Lcg(s ^ 0x5eed);
    let started = Instant::now();
    for i in 0..kills {
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1300))).await;
        rt.kill9();
        // Sometimes restart at once, sometimes after a pause while writes pile up.
        if i % 4 == 3 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        rt.spawn();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let committed = w.await.unwrap();
    let recs = wait_caught_up(&env, &topic, &committed, s, &rt).await;
    let status = rt.stop();
    assert!(
        status.success(),
        "graceful stop after the crash loop: {status:?}"
    );
    let (events, last) = analyse(&recs);
    let have: HashSet<Committed> = events.iter().copied().collect();
    let missing: Vec<&Committed> = committed.iter().filter(|c| !have.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} committed changes missing after {kills} kills (seed {s}), e.g. {:?}\n{}",
        missing.len(),
        committed.len(),
        &missing[..missing.len().min(5)],
        rt.log_text()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let state = db_state(&env, &db).await;
    for (id, v) in &state {
        assert_eq!(
            last.get(id),
            Some(&Some(*v)),
            "final state of id {id} (seed {s})"
        );
    }
    for (id, v) in &last {
        if v.is_some() {
            assert!(
                state.contains_key(id),
                "id {id} is deleted in the database but not in Kafka (seed {s})"
            );
        }
    }
    let duplicates = events.len() - have.len();
    eprintln!(
        "crash test: {kills} kills in {:.1} s, {} committed changes, {} events in Kafka ({} repeats), {} rowtide starts",
        started.elapsed().as_secs_f64(),
        committed.len(),
        events.len(),
        duplicates,
        rt.starts
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_restarts_under_load_repeat_nothing() {
    let Some(env) = common::servers() else { return };
    let db = common::fresh_db(&env, "graceful").await;
    setup_table(&env, &db).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(&db, dir.path());
    let topic = setup.topic("items");
    let mut rt = Rowtide::start(&env, &setup, dir.path());
    rt.wait_streaming(1).await;
    let s = seed();
    let stop = Arc::new(AtomicBool::new(false));
    let w = tokio::spawn(writer(env.clone(), db.clone(), stop.clone(), s));
    // Also one large transaction, so a stop lands inside it at least once.
    let big = {
        let env = env.clone();
        let db = db.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            let mut c = common::admin(&env).await;
            c.query_drop(format!("USE `{db}`")).await.unwrap();
            c.query_drop(
                "INSERT INTO items SELECT seq + 1000000000, 1, 'big' FROM seq_1_to_200000",
            )
            .await
            .unwrap();
            c.disconnect().await.ok();
        })
    };
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let st = rt.stop();
        assert!(st.success(), "SIGTERM exits 0: {st:?}\n{}", rt.log_text());
        rt.spawn();
    }
    big.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut committed = w.await.unwrap();
    committed.extend((1..=200_000).map(|i| (i + 1_000_000_000, 1, 'c')));
    let recs = wait_caught_up(&env, &topic, &committed, s, &rt).await;
    assert!(rt.stop().success());
    let (events, _) = analyse(&recs);
    let mut counts: HashMap<Committed, u32> = HashMap::new();
    for e in &events {
        *counts.entry(*e).or_default() += 1;
    }
    let missing = committed.iter().filter(|c| !counts.contains_key(c)).count();
    let repeated: Vec<(&Committed, &u32)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert_eq!(
        missing, 0,
        "changes missing after graceful restarts (seed {s})"
    );
    assert!(
        repeated.is_empty(),
        "{} changes repeated after graceful restarts (seed {s}), e.g. {:?}\n{}",
        repeated.len(),
        &repeated[..repeated.len().min(5)],
        rt.log_text()
            .lines()
            .filter(|l| l.contains("heckpoint") || l.contains("esum"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let deletes = committed.iter().filter(|c| c.2 == 'd').count();
    let tombstones = recs.iter().filter(|r| r.value.is_none()).count();
    assert_eq!(tombstones, deletes, "one tombstone per delete");
}
