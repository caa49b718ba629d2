//! Waiting for something to become true, with a bound: `poll_until` (blocking) and
//! `poll_until_async`. Both check every `every` until the check gives `Ok(value)` and return
//! the value; when `timeout` passes first they panic, naming what was awaited, the timeout and
//! the check's last `Err` (what it saw instead). A test never goes on after a wait that failed.

use std::time::{Duration, Instant};

/// Blocks until `check` gives `Ok`, or panics after `timeout` (see the module comment).
pub fn poll_until<T>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => timed_out(what, timeout, &last),
            Err(_) => std::thread::sleep(every),
        }
    }
}

/// The same as [`poll_until`] for a check that awaits (the wait between checks does not block
/// the runtime).
pub async fn poll_until_async<T>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => timed_out(what, timeout, &last),
            Err(_) => tokio::time::sleep(every).await,
        }
    }
}

fn timed_out(what: &str, timeout: Duration, last: &str) -> ! {
    panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
}
