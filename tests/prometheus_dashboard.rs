//! The dashboard and the alert rules against a real Prometheus (Debian's package, installed by
//! `scripts/test`): rowtide runs end to end (MariaDB → Kafka, a snapshot then streaming), a
//! private Prometheus on a free port scrapes its `/metrics` every second with
//! `deploy/prometheus/rowtide-rules.yml` loaded, `promtool check rules` accepts the rules,
//! every rule evaluates without error, and every PromQL expression of every panel of
//! `deploy/grafana/rowtide.json` returns data from `/api/v1/query` once changes have flowed.
//! The Debezium-named metrics read back through Prometheus match what the test did.
//!
//! Under `CI` a missing `prometheus`/`promtool` is a failure, not a skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::poll::poll_until_async;
use common::proc::{Process, Rowtide, Setup};
use mysql_async::prelude::Queryable;

/// The events on the captured table: 3 snapshot rows, 20 inserts, 2 updates, 1 delete.
const EVENTS_ON_T: usize = 3 + 20 + 2 + 1;

/// A check of a metric's value.
type Check = fn(f64) -> bool;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `prometheus` and `promtool`, or `None` outside CI when they are not installed.
fn prometheus_tools() -> Option<(String, String)> {
    let found = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found("prometheus") && found("promtool") {
        return Some(("prometheus".into(), "promtool".into()));
    }
    let msg = "prometheus/promtool are not installed (scripts/test installs Debian's prometheus)";
    assert!(!common::in_ci(), "{msg}");
    eprintln!("SKIPPED: {msg}");
    None
}

/// Every `expr` of every panel, with Grafana's variables replaced as Grafana would for
/// "All instances" and a 1 s scrape interval.
fn dashboard_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo("deploy/grafana/rowtide.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("every target has an expr");
            let expr = expr
                .replace("$__rate_interval", "30s")
                .replace("$instance", ".*");
            let title = panel["title"].as_str().unwrap_or("?").to_string();
            out.push((title, expr));
        }
    }
    out
}

/// Runs an instant query; the result vector (an error names the expression).
async fn query(
    client: &reqwest::Client,
    base: &str,
    expr: &str,
) -> Result<Vec<serde_json::Value>, String> {
    let r = client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .map_err(|e| format!("{expr}: {e}"))?;
    let body: serde_json::Value = r.json().await.map_err(|e| format!("{expr}: {e}"))?;
    if body["status"] != "success" {
        return Err(format!("{expr}: {body}"));
    }
    Ok(body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The value of the single series `expr` returns.
async fn value(client: &reqwest::Client, base: &str, expr: &str) -> Result<f64, String> {
    let res = query(client, base, expr).await?;
    res.first()
        .and_then(|s| s["value"][1].as_str()?.parse().ok())
        .ok_or_else(|| format!("{expr}: no value in {res:?}"))
}

fn start_prometheus(bin: &str, dir: &Path, metrics_port: u16) -> (Process, String) {
    let port = common::free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: rowtide\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n",
            rules = repo("deploy/prometheus/rowtide-rules.yml").display()
        ),
    )
    .unwrap();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ];
    let mut p = Process::new("prometheus", bin, args, dir);
    p.spawn();
    (p, format!("http://127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_rowtide_loads_the_rules_and_every_panel_has_data() {
    let Some(env) = common::servers() else { return };
    let Some((prometheus, promtool)) = prometheus_tools() else {
        return;
    };
    let check = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(repo("deploy/prometheus/rowtide-rules.yml"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let db = common::fresh_db(&env, "health_prom").await;
    let mut c = common::admin(&env).await;
    c.query_drop(format!("USE `{db}`")).await.unwrap();
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE ignored (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)")
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&db, dir.path());
    let metrics_port = common::free_port();
    setup.metrics_listen = format!("127.0.0.1:{metrics_port}");
    let config = setup.toml(&env).replace(
        &format!("include = [\"{db}\\\\..*\"]"),
        &format!("include = [\"{db}\\\\.t\"]"),
    );
    std::fs::write(dir.path().join("rowtide.toml"), config).unwrap();
    let mut rt = Rowtide::with_config(&dir.path().join("rowtide.toml"), dir.path());
    rt.wait_streaming(1).await;
    let (mut prom, base) = start_prometheus(&prometheus, dir.path(), metrics_port);

    // Changes flow while Prometheus scrapes: 20 committed transactions on t, and 5 on a
    // table the filter leaves out.
    for i in 10..30 {
        c.query_drop(format!("INSERT INTO t VALUES ({i}, {i})"))
            .await
            .unwrap();
    }
    for i in 0..5 {
        c.query_drop(format!("INSERT INTO ignored VALUES ({i})"))
            .await
            .unwrap();
    }
    c.query_drop("UPDATE t SET v = v + 1 WHERE id < 3")
        .await
        .unwrap();
    c.query_drop("DELETE FROM t WHERE id = 29").await.unwrap();
    c.disconnect().await.ok();
    common::kafka::wait_for_async(
        &env.kafka_brokers,
        &[setup.topic("t")],
        Duration::from_secs(60),
        "the snapshot and the changes in Kafka",
        |r| r.len() >= EVENTS_ON_T,
    )
    .await;

    let client = reqwest::Client::new();
    let queries = dashboard_queries();
    assert!(
        queries.len() >= 20,
        "the dashboard has its panels: {queries:?}"
    );
    for (title, expr) in &queries {
        let what = format!("data for panel \"{title}\": {expr}");
        poll_until_async(
            &what,
            Duration::from_secs(90),
            Duration::from_secs(1),
            async || match query(&client, &base, expr).await? {
                r if r.is_empty() => Err(format!(
                    "empty result\nprometheus log:\n{}",
                    prom.log_tail(5)
                )),
                r => Ok(r),
            },
        )
        .await;
    }

    debezium_metrics_read_back(&client, &base).await;
    rules_loaded_and_quiet(&client, &base).await;
    prom.stop();
    assert!(rt.stop().success());
}

/// The Debezium-named metrics, as Prometheus stored them, match what the test did.
async fn debezium_metrics_read_back(client: &reqwest::Client, base: &str) {
    let (client, base) = (client.clone(), base.to_string());
    let wanted: [(&str, Check); 8] = [
        ("rowtide_connected", |v| v == 1.0),
        ("rowtide_snapshot_completed", |v| v == 1.0),
        ("rowtide_snapshot_running", |v| v == 0.0),
        ("rowtide_snapshot_aborted", |v| v == 0.0),
        ("rowtide_snapshot_total_tables", |v| v == 1.0),
        ("rowtide_snapshot_remaining_tables", |v| v == 0.0),
        // 20 inserts, the update and the delete on t, 5 inserts on the other table.
        ("rowtide_committed_transactions_total", |v| v >= 27.0),
        ("rowtide_number_of_events_filtered_total", |v| v >= 5.0),
    ];
    for (name, ok) in wanted {
        poll_until_async(
            name,
            Duration::from_secs(30),
            Duration::from_secs(1),
            async || {
                let v = value(&client, &base, name).await?;
                if ok(v) {
                    Ok(())
                } else {
                    Err(format!("{name} = {v}"))
                }
            },
        )
        .await;
    }
    let seen = value(&client, &base, "sum(rowtide_source_events_total)")
        .await
        .unwrap();
    assert_eq!(seen, EVENTS_ON_T as f64, "TotalNumberOfEventsSeen");
    let behind = value(&client, &base, "rowtide_milliseconds_behind_source")
        .await
        .unwrap();
    assert!((0.0..60_000.0).contains(&behind), "{behind}");
    let since = value(&client, &base, "rowtide_milliseconds_since_last_event")
        .await
        .unwrap();
    assert!(since >= 0.0, "an event was read: {since}");
    let info = query(&client, &base, "rowtide_build_info").await.unwrap();
    assert_eq!(
        info[0]["metric"]["version"],
        env!("CARGO_PKG_VERSION"),
        "{info:?}"
    );
    let rss = value(&client, &base, "process_resident_memory_bytes")
        .await
        .unwrap();
    assert!(rss > 1e6, "{rss}");
}

/// Every rule of the file is loaded and evaluates without error; none fires on a healthy
/// pipeline.
async fn rules_loaded_and_quiet(client: &reqwest::Client, base: &str) {
    let rules: serde_json::Value = client
        .get(format!("{base}/api/v1/rules"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let loaded: Vec<&serde_json::Value> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(loaded.len(), 8, "{rules}");
    for r in &loaded {
        assert_eq!(r["health"], "ok", "rule {} evaluates: {r}", r["name"]);
        assert_eq!(
            r["state"], "inactive",
            "rule {} does not fire: {r}",
            r["name"]
        );
    }
}
