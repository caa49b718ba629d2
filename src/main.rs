//! The `rowtide` binary: parse the command line, set up logging, run the command, and map
//! errors to exit codes (0 success, 1 runtime failure, 2 usage or configuration).

use clap::Parser;
use rowtide::cli::{execute, Cli};

fn main() {
    let cli = Cli::parse();
    rowtide::telemetry::init(cli.log_format, cli.verbose as i8 - cli.quiet as i8);
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
    let code = match runtime.block_on(execute(cli)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "rowtide failed.");
            eprintln!("rowtide: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
