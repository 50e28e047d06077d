//! callguard's core module through the wasmtime host (criterion): a warm instance reused for
//! every call, a fresh instance per call (what `callguard serve` does), batch scoring
//! throughput, and loading a cached compiled module. `cargo xtask bench` runs this.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "benchmark setup fails loudly"
)]

// The growth helpers are used by the native bench only.
#[allow(dead_code, reason = "shared with benches/engine.rs")]
#[path = "../../bench/batch.rs"]
mod workloads;

use callguard_host::module::{Limits, Op, PolicyModule, EMBEDDED_MODULE};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use std::hint::black_box;

fn check_input(text: &str) -> String {
    json!({"pack": "cn-company", "text": text, "context": {"dpd": 40, "identity_verified": true}})
        .to_string()
}

fn module() -> PolicyModule {
    PolicyModule::new(EMBEDDED_MODULE, Limits::default(), &[]).unwrap()
}

fn host(c: &mut Criterion) {
    let pm = module();
    let long = check_input(&workloads::long_draft());
    let short = check_input(&workloads::short());
    let call = workloads::score_input(&workloads::call_40());
    let cases = [
        ("check_short", Op::Check, &short),
        ("check_long_draft", Op::Check, &long),
        ("score_call_40", Op::Score, &call),
    ];
    let mut g = c.benchmark_group("host_warm");
    let mut session = pm.session().unwrap();
    for (name, op, input) in cases {
        g.bench_function(name, |b| {
            b.iter(|| session.call(op, black_box(input)).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("host_fresh_instance");
    for (name, op, input) in cases {
        g.bench_function(name, |b| {
            b.iter(|| pm.session().unwrap().call(op, black_box(input)).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("host_batch");
    g.sample_size(10);
    let calls = workloads::batch(2000);
    let inputs: Vec<String> = calls.iter().map(workloads::score_input).collect();
    g.throughput(Throughput::Bytes(workloads::text_bytes(&calls) as u64));
    g.bench_with_input(BenchmarkId::new("warm", 2000), &inputs, |b, inputs| {
        b.iter(|| {
            for input in inputs {
                black_box(session.call(Op::Score, input).unwrap());
            }
        })
    });
    g.finish();

    // With the compiled module and the pre-initialized snapshot in the cache already.
    let mut g = c.benchmark_group("host_load");
    g.sample_size(20);
    g.bench_function("cached_module", |b| b.iter(module));
    g.finish();
}

criterion_group!(benches, host);
criterion_main!(benches);
