//! The ledger's routes (`--db`): record contacts, list a debtor's history, decide on the stored
//! history, reserve the next attempt and complete it. Every one of them needs the API token.

use super::failure::{parse_json, require_json, utf8, Failure};
use super::routes::finish;
use super::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callguard_host::ledger::{ContactInput, DecideError, GateRequest, Ledger, LedgerError};
use callguard_host::module::Op;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Instant;

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Unavailable(m) => {
                Failure::new(StatusCode::SERVICE_UNAVAILABLE, "ledger_unavailable", m)
            }
            LedgerError::Invalid(m) => Failure::new(StatusCode::BAD_REQUEST, "invalid_input", m),
            LedgerError::NotFound(m) => Failure::new(StatusCode::NOT_FOUND, "not_found", m),
            LedgerError::Conflict(m) => Failure::new(StatusCode::CONFLICT, "conflict", m),
        }
    }
}

/// The ledger, once the caller has shown the API token.
pub(super) fn authorized<'a>(
    state: &'a Shared,
    headers: &HeaderMap,
) -> Result<&'a Ledger, Failure> {
    let Some(ledger) = &state.ledger else {
        return Err(Failure::new(
            StatusCode::NOT_FOUND,
            "no_ledger",
            "本服务未启用联系记录库：请用 `callguard serve --db URL` 启动 (this server has no ledger; start it with --db)",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.config.api_token, given) {
        (Some(token), Some(given)) if constant_time_eq(token.as_bytes(), given.as_bytes()) => {
            Ok(ledger)
        }
        _ => Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "需要 API 令牌：请发送 `Authorization: Bearer <token>` (the ledger's routes need the API token)",
        )),
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn json_object(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, Failure> {
    require_json(headers)?;
    match parse_json(utf8(body)?)? {
        Value::Object(map) => Ok(map),
        other => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("请求体应为 JSON 对象，收到 `{other}`"),
        )),
    }
}

/// The body as `T`, or a 400 whose message says what was expected.
pub(super) fn typed_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    expected: &str,
) -> Result<T, Failure> {
    serde_json::from_value(Value::Object(json_object(headers, body)?)).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("{expected} ({e})"),
        )
    })
}

pub(super) fn success(status: StatusCode, mut body: Map<String, Value>) -> Response {
    body.insert("type".into(), json!("success"));
    (status, axum::Json(Value::Object(body))).into_response()
}

/// `GET /v1/ledger`: whether this server keeps a ledger, so the script assistant knows whose
/// attempts its calling clock can count. Open: it says nothing about any debtor.
pub(super) async fn ledger_info(State(state): State<Shared>) -> Response {
    let started = Instant::now();
    let mut out = Map::new();
    match &state.ledger {
        Some(ledger) => {
            out.insert("enabled".into(), json!(true));
            let backend = match ledger.backend() {
                callguard_host::ledger::Backend::Sqlite => "sqlite",
                callguard_host::ledger::Backend::Postgres => "postgres",
            };
            out.insert("backend".into(), json!(backend));
            out.insert(
                "pending_ttl_secs".into(),
                json!(state.config.pending_ttl.as_secs()),
            );
        }
        None => {
            out.insert("enabled".into(), json!(false));
        }
    }
    finish(&state, "/v1/ledger", started, success(StatusCode::OK, out))
}

/// `POST /v1/contacts`: records an attempt or its outcome; 201 when new, 200 for a repeated
/// idempotency key (nothing recorded twice).
pub(super) async fn record_contact(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let response = async {
        let ledger = authorized(&state, &headers)?;
        let input: ContactInput =
            typed_body(&headers, &body, "联系记录格式不对 (invalid contact)")?;
        let (contact, new) = ledger.record(input).await?;
        let mut out = Map::new();
        out.insert("contact".into(), contact);
        out.insert("duplicate".into(), json!(!new));
        Ok::<_, Failure>(success(
            if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            out,
        ))
    }
    .await
    .unwrap_or_else(IntoResponse::into_response);
    finish(&state, "/v1/contacts", started, response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    debtor_id: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/contacts?debtor_id=…`: the debtor's contacts, oldest first.
pub(super) async fn list_contacts(
    State(state): State<Shared>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let response = async {
        let ledger = authorized(&state, &headers)?;
        let Some(debtor_id) = q.debtor_id.filter(|d| !d.is_empty()) else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                "需要 `debtor_id` 参数，例如 `/v1/contacts?debtor_id=D1001`",
            ));
        };
        let limit = q.limit.unwrap_or(500).clamp(1, 5_000);
        let contacts = ledger.list(&debtor_id, limit).await?;
        let mut out = Map::new();
        out.insert("debtor_id".into(), json!(debtor_id));
        out.insert("counted_by".into(), json!("ledger"));
        out.insert("contacts".into(), Value::Array(contacts));
        Ok(success(StatusCode::OK, out))
    }
    .await
    .unwrap_or_else(IntoResponse::into_response);
    finish(&state, "/v1/contacts:list", started, response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeBody {
    outcome: String,
}

/// `POST /v1/contacts/{id}/outcome`: completes a reservation.
pub(super) async fn complete_contact(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let response = async {
        let ledger = authorized(&state, &headers)?;
        let body: OutcomeBody = typed_body(
            &headers,
            &body,
            "需要 `{\"outcome\": \"connected|unanswered|refused\"}`",
        )?;
        let contact = ledger.complete(&id, &body.outcome).await?;
        let mut out = Map::new();
        out.insert("contact".into(), contact);
        Ok::<_, Failure>(success(StatusCode::OK, out))
    }
    .await
    .unwrap_or_else(IntoResponse::into_response);
    finish(&state, "/v1/contacts/outcome", started, response)
}

/// Decides on the stored history; with `reserve`, records the pending attempt when allowed.
pub(super) async fn ledger_gate(
    state: &Shared,
    headers: &HeaderMap,
    body: Map<String, Value>,
    pack: Option<String>,
    reserve: bool,
    route: &'static str,
) -> Response {
    let result = async {
        let ledger = authorized(state, headers)?;
        let request = GateRequest::from_body(body, pack, reserve)?;
        let st = state.clone();
        // The worker first, then the debtor's lock: queueing never happens under the lock.
        let permit = state.worker().await?;
        let decided = ledger
            .decide(request, |call| async move {
                let input = call.to_string();
                let (mut answer, sha) = st
                    .run_on(permit, move |session, runtime| {
                        let answer = super::failure::as_object(session.call(Op::Gate, &input)?)?;
                        Ok((answer, runtime.module.sha256.clone()))
                    })
                    .await?;
                answer.insert("module_sha256".into(), Value::String(sha));
                Ok::<_, Failure>(answer)
            })
            .await
            .map_err(|e| match e {
                DecideError::Ledger(e) => Failure::from(e),
                DecideError::Module(f) => f,
            })?;
        let sha = decided
            .answer
            .get("module_sha256")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let (status, value) = state.answer(route, decided.answer, &sha);
        Ok::<_, Failure>((status, axum::Json(value)).into_response())
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PackQuery {
    pub(super) pack: Option<String>,
}

/// `POST /v1/gate:reserve`.
pub(super) async fn reserve(
    State(state): State<Shared>,
    Query(q): Query<PackQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let response = match authorized(&state, &headers).and_then(|_| json_object(&headers, &body)) {
        Ok(map) => ledger_gate(&state, &headers, map, q.pack, true, "/v1/gate:reserve").await,
        Err(f) => f.into_response(),
    };
    finish(&state, "/v1/gate:reserve", started, response)
}
