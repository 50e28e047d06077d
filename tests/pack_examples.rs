//! The generated example test: every rule of every embedded pack has `bad` lines that must be
//! flagged by that rule and `allows` lines that no rule of its category may flag — in
//! Simplified and in Traditional Chinese.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test by panicking; test JSON is indexed directly"
)]

use callguard::engine::{self_test_examples, self_test_rule};
use callguard::Engine;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::with_embedded_packs()
            .unwrap_or_else(|p| panic!("embedded packs fail to load: {p:#?}"))
    })
}

/// One generated test per rule: its `bad` lines are flagged, its `allows` lines are not.
fn check_rule(pack: &str, rule: &str) {
    let compiled = engine().get(pack).unwrap_or_else(|e| panic!("{e}"));
    let rule = compiled
        .pack
        .rules
        .iter()
        .find(|r| r.id == rule)
        .unwrap_or_else(|| panic!("pack `{pack}` has no rule `{rule}`"));
    let problems: Vec<String> = self_test_rule(compiled, rule)
        .into_iter()
        .map(|p| p.message)
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

include!(concat!(env!("OUT_DIR"), "/rule_tests.rs"));

#[test]
fn every_rule_example_of_every_embedded_pack_holds() {
    let engine = match Engine::with_embedded_packs() {
        Ok(e) => e,
        Err(problems) => panic!("embedded packs fail to load: {problems:#?}"),
    };
    let mut failures = Vec::new();
    let mut examples = 0;
    for id in engine.pack_ids() {
        let compiled = engine.get(&id).unwrap_or_else(|e| panic!("{e}"));
        for rule in &compiled.pack.rules {
            examples += rule.bad.len() + rule.allows.len();
        }
        failures.extend(
            self_test_examples(compiled)
                .into_iter()
                .map(|p| format!("[{id}] {}", p.message)),
        );
    }
    assert!(examples > 100, "only {examples} examples ran");
    assert!(
        failures.is_empty(),
        "{} example(s) fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_traditional_examples_and_cites_sources() {
    let engine = Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let mut missing = Vec::new();
    for pack in engine.packs() {
        for rule in &pack.rules {
            let traditional = |lines: &[String]| lines.iter().any(|l| fast2s::convert(l) != *l);
            if !traditional(&rule.bad) {
                missing.push(format!("{}: no Traditional `bad` example", rule.id));
            }
            if !traditional(&rule.allows) {
                missing.push(format!("{}: no Traditional `allows` example", rule.id));
            }
            let simplified = |lines: &[String]| lines.iter().any(|l| fast2s::convert(l) == *l);
            if !simplified(&rule.bad) || !simplified(&rule.allows) {
                missing.push(format!(
                    "{}: needs Simplified `bad` and `allows` examples",
                    rule.id
                ));
            }
            if rule.sources.is_empty() {
                missing.push(format!("{}: cites no source", rule.id));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
