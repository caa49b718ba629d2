//! Java's "if the whole name matches, `replaceFirst`" (what Kafka Connect's `RegexRouter`
//! and Debezium's routers do with a topic name): `Matcher.matches()` decides, then
//! `replaceFirst` replaces the *first* match found by a fresh search (which can be shorter
//! than the whole name: `a|ab` on `ab` replaces `a` and keeps `b`), expanding the
//! replacement with `java.util.regex.Matcher.appendReplacement`'s rules: `$n` (the longest
//! group number that exists), `${name}`, `\x` for a literal `x`.
//!
//! Invariant: the replacement is parsed once, when the transform is configured; a reference
//! Java would reject at the first record (`No group 3`, a lone `$`) is a configuration error
//! here, so a running pipeline never fails on it.

use regex::{Captures, Regex};

/// One piece of a parsed replacement.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Text(String),
    Group(usize),
}

/// A pattern and its replacement, as Java applies them to a topic name.
#[derive(Debug, Clone)]
pub struct JavaRegex {
    find: Regex,
    full: Regex,
    replacement: Vec<Token>,
}

impl JavaRegex {
    /// Compiles `pattern` and parses `replacement`; the error says what is wrong.
    pub fn new(pattern: &str, replacement: &str) -> Result<Self, String> {
        let find =
            Regex::new(pattern).map_err(|e| format!("{pattern:?} is not a valid regex: {e}"))?;
        let full = Regex::new(&format!(r"\A(?:{pattern})\z"))
            .map_err(|e| format!("{pattern:?} is not a valid regex: {e}"))?;
        let replacement = parse_replacement(&find, replacement)?;
        Ok(JavaRegex {
            find,
            full,
            replacement,
        })
    }

    /// The replaced text when the whole of `text` matches, else `None`.
    pub fn replace_if_matches(&self, text: &str) -> Option<String> {
        if !self.full.is_match(text) {
            return None;
        }
        let caps = self.find.captures(text)?;
        let whole = caps.get(0)?;
        let mut out = String::with_capacity(text.len() + 16);
        out.push_str(&text[..whole.start()]);
        self.expand(&caps, &mut out);
        out.push_str(&text[whole.end()..]);
        Some(out)
    }

    fn expand(&self, caps: &Captures<'_>, out: &mut String) {
        for t in &self.replacement {
            match t {
                Token::Text(s) => out.push_str(s),
                // A group that did not take part in the match appends nothing.
                Token::Group(i) => out.push_str(caps.get(*i).map_or("", |m| m.as_str())),
            }
        }
    }
}

/// `Matcher.appendReplacement`'s parser, resolved against `re`'s groups.
fn parse_replacement(re: &Regex, rep: &str) -> Result<Vec<Token>, String> {
    let groups = re.captures_len() - 1;
    let mut tokens = Vec::new();
    let mut text = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => text.push(e),
                None => return Err(format!("{rep:?}: character to be escaped is missing")),
            },
            '$' => {
                let group = match chars.peek().copied() {
                    None => {
                        return Err(format!(
                            "{rep:?}: illegal group reference: group index is missing"
                        ))
                    }
                    Some('{') => {
                        chars.next();
                        let mut name = String::new();
                        while let Some(&n) = chars.peek() {
                            if !n.is_ascii_alphanumeric() {
                                break;
                            }
                            name.push(n);
                            chars.next();
                        }
                        if name.is_empty() {
                            return Err(format!(
                                "{rep:?}: named capturing group has 0 length name"
                            ));
                        }
                        if chars.next() != Some('}') {
                            return Err(format!(
                                "{rep:?}: named capturing group is missing trailing '}}'"
                            ));
                        }
                        named_group(re, &name)
                            .ok_or_else(|| format!("{rep:?}: no group with name {{{name}}}"))?
                    }
                    Some(d) if d.is_ascii_digit() => {
                        chars.next();
                        let mut n = d as usize - '0' as usize;
                        // The longest group number that exists.
                        while let Some(&next) = chars.peek() {
                            let Some(digit) = next.to_digit(10) else {
                                break;
                            };
                            let longer = n * 10 + digit as usize;
                            if longer > groups {
                                break;
                            }
                            n = longer;
                            chars.next();
                        }
                        if n > groups {
                            return Err(format!("{rep:?}: no group {n}"));
                        }
                        n
                    }
                    Some(_) => return Err(format!("{rep:?}: illegal group reference")),
                };
                if !text.is_empty() {
                    tokens.push(Token::Text(std::mem::take(&mut text)));
                }
                tokens.push(Token::Group(group));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        tokens.push(Token::Text(text));
    }
    Ok(tokens)
}

fn named_group(re: &Regex, name: &str) -> Option<usize> {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    re.capture_names().position(|n| n == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(p: &str, r: &str, t: &str) -> Option<String> {
        JavaRegex::new(p, r).expect("valid").replace_if_matches(t)
    }

    #[test]
    fn replaces_like_java() {
        assert_eq!(
            apply(r"(.*)\.shard_[0-9]+", "$1.shards", "p.db.shard_1").as_deref(),
            Some("p.db.shards")
        );
        assert_eq!(
            apply(
                "(?<routedByValue>.*)",
                "outbox.event.${routedByValue}",
                "Order"
            )
            .as_deref(),
            Some("outbox.event.Order")
        );
        assert_eq!(apply(r"(.*)\.x", "$1.y", "p.db.x.z"), None);
        // replaceFirst searches again: the first match may be shorter than the whole.
        assert_eq!(apply("a|ab", "X", "ab").as_deref(), Some("Xb"));
        // $12 with one group is group 1 then "2"; \$ is a literal dollar.
        assert_eq!(apply("(a)", r"$12\$", "a").as_deref(), Some("a2$"));
        // A group that did not participate appends nothing.
        assert_eq!(apply("(a)|(b)", "[$1$2]", "b").as_deref(), Some("[b]"));
    }

    #[test]
    fn rejects_what_java_rejects() {
        for bad in ["$", "$3", "${x}", "$a", "x\\", "${}", "${a"] {
            assert!(JavaRegex::new("(a)", bad).is_err(), "{bad}");
        }
        assert!(JavaRegex::new("(", "x").is_err());
    }
}
