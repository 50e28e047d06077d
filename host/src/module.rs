//! The core policy module under wasmtime: compiled once, checked (ABI version, no imports),
//! each export wrapped in one typed function, CPU bounded by fuel and memory by a store limit.

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use wasmtime::{
    Config, Engine, Instance, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc,
};

/// The ABI major version this host speaks (ABI.md).
pub const ABI_MAJOR: u32 = 1;

/// The module built into this binary.
pub static EMBEDDED_MODULE: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/callguard_core.wasm"));

/// Limits for one instance.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Fuel per call (about one unit per WebAssembly instruction).
    pub fuel_per_call: u64,
    /// Linear-memory cap per instance, in bytes.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_call: 20_000_000_000,
            memory_bytes: 512 * 1024 * 1024,
        }
    }
}

/// A compiled, verified core module.
pub struct PolicyModule {
    engine: Engine,
    module: Module,
    pub sha256: String,
    pub abi_minor: u32,
    limits: Limits,
}

/// The operations the module exports, each taking JSON and answering JSON.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Check,
    Score,
    Gate,
    Packs,
    LoadPack,
}

impl Op {
    fn export(self) -> &'static str {
        match self {
            Op::Check => "callguard_check",
            Op::Score => "callguard_score",
            Op::Gate => "callguard_gate",
            Op::Packs => "callguard_packs",
            Op::LoadPack => "callguard_load_pack",
        }
    }
}

/// An exported entry point: `(input ptr, input len) -> (answer ptr << 32 | answer len)`.
type JsonEntry = TypedFunc<(u32, u32), u64>;

/// One live instance. Custom packs loaded into it stay for its lifetime.
pub struct Session {
    store: Store<StoreLimits>,
    instance: Instance,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    ops: Vec<(&'static str, JsonEntry)>,
    memory: wasmtime::Memory,
    fuel_per_call: u64,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PolicyModule {
    pub fn new(bytes: &[u8], limits: Limits) -> Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).map_err(|e| anyhow!("cannot start wasmtime: {e}"))?;
        let sha256 = sha256_hex(bytes);
        let module = compile_cached(&engine, bytes, &sha256)?;
        let imports: Vec<String> = module
            .imports()
            .map(|i| format!("{}::{}", i.module(), i.name()))
            .collect();
        if !imports.is_empty() {
            bail!(
                "the policy module must import nothing, but it imports: {}",
                imports.join(", ")
            );
        }
        let mut pm = PolicyModule {
            engine,
            module,
            sha256,
            abi_minor: 0,
            limits,
        };
        let mut session = pm.session()?;
        let major = session.abi_version("callguard_abi_major")?;
        if major != ABI_MAJOR {
            bail!("the policy module speaks ABI major version {major}, but this host speaks {ABI_MAJOR}; use a matching callguard binary");
        }
        pm.abi_minor = session.abi_version("callguard_abi_minor")?;
        Ok(pm)
    }

    /// A fresh instance with its own memory.
    pub fn session(&self) -> Result<Session> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .instances(1)
            .build();
        let mut store = Store::new(&self.engine, limits);
        store.limiter(|l| l);
        store
            .set_fuel(self.limits.fuel_per_call)
            .map_err(|e| anyhow!("{e}"))?;
        let linker: Linker<StoreLimits> = Linker::new(&self.engine);
        let instance: Instance = linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| anyhow!("cannot instantiate the policy module: {e}"))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| anyhow!("the policy module exports no `memory`"))?;
        let alloc = instance
            .get_typed_func::<u32, u32>(&mut store, "callguard_alloc")
            .map_err(|e| anyhow!("missing export `callguard_alloc`: {e}"))?;
        let free = instance
            .get_typed_func::<(u32, u32), ()>(&mut store, "callguard_free")
            .map_err(|e| anyhow!("missing export `callguard_free`: {e}"))?;
        let mut ops = Vec::new();
        for op in [Op::Check, Op::Score, Op::Gate, Op::Packs, Op::LoadPack] {
            let f = instance
                .get_typed_func::<(u32, u32), u64>(&mut store, op.export())
                .map_err(|e| anyhow!("missing export `{}`: {e}", op.export()))?;
            ops.push((op.export(), f));
        }
        Ok(Session {
            store,
            instance,
            alloc,
            free,
            ops,
            memory,
            fuel_per_call: self.limits.fuel_per_call,
        })
    }
}

impl Session {
    fn abi_version(&mut self, name: &str) -> Result<u32> {
        let f = self
            .instance
            .get_typed_func::<(), u32>(&mut self.store, name)
            .map_err(|e| anyhow!("missing export `{name}`: {e}"))?;
        f.call(&mut self.store, ())
            .map_err(|e| anyhow!("`{name}` trapped: {e}"))
    }

    /// Calls `op` with `input` and parses its JSON answer. A trap or exhausted fuel is an error;
    /// a failure answer is a normal `Value` with `"type":"failure"`.
    pub fn call(&mut self, op: Op, input: &str) -> Result<Value> {
        let func = self
            .ops
            .iter()
            .find(|(name, _)| *name == op.export())
            .map(|(_, f)| f.clone())
            .ok_or_else(|| anyhow!("missing export `{}`", op.export()))?;
        self.store
            .set_fuel(self.fuel_per_call)
            .map_err(|e| anyhow!("{e}"))?;
        let len = u32::try_from(input.len())
            .map_err(|_| anyhow!("input of {} bytes is too large", input.len()))?;
        let ptr = self
            .alloc
            .call(&mut self.store, len)
            .map_err(|e| trap_message("allocating input", e))?;
        self.memory
            .write(&mut self.store, ptr as usize, input.as_bytes())
            .map_err(|e| anyhow!("cannot write input into module memory: {e}"))?;
        let packed = func
            .call(&mut self.store, (ptr, len))
            .map_err(|e| trap_message(op.export(), e));
        self.free
            .call(&mut self.store, (ptr, len))
            .map_err(|e| trap_message("freeing input", e))?;
        let packed = packed?;
        let (out_ptr, out_len) = ((packed >> 32) as u32, (packed & 0xffff_ffff) as u32);
        let mut out = vec![0u8; out_len as usize];
        self.memory
            .read(&self.store, out_ptr as usize, &mut out)
            .map_err(|e| anyhow!("the module answered out of bounds: {e}"))?;
        self.free
            .call(&mut self.store, (out_ptr, out_len))
            .map_err(|e| trap_message("freeing answer", e))?;
        serde_json::from_slice(&out).context("the module's answer is not JSON")
    }
}

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

/// Compiling the module takes seconds; loading a compiled one takes milliseconds. The cache key
/// is the module's sha256 and this wasmtime's compatibility hash, so a different module or
/// engine never loads a stale artifact. Any cache problem falls back to compiling.
fn compile_cached(engine: &Engine, bytes: &[u8], sha256: &str) -> Result<Module> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let key = format!("{sha256}-{:016x}.cwasm", hasher.finish());
    let path = cache_dir().map(|d| d.join(key));
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
        if let Some(dir) = path.parent() {
            let tmp = dir.join(format!(".{}.tmp", std::process::id()));
            let written = std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(&tmp, &serialized))
                .and_then(|_| std::fs::rename(&tmp, &path));
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
    Ok(module)
}

fn trap_message(what: &str, e: wasmtime::Error) -> anyhow::Error {
    let text = format!("{e:?}");
    if text.contains("fuel") {
        anyhow!("the policy module ran out of its CPU budget in `{what}`; raise --fuel or send smaller input")
    } else {
        anyhow!("the policy module trapped in `{what}`: {e}")
    }
}
