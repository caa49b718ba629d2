//! Packaging, checked statically where Docker cannot run here: the minimum Rust version in
//! Cargo.toml and the Dockerfile is the highest `rust-version` of any locked crate (computed
//! with `cargo metadata`, so it cannot rot); the image runs unprivileged, exposes and
//! health-checks the metrics port with `rowtide probe`, ships a configuration that listens
//! on all interfaces, and its build context excludes target/ and .git without excluding what
//! the Dockerfile copies. And `rowtide probe` for real, against running rowtides.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::poll::poll_until;
use common::proc::{binary, Rowtide};
use rowtide::config::Config;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `1.89.0` and `1.89` as `[1, 89]` (trailing zero components dropped).
fn version(v: &str) -> Vec<u64> {
    let mut parts: Vec<u64> = v
        .trim()
        .split('.')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("version {v}")))
        .collect();
    while parts.len() > 2 && parts.last() == Some(&0) {
        parts.pop();
    }
    parts
}

/// The highest `rust-version` among the locked packages other than rowtide, with its crate.
fn highest_locked_rust_version() -> (Vec<u64>, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Offline first; a fresh machine's registry cache lacks the sources of crates only
    // other platforms build (cargo metadata reads every locked package), so then online.
    let run = |offline: bool| {
        let mut args = vec!["metadata", "--format-version", "1", "--locked"];
        if offline {
            args.push("--offline");
        }
        Command::new(&cargo)
            .args(args)
            .current_dir(root())
            .output()
            .expect("run cargo metadata")
    };
    let mut out = run(true);
    if !out.status.success() {
        out = run(false);
    }
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().expect("packages");
    assert!(packages.len() > 100, "{} packages", packages.len());
    packages
        .iter()
        .filter(|p| p["name"] != "rowtide")
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            Some((version(v), format!("{} {}", p["name"], p["version"])))
        })
        .max()
        .expect("some crate declares a rust-version")
}

#[test]
fn rust_version_is_the_highest_any_locked_crate_needs() {
    let (needed, krate) = highest_locked_rust_version();
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    let declared = manifest["package"]["rust-version"].as_str().unwrap();
    assert_eq!(
        version(declared),
        needed,
        "Cargo.toml rust-version is {declared}; the locked crates need {needed:?} ({krate})"
    );
    let docker = read("Dockerfile");
    let builder = docker
        .lines()
        .find_map(|l| l.trim().strip_prefix("FROM rust:"))
        .expect("a FROM rust:… builder stage");
    let tag = builder.split_whitespace().next().unwrap();
    let image_version = tag.split('-').next().unwrap();
    assert_eq!(
        version(image_version),
        needed,
        "Dockerfile builds with rust:{tag}; the locked crates need {needed:?} ({krate})"
    );
    assert!(
        tag.ends_with("-bookworm"),
        "builder {tag}: the runtime image is bookworm"
    );
}

/// The Dockerfile's instructions (continuation lines joined, comments dropped), as
/// (INSTRUCTION, arguments).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(cont) = t.strip_suffix('\\') {
            current.push_str(cont);
            current.push(' ');
            continue;
        }
        current.push_str(t);
        let (op, args) = current.split_once(' ').unwrap_or((&current, ""));
        out.push((op.to_ascii_uppercase(), args.trim().to_string()));
        current.clear();
    }
    out
}

/// A JSON-array (exec form) argument list.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("not exec form: {args}: {e}"))
}

#[test]
fn image_runs_unprivileged_and_health_checks_with_rowtide_probe() {
    let all = instructions(&read("Dockerfile"));
    let last_from = all.iter().rposition(|(op, _)| op == "FROM").unwrap();
    let runtime = &all[last_from..];
    let get = |op: &str| -> Vec<&String> {
        runtime
            .iter()
            .filter(|(o, _)| o == op)
            .map(|(_, a)| a)
            .collect()
    };

    // A fixed non-root user that owns the state directory.
    let user = get("USER");
    assert_eq!(user.len(), 1, "one USER in the runtime stage: {user:?}");
    let uid = user[0].split(':').next().unwrap();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u >= 1000),
        "USER {uid} is a fixed non-root uid"
    );
    let run = get("RUN")
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        run.contains(&format!("--uid {uid}")),
        "the user is created with uid {uid}"
    );
    assert!(
        run.contains(&format!("chown {uid}:")) && run.contains("/var/lib/rowtide"),
        "{run}"
    );
    assert!(get("VOLUME").iter().any(|v| v.contains("/var/lib/rowtide")));

    // The configuration the image ships: metrics on every interface, state in the volume.
    let copy = get("COPY");
    let config_copy = copy
        .iter()
        .find(|c| c.ends_with("/etc/rowtide/rowtide.toml"))
        .expect("COPY of the example configuration");
    let src = config_copy.split_whitespace().next().unwrap();
    let cfg = Config::load(Some(&root().join(src)), &[]).expect("the image's config loads");
    let (host, port) = cfg.metrics.listen.rsplit_once(':').unwrap();
    assert_eq!(
        host, "0.0.0.0",
        "metrics must listen beyond the container's loopback"
    );
    assert!(cfg.checkpoint.path.starts_with("/var/lib/rowtide"));
    let cmd = exec_form(get("CMD")[0]);
    assert_eq!(cmd, ["run", "-c", "/etc/rowtide/rowtide.toml"]);
    assert_eq!(exec_form(get("ENTRYPOINT")[0]), ["/usr/local/bin/rowtide"]);

    // EXPOSE and HEALTHCHECK on that port, with rowtide's own probe (no curl in slim).
    assert!(get("EXPOSE")
        .iter()
        .any(|e| e.split_whitespace().any(|p| p == port)));
    let hc = get("HEALTHCHECK");
    assert_eq!(hc.len(), 1);
    let hc_cmd = exec_form(hc[0].split_once("CMD").expect("HEALTHCHECK … CMD").1.trim());
    assert_eq!(hc_cmd[..2], ["/usr/local/bin/rowtide", "probe"]);
    let url = hc_cmd
        .windows(2)
        .find(|w| w[0] == "--url")
        .map(|w| w[1].clone());
    let url = url.expect("--url");
    assert_eq!(url, format!("http://127.0.0.1:{port}/readyz"));
    assert!(!run.contains("curl"), "no curl in the runtime image");
}

#[test]
fn build_context_excludes_target_and_git_but_not_what_the_image_copies() {
    let ignore: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    for must in ["target", ".git"] {
        assert!(
            ignore.iter().any(|i| i == must),
            "{must} is not in .dockerignore"
        );
    }
    let excluded = |path: &str| {
        ignore.iter().any(|pat| {
            let pat = pat.strip_prefix("**/").unwrap_or(pat);
            path == pat || path.starts_with(&format!("{pat}/"))
        })
    };
    for (op, args) in instructions(&read("Dockerfile")) {
        if op != "COPY" || args.starts_with("--from") {
            continue;
        }
        let parts: Vec<&str> = args.split_whitespace().collect();
        for src in &parts[..parts.len() - 1] {
            assert!(!excluded(src), "COPY {src} but .dockerignore excludes it");
            assert!(root().join(src).exists(), "COPY {src}: no such file");
        }
    }
}

fn probe(url: &str) -> (i32, String) {
    let out = Command::new(binary())
        .args(["probe", "--url", url, "--timeout-ms", "2000"])
        .output()
        .expect("run rowtide probe");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Waits until `rowtide probe URL` exits with `code`.
fn wait_probe(url: &str, code: i32) -> String {
    poll_until(
        &format!("rowtide probe {url} exiting {code}"),
        Duration::from_secs(60),
        Duration::from_millis(200),
        || match probe(url) {
            (c, text) if c == code => Ok(text),
            (c, text) => Err(format!("exit {c}: {text}")),
        },
    )
}

fn write_config(dir: &Path, source: &str, metrics_port: u16) -> std::path::PathBuf {
    let path = dir.join("rowtide.toml");
    let text = format!(
        "{source}\n[sink]\nkind = \"stdout\"\n\n[checkpoint]\npath = \"{}\"\n\n\
         [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n",
        dir.join("state").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_exits_0_on_2xx_and_1_on_503_404_or_no_answer() {
    // A rowtide whose database is down: live (200) but not ready (503).
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let dead = common::free_port();
    let source = format!(
        "[source]\nhost = \"127.0.0.1\"\nport = {dead}\nuser = \"cdc\"\npassword = \"x\"\n\
         server_id = {}\nconnect_timeout_ms = 500\n",
        common::server_id()
    );
    let config = write_config(dir.path(), &source, port);
    let mut down = Rowtide::with_config(&config, dir.path());
    let base = format!("http://127.0.0.1:{port}");
    let live = wait_probe(&format!("{base}/livez"), 0);
    assert!(live.contains("200"), "{live}");
    let (code, text) = probe(&format!("{base}/readyz"));
    assert_eq!(code, 1, "readyz while the source is down: {text}");
    assert!(text.contains("503"), "{text}");
    let (code, text) = probe(&format!("{base}/no-such-path"));
    assert_eq!(code, 1, "a 404: {text}");
    down.stop();
    let (code, text) = probe(&format!("{base}/livez"));
    assert_eq!(code, 1, "nothing listens any more: {text}");

    // A URL that is not one is a usage error.
    let (code, text) = probe("not a url");
    assert_eq!(code, 2, "{text}");

    // A streaming rowtide against the real server: ready.
    let Some(env) = common::servers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let db = common::unique("probe");
    let source = format!(
        "[source]\nhost = \"{}\"\nport = {}\nuser = \"{}\"\npassword = \"{}\"\n\
         server_id = {}\ninclude = [\"{db}\\\\..*\"]\n",
        env.mysql_host,
        env.mysql_port,
        env.mysql_user,
        env.mysql_password,
        common::server_id()
    );
    let config = write_config(dir.path(), &source, port);
    let mut up = Rowtide::with_config(&config, dir.path());
    up.wait_streaming(1).await;
    let text = wait_probe(&format!("http://127.0.0.1:{port}/readyz"), 0);
    assert!(text.contains("200"), "{text}");
    up.stop();
}
