//! The live binlog stream: registers as a replica with its own `server_id`, reads events
//! from a `file:pos` or a GTID set, and reconnects with backoff from the last position when
//! the connection breaks (heartbeats and a read timeout detect a dead one).
//!
//! Every event passes [`guard`]: its CRC32 is verified when the format description announces
//! one (mysql_async asks the server for checksums, and mysql_common keeps them without
//! checking), and the parsing inside the stream and the handler run inside the panic
//! boundary; a damaged event stops the stream with a definite error naming file, position
//! and event type.
//!
//! Invariant: after a reconnect the stream resumes at the start of the transaction it was
//! in and skips the rows it already emitted, so nothing is lost or repeated.

use std::time::Duration;

use crate::model::budget::EventTx;
use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::BinlogStreamRequest;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backoff::Backoff;
use crate::catalog::ddl_skip::DdlSkipList;
use crate::config::shaping::FailureMode;
use crate::config::SourceConfig;
use crate::error::{classify_mysql, Error, Result};
use crate::model::Flavor;
use crate::model::{Filter, GtidSet, SourceEvent, SourceOffset};
use crate::mysql;
use crate::source::events::{DdlState, EventHandler, HandlerOptions};
use crate::source::guard;
use crate::source::heartbeat::Heartbeats;

const ROTATE_EVENT: u8 = mysql_common::binlog::consts::EventType::ROTATE_EVENT as u8;

/// Observers the stream reports to (metrics, health).
pub trait StreamObserver: Send + Sync {
    fn connected(&self, _file: &str, _pos: u64) {}
    fn disconnected(&self, _reason: &str) {}
    fn event(&self, _file: &str, _end_pos: u64, _ts_secs: u32) {}
}

/// What the stream's event handler starts with beyond the `[source]` settings.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// The table structures known at the start.
    pub catalog: crate::model::Catalog,
    /// `events.failure_handling_mode`.
    pub failure_mode: FailureMode,
}

/// Streams changes from `start` into `tx` until `shutdown` fires or a definite error
/// (every rows event that cannot be decoded is one: [`stream_to`] chooses otherwise).
pub async fn stream(
    cfg: &SourceConfig,
    filter: Filter,
    start: SourceOffset,
    catalog: crate::model::Catalog,
    tx: impl Into<EventTx>,
    shutdown: CancellationToken,
    observer: &dyn StreamObserver,
) -> Result<()> {
    let to = Destination {
        tx: tx.into(),
        shutdown,
        heartbeats: None,
    };
    let seed = Seed {
        catalog,
        failure_mode: FailureMode::Fail,
    };
    stream_to(cfg, filter, start, seed, to, observer).await
}

/// Where [`stream_to`] sends its events, and the heartbeats it adds between them.
pub struct Destination {
    pub tx: EventTx,
    pub shutdown: CancellationToken,
    /// Debezium's heartbeats (`[heartbeat]`), when on.
    pub heartbeats: Option<Heartbeats>,
}

/// [`stream`] with the handler's starting state given in full ([`Seed`]) and heartbeats
/// when `to` has them.
pub async fn stream_to(
    cfg: &SourceConfig,
    filter: Filter,
    start: SourceOffset,
    seed: Seed,
    to: Destination,
    observer: &dyn StreamObserver,
) -> Result<()> {
    let Destination {
        tx,
        shutdown,
        mut heartbeats,
    } = to;
    let options = HandlerOptions {
        catalog: seed.catalog,
        failure_mode: seed.failure_mode,
        flavor: None,
        include_query: cfg.include_query,
        allow_positional_names: false,
        capture_system_schemas: false,
        ddl: DdlState::live(
            DdlSkipList::parse(&cfg.ddl_skip)
                .map_err(|e| Error::Config(format!("source.ddl_skip: {e}")))?,
            cfg.ddl_reread,
        ),
    };
    let mut handler = EventHandler::new(filter.clone(), &start, options);
    let mut offset = start;
    let mut next_pos = offset.binlog.pos;
    let mut backoff = Backoff::from_source(cfg);
    let reader = Reader {
        cfg,
        tx: &tx,
        shutdown: &shutdown,
        observer,
    };
    loop {
        let mut at = At {
            handler: &mut handler,
            next_pos: &mut next_pos,
            heartbeats: &mut heartbeats,
        };
        let result = reader.run(&mut at, &offset, &mut backoff).await;
        let e = match result {
            Ok(()) => return Ok(()),
            Err(Error::BinlogNotAvailable {
                wanted,
                server_message,
                ..
            }) => return Err(not_available(cfg, wanted, server_message).await),
            Err(e) if e.is_transient() => e,
            Err(e) => return Err(e),
        };
        observer.disconnected(&e.to_string());
        let Some(delay) = backoff.fail() else {
            return Err(Error::gave_up(backoff.limit(), e));
        };
        // Resume at the start of the transaction the stream was in, skipping the rows it
        // already emitted.
        offset = handler.resume_offset(next_pos);
        handler = EventHandler::new(filter.clone(), &offset, handler.options_now());
        next_pos = offset.binlog.pos;
        warn!(error = %e, resume = %offset, attempt = backoff.failures(), delay_ms = delay.as_millis() as u64, "Binlog connection lost; reconnecting.");
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// A damaged event from the server (a checksum mismatch, or one the parser failed on):
/// definite, since reading it again gives the same bytes.
fn damaged(handler: &EventHandler, pos: u64, event_type: String, reason: String) -> Error {
    Error::Corrupt {
        file: handler.file().to_string(),
        offset: pos,
        event_type,
        reason: format!(
            "{reason}. The source's binlog is damaged here (check it with `mysqlbinlog \
             --verify-binlog-checksum`); to go on, re-snapshot or move past it with \
             `rowtide offsets set --position FILE:POS` (its changes are lost)"
        ),
    }
}

/// Error 1236, completed with the binlogs the server still has.
async fn not_available(cfg: &SourceConfig, wanted: String, server_message: String) -> Error {
    let available = match mysql::connect(cfg).await {
        Ok(mut c) => {
            let logs = mysql::binary_logs(&mut c).await.unwrap_or_default();
            let _ = c.disconnect().await;
            mysql::describe_logs(&logs)
        }
        Err(_) => "(unknown: the server could not be asked)".into(),
    };
    Error::BinlogNotAvailable {
        wanted,
        available,
        server_message,
    }
}

/// One connection's worth of reading.
struct Reader<'a> {
    cfg: &'a SourceConfig,
    tx: &'a EventTx,
    shutdown: &'a CancellationToken,
    observer: &'a dyn StreamObserver,
}

/// The reader's state across connections: the handler, where the next event starts, and
/// the heartbeat clock.
struct At<'a> {
    handler: &'a mut EventHandler,
    next_pos: &'a mut u64,
    heartbeats: &'a mut Option<Heartbeats>,
}

impl Reader<'_> {
    /// Connects at `offset` and hands events to the handler until shutdown or an error.
    /// Every event read resets `backoff`: the connection worked. Between events, and while
    /// the server is quiet, a due heartbeat goes out after everything read before it.
    async fn run(
        &self,
        at: &mut At<'_>,
        offset: &SourceOffset,
        backoff: &mut Backoff,
    ) -> Result<()> {
        let (mut stream, wanted) = self.connect(at.handler, offset).await?;
        self.observer
            .connected(&offset.binlog.file, offset.binlog.pos);
        let read_timeout = Duration::from_millis(self.cfg.read_timeout_ms);
        let mut read_deadline = tokio::time::Instant::now() + read_timeout;
        let mut out = Vec::with_capacity(64);
        loop {
            let beat_at = at.heartbeats.as_ref().map(Heartbeats::deadline);
            // The stream parses each event while it is polled: inside the panic boundary.
            // Polling it again after a heartbeat loses nothing (the stream keeps its state).
            let next = tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return Ok(()),
                r = tokio::time::timeout_at(read_deadline, guard::contain_poll(stream.next())) => r,
                _ = tokio::time::sleep_until(beat_at.unwrap_or(read_deadline)), if beat_at.is_some() => {
                    if !self.beat(at).await? {
                        return Ok(());
                    }
                    continue;
                }
            };
            let event = match next {
                Ok(Err(panic)) => {
                    return Err(damaged(
                        at.handler,
                        *at.next_pos,
                        "(type unknown: the parser failed while reading it)".into(),
                        panic,
                    ))
                }
                Ok(Ok(Some(Ok(ev)))) => ev,
                Ok(Ok(Some(Err(e)))) => return Err(classify_mysql(e, &wanted)),
                Ok(Ok(None)) => {
                    return Err(Error::SourceTransient(
                        "the server closed the binlog stream".into(),
                    ))
                }
                Err(_) => {
                    return Err(Error::SourceTransient(format!(
                        "no event or heartbeat for {} ms",
                        self.cfg.read_timeout_ms
                    )))
                }
            };
            read_deadline = tokio::time::Instant::now() + read_timeout;
            backoff.reset();
            self.handle(at, &event, &mut out).await?;
            for ev in out.drain(..) {
                if !self.send(ev).await {
                    return Ok(());
                }
            }
            // Only once its output is queued: a head at a position then means that
            // everything up to it is in the pipeline (read-only incremental snapshots rely on
            // that on a quiet log).
            self.observer
                .event(at.handler.file(), *at.next_pos, event.header().timestamp());
            // As Debezium does: after each event, a heartbeat when the interval has passed.
            if at.heartbeats.as_ref().is_some_and(Heartbeats::due) && !self.beat(at).await? {
                return Ok(());
            }
        }
    }

    /// Verifies and handles one event, and moves `next_pos` past it.
    async fn handle(
        &self,
        at: &mut At<'_>,
        event: &mysql_common::binlog::events::Event,
        out: &mut Vec<SourceEvent>,
    ) -> Result<()> {
        let handler = &mut *at.handler;
        let next_pos = &mut *at.next_pos;
        let header = event.header();
        let ty = guard::event_type_name(header.event_type_raw());
        if let Err(reason) = guard::verify_event(event) {
            return Err(damaged(handler, *next_pos, ty, reason));
        }
        guard::contain(|| handler.handle(event, out))
            .unwrap_or_else(|panic| Err(damaged(handler, *next_pos, ty, panic)))?;
        crate::source::reread::serve(self.cfg, handler, event, out).await?;
        if header.event_type_raw() == ROTATE_EVENT {
            // A ROTATE's log_pos is in the file it leaves; the stream continues at the
            // position its body names in the new file (a reconnect in between would
            // otherwise ask for the old file's offset in the new file).
            if let Some(p) = event.data().get(..8) {
                let mut b = [0u8; 8];
                b.copy_from_slice(p);
                *next_pos = u64::from_le_bytes(b);
            }
        } else if header.log_pos() != 0 {
            *next_pos = header.log_pos() as u64;
        }
        Ok(())
    }

    /// Sends one event into the pipeline; false when it is shutting down.
    async fn send(&self, ev: SourceEvent) -> bool {
        tokio::select! {
            biased;
            _ = self.shutdown.cancelled() => false,
            // An error means the pipeline is gone: it is shutting down.
            r = self.tx.send(ev) => r.is_ok(),
        }
    }

    /// Sends a heartbeat (when they are on) and runs its action query. It records the
    /// position after the last event read only between transactions (see
    /// [`crate::source::heartbeat`]). False when the pipeline is shutting down.
    async fn beat(&self, at: &mut At<'_>) -> Result<bool> {
        let Some(beats) = at.heartbeats.as_mut() else {
            return Ok(true);
        };
        let offset = at
            .handler
            .between_transactions()
            .then(|| at.handler.resume_offset(*at.next_pos));
        if !self.send(beats.beat(offset)).await {
            return Ok(false);
        }
        beats.run_action().await?;
        Ok(true)
    }

    /// Registers as a replica and asks for the stream at `offset` (by file:pos, or by GTID
    /// set when the offset names no file). Returns the stream and a description of the
    /// position asked for.
    async fn connect(
        &self,
        handler: &mut EventHandler,
        offset: &SourceOffset,
    ) -> Result<(mysql_async::BinlogStream, String)> {
        let cfg = self.cfg;
        let mut conn = mysql::connect(cfg).await?;
        let info = mysql::server_info(&mut conn, cfg.flavor).await?;
        handler.set_flavor(info.flavor);
        let row_metadata = mysql::variable(&mut conn, "binlog_row_metadata").await?;
        handler.set_row_metadata_setting(row_metadata.as_deref());
        let gtid_mode = offset.binlog.file.is_empty();
        for s in session_setup(cfg, info.flavor, gtid_mode, offset)? {
            conn.query_drop(s)
                .await
                .map_err(|e| classify_mysql(e, ""))?;
        }
        let wanted = if gtid_mode {
            let set = offset.gtid_set.as_ref().map(|g| g.to_string());
            format!("GTID set {}", set.unwrap_or_default())
        } else {
            offset.binlog.to_string()
        };
        let server_id = cfg.server_id;
        let file_bytes = offset.binlog.file.clone().into_bytes();
        let mut req = BinlogStreamRequest::new(server_id);
        if gtid_mode {
            if let (Flavor::Mysql, Some(GtidSet::Mysql(set))) = (info.flavor, &offset.gtid_set) {
                req = req.with_gtid().with_gtid_set(mysql_sids(set)?);
            }
        } else {
            req = req.with_filename(&file_bytes).with_pos(offset.binlog.pos);
        }
        let stream = conn
            .get_binlog_stream(req)
            .await
            .map_err(|e| classify_mysql(e, &wanted))?;
        info!(position = %wanted, server = %info.version, flavor = info.flavor.connector(), server_id, "Connected to the binlog stream.");
        Ok((stream, wanted))
    }
}

/// The replica session's settings: heartbeats, long network timeouts, and on MariaDB the
/// capability that keeps GTID/annotate events and the GTID position to start from.
pub(crate) fn session_setup(
    cfg: &SourceConfig,
    flavor: Flavor,
    gtid_mode: bool,
    offset: &SourceOffset,
) -> Result<Vec<String>> {
    let heartbeat_ns = cfg.heartbeat_interval_ms.saturating_mul(1_000_000);
    let mut setup = vec![
        format!("SET @master_heartbeat_period = {heartbeat_ns}"),
        "SET SESSION net_write_timeout = 3600".to_string(),
        "SET SESSION net_read_timeout = 3600".to_string(),
    ];
    if flavor != Flavor::Mariadb {
        return Ok(setup);
    }
    // Without capability 4 MariaDB replaces GTID and annotate events with dummies.
    setup.push("SET @mariadb_slave_capability = 4".into());
    if gtid_mode {
        let state = match &offset.gtid_set {
            Some(GtidSet::Mariadb(l)) => l.to_string(),
            Some(GtidSet::Mysql(_)) => {
                return Err(Error::Config(
                    "the checkpoint holds a MySQL GTID set but the source is MariaDB".into(),
                ))
            }
            None => String::new(),
        };
        setup.push(format!("SET @slave_connect_state = '{state}'"));
        setup.push("SET @slave_gtid_strict_mode = 1".into());
    }
    Ok(setup)
}

fn mysql_sids(set: &crate::model::MysqlGtidSet) -> Result<Vec<mysql_async::Sid<'static>>> {
    use mysql_common::packets::GnoInterval;
    let mut out = Vec::new();
    for (uuid, tag, ivs) in set.iter() {
        let bytes = hex::decode(uuid.replace('-', ""))
            .map_err(|_| Error::Config(format!("bad server UUID {uuid} in GTID set")))?;
        let arr: [u8; 16] = bytes
            .try_into()
            .map_err(|_| Error::Config(format!("bad server UUID {uuid} in GTID set")))?;
        let mut sid = mysql_async::Sid::new(arr);
        if !tag.is_empty() {
            let t = mysql_common::packets::Tag::new(tag.to_string())
                .map_err(|_| Error::Config(format!("bad GTID tag {tag}")))?;
            sid = sid.with_tag(t);
        }
        for &(a, b) in ivs {
            sid = sid.with_interval(GnoInterval::new(a, b + 1));
        }
        out.push(sid);
    }
    Ok(out)
}
