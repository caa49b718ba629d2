//! The mapping context: the connector's and the worker's properties, which of them have
//! been consumed, the provider resolver, and the [`Plan`] being built, with the helpers
//! every mapping uses (resolve, convert, set, drop, leave to the environment).
//!
//! Invariant: a property is consumed at most once ([`Ctx::take`] marks it), and what is
//! not consumed by a mapping is classified by `known::classify` at the end — nothing is
//! silently ignored.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{Class, Dropped, EnvRef, Plan, Setting};
use crate::config::providers::{Providers, Unresolved};

/// Where a property was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Connector,
    Worker,
}

/// A property's value after provider resolution.
#[derive(Debug, Clone)]
pub enum Val {
    Ok(String),
    Unresolved(Unresolved),
}

/// The outcome of converting one value.
pub enum Conv {
    Set(toml::Value),
    Unsupported(String),
    NotNeeded(String),
    /// A value Debezium itself refuses: the import fails (exit 2).
    Invalid(String),
}

pub struct Ctx<'a> {
    pub connector: BTreeMap<String, String>,
    pub worker: BTreeMap<String, String>,
    used: BTreeSet<(bool, String)>,
    pub providers: &'a Providers,
    pub plan: Plan,
    pub errors: Vec<String>,
}

/// The display name of a property (`name (worker)` for worker properties).
pub fn shown(origin: Origin, name: &str) -> String {
    match origin {
        Origin::Connector => name.to_string(),
        Origin::Worker => format!("{name} (worker)"),
    }
}

impl<'a> Ctx<'a> {
    pub fn new(
        connector: BTreeMap<String, String>,
        worker: BTreeMap<String, String>,
        providers: &'a Providers,
    ) -> Self {
        Ctx {
            connector,
            worker,
            used: BTreeSet::new(),
            providers,
            plan: Plan::default(),
            errors: vec![],
        }
    }

    fn map(&self, origin: Origin) -> &BTreeMap<String, String> {
        match origin {
            Origin::Connector => &self.connector,
            Origin::Worker => &self.worker,
        }
    }

    /// True when the property is present (consumed or not).
    pub fn has(&self, origin: Origin, name: &str) -> bool {
        self.map(origin).contains_key(name)
    }

    /// The raw value without consuming it.
    pub fn peek(&self, origin: Origin, name: &str) -> Option<&str> {
        self.map(origin).get(name).map(String::as_str)
    }

    /// The resolved value without consuming it (`None` when absent or unresolvable).
    pub fn peek_resolved(&self, origin: Origin, name: &str) -> Option<String> {
        self.peek(origin, name)
            .and_then(|v| self.providers.resolve(v).ok())
    }

    /// Consumes the property and resolves its value.
    pub fn take(&mut self, origin: Origin, name: &str) -> Option<Val> {
        let raw = self.map(origin).get(name)?.clone();
        self.used
            .insert((origin == Origin::Worker, name.to_string()));
        Some(match self.providers.resolve(&raw) {
            Ok(v) => Val::Ok(v),
            Err(u) => Val::Unresolved(u),
        })
    }

    /// Marks a property consumed without reading it.
    pub fn consume(&mut self, origin: Origin, name: &str) {
        self.used
            .insert((origin == Origin::Worker, name.to_string()));
    }

    /// The properties of `origin` not consumed yet, in name order.
    pub fn unused(&self, origin: Origin) -> Vec<String> {
        self.map(origin)
            .keys()
            .filter(|k| {
                !self
                    .used
                    .contains(&(origin == Origin::Worker, (*k).clone()))
            })
            .cloned()
            .collect()
    }

    /// The names of `origin`'s properties that start with `prefix`.
    pub fn names_with_prefix(&self, origin: Origin, prefix: &str) -> Vec<String> {
        self.map(origin)
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }

    pub fn set(&mut self, section: &'static str, key: &str, value: toml::Value, from: String) {
        self.plan
            .settings
            .retain(|s| !(s.section == section && s.key == key));
        self.plan.settings.push(Setting {
            section,
            key: key.to_string(),
            value,
            from,
        });
    }

    /// Records a property as not carried over (its value hidden when its name says secret).
    pub fn drop_prop(
        &mut self,
        origin: Origin,
        name: &str,
        class: Class,
        reason: impl Into<String>,
    ) {
        self.consume(origin, name);
        let value = if is_secret_prop(name) {
            None
        } else {
            self.peek(origin, name).map(str::to_string)
        };
        self.plan.dropped.push(Dropped {
            property: shown(origin, name),
            value,
            class,
            reason: reason.into(),
        });
    }

    /// Maps one property to `section.key` through `conv`. An unresolvable value is left to
    /// the `ROWTIDE_<SECTION>__<KEY>` environment variable when the key has one, else
    /// dropped as unsupported. Returns true when the key was set.
    pub fn map_scalar(
        &mut self,
        origin: Origin,
        prop: &str,
        section: &'static str,
        key: &str,
        conv: impl Fn(&str) -> Conv,
    ) -> bool {
        let Some(val) = self.take(origin, prop) else {
            return false;
        };
        let v = match val {
            Val::Ok(v) => v,
            Val::Unresolved(u) => {
                self.unresolved(origin, prop, section, key, u);
                return false;
            }
        };
        self.apply(origin, prop, section, key, conv(&v))
    }

    /// Judges a property that maps to no key (its value decides only whether it is needed).
    pub fn judge(&mut self, origin: Origin, prop: &str, conv: impl Fn(&str) -> Conv) {
        match self.take(origin, prop) {
            None => {}
            Some(Val::Ok(v)) => {
                self.apply(origin, prop, "-", "-", conv(&v));
            }
            Some(Val::Unresolved(u)) => self.drop_prop(
                origin,
                prop,
                Class::Unsupported,
                format!(
                    "its value {} cannot be resolved here ({})",
                    u.reference, u.why
                ),
            ),
        }
    }

    /// Applies a conversion outcome for `prop`.
    pub fn apply(
        &mut self,
        origin: Origin,
        prop: &str,
        section: &'static str,
        key: &str,
        c: Conv,
    ) -> bool {
        match c {
            Conv::Set(value) => {
                self.set(section, key, value, shown(origin, prop));
                true
            }
            Conv::Unsupported(r) => {
                self.drop_prop(origin, prop, Class::Unsupported, r);
                false
            }
            Conv::NotNeeded(r) => {
                self.drop_prop(origin, prop, Class::NotNeeded, r);
                false
            }
            Conv::Invalid(r) => {
                let v = self.peek(origin, prop).unwrap_or_default().to_string();
                let v = if is_secret_prop(prop) {
                    "(secret)".into()
                } else {
                    v
                };
                self.errors
                    .push(format!("{} = {v}: {r}", shown(origin, prop)));
                false
            }
        }
    }

    /// An unresolvable value: an environment reference when `section.key` has one.
    pub fn unresolved(
        &mut self,
        origin: Origin,
        prop: &str,
        section: &str,
        key: &str,
        u: Unresolved,
    ) {
        if section.contains('.') || section == "transforms" {
            self.drop_prop(
                origin,
                prop,
                Class::Unsupported,
                format!(
                    "its value {} cannot be resolved here ({}), and {section} has no \
                     environment override",
                    u.reference, u.why
                ),
            );
            return;
        }
        self.plan.env.push(EnvRef {
            var: format!(
                "ROWTIDE_{}__{}",
                section.to_ascii_uppercase(),
                key.to_ascii_uppercase()
            ),
            key: format!("{section}.{key}"),
            property: shown(origin, prop),
            reference: u.reference,
            why: u.why,
        });
    }
}

/// True when a Debezium / Kafka Connect property holds a secret by its name (its value is
/// then never shown in the report). Narrower than `redact::is_secret_key` on purpose:
/// `key.converter` or `message.key.columns` hold no secret.
pub fn is_secret_prop(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "credential",
        "jaas",
        "user.info",
        "userinfo",
        "apikey",
        "api.key",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.ends_with(".key")
        || n.ends_with("key.pem")
}

/// `true`/`false` as Kafka's ConfigDef reads a BOOLEAN (trimmed, any case).
pub fn boolean(v: &str) -> Conv {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Conv::Set(toml::Value::Boolean(true)),
        "false" => Conv::Set(toml::Value::Boolean(false)),
        _ => Conv::Invalid("expected true or false".into()),
    }
}

/// A non-negative integer that fits `max`.
pub fn integer(v: &str, max: i64) -> Conv {
    match v.trim().parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => Conv::Set(toml::Value::Integer(n)),
        _ => Conv::Invalid(format!("expected an integer from 0 to {max}")),
    }
}

pub fn string(v: &str) -> Conv {
    Conv::Set(toml::Value::String(v.to_string()))
}

/// One of `allowed` (Debezium value → rowtide value), compared trimmed and case-insensitively
/// as Debezium's enums are; `others` lists Debezium values rowtide lacks, with the reason.
pub fn one_of(v: &str, allowed: &[(&str, &str)], others: &[(&str, &str)]) -> Conv {
    let v = v.trim().to_ascii_lowercase();
    if let Some((_, r)) = allowed.iter().find(|(d, _)| *d == v) {
        return Conv::Set(toml::Value::String(r.to_string()));
    }
    if let Some((_, why)) = others.iter().find(|(d, _)| *d == v) {
        return Conv::Unsupported(why.to_string());
    }
    let mut names: Vec<&str> = allowed.iter().map(|(d, _)| *d).collect();
    names.extend(others.iter().map(|(d, _)| *d));
    Conv::Invalid(format!(
        "not a value Debezium accepts ({})",
        names.join(", ")
    ))
}

/// A comma-separated list of regexes split as Debezium's `Strings.RegExSplitter` does:
/// `\,` is a comma inside a regex, every other backslash escape stays as written, parts
/// are trimmed and empty parts dropped.
pub fn regex_list(v: &str) -> Vec<String> {
    let mut parts = vec![];
    let mut cur = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| p.trim().replace("\\,", ","))
        .filter(|p| !p.is_empty())
        .collect()
}

/// A comma-separated list as Kafka's ConfigDef reads a LIST (trimmed items, empties dropped).
pub fn plain_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The first regex of `patterns` that rowtide's regex engine refuses, with the reason.
pub fn bad_regex(patterns: &[String]) -> Option<String> {
    patterns.iter().find_map(|p| {
        regex::Regex::new(p).err().map(|e| {
            format!(
                "`{p}` is a Java regex rowtide's regex engine does not accept ({}); rewrite it \
                 without look-around, back-references or possessive quantifiers",
                e.to_string().lines().last().unwrap_or_default().trim()
            )
        })
    })
}

pub fn str_array(items: &[String]) -> toml::Value {
    toml::Value::Array(
        items
            .iter()
            .map(|s| toml::Value::String(s.clone()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_lists_split_like_debezium() {
        assert_eq!(
            regex_list(r" inventory\.orders , inventory\.c[a-z]{1\,3}, ,x\\"),
            vec![r"inventory\.orders", r"inventory\.c[a-z]{1,3}", r"x\\"]
        );
        assert!(regex_list("").is_empty());
        assert_eq!(plain_list(" c, u ,,"), vec!["c", "u"]);
        assert!(bad_regex(&["(?<=a)b".into()])
            .unwrap()
            .contains("look-around"));
        assert!(bad_regex(&[r"a\.b".into()]).is_none());
    }

    #[test]
    fn enums_and_scalars() {
        assert!(matches!(
            boolean(" TRUE "),
            Conv::Set(toml::Value::Boolean(true))
        ));
        assert!(matches!(boolean("yes"), Conv::Invalid(_)));
        assert!(matches!(
            integer("3306", 65535),
            Conv::Set(toml::Value::Integer(3306))
        ));
        assert!(matches!(integer("70000", 65535), Conv::Invalid(_)));
        let allowed = [("precise", "precise")];
        let others = [("adaptive", "no adaptive")];
        assert!(matches!(one_of("Precise", &allowed, &others), Conv::Set(_)));
        assert!(matches!(
            one_of("adaptive", &allowed, &others),
            Conv::Unsupported(_)
        ));
        assert!(matches!(
            one_of("bogus", &allowed, &others),
            Conv::Invalid(_)
        ));
    }
}
