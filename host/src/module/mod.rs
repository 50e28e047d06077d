//! The core policy module under wasmtime: verified (ABI version, no imports), pre-initialized
//! once with wizer so every fresh instance starts with its packs compiled, compiled once (and
//! cached on disk), instantiated through `InstancePre`. Every call has a fuel budget and every
//! instance a memory cap; each export is wrapped in one typed function.

use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, PoolingAllocationConfig,
    Store, StoreLimits, StoreLimitsBuilder, TypedFunc,
};

mod snapshot;

use snapshot::{compile_cached, pre_initialize, snapshot_key};

/// The ABI major version this host speaks (ABI.md).
pub const ABI_MAJOR: u32 = 1;

/// The module built into this binary.
pub static EMBEDDED_MODULE: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/callguard_core.wasm"));

/// Limits for instances and calls.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Fuel per call (about one unit per WebAssembly instruction).
    pub fuel_per_call: u64,
    /// Linear-memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// With `Some(n)`, a pooling allocator with `n` instance slots (the server); otherwise
    /// instances are allocated on demand (the CLI).
    pub pool_slots: Option<u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_call: 20_000_000_000,
            memory_bytes: 512 * 1024 * 1024,
            pool_slots: None,
        }
    }
}

/// A compiled, verified core module, ready to instantiate.
pub struct PolicyModule {
    engine: Engine,
    pre: InstancePre<StoreLimits>,
    /// sha256 of the module bytes as given (before pre-initialization).
    pub sha256: String,
    pub abi_major: u32,
    pub abi_minor: u32,
    limits: Limits,
}

/// The operations the module exports, each taking JSON and answering JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Check,
    Score,
    Gate,
    Packs,
    LoadPack,
    SelfTest,
}

impl Op {
    const REQUIRED: [Op; 5] = [Op::Check, Op::Score, Op::Gate, Op::Packs, Op::LoadPack];

    fn export(self) -> &'static str {
        match self {
            Op::Check => "callguard_check",
            Op::Score => "callguard_score",
            Op::Gate => "callguard_gate",
            Op::Packs => "callguard_packs",
            Op::LoadPack => "callguard_load_pack",
            Op::SelfTest => "callguard_self_test",
        }
    }
}

/// An exported entry point: `(input ptr, input len) -> (answer ptr << 32 | answer len)`.
type JsonEntry = TypedFunc<(u32, u32), u64>;

/// Why a call failed without an answer.
#[derive(Debug)]
pub enum CallError {
    /// The call ran past its fuel budget.
    OutOfFuel(String),
    /// The module trapped (a bug in the module, or a memory cap hit).
    Trap(String),
    /// The host could not talk to the module (bad answer, bad pointers).
    Host(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::OutOfFuel(m) | CallError::Trap(m) | CallError::Host(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CallError {}

/// One live instance with its own memory. Custom packs loaded into it stay for its lifetime.
pub struct Session {
    store: Store<StoreLimits>,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    ops: Vec<(Op, JsonEntry)>,
    memory: wasmtime::Memory,
    fuel_per_call: u64,
    versions: Vec<(&'static str, TypedFunc<(), u32>)>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The imports and exports of a module, read without compiling it.
pub fn inspect(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>)> {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| anyhow!("not a valid WebAssembly module: {e}"))? {
            wasmparser::Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import =
                        import.map_err(|e| anyhow!("not a valid WebAssembly module: {e}"))?;
                    imports.push(format!("{}::{}", import.module, import.name));
                }
            }
            wasmparser::Payload::ExportSection(section) => {
                for export in section {
                    let export =
                        export.map_err(|e| anyhow!("not a valid WebAssembly module: {e}"))?;
                    exports.push(export.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

fn engine_for(limits: &Limits) -> Result<Engine> {
    let mut config = Config::new();
    config.consume_fuel(true);
    if let Some(slots) = limits.pool_slots {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(slots)
            .total_memories(slots)
            .total_tables(slots)
            .max_memory_size(limits.memory_bytes);
        // The default 4 GiB reservation per slot is virtual address space only, and lets compiled
        // code skip explicit bounds checks; the cap itself is `max_memory_size` and StoreLimits.
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config).map_err(|e| anyhow!("cannot start wasmtime: {e}"))
}

impl PolicyModule {
    /// Verifies, pre-initializes (with the custom `packs` loaded), compiles and links `bytes`.
    pub fn new(bytes: &[u8], limits: Limits, packs: &[String]) -> Result<Self> {
        let sha256 = sha256_hex(bytes);
        let engine = engine_for(&limits)?;
        // Check the module as given before running anything of it.
        let (imports, exports) = inspect(bytes)?;
        if !imports.is_empty() {
            bail!(
                "the policy module must import nothing, but it imports: {}",
                imports.join(", ")
            );
        }
        let has_init = exports.iter().any(|e| e == "callguard_init");
        if !has_init && !packs.is_empty() {
            bail!(
                "this policy module (before ABI 1.1) cannot be pre-initialized with custom packs"
            );
        }
        let (runnable, key) = if has_init {
            (
                pre_initialize(bytes, &sha256, packs)?,
                format!("{}-init", snapshot_key(&sha256, packs)),
            )
        } else {
            (bytes.to_vec(), sha256.clone())
        };
        let module = compile_cached(&engine, &runnable, &key)?;
        let linker: Linker<StoreLimits> = Linker::new(&engine);
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| anyhow!("cannot link the policy module: {e}"))?;
        let mut pm = PolicyModule {
            engine,
            pre,
            sha256,
            abi_major: 0,
            abi_minor: 0,
            limits,
        };
        let mut session = pm.session()?;
        let major = session.abi_version("callguard_abi_major")?;
        if major != ABI_MAJOR {
            bail!("the policy module speaks ABI major version {major}, but this host speaks {ABI_MAJOR}; use a matching callguard binary");
        }
        pm.abi_major = major;
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
        let instance = self
            .pre
            .instantiate(&mut store)
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
        for op in Op::REQUIRED {
            let f = instance
                .get_typed_func::<(u32, u32), u64>(&mut store, op.export())
                .map_err(|e| anyhow!("missing export `{}`: {e}", op.export()))?;
            ops.push((op, f));
        }
        // ABI 1.1 and later.
        if let Ok(f) = instance.get_typed_func::<(u32, u32), u64>(&mut store, Op::SelfTest.export())
        {
            ops.push((Op::SelfTest, f));
        }
        let versions = ["callguard_abi_major", "callguard_abi_minor"]
            .iter()
            .map(|name| {
                instance
                    .get_typed_func::<(), u32>(&mut store, name)
                    .map(|f| (*name, f))
                    .map_err(|e| anyhow!("missing export `{name}`: {e}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Session {
            store,
            alloc,
            free,
            ops,
            memory,
            fuel_per_call: self.limits.fuel_per_call,
            versions,
        })
    }
}

impl Session {
    fn abi_version(&mut self, name: &str) -> Result<u32> {
        let f = self
            .versions
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| anyhow!("missing export `{name}`"))?;
        f.call(&mut self.store, ())
            .map_err(|e| anyhow!("`{name}` trapped: {e}"))
    }

    /// Calls `op` with `input` and parses its JSON answer. A trap or exhausted fuel is an error;
    /// a failure answer is a normal `Value` with `"type":"failure"`.
    pub fn call(&mut self, op: Op, input: &str) -> std::result::Result<Value, CallError> {
        let func = self
            .ops
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| CallError::Host(format!("missing export `{}`", op.export())))?;
        self.store
            .set_fuel(self.fuel_per_call)
            .map_err(|e| CallError::Host(e.to_string()))?;
        let len = u32::try_from(input.len())
            .map_err(|_| CallError::Host(format!("input of {} bytes is too large", input.len())))?;
        let ptr = self
            .alloc
            .call(&mut self.store, len)
            .map_err(|e| trap("allocating input", e))?;
        self.memory
            .write(&mut self.store, ptr as usize, input.as_bytes())
            .map_err(|e| CallError::Host(format!("cannot write input into module memory: {e}")))?;
        let packed = func
            .call(&mut self.store, (ptr, len))
            .map_err(|e| trap(op.export(), e));
        // After a trap the instance is unusable; the caller drops the session.
        let packed = packed?;
        self.free
            .call(&mut self.store, (ptr, len))
            .map_err(|e| trap("freeing input", e))?;
        let (out_ptr, out_len) = ((packed >> 32) as u32, (packed & 0xffff_ffff) as u32);
        let mut out = vec![0u8; out_len as usize];
        self.memory
            .read(&self.store, out_ptr as usize, &mut out)
            .map_err(|e| CallError::Host(format!("the module answered out of bounds: {e}")))?;
        self.free
            .call(&mut self.store, (out_ptr, out_len))
            .map_err(|e| trap("freeing answer", e))?;
        serde_json::from_slice(&out)
            .map_err(|e| CallError::Host(format!("the module's answer is not JSON: {e}")))
    }
}

fn trap(what: &str, e: wasmtime::Error) -> CallError {
    let text = format!("{e:?}");
    if text.contains("fuel") {
        CallError::OutOfFuel(format!("the policy module ran out of its CPU budget in `{what}`; raise --fuel or send smaller input"))
    } else {
        CallError::Trap(format!("the policy module trapped in `{what}`: {e}"))
    }
}
