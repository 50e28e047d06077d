//! `callguard serve` on an ephemeral loopback port: every endpoint and error path, modules that
//! trap or run past their CPU budget, reloads (broken module, during load), SIGTERM with
//! requests in flight, and the masked audit log. Every loop here is bounded in count.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking; test JSON is indexed directly"
)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

mod support;

use support::{get, post_json, request, root, start, temp_dir};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn core_module() -> PathBuf {
    root().join("target/core-wasm/wasm32-unknown-unknown/release/callguard.wasm")
}

#[test]
fn every_endpoint_answers() {
    let dir = temp_dir("endpoints");
    let audit = dir.join("audit.jsonl");
    let s = start(&[], &["--audit-log", audit.to_str().unwrap_or_default()]);
    let a = &s.addr;

    let r = post_json(
        a,
        "/v1/check",
        r#"{"text":"他在我们这里的贷款已经逾期了","context":{"party":"third_party","dpd":10}}"#,
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["findings"][0]["category"], "third_party_disclosure");
    assert_eq!(v["pack"]["id"], "cn-company");
    assert_eq!(v["module_sha256"].as_str().map(str::len), Some(64));

    let r = post_json(a, "/v1/score", &fixture("10_third_party_roommate.json"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["auto_fail"], true);

    let r = request(
        a,
        "POST",
        "/v1/score?format=text&dpd=7",
        &[("Content-Type", "text/plain")],
        fixture("15_vague_promise.txt").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["score"], 88);

    let r = request(
        a,
        "POST",
        "/v1/score?format=vtt&dpd=45",
        &[("Content-Type", "text/vtt")],
        fixture("03_threats.vtt").as_bytes(),
    );
    assert_eq!(r.json()["auto_fail"], true);

    let batch = format!(
        "{}\n{{not json\n{}\n",
        fixture("01_compliant_m1.json").replace('\n', ""),
        fixture("13_minor.json").replace('\n', "")
    );
    let r = request(
        a,
        "POST",
        "/v1/score:batch",
        &[("Content-Type", "application/x-ndjson")],
        batch.as_bytes(),
    );
    assert_eq!(r.status, 200);
    let lines: Vec<Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    assert_eq!(lines.len(), 3, "{}", r.body);
    assert_eq!(lines[0]["score"], 100);
    assert_eq!(lines[1]["type"], "failure");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[2]["id"], "13_minor");

    let r = post_json(
        a,
        "/v1/gate",
        r#"{"at":"2026-11-22T21:30:00+08:00","debtor_utc_offsets":["+08:00"],"party":"debtor","dpd":10,"history":[]}"#,
    );
    assert_eq!(r.json()["next_allowed_at"], "2026-11-23T08:00:00+08:00");

    let packs = get(a, "/v1/packs").json();
    assert!(packs["packs"].as_array().is_some_and(|p| p.len() >= 2));
    let module = get(a, "/v1/module").json();
    assert_eq!(module["abi"]["major"], 1);
    assert_eq!(module["sha256"], v["module_sha256"]);
    assert_eq!(get(a, "/healthz").json()["status"], "ok");
    let page = get(a, "/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("callguard"));
    let metrics = get(a, "/metrics").body;
    assert!(
        metrics.contains("callguard_http_requests_total{route=\"/v1/check\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("callguard_findings_total{category=\"third_party_disclosure\"}"));

    // Errors.
    assert_eq!(post_json(a, "/v1/check", "{\"text\": ").status, 400);
    let r = request(
        a,
        "POST",
        "/v1/check",
        &[("Content-Type", "text/plain")],
        b"hi",
    );
    assert_eq!(r.status, 415);
    let r = post_json(a, "/v1/check", r#"{"pack":"nope","text":"你好"}"#);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("unknown pack `nope`"));
    let r = post_json(a, "/v1/check", r#"{"text":"你好","context":{"dpd":-1}}"#);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("`dpd` must be 0 or more"));
    let r = request(
        a,
        "POST",
        "/v1/check",
        &[("Content-Type", "application/json")],
        b"\xff\xfe",
    );
    assert_eq!(r.status, 400);
    let r = post_json(
        a,
        "/v1/gate",
        r#"{"at":"2026-11-22T21:30:00","party":"debtor"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("RFC 3339"));
    assert_eq!(
        request(a, "POST", "/v1/admin/reload", &[], b"").status,
        404,
        "admin is off without a token"
    );

    // The audit log has every answer, with numbers masked.
    let r = post_json(a, "/v1/score", &fixture("12_pii_exposure.json"));
    assert_eq!(r.json()["auto_fail"], true);
    let log = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(log.lines().count() >= 6, "{log}");
    assert!(
        !log.contains("440305199003151535") && !log.contains("13825406137"),
        "audit log leaks numbers: {log}"
    );
    assert!(log.contains("pii_exposure"));
    assert!(
        !log.contains("他在我们这里"),
        "audit log must not carry utterances verbatim"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn limits_have_clear_answers() {
    let s = start(&[], &["--max-body-kib", "4", "--max-batch-lines", "2"]);
    let big = format!("{{\"text\":\"{}\"}}", "好".repeat(4000));
    let r = post_json(&s.addr, "/v1/check", &big);
    assert_eq!(r.status, 413);
    assert_eq!(
        r.json()["errors"][0]["code"],
        "input_too_large",
        "{}",
        r.body
    );
    // Every error answer is the JSON failure envelope: an unknown route, a wrong method, a
    // query the route does not take.
    for (method, path, status, code) in [
        ("GET", "/v1/nothing-here", 404, "not_found"),
        ("GET", "/v1/check", 405, "method_not_allowed"),
        ("DELETE", "/v1/score", 405, "method_not_allowed"),
        ("POST", "/v1/score?bogus=1", 400, "invalid_request"),
    ] {
        let r = request(
            &s.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            b"{}",
        );
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        let v = r.json();
        assert_eq!(v["type"], "failure", "{method} {path}");
        assert_eq!(v["errors"][0]["code"], code, "{method} {path}: {}", r.body);
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_ascii()),
            "the message is in Chinese first: {}",
            r.body
        );
    }
    let lines = "{\"turns\":[{\"speaker\":\"agent\",\"text\":\"你好\"}]}\n".repeat(3);
    let r = request(&s.addr, "POST", "/v1/score:batch", &[], lines.as_bytes());
    let answers: Vec<Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[2]["errors"][0]["code"], "batch_too_large");
}

/// A module that speaks the ABI but traps (`unreachable`) or loops forever in `check`.
fn bad_module(check_body: &str) -> Vec<u8> {
    let packs = r#"{"type":"success","default":"x","packs":[]}"#;
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  (data (i32.const 16) "{packs}")
  (func (export "callguard_abi_major") (result i32) i32.const 1)
  (func (export "callguard_abi_minor") (result i32) i32.const 0)
  (func (export "callguard_alloc") (param i32) (result i32) i32.const 1024)
  (func (export "callguard_free") (param i32 i32))
  (func $packs (param i32 i32) (result i64) i64.const {answer})
  (func (export "callguard_check") (param i32 i32) (result i64) {check_body})
  (func (export "callguard_score") (param i32 i32) (result i64) (call $packs (local.get 0) (local.get 1)))
  (func (export "callguard_gate") (param i32 i32) (result i64) (call $packs (local.get 0) (local.get 1)))
  (func (export "callguard_load_pack") (param i32 i32) (result i64) (call $packs (local.get 0) (local.get 1)))
  (export "callguard_packs" (func $packs)))"#,
        packs = packs.replace('"', "\\\""),
        answer = (16u64 << 32) | packs.len() as u64,
    );
    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_trapping_or_runaway_module_fails_one_request_and_the_server_keeps_serving() {
    let dir = temp_dir("bad-modules");
    let trap = dir.join("trap.wasm");
    std::fs::write(&trap, bad_module("unreachable")).unwrap_or_else(|e| panic!("{e}"));
    let s = start(&["--module", trap.to_str().unwrap_or_default()], &[]);
    for _ in 0..3 {
        let r = post_json(&s.addr, "/v1/check", r#"{"text":"你好"}"#);
        assert_eq!(r.status, 500);
        assert!(r.body.contains("module_trap"), "{}", r.body);
    }
    assert_eq!(get(&s.addr, "/healthz").status, 200);
    assert!(get(&s.addr, "/metrics")
        .body
        .contains("callguard_module_traps_total 3"));
    drop(s);

    let spin = dir.join("spin.wasm");
    std::fs::write(&spin, bad_module("(loop (br 0)) i64.const 0"))
        .unwrap_or_else(|e| panic!("{e}"));
    let s = start(
        &[
            "--module",
            spin.to_str().unwrap_or_default(),
            "--fuel",
            "5000000",
        ],
        &[],
    );
    let r = post_json(&s.addr, "/v1/check", r#"{"text":"你好"}"#);
    assert_eq!(r.status, 503);
    assert!(r.body.contains("cpu_budget_exceeded"), "{}", r.body);
    assert!(r.headers.to_ascii_lowercase().contains("retry-after"));
    assert_eq!(get(&s.addr, "/healthz").status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reloads_swap_atomically_refuse_broken_modules_and_drop_no_request() {
    let dir = temp_dir("reload");
    let module = dir.join("callguard.wasm");
    std::fs::copy(core_module(), &module).unwrap_or_else(|e| panic!("{e}"));
    let s = start(
        &["--module", module.to_str().unwrap_or_default()],
        &["--admin-token", "t0ken"],
    );
    let a = s.addr.clone();
    let sha = get(&a, "/v1/module").json()["sha256"].clone();
    let reload = |token: &str| {
        request(
            &a,
            "POST",
            "/v1/admin/reload",
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        )
    };
    assert_eq!(reload("wrong").status, 401);

    // A broken module is refused and the old one keeps serving.
    std::fs::write(&module, b"\0asm garbage").unwrap_or_else(|e| panic!("{e}"));
    let r = reload("t0ken");
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("still serving the previous module"));
    assert_eq!(
        post_json(
            &a,
            "/v1/check",
            r#"{"text":"你这个老赖","context":{"identity_verified":true}}"#
        )
        .json()["module_sha256"],
        sha
    );
    std::fs::copy(core_module(), &module).unwrap_or_else(|e| panic!("{e}"));

    // Reloads while four clients send 40 requests each: every request succeeds.
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let a = a.clone();
            std::thread::spawn(move || {
                (0..40)
                    .filter(|_| {
                        post_json(
                            &a,
                            "/v1/check",
                            r#"{"text":"你必须今天还钱","context":{"identity_verified":true}}"#,
                        )
                        .status
                            != 200
                    })
                    .count()
            })
        })
        .collect();
    for _ in 0..3 {
        assert_eq!(reload("t0ken").status, 200);
    }
    let _ = Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status();
    let failed: usize = clients
        .into_iter()
        .map(|c| c.join().unwrap_or(usize::MAX))
        .sum();
    assert_eq!(failed, 0, "requests failed during reloads");
    let metrics = get(&a, "/metrics").body;
    assert!(
        metrics.contains("callguard_reloads_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_finishes_requests_in_flight() {
    let s = start(&[], &[]);
    let call = fixture("03_threats.vtt");
    let transcript = serde_json::json!({"content": call, "format": "vtt"}).to_string();
    let batch = format!("{transcript}\n").repeat(300);
    let mut stream = TcpStream::connect(&s.addr).unwrap_or_else(|e| panic!("{e}"));
    let head = format!("POST /v1/score:batch HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n", s.addr, batch.len());
    stream
        .write_all(head.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    stream
        .write_all(batch.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    // Wait until the answer has started streaming: the request is surely in flight.
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader
        .read_line(&mut status)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.contains(" 200 "), "{status}");
    let _ = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status();
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&rest);
    let scored = text.matches("\"auto_fail\":true").count();
    assert_eq!(scored, 300, "every line of the in-flight batch is answered");
    let mut s = s;
    let exit = s.child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(exit.success(), "server exits cleanly after SIGTERM: {exit}");
}

#[test]
fn timeouts_overload_and_bad_answers_get_clear_errors() {
    let dir = temp_dir("limits");
    // A long (but bounded) spin: past the 300 ms timeout, within its fuel.
    let spin = dir.join("spin.wasm");
    std::fs::write(&spin, bad_module("(loop (br 0)) i64.const 0"))
        .unwrap_or_else(|e| panic!("{e}"));
    let s = start(
        &[
            "--module",
            spin.to_str().unwrap_or_default(),
            "--fuel",
            "3000000000",
        ],
        &[
            "--timeout-ms",
            "300",
            "--concurrency",
            "1",
            "--queue-wait-ms",
            "50",
        ],
    );
    let a = s.addr.clone();
    let first = std::thread::spawn(move || post_json(&a, "/v1/check", r#"{"text":"你好"}"#));
    std::thread::sleep(Duration::from_millis(100));
    let busy = post_json(&s.addr, "/v1/check", r#"{"text":"你好"}"#);
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert!(busy.body.contains("overloaded"), "{}", busy.body);
    let first = first.join().unwrap_or_else(|_| panic!("client failed"));
    assert_eq!(first.status, 503, "{}", first.body);
    assert!(first.body.contains("timeout"), "{}", first.body);
    assert_eq!(get(&s.addr, "/healthz").status, 200);
    drop(s);

    // A module whose answer is not JSON.
    let garbage = dir.join("garbage.wasm");
    std::fs::write(&garbage, bad_module("i64.const 0x0000001000000004"))
        .unwrap_or_else(|e| panic!("{e}"));
    let s = start(&["--module", garbage.to_str().unwrap_or_default()], &[]);
    let r = post_json(&s.addr, "/v1/check", r#"{"text":"你好"}"#);
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body.contains("bad_module_answer"), "{}", r.body);
    assert_eq!(get(&s.addr, "/healthz").status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pack_directory_is_loaded_checked_and_reloaded() {
    let dir = temp_dir("packs");
    let packs = dir.join("packs");
    std::fs::create_dir_all(&packs).unwrap_or_else(|e| panic!("{e}"));
    let pack = std::fs::read_to_string(root().join("host/tests/data/acme.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let pack = pack.as_str();
    std::fs::write(packs.join("acme.toml"), pack).unwrap_or_else(|e| panic!("{e}"));
    let s = start(
        &[],
        &[
            "--pack-dir",
            packs.to_str().unwrap_or_default(),
            "--admin-token",
            "k",
        ],
    );
    let r = post_json(
        &s.addr,
        "/v1/check",
        r#"{"pack":"acme","text":"你这个欠 债户","context":{"identity_verified":true}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["findings"][0]["rule"], "acme.nickname");
    assert_eq!(get(&s.addr, "/v1/module").json()["custom_packs"], 1);
    // A pack whose example fails is refused on reload; the loaded one keeps serving.
    std::fs::write(
        packs.join("acme.toml"),
        pack.replace("bad = [\"你这个欠债户\"", "bad = [\"你好\""),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = request(
        &s.addr,
        "POST",
        "/v1/admin/reload",
        &[("Authorization", "Bearer k")],
        b"",
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("acme.nickname"), "{}", r.body);
    let r = post_json(
        &s.addr,
        "/v1/check",
        r#"{"pack":"acme","text":"你这个欠债户","context":{"identity_verified":true}}"#,
    );
    assert_eq!(r.json()["findings"][0]["rule"], "acme.nickname");
    let _ = std::fs::remove_dir_all(&dir);
}
