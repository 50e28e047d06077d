//! Prints the literal phrases of the default pack (with the packs it extends), one per line,
//! sorted: the word list the benchmark's peers (mint-filter, textlint-rule-prh, a RegExp) get.
//! `cargo run --release --example export_phrases > bench/workloads/phrases.txt`
use std::collections::BTreeSet;

fn main() -> std::process::ExitCode {
    let engine = match callguard::Engine::with_embedded_packs() {
        Ok(engine) => engine,
        Err(problems) => {
            eprintln!("{problems:?}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let Ok(pack) = engine.get(callguard::DEFAULT_PACK) else {
        eprintln!("no default pack");
        return std::process::ExitCode::FAILURE;
    };
    let phrases: BTreeSet<&str> = pack
        .pack
        .rules
        .iter()
        .flat_map(|r| r.phrases.iter().map(String::as_str))
        .collect();
    for p in phrases {
        println!("{p}");
    }
    std::process::ExitCode::SUCCESS
}
