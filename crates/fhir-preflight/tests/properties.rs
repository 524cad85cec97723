//! Property tests of the fuzz targets' invariants, in the normal test run: framing reconstructs
//! the input, no input panics the validator (no server error) and every record is valid JSON, and
//! the result never depends on chunking or thread count.

use fhir_preflight::{validate_bytes, write_record, FileReport, LineResult, LineStatus, Options};
use proptest::prelude::*;

/// Bytes that look like NDJSON often enough to reach deep code: fragments of FHIR JSON, noise,
/// line breaks.
fn ndjson_like() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(br#"{"resourceType":"Patient","id":"p1","name":[{"given":["A",null],"_given":[null,{}]}]}"#.to_vec()),
        Just(br#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.5}}"#.to_vec()),
        Just(br#"{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"resource":{"resourceType":"Patient"}}]}"#.to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(br#""\ud800""#.to_vec()),
        Just(b"{[\",:}]".to_vec()),
        prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

fn run(data: &[u8], cuts: &[usize], threads: usize) -> (FileReport, Vec<u8>) {
    let options = Options::default().with_threads(threads).with_batch_bytes(32).expect("batch");
    fhir_preflight::bench_support::validate_in_pieces(data, cuts, &options)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn framing_reconstructs_the_input(data in ndjson_like()) {
        let mut seen = Vec::new();
        let mut sink = |l: &LineResult<'_>| seen.push((l.line, l.byte_offset, l.byte_len));
        let report = validate_bytes(&data, &Options::default().with_threads(1), &mut sink);
        prop_assert_eq!(report.bytes_scanned, data.len() as u64);
        let starts: Vec<usize> =
            std::iter::once(0).chain(data.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1)).collect();
        for (number, offset, len) in seen {
            let bom = if number == 1 && data.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
            prop_assert_eq!(offset as usize, starts[(number - 1) as usize] + bom);
            let end = (offset + len) as usize;
            prop_assert!(!data[offset as usize..end].contains(&b'\n'));
        }
    }

    #[test]
    fn no_input_is_a_server_error_and_records_are_json(data in ndjson_like()) {
        let mut ok = true;
        let mut sink = |l: &LineResult<'_>| {
            ok &= l.status != LineStatus::ServerError;
            let mut record = Vec::new();
            write_record(&mut record, l);
            ok &= serde_json::from_slice::<serde_json::Value>(&record).is_ok();
            ok &= l.diagnostics.iter().all(|d| !d.to_string().is_empty() && d.line() == l.line);
        };
        validate_bytes(&data, &Options::default().with_threads(1), &mut sink);
        prop_assert!(ok);
    }

    #[test]
    fn chunking_and_threads_never_change_the_result(data in ndjson_like(), mut cuts in prop::collection::vec(0usize..2000, 0..8)) {
        cuts.sort_unstable();
        let whole = run(&data, &[], 1);
        prop_assert_eq!(&run(&data, &cuts, 1), &whole);
        prop_assert_eq!(&run(&data, &cuts, 0), &whole);
        // Called from a pool thread (as the CLI does): waiting for a batch helps the pool.
        #[cfg(feature = "parallel")]
        prop_assert_eq!(&POOL.install(|| run(&data, &cuts, 0)), &whole);
    }
}

#[cfg(feature = "parallel")]
static POOL: std::sync::LazyLock<rayon::ThreadPool> =
    std::sync::LazyLock::new(|| rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool"));
