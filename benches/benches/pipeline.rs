//! Criterion benchmarks over the deterministic corpus (`fhir_preflight_benches::corpus`, ~1 KB
//! average lines, 300 B to 50 KB, 2% invalid). Run: `cargo bench -p fhir-preflight-benches`.
//! Throughput is in bytes of NDJSON input.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fhir_preflight::{validate_bytes, Discard, Options};
use fhir_preflight_benches::{corpus, lines, SimdTape};

const LINES: u64 = 20_000;

fn benches(c: &mut Criterion) {
    let input = corpus(42, LINES, 20);
    let mut group = c.benchmark_group("corpus");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(input.len() as u64));

    group.bench_function("framing", |b| b.iter(|| fhir_preflight::bench_support::count_lines(&input)));

    group.bench_function("parse_only/serde_json", |b| {
        b.iter(|| lines(&input).filter(|l| serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok()).count())
    });

    group.bench_function("parse_only/simd_json_tape", |b| {
        let mut tape = SimdTape::default();
        b.iter(|| tape.parse_lines(&input))
    });

    let one = Options::default().with_threads(1);
    group.bench_function("validate/1_thread", |b| b.iter(|| validate_bytes(&input, &one, &mut Discard)));

    let all = Options::default().with_threads(0);
    // On a pool thread, as the CLI runs it.
    let pool = rayon::ThreadPoolBuilder::new().build().expect("a thread pool");
    group.bench_function("validate/all_threads", |b| {
        b.iter(|| pool.install(|| validate_bytes(&input, &all, &mut Discard)))
    });
    group.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
