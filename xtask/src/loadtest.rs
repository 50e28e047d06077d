//! `cargo xtask loadtest`: a bounded load on loopback against `callguard serve`, with a small
//! keep-alive HTTP/1.1 client per connection thread. Reports requests per second, p50 and p99
//! latency and errors for `/v1/score` (a 40-turn call), `/v1/check` (one utterance), and
//! `/v1/gate:reserve` on the contact ledger in SQLite and in a throwaway PostgreSQL cluster.

use anyhow::{anyhow, Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sends one request on a kept-alive connection and reads the whole response.
fn exchange(stream: &mut BufReader<TcpStream>, addr: &str, path: &str, body: &[u8]) -> Result<u16> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // One write per request: two small writes would meet Nagle and delayed ACK (40 ms stalls).
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    stream.get_mut().write_all(&message)?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse()?;
            }
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(status)
}

pub struct Outcome {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The body of request `i` of connection `thread`.
type Bodies = Arc<dyn Fn(usize, usize) -> Vec<u8> + Send + Sync>;

/// The same body for every request.
fn fixed(body: &[u8]) -> Bodies {
    let body = body.to_vec();
    Arc::new(move |_, _| body.clone())
}

/// `connections` threads, each sending up to `per_connection` requests, stopping at `limit`.
fn load(
    addr: &str,
    path: &str,
    bodies: Bodies,
    connections: usize,
    per_connection: usize,
    limit: Duration,
) -> Result<Outcome> {
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|thread| {
            let (addr, path, bodies) = (addr.to_string(), path.to_string(), bodies.clone());
            std::thread::spawn(move || -> Result<(Vec<f64>, usize)> {
                let connect = |addr: &str| -> Result<BufReader<TcpStream>> {
                    let s = TcpStream::connect(addr)?;
                    s.set_nodelay(true)?;
                    Ok(BufReader::new(s))
                };
                let mut stream = connect(&addr)?;
                let mut latencies = Vec::with_capacity(per_connection);
                let mut errors = 0;
                let t0 = Instant::now();
                for i in 0..per_connection {
                    if t0.elapsed() > limit {
                        break;
                    }
                    let body = bodies(thread, i);
                    let t = Instant::now();
                    match exchange(&mut stream, &addr, &path, &body) {
                        Ok(200) => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                        _ => {
                            errors += 1;
                            stream = connect(&addr)?;
                        }
                    }
                }
                Ok((latencies, errors))
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.join().map_err(|_| anyhow!("load thread panicked"))??;
        all.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Ok(Outcome {
        requests: all.len() + errors,
        errors,
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}

/// The benchmark workloads: the 40-turn call and the short utterance of bench/workloads.
fn workloads(root: &Path) -> Result<(String, String)> {
    let call = std::fs::read_to_string(root.join("bench/workloads/call-40.json"))?;
    let call: serde_json::Value = serde_json::from_str(&call)?;
    let short = std::fs::read_to_string(root.join("bench/workloads/short.txt"))?;
    let check = serde_json::json!({"text": short.trim(), "context": {"dpd": 12, "party": "debtor", "identity_verified": true}});
    Ok((
        serde_json::json!({"transcript": call}).to_string(),
        check.to_string(),
    ))
}

/// The loopback load's settings, as the report states them.
pub const CONNECTIONS: usize = 8;
pub const SECONDS: u64 = 10;
pub const PER_CONNECTION: usize = 5_000;

/// The API token and phone key of the ledger runs (a throwaway store).
const TOKEN: &str = "loadtest-token";
const PHONE_KEY: &str = "loadtest-phone-key-0123456789";

/// Starts `callguard serve` on a free loopback port; returns the child and its `host:port`.
pub fn serve(root: &Path, bin: &Path) -> Result<(Child, String)> {
    serve_with(root, bin, &[])
}

/// Like [`serve`] with more `serve` arguments (the ledger's `--db`).
fn serve_with(root: &Path, bin: &Path, extra: &[&str]) -> Result<(Child, String)> {
    let mut child = Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("CALLGUARD_API_TOKEN", TOKEN)
        .env("CALLGUARD_PHONE_KEY", PHONE_KEY)
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start callguard serve")?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_string();
    if addr.is_empty() {
        let _ = child.kill();
        let _ = child.wait();
        return Err(anyhow!("callguard serve {extra:?} did not start: {line:?}"));
    }
    Ok((child, addr))
}

pub fn run(root: &Path, bin: &Path) -> Result<Vec<(String, Outcome)>> {
    let (mut child, addr) = serve(root, bin)?;
    let result = (|| -> Result<Vec<(String, Outcome)>> {
        let (call, utterance) = workloads(root)?;
        // Warm-up: the first requests compile nothing, but fill the pool's slots.
        load(
            &addr,
            "/v1/score",
            fixed(call.as_bytes()),
            2,
            200,
            Duration::from_secs(5),
        )?;
        let mut rows = Vec::new();
        for (name, path, body) in [
            ("/v1/score (40-turn call)", "/v1/score", call.as_bytes()),
            (
                "/v1/check (short utterance)",
                "/v1/check",
                utterance.as_bytes(),
            ),
        ] {
            let o = load(
                &addr,
                path,
                fixed(body),
                CONNECTIONS,
                PER_CONNECTION,
                Duration::from_secs(SECONDS),
            )?;
            rows.push((name.to_string(), o));
        }
        Ok(rows)
    })();
    let _ = child.kill();
    let _ = child.wait();
    let mut rows = result?;
    let sqlite_dir = std::env::temp_dir().join(format!("callguard-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    std::fs::create_dir_all(&sqlite_dir)?;
    let sqlite = format!("sqlite:{}", sqlite_dir.join("ledger.db").display());
    let on_sqlite = reserve_load(root, bin, &sqlite);
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    rows.push(("/v1/gate:reserve (ledger in SQLite)".into(), on_sqlite?));
    let pg = testkit::Postgres::start("load").map_err(|e| anyhow!(e))?;
    rows.push((
        "/v1/gate:reserve (ledger in PostgreSQL)".into(),
        reserve_load(root, bin, &pg.url)?,
    ));
    Ok(rows)
}

/// A dialer's reservations on a server with the ledger in `db`: every debtor is asked four
/// times (three reservations fit the daily limit of connected calls, the fourth is refused),
/// each decision read from and written to the store in one transaction.
fn reserve_load(root: &Path, bin: &Path, db: &str) -> Result<Outcome> {
    // The workload replays one fixed time of day, so the reservation clock check is off.
    let (mut child, addr) = serve_with(root, bin, &["--db", db, "--reserve-max-skew-secs", "0"])?;
    let bodies: Bodies = Arc::new(|thread, i| {
        serde_json::json!({
            "debtor_id": format!("L{thread}-{}", i / 4),
            "at": "2026-06-15T10:00:00+08:00",
            "debtor_utc_offsets": ["+08:00"],
            "phone": format!("1380013{thread:02}{:02}", i / 4 % 100),
            "dpd": 10,
        })
        .to_string()
        .into_bytes()
    });
    let outcome = load(
        &addr,
        "/v1/gate:reserve",
        bodies,
        CONNECTIONS,
        PER_CONNECTION,
        Duration::from_secs(SECONDS),
    );
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// The outcome rows as a Markdown table.
pub fn table(rows: &[(String, Outcome)]) -> String {
    let mut out = String::from(
        "| endpoint | requests | errors | requests/s | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for (name, o) in rows {
        out.push_str(&format!(
            "| {name} | {} | {} | {:.0} | {:.2} | {:.2} |\n",
            o.requests,
            o.errors,
            o.requests as f64 / o.seconds,
            o.p50_ms,
            o.p99_ms
        ));
    }
    out
}
