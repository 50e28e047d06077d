//! `cargo xtask <task>`: setup, build, test, demo. Every install step is idempotent.

mod loadtest;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const CORE_TARGET_DIR: &str = "target/core-wasm";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn core_module() -> PathBuf {
    root()
        .join(CORE_TARGET_DIR)
        .join(WASM_TARGET)
        .join("release")
        .join("callguard.wasm")
}

/// The release profile of the core module: small and trap-on-panic. host/build.rs sets the same
/// variables when a plain `cargo build` builds the module; keep the two in step.
fn core_profile(cmd: &mut Command) -> &mut Command {
    cmd.env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
}

/// Installs what the build needs, skipping what is already there.
fn setup() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == WASM_TARGET) =>
        {
            eprintln!("setup: {WASM_TARGET} target already installed");
        }
        Ok(_) => run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?,
        Err(e) => bail!("rustup is needed to add the {WASM_TARGET} target: {e}"),
    }
    Ok(())
}

/// The core module (its own target dir), then the host with that module embedded.
fn build() -> Result<()> {
    setup()?;
    run(core_profile(cargo().args([
        "build",
        "--release",
        "--locked",
        "--package",
        "callguard",
        "--lib",
        "--target",
        WASM_TARGET,
        "--target-dir",
        CORE_TARGET_DIR,
    ])))?;
    let module = core_module();
    run(cargo()
        .args([
            "build",
            "--release",
            "--locked",
            "--package",
            "callguard-host",
        ])
        .env("CALLGUARD_CORE_WASM", &module))?;
    let bytes = std::fs::metadata(&module).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "built {} ({bytes} bytes) and target/release/callguard",
        module.display()
    );
    Ok(())
}

fn test() -> Result<()> {
    build()?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo()
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
        .env("CALLGUARD_CORE_WASM", core_module()))?;
    run(core_profile(cargo().args([
        "clippy",
        "--package",
        "callguard",
        "--lib",
        "--target",
        WASM_TARGET,
        "--target-dir",
        CORE_TARGET_DIR,
        "--locked",
        "--",
        "-D",
        "warnings",
    ])))?;
    run(cargo()
        .args(["test", "--workspace", "--release", "--locked"])
        .env("CALLGUARD_CORE_WASM", core_module())
        .env("CALLGUARD_BIN", root().join("target/release/callguard")))?;
    Ok(())
}

/// Builds everything, checks a sample utterance, then serves the API and pages on
/// 127.0.0.1:8080 until stopped.
fn demo() -> Result<()> {
    build()?;
    let bin = root().join("target/release/callguard");
    run(Command::new(&bin).args([
        "check",
        "--pack",
        "cn-company",
        "--party",
        "third_party",
        "--dpd",
        "10",
        "--pretty",
        "他在我们这里的贷款已经逾期了",
    ]))?;
    eprintln!("demo: serving http://127.0.0.1:8080/ (Ctrl-C to stop)");
    run(Command::new(&bin).args(["serve", "--addr", "127.0.0.1:8080"]))
}

/// Fuzzes the ABI's JSON entry points, the pack parser and the transcript parsers for
/// `CALLGUARD_FUZZ_SECONDS` (default 60) each. Needs cargo-fuzz (installed here if missing);
/// RUSTC_BOOTSTRAP lets the stable compiler build with the sanitizer flags it passes.
/// Crashes land in fuzz/artifacts/; copy them to fuzz/regressions/<target>/ to keep them tested.
fn fuzz() -> Result<()> {
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        run(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let seconds = std::env::var("CALLGUARD_FUZZ_SECONDS").unwrap_or_else(|_| "60".into());
    for target in ["abi_json", "pack_parser", "transcript"] {
        let scratch = std::env::temp_dir().join(format!("callguard-fuzz-{target}"));
        std::fs::create_dir_all(&scratch)?;
        run(Command::new("cargo")
            .args(["fuzz", "run", "--fuzz-dir", "fuzz", target])
            .arg(&scratch)
            .arg(format!("fuzz/corpus/{target}"))
            .args(["--", &format!("-max_total_time={seconds}"), "-max_len=8192"])
            .env("RUSTC_BOOTSTRAP", "1"))?;
    }
    Ok(())
}

/// Builds, then puts a bounded load on `callguard serve` over loopback.
fn loadtest() -> Result<()> {
    build()?;
    loadtest::run(&root(), &root().join("target/release/callguard"))
}

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "setup" => setup(),
        "build" => build(),
        "test" => test(),
        "demo" => demo(),
        "loadtest" => loadtest(),
        "fuzz" => fuzz(),
        _ => {
            eprintln!("usage: cargo xtask <setup|build|test|demo>");
            eprintln!("  setup  install the wasm32 target (idempotent)");
            eprintln!("  build  core module, then target/release/callguard with it embedded");
            eprintln!("  test   build, fmt, clippy (native and wasm32), every test");
            eprintln!("  demo   build, check a sample utterance, serve http://127.0.0.1:8080/");
            eprintln!("  loadtest  build and load `callguard serve` on loopback (bounded)");
            eprintln!(
                "  fuzz   fuzz the ABI JSON entry points, pack parser and transcripts (bounded)"
            );
            if task.is_empty() {
                Ok(())
            } else {
                bail!("unknown task `{task}`")
            }
        }
    }
}
