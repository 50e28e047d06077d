//! A loop over `check` of the 3,000-character draft for `perf record` (criterion's own loop is
//! harder to read in a profile):
//! `cargo build --release --example profile_check && perf record -g target/release/examples/profile_check 3000`
#![allow(clippy::unwrap_used, reason = "a profiling harness fails loudly")]

use callguard::{Context, Engine, Party};

fn main() {
    let engine = Engine::with_embedded_packs().unwrap();
    let text = std::fs::read_to_string("bench/workloads/long-draft.txt").unwrap();
    let ctx = Context {
        dpd: Some(40),
        party: Party::Debtor,
        identity_verified: true,
        ..Context::default()
    };
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let started = std::time::Instant::now();
    let mut findings = 0;
    for _ in 0..rounds {
        findings += engine.check("cn-company", &text, &ctx).unwrap().len();
    }
    eprintln!(
        "{} findings per check, {:?} per check (mean of {rounds})",
        findings / rounds.max(1) as usize,
        started.elapsed() / rounds.max(1)
    );
}
