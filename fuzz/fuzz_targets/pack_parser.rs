//! Arbitrary TOML text as a pack, alone and layered on the default pack.
#![no_main]

use callguard::Engine;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::with_embedded_packs().unwrap_or_default())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = callguard::pack::load(text, None);
    if let Ok(parent) = engine().get("cn-company") {
        let _ = callguard::pack::load(text, Some(&parent.pack));
    }
});
