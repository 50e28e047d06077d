//! The same calls through all three builds of the engine — native Rust, the core module in the
//! `callguard` host (wasmtime), and the browser package under node — give identical JSON.
//! Every fixture call is scored; utterances with emoji and astral characters before the match
//! are checked; a contact is gated; every scenario walkthrough is practised (native and node).
//!
//! Needs node and the browser package (`www/pkg`, built by `cargo xtask build`;
//! `CALLGUARD_WEB_PKG` points elsewhere).

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking; test JSON is indexed directly"
)]

mod support;

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::root;

/// Runs `program` with `input` on stdin and returns its stdout lines as JSON.
fn json_lines(mut cmd: Command, input: &str) -> Vec<Value> {
    let mut child = cmd
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success() || out.status.code() == Some(2),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON `{l}`: {e}")))
        .collect()
}

/// The browser package's answers, one per `(op, call)`.
fn node(calls: &[(&str, Value)]) -> Vec<Value> {
    let pkg = std::env::var("CALLGUARD_WEB_PKG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("www/pkg"));
    assert!(
        pkg.join("callguard_bg.wasm").exists(),
        "no browser package at {}: run `cargo xtask build`",
        pkg.display()
    );
    let input: String = calls
        .iter()
        .map(|(op, call)| json!({"op": op, "call": call}).to_string() + "\n")
        .collect();
    let mut cmd = Command::new("node");
    cmd.arg("tests/web/answer.mjs")
        .env("CALLGUARD_WEB_PKG", &pkg);
    let answers = json_lines(cmd, &input);
    assert_eq!(answers.len(), calls.len(), "node answered every call");
    answers
}

fn host(args: &[&str], input: &str) -> Vec<Value> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callguard"));
    cmd.args(args);
    let mut answers = json_lines(cmd, input);
    for a in &mut answers {
        if let Some(obj) = a.as_object_mut() {
            assert!(obj.remove("module_sha256").is_some(), "host stamps answers");
            obj.remove("file");
            obj.remove("id");
        }
    }
    answers
}

fn native(answer: String) -> Value {
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

fn fixtures() -> Vec<(String, i64)> {
    let manifest: toml::Table = toml::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/expected.toml")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    manifest["call"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["file"].as_str().unwrap_or_default().to_string(),
                c["dpd"].as_integer().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn every_fixture_scores_the_same_in_all_three() {
    let engine = callguard::Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let fixtures = fixtures();
    assert!(fixtures.len() >= 18);
    let mut calls = Vec::new();
    for (file, dpd) in &fixtures {
        let content = std::fs::read_to_string(root().join("tests/fixtures").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let format = callguard::transcript::Format::from_path(Path::new(file))
            .unwrap_or_else(|| panic!("fixture `{file}` has no transcript extension"))
            .as_str();
        calls.push((
            "score",
            json!({"pack": "cn-company", "content": content, "format": format, "dpd": dpd}),
        ));
    }
    let browser = node(&calls);
    for (((file, dpd), (_, call)), browser) in fixtures.iter().zip(&calls).zip(&browser) {
        let native = native(callguard::api::score_json(&engine, &call.to_string()));
        let path = format!("tests/fixtures/{file}");
        let dpd = dpd.to_string();
        let host = host(&["score", "--pack", "cn-company", "--dpd", &dpd, &path], "");
        let mut native_without_id = native.clone();
        if let Some(obj) = native_without_id.as_object_mut() {
            obj.remove("id");
        }
        let mut browser_without_id = browser.clone();
        if let Some(obj) = browser_without_id.as_object_mut() {
            obj.remove("id");
        }
        assert_eq!(native["type"], "success", "{file}: {native}");
        assert_eq!(
            browser, &native,
            "{file}: browser package and native disagree"
        );
        assert_eq!(
            host[0], native_without_id,
            "{file}: host and native disagree"
        );
        assert_eq!(host[0], browser_without_id);
    }
}

#[test]
fn utterances_check_the_same_with_spans_in_every_unit() {
    let engine = callguard::Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let cases = [
        (
            "😀𠀀🇨🇳他在我们这里的贷款已经逾期了",
            json!({"dpd": 10, "party": "third_party"}),
        ),
        (
            "你这个老賴，趕緊還錢！",
            json!({"dpd": 40, "identity_verified": true}),
        ),
        (
            "我们是 公 安 局 的，你 要 坐 牢",
            json!({"dpd": 95, "identity_verified": true}),
        ),
        (
            "可以给您减免全部利息，把钱转到我个人微信就行",
            json!({"dpd": 20, "identity_verified": true}),
        ),
        ("您好，请问是张伟先生本人吗？", json!({"dpd": 3})),
        (
            "身份证号110101199003074514，卡号6222020200112233445",
            json!({"identity_verified": true}),
        ),
        ("", json!({})),
        ("你好", json!({"dpd": -1})),
        ("你好", json!({"party": "boss"})),
    ];
    let mut calls = Vec::new();
    let mut jsonl = String::new();
    for (i, (text, context)) in cases.iter().enumerate() {
        calls.push((
            "check",
            json!({"pack": "cn-company", "text": text, "context": context}),
        ));
        jsonl.push_str(&json!({"id": i.to_string(), "text": text, "context": context}).to_string());
        jsonl.push('\n');
    }
    let browser = node(&calls);
    let host = host(&["check", "--pack", "cn-company", "--jsonl", "-"], &jsonl);
    assert_eq!(host.len(), cases.len());
    for (i, (((text, _), (_, call)), browser)) in cases.iter().zip(&calls).zip(&browser).enumerate()
    {
        let native = native(callguard::api::check_json(&engine, &call.to_string()));
        assert_eq!(
            browser, &native,
            "case {i}: browser package and native disagree"
        );
        let mut host = host[i].clone();
        if let Some(obj) = host.as_object_mut() {
            obj.remove("line");
        }
        assert_eq!(host, native, "case {i}: host and native disagree");
        // The UTF-16 span is what a JS string slice needs; the byte span what Rust needs.
        let units: Vec<u16> = text.encode_utf16().collect();
        for f in native["findings"].as_array().cloned().unwrap_or_default() {
            let (s, e) = (
                f["utf16_start"].as_u64().unwrap_or(0) as usize,
                f["utf16_end"].as_u64().unwrap_or(0) as usize,
            );
            let js_slice = String::from_utf16(&units[s..e]).unwrap_or_default();
            let (bs, be) = (
                f["start"].as_u64().unwrap_or(0) as usize,
                f["end"].as_u64().unwrap_or(0) as usize,
            );
            assert_eq!(
                js_slice,
                text[bs..be],
                "case {i}: UTF-16 and byte spans cover the same text"
            );
            assert_eq!(js_slice, f["excerpt"].as_str().unwrap_or_default());
        }
    }
    assert!(
        native(callguard::api::check_json(&engine, &calls[0].1.to_string()))["findings"][0]
            ["utf16_start"]
            .as_u64()
            > Some(6)
    );
}

#[test]
fn gate_and_practice_answer_the_same() {
    let engine = callguard::Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let contact = json!({"at": "2026-11-22T21:30:00+08:00", "debtor_utc_offsets": ["+08:00", "+05:00"], "party": "third_party", "phone": "13800000000", "dpd": 3, "history": [{"at": "2026-11-22T10:00:00+08:00", "outcome": "unanswered"}]});
    let mut calls = vec![
        ("gate", json!({"pack": "cn-company", "contact": contact})),
        ("packs", Value::Null),
        ("scenarios", Value::Null),
    ];
    let mut practice = Vec::new();
    for s in engine.scenarios() {
        for w in &s.walkthroughs {
            for n in [1, w.replies.len()] {
                let call = json!({"scenario": s.id, "replies": w.replies[..n]});
                practice.push(call.clone());
                calls.push(("practice", call));
            }
        }
    }
    let browser = node(&calls);
    let gate_native = native(callguard::api::gate_json(&engine, &calls[0].1.to_string()));
    assert_eq!(browser[0], gate_native);
    let gate_host = host(
        &["gate", "--pack", "cn-company", "--json", "-"],
        &contact.to_string(),
    );
    assert_eq!(gate_host[0], gate_native);
    assert_eq!(browser[1], native(callguard::api::packs_json(&engine)));
    assert_eq!(browser[2], native(callguard::api::scenarios_json(&engine)));
    assert!(practice.len() >= 24);
    for (call, browser) in practice.iter().zip(&browser[3..]) {
        let native = native(callguard::api::practice_json(&engine, &call.to_string()));
        assert_eq!(native["type"], "success", "{call}: {native}");
        assert_eq!(
            browser, &native,
            "{call}: browser package and native disagree"
        );
    }
}

/// Transcripts as QA teams receive them (tests/transcripts: a BOM and CRLF, times before the
/// labels, metadata headers, JSON with call metadata, SRT and WebVTT with a DPD header, and every
/// speech-to-text vendor's result) give the same scorecard natively, in the browser package,
/// from the CLI and from `callguard serve`.
#[test]
fn transcripts_as_they_arrive_score_the_same_everywhere() {
    let engine = callguard::Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let dir = root().join("tests/transcripts");
    let mut files: Vec<String> = Vec::new();
    for sub in ["", "asr"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if callguard::transcript::Format::from_path(&path).is_some() {
                files.push(
                    path.strip_prefix(&dir)
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    // Speech-to-text results carry no DPD; the others carry their own.
    let dpd_of = |file: &str| file.starts_with("asr/").then_some(12);
    let calls: Vec<(&str, Value)> = files
        .iter()
        .map(|file| {
            let content = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
            let format = callguard::transcript::Format::from_path(Path::new(file))
                .map(|f| f.as_str())
                .unwrap_or("json");
            ("score", json!({"pack": "cn-company", "content": content, "format": format, "dpd": dpd_of(file)}))
        })
        .collect();
    let browser = node(&calls);
    let server = support::start(&[], &[]);
    let without_id = |mut v: Value| {
        if let Some(obj) = v.as_object_mut() {
            obj.remove("id");
            obj.remove("module_sha256");
        }
        v
    };
    for ((file, (_, call)), browser) in files.iter().zip(&calls).zip(browser) {
        let native = native(callguard::api::score_json(&engine, &call.to_string()));
        assert_eq!(native["type"], "success", "{file}: {native}");
        let path = format!("tests/transcripts/{file}");
        let mut args = vec!["score", "--pack", "cn-company"];
        let dpd = dpd_of(file).map(|d| d.to_string());
        if let Some(d) = &dpd {
            args.extend(["--dpd", d]);
        }
        args.push(&path);
        let cli = host(&args, "");
        let format = call["format"].as_str().unwrap_or("json");
        let query = format!(
            "/v1/score?format={format}{}",
            dpd.as_ref()
                .map(|d| format!("&dpd={d}"))
                .unwrap_or_default()
        );
        let content_type = if format == "json" {
            "application/json"
        } else {
            "text/plain"
        };
        let served = support::request(
            &server.addr,
            "POST",
            &query,
            &[("Content-Type", content_type)],
            call["content"].as_str().unwrap_or("").as_bytes(),
        );
        assert_eq!(served.status, 200, "{file}: {}", served.body);
        let native = without_id(native);
        assert_eq!(
            without_id(browser),
            native,
            "{file}: browser package and native disagree"
        );
        assert_eq!(
            without_id(cli[0].clone()),
            native,
            "{file}: CLI and native disagree"
        );
        assert_eq!(
            without_id(served.json()),
            native,
            "{file}: server and native disagree"
        );
    }
}
