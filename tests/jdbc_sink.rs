//! Issue 5, "a real downstream sink consumes it unchanged": rowtide's `json_schema` topics are
//! read by Debezium's own JDBC sink connector (Kafka Connect standalone, started with
//! `scripts/connect`) and written into a second database on the same MariaDB. After a
//! snapshot (decimal, date, datetime, timestamp, binary, unicode, NULLs, a composite key),
//! inserts, updates and deletes with tombstones (in a transaction and alone), and an
//! `ALTER TABLE … ADD COLUMN` followed by writes that use the new column, every target table
//! must equal its source table (full `SELECT … ORDER BY pk`, typed values).
//!
//! A primary-key change arrives as delete + tombstone + create, as with Debezium; an
//! `ADD COLUMN … NOT NULL DEFAULT …` reaches the sink with the default in the field schema,
//! as with Debezium, so the sink can add the column.
//!
//! Issue 16: the same exchange with rowtide's topics flattened by its built-in
//! `ExtractNewRecordState` (defaults: a delete becomes a value-less record the sink treats as
//! a delete, tombstones are dropped) — the form most JDBC sink deployments consume.
//!
//! Needs the servers of `scripts/env up`, Java and Maven (the test installs the Connect
//! runtime and the connector plugin through `scripts/connect`, cached after the first run).
//! Under CI anything missing is a failure.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

use common::connect::{connect_cmd, start_worker, tail, write_worker, Worker};
use common::free_port;
use common::poll::poll_until_async;
use common::proc::{Rowtide, Setup};
use common::TestEnv;

/// The newest Debezium JDBC sink on the reachable Maven Central (3.6.3.Final is not published
/// there). It bundles mariadb-java-client 3.5.3, so no driver has to be added.
const JDBC_SINK: &str = "io.debezium:debezium-connector-jdbc:3.6.0.Final";
const SYNC_TIMEOUT: Duration = Duration::from_secs(90);

/// The records rowtide writes: Debezium's envelope, or rows flattened by
/// `ExtractNewRecordState` with its defaults (Debezium's `transforms=unwrap`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Envelope,
    Flattened,
}

/// Starts `rowtide run` on `db` with `json_schema` topics named `<prefix>.<db>.<table>`, one
/// partition each, in `shape`.
fn start_rowtide(env: &TestEnv, db: &str, prefix: &str, dir: &Path, shape: Shape) -> Rowtide {
    let mut setup = Setup::new(db, dir);
    setup.topic_prefix = prefix.to_string();
    setup.format = "json_schema";
    setup.partitions = 1;
    if shape == Shape::Flattened {
        setup.extra = "\n[[transforms]]\nname = \"unwrap\"\n\
                       type = \"io.debezium.transforms.ExtractNewRecordState\"\n"
            .to_string();
    }
    Rowtide::start(env, &setup, dir)
}

/// Writes the worker and connector files and starts the worker (blocks until the connector
/// and its task are RUNNING, or panics naming the log).
fn start_sink(env: &TestEnv, dir: &Path, topics: &[String], target_db: &str) -> Worker {
    let plugin = connect_cmd(&["plugin", JDBC_SINK]);
    let name = common::unique("jdbcsink").replace('_', "-");
    let port = free_port();
    let worker = write_worker(
        dir,
        &env.kafka_brokers,
        &plugin,
        port,
        "consumer.metadata.max.age.ms=1000\n",
    );
    // nullDatabaseMeansCurrent: without it the driver's table lookup searches every database
    // and the sink takes the source's `items` for an existing target table.
    let connector = dir.join("jdbc-sink.properties");
    std::fs::write(
        &connector,
        format!(
            "# Debezium JDBC sink: rowtide's topics into {target_db}, tables named after the topic's last part
name={name}
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
tasks.max=1
topics={topics}
connection.url=jdbc:mariadb://{host}:{port}/{target_db}?nullDatabaseMeansCurrent=true
connection.username={user}
connection.password={password}
insert.mode=upsert
delete.enabled=true
primary.key.mode=record_key
schema.evolution=basic
# The sink reads record headers: SimpleHeaderConverter turns __debezium.oldkey/newkey
# (struct text, as Debezium writes them) into schemaless maps the sink cannot handle, so
# they are read as bytes, as with a Debezium source.
header.converter=org.apache.kafka.connect.converters.ByteArrayConverter
transforms=route
transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.route.regex=.*\\\\.([^.]+)
transforms.route.replacement=$1
",
            topics = topics.join(","),
            host = env.mysql_host,
            port = env.mysql_port,
            user = env.admin_user,
            password = env.admin_password,
        ),
    )
    .unwrap();
    start_worker(&name, port, &worker, &connector)
}

async fn exec(c: &mut mysql_async::Conn, sql: &str) {
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Column names of `db.table` in ordinal order.
async fn columns(c: &mut mysql_async::Conn, db: &str, table: &str) -> Vec<String> {
    c.exec(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        (db, table),
    )
    .await
    .unwrap()
}

/// Every row of `db.table` (the given columns, ordered by `order_by`), as typed values of the
/// binary protocol, so that e.g. DATETIME(3) and DATETIME(6) holding the same instant compare
/// equal. `Err` when the table does not exist (yet).
async fn rows(
    c: &mut mysql_async::Conn,
    db: &str,
    table: &str,
    cols: &[String],
    order_by: &str,
) -> Result<Vec<Vec<Value>>, String> {
    let list = cols
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT {list} FROM `{db}`.`{table}` ORDER BY {order_by}");
    let rows: Vec<Row> = c.exec(sql, ()).await.map_err(|e| e.to_string())?;
    Ok(rows.into_iter().map(Row::unwrap).collect())
}

/// The rows only in the source (`-`) and only in the target (`+`), one per line.
fn row_diff(want: &[Vec<Value>], got: &[Vec<Value>]) -> String {
    let mut out = String::new();
    for r in want.iter().filter(|r| !got.contains(r)) {
        out.push_str(&format!("  - source only: {r:?}\n"));
    }
    for r in got.iter().filter(|r| !want.contains(r)) {
        out.push_str(&format!("  + target only: {r:?}\n"));
    }
    out
}

struct Table {
    name: &'static str,
    order_by: &'static str,
}

const TABLES: &[Table] = &[
    Table {
        name: "items",
        order_by: "id",
    },
    Table {
        name: "tags",
        order_by: "item_id, tag",
    },
];

/// The first table whose target differs from its source, with the difference; `None` when
/// every target table equals its source table.
async fn table_diff(c: &mut mysql_async::Conn, src: &str, dst: &str) -> Option<String> {
    for t in TABLES {
        let cols = columns(c, src, t.name).await;
        let want = rows(c, src, t.name, &cols, t.order_by).await.unwrap();
        match rows(c, dst, t.name, &cols, t.order_by).await {
            Ok(got) if got == want => {}
            Ok(got) => return Some(format!("{}: {cols:?}\n{}", t.name, row_diff(&want, &got))),
            Err(e) => return Some(format!("{}: target not readable: {e}", t.name)),
        }
    }
    None
}

/// Polls until every target table equals its source table; panics with the difference, the
/// connector's failure and both logs otherwise.
async fn wait_in_sync(
    c: &mut mysql_async::Conn,
    src: &str,
    dst: &str,
    worker: &Worker,
    rowtide: &mut Rowtide,
    step: &str,
) {
    let t0 = Instant::now();
    let what = format!("{step}: every target table equal to its source");
    poll_until_async(
        &what,
        SYNC_TIMEOUT,
        Duration::from_millis(300),
        async || {
            let Some(diff) = table_diff(c, src, dst).await else {
                return Ok(());
            };
            if let Some(trace) = worker.failure().await {
                panic!(
                    "{step}: the JDBC sink failed:\n{trace}\nlast lines of {}:\n{}",
                    worker.log().display(),
                    tail(&worker.log(), 30)
                );
            }
            rowtide.assert_alive(&format!("during {step}"));
            Err(format!(
                "{diff}\nlast lines of {}:\n{}\nrowtide log:\n{}",
                worker.log().display(),
                tail(&worker.log(), 30),
                rowtide.log_tail(40)
            ))
        },
    )
    .await;
    eprintln!(
        "{step}: target equals source after {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// What a scenario adds to the common steps: nothing, or one case rowtide gets wrong today.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    None,
    PrimaryKeyChange,
    NotNullDefault,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_jdbc_sink_replicates_rowtide_json_schema_topics() {
    scenario(Extra::None, Shape::Envelope).await;
}

/// The JDBC sink on rowtide's flattened topics (`[[transforms]]` ExtractNewRecordState,
/// issue 16): inserts, updates, deletes and a primary-key change end as the source's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_jdbc_sink_replicates_rowtide_flattened_topics() {
    scenario(Extra::PrimaryKeyChange, Shape::Flattened).await;
}

/// Debezium turns an UPDATE that changes the primary key into a delete of the old key (with
/// its tombstone) and a create of the new one (headers `__debezium.newkey` / `.oldkey`); an
/// upserting sink relies on that to remove the old row. rowtide does the same (without the
/// headers), so the old row disappears from the target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_jdbc_sink_follows_a_primary_key_change() {
    scenario(Extra::PrimaryKeyChange, Shape::Envelope).await;
}

/// `ADD COLUMN size INT NOT NULL DEFAULT 1`: Debezium puts `"default": 1` in the field's
/// schema and the sink adds the column with that default (older rows get it, as in the
/// source). Without it the sink refuses: "Cannot ALTER table 'items' because field 'size' is
/// not optional but has no default value".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_jdbc_sink_adds_a_not_null_column_with_its_default() {
    scenario(Extra::NotNullDefault, Shape::Envelope).await;
}

/// The whole exchange, plus `extra`, with rowtide writing `shape`.
async fn scenario(extra: Extra, shape: Shape) {
    let Some(env) = common::servers() else { return };
    let t_all = Instant::now();
    let src = common::fresh_db(&env, "jdbc_src").await;
    let dst = common::fresh_db(&env, "jdbc_dst").await;
    let prefix = common::unique("jdbc").replace('_', "");
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::admin(&env).await;

    // Snapshot data: types the sink has to map (decimal, date, datetime, timestamp, binary,
    // NULLs, unicode), and a table with a composite key.
    exec(
        &mut c,
        &format!(
            "CREATE TABLE `{src}`.items (
               id INT NOT NULL PRIMARY KEY,
               name VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
               price DECIMAL(10,2) NULL,
               qty BIGINT NULL,
               ratio DOUBLE NULL,
               flag TINYINT NULL,
               born DATE NULL,
               seen DATETIME(3) NULL,
               stamp TIMESTAMP(6) NULL DEFAULT NULL,
               note TEXT NULL,
               raw VARBINARY(16) NULL
             ) ENGINE=InnoDB"
        ),
    )
    .await;
    exec(
        &mut c,
        &format!(
            "CREATE TABLE `{src}`.tags (
               item_id INT NOT NULL, tag VARCHAR(32) NOT NULL, weight INT NOT NULL,
               PRIMARY KEY (item_id, tag)
             ) ENGINE=InnoDB"
        ),
    )
    .await;
    exec(
        &mut c,
        &format!(
            "INSERT INTO `{src}`.items VALUES
               (1, 'anvil', 12.50, 3, 0.25, 1, '2020-02-29', '2021-03-04 05:06:07.891',
                '2022-01-02 03:04:05.123456', 'heavy', X'00FF10'),
               (2, 'bolt ünïcødé ✓', -0.01, -9007199254740993, -1.5e300, -128, '1970-01-01',
                '1999-12-31 23:59:59.999', '2038-01-19 03:14:07.000001', NULL, X''),
               (3, 'cog', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        ),
    )
    .await;
    exec(
        &mut c,
        &format!("INSERT INTO `{src}`.tags VALUES (1, 'metal', 5), (1, 'tool', 2), (3, 'gear', 1)"),
    )
    .await;

    let t_rowtide = Instant::now();
    let mut rowtide = start_rowtide(&env, &src, &prefix, dir.path(), shape);
    let topics: Vec<String> = TABLES
        .iter()
        .map(|t| format!("{prefix}.{src}.{}", t.name))
        .collect();
    let t_connect = Instant::now();
    let worker = {
        let (env, dir, dst) = (env.clone(), dir.path().to_path_buf(), dst.clone());
        tokio::task::spawn_blocking(move || start_sink(&env, &dir, &topics, &dst))
            .await
            .unwrap()
    };
    eprintln!(
        "Connect worker with the JDBC sink RUNNING in {:.1} s (rowtide started {:.1} s ago)",
        t_connect.elapsed().as_secs_f64(),
        t_rowtide.elapsed().as_secs_f64()
    );
    let mut worker = worker;
    wait_in_sync(&mut c, &src, &dst, &worker, &mut rowtide, "snapshot").await;

    // Streaming: inserts, updates, a primary-key change, deletes (each followed by a
    // tombstone), in one transaction and as single statements.
    exec(&mut c, "START TRANSACTION").await;
    exec(
        &mut c,
        &format!(
            "INSERT INTO `{src}`.items (id, name, price, qty, born, seen, stamp, note, raw) VALUES
               (4, 'drill', 99999999.99, 1, '2024-06-30', '2024-06-30 12:00:00.5',
                '2024-06-30 12:00:00', 'new', X'DEADBEEF'),
               (5, 'emery', 0.00, 0, '9999-12-31', '9999-12-31 23:59:59.999', NULL, '', NULL)"
        ),
    )
    .await;
    exec(
        &mut c,
        &format!("UPDATE `{src}`.items SET price = price * 2, note = 'doubled' WHERE id IN (1, 2)"),
    )
    .await;
    exec(
        &mut c,
        &format!("INSERT INTO `{src}`.tags VALUES (4, 'power', 9), (5, 'grit', 3)"),
    )
    .await;
    exec(&mut c, "COMMIT").await;
    exec(
        &mut c,
        &format!("DELETE FROM `{src}`.tags WHERE item_id = 3"),
    )
    .await;
    exec(&mut c, &format!("DELETE FROM `{src}`.items WHERE id = 3")).await;
    if extra == Extra::PrimaryKeyChange {
        exec(
            &mut c,
            &format!("UPDATE `{src}`.tags SET tag = 'hardware' WHERE item_id = 1 AND tag = 'tool'"),
        )
        .await;
    } else {
        exec(
            &mut c,
            &format!("UPDATE `{src}`.tags SET weight = 7 WHERE item_id = 1 AND tag = 'tool'"),
        )
        .await;
    }
    exec(
        &mut c,
        &format!("UPDATE `{src}`.items SET qty = NULL, flag = 0, raw = NULL WHERE id = 1"),
    )
    .await;
    wait_in_sync(&mut c, &src, &dst, &worker, &mut rowtide, "streaming").await;

    // Schema evolution: a new column, then writes that use it.
    exec(
        &mut c,
        &format!("ALTER TABLE `{src}`.items ADD COLUMN color VARCHAR(16) NULL"),
    )
    .await;
    exec(
        &mut c,
        &format!(
            "INSERT INTO `{src}`.items (id, name, color) VALUES (6, 'file', 'red'), (7, 'gauge', NULL)"
        ),
    )
    .await;
    exec(
        &mut c,
        &format!("UPDATE `{src}`.items SET color = 'blue' WHERE id IN (1, 4)"),
    )
    .await;
    exec(&mut c, &format!("DELETE FROM `{src}`.items WHERE id = 5")).await;
    if extra == Extra::NotNullDefault {
        // Rows written before it get the default in the source without any binlog event, so
        // the sink must add the column with the same default.
        exec(
            &mut c,
            &format!("ALTER TABLE `{src}`.items ADD COLUMN size INT NOT NULL DEFAULT 1"),
        )
        .await;
        exec(
            &mut c,
            &format!("UPDATE `{src}`.items SET size = 3 WHERE id = 6"),
        )
        .await;
    }
    wait_in_sync(
        &mut c,
        &src,
        &dst,
        &worker,
        &mut rowtide,
        "after ADD COLUMN",
    )
    .await;

    let status = rowtide.stop();
    assert!(
        status.success(),
        "rowtide exited with {status} after SIGTERM; log:\n{}",
        rowtide.log_tail(40)
    );
    worker.stop();
    // keep the worker's run dir only when the test fails (for its log)
    let _ = std::fs::remove_dir_all(&worker.run_dir);
    for db in [&src, &dst] {
        exec(&mut c, &format!("DROP DATABASE `{db}`")).await;
    }
    c.disconnect().await.ok();
    eprintln!("test wall time {:.1} s", t_all.elapsed().as_secs_f64());
}
