//! The command line's side of the contact ledger: `gate --db`, `ledger export`, `ledger prune`.

use crate::bad;
use crate::cli::{LedgerCommand, ReviewsCommand, StoreArgs};
use anyhow::{anyhow, Context as _, Result};
use callguard_host::ledger::phone::PhoneKey;
use callguard_host::ledger::{DecideError, GateRequest, Ledger, LedgerError, LedgerOptions};
use serde_json::{json, Map, Value};
use std::io::Write;

/// The phone key's secret: the file named by --phone-key-file (or CALLGUARD_PHONE_KEY_FILE),
/// else CALLGUARD_PHONE_KEY itself.
pub(crate) fn phone_key_secret(store: &StoreArgs) -> Result<Option<String>> {
    if let Some(path) = &store.phone_key_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            bad(format!(
                "无法读取号码密钥文件 `{}` (cannot read the phone key file): {e}",
                path.display()
            ))
        })?;
        return Ok(Some(text));
    }
    Ok(std::env::var("CALLGUARD_PHONE_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty()))
}

/// A ledger error as the CLI reports it: bad input exits 2, an unavailable store 1.
fn ledger_error(e: LedgerError) -> anyhow::Error {
    match e {
        LedgerError::Unavailable(m) => anyhow!(m),
        other => bad(other.to_string()),
    }
}

/// Opens the store named by `--db` with its phone key, on a runtime of its own.
fn open(store: &StoreArgs) -> Result<(tokio::runtime::Runtime, Ledger)> {
    let Some(url) = &store.db else {
        return Err(bad("需要 `--db URL`（`sqlite:PATH` 或 `postgres://…`）"));
    };
    let secret = phone_key_secret(store)?.ok_or_else(|| {
        bad("需要号码密钥：`--phone-key-file FILE` 或环境变量 CALLGUARD_PHONE_KEY (the ledger needs its phone key)")
    })?;
    let key = PhoneKey::new(&secret).map_err(bad)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let ledger = runtime
        .block_on(Ledger::open(url, key, LedgerOptions::default()))
        .map_err(ledger_error)?;
    Ok((runtime, ledger))
}

/// `gate --db`: the contact (with its `debtor_id`) decided on the ledger's history through
/// `decide` (the module's gate), the decision stored.
pub(crate) fn gate_on_ledger(
    store: &StoreArgs,
    pack: &str,
    contact: Value,
    reserve: bool,
    decide: impl FnOnce(&Value) -> Result<Map<String, Value>>,
) -> Result<Map<String, Value>> {
    let Value::Object(contact) = contact else {
        return Err(bad(
            "联系请求应为 JSON 对象 (the contact must be a JSON object)",
        ));
    };
    let request =
        GateRequest::from_body(contact, Some(pack.to_string()), reserve).map_err(ledger_error)?;
    if request.debtor_id.is_empty() {
        return Err(bad(
            "使用 --db 时联系请求需要 `debtor_id` (the contact needs a debtor_id)",
        ));
    }
    let (runtime, ledger) = open(store)?;

    let decided = runtime.block_on(async {
        let result = ledger
            .decide(request, |call| std::future::ready(decide(&call)))
            .await;
        ledger.close().await;
        result
    });
    match decided {
        Ok(d) => Ok(d.answer),
        Err(DecideError::Ledger(e)) => Err(ledger_error(e)),
        Err(DecideError::Module(e)) => Err(e),
    }
}

/// Milliseconds since the epoch of `--since`: RFC 3339, or a date (UTC midnight).
fn since_ms(since: &str) -> Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(since) {
        return Ok(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| {
            bad(format!(
                "`--since` 应为日期（2026-12-01）或 RFC 3339 时间，收到 `{since}`"
            ))
        })
}

/// `callguard ledger export|prune`.
pub(crate) fn run(command: LedgerCommand) -> Result<()> {
    match command {
        LedgerCommand::Export(args) => {
            let since = args.since.as_deref().map(since_ms).transpose()?;
            let (runtime, ledger) = open(&args.store)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let count = runtime
                .block_on(ledger.export_decisions(since, args.debtor_id.as_deref(), &mut out))
                .map_err(ledger_error)?;
            out.flush()?;
            eprintln!("callguard: 导出 {count} 条闸门决定 (exported {count} gate decisions)");
            Ok(())
        }
        LedgerCommand::Prune(args) => {
            let (runtime, ledger) = open(&args.store)?;
            let before = chrono::Utc::now() - chrono::Duration::days(i64::from(args.keep_days));
            let (contacts, decisions) = runtime
                .block_on(ledger.prune(before.timestamp_millis()))
                .map_err(ledger_error)?;
            let summary = json!({
                "type": "success",
                "before": before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "deleted_contacts": contacts,
                "deleted_decisions": decisions,
            });
            println!("{summary}");
            Ok(())
        }
    }
}

/// `callguard reviews export [--disputed]`.
pub(crate) fn run_reviews(command: ReviewsCommand) -> Result<()> {
    let ReviewsCommand::Export(args) = command;
    let (runtime, ledger) = open(&args.store)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let count = runtime
        .block_on(ledger.export_reviews(args.disputed, &mut out))
        .map_err(ledger_error)?;
    out.flush()?;
    let what = if args.disputed {
        "条误报"
    } else {
        "条复核记录"
    };
    eprintln!("callguard: 导出 {count} {what} (exported {count})");
    Ok(())
}
