//! The contact ledger: the host's memory of contact attempts and gate decisions, in one SQL store
//! shared by every dialer and collector of a lender. An embedded SQLite file serves one server;
//! PostgreSQL serves several behind a load balancer. The engine never sees the store: the host
//! reads a debtor's history here and hands it to the module's `gate` as input, exactly as a
//! caller's own history is handed today.
//!
//! Phone numbers are stored only as keyed hashes ([`phone::PhoneKey`]); debtor ids are the
//! lender's own. Every statement is portable SQL run through sqlx's `Any` driver, so both
//! backends run the same code; the one difference is how a reservation takes its lock
//! (`BEGIN IMMEDIATE` on SQLite, a per-debtor advisory lock on PostgreSQL).

mod contacts;
mod decisions;
mod evidence;
pub mod phone;
mod reviews;

pub use contacts::{ContactInput, Outcome};
pub use decisions::{DecideError, Decided, GateRequest, ReserveMeta};
pub use reviews::ReviewInput;

use phone::PhoneKey;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Row;
use std::time::Duration;

/// Which database a ledger URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a ledger operation failed; each maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// The store cannot be reached or failed (503: retry later).
    Unavailable(String),
    /// The request is wrong (400).
    Invalid(String),
    /// No such record (404).
    NotFound(String),
    /// The record is in another state (409).
    Conflict(String),
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::Unavailable(m)
            | LedgerError::Invalid(m)
            | LedgerError::NotFound(m)
            | LedgerError::Conflict(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LedgerError {}

impl From<sqlx::Error> for LedgerError {
    fn from(e: sqlx::Error) -> Self {
        // Two requests racing with the same key for different debtors meet at a unique index.
        if e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
        {
            return LedgerError::Conflict(format!(
                "该幂等键已被另一条记录使用 (idempotency key already used): {e}"
            ));
        }
        LedgerError::Unavailable(format!(
            "联系记录库暂不可用 (ledger store unavailable): {e}"
        ))
    }
}

/// How the ledger behaves; the defaults suit one server.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// A reservation with no outcome after this long counts as an unanswered attempt.
    pub pending_ttl: Duration,
    /// How long a request waits for a database connection before it is answered 503.
    pub acquire_timeout: Duration,
    pub max_connections: u32,
    /// How far a reservation's `at` may be from the server's clock (`None`: any time, for
    /// replaying recorded traffic in tests and benchmarks).
    pub max_reserve_skew: Option<Duration>,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            pending_ttl: Duration::from_secs(10 * 60),
            acquire_timeout: Duration::from_secs(3),
            max_connections: 8,
            max_reserve_skew: Some(Duration::from_secs(300)),
        }
    }
}

/// An open ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: AnyPool,
    backend: Backend,
    key: PhoneKey,
    options: LedgerOptions,
    /// The URL with any password removed, for messages.
    location: String,
}

/// The versioned schema, applied at start (`host/migrations/`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A URL for messages: `postgres://user:secret@host/db` loses its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = url.get(scheme_end + 3..at).unwrap_or("");
            let user = creds.split(':').next().unwrap_or("");
            format!(
                "{}{user}:***{}",
                url.get(..scheme_end + 3).unwrap_or(""),
                url.get(at..).unwrap_or("")
            )
        }
        _ => url.to_string(),
    }
}

/// Which backend a URL names, and the URL sqlx is given.
fn parse_url(url: &str) -> Result<(Backend, String), LedgerError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        if path.is_empty() || path == ":memory:" {
            return Err(LedgerError::Invalid(format!(
                "SQLite 联系记录库需要一个文件路径，例如 `sqlite:ledger.db`；收到 `{url}` (the ledger needs a file: an in-memory database would forget every contact)"
            )));
        }
        let query = if query.is_empty() { "mode=rwc" } else { query };
        return Ok((Backend::Sqlite, format!("sqlite:{path}?{query}")));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_string()));
    }
    Err(LedgerError::Invalid(format!(
        "不支持的数据库地址 `{}`：请用 `sqlite:PATH` 或 `postgres://…` (unsupported --db URL)",
        redact(url)
    )))
}

/// A start-up failure as a Chinese-first reason naming the store.
fn open_error(location: &str, backend: Backend, e: &dyn std::fmt::Display) -> LedgerError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let message = if backend == Backend::Sqlite && lower.contains("locked") {
        format!("SQLite 数据库文件 `{location}` 被另一个进程锁定，无法打开；请先停止占用它的程序 (database is locked: {text})")
    } else if backend == Backend::Sqlite
        && (lower.contains("not a database") || lower.contains("malformed"))
    {
        format!("`{location}` 不是有效的 SQLite 数据库或已损坏；请从备份恢复，或换一个新文件 (file is not a database: {text})")
    } else if backend == Backend::Sqlite && lower.contains("unable to open") {
        format!("无法打开 SQLite 数据库文件 `{location}`：目录不存在或没有权限 ({text})")
    } else {
        format!("无法打开联系记录库 `{location}` (cannot open the ledger store): {text}")
    };
    LedgerError::Unavailable(message)
}

impl Ledger {
    /// Opens (creating an SQLite file if needed) and migrates the store, and checks that the
    /// phone key is the one the store was created with.
    pub async fn open(
        url: &str,
        key: PhoneKey,
        options: LedgerOptions,
    ) -> Result<Self, LedgerError> {
        sqlx::any::install_default_drivers();
        let (backend, sqlx_url) = parse_url(url)?;
        let location = redact(url);
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite {
                options.max_connections.min(4)
            } else {
                options.max_connections
            })
            .acquire_timeout(options.acquire_timeout)
            .connect(&sqlx_url)
            .await
            .map_err(|e| open_error(&location, backend, &e))?;
        if backend == Backend::Sqlite {
            // WAL lets readers go on while one writer commits; FULL syncs the log on every
            // commit, so an acknowledged contact survives a crash or a power cut.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(|e| open_error(&location, backend, &e))?;
        }
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| open_error(&location, backend, &e))?;
        let ledger = Ledger {
            pool,
            backend,
            key,
            options,
            location,
        };
        ledger.check_key().await?;
        Ok(ledger)
    }

    /// Stores the phone key's fingerprint on first use and refuses another key afterwards.
    async fn check_key(&self) -> Result<(), LedgerError> {
        let fingerprint = self.key.fingerprint();
        sqlx::query(
            "INSERT INTO ledger_meta (name, value) VALUES ('phone_key', $1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&fingerprint)
        .execute(&self.pool)
        .await?;
        let stored: String = sqlx::query("SELECT value FROM ledger_meta WHERE name = 'phone_key'")
            .fetch_one(&self.pool)
            .await?
            .try_get("value")?;
        if stored != fingerprint {
            return Err(LedgerError::Invalid(format!(
                "号码密钥与联系记录库 `{}` 建立时使用的密钥不同：用错误的密钥，同一号码将对不上历史记录，次数限制会失效 (the phone key differs from the one this store was created with)",
                self.location
            )));
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The store's URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether the store answers now (a cheap query).
    pub async fn ping(&self) -> Result<(), LedgerError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the epoch now.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An RFC 3339 UTC time for milliseconds since the epoch.
fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A new record id.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_and_passwords_never_shown() {
        assert_eq!(
            parse_url("sqlite:data/ledger.db").unwrap(),
            (Backend::Sqlite, "sqlite:data/ledger.db?mode=rwc".into())
        );
        assert_eq!(
            parse_url("sqlite:///tmp/l.db").unwrap().1,
            "sqlite:/tmp/l.db?mode=rwc"
        );
        assert!(matches!(
            parse_url("sqlite::memory:"),
            Err(LedgerError::Invalid(_))
        ));
        assert_eq!(
            parse_url("postgres://u:p@127.0.0.1/db").unwrap().0,
            Backend::Postgres
        );
        let e = parse_url("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(e.contains("不支持") && !e.contains("secret"), "{e}");
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres:///db?host=/tmp"),
            "postgres:///db?host=/tmp"
        );
    }
}
