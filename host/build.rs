//! Embeds the plain core module in the `callguard` binary. `cargo xtask build` builds the module
//! first and passes it in `CALLGUARD_CORE_WASM`; a plain `cargo build` builds it here, with its
//! own target directory so the outer build's lock and artifacts are untouched.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CALLGUARD_CORE_WASM");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("callguard_core.wasm");
    let module = match env::var("CALLGUARD_CORE_WASM") {
        Ok(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={path}");
            PathBuf::from(path)
        }
        _ => build_core_module(),
    };
    if let Err(e) = std::fs::copy(&module, &out) {
        println!(
            "cargo:warning=cannot copy core module {}: {e}",
            module.display()
        );
        std::process::exit(1);
    }
}

fn build_core_module() -> PathBuf {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for watched in ["src", "policies", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = root.join("target").join("core-wasm");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--locked",
            "--package",
            "callguard",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--target-dir",
        ])
        .arg(&target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_MAKEFLAGS")
        // The core module's release profile; keep in step with `core_profile` in xtask.
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            println!(
                "cargo:warning=building the core module failed ({other:?}); run `cargo xtask setup` (it adds the wasm32-unknown-unknown target)"
            );
            std::process::exit(1);
        }
    }
    target_dir
        .join("wasm32-unknown-unknown")
        .join("release")
        .join("callguard.wasm")
}
