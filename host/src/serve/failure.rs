//! Error answers: every one is the JSON failure envelope, whatever produced it.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callguard_host::module::CallError;
use serde_json::{json, Map, Value};

/// An error answer with its status.
pub(super) struct Failure {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl Failure {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
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

/// 200 for success; for a failure answer, the status its first error's code calls for.
pub(super) fn status_of(answer: &Map<String, Value>) -> StatusCode {
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

pub(super) fn as_object(v: Value) -> std::result::Result<Map<String, Value>, CallError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(CallError::Host(
            "the module's answer is not a JSON object".into(),
        )),
    }
}

pub(super) fn require_json(headers: &HeaderMap) -> std::result::Result<(), Failure> {
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
            format!("请以 `Content-Type: application/json` 发送，收到的是 `{ct}` (send JSON)"),
        ))
    }
}

pub(super) fn utf8(body: &Bytes) -> std::result::Result<&str, Failure> {
    std::str::from_utf8(body).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            format!(
                "请求体不是有效的 UTF-8（第 {} 字节处）(the body is not valid UTF-8)",
                e.valid_up_to()
            ),
        )
    })
}

pub(super) fn parse_json(text: &str) -> std::result::Result<Value, Failure> {
    // Windows tools often save JSON with a UTF-8 byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("请求体不是有效的 JSON (invalid JSON body): {e}"),
        )
    })
}

/// Rewrites an error answer that is not JSON yet — axum's plain-text 413 and 400s, an unknown
/// route's empty 404, a wrong method's 405 — into the failure envelope, so a client parses one
/// shape for every error.
pub(super) async fn envelope(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if is_json {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let detail = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let allowed = allow
        .as_ref()
        .and_then(|a| a.to_str().ok())
        .map(|a| format!("；可用的方法：{a}"))
        .unwrap_or_default();
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            "not_found",
            "没有这个地址 (no such route or page)".to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("该地址不支持这种请求方法{allowed} (method not allowed)"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "input_too_large",
            "请求体超过服务器上限（--max-body-kib）(request body too large)".to_string(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            format!("不支持的内容类型 (unsupported media type): {detail}"),
        ),
        s if s.is_client_error() => (
            "invalid_request",
            format!("请求格式不对 (bad request): {detail}"),
        ),
        _ => ("internal", format!("服务器出错 (server error): {detail}")),
    };
    let mut out = Failure::new(status, code, message).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}
