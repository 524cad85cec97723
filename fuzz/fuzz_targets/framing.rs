//! NDJSON framing: the lines' offsets and numbers reconstruct the input, whatever the bytes.
#![no_main]

use fhir_preflight::{validate_bytes, LineResult, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut seen: Vec<(u64, u64, u64)> = Vec::new();
    let mut sink = |l: &LineResult<'_>| seen.push((l.line, l.byte_offset, l.byte_len));
    let options = Options::default().with_threads(1).with_max_line_bytes(1024).expect("limit");
    let report = validate_bytes(data, &options, &mut sink);
    assert_eq!(report.bytes_scanned, data.len() as u64);
    assert_eq!(report.resources_scanned, seen.len() as u64);
    // Physical line n starts after the (n-1)th LF; a line's bytes hold no LF.
    let starts: Vec<usize> =
        std::iter::once(0).chain(data.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1)).collect();
    let mut previous = 0;
    for (number, offset, len) in seen {
        assert!(number > previous, "line numbers increase");
        previous = number;
        let start = starts[(number - 1) as usize];
        let bom = if number == 1 && data.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        assert_eq!(offset as usize, start + bom, "offset of line {number}");
        let end = offset as usize + len as usize;
        if len <= 1024 {
            assert!(end <= data.len());
            assert!(!data[offset as usize..end].contains(&b'\n'));
            assert!(matches!(data.get(end), None | Some(b'\n') | Some(b'\r')));
        }
    }
    let blank = report.blank_lines as usize;
    assert!(blank + report.resources_scanned as usize <= starts.len());
});
