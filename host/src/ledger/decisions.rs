//! Gate decisions on the stored history: read the debtor's attempts, let the module decide, and
//! keep the decision (with the pack and module it was made under) as evidence. A reservation
//! records a pending attempt in the same transaction, under a lock on the debtor, so two dialers
//! asking at once for the last slot get one yes and one no.

use super::contacts::{
    check_id, check_party_channel, history_attempt, parse_at, CONTACT_COLUMNS, HISTORY_DAYS,
};
use super::{new_id, now_ms, rfc3339_ms, Backend, Ledger, LedgerError};
use serde_json::{json, Map, Value};
use sqlx::any::Any;
use sqlx::{Row, Transaction};
use std::future::Future;

/// What a reservation records beside the decision.
#[derive(Debug, Clone, Default)]
pub struct ReserveMeta {
    pub debt_id: Option<String>,
    pub collector_id: Option<String>,
    /// The same key again returns the first reservation's decision instead of deciding twice.
    pub idempotency_key: Option<String>,
}

/// A gate question about a debtor whose history is in the ledger.
#[derive(Debug, Clone)]
pub struct GateRequest {
    pub debtor_id: String,
    pub pack: Option<String>,
    /// The contact as the module's `gate` takes it, without `history` (the ledger supplies it).
    pub contact: Map<String, Value>,
    /// `Some` to reserve the attempt when it is allowed.
    pub reserve: Option<ReserveMeta>,
}

/// Fields of a gate request that are the ledger's, not the module's contact.
const LEDGER_FIELDS: [&str; 4] = ["debtor_id", "debt_id", "collector_id", "idempotency_key"];

impl GateRequest {
    /// A request from a gate body: the flat contact form (`{"debtor_id", "at", …}`) or the full
    /// call form (`{"pack", "debtor_id", "contact": {…}}`); `pack` applies when the body names
    /// none.
    pub fn from_body(
        mut body: Map<String, Value>,
        pack: Option<String>,
        reserve: bool,
    ) -> Result<Self, LedgerError> {
        let pack = match body.remove("pack") {
            Some(Value::String(p)) => Some(p),
            _ => pack,
        };
        let mut contact = match body.remove("contact") {
            Some(Value::Object(mut c)) => {
                for field in LEDGER_FIELDS {
                    if let Some(v) = body.remove(field) {
                        c.insert(field.into(), v);
                    }
                }
                c
            }
            _ => body,
        };
        let mut take = |field: &str| -> Result<Option<String>, LedgerError> {
            match contact.remove(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(LedgerError::Invalid(format!(
                    "`{field}` 应为字符串，收到 `{other}`"
                ))),
            }
        };
        let debtor_id = take("debtor_id")?.unwrap_or_default();
        let meta = ReserveMeta {
            debt_id: take("debt_id")?,
            collector_id: take("collector_id")?,
            idempotency_key: take("idempotency_key")?,
        };
        Ok(GateRequest {
            debtor_id,
            pack,
            contact,
            reserve: reserve.then_some(meta),
        })
    }
}

/// A decision made and stored.
#[derive(Debug)]
pub struct Decided {
    /// The module's answer, with `decision_id` and, for an allowed reservation, `reservation`.
    pub answer: Map<String, Value>,
    /// Whether the answer is a replay of an earlier reservation with the same idempotency key.
    pub replayed: bool,
}

/// A decision fails in the ledger or in the module call.
#[derive(Debug)]
pub enum DecideError<E> {
    Ledger(LedgerError),
    Module(E),
}

impl<E> From<LedgerError> for DecideError<E> {
    fn from(e: LedgerError) -> Self {
        DecideError::Ledger(e)
    }
}

impl<E> From<sqlx::Error> for DecideError<E> {
    fn from(e: sqlx::Error) -> Self {
        DecideError::Ledger(e.into())
    }
}

/// A 64-bit lock key for a debtor id (FNV-1a: stable across processes and versions, which
/// Rust's own hasher is not).
fn lock_key(debtor_id: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in debtor_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

impl Ledger {
    /// Decides `request` on the stored history with `decide` (the module's `gate`, given the
    /// full call), stores the decision, and for an allowed reservation records the pending
    /// attempt. A failure answer from the module (bad input) is returned as it is and stores
    /// nothing.
    pub async fn decide<E, F, Fut>(
        &self,
        request: GateRequest,
        decide: F,
    ) -> Result<Decided, DecideError<E>>
    where
        F: FnOnce(Value) -> Fut,
        Fut: Future<Output = Result<Map<String, Value>, E>>,
    {
        check_id("debtor_id", &request.debtor_id)?;
        let mut contact = request.contact;
        if contact.contains_key("history") {
            return Err(LedgerError::Invalid(
                "带 `debtor_id` 的请求由联系记录库提供历史，不能同时提供 `history` (send either debtor_id or history)".into(),
            )
            .into());
        }
        let now = now_ms();
        if !contact.contains_key("at") {
            contact.insert("at".into(), Value::String(rfc3339_ms(now)));
        }
        let at = contact
            .get("at")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let at_ms = parse_at("at", &at)?;
        let party = contact
            .get("party")
            .and_then(Value::as_str)
            .unwrap_or("debtor")
            .to_string();
        let channel = contact
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or("call")
            .to_string();
        check_party_channel(&party, &channel)?;
        let phone_hash = match contact.get("phone") {
            Some(Value::String(p)) => Some(self.key.hash(p)),
            Some(Value::Null) | None => None,
            Some(other) => {
                return Err(
                    LedgerError::Invalid(format!("`phone` 应为字符串，收到 `{other}`")).into(),
                )
            }
        };
        if let Some(hash) = &phone_hash {
            contact.insert("phone".into(), Value::String(hash.clone()));
        }
        if let Some(meta) = &request.reserve {
            for (field, value) in [
                ("debt_id", &meta.debt_id),
                ("collector_id", &meta.collector_id),
                ("idempotency_key", &meta.idempotency_key),
            ] {
                if let Some(v) = value {
                    check_id(field, v)?;
                }
            }
        }

        if let (Some(_), Some(skew)) = (&request.reserve, self.options.max_reserve_skew) {
            let skew_ms = i64::try_from(skew.as_millis()).unwrap_or(i64::MAX);
            if at_ms.abs_diff(now) > skew_ms.unsigned_abs() {
                return Err(LedgerError::Invalid(format!(
                    "预约的时间 `at` = `{at}` 与服务器时间 {} 相差超过 {} 秒：预约只针对现在要拨打的电话，请检查外呼系统的时钟，或省略 `at` (a reservation is for an attempt made now)",
                    rfc3339_ms(now),
                    skew.as_secs()
                ))
                .into());
            }
        }

        let mut tx = self
            .begin_for(&request.debtor_id, request.reserve.is_some())
            .await?;
        if let Some(key) = request
            .reserve
            .as_ref()
            .and_then(|m| m.idempotency_key.as_ref())
        {
            if let Some(answer) = replay(&mut tx, key, &request.debtor_id).await? {
                tx.rollback().await?;
                return Ok(Decided {
                    answer,
                    replayed: true,
                });
            }
        }
        let history = read_history(&mut tx, &request.debtor_id, at_ms, now).await?;
        contact.insert("history".into(), Value::Array(history));
        let call = json!({"pack": request.pack, "contact": Value::Object(contact)});
        let mut answer = decide(call.clone()).await.map_err(DecideError::Module)?;
        if answer.get("type").and_then(Value::as_str) != Some("success") {
            tx.rollback().await?;
            return Ok(Decided {
                answer,
                replayed: false,
            });
        }
        let allowed = answer
            .get("allowed")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let decision_id = new_id();
        let mut contact_id = None;
        if let (Some(meta), true) = (&request.reserve, allowed) {
            let id = new_id();
            let expires = now.saturating_add(
                i64::try_from(self.options.pending_ttl.as_millis()).unwrap_or(i64::MAX),
            );
            sqlx::query(
                "INSERT INTO contacts (id, debtor_id, debt_id, at, at_ms, party, phone_hash, channel, outcome, collector_id, idempotency_key, recorded_at_ms, expires_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12)",
            )
            .bind(&id)
            .bind(&request.debtor_id)
            .bind(&meta.debt_id)
            .bind(&at)
            .bind(at_ms)
            .bind(&party)
            .bind(&phone_hash)
            .bind(&channel)
            .bind(&meta.collector_id)
            // A reservation's key lives with its decision (`gate_decisions`), so the keys of
            // recorded contacts and of reservations never collide.
            .bind(None::<String>)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
            answer.insert(
                "reservation".into(),
                json!({"id": id, "expires_at": rfc3339_ms(expires)}),
            );
            contact_id = Some(id);
        }
        answer.insert("decision_id".into(), Value::String(decision_id.clone()));
        answer.insert("debtor_id".into(), Value::String(request.debtor_id.clone()));
        let pack = answer.get("pack").cloned().unwrap_or(Value::Null);
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        sqlx::query(
            "INSERT INTO gate_decisions (id, decided_at_ms, debtor_id, contact_id, allowed, pack_id, pack_version, pack_sha256, module_sha256, request, answer, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&decision_id)
        .bind(now)
        .bind(&request.debtor_id)
        .bind(&contact_id)
        .bind(i64::from(allowed))
        .bind(text(pack.get("id")))
        .bind(text(pack.get("version")))
        .bind(text(pack.get("sha256")))
        .bind(text(answer.get("module_sha256")))
        .bind(call.to_string())
        .bind(Value::Object(answer.clone()).to_string())
        .bind(request.reserve.as_ref().and_then(|m| m.idempotency_key.clone()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Decided {
            answer,
            replayed: false,
        })
    }

    /// The transaction a decision runs in.
    ///
    /// On SQLite it takes the database's write lock from its first statement (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes fails at once with "database
    /// is locked" when another writer got in between, whatever the busy timeout. On PostgreSQL a
    /// reservation holds an advisory lock on the debtor id until the transaction ends, so
    /// reservations for other debtors go on in parallel; READ COMMITTED is asked for explicitly,
    /// because the history read must see what the previous holder of the lock committed (under
    /// REPEATABLE READ the snapshot would predate the wait).
    async fn begin_for(
        &self,
        debtor_id: &str,
        exclusive: bool,
    ) -> Result<Transaction<'static, Any>, LedgerError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self
                    .pool
                    .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
                    .await?;
                if exclusive {
                    sqlx::query(
                        "SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS held",
                    )
                    .bind(lock_key(debtor_id))
                    .fetch_one(&mut *tx)
                    .await?;
                }
                Ok(tx)
            }
        }
    }
}

/// The stored answer of an earlier reservation with this idempotency key, if any.
async fn replay(
    tx: &mut Transaction<'static, Any>,
    key: &str,
    debtor_id: &str,
) -> Result<Option<Map<String, Value>>, LedgerError> {
    let row =
        sqlx::query("SELECT debtor_id, answer FROM gate_decisions WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let stored_debtor: String = row.try_get("debtor_id")?;
    if stored_debtor != debtor_id {
        return Err(LedgerError::Conflict(format!(
            "幂等键 `{key}` 已用于客户 `{stored_debtor}` 的预约，不能再用于客户 `{debtor_id}` (idempotency key reused for another debtor)"
        )));
    }
    let text: String = row.try_get("answer")?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(mut answer)) => {
            answer.insert("replayed".into(), Value::Bool(true));
            Ok(Some(answer))
        }
        _ => Err(LedgerError::Unavailable(format!(
            "幂等键 `{key}` 对应的已存决定无法读取 (stored decision is not JSON)"
        ))),
    }
}

/// The debtor's attempts the gate needs: the last [`HISTORY_DAYS`] days before the attempt,
/// and every refusal whatever its age.
async fn read_history(
    tx: &mut Transaction<'static, Any>,
    debtor_id: &str,
    at_ms: i64,
    now: i64,
) -> Result<Vec<Value>, LedgerError> {
    let since = at_ms.saturating_sub(HISTORY_DAYS * 24 * 3600 * 1000);
    let rows = sqlx::query(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE debtor_id = $1 AND (at_ms >= $2 OR outcome = 'refused') ORDER BY at_ms, recorded_at_ms"
    ))
    .bind(debtor_id)
    .bind(since)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|r| history_attempt(r, now)).collect()
}
