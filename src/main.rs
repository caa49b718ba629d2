//! The `rowtide` binary: parse the command line, set up logging, run the command, and map
//! errors to exit codes (0 success, 1 runtime failure, 2 usage or configuration).

use clap::Parser;
use rowtide::cli::{execute, Cli};

/// mimalloc: per-thread heaps. glibc's malloc serialised the encoder workers, the binlog
/// reader and librdkafka on its arena locks (a fifth of the CPU profile was malloc/free and
/// futex waits; see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Transparent huge pages would back each thread's mimalloc pages with 2 MiB pages and
    // add tens of MB of resident memory for nothing: rowtide's allocations are small.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    rowtide::redact::install_panic_hook();
    let cli = Cli::parse();
    let log = rowtide::config::LogConfig::early(
        cli.config.as_deref(),
        &rowtide::config::Config::env_overrides(),
    );
    let flags = rowtide::telemetry::LogFlags {
        format: cli.log_format,
        verbosity: (cli.verbose as i8).saturating_sub(cli.quiet as i8),
    };
    rowtide::telemetry::init(flags, log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rowtide: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let outcome = runtime.block_on(execute(cli));
    // Stop what still runs (clients closing, tasks being cancelled) before the last word,
    // so that the reason rowtide stops is the last line on stderr.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    let code = match outcome {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "rowtide failed.");
            rowtide::redact::eprintln(&format!("rowtide: {e}"));
            e.exit_code()
        }
    };
    std::process::exit(code);
}
