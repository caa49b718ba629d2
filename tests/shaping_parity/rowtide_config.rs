//! rowtide's side of the comparison: the configuration of one `rowtide run` per connector
//! kind — `imported`: what `rowtide import debezium` makes of the same connector
//! `.properties` Debezium runs (with rowtide's topic prefix) and a worker file naming the
//! converter of the format; or `handwritten`: the equivalent keys of docs/configuration.md
//! written by hand — plus what only the test decides (state dir, one partition per topic).
//!
//! Invariant: besides the test's own settings (`test_overrides`), every key comes from the
//! connector configuration; a property the import cannot carry over is reported.

use std::path::Path;

use super::common::proc::binary;
use super::common::TestEnv;
use super::connectors::{self, Kind};

/// The worker properties of a Kafka Connect worker writing `format` (what the import takes
/// the format and the brokers from).
fn worker_properties(env: &TestEnv, format: &str) -> String {
    let converter = |which: &str| match format {
        "json" => format!(
            "{which}=org.apache.kafka.connect.json.JsonConverter\n{which}.schemas.enable=false\n"
        ),
        "avro" => format!(
            "{which}=io.confluent.connect.avro.AvroConverter\n{which}.schema.registry.url={}\n",
            env.registry_url
        ),
        _ => format!(
            "{which}=org.apache.kafka.connect.json.JsonConverter\n{which}.schemas.enable=true\n"
        ),
    };
    format!(
        "bootstrap.servers={}\n{}{}",
        env.kafka_brokers,
        converter("key.converter"),
        converter("value.converter")
    )
}

/// Section `name` of a TOML document, created empty when absent.
fn section<'a>(doc: &'a mut toml::Table, name: &str) -> &'a mut toml::Table {
    doc.entry(name)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .expect("a TOML table")
}

/// What the test sets whatever the connector says: the state under `dir`, one partition per
/// topic (so records compare in order), quick flushes, no metrics listener.
fn test_overrides(doc: &mut toml::Table, dir: &Path) {
    let checkpoint = section(doc, "checkpoint");
    checkpoint.insert(
        "path".into(),
        dir.join("state").display().to_string().into(),
    );
    checkpoint.insert("flush_interval_ms".into(), 100.into());
    section(doc, "sink").insert("topic_partitions".into(), 1.into());
    section(doc, "metrics").insert("listen".into(), "".into());
    section(doc, "pipeline").insert("shutdown_timeout_secs".into(), 20.into());
}

/// rowtide's configuration for `kind` by `rowtide import debezium` from the connector file
/// (rowtide's prefix) and a worker file for `format`; `Err` with the import's message when
/// it exits with anything but 0 (3: a property was dropped), the TOML otherwise.
pub fn imported(
    env: &TestEnv,
    kind: Kind,
    db: &str,
    prefix: &str,
    server_id: u32,
    format: &str,
    dir: &Path,
) -> Result<String, String> {
    let connector = dir.join("connector.properties");
    let worker = dir.join("worker.properties");
    let out = dir.join("imported.toml");
    std::fs::write(
        &connector,
        connectors::properties(env, kind, db, prefix, server_id),
    )
    .unwrap();
    std::fs::write(&worker, worker_properties(env, format)).unwrap();
    let run = std::process::Command::new(binary())
        .args(["import", "debezium"])
        .arg(&connector)
        .arg("--worker")
        .arg(&worker)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run rowtide import debezium");
    if !run.status.success() {
        return Err(format!(
            "rowtide import debezium exited with {}: {}",
            run.status,
            String::from_utf8_lossy(&run.stderr).trim()
        ));
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e| format!("the imported TOML does not parse: {e}\n{text}"))?;
    test_overrides(&mut doc, dir);
    Ok(toml::to_string(&doc).unwrap())
}

/// `[events]` and its arrays for the column and key options shared by `Envelope` and `Unwrap`.
fn column_events(db: &str) -> String {
    format!(
        r#"[events]
column_exclude = ['{db}\.customers\.secret']
column_propagate_source_type = ['{db}\.customers\.(name|price)']
datatype_propagate_source_type = ['.+\.FLOAT']
message_key_columns = "{db}.orders:ref;{db}.nopk:code"
skipped_operations = ["none"]

[[events.column_mask]]
chars = 5
columns = ['{db}\.customers\.ssn']

[[events.column_mask_hash]]
algorithm = "SHA-256"
salt = "pepper"
version = "v1"
columns = ['{db}\.customers\.email']

[[events.column_mask_hash]]
algorithm = "SHA-256"
salt = "pepper"
version = "v2"
columns = ['{db}\.customers\.card']

[[events.column_truncate]]
chars = 8
columns = ['{db}\.customers\.bio']
"#
    )
}

/// The tables, `[events]`, `[heartbeat]` and `[[transforms]]` of one kind; `tombstones` is
/// `sink.tombstones_on_delete`.
fn shaping(kind: Kind, db: &str, prefix: &str) -> (String, String, bool) {
    match kind {
        Kind::Envelope => (
            format!(
                r#"include = ['{db}\..*']
exclude = ['{db}\.hb']"#
            ),
            format!(
                r#"{events}
[heartbeat]
interval_ms = 1000
action_query = "INSERT INTO {db}.hb (id, ts) VALUES (1, NOW(6)) ON DUPLICATE KEY UPDATE ts = NOW(6)"

[[transforms]]
name = "shards"
type = "io.debezium.transforms.ByLogicalTableRouter"
topic_regex = '(.*)\.shard_[0-9]+'
topic_replacement = "$1.shards"

[[transforms]]
name = "route"
type = "org.apache.kafka.connect.transforms.RegexRouter"
regex = '(.*)\.customers'
replacement = "$1.clients"
"#,
                events = column_events(db)
            ),
            true,
        ),
        Kind::Unwrap => (
            format!(
                r#"include = ['{db}\..*']
exclude = ['{db}\.(hb|outbox)']"#
            ),
            format!(
                r#"{events}
[[transforms]]
name = "unwrap"
type = "io.debezium.transforms.ExtractNewRecordState"
add_fields = "op,table,source.ts_ms"
add_headers = "db"
delete_tombstone_handling_mode = "rewrite"
"#,
                events = column_events(db)
            ),
            true,
        ),
        Kind::UnwrapMore => (
            format!(r#"include = ['{db}\.(customers|nokey|orders|fin)']"#),
            format!(
                r#"[events]
column_include = ['{db}\.customers\.(id|name|bio)', '{db}\.(nokey|orders|fin)\..*']
skipped_operations = ["none"]

[[transforms]]
name = "unwrap"
type = "io.debezium.transforms.ExtractNewRecordState"
add_fields = "op,source.ts_ms,ts_ms,source.file,source.pos,source.gtid,source.snapshot,db,source.table:tbl"
add_fields_prefix = "m_"
add_headers = "op,source.table,source.pos,table"
add_headers_prefix = "h_"
delete_tombstone_handling_mode = "rewrite-with-tombstone"
"#
            ),
            true,
        ),
        Kind::UnwrapDefault => (
            format!(r#"include = ['{db}\.(customers|nokey|orders|fin)']"#),
            r#"[[predicates]]
name = "isOrders"
type = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
pattern = '.*\.orders'

[[transforms]]
name = "changes"
type = "io.debezium.transforms.ExtractChangedRecordState"
header_changed_name = "Changed"
header_unchanged_name = "Unchanged"

[[transforms]]
name = "unwrap"
type = "io.debezium.transforms.ExtractNewRecordState"
drop_fields_header_name = "Unchanged"
predicate = "isOrders"
negate = "true"
"#
            .to_string(),
            true,
        ),
        Kind::Outbox => (
            format!(r#"include = ['{db}\.outbox']"#),
            format!(
                r#"[[transforms]]
name = "outbox"
type = "io.debezium.transforms.outbox.EventRouter"
table_expand_json_payload = "true"
table_fields_additional_placement = "type:header:eventType"
table_field_event_timestamp = "created"
route_topic_replacement = "{prefix}.${{routedByValue}}.events"
"#
            ),
            false,
        ),
    }
}

/// The whole configuration of rowtide for `kind`, capturing `db` into topics `<prefix>.…`
/// in `format`, with its state under `dir`.
pub fn handwritten(
    env: &TestEnv,
    kind: Kind,
    db: &str,
    prefix: &str,
    server_id: u32,
    format: &str,
    dir: &Path,
) -> String {
    let (tables, shaping, tombstones) = shaping(kind, db, prefix);
    let registry = if format == "avro" {
        format!("registry_url = \"{}\"\n", env.registry_url)
    } else {
        String::new()
    };
    format!(
        r#"[source]
host = "{host}"
port = {port}
user = "{user}"
password = "{password}"
server_id = {server_id}
{tables}
snapshot_mode = "initial"
heartbeat_interval_ms = 1000
read_timeout_ms = 5000
reconnect_backoff_ms = 200
reconnect_backoff_max_ms = 2000

[sink]
kind = "kafka"
brokers = "{brokers}"
topic_prefix = "{prefix}"
topic_partitions = 1
tombstones_on_delete = {tombstones}
schema_changes = false

[sink.kafka]
"linger.ms" = "2"

[format]
kind = "{format}"
{registry}
[checkpoint]
path = "{state}"
flush_interval_ms = 100

[metrics]
listen = ""

[pipeline]
shutdown_timeout_secs = 20

{shaping}"#,
        host = env.mysql_host,
        port = env.mysql_port,
        user = env.admin_user,
        password = env.admin_password,
        brokers = env.kafka_brokers,
        state = dir.join("state").display(),
    )
}
