//! `cargo run --release -p fhir-preflight-benches --bin ratio -- FILE [RUNS]`: the one figure the
//! performance work steers by, measured side by side in one process on one file: full R4
//! validation on one thread against simd-json's tape parse (reused buffers, no tree), best of RUNS
//! (default 7) runs each, interleaved so both see the same machine state.

use std::time::Instant;

use fhir_preflight::{validate_bytes, Discard, Options};

/// The non-empty lines of `input`, split with memchr (as fast as the validator's own framing).
fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', input)
        .chain(std::iter::once(input.len()))
        .map(move |end| {
            let line = &input[start..end];
            start = end + 1;
            line
        })
        .filter(|l| !l.is_empty())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: ratio FILE.ndjson [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    // `ratio FILE RUNS validate`: full validation only (for profilers).
    if args.next().as_deref() == Some("validate") {
        let input = std::fs::read(&path).unwrap_or_default();
        let one = Options::default().with_threads(1);
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
    let mut buffers = simd_json::Buffers::default();
    let mut tape = simd_json::Tape::null();
    let mut copy = Vec::new();
    let (mut simd, mut ours, mut scan) = (f64::MAX, f64::MAX, f64::MAX);
    let (mut parsed, mut imported) = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        parsed = 0;
        for line in lines(&input) {
            copy.clear();
            copy.extend_from_slice(line);
            let mut t = tape.reset();
            parsed += u64::from(simd_json::fill_tape(&mut copy, &mut buffers, &mut t).is_ok());
            tape = t.reset();
        }
        simd = simd.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        imported = validate_bytes(&input, &one, &mut Discard).resources_imported;
        ours = ours.min(t.elapsed().as_secs_f64());
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
    println!("ratio: {:.3}", simd / ours);
}
