//! The live binlog stream: registers as a replica with its own `server_id`, reads events
//! from a `file:pos` or a GTID set, and reconnects with backoff from the last position when
//! the connection breaks (heartbeats and a read timeout detect a dead one).
//!
//! Invariant: after a reconnect the stream resumes at the start of the transaction it was
//! in and skips the rows it already emitted, so nothing is lost or repeated.

use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::BinlogStreamRequest;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::change::SourceEvent;
use crate::config::SourceConfig;
use crate::error::{classify_mysql, Error, Result};
use crate::mysql;
use crate::position::{GtidSet, SourceOffset};
use crate::source::events::{EventHandler, Flavor};
use crate::source::filter::Filter;

const ROTATE_EVENT: u8 = mysql_common::binlog::consts::EventType::ROTATE_EVENT as u8;

/// Observers the stream reports to (metrics, health).
pub trait StreamObserver: Send + Sync {
    fn connected(&self, _file: &str, _pos: u64) {}
    fn disconnected(&self, _reason: &str) {}
    fn event(&self, _file: &str, _end_pos: u64, _ts_secs: u32) {}
}

/// An observer that does nothing.
pub struct NoObserver;
impl StreamObserver for NoObserver {}

/// Streams changes from `start` into `tx` until `shutdown` fires or a definite error.
pub async fn stream(
    cfg: &SourceConfig,
    filter: Filter,
    start: SourceOffset,
    catalog: crate::catalog::Catalog,
    tx: mpsc::Sender<SourceEvent>,
    shutdown: CancellationToken,
    observer: &dyn StreamObserver,
) -> Result<()> {
    let mut handler = EventHandler::new(
        filter.clone(),
        &start.binlog.file,
        start.gtid_set.clone(),
        start.skip_rows,
    );
    handler.catalog = catalog;
    handler.include_query = cfg.include_query;
    let mut offset = start;
    let mut next_pos = offset.binlog.pos;
    let mut failures: u32 = 0;
    let mut backoff = Duration::from_millis(cfg.reconnect_backoff_ms.max(1));
    loop {
        let result = run_once(
            cfg,
            &mut handler,
            &offset,
            &mut next_pos,
            &tx,
            &shutdown,
            observer,
            &mut failures,
        )
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(Error::BinlogNotAvailable {
                wanted,
                server_message,
                ..
            }) => {
                let available = match mysql::connect(cfg).await {
                    Ok(mut c) => {
                        let logs = mysql::binary_logs(&mut c).await.unwrap_or_default();
                        let _ = c.disconnect().await;
                        mysql::describe_logs(&logs)
                    }
                    Err(_) => "(unknown: the server could not be asked)".into(),
                };
                return Err(Error::BinlogNotAvailable {
                    wanted,
                    available,
                    server_message,
                });
            }
            Err(e) if e.is_transient() => {
                if failures == 0 {
                    // The last connection worked (run_once resets `failures` on every
                    // event): this is a new outage, so start again from the first delay.
                    backoff = Duration::from_millis(cfg.reconnect_backoff_ms.max(1));
                }
                failures += 1;
                observer.disconnected(&e.to_string());
                if cfg.max_reconnect_attempts > 0 && failures > cfg.max_reconnect_attempts {
                    return Err(Error::Source(format!(
                        "gave up after {} reconnect attempts: {e}",
                        cfg.max_reconnect_attempts
                    )));
                }
                offset = handler.resume_offset(next_pos);
                handler = rebuild(handler, &offset, &filter, cfg);
                next_pos = offset.binlog.pos;
                warn!(error = %e, resume = %offset, attempt = failures, delay_ms = backoff.as_millis() as u64, "Binlog connection lost; reconnecting.");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff =
                    (backoff * 2).min(Duration::from_millis(cfg.reconnect_backoff_max_ms.max(1)));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A fresh handler positioned at `offset`, keeping the catalog and flavour.
fn rebuild(
    old: EventHandler,
    offset: &SourceOffset,
    filter: &Filter,
    cfg: &SourceConfig,
) -> EventHandler {
    let flavor = old.flavor();
    let catalog = old.catalog.clone();
    let mut h = EventHandler::new(
        filter.clone(),
        &offset.binlog.file,
        offset.gtid_set.clone(),
        offset.skip_rows,
    );
    h.catalog = catalog;
    h.include_query = cfg.include_query;
    if let Some(f) = flavor {
        h.set_flavor(f);
    }
    h
}

#[allow(clippy::too_many_arguments)]
async fn run_once(
    cfg: &SourceConfig,
    handler: &mut EventHandler,
    offset: &SourceOffset,
    next_pos: &mut u64,
    tx: &mpsc::Sender<SourceEvent>,
    shutdown: &CancellationToken,
    observer: &dyn StreamObserver,
    failures: &mut u32,
) -> Result<()> {
    let mut conn = mysql::connect(cfg).await?;
    let info = mysql::server_info(&mut conn, cfg.flavor).await?;
    handler.set_flavor(info.flavor);
    let heartbeat_ns = cfg.heartbeat_interval_ms.saturating_mul(1_000_000);
    let mut setup = vec![
        format!("SET @master_heartbeat_period = {heartbeat_ns}"),
        "SET SESSION net_write_timeout = 3600".to_string(),
        "SET SESSION net_read_timeout = 3600".to_string(),
    ];
    let gtid_mode = offset.binlog.file.is_empty();
    if info.flavor == Flavor::Mariadb {
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
    }
    for s in &setup {
        conn.query_drop(s)
            .await
            .map_err(|e| classify_mysql(e, ""))?;
    }
    let wanted = if gtid_mode {
        format!(
            "GTID set {}",
            offset
                .gtid_set
                .as_ref()
                .map(|g| g.to_string())
                .unwrap_or_default()
        )
    } else {
        offset.binlog.to_string()
    };
    let server_id = cfg.server_id;
    let file_bytes = offset.binlog.file.clone().into_bytes();
    let mut req = BinlogStreamRequest::new(server_id);
    if gtid_mode {
        if let (Flavor::Mysql, Some(GtidSet::Mysql(set))) = (info.flavor, &offset.gtid_set) {
            let sids = mysql_sids(set)?;
            req = req.with_gtid().with_gtid_set(sids);
        }
    } else {
        req = req.with_filename(&file_bytes).with_pos(offset.binlog.pos);
    }
    let mut stream = conn
        .get_binlog_stream(req)
        .await
        .map_err(|e| classify_mysql(e, &wanted))?;
    info!(position = %wanted, server = %info.version, flavor = info.flavor.connector(), server_id, "Connected to the binlog stream.");
    observer.connected(&offset.binlog.file, offset.binlog.pos);
    let read_timeout = Duration::from_millis(cfg.read_timeout_ms);
    let mut out = Vec::with_capacity(64);
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                return Ok(());
            }
            r = tokio::time::timeout(read_timeout, stream.next()) => r,
        };
        let event = match next {
            Err(_) => {
                return Err(Error::SourceTransient(format!(
                    "no event or heartbeat for {} ms",
                    cfg.read_timeout_ms
                )))
            }
            Ok(None) => {
                return Err(Error::SourceTransient(
                    "the server closed the binlog stream".into(),
                ))
            }
            Ok(Some(Err(e))) => return Err(classify_mysql(e, &wanted)),
            Ok(Some(Ok(ev))) => ev,
        };
        *failures = 0;
        let header = event.header();
        handler.handle(&event, &mut out)?;
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
        observer.event(handler.file(), *next_pos, header.timestamp());
        for ev in out.drain(..) {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return Ok(()),
                r = tx.send(ev) => {
                    if r.is_err() {
                        return Ok(()); // the pipeline is gone: it is shutting down
                    }
                }
            }
        }
    }
}

fn mysql_sids(set: &crate::position::MysqlGtidSet) -> Result<Vec<mysql_async::Sid<'static>>> {
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
