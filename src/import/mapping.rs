//! The connector properties that map to `[source]`, `[sink]` and `[format]`: connection,
//! table filters, snapshot, TLS, type handling, topic prefix, tombstones and schema changes.
//!
//! Invariant: a value is carried over only when rowtide's key means what Debezium's
//! property meant for the MariaDB/MySQL connector (3.5); a value rowtide lacks is dropped
//! as unsupported with the reason, never approximated silently.

use toml::Value;

use super::ctx::{
    bad_regex, boolean, integer, one_of, plain_list, regex_list, str_array, string, Conv, Ctx,
    Origin,
};
use super::plan::Class;
use crate::config::providers::{whole_reference, Kind};

const C: Origin = Origin::Connector;

/// Maps everything of `[source]`, `[sink]` and `[format]` the connector configures.
pub fn map_connector(ctx: &mut Ctx, mariadb: bool) {
    connection(ctx);
    password(ctx);
    filters(ctx);
    snapshot(ctx);
    tls(ctx, mariadb);
    type_handling(ctx);
    sink(ctx);
    notifications(ctx);
    ctx.map_scalar(
        C,
        "max.queue.size.in.bytes",
        "pipeline",
        "max_in_flight_bytes",
        queue_bytes,
    );
}

/// Debezium's queue limit in bytes: 0 (its default) is unbounded, which rowtide never is;
/// a limit becomes the byte budget (at least rowtide's minimum, 1 MiB).
fn queue_bytes(v: &str) -> Conv {
    match v.trim().parse::<i64>() {
        Ok(0) => Conv::NotNeeded(
            "0 leaves Debezium's queue unbounded in bytes; rowtide always bounds it \
             (pipeline.max_in_flight_bytes, 64 MiB by default)"
                .into(),
        ),
        Ok(n) if n > 0 => Conv::Set(Value::Integer(n.max(1 << 20))),
        _ => Conv::Invalid("expected 0 or a number of bytes".into()),
    }
}

fn connection(ctx: &mut Ctx) {
    ctx.map_scalar(C, "database.hostname", "source", "host", string);
    ctx.map_scalar(C, "database.port", "source", "port", |v| integer(v, 65535));
    ctx.map_scalar(C, "database.user", "source", "user", string);
    ctx.map_scalar(
        C,
        "database.server.id",
        "source",
        "server_id",
        |v| match v.trim().parse::<u32>() {
            Ok(0) | Err(_) => Conv::Invalid("expected a server id from 1 to 4294967295".into()),
            Ok(n) => Conv::Set(Value::Integer(n.into())),
        },
    );
    ctx.map_scalar(
        C,
        "connect.timeout.ms",
        "source",
        "connect_timeout_ms",
        |v| integer(v, i64::MAX),
    );
    ctx.map_scalar(C, "include.query", "source", "include_query", boolean);
    ctx.map_scalar(
        C,
        "errors.max.retries",
        "source",
        "max_reconnect_attempts",
        |v| match v.trim().parse::<i64>() {
            Ok(-1) => Conv::NotNeeded(
                "-1 (retry without limit) is rowtide's default (source.max_reconnect_attempts = 0)"
                    .into(),
            ),
            Ok(0) => Conv::Unsupported(
                "0 stops at the first connection error; rowtide retries at least once \
                 (source.max_reconnect_attempts = 1 is the closest)"
                    .into(),
            ),
            Ok(n) if n > 0 && n <= i64::from(u32::MAX) => Conv::Set(Value::Integer(n)),
            _ => Conv::Invalid("expected -1, 0 or a number of retries".into()),
        },
    );
}

/// `database.password`: a `${dir:DIR:FILE}` reference is exactly `source.password_file`
/// (a file that holds the password); other references are resolved, or left to
/// `ROWTIDE_SOURCE__PASSWORD` when they cannot be.
fn password(ctx: &mut Ctx) {
    let prop = "database.password";
    if let Some(r) = ctx.peek(C, prop).and_then(whole_reference) {
        if let (Some(Kind::Dir), Some(dir)) = (ctx.providers.kind(&r.provider), &r.path) {
            ctx.consume(C, prop);
            let path = std::path::Path::new(dir).join(&r.key);
            ctx.set(
                "source",
                "password_file",
                Value::String(path.display().to_string()),
                format!("{prop} = {} (the file holds the password)", r.text),
            );
            return;
        }
    }
    ctx.map_scalar(C, prop, "source", "password", string);
}

/// A Debezium database regex as a `db.table` regex (whole name, case-insensitive).
fn db_pattern(p: &str) -> String {
    format!(r"(?i:{p})\..*")
}

fn table_pattern(p: &str) -> String {
    format!("(?i:{p})")
}

/// The database a table regex names literally (`inventory\.orders` → `inventory`).
fn literal_db(p: &str) -> Option<String> {
    let mut db = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '.' => return (!db.is_empty()).then_some(db),
                n if !n.is_ascii_alphanumeric() => db.push(n),
                _ => return None,
            },
            c if c.is_alphanumeric() || c == '_' || c == '$' => db.push(c),
            _ => return None,
        }
    }
    None
}

/// Reads one filter list: `None` when absent; a refused regex drops it as unsupported.
fn filter_list(ctx: &mut Ctx, prop: &str) -> Option<Vec<String>> {
    let v = match ctx.take(C, prop)? {
        super::ctx::Val::Ok(v) => v,
        super::ctx::Val::Unresolved(u) => {
            let why = format!(
                "its value {} cannot be resolved here ({})",
                u.reference, u.why
            );
            ctx.drop_prop(C, prop, Class::Unsupported, why);
            return None;
        }
    };
    let list = regex_list(&v);
    let as_rust: Vec<String> = list.iter().map(|p| table_pattern(p)).collect();
    if let Some(why) = bad_regex(&as_rust) {
        ctx.drop_prop(C, prop, Class::Unsupported, why);
        return None;
    }
    (!list.is_empty()).then_some(list)
}

/// Debezium: a table is captured when its database passes the database filter and its
/// `db.table` passes the table filter (include and exclude of one level are exclusive).
/// rowtide: `include` (any) and not `exclude` (any), on `db.table`.
fn filters(ctx: &mut Ctx) {
    for (inc, exc) in [
        ("database.include.list", "database.exclude.list"),
        ("table.include.list", "table.exclude.list"),
    ] {
        if ctx.has(C, inc) && ctx.has(C, exc) {
            ctx.errors.push(format!(
                "{inc} and {exc} are both set; Debezium refuses that (keep one)"
            ));
        }
    }
    let db_inc = filter_list(ctx, "database.include.list");
    let db_exc = filter_list(ctx, "database.exclude.list");
    let t_inc = filter_list(ctx, "table.include.list");
    let t_exc = filter_list(ctx, "table.exclude.list");
    let mut include: Vec<(String, &str)> = vec![];
    let mut exclude: Vec<(String, &str)> = vec![];
    match (&db_inc, &t_inc) {
        (Some(d), Some(t)) => {
            include.extend(t.iter().map(|p| (table_pattern(p), "table.include.list")));
            let implied = t.iter().all(|p| {
                literal_db(p).is_some_and(|db| {
                    d.iter().any(|dp| {
                        regex::Regex::new(&format!("^(?i:{dp})$")).is_ok_and(|r| r.is_match(&db))
                    })
                })
            });
            let (class, why) = if implied {
                (
                    Class::NotNeeded,
                    "every table.include.list pattern names a database it includes, so \
                     source.include from table.include.list captures the same tables",
                )
            } else {
                (
                    Class::Unsupported,
                    "rowtide's source.include cannot require both a database pattern and a \
                     table pattern; source.include is taken from table.include.list alone, \
                     which may capture tables in databases this list leaves out",
                )
            };
            ctx.drop_prop(C, "database.include.list", class, why);
        }
        (Some(d), None) => {
            include.extend(d.iter().map(|p| (db_pattern(p), "database.include.list")))
        }
        (None, Some(t)) => {
            include.extend(t.iter().map(|p| (table_pattern(p), "table.include.list")))
        }
        (None, None) => {}
    }
    if let Some(d) = &db_exc {
        exclude.extend(d.iter().map(|p| (db_pattern(p), "database.exclude.list")));
    }
    if let Some(t) = &t_exc {
        exclude.extend(t.iter().map(|p| (table_pattern(p), "table.exclude.list")));
    }
    for (key, list) in [("include", include), ("exclude", exclude)] {
        if list.is_empty() {
            continue;
        }
        let mut from: Vec<&str> = list.iter().map(|(_, f)| *f).collect();
        from.dedup();
        let pats: Vec<String> = list.into_iter().map(|(p, _)| p).collect();
        ctx.set(
            "source",
            key,
            str_array(&pats),
            format!(
                "{} (Debezium matches whole names, case-insensitively: (?i:…))",
                from.join(" + ")
            ),
        );
    }
}

fn snapshot(ctx: &mut Ctx) {
    let mode = ctx
        .peek_resolved(C, "snapshot.mode")
        .map(|m| m.trim().to_ascii_lowercase());
    ctx.map_scalar(C, "snapshot.mode", "source", "snapshot_mode", |v| {
        one_of(
            v,
            &[
                ("initial", "initial"),
                ("initial_only", "initial_only"),
                ("no_data", "no_data"),
                ("schema_only", "no_data"),
                ("when_needed", "when_needed"),
                ("always", "always"),
            ],
            &[
                ("recovery", "rowtide rebuilds no schema history: it keeps the table structures in its checkpoint store (binlog_row_metadata=FULL needs none)"),
                ("schema_only_recovery", "rowtide rebuilds no schema history: it keeps the table structures in its checkpoint store"),
                ("never", "rowtide always starts from a snapshot or a stored position; with no_data it streams from the current position"),
                ("configuration_based", "rowtide has no configuration-based snapshotter"),
                ("custom", "rowtide has no custom snapshotters"),
            ],
        )
    });
    for name in ctx.names_with_prefix(C, "snapshot.mode.") {
        let used = match name.as_str() {
            n if n.starts_with("snapshot.mode.configuration.based.") => {
                mode.as_deref() == Some("configuration_based")
            }
            _ => mode.as_deref() == Some("custom"),
        };
        if used {
            ctx.drop_prop(
                C,
                &name,
                Class::Unsupported,
                "part of a snapshot.mode rowtide lacks",
            );
        } else {
            ctx.drop_prop(
                C,
                &name,
                Class::NotNeeded,
                "read only with snapshot.mode = configuration_based / custom",
            );
        }
    }
    ctx.map_scalar(
        C,
        "snapshot.fetch.size",
        "source",
        "snapshot_fetch_size",
        |v| match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Conv::Set(Value::Integer(n)),
            _ => Conv::Invalid("expected a positive number of rows".into()),
        },
    );
    ctx.map_scalar(
        C,
        "snapshot.max.threads",
        "source",
        "snapshot_parallelism",
        |v| match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Conv::Set(Value::Integer(n)),
            _ => Conv::Invalid("expected a positive number of threads".into()),
        },
    );
    ctx.judge(C, "snapshot.locking.mode", |v| {
        match v.trim().to_ascii_lowercase().as_str() {
            "minimal" | "minimal_at_least_once" => Conv::NotNeeded(
                "rowtide locks at most as briefly as minimal: only while it reads the binlog \
                 position (none on MariaDB with one snapshot connection); see operations.md"
                    .into(),
            ),
            other => Conv::Unsupported(format!(
                "rowtide chooses its snapshot lock itself (the shortest that pins the binlog \
                 position); `{other}` cannot be configured"
            )),
        }
    });
}

/// `database.ssl.mode`, MariaDB's (`disable`, `trust`, `verify-ca`, `verify-full`) or
/// MySQL's (`disabled` … `verify_identity`) names. Absent on the MariaDB connector, its
/// default `disable` is written, since rowtide's default is `preferred`.
fn tls(ctx: &mut Ctx, mariadb: bool) {
    let ca = ctx.peek_resolved(C, "database.serverSslCert");
    if let Some(ca) = &ca {
        ctx.consume(C, "database.serverSslCert");
        ctx.set(
            "source",
            "tls_ca",
            Value::String(ca.clone()),
            "database.serverSslCert (the MariaDB driver's CA certificate option)".into(),
        );
    }
    if !ctx.has(C, "database.ssl.mode") {
        if mariadb {
            ctx.set(
                "source",
                "tls",
                Value::String("disabled".into()),
                "database.ssl.mode (not set: the MariaDB connector's default is disable)".into(),
            );
        }
        return;
    }
    let has_ca = ca.is_some();
    ctx.map_scalar(C, "database.ssl.mode", "source", "tls", |v| {
        let mode = match v.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "disable" | "disabled" => "disabled",
            "preferred" => "preferred",
            "trust" | "required" => "required",
            "verify_ca" => "verify_ca",
            "verify_full" | "verify_identity" => "verify_identity",
            _ => {
                return Conv::Invalid(
                    "expected disable, trust, verify-ca, verify-full (MariaDB) or disabled, \
                     preferred, required, verify_ca, verify_identity (MySQL)"
                        .into(),
                )
            }
        };
        if mode.starts_with("verify") && !has_ca {
            return Conv::Unsupported(format!(
                "{mode} needs source.tls_ca, a PEM CA certificate; Debezium's truststore \
                 (database.ssl.truststore) is a Java keystore: export its CA to PEM, then set \
                 source.tls = \"{mode}\" and source.tls_ca (until then rowtide's default, \
                 preferred, applies)"
            ));
        }
        string(mode)
    });
}

fn type_handling(ctx: &mut Ctx) {
    ctx.map_scalar(
        C,
        "decimal.handling.mode",
        "format",
        "decimal_handling_mode",
        |v| {
            one_of(
                v,
                &[
                    ("precise", "precise"),
                    ("double", "double"),
                    ("string", "string"),
                ],
                &[],
            )
        },
    );
    ctx.map_scalar(
        C,
        "time.precision.mode",
        "format",
        "time_precision_mode",
        |v| {
            one_of(
                v,
                &[
                    ("adaptive_time_microseconds", "adaptive_time_microseconds"),
                    ("connect", "connect"),
                ],
                &[
                    (
                        "adaptive",
                        "rowtide offers adaptive_time_microseconds and connect",
                    ),
                    (
                        "isostring",
                        "rowtide offers adaptive_time_microseconds and connect",
                    ),
                    (
                        "microseconds",
                        "rowtide offers adaptive_time_microseconds and connect",
                    ),
                    (
                        "nanoseconds",
                        "rowtide offers adaptive_time_microseconds and connect",
                    ),
                ],
            )
        },
    );
    ctx.map_scalar(
        C,
        "bigint.unsigned.handling.mode",
        "format",
        "bigint_unsigned_handling_mode",
        |v| one_of(v, &[("long", "long"), ("precise", "precise")], &[]),
    );
    ctx.map_scalar(
        C,
        "binary.handling.mode",
        "format",
        "binary_handling_mode",
        |v| {
            one_of(
                v,
                &[
                    ("bytes", "bytes"),
                    ("base64", "base64"),
                    ("base64-url-safe", "base64-url-safe"),
                    ("hex", "hex"),
                ],
                &[],
            )
        },
    );
    ctx.map_scalar(
        C,
        "provide.transaction.metadata",
        "format",
        "provide_transaction_metadata",
        boolean,
    );
}

fn topic_prefix(v: &str) -> Conv {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        string(v)
    } else {
        Conv::Invalid("a topic prefix uses only letters, digits, '.', '_' and '-'".into())
    }
}

fn sink(ctx: &mut Ctx) {
    if ctx.has(C, "topic.prefix") {
        ctx.map_scalar(C, "topic.prefix", "sink", "topic_prefix", topic_prefix);
        if ctx.has(C, "database.server.name") {
            ctx.drop_prop(
                C,
                "database.server.name",
                Class::NotNeeded,
                "topic.prefix replaces it (Debezium 2.0+ reads topic.prefix)",
            );
        }
    } else {
        ctx.map_scalar(
            C,
            "database.server.name",
            "sink",
            "topic_prefix",
            topic_prefix,
        );
    }
    ctx.map_scalar(
        C,
        "tombstones.on.delete",
        "sink",
        "tombstones_on_delete",
        boolean,
    );
    ctx.map_scalar(
        C,
        "include.schema.changes",
        "sink",
        "schema_changes",
        boolean,
    );
    let count = |v: &str| {
        match v.trim().parse::<i64>() {
        Ok(-1) => Conv::Unsupported("-1 (the broker's default) is not offered: rowtide creates topics with an explicit count".into()),
        Ok(n) if (1..=i64::from(i32::MAX)).contains(&n) => Conv::Set(Value::Integer(n)),
        _ => Conv::Invalid("expected a positive count or -1".into()),
    }
    };
    ctx.map_scalar(
        C,
        "topic.creation.default.partitions",
        "sink",
        "topic_partitions",
        count,
    );
    ctx.map_scalar(
        C,
        "topic.creation.default.replication.factor",
        "sink",
        "topic_replication_factor",
        count,
    );
    ctx.map_scalar(
        C,
        "topic.creation.default.cleanup.policy",
        "sink",
        "topic_cleanup_policy",
        |v| {
            let v = v.trim().replace(' ', "");
            if ["delete", "compact", "compact,delete", "delete,compact"].contains(&v.as_str()) {
                string(&v)
            } else {
                Conv::Invalid("expected delete, compact or both".into())
            }
        },
    );
}

/// Debezium's notification channels: the `sink` channel with its topic is
/// `[notifications] topic`; `log` needs nothing (rowtide logs every snapshot step); `jmx`
/// and custom channels have no equivalent.
fn notifications(ctx: &mut Ctx) {
    let prop = "notification.enabled.channels";
    let channels = ctx
        .peek_resolved(C, prop)
        .map(|v| plain_list(&v))
        .unwrap_or_default();
    let topic = "notification.sink.topic.name";
    if !channels.iter().any(|c| c == "sink") {
        if ctx.has(C, topic) {
            ctx.drop_prop(
                C,
                topic,
                Class::NotNeeded,
                format!("read only when {prop} lists `sink`"),
            );
        }
        ctx.judge(C, prop, |v| {
            let others: Vec<String> = plain_list(v).into_iter().filter(|c| c != "log").collect();
            match others.is_empty() {
                true => {
                    Conv::NotNeeded("rowtide logs every snapshot step (see operations.md)".into())
                }
                false => Conv::Unsupported(format!(
                    "rowtide sends notifications only as records of a topic (the `sink` channel); \
                     not to {}",
                    others.join(", ")
                )),
            }
        });
        return;
    }
    if !ctx.map_scalar(C, topic, "notifications", "topic", string) && !ctx.has(C, topic) {
        ctx.judge(C, prop, |_| {
            Conv::Invalid(format!(
                "the `sink` channel needs {topic} (Debezium refuses it too)"
            ))
        });
        return;
    }
    ctx.judge(C, prop, |v| {
        let others: Vec<String> = plain_list(v)
            .into_iter()
            .filter(|c| c != "sink" && c != "log")
            .collect();
        match others.is_empty() {
            true => Conv::NotNeeded(format!(
                "`sink` is [notifications] topic (from {topic}); rowtide logs every snapshot step"
            )),
            false => Conv::Unsupported(format!(
                "`sink` is [notifications] topic (from {topic}); rowtide has no {} channel",
                others.join(", ")
            )),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_database_of_table_patterns() {
        assert_eq!(
            literal_db(r"inventory\.orders").as_deref(),
            Some("inventory")
        );
        assert_eq!(literal_db(r"my_db\$x\..*").as_deref(), Some("my_db$x"));
        assert_eq!(literal_db(r"inv.*\.orders"), None);
        assert_eq!(literal_db(r"inventory.orders"), None);
        assert_eq!(literal_db(r"\d+\.x"), None);
    }
}
