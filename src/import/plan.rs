//! What an import produces before it is written: rowtide settings, each with the Debezium
//! properties it comes from; the settings left to the environment; and every property not
//! carried over with its reason. [`Plan::render`] turns it into commented TOML.
//!
//! Invariant: every Debezium property read ends up in exactly one place — a setting's
//! `from`, an environment reference, or the dropped list — so the report accounts for all
//! of them.

use std::fmt::Write as _;

/// One `key = value` of a section (`source`, `sink`, `sink.kafka`, `format`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub section: &'static str,
    pub key: String,
    pub value: toml::Value,
    /// The comment after `# from `: the Debezium property (and a note).
    pub from: String,
}

/// One entry of an array of tables (`[[events.column_mask]]`, `[[transforms]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub array: &'static str,
    pub from: String,
    /// Keys in order, each with its own `from` comment when it has one.
    pub fields: Vec<(String, toml::Value, Option<String>)>,
}

/// A key whose value could not be resolved here and is left to `ROWTIDE_<SECTION>__<KEY>`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvRef {
    pub var: String,
    pub key: String,
    pub property: String,
    pub reference: String,
    pub why: String,
}

/// Why a property is not carried over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// rowtide has no equivalent: the behaviour it configured is lost (exit code 3).
    Unsupported,
    /// Nothing to carry over: rowtide needs no such setting or already behaves so.
    NotNeeded,
}

/// A property not carried over.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    /// The property, with ` (worker)` when it comes from the worker configuration.
    pub property: String,
    /// Its value, `None` when the name says it holds a secret.
    pub value: Option<String>,
    pub class: Class,
    pub reason: String,
}

/// The result of mapping a connector (and worker) configuration.
#[derive(Debug, Default)]
pub struct Plan {
    pub settings: Vec<Setting>,
    pub items: Vec<Item>,
    pub env: Vec<EnvRef>,
    pub dropped: Vec<Dropped>,
    /// Remarks for the header (a format left at its default, a framing difference, …).
    pub notes: Vec<String>,
}

/// The order sections are written in.
const SECTIONS: &[&str] = &[
    "source",
    "sink",
    "sink.kafka",
    "format",
    "checkpoint",
    "pipeline",
    "events",
    "events.column_mask",
    "events.column_mask_hash",
    "events.column_truncate",
    "heartbeat",
    "signals",
    "snapshot",
    "notifications",
    "transforms",
    "predicates",
];

/// A TOML key: bare when it can be, quoted otherwise (`"compression.type"`).
pub fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

/// Comment lines: each line of `text` prefixed with `# ` and `indent`.
fn comment(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {indent}{line}");
    }
}

impl Plan {
    pub fn unsupported(&self) -> impl Iterator<Item = &Dropped> {
        self.dropped
            .iter()
            .filter(|d| d.class == Class::Unsupported)
    }

    /// The configuration as commented TOML. `title` heads it.
    pub fn render(&self, title: &str) -> String {
        let mut out = String::new();
        comment(&mut out, "", title);
        out.push_str(
            "# Each key names the Debezium property it comes from; the properties not carried\n\
             # over are listed at the end with the reason.\n",
        );
        for n in &self.notes {
            out.push_str("#\n");
            comment(&mut out, "", n);
        }
        if !self.env.is_empty() {
            out.push_str(
                "#\n# Set in the environment when running rowtide (not resolvable here):\n",
            );
            for e in &self.env {
                comment(
                    &mut out,
                    "  ",
                    &format!(
                        "{}  ({} from {} = {}: {})",
                        e.var, e.key, e.property, e.reference, e.why
                    ),
                );
            }
        }
        for section in SECTIONS {
            self.render_section(&mut out, section);
        }
        self.render_dropped(&mut out);
        out
    }

    fn render_section(&self, out: &mut String, section: &str) {
        let settings: Vec<&Setting> = self
            .settings
            .iter()
            .filter(|s| s.section == section)
            .collect();
        if !settings.is_empty() {
            let _ = writeln!(out, "\n[{section}]");
            for s in settings {
                comment(out, "", &format!("from {}", s.from));
                let _ = writeln!(out, "{} = {}", toml_key(&s.key), s.value);
            }
        }
        for item in self.items.iter().filter(|i| i.array == section) {
            let _ = writeln!(out, "\n[[{section}]]");
            comment(out, "", &format!("from {}", item.from));
            for (k, v, from) in &item.fields {
                if let Some(f) = from {
                    comment(out, "", &format!("from {f}"));
                }
                let _ = writeln!(out, "{} = {}", toml_key(k), v);
            }
        }
    }

    fn render_dropped(&self, out: &mut String) {
        let mut dropped: Vec<&Dropped> = self.dropped.iter().collect();
        dropped.sort_by(|a, b| (a.class, &a.property).cmp(&(b.class, &b.property)));
        let unsupported = dropped
            .iter()
            .filter(|d| d.class == Class::Unsupported)
            .count();
        out.push_str(
            "\n# ------------------------------------------------------------------------\n",
        );
        let _ = writeln!(
            out,
            "# Debezium properties not carried over: {} unsupported, {} not needed.",
            unsupported,
            dropped.len() - unsupported
        );
        for (class, heading) in [
            (
                Class::Unsupported,
                "Unsupported (rowtide has no equivalent; what they configured is lost):",
            ),
            (Class::NotNeeded, "Not needed:"),
        ] {
            let group: Vec<&&Dropped> = dropped.iter().filter(|d| d.class == class).collect();
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(out, "#\n# {heading}");
            for d in group {
                comment(out, "  ", &d.headline());
                comment(out, "      ", &d.reason);
            }
        }
    }
}

impl Dropped {
    /// `property = value` (the value left out for secrets).
    pub fn headline(&self) -> String {
        match &self.value {
            Some(v) => format!("{} = {}", self.property, one_line(v)),
            None => format!("{} = (secret, not shown)", self.property),
        }
    }
}

/// A value on one line (escapes line breaks), shortened when very long.
fn one_line(v: &str) -> String {
    let s = v.replace('\n', "\\n").replace('\r', "\\r");
    if s.chars().count() > 100 {
        format!("{}…", s.chars().take(100).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sections_items_and_dropped() {
        let mut p = Plan::default();
        p.settings.push(Setting {
            section: "sink.kafka",
            key: "compression.type".into(),
            value: toml::Value::String("lz4".into()),
            from: "producer.override.compression.type".into(),
        });
        p.settings.push(Setting {
            section: "source",
            key: "include".into(),
            value: toml::Value::Array(vec![toml::Value::String(r"(?i:a\.b)".into())]),
            from: "table.include.list".into(),
        });
        p.items.push(Item {
            array: "transforms",
            from: "transforms.unwrap.type".into(),
            fields: vec![("name".into(), toml::Value::String("unwrap".into()), None)],
        });
        p.dropped.push(Dropped {
            property: "tasks.max".into(),
            value: Some("1".into()),
            class: Class::NotNeeded,
            reason: "one task".into(),
        });
        p.dropped.push(Dropped {
            property: "database.ssl.keystore.password".into(),
            value: None,
            class: Class::Unsupported,
            reason: "no client certificates".into(),
        });
        let text = p.render("title");
        let source = text.find("[source]").unwrap();
        let kafka = text.find("[sink.kafka]").unwrap();
        assert!(source < kafka, "{text}");
        assert!(
            text.contains(
                "# from producer.override.compression.type\n\"compression.type\" = \"lz4\""
            ),
            "{text}"
        );
        assert!(
            text.contains("[[transforms]]\n# from transforms.unwrap.type\nname = \"unwrap\""),
            "{text}"
        );
        assert!(text.contains("1 unsupported, 1 not needed"), "{text}");
        assert!(
            text.contains("database.ssl.keystore.password = (secret, not shown)"),
            "{text}"
        );
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["source"]["include"][0].as_str(), Some(r"(?i:a\.b)"));
    }
}
