//! Differential: the report and every record are identical for any chunk size and split point,
//! and for 1 thread vs all cores.
#![no_main]

use fhir_preflight::{write_record, FileReport, LineResult, Options, Validator};
use libfuzzer_sys::fuzz_target;

fn run(data: &[u8], cuts: &[usize], threads: usize) -> (FileReport, Vec<u8>) {
    let mut records = Vec::new();
    let sink = |l: &LineResult<'_>| write_record(&mut records, l);
    let options = Options::default().with_threads(threads).with_batch_bytes(64).expect("batch");
    let mut v = Validator::new(&options, sink);
    let mut at = 0;
    for &cut in cuts {
        let cut = cut.min(data.len()).max(at);
        v.feed(&data[at..cut]);
        at = cut;
    }
    v.feed(&data[at..]);
    let report = v.finish();
    (report, records)
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
