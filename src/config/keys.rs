//! The valid keys of every section, for typo suggestions and for naming the section of a
//! misplaced key in error messages.

/// The sections whose keys are checked.
const SECTIONS: [&str; 8] = [
    "source",
    "sink",
    "format",
    "checkpoint",
    "metrics",
    "pipeline",
    "events",
    "heartbeat",
];

/// Every valid key, by section (for typo suggestions).
pub(super) fn valid_keys(section: &str) -> &'static [&'static str] {
    match section {
        "" => &[
            "source",
            "sink",
            "format",
            "checkpoint",
            "metrics",
            "pipeline",
            "events",
            "heartbeat",
            "transforms",
        ],
        "events" => super::shaping::EVENTS_KEYS,
        "heartbeat" => super::shaping::HEARTBEAT_KEYS,
        "source" => &[
            "host",
            "port",
            "user",
            "password",
            "password_file",
            "server_id",
            "flavor",
            "include",
            "exclude",
            "snapshot_mode",
            "tls",
            "tls_ca",
            "heartbeat_interval_ms",
            "read_timeout_ms",
            "connect_timeout_ms",
            "reconnect_backoff_ms",
            "reconnect_backoff_max_ms",
            "max_reconnect_attempts",
            "snapshot_fetch_size",
            "snapshot_parallelism",
            "include_query",
            "ddl_skip",
            "ddl_reread",
        ],
        "sink" => &[
            "kind",
            "brokers",
            "topic_prefix",
            "tombstones_on_delete",
            "schema_changes",
            "topic_partitions",
            "topic_replication_factor",
            "topic_cleanup_policy",
            "create_topics",
            "kafka",
            "aws_region",
            "aws_profile",
        ],
        "format" => &[
            "kind",
            "registry_url",
            "registry_username",
            "registry_password",
            "registry_password_file",
            "registry_ca",
            "decimal_handling_mode",
            "time_precision_mode",
            "bigint_unsigned_handling_mode",
            "binary_handling_mode",
            "provide_transaction_metadata",
        ],
        "checkpoint" => &["path", "flush_interval_ms"],
        "metrics" => &["listen"],
        "pipeline" => &[
            "source_queue",
            "sink_queue",
            "max_in_flight",
            "encoders",
            "shutdown_timeout_secs",
        ],
        _ => &[],
    }
}

/// The valid key closest to `key` in `section`, if one is close enough to be a typo.
pub fn suggest(section: &str, key: &str) -> Option<&'static str> {
    valid_keys(section)
        .iter()
        .map(|k| (strsim::damerau_levenshtein(k, key), *k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k)
}

/// Rewrites toml/serde errors so they name the key as `section.key` and suggest a fix.
pub(super) fn explain_toml_error(msg: &str) -> String {
    let msg = msg.trim();
    // serde: "unknown field `hots`, expected one of ..." with the section in "in `source`".
    if let Some(start) = msg.find("unknown field `") {
        let rest = &msg[start + 15..];
        if let Some(end) = rest.find('`') {
            let key = &rest[..end];
            let section = SECTIONS
                .into_iter()
                .find(|s| {
                    valid_keys(s)
                        .iter()
                        .any(|k| strsim::damerau_levenshtein(k, key) <= 3)
                        && msg.contains(&format!("[{s}]"))
                })
                .or_else(|| SECTIONS.into_iter().find(|s| suggest(s, key).is_some()))
                .unwrap_or("");
            let name = if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            };
            let hint = suggest(section, key)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            return format!("unknown key `{name}`{hint}\n{msg}");
        }
    }
    msg.to_string()
}
