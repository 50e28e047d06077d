//! The module runtime pool: a loaded module with its packs, warm instances, the blocking
//! workers every call runs on, and hot reload.

use super::failure::{status_of, Failure};
use super::metrics::{CategoryLabel, Outcome};
use super::{AppState, ServeConfig};
use anyhow::{anyhow, Context as _, Result};
use axum::http::StatusCode;
use callguard_host::module::{CallError, Op, PolicyModule, Session};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// A loaded module with its packs: what one request runs against.
pub(super) struct Runtime {
    pub(super) module: PolicyModule,
    pub(super) packs: Value,
    pub(super) pack_files: Vec<String>,
    pub(super) loaded_at: String,
    /// Instances that answered their last request normally, ready for the next one. An instance
    /// that traps or runs out of fuel is dropped, and each one is retired after `MAX_USES`
    /// requests, so a fault or slow growth never outlives a bounded number of requests.
    pub(super) warm: std::sync::Mutex<Vec<(Session, u32)>>,
}

/// Requests one instance answers before it is replaced by a fresh one.
pub(super) const MAX_USES: u32 = 10_000;

impl Runtime {
    /// A warm instance if one is idle, else a fresh one from the pre-initialized snapshot.
    ///
    /// Reusing instances is what makes the server fast: a fresh instance starts with the regex
    /// engines' lazy caches as the snapshot left them and faults in every page it touches, which
    /// costs 5–10× the call itself (see bench/REPORT.md). Instances hold no state from one request
    /// that another can observe: every operation is a pure function of its input, and the only
    /// mutating export (`load_pack`) is not reachable over HTTP.
    pub(super) fn session(&self) -> std::result::Result<(Session, u32), CallError> {
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
    pub(super) fn give_back(&self, session: Session, uses: u32) {
        if uses < MAX_USES {
            if let Ok(mut warm) = self.warm.lock() {
                warm.push((session, uses));
            }
        }
    }
}

/// Reads the pack directory: every `*.toml`, parents first (a pack is loaded once its `extends`
/// is known).
pub(super) fn read_pack_dir(dir: &std::path::Path) -> Result<Vec<String>> {
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
pub(super) fn pack_head(text: &str) -> (Option<String>, Option<String>) {
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
pub(super) fn build_runtime(config: &ServeConfig) -> Result<Runtime> {
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
    pub(super) fn current(&self) -> Arc<Runtime> {
        match self.runtime.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Builds a new runtime off the request path and swaps it in; the old one keeps serving if
    /// anything is wrong.
    pub(super) async fn reload(self: &Arc<Self>) -> std::result::Result<Value, String> {
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
    pub(super) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Session, &Runtime) -> std::result::Result<T, CallError> + Send + 'static,
    ) -> std::result::Result<T, Failure> {
        let permit = self.worker().await?;
        self.run_on(permit, work).await
    }

    /// A worker slot, waiting at most the queue wait (503 past it). The ledger takes one before
    /// it locks a debtor, so a lock is never held while the request queues for a worker.
    pub(super) async fn worker(
        self: &Arc<Self>,
    ) -> std::result::Result<tokio::sync::OwnedSemaphorePermit, Failure> {
        match tokio::time::timeout(self.config.queue_wait, self.workers.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                self.metrics.rejected.inc();
                Err(Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "所有工作线程都在忙，请稍后重试 (every worker is busy; retry shortly)",
                ))
            }
        }
    }

    /// [`AppState::run`] on a worker slot already taken.
    pub(super) async fn run_on<T: Send + 'static>(
        self: &Arc<Self>,
        permit: tokio::sync::OwnedSemaphorePermit,
        work: impl FnOnce(&mut Session, &Runtime) -> std::result::Result<T, CallError> + Send + 'static,
    ) -> std::result::Result<T, Failure> {
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
                        "请求超过 {} 毫秒的时限 (the request ran past the timeout)",
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

    pub(super) fn call_failure(&self, e: CallError) -> Failure {
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
    pub(super) fn answer(
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
