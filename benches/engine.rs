//! callguard native (criterion): check, score and batch scoring on the workloads in
//! bench/workloads, and how the cost grows with length (1×, 4×, 16×) and batch size.
//! `cargo xtask bench` runs this and writes bench/REPORT.md.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "benchmark setup fails loudly"
)]

#[path = "../bench/batch.rs"]
mod workloads;

use callguard::{Context, Engine, Party};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn debtor() -> Context {
    Context {
        dpd: Some(40),
        party: Party::Debtor,
        identity_verified: true,
        ..Context::default()
    }
}

fn check(c: &mut Criterion) {
    let engine = Engine::with_embedded_packs().unwrap();
    let ctx = debtor();
    let mut g = c.benchmark_group("native_check");
    for (name, text) in [
        ("short", workloads::short()),
        ("long_draft", workloads::long_draft()),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| engine.check("cn-company", black_box(&text), &ctx).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("native_check_growth");
    let draft = workloads::long_draft();
    for times in [1, 4, 16] {
        let text = workloads::repeated(&draft, times);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(times), &text, |b, text| {
            b.iter(|| engine.check("cn-company", black_box(text), &ctx).unwrap())
        });
    }
    g.finish();
}

fn score(c: &mut Criterion) {
    let engine = Engine::with_embedded_packs().unwrap();
    let pack = engine.get("cn-company").unwrap();
    let call = workloads::call_40();
    let mut g = c.benchmark_group("native_score_growth");
    for times in [1, 4, 16] {
        let long = workloads::repeated_call(&call, times);
        g.throughput(Throughput::Bytes(
            workloads::text_bytes(std::slice::from_ref(&long)) as u64,
        ));
        g.bench_with_input(BenchmarkId::from_parameter(times), &long, |b, long| {
            b.iter(|| callguard::score::score(pack, black_box(long), Some(25)))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("native_batch");
    g.sample_size(10);
    for n in [500, 2000, 8000] {
        let calls = workloads::batch(n);
        g.throughput(Throughput::Bytes(workloads::text_bytes(&calls) as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &calls, |b, calls| {
            b.iter(|| {
                calls
                    .iter()
                    .map(|c| callguard::score::score(pack, black_box(c), None).score)
                    .sum::<u32>()
            })
        });
    }
    g.finish();
    // The host's batch work, natively: JSON in, score, JSON out through the same `api` call the
    // core module exports, so host ÷ native is the cost of WebAssembly and the host alone.
    let engine = Engine::with_embedded_packs().unwrap();
    let mut g = c.benchmark_group("native_batch_json");
    g.sample_size(10);
    let calls = workloads::batch(2000);
    let inputs: Vec<String> = calls.iter().map(workloads::score_input).collect();
    g.throughput(Throughput::Bytes(workloads::text_bytes(&calls) as u64));
    g.bench_with_input(BenchmarkId::from_parameter(2000), &inputs, |b, inputs| {
        b.iter(|| {
            inputs
                .iter()
                .map(|input| callguard::api::score_json(&engine, black_box(input)).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, check, score);
criterion_main!(benches);
