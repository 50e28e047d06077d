//! The browser adapter (feature "web"): the engine's operations as camelCase wasm-bindgen
//! functions. It holds no logic: a call object is read through its JSON text, the engine's
//! typed operation runs, and the answer is the same success / failure envelope the ABI returns,
//! parsed into a plain JS object — so the browser, the host and native code answer identically.
//! Types for TypeScript are in `web/callguard.d.ts`, checked by `tests/web/types.ts`.

use crate::api::{self, CheckCall, GateRequest, LoadPackCall, ParseCall, ScoreCall};
use crate::engine::Engine;
use crate::model::Problem;
use crate::practice::PracticeCall;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../web/callguard.d.ts");

fn with_engine<T: Serialize>(
    f: impl FnOnce(&mut Engine) -> Result<T, Vec<Problem>>,
) -> Result<JsValue, JsError> {
    parse(&api::with_instance_engine(|engine| {
        api::envelope(f(engine))
    }))
}

/// JSON.parse of the envelope keeps the answer byte-for-byte the one the ABI gives.
fn parse(text: &str) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(text).map_err(|_| JsError::new("callguard: answer is not JSON"))
}

/// Reads a call object through its JSON text, so unknown fields (a misspelt
/// `identity_verifed`) are refused exactly as the ABI and the host refuse them; serde-wasm-bindgen
/// reads only the fields it knows and would let such typos pass silently.
fn read<T: serde::de::DeserializeOwned>(call: JsValue) -> Result<T, Vec<Problem>> {
    let text = js_sys::JSON::stringify(&call)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| {
            vec![Problem::new(
                "invalid_call",
                "invalid call: expected an object that JSON can represent",
            )
            .help("see the TypeScript types in callguard.d.ts")]
        })?;
    api::parse_call(&text)
}

/// Builds the engine now (it is otherwise built on the first call) and runs every rule's
/// examples once, so the first keystroke is not the one that pays for it.
#[wasm_bindgen(js_name = selfTest, unchecked_return_type = "Answer<SelfTestAnswer>")]
pub fn self_test() -> Result<JsValue, JsError> {
    parse(&api::with_instance_engine(|engine| {
        api::self_test_json(engine)
    }))
}

#[wasm_bindgen(js_name = checkUtterance, unchecked_return_type = "Answer<CheckAnswer>")]
pub fn check_utterance(
    #[wasm_bindgen(unchecked_param_type = "CheckCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    let call = read::<CheckCall>(call);
    with_engine(|e| call.and_then(|c| e.check_call(&c).map_err(|p| vec![p])))
}

#[wasm_bindgen(js_name = scoreTranscript, unchecked_return_type = "Answer<ScoreAnswer>")]
pub fn score_transcript(
    #[wasm_bindgen(unchecked_param_type = "ScoreCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    let call = read::<ScoreCall>(call);
    with_engine(|e| call.and_then(|c| e.score_call(&c).map_err(|p| vec![p])))
}

/// Reads a transcript file's text (json, text, vtt, srt) into turns, as `scoreTranscript` does.
#[wasm_bindgen(js_name = parseTranscript, unchecked_return_type = "Answer<ParseAnswer>")]
pub fn parse_transcript(
    #[wasm_bindgen(unchecked_param_type = "ParseCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    let call = read::<ParseCall>(call);
    with_engine(|e| call.and_then(|c| e.parse_call(&c).map_err(|p| vec![p])))
}

#[wasm_bindgen(js_name = gateContact, unchecked_return_type = "Answer<GateAnswer>")]
pub fn gate_contact(
    #[wasm_bindgen(unchecked_param_type = "GateCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    let call = read::<GateRequest>(call);
    with_engine(|e| call.and_then(|c| e.gate_call(&c).map_err(|p| vec![p])))
}

#[wasm_bindgen(js_name = packs, unchecked_return_type = "Answer<PacksAnswer>")]
pub fn packs() -> Result<JsValue, JsError> {
    with_engine(|e| Ok(e.packs_answer()))
}

/// Loads a custom pack from TOML text; every `bad` / `allows` example must pass first.
#[wasm_bindgen(js_name = loadPack, unchecked_return_type = "Answer<LoadPackAnswer>")]
pub fn load_pack(toml: String) -> Result<JsValue, JsError> {
    with_engine(|e| e.load_pack_call(&LoadPackCall { toml }))
}

#[wasm_bindgen(js_name = scenarios, unchecked_return_type = "Answer<ScenariosAnswer>")]
pub fn scenarios() -> Result<JsValue, JsError> {
    with_engine(|e| Ok(e.scenarios_answer()))
}

#[wasm_bindgen(js_name = practice, unchecked_return_type = "Answer<PracticeAnswer>")]
pub fn practice(
    #[wasm_bindgen(unchecked_param_type = "PracticeCall")] call: JsValue,
) -> Result<JsValue, JsError> {
    let call = read::<PracticeCall>(call);
    with_engine(|e| call.and_then(|c| e.practice_call(&c).map_err(|p| vec![p])))
}
