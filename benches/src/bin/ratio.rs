//! `cargo run --release -p fhir-preflight-benches --bin ratio -- FILE [RUNS]`: the one figure the
//! performance work steers by, measured side by side in one process on one file: full R4
//! validation on one thread against simd-json's tape parse (reused buffers, no tree), best of RUNS
//! (default 7) runs each, interleaved so both see the same machine state.

use std::time::Instant;

use fhir_preflight::{validate_bytes, Discard, Options};
use fhir_preflight_benches::{lines, SimdTape};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: ratio FILE.ndjson [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let mode = args.next();
    // `ratio FILE RUNS scaling`: the machine's own scaling, on the scanner alone (rayon over lines).
    if mode.as_deref() == Some("scaling") {
        let input = std::fs::read(&path).unwrap_or_default();
        let all: Vec<&[u8]> = lines(&input).collect();
        let time = |f: &dyn Fn() -> usize| {
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(f());
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::MAX, f64::min)
        };
        let one = time(&|| all.iter().filter(|l| fhir_preflight::bench_support::scan_only(l)).count());
        let par = time(&|| {
            use rayon::prelude::*;
            all.par_iter().filter(|l| fhir_preflight::bench_support::scan_only(l)).count()
        });
        println!("scanner alone: 1 thread {:.3} s, all threads {:.3} s: {:.2}x", one, par, one / par);
        let o = Options::default();
        let one = time(&|| all.iter().filter(|l| fhir_preflight::bench_support::validate_line(l, &o)).count());
        let par = time(&|| {
            use rayon::prelude::*;
            all.par_iter().filter(|l| fhir_preflight::bench_support::validate_line(l, &o)).count()
        });
        println!("lines validated alone: 1 thread {:.3} s, all threads {:.3} s: {:.2}x", one, par, one / par);
        return;
    }
    // `ratio FILE RUNS profiles`: issue 14's figure — `strict` (each resource against the profiles
    // its meta.profile names) against `structure-only` (profiles ignored), one thread, best of
    // RUNS each, interleaved.
    if mode.as_deref() == Some("profiles") {
        let input = std::fs::read(&path).unwrap_or_default();
        let strict = Options::default().with_threads(1);
        let structure = Options::default().with_threads(1).with_level(fhir_preflight::Level::StructureOnly);
        let (mut best_strict, mut best_structure) = (f64::MAX, f64::MAX);
        let (mut imported_strict, mut imported_structure) = (0, 0);
        let mut pairs = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            imported_structure = validate_bytes(&input, &structure, &mut Discard).resources_imported;
            let structure_time = t.elapsed().as_secs_f64();
            best_structure = best_structure.min(structure_time);
            let t = Instant::now();
            imported_strict = validate_bytes(&input, &strict, &mut Discard).resources_imported;
            let strict_time = t.elapsed().as_secs_f64();
            best_strict = best_strict.min(strict_time);
            pairs.push(structure_time / strict_time);
        }
        pairs.sort_by(f64::total_cmp);
        let mb = input.len() as f64 / 1e6;
        println!("{path}: {} bytes; best of {runs} runs each, interleaved, 1 thread", input.len());
        println!("structure-only (profiles ignored): {:7.0} MB/s ({imported_structure} imported)", mb / best_structure);
        println!("strict (meta.profile validated):   {:7.0} MB/s ({imported_strict} imported)", mb / best_strict);
        println!(
            "strict / structure-only: {:.3} (best of each; median of the {runs} pairs {:.3})",
            best_structure / best_strict,
            pairs[runs / 2]
        );
        return;
    }
    // `ratio FILE RUNS memo`: what remembering repeated objects gives (`Options::with_memo`): one
    // thread with it and without, best of RUNS each, interleaved; both must give the same report.
    if mode.as_deref() == Some("memo") {
        let input = std::fs::read(&path).unwrap_or_default();
        let on = Options::default().with_threads(1);
        let off = Options::default().with_threads(1).with_memo(false);
        let (mut best_on, mut best_off) = (f64::MAX, f64::MAX);
        for _ in 0..runs {
            let t = Instant::now();
            let without = validate_bytes(&input, &off, &mut Discard);
            best_off = best_off.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let with = validate_bytes(&input, &on, &mut Discard);
            best_on = best_on.min(t.elapsed().as_secs_f64());
            assert_eq!(format!("{with:?}"), format!("{without:?}"), "the memo changed the report");
        }
        let mb = input.len() as f64 / 1e6;
        println!("{path}: {} bytes; best of {runs} runs each, interleaved, 1 thread", input.len());
        println!("without the memo: {:7.0} MB/s", mb / best_off);
        println!("with the memo:    {:7.0} MB/s", mb / best_on);
        println!("with / without: {:.3}", best_off / best_on);
        return;
    }
    // `ratio FILE RUNS validate|validate-all|validate-structure`: full validation only, 1 thread
    // or all, or at structure-only (for profilers).
    if matches!(mode.as_deref(), Some("validate" | "validate-all" | "validate-structure")) {
        let input = std::fs::read(&path).unwrap_or_default();
        let one = Options::default().with_threads(if mode.as_deref() == Some("validate-all") { 0 } else { 1 });
        let one = if mode.as_deref() == Some("validate-structure") {
            one.with_level(fhir_preflight::Level::StructureOnly)
        } else {
            one
        };
        for _ in 0..runs {
            std::hint::black_box(validate_bytes(&input, &one, &mut Discard));
        }
        return;
    }
    let input = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let one = Options::default().with_threads(1);
    let mut tape = SimdTape::default();
    let all = Options::default();
    let pool = rayon::ThreadPoolBuilder::new().build().expect("a thread pool");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (mut simd, mut ours, mut scan, mut ours_all) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    let (mut parsed, mut imported) = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        parsed = tape.parse_lines(&input);
        simd = simd.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        imported = validate_bytes(&input, &one, &mut Discard).resources_imported;
        ours = ours.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        // On a pool thread, as the CLI runs it (the calling thread frames and delivers between
        // batches instead of competing with the pool as a third thread).
        pool.install(|| std::hint::black_box(validate_bytes(&input, &all, &mut Discard)));
        ours_all = ours_all.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let scanned = lines(&input).filter(|l| fhir_preflight::bench_support::scan_only(l)).count();
        std::hint::black_box(scanned);
        scan = scan.min(t.elapsed().as_secs_f64());
    }
    let mb = input.len() as f64 / 1e6;
    println!("{path}: {} bytes; best of {runs} runs each, interleaved", input.len());
    println!("simd-json tape parse, 1 thread:        {:7.0} MB/s ({parsed} lines parsed)", mb / simd);
    println!("fhir-preflight validation, 1 thread:   {:7.0} MB/s ({imported} lines imported)", mb / ours);
    println!("its own scanner, syntax only, 1 thread: {:7.0} MB/s (the floor)", mb / scan);
    println!(
        "fhir-preflight validation, {cores} threads: {:7.0} MB/s ({:.2}x one thread)",
        mb / ours_all,
        ours / ours_all
    );
    println!("ratio: {:.3}", simd / ours);
}
