//! Every fixture call is scored and held to two standards: the hand-written expectations in
//! `tests/fixtures/expected.toml` (categories that must and must not be found, auto-fail), and
//! its golden scorecard in `tests/golden/` (regenerate with `UPDATE_GOLDEN=1 cargo test`).

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking; test JSON is indexed directly"
)]

use callguard::api::ScoreCall;
use callguard::Engine;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Deserialize)]
struct Manifest {
    call: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    file: String,
    dpd: u32,
    must: Vec<String>,
    must_not: Vec<String>,
    auto_fail: bool,
}

fn format_of(file: &str) -> &'static str {
    callguard::transcript::Format::from_path(Path::new(file))
        .unwrap_or_else(|| panic!("fixture `{file}` has no transcript extension"))
        .as_str()
}

/// The scorecard as JSON, with the pack's sha256 left out so a pack edit that changes no
/// answer leaves the goldens alone.
pub fn scorecard(engine: &Engine, dir: &Path, file: &str, dpd: u32) -> serde_json::Value {
    let content = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let call = ScoreCall {
        pack: Some("cn-company".into()),
        transcript: None,
        content: Some(content),
        format: Some(format_of(file).into()),
        dpd: Some(i64::from(dpd)),
        id: Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string),
        agent_channel: None,
    };
    let answer = engine
        .score_call(&call)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut value = serde_json::to_value(&answer).unwrap_or_else(|e| panic!("{e}"));
    if let Some(pack) = value.get_mut("pack").and_then(|p| p.as_object_mut()) {
        pack.remove("sha256");
    }
    value
}

#[test]
fn fixture_calls_meet_expectations_and_goldens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/fixtures");
    let manifest: Manifest =
        toml::from_str(&std::fs::read_to_string(dir.join("expected.toml")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("expected.toml: {e}"));
    assert!(manifest.call.len() >= 15, "need at least 15 fixture calls");
    let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for call in &manifest.call {
        let card = scorecard(&engine, &dir, &call.file, call.dpd);
        let found: BTreeSet<String> = card["findings"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| f["category"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        seen.extend(found.iter().cloned());
        for c in &call.must {
            if !found.contains(c) {
                problems.push(format!("{}: expected `{c}`, found {found:?}", call.file));
            }
        }
        for c in &call.must_not {
            if found.contains(c) {
                let at: Vec<String> = card["findings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|f| f["category"] == c.as_str())
                    .map(|f| {
                        format!(
                            "turn {} `{}` ({})",
                            f["turn"],
                            f["excerpt"].as_str().unwrap_or(""),
                            f["rule"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                problems.push(format!(
                    "{}: must not find `{c}` but did: {}",
                    call.file,
                    at.join("; ")
                ));
            }
        }
        if card["auto_fail"].as_bool() != Some(call.auto_fail) {
            problems.push(format!(
                "{}: auto_fail should be {}",
                call.file, call.auto_fail
            ));
        }
        let golden_path = root
            .join("tests/golden")
            .join(format!("{}.json", call.file));
        let rendered = serde_json::to_string_pretty(&card).unwrap_or_default() + "\n";
        if update {
            std::fs::write(&golden_path, &rendered).unwrap_or_else(|e| panic!("{e}"));
        } else {
            // Compared as JSON values: key order depends on serde_json's `preserve_order`,
            // which feature unification turns on only when the host is in the same build.
            let golden: Option<serde_json::Value> = std::fs::read_to_string(&golden_path)
                .ok()
                .and_then(|g| serde_json::from_str(&g).ok());
            match golden.ok_or(()) {
                Ok(golden) if golden == card => {}
                Ok(_) => problems.push(format!(
                    "{}: scorecard differs from {} (UPDATE_GOLDEN=1 to accept)",
                    call.file,
                    golden_path.display()
                )),
                Err(_) => problems.push(format!(
                    "{}: no golden at {}",
                    call.file,
                    golden_path.display()
                )),
            }
        }
    }
    for category in callguard::Category::ALL {
        let call_or_wording = !matches!(
            category.as_str(),
            "outside_calling_window" | "contact_frequency" | "third_party_contact" | "field_visit"
        );
        if call_or_wording && !seen.contains(category.as_str()) {
            problems.push(format!("no fixture covers category `{category}`"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
