//! `key.converter` / `value.converter` → `[format]`: Kafka's JsonConverter (with or
//! without schemas), Confluent's and Apicurio's AvroConverter (with the registry URL and
//! credentials). The connector's converter overrides the worker's, options included, as
//! Kafka Connect does.
//!
//! Invariant: rowtide encodes keys and values with one `format.kind` and one registry, so
//! the key converter is carried over only when it agrees with the value converter; a
//! disagreeing one is dropped as unsupported.

use toml::Value;

use super::ctx::{shown, Ctx, Origin};
use super::plan::Class;

/// What one converter means for `[format]`.
struct Spec {
    origin: Origin,
    which: &'static str,
    class: String,
    /// `json`, `json_schema` or `avro`; `Err` with the reason when rowtide has none.
    kind: Result<&'static str, String>,
    /// `(format key, value, from)` to set.
    sets: Vec<(&'static str, Value, String)>,
    /// Options judged: `(property, class, reason)`.
    verdicts: Vec<(String, Class, String)>,
    /// Secrets that cannot be resolved: `(property, why)`, left to the environment.
    env: Vec<(String, String)>,
    notes: Vec<String>,
}

pub fn map_converters(ctx: &mut Ctx) {
    let value = read(ctx, "value.converter");
    let key = read(ctx, "key.converter");
    let Some(value) = value else {
        if let Some(k) = key {
            drop_all(
                ctx,
                &k,
                Class::Unsupported,
                "no value.converter is configured, and rowtide takes format.kind from it",
            );
        } else {
            ctx.plan.notes.push(
                "format.kind is not set: no converter was found (they are in the worker \
                 configuration; pass --worker). rowtide's default is json (JsonConverter \
                 without schemas)."
                    .into(),
            );
        }
        return;
    };
    overridden(ctx, "value.converter", value.origin);
    if let Some(k) = &key {
        overridden(ctx, "key.converter", k.origin);
    }
    apply_value(ctx, &value);
    if let Some(k) = key {
        let same_url = k.sets.iter().filter(|s| s.0 == "registry_url").all(|s| {
            value
                .sets
                .iter()
                .any(|v| v.0 == "registry_url" && v.1 == s.1)
        }) && [
            ("subject_name_strategy", Value::String("topic".into())),
            ("auto_register", Value::Boolean(true)),
            ("use_latest_version", Value::Boolean(false)),
        ]
        .into_iter()
        .all(|(key, default)| {
            effective(&k, key, default.clone()) == effective(&value, key, default)
        });
        match (&k.kind, &value.kind) {
            (Ok(a), Ok(b)) if a == b && same_url => {
                drop_all(
                    ctx,
                    &k,
                    Class::NotNeeded,
                    "the same as value.converter: rowtide encodes keys with format.kind too",
                );
            }
            _ => {
                let why = format!(
                    "rowtide encodes keys like values (format.kind from value.converter = {}); \
                     a different key converter ({}) is not offered",
                    value.class, k.class
                );
                drop_all(ctx, &k, Class::Unsupported, &why);
            }
        }
    }
}

/// Worker converter settings the connector's converter replaces.
fn overridden(ctx: &mut Ctx, which: &str, used: Origin) {
    if used != Origin::Connector {
        return;
    }
    for name in ctx.names_with_prefix(Origin::Worker, which) {
        if name == which || name.starts_with(&format!("{which}.")) {
            let why = format!("the connector's {which} overrides the worker's");
            ctx.drop_prop(Origin::Worker, &name, Class::NotNeeded, why);
        }
    }
}

fn drop_all(ctx: &mut Ctx, spec: &Spec, class: Class, why: &str) {
    ctx.drop_prop(spec.origin, spec.which, class, why);
    for name in ctx.names_with_prefix(spec.origin, &format!("{}.", spec.which)) {
        ctx.drop_prop(spec.origin, &name, class, why);
    }
}

fn apply_value(ctx: &mut Ctx, spec: &Spec) {
    match &spec.kind {
        Ok(kind) => {
            ctx.consume(spec.origin, spec.which);
            let from = format!("{} = {}", shown(spec.origin, spec.which), spec.class);
            ctx.set("format", "kind", Value::String(kind.to_string()), from);
        }
        Err(why) => {
            drop_all(ctx, spec, Class::Unsupported, why);
            return;
        }
    }
    for (key, value, from) in &spec.sets {
        ctx.set("format", key, value.clone(), from.clone());
    }
    for (prop, class, why) in &spec.verdicts {
        ctx.drop_prop(spec.origin, prop, *class, why.clone());
    }
    for (prop, why) in &spec.env {
        let u = crate::config::providers::Unresolved {
            reference: ctx.peek(spec.origin, prop).unwrap_or_default().to_string(),
            why: why.clone(),
        };
        ctx.consume(spec.origin, prop);
        ctx.unresolved(spec.origin, prop, "format", "registry_password", u);
    }
    ctx.plan.notes.extend(spec.notes.iter().cloned());
    for name in ctx.names_with_prefix(spec.origin, &format!("{}.", spec.which)) {
        ctx.consume(spec.origin, &name);
    }
}

/// Reads the effective converter `which` (the connector's, else the worker's).
fn read(ctx: &Ctx, which: &'static str) -> Option<Spec> {
    let origin = if ctx.has(Origin::Connector, which) {
        Origin::Connector
    } else if ctx.has(Origin::Worker, which) {
        Origin::Worker
    } else {
        return None;
    };
    let class = ctx.peek_resolved(origin, which)?.trim().to_string();
    let mut spec = Spec {
        origin,
        which,
        class: class.clone(),
        kind: Ok("json"),
        sets: vec![],
        verdicts: vec![],
        env: vec![],
        notes: vec![],
    };
    let opts: Vec<(String, String)> = ctx
        .names_with_prefix(origin, &format!("{which}."))
        .into_iter()
        .map(|n| (n[which.len() + 1..].to_string(), n))
        .collect();
    match class.as_str() {
        "org.apache.kafka.connect.json.JsonConverter" => json(ctx, &mut spec, &opts),
        "io.confluent.connect.avro.AvroConverter" => confluent(ctx, &mut spec, &opts),
        "io.apicurio.registry.utils.converter.AvroConverter" => apicurio(ctx, &mut spec, &opts),
        other => {
            spec.kind = Err(format!(
                "rowtide writes JSON (JsonConverter) or Avro with a registry (AvroConverter); \
                 {other} is not offered"
            ));
        }
    }
    Some(spec)
}

fn resolved(ctx: &Ctx, origin: Origin, name: &str) -> Result<String, String> {
    match ctx.peek(origin, name).map(|v| ctx.providers.resolve(v)) {
        Some(Ok(v)) => Ok(v),
        Some(Err(u)) => Err(u.why),
        None => Err("absent".into()),
    }
}

fn json(ctx: &Ctx, spec: &mut Spec, opts: &[(String, String)]) {
    spec.kind = Ok("json_schema");
    for (opt, name) in opts {
        let v = resolved(ctx, spec.origin, name)
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let verdict = match (opt.as_str(), v.as_str()) {
            ("schemas.enable", "false") => {
                spec.kind = Ok("json");
                (Class::NotNeeded, "carried over as format.kind = \"json\"".to_string())
            }
            ("schemas.enable", _) => (Class::NotNeeded, "carried over as format.kind = \"json_schema\"".into()),
            ("schemas.cache.size", _) => (Class::NotNeeded, "rowtide caches every schema it renders".into()),
            ("decimal.format", "base64") => (Class::NotNeeded, "BASE64 is how rowtide writes decimals in JSON".into()),
            ("replace.null.with.default", "true") => (Class::NotNeeded, "rowtide writes null as null (Debezium's optional fields have no default to replace it)".into()),
            _ => (Class::Unsupported, format!("a JsonConverter option rowtide does not offer ({opt} = {v})")),
        };
        spec.verdicts.push((name.clone(), verdict.0, verdict.1));
    }
}

fn confluent(ctx: &Ctx, spec: &mut Spec, opts: &[(String, String)]) {
    spec.kind = Ok("avro");
    for (opt, name) in opts {
        let raw = resolved(ctx, spec.origin, name);
        let v = raw.clone().unwrap_or_default();
        let lower = v.trim().to_ascii_lowercase();
        let verdict = match opt.as_str() {
            "schema.registry.url" => {
                registry_url(spec, name, &v, raw.is_err());
                continue;
            }
            "basic.auth.user.info" => {
                user_info(spec, name, raw);
                continue;
            }
            "basic.auth.credentials.source" => match lower.as_str() {
                "user_info" | "url" => (Class::NotNeeded, "rowtide reads the credentials from basic.auth.user.info or the URL as given".into()),
                _ => (Class::Unsupported, format!("rowtide's registry credentials are basic auth (user info or URL), not {v}")),
            },
            "auto.register.schemas" | "use.latest.version" => {
                registry_flag(spec, opt, name, &lower);
                continue;
            }
            "key.subject.name.strategy" | "value.subject.name.strategy"
                if !opt.starts_with(spec.which.split('.').next().unwrap_or_default()) =>
            {
                (Class::NotNeeded, format!("{opt} applies to the other converter only"))
            }
            "key.subject.name.strategy" | "value.subject.name.strategy" => {
                strategy(spec, name, v.trim());
                continue;
            }
            "connect.meta.data" if lower == "true" => (Class::NotNeeded, "the default".into()),
            "enhanced.avro.schema.support" if lower == "false" => (Class::NotNeeded, "the default".into()),
            o if o.starts_with("schema.registry.ssl.") => (Class::Unsupported, "rowtide reads PEM files, not Java keystores: set format.registry_ca (the CA), format.registry_cert and format.registry_key (mutual TLS)".into()),
            _ => (Class::Unsupported, format!("an AvroConverter option rowtide does not offer ({opt})")),
        };
        spec.verdicts.push((name.clone(), verdict.0, verdict.1));
    }
    if effective(spec, "auto_register", Value::Boolean(true)) == Value::Boolean(true) {
        if let Some(i) = spec.sets.iter().position(|s| s.0 == "use_latest_version") {
            spec.sets.remove(i);
            let name = format!("{}.use.latest.version", spec.which);
            spec.verdicts.push((
                name,
                Class::NotNeeded,
                "Confluent's serializer ignores it while auto.register.schemas = true".into(),
            ));
        }
    }
    if !spec.sets.iter().any(|s| s.0 == "registry_url") {
        spec.kind = Err("AvroConverter without schema.registry.url".into());
    }
}

fn registry_url(spec: &mut Spec, name: &str, v: &str, unresolved: bool) {
    if unresolved {
        spec.verdicts.push((
            name.to_string(),
            Class::Unsupported,
            "its value cannot be resolved here (see the config provider it names)".into(),
        ));
        return;
    }
    let mut urls = v.split(',').map(str::trim).filter(|u| !u.is_empty());
    let Some(first) = urls.next() else {
        return;
    };
    let mut from = shown(spec.origin, name);
    if urls.next().is_some() {
        from.push_str(" (the first URL; rowtide talks to one registry)");
    }
    spec.sets
        .push(("registry_url", Value::String(first.to_string()), from));
}

/// Confluent's subject name strategy classes → `format.subject_name_strategy`.
fn strategy(spec: &mut Spec, name: &str, class: &str) {
    let value = match class.rsplit('.').next().unwrap_or_default() {
        "TopicNameStrategy" => "topic",
        "RecordNameStrategy" => "record",
        "TopicRecordNameStrategy" => "topic_record",
        _ => {
            spec.verdicts.push((
                name.into(),
                Class::Unsupported,
                format!("rowtide names subjects by TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy, not {class}"),
            ));
            return;
        }
    };
    spec.sets.push((
        "subject_name_strategy",
        Value::String(value.into()),
        shown(spec.origin, name),
    ));
}

/// `auto.register.schemas` → `format.auto_register`, `use.latest.version` →
/// `format.use_latest_version`.
fn registry_flag(spec: &mut Spec, opt: &str, name: &str, lower: &str) {
    let key = if opt == "auto.register.schemas" {
        "auto_register"
    } else {
        "use_latest_version"
    };
    match lower {
        "true" | "false" => spec.sets.push((
            key,
            Value::Boolean(lower == "true"),
            shown(spec.origin, name),
        )),
        _ => spec.verdicts.push((
            name.into(),
            Class::Unsupported,
            format!("{opt} is true or false, not {lower}"),
        )),
    }
}

/// The value a converter gives a `[format]` key, `default` when it sets none.
fn effective(spec: &Spec, key: &str, default: Value) -> Value {
    spec.sets
        .iter()
        .find(|s| s.0 == key)
        .map_or(default, |s| s.1.clone())
}

fn user_info(spec: &mut Spec, name: &str, raw: Result<String, String>) {
    match raw {
        Ok(v) => match v.split_once(':') {
            Some((user, pass)) => {
                let from = format!("{} (the part before ':')", shown(spec.origin, name));
                spec.sets.push(("registry_username", Value::String(user.into()), from));
                let from = format!("{} (the part after ':')", shown(spec.origin, name));
                spec.sets.push(("registry_password", Value::String(pass.into()), from));
            }
            None => spec.verdicts.push((name.into(), Class::Unsupported, "not user:password".into())),
        },
        Err(why) => spec.env.push((
            name.into(),
            format!("{why}; set ROWTIDE_FORMAT__REGISTRY_USERNAME and ROWTIDE_FORMAT__REGISTRY_PASSWORD from its user:password"),
        )),
    }
}

/// Apicurio's registry API URL → its Confluent-compatible API (which rowtide speaks).
fn ccompat(url: &str) -> String {
    let u = url.trim_end_matches('/');
    if let Some(base) = u.strip_suffix("/apis/registry/v2") {
        format!("{base}/apis/ccompat/v6")
    } else if let Some(base) = u.strip_suffix("/apis/registry/v3") {
        format!("{base}/apis/ccompat/v7")
    } else {
        u.to_string()
    }
}

fn apicurio(ctx: &Ctx, spec: &mut Spec, opts: &[(String, String)]) {
    spec.kind = Ok("avro");
    for (opt, name) in opts {
        let raw = resolved(ctx, spec.origin, name);
        let v = raw.clone().unwrap_or_default();
        let verdict = match opt.as_str() {
            "apicurio.registry.url" if raw.is_ok() => {
                let from = format!(
                    "{} (its Confluent-compatible API, which rowtide speaks)",
                    shown(spec.origin, name)
                );
                spec.sets
                    .push(("registry_url", Value::String(ccompat(&v)), from));
                continue;
            }
            "apicurio.auth.username" if raw.is_ok() => {
                spec.sets.push((
                    "registry_username",
                    Value::String(v),
                    shown(spec.origin, name),
                ));
                continue;
            }
            "apicurio.auth.password" => {
                match raw {
                    Ok(p) => spec.sets.push((
                        "registry_password",
                        Value::String(p),
                        shown(spec.origin, name),
                    )),
                    Err(why) => spec.env.push((name.clone(), why)),
                }
                continue;
            }
            "apicurio.registry.auto-register" if v.trim().eq_ignore_ascii_case("true") => {
                (Class::NotNeeded, "rowtide registers its schemas".into())
            }
            _ => (
                Class::Unsupported,
                format!("an Apicurio converter option rowtide does not offer ({opt})"),
            ),
        };
        spec.verdicts.push((name.clone(), verdict.0, verdict.1));
    }
    if !spec.sets.iter().any(|s| s.0 == "registry_url") {
        spec.kind = Err("Apicurio AvroConverter without apicurio.registry.url".into());
    }
    spec.notes.push(
        "Avro framing: rowtide writes the Confluent wire format (magic byte and 4-byte schema \
         id before the value, subjects <topic>-key / <topic>-value). Apicurio's converter \
         puts ids in headers by default: consumers reading with Apicurio's deserializer need \
         its Confluent-compatible mode (apicurio.registry.as-confluent=true)."
            .into(),
    );
}

#[cfg(test)]
mod tests {
    use super::ccompat;

    #[test]
    fn apicurio_urls() {
        assert_eq!(
            ccompat("http://r:8080/apis/registry/v2"),
            "http://r:8080/apis/ccompat/v6"
        );
        assert_eq!(
            ccompat("http://r:8080/apis/registry/v3/"),
            "http://r:8080/apis/ccompat/v7"
        );
        assert_eq!(
            ccompat("http://r:8080/apis/ccompat/v7"),
            "http://r:8080/apis/ccompat/v7"
        );
    }
}
