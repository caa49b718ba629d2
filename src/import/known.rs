//! The connector properties no mapping consumed, classified: "not needed" (rowtide needs
//! no such setting, or already behaves as the value asks) or "unsupported" (rowtide has no
//! equivalent: what the property configured is lost), each with the reason.
//!
//! Invariant: a property is "not needed" only when dropping it changes nothing rowtide
//! emits; anything unknown is "unsupported".

use super::ctx::{Ctx, Origin};
use super::plan::Class;

use Class::{NotNeeded as N, Unsupported as U};

/// `(name or prefix ending in '.', class, reason)`, first match wins.
const TABLE: &[(&str, Class, &str)] = &[
    ("name", N, "the connector's name (it heads the generated file)"),
    ("connector.class", N, "source.flavor = \"auto\" (the default) detects MariaDB or MySQL from the server"),
    ("tasks.max", N, "the MariaDB/MySQL connector runs one task; so does rowtide"),
    ("schema.history.internal.", N, "rowtide keeps the table structures in its checkpoint store (checkpoint.path), not in a schema history topic"),
    ("database.history.", N, "rowtide keeps the table structures in its checkpoint store (checkpoint.path), not in a schema history topic"),
    ("database.jdbc.driver", N, "rowtide speaks the MySQL protocol itself"),
    ("database.protocol", N, "rowtide speaks the MySQL protocol itself"),
    ("database.server.id.offset", N, "used only by Debezium's legacy parallel snapshot; rowtide's snapshot connections need no server id"),
    ("connect.keep.alive.interval.ms", N, "rowtide reconnects with its own backoff (source.reconnect_backoff_ms, source.reconnect_backoff_max_ms)"),
    ("retriable.restart.connector.wait.ms", N, "rowtide restarts with its own backoff (source.reconnect_backoff_ms)"),
    ("poll.interval.ms", N, "Kafka Connect's polling of the task; rowtide hands events on as they are decoded"),
    ("max.batch.size", N, "the batch size of Kafka Connect's polling; rowtide's queues are [pipeline]"),
    ("max.queue.size", N, "the size of Debezium's internal queue; rowtide's queues are [pipeline] (source_queue, sink_queue)"),
    ("query.fetch.size", N, "rowtide streams query results with a server-side cursor"),
    ("min.row.count.to.stream.results", N, "rowtide always streams snapshot rows with a server-side cursor"),
    ("unavailable.value.placeholder", N, "MariaDB/MySQL row images are complete (binlog_row_image=FULL): no value is ever unavailable"),
    ("topic.cache.size", N, "a cache size of Debezium's topic naming"),
    ("connection.validation.timeout.ms", N, "rowtide validates connections with source.connect_timeout_ms"),
    ("executor.shutdown.timeout.ms", N, "rowtide's shutdown wait is pipeline.shutdown_timeout_secs"),
    ("config.action.reload", N, "a Kafka Connect setting: rowtide reads its configuration at start"),
    ("statistics.metrics.enabled", N, "rowtide's metrics are always on (Prometheus /metrics)"),
    ("advanced.metrics.enable", N, "rowtide's metrics are always on (Prometheus /metrics)"),
    ("offsets.storage.topic", N, "rowtide keeps its position in its checkpoint store (checkpoint.path)"),
    ("exactly.once.support", U, "only `required` maps (to sink.delivery = \"exactly_once\")"),
    ("transaction.boundary", U, "rowtide's exactly-once transactions are bounded by sink.transaction_max_ms/_records/_bytes"),
    ("errors.tolerance", U, "Kafka Connect's tolerance of converter/transform errors; rowtide's is events.failure_handling_mode (for decoding) and stops on an encoding error"),
    ("errors.", U, "Kafka Connect's error reporting (dead letter queue, error logging, retries of converters/transforms); rowtide stops on such an error"),
    ("signal.emit.failure.backoff.ms", N, "the wait between the retries of signal.emit.failure.max.retries"),
    ("signal.emit.failure.max.retries", U, "rowtide does not retry writing a watermark: the incremental snapshot pauses (streaming goes on) until a resume-snapshot signal"),
    ("signal.", U, "not a signal property of Debezium 3.5's MariaDB/MySQL connector that rowtide knows"),
    ("incremental.snapshot.", U, "not an incremental snapshot property of Debezium 3.5's MariaDB/MySQL connector that rowtide knows"),
    ("notification.", U, "rowtide sends notifications only as records of [notifications] topic (Debezium's sink channel)"),
    ("snapshot.surrogate.key", U, "not a property of Debezium's connector: Debezium takes a surrogate key per execute-snapshot signal (`surrogate-key`); rowtide honours a signal's `surrogate-key` too (`rowtide snapshot --surrogate-key`), and per table [snapshot] surrogate_keys = { \"db.table\" = \"column\" }"),
    ("snapshot.include.collection.list", U, "rowtide snapshots every captured table (source.include/exclude)"),
    ("snapshot.select.statement.overrides", U, "rowtide snapshots every row (SELECT * per table)"),
    ("snapshot.delay.ms", U, "rowtide starts the snapshot at once"),
    ("streaming.delay.ms", U, "rowtide streams at once after the snapshot"),
    ("snapshot.lock.timeout.ms", U, "rowtide has no snapshot lock timeout setting"),
    ("snapshot.tables.order.by.row.count", U, "rowtide snapshots tables in name order"),
    ("snapshot.query.mode", U, "rowtide has no custom snapshot queries"),
    ("snapshot.max.threads.multiplier", U, "rowtide reads source.snapshot_parallelism tables or key ranges (source.snapshot_range_rows) at a time"),
    ("legacy.snapshot.max.threads", U, "rowtide reads source.snapshot_parallelism tables or key ranges (source.snapshot_range_rows) at a time"),
    ("database.ssl.keystore", U, "rowtide presents no client certificate to the database"),
    ("database.ssl.truststore", U, "rowtide trusts a PEM CA file (source.tls_ca), not a Java truststore: export the CA to PEM and set source.tls_ca"),
    ("database.initial.statements", U, "rowtide runs no statements when it connects"),
    ("database.query.timeout.ms", U, "rowtide has no query timeout setting"),
    ("gtid.source.", U, "rowtide follows every GTID domain/server of the source"),
    ("binlog.buffer.size", U, "rowtide has no look-ahead buffer setting"),
    ("binlog.net.", U, "rowtide's binlog connection timeout is source.read_timeout_ms"),
    ("use.nongraceful.disconnect", U, "rowtide closes connections its own way"),
    ("converters", U, "rowtide cannot load custom converters (Java classes)"),
    ("post.processors", U, "rowtide cannot load post processors (Java classes)"),
    ("custom.metric.tags", U, "rowtide has no JMX metrics; its Prometheus metrics carry no custom tags"),
    ("custom.sanitize.pattern", U, "rowtide has no custom sanitizing of logged values"),
    ("topic.naming.strategy", U, "rowtide names topics <topic_prefix>.<db>.<table> (Debezium's default strategy)"),
    ("topic.delimiter", U, "rowtide's topic delimiter is '.' (Debezium's default)"),
    ("topic.transaction", U, "rowtide's transaction topic is <topic_prefix>.transaction (Debezium's default)"),
    ("topic.heartbeat.name", U, "rowtide's heartbeat topic is <heartbeat.topics_prefix>.<topic_prefix>"),
    ("topic.creation.", U, "rowtide sets only partitions, replication factor and cleanup.policy on the topics it creates (sink.topic_*)"),
    ("schema.name.adjustment.mode", U, "rowtide does not adjust schema names"),
    ("field.name.adjustment.mode", U, "rowtide does not adjust field names"),
    ("include.schema.comments", U, "rowtide's schema-change events carry no column comments"),
    ("event.converting.failure.handling.mode", U, "rowtide stops on a value it cannot convert"),
    ("inconsistent.schema.handling.mode", U, "rowtide stops on a table it cannot follow (see source.ddl_skip, source.ddl_reread)"),
    ("skip.messages.without.change", U, "rowtide emits every update, changed or not"),
    ("table.ignore.builtin", U, "rowtide never captures the system schemas"),
    ("source.struct.version", U, "rowtide emits the current (v2) source block"),
    ("sourceinfo.struct.maker", U, "rowtide emits the standard source block"),
    ("transaction.metadata.factory", U, "rowtide emits the standard transaction metadata"),
    ("guardrail.", U, "rowtide has no guardrail on the number of captured tables"),
    ("openlineage.", U, "rowtide emits no OpenLineage events"),
    ("queue.provider.type", U, "rowtide's queues are built in"),
    ("header.converter", U, "rowtide writes headers as SimpleHeaderConverter does"),
    ("database.", U, "a JDBC driver property; rowtide's MySQL client has no equivalent"),
];

/// Values with which a property asks for what rowtide does anyway.
const HARMLESS: &[(&str, &str, &str)] = &[
    (
        "errors.tolerance",
        "none",
        "none (stop at the first error) is what rowtide does",
    ),
    ("errors.log.enable", "false", "the default"),
    ("errors.log.include.messages", "false", "the default"),
    (
        "table.ignore.builtin",
        "true",
        "rowtide never captures the system schemas",
    ),
    ("include.schema.comments", "false", "the default"),
    ("skip.messages.without.change", "false", "the default"),
    ("schema.name.adjustment.mode", "none", "the default"),
    ("field.name.adjustment.mode", "none", "the default"),
    ("topic.delimiter", ".", "the default"),
    ("topic.transaction", "transaction", "the default"),
    (
        "topic.naming.strategy",
        "io.debezium.schema.DefaultTopicNamingStrategy",
        "the default",
    ),
    (
        "inconsistent.schema.handling.mode",
        "fail",
        "the default: rowtide stops too",
    ),
    (
        "event.converting.failure.handling.mode",
        "fail",
        "the default: rowtide stops too",
    ),
    (
        "enable.time.adjuster",
        "true",
        "rowtide maps two-digit years as MySQL and Debezium do (the default)",
    ),
    (
        "connect.keep.alive",
        "true",
        "the default: rowtide reconnects",
    ),
    (
        "header.converter",
        "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        "rowtide writes headers as SimpleHeaderConverter does",
    ),
    (
        "binlog.buffer.size",
        "0",
        "the default (no look-ahead buffer)",
    ),
    (
        "signal.emit.failure.max.retries",
        "0",
        "the default: no retry; rowtide pauses the incremental snapshot when a watermark cannot be written",
    ),
    (
        "exactly.once.support",
        "requested",
        "exactly-once is requested, not required",
    ),
];

/// Classifies every connector property no mapping consumed.
pub fn classify_rest(ctx: &mut Ctx) {
    for name in ctx.unused(Origin::Connector) {
        let value = ctx
            .peek_resolved(Origin::Connector, &name)
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if let Some((_, _, why)) = HARMLESS
            .iter()
            .find(|(n, v, _)| *n == name && v.to_ascii_lowercase() == value)
        {
            ctx.drop_prop(Origin::Connector, &name, N, *why);
            continue;
        }
        let (class, why) = match name.as_str() {
            "enable.time.adjuster" => (
                U,
                "rowtide always maps two-digit years (1–69 → 20xx, 70–99 → 19xx)",
            ),
            "connect.keep.alive" => (U, "rowtide always reconnects a lost binlog connection"),
            n => TABLE
                .iter()
                .find(|(p, _, _)| {
                    // An entry names a property and its sub-properties (`a.b` covers `a.b.c`).
                    let p = p.trim_end_matches('.');
                    n == p || n.strip_prefix(p).is_some_and(|r| r.starts_with('.'))
                })
                .map(|(_, c, w)| (*c, *w))
                .unwrap_or((
                    U,
                    "not a Debezium MariaDB/MySQL connector property rowtide knows",
                )),
        };
        ctx.drop_prop(Origin::Connector, &name, class, why);
    }
}
