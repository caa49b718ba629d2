//! The Kafka side: converters (`key.converter` / `value.converter`, connector-level over
//! the worker's) → `[format]`; brokers and producer settings (worker `producer.*`,
//! connector `producer.override.*`) → `[sink]` / `[sink.kafka]`; the worker settings
//! rowtide has an equivalent for.
//!
//! Invariant: a producer setting goes to `[sink.kafka]` only under a name librdkafka
//! documents (with the same meaning); Java-only settings are dropped with the librdkafka
//! equivalent to set by hand.

use toml::Value;

use super::ctx::{boolean, integer, shown, string, Conv, Ctx, Origin, Val};
use super::librdkafka::is_producer_property;
use super::plan::Class;

const W: Origin = Origin::Worker;
const C: Origin = Origin::Connector;

pub fn map_kafka(ctx: &mut Ctx) {
    if ctx.has(C, "producer.override.bootstrap.servers") {
        ctx.map_scalar(
            C,
            "producer.override.bootstrap.servers",
            "sink",
            "brokers",
            string,
        );
    } else if ctx.has(W, "producer.bootstrap.servers") {
        ctx.map_scalar(W, "producer.bootstrap.servers", "sink", "brokers", string);
    }
    if ctx.plan.settings.iter().any(|s| s.key == "brokers") {
        if ctx.has(W, "bootstrap.servers") {
            ctx.drop_prop(
                W,
                "bootstrap.servers",
                Class::NotNeeded,
                "the producer's own bootstrap.servers overrides it",
            );
        }
    } else {
        ctx.map_scalar(W, "bootstrap.servers", "sink", "brokers", string);
    }
    producer(ctx);
    super::converters::map_converters(ctx);
    worker(ctx);
    exactly_once(ctx);
}

/// KIP-618: a connector that requires exactly-once delivery gets rowtide's
/// (`sink.delivery = "exactly_once"`, which keeps the state in Kafka as Connect keeps its
/// offsets); `requested` stays at-least-once (Connect itself may then fall back).
fn exactly_once(ctx: &mut Ctx) {
    let required = ctx
        .peek_resolved(C, "exactly.once.support")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("required"));
    if !required {
        return;
    }
    ctx.map_scalar(C, "exactly.once.support", "sink", "delivery", |_| {
        Conv::Set(toml::Value::String("exactly_once".into()))
    });
    ctx.set(
        "checkpoint",
        "store",
        toml::Value::String("kafka".into()),
        "exactly.once.support (exactly-once keeps the state in Kafka, with the records)".into(),
    );
}

/// Worker `producer.X` and connector `producer.override.X` (the connector's wins).
fn producer(ctx: &mut Ctx) {
    let mut props: Vec<(Origin, String, String)> = vec![];
    for name in ctx.names_with_prefix(C, "producer.override.") {
        let key = name["producer.override.".len()..].to_string();
        props.push((C, name, key));
    }
    for name in ctx.names_with_prefix(W, "producer.") {
        let key = name["producer.".len()..].to_string();
        if props.iter().any(|(_, _, k)| *k == key) {
            let why = format!("the connector's producer.override.{key} overrides it");
            ctx.drop_prop(W, &name, Class::NotNeeded, why);
            continue;
        }
        props.push((W, name, key));
    }
    for (origin, name, key) in props {
        if !ctx.unused(origin).contains(&name) {
            continue; // bootstrap.servers, taken above
        }
        if key == "sasl.jaas.config" {
            jaas(ctx, origin, &name);
            continue;
        }
        producer_setting(ctx, origin, &name, &key);
    }
}

/// One producer setting: librdkafka's name, or a Java-only one with its librdkafka
/// counterpart.
fn producer_setting(ctx: &mut Ctx, origin: Origin, name: &str, key: &str) {
    let java_only =
        |hint: &str| Conv::Unsupported(format!("a Java producer setting librdkafka lacks; {hint}"));
    let peek = |k: &str| {
        ctx.peek_resolved(origin, &name.replace(key, k))
            .unwrap_or_default()
            .to_ascii_uppercase()
    };
    let conv = match key {
        "key.serializer" | "value.serializer" | "max.block.ms" | "metadata.max.idle.ms" => {
            Conv::NotNeeded("the Kafka Connect producer's own plumbing; rowtide's librdkafka producer needs none".into())
        }
        "partitioner.class" => Conv::Unsupported("rowtide partitions as Java's default partitioner does (librdkafka murmur2_random); a partitioner class cannot be loaded".into()),
        "buffer.memory" => java_only("set queue.buffering.max.kbytes (KiB) in [sink.kafka]"),
        "max.request.size" => java_only("set message.max.bytes in [sink.kafka]"),
        "ssl.truststore.location" if peek("ssl.truststore.type") == "PEM" => {
            return set_kafka(ctx, origin, name, "ssl.ca.location");
        }
        "ssl.truststore.location" | "ssl.truststore.password" | "ssl.truststore.type" | "ssl.truststore.certificates" => {
            if key == "ssl.truststore.type" && peek("ssl.truststore.type") == "PEM" {
                Conv::NotNeeded("PEM: ssl.truststore.location is carried over as ssl.ca.location".into())
            } else {
                java_only("export the CA certificate to PEM and set ssl.ca.location in [sink.kafka]")
            }
        }
        "ssl.keystore.type" => match peek("ssl.keystore.type").as_str() {
            "PKCS12" => Conv::NotNeeded("librdkafka's ssl.keystore.location is PKCS#12".into()),
            _ => java_only("librdkafka reads a PKCS#12 keystore (ssl.keystore.location) or PEM files (ssl.certificate.location, ssl.key.location)"),
        },
        "ssl.keystore.location" | "ssl.keystore.password" if peek("ssl.keystore.type") != "PKCS12" => {
            java_only("librdkafka's ssl.keystore.location must be PKCS#12 (ssl.keystore.type=PKCS12); or use ssl.certificate.location and ssl.key.location")
        }
        "ssl.endpoint.identification.algorithm" => {
            let v = ctx.peek_resolved(origin, name).unwrap_or_default();
            let v = if v.trim().is_empty() { "none".to_string() } else { v };
            Conv::Set(Value::String(v))
        }
        k if is_producer_property(k) => {
            return set_kafka(ctx, origin, name, k);
        }
        _ => Conv::Unsupported("not a librdkafka producer setting (rowtide's producer is librdkafka)".into()),
    };
    match conv {
        Conv::Set(v) => {
            ctx.consume(origin, name);
            ctx.set("sink.kafka", key, v, shown(origin, name));
        }
        other => {
            ctx.apply(origin, name, "sink.kafka", key, other);
        }
    }
}

fn set_kafka(ctx: &mut Ctx, origin: Origin, name: &str, key: &str) {
    ctx.map_scalar(origin, name, "sink.kafka", key, string);
}

/// `sasl.jaas.config` with Kafka's PLAIN or SCRAM login module → `sasl.username` and
/// `sasl.password`; other login modules have no librdkafka counterpart.
fn jaas(ctx: &mut Ctx, origin: Origin, name: &str) {
    let v = match ctx.take(origin, name) {
        Some(Val::Ok(v)) => v,
        Some(Val::Unresolved(u)) => {
            let why = format!("its value {} cannot be resolved here ({}); set sasl.username and sasl.password in [sink.kafka]", u.reference, u.why);
            ctx.drop_prop(origin, name, Class::Unsupported, why);
            return;
        }
        None => return,
    };
    let module_ok = v.contains("PlainLoginModule") || v.contains("ScramLoginModule");
    match (
        module_ok,
        jaas_option(&v, "username"),
        jaas_option(&v, "password"),
    ) {
        (true, Some(user), Some(pass)) => {
            let from = format!("{} (the login module's username)", shown(origin, name));
            ctx.set("sink.kafka", "sasl.username", Value::String(user), from);
            let from = format!("{} (the login module's password)", shown(origin, name));
            ctx.set("sink.kafka", "sasl.password", Value::String(pass), from);
        }
        _ => ctx.drop_prop(
            origin,
            name,
            Class::Unsupported,
            "only Kafka's PlainLoginModule / ScramLoginModule with username and password map \
             to librdkafka (sasl.username, sasl.password); for OAUTHBEARER or GSSAPI set \
             librdkafka's sasl.oauthbearer.* / sasl.kerberos.* in [sink.kafka]",
        ),
    }
}

/// `key="value"` (or `key=value`) in a JAAS configuration line.
fn jaas_option(jaas: &str, key: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(
        r#"(?:^|\s){key}\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))"#
    ))
    .ok()?;
    let c = re.captures(jaas)?;
    c.get(1)
        .map(|m| m.as_str().replace("\\\"", "\"").replace("\\\\", "\\"))
        .or_else(|| c.get(2).map(|m| m.as_str().to_string()))
}

/// The worker settings with a rowtide counterpart; every other worker setting concerns
/// the Kafka Connect worker itself.
fn worker(ctx: &mut Ctx) {
    ctx.map_scalar(
        W,
        "offset.flush.interval.ms",
        "checkpoint",
        "flush_interval_ms",
        |v| integer(v, i64::MAX),
    );
    ctx.map_scalar(
        W,
        "task.shutdown.graceful.timeout.ms",
        "pipeline",
        "shutdown_timeout_secs",
        |v| match v.trim().parse::<u64>() {
            Ok(ms) => Conv::Set(Value::Integer(
                i64::try_from(ms.div_ceil(1000)).unwrap_or(i64::MAX),
            )),
            Err(_) => Conv::Invalid("expected milliseconds".into()),
        },
    );
    ctx.map_scalar(W, "topic.creation.enable", "sink", "create_topics", boolean);
    for name in ctx.unused(W) {
        let why = if name.starts_with("config.providers") {
            "read to resolve ${…} references (see the top of this file)"
        } else if name.starts_with("consumer.") || name.starts_with("admin.") {
            "settings of the worker's consumers / admin client; rowtide's Kafka clients all take [sink.kafka]"
        } else if ["security.protocol", "ssl.", "sasl."]
            .iter()
            .any(|p| name.starts_with(p))
        {
            "the worker's own clients; source-connector producers take producer.* (carried over to [sink.kafka])"
        } else {
            "a Kafka Connect worker setting: rowtide runs without a worker"
        };
        ctx.drop_prop(W, &name, Class::NotNeeded, why);
    }
}

#[cfg(test)]
mod tests {
    use super::jaas_option;

    #[test]
    fn jaas_options() {
        let j = r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="cdc" password="p\"w;d";"#;
        assert_eq!(jaas_option(j, "username").as_deref(), Some("cdc"));
        assert_eq!(jaas_option(j, "password").as_deref(), Some("p\"w;d"));
        let j = "org.apache.kafka.common.security.plain.PlainLoginModule required username=u password=x;";
        assert_eq!(jaas_option(j, "password").as_deref(), Some("x"));
        assert_eq!(jaas_option(j, "token"), None);
    }
}
