//! The command line: every subcommand and option `callguard` takes (the contract of
//! ../shared/DESIGN.md, extended only by adding).

use callguard_host::module::Limits;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "callguard",
    version,
    about = "催收合规检查 · debt-collection compliance checks (policy module under wasmtime)"
)]
pub(crate) struct Cli {
    /// Use this core module instead of the embedded one.
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) module: Option<PathBuf>,
    /// Load a custom pack (TOML) before running; may be repeated, parents first.
    #[arg(long = "pack-file", global = true, value_name = "FILE")]
    pub(crate) pack_files: Vec<PathBuf>,
    /// Fuel per call: bounds the CPU one answer may take.
    #[arg(long, global = true, default_value_t = Limits::default().fuel_per_call)]
    pub(crate) fuel: u64,
    /// Memory cap of the module instance, in MiB.
    #[arg(long = "memory-mb", global = true, default_value_t = 512)]
    pub(crate) memory_mb: usize,
    /// Indent the JSON output.
    #[arg(long, global = true)]
    pub(crate) pretty: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// List the packs the module knows.
    Packs,
    /// Check one utterance (TEXT) or a JSON-lines batch (--jsonl).
    Check(CheckArgs),
    /// Score whole calls: .json turns, .txt "坐席：/客户：" lines, .vtt, .srt.
    Score(ScoreArgs),
    /// May this contact happen now? Input: a JSON contact (file or -).
    Gate(GateArgs),
    /// Serve the scoring API and the www/ pages over HTTP.
    Serve(ServeArgs),
    /// The contact ledger (--db): export decisions as evidence, prune old records.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Reviewers' verdicts and notes kept by `serve --db`.
    #[command(subcommand)]
    Reviews(ReviewsCommand),
}

#[derive(Subcommand)]
pub(crate) enum ReviewsCommand {
    /// The reviews as JSON lines; with --disputed, the findings reviewers marked 误报 (false
    /// alarm), each with its rule, excerpt and latest note, for the pack's authors.
    Export(ReviewsExportArgs),
}

#[derive(Args)]
pub(crate) struct ReviewsExportArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Only findings whose latest verdict is 误报 (disputed).
    #[arg(long)]
    pub(crate) disputed: bool,
}

/// Where the contact ledger is and how phone numbers are hashed in it.
#[derive(Args, Clone, Default)]
pub(crate) struct StoreArgs {
    /// The contact ledger: `sqlite:PATH` (one server) or `postgres://…` (several).
    #[arg(long, value_name = "URL")]
    pub(crate) db: Option<String>,
    /// A file holding the secret phone numbers are hashed with (HMAC-SHA256); or set
    /// CALLGUARD_PHONE_KEY to the secret itself.
    #[arg(long, value_name = "FILE", env = "CALLGUARD_PHONE_KEY_FILE")]
    pub(crate) phone_key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum LedgerCommand {
    /// Every stored gate decision as JSON lines: when, for whom, allowed or not, under which
    /// pack (id, version, sha256) and module (sha256), with the request and the answer.
    Export(ExportArgs),
    /// Delete contacts and decisions older than the retention period.
    Prune(PruneArgs),
}

#[derive(Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Only decisions from this time on (RFC 3339, or a date such as 2026-12-01 in UTC).
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// Only this debtor's decisions.
    #[arg(long)]
    pub(crate) debtor_id: Option<String>,
}

#[derive(Args)]
pub(crate) struct PruneArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Keep this many days (default two years: collection records are kept at least that long).
    #[arg(long, default_value_t = 730)]
    pub(crate) keep_days: u32,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: std::net::SocketAddr,
    /// Load every *.toml in this directory as a custom pack (reloaded with the module).
    #[arg(long, value_name = "DIR")]
    pub(crate) pack_dir: Option<PathBuf>,
    /// The pages served at `/`.
    #[arg(long, value_name = "DIR", default_value = "www")]
    pub(crate) www: PathBuf,
    /// Largest request body, in KiB (413 above it).
    #[arg(long, default_value_t = 8192)]
    pub(crate) max_body_kib: usize,
    /// Most lines one /v1/score:batch request may carry.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) max_batch_lines: usize,
    /// Per-request timeout in milliseconds (503 past it).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) timeout_ms: u64,
    /// Requests computed at once; more wait up to --queue-wait-ms, then get 503.
    #[arg(long)]
    pub(crate) concurrency: Option<usize>,
    #[arg(long, default_value_t = 2_000)]
    pub(crate) queue_wait_ms: u64,
    /// Turns on POST /v1/admin/reload, which then needs `Authorization: Bearer TOKEN`.
    #[arg(long, env = "CALLGUARD_ADMIN_TOKEN", hide_env_values = true)]
    pub(crate) admin_token: Option<String>,
    /// Append one JSON line per answer (numbers masked) to this file.
    #[arg(long, value_name = "PATH")]
    pub(crate) audit_log: Option<PathBuf>,
    /// Keep a contact ledger in this store; the ledger's routes then need --api-token.
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The token the ledger's routes need: `Authorization: Bearer TOKEN`.
    #[arg(long, env = "CALLGUARD_API_TOKEN", hide_env_values = true)]
    pub(crate) api_token: Option<String>,
    /// A reservation with no outcome after this many seconds counts as an unanswered attempt.
    #[arg(long, default_value_t = 600)]
    pub(crate) pending_ttl_secs: u64,
    /// A reservation's `at` may differ from the server's clock by at most this many seconds
    /// (0: no check, for replaying recorded traffic).
    #[arg(long, default_value_t = 300)]
    pub(crate) reserve_max_skew_secs: u64,
}

#[derive(Args)]
pub(crate) struct CheckArgs {
    #[arg(long, default_value = "cn-company")]
    pub(crate) pack: String,
    /// Days past due.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) dpd: Option<i64>,
    /// Who is on the line: debtor, third_party, unknown, minor.
    #[arg(long, default_value = "debtor")]
    pub(crate) party: String,
    /// Identity has been confirmed.
    #[arg(long)]
    pub(crate) verified: bool,
    /// The third party already knows about the debt.
    #[arg(long)]
    pub(crate) informed: bool,
    /// The customer disclosed illness, pregnancy, bereavement or hardship.
    #[arg(long)]
    pub(crate) vulnerable: bool,
    /// call, sms, visit, letter.
    #[arg(long, default_value = "call")]
    pub(crate) channel: String,
    /// JSON lines: {"id","text","context":{…}} per line; `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) jsonl: Option<String>,
    /// The utterance.
    pub(crate) text: Option<String>,
}

#[derive(Args)]
pub(crate) struct ScoreArgs {
    #[arg(long, default_value = "cn-company")]
    pub(crate) pack: String,
    /// Days past due for text, VTT and SRT files (JSON transcripts carry their own).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) dpd: Option<i64>,
    /// Format for every file (json, text, vtt, srt) instead of guessing from the extension.
    #[arg(long)]
    pub(crate) format: Option<String>,
    /// In a speech-to-text result (Aliyun, Tencent, iFlytek, FunASR, WhisperX), the channel or
    /// speaker (from 0) that is the agent.
    #[arg(long, default_value_t = 0)]
    pub(crate) agent_channel: u32,
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct GateArgs {
    #[arg(long, default_value = "cn-company")]
    pub(crate) pack: String,
    /// The contact as JSON; `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: String,
    /// Decide on the ledger's history for the contact's `debtor_id` (and store the decision).
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// With --db: also reserve the attempt when it is allowed (as POST /v1/gate:reserve).
    #[arg(long, requires = "db")]
    pub(crate) reserve: bool,
}
