//! Import of signals (`signal.*`) and incremental snapshots (`incremental.snapshot.*`,
//! `read.only`).

use super::*;

const MYSQL: (&str, &str) = (
    "connector.class",
    "io.debezium.connector.mysql.MySqlConnector",
);

fn import_err(connector: &[(&str, &str)]) -> Error {
    import(props(connector), BTreeMap::new(), Box::new(|_| None), "t").unwrap_err()
}

#[test]
fn the_signal_table_is_signals_table_and_captured() {
    let (o, c) = run(&[
        MARIADB,
        ("topic.prefix", "dbserver1"),
        ("database.include.list", "inventory"),
        ("signal.data.collection", "ops.debezium_signal"),
        ("incremental.snapshot.chunk.size", "2048"),
    ]);
    assert_eq!(o.exit_code(), 0, "{}", o.toml);
    assert_eq!(c.signals.table.as_deref(), Some("ops.debezium_signal"));
    assert!(c.signals.kafka_topic.is_none());
    assert_eq!(c.snapshot.chunk_size, 2048);
    // Debezium captures its signal table whatever the filters say: so must rowtide.
    let f = crate::model::Filter::new(&c.source.include, &c.source.exclude).unwrap();
    assert!(
        f.captures("ops", "debezium_signal"),
        "{:?}",
        c.source.include
    );
    assert!(f.captures("inventory", "orders"));
    assert!(!f.captures("ops", "other"));
    assert!(
        o.toml.contains(
            "# from database.include.list (Debezium matches whole names, case-insensitively: \
             (?i:…)) + signal.data.collection (Debezium always captures its signal table)\n"
        ),
        "{}",
        o.toml
    );
    assert!(
        o.toml
            .contains("[signals]\n# from signal.data.collection\n"),
        "{}",
        o.toml
    );
    // Already captured: the filters stay as they are.
    let (_, c) = run(&[
        ("database.include.list", "inventory"),
        ("signal.data.collection", "inventory.debezium_signal"),
    ]);
    assert_eq!(c.source.include, vec![r"(?i:inventory)\..*"]);
}

#[test]
fn an_excluded_or_malformed_signal_table_is_reported() {
    let (o, c) = run(&[
        ("table.exclude.list", r"ops\..*"),
        ("signal.data.collection", "ops.debezium_signal"),
    ]);
    assert!(c.signals.table.is_none(), "{}", o.toml);
    let d = dropped(&o, "signal.data.collection");
    assert_eq!(d.class, Class::Unsupported);
    assert!(d.reason.contains("table.exclude.list"), "{}", d.reason);
    let (o, c) = run(&[("signal.data.collection", "db1.dbo.debezium_signal")]);
    assert!(c.signals.table.is_none());
    let d = dropped(&o, "signal.data.collection");
    assert_eq!(d.class, Class::Unsupported);
    assert!(d.reason.contains("three parts"), "{}", d.reason);
    // A system schema is never captured; the include list must not shrink to the table.
    let (o, c) = run(&[("signal.data.collection", "mysql.debezium_signal")]);
    assert!(c.signals.table.is_none() && c.source.include.is_empty());
    let d = dropped(&o, "signal.data.collection");
    assert!(d.reason.contains("system schemas"), "{}", d.reason);
    let (o, _) = run(&[("signal.data.collection", "debezium_signal")]);
    assert_eq!(
        dropped(&o, "signal.data.collection").class,
        Class::Unsupported
    );
    // One task: Debezium refuses a list.
    let e = import_err(&[("signal.data.collection", "a.s1,b.s2")]);
    assert!(e.to_string().contains("signal.data.collection"), "{e}");
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn the_kafka_channel_is_signals_kafka_topic() {
    let worker = [("bootstrap.servers", "k1:9092,k2:9092")];
    let (o, c) = run_with(
        &[
            ("topic.prefix", "dbserver1"),
            ("signal.enabled.channels", "source,kafka"),
            ("signal.data.collection", "inventory.debezium_signal"),
            ("signal.kafka.topic", "dbz-signals"),
            ("signal.kafka.bootstrap.servers", " k2:9092, K1:9092"),
            ("signal.kafka.groupId", "g"),
            ("signal.kafka.poll.timeout.ms", "100"),
            ("signal.poll.interval.ms", "1000"),
            ("signal.consumer.max.poll.records", "10"),
        ],
        &worker,
    );
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert_eq!(c.signals.kafka_topic.as_deref(), Some("dbz-signals"));
    assert_eq!(
        c.signals.table.as_deref(),
        Some("inventory.debezium_signal")
    );
    for p in [
        "signal.enabled.channels",
        "signal.kafka.bootstrap.servers",
        "signal.kafka.groupId",
        "signal.kafka.poll.timeout.ms",
        "signal.poll.interval.ms",
        "signal.consumer.max.poll.records",
    ] {
        assert_eq!(dropped(&o, p).class, Class::NotNeeded, "{p}");
    }
    // Without signal.kafka.topic: Debezium's default, <topic.prefix>-signal.
    let (o, c) = run(&[
        ("topic.prefix", "dbserver1"),
        ("signal.enabled.channels", "kafka"),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert_eq!(c.signals.kafka_topic.as_deref(), Some("dbserver1-signal"));
    assert!(c.signals.table.is_none());
    // The default channel list (source) reads no topic.
    let (o, c) = run(&[
        ("topic.prefix", "dbserver1"),
        ("signal.kafka.topic", "dbz-signals"),
    ]);
    assert!(c.signals.kafka_topic.is_none());
    assert_eq!(dropped(&o, "signal.kafka.topic").class, Class::NotNeeded);
}

#[test]
fn signals_rowtide_cannot_read_are_unsupported() {
    // Another cluster than the sink's.
    let (o, c) = run_with(
        &[
            ("signal.enabled.channels", "kafka"),
            ("signal.kafka.topic", "sig"),
            ("signal.kafka.bootstrap.servers", "other:9092"),
            ("signal.consumer.security.protocol", "SASL_SSL"),
        ],
        &[("bootstrap.servers", "k1:9092")],
    );
    assert_eq!(c.signals.kafka_topic.as_deref(), Some("sig"));
    assert_eq!(o.exit_code(), EXIT_UNSUPPORTED);
    let d = dropped(&o, "signal.kafka.bootstrap.servers");
    assert_eq!(d.class, Class::Unsupported);
    assert!(d.reason.contains("k1:9092"), "{}", d.reason);
    assert_eq!(
        dropped(&o, "signal.consumer.security.protocol").class,
        Class::Unsupported
    );
    // The same security setting as the sink's producer: not needed.
    let (o, _) = run(&[
        ("signal.enabled.channels", "kafka"),
        ("signal.kafka.topic", "sig"),
        ("producer.override.security.protocol", "SASL_SSL"),
        ("signal.consumer.security.protocol", "SASL_SSL"),
    ]);
    assert_eq!(
        dropped(&o, "signal.consumer.security.protocol").class,
        Class::NotNeeded
    );
    // JMX, file and custom channels.
    let (o, _) = run(&[
        ("signal.enabled.channels", "source,jmx,file,my-channel"),
        ("signal.data.collection", "inventory.sig"),
        ("signal.file", "/tmp/signals.txt"),
    ]);
    let d = dropped(&o, "signal.enabled.channels");
    assert_eq!(d.class, Class::Unsupported);
    for w in ["JMX", "file", "`my-channel`", "[signals] table (from"] {
        assert!(d.reason.contains(w), "{w}: {}", d.reason);
    }
    assert_eq!(dropped(&o, "signal.file").class, Class::Unsupported);
    // A signal table without the source channel: rowtide still acts on rows inserted there.
    let (o, c) = run(&[
        ("signal.enabled.channels", "kafka"),
        ("signal.kafka.topic", "sig"),
        ("signal.data.collection", "inventory.sig"),
    ]);
    assert_eq!(c.signals.table.as_deref(), Some("inventory.sig"));
    let d = dropped(&o, "signal.enabled.channels");
    assert_eq!(d.class, Class::Unsupported);
    assert!(d.reason.contains("ignores them"), "{}", d.reason);
}

#[test]
fn incremental_snapshot_options() {
    let (o, c) = run(&[
        ("signal.data.collection", "inventory.sig"),
        ("incremental.snapshot.allow.schema.changes", "true"),
        (
            "incremental.snapshot.watermarking.strategy",
            "INSERT_INSERT",
        ),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert_eq!(c.snapshot.chunk_size, 1024);
    for p in [
        "incremental.snapshot.allow.schema.changes",
        "incremental.snapshot.watermarking.strategy",
    ] {
        assert_eq!(dropped(&o, p).class, Class::NotNeeded, "{p}");
    }
    let (o, _) = run(&[
        ("signal.data.collection", "inventory.sig"),
        (
            "incremental.snapshot.watermarking.strategy",
            "insert_delete",
        ),
        ("incremental.snapshot.chunk.size", "0"),
    ]);
    assert_eq!(
        dropped(&o, "incremental.snapshot.watermarking.strategy").class,
        Class::Unsupported
    );
    assert_eq!(
        dropped(&o, "incremental.snapshot.chunk.size").class,
        Class::Unsupported
    );
    for bad in [
        (
            "incremental.snapshot.watermarking.strategy",
            "delete_delete",
        ),
        ("incremental.snapshot.allow.schema.changes", "yes"),
        ("incremental.snapshot.chunk.size", "-1"),
    ] {
        let e = import_err(&[bad]);
        assert!(e.to_string().contains(bad.0), "{e}");
    }
}

#[test]
fn read_only_incremental_snapshots() {
    let (o, c) = run(&[
        MARIADB,
        ("topic.prefix", "x"),
        ("signal.enabled.channels", "kafka"),
        ("read.only", "true"),
        (
            "incremental.snapshot.watermarking.strategy",
            "insert_delete",
        ),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert!(c.snapshot.read_only);
    assert_eq!(c.signals.kafka_topic.as_deref(), Some("x-signal"));
    assert!(!o.toml.contains("on MySQL"), "{}", o.toml);
    // The MySQL connector: the comment says what MySQL lacks.
    let (_, c) = run(&[
        MYSQL,
        ("signal.data.collection", "inventory.sig"),
        ("read.only", "true"),
    ]);
    assert!(c.snapshot.read_only);
    let (o, _) = run(&[
        MYSQL,
        ("signal.data.collection", "inventory.sig"),
        ("read.only", "true"),
    ]);
    assert!(
        o.toml.contains("Binlog_snapshot_file") && o.toml.contains("on MySQL"),
        "{}",
        o.toml
    );
    // No signal channel: no snapshot could start; rowtide would refuse read_only.
    let (o, c) = run(&[("read.only", "true")]);
    assert!(!c.snapshot.read_only);
    assert_eq!(dropped(&o, "read.only").class, Class::NotNeeded);
    let (o, c) = run(&[("read.only", "false")]);
    assert!(!c.snapshot.read_only);
    assert_eq!(o.exit_code(), 0);
}

#[test]
fn other_signal_and_snapshot_properties() {
    let (o, _) = run(&[
        ("signal.emit.failure.max.retries", "0"),
        ("signal.emit.failure.backoff.ms", "500"),
        ("signal.kafka.topic.typo", "x"),
        ("snapshot.surrogate.key", "id"),
    ]);
    let class = |p: &str| dropped(&o, p).class;
    assert_eq!(class("signal.emit.failure.max.retries"), Class::NotNeeded);
    assert_eq!(class("signal.emit.failure.backoff.ms"), Class::NotNeeded);
    // Not read: the kafka channel is off (the default channel list is `source`).
    assert_eq!(class("signal.kafka.topic.typo"), Class::NotNeeded);
    let d = dropped(&o, "snapshot.surrogate.key");
    assert_eq!(d.class, Class::Unsupported);
    assert!(d.reason.contains("surrogate_keys"), "{}", d.reason);
    let (o, c) = run(&[
        ("signal.emit.failure.max.retries", "3"),
        ("signal.enabled.channels", "kafka"),
        ("signal.kafka.topic.typo", "x"),
    ]);
    assert_eq!(
        class_of(&o, "signal.emit.failure.max.retries"),
        Class::Unsupported
    );
    assert_eq!(class_of(&o, "signal.kafka.topic.typo"), Class::Unsupported);
    // `kafka` without a topic and without topic.prefix: no default topic to derive.
    assert!(c.signals.kafka_topic.is_none());
    let d = dropped(&o, "signal.enabled.channels");
    assert_eq!(d.class, Class::Unsupported);
    assert!(
        d.reason.contains("set [signals] kafka_topic"),
        "{}",
        d.reason
    );
}

fn class_of(o: &Outcome, p: &str) -> Class {
    dropped(o, p).class
}
