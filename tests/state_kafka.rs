//! `checkpoint.store = "kafka"` against the real servers: the state lives only in the
//! compacted state topic, so deleting the local state directory between runs loses nothing.
//!
//! - `state_in_kafka_only`: a MINIMAL-row-metadata private MariaDB (so the schema history in
//!   the store is what decodes rows after an ALTER), rows, an ALTER TABLE, more rows, a
//!   graceful stop, the state directory deleted, more rows, a restart: every row reaches
//!   Kafka exactly once, and rows after the ALTER carry the added column;
//! - `offsets_copy_from_sled_to_kafka_resumes_there`: a run on sled, `offsets copy --to
//!   kafka`, the sled directory deleted, a run with `store = "kafka"`: it resumes at the
//!   copied position (no repeat, no loss);
//! - `kill_9_while_saving_leaves_a_consistent_state`: `kill -9` at arbitrary moments while
//!   ALTERs and rows stream (saves with a catalog in flight), then a restart decodes every
//!   row with the right columns and loses none.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use common::kafka::{self, Record};
use common::mariadb::PrivateMariadb;
use common::proc::Rowtide;

struct Case {
    m: PrivateMariadb,
    dir: tempfile::TempDir,
    brokers: String,
    prefix: String,
    config: PathBuf,
}

impl Case {
    fn new(name: &str) -> Option<Self> {
        let env = common::servers()?;
        let m = PrivateMariadb::start(&[
            "--binlog-format=ROW",
            "--binlog-row-image=FULL",
            "--binlog-row-metadata=MINIMAL",
        ]);
        m.sql(
            "CREATE DATABASE cap; \
             CREATE TABLE cap.t (id INT PRIMARY KEY, a VARCHAR(20)); \
             INSERT INTO cap.t VALUES (1, 'snap')",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let case = Case {
            m,
            brokers: env.kafka_brokers,
            prefix: common::unique(name).replace('_', ""),
            config: dir.path().join("rowtide.toml"),
            dir,
        };
        case.configure("kafka");
        Some(case)
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Writes the config with `checkpoint.store = store`.
    fn configure(&self, store: &str) {
        let body = format!(
            "[source]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"cdc\"\npassword = \"pw\"\n\
             server_id = {}\ninclude = [\"cap\\\\..*\"]\nheartbeat_interval_ms = 500\n\
             read_timeout_ms = 2000\nreconnect_backoff_ms = 200\n\
             [sink]\nbrokers = \"{}\"\ntopic_prefix = \"{}\"\ntopic_partitions = 1\n\
             [checkpoint]\nstore = \"{store}\"\npath = \"{}\"\nflush_interval_ms = 100\n\
             [metrics]\nlisten = \"\"\n",
            self.m.port,
            common::server_id(),
            self.brokers,
            self.prefix,
            self.state_dir().display()
        );
        std::fs::write(&self.config, body).unwrap();
    }

    fn start(&self) -> Rowtide {
        Rowtide::with_config(&self.config, self.dir.path())
    }

    fn records(&self) -> Vec<Record> {
        kafka::read_all(&self.brokers, &[format!("{}.cap.t", self.prefix)])
    }

    /// Waits until every id in `ids` has a create/read event; returns the events by id.
    fn wait_ids(&self, rt: &Rowtide, ids: &[i64]) -> BTreeMap<i64, Vec<serde_json::Value>> {
        common::poll::poll_until(
            "the rows in Kafka",
            Duration::from_secs(90),
            Duration::from_millis(300),
            || {
                let by = by_id(&self.records());
                if ids.iter().all(|i| by.contains_key(i)) {
                    Ok(by)
                } else {
                    let missing: Vec<_> = ids.iter().filter(|i| !by.contains_key(i)).collect();
                    Err(format!("missing {missing:?}; log:\n{}", rt.log_tail(20)))
                }
            },
        )
    }

    fn stop(&self, rt: &mut Rowtide) {
        let st = rt.stop();
        assert!(
            st.success(),
            "rowtide exited with {st}:\n{}",
            rt.log_tail(30)
        );
    }

    fn command(&self, args: &[&str]) -> std::process::Output {
        common::proc::rowtide_command(args, &self.config)
    }
}

/// The `after` images of the inserts (and snapshot reads), by id.
fn by_id(recs: &[Record]) -> BTreeMap<i64, Vec<serde_json::Value>> {
    let mut out: BTreeMap<i64, Vec<serde_json::Value>> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.value.is_some()) {
        let v = r.value_json();
        if matches!(v["op"].as_str(), Some("c" | "r")) {
            let id = v["after"]["id"].as_i64().expect("an id");
            out.entry(id).or_default().push(v["after"].clone());
        }
    }
    out
}

/// Every id in `ids` exactly once, with the whole `after` image checked by `expect`.
fn assert_once(
    by: &BTreeMap<i64, Vec<serde_json::Value>>,
    ids: &[i64],
    expect: impl Fn(i64) -> serde_json::Value,
) {
    for id in ids {
        let got = by.get(id).cloned().unwrap_or_default();
        assert_eq!(got, vec![expect(*id)], "events of id {id}");
    }
    assert_eq!(by.len(), ids.len(), "ids in Kafka: {:?}", by.keys());
}

fn insert(m: &PrivateMariadb, ids: std::ops::RangeInclusive<i64>, extra: bool) {
    let rows: Vec<String> = ids
        .map(|i| match extra {
            false => format!("({i}, 'r{i}')"),
            true => format!("({i}, 'r{i}', {})", i * 10),
        })
        .collect();
    m.sql(&format!("INSERT INTO cap.t VALUES {}", rows.join(",")))
        .unwrap();
}

fn row(id: i64, alter_from: i64) -> serde_json::Value {
    let a = if id == 1 {
        "snap".to_string()
    } else {
        format!("r{id}")
    };
    if id >= alter_from {
        serde_json::json!({"id": id, "a": a, "b": id * 10})
    } else {
        serde_json::json!({"id": id, "a": a})
    }
}

#[test]
fn state_in_kafka_only() {
    let Some(case) = Case::new("stkafka") else {
        return;
    };
    let mut rt = case.start();
    case.wait_ids(&rt, &[1]);
    insert(&case.m, 2..=5, false);
    case.m.sql("ALTER TABLE cap.t ADD COLUMN b INT").unwrap();
    insert(&case.m, 6..=10, true);
    let ids: Vec<i64> = (1..=10).collect();
    case.wait_ids(&rt, &ids);
    case.stop(&mut rt);
    // Nothing on disk: the state is the topic's.
    let _ = std::fs::remove_dir_all(case.state_dir());
    insert(&case.m, 11..=15, true);
    let shown = case.command(&["offsets", "show", "--json"]);
    assert!(shown.status.success(), "{shown:?}");
    let cp: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(cp["snapshot"]["state"], "completed", "{cp}");
    rt.spawn();
    let ids: Vec<i64> = (1..=15).collect();
    case.wait_ids(&rt, &ids);
    std::thread::sleep(Duration::from_secs(2));
    let by = by_id(&case.records());
    assert_once(&by, &ids, |id| row(id, 6));
    assert!(
        !case.state_dir().exists(),
        "store = kafka must not write the sled directory"
    );
    case.stop(&mut rt);
}

#[test]
fn offsets_copy_from_sled_to_kafka_resumes_there() {
    let Some(case) = Case::new("stcopy") else {
        return;
    };
    case.configure("sled");
    let mut rt = case.start();
    case.wait_ids(&rt, &[1]);
    insert(&case.m, 2..=4, false);
    case.m.sql("ALTER TABLE cap.t ADD COLUMN b INT").unwrap();
    insert(&case.m, 5..=6, true);
    case.wait_ids(&rt, &(1..=6).collect::<Vec<_>>());
    case.stop(&mut rt);
    let out = case.command(&["offsets", "copy", "--to", "kafka"]);
    assert!(out.status.success(), "offsets copy: {out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("copied the checkpoint") && said.contains("1 tables"),
        "{said}"
    );
    // Copying again refuses to overwrite without --force.
    let again = case.command(&["offsets", "copy", "--to", "kafka"]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    std::fs::remove_dir_all(case.state_dir()).unwrap();
    case.configure("kafka");
    insert(&case.m, 7..=9, true);
    rt.spawn();
    let ids: Vec<i64> = (1..=9).collect();
    case.wait_ids(&rt, &ids);
    std::thread::sleep(Duration::from_secs(2));
    assert_once(&by_id(&case.records()), &ids, |id| row(id, 5));
    case.stop(&mut rt);
}

#[test]
fn kill_9_while_saving_leaves_a_consistent_state() {
    let Some(case) = Case::new("stkill") else {
        return;
    };
    let mut rt = case.start();
    case.wait_ids(&rt, &[1]);
    let mut next = 2;
    // Each round: a column added (a save with the catalog), rows, and a kill -9 soon after.
    for round in 0..4 {
        case.m
            .sql(&format!(
                "ALTER TABLE cap.t ADD COLUMN c{round} INT DEFAULT {round}"
            ))
            .unwrap();
        for _ in 0..5 {
            case.m
                .sql(&format!(
                    "INSERT INTO cap.t (id, a) VALUES ({next}, 'r{next}')"
                ))
                .unwrap();
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(150 + 120 * round));
        rt.kill9();
        let _ = std::fs::remove_dir_all(case.state_dir());
        rt.spawn();
    }
    let ids: Vec<i64> = (1..next).collect();
    let by = case.wait_ids(&rt, &ids);
    // At-least-once across kill -9: repeats are allowed, losses and wrong columns are not.
    for id in &ids[1..] {
        let round = (id - 2) / 5;
        for after in &by[id] {
            let obj = after.as_object().unwrap();
            let cols: Vec<&str> = obj.keys().map(String::as_str).collect();
            let mut want = vec!["id", "a"];
            let names: Vec<String> = (0..=round).map(|r| format!("c{r}")).collect();
            want.extend(names.iter().map(String::as_str));
            assert_eq!(cols, want, "columns of id {id}: {after}");
            for r in 0..=round {
                assert_eq!(obj[&format!("c{r}")], r, "id {id}: {after}");
            }
        }
    }
    case.stop(&mut rt);
}

/// `rowtide check` reports the state topic (creatable) and transactions; a state topic that
/// exists with `cleanup.policy=delete` is refused by `check`, and by the first write, with
/// the command that fixes it.
#[test]
fn check_reports_the_state_topic_and_a_deleting_topic_is_refused() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::config::ClientConfig;

    let Some(case) = Case::new("stcheck") else {
        return;
    };
    let out = case.command(&["check"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("[ OK ] state topic:") && said.contains("the brokers accept to create it"),
        "{said}"
    );
    assert!(said.contains("[ OK ] kafka transactions:"), "{said}");
    // A topic of that name, created by someone else with a deleting policy.
    let topic = format!("{}.rowtide-state", case.prefix);
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &case.brokers)
        .create()
        .unwrap();
    let new = NewTopic::new(&topic, 1, TopicReplication::Fixed(1)).set("cleanup.policy", "delete");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let res = rt
        .block_on(admin.create_topics([&new], &AdminOptions::new()))
        .unwrap();
    assert!(res[0].is_ok(), "{res:?}");
    let out = case.command(&["check"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("[FAIL] state topic:") && said.contains("cleanup.policy is \"delete\""),
        "{said}"
    );
    let set = case.command(&["offsets", "set", "--position", "bin.000001:4"]);
    let err = String::from_utf8_lossy(&set.stderr).to_string();
    assert_eq!(set.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cleanup.policy=compact") && err.contains(&topic),
        "{err}"
    );
}
