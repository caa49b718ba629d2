//! No input crashes rowtide: thousands of damaged copies of the recorded binlogs go through
//! `rowtide replay`, each in its own process under a 4 GiB address-space limit
//! (`RLIMIT_AS`) and a timeout. Every case must end with exit 0 (the damage was harmless)
//! or exit 1 and one error line; a panic (exit 101, "panicked at", an internal task
//! failure), an abort or signal (a failed huge allocation, say) or a hang fails the test,
//! which names the case and keeps its file. Errors made from a panic the parser boundary
//! contained are counted apart and fail the test too: they mean a check is missing.
//!
//! `ROWTIDE_MUTATION_SEED` (default 13) and `ROWTIDE_MUTATION_CASES` (default 4000) choose
//! the cases; the same seed gives the same cases. The report (cases, outcomes by class and
//! by kind of damage, wall time) is printed to stderr.
//!
//! Also here: a single flipped bit in the CRC32 fixture is reported as a checksum error
//! naming file, position and event type (library and binary), and a PREVIOUS_GTIDS interval
//! of millions of transactions is kept whole.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::mutate::{self, Rng, Span, KINDS};
use rowtide::error::Error;
use rowtide::model::{Filter, SourceEvent};
use rowtide::source::file::{replay_file_with, ReplayOptions};

const AS_LIMIT: u64 = 4 << 30;
const CASE_TIMEOUT: Duration = Duration::from_secs(30);
/// Sakila is 1.4 MB: its first events (schema and some rows) are enough to mutate.
const MAX_SOURCE: usize = 96 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        _ => default,
    }
}

/// A recorded file to damage: its bytes (gzip undone, cut to whole events) and events.
struct Source {
    name: String,
    bytes: Vec<u8>,
    spans: Vec<Span>,
}

fn sources(dir: &Path) -> Vec<Source> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture directory is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).expect("fixture is readable");
            let mut bytes = if raw.starts_with(&[0x1f, 0x8b]) {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .expect("gzip fixture decompresses");
                out
            } else {
                raw
            };
            let mut spans = mutate::events(&bytes);
            if bytes.len() > MAX_SOURCE {
                spans.retain(|s| s.start + s.len <= MAX_SOURCE);
                let end = spans.last().map_or(MAX_SOURCE, |s| s.start + s.len);
                bytes.truncate(end);
            }
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            Source { name, bytes, spans }
        })
        // A file that is not a binlog at all only ever meets the magic-bytes check.
        .filter(|s| s.bytes.starts_with(&[0xfe, b'b', b'i', b'n']))
        .collect()
}

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Accepted,
    /// Exit 1 with an error of this class, and the error line.
    Rejected(String, String),
    ContainedPanic(String),
    Panic(String),
    Signal(String),
    Hang,
    Other(String),
}

impl Outcome {
    fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Accepted | Outcome::Rejected(..))
    }
}

/// The class of an error line: the fixed words before the first variable part.
fn classify(code: Option<i32>, stderr: &str) -> Outcome {
    let last = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("rowtide: "))
        .unwrap_or("")
        .trim_start_matches("rowtide: ");
    if stderr.contains("panicked at") || code == Some(101) || last.contains("internal error") {
        let line = stderr
            .lines()
            .find(|l| l.contains("panicked"))
            .unwrap_or(last);
        return Outcome::Panic(line.chars().take(300).collect());
    }
    if stderr.contains("memory allocation of") {
        return Outcome::Signal("allocation failure".into());
    }
    match code {
        Some(0) => Outcome::Accepted,
        Some(1) if last.contains(rowtide::source::guard::PANIC_PREFIX) => {
            let at = last.split(PANIC_AT).nth(1).unwrap_or(last);
            Outcome::ContainedPanic(at.chars().take(200).collect())
        }
        Some(1) => Outcome::Rejected(error_class(last), last.chars().take(160).collect()),
        Some(c) => Outcome::Other(format!("exit {c}: {last}")),
        None => Outcome::Signal(stderr.lines().last().unwrap_or("").to_string()),
    }
}

const PANIC_AT: &str = "failed on this event (";

fn error_class(line: &str) -> String {
    let prefixes = [
        (
            "corrupt binlog event",
            "checksum mismatch",
            "corrupt: checksum mismatch",
        ),
        ("corrupt binlog event", "size field", "corrupt: size field"),
        (
            "corrupt binlog event",
            "malformed event",
            "corrupt: parser error",
        ),
        (
            "corrupt binlog event",
            "compressed transaction",
            "corrupt: compressed transaction",
        ),
        ("corrupt binlog event", "", "corrupt: other check"),
        ("cannot read binlog file", "ends inside", "file: truncated"),
        (
            "cannot read binlog file",
            "not a binlog file",
            "file: not a binlog",
        ),
        ("cannot read binlog file", "", "file: other"),
        (
            "cannot read binlog event",
            "",
            "event: unsupported or inconsistent",
        ),
        ("cannot decode", "", "decode: value"),
    ];
    for (start, contains, class) in prefixes {
        if line.starts_with(start) && line.contains(contains) {
            return class.to_string();
        }
    }
    let words: Vec<&str> = line.split_whitespace().take(4).collect();
    format!("other: {}", words.join(" "))
}

/// Runs `rowtide replay` on `file` under the address-space limit and the timeout.
fn run_case(file: &Path) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rowtide"));
    cmd.args(["replay", "--positional-names", "--system-schemas"])
        .arg(file)
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: AS_LIMIT,
                rlim_max: AS_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("rowtide starts");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let mut nap = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for rowtide") {
            break Some(status);
        }
        if started.elapsed() > CASE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    match status {
        None => Outcome::Hang,
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            match s.signal() {
                Some(sig) => Outcome::Signal(format!("signal {sig}: {}", last_line(&text))),
                None => classify(s.code(), &text),
            }
        }
    }
}

fn last_line(text: &str) -> String {
    text.lines()
        .last()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

#[test]
fn mutated_fixtures_never_crash_replay() {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let seed = env_u64("ROWTIDE_MUTATION_SEED", 13);
    let cases = env_u64("ROWTIDE_MUTATION_CASES", 4000) as usize;
    let sources = sources(&dir);
    assert!(
        sources.len() >= 10,
        "expected the recorded fixtures in {dir:?}"
    );
    let work = tempfile::tempdir().expect("temporary directory");
    let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mutation-failures");
    let _ = std::fs::remove_dir_all(&keep);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, usize, String, Outcome)>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for w in 0..workers {
            let (next, results, sources, work, keep) =
                (&next, &results, &sources, work.path(), keep.as_path());
            s.spawn(move || loop {
                let case = next.fetch_add(1, Ordering::Relaxed);
                if case >= cases {
                    return;
                }
                // Each case has its own generator, so a case is the same whatever the
                // number of workers.
                let mut rng = Rng::new(seed ^ (case as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
                let src = &sources[rng.below(sources.len())];
                let (bytes, kind) = mutate::mutate(&src.bytes, &src.spans, &mut rng);
                let file = work.join(format!("w{w}-{}", src.name));
                std::fs::write(&file, &bytes).expect("write the mutated file");
                let outcome = run_case(&file);
                if outcome.is_failure() {
                    let _ = std::fs::create_dir_all(keep);
                    let _ = std::fs::copy(&file, keep.join(format!("case-{case}-{}", src.name)));
                }
                results
                    .lock()
                    .unwrap()
                    .push((case, kind, src.name.clone(), outcome));
            });
        }
    });
    let elapsed = started.elapsed();
    let results = results.into_inner().unwrap();
    let failures = report(&results, seed, elapsed, &keep);
    assert!(
        failures.is_empty(),
        "{} of {} cases crashed, hung or hit a contained parser panic (seed {seed}):\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

/// Prints the outcome counts; returns the failing cases, one line each.
fn report(
    results: &[(usize, usize, String, Outcome)],
    seed: u64,
    elapsed: Duration,
    keep: &Path,
) -> Vec<String> {
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    let mut example: BTreeMap<String, String> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (case, kind, source, outcome) in results {
        let label = match outcome {
            Outcome::Accepted => "exit 0: replayed".to_string(),
            Outcome::Rejected(class, _) => format!("exit 1: {class}"),
            Outcome::ContainedPanic(at) => format!("exit 1: CONTAINED PANIC {at}"),
            Outcome::Panic(_) => "PANIC".to_string(),
            Outcome::Signal(_) => "SIGNAL/ABORT".to_string(),
            Outcome::Hang => "HANG".to_string(),
            Outcome::Other(o) => format!("OTHER {o}"),
        };
        if let Outcome::Rejected(_, line) = outcome {
            example.entry(label.clone()).or_insert_with(|| line.clone());
        }
        *by_outcome.entry(label).or_default() += 1;
        let k = by_kind.entry(KINDS[*kind]).or_default();
        k.0 += 1;
        if matches!(outcome, Outcome::Accepted) {
            k.1 += 1;
        }
        if outcome.is_failure() {
            failures.push(format!(
                "case {case} ({}, from {source}; file kept as {}): {outcome:?}",
                KINDS[*kind],
                keep.join(format!("case-{case}-{source}")).display()
            ));
        }
    }
    eprintln!(
        "mutation test: {} cases, seed {seed}, {:.1} s wall time",
        results.len(),
        elapsed.as_secs_f64()
    );
    for (label, n) in &by_outcome {
        eprintln!("  {n:6}  {label}");
        if let Some(e) = example.get(label) {
            eprintln!("          e.g. {e}");
        }
    }
    eprintln!("by kind of damage (cases, of which replayed without error):");
    for (kind, (n, ok)) in &by_kind {
        eprintln!("  {n:6}  {ok:6}  {kind}");
    }
    failures
}

/// `replay --positional-names --system-schemas`: the fixtures log MINIMAL metadata or use `mysql`.
fn lenient(path: &Path, emit: &mut dyn FnMut(SourceEvent)) -> Result<(), Error> {
    let options = ReplayOptions {
        allow_positional_names: true,
        capture_system_schemas: true,
        ..ReplayOptions::default()
    };
    replay_file_with(path, Filter::all(), options, &mut |ev| {
        emit(ev);
        Ok(())
    })
    .map(|_| ())
}

/// The CRC32 fixture with one bit flipped in its last WRITE_ROWS event (v2, type 30).
#[test]
fn a_flipped_bit_is_a_checksum_error_naming_file_offset_and_event_type() {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let bytes = std::fs::read(dir.join("binlog-connector-java--mysql-bin.checksum-crc32"))
        .expect("fixture is readable");
    let spans = mutate::events(&bytes);
    assert!(mutate::has_crc32(&bytes, &spans));
    let ev = *spans
        .iter()
        .rev()
        .find(|s| bytes[s.start + 4] == 30)
        .expect("a WRITE_ROWS event");
    let mut damaged = bytes.clone();
    damaged[ev.start + 19 + (ev.len - 23) / 2] ^= 0x10;
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("one-bit.bin");
    std::fs::write(&path, &damaged).unwrap();

    let mut changes = 0;
    let err = lenient(&path, &mut |ev| {
        changes += usize::from(matches!(ev, SourceEvent::Change(_)));
    })
    .expect_err("the damaged event is refused");
    assert!(
        changes > 0,
        "the events before the damaged one are replayed"
    );
    match &err {
        Error::Corrupt {
            file,
            offset,
            event_type,
            reason,
        } => {
            assert_eq!(file, &path.display().to_string());
            assert_eq!(*offset, ev.start as u64);
            assert_eq!(event_type, "WRITE_ROWS_EVENT (type 30)");
            assert!(reason.contains("checksum mismatch"), "{reason}");
        }
        other => panic!("expected a checksum error, got {other}"),
    }
    assert!(!err.is_transient());

    // The same through the binary: exit 1 and that one line.
    let out = Command::new(env!("CARGO_BIN_EXE_rowtide"))
        .args(["replay", "--positional-names", "--system-schemas"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let want = format!(
        "rowtide: corrupt binlog event WRITE_ROWS_EVENT (type 30) in {} at byte offset {}: \
         checksum mismatch",
        path.display(),
        ev.start
    );
    assert!(stderr.contains(&want), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Undamaged, the same file replays.
    lenient(
        &dir.join("binlog-connector-java--mysql-bin.checksum-crc32"),
        &mut |_| {},
    )
    .unwrap();
}

/// A rows event whose column bitmap was damaged to name no column (behind a valid CRC32):
/// its row images take no bytes, and the handler used to emit the same empty row until
/// memory ran out (found by the mutation test). It is refused, naming the event.
#[test]
fn a_row_image_without_columns_is_refused() {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let mut bytes = std::fs::read(dir.join("binlog-connector-java--mysql-bin.checksum-crc32"))
        .expect("fixture is readable");
    let spans = mutate::events(&bytes);
    let ev = *spans
        .iter()
        .rev()
        .find(|s| bytes[s.start + 4] == 30)
        .expect("a WRITE_ROWS event");
    // Body: table id (6), flags (2), extra data (its length counts itself), column count
    // (length-encoded, < 251 here), then the column bitmap.
    let extra = ev.start + 19 + 8;
    let extra_len = u16::from_le_bytes([bytes[extra], bytes[extra + 1]]) as usize;
    let count_at = extra + extra_len;
    let columns = bytes[count_at] as usize;
    assert!(columns > 0 && columns < 251);
    for b in &mut bytes[count_at + 1..count_at + 1 + columns.div_ceil(8)] {
        *b = 0;
    }
    mutate::fix_crc(&mut bytes, ev);
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("no-columns.bin");
    std::fs::write(&path, &bytes).unwrap();
    let mut changes = 0usize;
    let err = lenient(&path, &mut |ev| {
        changes += usize::from(matches!(ev, SourceEvent::Change(_)));
    })
    .expect_err("the event is refused");
    match &err {
        Error::Corrupt {
            offset,
            event_type,
            reason,
            ..
        } => {
            assert_eq!(*offset, ev.start as u64);
            assert_eq!(event_type, "WRITE_ROWS_EVENT (type 30)");
            assert!(reason.contains("no column in its images"), "{reason}");
        }
        other => panic!("expected a corrupt-event error, got {other}"),
    }
    assert!(
        changes < 10_000,
        "{changes} changes: the empty row repeated"
    );
}

/// A PREVIOUS_GTIDS interval of five million transactions (the executed set of a busy
/// server) is kept whole, not cut at a million.
#[test]
fn previous_gtids_interval_of_millions_is_kept_whole() {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let mut bytes = std::fs::read(dir.join("binlog-connector-rust--mysql-bin.000080"))
        .expect("fixture is readable");
    let spans = mutate::events(&bytes);
    let prev = *spans
        .iter()
        .find(|s| bytes[s.start + 4] == 35)
        .expect("a PREVIOUS_GTIDS event");
    // Body: n_sids (8), uuid (16), n_intervals (8), start (8), end exclusive (8).
    let end_at = prev.start + 19 + 8 + 16 + 8 + 8;
    assert_eq!(bytes[end_at..end_at + 8], 53u64.to_le_bytes());
    bytes[end_at..end_at + 8].copy_from_slice(&5_000_001u64.to_le_bytes());
    mutate::fix_crc(&mut bytes, prev);
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("mysql-bin.000080");
    std::fs::write(&path, &bytes).unwrap();
    let mut last = None;
    lenient(&path, &mut |ev| {
        if let SourceEvent::Commit { offset, .. } = ev {
            last = offset.gtid_set.map(|g| g.to_string());
        }
    })
    .unwrap();
    assert_eq!(
        last.as_deref(),
        Some("58cf6502-63db-11ed-8079-0242ac110002:1-5000000")
    );
}

struct Quiet;
impl rowtide::source::binlog::StreamObserver for Quiet {}

/// The live stream verifies checksums too: a private MariaDB (binlog_checksum=CRC32) whose
/// closed binlog file gets one flipped bit inside a WRITE_ROWS event sends that event as it
/// is (servers do not verify by default), and the stream stops with the checksum error
/// naming the file, position and event type, before any change of that event goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_stream_refuses_an_event_with_a_bad_checksum() {
    let Some(env) = common::servers() else { return };
    let m = common::mariadb::PrivateMariadb::start(&[
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
        "--binlog-checksum=CRC32",
    ]);
    m.sql(
        "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(40)); \
         INSERT INTO d.t VALUES (1, 'first'); INSERT INTO d.t VALUES (2, 'second row'); \
         FLUSH BINARY LOGS",
    )
    .unwrap();
    let path = m.dir.path().join("bin.000001");
    let mut bytes = std::fs::read(&path).expect("the private server's first binlog");
    let spans = mutate::events(&bytes);
    assert!(
        mutate::has_crc32(&bytes, &spans),
        "the binlog has CRC32 checksums"
    );
    let rows: Vec<Span> = spans
        .iter()
        .copied()
        .filter(|s| matches!(bytes[s.start + 4], 23 | 30))
        .collect();
    assert_eq!(rows.len(), 2, "two WRITE_ROWS events");
    let ev = rows[1];
    let at = bytes[ev.start..ev.start + ev.len]
        .windows(10)
        .position(|w| w == b"second row")
        .expect("the value is in the event")
        + ev.start;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    let mut cfg = common::source_config(&env, &["d\\..*".to_string()]);
    cfg.port = m.port;
    cfg.user = "cdc".into();
    cfg.password = Some("pw".into());
    cfg.tls = rowtide::config::TlsMode::Disabled;
    let start = rowtide::model::SourceOffset {
        binlog: rowtide::model::BinlogPosition::new("bin.000001".to_string(), 4),
        gtid_set: None,
        skip_rows: 0,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let filter = Filter::new(&["d\\..*".to_string()], &[]).unwrap();
    let streamed = rowtide::source::binlog::stream(
        &cfg,
        filter,
        start,
        Default::default(),
        tx,
        shutdown,
        &Quiet,
    );
    let err = tokio::time::timeout(Duration::from_secs(60), streamed)
        .await
        .expect("the stream stops by itself")
        .expect_err("the damaged event stops the stream");
    match &err {
        Error::Corrupt {
            file,
            offset,
            event_type,
            reason,
        } => {
            assert_eq!(file, "bin.000001");
            assert_eq!(*offset, ev.start as u64);
            assert!(event_type.starts_with("WRITE_ROWS_EVENT"), "{event_type}");
            assert!(reason.contains("checksum mismatch"), "{reason}");
        }
        other => panic!("expected a checksum error, got {other}"),
    }
    assert!(!err.is_transient());
    let mut ids = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let SourceEvent::Change(c) = ev {
            ids.push(c.after.as_ref().map(|a| a[0].clone()));
        }
    }
    assert_eq!(
        ids,
        vec![Some(rowtide::model::Value::Int(1))],
        "only the row before the damage went out"
    );
}

/// A binary JSON value nested thousands of levels deep in 64 KiB (small arrays of one
/// element each) used to overflow the decoding thread's stack and abort the process; it is
/// an error now (MySQL itself refuses documents deeper than 100 levels).
#[test]
fn deeply_nested_binary_json_is_an_error_not_a_stack_overflow() {
    // From the innermost empty array outwards: count (u16), size (u16), then one entry
    // (type 0x02 = small array, offset u16) pointing right after the header.
    let mut body: Vec<u8> = vec![0, 0, 4, 0];
    while 4 + 3 + body.len() <= 0xffff {
        let size = (4 + 3 + body.len()) as u16;
        let mut outer = vec![1, 0];
        outer.extend_from_slice(&size.to_le_bytes());
        outer.extend_from_slice(&[0x02, 7, 0]);
        outer.extend_from_slice(&body);
        body = outer;
    }
    let mut doc = vec![0x02];
    doc.extend_from_slice(&body);
    let result = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || rowtide::decode::json::jsonb_to_text(&doc))
        .unwrap()
        .join()
        .expect("no panic");
    let err = result.expect_err("the document is refused");
    assert!(err.contains("nests deeper"), "{err}");
    // A document at MySQL's own limit still decodes.
    let mut body: Vec<u8> = vec![0, 0, 4, 0];
    for _ in 0..99 {
        let size = (4 + 3 + body.len()) as u16;
        let mut outer = vec![1, 0];
        outer.extend_from_slice(&size.to_le_bytes());
        outer.extend_from_slice(&[0x02, 7, 0]);
        outer.extend_from_slice(&body);
        body = outer;
    }
    let mut doc = vec![0x02];
    doc.extend_from_slice(&body);
    let text = rowtide::decode::json::jsonb_to_text(&doc).unwrap();
    assert_eq!(text, format!("{}{}", "[".repeat(100), "]".repeat(100)));
}
