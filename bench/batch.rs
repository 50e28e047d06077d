// The benchmark workloads, shared by benches/engine.rs and host/benches/host.rs (included with
// `#[path]`): the committed short utterance, 3,000-character draft and 40-turn call, and batches
// of calls generated deterministically from the fixture calls with a fixed seed.

use callguard::transcript::{self, Format, Transcript};
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("bench/workloads").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

pub fn short() -> String {
    read("bench/workloads/short.txt")
}

pub fn long_draft() -> String {
    read("bench/workloads/long-draft.txt")
}

pub fn call_40() -> Transcript {
    serde_json::from_str(&read("bench/workloads/call-40.json"))
        .unwrap_or_else(|e| panic!("call-40.json: {e}"))
}

/// Every fixture call, parsed.
pub fn fixture_calls() -> Vec<Transcript> {
    let dir = root().join("tests/fixtures");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|p| {
            let format = Format::from_path(p)?;
            let text = std::fs::read_to_string(p).ok()?;
            transcript::parse(&text, format).ok()
        })
        .collect()
}

/// `n` calls of 40 turns: consecutive turns taken from two fixture calls chosen by a linear
/// congruential generator with seed 2026, a DPD between 1 and 120.
pub fn batch(n: usize) -> Vec<Transcript> {
    let fixtures = fixture_calls();
    let mut state: u64 = 2026;
    let mut next = move |bound: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % bound.max(1)
    };
    (0..n)
        .map(|i| {
            let mut turns = Vec::with_capacity(40);
            while turns.len() < 40 {
                let call = &fixtures[next(fixtures.len())];
                let start = next(call.turns.len());
                turns.extend(call.turns[start..].iter().take(40 - turns.len()).cloned());
            }
            Transcript {
                id: Some(format!("batch-{i}")),
                dpd: Some(1 + next(120) as u32),
                meta: Default::default(),
                notes: Vec::new(),
                turns,
            }
        })
        .collect()
}

/// Bytes of turn text in `calls` (what "MB of transcript text" counts).
pub fn text_bytes(calls: &[Transcript]) -> usize {
    calls
        .iter()
        .flat_map(|c| &c.turns)
        .map(|t| t.text.len())
        .sum()
}

/// `text` repeated `times` times (to show how cost grows with length).
pub fn repeated(text: &str, times: usize) -> String {
    text.repeat(times)
}

/// `call` with its turns repeated `times` times.
pub fn repeated_call(call: &Transcript, times: usize) -> Transcript {
    Transcript {
        id: call.id.clone(),
        dpd: call.dpd,
        meta: call.meta.clone(),
        notes: call.notes.clone(),
        turns: (0..times)
            .flat_map(|_| call.turns.iter().cloned())
            .collect(),
    }
}

/// The score call for `call` as the core module's ABI and the host take it.
pub fn score_input(call: &Transcript) -> String {
    serde_json::json!({"pack": "cn-company", "transcript": call}).to_string()
}
