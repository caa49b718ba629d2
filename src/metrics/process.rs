//! The standard Prometheus process metrics (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`,
//! `process_max_fds`, `process_start_time_seconds`) read from `/proc/self` at each scrape,
//! and `rowtide_build_info`.
//!
//! Invariant: each value is what the kernel reports at the scrape, in the unit of the
//! Prometheus client libraries' process collector (seconds, bytes); a value that cannot be
//! read (not Linux, a restricted `/proc`) is left out rather than reported as zero.

use metrics::gauge;

pub const BUILD_INFO: &str = "rowtide_build_info";

/// `rowtide_build_info{version, git_sha}` = 1 (`git_sha` when the build set
/// `ROWTIDE_GIT_SHA`).
pub fn build_info() {
    let version = env!("CARGO_PKG_VERSION");
    match option_env!("ROWTIDE_GIT_SHA").filter(|s| !s.is_empty()) {
        Some(sha) => gauge!(BUILD_INFO, "version" => version, "git_sha" => sha).set(1.0),
        None => gauge!(BUILD_INFO, "version" => version).set(1.0),
    }
}

/// The figures of `/proc/self/stat` the process metrics need.
#[derive(Debug, PartialEq)]
struct Stat {
    /// User plus system CPU time, in clock ticks.
    cpu_ticks: u64,
    /// Start time after boot, in clock ticks.
    start_ticks: u64,
    vsize_bytes: u64,
    rss_pages: u64,
}

/// Parses `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses,
/// so the fields are counted from its closing parenthesis.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): field n is f[n - 3].
    let num = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        cpu_ticks: num(14)? + num(15)?,
        start_ticks: num(22)?,
        vsize_bytes: num(23)?,
        rss_pages: num(24)?,
    })
}

/// The soft limit on open files from `/proc/self/limits`.
fn parse_max_fds(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The boot time (seconds since the epoch) from `/proc/stat`.
fn parse_btime(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

fn sysconf(name: libc::c_int) -> Option<u64> {
    // SAFETY: sysconf reads a configuration value; it takes no pointer and has no
    // precondition.
    let v = unsafe { libc::sysconf(name) };
    (v > 0).then_some(v as u64)
}

/// Reads `/proc/self` and sets the process gauges.
pub(super) fn refresh() {
    let ticks = sysconf(libc::_SC_CLK_TCK);
    let page = sysconf(libc::_SC_PAGESIZE);
    let stat = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|t| parse_stat(&t));
    if let (Some(s), Some(ticks)) = (&stat, ticks) {
        gauge!("process_cpu_seconds_total").set(s.cpu_ticks as f64 / ticks as f64);
        let btime = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|t| parse_btime(&t));
        if let Some(btime) = btime {
            let start = btime as f64 + s.start_ticks as f64 / ticks as f64;
            gauge!("process_start_time_seconds").set(start);
        }
    }
    if let Some(s) = &stat {
        gauge!("process_virtual_memory_bytes").set(s.vsize_bytes as f64);
        if let Some(page) = page {
            gauge!("process_resident_memory_bytes").set((s.rss_pages * page) as f64);
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        gauge!("process_open_fds").set(dir.count() as f64);
    }
    let max = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| parse_max_fds(&t));
    if let Some(max) = max {
        gauge!("process_max_fds").set(max as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 2961 0 0 0 \
                    150 37 0 0 20 0 9 0 123456 987654321 2048 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                cpu_ticks: 187,
                start_ticks: 123456,
                vsize_bytes: 987654321,
                rss_pages: 2048,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn limits_and_boot_time() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        assert_eq!(
            parse_btime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"),
            Some(1700000000)
        );
    }

    #[test]
    fn this_process_reads_its_own_figures() {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let s = parse_stat(&stat).unwrap();
        assert!(s.vsize_bytes > 0 && s.rss_pages > 0, "{s:?}");
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        assert!(parse_max_fds(&limits).is_some_and(|n| n > 0));
    }
}
