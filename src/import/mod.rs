//! `rowtide import debezium`: turns a Debezium MariaDB/MySQL connector configuration (Kafka
//! Connect REST JSON, a bare JSON map, or a `.properties` file), optionally with the Kafka
//! Connect worker's properties, into a commented rowtide TOML file. Config-provider
//! references (`${file:…}`, `${dir:…}`, `${env:…}`) are resolved where possible.
//!
//! Invariant: what is written loads with [`Config::from_toml`] (checked before writing),
//! every key names the Debezium property it comes from, and every property not carried
//! over is listed with its reason. Exit code 0 when nothing was dropped as unsupported, 3
//! otherwise; unreadable or invalid input is a configuration error (exit 2).

mod converters;
mod ctx;
mod kafka;
mod known;
mod librdkafka;
mod mapping;
mod plan;
mod shaping;
mod signals;
mod transforms;

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::Config;
use crate::config::{properties, providers};
use crate::error::{Error, Result};

pub use plan::{Class, Dropped, Plan};

/// Exit code when a property was dropped as unsupported.
pub const EXIT_UNSUPPORTED: i32 = 3;

/// The result of an import: the TOML text and what went where.
#[derive(Debug)]
pub struct Outcome {
    pub toml: String,
    pub plan: Plan,
    /// Properties read (connector and worker).
    pub read: usize,
}

impl Outcome {
    pub fn exit_code(&self) -> i32 {
        if self.plan.unsupported().next().is_some() {
            EXIT_UNSUPPORTED
        } else {
            0
        }
    }
}

/// The connector configuration in a file: JSON when it looks like JSON, else properties.
pub fn parse_connector(text: &str, path: &Path) -> Result<BTreeMap<String, String>> {
    let bad = |m: String| Error::Config(format!("{}: {m}", path.display()));
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    if !json {
        return properties::parse(text).map_err(bad);
    }
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let serde_json::Value::Object(top) = doc else {
        return Err(bad(
            "expected a JSON object (the connector's configuration)".into(),
        ));
    };
    // The REST API's {"name": …, "config": {…}} or the bare configuration map.
    let (map, name) = match top.get("config") {
        Some(serde_json::Value::Object(c)) => (c.clone(), top.get("name").cloned()),
        _ => (top, None),
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let s = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => continue,
            _ => return Err(bad(format!("the value of {k} is not a string"))),
        };
        out.insert(k, s);
    }
    if let Some(serde_json::Value::String(n)) = name {
        out.entry("name".into()).or_insert(n);
    }
    Ok(out)
}

/// Is this Debezium's MariaDB connector (`Some(true)`), its MySQL one (`Some(false)`)?
fn flavor_of(class: Option<&str>) -> Result<bool> {
    match class.map(str::trim) {
        None => Ok(false),
        Some("io.debezium.connector.mariadb.MariaDbConnector") => Ok(true),
        Some("io.debezium.connector.mysql.MySqlConnector") => Ok(false),
        Some(other) => Err(Error::Config(format!(
            "connector.class = {other}: rowtide imports Debezium's MariaDB or MySQL connector \
             (io.debezium.connector.mariadb.MariaDbConnector, io.debezium.connector.mysql.MySqlConnector)"
        ))),
    }
}

/// Maps parsed properties; `env` looks up environment variables for `${env:…}`.
pub fn import(
    connector: BTreeMap<String, String>,
    worker: BTreeMap<String, String>,
    env: providers::EnvLookup,
    source: &str,
) -> Result<Outcome> {
    if connector.is_empty() {
        return Err(Error::Config(format!("{source}: no connector properties")));
    }
    let mariadb = flavor_of(connector.get("connector.class").map(String::as_str))?;
    let read = connector.len() + worker.len();
    let providers = providers::Providers::new(&worker, env);
    let mut ctx = ctx::Ctx::new(connector, worker, &providers);
    mapping::map_connector(&mut ctx, mariadb);
    shaping::map_shaping(&mut ctx);
    kafka::map_kafka(&mut ctx);
    signals::map_signals(&mut ctx, mariadb);
    known::classify_rest(&mut ctx);
    if !ctx.errors.is_empty() {
        return Err(Error::Config(format!(
            "{source}: invalid connector configuration:\n  {}",
            ctx.errors.join("\n  ")
        )));
    }
    let name = ctx.peek(ctx::Origin::Connector, "name").map(str::to_string);
    let title = match name {
        Some(n) => format!("rowtide configuration imported from Debezium connector `{n}` ({source})\nby `rowtide import debezium`."),
        None => format!("rowtide configuration imported from {source}\nby `rowtide import debezium`."),
    };
    let toml = ctx.plan.render(&title);
    loads(&toml).map_err(|e| {
        Error::Config(format!(
            "the configuration generated from {source} does not load ({e}); this is a bug \
             of the import: please report it with the connector configuration"
        ))
    })?;
    Ok(Outcome {
        toml,
        plan: ctx.plan,
        read,
    })
}

/// What [`Config::from_toml`] checks (parse, keys, types, [`Config::validate`]), without
/// registering the file's secrets for redaction: the report printed afterwards quotes file
/// paths and reasons (`secrets.properties: No such file…`) that the secret scan of the
/// comments would otherwise mask.
fn loads(text: &str) -> Result<Config> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::Config(e.to_string()))?;
    let cfg: Config = toml::Value::Table(doc)
        .try_into()
        .map_err(|e: toml::de::Error| Error::Config(e.to_string()))?;
    cfg.validate()?;
    Ok(cfg)
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read {what} {}: {e}", path.display())))
}

/// `rowtide import debezium CONNECTOR [--worker FILE] [-o FILE]`: returns the exit code.
pub fn debezium(input: &Path, worker: Option<&Path>, output: Option<&Path>) -> Result<i32> {
    let connector = parse_connector(&read_text(input, "connector configuration")?, input)?;
    let worker = match worker {
        Some(w) => properties::parse(&read_text(w, "worker configuration")?)
            .map_err(|e| Error::Config(format!("{}: {e}", w.display())))?,
        None => BTreeMap::new(),
    };
    let env = Box::new(|k: &str| std::env::var(k).ok());
    let source = input.display().to_string();
    let outcome = import(connector, worker, env, &source)?;
    match output {
        Some(path) => write_private(path, &outcome.toml)?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(outcome.toml.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Error::io("writing to stdout", e))?;
        }
    }
    report(&outcome, output);
    Ok(outcome.exit_code())
}

/// Writes the file readable by its owner only: it may hold passwords.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// The summary on stderr: counts, the environment variables to set, and every
/// unsupported property with its reason.
fn report(o: &Outcome, output: Option<&Path>) {
    let unsupported: Vec<&Dropped> = o.plan.unsupported().collect();
    let not_needed = o.plan.dropped.len() - unsupported.len();
    let carried = o.read - o.plan.dropped.len() - o.plan.env.len();
    let target = output.map_or("stdout".to_string(), |p| p.display().to_string());
    let mut lines = vec![format!(
        "rowtide import debezium: {carried} properties carried over to {target}, {} left to \
         the environment, {not_needed} not needed, {} unsupported.",
        o.plan.env.len(),
        unsupported.len()
    )];
    for e in &o.plan.env {
        lines.push(format!(
            "  set {} ({} = {}: {})",
            e.var, e.property, e.reference, e.why
        ));
    }
    if !unsupported.is_empty() {
        lines.push("Unsupported (not carried over; rowtide has no equivalent):".into());
        for d in unsupported {
            lines.push(format!("  {}: {}", d.headline(), d.reason));
        }
    }
    crate::redact::eprintln(&lines.join("\n"));
}

#[cfg(test)]
mod tests;
