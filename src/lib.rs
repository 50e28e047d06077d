//! callguard: debt-collection conduct rules as data, and one engine that applies them to what a
//! collector says (`check`), to whole calls (`score`) and to contact attempts (`gate`).
//!
//! The core is pure Rust with no I/O and no clock: time is always an input. Two thin adapters
//! wrap it: `abi` (a plain C-ABI for the core WebAssembly module the `callguard` host runs)
//! and `web` (wasm-bindgen, feature "web", for the browser package).

#[cfg(all(target_arch = "wasm32", not(feature = "web")))]
pub mod abi;
pub mod api;
pub mod check;
pub mod compiled;
pub mod engine;
pub mod fold;
pub mod frames;
pub mod gate;
pub mod model;
pub mod negation;
pub mod normalize;
pub mod pack;
pub mod patterns;
pub mod pii;
pub mod practice;
pub mod rewrite;
pub mod scenario;
pub mod score;
pub mod similar;
pub mod suggest;
pub mod timing;
pub mod transcript;
#[cfg(feature = "web")]
pub mod web;

pub use engine::{Engine, DEFAULT_PACK, EMBEDDED_PACKS};
pub use model::{Category, Channel, Context, Finding, Party, Problem, Severity};

/// Every wasm build allocates through talc instead of Rust's default dlmalloc: `score` in wasm
/// spent 17 % of its time in dlmalloc (node `--cpu-prof` of the core module).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
