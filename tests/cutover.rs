//! Issue 17, item 1: cutover from Debezium with `rowtide offsets import`.
//!
//! Debezium's MariaDB connector (3.5.0.Final, Kafka Connect started by `scripts/connect`)
//! captures a table under continuous writes: transactions that mix a three-row INSERT (one
//! rows event, so Debezium's offsets point between rows), an UPDATE, a single-row INSERT and
//! rows of a table neither engine captures (events Debezium counts and rowtide must not).
//! Mid-stream the worker is killed (SIGKILL: the offset it committed lags the records it
//! published, as in a real crash), the writes go on, rowtide imports the offset and runs.
//!
//! The oracle is Debezium itself: the worker is then started again from the same offset, and
//! the changes it publishes after the restart are exactly what rowtide must have published —
//! same changes, same order. Also: no gap (every change written after Debezium started is in
//! Debezium's topic before the crash or in rowtide's), and rowtide's repeats of Debezium's
//! records are only records Debezium published after its last committed offset (a suffix of
//! what it published before the crash).
//!
//! Two stores: a distributed worker's offsets topic (`--connect-offsets`, 5 partitions, read
//! to the end) and a standalone worker's `FileOffsetBackingStore` file (`--file`, written by
//! Kafka's own class); and a connector with `include.query=true`, which counts MariaDB's
//! ANNOTATE_ROWS events (the test server writes them: `binlog_annotate_row_events` is on by
//! default). Plus the refusals seen from the command line (exit code 2, nothing stored).

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;

use common::connect::{connect_cmd, start_worker, write_worker, Worker};
use common::kafka::{read_all, wait_for_async, Record};
use common::proc::{rowtide_command, Rowtide, Setup};
use common::TestEnv;

const DEBEZIUM_MARIADB: &str = "io.debezium:debezium-connector-mariadb:3.5.0.Final";
const WAIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Store {
    Topic,
    File,
}

/// The names one test uses.
struct Names {
    db: String,
    /// Debezium's connector name and topic.prefix.
    dbz: String,
    /// rowtide's topic prefix.
    rt: String,
}

impl Names {
    fn new(db: &str) -> Self {
        let short = db.replace('_', "");
        Names {
            db: db.to_string(),
            dbz: format!("dbz{short}"),
            rt: format!("rt{short}"),
        }
    }
    fn dbz_topic(&self) -> String {
        format!("{}.{}.t", self.dbz, self.db)
    }
    fn rt_topic(&self) -> String {
        format!("{}.{}.t", self.rt, self.db)
    }
    fn offsets_topic(&self) -> String {
        format!("{}-offsets", self.dbz)
    }
}

/// Writes transactions until stopped; every change to `t` carries a unique `v` (its sequence
/// number), so each change event is identified by `(op, after.v)`.
struct Writer {
    stop: Arc<AtomicBool>,
    last: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    fn start(env: &TestEnv, db: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let last = Arc::new(AtomicU64::new(0));
        let (s, l, opts, db) = (
            stop.clone(),
            last.clone(),
            common::admin_opts(env),
            db.to_string(),
        );
        let task = tokio::spawn(async move {
            let mut c = mysql_async::Conn::new(opts)
                .await
                .expect("writer connection");
            let mut seq = 0u64;
            while !s.load(Ordering::Relaxed) {
                let (a, b, cc, d) = (seq + 1, seq + 2, seq + 3, seq + 5);
                let sql = format!(
                    "BEGIN;
                     INSERT INTO `{db}`.noise (v) VALUES ({a});
                     INSERT INTO `{db}`.t (id, v) VALUES ({a}, {a}), ({b}, {b}), ({cc}, {cc});
                     UPDATE `{db}`.t SET v = {u} WHERE id = {a};
                     INSERT INTO `{db}`.noise (v) VALUES ({b});
                     INSERT INTO `{db}`.t (id, v) VALUES ({d}, {d});
                     COMMIT",
                    u = seq + 4
                );
                c.query_drop(sql).await.expect("writer transaction");
                seq += 5;
                l.store(seq, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            c.disconnect().await.ok();
        });
        Writer { stop, last, task }
    }

    /// Stops the writes; returns the last sequence number written.
    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("writer task");
        self.last.load(Ordering::Relaxed)
    }
}

/// `(op, v)` of a change record of `t` (Debezium's envelope, with or without the schema
/// wrapper); `None` for tombstones.
fn change_of(r: &Record) -> Option<(String, u64)> {
    let v = r.value.as_ref()?;
    let v: serde_json::Value = serde_json::from_slice(v).expect("JSON value");
    let p = v.get("payload").cloned().unwrap_or(v);
    let op = p["op"].as_str()?.to_string();
    let seq = p["after"]["v"].as_u64()?;
    Some((op, seq))
}

fn changes(recs: &[Record]) -> Vec<(String, u64)> {
    recs.iter().filter_map(change_of).collect()
}

fn has_seq(recs: &[Record], seq: u64) -> bool {
    recs.iter().filter_map(change_of).any(|(_, v)| v == seq)
}

fn connector_props(env: &TestEnv, n: &Names, include_query: bool) -> String {
    format!(
        "name={dbz}
connector.class=io.debezium.connector.mariadb.MariaDbConnector
tasks.max=1
database.hostname={host}
database.port={port}
database.user={user}
database.password={password}
database.server.id={server_id}
database.ssl.mode=disable
topic.prefix={dbz}
database.include.list={db}
table.include.list={db}.t
snapshot.mode=no_data
include.schema.changes=false
schema.history.internal.store.only.captured.tables.ddl=true
schema.history.internal.kafka.bootstrap.servers={brokers}
schema.history.internal.kafka.topic={dbz}-history
include.query={include_query}
",
        dbz = n.dbz,
        db = n.db,
        host = env.mysql_host,
        port = env.mysql_port,
        user = env.admin_user,
        password = env.admin_password,
        server_id = common::server_id(),
        brokers = env.kafka_brokers,
    )
}

/// Starts (or restarts: same files, same offsets) Debezium for `store`.
fn start_debezium(
    env: &TestEnv,
    n: &Names,
    dir: &Path,
    (store, include_query): (Store, bool),
    port: u16,
) -> Worker {
    let plugin = connect_cmd(&["plugin", DEBEZIUM_MARIADB]);
    let extra = match store {
        Store::File => String::new(),
        Store::Topic => format!(
            "group.id={dbz}-group
offset.storage.topic={offsets}
offset.storage.partitions=5
offset.storage.replication.factor=1
config.storage.topic={dbz}-configs
config.storage.replication.factor=1
status.storage.topic={dbz}-status
status.storage.replication.factor=1
",
            dbz = n.dbz,
            offsets = n.offsets_topic()
        ),
    };
    let worker = write_worker(dir, &env.kafka_brokers, &plugin, port, &extra);
    if store == Store::Topic {
        // A distributed worker keeps its offsets in Kafka only.
        let text = std::fs::read_to_string(&worker).unwrap();
        let text: String = text
            .lines()
            .filter(|l| !l.starts_with("offset.storage.file.filename="))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&worker, text).unwrap();
    }
    let connector = dir.join("debezium.properties");
    std::fs::write(&connector, connector_props(env, n, include_query)).unwrap();
    start_worker(&n.dbz, port, &worker, &connector)
}

/// Kills the worker like a crash: no final offset commit.
fn crash(w: &mut Worker) {
    let pid = std::fs::read_to_string(w.run_dir.join("connect.pid")).expect("worker pid file");
    let st = std::process::Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap();
    assert!(st.success(), "kill -KILL {pid}");
    std::thread::sleep(Duration::from_millis(500));
    w.stop(); // only clears the stale pid file now
}

fn rowtide_config(env: &TestEnv, n: &Names, dir: &Path) -> PathBuf {
    let mut setup = Setup::new(&n.db, dir);
    setup.topic_prefix = n.rt.clone();
    setup.partitions = 1;
    let toml = setup.toml(env).replace(
        &format!("include = [\"{}\\\\..*\"]", n.db),
        &format!("include = [\"{}\\\\.t\"]", n.db),
    );
    assert!(
        toml.contains(&format!("{}\\\\.t", n.db)),
        "include replaced: {toml}"
    );
    let path = dir.join("rowtide.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn text(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn setup_db(env: &TestEnv) -> String {
    let db = common::fresh_db(env, "cut").await;
    let mut c = common::admin(env).await;
    c.query_drop(format!(
        "CREATE TABLE `{db}`.t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);
         CREATE TABLE `{db}`.noise (id BIGINT AUTO_INCREMENT PRIMARY KEY, v BIGINT)"
    ))
    .await
    .unwrap();
    c.disconnect().await.ok();
    db
}

async fn cutover(store: Store, include_query: bool) {
    let Some(env) = common::servers() else { return };
    let db = setup_db(&env).await;
    let n = Names::new(&db);
    let dir = tempfile::tempdir().unwrap();
    let (dbz_dir, rt_dir) = (dir.path().join("dbz"), dir.path().join("rt"));
    std::fs::create_dir_all(&dbz_dir).unwrap();
    std::fs::create_dir_all(&rt_dir).unwrap();
    let brokers = env.kafka_brokers.clone();
    let dbz_topic = vec![n.dbz_topic()];
    let rt_topic = vec![n.rt_topic()];

    // Debezium captures the table under continuous writes, then crashes mid-stream.
    let writer = Writer::start(&env, &db);
    let port = common::free_port();
    let mut worker = start_debezium(&env, &n, &dbz_dir, (store, include_query), port);
    wait_for_async(
        &brokers,
        &dbz_topic,
        WAIT,
        "Debezium's first 600 changes",
        |r| r.len() >= 600,
    )
    .await;
    crash(&mut worker);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let last = writer.finish().await;
    let before = tokio::task::spawn_blocking({
        let (b, t) = (brokers.clone(), dbz_topic.clone());
        move || read_all(&b, &t)
    })
    .await
    .unwrap();
    let d_before = changes(&before);
    assert!(!has_seq(&before, last), "the writes outlasted Debezium");

    // Import (a dry run first: it stores nothing), then run rowtide.
    let config = rowtide_config(&env, &n, &rt_dir);
    let source: Vec<String> = match store {
        Store::Topic => vec![
            "--connect-offsets".into(),
            n.offsets_topic(),
            "--brokers".into(),
            brokers.clone(),
        ],
        Store::File => vec![
            "--file".into(),
            dbz_dir.join("connect.offsets").display().to_string(),
        ],
    };
    let mut args: Vec<&str> = vec!["offsets", "import", "--connector", &n.dbz];
    args.extend(source.iter().map(String::as_str));
    let mut dry = rowtide_command(&[args.as_slice(), &["--dry-run"]].concat(), &config);
    if String::from_utf8_lossy(&dry.stderr).contains("--include-query") {
        // MariaDB annotates each statement; the offset reads two ways: say how Debezium ran.
        assert_eq!(dry.status.code(), Some(2), "{}", text(&dry));
        eprintln!("{}", text(&dry));
        args.extend([
            "--include-query",
            if include_query { "true" } else { "false" },
        ]);
        dry = rowtide_command(&[args.as_slice(), &["--dry-run"]].concat(), &config);
    }
    assert!(dry.status.success(), "dry run: {}", text(&dry));
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains("would store"),
        "{}",
        text(&dry)
    );
    let shown = rowtide_command(&["offsets", "show"], &config);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("no checkpoint"),
        "{}",
        text(&shown)
    );
    let import = rowtide_command(&args, &config);
    assert!(import.status.success(), "import: {}", text(&import));
    eprintln!("{}", text(&import));
    let wrong = rowtide_command(
        &[&args[..3], &["nosuchconnector"], &args[4..]].concat(),
        &config,
    );
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "unknown connector: {}",
        text(&wrong)
    );
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains(&n.dbz),
        "{}",
        text(&wrong)
    );

    let mut rowtide = Rowtide::with_config(&config, &rt_dir);
    let rt = wait_for_async(
        &brokers,
        &rt_topic,
        WAIT,
        "rowtide up to the last write",
        move |r| has_seq(r, last),
    )
    .await;
    rowtide.stop();
    let r = changes(&rt);

    // The oracle: Debezium restarted from the same offset.
    let mut worker = start_debezium(&env, &n, &dbz_dir, (store, include_query), port);
    let all = wait_for_async(
        &brokers,
        &dbz_topic,
        WAIT,
        "Debezium again up to the last write",
        move |r| has_seq(r, last),
    )
    .await;
    worker.stop();
    let d_after = changes(&all[before.len()..]);

    eprintln!(
        "{store:?}: Debezium published {} changes before the crash, {} after its restart; rowtide {}",
        d_before.len(),
        d_after.len(),
        r.len()
    );
    assert_eq!(
        r.first(),
        d_after.first(),
        "rowtide starts where Debezium resumes"
    );
    assert_eq!(
        r, d_after,
        "rowtide publishes exactly what Debezium would have"
    );
    // No gap: every change since Debezium started is in its topic before the crash or in rowtide's.
    let first = d_before
        .iter()
        .map(|(_, v)| *v)
        .min()
        .expect("Debezium captured changes");
    let mut seen: Vec<u64> = d_before.iter().chain(r.iter()).map(|(_, v)| *v).collect();
    seen.sort_unstable();
    seen.dedup();
    let missing: Vec<u64> = (first..=last)
        .filter(|s| seen.binary_search(s).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "changes lost in the cutover: {missing:?}"
    );
    // Repeats: a prefix of rowtide's records, a suffix of Debezium's (after its committed offset).
    let repeated = r.iter().take_while(|c| d_before.contains(c)).count();
    assert!(
        r[repeated..].iter().all(|c| !d_before.contains(c)),
        "repeats are not a prefix"
    );
    assert_eq!(
        d_before[d_before.len() - repeated..],
        r[..repeated],
        "rowtide repeats only what Debezium published after its committed offset"
    );
    eprintln!("{store:?}: rowtide repeated {repeated} changes Debezium published after its last committed offset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_from_the_connect_offsets_topic() {
    cutover(Store::Topic, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_from_a_file_offset_store() {
    cutover(Store::File, false).await;
}

/// Debezium with `include.query=true` receives (and counts) MariaDB's ANNOTATE_ROWS events,
/// which rowtide's stream does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutover_from_a_connector_with_include_query() {
    cutover(Store::File, true).await;
}

/// Compiles `tests/cutover/WriteOffsets.java` (Kafka's own `FileOffsetBackingStore` writes the
/// file) into `dir`; returns the classpath to run it with.
fn compile_writer(dir: &Path) -> String {
    let libs = connect_cmd(&["classpath"]);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cutover/WriteOffsets.java");
    let out = std::process::Command::new("javac")
        .args(["-cp", &libs, "-d"])
        .arg(dir)
        .arg(&src)
        .output()
        .expect("run javac (a JDK >= 17 is needed)");
    assert!(out.status.success(), "javac: {}", text(&out));
    format!("{libs}:{}", dir.display())
}

/// Writes an offsets file holding `pairs` (key JSON, value JSON or `null`).
fn write_offsets(classpath: &str, file: &Path, pairs: &[(String, String)]) {
    let _ = std::fs::remove_file(file);
    let mut cmd = std::process::Command::new("java");
    cmd.args(["-cp", classpath, "WriteOffsets"]).arg(file);
    for (k, v) in pairs {
        cmd.arg(k).arg(v);
    }
    let out = cmd.output().expect("run java");
    assert!(out.status.success(), "WriteOffsets: {}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_store_nothing_and_exit_2() {
    let Some(env) = common::servers() else { return };
    let db = setup_db(&env).await;
    let n = Names::new(&db);
    let dir = tempfile::tempdir().unwrap();
    let config = rowtide_config(&env, &n, dir.path());
    let classpath = compile_writer(dir.path());
    let mut c = common::admin(&env).await;
    let (file, pos): (String, u64) = {
        let row: mysql_async::Row = c.query_first("SHOW MASTER STATUS").await.unwrap().unwrap();
        (row.get(0).unwrap(), row.get(1).unwrap())
    };
    c.query_drop(format!(
        "INSERT INTO `{db}`.t (id, v) VALUES (1, 1), (2, 2); UPDATE `{db}`.t SET v = 3 WHERE id = 1"
    ))
    .await
    .unwrap();
    c.disconnect().await.ok();
    let key = |server: &str| format!("[\"{}\",{{\"server\":\"{server}\"}}]", n.dbz);
    let offsets = dir.path().join("connect.offsets");
    let import = |extra: &[&str]| {
        let f = offsets.display().to_string();
        let mut args = vec!["offsets", "import", "--file", &f, "--connector", &n.dbz];
        args.extend_from_slice(extra);
        rowtide_command(&args, &config)
    };
    let refused = |pairs: Vec<(String, String)>, extra: &[&str], reason: &str| {
        write_offsets(&classpath, &offsets, &pairs);
        let out = import(extra);
        assert_eq!(out.status.code(), Some(2), "{reason}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "expected `{reason}`: {}", text(&out));
        let shown = rowtide_command(&["offsets", "show"], &config);
        assert!(
            String::from_utf8_lossy(&shown.stdout).contains("no checkpoint"),
            "{}",
            text(&shown)
        );
    };
    let at = |extra: &str| format!("{{\"file\":\"{file}\",\"pos\":{pos}{extra}}}");
    refused(
        vec![(key(&n.dbz), at(",\"snapshot\":\"INITIAL\""))],
        &[],
        "snapshot",
    );
    refused(
        vec![(
            key(&n.dbz),
            "{\"file\":\"mariadb-bin.999999\",\"pos\":4}".into(),
        )],
        &[],
        "not on the server",
    );
    refused(
        vec![(
            key(&n.dbz),
            at(",\"gtids\":\"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5\""),
        )],
        &[],
        "MySQL",
    );
    refused(vec![(key(&n.dbz), "null".into())], &[], "deleted");
    refused(
        vec![(key(&n.dbz), at(",\"event\":400,\"row\":1"))],
        &[],
        "events",
    );
    refused(
        vec![(key(&n.dbz), at("")), (key("other"), at(""))],
        &[],
        "--server",
    );
    refused(
        vec![(key("x"), at(""))],
        &["--server", "y"],
        "servers found: x",
    );
    std::fs::write(&offsets, b"{\"not\": \"java\"}").unwrap();
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("FileOffsetBackingStore"),
        "{}",
        text(&out)
    );

    // The same file with a resumable offset: a dry run shows it, the import stores it.
    write_offsets(
        &classpath,
        &offsets,
        &[(key(&n.dbz), at("")), (key("other"), at(""))],
    );
    let out = import(&["--server", &n.dbz, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("would store: {file}:{pos}")),
        "{}",
        text(&out)
    );
    let out = import(&["--server", &n.dbz]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = rowtide_command(&["offsets", "show", "--json"], &config);
    let cp: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("checkpoint JSON");
    assert_eq!(cp["offset"]["binlog"], format!("{file}:{pos}"), "{cp}");
    assert_eq!(cp["offset"]["skip_rows"], 0, "{cp}");
}
