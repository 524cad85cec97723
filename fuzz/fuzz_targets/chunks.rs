//! Differential: the report and every record are identical for any chunk size and split point,
//! and for 1 thread vs all cores.
#![no_main]

use fhir_preflight::{FileReport, Options};
use libfuzzer_sys::fuzz_target;

fn run(data: &[u8], cuts: &[usize], threads: usize) -> (FileReport, Vec<u8>) {
    let options = Options::default().with_threads(threads).with_batch_bytes(64).expect("batch");
    fhir_preflight::bench_support::validate_in_pieces(data, cuts, &options)
}

fuzz_target!(|input: (Vec<u8>, Vec<u16>)| {
    let (data, cuts) = input;
    let mut cuts: Vec<usize> = cuts.into_iter().map(usize::from).collect();
    cuts.sort_unstable();
    let whole = run(&data, &[], 1);
    assert_eq!(run(&data, &cuts, 1), whole, "chunking changed the result");
    // 0: the global rayon pool (all cores), created once; a pool per run would leak threads to LeakSanitizer.
    assert_eq!(run(&data, &cuts, 0), whole, "threads changed the result");
});
