//! `fhir-preflight-compare FILE`: time, on the same NDJSON file held in memory, each way of reading
//! it — line framing only (`wc -l` style), simd-json tape parse-only (reused buffers), serde_json
//! parse-only, fhir-preflight full R4 validation on 1 thread and on all cores, and the fhirkit crate
//! (R4 typed models with path-precise validation, `from_json::<Resource>` per line, one thread) —
//! and print MB/s, lines/s and the ratios between them. Each is run 3 times; the best time counts.

use std::time::Instant;

use fhir_preflight::{validate_bytes, Discard, Options};
use fhir_preflight_benches::{lines, SimdTape};

fn best_of<F: FnMut() -> u64>(runs: usize, mut f: F) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut result = 0;
    for _ in 0..runs {
        let t = Instant::now();
        result = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, result)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: fhir-preflight-compare FILE.ndjson");
        std::process::exit(2);
    };
    let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let n_lines = lines(&input).count() as u64;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut rows: Vec<(String, f64, u64)> = Vec::new();

    rows.push((
        "framing only (memchr line count, `wc -l`)".into(),
        best_of(3, || memchr::memchr_iter(b'\n', &input).count() as u64).0,
        n_lines,
    ));
    let mut tape = SimdTape::default();
    let (t, ok) = best_of(3, || tape.parse_lines(&input));
    rows.push(("simd-json tape, parse only, 1 thread".into(), t, ok));
    let (t, ok) = best_of(3, || {
        lines(&input).filter(|l| serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok()).count() as u64
    });
    rows.push(("serde_json into IgnoredAny, parse only, 1 thread".into(), t, ok));
    let one = Options::default().with_threads(1);
    let (t, ok) = best_of(3, || validate_bytes(&input, &one, &mut Discard).resources_imported);
    rows.push(("fhir-preflight full R4 validation, 1 thread".into(), t, ok));
    let all = Options::default();
    // On a pool thread, as the CLI runs it.
    let pool = rayon::ThreadPoolBuilder::new().build().expect("a thread pool");
    let (t, ok) = best_of(3, || pool.install(|| validate_bytes(&input, &all, &mut Discard).resources_imported));
    rows.push((format!("fhir-preflight full R4 validation, {cores} threads"), t, ok));
    let (t, ok) = best_of(3, || {
        lines(&input)
            .filter(|l| {
                let text = std::str::from_utf8(l).unwrap_or("");
                matches!(fhirkit::from_json::<fhirkit::r4::Resource>(text), Ok((Some(_), ref issues)) if issues.iter().all(|i| !i.to_string().starts_with("error")))
            })
            .count() as u64
    });
    rows.push(("fhirkit 0.1.0 from_json::<Resource> per line, 1 thread".into(), t, ok));

    let mb = input.len() as f64 / 1e6;
    println!("input: {path}: {} bytes, {n_lines} lines; {cores} cores; best of 3 runs each", input.len());
    println!("| reader | seconds | MB/s | lines/s | ok lines | vs simd-json | vs fhirkit |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let simd = rows[1].1;
    let fhirkit = rows[5].1;
    for (name, t, ok) in &rows {
        println!(
            "| {name} | {t:.3} | {:.0} | {:.0} | {ok} | {:.2}× | {:.2}× |",
            mb / t,
            n_lines as f64 / t,
            simd / t,
            fhirkit / t
        );
    }
}
