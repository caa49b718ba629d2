//! Which tables are captured: `include` / `exclude` regexes on `db.table`, anchored at both
//! ends, with the server's system schemas always excluded. A table that is not captured
//! costs nothing: its rows events are skipped without decoding.

use regex::Regex;

/// A pattern in `source.include` / `source.exclude` that is not a valid regex.
#[derive(Debug, thiserror::Error)]
#[error("source.{key}: `{pattern}` is not a valid regex: {source}")]
pub struct FilterError {
    /// `include` or `exclude`.
    pub key: &'static str,
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

/// Schemas that belong to the server, never captured.
pub const SYSTEM_SCHEMAS: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// A compiled table filter.
#[derive(Debug, Clone)]
pub struct Filter {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

impl Filter {
    /// Compiles the patterns; an invalid regex is a configuration error naming the key.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, FilterError> {
        let compile = |key: &'static str, pats: &[String]| -> Result<Vec<Regex>, FilterError> {
            pats.iter()
                .map(|p| {
                    Regex::new(&format!("^(?:{p})$")).map_err(|source| FilterError {
                        key,
                        pattern: p.clone(),
                        source,
                    })
                })
                .collect()
        };
        Ok(Self {
            include: compile("include", include)?,
            exclude: compile("exclude", exclude)?,
        })
    }

    /// Captures everything but the system schemas.
    pub fn all() -> Self {
        Self {
            include: vec![],
            exclude: vec![],
        }
    }

    /// True when `db.table` is captured.
    pub fn captures(&self, db: &str, table: &str) -> bool {
        if SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(db)) {
            return false;
        }
        let name = format!("{db}.{table}");
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(&name)))
            && !self.exclude.iter().any(|r| r.is_match(&name))
    }

    /// True when some table of `db` may be captured (used for database-level DDL).
    pub fn may_capture_db(&self, db: &str) -> bool {
        if SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(db)) {
            return false;
        }
        self.include.is_empty()
            || self.include.iter().any(|r| {
                let src = r.as_str();
                // A pattern such as ^(?:inventory\..*)$ names its database literally.
                src.contains(&regex::escape(db)) || src.contains(db) || !src.contains("\\.")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_include_exclude() {
        let f = Filter::new(&["inventory\\..*".into()], &["inventory\\.tmp_.*".into()]).unwrap();
        assert!(f.captures("inventory", "orders"));
        assert!(!f.captures("inventory", "tmp_x"));
        assert!(!f.captures("inventory2", "orders"));
        assert!(!f.captures("xinventory", "orders"));
        assert!(!Filter::all().captures("mysql", "user"));
        assert!(Filter::all().captures("shop", "user"));
        assert!(Filter::new(&["(".into()], &[]).is_err());
    }
}
