//! The stateless routes: check, score, gate with the caller's own history, packs, module,
//! health, metrics and the admin reload.

use super::failure::{as_object, parse_json, require_json, utf8, Failure};
use super::ledger_routes::{ledger_gate, PackQuery};
use super::metrics::{Route, RouteStatus};
use super::{AppState, Shared};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callguard_host::module::Op;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Instant;

/// Times and counts a route's response.
pub(super) fn finish(
    state: &AppState,
    route: &str,
    started: Instant,
    response: Response,
) -> Response {
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
pub(super) async fn one_call(state: &Shared, route: &'static str, op: Op, call: Value) -> Response {
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

pub(super) async fn check(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
pub(super) struct ScoreQuery {
    pack: Option<String>,
    dpd: Option<i64>,
    format: Option<String>,
    id: Option<String>,
    agent_channel: Option<u32>,
}

/// A score call from a JSON body: a full score call (`transcript` or `content`), or else the
/// transcript itself — our turns or a speech-to-text result.
pub(super) fn score_call_from_json(body: Value, q: &ScoreQuery) -> Value {
    // A score call's `content` is the file's text; iFlytek's result has an object there.
    let is_call =
        body.get("transcript").is_some() || body.get("content").is_some_and(Value::is_string);
    let mut call = if is_call {
        body
    } else {
        json!({ "transcript": body })
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
        if let Some(c) = q.agent_channel {
            map.entry("agent_channel").or_insert_with(|| json!(c));
        }
    }
    call
}

pub(super) async fn score(
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
            Ok(json!({ "content": text, "format": format, "pack": q.pack, "dpd": q.dpd, "id": q.id, "agent_channel": q.agent_channel }))
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

/// Whether a gate body names a debtor, so the ledger supplies the history.
fn names_debtor(body: &Map<String, Value>) -> bool {
    body.contains_key("debtor_id")
        || body
            .get("contact")
            .is_some_and(|c| c.get("debtor_id").is_some())
}

/// `POST /v1/gate`: on the caller's own `history`, or with a `debtor_id` on the ledger's.
pub(super) async fn gate(
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
        Ok(Value::Object(map)) if names_debtor(&map) => {
            ledger_gate(&state, &headers, map, q.pack, false, "/v1/gate").await
        }
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

pub(super) async fn packs(State(state): State<Shared>) -> Response {
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

pub(super) async fn module_info(State(state): State<Shared>) -> Response {
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

/// Liveness: 200 while the server answers checks and scores. With a ledger it also says whether
/// the store answers, so a load balancer or an operator sees an outage, yet scoring stays up.
pub(super) async fn healthz(State(state): State<Shared>) -> Response {
    let runtime = state.current();
    let mut body = json!({"status": "ok", "module_sha256": runtime.module.sha256});
    if let (Some(ledger), Value::Object(map)) = (&state.ledger, &mut body) {
        let ledger_status = match ledger.ping().await {
            Ok(()) => "ok",
            Err(_) => "unavailable",
        };
        map.insert("ledger".into(), json!(ledger_status));
    }
    axum::Json(body).into_response()
}

pub(super) async fn metrics_text(State(state): State<Shared>) -> Response {
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
pub(super) async fn admin_reload(State(state): State<Shared>, headers: HeaderMap) -> Response {
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
