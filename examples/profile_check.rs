//! Loops over the engine for `perf record` (criterion's own loop is harder to read in a profile):
//! `check` of the 3,000-character draft, or with `score` the 40-turn call.
//!
//! ```text
//! cargo build --release --example profile_check
//! perf record -g target/release/examples/profile_check 3000          # check
//! perf record -g target/release/examples/profile_check 3000 score    # score
//! perf record -g target/release/examples/profile_check 300 score 16  # score, turns repeated 16×
//! ```
#![allow(clippy::unwrap_used, reason = "a profiling harness fails loudly")]

use callguard::transcript::Transcript;
use callguard::{Context, Engine, Party};

fn main() {
    let engine = Engine::with_embedded_packs().unwrap();
    let mut args = std::env::args().skip(1);
    let rounds: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let scoring = args.next().is_some_and(|a| a == "score");
    // `score 16`: the call's turns repeated 16 times, to see how the cost grows.
    let times: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let text = std::fs::read_to_string("bench/workloads/long-draft.txt").unwrap();
    let mut call: Transcript =
        serde_json::from_str(&std::fs::read_to_string("bench/workloads/call-40.json").unwrap())
            .unwrap();
    call.turns = (0..times).flat_map(|_| call.turns.clone()).collect();
    let pack = engine.get("cn-company").unwrap();
    let ctx = Context {
        dpd: Some(40),
        party: Party::Debtor,
        identity_verified: true,
        ..Context::default()
    };
    let run = || {
        if scoring {
            callguard::score::score(pack, &call, Some(25))
                .findings
                .len()
        } else {
            engine.check("cn-company", &text, &ctx).unwrap().len()
        }
    };
    // The machine is shared: the fastest of ten slices is the least disturbed one.
    let slice = (rounds / 10).max(1);
    let mut findings = 0;
    let best = (0..10)
        .map(|_| {
            let started = std::time::Instant::now();
            for _ in 0..slice {
                findings = run();
            }
            started.elapsed() / slice
        })
        .min()
        .unwrap_or_default();
    let what = if scoring { "score" } else { "check" };
    eprintln!(
        "{findings} findings per {what}, {best:?} per {what} (fastest of 10 slices of {slice})"
    );
}
