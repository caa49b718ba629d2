//! A transform's options as read from `[[transforms]]`: values are the Kafka Connect
//! property values (strings such as `"true"`, `"rewrite"`, `"op,source.ts_ms"`), and TOML
//! booleans, integers and arrays are accepted where they mean the same thing.
//!
//! Invariant: every option a transform reads is marked used; [`Options::finish`] rejects
//! whatever is left, so a misspelt option is an error naming `transforms[i].key`, never
//! silently ignored.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};

/// The options of one `[[transforms]]` entry.
#[derive(Debug)]
pub struct Options<'a> {
    /// `transforms` or `predicates` (for messages).
    section: &'static str,
    index: usize,
    name: &'a str,
    map: &'a BTreeMap<String, toml::Value>,
    used: BTreeSet<&'a str>,
}

impl<'a> Options<'a> {
    pub fn new(index: usize, name: &'a str, map: &'a BTreeMap<String, toml::Value>) -> Self {
        Options {
            section: "transforms",
            index,
            name,
            map,
            used: BTreeSet::new(),
        }
    }

    /// The options of one `[[predicates]]` entry.
    pub fn for_predicate(
        index: usize,
        name: &'a str,
        map: &'a BTreeMap<String, toml::Value>,
    ) -> Self {
        Options {
            section: "predicates",
            ..Options::new(index, name, map)
        }
    }

    /// An error about option `key`.
    pub fn error(&self, key: &str, what: impl std::fmt::Display) -> Error {
        Error::Config(format!(
            "{}[{}] ({}): {key}: {what}",
            self.section, self.index, self.name
        ))
    }

    fn raw(&mut self, key: &str) -> Option<&'a toml::Value> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.insert(k.as_str());
        Some(v)
    }

    /// A text option (numbers and booleans are accepted as their text).
    pub fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.raw(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(toml::Value::Integer(i)) => Ok(Some(i.to_string())),
            Some(toml::Value::Boolean(b)) => Ok(Some(b.to_string())),
            Some(toml::Value::Array(a)) => {
                let parts: Option<Vec<&str>> = a.iter().map(|v| v.as_str()).collect();
                parts
                    .map(|p| Some(p.join(",")))
                    .ok_or_else(|| self.error(key, "expected a string or a list of strings"))
            }
            Some(other) => Err(self.error(key, format!("expected a string, found {other}"))),
        }
    }

    /// A text option with a default.
    pub fn string_or(&mut self, key: &str, default: &str) -> Result<String> {
        Ok(self.string(key)?.unwrap_or_else(|| default.to_string()))
    }

    /// A boolean (`true`/`false`, as TOML or as text).
    pub fn bool_or(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.raw(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(toml::Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(toml::Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => Err(self.error(key, format!("expected true or false, found {other}"))),
        }
    }

    /// A non-negative integer.
    pub fn usize_or(&mut self, key: &str, default: usize) -> Result<usize> {
        match self.raw(key) {
            None => Ok(default),
            Some(toml::Value::Integer(i)) if *i >= 0 => Ok(*i as usize),
            Some(toml::Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| self.error(key, format!("expected a number, found {s:?}"))),
            Some(other) => Err(self.error(key, format!("expected a number, found {other}"))),
        }
    }

    /// A comma-separated list (or a TOML array), items trimmed, empty items dropped.
    pub fn list(&mut self, key: &str) -> Result<Vec<String>> {
        Ok(self
            .string(key)?
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A regex option.
    pub fn regex(&mut self, key: &str) -> Result<Option<regex::Regex>> {
        match self.string(key)? {
            None => Ok(None),
            Some(p) => regex::Regex::new(&p)
                .map(Some)
                .map_err(|e| self.error(key, format!("{p:?} is not a valid regex: {e}"))),
        }
    }

    /// Rejects the options nobody read.
    pub fn finish(self) -> Result<()> {
        let unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !self.used.contains(k.as_str()))
            .collect();
        match unknown.first() {
            None => Ok(()),
            Some(k) => Err(self.error(
                k,
                format!(
                    "unknown option for this {} (options are the Kafka Connect property \
                     names with '.' and '-' written as '_')",
                    if self.section == "predicates" {
                        "predicate"
                    } else {
                        "transform"
                    }
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str(text).expect("test TOML")
    }

    #[test]
    fn reads_strings_booleans_lists_and_rejects_leftovers() {
        let m = map(r#"add_fields = "op, source.ts_ms,,table"
               drop = "true"
               n = 5
               regex = "a(.*)""#);
        let mut o = Options::new(2, "unwrap", &m);
        assert_eq!(
            o.list("add_fields").unwrap(),
            ["op", "source.ts_ms", "table"]
        );
        assert!(o.bool_or("drop", false).unwrap());
        assert_eq!(o.usize_or("n", 1).unwrap(), 5);
        assert!(o.regex("regex").unwrap().is_some());
        assert!(o.finish().is_ok());

        let m = map(r#"add_feilds = "op""#);
        let o = Options::new(0, "unwrap", &m);
        let e = o.finish().unwrap_err().to_string();
        assert!(e.contains("transforms[0] (unwrap): add_feilds"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_option() {
        let m = map(r#"flag = "maybe""#);
        let mut o = Options::new(1, "t", &m);
        let e = o.bool_or("flag", true).unwrap_err().to_string();
        assert!(
            e.contains("transforms[1] (t): flag") && e.contains("true or false"),
            "{e}"
        );
        let m = map(r#"regex = "(""#);
        let mut o = Options::new(1, "t", &m);
        assert!(o.regex("regex").is_err());
    }
}
