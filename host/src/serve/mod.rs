//! `callguard serve`: the scoring API for QA and dialers, and the `www/` pages.
//!
//! Every request runs in an instance of the pre-initialized module (pooling allocator,
//! copy-on-write memory): a warm one that answered its last request normally, or a fresh one.
//! Each call has a fuel budget and each instance a memory cap; a trap or exhausted fuel drops the
//! instance. Work runs on a blocking worker bounded by a semaphore. A reload builds and
//! self-tests a new runtime and swaps it in atomically; requests in flight finish on the one
//! they started with. With `--db` the server keeps a contact ledger (`callguard_host::ledger`)
//! and decides on its history.
//!
//! Where a change goes: `routes` (the stateless API), `batch` (score:batch), `ledger_routes`
//! (contacts, reserve, gate on the ledger), `review_routes` (reviewers' verdicts and notes), `runtime` (the module pool, workers, reload),
//! `failure` (every error answer), `metrics`, `audit`.

mod audit;
mod batch;
mod failure;
mod ledger_routes;
mod metrics;
mod review_routes;
mod routes;
mod runtime;

use anyhow::{Context as _, Result};
use audit::AuditLog;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use callguard_host::ledger::Ledger;
use callguard_host::module::Limits;
use metrics::Metrics;
use runtime::{build_runtime, Runtime};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Everything `callguard serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub module_path: Option<PathBuf>,
    pub pack_dir: Option<PathBuf>,
    pub www_dir: PathBuf,
    pub limits: Limits,
    pub max_body_bytes: usize,
    pub max_batch_lines: usize,
    pub timeout: Duration,
    pub concurrency: usize,
    pub queue_wait: Duration,
    pub admin_token: Option<String>,
    pub audit_log: Option<PathBuf>,
    /// The contact ledger's store (`sqlite:PATH` or `postgres://…`); stateless without it.
    pub db_url: Option<String>,
    /// The secret phone numbers are hashed with (needed with `db_url`).
    pub phone_key: Option<String>,
    /// The token the ledger's routes need (needed with `db_url`).
    pub api_token: Option<String>,
    /// A reservation with no outcome after this long counts as unanswered.
    pub pending_ttl: Duration,
    /// How far a reservation's `at` may be from the server's clock (`None`: no check).
    pub max_reserve_skew: Option<Duration>,
}

struct AppState {
    runtime: RwLock<Arc<Runtime>>,
    config: ServeConfig,
    workers: Arc<Semaphore>,
    metrics: Metrics,
    audit: Option<AuditLog>,
    reloading: tokio::sync::Mutex<()>,
    ledger: Option<Ledger>,
}

type Shared = Arc<AppState>;

fn router(state: Shared) -> Router {
    let www = tower_http::services::ServeDir::new(&state.config.www_dir);
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/v1/check", post(routes::check))
        .route("/v1/score", post(routes::score))
        .route("/v1/score:batch", post(batch::score_batch))
        .route("/v1/gate", post(routes::gate))
        .route("/v1/gate:reserve", post(ledger_routes::reserve))
        .route(
            "/v1/contacts",
            post(ledger_routes::record_contact).get(ledger_routes::list_contacts),
        )
        .route(
            "/v1/contacts/{id}/outcome",
            post(ledger_routes::complete_contact),
        )
        .route("/v1/ledger", get(ledger_routes::ledger_info))
        .route(
            "/v1/reviews",
            post(review_routes::record_review).get(review_routes::list_reviews),
        )
        .route("/v1/packs", get(routes::packs))
        .route("/v1/module", get(routes::module_info))
        .route("/v1/admin/reload", post(routes::admin_reload))
        .route("/healthz", get(routes::healthz))
        .route("/metrics", get(routes::metrics_text))
        .fallback_service(www)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(failure::envelope))
        .with_state(state)
}

/// The ledger named by `--db`, opened and migrated, or `None` for a stateless server.
async fn open_ledger(config: &ServeConfig) -> Result<Option<Ledger>> {
    let Some(url) = &config.db_url else {
        return Ok(None);
    };
    if config.api_token.is_none() {
        anyhow::bail!(
            "使用 --db 时必须设置 API 令牌（--api-token 或环境变量 CALLGUARD_API_TOKEN），否则网络上任何人都能写入联系记录 (--db needs an API token)"
        );
    }
    let Some(secret) = &config.phone_key else {
        anyhow::bail!(
            "使用 --db 时必须提供号码密钥（--phone-key-file 或环境变量 CALLGUARD_PHONE_KEY），号码只以密钥哈希保存 (--db needs a phone key)"
        );
    };
    let key = callguard_host::ledger::phone::PhoneKey::new(secret).map_err(anyhow::Error::msg)?;
    let options = callguard_host::ledger::LedgerOptions {
        pending_ttl: config.pending_ttl,
        max_reserve_skew: config.max_reserve_skew,
        ..Default::default()
    };
    let ledger = Ledger::open(url, key, options).await?;
    Ok(Some(ledger))
}

/// Starts the server and runs until SIGTERM or Ctrl-C, finishing the requests in flight.
pub fn serve(config: ServeConfig) -> Result<()> {
    let runtime = build_runtime(&config)?;
    let audit = match &config.audit_log {
        Some(p) => Some(
            AuditLog::open(p)
                .with_context(|| format!("cannot open audit log `{}`", p.display()))?,
        ),
        None => None,
    };
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.concurrency.max(1) + 2)
        .build()
        .context("cannot start the async runtime")?;
    let ledger = tokio_rt.block_on(open_ledger(&config))?;
    if let Some(l) = &ledger {
        eprintln!("callguard serve: contact ledger at {}", l.location());
    }
    let state = Arc::new(AppState {
        ledger,
        runtime: RwLock::new(Arc::new(runtime)),
        workers: Arc::new(Semaphore::new(config.concurrency.max(1))),
        metrics: Metrics::new(),
        audit,
        reloading: tokio::sync::Mutex::new(()),
        config,
    });
    tokio_rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(state.config.addr)
            .await
            .with_context(|| format!("cannot listen on `{}`", state.config.addr))?;
        let addr = listener.local_addr()?;
        println!(
            "callguard serve: listening on http://{addr}/ (module {})",
            state.current().module.sha256
        );
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let hup_state = state.clone();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                let _ = hup_state.reload().await;
            }
        });
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")?;
        eprintln!("callguard serve: stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    eprintln!("callguard serve: shutting down, finishing requests in flight");
}
