//! Logging: `tracing` with human text or JSON lines, on stderr so that stdout stays free for
//! data (`replay`, the stdout sink). Every line passes through [`crate::redact`] on its way
//! out.
//!
//! Precedence, highest first: the command line (`--log-format`, `-v`/`-q`), `RUST_LOG` (the
//! level/filter only), the environment (`ROWTIDE_LOG__FORMAT`, `ROWTIDE_LOG__LEVEL`), the
//! configuration file's `[log]`. Colours only when stderr is a terminal and `NO_COLOR` is
//! unset or empty (<https://no-color.org>): never into files, pipes or `docker logs`.

use tracing_subscriber::EnvFilter;

pub use crate::config::{LogConfig, LogFormat, LogLevel};

/// What the command line asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFlags {
    /// `--log-format`, if given.
    pub format: Option<LogFormat>,
    /// `-v` count minus `-q` count; 0 when neither is given.
    pub verbosity: i8,
}

/// The effective format and filter directive for `flags`, `RUST_LOG` (`rust_log`) and the
/// `[log]` settings (environment overrides already applied).
pub fn resolve(flags: LogFlags, rust_log: Option<&str>, cfg: LogConfig) -> (LogFormat, String) {
    let format = flags.format.unwrap_or(cfg.format);
    let from_flags = match flags.verbosity {
        0 => None,
        i8::MIN..=-2 => Some("error"),
        -1 => Some("warn"),
        1 => Some("debug"),
        _ => Some("trace"),
    };
    let filter = match (from_flags, rust_log.filter(|s| !s.trim().is_empty())) {
        (Some(level), _) => format!("rowtide={level},warn"),
        (None, Some(directive)) => directive.to_string(),
        (None, None) => format!("rowtide={},warn", cfg.level.word()),
    };
    (format, filter)
}

/// Whether to colour: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn use_colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::IsTerminal::is_terminal(&std::io::stderr())
}

/// Installs the global subscriber.
pub fn init(flags: LogFlags, cfg: LogConfig) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (format, directive) = resolve(flags, rust_log.as_deref(), cfg);
    let filter = EnvFilter::try_new(&directive)
        .unwrap_or_else(|_| EnvFilter::new(format!("rowtide={},warn", cfg.level.word())));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::redact::RedactingStderr)
        .with_ansi(use_colour());
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_rust_log_over_the_configuration() {
        let cfg = LogConfig {
            format: LogFormat::Json,
            level: LogLevel::Warn,
        };
        let none = LogFlags::default();
        assert_eq!(
            resolve(none, None, cfg),
            (LogFormat::Json, "rowtide=warn,warn".into())
        );
        assert_eq!(resolve(none, Some("rowtide=trace"), cfg).1, "rowtide=trace");
        let flags = LogFlags {
            format: Some(LogFormat::Text),
            verbosity: 1,
        };
        assert_eq!(
            resolve(flags, Some("rowtide=trace"), cfg),
            (LogFormat::Text, "rowtide=debug,warn".into())
        );
    }
}
