//! `/v1/score:batch`: JSON lines in, JSON lines out as each call is scored.

use super::failure::as_object;
use super::routes::{finish, score_call_from_json, ScoreQuery};
use super::Shared;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use callguard_host::module::Op;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// JSON lines in, JSON lines out as each is scored; a bad line gets its own failure line.
pub(super) async fn score_batch(
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

pub(super) fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<std::result::Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = std::result::Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
