//! `/v1/reviews`: reviewers' verdicts, notes and score adjustments in the server's store, so a QA
//! team shares them. Both routes need the API token, like the rest of the ledger.

use super::failure::Failure;
use super::ledger_routes::{authorized, success, typed_body};
use super::routes::finish;
use super::Shared;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callguard_host::ledger::ReviewInput;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::Instant;

/// `POST /v1/reviews`: one change (verdict, note or score) by one reviewer; 201 with the row.
pub(super) async fn record_review(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let response = async {
        let ledger = authorized(&state, &headers)?;
        let input: ReviewInput = typed_body(
            &headers,
            &body,
            "复核记录格式不对：需要 call_key、kind（verdict/note/score）、value、reviewer (invalid review)",
        )?;
        let review = ledger.record_review(input).await?;
        let mut out = Map::new();
        out.insert("review".into(), review);
        Ok::<_, Failure>(success(StatusCode::CREATED, out))
    }
    .await
    .unwrap_or_else(IntoResponse::into_response);
    finish(&state, "/v1/reviews", started, response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewQuery {
    /// One call key, or several separated by commas.
    call_key: Option<String>,
}

/// The most call keys one request may ask about.
const MAX_KEYS: usize = 500;

/// `GET /v1/reviews?call_key=…`: every change to those calls, oldest first.
pub(super) async fn list_reviews(
    State(state): State<Shared>,
    Query(q): Query<ReviewQuery>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let response = async {
        let ledger = authorized(&state, &headers)?;
        let keys: Vec<String> = q
            .call_key
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect();
        if keys.is_empty() || keys.len() > MAX_KEYS {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                format!("需要 1 到 {MAX_KEYS} 个 `call_key`（逗号分隔），例如 `/v1/reviews?call_key=ab12…`"),
            ));
        }
        let reviews = ledger.reviews(&keys).await?;
        let mut out = Map::new();
        out.insert("reviews".into(), Value::Array(reviews));
        Ok(success(StatusCode::OK, out))
    }
    .await
    .unwrap_or_else(IntoResponse::into_response);
    finish(&state, "/v1/reviews:list", started, response)
}
