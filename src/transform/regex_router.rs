//! `org.apache.kafka.connect.transforms.RegexRouter` (alias `regex_router`): renames a
//! record's topic when the whole topic matches `regex`, replacing the first match with
//! `replacement` written in Java's `Matcher.replaceFirst` syntax (`$1`, `${name}`, `\$`).
//!
//! Invariant: the replacement is parsed once, at build time, against the pattern's groups
//! — a reference Java would refuse (`$` at the end, `$x`, a group the pattern does not have,
//! a trailing `\`) is a configuration error, never a failure on the first matching record —
//! and a topic is routed exactly as Kafka Connect's `matches()` + `replaceFirst()` would.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

use super::{Context, Options, Record, Transform};
use crate::error::Result;

/// One piece of a parsed Java replacement.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    /// A group by number (0 = the whole match).
    Group(usize),
}

/// The transform.
#[derive(Debug)]
pub struct RegexRouter {
    /// `^(?:regex)$`: `Matcher.matches()`.
    whole: Regex,
    /// `regex` itself: `replaceFirst` finds the first match from the start again.
    find: Regex,
    replacement: Vec<Piece>,
    /// Routed topics by input topic (a handful of topics, looked up per record).
    routed: HashMap<Arc<str>, Arc<str>>,
}

/// Builds the transform from `regex` and `replacement` (both required, as in Kafka).
pub fn build(opts: &mut Options, _ctx: &Context) -> Result<Box<dyn Transform>> {
    let pattern = opts
        .string("regex")?
        .ok_or_else(|| opts.error("regex", "missing (the regex the whole topic must match)"))?;
    let replacement = opts
        .string("replacement")?
        .ok_or_else(|| opts.error("replacement", "missing (the new topic, `$1` for group 1)"))?;
    let compile = |p: &str| {
        Regex::new(p).map_err(|e| {
            opts.error(
                "regex",
                format!(
                    "{pattern:?} is not a regex rowtide can run (Java syntax without \
                     look-around, back-references or possessive quantifiers): {e}"
                ),
            )
        })
    };
    let find = compile(&pattern)?;
    let whole = compile(&format!("^(?:{pattern})$"))?;
    let replacement =
        parse_replacement(&replacement, &find).map_err(|e| opts.error("replacement", e))?;
    Ok(Box::new(RegexRouter {
        whole,
        find,
        replacement,
        routed: HashMap::new(),
    }))
}

impl RegexRouter {
    /// The topic `topic` is routed to (itself when the regex does not match it whole).
    fn route(&self, topic: &str) -> Option<String> {
        if !self.whole.is_match(topic) {
            return None;
        }
        let caps = self.find.captures(topic)?;
        let m = caps.get(0)?;
        let mut out = String::with_capacity(topic.len() + 16);
        out.push_str(&topic[..m.start()]);
        for p in &self.replacement {
            match p {
                Piece::Text(t) => out.push_str(t),
                // An unmatched group adds nothing, as in Java.
                Piece::Group(g) => out.push_str(caps.get(*g).map_or("", |c| c.as_str())),
            }
        }
        out.push_str(&topic[m.end()..]);
        Some(out)
    }
}

impl Transform for RegexRouter {
    fn apply(&mut self, mut rec: Record) -> Result<Option<Record>> {
        if let Some(t) = self.routed.get(&rec.topic) {
            rec.topic = t.clone();
            return Ok(Some(rec));
        }
        let routed: Arc<str> = match self.route(&rec.topic) {
            Some(t) => t.into(),
            None => rec.topic.clone(),
        };
        // Topics are few; a runaway set (topics made from row data upstream) is cut back.
        if self.routed.len() >= 4096 {
            self.routed.clear();
        }
        self.routed.insert(rec.topic.clone(), routed.clone());
        rec.topic = routed;
        Ok(Some(rec))
    }
}

/// Parses a replacement as `java.util.regex.Matcher.appendReplacement` reads it: `\c` is
/// `c` itself, `$n` a group number (further digits join while the number is a group of
/// `re`), `${name}` a named group (ASCII letters and digits, not starting with a digit);
/// everything else is literal.
fn parse_replacement(s: &str, re: &Regex) -> std::result::Result<Vec<Piece>, String> {
    let groups = re.captures_len() - 1;
    let mut out: Vec<Piece> = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => text.push(e),
                None => return Err(format!("{s:?}: character to be escaped is missing")),
            },
            '$' => {
                let group = match chars.next() {
                    None => return Err(format!("{s:?}: illegal group reference: group index is missing (write \\$ for a literal $)")),
                    Some('{') => named_group(s, &mut chars, re)?,
                    Some(d) if d.is_ascii_digit() => {
                        let mut n = d as usize - '0' as usize;
                        while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                            let more = n * 10 + next as usize;
                            if more > groups {
                                break;
                            }
                            n = more;
                            chars.next();
                        }
                        if n > groups {
                            return Err(format!(
                                "{s:?}: no group {n} (the regex has {groups} group(s))"
                            ));
                        }
                        n
                    }
                    Some(other) => {
                        return Err(format!(
                            "{s:?}: illegal group reference `${other}` (write \\$ for a literal $)"
                        ))
                    }
                };
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(Piece::Group(group));
            }
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// The rest of a `${name}` reference (after the `{`): the group's number.
fn named_group(
    s: &str,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    re: &Regex,
) -> std::result::Result<usize, String> {
    let mut name = String::new();
    while let Some(c) = chars.peek().copied().filter(char::is_ascii_alphanumeric) {
        name.push(c);
        chars.next();
    }
    if name.is_empty() {
        return Err(format!("{s:?}: named capturing group has 0 length name"));
    }
    if chars.next() != Some('}') {
        return Err(format!(
            "{s:?}: named capturing group is missing trailing '}}'"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "{s:?}: capturing group name {{{name}}} starts with digit character"
        ));
    }
    re.capture_names()
        .position(|n| n == Some(name.as_str()))
        .ok_or_else(|| format!("{s:?}: no group with name {{{name}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(regex: &str, replacement: &str) -> std::result::Result<RegexRouter, String> {
        let find = Regex::new(regex).map_err(|e| e.to_string())?;
        let whole = Regex::new(&format!("^(?:{regex})$")).map_err(|e| e.to_string())?;
        let replacement = parse_replacement(replacement, &find)?;
        Ok(RegexRouter {
            whole,
            find,
            replacement,
            routed: HashMap::new(),
        })
    }

    fn route(regex: &str, replacement: &str, topic: &str) -> String {
        let r = router(regex, replacement).expect("valid router");
        r.route(topic).unwrap_or_else(|| topic.to_string())
    }

    #[test]
    fn routes_like_kafka_connect() {
        // The Kafka documentation's example.
        assert_eq!(
            route(
                "(.*)\\.(.*)\\.(.*)",
                "$1_$3",
                "dbserver1.inventory.customers"
            ),
            "dbserver1_customers"
        );
        // Only a whole-topic match routes.
        assert_eq!(
            route("inventory", "x", "dbserver1.inventory.customers"),
            "dbserver1.inventory.customers"
        );
        assert_eq!(route("p\\.db\\.t_(.*)", "p.db.all", "p.db.t_1"), "p.db.all");
        // replaceFirst finds the first match again: with `a|ab` on "ab" it is "a".
        assert_eq!(route("a|ab", "X", "ab"), "Xb");
        // Escapes and named groups.
        assert_eq!(
            route("(?<db>\\w+)\\.(\\w+)", "\\$${db}\\\\$2", "s.t"),
            "$s\\t"
        );
        // `$12` is group 1 then `2` when there is no group 12.
        assert_eq!(route("(a)(b)", "$12", "ab"), "a2");
        // An unmatched group adds nothing.
        assert_eq!(route("(x)?(y)", "[$1$2]", "y"), "[y]");
    }

    #[test]
    fn refuses_what_java_refuses() {
        for (re, rep) in [
            ("(a)", "$"),
            ("(a)", "$2"),
            ("(a)", "$x"),
            ("(a)", "x\\"),
            ("(?<n>a)", "${m}"),
            ("(?<n>a)", "${}"),
            ("(?<n>a)", "${n"),
        ] {
            assert!(router(re, rep).is_err(), "{re} / {rep}");
        }
        assert!(router("(?=a)", "x").is_err());
    }
}
