//! Hot-standby failover (`[ha] group`) through the real binary, twice, against the real
//! MariaDB and Kafka: two `rowtide run` with the same group, source and state topic.
//!
//! - `standby_is_ready_and_a_graceful_stop_hands_over`: the second instance stands by
//!   (`rowtide_ha_active` 0, `/healthz` 200 "ready: standby … [ha: standby]") while the first
//!   is active (1, "[ha: active]"); a SIGTERM of the active one hands over at once;
//! - `kill_9_of_the_active_one_fails_over_and_loses_nothing`: continuous writes, `kill -9` of
//!   the active instance, the standby takes over from the committed state; every committed
//!   row is in Kafka and equals the database's; the takeover time is measured and printed;
//! - `a_paused_active_one_resumed_after_takeover_writes_nothing`: SIGSTOP of the active
//!   instance until the standby took over, then SIGCONT: not one more record reaches the
//!   topic (counted with `read_uncommitted`, so even aborted records would count), the
//!   resumed instance logs that it was fenced and reports standby;
//! - `a_group_without_the_kafka_store_is_refused`: exit 2 at load, naming the keys;
//! - `check_verifies_the_failover_groups_acls`: `rowtide check` reports the group's members,
//!   and fails, naming the ACL to grant, for a principal without READ/DESCRIBE on the group
//!   (the SASL_SSL listener with its authorizer; ACLs added with kafka-acls).
//!
//! Fixed seeds; every wait is bounded; each test ≲ 1 min.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::kafka::Record;
use common::poll::poll_until_async;
use common::proc::Rowtide;
use mysql_async::prelude::Queryable;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};

/// One test's two instances and what they share.
struct Case {
    env: common::TestEnv,
    db: String,
    prefix: String,
    group: String,
    server_id: u32,
    dir: tempfile::TempDir,
}

/// One instance: its process, its metrics port.
struct Instance {
    rt: Rowtide,
    port: u16,
    name: &'static str,
}

impl Case {
    async fn new(name: &str) -> Option<Self> {
        let env = common::servers()?;
        let db = common::fresh_db(&env, name).await;
        let mut c = common::admin(&env).await;
        c.query_drop(format!(
            "CREATE TABLE `{db}`.t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL); \
             INSERT INTO `{db}`.t VALUES (0, 0)"
        ))
        .await
        .unwrap();
        c.disconnect().await.ok();
        Some(Case {
            prefix: format!("ha{}", db.replace('_', "")),
            group: common::unique("g"),
            server_id: common::server_id(),
            dir: tempfile::tempdir().unwrap(),
            env,
            db,
        })
    }

    fn topic(&self) -> String {
        format!("{}.{}.t", self.prefix, self.db)
    }

    /// Starts instance `name` (its own directory and metrics port, the shared group).
    fn start(&self, name: &'static str) -> Instance {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let port = common::free_port();
        let config = dir.join("rowtide.toml");
        std::fs::write(&config, self.toml(&dir, port)).unwrap();
        Instance {
            rt: Rowtide::with_config(&config, &dir),
            port,
            name,
        }
    }

    fn toml(&self, dir: &Path, port: u16) -> String {
        let e = &self.env;
        format!(
            r#"[source]
host = "{host}"
port = {mport}
user = "{user}"
password = "{password}"
server_id = {server_id}
include = ["{db}\\..*"]
heartbeat_interval_ms = 1000
read_timeout_ms = 5000
reconnect_backoff_ms = 200
reconnect_backoff_max_ms = 2000

[sink]
brokers = "{brokers}"
topic_prefix = "{prefix}"
topic_partitions = 1

[sink.kafka]
"linger.ms" = "2"

[checkpoint]
store = "kafka"
path = "{state}"
flush_interval_ms = 100

[metrics]
listen = "127.0.0.1:{port}"

[pipeline]
shutdown_timeout_secs = 10

[ha]
group = "{group}"
"#,
            host = e.mysql_host,
            mport = e.mysql_port,
            user = e.mysql_user,
            password = e.mysql_password,
            server_id = self.server_id,
            db = self.db,
            brokers = e.kafka_brokers,
            prefix = self.prefix,
            state = dir.join("state").display(),
            group = self.group,
        )
    }

    /// The records of the table's topic, `read_committed` (what a consumer sees).
    async fn records(&self) -> Vec<Record> {
        let (b, t) = (self.env.kafka_brokers.clone(), self.topic());
        tokio::task::spawn_blocking(move || read(&b, &t, "read_committed"))
            .await
            .unwrap()
    }

    /// Waits until every id of `ids` has a create (or snapshot read) in Kafka.
    async fn wait_ids(&self, ids: &BTreeSet<i64>, why: &str, logs: &[&Instance]) -> Vec<Record> {
        poll_until_async(
            why,
            Duration::from_secs(90),
            Duration::from_millis(300),
            async || {
                let recs = self.records().await;
                let have = created(&recs);
                let missing: Vec<&i64> = ids.iter().filter(|i| !have.contains_key(i)).collect();
                if missing.is_empty() {
                    return Ok(recs);
                }
                Err(format!(
                    "{} of {} ids missing, e.g. {:?}\n{}",
                    missing.len(),
                    ids.len(),
                    &missing[..missing.len().min(5)],
                    tails(logs)
                ))
            },
        )
        .await
    }

    async fn db_rows(&self) -> BTreeMap<i64, i64> {
        let mut c = common::admin(&self.env).await;
        let rows: Vec<(i64, i64)> = c
            .query(format!("SELECT id, v FROM `{}`.t", self.db))
            .await
            .unwrap();
        c.disconnect().await.ok();
        rows.into_iter().collect()
    }
}

fn tails(instances: &[&Instance]) -> String {
    instances
        .iter()
        .map(|i| format!("--- {} ---\n{}", i.name, i.rt.log_tail(25)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `after` images of creates and snapshot reads, by id (several when repeated).
fn created(recs: &[Record]) -> BTreeMap<i64, Vec<i64>> {
    let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.value.is_some()) {
        let v = r.value_json();
        if matches!(v["op"].as_str(), Some("c" | "r")) {
            let id = v["after"]["id"].as_i64().expect("an id");
            out.entry(id)
                .or_default()
                .push(v["after"]["v"].as_i64().unwrap());
        }
    }
    out
}

impl Instance {
    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap();
        let resp = client.get(url).send().await.ok()?;
        let status = resp.status().as_u16();
        Some((status, resp.text().await.ok()?))
    }

    /// `rowtide_ha_active` from `/metrics` (`None` when the endpoint does not answer).
    async fn ha_active(&self) -> Option<f64> {
        let (_, text) = self.get("/metrics").await?;
        text.lines()
            .find_map(|l| l.strip_prefix("rowtide_ha_active "))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Waits until `rowtide_ha_active` is `want`; returns how long that took.
    async fn wait_role(&self, want: f64, timeout: Duration, others: &[&Instance]) -> Duration {
        let started = Instant::now();
        let role = if want == 1.0 { "active" } else { "standby" };
        poll_until_async(
            &format!("{} to report rowtide_ha_active {want} ({role})", self.name),
            timeout,
            Duration::from_millis(100),
            async || match self.ha_active().await {
                Some(v) if v == want => Ok(()),
                other => Err(format!(
                    "rowtide_ha_active {other:?}\n{}",
                    tails(&[&[self], others].concat())
                )),
            },
        )
        .await;
        started.elapsed()
    }
}

/// Inserts rows with increasing ids (one transaction each) until `stop`; `committed` holds
/// the ids committed so far.
async fn writer(
    env: common::TestEnv,
    db: String,
    stop: Arc<AtomicBool>,
    committed: Arc<Mutex<Vec<(i64, Instant)>>>,
    seed: u64,
) {
    let mut c = common::admin(&env).await;
    let mut id = 1i64;
    let mut x = seed;
    while !stop.load(Ordering::Relaxed) {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = (x >> 40) as i64;
        c.query_drop(format!("INSERT INTO `{db}`.t VALUES ({id}, {v})"))
            .await
            .unwrap();
        committed.lock().unwrap().push((id, Instant::now()));
        id += 1;
        tokio::time::sleep(Duration::from_millis(5 + (x >> 60))).await;
    }
    c.disconnect().await.ok();
}

struct Writes {
    stop: Arc<AtomicBool>,
    committed: Arc<Mutex<Vec<(i64, Instant)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Writes {
    fn start(case: &Case, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(writer(
            case.env.clone(),
            case.db.clone(),
            stop.clone(),
            committed.clone(),
            seed,
        ));
        Writes {
            stop,
            committed,
            task,
        }
    }

    async fn finish(self) -> Vec<(i64, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let c = self.committed.lock().unwrap();
        c.clone()
    }
}

/// Every committed row exactly as in the database, at least once; returns the number of
/// repeated creates.
fn assert_kafka_equals_database(recs: &[Record], db: &BTreeMap<i64, i64>) -> usize {
    let by = created(recs);
    let lost: Vec<&i64> = db.keys().filter(|id| !by.contains_key(id)).collect();
    assert!(
        lost.is_empty(),
        "{} rows lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    for (id, v) in db {
        assert!(
            by[id].iter().all(|x| x == v),
            "id {id}: Kafka has {:?}, the database {v}",
            by[id]
        );
    }
    let extra: Vec<&i64> = by.keys().filter(|id| !db.contains_key(id)).collect();
    assert!(
        extra.is_empty(),
        "ids in Kafka but not in the database: {extra:?}"
    );
    by.values().map(|v| v.len() - 1).sum()
}

fn signal(inst: &Instance, sig: &str) {
    let pid = inst.rt.pid().expect("running");
    let st = std::process::Command::new("kill")
        .arg(sig)
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success(), "kill {sig} {pid}");
}

/// Starts `a`, waits until it is active, then starts `b` and waits until it stands by.
async fn active_and_standby(case: &Case) -> (Instance, Instance) {
    let a = case.start("a");
    a.wait_role(1.0, Duration::from_secs(60), &[]).await;
    let b = case.start("b");
    poll_until_async(
        "b to stand by, ready",
        Duration::from_secs(60),
        Duration::from_millis(200),
        async || match (b.ha_active().await, b.get("/healthz").await) {
            (Some(v), Some((200, body))) if v == 0.0 && body.contains("[ha: standby]") => Ok(()),
            other => Err(format!("{other:?}\n{}", tails(&[&b]))),
        },
    )
    .await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_is_ready_and_a_graceful_stop_hands_over() {
    let Some(case) = Case::new("hastandby").await else {
        return;
    };
    let (mut a, b) = active_and_standby(&case).await;
    case.wait_ids(&BTreeSet::from([0]), "the snapshot row", &[&a, &b])
        .await;
    let (code, body) = a.get("/healthz").await.expect("a answers /healthz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("[ha: active]"), "{body}");
    let (code, body) = b.get("/healthz").await.expect("b answers /healthz");
    assert_eq!(code, 200, "{body}");
    assert!(
        body.starts_with("ready: standby") && body.contains("[ha: standby]"),
        "{body}"
    );
    let (code, body) = b.get("/livez").await.expect("b answers /livez");
    assert_eq!(code, 200, "a standby is live: {body}");
    assert_eq!(a.ha_active().await, Some(1.0));
    assert_eq!(b.ha_active().await, Some(0.0));
    // A graceful stop leaves the group: the standby takes over without waiting for a
    // session timeout.
    let stopped = Instant::now();
    let st = a.rt.stop();
    assert!(st.success(), "a stopped with {st}:\n{}", a.rt.log_tail(30));
    b.wait_role(1.0, Duration::from_secs(30), &[]).await;
    eprintln!(
        "graceful handover: b active {:.1} s after SIGTERM to a",
        stopped.elapsed().as_secs_f64()
    );
    let mut c = common::admin(&case.env).await;
    c.query_drop(format!("INSERT INTO `{}`.t VALUES (1, 1)", case.db))
        .await
        .unwrap();
    c.disconnect().await.ok();
    let recs = case
        .wait_ids(
            &BTreeSet::from([0, 1]),
            "the row written after the handover",
            &[&b],
        )
        .await;
    let repeats = assert_kafka_equals_database(&recs, &case.db_rows().await);
    assert_eq!(repeats, 0, "a graceful handover repeats nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_active_one_fails_over_and_loses_nothing() {
    let Some(case) = Case::new("hakill").await else {
        return;
    };
    let (mut a, b) = active_and_standby(&case).await;
    let writes = Writes::start(&case, 0x4a11_0001);
    tokio::time::sleep(Duration::from_secs(3)).await;
    a.rt.kill9();
    let killed = Instant::now();
    let to_active = b.wait_role(1.0, Duration::from_secs(60), &[]).await;
    // The first row committed after the kill, in Kafka: changes flow again.
    let first_after = poll_until_async(
        "a row committed after the kill",
        Duration::from_secs(10),
        Duration::from_millis(20),
        async || {
            let c = writes.committed.lock().unwrap();
            c.iter()
                .find(|(_, at)| *at > killed)
                .map(|(id, _)| *id)
                .ok_or_else(|| "none yet".to_string())
        },
    )
    .await;
    case.wait_ids(
        &BTreeSet::from([first_after]),
        "the first row after the kill",
        &[&b],
    )
    .await;
    let flowing = killed.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let committed = writes.finish().await;
    let ids: BTreeSet<i64> = committed.iter().map(|(id, _)| *id).collect();
    let recs = case.wait_ids(&ids, "every committed row", &[&b]).await;
    let repeats = assert_kafka_equals_database(&recs, &case.db_rows().await);
    eprintln!(
        "failover after kill -9: standby active after {:.1} s, changes flowing again after \
         {:.1} s; {} rows committed under load, 0 lost, {repeats} repeated",
        to_active.as_secs_f64(),
        flowing.as_secs_f64(),
        ids.len()
    );
    assert!(
        flowing <= Duration::from_secs(60),
        "takeover took {flowing:?}"
    );
    // Under [ha] the records are written in transactions (exactly-once): a read_committed
    // consumer sees no repeat across the failover.
    assert_eq!(repeats, 0, "repeated rows after the failover");
    let mut b = b;
    let st = b.rt.stop();
    assert!(st.success(), "b stopped with {st}:\n{}", b.rt.log_tail(30));
}

/// Every record of the single-partition `topic` up to its end, at `isolation`
/// (`read_uncommitted` counts the records of aborted transactions too). Transaction markers
/// take offsets, so the end is the consumer's end-of-partition, not the high watermark.
fn read(brokers: &str, topic: &str, isolation: &str) -> Vec<Record> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "rowtide-tests-ha")
        .set("isolation.level", isolation)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    c.assign(&tpl).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut out = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "reading {topic} timed out");
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => out.push(Record::of(&m)),
            Some(Err(KafkaError::PartitionEOF(_))) => return out,
            // The topic may not exist yet.
            Some(Err(KafkaError::MessageConsumption(_))) => return out,
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
}

fn count_uncommitted(brokers: &str, topic: &str) -> usize {
    read(brokers, topic, "read_uncommitted").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_active_one_resumed_after_takeover_writes_nothing() {
    let Some(case) = Case::new("hazombie").await else {
        return;
    };
    let (mut a, b) = active_and_standby(&case).await;
    let writes = Writes::start(&case, 0x2013_b1e5);
    tokio::time::sleep(Duration::from_secs(3)).await;
    signal(&a, "-STOP");
    let paused = Instant::now();
    b.wait_role(1.0, Duration::from_secs(60), &[]).await;
    let took_over = paused.elapsed();
    // The new active instance writes for a while (a has records queued from before its
    // pause, and the source moved on): then no more writes, everything delivered.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let committed = writes.finish().await;
    let ids: BTreeSet<i64> = committed.iter().map(|(id, _)| *id).collect();
    case.wait_ids(&ids, "every committed row, written by b", &[&b])
        .await;
    let brokers = case.env.kafka_brokers.clone();
    let topic = case.topic();
    let (b2, t2) = (brokers.clone(), topic.clone());
    let before = tokio::task::spawn_blocking(move || count_uncommitted(&b2, &t2))
        .await
        .unwrap();
    signal(&a, "-CONT");
    let resumed = Instant::now();
    a.wait_role(0.0, Duration::from_secs(30), &[&b]).await;
    let standby_after = resumed.elapsed();
    a.rt.wait_log("fenced", 1, Duration::from_secs(20)).await;
    // Give whatever the zombie had queued every chance to land.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = tokio::task::spawn_blocking(move || count_uncommitted(&brokers, &topic))
        .await
        .unwrap();
    assert_eq!(
        after,
        before,
        "the resumed instance wrote {} records after it was replaced:\n{}",
        after as i64 - before as i64,
        tails(&[&a, &b])
    );
    a.rt.assert_alive("after it was fenced (it stands by, it does not exit)");
    let (code, body) = a.get("/healthz").await.expect("a answers /healthz");
    assert!(body.contains("[ha: standby]"), "{code} {body}");
    assert_eq!(b.ha_active().await, Some(1.0));
    let recs = case.records().await;
    let repeats = assert_kafka_equals_database(&recs, &case.db_rows().await);
    assert_eq!(repeats, 0, "repeated rows across the takeover");
    eprintln!(
        "zombie: b active {:.1} s after SIGSTOP of a; a resumed, reported standby after \
         {:.1} s and wrote 0 records; {} rows, {repeats} repeated",
        took_over.as_secs_f64(),
        standby_after.as_secs_f64(),
        ids.len()
    );
    let a_log = a.rt.log_text();
    let said = a_log_lines(&a_log);
    eprintln!("what the resumed instance logged:\n{}", said.join("\n"));
    let mut b = b;
    assert!(b.rt.stop().success());
    assert!(a.rt.stop().success());
}

/// The lines of a log about roles and fencing.
fn a_log_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("fenced")
                || l.contains("leadership")
                || l.contains("stalled")
                || l.contains("Standing by")
                || l.contains("active one")
        })
        .collect()
}

#[test]
fn a_group_without_the_kafka_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config: PathBuf = dir.path().join("rowtide.toml");
    std::fs::write(
        &config,
        "[source]\nserver_id = 7\n[sink]\nbrokers = \"127.0.0.1:1\"\n[ha]\ngroup = \"g1\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(common::proc::binary())
        .args(["run", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ha.group") && stderr.contains("store = \\\"kafka\\\"")
            || stderr.contains("store = \"kafka\""),
        "{stderr}"
    );
}

/// `kafka-acls --add` (Kafka's AclCommand from the install `scripts/env` uses) through the
/// PLAINTEXT listener, whose principal is a super user.
fn add_acl(env: &common::TestEnv, args: &[&str]) {
    let home = std::env::var("ROWTIDE_TEST_KAFKA_HOME").expect("ROWTIDE_TEST_KAFKA_HOME");
    let out = std::process::Command::new("java")
        .args([
            "-cp",
            &format!("{home}/libs/*"),
            "org.apache.kafka.tools.AclCommand",
        ])
        .args(["--bootstrap-server", &env.kafka_brokers, "--add", "--force"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kafka-acls {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `rowtide check` with `config`: its exit code and the "failover group" line.
fn check_failover_line(config: &Path) -> (Option<i32>, String, String) {
    let out = common::proc::rowtide_command(&["check"], config);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = all
        .lines()
        .find(|l| l.contains("] failover group: "))
        .unwrap_or("")
        .to_string();
    (out.status.code(), line, all)
}

/// `rowtide check` with `[ha]`: as a principal with the topic and transactional-id ACLs
/// but none on any group, the state is read (its reader's group only assigns), and the
/// "failover group" line fails and names the ACL to grant (exit 1); once READ and DESCRIBE on the group prefix are granted, every check passes
/// (`server_id` warns: the active instance uses it) and the line reports the running
/// instance as the group's member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_verifies_the_failover_groups_acls() {
    let Some(case) = Case::new("hacheck").await else {
        return;
    };
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let Some(sasl) = var("ROWTIDE_TEST_KAFKA_SASL_BROKERS") else {
        assert!(
            !common::in_ci(),
            "ROWTIDE_TEST_KAFKA_SASL_BROKERS is not set"
        );
        eprintln!("SKIPPED: ROWTIDE_TEST_KAFKA_SASL_BROKERS is not set");
        return;
    };
    let need = |n: &str| var(n).unwrap_or_else(|| panic!("{n} is not set"));
    let (user, password, ca) = (
        need("ROWTIDE_TEST_KAFKA_OUTSIDER_USER"),
        need("ROWTIDE_TEST_KAFKA_OUTSIDER_PASSWORD"),
        need("ROWTIDE_TEST_KAFKA_CA"),
    );
    let mut a = case.start("a");
    a.wait_role(1.0, Duration::from_secs(60), &[]).await;
    let group = format!("rowtide-ha-{}", case.group);

    // The super user (PLAINTEXT): the running instance is the group's one member.
    let (code, line, all) = check_failover_line(&case.dir.path().join("a/rowtide.toml"));
    assert_eq!(code, Some(0), "{all}");
    assert!(
        line.starts_with("[ OK ] failover group: ")
            && line.contains(&format!("consumer group {group}"))
            && line.contains("1 member(s)"),
        "{all}"
    );

    // The outsider through SASL_SSL, allowed its topics and transactional ids only.
    let dir = case.dir.path().join("outsider");
    std::fs::create_dir_all(&dir).unwrap();
    let toml = case.toml(&dir, common::free_port()).replace(
        &format!("brokers = \"{}\"", case.env.kafka_brokers),
        &format!("brokers = \"{sasl}\""),
    );
    let toml = toml.replace(
        "[sink.kafka]\n",
        &format!(
            "[sink.kafka]\n\"security.protocol\" = \"SASL_SSL\"\n\"sasl.mechanism\" = \
             \"SCRAM-SHA-512\"\n\"sasl.username\" = \"{user}\"\n\"sasl.password\" = \
             \"{password}\"\n\"ssl.ca.location\" = \"{ca}\"\n"
        ),
    );
    let config = dir.join("rowtide.toml");
    std::fs::write(&config, toml).unwrap();
    let principal = format!("User:{user}");
    add_acl(
        &case.env,
        &[
            "--allow-principal",
            &principal,
            "--operation",
            "All",
            "--topic",
            &case.prefix,
            "--transactional-id",
            &format!("rowtide-state-{}", case.prefix),
            "--resource-pattern-type",
            "prefixed",
        ],
    );
    let (code, line, all) = check_failover_line(&config);
    assert_eq!(code, Some(1), "{all}");
    assert!(line.starts_with("[FAIL] failover group: "), "{all}");
    assert!(
        line.contains(&format!(
            "not authorized to join consumer group {group}.check"
        )) && line.contains("--operation Read --operation Describe --group rowtide-ha-"),
        "{all}"
    );
    // Everything else passed: the failover group is the only failure.
    let failed: Vec<&str> = all.lines().filter(|l| l.contains("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{all}");

    add_acl(
        &case.env,
        &[
            "--allow-principal",
            &principal,
            "--operation",
            "Read",
            "--operation",
            "Describe",
            "--group",
            &group,
            "--resource-pattern-type",
            "prefixed",
        ],
    );
    let (code, line, all) = check_failover_line(&config);
    assert_eq!(code, Some(0), "{all}");
    assert!(
        line.starts_with("[ OK ] failover group: ")
            && line.contains(&format!("consumer group {group}"))
            && line.contains("1 member(s)")
            && line.contains(&format!("checked as {group}.check")),
        "{all}"
    );
    a.rt.assert_alive("after the checks");
}
