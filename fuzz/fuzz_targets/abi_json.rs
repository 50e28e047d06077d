//! Arbitrary bytes into every JSON entry point the core module's ABI exports.
#![no_main]

use callguard::api;
use callguard::Engine;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::with_embedded_packs().unwrap_or_default())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let e = engine();
    for answer in [api::check_json(e, text), api::score_json(e, text), api::gate_json(e, text)] {
        assert!(answer.starts_with("{\"type\":\"success\"") || answer.starts_with("{\"type\":\"failure\""));
    }
    let mut e = e.clone();
    let _ = api::load_pack_json(&mut e, text);
});
