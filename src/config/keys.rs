//! The valid keys of every section and the messages that name a wrong key by its full path.
//! Nothing here is a hand-kept list: the keys of a section come from the serialized defaults
//! of the configuration types, and the keys of a nested table from serde's own "expected"
//! list, so they cannot fall behind the types.

use super::Config;

/// The top-level sections (`section` empty) or the keys of one section, in declaration
/// order, from the serialized defaults.
pub(super) fn valid_keys(section: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(root)) = serde_json::to_value(Config::default()) else {
        return Vec::new();
    };
    if section.is_empty() {
        return root.keys().cloned().collect();
    }
    match root.get(section) {
        Some(serde_json::Value::Object(keys)) => keys.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The valid key closest to `key` in `section`, if one is close enough to be a typo.
pub fn suggest(section: &str, key: &str) -> Option<String> {
    closest(&valid_keys(section), key)
}

fn closest(candidates: &[String], key: &str) -> Option<String> {
    candidates
        .iter()
        .map(|k| (strsim::damerau_levenshtein(k, key), k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k.clone())
}

/// The sections (other than `except`) that have `key`.
fn sections_with(key: &str, except: &str) -> Vec<String> {
    valid_keys("")
        .into_iter()
        .filter(|s| s != except && valid_keys(s).iter().any(|k| k == key))
        .collect()
}

/// Explains a deserialization error of `text` (the configuration as TOML, with the
/// environment overrides applied): the key by its full path (`checkpoint.store`), the table
/// it sits in, a close valid key, and the valid keys of that table.
pub(super) fn explain(text: &str, err: &toml::de::Error) -> String {
    let msg = err.message().trim();
    let (table, line_key) = match err.span() {
        Some(span) => locate(text, span.start),
        None => (Located::default(), None),
    };
    let Some(key) = backticked(msg)
        .first()
        .cloned()
        .filter(|_| msg.starts_with("unknown field"))
    else {
        return match line_key {
            Some(k) => format!("`{}`: {msg}", join(&table.path, &k)),
            None => msg.to_string(),
        };
    };
    let expected = msg
        .split_once("expected")
        .map(|(_, rest)| backticked(rest))
        .unwrap_or_default();
    let name = join(&table.path, &key);
    let header = table.header();
    let mut out = format!("unknown key `{name}` in {header}");
    if let Some(k) = closest(&expected, &key) {
        out.push_str(&format!("; did you mean `{k}`?"));
    } else if table.path.len() <= 1 {
        let here = table.path.first().map_or("", String::as_str);
        let elsewhere = sections_with(&key, here);
        if !elsewhere.is_empty() {
            let list: Vec<String> = elsewhere.iter().map(|s| format!("[{s}]")).collect();
            out.push_str(&format!("; `{key}` is a key of {}", list.join(", ")));
        }
    }
    if expected.is_empty() {
        out.push_str(&format!("\n{header} takes no keys"));
    } else {
        out.push_str(&format!(
            "\nthe valid keys of {header} are: {}",
            expected.join(", ")
        ));
    }
    out
}

/// The table a position of the TOML text is in, and the key of its line.
#[derive(Default)]
struct Located {
    path: Vec<String>,
    array: bool,
}

impl Located {
    fn header(&self) -> String {
        match (self.path.is_empty(), self.array) {
            (true, _) => "the top level".into(),
            (false, true) => format!("[[{}]]", self.path.join(".")),
            (false, false) => format!("[{}]", self.path.join(".")),
        }
    }
}

fn locate(text: &str, pos: usize) -> (Located, Option<String>) {
    let pos = pos.min(text.len());
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    // A table header itself: the key is its last part, the table its parent.
    if let Some(mut h) = parse_header(line) {
        let key = h.path.pop();
        h.array = false;
        return (h, key);
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .find_map(parse_header)
        .unwrap_or_default();
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    (table, key)
}

fn parse_header(line: &str) -> Option<Located> {
    let l = line.trim();
    let (inner, array) = if let Some(i) = l.strip_prefix("[[") {
        (i.split("]]").next()?, true)
    } else {
        (l.strip_prefix('[')?.split(']').next()?, false)
    };
    let path = inner
        .split('.')
        .map(|p| p.trim().trim_matches('"').to_string())
        .collect();
    Some(Located { path, array })
}

fn join(path: &[String], key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{}.{key}", path.join("."))
    }
}

/// The words between backticks in a serde message.
fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, w)| w.to_string())
        .collect()
}
