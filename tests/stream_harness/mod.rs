//! Running the live binlog source inside a test: start `source::binlog::stream` on a spawned
//! task with a bounded channel, read its events with a timeout (a test never hangs), and stop
//! it with its cancellation token. Also: where the server's binlog stands right now.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rowtide::config::{FlavorSetting, SourceConfig};
use rowtide::model::{Catalog, Change, Filter, SourceEvent, SourceOffset};
use rowtide::source::binlog::{self, StreamObserver};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a test waits for the next event before failing.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The server's current position (file:pos and executed GTIDs), read before writing.
pub async fn here(cfg: &SourceConfig) -> SourceOffset {
    let mut conn = rowtide::mysql::connect(cfg)
        .await
        .expect("connect as the CDC user");
    let info = rowtide::mysql::server_info(&mut conn, FlavorSetting::Auto)
        .await
        .expect("server info");
    let (binlog, gtid_set) = rowtide::mysql::current_position(&mut conn, &info)
        .await
        .expect("current position");
    conn.disconnect().await.ok();
    SourceOffset {
        binlog,
        gtid_set,
        skip_rows: 0,
    }
}

/// Counts what the stream reports to its observer.
#[derive(Default)]
pub struct Counts {
    pub connected: AtomicU32,
    pub disconnected: AtomicU32,
}

impl StreamObserver for Counts {
    fn connected(&self, _file: &str, _pos: u64) {
        self.connected.fetch_add(1, Ordering::SeqCst);
    }
    fn disconnected(&self, _reason: &str) {
        self.disconnected.fetch_add(1, Ordering::SeqCst);
    }
}

/// A running stream.
pub struct Stream {
    pub token: CancellationToken,
    pub rx: mpsc::Receiver<SourceEvent>,
    pub handle: Option<JoinHandle<rowtide::Result<()>>>,
    pub counts: Arc<Counts>,
}

impl Stream {
    /// Starts streaming from `start` with the filter of `cfg`.
    pub fn start(cfg: SourceConfig, start: SourceOffset) -> Self {
        Self::start_with_capacity(cfg, start, 256)
    }

    pub fn start_with_capacity(cfg: SourceConfig, start: SourceOffset, capacity: usize) -> Self {
        let (tx, rx) = mpsc::channel(capacity);
        let token = CancellationToken::new();
        let counts = Arc::new(Counts::default());
        let filter = Filter::new(&cfg.include, &cfg.exclude).expect("valid filter");
        let (t, c) = (token.clone(), counts.clone());
        let handle = tokio::spawn(async move {
            binlog::stream(&cfg, filter, start, Catalog::default(), tx, t, &*c).await
        });
        Self {
            token,
            rx,
            handle: Some(handle),
            counts,
        }
    }

    /// The next event; panics (with the stream's error, if it ended with one) on timeout or
    /// when the stream ends.
    pub async fn next(&mut self, timeout: Duration) -> SourceEvent {
        match tokio::time::timeout(timeout, self.rx.recv()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => {
                let r = self.handle.take().expect("stream task").await;
                panic!("the stream ended early: {r:?}");
            }
            Err(_) => panic!("no event from the stream for {timeout:?}"),
        }
    }

    /// Events up to and including the Commit that follows the `n`-th change.
    pub async fn until_changes(&mut self, n: usize) -> Vec<SourceEvent> {
        let mut out = Vec::new();
        let mut seen = 0;
        loop {
            let ev = self.next(EVENT_TIMEOUT).await;
            match &ev {
                SourceEvent::Change(_) => seen += 1,
                SourceEvent::Commit { .. } if seen >= n => {
                    out.push(ev);
                    return out;
                }
                _ => {}
            }
            out.push(ev);
        }
    }

    /// Stops the stream and checks it ended cleanly.
    pub async fn stop(mut self) {
        self.token.cancel();
        let h = self.handle.take().expect("stream task");
        let r = tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .expect("the stream stops within 10 s after cancel")
            .expect("stream task did not panic");
        r.expect("the stream ended without error");
    }

    /// Waits for the stream to end by itself (for error cases).
    pub async fn finish(mut self, timeout: Duration) -> rowtide::Result<()> {
        let h = self.handle.take().expect("stream task");
        let r = tokio::time::timeout(timeout, h).await;
        self.token.cancel();
        match r {
            Ok(r) => r.expect("stream task did not panic"),
            Err(_) => panic!("the stream did not end within {timeout:?}"),
        }
    }
}

/// The row changes among `events`.
pub fn changes(events: &[SourceEvent]) -> Vec<&Change> {
    events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Change(c) => Some(&**c),
            _ => None,
        })
        .collect()
}

/// Column names of a change's table, in order.
pub fn column_names(c: &Change) -> Vec<&str> {
    c.table.columns.iter().map(|c| c.name.as_str()).collect()
}
