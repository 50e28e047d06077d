//! `callguard`: the command-line host. Every answer comes from the core policy module run through
//! wasmtime (never the engine linked natively) and is stamped with the module's sha256.
//! Exit status: 0 when the command ran (findings or not), 2 for bad input, 1 when the module
//! itself failed.

mod cli;
mod ledger_cmd;
mod serve;

use cli::{CheckArgs, Cli, Command, ScoreArgs};

use anyhow::{anyhow, Result};
use callguard_host::module::{self, Limits, Op, PolicyModule, Session};
use clap::Parser;
use serde_json::{json, Map, Value};
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::ExitCode;

/// Bad input: exit status 2 with a one-line reason.
#[derive(Debug)]
struct BadInput(String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn bad(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

struct Host {
    session: Session,
    module_sha256: String,
    pretty: bool,
    out: std::io::StdoutLock<'static>,
}

impl Host {
    /// Prints one answer, stamped with the module's sha256 (failures made by the host too).
    fn emit(&mut self, mut answer: Map<String, Value>) -> Result<()> {
        answer
            .entry("module_sha256")
            .or_insert_with(|| Value::String(self.module_sha256.clone()));
        let value = Value::Object(answer);
        let text = if self.pretty {
            serde_json::to_string_pretty(&value)?
        } else {
            serde_json::to_string(&value)?
        };
        writeln!(self.out, "{text}")?;
        Ok(())
    }

    /// Calls the module and stamps the answer with the module's sha256.
    fn call(&mut self, op: Op, input: &Value) -> Result<Map<String, Value>> {
        let answer = self.session.call(op, &input.to_string())?;
        let Value::Object(mut map) = answer else {
            return Err(anyhow!("the module's answer is not a JSON object"));
        };
        map.insert(
            "module_sha256".into(),
            Value::String(self.module_sha256.clone()),
        );
        Ok(map)
    }
}

/// The first error of a failure answer as one line.
fn failure_line(answer: &Map<String, Value>) -> Option<String> {
    if answer.get("type").and_then(Value::as_str) != Some("failure") {
        return None;
    }
    let errors = answer.get("errors").and_then(Value::as_array);
    let first = errors.and_then(|e| e.first());
    let message = first
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("failure");
    let location = first.and_then(|e| e.get("location"));
    let mut line = message.to_string();
    if let Some(loc) = location {
        if let (Some(l), Some(c)) = (
            loc.get("line").and_then(Value::as_u64),
            loc.get("column").and_then(Value::as_u64),
        ) {
            line.push_str(&format!(" (line {l}, column {c})"));
        }
        if let Some(rule) = loc.get("rule").and_then(Value::as_str) {
            line.push_str(&format!(" (rule `{rule}`)"));
        }
    }
    if let Some(n) = errors.map(Vec::len).filter(|&n| n > 1) {
        line.push_str(&format!(" (and {} more)", n - 1));
    }
    Some(line)
}

fn read_text(path: &Path) -> Result<String> {
    let bytes =
        std::fs::read(path).map_err(|e| bad(format!("cannot read `{}`: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        bad(format!(
            "`{}` is not valid UTF-8 (first bad byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

fn read_source(source: &str) -> Result<String> {
    if source == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        String::from_utf8(bytes).map_err(|e| {
            bad(format!(
                "standard input is not valid UTF-8 (offset {})",
                e.utf8_error().valid_up_to()
            ))
        })
    } else {
        read_text(Path::new(source))
    }
}

fn format_of(path: &Path, given: &Option<String>) -> Result<String> {
    if let Some(f) = given {
        return Ok(f.clone());
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(match ext.as_str() {
        "json" => "json",
        "txt" | "text" => "text",
        "vtt" => "vtt",
        "srt" => "srt",
        _ => {
            return Err(bad(format!(
                "cannot tell the format of `{}` from its extension; name it .json, .txt, .vtt or .srt, or pass --format",
                path.display()
            )))
        }
    }
    .to_string())
}

fn context_json(args: &CheckArgs) -> Value {
    json!({
        "dpd": args.dpd,
        "party": args.party,
        "identity_verified": args.verified,
        "third_party_informed": args.informed,
        "vulnerable": args.vulnerable,
        "channel": args.channel,
    })
}

/// Runs the command; returns whether any input was bad (exit status 2).
fn run(cli: Cli) -> Result<bool> {
    if let Command::Serve(args) = &cli.command {
        let concurrency = args
            .concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()) * 2);
        let config = serve::ServeConfig {
            addr: args.addr,
            module_path: cli.module.clone(),
            pack_dir: args.pack_dir.clone(),
            www_dir: args.www.clone(),
            limits: Limits {
                fuel_per_call: cli.fuel,
                memory_bytes: cli.memory_mb.saturating_mul(1024 * 1024),
                pool_slots: Some(u32::try_from(concurrency + 8).unwrap_or(64)),
            },
            max_body_bytes: args.max_body_kib.saturating_mul(1024),
            max_batch_lines: args.max_batch_lines,
            timeout: std::time::Duration::from_millis(args.timeout_ms),
            concurrency,
            queue_wait: std::time::Duration::from_millis(args.queue_wait_ms),
            admin_token: args.admin_token.clone().filter(|t| !t.is_empty()),
            audit_log: args.audit_log.clone(),
            db_url: args.store.db.clone(),
            phone_key: ledger_cmd::phone_key_secret(&args.store)?,
            api_token: args.api_token.clone().filter(|t| !t.is_empty()),
            pending_ttl: std::time::Duration::from_secs(args.pending_ttl_secs),
            max_reserve_skew: (args.reserve_max_skew_secs > 0)
                .then(|| std::time::Duration::from_secs(args.reserve_max_skew_secs)),
        };
        serve::serve(config)?;
        return Ok(false);
    }
    let command = match cli.command {
        Command::Ledger(command) => {
            ledger_cmd::run(command)?;
            return Ok(false);
        }
        Command::Reviews(command) => {
            ledger_cmd::run_reviews(command)?;
            return Ok(false);
        }
        other => other,
    };
    let bytes = match &cli.module {
        Some(path) => std::fs::read(path)
            .map_err(|e| bad(format!("cannot read module `{}`: {e}", path.display())))?,
        None => module::EMBEDDED_MODULE.to_vec(),
    };
    let limits = Limits {
        fuel_per_call: cli.fuel,
        memory_bytes: cli.memory_mb.saturating_mul(1024 * 1024),
        pool_slots: None,
    };
    let module = PolicyModule::new(&bytes, limits, &[]).map_err(|e| match &cli.module {
        Some(p) => bad(format!("module `{}`: {e}", p.display())),
        None => e,
    })?;
    let mut host = Host {
        session: module.session()?,
        module_sha256: module.sha256.clone(),
        pretty: cli.pretty,
        out: std::io::stdout().lock(),
    };
    for file in &cli.pack_files {
        let toml = read_text(file)?;
        let answer = host.call(Op::LoadPack, &json!({ "toml": toml }))?;
        if let Some(line) = failure_line(&answer) {
            return Err(bad(format!("pack `{}`: {line}", file.display())));
        }
    }
    let mut any_bad = false;
    match command {
        Command::Packs => {
            let answer = host.call(Op::Packs, &json!({}))?;
            host.emit(answer)?;
        }
        Command::Check(args) => match (&args.jsonl, &args.text) {
            (Some(_), Some(_)) => return Err(bad("give either TEXT or --jsonl, not both")),
            (None, None) => return Err(bad("nothing to check: give TEXT or --jsonl FILE")),
            (None, Some(text)) => {
                let call =
                    json!({ "pack": args.pack, "text": text, "context": context_json(&args) });
                let answer = host.call(Op::Check, &call)?;
                if let Some(line) = failure_line(&answer) {
                    return Err(bad(line));
                }
                host.emit(answer)?;
            }
            (Some(source), None) => {
                let reader: Box<dyn BufRead> = if source == "-" {
                    Box::new(std::io::BufReader::new(std::io::stdin()))
                } else {
                    let file = std::fs::File::open(source)
                        .map_err(|e| bad(format!("cannot read `{source}`: {e}")))?;
                    Box::new(std::io::BufReader::new(file))
                };
                any_bad = check_jsonl(&mut host, &args.pack, reader)?;
            }
        },
        Command::Score(args) => {
            for path in &args.files {
                let answer = match score_file(&mut host, &args, path) {
                    Ok(answer) => answer,
                    Err(e) if e.is::<BadInput>() => {
                        let mut m = Map::new();
                        m.insert("type".into(), "failure".into());
                        m.insert("errors".into(), json!([{ "message": e.to_string(), "help": "", "code": "invalid_input" }]));
                        m
                    }
                    Err(e) => return Err(e),
                };
                let mut answer = answer;
                answer.insert("file".into(), Value::String(path.display().to_string()));
                if let Some(line) = failure_line(&answer) {
                    eprintln!("callguard: {}: {line}", path.display());
                    any_bad = true;
                }
                host.emit(answer)?;
            }
        }
        Command::Serve(_) | Command::Ledger(_) | Command::Reviews(_) => {}
        Command::Gate(args) => {
            let text = read_source(&args.json)?;
            let contact: Value = serde_json::from_str(&text)
                .map_err(|e| bad(format!("invalid contact JSON in `{}`: {e}", args.json)))?;
            let answer = if args.store.db.is_some() {
                ledger_cmd::gate_on_ledger(
                    &args.store,
                    &args.pack,
                    contact,
                    args.reserve,
                    |call| host.call(Op::Gate, call),
                )?
            } else {
                host.call(Op::Gate, &json!({ "pack": args.pack, "contact": contact }))?
            };
            if let Some(line) = failure_line(&answer) {
                return Err(bad(line));
            }
            host.emit(answer)?;
        }
    }
    host.out.flush()?;
    Ok(any_bad)
}

fn score_file(host: &mut Host, args: &ScoreArgs, path: &Path) -> Result<Map<String, Value>> {
    let content = read_text(path)?;
    let format = format_of(path, &args.format)?;
    let id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let call = json!({ "pack": args.pack, "content": content, "format": format, "dpd": args.dpd, "id": id, "agent_channel": args.agent_channel });
    host.call(Op::Score, &call)
}

/// One answer per input line, echoing `id`; a bad line gets a failure object with its line
/// number and every other line is still answered. Returns whether any line was bad.
fn check_jsonl(host: &mut Host, pack: &str, reader: Box<dyn BufRead>) -> Result<bool> {
    let mut any_bad = false;
    for (index, line) in reader.split(b'\n').enumerate() {
        let number = index + 1;
        let bytes = line?;
        let answer = match std::str::from_utf8(&bytes) {
            Err(e) => failure_object(
                None,
                number,
                format!(
                    "line {number} is not valid UTF-8 (offset {})",
                    e.valid_up_to()
                ),
            ),
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => match serde_json::from_str::<Value>(text) {
                Err(e) => failure_object(
                    None,
                    number,
                    format!("line {number} is not valid JSON: {e}"),
                ),
                Ok(Value::Object(obj)) => {
                    let id = obj.get("id").cloned();
                    let call = json!({
                        "pack": pack,
                        "text": obj.get("text").cloned().unwrap_or(Value::Null),
                        "context": obj.get("context").cloned().unwrap_or_else(|| json!({})),
                    });
                    let unknown: Vec<&String> = obj
                        .keys()
                        .filter(|k| !["id", "text", "context"].contains(&k.as_str()))
                        .collect();
                    if !unknown.is_empty() {
                        failure_object(id, number, format!("line {number} has unknown field(s) `{}`; expected id, text, context", unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("`, `")))
                    } else if !obj.get("text").is_some_and(Value::is_string) {
                        failure_object(id, number, format!("line {number} needs a string `text`"))
                    } else {
                        let mut answer = host.call(Op::Check, &call)?;
                        let mut out = Map::new();
                        if let Some(id) = id {
                            out.insert("id".into(), id);
                        }
                        if answer.get("type").and_then(Value::as_str) == Some("failure") {
                            out.insert("line".into(), json!(number));
                        }
                        out.append(&mut answer);
                        out
                    }
                }
                Ok(_) => {
                    failure_object(None, number, format!("line {number} is not a JSON object"))
                }
            },
        };
        if let Some(reason) = failure_line(&answer) {
            eprintln!("callguard: {reason}");
            any_bad = true;
        }
        host.emit(answer)?;
    }
    Ok(any_bad)
}

fn failure_object(id: Option<Value>, line: usize, message: String) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(id) = id {
        m.insert("id".into(), id);
    }
    m.insert("line".into(), json!(line));
    m.insert("type".into(), "failure".into());
    m.insert("errors".into(), json!([{ "message": message, "help": "", "code": "invalid_input", "location": { "line": line } }]));
    m
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(2),
        Err(e) if e.is::<BadInput>() => {
            eprintln!("callguard: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("callguard: {e:#}");
            ExitCode::from(1)
        }
    }
}
