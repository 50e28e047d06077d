//! `cargo xtask <task>`: setup, build, test, demo, loadtest, fuzz. Every install step is idempotent.

mod bench;
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

/// The wasm-bindgen version the `web` feature pins in Cargo.toml; the CLI must match it exactly.
const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// Whether `program args…` runs and prints something containing `expect`.
fn prints(program: &str, args: &[&str], expect: &str) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(expect))
}

/// Installs what the build and the tests need, skipping what is already there (see
/// ../shared/TOOLCHAIN.md for why each comes from where it does).
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
    if prints("wasm-pack", &["--version"], "wasm-pack") {
        eprintln!("setup: wasm-pack already installed");
    } else {
        run(cargo().args(["install", "wasm-pack", "--locked"]))?;
    }
    if prints("wasm-bindgen", &["--version"], WASM_BINDGEN_VERSION) {
        eprintln!("setup: wasm-bindgen {WASM_BINDGEN_VERSION} already installed");
    } else {
        // Not --locked: its lockfile pins a webpki-roots the registry mirror lacks.
        run(cargo().args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={WASM_BINDGEN_VERSION}"),
        ]))?;
    }
    let tools = root().join("tools/node_modules");
    let have_tools = [
        "axe-core",
        "binaryen",
        "playwright-core",
        "typescript",
        "mint-filter",
        "textlint",
        "textlint-rule-prh",
    ]
    .iter()
    .all(|p| tools.join(p).join("package.json").exists());
    if have_tools {
        eprintln!("setup: node tools already installed in tools/node_modules");
    } else {
        run(Command::new("npm").args(["ci", "--prefix", "tools", "--no-audit", "--no-fund"]))?;
    }
    let fonts = Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
    if Path::new("/usr/bin/chromium").exists()
        && Path::new("/usr/bin/chromedriver").exists()
        && fonts.exists()
    {
        eprintln!("setup: chromium, chromedriver and CJK fonts already installed");
    } else {
        // Debian's Chromium for the browser tests, and CJK fonts so pages render Chinese.
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get").args([
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
            "fonts-noto-cjk",
        ]))?;
    }
    // PostgreSQL's server for the ledger tests: each test starts a throwaway cluster of its
    // own on 127.0.0.1 from these binaries (Debian's package; nothing is left running).
    if postgres_installed() {
        eprintln!("setup: PostgreSQL server already installed");
    } else {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "postgresql",
                "postgresql-client",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        if !postgres_installed() {
            bail!("apt-get installed postgresql but no /usr/lib/postgresql/N/bin/initdb is there");
        }
    }
    Ok(())
}

/// Whether Debian's PostgreSQL server binaries (initdb, pg_ctl) and pg_dump are installed.
fn postgres_installed() -> bool {
    let server = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .any(|e| e.path().join("bin/initdb").exists() && e.path().join("bin/pg_ctl").exists());
    server && Path::new("/usr/bin/pg_dump").exists()
}

/// PATH with tools/node_modules/.bin first, so wasm-pack finds binaryen 132's wasm-opt and
/// never Debian's (which breaks wasm-bindgen output) or a download.
fn tools_path() -> std::ffi::OsString {
    let mut paths = vec![root().join("tools/node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// The browser package (`www/pkg`, wasm-bindgen, feature "web") and the sample calls the pages
/// offer (`www/samples`, copied from tests/fixtures).
fn build_web() -> Result<()> {
    run(core_profile(
        Command::new("wasm-pack")
            .args([
                "build",
                "--target",
                "web",
                "--out-dir",
                "www/pkg",
                "--release",
                "--mode",
                "no-install",
                ".",
                "--",
                // Only this package: the workspace's default members include the host, which
                // does not build for wasm32.
                "--package",
                "callguard",
                "--features",
                "web",
                "--locked",
            ])
            .env("PATH", tools_path()),
    ))?;
    let samples = root().join("www/samples");
    std::fs::create_dir_all(&samples)?;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("tests/fixtures"))? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["json", "txt", "vtt", "srt"].contains(&ext) {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        std::fs::copy(&path, samples.join(&name))?;
        names.push(name);
    }
    names.sort();
    std::fs::write(samples.join("index.json"), serde_json::to_string(&names)?)?;
    // The live-call demo streams a call where a roommate is told about the debt.
    std::fs::copy(
        root().join("tests/fixtures/10_third_party_roommate.json"),
        samples.join("live-sample.json"),
    )?;
    let wasm = root().join("www/pkg/callguard_bg.wasm");
    let bytes = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    eprintln!("built {} ({bytes} bytes)", wasm.display());
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
    build_web()
}

fn test() -> Result<()> {
    build()?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    // Clippy runs in the release profile, like every build and test below, so its build scripts
    // and proc macros are the ones the tests reuse: a dev-profile clippy doubled the target
    // directory and once ran a CI machine out of disk.
    run(cargo()
        .args([
            "clippy",
            "--release",
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
        .args([
            "clippy",
            "--release",
            "--package",
            "callguard",
            "--features",
            "web",
            "--lib",
            "--test",
            "web",
            "--target",
            WASM_TARGET,
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
        .env("PATH", tools_path()))?;
    run(cargo()
        .args(["test", "--workspace", "--release", "--locked"])
        .env("CALLGUARD_CORE_WASM", core_module())
        .env("CALLGUARD_WEB_PKG", root().join("www/pkg"))
        .env("CALLGUARD_BIN", root().join("target/release/callguard")))?;
    // Every benchmark runs once (criterion's test mode), so a broken bench fails here, not in
    // `cargo xtask bench`.
    bench::criterion_benches("--test")?;
    // The browser package's own tests, under node and then in headless Chromium.
    let wasm_test = || {
        let mut cmd = cargo();
        cmd.args([
            "test",
            "--release",
            "--locked",
            "--target",
            WASM_TARGET,
            "--package",
            "callguard",
            "--features",
            "web",
            "--test",
            "web",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("PATH", tools_path());
        cmd
    };
    run(&mut wasm_test())?;
    run(wasm_test()
        .env("WASM_BINDGEN_USE_BROWSER", "1")
        .env("CHROMEDRIVER", "/usr/bin/chromedriver"))?;
    run(Command::new(root().join("tools/node_modules/.bin/tsc"))
        .args(["-p", "tests/web/tsconfig.json"]))?;
    eprintln!("tsc: tests/web/types.ts type-checks against www/pkg/callguard.d.ts");
    run(Command::new("node")
        .arg("tests/e2e/pages.mjs")
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

/// Accuracy of `check` over the project's labelled corpus (tests/corpus/, the `test` part never
/// tuned on and the `dev` part) and, when a `../shared/corpus/` folder exists beside the clone,
/// its real collectors' words; prints the tables with every miss and writes bench/ACCURACY.md.
fn eval() -> Result<()> {
    let mut sets = vec![
        "project test part (tests/corpus/test.jsonl)=tests/corpus/test.jsonl".to_string(),
        "project dev part (tests/corpus/dev.jsonl)=tests/corpus/dev.jsonl".to_string(),
    ];
    let shared = root().join("../shared/corpus/real-quotes-dev.jsonl");
    if shared.exists() {
        sets.push(format!(
            "real collectors' words (../shared/corpus/real-quotes-dev.jsonl)={}:external",
            shared.display()
        ));
    } else {
        eprintln!(
            "eval: {} not found; skipping the shared real-speech set",
            shared.display()
        );
    }
    run(cargo()
        .args(["run", "--release", "--locked", "--example", "eval", "--"])
        .args(["--markdown", "bench/ACCURACY.md"])
        .args(&sets))
}

/// Builds, then puts a bounded load on `callguard serve` over loopback.
fn loadtest() -> Result<()> {
    build()?;
    let rows = loadtest::run(&root(), &root().join("target/release/callguard"))?;
    println!(
        "callguard serve: {} keep-alive connections on loopback, at most {} s or {} requests per connection",
        loadtest::CONNECTIONS,
        loadtest::SECONDS,
        loadtest::PER_CONNECTION
    );
    print!("{}", loadtest::table(&rows));
    Ok(())
}

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "setup" => setup(),
        "build" => build(),
        "test" => test(),
        "demo" => demo(),
        "loadtest" => loadtest(),
        "bench" if std::env::args().nth(2).as_deref() == Some("report") => bench::report(),
        "bench" => bench::bench(),
        "fuzz" => fuzz(),
        "eval" => eval(),
        _ => {
            eprintln!("usage: cargo xtask <setup|build|test|demo|loadtest|bench|eval|fuzz>");
            eprintln!("  setup  install wasm32, wasm-pack, wasm-bindgen, node tools, Chromium (idempotent)");
            eprintln!("  build  core module, target/release/callguard with it embedded, www/pkg");
            eprintln!("  test   build, fmt, clippy, every test: native, wasm, browser, end-to-end");
            eprintln!("  demo   build, check a sample utterance, serve http://127.0.0.1:8080/");
            eprintln!("  loadtest  build and load `callguard serve` on loopback (bounded)");
            eprintln!(
                "  bench  every benchmark and the peers side by side; writes bench/REPORT.md"
            );
            eprintln!("  eval   accuracy of check over tests/corpus and ../shared/corpus; writes bench/ACCURACY.md");
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
