//! Kafka Connect config-provider references in values: `${file:PATH:KEY}`
//! (`FileConfigProvider`: KEY of the properties file PATH), `${file:PATH}` (the whole file,
//! without its trailing newline), `${dir:DIR:FILE}` (`DirectoryConfigProvider`: the content
//! of DIR/FILE) and `${env:VAR}` (`EnvVarConfigProvider`; `${env:VAR:DEFAULT}` falls back
//! to DEFAULT). Provider aliases are the conventional `file`, `dir` and `env`, or whatever
//! a Connect worker's `config.providers` declares for those classes (`rowtide import`).
//! Shared by `rowtide import debezium` and the loading of every configuration value
//! ([`resolve_document`]).
//!
//! Invariant: a value is either resolved completely, or reported unresolved with the
//! reference that could not be read and why — never half-substituted.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The provider classes rowtide can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Env,
}

/// One `${provider:path:key}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The whole reference as written.
    pub text: String,
    pub provider: String,
    pub path: Option<String>,
    pub key: String,
}

/// A value that could not be resolved: the reference and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub reference: String,
    pub why: String,
}

/// Looks up an environment variable (the process environment, or a test's).
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String>>;

/// A properties file as read: its keys, or why it could not be read.
type ReadFile = Result<BTreeMap<String, String>, String>;

/// Resolves references; files are read once.
pub struct Providers {
    aliases: BTreeMap<String, Kind>,
    env: EnvLookup,
    files: RefCell<BTreeMap<PathBuf, ReadFile>>,
}

fn pattern() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    // Kafka's ConfigTransformer pattern: ${provider:[path:]key}.
    RE.get_or_init(|| {
        regex::Regex::new(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}").expect("constant regex")
    })
}

/// The references in a value, in order.
pub fn references(value: &str) -> Vec<Reference> {
    pattern()
        .captures_iter(value)
        .map(|c| Reference {
            text: c[0].to_string(),
            provider: c[1].to_string(),
            path: c.get(2).map(|m| m.as_str().to_string()),
            key: c[3].to_string(),
        })
        .collect()
}

/// The reference when the whole value is one (`${dir:/run/secrets:db}`).
pub fn whole_reference(value: &str) -> Option<Reference> {
    let refs = references(value);
    match refs.as_slice() {
        [r] if r.text == value => Some(r.clone()),
        _ => None,
    }
}

impl Providers {
    /// Providers with the conventional aliases plus the worker's `config.providers`
    /// declarations (`config.providers=a,b`, `config.providers.a.class=…`).
    pub fn new(worker: &BTreeMap<String, String>, env: EnvLookup) -> Self {
        let mut aliases: BTreeMap<String, Kind> = [
            ("file".to_string(), Kind::File),
            ("dir".to_string(), Kind::Dir),
            ("env".to_string(), Kind::Env),
        ]
        .into();
        for alias in worker
            .get("config.providers")
            .map(|s| s.split(',').map(str::trim).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let class = worker
                .get(&format!("config.providers.{alias}.class"))
                .map(|s| s.trim());
            let kind = match class.and_then(|c| c.rsplit('.').next()) {
                Some("FileConfigProvider") => Some(Kind::File),
                Some("DirectoryConfigProvider") => Some(Kind::Dir),
                Some("EnvVarConfigProvider") => Some(Kind::Env),
                _ => None,
            };
            match kind {
                Some(k) => aliases.insert(alias.to_string(), k),
                None => aliases.remove(alias),
            };
        }
        Providers {
            aliases,
            env,
            files: RefCell::new(BTreeMap::new()),
        }
    }

    /// The provider class an alias stands for.
    pub fn kind(&self, alias: &str) -> Option<Kind> {
        self.aliases.get(alias).copied()
    }

    /// The value with every reference replaced, or the first one that cannot be.
    pub fn resolve(&self, value: &str) -> Result<String, Unresolved> {
        let mut out = String::with_capacity(value.len());
        let mut last = 0;
        for c in pattern().captures_iter(value) {
            let m = c.get(0).expect("group 0");
            let r = Reference {
                text: m.as_str().to_string(),
                provider: c[1].to_string(),
                path: c.get(2).map(|g| g.as_str().to_string()),
                key: c[3].to_string(),
            };
            let v = self.lookup(&r).map_err(|why| Unresolved {
                reference: r.text.clone(),
                why,
            })?;
            out.push_str(&value[last..m.start()]);
            out.push_str(&v);
            last = m.end();
        }
        out.push_str(&value[last..]);
        Ok(out)
    }

    fn lookup(&self, r: &Reference) -> Result<String, String> {
        let Some(kind) = self.kind(&r.provider) else {
            return Err(format!(
                "rowtide cannot read config provider `{}` (it reads file, dir and env)",
                r.provider
            ));
        };
        match (kind, r.path.as_deref()) {
            (Kind::Env, None) => (self.env)(&r.key)
                .ok_or_else(|| format!("environment variable {} is not set", r.key)),
            (Kind::Env, Some(var)) => Ok((self.env)(var).unwrap_or_else(|| r.key.clone())),
            (Kind::File, Some(path)) => self.file_key(Path::new(path), &r.key),
            (Kind::Dir, Some(dir)) => {
                let p = Path::new(dir).join(&r.key);
                std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
            }
            (Kind::File, None) => std::fs::read_to_string(&r.key)
                .map(|t| {
                    t.strip_suffix('\n')
                        .map(|t| t.strip_suffix('\r').unwrap_or(t))
                        .unwrap_or(&t)
                        .to_string()
                })
                .map_err(|e| format!("cannot read {}: {e}", r.key)),
            (Kind::Dir, None) => Err(format!(
                "`{}` names no path (expected ${{{}:PATH:KEY}})",
                r.text, r.provider
            )),
        }
    }

    fn file_key(&self, path: &Path, key: &str) -> Result<String, String> {
        let mut files = self.files.borrow_mut();
        let parsed = files.entry(path.to_path_buf()).or_insert_with(|| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|t| {
                    super::properties::parse(&t).map_err(|e| format!("{}: {e}", path.display()))
                })
        });
        match parsed {
            Ok(map) => map
                .get(key)
                .cloned()
                .ok_or_else(|| format!("{} has no key {key}", path.display())),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Resolves the references in every string of a parsed configuration (any section, any
/// depth, `[sink.kafka]` keys and transform options included). A value that comes from a
/// file or directory, or that a secret key holds, is registered with [`crate::redact`].
/// The error names the key and the reference.
pub(crate) fn resolve_document(doc: &mut toml::Table, env: EnvLookup) -> Result<(), String> {
    let providers = Providers::new(&BTreeMap::new(), env);
    for (k, v) in doc.iter_mut() {
        resolve_value(&providers, k, v)?;
    }
    Ok(())
}

fn resolve_value(p: &Providers, path: &str, v: &mut toml::Value) -> Result<(), String> {
    match v {
        toml::Value::String(s) => {
            let refs = references(s);
            if refs.is_empty() {
                return Ok(());
            }
            let resolved = p.resolve(s).map_err(|u| {
                format!(
                    "`{path}`: cannot resolve {}: {}; references are ${{env:VAR}}, \
                     ${{file:/path}}, ${{file:/path:key}} (a .properties file) and \
                     ${{dir:/dir:file}}",
                    u.reference, u.why
                )
            })?;
            let key = path.rsplit('.').next().unwrap_or(path);
            let secret = crate::redact::is_secret_key(key) || crate::redact::is_secret_key(path);
            for r in &refs {
                let from_file = matches!(p.kind(&r.provider), Some(Kind::File | Kind::Dir));
                if secret || from_file {
                    if let Ok(value) = p.lookup(r) {
                        crate::redact::register(&value);
                    }
                }
            }
            *s = resolved;
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                resolve_value(p, &format!("{path}[{i}]"), item)?;
            }
        }
        toml::Value::Table(t) => {
            for (k, item) in t.iter_mut() {
                resolve_value(p, &format!("{path}.{k}"), item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers(worker: &[(&str, &str)]) -> Providers {
        let w = worker
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Providers::new(
            &w,
            Box::new(|k| (k == "IMPORT_T_SET").then(|| "from-env".to_string())),
        )
    }

    #[test]
    fn parses_references_like_kafka() {
        let r = references("jdbc:${file:/etc/a.properties:db.password}/x${env:HOME}");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].provider, "file");
        assert_eq!(r[0].path.as_deref(), Some("/etc/a.properties"));
        assert_eq!(r[0].key, "db.password");
        assert_eq!(r[1].path, None);
        assert_eq!(r[1].key, "HOME");
        assert!(whole_reference("${dir:/run/secrets:pw}").is_some());
        assert!(whole_reference("x${dir:/run/secrets:pw}").is_none());
        assert!(references("no reference ${here}").is_empty());
    }

    #[test]
    fn resolves_env_with_default_and_file_keys() {
        let dir = std::env::temp_dir().join(format!("rowtide-import-prov-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secrets.properties");
        std::fs::write(&file, "db.password = s3cr\\u0065t\n").unwrap();
        std::fs::write(dir.join("pw"), "whole-file\n").unwrap();
        let p = providers(&[]);
        assert_eq!(
            p.resolve("a-${env:IMPORT_T_SET}-b").unwrap(),
            "a-from-env-b"
        );
        assert_eq!(
            p.resolve("${env:IMPORT_T_UNSET:fallback}").unwrap(),
            "fallback"
        );
        let e = p.resolve("${env:IMPORT_T_UNSET}").unwrap_err();
        assert_eq!(e.reference, "${env:IMPORT_T_UNSET}");
        assert!(e.why.contains("not set"), "{e:?}");
        let f = format!("${{file:{}:db.password}}", file.display());
        assert_eq!(p.resolve(&f).unwrap(), "s3cret");
        let missing = format!("${{file:{}:nope}}", file.display());
        assert!(p.resolve(&missing).unwrap_err().why.contains("no key nope"));
        let d = format!("${{dir:{}:pw}}", dir.display());
        assert_eq!(p.resolve(&d).unwrap(), "whole-file\n");
        let v = p.resolve("${vault:secret/db:password}").unwrap_err();
        assert!(v.why.contains("vault"), "{v:?}");
        assert!(p
            .resolve("${file:/nonexistent/rowtide.properties:k}")
            .unwrap_err()
            .why
            .contains("cannot read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn worker_aliases() {
        let p = providers(&[
            ("config.providers", "secrets, vault, env"),
            (
                "config.providers.secrets.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            ),
            (
                "config.providers.vault.class",
                "com.example.VaultConfigProvider",
            ),
            (
                "config.providers.env.class",
                "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
            ),
        ]);
        assert_eq!(p.kind("secrets"), Some(Kind::File));
        assert_eq!(p.kind("vault"), None);
        assert_eq!(p.kind("env"), Some(Kind::Env));
        assert_eq!(p.kind("file"), Some(Kind::File));
    }
}
