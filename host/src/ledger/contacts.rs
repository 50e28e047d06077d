//! Contact attempts: recording them (once per idempotency key), completing a reservation with its
//! outcome, listing a debtor's history, and reading it back as the module's `gate` history.

use super::{new_id, now_ms, rfc3339_ms, Ledger, LedgerError};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An attempt or its outcome as a dialer or collector records it (`POST /v1/contacts`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub debtor_id: String,
    #[serde(default)]
    pub debt_id: Option<String>,
    /// RFC 3339 with an offset.
    pub at: String,
    #[serde(default = "default_party")]
    pub party: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default = "default_channel")]
    pub channel: String,
    pub outcome: String,
    #[serde(default)]
    pub collector_id: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn default_party() -> String {
    "debtor".into()
}

fn default_channel() -> String {
    "call".into()
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Connected,
    Unanswered,
    /// A third party asked not to be called again.
    Refused,
}

impl Outcome {
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        match text {
            "connected" => Ok(Outcome::Connected),
            "unanswered" => Ok(Outcome::Unanswered),
            "refused" => Ok(Outcome::Refused),
            other => Err(LedgerError::Invalid(format!(
                "`outcome` 应为 connected（接通）、unanswered（未接通）或 refused（第三人拒绝再联系），收到 `{other}`"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Connected => "connected",
            Outcome::Unanswered => "unanswered",
            Outcome::Refused => "refused",
        }
    }
}

const PARTIES: [&str; 4] = ["debtor", "third_party", "unknown", "minor"];
const CHANNELS: [&str; 4] = ["call", "sms", "visit", "letter"];
/// Longest id (debtor, debt, collector, idempotency key) the ledger keeps.
const MAX_ID_CHARS: usize = 128;

pub(super) fn check_id(field: &str, value: &str) -> Result<(), LedgerError> {
    if value.trim().is_empty() {
        return Err(LedgerError::Invalid(format!("`{field}` 不能为空")));
    }
    if value.chars().count() > MAX_ID_CHARS {
        return Err(LedgerError::Invalid(format!(
            "`{field}` 超过 {MAX_ID_CHARS} 个字符"
        )));
    }
    Ok(())
}

pub(super) fn check_party_channel(party: &str, channel: &str) -> Result<(), LedgerError> {
    if !PARTIES.contains(&party) {
        return Err(LedgerError::Invalid(format!(
            "`party` 应为 debtor、third_party、unknown 或 minor，收到 `{party}`"
        )));
    }
    if !CHANNELS.contains(&channel) {
        return Err(LedgerError::Invalid(format!(
            "`channel` 应为 call、sms、visit 或 letter，收到 `{channel}`"
        )));
    }
    Ok(())
}

/// Milliseconds since the epoch of an RFC 3339 time with an offset.
pub(super) fn parse_at(field: &str, at: &str) -> Result<i64, LedgerError> {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            LedgerError::Invalid(format!(
                "`{field}` 应为带时区的 RFC 3339 时间，例如 2026-12-02T10:30:00+08:00；收到 `{at}` ({e})"
            ))
        })
}

/// Columns every contact query reads.
pub(super) const CONTACT_COLUMNS: &str = "id, debtor_id, debt_id, at, at_ms, party, phone_hash, channel, outcome, collector_id, idempotency_key, recorded_at_ms, expires_at_ms, completed_at_ms";

/// A stored contact as the API shows it. A pending reservation past its expiry shows as
/// `expired` and counts as unanswered.
pub(super) fn contact_json(row: &AnyRow, now: i64) -> Result<Value, LedgerError> {
    let outcome: String = row.try_get("outcome")?;
    let expires: Option<i64> = row.try_get("expires_at_ms")?;
    let status = match (outcome.as_str(), expires) {
        ("pending", Some(e)) if e <= now => "expired",
        (o, _) => o,
    };
    let completed: Option<i64> = row.try_get("completed_at_ms")?;
    Ok(json!({
        "id": row.try_get::<String, _>("id")?,
        "debtor_id": row.try_get::<String, _>("debtor_id")?,
        "debt_id": row.try_get::<Option<String>, _>("debt_id")?,
        "at": row.try_get::<String, _>("at")?,
        "party": row.try_get::<String, _>("party")?,
        "phone_hash": row.try_get::<Option<String>, _>("phone_hash")?,
        "channel": row.try_get::<String, _>("channel")?,
        "outcome": status,
        "collector_id": row.try_get::<Option<String>, _>("collector_id")?,
        "idempotency_key": row.try_get::<Option<String>, _>("idempotency_key")?,
        "recorded_at": rfc3339_ms(row.try_get::<i64, _>("recorded_at_ms")?),
        "expires_at": expires.map(rfc3339_ms),
        "completed_at": completed.map(rfc3339_ms),
    }))
}

/// A stored contact as one attempt of the module's `gate` history. A pending reservation
/// counts as connected while it may still connect (the strict reading: the limit is not
/// exceeded whatever its outcome), and as unanswered once it has expired.
pub(super) fn history_attempt(row: &AnyRow, now: i64) -> Result<Value, LedgerError> {
    let outcome: String = row.try_get("outcome")?;
    let expires: Option<i64> = row.try_get("expires_at_ms")?;
    let outcome = match (outcome.as_str(), expires) {
        ("pending", Some(e)) if e <= now => "unanswered".to_string(),
        ("pending", _) => "connected".to_string(),
        _ => outcome,
    };
    let mut attempt = json!({
        "at": row.try_get::<String, _>("at")?,
        "party": row.try_get::<String, _>("party")?,
        "channel": row.try_get::<String, _>("channel")?,
        "outcome": outcome,
    });
    if let (Some(phone), Value::Object(map)) = (
        row.try_get::<Option<String>, _>("phone_hash")?,
        &mut attempt,
    ) {
        map.insert("phone".into(), Value::String(phone));
    }
    Ok(attempt)
}

/// How far back the gate's history reaches: the engine counts today's attempts and looks three
/// days back for "unreachable"; a week covers every offset. Refusals are read whatever their age.
pub(super) const HISTORY_DAYS: i64 = 8;

impl Ledger {
    /// Records an attempt. Returns the stored contact and whether it is new: the same
    /// idempotency key again returns the first record and records nothing.
    pub async fn record(&self, input: ContactInput) -> Result<(Value, bool), LedgerError> {
        check_id("debtor_id", &input.debtor_id)?;
        for (field, value) in [
            ("debt_id", &input.debt_id),
            ("collector_id", &input.collector_id),
            ("idempotency_key", &input.idempotency_key),
        ] {
            if let Some(v) = value {
                check_id(field, v)?;
            }
        }
        check_party_channel(&input.party, &input.channel)?;
        let outcome = Outcome::parse(&input.outcome)?;
        let at_ms = parse_at("at", &input.at)?;
        let phone_hash = input.phone.as_deref().map(|p| self.key.hash(p));
        let id = new_id();
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO contacts (id, debtor_id, debt_id, at, at_ms, party, phone_hash, channel, outcome, collector_id, idempotency_key, recorded_at_ms, completed_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&id)
        .bind(&input.debtor_id)
        .bind(&input.debt_id)
        .bind(&input.at)
        .bind(at_ms)
        .bind(&input.party)
        .bind(&phone_hash)
        .bind(&input.channel)
        .bind(outcome.as_str())
        .bind(&input.collector_id)
        .bind(&input.idempotency_key)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        let row = if inserted {
            sqlx::query(&format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1"
            ))
            .bind(&id)
            .fetch_one(&self.pool)
            .await?
        } else {
            sqlx::query(&format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE idempotency_key = $1"
            ))
            .bind(&input.idempotency_key)
            .fetch_one(&self.pool)
            .await?
        };
        Ok((contact_json(&row, now)?, inserted))
    }

    /// Completes a reservation with its outcome. Giving the same outcome again is a no-op;
    /// another outcome for a completed attempt is a conflict.
    pub async fn complete(&self, id: &str, outcome: &str) -> Result<Value, LedgerError> {
        let outcome = Outcome::parse(outcome)?;
        let now = now_ms();
        sqlx::query(
            "UPDATE contacts SET outcome = $1, completed_at_ms = $2 WHERE id = $3 AND outcome = 'pending'",
        )
        .bind(outcome.as_str())
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| LedgerError::NotFound(format!("没有编号为 `{id}` 的联系记录")))?;
        let stored: String = row.try_get("outcome")?;
        if stored != outcome.as_str() {
            return Err(LedgerError::Conflict(format!(
                "联系记录 `{id}` 已记录结果 `{stored}`，不能再改为 `{}`",
                outcome.as_str()
            )));
        }
        contact_json(&row, now)
    }

    /// A debtor's contacts, oldest first (at most `limit`).
    pub async fn list(&self, debtor_id: &str, limit: i64) -> Result<Vec<Value>, LedgerError> {
        check_id("debtor_id", debtor_id)?;
        let now = now_ms();
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE debtor_id = $1 ORDER BY at_ms DESC, recorded_at_ms DESC LIMIT $2"
        ))
        .bind(debtor_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| contact_json(r, now))
            .collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// The keyed hash the ledger stores for a number.
    pub fn phone_hash(&self, phone: &str) -> String {
        self.key.hash(phone)
    }
}
