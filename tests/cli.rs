//! The command line, run as a user runs it: completion scripts and man pages generated from
//! the clap definition, `check --json`, colour-free logs unless stderr is a terminal (and
//! never with NO_COLOR), configuration errors that name the right section and key (from the
//! file and from the environment), and the log format and level from the configuration, the
//! environment, RUST_LOG and the flags, in that order of increasing precedence.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::proc::binary;

fn rowtide(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args).env_remove("RUST_LOG").env_remove("NO_COLOR");
    for (k, _) in std::env::vars() {
        if k.starts_with("ROWTIDE_") && k.contains("__") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run rowtide")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn completions_for_every_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = rowtide(&["completions", shell], &[]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for word in ["rowtide", "offsets", "probe", "completions", "log-format"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    // The bash script loads and registers the completion.
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "rowtide.bash",
        &stdout(&rowtide(&["completions", "bash"], &[])),
    );
    let o = Command::new("bash")
        .args(["-c", &format!("source {script} && complete -p rowtide")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("rowtide"), "{}", stdout(&o));
    let o = rowtide(&["completions", "tcsh"], &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_prints_roff_and_writes_a_page_per_command() {
    let o = rowtide(&["man"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.contains(".TH rowtide 1"), "{page}");
    assert!(
        page.contains(".SH SYNOPSIS") && page.contains("probe"),
        "{page}"
    );
    // groff renders it without complaint.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rowtide.1", &page);
    let g = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", &file])
        .output()
        .expect("groff");
    assert!(g.status.success(), "{}", stderr(&g));
    assert!(
        stderr(&g).trim().is_empty(),
        "groff warnings: {}",
        stderr(&g)
    );
    assert!(stdout(&g).contains("Change data capture"));

    let out = dir.path().join("pages");
    let o = rowtide(&["man", "--dir", out.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for page in [
        "rowtide.1",
        "rowtide-run.1",
        "rowtide-check.1",
        "rowtide-offsets-show.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
}

#[test]
fn check_json_lists_the_checks_and_fails_with_a_wrong_password() {
    let Some(env) = common::servers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = |password: &str| {
        format!(
            "[source]\nhost = \"{}\"\nport = {}\nuser = \"{}\"\npassword = \"{password}\"\n\
             server_id = {}\n\n[sink]\nkind = \"stdout\"\n\n[checkpoint]\npath = \"{}\"\n",
            env.mysql_host,
            env.mysql_port,
            env.mysql_user,
            common::server_id(),
            dir.path().join("state").display()
        )
    };
    let bad = write(dir.path(), "bad.toml", &config("not-the-password"));
    let o = rowtide(&["check", "--json", "-c", &bad], &[]);
    let plain = rowtide(&["check", "-c", &bad], &[]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        o.status.code(),
        plain.status.code(),
        "same exit code as `check`"
    );
    let report: serde_json::Value =
        serde_json::from_str(stdout(&o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)));
    assert_eq!(report["ok"], false);
    let checks = report["checks"].as_array().unwrap();
    let source = checks
        .iter()
        .find(|c| c["name"] == "source reachable")
        .expect("a source check");
    assert_eq!(source["status"], "fail");
    assert!(source["message"]
        .as_str()
        .unwrap()
        .contains(&env.mysql_user));
    assert!(source["fix"].as_str().unwrap().contains("source.password"));
    assert!(
        !stdout(&o).contains("not-the-password"),
        "the password is redacted"
    );

    let good = write(dir.path(), "good.toml", &config(&env.mysql_password));
    let o = rowtide(&["check", "--json", "-c", &good], &[]);
    let plain = rowtide(&["check", "-c", &good], &[]);
    assert_eq!(
        o.status.code(),
        plain.status.code(),
        "same exit code as `check`"
    );
    let report: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.len() >= 5, "{report}");
    for c in checks {
        let status = c["status"].as_str().unwrap();
        assert!(["ok", "warn", "fail"].contains(&status), "{c}");
        assert_eq!(c["fix"].is_null(), status == "ok", "{c}");
        assert!(!c["name"].as_str().unwrap().is_empty());
        assert!(!c["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        report["ok"].as_bool(),
        Some(o.status.code() == Some(0)),
        "{report}"
    );
    assert!(checks
        .iter()
        .any(|c| c["name"] == "source reachable" && c["status"] == "ok"));
}

/// A configuration whose source is a closed port and gives up after one attempt: `run`
/// logs its start at info, then a failure, and exits.
fn failing_run_config(dir: &Path, log: &str) -> String {
    let text = format!(
        "[source]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"u\"\npassword = \"p\"\n\
         connect_timeout_ms = 300\nreconnect_backoff_ms = 10\nmax_reconnect_attempts = 1\n\n\
         [sink]\nkind = \"stdout\"\n\n[checkpoint]\npath = \"{}\"\n\n[metrics]\nlisten = \"\"\n{log}",
        common::free_port(),
        dir.join("state").display()
    );
    write(dir, "run.toml", &text)
}

const STARTING: &str = "Starting rowtide";

#[test]
fn logs_have_no_colour_codes_unless_a_terminal_and_never_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = failing_run_config(dir.path(), "");
    let o = rowtide(&["run", "-c", &cfg], &[]);
    let err = stderr(&o);
    assert!(err.contains(STARTING), "{err}");
    assert!(!err.contains('\u{1b}'), "escape codes in a pipe: {err:?}");

    // On a terminal (script(1) gives one): colours, unless NO_COLOR is set.
    let on_tty = |no_color: Option<&str>| {
        let mut cmd = Command::new("script");
        cmd.args(["-qefc", &format!("{} run -c {cfg}", binary()), "/dev/null"])
            .env_remove("RUST_LOG")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let o = cmd.output().expect("script(1)");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let tty = on_tty(None);
    assert!(tty.contains(STARTING), "{tty}");
    assert!(tty.contains("\u{1b}["), "a terminal gets colours: {tty:?}");
    let tty = on_tty(Some("1"));
    assert!(tty.contains(STARTING), "{tty}");
    assert!(!tty.contains("\u{1b}["), "NO_COLOR: {tty:?}");
}

#[test]
fn log_format_and_level_from_config_env_rust_log_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let json_lines = |o: &Output| -> Vec<serde_json::Value> {
        stderr(o)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    // [log] format = "json": every log line is a JSON object.
    let cfg = failing_run_config(dir.path(), "[log]\nformat = \"json\"\n");
    let o = rowtide(&["run", "-c", &cfg], &[]);
    let lines = json_lines(&o);
    assert!(
        lines
            .iter()
            .any(|l| l["message"].as_str().is_some_and(|m| m.contains(STARTING))),
        "{}",
        stderr(&o)
    );
    // --log-format beats the file.
    let o = rowtide(&["run", "--log-format", "text", "-c", &cfg], &[]);
    assert!(
        json_lines(&o).is_empty() && stderr(&o).contains(STARTING),
        "{}",
        stderr(&o)
    );
    // ROWTIDE_LOG__FORMAT beats the file, --log-format beats the environment.
    let cfg = failing_run_config(dir.path(), "[log]\nformat = \"text\"\n");
    let o = rowtide(&["run", "-c", &cfg], &[("ROWTIDE_LOG__FORMAT", "json")]);
    assert!(!json_lines(&o).is_empty(), "{}", stderr(&o));
    let o = rowtide(
        &["run", "--log-format", "text", "-c", &cfg],
        &[("ROWTIDE_LOG__FORMAT", "json")],
    );
    assert!(json_lines(&o).is_empty(), "{}", stderr(&o));

    // Level: file < environment < RUST_LOG < -v/-q.
    let cfg = failing_run_config(dir.path(), "[log]\nlevel = \"warn\"\n");
    let has_start = |o: &Output| stderr(o).contains(STARTING);
    assert!(!has_start(&rowtide(&["run", "-c", &cfg], &[])));
    let env_info = [("ROWTIDE_LOG__LEVEL", "info")];
    assert!(has_start(&rowtide(&["run", "-c", &cfg], &env_info)));
    let rust_log_warn = [("ROWTIDE_LOG__LEVEL", "info"), ("RUST_LOG", "rowtide=warn")];
    assert!(!has_start(&rowtide(&["run", "-c", &cfg], &rust_log_warn)));
    assert!(has_start(&rowtide(
        &["run", "-v", "-c", &cfg],
        &rust_log_warn
    )));
    // A wrong value is a configuration error naming the key.
    let cfg = failing_run_config(dir.path(), "[log]\nlevel = \"loud\"\n");
    let o = rowtide(&["run", "-c", &cfg], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("log.level"), "{}", stderr(&o));
}

#[test]
fn a_misplaced_key_is_named_in_its_own_section_with_that_sections_keys() {
    let dir = tempfile::tempdir().unwrap();
    let check = |toml: &str, envs: &[(&str, &str)], want: &[&str]| {
        let cfg = write(dir.path(), "c.toml", toml);
        let o = rowtide(&["offsets", "show", "-c", &cfg], envs);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{toml}: {err}");
        for w in want {
            assert!(err.contains(w), "{toml} {envs:?}: `{w}` not in: {err}");
        }
        err
    };
    let err = check(
        "[checkpoint]\nbackend = \"kafka\"\n",
        &[],
        &[
            "unknown key `checkpoint.backend`",
            "store, path, kafka_topic, flush_interval_ms",
        ],
    );
    assert!(!err.contains("source.backend"), "{err}");
    check(
        "[metrics]\nlisen = \"0.0.0.0:9187\"\n",
        &[],
        &[
            "`metrics.lisen`",
            "did you mean `listen`",
            "liveness_timeout_secs",
        ],
    );
    // A key of another section says where it belongs.
    check("[sink]\nhost = \"h\"\n", &[], &["`sink.host`", "[source]"]);
    // Nested tables and arrays of tables.
    check(
        "[[events.column_mask]]\ncolumns = [\"a\\\\.b\\\\.c\"]\nchars = 3\nwidth = 2\n",
        &[],
        &[
            "`events.column_mask.width`",
            "[[events.column_mask]]",
            "columns",
        ],
    );
    check(
        "[format]\nkind = \"json\"\n[checkpoint]\npath = \"/tmp/x\"\nkind = \"sled\"\n",
        &[],
        &["`checkpoint.kind`"],
    );
    // The environment: the variable, the key, the section's keys; and keys added to a
    // section are accepted without a hand-kept list.
    check(
        "",
        &[("ROWTIDE_CHECKPOINT__BACKEND", "kafka")],
        &[
            "ROWTIDE_CHECKPOINT__BACKEND",
            "`checkpoint.backend`",
            "store, path, kafka_topic, flush_interval_ms",
        ],
    );
    let cfg = write(dir.path(), "ok.toml", "");
    let o = rowtide(
        &["offsets", "show", "-c", &cfg],
        &[
            ("ROWTIDE_METRICS__LIVENESS_TIMEOUT_SECS", "30"),
            (
                "ROWTIDE_CHECKPOINT__PATH",
                dir.path().join("st").to_str().unwrap(),
            ),
            ("ROWTIDE_LOG__LEVEL", "debug"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A wrong type names the key too.
    check("[source]\nport = \"abc\"\n", &[], &["`source.port`"]);
}
