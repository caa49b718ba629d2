//! Logging: `tracing` with human text on a terminal or JSON lines (`--log-format json`), on
//! stderr so that stdout stays free for data (`replay`, the stdout sink). `RUST_LOG`
//! overrides the level chosen by `-v` / `-q`. Every line passes through
//! [`crate::redact`] on its way out.

use tracing_subscriber::EnvFilter;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `verbosity`: 0 = info, 1 = debug, 2+ = trace, -1 = warn,
/// -2 = error.
pub fn init(format: LogFormat, verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("rowtide={level},warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::redact::RedactingStderr)
        // Colours only for a person at a terminal, never into files or `docker logs`.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}
