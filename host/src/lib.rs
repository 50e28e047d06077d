//! The wasmtime side of callguard as a library: the `callguard` binary and the host benchmarks
//! (`host/benches/host.rs`) load, pre-initialize and call the core module through it.

pub mod ledger;
pub mod module;
