//! `rowtide check`: everything `run` needs, checked one line at a time, each failure with
//! the exact fix. Returns true only if `run` would work.

use std::io::Write;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;

use crate::checkpoint::{open_store, Access};
use crate::config::{Config, FormatKind, SinkKind, StoreKind, TlsMode};
use crate::model::Flavor;
use crate::mysql;

mod kafka_state;
use kafka_state::check_state_topic;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(String),
    Warn(String),
    Fail(String),
}

/// Collects and prints results (one line each, or, with `json`, one JSON object at the end).
#[derive(Default)]
pub struct Report {
    pub lines: Vec<(String, Outcome)>,
    pub json: bool,
}

impl Report {
    fn add(&mut self, name: &str, outcome: Outcome) {
        let (tag, text) = match &outcome {
            Outcome::Ok(t) => ("[ OK ]", t),
            Outcome::Warn(t) => ("[WARN]", t),
            Outcome::Fail(t) => ("[FAIL]", t),
        };
        // Redacted; a closed pipe (`rowtide check | head`) must not panic.
        if !self.json {
            crate::redact::println(&format!("{tag} {name}: {text}"));
        }
        self.lines.push((name.to_string(), outcome));
    }

    /// `{"ok": …, "checks": [{"name", "status" (ok|warn|fail), "message", "fix"}]}`; `fix`
    /// is null for a passed check.
    pub fn to_json(&self) -> serde_json::Value {
        let checks: Vec<serde_json::Value> = self
            .lines
            .iter()
            .map(|(name, outcome)| {
                let (status, message) = match outcome {
                    Outcome::Ok(t) => ("ok", t),
                    Outcome::Warn(t) => ("warn", t),
                    Outcome::Fail(t) => ("fail", t),
                };
                let fix = (status != "ok").then(|| fix_for(name));
                serde_json::json!({
                    "name": name,
                    "status": status,
                    "message": crate::redact::redact(message),
                    "fix": fix,
                })
            })
            .collect();
        serde_json::json!({ "ok": self.passed(), "checks": checks })
    }

    pub fn passed(&self) -> bool {
        !self
            .lines
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Fail(_)))
    }
}

/// Runs every check and prints one line per check (or, with `json`, one JSON object).
pub async fn run(cfg: &Config, json: bool) -> bool {
    let mut r = Report {
        json,
        ..Report::default()
    };
    check_source(cfg, &mut r).await;
    check_checkpoint(cfg, &mut r).await;
    if cfg.sink.kind == SinkKind::Kafka {
        check_kafka(cfg, &mut r).await;
    }
    if cfg.format.kind == FormatKind::Avro {
        check_registry(cfg, &mut r).await;
    }
    let ok = r.passed();
    if json {
        crate::redact::println(&r.to_json().to_string());
        return ok;
    }
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        if ok {
            "All checks passed: `rowtide run` can start."
        } else {
            "Some checks failed: fix them before `rowtide run`."
        }
    );
    ok
}

async fn check_source(cfg: &Config, r: &mut Report) {
    let where_ = format!("{}:{}", cfg.source.host, cfg.source.port);
    let mut conn = match mysql::connect(&cfg.source).await {
        Ok(c) => c,
        Err(e) => {
            r.add(
                "source reachable",
                Outcome::Fail(format!(
                    "cannot connect to {where_} as {}: {e}",
                    cfg.source.user
                )),
            );
            return;
        }
    };
    r.add(
        "source reachable",
        Outcome::Ok(format!("connected to {where_} as {}", cfg.source.user)),
    );
    check_tls(cfg, &mut conn, r).await;
    let info = match mysql::server_info(&mut conn, cfg.source.flavor).await {
        Ok(i) => i,
        Err(e) => {
            r.add("server version", Outcome::Fail(e.to_string()));
            return;
        }
    };
    r.add(
        "server version",
        Outcome::Ok(format!("{} ({})", info.version, info.flavor.connector())),
    );
    check_legacy_event_pos(&info, &mut conn, r).await;
    check_requirements(&mut conn, r).await;
    check_row_metadata(&mut conn, r).await;
    check_gtid(info.flavor, &mut conn, r).await;
    check_grants(cfg, &mut conn, r).await;
    check_server_id(cfg, &info, &mut conn, r).await;
    // Can the binlog actually be read?
    match mysql::binary_logs(&mut conn).await {
        Ok(logs) => r.add("binlogs retained", Outcome::Ok(mysql::describe_logs(&logs))),
        Err(e) => r.add(
            "binlogs retained",
            Outcome::Fail(format!("SHOW BINARY LOGS failed: {e}")),
        ),
    }
    let _ = conn.disconnect().await;
}

async fn check_tls(cfg: &Config, conn: &mut Conn, r: &mut Report) {
    let cipher: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .ok()
        .flatten();
    let cipher = cipher.map(|(_, c)| c).filter(|c| !c.is_empty());
    r.add(
        "TLS",
        match (cfg.source.tls, cipher) {
            (TlsMode::Disabled, _) => Outcome::Warn("disabled by source.tls; the binlog travels in clear text".into()),
            (_, Some(c)) => Outcome::Ok(format!("encrypted ({c}), source.tls = {:?}", cfg.source.tls)),
            (TlsMode::Preferred, None) => Outcome::Warn("the server offers no TLS; connected in clear text (set ssl_cert/ssl_key on the server)".into()),
            (_, None) => Outcome::Fail("TLS required but the session is not encrypted".into()),
        },
    );
}

async fn check_legacy_event_pos(info: &mysql::ServerInfo, conn: &mut Conn, r: &mut Report) {
    if info.flavor != Flavor::Mariadb || info.version_number < (11, 4, 0) {
        return;
    }
    let legacy = mysql::variable(conn, "binlog_legacy_event_pos")
        .await
        .ok()
        .flatten();
    if legacy.as_deref().is_some_and(|v| v != "ON" && v != "1") {
        r.add(
            "binlog_legacy_event_pos",
            Outcome::Warn(
                "MariaDB 11.4+: if positions look wrong, set binlog_legacy_event_pos=1".into(),
            ),
        );
    }
}

/// One line per [`SERVER_REQUIREMENTS`] entry.
async fn check_requirements(conn: &mut Conn, r: &mut Report) {
    for req in &SERVER_REQUIREMENTS {
        let outcome = match mysql::variable(conn, req.variable).await {
            Ok(v) => match req.verdict(v) {
                Ok(v) => Outcome::Ok(v),
                Err(problem) => Outcome::Fail(problem),
            },
            Err(e) => Outcome::Fail(e.to_string()),
        };
        r.add(req.variable, outcome);
    }
}

async fn check_row_metadata(conn: &mut Conn, r: &mut Report) {
    match mysql::variable(conn, "binlog_row_metadata").await {
        Ok(Some(v)) if v.eq_ignore_ascii_case("FULL") => r.add("binlog_row_metadata", Outcome::Ok(v)),
        Ok(Some(v)) => r.add(
            "binlog_row_metadata",
            Outcome::Warn(format!("is {v}; FULL is recommended (SET GLOBAL binlog_row_metadata = 'FULL'); MINIMAL works through DDL tracking")),
        ),
        Ok(None) => r.add(
            "binlog_row_metadata",
            Outcome::Warn("not supported by this server version; schemas are tracked from DDL".into()),
        ),
        Err(e) => r.add("binlog_row_metadata", Outcome::Fail(e.to_string())),
    }
}

async fn check_gtid(flavor: Flavor, conn: &mut Conn, r: &mut Report) {
    match flavor {
        Flavor::Mariadb => {
            let strict = mysql::variable(conn, "gtid_strict_mode")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let pos: Option<String> = conn
                .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
                .await
                .ok()
                .flatten();
            r.add(
                "GTID",
                Outcome::Ok(format!(
                    "gtid_binlog_pos = {}, gtid_strict_mode = {strict}",
                    pos.filter(|p| !p.is_empty())
                        .unwrap_or_else(|| "(none yet)".into())
                )),
            );
        }
        Flavor::Mysql => {
            let mode = mysql::variable(conn, "gtid_mode")
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| "OFF".into());
            r.add(
                "GTID",
                if mode.eq_ignore_ascii_case("ON") {
                    Outcome::Ok("gtid_mode = ON".into())
                } else {
                    Outcome::Warn(format!("gtid_mode = {mode}; positions are file:pos only (set gtid_mode=ON and enforce_gtid_consistency=ON for failover-safe positions)"))
                },
            );
        }
    }
}

async fn check_grants(cfg: &Config, conn: &mut Conn, r: &mut Report) {
    let grants: Vec<String> = conn.query("SHOW GRANTS").await.unwrap_or_default();
    let all = grants.join(" ").to_ascii_uppercase();
    let has = |p: &str| all.contains("ALL PRIVILEGES ON *.*") || all.contains(p);
    let user = format!("'{}'@'<host>'", cfg.source.user);
    if has("REPLICATION SLAVE") {
        r.add("grant REPLICATION SLAVE", Outcome::Ok("present".into()));
    } else {
        r.add(
            "grant REPLICATION SLAVE",
            Outcome::Fail(format!(
                "missing; fix: GRANT REPLICATION SLAVE ON *.* TO {user};"
            )),
        );
    }
    if has("REPLICATION CLIENT") || has("BINLOG MONITOR") || has("SUPER") {
        r.add("grant REPLICATION CLIENT", Outcome::Ok("present".into()));
    } else {
        r.add(
            "grant REPLICATION CLIENT",
            Outcome::Fail(format!(
                "missing; fix: GRANT REPLICATION CLIENT ON *.* TO {user};"
            )),
        );
    }
    if has("SELECT") {
        r.add("grant SELECT", Outcome::Ok("present".into()));
    } else {
        r.add("grant SELECT", Outcome::Warn(format!("no global SELECT; snapshots and `rowtide schema` need it: GRANT SELECT ON <db>.* TO {user};")));
    }
    if !has("RELOAD") && !has("LOCK TABLES") {
        r.add(
            "grant RELOAD / LOCK TABLES",
            Outcome::Warn(format!("snapshots on MySQL need RELOAD (or LOCK TABLES as a fallback): GRANT RELOAD, LOCK TABLES ON *.* TO {user};")),
        );
    }
}

/// Server id uniqueness among the connected replicas.
async fn check_server_id(cfg: &Config, info: &mysql::ServerInfo, conn: &mut Conn, r: &mut Report) {
    let hosts: std::result::Result<Vec<mysql_async::Row>, _> = conn
        .query(
            if info.flavor == Flavor::Mysql && info.version_number >= (8, 0, 22) {
                "SHOW REPLICAS"
            } else {
                "SHOW SLAVE HOSTS"
            },
        )
        .await;
    match hosts {
        Ok(rows) => {
            let ids: Vec<u32> = rows.iter().filter_map(|row| row.get::<u32, _>(0)).collect();
            if ids.contains(&cfg.source.server_id) && cfg.ha.group.is_some() {
                // The instances of a failover group share the source's server_id; only the
                // active one reads the binlog.
                r.add("server_id", Outcome::Warn(format!("{} is used by a connected replica: expected while the [ha] group's active instance runs (see `failover group`); otherwise set source.server_id to an unused id", cfg.source.server_id)));
            } else if ids.contains(&cfg.source.server_id) {
                r.add(
                    "server_id",
                    Outcome::Fail(format!(
                        "{} is already used by a connected replica (another rowtide or replica?); set source.server_id to an unused id",
                        cfg.source.server_id
                    )),
                );
            } else {
                r.add("server_id", Outcome::Ok(format!("{} is not used by any connected replica", cfg.source.server_id)));
            }
        }
        Err(_) => r.add(
            "server_id",
            Outcome::Warn(format!(
                "cannot list replicas (needs REPLICATION MASTER ADMIN on MariaDB / REPLICATION SLAVE on MySQL); make sure no other replica uses server_id {}",
                cfg.source.server_id
            )),
        ),
    }
}

async fn check_checkpoint(cfg: &Config, r: &mut Report) {
    let path = cfg.checkpoint.path.clone();
    if cfg.checkpoint.store == StoreKind::Sled && !path.exists() {
        r.add(
            "checkpoint",
            Outcome::Ok(format!(
                "none at {} yet: the first run starts per source.snapshot_mode",
                path.display()
            )),
        );
        return;
    }
    if cfg.checkpoint.store == StoreKind::Kafka && !check_state_topic(cfg, r).await {
        return;
    }
    // Read-only: a Kafka store opened here never fences a running rowtide.
    let c = cfg.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        open_store(&c, c.checkpoint.store, Access::ReadOnly).and_then(|s| s.load())
    })
    .await;
    let cp = match loaded {
        Ok(Ok(cp)) => cp,
        Ok(Err(e)) => {
            r.add("checkpoint", Outcome::Fail(e.to_string()));
            return;
        }
        Err(e) => {
            r.add("checkpoint", Outcome::Fail(e.to_string()));
            return;
        }
    };
    let Some(cp) = cp else {
        r.add(
            "checkpoint",
            Outcome::Ok("empty: the next run starts per source.snapshot_mode".into()),
        );
        return;
    };
    if cp.offset.binlog.file.is_empty() {
        r.add(
            "checkpoint",
            Outcome::Ok(format!("GTID-based: {}", cp.offset)),
        );
        return;
    }
    let logs = match mysql::connect(&cfg.source).await {
        Ok(mut c) => {
            let l = mysql::binary_logs(&mut c).await.unwrap_or_default();
            let _ = c.disconnect().await;
            l
        }
        Err(_) => return,
    };
    if logs
        .iter()
        .any(|(f, size)| *f == cp.offset.binlog.file && cp.offset.binlog.pos <= *size.max(&4))
    {
        r.add(
            "checkpoint retained",
            Outcome::Ok(format!("{} is still on the server", cp.offset.binlog)),
        );
    } else {
        r.add(
            "checkpoint retained",
            Outcome::Fail(format!(
                "{} is no longer on the server (it has {}); re-snapshot (`rowtide offsets reset`) or move on (`rowtide offsets set --position FILE:POS`)",
                cp.offset.binlog,
                mysql::describe_logs(&logs)
            )),
        );
    }
}

async fn check_kafka(cfg: &Config, r: &mut Report) {
    use crate::sink::kafka::{
        client_config, not_authorized, probe, Fault, Identity, KafkaContext, Probe,
    };
    use std::sync::Arc;

    let identity = Identity::of(&cfg.sink);
    let fault = Arc::new(Fault::default());
    let conf = client_config(&cfg.sink);
    let admin: AdminClient<KafkaContext> =
        match conf.create_with_context(KafkaContext::new(identity.clone(), fault.clone())) {
            Ok(a) => a,
            Err(e) => {
                r.add(
                    "kafka",
                    Outcome::Fail(format!("invalid [sink.kafka] settings: {e}")),
                );
                return;
            }
        };
    // After `admin`, so dropped before it (its main queue is not polled: see TokenKeeper).
    #[cfg(feature = "aws-msk-iam")]
    let _admin_token = identity
        .msk
        .as_ref()
        .map(|m| crate::sink::msk_iam::TokenKeeper::start(admin.inner(), m));
    let brokers = cfg.sink.brokers.clone();
    let sink_cfg = cfg.sink.clone();
    let probe = tokio::task::spawn_blocking(move || probe(&sink_cfg, Duration::from_secs(10)))
        .await
        .unwrap_or(Probe::Unreachable);
    let who = identity.describe();
    match probe {
        Probe::Refused(crate::Error::Access { message, .. }) => {
            let name = if message.starts_with("TLS") {
                "kafka tls"
            } else if message.starts_with("not authorized") {
                "kafka authorized"
            } else {
                "kafka authentication"
            };
            r.add(name, Outcome::Fail(message));
            return;
        }
        Probe::Refused(e) => {
            r.add("kafka reachable", Outcome::Fail(e.to_string()));
            return;
        }
        Probe::Unreachable => {
            r.add(
                "kafka reachable",
                Outcome::Fail(format!(
                    "not reachable: no broker answered at {brokers} within 10 s ({who}); check \
                     sink.brokers, the network, and that security.protocol matches the \
                     listener"
                )),
            );
            return;
        }
        Probe::Reached {
            brokers: n,
            topic_error,
        } => {
            r.add(
                "kafka reachable",
                Outcome::Ok(format!("{n} broker(s) at {brokers} ({who})")),
            );
            match topic_error.and_then(|code| not_authorized(&cfg.sink, code)) {
                Some(message) => {
                    r.add("kafka authorized", Outcome::Fail(message));
                    return;
                }
                None if cfg.sink.schema_changes => r.add(
                    "kafka authorized",
                    Outcome::Ok(format!("topic {} can be described", cfg.sink.topic_prefix)),
                ),
                None => r.add(
                    "kafka authorized",
                    Outcome::Warn(
                        "not checked (sink.schema_changes = false): table topics are checked on their first record".into(),
                    ),
                ),
            }
        }
    }
    check_topic_creation(cfg, &admin, &who, r).await;
}

/// `topics creatable`: the brokers validate (without creating) a topic as rowtide would
/// create it.
async fn check_topic_creation(
    cfg: &Config,
    admin: &AdminClient<crate::sink::kafka::KafkaContext>,
    who: &str,
    r: &mut Report,
) {
    let prefix = &cfg.sink.topic_prefix;
    if !cfg.sink.create_topics {
        r.add(
            "topics creatable",
            Outcome::Ok("sink.create_topics = false: topics must exist".into()),
        );
        return;
    }
    let probe = format!("{}.rowtide-check", cfg.sink.topic_prefix);
    let new = NewTopic::new(
        &probe,
        cfg.sink.topic_partitions,
        TopicReplication::Fixed(cfg.sink.topic_replication_factor),
    );
    let opts = AdminOptions::new()
        .validate_only(true)
        .operation_timeout(Some(Duration::from_secs(10)));
    match admin.create_topics([&new], &opts).await {
        Ok(res) => match res.into_iter().next() {
            Some(Ok(_)) | Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) | None => r.add(
                "topics creatable",
                Outcome::Ok(format!(
                    "partitions = {}, replication factor = {} accepted",
                    cfg.sink.topic_partitions, cfg.sink.topic_replication_factor
                )),
            ),
            Some(Err((
                _,
                code @ (RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed),
            ))) => r.add(
                "topics creatable",
                Outcome::Fail(format!("not authorized to create topics: {code} ({who}); grant CREATE on the cluster or on the topics prefixed {prefix}, or create the topics and set sink.create_topics = false")),
            ),
            Some(Err((_, code))) => r.add(
                "topics creatable",
                Outcome::Fail(format!("{code}: check sink.topic_replication_factor against the broker count and sink.topic_partitions")),
            ),
        },
        Err(e) => r.add("topics creatable", Outcome::Fail(e.to_string())),
    }
}

async fn check_registry(cfg: &Config, r: &mut Report) {
    let registry = match crate::encode::registry::Registry::new(&cfg.format) {
        Ok(reg) => reg,
        Err(e) => {
            r.add("schema registry", Outcome::Fail(e.to_string()));
            return;
        }
    };
    let url = registry.base().to_string();
    let outcome = match registry.compatibility().await {
        Ok(level)
            if ["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"]
                .contains(&level.as_str()) =>
        {
            Outcome::Ok(format!("{url} answers, compatibility {level}"))
        }
        Ok(level) => Outcome::Warn(format!("{url} answers, compatibility {level}; BACKWARD is recommended so consumers can read older events")),
        Err(crate::Error::Access { message, .. }) => Outcome::Fail(message),
        Err(e @ crate::Error::Registry { .. }) => {
            Outcome::Fail(format!("not reachable: {e}; check format.registry_url"))
        }
        Err(crate::Error::RegistryRequest { url, message }) => {
            Outcome::Fail(format!("unexpected answer from {url}: {message}"))
        }
        Err(e) => Outcome::Fail(e.to_string()),
    };
    r.add("schema registry", outcome);
}

/// A server setting `run` cannot work without: the one statement of each requirement, which
/// `rowtide check` reports line by line and `run` enforces before it starts.
/// What to do about a failed or warned check, by its name (the message says what is wrong).
fn fix_for(name: &str) -> String {
    if let Some(req) = SERVER_REQUIREMENTS.iter().find(|r| r.variable == name) {
        return req.fix.to_string();
    }
    let fix = match name {
        "source reachable" => {
            "check source.host, source.port, source.user and the password \
            (source.password, source.password_file or ROWTIDE_SOURCE__PASSWORD), and that the \
            server accepts connections from this host"
        }
        "TLS" => "enable TLS on the server (ssl_cert/ssl_key) or choose source.tls to match it",
        "server version" => {
            "connect to a MySQL 5.7+/8.x or MariaDB 10.x+ server; check source.flavor"
        }
        "binlog_row_metadata" => {
            "SET GLOBAL binlog_row_metadata = 'FULL'; and in the server's \
            config file (docs/operations.md)"
        }
        "binlog_legacy_event_pos" => "set binlog_legacy_event_pos=1 in the server's config file",
        "GTID" => "set gtid_mode=ON and enforce_gtid_consistency=ON on the server",
        "server_id" => "choose a source.server_id no other replica of this server uses",
        "binlogs retained" | "checkpoint retained" => {
            "the server must keep the binlog from the \
            checkpoint on: raise its binlog retention, or start over with `rowtide offsets reset`"
        }
        "checkpoint" => {
            "with checkpoint.store = \"sled\": make checkpoint.path a writable directory that \
            no other running rowtide uses; with \"kafka\": see the state topic's message"
        }
        "state topic" => {
            "the state topic (checkpoint.kafka_topic) must be compacted (cleanup.policy \
            exactly compact) with 1 partition, or creatable by rowtide (docs/operations.md, \
            \"State stores\")"
        }
        "failover group" => {
            "grant rowtide's principal READ and DESCRIBE on the consumer groups prefixed \
            rowtide-ha- and READ on the state topic (docs/operations.md, \"Failover\")"
        }
        "kafka transactions" => {
            "the brokers must allow transactions (transaction.state.log.* settings, Kafka \
            0.11+) and rowtide's principal needs WRITE and DESCRIBE on its transactional id \
            (rowtide-state-<topic>, prefixed)"
        }
        "topics creatable" => {
            "let rowtide's Kafka principal create topics, create them \
            beforehand, or set sink.create_topics = false"
        }
        "schema registry" => {
            "check format.registry_url (Apicurio: …/apis/ccompat/v7) and the \
            registry credentials"
        }
        n if n.starts_with("grant") => {
            "GRANT the missing privilege to source.user as the \
            message shows"
        }
        n if n.starts_with("kafka") => {
            "check sink.brokers and the [sink.kafka] security \
            settings (docs/operations.md, Kafka security)"
        }
        _ => "see docs/operations.md, \"rowtide check\"",
    };
    fix.to_string()
}

struct Requirement {
    /// The global variable that holds the setting (read with [`mysql::variable`]); also the
    /// name `rowtide check` reports it under.
    variable: &'static str,
    /// The accepted values (compared case-insensitively); the first is the one to set.
    accepted: &'static [&'static str],
    /// How to fix the server.
    fix: &'static str,
}

const SERVER_REQUIREMENTS: [Requirement; 3] = [
    Requirement {
        variable: "log_bin",
        accepted: &["ON", "1"],
        fix: "start the server with log_bin (e.g. --log-bin=mysql-bin) and restart it",
    },
    Requirement {
        variable: "binlog_format",
        accepted: &["ROW"],
        fix: "SET GLOBAL binlog_format = 'ROW'; and set binlog_format=ROW in the server's config file",
    },
    Requirement {
        variable: "binlog_row_image",
        accepted: &["FULL"],
        fix: "SET GLOBAL binlog_row_image = 'FULL'; and set binlog_row_image=FULL in the server's \
              config file (other images lose before-image columns)",
    },
];

impl Requirement {
    /// The value when it meets the requirement, else what is wrong and the fix
    /// (`is STATEMENT, must be ROW; fix: …`).
    fn verdict(&self, value: Option<String>) -> std::result::Result<String, String> {
        match value.filter(|v| !v.is_empty()) {
            Some(v) if self.accepted.iter().any(|a| v.eq_ignore_ascii_case(a)) => Ok(v),
            v => Err(format!(
                "is {}, must be {}; fix: {}",
                v.as_deref().unwrap_or("not set"),
                self.accepted[0],
                self.fix
            )),
        }
    }
}

/// The settings `run` cannot work without (`SERVER_REQUIREMENTS`), checked at start: a
/// definite error with the fix instead of a failure later on the first statement that needs
/// them.
pub async fn require_server_settings(conn: &mut mysql_async::Conn) -> crate::Result<()> {
    for req in &SERVER_REQUIREMENTS {
        let value = mysql::variable(conn, req.variable).await?;
        if let Err(problem) = req.verdict(value) {
            return Err(crate::Error::ServerSetup(format!(
                "{} {problem}",
                req.variable
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requirement_is_met_or_says_the_fix() {
        let format = &SERVER_REQUIREMENTS[1];
        assert_eq!(format.verdict(Some("row".into())), Ok("row".into()));
        assert_eq!(
            format.verdict(Some("STATEMENT".into())),
            Err(format!("is STATEMENT, must be ROW; fix: {}", format.fix))
        );
        let log_bin = &SERVER_REQUIREMENTS[0];
        assert_eq!(log_bin.verdict(Some("1".into())), Ok("1".into()));
        for unset in [None, Some(String::new())] {
            assert_eq!(
                log_bin.verdict(unset),
                Err(format!("is not set, must be ON; fix: {}", log_bin.fix))
            );
        }
    }
}
