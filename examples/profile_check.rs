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
    // The machine is shared: the fastest of ten slices is the least disturbed one.
    let slice = (rounds / 10).max(1);
    let mut findings = 0;
    let best = (0..10)
        .map(|_| {
            let started = std::time::Instant::now();
            for _ in 0..slice {
                findings = engine.check("cn-company", &text, &ctx).unwrap().len();
            }
            started.elapsed() / slice
        })
        .min()
        .unwrap_or_default();
    eprintln!(
        "{findings} findings per check, {best:?} per check (fastest of 10 slices of {slice})"
    );
}
