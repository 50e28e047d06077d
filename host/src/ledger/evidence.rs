//! The evidence a regulator may ask for: every gate decision with the pack and module it was
//! made under, exported as JSON lines; and the retention that keeps records two years, no longer.

use super::{rfc3339_ms, Ledger, LedgerError};
use serde_json::{json, Value};
use sqlx::Row;

impl Ledger {
    /// Every stored decision from `since_ms` on (all when `None`), oldest first, as JSON lines
    /// written to `out`; returns how many.
    pub async fn export_decisions(
        &self,
        since_ms: Option<i64>,
        debtor_id: Option<&str>,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, LedgerError> {
        let mut after_ms = since_ms.unwrap_or(i64::MIN);
        let mut after_id = String::new();
        let mut count = 0u64;
        // Keyset pages, so an export of years of decisions never holds them all in memory.
        loop {
            let rows = sqlx::query(
                "SELECT id, decided_at_ms, debtor_id, contact_id, allowed, pack_id, pack_version, pack_sha256, module_sha256, request, answer FROM gate_decisions \
                 WHERE (decided_at_ms > $1 OR (decided_at_ms = $1 AND id > $2)) AND ($3 = '' OR debtor_id = $3) \
                 ORDER BY decided_at_ms, id LIMIT 500",
            )
            .bind(after_ms)
            .bind(&after_id)
            .bind(debtor_id.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(count);
            }
            for row in &rows {
                let at: i64 = row.try_get("decided_at_ms")?;
                let id: String = row.try_get("id")?;
                let parse = |column: &str| -> Result<Value, LedgerError> {
                    let text: String = row.try_get(column)?;
                    Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
                };
                let line = json!({
                    "id": id,
                    "decided_at": rfc3339_ms(at),
                    "debtor_id": row.try_get::<String, _>("debtor_id")?,
                    "contact_id": row.try_get::<Option<String>, _>("contact_id")?,
                    "allowed": row.try_get::<i64, _>("allowed")? == 1,
                    "pack": {
                        "id": row.try_get::<String, _>("pack_id")?,
                        "version": row.try_get::<String, _>("pack_version")?,
                        "sha256": row.try_get::<String, _>("pack_sha256")?,
                    },
                    "module_sha256": row.try_get::<String, _>("module_sha256")?,
                    "request": parse("request")?,
                    "answer": parse("answer")?,
                });
                writeln!(out, "{line}").map_err(|e| {
                    LedgerError::Unavailable(format!(
                        "无法写出导出内容 (cannot write the export): {e}"
                    ))
                })?;
                count += 1;
                after_ms = at;
                after_id = id;
            }
        }
    }

    /// Deletes contacts and decisions older than `before_ms`; returns how many of each.
    pub async fn prune(&self, before_ms: i64) -> Result<(u64, u64), LedgerError> {
        let mut tx = self.pool.begin().await?;
        let contacts = sqlx::query("DELETE FROM contacts WHERE at_ms < $1")
            .bind(before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let decisions = sqlx::query("DELETE FROM gate_decisions WHERE decided_at_ms < $1")
            .bind(before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((contacts, decisions))
    }
}
