//! The operations endpoint: `GET /metrics` (Prometheus text) and `GET /healthz` (200 while
//! snapshotting or streaming, 503 with the reason otherwise). Both answers are redacted.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// The engine's state as `/healthz` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    Starting,
    Snapshotting,
    Streaming,
    Reconnecting,
    Stopping,
    Failed,
}

/// Shared, updated by the pipeline.
#[derive(Debug)]
pub struct Health {
    inner: Mutex<(HealthState, String)>,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            inner: Mutex::new((HealthState::Starting, "starting".into())),
        }
    }
}

impl Health {
    pub fn set(&self, state: HealthState, reason: impl Into<String>) {
        if let Ok(mut g) = self.inner.lock() {
            *g = (state, reason.into());
        }
    }

    pub fn get(&self) -> (HealthState, String) {
        self.inner
            .lock()
            .map(|g| g.clone())
            .unwrap_or((HealthState::Failed, "health state poisoned".into()))
    }
}

#[derive(Clone)]
struct AppState {
    metrics: PrometheusHandle,
    health: Arc<Health>,
}

async fn render_metrics(State(s): State<AppState>) -> String {
    crate::redact::redact(&s.metrics.render()).into_owned()
}

async fn healthz(State(s): State<AppState>) -> (StatusCode, String) {
    let (state, reason) = s.health.get();
    let reason = crate::redact::redact(&reason).into_owned();
    match state {
        HealthState::Streaming | HealthState::Snapshotting => {
            (StatusCode::OK, format!("ok: {reason}\n"))
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unavailable: {reason}\n"),
        ),
    }
}

/// Binds `listen` and serves until `shutdown`; returns the bound address.
pub async fn serve(
    listen: &str,
    metrics: PrometheusHandle,
    health: Arc<Health>,
    shutdown: CancellationToken,
) -> Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::Config(format!("metrics.listen: cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("metrics listener address", e))?;
    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(healthz))
        .with_state(AppState { metrics, health });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
    Ok(addr)
}
