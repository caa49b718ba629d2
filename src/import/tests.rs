//! Unit tests of the Debezium import: each mapping, the provider resolution in context, the
//! classification of what is dropped, and the generated file loading as a [`Config`].

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::config::{BinaryMode, FormatKind, SnapshotMode, TlsMode};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run_with(connector: &[(&str, &str)], worker: &[(&str, &str)]) -> (Outcome, Config) {
    let env = Box::new(|k: &str| match k {
        "IMPORT_UT_USER" => Some("envuser".to_string()),
        _ => None,
    });
    let o = import(props(connector), props(worker), env, "test").unwrap();
    let cfg = Config::from_toml(&o.toml, &[]).unwrap();
    (o, cfg)
}

fn run(connector: &[(&str, &str)]) -> (Outcome, Config) {
    run_with(connector, &[])
}

fn dropped<'a>(o: &'a Outcome, prop: &str) -> &'a Dropped {
    o.plan
        .dropped
        .iter()
        .find(|d| d.property == prop)
        .unwrap_or_else(|| panic!("{prop} not dropped: {:#?}", o.plan.dropped))
}

const MARIADB: (&str, &str) = (
    "connector.class",
    "io.debezium.connector.mariadb.MariaDbConnector",
);

#[test]
fn connection_and_sink() {
    let (o, c) = run(&[
        MARIADB,
        ("name", "inv"),
        ("database.hostname", "db.example"),
        ("database.port", "3307"),
        ("database.user", "${env:IMPORT_UT_USER}"),
        ("database.password", "pw-literal"),
        ("database.server.id", "184054"),
        ("topic.prefix", "dbserver1"),
        ("tombstones.on.delete", "false"),
        ("include.schema.changes", "FALSE"),
        ("include.query", "true"),
        ("connect.timeout.ms", "5000"),
        ("errors.max.retries", "7"),
    ]);
    assert_eq!(o.exit_code(), 0, "{}", o.toml);
    assert_eq!(c.source.host, "db.example");
    assert_eq!(c.source.port, 3307);
    assert_eq!(c.source.user, "envuser");
    assert_eq!(c.source.password.as_deref(), Some("pw-literal"));
    assert_eq!(c.source.server_id, 184054);
    assert_eq!(c.sink.topic_prefix, "dbserver1");
    assert!(!c.sink.tombstones_on_delete);
    assert!(!c.sink.schema_changes);
    assert!(c.source.include_query);
    assert_eq!(c.source.connect_timeout_ms, 5000);
    assert_eq!(c.source.max_reconnect_attempts, 7);
    // The MariaDB connector's TLS default (disable) is written: rowtide's is preferred.
    assert_eq!(c.source.tls, TlsMode::Disabled);
    assert!(
        o.toml
            .contains("# from database.hostname\nhost = \"db.example\""),
        "{}",
        o.toml
    );
    assert_eq!(dropped(&o, "connector.class").class, Class::NotNeeded);
    assert_eq!(dropped(&o, "name").class, Class::NotNeeded);
    assert!(o.toml.contains("Debezium connector `inv`"));
}

#[test]
fn table_filters_become_case_insensitive_whole_name_patterns() {
    let (o, c) = run(&[
        ("database.include.list", "inventory,crm"),
        ("table.exclude.list", r"inventory\.tmp_.*"),
    ]);
    assert_eq!(o.exit_code(), 0);
    assert_eq!(
        c.source.include,
        vec![r"(?i:inventory)\..*", r"(?i:crm)\..*"]
    );
    assert_eq!(c.source.exclude, vec![r"(?i:inventory\.tmp_.*)"]);
    let f = crate::model::Filter::new(&c.source.include, &c.source.exclude).unwrap();
    assert!(f.captures("inventory", "orders"));
    assert!(f.captures("Inventory", "orders"));
    assert!(f.captures("crm", "x"));
    assert!(!f.captures("inventory", "tmp_1"));
    assert!(!f.captures("inventory2", "orders"));
    assert!(!f.captures("other", "orders"));
}

#[test]
fn database_and_table_include_lists() {
    // Every table pattern names an included database: the database list is implied.
    let (o, c) = run(&[
        ("database.include.list", "inventory"),
        (
            "table.include.list",
            r"inventory\.orders,inventory\.customers",
        ),
    ]);
    assert_eq!(o.exit_code(), 0);
    assert_eq!(
        c.source.include,
        vec![r"(?i:inventory\.orders)", r"(?i:inventory\.customers)"]
    );
    assert_eq!(dropped(&o, "database.include.list").class, Class::NotNeeded);
    // A table pattern not tied to an included database cannot be intersected.
    let (o, _) = run(&[
        ("database.include.list", "inventory"),
        ("table.include.list", r".*\.orders"),
    ]);
    assert_eq!(o.exit_code(), EXIT_UNSUPPORTED);
    assert_eq!(
        dropped(&o, "database.include.list").class,
        Class::Unsupported
    );
    // Both lists of one level: Debezium refuses the configuration.
    let e = import(
        props(&[
            ("table.include.list", "a\\.b"),
            ("table.exclude.list", "a\\.c"),
        ]),
        BTreeMap::new(),
        Box::new(|_| None),
        "t",
    )
    .unwrap_err();
    assert!(e.to_string().contains("both set"), "{e}");
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn java_only_regex_is_unsupported() {
    let (o, c) = run(&[("table.include.list", r"inventory\.(?!tmp).*")]);
    assert_eq!(o.exit_code(), EXIT_UNSUPPORTED);
    assert!(c.source.include.is_empty());
    assert!(dropped(&o, "table.include.list")
        .reason
        .contains("look-around"));
}

#[test]
fn snapshot_and_type_modes() {
    let (o, c) = run(&[
        ("snapshot.mode", "schema_only"),
        ("snapshot.fetch.size", "2000"),
        ("snapshot.max.threads", "4"),
        ("snapshot.locking.mode", "minimal"),
        ("decimal.handling.mode", "string"),
        ("time.precision.mode", "connect"),
        ("bigint.unsigned.handling.mode", "precise"),
        ("binary.handling.mode", "base64-url-safe"),
        ("provide.transaction.metadata", "true"),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert_eq!(c.source.snapshot_mode, SnapshotMode::NoData);
    assert_eq!(c.source.snapshot_fetch_size, 2000);
    assert_eq!(c.source.snapshot_parallelism, 4);
    assert_eq!(c.format.binary_handling_mode, BinaryMode::Base64UrlSafe);
    assert!(c.format.provide_transaction_metadata);
    assert_eq!(dropped(&o, "snapshot.locking.mode").class, Class::NotNeeded);
    for (mode, class) in [
        ("recovery", Class::Unsupported),
        ("custom", Class::Unsupported),
    ] {
        let (o, _) = run(&[("snapshot.mode", mode)]);
        assert_eq!(dropped(&o, "snapshot.mode").class, class);
    }
    let (o, _) = run(&[
        ("snapshot.locking.mode", "extended"),
        ("time.precision.mode", "adaptive"),
    ]);
    assert_eq!(o.plan.unsupported().count(), 2);
    assert!(import(
        props(&[("snapshot.mode", "sometimes")]),
        BTreeMap::new(),
        Box::new(|_| None),
        "t"
    )
    .is_err());
}

#[test]
fn tls_modes() {
    let (_, c) = run(&[MARIADB, ("database.ssl.mode", "trust")]);
    assert_eq!(c.source.tls, TlsMode::Required);
    let (_, c) = run(&[
        MARIADB,
        ("database.ssl.mode", "verify-full"),
        ("database.serverSslCert", "/etc/ssl/ca.pem"),
    ]);
    assert_eq!(c.source.tls, TlsMode::VerifyIdentity);
    assert_eq!(
        c.source.tls_ca.as_deref(),
        Some(Path::new("/etc/ssl/ca.pem"))
    );
    // Verification without a PEM CA cannot be configured: dropped, rowtide's default stays.
    let (o, c) = run(&[
        ("database.ssl.mode", "verify_ca"),
        ("database.ssl.truststore", "/x.jks"),
    ]);
    assert_eq!(c.source.tls, TlsMode::Preferred);
    assert_eq!(dropped(&o, "database.ssl.mode").class, Class::Unsupported);
    assert_eq!(
        dropped(&o, "database.ssl.truststore").class,
        Class::Unsupported
    );
}

#[test]
fn events_options() {
    let (o, c) = run(&[
        (
            "column.exclude.list",
            r"inventory\.customers\.secret, .*\.ssn",
        ),
        ("column.mask.with.5.chars", r"inventory\.customers\.phone"),
        (
            "column.mask.hash.SHA-256.with.salt.CzQMA0cB5K",
            r"inventory\.orders\.customerName",
        ),
        (
            "column.mask.hash.v2.MD5.with.salt.pepper",
            r"inventory\.cards\.number",
        ),
        ("column.truncate.to.20.chars", r"inventory\.customers\.bio"),
        (
            "column.propagate.source.type",
            r"inventory\.customers\.(name|price)",
        ),
        ("datatype.propagate.source.type", r".+\.FLOAT"),
        (
            "message.key.columns",
            "inventory.orders:ref;inventory.nopk:code",
        ),
        ("skipped.operations", "none"),
        ("event.processing.failure.handling.mode", "warn"),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    let e = &c.events;
    assert_eq!(
        e.column_exclude,
        vec![r"inventory\.customers\.secret", r".*\.ssn"]
    );
    assert_eq!(e.column_mask.len(), 1);
    assert_eq!(e.column_mask[0].chars, 5);
    assert_eq!(e.column_mask_hash.len(), 2);
    let v1 = e
        .column_mask_hash
        .iter()
        .find(|h| h.algorithm == "SHA-256")
        .unwrap();
    assert_eq!(v1.salt, "CzQMA0cB5K");
    assert_eq!(v1.version, crate::config::shaping::HashVersion::V1);
    let v2 = e
        .column_mask_hash
        .iter()
        .find(|h| h.algorithm == "MD5")
        .unwrap();
    assert_eq!(v2.version, crate::config::shaping::HashVersion::V2);
    assert_eq!(e.column_truncate[0].chars, 20);
    assert_eq!(
        e.column_propagate_source_type,
        vec![r"inventory\.customers\.(name|price)"]
    );
    assert_eq!(e.datatype_propagate_source_type, vec![r".+\.FLOAT"]);
    assert_eq!(
        e.message_key_columns.as_deref(),
        Some("inventory.orders:ref;inventory.nopk:code")
    );
    assert_eq!(e.skipped_operations, vec!["none"]);
    assert_eq!(
        e.failure_handling_mode,
        crate::config::shaping::FailureMode::Warn
    );
    assert!(
        o.toml.contains(
            "[[events.column_mask_hash]]\n# from column.mask.hash.SHA-256.with.salt.CzQMA0cB5K"
        ),
        "{}",
        o.toml
    );
    let (o, c) = run(&[
        ("skipped.operations", "c, t"),
        ("event.deserialization.failure.handling.mode", "ignore"),
        ("column.mask.hash.hashing.strategy.version", "V2"),
        ("column.mask.hash.WHIRLPOOL.with.salt.x", "a\\.b\\.c"),
    ]);
    assert_eq!(c.events.skipped_operations, vec!["c", "t"]);
    assert_eq!(
        c.events.failure_handling_mode,
        crate::config::shaping::FailureMode::Skip
    );
    assert_eq!(
        dropped(&o, "column.mask.hash.hashing.strategy.version").class,
        Class::NotNeeded
    );
    assert_eq!(
        dropped(&o, "column.mask.hash.WHIRLPOOL.with.salt.x").class,
        Class::Unsupported
    );
}

#[test]
fn heartbeat_options() {
    let (o, c) = run(&[
        ("heartbeat.interval.ms", "10000"),
        ("topic.heartbeat.prefix", "hb"),
        ("heartbeat.action.query", "UPDATE hb SET ts = NOW()"),
        ("heartbeat.topics.prefix", "old"),
        ("extended.headers.enabled", "false"),
    ]);
    assert_eq!(o.exit_code(), 0);
    assert!(!c.events.extended_headers_enabled);
    assert_eq!(c.heartbeat.interval_ms, 10000);
    assert_eq!(c.heartbeat.topics_prefix, "hb");
    assert_eq!(
        c.heartbeat.action_query.as_deref(),
        Some("UPDATE hb SET ts = NOW()")
    );
    assert_eq!(
        dropped(&o, "heartbeat.topics.prefix").class,
        Class::NotNeeded
    );
}

#[test]
fn transforms_in_order_with_options() {
    let (o, c) = run(&[
        ("transforms", "unwrap, route ,custom"),
        (
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState",
        ),
        ("transforms.unwrap.add.fields", "op,source.ts_ms"),
        (
            "transforms.unwrap.delete.tombstone-handling.mode",
            "rewrite",
        ),
        ("transforms.unwrap.predicate", "isOrders"),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", r"(.*)\.customers"),
        ("transforms.route.replacement", "$1.clients"),
        ("transforms.custom.type", "com.example.MySmt"),
        ("transforms.custom.opt", "1"),
        (
            "transforms.stale.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("predicates", "isOrders"),
        (
            "predicates.isOrders.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
        ("predicates.isOrders.pattern", ".*orders"),
    ]);
    assert_eq!(c.transforms.len(), 2);
    assert_eq!(c.transforms[0].name, "unwrap");
    assert_eq!(
        c.transforms[0].options["add_fields"].as_str(),
        Some("op,source.ts_ms")
    );
    assert_eq!(
        c.transforms[0].options["delete_tombstone_handling_mode"].as_str(),
        Some("rewrite")
    );
    assert_eq!(
        c.transforms[0].options["predicate"].as_str(),
        Some("isOrders")
    );
    assert_eq!(
        c.transforms[1].kind,
        "org.apache.kafka.connect.transforms.RegexRouter"
    );
    assert_eq!(
        c.transforms[1].options["regex"].as_str(),
        Some(r"(.*)\.customers")
    );
    assert_eq!(c.predicates.len(), 1);
    assert_eq!(c.predicates[0].name, "isOrders");
    assert_eq!(
        c.predicates[0].options["pattern"].as_str(),
        Some(".*orders")
    );
    let unsupported: Vec<&str> = o.plan.unsupported().map(|d| d.property.as_str()).collect();
    assert_eq!(
        unsupported,
        vec!["transforms.custom.opt", "transforms.custom.type"]
    );
    assert!(o.toml.contains("[[predicates]]"), "{}", o.toml);
    chain_loads(&c);
    assert_eq!(dropped(&o, "transforms.stale.type").class, Class::NotNeeded);
}

#[test]
fn worker_converters_and_producer() {
    let worker = [
        ("bootstrap.servers", "kafka1:9092,kafka2:9092"),
        (
            "key.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("key.converter.schemas.enable", "false"),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("value.converter.schemas.enable", "false"),
        ("producer.compression.type", "zstd"),
        ("producer.buffer.memory", "33554432"),
        ("producer.security.protocol", "SASL_SSL"),
        ("producer.sasl.mechanism", "SCRAM-SHA-512"),
        (
            "producer.sasl.jaas.config",
            r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="cdc" password="kafka-pw";"#,
        ),
        ("offset.flush.interval.ms", "2000"),
        ("offset.storage.topic", "connect-offsets"),
        ("group.id", "connect"),
    ];
    let (o, c) = run_with(
        &[
            ("producer.override.compression.type", "lz4"),
            ("producer.override.linger.ms", "20"),
        ],
        &worker,
    );
    assert_eq!(c.sink.brokers, "kafka1:9092,kafka2:9092");
    assert_eq!(c.format.kind, FormatKind::Json);
    assert_eq!(c.sink.kafka["compression.type"], "lz4");
    assert_eq!(c.sink.kafka["linger.ms"], "20");
    assert_eq!(c.sink.kafka["security.protocol"], "SASL_SSL");
    assert_eq!(c.sink.kafka["sasl.username"], "cdc");
    assert_eq!(c.sink.kafka["sasl.password"], "kafka-pw");
    assert_eq!(c.checkpoint.flush_interval_ms, 2000);
    let unsupported: Vec<&str> = o.plan.unsupported().map(|d| d.property.as_str()).collect();
    assert_eq!(unsupported, vec!["producer.buffer.memory (worker)"]);
    assert_eq!(
        dropped(&o, "producer.compression.type (worker)").class,
        Class::NotNeeded
    );
    assert_eq!(
        dropped(&o, "key.converter (worker)").class,
        Class::NotNeeded
    );
    assert_eq!(
        dropped(&o, "offset.storage.topic (worker)").class,
        Class::NotNeeded
    );
}

#[test]
fn avro_converters() {
    let (o, c) = run(&[
        ("key.converter", "io.confluent.connect.avro.AvroConverter"),
        ("key.converter.schema.registry.url", "http://registry:8081"),
        ("value.converter", "io.confluent.connect.avro.AvroConverter"),
        (
            "value.converter.schema.registry.url",
            "http://registry:8081",
        ),
        ("value.converter.basic.auth.credentials.source", "USER_INFO"),
        ("value.converter.basic.auth.user.info", "reg:reg-pw"),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert_eq!(c.format.kind, FormatKind::Avro);
    assert_eq!(
        c.format.registry_url.as_deref(),
        Some("http://registry:8081")
    );
    assert_eq!(c.format.registry_username.as_deref(), Some("reg"));
    assert_eq!(c.format.registry_password.as_deref(), Some("reg-pw"));
    let (o, c) = run(&[
        (
            "value.converter",
            "io.apicurio.registry.utils.converter.AvroConverter",
        ),
        (
            "value.converter.apicurio.registry.url",
            "http://apicurio:8080/apis/registry/v2",
        ),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    assert_eq!(
        c.format.registry_url.as_deref(),
        Some("http://apicurio:8080/apis/ccompat/v6")
    );
    assert_eq!(dropped(&o, "key.converter").class, Class::Unsupported);
    assert!(o.toml.contains("as-confluent"));
}

#[test]
fn avro_subject_strategy_and_registration() {
    let confluent = "io.confluent.connect.avro.AvroConverter";
    let (o, c) = run(&[
        ("key.converter", confluent),
        ("key.converter.schema.registry.url", "http://registry:8081"),
        (
            "key.converter.key.subject.name.strategy",
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        ),
        ("key.converter.auto.register.schemas", "false"),
        ("key.converter.use.latest.version", "true"),
        ("value.converter", confluent),
        (
            "value.converter.schema.registry.url",
            "http://registry:8081",
        ),
        (
            "value.converter.value.subject.name.strategy",
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        ),
        ("value.converter.auto.register.schemas", "false"),
        ("value.converter.use.latest.version", "true"),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert_eq!(
        c.format.subject_name_strategy,
        crate::config::SubjectNameStrategy::Record
    );
    assert!(!c.format.auto_register);
    assert!(c.format.use_latest_version);
    assert_eq!(
        dropped(&o, "key.converter.key.subject.name.strategy").class,
        Class::NotNeeded
    );
    // TopicRecordNameStrategy; use.latest.version is ignored while auto-registering.
    let (o, c) = run(&[
        ("value.converter", confluent),
        (
            "value.converter.schema.registry.url",
            "http://registry:8081",
        ),
        (
            "value.converter.value.subject.name.strategy",
            "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
        ),
        ("value.converter.use.latest.version", "true"),
    ]);
    assert_eq!(o.exit_code(), 0, "{:#?}", o.plan.dropped);
    assert_eq!(
        c.format.subject_name_strategy,
        crate::config::SubjectNameStrategy::TopicRecord
    );
    assert!(c.format.auto_register && !c.format.use_latest_version);
    assert!(dropped(&o, "value.converter.use.latest.version")
        .reason
        .contains("ignores it"));
    // A key converter that names subjects differently than the value converter cannot be
    // followed: rowtide has one strategy.
    let (o, _) = run(&[
        ("key.converter", confluent),
        ("key.converter.schema.registry.url", "http://registry:8081"),
        ("value.converter", confluent),
        (
            "value.converter.schema.registry.url",
            "http://registry:8081",
        ),
        (
            "value.converter.value.subject.name.strategy",
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
        ),
    ]);
    assert_eq!(dropped(&o, "key.converter").class, Class::Unsupported);
    // A strategy class rowtide does not know.
    let (o, _) = run(&[
        ("value.converter", confluent),
        (
            "value.converter.schema.registry.url",
            "http://registry:8081",
        ),
        (
            "value.converter.value.subject.name.strategy",
            "com.example.Mine",
        ),
    ]);
    assert_eq!(
        dropped(&o, "value.converter.value.subject.name.strategy").class,
        Class::Unsupported
    );
}

#[test]
fn unresolvable_secret_is_left_to_the_environment() {
    let (o, c) = run(&[("database.password", "${vault:secret/db:password}")]);
    assert_eq!(o.exit_code(), 0);
    assert_eq!(c.source.password, None);
    assert_eq!(o.plan.env.len(), 1);
    assert_eq!(o.plan.env[0].var, "ROWTIDE_SOURCE__PASSWORD");
    assert!(o.toml.contains("ROWTIDE_SOURCE__PASSWORD"), "{}", o.toml);
    // A ${dir:…} reference is exactly a password file.
    let (_, c) = run(&[("database.password", "${dir:/run/secrets:db-password}")]);
    assert_eq!(
        c.source.password_file.as_deref(),
        Some(Path::new("/run/secrets/db-password"))
    );
    // A value with no environment override is dropped.
    let (o, _) = run(&[("producer.override.sasl.password", "${vault:kafka:pw}")]);
    assert_eq!(dropped(&o, "producer.override.sasl.password").value, None);
    assert_eq!(o.exit_code(), EXIT_UNSUPPORTED);
}

#[test]
fn queue_size_in_bytes_becomes_the_byte_budget() {
    let (o, c) = run(&[MARIADB, ("max.queue.size.in.bytes", "268435456")]);
    assert_eq!(o.exit_code(), 0, "{}", o.toml);
    assert_eq!(c.pipeline.max_in_flight_bytes, 256 << 20);
    // Below rowtide's minimum: raised to it, so the file still loads.
    let (_, c) = run(&[MARIADB, ("max.queue.size.in.bytes", "1000")]);
    assert_eq!(c.pipeline.max_in_flight_bytes, 1 << 20);
    // Debezium's default, unbounded: rowtide's bound stays.
    let (o, c) = run(&[MARIADB, ("max.queue.size.in.bytes", "0")]);
    assert_eq!(
        dropped(&o, "max.queue.size.in.bytes").class,
        Class::NotNeeded
    );
    assert_eq!(c.pipeline.max_in_flight_bytes, 64 << 20);
}

#[test]
fn unknown_and_defaulted_properties() {
    let (o, _) = run(&[
        ("tasks.max", "1"),
        ("schema.history.internal.kafka.topic", "h"),
        ("table.ignore.builtin", "true"),
        ("incremental.snapshot.option.recompile", "true"),
        ("made.up.property", "x"),
    ]);
    assert_eq!(dropped(&o, "tasks.max").class, Class::NotNeeded);
    assert_eq!(
        dropped(&o, "schema.history.internal.kafka.topic").class,
        Class::NotNeeded
    );
    assert_eq!(dropped(&o, "table.ignore.builtin").class, Class::NotNeeded);
    assert_eq!(
        dropped(&o, "incremental.snapshot.option.recompile").class,
        Class::Unsupported
    );
    assert_eq!(dropped(&o, "made.up.property").class, Class::Unsupported);
    assert!(o.toml.contains("made.up.property = x"), "{}", o.toml);
    assert!(!ctx::is_secret_prop("key.converter"));
    assert!(!ctx::is_secret_prop("message.key.columns"));
    assert!(ctx::is_secret_prop("value.converter.basic.auth.user.info"));
    assert!(ctx::is_secret_prop("producer.override.ssl.key.password"));
}

#[test]
fn rest_json_and_bare_map() {
    let p = Path::new("c.json");
    let m = parse_connector(
        r#"{"name":"inv","config":{"database.port":3307,"topic.prefix":"x"}}"#,
        p,
    )
    .unwrap();
    assert_eq!(m["name"], "inv");
    assert_eq!(m["database.port"], "3307");
    let m = parse_connector(r#"{"topic.prefix":"x"}"#, Path::new("c.txt")).unwrap();
    assert_eq!(m["topic.prefix"], "x");
    let m = parse_connector("topic.prefix = x\n", Path::new("c.properties")).unwrap();
    assert_eq!(m["topic.prefix"], "x");
    assert!(parse_connector("{ not json", p).is_err());
    let e = import(
        props(&[(
            "connector.class",
            "io.debezium.connector.postgresql.PostgresConnector",
        )]),
        BTreeMap::new(),
        Box::new(|_| None),
        "t",
    )
    .unwrap_err();
    assert!(e.to_string().contains("MariaDB or MySQL"), "{e}");
}

/// The imported transforms and predicates build (what `rowtide run` checks at load).
fn chain_loads(c: &Config) {
    crate::transform::Chain::build(
        &c.transforms,
        &c.predicates,
        &crate::transform::Context {
            topic_prefix: c.sink.topic_prefix.clone(),
        },
    )
    .unwrap_or_else(|e| panic!("the imported transforms do not load: {e}"));
}

mod signals;
mod transforms;

#[test]
fn exactly_once_required_maps_to_transactions() {
    let (_, c) = run(&[
        MARIADB,
        ("topic.prefix", "x"),
        ("exactly.once.support", "required"),
    ]);
    assert_eq!(c.sink.delivery, crate::config::Delivery::ExactlyOnce);
    assert_eq!(c.checkpoint.store, crate::config::StoreKind::Kafka);
    let (o, c) = run(&[
        MARIADB,
        ("topic.prefix", "x"),
        ("exactly.once.support", "requested"),
    ]);
    assert_eq!(c.sink.delivery, crate::config::Delivery::AtLeastOnce);
    // Reported, not mapped: Connect may fall back to at-least-once itself.
    dropped(&o, "exactly.once.support");
}

#[test]
fn the_sink_notification_channel_is_the_notifications_topic() {
    let (o, c) = run(&[
        ("notification.enabled.channels", "sink,log"),
        ("notification.sink.topic.name", "dbz.notes"),
    ]);
    assert_eq!(o.exit_code(), 0, "{}", o.toml);
    assert_eq!(c.notifications.topic.as_deref(), Some("dbz.notes"));
    let channels = dropped(&o, "notification.enabled.channels");
    assert_eq!(channels.class, Class::NotNeeded, "{channels:?}");
    let (o, c) = run(&[
        ("notification.enabled.channels", "jmx"),
        ("notification.sink.topic.name", "x"),
    ]);
    assert!(c.notifications.topic.is_none());
    let d = dropped(&o, "notification.enabled.channels");
    assert_eq!(d.class, Class::Unsupported);
    assert!(d.reason.ends_with("channel); not to jmx"), "{}", d.reason);
    assert_eq!(
        dropped(&o, "notification.sink.topic.name").class,
        Class::NotNeeded
    );
    let e = import(
        props(&[("notification.enabled.channels", "sink")]),
        BTreeMap::new(),
        Box::new(|_| None),
        "t",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("notification.sink.topic.name"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 2);
}
