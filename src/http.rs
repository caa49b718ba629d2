//! The operations endpoint: `GET /metrics` (Prometheus text, with the values that depend
//! on the time of the scrape refreshed first), `GET /livez` and `GET /readyz` (200 or 503
//! with the state in one line, see [`health`]), and `GET /healthz`, an alias of `/readyz`
//! (it was the readiness check before the two probes existed: 200 only while snapshotting
//! or streaming). Every answer is redacted.

mod health;

pub use health::{Health, HealthState, Probe, Role};

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

#[derive(Clone)]
struct AppState {
    metrics: PrometheusHandle,
    health: Arc<Health>,
}

async fn render_metrics(State(s): State<AppState>) -> String {
    crate::metrics::refresh();
    crate::redact::redact(&s.metrics.render()).into_owned()
}

fn answer(probe: Probe) -> (StatusCode, String) {
    let code = match probe.ok {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    let text = crate::redact::redact(&probe.text).into_owned();
    (code, format!("{text}\n"))
}

async fn livez(State(s): State<AppState>) -> (StatusCode, String) {
    answer(s.health.liveness())
}

async fn readyz(State(s): State<AppState>) -> (StatusCode, String) {
    answer(s.health.readiness())
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
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/healthz", get(readyz))
        .with_state(AppState { metrics, health });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
    Ok(addr)
}
