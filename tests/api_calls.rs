//! The JSON-string operations the ABI exports, called natively: envelopes, context validation,
//! stages, and pack errors with their location.

#![allow(clippy::indexing_slicing, reason = "test JSON is indexed directly")]

use callguard::api::{check_json, load_pack_json, score_json};
use callguard::Engine;
use serde_json::Value;

fn engine() -> Engine {
    Engine::with_embedded_packs().unwrap_or_default()
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

#[test]
fn a_stage_stands_in_for_the_dpd() {
    let e = engine();
    let a = parse(&check_json(
        &e,
        r#"{"text":"你好","context":{"stage":"M1-3","party":"third_party"}}"#,
    ));
    assert_eq!(a["type"], "success");
    assert_eq!(a["stage"]["dpd"], 18);
    assert_eq!(a["stage"]["stage"], "M1-3");
    let a = parse(&check_json(
        &e,
        r#"{"text":"你好","context":{"stage":"M9"}}"#,
    ));
    assert_eq!(a["type"], "failure");
    assert!(a["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("unknown stage `M9`"));
    assert!(a["errors"][0]["help"]
        .as_str()
        .unwrap_or("")
        .contains("M1-1"));
}

#[test]
fn malformed_calls_are_failures_with_a_location() {
    let e = engine();
    let a = parse(&check_json(&e, "{\"text\": 5"));
    assert_eq!(a["type"], "failure");
    assert_eq!(a["errors"][0]["code"], "invalid_json");
    assert!(a["errors"][0]["location"]["line"].is_number());
    let a = parse(&check_json(
        &e,
        r#"{"text":"hi","context":{"party":"boss"}}"#,
    ));
    assert!(a["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("unknown party `boss`"));
    let a = parse(&score_json(
        &e,
        r#"{"content":"WEBVTT\n\n00:01 --> 00:02\n无人说话\n","format":"vtt"}"#,
    ));
    assert_eq!(a["type"], "failure");
    assert!(a["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("no speaker"));
}

#[test]
fn a_broken_pack_reports_line_column_and_rule() {
    let mut e = engine();
    let toml = "[pack]\nid = \"bad\"\nversion = \"1\"\ntitle = \"t\"\njurisdiction = \"CN\"\ndefault_utc_offset = \"+08:00\"\n\n[[sources]]\nid = \"doc\"\ntitle = \"d\"\n\n[[rules]]\nid = \"bad.rule\"\ncategory = \"rudeness\"\nseverity = \"error\"\nmessage = \"m\"\nphrases = [\"x\"]\nsources = [\"doc 1\"]\nbad = [\"x\"]\nallows = [\"y\"]\n";
    let a = parse(&load_pack_json(
        &mut e,
        &serde_json::json!({ "toml": toml }).to_string(),
    ));
    assert_eq!(a["type"], "failure");
    let err = &a["errors"][0];
    assert!(err["message"]
        .as_str()
        .unwrap_or("")
        .contains("unknown category `rudeness`"));
    assert_eq!(err["location"]["line"], 14);
    assert_eq!(err["location"]["rule"], "bad.rule");
    assert!(err["location"]["column"].is_number());
}

#[test]
fn a_third_party_at_a_no_contact_stage_gets_a_notice_that_changes_with_the_dpd() {
    let engine = callguard::Engine::with_embedded_packs().unwrap_or_else(|p| panic!("{p:?}"));
    let at = |dpd: u32| -> serde_json::Value {
        let answer = callguard::api::check_json(
            &engine,
            &serde_json::json!({"text": "麻烦您转告他回个电话", "context": {"dpd": dpd, "party": "third_party"}}).to_string(),
        );
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}"))
    };
    let early = at(3);
    assert_eq!(
        early["findings"][0]["rule"], "stage.third_party_contact",
        "{early}"
    );
    assert_eq!(early["findings"][0]["severity"], "info");
    assert!(!early["findings"][0]["sources"]
        .as_array()
        .is_none_or(|s| s.is_empty()));
    assert_eq!(
        at(20)["findings"].as_array().map(Vec::len),
        Some(0),
        "M1-3 allows a message"
    );
}

#[test]
fn the_stage_table_shows_the_policy_in_force_and_whose_it_is() {
    let e = engine();
    let a = parse(&callguard::api::packs_json(&e));
    let company = a["packs"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == "cn-company"))
        .cloned()
        .unwrap_or(Value::Null);
    let stage = |id: &str| {
        company["stages"]
            .as_array()
            .and_then(|ss| ss.iter().find(|s| s["id"] == id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    // M1-3: the company's own wording is looser; the national baseline's policy is in force.
    let late = stage("M1-3");
    assert_eq!(
        late["third_party_contact"],
        "if_unreachable_or_broken_promise"
    );
    assert_eq!(late["third_party_in_force"], "if_unreachable");
    assert_eq!(late["in_force_pack"], "cn-national");
    assert!(late["in_force_sources"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));
    // M1-1: the company is stricter than the baseline, so its own policy is the one in force.
    let early = stage("M1-1");
    assert_eq!(early["third_party_contact"], "never");
    assert_eq!(early["third_party_in_force"], "never");
    assert!(early.get("in_force_pack").is_none());
}
