//! The connector properties of signals and incremental snapshots: `signal.data.collection`
//! and the `source` / `kafka` channels → `[signals]`; `incremental.snapshot.*` and
//! `read.only` → `[snapshot]`.
//!
//! Runs after the table filters, the topic prefix and the sink's brokers are mapped: the
//! signal table is added to `source.include` when the filters leave it out (Debezium
//! always captures it), the Kafka channel's default topic is `<topic.prefix>-signal`, and
//! rowtide reads the signal topic on the sink's brokers.
//!
//! Invariant: as in `mapping`, a value is carried over only when rowtide's key means what
//! Debezium's property meant (3.5); what rowtide cannot do is dropped as unsupported with
//! the reason.

use toml::Value;

use super::ctx::{boolean, plain_list, str_array, string, Conv, Ctx, Origin};
use super::plan::Class;

const C: Origin = Origin::Connector;
const CHANNELS: &str = "signal.enabled.channels";
const COLLECTION: &str = "signal.data.collection";

/// Maps `signal.*`, `incremental.snapshot.*` and `read.only`.
pub fn map_signals(ctx: &mut Ctx, mariadb: bool) {
    // Debezium's default channel list is `source`.
    let channels = ctx
        .peek_resolved(C, CHANNELS)
        .map(|v| plain_list(&v))
        .unwrap_or_else(|| vec!["source".into()]);
    let has = |c: &str| channels.iter().any(|x| x == c);
    signal_table(ctx, has("source"));
    kafka_channel(ctx, has("kafka"));
    judge_channels(ctx);
    other_signal_props(ctx, has("file"));
    incremental(ctx);
    read_only(ctx, mariadb);
}

/// The value of a setting already planned, as a string.
fn planned<'a>(ctx: &'a Ctx, section: &str, key: &str) -> Option<&'a str> {
    ctx.plan
        .settings
        .iter()
        .find(|s| s.section == section && s.key == key)
        .and_then(|s| s.value.as_str())
}

fn planned_list(ctx: &Ctx, key: &str) -> (Vec<String>, Option<String>) {
    match ctx
        .plan
        .settings
        .iter()
        .find(|s| s.section == "source" && s.key == key)
    {
        Some(s) => (
            s.value
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            Some(s.from.clone()),
        ),
        None => (vec![], None),
    }
}

/// `signal.data.collection`: the MariaDB/MySQL connector's is `<databaseName>.<tableName>`
/// (one; the connector runs one task). With the `source` channel the table carries
/// signals; in any case incremental snapshots write their watermarks into it.
fn signal_table(ctx: &mut Ctx, source_channel: bool) {
    let set =
        ctx.map_scalar(C, COLLECTION, "signals", "table", |v| {
            let names = plain_list(v);
            let name =
                match names.as_slice() {
                    [] => return Conv::NotNeeded(
                        "empty: no signal table (Debezium's default: signaling from the database \
                     is off)"
                            .into(),
                    ),
                    [one] => one,
                    _ => return Conv::Invalid(
                        "the MariaDB/MySQL connector runs one task: Debezium permits one signal \
                     data collection"
                            .into(),
                    ),
                };
            let parts: Vec<&str> = name.split('.').collect();
            match parts.as_slice() {
                [db, table] if !db.is_empty() && !table.is_empty() => string(name),
                [_, _, _] => Conv::Unsupported(format!(
                    "`{name}` has three parts (catalog.schema.table, the form of SQL Server's and \
                 Oracle's connectors); MariaDB/MySQL tables are <databaseName>.<tableName>, so \
                 Debezium's MariaDB/MySQL connector never matches it: set [signals] table = \
                 \"db.table\""
                )),
                _ => Conv::Unsupported(format!(
                    "`{name}` is not <databaseName>.<tableName>, the form the MariaDB/MySQL \
                 connector matches: set [signals] table = \"db.table\""
                )),
            }
        });
    if set {
        capture_signal_table(ctx, source_channel);
    }
}

/// Debezium captures its signal table whatever the table filters say; rowtide reads it
/// only when `source.include` / `source.exclude` capture it, so it is added to
/// `source.include` when that leaves it out. An exclude pattern matching it cannot be
/// undone: the table is then not carried over.
fn capture_signal_table(ctx: &mut Ctx, source_channel: bool) {
    let Some(name) = planned(ctx, "signals", "table").map(str::to_string) else {
        return;
    };
    let Some((db, table)) = name.split_once('.') else {
        return;
    };
    let (include, inc_from) = planned_list(ctx, "include");
    let (exclude, exc_from) = planned_list(ctx, "exclude");
    let system = crate::model::filter::SYSTEM_SCHEMAS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(db));
    let excluded = crate::model::Filter::new(&[], &exclude).is_ok_and(|f| !f.captures(db, table));
    let refused = if system {
        Some(format!(
            "rowtide never captures the server's system schemas ({}), so it cannot read \
             signals from `{name}`: move the signal table to another database",
            crate::model::filter::SYSTEM_SCHEMAS.join(", ")
        ))
    } else if excluded {
        Some(format!(
            "Debezium captures its signal table even where the filters exclude it; rowtide \
             reads signals only from a captured table, and source.exclude (from {}) matches \
             `{name}`: narrow that exclude list, then set [signals] table = \"{name}\"",
            exc_from.unwrap_or_default()
        ))
    } else {
        None
    };
    if let Some(why) = refused {
        ctx.plan
            .settings
            .retain(|s| !(s.section == "signals" && s.key == "table"));
        ctx.drop_prop(C, COLLECTION, Class::Unsupported, why);
        return;
    }
    let captured = crate::model::Filter::new(&include, &[]).is_ok_and(|f| f.captures(db, table));
    if !captured {
        let mut pats = include;
        pats.push(format!("(?i:{})", regex::escape(&name)));
        let from = format!(
            "{} + {COLLECTION} (Debezium always captures its signal table)",
            inc_from.unwrap_or_default()
        );
        ctx.set("source", "include", str_array(&pats), from);
    }
    if !source_channel {
        ctx.set(
            "signals",
            "table",
            Value::String(name),
            format!(
                "{COLLECTION} (incremental snapshots write their watermarks into it; {CHANNELS} \
                 lacks `source`, see below)"
            ),
        );
    }
}

/// The `kafka` channel: `signal.kafka.topic` (Debezium's default `<topic.prefix>-signal`)
/// → `[signals] kafka_topic`, read on the sink's brokers with the sink's settings.
fn kafka_channel(ctx: &mut Ctx, enabled: bool) {
    let mut props = ctx.names_with_prefix(C, "signal.kafka.");
    props.extend(ctx.names_with_prefix(C, "signal.consumer."));
    if !enabled {
        for p in props {
            ctx.drop_prop(
                C,
                &p,
                Class::NotNeeded,
                format!("read only when {CHANNELS} lists `kafka`"),
            );
        }
        return;
    }
    let topic = "signal.kafka.topic";
    if ctx.has(C, topic) {
        ctx.map_scalar(C, topic, "signals", "kafka_topic", string);
    } else if let Some(prefix) = planned(ctx, "sink", "topic_prefix").map(str::to_string) {
        ctx.set(
            "signals",
            "kafka_topic",
            Value::String(format!("{prefix}-signal")),
            format!(
                "{CHANNELS} (`kafka` without {topic}: Debezium's default, <topic.prefix>-signal)"
            ),
        );
    }
    let brokers = planned(ctx, "sink", "brokers").map(str::to_string);
    ctx.judge(C, "signal.kafka.bootstrap.servers", |v| {
        same_brokers(v, brokers.as_deref())
    });
    ctx.judge(C, "signal.kafka.groupId", |_| {
        Conv::NotNeeded(
            "rowtide assigns itself partition 0 of the signal topic (no group membership, \
             nothing committed) and keeps its offset in the checkpoint"
                .into(),
        )
    });
    ctx.judge(C, "signal.kafka.poll.timeout.ms", |_| {
        Conv::NotNeeded(
            "rowtide reads the signal topic continuously, apart from the stream; how long one \
             poll waits changes no signal"
                .into(),
        )
    });
    for p in ctx.names_with_prefix(C, "signal.consumer.") {
        consumer_prop(ctx, &p, brokers.as_deref());
    }
    for p in ctx.names_with_prefix(C, "signal.kafka.") {
        if ctx.unused(C).contains(&p) {
            ctx.drop_prop(
                C,
                &p,
                Class::Unsupported,
                "not a property of Debezium's Kafka signal channel (signal.kafka.topic, \
                 .bootstrap.servers, .groupId, .poll.timeout.ms; consumer settings are \
                 signal.consumer.*)",
            );
        }
    }
}

/// rowtide reads the signal topic on the sink's brokers: the same list (in any order) is
/// not needed; another one, or one the import cannot compare, is unsupported.
fn same_brokers(v: &str, sink: Option<&str>) -> Conv {
    let norm = |s: &str| {
        let mut l: Vec<String> = plain_list(s)
            .iter()
            .map(|b| b.to_ascii_lowercase())
            .collect();
        l.sort();
        l.dedup();
        l
    };
    match sink {
        Some(b) if norm(b) == norm(v) => Conv::NotNeeded(
            "the sink's brokers (sink.brokers), where rowtide reads the signal topic".into(),
        ),
        Some(b) => Conv::Unsupported(format!(
            "rowtide reads the signal topic on the sink's brokers (sink.brokers = {b}), not on \
             another cluster: create [signals] kafka_topic there"
        )),
        None => Conv::Unsupported(
            "rowtide reads the signal topic on the sink's brokers (sink.brokers), which are \
             not known here (import with --worker, or set sink.brokers): if they are these, \
             nothing is lost"
                .into(),
        ),
    }
}

/// `signal.consumer.X`: Debezium's pass-through to its signal consumer. rowtide's signal
/// consumer connects with the sink's settings (`[sink.kafka]`), so a connection or
/// security setting is not needed when the sink's producer has the same one.
fn consumer_prop(ctx: &mut Ctx, name: &str, brokers: Option<&str>) {
    let key = &name["signal.consumer.".len()..];
    if key == "bootstrap.servers" {
        return ctx.judge(C, name, |v| same_brokers(v, brokers));
    }
    let connection = ["security.", "sasl.", "ssl."]
        .iter()
        .any(|p| key.starts_with(p));
    if !connection {
        return ctx.judge(C, name, |_| {
            Conv::NotNeeded(
                "a setting of Debezium's Java signal consumer; rowtide's reads partition 0 of \
                 the signal topic with the sink's connection settings and keeps its offset in \
                 the checkpoint"
                    .into(),
            )
        });
    }
    let sink_value = ctx
        .peek_resolved(C, &format!("producer.override.{key}"))
        .or_else(|| ctx.peek_resolved(Origin::Worker, &format!("producer.{key}")));
    ctx.judge(C, name, |v| match &sink_value {
        Some(s) if s.trim() == v.trim() => Conv::NotNeeded(format!(
            "the sink's producer has the same {key}; rowtide's signal consumer connects with \
             the sink's settings ([sink.kafka])"
        )),
        _ => Conv::Unsupported(format!(
            "rowtide's signal consumer connects with the sink's settings ([sink.kafka]), whose \
             {key} differs or is not set; it cannot be set for the signal consumer alone"
        )),
    });
}

/// `signal.enabled.channels`: `source` is `[signals] table`, `kafka` is `[signals]
/// kafka_topic`; rowtide has no JMX, file or custom channel.
fn judge_channels(ctx: &mut Ctx) {
    let table = planned(ctx, "signals", "table").is_some();
    let topic = planned(ctx, "signals", "kafka_topic").is_some();
    ctx.judge(C, CHANNELS, |v| {
        let list = plain_list(v);
        let mut lost: Vec<String> = vec![];
        let mut done: Vec<&str> = vec![];
        if list.iter().any(|c| c == "source") {
            done.push(if table {
                "`source` is [signals] table (from signal.data.collection)"
            } else {
                "`source` reads nothing without signal.data.collection (as with Debezium)"
            });
        } else if table {
            lost.push(
                "rowtide also acts on signal rows inserted into [signals] table (Debezium's \
                 disabled `source` channel ignores them): keep writers other than rowtide out \
                 of it"
                    .into(),
            );
        }
        if list.iter().any(|c| c == "kafka") {
            done.push(if topic {
                "`kafka` is [signals] kafka_topic"
            } else {
                "`kafka`: its default topic <topic.prefix>-signal needs topic.prefix"
            });
            if !topic {
                lost.push("set [signals] kafka_topic".into());
            }
        }
        let others: Vec<&String> = list
            .iter()
            .filter(|c| *c != "source" && *c != "kafka")
            .collect();
        for c in &others {
            lost.push(match c.as_str() {
                "jmx" => "rowtide has no JMX signal channel".into(),
                "file" => "rowtide has no file signal channel".into(),
                other => format!("rowtide cannot load the custom channel `{other}`"),
            });
        }
        if !others.is_empty() {
            lost.push(
                "send those signals to [signals] table or kafka_topic instead (`rowtide \
                 snapshot` does)"
                    .into(),
            );
        }
        let said = done.join("; ");
        match lost.is_empty() {
            true => Conv::NotNeeded(said),
            false if said.is_empty() => Conv::Unsupported(lost.join("; ")),
            false => Conv::Unsupported(format!("{said}; {}", lost.join("; "))),
        }
    });
}

/// The signal properties no channel consumed.
fn other_signal_props(ctx: &mut Ctx, file_channel: bool) {
    ctx.judge(C, "signal.poll.interval.ms", |_| {
        Conv::NotNeeded(
            "how often Debezium polls its signal channels; rowtide acts on a signal row as the \
             binlog delivers it and reads the signal topic continuously"
                .into(),
        )
    });
    if ctx.has(C, "signal.file") {
        let (class, why) = match file_channel {
            true => (
                Class::Unsupported,
                "rowtide has no file signal channel (see signal.enabled.channels)",
            ),
            false => (
                Class::NotNeeded,
                "read only when signal.enabled.channels lists `file`",
            ),
        };
        ctx.drop_prop(C, "signal.file", class, why);
    }
}

/// `incremental.snapshot.chunk.size`, `.allow.schema.changes`, `.watermarking.strategy`.
fn incremental(ctx: &mut Ctx) {
    ctx.map_scalar(
        C,
        "incremental.snapshot.chunk.size",
        "snapshot",
        "chunk_size",
        |v| match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Conv::Set(Value::Integer(n)),
            Ok(0) => Conv::Unsupported(
                "0 rows per chunk: rowtide's chunks hold at least one row (snapshot.chunk_size \
                 = 1024 by default)"
                    .into(),
            ),
            _ => Conv::Invalid("expected a non-negative number of rows".into()),
        },
    );
    ctx.judge(
        C,
        "incremental.snapshot.allow.schema.changes",
        |v| match boolean(v) {
            Conv::Set(Value::Boolean(true)) => Conv::NotNeeded(
                "rowtide always does this: a chunk whose table changed structure inside its \
                 window is read again"
                    .into(),
            ),
            Conv::Set(_) => Conv::NotNeeded(
                "the default; rowtide reads a chunk again when its table changed structure \
                 inside its window anyway (what `true` asks), so no setting is needed"
                    .into(),
            ),
            other => other,
        },
    );
    let read_only = ctx
        .peek_resolved(C, "read.only")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    ctx.judge(C, "incremental.snapshot.watermarking.strategy", |v| match v
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "insert_insert" => Conv::NotNeeded(
            "the default: rowtide inserts an open and a close row per chunk too".into(),
        ),
        "insert_delete" if read_only => Conv::NotNeeded(
            "read.only = true: no watermark rows are written to the signal table".into(),
        ),
        "insert_delete" => Conv::Unsupported(
            "rowtide inserts an open and a close row per chunk (insert_insert) and deletes \
                 none, so the signal table grows by two rows per chunk: delete old \
                 snapshot-window-* rows yourself, or use [snapshot] read_only = true (MariaDB)"
                .into(),
        ),
        _ => Conv::Invalid("not a value Debezium accepts (insert_insert, insert_delete)".into()),
    });
}

/// `read.only` → `[snapshot] read_only`: the watermarks are the server's
/// `Binlog_snapshot_file` / `_position`, which MariaDB (and Percona Server) report; on MySQL
/// the incremental snapshot pauses. rowtide refuses it when no signal can start a snapshot.
fn read_only(ctx: &mut Ctx, mariadb: bool) {
    let prop = "read.only";
    let Some(on) = ctx.peek_resolved(C, prop).map(|v| boolean(&v)) else {
        ctx.map_scalar(C, prop, "snapshot", "read_only", boolean);
        return;
    };
    let channel = planned(ctx, "signals", "table").is_some()
        || planned(ctx, "signals", "kafka_topic").is_some();
    match on {
        Conv::Set(Value::Boolean(true)) if !channel => ctx.drop_prop(
            C,
            prop,
            Class::NotNeeded,
            "no signal channel is configured (signal.data.collection, or `kafka` in \
             signal.enabled.channels), so no incremental snapshot can start: read-only \
             snapshots have nothing to act on (rowtide refuses read_only without one)",
        ),
        Conv::Set(Value::Boolean(true)) => {
            ctx.consume(C, prop);
            let note = if mariadb {
                "the watermarks are the server's Binlog_snapshot_file / _position: nothing is \
                 written to the source"
            } else {
                "the watermarks are the server's Binlog_snapshot_file / _position, which \
                 MariaDB and Percona Server report; on MySQL the incremental snapshot pauses \
                 (Debezium's MySQL connector uses GTIDs instead): see operations.md, \
                 read-only incremental snapshots"
            };
            ctx.set(
                "snapshot",
                "read_only",
                Value::Boolean(true),
                format!("{prop} ({note})"),
            );
        }
        _ => {
            ctx.map_scalar(C, prop, "snapshot", "read_only", boolean);
        }
    }
}
