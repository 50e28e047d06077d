//! The `callguard` binary against the real core module: the command-line contract, the same
//! answers as the native engine, and clear errors for bad input.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking; test JSON is indexed directly"
)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_callguard"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run callguard: {e}"))
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).unwrap_or_else(|e| panic!("{e}"));
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {text}"))
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn assert_bad_input(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(needle),
        "stderr should mention `{needle}`: {stderr}"
    );
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one-line reason expected: {stderr}"
    );
}

#[test]
fn the_core_module_imports_nothing() {
    let path = root().join("target/core-wasm/wasm32-unknown-unknown/release/callguard.wasm");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let imports: Vec<String> = module
        .imports()
        .map(|i| format!("{}::{}", i.module(), i.name()))
        .collect();
    assert!(imports.is_empty(), "the core module imports {imports:?}");
    let exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
    for name in [
        "memory",
        "callguard_abi_major",
        "callguard_abi_minor",
        "callguard_alloc",
        "callguard_free",
        "callguard_check",
        "callguard_score",
        "callguard_gate",
        "callguard_packs",
        "callguard_load_pack",
    ] {
        assert!(
            exports.contains(&name),
            "missing export {name}: {exports:?}"
        );
    }
}

#[test]
fn third_party_disclosure_with_exact_spans() {
    let text = "他在我们这里的贷款已经逾期了";
    let out = run(&[
        "check",
        "--pack",
        "cn-company",
        "--party",
        "third_party",
        "--dpd",
        "10",
        text,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let answer = json(&out);
    assert_eq!(answer["pack"]["id"], "cn-company");
    assert_eq!(answer["pack"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(answer["module_sha256"].as_str().map(str::len), Some(64));
    let findings = answer["findings"].as_array().cloned().unwrap_or_default();
    assert!(!findings.is_empty());
    let utf16: Vec<u16> = text.encode_utf16().collect();
    for f in &findings {
        assert_eq!(f["category"], "third_party_disclosure");
        let (s, e) = (
            f["start"].as_u64().unwrap_or(0) as usize,
            f["end"].as_u64().unwrap_or(0) as usize,
        );
        assert_eq!(text.get(s..e), f["excerpt"].as_str());
        let (s16, e16) = (
            f["utf16_start"].as_u64().unwrap_or(0) as usize,
            f["utf16_end"].as_u64().unwrap_or(0) as usize,
        );
        assert_eq!(
            utf16.get(s16..e16).map(String::from_utf16_lossy),
            f["excerpt"].as_str().map(str::to_string)
        );
    }
    let excerpts: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["excerpt"].as_str())
        .collect();
    assert_eq!(excerpts, vec!["贷款", "逾期"]);
}

#[test]
fn spans_hold_after_emoji_and_astral_characters() {
    let text = "😀𠀀好的，你这个老 賴";
    let answer = json(&run(&["check", "--verified", text]));
    let f = &answer["findings"][0];
    assert_eq!(f["category"], "abusive_language");
    assert_eq!(f["excerpt"], "老 賴");
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let (s, e) = (
        f["utf16_start"].as_u64().unwrap_or(0) as usize,
        f["utf16_end"].as_u64().unwrap_or(0) as usize,
    );
    assert_eq!(
        String::from_utf16_lossy(utf16.get(s..e).unwrap_or(&[])),
        "老 賴"
    );
    assert_eq!(f["suggestion"], "客户");
}

#[test]
fn host_answers_match_the_native_engine_for_every_fixture() {
    let engine = callguard::Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let manifest: toml::Table = toml::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/expected.toml")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let calls = manifest
        .get("call")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(calls.len() >= 15);
    for call in calls {
        let file = call
            .get("file")
            .and_then(|f| f.as_str())
            .unwrap_or_default()
            .to_string();
        let dpd = call.get("dpd").and_then(|d| d.as_integer()).unwrap_or(0);
        let path = format!("tests/fixtures/{file}");
        let out = run(&[
            "score",
            "--pack",
            "cn-company",
            "--dpd",
            &dpd.to_string(),
            &path,
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut host = json(&out);
        let content = std::fs::read_to_string(root().join(&path)).unwrap_or_default();
        let format = callguard::transcript::Format::from_path(Path::new(&file))
            .unwrap_or_else(|| panic!("fixture `{file}` has no transcript extension"))
            .as_str();
        let native = callguard::api::score_json(
            &engine,
            &serde_json::json!({"pack": "cn-company", "content": content, "format": format, "dpd": dpd, "id": Path::new(&file).file_stem().and_then(|s| s.to_str())}).to_string(),
        );
        let native: Value = serde_json::from_str(&native).unwrap_or_else(|e| panic!("{e}"));
        if let Some(obj) = host.as_object_mut() {
            obj.remove("module_sha256");
            obj.remove("file");
        }
        assert_eq!(host, native, "{file}: host and native engine disagree");
    }
}

#[test]
fn jsonl_answers_every_line_and_flags_the_bad_one() {
    let input = concat!(
        r#"{"id":"a","text":"你这个老赖","context":{"party":"debtor","identity_verified":true}}"#,
        "\n",
        "{not json\n",
        r#"{"id":"c","text":"他的贷款逾期了","context":{"party":"third_party","dpd":10}}"#,
        "\n",
        r#"{"id":"d","text":"你好","context":{"dpd":-3}}"#,
        "\n"
    );
    let out = run_stdin(
        &["check", "--pack", "cn-company", "--jsonl", "-"],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
    let answers = lines(&out);
    assert_eq!(answers.len(), 4);
    assert_eq!(answers[0]["id"], "a");
    assert_eq!(answers[0]["findings"][0]["category"], "abusive_language");
    assert_eq!(answers[1]["type"], "failure");
    assert_eq!(answers[1]["line"], 2);
    assert!(
        answers[1]["module_sha256"].is_string(),
        "host-made failures are stamped too"
    );
    assert_eq!(answers[2]["id"], "c");
    assert_eq!(
        answers[2]["findings"][0]["category"],
        "third_party_disclosure"
    );
    assert_eq!(answers[3]["id"], "d");
    assert_eq!(answers[3]["type"], "failure");
    assert_eq!(answers[3]["line"], 4);
}

#[test]
fn score_reads_every_transcript_format() {
    let out = run(&[
        "score",
        "--dpd",
        "10",
        "tests/fixtures/01_compliant_m1.json",
        "tests/fixtures/02_abusive.txt",
        "tests/fixtures/03_threats.vtt",
        "tests/fixtures/04_impersonation.srt",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cards = lines(&out);
    assert_eq!(cards.len(), 4);
    assert_eq!(cards[0]["score"], 100);
    assert_eq!(cards[0]["auto_fail"], false);
    for card in &cards[1..] {
        assert_eq!(card["auto_fail"], true, "{card}");
    }
}

#[test]
fn gate_answers_with_next_allowed_time() {
    let contact = r#"{"at":"2026-11-22T21:30:00+08:00","debtor_utc_offsets":["+08:00"],"party":"debtor","phone":"13800000000","channel":"call","dpd":10,"history":[]}"#;
    let out = run_stdin(
        &["gate", "--pack", "cn-company", "--json", "-"],
        contact.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let answer = json(&out);
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["findings"][0]["category"], "outside_calling_window");
    assert_eq!(answer["next_allowed_at"], "2026-11-23T08:00:00+08:00");
    assert!(answer["module_sha256"].is_string());
}

#[test]
fn bad_input_gets_a_clear_one_line_error() {
    assert_bad_input(
        &run(&["check", "--dpd", "-1", "你好"]),
        "`dpd` must be 0 or more",
    );
    assert_bad_input(
        &run(&["check", "--pack", "nope", "你好"]),
        "unknown pack `nope`",
    );
    assert_bad_input(
        &run(&["check", "--party", "cousin", "你好"]),
        "unknown party `cousin`",
    );
    assert_bad_input(
        &run(&["check", "--channel", "fax", "你好"]),
        "unknown channel `fax`",
    );
    assert_bad_input(
        &run_stdin(
            &["gate", "--json", "-"],
            br#"{"at":"2026-11-22T21:30:00","party":"debtor"}"#,
        ),
        "RFC 3339",
    );
    assert_bad_input(
        &run_stdin(&["gate", "--json", "-"], b"{oops"),
        "invalid contact JSON",
    );
    assert_bad_input(
        &run_stdin(
            &["gate", "--json", "-"],
            br#"{"at":"2026-11-22T10:00:00+08:00","party":"debtor","dpd":-2}"#,
        ),
        "`dpd` must be 0 or more",
    );
    let big = "老".repeat(10 * 1024 * 1024 / 3);
    let big_file = std::env::temp_dir().join(format!("callguard-big-{}.jsonl", std::process::id()));
    std::fs::write(
        &big_file,
        format!("{{\"id\":\"big\",\"text\":\"{big}\"}}\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = run(&["check", "--jsonl", big_file.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("at most"),
        "10 MB utterance should be refused clearly"
    );
    let _ = std::fs::remove_file(&big_file);
    let bad_utf8 = std::env::temp_dir().join(format!("callguard-bad-{}.txt", std::process::id()));
    std::fs::write(&bad_utf8, b"\xff\xfe\xfa").unwrap_or_else(|e| panic!("{e}"));
    let out = run(&["score", "--dpd", "3", bad_utf8.to_str().unwrap_or_default()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid UTF-8"));
    let _ = std::fs::remove_file(&bad_utf8);
}

#[test]
fn custom_packs_load_at_run_time_with_located_errors() {
    let dir = std::env::temp_dir().join(format!("callguard-packs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let good = dir.join("good.toml");
    std::fs::copy(root().join("host/tests/data/acme.toml"), &good)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = run(&[
        "--pack-file",
        good.to_str().unwrap_or_default(),
        "check",
        "--pack",
        "acme",
        "--verified",
        "你这个欠 债户",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["findings"][0]["rule"], "acme.nickname");
    let packs = json(&run(&[
        "--pack-file",
        good.to_str().unwrap_or_default(),
        "packs",
    ]));
    let acme = packs["packs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"] == "acme")
        .cloned()
        .unwrap_or_default();
    // The looser calling window is reported and the parent's stands.
    assert!(
        acme["notices"].to_string().contains("looser_than_parent"),
        "{acme}"
    );
    assert_eq!(acme["calling"]["window"]["start_minute"], 480);
    assert_eq!(acme["calling"]["window"]["end_minute"], 1260);

    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[pack]\nid = \"x\"\nversion = 1\n").unwrap_or_else(|e| panic!("{e}"));
    assert_bad_input(
        &run(&["--pack-file", broken.to_str().unwrap_or_default(), "packs"]),
        "line 3",
    );

    let failing = dir.join("failing.toml");
    let text = std::fs::read_to_string(&good)
        .unwrap_or_default()
        .replace("bad = [\"你这个欠债户\"", "bad = [\"你好\"");
    std::fs::write(&failing, text).unwrap_or_else(|e| panic!("{e}"));
    assert_bad_input(
        &run(&["--pack-file", failing.to_str().unwrap_or_default(), "packs"]),
        "rule `acme.nickname`",
    );
    let _ = std::fs::remove_dir_all(&dir);
}
