//! The command line: `run`, `check`, `probe`, `offsets`, `schema`, `replay`, `snapshot`, `import`,
//! `completions`, `man` (documented for users in `README.md` and `docs/operations.md`). Each
//! command returns an exit code; errors carry their own (2 for usage and configuration, 1
//! for runtime failures).

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::checkpoint::{open_store, Access, Checkpoint, CheckpointStore, SnapshotState};
use crate::config::Config;
use crate::config::StoreKind;
use crate::encode::records::{records_for, RecordRules};
use crate::error::{Error, Result};
use crate::model::{now_ms, BinlogPosition, Filter, Flavor, GtidSet, SourceOffset};
use crate::telemetry::LogFormat;

mod state_copy;
mod tools;

#[derive(Debug, Parser)]
#[command(
    name = "rowtide",
    version,
    about = "Change data capture from MySQL/MariaDB binlogs to Kafka, Debezium-compatible"
)]
pub struct Cli {
    /// Configuration file (TOML). Every key can be overridden with ROWTIDE_<SECTION>__<KEY>.
    #[arg(short = 'c', long = "config", global = true)]
    pub config: Option<PathBuf>,
    /// Log format on stderr [default: `[log] format` of the configuration, else text].
    #[arg(long = "log-format", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
    /// More logging (-v debug, -vv trace).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less logging (-q warnings, -qq errors only).
    #[arg(short = 'q', long = "quiet", action = clap::ArgAction::Count, global = true)]
    pub quiet: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Snapshot as configured, then stream the binlog to the sink until SIGINT/SIGTERM.
    Run,
    /// Verify that the source, Kafka and the registry are ready for `run`.
    Check {
        /// Print the checks as one JSON object (`ok`, `checks`: name, status, message, fix)
        /// instead of lines; the exit code is the same.
        #[arg(long)]
        json: bool,
    },
    /// Ask a running rowtide's health endpoint; exit 0 on a 2xx answer, 1 otherwise (for
    /// container HEALTHCHECKs: needs no curl).
    Probe {
        /// The URL to GET.
        #[arg(long, default_value = "http://127.0.0.1:9187/readyz")]
        url: String,
        /// Give up after this many milliseconds.
        #[arg(long, default_value_t = 3000)]
        timeout_ms: u64,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into a directory.
    Man {
        /// Write rowtide.1, rowtide-run.1, … here instead of printing rowtide.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Show, move or forget the stored position.
    Offsets {
        #[command(subcommand)]
        action: OffsetsAction,
    },
    /// Print the key and value schemas of the captured tables.
    Schema {
        /// Only this table (`db.table`).
        #[arg(long)]
        table: Option<String>,
    },
    /// Decode recorded binlog files and print the change events as JSON lines.
    Replay {
        /// Binlog files (plain or .gz).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only tables matching these `db.table` regexes.
        #[arg(long)]
        include: Vec<String>,
        /// Decode tables whose structure the file does not reveal (MINIMAL metadata and no
        /// CREATE TABLE) with positional column names `@1`, `@2`, … instead of stopping.
        #[arg(long)]
        positional_names: bool,
        /// Also decode tables of the system schemas (`mysql`, …).
        #[arg(long)]
        system_schemas: bool,
        /// Pass over this DDL statement (`FILE:POS`, `gtid:GTID` or `regex:RE`, as
        /// `source.ddl_skip`); repeatable.
        #[arg(long = "ddl-skip", value_name = "ENTRY")]
        ddl_skip: Vec<String>,
    },
    /// Ask a running rowtide for an ad-hoc snapshot of tables (`db.table` ...), or `stop`,
    /// `pause` or `resume` the running one: sends Debezium's signal through `[signals]`.
    Snapshot {
        /// `db.table` names, or one of `stop`, `pause`, `resume`.
        #[arg(required = true, value_name = "TABLE|stop|pause|resume")]
        targets: Vec<String>,
        /// Only rows matching this SQL condition (Debezium's additional condition), for
        /// every named table.
        #[arg(long, value_name = "SQL")]
        filter: Option<String>,
        /// A blocking snapshot instead of an incremental one.
        #[arg(long)]
        blocking: bool,
        /// The column that orders the chunks of the named tables instead of their primary
        /// key (Debezium's `surrogate-key`; for tables without one). Incremental only.
        #[arg(long, value_name = "COLUMN")]
        surrogate_key: Option<String>,
        /// The channel: the signal table, or the Kafka signal topic (default: the table
        /// when `[signals] table` is set, else the topic).
        #[arg(long, value_enum, value_name = "CHANNEL")]
        via: Option<crate::signal::send::Via>,
    },
    /// Write a rowtide configuration from another tool's.
    Import {
        #[command(subcommand)]
        from: ImportFrom,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// A Debezium MariaDB/MySQL connector's configuration (Kafka Connect JSON or
    /// .properties) as commented TOML. Exit code 3 when a property has no rowtide
    /// equivalent (listed on stderr and at the end of the file).
    Debezium {
        /// The connector configuration: `{"name": …, "config": {…}}`, a bare JSON map, or
        /// a .properties file.
        connector: PathBuf,
        /// The Kafka Connect worker's properties (brokers, converters, producer.*).
        #[arg(long, value_name = "FILE")]
        worker: Option<PathBuf>,
        /// Write the TOML here (mode 0600) instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OffsetsAction {
    /// Print the checkpoint.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Move the checkpoint to a binlog position or a GTID set.
    Set {
        /// FILE:POS, e.g. mariadb-bin.000003:1234.
        #[arg(long, conflicts_with = "gtid")]
        position: Option<String>,
        /// A GTID set: `0-1-42` (MariaDB) or `uuid:1-42` (MySQL).
        #[arg(long)]
        gtid: Option<String>,
    },
    /// Forget the checkpoint; the next run starts per source.snapshot_mode.
    Reset,
    /// Copy the checkpoint and the schema history from the configured store
    /// (checkpoint.store) into the other one, to switch stores: stop rowtide, copy, set
    /// checkpoint.store to the target, start rowtide.
    Copy {
        /// The target store.
        #[arg(long, value_enum)]
        to: StoreKind,
        /// Overwrite a checkpoint the target already holds.
        #[arg(long)]
        force: bool,
    },
    /// Cut over from Debezium: store the position matching a MySQL/MariaDB connector's
    /// latest offset, read from Kafka Connect's offsets topic or a file offset store.
    /// Refuses (exit 2, nothing stored) an offset rowtide cannot resume from exactly.
    Import {
        /// Kafka Connect's offsets topic (the worker's offset.storage.topic).
        #[arg(
            long,
            value_name = "TOPIC",
            conflicts_with = "file",
            required_unless_present = "file"
        )]
        connect_offsets: Option<String>,
        /// Brokers of the Connect cluster (default: sink.brokers; [sink.kafka] applies).
        #[arg(long, requires = "connect_offsets")]
        brokers: Option<String>,
        /// A FileOffsetBackingStore file (Connect standalone, Debezium Server, embedded).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// The connector's name.
        #[arg(long)]
        connector: String,
        /// The source partition's server (Debezium's topic.prefix), if it has several.
        #[arg(long)]
        server: Option<String>,
        /// The connector's include.query (MariaDB: Debezium then counts ANNOTATE_ROWS
        /// events); asked for only when the offset reads differently with and without.
        #[arg(long, value_name = "BOOL")]
        include_query: Option<bool>,
        /// Print what would be stored; store nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `println!` through [`crate::redact`]: what the operator reads never shows a secret.
macro_rules! say {
    ($($arg:tt)*) => {
        crate::redact::println(&format!($($arg)*))
    };
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    let cfg = Config::load(path, &Config::env_overrides())?;
    // Transform options are checked by the transforms themselves: a bad one is a
    // configuration error at load, like any other key.
    crate::transform::Chain::build(
        &cfg.transforms,
        &cfg.predicates,
        &crate::transform::Context {
            topic_prefix: cfg.sink.topic_prefix.clone(),
        },
    )?;
    Ok(cfg)
}

/// Runs the parsed command and returns the exit code.
pub async fn execute(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run => {
            let cfg = load_config(cli.config.as_deref())?;
            info!(config = ?cfg.source, sink = ?cfg.sink.kind, format = ?cfg.format.kind, "Starting rowtide {}.", env!("CARGO_PKG_VERSION"));
            let shutdown = CancellationToken::new();
            let signal_token = shutdown.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                info!("Signal received; shutting down.");
                signal_token.cancel();
            });
            crate::ha::run(cfg, shutdown).await?;
            Ok(0)
        }
        Command::Check { json } => {
            let cfg = load_config(cli.config.as_deref())?;
            let ok = crate::preflight::run(&cfg, json).await;
            Ok(if ok { 0 } else { 1 })
        }
        Command::Snapshot {
            targets,
            filter,
            blocking,
            surrogate_key,
            via,
        } => {
            let cfg = load_config(cli.config.as_deref())?;
            let signal = crate::signal::Signal::from_command(&targets, filter, blocking)
                .and_then(|s| s.with_surrogate_key(surrogate_key))
                .map_err(Error::Config)?;
            let id = crate::signal::send::send(&cfg, &signal, via).await?;
            say!("Sent {} signal {id}: {}", signal.type_name(), signal.data());
            Ok(0)
        }
        Command::Probe { url, timeout_ms } => tools::probe(&url, timeout_ms).await,
        Command::Completions { shell } => tools::completions(shell),
        Command::Man { dir } => tools::man(dir.as_deref()),
        Command::Offsets { action } => {
            let cfg = load_config(cli.config.as_deref())?;
            // Only writing commands fence a running rowtide's Kafka store.
            let access = match action {
                OffsetsAction::Show { .. } | OffsetsAction::Copy { .. } => Access::ReadOnly,
                _ => Access::ReadWrite,
            };
            let store = open_store(&cfg, cfg.checkpoint.store, access)?;
            offsets(&cfg, store.as_ref(), action).await
        }
        Command::Schema { table } => {
            let cfg = load_config(cli.config.as_deref())?;
            schema(&cfg, table.as_deref()).await
        }
        Command::Replay {
            files,
            include,
            positional_names,
            system_schemas,
            ddl_skip,
        } => {
            replay(
                &files,
                &include,
                positional_names,
                system_schemas,
                &ddl_skip,
            )
            .await
        }
        Command::Import {
            from:
                ImportFrom::Debezium {
                    connector,
                    worker,
                    output,
                },
        } => crate::import::debezium(&connector, worker.as_deref(), output.as_deref()),
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn offsets(cfg: &Config, store: &dyn CheckpointStore, action: OffsetsAction) -> Result<i32> {
    match action {
        OffsetsAction::Show { json } => {
            let cp = store.load()?;
            if json {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&cp).unwrap_or_else(|_| "null".into())
                );
            } else {
                match cp {
                    None => say!("no checkpoint: the next run starts per source.snapshot_mode"),
                    Some(cp) => {
                        say!("position:  {}", cp.offset.binlog);
                        say!(
                            "gtid_set:  {}",
                            cp.offset
                                .gtid_set
                                .as_ref()
                                .map(|g| g.to_string())
                                .unwrap_or_else(|| "-".into())
                        );
                        say!("skip_rows: {}", cp.offset.skip_rows);
                        say!("snapshot:  {:?}", cp.snapshot);
                        if let Some(p) = cp.incremental.as_ref().filter(|p| p.is_active()) {
                            say!(
                                "incremental: {} table(s) remaining, {} at chunk {} ({} rows){}",
                                p.tables.len(),
                                p.current().map_or("-", |t| t.table.as_str()),
                                p.chunks_done,
                                p.rows,
                                if p.paused { ", paused" } else { "" }
                            );
                        }
                        if let Some(b) = cp.incremental.as_ref().and_then(|p| p.blocking.as_ref()) {
                            say!(
                                "blocking:  {} (signal {}): rows not all acknowledged, taken again at start",
                                b.tables.join(", "),
                                b.signal
                            );
                        }
                        say!(
                            "flavor:    {}",
                            cp.flavor.map(|f| f.connector()).unwrap_or("-")
                        );
                        say!(
                            "written:   {} ms since epoch ({})",
                            cp.updated_at_ms,
                            cp.reason
                        );
                    }
                }
            }
            Ok(0)
        }
        OffsetsAction::Set { position, gtid } => {
            let offset = match (position, gtid) {
                (Some(p), None) => SourceOffset {
                    binlog: p.parse::<BinlogPosition>().map_err(Error::Config)?,
                    gtid_set: None,
                    skip_rows: 0,
                },
                (None, Some(g)) => SourceOffset {
                    binlog: BinlogPosition::new("", 4),
                    gtid_set: Some(g.parse::<GtidSet>().map_err(Error::Config)?),
                    skip_rows: 0,
                },
                _ => {
                    return Err(Error::Config(
                        "offsets set needs --position FILE:POS or --gtid SET".into(),
                    ))
                }
            };
            let flavor = match &offset.gtid_set {
                Some(GtidSet::Mariadb(_)) => Some(Flavor::Mariadb),
                Some(GtidSet::Mysql(_)) => Some(Flavor::Mysql),
                None => store.load()?.and_then(|c| c.flavor),
            };
            let cp = Checkpoint {
                offset,
                snapshot: SnapshotState::Skipped,
                flavor,
                updated_at_ms: now_ms(),
                reason: "offsets set".into(),
                incremental: None,
            };
            store.save(&cp)?;
            say!("checkpoint set to {}", cp.offset);
            Ok(0)
        }
        OffsetsAction::Import {
            connect_offsets,
            brokers,
            file,
            connector,
            server,
            include_query,
            dry_run,
        } => {
            let args = crate::cutover::ImportArgs {
                connect_offsets,
                brokers,
                file,
                connector,
                server,
                include_query,
                dry_run,
            };
            crate::cutover::import(cfg, store, args).await
        }
        OffsetsAction::Copy { to, force } => state_copy::copy(cfg, store, to, force),
        OffsetsAction::Reset => {
            store.clear()?;
            say!("checkpoint forgotten: the next run starts per source.snapshot_mode");
            Ok(0)
        }
    }
}

async fn schema(cfg: &Config, table: Option<&str>) -> Result<i32> {
    let filter = Filter::new(&cfg.source.include, &cfg.source.exclude)?;
    let mut conn = crate::mysql::connect(&cfg.source).await?;
    let info = crate::mysql::server_info(&mut conn, cfg.source.flavor).await?;
    let tables = crate::mysql::schema::load_tables(&mut conn, &filter).await?;
    let _ = conn.disconnect().await;
    let encoder = crate::encode::Encoder::for_config(cfg, info.flavor)?;
    let mut out = Vec::new();
    for t in tables
        .iter()
        .filter(|t| table.is_none_or(|n| n == t.full_name()))
    {
        out.push(serde_json::json!({
            "table": t.full_name(),
            "schemas": encoder.describe_schemas(t)?,
        }));
    }
    if out.is_empty() {
        return Err(Error::Config(match table {
            Some(t) => format!("table {t} is not captured or does not exist"),
            None => "no captured tables (check source.include / source.exclude)".into(),
        }));
    }
    say!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    Ok(0)
}

/// `replay` prints what `run` would send with the default sink settings.
const RULES: RecordRules = RecordRules {
    tombstones: true,
    schema_changes: true,
    skipped: crate::model::OpSet::TRUNCATES,
};

async fn replay(
    files: &[PathBuf],
    include: &[String],
    positional_names: bool,
    system_schemas: bool,
    ddl_skip: &[String],
) -> Result<i32> {
    use std::io::Write;
    let filter = Filter::new(include, &[])?;
    let skip = crate::catalog::ddl_skip::DdlSkipList::parse(ddl_skip)
        .map_err(|e| Error::Config(format!("--ddl-skip: {e}")))?;
    let cfg = crate::config::FormatConfig::default();
    for path in files {
        let flavor = crate::source::file::file_flavor(path);
        let mut encoder = crate::encode::Encoder::new(&cfg, "replay", flavor)?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<crate::model::SourceEvent>(1024);
        let p = path.clone();
        let f = filter.clone();
        let skip = skip.clone();
        let reader = tokio::task::spawn_blocking(move || {
            let opts = crate::source::file::ReplayOptions {
                allow_positional_names: positional_names,
                capture_system_schemas: system_schemas,
                catalog: None,
                ddl_skip: skip,
                failure_mode: Default::default(),
            };
            crate::source::file::replay_file_with(&p, f, opts, &mut |ev| {
                tx.blocking_send(ev).map_err(|_| Error::Shutdown)
            })
            .map(|_| ())
        });
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let mut line = Vec::with_capacity(4096);
        while let Some(ev) = rx.recv().await {
            // The same records `run` would send (a primary-key change as delete +
            // tombstone + create, tombstones after deletes), as JSON lines.
            for rec in records_for(&mut encoder, RULES, ev).await? {
                line.clear();
                crate::sink::stdout::json_line(
                    &rec.topic,
                    rec.key.as_deref(),
                    rec.value.as_deref(),
                    &mut line,
                );
                stdout
                    .write_all(&line)
                    .map_err(|e| Error::io("writing to stdout", e))?;
            }
        }
        stdout
            .flush()
            .map_err(|e| Error::io("writing to stdout", e))?;
        reader.await.map_err(|source| Error::Task {
            task: "replay file reader",
            source,
        })??;
    }
    Ok(0)
}
