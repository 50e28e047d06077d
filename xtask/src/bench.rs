//! `cargo xtask bench`: every benchmark in one run, then bench/REPORT.md.
//!
//! 1. Re-exports the default pack's phrase list (bench/workloads/phrases.txt) for the peers.
//! 2. callguard native (criterion, benches/engine.rs) and through the wasmtime host (criterion,
//!    host/benches/host.rs): warm instance, fresh instance per call, batch, cached module load.
//! 3. The browser package under node beside mint-filter, textlint + prh and a RegExp
//!    (bench/node/peers.mjs).
//! 4. `callguard serve` under a bounded loopback load (loadtest.rs).
//! 5. Sizes of the core module and the browser `.wasm`, raw and gzipped; the script assistant's
//!    time to first check and keystroke cost in Chromium (bench/page-timing.mjs).

use crate::{cargo, core_module, loadtest, root, run};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Median of a criterion benchmark in nanoseconds, and its throughput in bytes when it has one.
fn criterion(id: &str) -> Result<(f64, Option<f64>)> {
    let dir = root().join("target/criterion").join(id).join("new");
    let read = |name: &str| -> Result<Value> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("no criterion result at {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    };
    let median = read("estimates.json")?
        .pointer("/median/point_estimate")
        .and_then(Value::as_f64)
        .ok_or_else(|| anyhow!("criterion `{id}`: no median"))?;
    let bytes = read("benchmark.json")?
        .pointer("/throughput/Bytes")
        .and_then(Value::as_f64);
    Ok((median, bytes))
}

fn output(cmd: &mut Command) -> Result<String> {
    eprintln!("$ {cmd:?}");
    let out = cmd
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed with {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn gzip_len(path: &Path) -> Result<(u64, u64)> {
    let raw = std::fs::metadata(path)
        .with_context(|| format!("no {}", path.display()))?
        .len();
    // Counted by wc: the compressed bytes are not text.
    let counted = output(
        Command::new("sh")
            .arg("-c")
            .arg(format!("gzip -9c '{}' | wc -c", path.display())),
    )?;
    Ok((raw, counted.trim().parse().unwrap_or(0)))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let version = |p: &str, a: &str| {
        Command::new(p)
            .arg(a)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{cpu}, {cores} cores; {}; node {}; Chromium {}",
        version("rustc", "-V"),
        version("node", "--version"),
        version("/usr/bin/chromium", "--version")
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
    )
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn us(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// Runs both criterion benches, native and through the host, with `mode` after `--`:
/// `--noplot` measures, `--test` runs each benchmark once (what `cargo xtask test` does).
pub fn criterion_benches(mode: &str) -> Result<()> {
    run(cargo().args([
        "bench",
        "--locked",
        "--package",
        "callguard",
        "--bench",
        "engine",
        "--",
        mode,
    ]))?;
    run(cargo()
        .args([
            "bench",
            "--locked",
            "--package",
            "callguard-host",
            "--bench",
            "host",
            "--",
            mode,
        ])
        .env("CALLGUARD_CORE_WASM", core_module())
        .env("CALLGUARD_CACHE_DIR", root().join("target/bench-cache")))
}

pub fn bench() -> Result<()> {
    crate::build()?;
    let bin = root().join("target/release/callguard");

    // 1. The phrase list the peers get.
    let phrases = output(cargo().args([
        "run",
        "--quiet",
        "--release",
        "--locked",
        "--example",
        "export_phrases",
    ]))?;
    std::fs::write(root().join("bench/workloads/phrases.txt"), &phrases)?;

    // 2. Native and host (criterion).
    criterion_benches("--noplot")?;

    // 3. Node: the browser package and the peers.
    let peers: Value =
        serde_json::from_str(&output(Command::new("node").arg("bench/node/peers.mjs"))?)?;

    // 4. The server.
    let load = loadtest::run(&root(), &bin)?;

    // 5. Sizes and the page.
    let core = gzip_len(&core_module())?;
    let browser = gzip_len(&root().join("www/pkg/callguard_bg.wasm"))?;
    let (mut server, addr) = loadtest::serve(&root(), &bin)?;
    let base = format!("http://{addr}/");
    let page = output(Command::new("node").arg("bench/page-timing.mjs").arg(&base));
    let _ = server.kill();
    let _ = server.wait();
    let page: Value = serde_json::from_str(&page?)?;

    // Kept so that `cargo xtask bench report` can re-render without measuring again.
    let saved = serde_json::json!({
        "peers": peers,
        "load": load.iter().map(|(name, o)| serde_json::json!({
            "name": name, "requests": o.requests, "errors": o.errors,
            "seconds": o.seconds, "p50_ms": o.p50_ms, "p99_ms": o.p99_ms,
        })).collect::<Vec<_>>(),
        "core": [core.0, core.1],
        "browser": [browser.0, browser.1],
        "page": page,
    });
    std::fs::create_dir_all(root().join("target/bench"))?;
    std::fs::write(root().join("target/bench/results.json"), saved.to_string())?;
    write_report(&peers, &load, core, browser, &page)
}

fn write_report(
    peers: &Value,
    load: &[(String, loadtest::Outcome)],
    core: (u64, u64),
    browser: (u64, u64),
    page: &Value,
) -> Result<()> {
    let report = render(peers, load, core, browser, page)?;
    std::fs::write(root().join("bench/REPORT.md"), &report)?;
    println!("{report}");
    Ok(())
}

/// `cargo xtask bench report`: bench/REPORT.md again from the last run's results.
pub fn report() -> Result<()> {
    let path = root().join("target/bench/results.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no {}: run `cargo xtask bench` first", path.display()))?;
    let saved: Value = serde_json::from_str(&text)?;
    let pair = |key: &str| -> (u64, u64) {
        let v = saved.get(key);
        let at = |i: usize| {
            v.and_then(|v| v.get(i))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        (at(0), at(1))
    };
    let load: Vec<(String, loadtest::Outcome)> = saved
        .get("load")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let f = |k: &str| o.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
            let u = |k: &str| o.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
            (
                o.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                loadtest::Outcome {
                    requests: u("requests"),
                    errors: u("errors"),
                    seconds: f("seconds"),
                    p50_ms: f("p50_ms"),
                    p99_ms: f("p99_ms"),
                },
            )
        })
        .collect();
    let null = Value::Null;
    write_report(
        saved.get("peers").unwrap_or(&null),
        &load,
        pair("core"),
        pair("browser"),
        saved.get("page").unwrap_or(&null),
    )
}

fn render(
    peers: &Value,
    load: &[(String, loadtest::Outcome)],
    core: (u64, u64),
    browser: (u64, u64),
    page: &Value,
) -> Result<String> {
    let c = |id: &str| criterion(id);
    let (check_short, _) = c("native_check/short")?;
    let (check_long, _) = c("native_check/long_draft")?;
    let (score1, score_bytes) = c("native_score_growth/1")?;
    let (host_warm_short, _) = c("host_warm/check_short")?;
    let (host_warm_long, _) = c("host_warm/check_long_draft")?;
    let (host_warm_score, _) = c("host_warm/score_call_40")?;
    let (host_fresh_short, _) = c("host_fresh_instance/check_short")?;
    let (host_fresh_long, _) = c("host_fresh_instance/check_long_draft")?;
    let (host_fresh_score, _) = c("host_fresh_instance/score_call_40")?;
    let (host_batch, host_batch_bytes) = c("host_batch/warm/2000")?;
    let (native_batch, native_batch_bytes) = c("native_batch/2000")?;
    let (native_json, native_json_bytes) = c("native_batch_json/2000")?;
    let (load_ns, _) = c("host_load/cached_module")?;
    let mbps = |ns: f64, bytes: Option<f64>| bytes.unwrap_or(0.0) / (ns / 1e9) / 1e6;
    let host_mbps = mbps(host_batch, host_batch_bytes);
    let native_mbps = mbps(native_batch, native_batch_bytes);
    let native_json_mbps = mbps(native_json, native_json_bytes);

    let at = |p: String| peers.pointer(&p).cloned().unwrap_or(Value::Null);
    let node = |w: &str, tool: &str| {
        at(format!("/results/{w}/{tool}/median_ns"))
            .as_f64()
            .unwrap_or(f64::NAN)
    };
    let hits = |w: &str, tool: &str| {
        at(format!("/results/{w}/{tool}/hits"))
            .as_u64()
            .unwrap_or(0)
    };
    let node_long = node("long_draft", "callguard");
    let score_row = load.iter().find(|(n, _)| n.starts_with("/v1/score"));
    let (rps, p99, errors) = score_row.map_or((0.0, f64::NAN, 1), |(_, o)| {
        (o.requests as f64 / o.seconds, o.p99_ms, o.errors)
    });

    let mut r = String::new();
    writeln!(r, "# callguard benchmark report\n")?;
    writeln!(r, "Regenerated by `cargo xtask bench` (every number below comes from one run of it). Machine: {}.\n", machine())?;
    writeln!(r, "Workloads (committed in `bench/workloads/`): `short.txt` ({} characters), `long-draft.txt` (the 3,000-character draft), `call-40.json` (a 40-turn call, {} bytes of text), batches of 500 / 2,000 / 8,000 40-turn calls generated from the fixture calls with seed 2026 (`bench/batch.rs`), and `phrases.txt`, the {} literal phrases of the default pack for the peers.\n",
        at("/results/short/chars".into()), score_bytes.unwrap_or(0.0), at("/phrases".into()))?;

    writeln!(r, "## Budgets\n")?;
    writeln!(r, "| budget | measured | |\n| --- | --- | --- |")?;
    writeln!(
        r,
        "| native `check` of the 3,000-character draft ≤ 30 µs median | {} | {} |",
        us(check_long),
        verdict(check_long <= 30_000.0)
    )?;
    writeln!(
        r,
        "| browser package (node) ≤ 2× native on the draft | {} = {:.1}× native | {} |",
        us(node_long),
        node_long / check_long,
        verdict(node_long <= 2.0 * check_long)
    )?;
    let mint = node("long_draft", "mint-filter");
    let textlint = node("long_draft", "textlint+prh");
    writeln!(r, "| callguard (node) ≥ 2× faster than mint-filter on the draft | callguard ÷ mint-filter = {:.2} | {} |", node_long / mint, verdict(node_long * 2.0 <= mint))?;
    writeln!(r, "| callguard (node) ≥ 20× faster than textlint + prh on the draft | callguard ÷ textlint = {:.3} ({:.1}× faster) | {} |", node_long / textlint, textlint / node_long, verdict(node_long * 20.0 <= textlint))?;
    writeln!(r, "| host batch scoring ≥ 50 MB/s per core | {host_mbps:.1} MB/s (one warm instance, one thread) | {} |", verdict(host_mbps >= 50.0))?;
    writeln!(r, "| host batch ≥ half of native | host ÷ native = {:.2} (native, the same JSON call: {native_json_mbps:.1} MB/s) | {} |", host_mbps / native_json_mbps, verdict(host_mbps * 2.0 >= native_json_mbps))?;
    writeln!(r, "| `callguard serve` `/v1/score` 40-turn call ≥ 2,000 requests/s, p99 ≤ 20 ms, no errors | {rps:.0} requests/s, p99 {p99:.1} ms, {errors} errors | {} |", verdict(rps >= 2000.0 && p99 <= 20.0 && errors == 0))?;
    writeln!(
        r,
        "| browser `.wasm` ≤ 300 KB gzipped | {} KB ({} KB raw) | {} |",
        browser.1 / 1000,
        browser.0 / 1000,
        verdict(browser.1 <= 300_000)
    )?;
    writeln!(
        r,
        "| core module ≤ 250 KB gzipped | {} KB ({} KB raw) | {} |",
        core.1 / 1000,
        core.0 / 1000,
        verdict(core.1 <= 250_000)
    )?;
    writeln!(
        r,
        "| loading a cached compiled module in the host ≤ 5 ms | {} | {} |\n",
        us(load_ns),
        verdict(load_ns <= 5e6)
    )?;

    writeln!(
        r,
        "## Side by side with the peers (node {}, same text, same phrase list)\n",
        at("/node".into()).as_str().unwrap_or("?")
    )?;
    writeln!(r, "The peers only find phrases. callguard also normalizes (Traditional → Simplified, width, case, characters slipped between), maps every span back to the original text in bytes and UTF-16, applies negation, context (who is on the line, identity, stage) and per-rule exceptions, runs regex patterns and the PII detectors, and answers with messages, rewrites and sources. The hits differ for that reason: the peers count every phrase occurrence (including words such as 逾期 that are only a violation when said to a third party); callguard counts findings in context (a verified debtor, DPD 40).\n")?;
    writeln!(
        r,
        "| workload | tool | median | hits | callguard ÷ tool |\n| --- | --- | --- | --- | --- |"
    )?;
    for w in ["short", "long_draft"] {
        for tool in ["callguard", "mint-filter", "RegExp", "textlint+prh"] {
            writeln!(
                r,
                "| {w} | {tool} | {} | {} | {:.2} |",
                us(node(w, tool)),
                hits(w, tool),
                node(w, "callguard") / node(w, tool)
            )?;
        }
    }

    writeln!(r, "\n## callguard native, in the host and in the browser\n")?;
    writeln!(r, "| operation | native | host, warm instance | host, fresh instance per call | node (browser package) |\n| --- | --- | --- | --- | --- |")?;
    writeln!(
        r,
        "| check short | {} | {} | {} | {} |",
        us(check_short),
        us(host_warm_short),
        us(host_fresh_short),
        us(node("short", "callguard"))
    )?;
    writeln!(
        r,
        "| check 3,000-character draft | {} | {} | {} | {} |",
        us(check_long),
        us(host_warm_long),
        us(host_fresh_long),
        us(node_long)
    )?;
    writeln!(
        r,
        "| score 40-turn call | {} | {} | {} | |",
        us(score1),
        us(host_warm_score),
        us(host_fresh_score)
    )?;
    writeln!(
        r,
        "| score 2,000 calls, JSON in and out (`api::score_json`, what the core module exports) | {} ({native_json_mbps:.1} MB/s) | {} ({host_mbps:.1} MB/s) | | |",
        us(native_json),
        us(host_batch)
    )?;
    writeln!(
        r,
        "| score 2,000 parsed calls (`score::score` only) | {} ({native_mbps:.1} MB/s) | | | |\n",
        us(native_batch)
    )?;

    writeln!(r, "## How cost grows\n")?;
    writeln!(
        r,
        "| what | 1× | 4× | 16× | 4× ÷ 1× | 16× ÷ 4× | 16× ÷ 1× |\n| --- | --- | --- | --- | --- | --- | --- |"
    )?;
    for (label, group, sizes) in [
        (
            "check, draft repeated",
            "native_check_growth",
            ["1", "4", "16"],
        ),
        (
            "score, call's turns repeated",
            "native_score_growth",
            ["1", "4", "16"],
        ),
        (
            "batch of 500 / 2,000 / 8,000 calls",
            "native_batch",
            ["500", "2000", "8000"],
        ),
    ] {
        let [a, b, d] = sizes.map(|s| c(&format!("{group}/{s}")).map_or(f64::NAN, |x| x.0));
        writeln!(
            r,
            "| {label} | {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            us(a),
            us(b),
            us(d),
            b / a,
            d / b,
            d / a
        )?;
    }
    writeln!(
        r,
        "\nLinear growth gives 4, 4 and 16 in the last three columns.\n"
    )?;

    writeln!(r, "## The server\n")?;
    writeln!(r, "`callguard serve` (warm instances reused, see the README), {} keep-alive connections from a Rust client on loopback, at most {} s or {} requests per connection:\n", loadtest::CONNECTIONS, loadtest::SECONDS, loadtest::PER_CONNECTION)?;
    writeln!(r, "{}", loadtest::table(load))?;
    writeln!(r, "The `/v1/gate:reserve` rows run with the contact ledger (`--db`): a SQLite file in the temporary directory, or a throwaway PostgreSQL cluster on loopback (`testkit`, fsync on). The requests replay one fixed time of day (`--reserve-max-skew-secs 0`). Each request reserves for one of many debtors, and each debtor is asked four times: three reservations fit the daily limit of connected calls, the fourth is refused. Every request reads the debtor's history, runs the module's `gate`, stores the decision and, when allowed, the pending attempt, all in one transaction under the debtor's lock. On SQLite every commit waits for its fsync, and writers take turns.\n")?;

    writeln!(r, "## Size and the page\n")?;
    writeln!(r, "| artifact | raw | gzip -9 |\n| --- | --- | --- |")?;
    writeln!(
        r,
        "| core module (`target/core-wasm/…/callguard.wasm`) | {} | {} |",
        core.0, core.1
    )?;
    writeln!(
        r,
        "| browser `.wasm` (`www/pkg/callguard_bg.wasm`) | {} | {} |\n",
        browser.0, browser.1
    )?;
    writeln!(r, "Script assistant in Chromium (`bench/page-timing.mjs`): first check answer {:.0} ms after navigation; engine load {:.0} ms; check of the draft in the page {:.2} ms median; a keystroke at the end of the draft to the next frame {:.1} ms median, {:.1} ms p95.\n",
        num(page, "first_check_ms"), num(page, "engine_load_ms"), num(page, "check_median_ms"),
        num(page, "keystroke_to_frame_median_ms"), num(page, "keystroke_to_frame_p95_ms"))?;
    // The analysis of missed budgets is written by hand (profiles, before/after) and kept with
    // the report so that every regeneration carries it.
    if let Ok(why) = std::fs::read_to_string(root().join("bench/why.md")) {
        writeln!(r, "{}\n", why.trim_end())?;
    }
    writeln!(r, "## Commands\n")?;
    writeln!(r, "```\ncargo xtask bench        # all of the below, then this file\ncargo run --release --example export_phrases > bench/workloads/phrases.txt\ncargo bench -p callguard --bench engine\nCALLGUARD_CORE_WASM=target/core-wasm/wasm32-unknown-unknown/release/callguard.wasm cargo bench -p callguard-host --bench host\nnode bench/node/peers.mjs\ncargo xtask loadtest\nnode bench/page-timing.mjs http://127.0.0.1:8080/\ncargo build --release --example profile_check && perf record -g target/release/examples/profile_check 3000\n```")?;
    Ok(r)
}
