//! The browser package's functions, run by wasm-bindgen-test under node and in headless Chrome
//! (`wasm-pack test --node` / `--headless --chrome`, with `--features web --test web`).
//! Answers are plain JS objects; spans index a JS string (UTF-16) after emoji and astral CJK.
#![cfg(all(target_arch = "wasm32", feature = "web"))]
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "tests fail by panicking"
)]

use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn call(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn string(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn check_answers_with_utf16_spans_after_emoji_and_astral_characters() {
    let text = "😀𠀀🇨🇳你这个老赖";
    let answer = callguard::web::check_utterance(call(&format!(
        r#"{{"text":"{text}","context":{{"identity_verified":true,"dpd":40}}}}"#
    )))
    .unwrap();
    assert_eq!(string(&answer, "type"), "success");
    let findings = Array::from(&get(&answer, "findings"));
    assert_eq!(findings.length(), 1);
    let f = findings.get(0);
    let js_text = js_sys::JsString::from(text);
    let start = get(&f, "utf16_start").as_f64().unwrap() as u32;
    let end = get(&f, "utf16_end").as_f64().unwrap() as u32;
    assert_eq!(String::from(js_text.slice(start, end)), "老赖");
    assert_eq!(string(&f, "category"), "abusive_language");
}

#[wasm_bindgen_test]
fn a_wrong_call_is_a_failure_answer_not_an_exception() {
    let answer = callguard::web::check_utterance(call(r#"{"text":"x","txt":"x"}"#)).unwrap();
    assert_eq!(string(&answer, "type"), "failure");
    let errors = Array::from(&get(&answer, "errors"));
    assert!(string(&errors.get(0), "message").contains("txt"));
    let answer =
        callguard::web::check_utterance(call(r#"{"text":"x","context":{"dpd":-2}}"#)).unwrap();
    assert!(string(&Array::from(&get(&answer, "errors")).get(0), "message").contains("`-2`"));
}

#[wasm_bindgen_test]
fn score_gate_packs_and_custom_packs() {
    let score = callguard::web::score_transcript(call(
        r#"{"content":"坐席：你这个老赖，赶紧还钱\n客户：你骂人？","format":"text","dpd":40}"#,
    ))
    .unwrap();
    assert_eq!(string(&score, "type"), "success");
    assert!(get(&score, "score").as_f64().unwrap() < 100.0);

    let gate = callguard::web::gate_contact(call(
        r#"{"contact":{"at":"2026-11-22T22:30:00+08:00","debtor_utc_offsets":["+08:00"],"dpd":10}}"#,
    ))
    .unwrap();
    assert_eq!(get(&gate, "allowed").as_bool(), Some(false));
    assert_eq!(
        string(&gate, "next_allowed_at"),
        "2026-11-23T08:00:00+08:00"
    );

    let packs = callguard::web::packs().unwrap();
    assert_eq!(string(&packs, "default"), "cn-company");

    let broken = callguard::web::load_pack("[pack]\nid = 3".into()).unwrap();
    assert_eq!(string(&broken, "type"), "failure");
}

#[wasm_bindgen_test]
fn scenarios_and_practice() {
    let list = callguard::web::scenarios().unwrap();
    let scenarios = Array::from(&get(&list, "scenarios"));
    assert!(scenarios.length() >= 6);
    let p = callguard::web::practice(call(
        r#"{"scenario":"roommate","replies":["请问周斌在吗？","他的贷款逾期了"]}"#,
    ))
    .unwrap();
    assert_eq!(string(&p, "type"), "success");
    assert_eq!(get(&p, "finished").as_bool(), Some(false));
    let findings = Array::from(&get(&p, "findings"));
    assert_eq!(
        string(&findings.get(0), "category"),
        "third_party_disclosure"
    );
}
