//! `callguard serve`: the scoring API for QA and dialers, and the `www/` pages.
//!
//! Every request runs in an instance of the pre-initialized module (pooling allocator,
//! copy-on-write memory): a warm one that answered its last request normally, or a fresh one.
//! Each call has a fuel budget and each instance a memory cap; a trap or exhausted fuel drops the
//! instance. Work runs on a blocking worker bounded by a semaphore. A reload builds and self-tests a new runtime and swaps
//! it in atomically; requests in flight finish on the one they started with.

mod audit;
mod metrics;

use anyhow::{anyhow, Context as _, Result};
use audit::AuditLog;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use callguard_host::module::{CallError, Limits, Op, PolicyModule, Session};
use futures_util::StreamExt;
use metrics::{CategoryLabel, Metrics, Outcome, Route, RouteStatus};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
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
}

/// A loaded module with its packs: what one request runs against.
struct Runtime {
    module: PolicyModule,
    packs: Value,
    pack_files: Vec<String>,
    loaded_at: String,
    /// Instances that answered their last request normally, ready for the next one. An instance
    /// that traps or runs out of fuel is dropped, and each one is retired after `MAX_USES`
    /// requests, so a fault or slow growth never outlives a bounded number of requests.
    warm: std::sync::Mutex<Vec<(Session, u32)>>,
}

/// Requests one instance answers before it is replaced by a fresh one.
const MAX_USES: u32 = 10_000;

impl Runtime {
    /// A warm instance if one is idle, else a fresh one from the pre-initialized snapshot.
    ///
    /// Reusing instances is what makes the server fast: a fresh instance starts with the regex
    /// engines' lazy caches as the snapshot left them and faults in every page it touches, which
    /// costs 5–10× the call itself (see bench/REPORT.md). Instances hold no state from one request
    /// that another can observe: every operation is a pure function of its input, and the only
    /// mutating export (`load_pack`) is not reachable over HTTP.
    fn session(&self) -> std::result::Result<(Session, u32), CallError> {
        let idle = self.warm.lock().ok().and_then(|mut warm| warm.pop());
        match idle {
            Some(s) => Ok(s),
            None => self
                .module
                .session()
                .map(|s| (s, 0))
                .map_err(|e| CallError::Host(format!("{e:#}"))),
        }
    }

    /// Returns an instance after a normal answer.
    fn give_back(&self, session: Session, uses: u32) {
        if uses < MAX_USES {
            if let Ok(mut warm) = self.warm.lock() {
                warm.push((session, uses));
            }
        }
    }
}

struct AppState {
    runtime: RwLock<Arc<Runtime>>,
    config: ServeConfig,
    workers: Arc<Semaphore>,
    metrics: Metrics,
    audit: Option<AuditLog>,
    reloading: tokio::sync::Mutex<()>,
}

type Shared = Arc<AppState>;

/// An error answer with its status.
struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json!({"type": "failure", "errors": [{"message": self.message, "help": "", "code": self.code}]});
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// Reads the pack directory: every `*.toml`, parents first (a pack is loaded once its `extends`
/// is known).
fn read_pack_dir(dir: &std::path::Path) -> Result<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read pack directory `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut texts = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .with_context(|| format!("cannot read pack `{}`", f.display()))?;
        texts.push(text);
    }
    // A pack goes after the pack it extends when that is in the directory too; any other parent
    // is one the module already has (or not: loading then says exactly which).
    let heads: Vec<(Option<String>, Option<String>)> = texts.iter().map(|t| pack_head(t)).collect();
    let local = |id: &String| heads.iter().any(|(own, _)| own.as_ref() == Some(id));
    let mut placed = vec![false; texts.len()];
    let mut placed_ids: Vec<String> = Vec::new();
    let mut ordered = Vec::new();
    while ordered.len() < texts.len() {
        let before = ordered.len();
        for (i, ((id, extends), text)) in heads.iter().zip(&texts).enumerate() {
            let ready = extends
                .as_ref()
                .is_none_or(|p| !local(p) || placed_ids.contains(p));
            if placed.get(i) == Some(&false) && ready {
                if let Some(slot) = placed.get_mut(i) {
                    *slot = true;
                }
                placed_ids.extend(id.clone());
                ordered.push(text.clone());
            }
        }
        if ordered.len() == before {
            // A cycle among the directory's packs: load the rest as they are and let the module
            // report the unknown parent.
            for (done, text) in placed.iter().zip(&texts) {
                if !done {
                    ordered.push(text.clone());
                }
            }
        }
    }
    Ok(ordered)
}

/// The `[pack]` table's `id` and `extends`, read line by line just to order the directory's
/// packs; the module does the real parsing.
fn pack_head(text: &str) -> (Option<String>, Option<String>) {
    let (mut id, mut extends) = (None, None);
    let mut in_pack = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_pack = line == "[pack]";
        } else if let (true, Some((key, value))) = (in_pack, line.split_once('=')) {
            let value = value.trim().trim_matches('"').to_string();
            match key.trim() {
                "id" => id = Some(value),
                "extends" => extends = Some(value),
                _ => {}
            }
        }
    }
    (id, extends)
}

/// Builds and checks a runtime: ABI version and imports (in `PolicyModule::new`), the custom
/// packs loaded with their examples, then every pack's examples run in a fresh instance.
fn build_runtime(config: &ServeConfig) -> Result<Runtime> {
    let bytes = match &config.module_path {
        Some(p) => {
            std::fs::read(p).with_context(|| format!("cannot read module `{}`", p.display()))?
        }
        None => callguard_host::module::EMBEDDED_MODULE.to_vec(),
    };
    let pack_files = match &config.pack_dir {
        Some(dir) => read_pack_dir(dir)?,
        None => Vec::new(),
    };
    let module = PolicyModule::new(&bytes, config.limits, &pack_files)?;
    let mut session = module.session()?;
    if module.abi_minor >= 1 {
        let answer = session
            .call(Op::SelfTest, "{}")
            .map_err(|e| anyhow!("{e}"))?;
        if answer.get("type").and_then(Value::as_str) != Some("success") {
            let first = answer
                .pointer("/errors/0/message")
                .and_then(Value::as_str)
                .unwrap_or("failure");
            return Err(anyhow!("the packs' examples fail: {first}"));
        }
    }
    let packs = session.call(Op::Packs, "{}").map_err(|e| anyhow!("{e}"))?;
    Ok(Runtime {
        module,
        packs,
        pack_files,
        loaded_at: chrono::Utc::now().to_rfc3339(),
        warm: std::sync::Mutex::new(Vec::new()),
    })
}

impl AppState {
    fn current(&self) -> Arc<Runtime> {
        match self.runtime.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Builds a new runtime off the request path and swaps it in; the old one keeps serving if
    /// anything is wrong.
    async fn reload(self: &Arc<Self>) -> std::result::Result<Value, String> {
        let _one_at_a_time = self.reloading.lock().await;
        let config = self.config.clone();
        let built = tokio::task::spawn_blocking(move || build_runtime(&config))
            .await
            .map_err(|e| format!("reload task failed: {e}"))
            .and_then(|r| r.map_err(|e| format!("{e:#}")));
        match built {
            Ok(runtime) => {
                let sha = runtime.module.sha256.clone();
                let summary = json!({"type": "success", "module_sha256": runtime.module.sha256, "loaded_at": runtime.loaded_at});
                let new = Arc::new(runtime);
                match self.runtime.write() {
                    Ok(mut guard) => *guard = new,
                    Err(poisoned) => *poisoned.into_inner() = new,
                }
                self.metrics
                    .reloads
                    .get_or_create(&Outcome {
                        outcome: "ok".into(),
                    })
                    .inc();
                eprintln!("callguard serve: reloaded module {sha}");
                Ok(summary)
            }
            Err(e) => {
                self.metrics
                    .reloads
                    .get_or_create(&Outcome {
                        outcome: "refused".into(),
                    })
                    .inc();
                eprintln!(
                    "callguard serve: reload refused, still serving the previous module: {e}"
                );
                Err(e)
            }
        }
    }

    /// Runs `work` with an instance (see [`Runtime::session`]) on a blocking worker, within the
    /// worker limit and the per-request timeout.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Session, &Runtime) -> std::result::Result<T, CallError> + Send + 'static,
    ) -> std::result::Result<T, Failure> {
        let permit = match tokio::time::timeout(
            self.config.queue_wait,
            self.workers.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            _ => {
                self.metrics.rejected.inc();
                return Err(Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "every worker is busy; retry shortly",
                ));
            }
        };
        let runtime = self.current();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let (mut session, uses) = runtime.session()?;
            let answer = work(&mut session, &runtime);
            // A trap, exhausted fuel or a broken answer drops the instance with its memory.
            if answer.is_ok() {
                runtime.give_back(session, uses + 1);
            }
            answer
        });
        match tokio::time::timeout(self.config.timeout, task).await {
            Err(_) => {
                self.metrics.timeouts.inc();
                Err(Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    format!(
                        "the request ran past the {} ms timeout",
                        self.config.timeout.as_millis()
                    ),
                ))
            }
            Ok(Err(e)) => Err(Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("worker failed: {e}"),
            )),
            Ok(Ok(Err(e))) => Err(self.call_failure(e)),
            Ok(Ok(Ok(v))) => Ok(v),
        }
    }

    fn call_failure(&self, e: CallError) -> Failure {
        match e {
            CallError::OutOfFuel(m) => {
                self.metrics.fuel_exhausted.inc();
                Failure::new(StatusCode::SERVICE_UNAVAILABLE, "cpu_budget_exceeded", m)
            }
            CallError::Trap(m) => {
                self.metrics.traps.inc();
                Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "module_trap", m)
            }
            CallError::Host(m) => {
                Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "bad_module_answer", m)
            }
        }
    }

    /// Stamps, counts and logs a module answer and picks its status.
    fn answer(
        &self,
        route: &str,
        mut answer: Map<String, Value>,
        module_sha256: &str,
    ) -> (StatusCode, Value) {
        answer.insert(
            "module_sha256".into(),
            Value::String(module_sha256.to_string()),
        );
        let status = status_of(&answer);
        for f in answer
            .get("findings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(c) = f.get("category").and_then(Value::as_str) {
                self.metrics
                    .findings
                    .get_or_create(&CategoryLabel {
                        category: c.to_string(),
                    })
                    .inc();
            }
        }
        let value = Value::Object(answer);
        if let Some(audit) = &self.audit {
            audit.record(route, &value);
        }
        (status, value)
    }
}

/// 200 for success; for a failure answer, the status its first error's code calls for.
fn status_of(answer: &Map<String, Value>) -> StatusCode {
    if answer.get("type").and_then(Value::as_str) == Some("success") {
        return StatusCode::OK;
    }
    let code = answer
        .get("errors")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str);
    match code {
        Some("unknown_pack") => StatusCode::NOT_FOUND,
        Some("input_too_large") => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn as_object(v: Value) -> std::result::Result<Map<String, Value>, CallError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(CallError::Host(
            "the module's answer is not a JSON object".into(),
        )),
    }
}

fn require_json(headers: &HeaderMap) -> std::result::Result<(), Failure> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.split(';').next().map(str::trim) == Some("application/json") {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send `Content-Type: application/json`, not `{ct}`"),
        ))
    }
}

fn utf8(body: &Bytes) -> std::result::Result<&str, Failure> {
    std::str::from_utf8(body).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            format!("the body is not valid UTF-8 (offset {})", e.valid_up_to()),
        )
    })
}

fn parse_json(text: &str) -> std::result::Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("invalid JSON body: {e}"),
        )
    })
}

/// Times and counts a route's response.
fn finish(state: &AppState, route: &str, started: Instant, response: Response) -> Response {
    let status = response.status().as_u16();
    state
        .metrics
        .requests
        .get_or_create(&RouteStatus {
            route: route.into(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&Route {
            route: route.into(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Runs one JSON call against the module and answers it.
async fn one_call(state: &Shared, route: &'static str, op: Op, call: Value) -> Response {
    let input = call.to_string();
    let result = state
        .run(move |session, runtime| {
            let answer = as_object(session.call(op, &input)?)?;
            Ok((answer, runtime.module.sha256.clone()))
        })
        .await;
    match result {
        Ok((answer, sha)) => {
            let (status, value) = state.answer(route, answer, &sha);
            (status, axum::Json(value)).into_response()
        }
        Err(f) => f.into_response(),
    }
}

async fn check(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    let response = match require_json(&headers)
        .and_then(|_| utf8(&body))
        .and_then(parse_json)
    {
        Ok(call) => one_call(&state, "/v1/check", Op::Check, call).await,
        Err(f) => f.into_response(),
    };
    finish(&state, "/v1/check", started, response)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ScoreQuery {
    pack: Option<String>,
    dpd: Option<i64>,
    format: Option<String>,
    id: Option<String>,
}

/// A score call from a JSON body: a transcript (`turns`) or a full score call.
fn score_call_from_json(body: Value, q: &ScoreQuery) -> Value {
    let mut call = if body.get("turns").is_some() {
        json!({ "transcript": body })
    } else {
        body
    };
    if let Value::Object(map) = &mut call {
        if let Some(p) = &q.pack {
            map.entry("pack").or_insert_with(|| json!(p));
        }
        if let Some(d) = q.dpd {
            map.entry("dpd").or_insert_with(|| json!(d));
        }
        if let Some(id) = &q.id {
            map.entry("id").or_insert_with(|| json!(id));
        }
    }
    call
}

async fn score(
    State(state): State<Shared>,
    Query(q): Query<ScoreQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let call = utf8(&body).and_then(|text| {
        if ct.starts_with("application/json") && q.format.as_deref().is_none_or(|f| f == "json") {
            parse_json(text).map(|v| score_call_from_json(v, &q))
        } else if ct.starts_with("text/") || q.format.is_some() {
            let format = q.format.clone().unwrap_or_else(|| if ct.starts_with("text/vtt") { "vtt".into() } else { "text".into() });
            Ok(json!({ "content": text, "format": format, "pack": q.pack, "dpd": q.dpd, "id": q.id }))
        } else {
            Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("send JSON turns as `application/json`, or text / VTT / SRT as `text/plain` with `?format=text|vtt|srt`; got `{ct}`"),
            ))
        }
    });
    let response = match call {
        Ok(call) => one_call(&state, "/v1/score", Op::Score, call).await,
        Err(f) => f.into_response(),
    };
    finish(&state, "/v1/score", started, response)
}

/// JSON lines in, JSON lines out as each is scored; a bad line gets its own failure line.
async fn score_batch(
    State(state): State<Shared>,
    Query(q): Query<ScoreQuery>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let q = Arc::new(q);
    let (tx, rx) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(16);
    let mut body = request.into_body().into_data_stream();
    let st = state.clone();
    tokio::spawn(async move {
        let mut pending: Vec<u8> = Vec::new();
        let mut number = 0usize;
        let mut finished = false;
        while !finished {
            let chunk = body.next().await;
            let lines: Vec<Vec<u8>> = match chunk {
                Some(Ok(bytes)) => {
                    pending.extend_from_slice(&bytes);
                    if pending.len() > st.config.max_body_bytes {
                        let line = json!({"line": number + 1, "type": "failure", "errors": [{"message": format!("a batch line is longer than {} bytes", st.config.max_body_bytes), "help": "", "code": "input_too_large"}]});
                        let _ = tx.send(Ok(Bytes::from(format!("{line}\n")))).await;
                        return;
                    }
                    let mut out = Vec::new();
                    while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                        out.push(pending.drain(..=pos).collect());
                    }
                    out
                }
                Some(Err(e)) => {
                    let line = json!({"type": "failure", "errors": [{"message": format!("cannot read the body: {e}"), "help": "", "code": "invalid_body"}]});
                    let _ = tx.send(Ok(Bytes::from(format!("{line}\n")))).await;
                    return;
                }
                None => {
                    finished = true;
                    if pending.is_empty() {
                        Vec::new()
                    } else {
                        vec![std::mem::take(&mut pending)]
                    }
                }
            };
            for raw in lines {
                let text = String::from_utf8_lossy(&raw).trim().to_string();
                if text.is_empty() {
                    continue;
                }
                number += 1;
                if number > st.config.max_batch_lines {
                    let line = json!({"line": number, "type": "failure", "errors": [{"message": format!("a batch takes at most {} lines; the rest is not scored", st.config.max_batch_lines), "help": "split the batch", "code": "batch_too_large"}]});
                    let _ = tx.send(Ok(Bytes::from(format!("{line}\n")))).await;
                    return;
                }
                let answer = match serde_json::from_str::<Value>(&text) {
                    Err(e) => {
                        json!({"line": number, "type": "failure", "errors": [{"message": format!("line {number} is not valid JSON: {e}"), "help": "", "code": "invalid_json"}]})
                    }
                    Ok(v) => {
                        let call = score_call_from_json(v, &q).to_string();
                        match st
                            .run(move |s, rt| {
                                Ok((
                                    as_object(s.call(Op::Score, &call)?)?,
                                    rt.module.sha256.clone(),
                                ))
                            })
                            .await
                        {
                            Ok((answer, sha)) => {
                                let (_, mut value) = st.answer("/v1/score:batch", answer, &sha);
                                if value.get("type").and_then(Value::as_str) == Some("failure") {
                                    if let Value::Object(m) = &mut value {
                                        m.insert("line".into(), json!(number));
                                    }
                                }
                                value
                            }
                            Err(f) => {
                                json!({"line": number, "type": "failure", "errors": [{"message": f.message, "help": "", "code": f.code}]})
                            }
                        }
                    }
                };
                if tx
                    .send(Ok(Bytes::from(format!("{answer}\n"))))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    let stream = tokio_stream_from(rx);
    let response = Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    finish(&state, "/v1/score:batch", started, response)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<std::result::Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = std::result::Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PackQuery {
    pack: Option<String>,
}

async fn gate(
    State(state): State<Shared>,
    Query(q): Query<PackQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let response = match require_json(&headers)
        .and_then(|_| utf8(&body))
        .and_then(parse_json)
    {
        Ok(v) => {
            let call = if v.get("contact").is_some() {
                v
            } else {
                json!({ "pack": q.pack, "contact": v })
            };
            one_call(&state, "/v1/gate", Op::Gate, call).await
        }
        Err(f) => f.into_response(),
    };
    finish(&state, "/v1/gate", started, response)
}

async fn packs(State(state): State<Shared>) -> Response {
    let started = Instant::now();
    let runtime = state.current();
    let mut packs = runtime.packs.clone();
    if let Value::Object(m) = &mut packs {
        m.insert("module_sha256".into(), json!(runtime.module.sha256));
    }
    finish(
        &state,
        "/v1/packs",
        started,
        axum::Json(packs).into_response(),
    )
}

async fn module_info(State(state): State<Shared>) -> Response {
    let started = Instant::now();
    let runtime = state.current();
    let packs: Vec<Value> = runtime
        .packs
        .get("packs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| json!({"id": p.get("id"), "version": p.get("version"), "sha256": p.get("sha256")}))
        .collect();
    let body = json!({
        "sha256": runtime.module.sha256,
        "abi": {"major": runtime.module.abi_major, "minor": runtime.module.abi_minor},
        "packs": packs,
        "custom_packs": runtime.pack_files.len(),
        "loaded_at": runtime.loaded_at,
    });
    finish(
        &state,
        "/v1/module",
        started,
        axum::Json(body).into_response(),
    )
}

async fn healthz(State(state): State<Shared>) -> Response {
    let runtime = state.current();
    axum::Json(json!({"status": "ok", "module_sha256": runtime.module.sha256})).into_response()
}

async fn metrics_text(State(state): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Reloads the module and packs; off unless an admin token is configured, and then it needs it.
async fn admin_reload(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.admin_token else {
        return Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the admin API is off; start with --admin-token",
        )
        .into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given.strip_prefix("Bearer ") != Some(token.as_str()) {
        return Failure::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <admin token>`",
        )
        .into_response();
    }
    match state.reload().await {
        Ok(summary) => axum::Json(summary).into_response(),
        Err(e) => Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reload_refused",
            format!("reload refused, still serving the previous module: {e}"),
        )
        .into_response(),
    }
}

fn router(state: Shared) -> Router {
    let www = tower_http::services::ServeDir::new(&state.config.www_dir);
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/v1/check", post(check))
        .route("/v1/score", post(score))
        .route("/v1/score:batch", post(score_batch))
        .route("/v1/gate", post(gate))
        .route("/v1/packs", get(packs))
        .route("/v1/module", get(module_info))
        .route("/v1/admin/reload", post(admin_reload))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback_service(www)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
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
    let state = Arc::new(AppState {
        runtime: RwLock::new(Arc::new(runtime)),
        workers: Arc::new(Semaphore::new(config.concurrency.max(1))),
        metrics: Metrics::new(),
        audit,
        reloading: tokio::sync::Mutex::new(()),
        config,
    });
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(state.config.concurrency.max(1) + 2)
        .build()
        .context("cannot start the async runtime")?;
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
