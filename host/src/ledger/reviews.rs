//! Reviewers' verdicts, notes and score adjustments, kept beside the contact ledger so a QA team
//! shares them (`/v1/reviews`). An append-only log: every change is a row with who and when; the
//! latest row of a kind is what stands.

use super::contacts::check_id;
use super::{new_id, now_ms, rfc3339_ms, Ledger, LedgerError};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

/// One change a reviewer makes (`POST /v1/reviews`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub call_key: String,
    #[serde(default)]
    pub call_label: Option<String>,
    #[serde(default)]
    pub finding_key: Option<String>,
    /// `verdict`, `note` or `score`.
    pub kind: String,
    pub value: Value,
    #[serde(default)]
    pub finding: Option<Value>,
    pub reviewer: String,
}

/// The longest note a review keeps.
const MAX_NOTE_CHARS: usize = 4000;

fn check_value(kind: &str, value: &Value, finding_key: Option<&str>) -> Result<(), LedgerError> {
    let bad = |m: &str| Err(LedgerError::Invalid(m.to_string()));
    match kind {
        "verdict" => {
            if finding_key.is_none() {
                return bad(
                    "复核结论要针对某个问题：需要 `finding_key` (a verdict is on a finding)",
                );
            }
            match value.get("verdict").and_then(Value::as_str) {
                Some("confirmed" | "disputed") => Ok(()),
                _ => bad("`value` 应为 {\"verdict\": \"confirmed\"（确认）| \"disputed\"（误报）}"),
            }
        }
        "note" => match value.get("note").and_then(Value::as_str) {
            Some(n) if n.chars().count() <= MAX_NOTE_CHARS => Ok(()),
            Some(_) => bad("备注太长：最多 4000 字 (note too long)"),
            None => bad("`value` 应为 {\"note\": \"…\"}"),
        },
        "score" => {
            let score = value.get("score").and_then(Value::as_u64);
            let reason = value
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim();
            match (score, finding_key) {
                (Some(s), None) if s <= 100 && !reason.is_empty() => Ok(()),
                (_, Some(_)) => {
                    bad("调整分数针对整通电话，不能带 `finding_key` (a score is for the call)")
                }
                _ => bad("`value` 应为 {\"score\": 0–100, \"reason\": \"调整原因\"}，原因不能为空"),
            }
        }
        other => Err(LedgerError::Invalid(format!(
            "`kind` 应为 verdict（复核结论）、note（备注）或 score（调整分数），收到 `{other}`"
        ))),
    }
}

fn review_json(row: &AnyRow) -> Result<Value, LedgerError> {
    let parse = |column: &str| -> Result<Value, LedgerError> {
        let text: Option<String> = row.try_get(column)?;
        Ok(text
            .map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
            .unwrap_or(Value::Null))
    };
    Ok(json!({
        "id": row.try_get::<String, _>("id")?,
        "call_key": row.try_get::<String, _>("call_key")?,
        "call_label": row.try_get::<Option<String>, _>("call_label")?,
        "finding_key": row.try_get::<Option<String>, _>("finding_key")?,
        "kind": row.try_get::<String, _>("kind")?,
        "value": parse("value")?,
        "finding": parse("finding")?,
        "reviewer": row.try_get::<String, _>("reviewer")?,
        "at": rfc3339_ms(row.try_get::<i64, _>("at_ms")?),
    }))
}

/// Rows of the same millisecond keep the order they were written in: the id starts with the time
/// and a counter of this process (the latest row of a kind is the one that stands).
fn ordered_id(at_ms: i64) -> String {
    static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{at_ms:013x}-{seq:012x}-{}", new_id())
}

/// The value at a JSON pointer, or null.
fn pick(v: &Value, pointer: &str) -> Value {
    v.pointer(pointer).cloned().unwrap_or(Value::Null)
}

const COLUMNS: &str =
    "id, call_key, call_label, finding_key, kind, value, finding, reviewer, at_ms";

impl Ledger {
    /// Records one reviewer's change.
    pub async fn record_review(&self, input: ReviewInput) -> Result<Value, LedgerError> {
        check_id("call_key", &input.call_key)?;
        check_id("reviewer", &input.reviewer)?;
        if let Some(k) = &input.finding_key {
            check_id("finding_key", k)?;
        }
        check_value(&input.kind, &input.value, input.finding_key.as_deref())?;
        let at = now_ms();
        let id = ordered_id(at);
        sqlx::query(
            "INSERT INTO reviews (id, call_key, call_label, finding_key, kind, value, finding, reviewer, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&input.call_key)
        .bind(&input.call_label)
        .bind(&input.finding_key)
        .bind(&input.kind)
        .bind(input.value.to_string())
        .bind(input.finding.as_ref().map(Value::to_string))
        .bind(input.reviewer.trim())
        .bind(at)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM reviews WHERE id = $1"))
            .bind(&id)
            .fetch_one(&self.pool)
            .await?;
        review_json(&row)
    }

    /// Every change to the calls with these keys, oldest first.
    pub async fn reviews(&self, call_keys: &[String]) -> Result<Vec<Value>, LedgerError> {
        let mut out = Vec::new();
        for key in call_keys {
            check_id("call_key", key)?;
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM reviews WHERE call_key = $1 ORDER BY at_ms, id"
            ))
            .bind(key)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                out.push(review_json(row)?);
            }
        }
        Ok(out)
    }

    /// The reviews as JSON lines, oldest first; with `disputed`, only findings whose latest
    /// verdict is 误报, each with its latest note — where a rule cries wolf.
    pub async fn export_reviews(
        &self,
        disputed: bool,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, LedgerError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM reviews ORDER BY at_ms, id"))
            .fetch_all(&self.pool)
            .await?;
        let all: Vec<Value> = rows.iter().map(review_json).collect::<Result<_, _>>()?;
        let write = |out: &mut dyn std::io::Write, v: &Value| {
            writeln!(out, "{v}").map_err(|e| {
                LedgerError::Unavailable(format!("无法写出导出内容 (cannot write the export): {e}"))
            })
        };
        if !disputed {
            for v in &all {
                write(out, v)?;
            }
            return Ok(all.len() as u64);
        }
        // The latest verdict and note per (call, finding), in the order findings were first seen.
        let mut order: Vec<(String, String)> = Vec::new();
        let mut latest: std::collections::HashMap<
            (String, String),
            (Option<Value>, Option<Value>),
        > = std::collections::HashMap::new();
        for v in &all {
            let (Some(call), Some(finding)) = (
                v.get("call_key").and_then(Value::as_str),
                v.get("finding_key").and_then(Value::as_str),
            ) else {
                continue;
            };
            let key = (call.to_string(), finding.to_string());
            if !latest.contains_key(&key) {
                order.push(key.clone());
            }
            let entry = latest.entry(key).or_default();
            match v.get("kind").and_then(Value::as_str) {
                Some("verdict") => entry.0 = Some(v.clone()),
                Some("note") => entry.1 = Some(v.clone()),
                _ => {}
            }
        }
        let mut count = 0;
        for key in order {
            let Some((Some(verdict), note)) = latest.get(&key) else {
                continue;
            };
            if pick(verdict, "/value/verdict") != "disputed" {
                continue;
            }
            let line = json!({
                "call_key": key.0,
                "call_label": pick(verdict, "/call_label"),
                "finding_key": key.1,
                "rule": pick(verdict, "/finding/rule"),
                "category": pick(verdict, "/finding/category"),
                "excerpt": pick(verdict, "/finding/excerpt"),
                "message": pick(verdict, "/finding/message"),
                "finding": pick(verdict, "/finding"),
                "reviewer": pick(verdict, "/reviewer"),
                "at": pick(verdict, "/at"),
                "note": note.as_ref().map(|n| pick(n, "/value/note")),
            });
            write(out, &line)?;
            count += 1;
        }
        Ok(count)
    }
}
