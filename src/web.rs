//! The browser adapter (feature "web"): the engine's operations as camelCase wasm-bindgen
//! functions. It holds no logic: a call object is turned into its JSON text, the same
//! `api::*_json` operation the C-ABI exports runs on it, and the answer envelope is parsed into a
//! plain JS object — so the browser, the host and native code answer identically. Reading calls
//! through JSON also refuses unknown fields (a misspelt `identity_verifed`) exactly as the host
//! does; serde-wasm-bindgen reads only the fields it knows and would let such typos pass.
//! Types for TypeScript are in `web/callguard.d.ts`, checked by `tests/web/types.ts`.

use crate::api::{self, LoadPackCall};
use crate::engine::Engine;
use crate::model::Problem;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../web/callguard.d.ts");

/// JSON.parse of the envelope keeps the answer byte-for-byte the one the ABI gives.
fn parse(text: &str) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(text).map_err(|_| JsError::new("callguard: answer is not JSON"))
}

/// Runs `op` (one of `api`'s JSON operations) on this instance's engine with `call` as JSON.
fn call_json(call: JsValue, op: fn(&Engine, &str) -> String) -> Result<JsValue, JsError> {
    match js_sys::JSON::stringify(&call)
        .ok()
        .and_then(|s| s.as_string())
    {
        Some(json) => parse(&api::with_instance_engine(|engine| op(engine, &json))),
        None => parse(&api::envelope::<()>(Err(vec![Problem::new(
            "invalid_call",
            "invalid call: expected an object that JSON can represent",
        )
        .help("see the TypeScript types in callguard.d.ts")]))),
    }
}

/// Runs an operation that takes no call.
fn answer(op: fn(&Engine) -> String) -> Result<JsValue, JsError> {
    parse(&api::with_instance_engine(|engine| op(engine)))
}

/// Builds the engine now (it is otherwise built on the first call) and runs every rule's
/// examples once, so the first keystroke is not the one that pays for it.
#[wasm_bindgen(js_name = selfTest, unchecked_return_type = "Answer<SelfTestAnswer>")]
pub fn self_test() -> Result<JsValue, JsError> {
    answer(api::self_test_json)
}

#[wasm_bindgen(js_name = checkUtterance, unchecked_return_type = "Answer<CheckAnswer>")]
pub fn check_utterance(
    #[wasm_bindgen(unchecked_param_type = "CheckCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    call_json(call, api::check_json)
}

#[wasm_bindgen(js_name = scoreTranscript, unchecked_return_type = "Answer<ScoreAnswer>")]
pub fn score_transcript(
    #[wasm_bindgen(unchecked_param_type = "ScoreCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    call_json(call, api::score_json)
}

/// Reads a transcript file's text (json, text, vtt, srt) into turns, as `scoreTranscript` does.
#[wasm_bindgen(js_name = parseTranscript, unchecked_return_type = "Answer<ParseAnswer>")]
pub fn parse_transcript(
    #[wasm_bindgen(unchecked_param_type = "ParseCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    call_json(call, api::parse_json)
}

#[wasm_bindgen(js_name = gateContact, unchecked_return_type = "Answer<GateAnswer>")]
pub fn gate_contact(
    #[wasm_bindgen(unchecked_param_type = "GateCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    call_json(call, api::gate_json)
}

#[wasm_bindgen(js_name = packs, unchecked_return_type = "Answer<PacksAnswer>")]
pub fn packs() -> Result<JsValue, JsError> {
    answer(api::packs_json)
}

/// Loads a custom pack from TOML text; every `bad` / `allows` example must pass first.
#[wasm_bindgen(js_name = loadPack, unchecked_return_type = "Answer<LoadPackAnswer>")]
pub fn load_pack(toml: String) -> Result<JsValue, JsError> {
    parse(&api::with_instance_engine(|engine| {
        api::envelope(engine.load_pack_call(&LoadPackCall { toml }))
    }))
}

#[wasm_bindgen(js_name = scenarios, unchecked_return_type = "Answer<ScenariosAnswer>")]
pub fn scenarios() -> Result<JsValue, JsError> {
    answer(api::scenarios_json)
}

#[wasm_bindgen(js_name = practice, unchecked_return_type = "Answer<PracticeAnswer>")]
pub fn practice(
    #[wasm_bindgen(unchecked_param_type = "PracticeCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    call_json(call, api::practice_json)
}
