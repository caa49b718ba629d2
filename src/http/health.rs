//! The engine's health as the probes see it: the pipeline's state (set by the stages), the
//! last time a stage showed progress, the backoff a restart waits out, and how long Kafka
//! has kept records waiting for acknowledgement.
//!
//! Invariants:
//! - liveness ([`Health::liveness`]) fails only when the process is stuck or failed: no
//!   stage has ticked for `metrics.liveness_timeout_secs` (the backoff delay of a pending
//!   restart does not count — waiting on purpose is progress), or the pipeline stopped on a
//!   definite error. A database or Kafka outage alone never makes it fail;
//! - readiness ([`Health::readiness`]) holds only while snapshotting or streaming *and* no
//!   record has waited for Kafka's acknowledgement longer than
//!   `metrics.readiness_ack_timeout_secs` (counted from its send, or from the last
//!   acknowledgement when that is later), and while the process is live;
//! - under `[ha]` every answer ends with the instance's role (`[ha: active]` or
//!   `[ha: standby]`); a standby whose checks pass (source and Kafka answer, state read) is
//!   live and ready ("ready: standby"), so that no orchestrator restarts or withholds it:
//!   being ready to take over is its job.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The pipeline's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    Starting,
    Snapshotting,
    Streaming,
    Reconnecting,
    Stopping,
    Failed,
    /// `[ha]`: standing by, its checks passed, ready to take over.
    Standby,
}

/// `[ha]`: this instance's role in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Active,
    Standby,
}

impl Role {
    pub fn word(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Standby => "standby",
        }
    }
}

impl HealthState {
    fn word(self) -> &'static str {
        match self {
            HealthState::Starting => "starting",
            HealthState::Snapshotting => "snapshotting",
            HealthState::Streaming => "streaming",
            HealthState::Reconnecting => "reconnecting",
            HealthState::Stopping => "stopping",
            HealthState::Failed => "failed",
            HealthState::Standby => "standby",
        }
    }
}

/// A probe's answer: whether it passes, and its one-line body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub ok: bool,
    pub text: String,
}

#[derive(Debug)]
struct Inner {
    state: HealthState,
    reason: String,
    /// The last time a stage showed progress (or a restart's backoff ends, if later).
    last_tick: Instant,
    /// When a pending restart is due (only while waiting out a backoff).
    retry_at: Option<Instant>,
    /// Since when Kafka keeps the oldest unacknowledged record waiting, if one waits.
    kafka_waiting_since: Option<Instant>,
    /// `[ha]` only.
    role: Option<Role>,
}

/// Shared by the stages, read by the probes.
#[derive(Debug)]
pub struct Health {
    inner: Mutex<Inner>,
    liveness_timeout: Duration,
    ack_timeout: Duration,
}

impl Default for Health {
    fn default() -> Self {
        Self::new(Duration::from_secs(120), Duration::from_secs(10))
    }
}

impl Health {
    pub fn new(liveness_timeout: Duration, ack_timeout: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                state: HealthState::Starting,
                reason: "starting".into(),
                last_tick: Instant::now(),
                retry_at: None,
                kafka_waiting_since: None,
                role: None,
            }),
            liveness_timeout,
            ack_timeout,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> Option<T> {
        self.inner.lock().ok().map(|mut g| f(&mut g))
    }

    /// A new state (a stage moved on, which is progress too).
    pub fn set(&self, state: HealthState, reason: impl Into<String>) {
        let reason = reason.into();
        self.with(|g| {
            g.state = state;
            g.reason = reason;
            g.last_tick = Instant::now();
            g.retry_at = None;
            if !matches!(state, HealthState::Snapshotting | HealthState::Streaming) {
                g.kafka_waiting_since = None;
            }
        });
    }

    /// Waiting out a restart's backoff of `delay`: live until it ends (and the liveness
    /// timeout after), not ready.
    pub fn backoff(&self, reason: impl Into<String>, delay: Duration) {
        let reason = reason.into();
        self.with(|g| {
            let now = Instant::now();
            g.state = HealthState::Reconnecting;
            g.reason = reason;
            g.last_tick = now;
            g.retry_at = Some(now + delay);
            g.kafka_waiting_since = None;
        });
    }

    /// The sink's view: since when the oldest unacknowledged record waits (`None` when
    /// nothing waits). Also a tick of the sink loop.
    pub fn kafka_waiting(&self, since: Option<Instant>) {
        self.with(|g| {
            g.kafka_waiting_since = since;
            g.last_tick = Instant::now();
        });
    }

    /// `[ha]`: the role the probes report from now on.
    pub fn set_role(&self, role: Role) {
        self.with(|g| g.role = Some(role));
    }

    /// The answer with the role appended, under `[ha]`.
    fn with_role(&self, mut probe: Probe) -> Probe {
        if let Some(Some(role)) = self.with(|g| g.role) {
            probe.text = format!("{} [ha: {}]", probe.text, role.word());
        }
        probe
    }

    /// `/livez`.
    pub fn liveness(&self) -> Probe {
        self.with_role(self.liveness_at(Instant::now()))
    }

    fn liveness_at(&self, now: Instant) -> Probe {
        let Some(inner) = self.with(|g| {
            (
                g.state,
                g.reason.clone(),
                g.last_tick.max(g.retry_at.unwrap_or(g.last_tick)),
                g.retry_at,
            )
        }) else {
            return fail("not live: health state poisoned");
        };
        let (state, reason, tick, retry_at) = inner;
        if state == HealthState::Failed {
            return fail(format!("not live: failed: {reason}"));
        }
        let quiet = now.saturating_duration_since(tick);
        if quiet > self.liveness_timeout && state != HealthState::Stopping {
            return fail(format!(
                "not live: no progress for {}s while {}: {reason}",
                quiet.as_secs(),
                state.word()
            ));
        }
        let text = match retry_at {
            Some(at) if at > now => format!(
                "live: reconnecting (next attempt in {}s): {reason}",
                at.saturating_duration_since(now).as_secs_f64().ceil() as u64
            ),
            _ => format!("live: {}", state.word()),
        };
        Probe { ok: true, text }
    }

    /// `/readyz` (and `/healthz`).
    pub fn readiness(&self) -> Probe {
        self.with_role(self.readiness_at(Instant::now()))
    }

    fn readiness_at(&self, now: Instant) -> Probe {
        let live = self.liveness_at(now);
        if !live.ok {
            return fail(live.text.replacen("not live", "not ready", 1));
        }
        let Some((state, reason, waiting)) =
            self.with(|g| (g.state, g.reason.clone(), g.kafka_waiting_since))
        else {
            return fail("not ready: health state poisoned");
        };
        match state {
            HealthState::Snapshotting | HealthState::Streaming | HealthState::Standby => {}
            _ => return fail(format!("not ready: {}: {reason}", state.word())),
        }
        let waited = waiting.map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        if waited > self.ack_timeout {
            return fail(format!(
                "not ready: kafka not acknowledging for {}s",
                waited.as_secs()
            ));
        }
        Probe {
            ok: true,
            text: format!("ready: {}", state.word()),
        }
    }
}

fn fail(text: impl Into<String>) -> Probe {
    Probe {
        ok: false,
        text: text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health() -> Health {
        Health::new(Duration::from_secs(60), Duration::from_secs(10))
    }

    #[test]
    fn a_standby_is_live_and_ready_and_says_its_role() {
        let h = health();
        h.set_role(Role::Standby);
        h.set(HealthState::Standby, "source and kafka reachable");
        assert_eq!(h.readiness().text, "ready: standby [ha: standby]");
        assert_eq!(h.liveness().text, "live: standby [ha: standby]");
        h.set_role(Role::Active);
        h.set(HealthState::Streaming, "streaming");
        assert_eq!(h.readiness().text, "ready: streaming [ha: active]");
    }

    #[test]
    fn starting_is_live_and_not_ready() {
        let h = health();
        let now = Instant::now();
        assert_eq!(h.liveness_at(now).text, "live: starting");
        let r = h.readiness_at(now);
        assert!(!r.ok);
        assert_eq!(r.text, "not ready: starting: starting");
    }

    #[test]
    fn streaming_is_ready_until_kafka_keeps_a_record_waiting_too_long() {
        let h = health();
        h.set(HealthState::Streaming, "streaming from b.000001:4");
        let now = Instant::now();
        assert_eq!(h.readiness_at(now).text, "ready: streaming");
        h.kafka_waiting(Some(now));
        assert!(h.readiness_at(now + Duration::from_secs(9)).ok);
        let r = h.readiness_at(now + Duration::from_secs(12));
        assert!(!r.ok);
        assert_eq!(r.text, "not ready: kafka not acknowledging for 12s");
        assert!(h.liveness_at(now + Duration::from_secs(12)).ok);
        h.kafka_waiting(None);
        assert!(h.readiness_at(now + Duration::from_secs(12)).ok);
    }

    #[test]
    fn waiting_out_a_backoff_is_live_but_not_ready() {
        let h = health();
        let now = Instant::now();
        h.backoff("source unreachable", Duration::from_secs(300));
        // Past the liveness timeout but within the backoff: still live.
        let at = now + Duration::from_secs(100);
        let l = h.liveness_at(at);
        assert!(l.ok, "{l:?}");
        assert!(
            l.text.starts_with("live: reconnecting (next attempt in"),
            "{l:?}"
        );
        let r = h.readiness_at(at);
        assert_eq!(r.text, "not ready: reconnecting: source unreachable");
        // The backoff ended and nothing moved for the liveness timeout: stuck.
        let l = h.liveness_at(now + Duration::from_secs(300 + 61));
        assert!(!l.ok);
        assert!(l.text.starts_with("not live: no progress for 6"), "{l:?}");
    }

    #[test]
    fn no_tick_for_the_timeout_is_not_live_and_failed_is_never_live() {
        let h = health();
        h.set(HealthState::Streaming, "x");
        let l = h.liveness_at(Instant::now() + Duration::from_secs(61));
        assert!(!l.ok);
        assert!(l.text.contains("while streaming"), "{l:?}");
        h.set(HealthState::Failed, "binlog purged");
        assert_eq!(
            h.liveness_at(Instant::now()).text,
            "not live: failed: binlog purged"
        );
        h.set(HealthState::Stopping, "stopping");
        assert!(h.liveness_at(Instant::now() + Duration::from_secs(600)).ok);
    }
}
