//! One line of any bytes: never panics (no server error), and every diagnostic renders to text
//! and to a record, plain and redacted, that is valid JSON.
#![no_main]

use fhir_preflight::{validate_bytes, write_record, write_record_with, LineResult, LineStatus, Options, Redaction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut sink = |l: &LineResult<'_>| {
        assert_ne!(l.status, LineStatus::ServerError, "the validator panicked on line {}", l.line);
        for d in l.diagnostics {
            let text = d.to_string();
            assert!(!text.is_empty());
            assert_eq!(d.line(), l.line);
        }
        let mut record = Vec::new();
        write_record(&mut record, l);
        serde_json::from_slice::<serde_json::Value>(&record).expect("a record is valid JSON");
        record.clear();
        write_record_with(&mut record, l, Redaction::On);
        serde_json::from_slice::<serde_json::Value>(&record).expect("a redacted record is valid JSON");
    };
    validate_bytes(data, &Options::default().with_threads(1), &mut sink);
});
