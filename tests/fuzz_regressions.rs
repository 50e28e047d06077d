//! Replays the fuzz seed corpus and every input a fuzz target once crashed on through the same
//! code the targets call (see fuzz/), so a fixed crash stays fixed without cargo-fuzz.

use callguard::transcript::{parse, Format};
use callguard::{api, Engine};
use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in [
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                out.push((e.path().display().to_string(), bytes));
            }
        }
    }
    out
}

#[test]
fn abi_json_inputs_answer_with_an_envelope() {
    let engine = Engine::with_embedded_packs().unwrap_or_default();
    let cases = inputs("abi_json");
    assert!(!cases.is_empty());
    for (name, bytes) in cases {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        for answer in [
            api::check_json(&engine, text),
            api::score_json(&engine, text),
            api::gate_json(&engine, text),
        ] {
            assert!(answer.starts_with("{\"type\":"), "{name}: {answer}");
        }
        let mut e = engine.clone();
        let _ = api::load_pack_json(&mut e, text);
    }
}

#[test]
fn pack_parser_inputs_never_panic() {
    let engine = Engine::with_embedded_packs().unwrap_or_default();
    let cases = inputs("pack_parser");
    assert!(!cases.is_empty());
    for (_, bytes) in cases {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let _ = callguard::pack::load(text, None);
        if let Ok(parent) = engine.get("cn-company") {
            let _ = callguard::pack::load(text, Some(&parent.pack));
        }
    }
}

#[test]
fn transcript_inputs_never_panic() {
    let cases = inputs("transcript");
    assert!(!cases.is_empty());
    for (_, bytes) in cases {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        for format in [Format::Json, Format::Text, Format::Vtt, Format::Srt] {
            let _ = parse(text, format);
        }
    }
}
