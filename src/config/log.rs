//! `[log]`: the format and level of the log on stderr. The command line and `RUST_LOG` win
//! over it (precedence: `--log-format`/`-v`/`-q` > `RUST_LOG` > `ROWTIDE_LOG__*` > file),
//! see [`crate::telemetry`].

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (colours only when stderr is a terminal and `NO_COLOR` is unset).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The level of rowtide's own messages (other crates log warnings and errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The `tracing` directive word.
    pub fn word(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json` (`--log-format` overrides it).
    pub format: LogFormat,
    /// `error`, `warn`, `info`, `debug` or `trace` (`-v`/`-q` and `RUST_LOG` override it).
    pub level: LogLevel,
}

impl LogConfig {
    /// The `[log]` settings before the whole configuration is loaded (logging starts first):
    /// the file's `[log]` table with `ROWTIDE_LOG__FORMAT`/`ROWTIDE_LOG__LEVEL` applied.
    /// Anything unreadable or invalid gives the defaults here; the full load that follows
    /// reports it as the configuration error it is.
    pub fn early(path: Option<&Path>, env: &[(String, String)]) -> LogConfig {
        let text = path
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let mut table = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("log"))
            .and_then(|v| match v {
                toml::Value::Table(t) => Some(t),
                _ => None,
            })
            .unwrap_or_default();
        for (name, value) in env {
            let key = match name.as_str() {
                "ROWTIDE_LOG__FORMAT" => "format",
                "ROWTIDE_LOG__LEVEL" => "level",
                _ => continue,
            };
            table.insert(key.into(), toml::Value::String(value.clone()));
        }
        toml::Value::Table(table).try_into().unwrap_or_default()
    }
}
