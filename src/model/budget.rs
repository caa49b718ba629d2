//! The pipeline's byte budget (`pipeline.max_in_flight_bytes`): every event the source
//! hands on is charged its approximate size in memory before it enters the source queue,
//! and the [`Charge`] travels with it — through the encoders, as part of the records made
//! from it, into the acknowledgement window — until Kafka has acknowledged those records
//! (or the event turned out to produce none). Dropping a charge gives its bytes back, so a
//! charge can neither leak nor be released twice.
//!
//! So the bytes held between the binlog reader and Kafka's acknowledgement never exceed the
//! budget, whatever the row size: when it is spent the source waits (backpressure, like the
//! count limits). An event larger than the whole budget is charged the whole budget: it
//! passes alone once everything before it has been acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::change::SourceEvent;
use super::value::Value;

/// Charges are counted in units of this many bytes (so a budget may exceed 4 GiB, the
/// largest number of permits one acquisition can ask for).
const UNIT: u64 = 1024;

/// What every event costs on top of its values (the change's own fields, the table handle,
/// queue slots).
const EVENT_OVERHEAD: u64 = 256;

/// The shared budget of one pipeline run.
#[derive(Clone)]
pub struct ByteBudget {
    sem: Arc<Semaphore>,
    units: u32,
    charged: Arc<AtomicU64>,
}

impl ByteBudget {
    /// A budget of `bytes` (at least one unit).
    pub fn new(bytes: u64) -> Self {
        let units = (bytes / UNIT).clamp(1, u32::MAX as u64) as u32;
        Self {
            sem: Arc::new(Semaphore::new(units as usize)),
            units,
            charged: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The budget, in bytes.
    pub fn capacity(&self) -> u64 {
        self.units as u64 * UNIT
    }

    /// Bytes charged and not yet given back.
    pub fn charged(&self) -> u64 {
        self.charged.load(Ordering::Relaxed)
    }

    /// Waits until `bytes` (at most the whole budget) are free, and takes them.
    pub async fn charge(&self, bytes: u64) -> Charge {
        if bytes == 0 {
            return Charge::default();
        }
        let units = bytes.div_ceil(UNIT).min(self.units as u64) as u32;
        // The semaphore is never closed: acquisition only waits.
        let Ok(permit) = self.sem.clone().acquire_many_owned(units).await else {
            return Charge::default();
        };
        let bytes = units as u64 * UNIT;
        self.charged.fetch_add(bytes, Ordering::Relaxed);
        Charge(Some(Held {
            permit: Some(permit),
            bytes,
            charged: self.charged.clone(),
        }))
    }
}

/// Bytes of the budget held by one event until its records are acknowledged; dropping it
/// gives them back.
#[derive(Default)]
pub struct Charge(Option<Held>);

struct Held {
    permit: Option<OwnedSemaphorePermit>,
    bytes: u64,
    charged: Arc<AtomicU64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.charged.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl Charge {
    /// Bytes held (a multiple of the unit; 0 for an empty charge).
    pub fn bytes(&self) -> u64 {
        self.0.as_ref().map_or(0, |h| h.bytes)
    }

    /// Takes over `other`'s bytes too (several events whose records end in one place).
    pub fn absorb(&mut self, other: Charge) {
        match (&mut self.0, other.0) {
            (_, None) => {}
            (None, Some(h)) => self.0 = Some(h),
            (Some(mine), Some(mut h)) => {
                // `h`'s bytes move to `mine`: its drop gives nothing back.
                let bytes = std::mem::take(&mut h.bytes);
                match (&mut mine.permit, h.permit.take()) {
                    (Some(p), Some(q)) => p.merge(q),
                    (p @ None, q) => *p = q,
                    (Some(_), None) => {}
                }
                mine.bytes += bytes;
            }
        }
    }
}

impl std::fmt::Debug for Charge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Charge({} bytes)", self.bytes())
    }
}

/// An event on its way to the encoders, with the bytes it holds.
pub struct Charged {
    pub event: SourceEvent,
    pub charge: Charge,
}

/// The source's end of the source queue: it charges each event against the budget before
/// queueing it. A plain sender (tools and tests that read the events themselves) charges
/// nothing.
#[derive(Clone)]
pub enum EventTx {
    Charged(mpsc::Sender<Charged>, ByteBudget),
    Plain(mpsc::Sender<SourceEvent>),
}

/// The pipeline is gone (it is shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl From<mpsc::Sender<SourceEvent>> for EventTx {
    fn from(tx: mpsc::Sender<SourceEvent>) -> Self {
        EventTx::Plain(tx)
    }
}

impl EventTx {
    /// Charges `event` (waiting while the budget is spent) and queues it (waiting while the
    /// queue is full).
    pub async fn send(&self, event: SourceEvent) -> Result<(), Closed> {
        match self {
            EventTx::Plain(tx) => tx.send(event).await.map_err(|_| Closed),
            EventTx::Charged(tx, budget) => {
                let charge = budget.charge(event_bytes(&event)).await;
                tx.send(Charged { event, charge }).await.map_err(|_| Closed)
            }
        }
    }
}

/// About how many bytes `event` and what is made from it occupy while it is in flight: its
/// row images' values (text, binary and JSON by length) plus a fixed overhead. Marks cost
/// nothing (the count limits bound them).
pub fn event_bytes(event: &SourceEvent) -> u64 {
    match event {
        SourceEvent::Change(c) | SourceEvent::Skipped(c) => {
            let row = |r: &Option<Vec<Value>>| {
                r.as_ref()
                    .map_or(0, |r| r.iter().map(value_bytes).sum::<u64>())
            };
            EVENT_OVERHEAD + row(&c.before) + row(&c.after)
        }
        SourceEvent::SchemaChange(s) => EVENT_OVERHEAD + s.ddl.len() as u64,
        _ => 0,
    }
}

fn value_bytes(v: &Value) -> u64 {
    let heap = match v {
        Value::Decimal(s) | Value::String(s) | Value::Json(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::Geometry { wkb, .. } => wkb.len(),
        Value::Vector(v) => v.len() * 4,
        _ => 0,
    };
    (std::mem::size_of::<Value>() + heap) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn charges_wait_for_released_bytes_and_oversized_ones_pass_alone() {
        let budget = ByteBudget::new(10 * UNIT);
        let a = budget.charge(6 * UNIT).await;
        let b = budget.charge(4 * UNIT).await;
        assert_eq!(budget.charged(), 10 * UNIT);
        // Full: the next charge waits until something is given back.
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.charge(1)).await;
        assert!(waiting.is_err(), "a spent budget must make the charge wait");
        drop(a);
        let c = budget.charge(1).await;
        assert_eq!(c.bytes(), UNIT, "charged in whole units");
        drop((b, c));
        assert_eq!(budget.charged(), 0);
        // Larger than the whole budget: charged the whole budget, once all is free.
        let big = budget.charge(1 << 30).await;
        assert_eq!(big.bytes(), budget.capacity());
        let blocked = tokio::time::timeout(Duration::from_millis(50), budget.charge(1)).await;
        assert!(blocked.is_err());
        drop(big);
        assert_eq!(budget.charged(), 0);
    }

    #[tokio::test]
    async fn absorbed_charges_are_given_back_once() {
        let budget = ByteBudget::new(8 * UNIT);
        let mut a = budget.charge(2 * UNIT).await;
        a.absorb(budget.charge(3 * UNIT).await);
        a.absorb(Charge::default());
        assert_eq!(a.bytes(), 5 * UNIT);
        assert_eq!(budget.charged(), 5 * UNIT);
        drop(a);
        assert_eq!(budget.charged(), 0);
        // All eight units are free again.
        let all = tokio::time::timeout(Duration::from_millis(50), budget.charge(8 * UNIT)).await;
        assert!(all.is_ok());
    }
}
