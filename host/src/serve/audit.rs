//! The optional audit log: one JSON line per answered call with time, route, pack, module sha256,
//! score and findings. Transcripts carry ID, card and phone numbers, so nothing is written
//! verbatim: every run of 5 or more digits keeps only its last 4.

use serde_json::{json, Value};
use std::io::Write;
use std::sync::Mutex;

pub struct AuditLog {
    file: Mutex<std::fs::File>,
}

/// Masks every run of 5+ digits (spaces and dashes inside the number count as part of it).
pub fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if !c.is_ascii_digit() {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        while let Some(&d) = chars.get(j) {
            let joins =
                (d == ' ' || d == '-') && chars.get(j + 1).is_some_and(char::is_ascii_digit);
            if d.is_ascii_digit() || joins {
                j += 1;
            } else {
                break;
            }
        }
        let run: Vec<char> = chars
            .get(start..j)
            .map(<[char]>::to_vec)
            .unwrap_or_default();
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        if digits >= 5 {
            let mut seen = 0;
            for ch in &run {
                if ch.is_ascii_digit() {
                    seen += 1;
                    out.push(if digits - seen < 4 { *ch } else { '*' });
                } else {
                    out.push(*ch);
                }
            }
        } else {
            out.extend(run.iter());
        }
        i = j;
    }
    out
}

impl AuditLog {
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(AuditLog {
            file: Mutex::new(file),
        })
    }

    /// Records one answer; only a summary, with numbers masked.
    pub fn record(&self, route: &str, answer: &Value) {
        let findings: Vec<Value> = answer
            .get("findings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| {
                json!({
                    "rule": f.get("rule"),
                    "category": f.get("category"),
                    "severity": f.get("severity"),
                    "turn": f.get("turn"),
                    "excerpt": f.get("excerpt").and_then(Value::as_str).map(mask_numbers),
                })
            })
            .collect();
        let line = json!({
            "time": chrono::Utc::now().to_rfc3339(),
            "route": route,
            "id": answer.get("id").and_then(Value::as_str).map(mask_numbers),
            "pack": answer.get("pack"),
            "module_sha256": answer.get("module_sha256"),
            "type": answer.get("type"),
            "score": answer.get("score"),
            "auto_fail": answer.get("auto_fail"),
            "allowed": answer.get("allowed"),
            "findings": findings,
        });
        if let Ok(mut file) = self.file.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_long_numbers_and_keeps_short_ones() {
        assert_eq!(
            mask_numbers("卡号6222 0213 4567 8901 230，尾号1234"),
            "卡号**** **** **** ***1 230，尾号1234"
        );
        assert_eq!(mask_numbers("13825406137"), "*******6137");
        assert_eq!(mask_numbers("欠款3275元"), "欠款3275元");
    }
}
