//! The small commands around the engine: `probe` (a health check for images without curl),
//! `completions` and `man` (generated from the clap definition, so they cannot drift from
//! the real command line).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::CommandFactory;

use super::Cli;
use crate::error::{Error, Result};

/// `rowtide probe`: GET `url`; 0 on a 2xx answer, 1 on any other answer, a refused
/// connection or a timeout. The answer's first line is printed (Docker keeps it in the
/// container's health log).
pub(super) async fn probe(url: &str, timeout_ms: u64) -> Result<i32> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::Config(format!("probe --url `{url}` is not a URL: {e}")))?;
    let timeout = Duration::from_millis(timeout_ms.max(1));
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| Error::Config(format!("probe: cannot build the HTTP client: {e}")))?;
    match client.get(parsed).send().await {
        Ok(resp) => {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            let first = body.lines().next().unwrap_or("").trim();
            crate::redact::println(&format!("{url}: {status} {first}"));
            Ok(if status.is_success() { 0 } else { 1 })
        }
        Err(e) => {
            crate::redact::eprintln(&format!("{url}: no answer: {e}"));
            Ok(1)
        }
    }
}

/// `rowtide completions SHELL`: the completion script on stdout.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rowtide", &mut out);
    write_stdout(&out)?;
    Ok(0)
}

/// `rowtide man [--dir DIR]`: rowtide.1 on stdout, or one page per command in DIR.
pub(super) fn man(dir: Option<&Path>) -> Result<i32> {
    let cmd = Cli::command();
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            clap_mangen::generate_to(cmd, dir)
                .map_err(|e| Error::io(format!("writing man pages to {}", dir.display()), e))?;
            crate::redact::println(&format!("man pages written to {}", dir.display()));
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|e| Error::io("rendering the man page", e))?;
            write_stdout(&out)?;
        }
    }
    Ok(0)
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        // A closed pipe (`rowtide man | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("writing to stdout", e))
        }
        _ => Ok(()),
    }
}
