//! Making a runnable module fast to start: pre-initializing it once with wizer (so every fresh
//! instance starts with its packs compiled) and caching both the snapshot and the compiled code
//! on disk, keyed so that a different module, pack set or engine never loads a stale artifact.

use super::sha256_hex;
use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use wasmtime::{Engine, Linker, Module, Store};

/// Where compiled modules are cached: `$CALLGUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/callguard`,
/// else `~/.cache/callguard`.
fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CALLGUARD_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("callguard"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("callguard"))
}

/// Writes `bytes` to the cache atomically; a cache that cannot be written is skipped.
fn cache_write(path: &std::path::Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            std::process::id(),
            path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ));
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, bytes))
            .and_then(|_| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Names a snapshot by the module and the custom packs in it.
pub(super) fn snapshot_key(sha256: &str, packs: &[String]) -> String {
    let packs_hash = sha256_hex(packs.join("\u{0}").as_bytes());
    format!("{sha256}-{}", packs_hash.get(..16).unwrap_or(&packs_hash))
}

/// The state of an instance as wizer reads it for a snapshot, from a plain (sync) store.
struct SnapshotSource<'a> {
    store: &'a mut Store<()>,
    instance: wasmtime::Instance,
}

impl wasmtime_wizer::InstanceState for SnapshotSource<'_> {
    async fn global_get(
        &mut self,
        name: &str,
        _type_hint: wasmparser::ValType,
    ) -> wasmtime_wizer::SnapshotVal {
        use wasmtime_wizer::SnapshotVal;
        match self
            .instance
            .get_global(&mut *self.store, name)
            .map(|g| g.get(&mut *self.store))
        {
            Some(wasmtime::Val::I64(x)) => SnapshotVal::I64(x),
            Some(wasmtime::Val::F32(x)) => SnapshotVal::F32(x),
            Some(wasmtime::Val::F64(x)) => SnapshotVal::F64(x),
            Some(wasmtime::Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
            Some(wasmtime::Val::I32(x)) => SnapshotVal::I32(x),
            // Instrumentation exports every global it asks for; anything else reads as zero.
            _ => SnapshotVal::I32(0),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut *self.store, name) {
            Some(memory) => contents(memory.data(&*self.store)),
            None => contents(&[]),
        }
    }
}

/// Calls a JSON entry point of a plain instance (used while pre-initializing).
fn call_json(
    store: &mut Store<()>,
    instance: &wasmtime::Instance,
    export: &str,
    input: &str,
) -> Result<Value> {
    let wasm = |e: wasmtime::Error| anyhow!("{e}");
    let alloc = instance
        .get_typed_func::<u32, u32>(&mut *store, "callguard_alloc")
        .map_err(wasm)?;
    let func = instance
        .get_typed_func::<(u32, u32), u64>(&mut *store, export)
        .map_err(wasm)?;
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| anyhow!("the policy module exports no `memory`"))?;
    let len = u32::try_from(input.len())?;
    let ptr = alloc.call(&mut *store, len).map_err(wasm)?;
    memory.write(&mut *store, ptr as usize, input.as_bytes())?;
    let packed = func.call(&mut *store, (ptr, len)).map_err(wasm)?;
    let (out_ptr, out_len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
    let mut out = vec![0u8; out_len];
    memory.read(&*store, out_ptr, &mut out)?;
    Ok(serde_json::from_slice(&out)?)
}

/// Runs `callguard_init` once, loads the custom `packs` (their examples must pass), and
/// snapshots the instance into a new module (wizer), so every later instance starts with every
/// pack compiled. The snapshot is cached by the sha256 of the module and the packs.
pub(super) fn pre_initialize(bytes: &[u8], sha256: &str, packs: &[String]) -> Result<Vec<u8>> {
    let path = cache_dir().map(|d| {
        d.join(format!(
            "{}-{}.init.wasm",
            snapshot_key(sha256, packs),
            env!("CARGO_PKG_VERSION")
        ))
    });
    if let Some(cached) = path.as_ref().and_then(|p| std::fs::read(p).ok()) {
        return Ok(cached);
    }
    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func("callguard_init").keep_init_func(true);
    let (cx, instrumented) = wizer
        .instrument(bytes)
        .map_err(|e| anyhow!("cannot prepare the policy module for pre-initialization: {e}"))?;
    let engine = Engine::default();
    let module = Module::new(&engine, &instrumented)
        .map_err(|e| anyhow!("not a valid WebAssembly module: {e}"))?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .map_err(|e| anyhow!("cannot instantiate the policy module: {e}"))?;
    instance
        .get_typed_func::<(), ()>(&mut store, "callguard_init")
        .and_then(|init| init.call(&mut store, ()))
        .map_err(|e| anyhow!("`callguard_init` failed: {e}"))?;
    for toml in packs {
        let answer = call_json(
            &mut store,
            &instance,
            "callguard_load_pack",
            &serde_json::json!({ "toml": toml }).to_string(),
        )?;
        if answer.get("type").and_then(Value::as_str) != Some("success") {
            let first = answer
                .pointer("/errors/0/message")
                .and_then(Value::as_str)
                .unwrap_or("failure");
            bail!("custom pack rejected: {first}");
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("cannot start a runtime for pre-initialization")?;
    let snapshot = runtime
        .block_on(wizer.snapshot(
            &cx,
            &mut SnapshotSource {
                store: &mut store,
                instance,
            },
        ))
        .map_err(|e| anyhow!("cannot snapshot the policy module: {e}"))?;
    if let Some(path) = &path {
        cache_write(path, &snapshot);
    }
    Ok(snapshot)
}

/// Compiling the module takes seconds; loading a compiled one takes milliseconds. The cache key
/// is the module's sha256 and this wasmtime's compatibility hash, so a different module or
/// engine never loads a stale artifact. Any cache problem falls back to compiling.
pub(super) fn compile_cached(engine: &Engine, bytes: &[u8], key: &str) -> Result<Module> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let path = cache_dir().map(|d| d.join(format!("{key}-{:016x}.cwasm", hasher.finish())));
    if let Some(path) = path.as_ref().filter(|p| p.is_file()) {
        // SAFETY: the file was written by `Module::serialize` of this same engine configuration
        // (the compatibility hash is in its name) into the user's private cache directory, and
        // wasmtime re-checks its header before use.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, path) } {
            return Ok(module);
        }
    }
    let module =
        Module::new(engine, bytes).map_err(|e| anyhow!("not a valid WebAssembly module: {e}"))?;
    if let (Some(path), Ok(serialized)) = (path, module.serialize()) {
        cache_write(&path, &serialized);
    }
    Ok(module)
}
