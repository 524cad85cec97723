//! Streaming edge cases through the public push API, and determinism: the report and every record
//! are byte-identical for any chunk size, split point and thread count.

use fhir_preflight::{validate_bytes, validate_reader, write_record, Code, FileReport, LineResult, Options, Validator};

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["Zoë"]}]}"#;
const OBSERVATION: &str = r#"{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"pulse"}}"#;

/// Everything observable: the report and the records of every line.
fn run(input: &[u8], options: &Options, chunk: usize) -> (FileReport, Vec<u8>) {
    let mut records = Vec::new();
    let mut sink = |line: &LineResult<'_>| write_record(&mut records, line);
    let mut validator = Validator::new(options, &mut sink);
    for piece in input.chunks(chunk.max(1)) {
        validator.feed(piece);
    }
    let report = validator.finish();
    (report, records)
}

fn all_ways_equal(input: &[u8]) -> (FileReport, Vec<u8>) {
    let reference = run(input, &Options::default().with_threads(1), input.len().max(1));
    for chunk in [1, 2, 3, 5, 7, 64, 4096] {
        for threads in [1, 2, 4] {
            let options = Options::default().with_threads(threads).with_batch_bytes(chunk * 3).expect("batch");
            assert_eq!(run(input, &options, chunk), reference, "chunk {chunk}, threads {threads}");
        }
    }
    reference
}

fn lines_of(records: &[u8]) -> Vec<serde_json::Value> {
    records
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("record JSON"))
        .collect()
}

#[test]
fn crlf_lines() {
    let input = format!("{PATIENT}\r\n{OBSERVATION}\r\n");
    let (report, records) = all_ways_equal(input.as_bytes());
    assert_eq!((report.resources_scanned, report.resources_imported), (2, 2));
    assert_eq!(report.bytes_imported, (PATIENT.len() + OBSERVATION.len()) as u64);
    assert_eq!(report.bytes_scanned, input.len() as u64);
    assert_eq!(lines_of(&records)[1]["lineId"], 2);
}

#[test]
fn no_final_newline() {
    let input = format!("{PATIENT}\n{OBSERVATION}");
    let (report, records) = all_ways_equal(input.as_bytes());
    assert_eq!(report.resources_imported, 2);
    assert_eq!(lines_of(&records)[1]["resourceId"], "o1");
}

#[test]
fn blank_lines_counted_once_and_line_numbers_kept() {
    let input = format!("\n{PATIENT}\n  \t\r\n\n{{\"resourceType\":\"Patient\"}}\n\n");
    let (report, records) = all_ways_equal(input.as_bytes());
    assert_eq!(report.resources_scanned, 2);
    assert_eq!(report.blank_lines, 4);
    assert_eq!(report.diagnostics.len(), 1);
    assert_eq!(report.diagnostics[0].code(), Code::NdjsonBlankLine);
    assert_eq!(report.diagnostics[0].line(), 1);
    let records = lines_of(&records);
    assert_eq!(records[0]["lineId"], 2);
    assert_eq!(records[1]["lineId"], 5);
    assert_eq!(records[1]["UpdateResourceResponse"]["statusCode"], 400);
}

#[test]
fn byte_order_mark() {
    let input = [b"\xEF\xBB\xBF".as_slice(), PATIENT.as_bytes(), b"\n"].concat();
    let (report, _) = all_ways_equal(&input);
    assert_eq!(report.resources_imported, 1);
    assert_eq!(report.bytes_imported, PATIENT.len() as u64);
    assert_eq!(report.bytes_scanned, input.len() as u64);
    assert_eq!(report.diagnostics[0].code(), Code::NdjsonByteOrderMark);
    assert!(!report.diagnostics[0].severity().is_failure());
}

/// A record's first issue of severity error or fatal (information, such as dom-6, aside).
fn first_error(record: &serde_json::Value) -> &serde_json::Value {
    let issues = record["UpdateResourceResponse"]["jsonBlob"]["issue"].as_array().expect("issues");
    issues.iter().find(|i| i["severity"] == "error" || i["severity"] == "fatal").expect("an error")
}

#[test]
fn chunk_boundaries_inside_utf8_sequences() {
    // Multi-byte characters everywhere; `all_ways_equal` splits at every byte.
    let input = format!("{PATIENT}\n{}\n{PATIENT}", PATIENT.replace("p1", "bad_id"));
    let (report, records) = all_ways_equal(input.as_bytes());
    assert_eq!((report.resources_imported, report.resources_customer_error), (2, 1));
    let failure = &lines_of(&records)[1];
    assert_eq!(failure["resourceId"], "bad_id");
    let issue = first_error(failure);
    assert_eq!(issue["details"]["coding"][0]["code"], "resource/id-invalid");
    // Column counts characters: `{"resourceType":"Patient","id":` is 31 characters.
    assert_eq!(issue["extension"][1]["valueInteger"], 32);
}

#[test]
fn line_over_the_limit_is_a_customer_error_and_others_go_on() {
    let long =
        format!(r#"{{"resourceType":"Binary","id":"b","contentType":"text/plain","data":"{}"}}"#, "A".repeat(5000));
    let input = format!("{PATIENT}\n{long}\n{OBSERVATION}\n");
    let options = Options::default().with_max_line_bytes(1000).expect("limit");
    let (report, records) = run(input.as_bytes(), &options, 100);
    assert_eq!((report.resources_scanned, report.resources_imported, report.resources_customer_error), (3, 2, 1));
    let records = lines_of(&records);
    assert_eq!(records[1]["lineId"], 2);
    let issue = first_error(&records[1]);
    assert_eq!(issue["details"]["coding"][0]["code"], "ndjson/line-too-long");
    for chunk in [1, 7, 999, 1000, 1001] {
        assert_eq!(run(input.as_bytes(), &options, chunk).0, report, "chunk {chunk}");
    }
}

#[test]
fn cr_only_file_is_one_line() {
    let input = format!("{PATIENT}\r{OBSERVATION}\r");
    let (report, records) = all_ways_equal(input.as_bytes());
    assert_eq!((report.resources_scanned, report.resources_customer_error), (1, 1));
    let records = lines_of(&records);
    let issue = first_error(&records[0]);
    assert_eq!(issue["details"]["coding"][0]["code"], "json/syntax");
}

#[test]
fn many_lines_deterministic_across_threads_and_chunks() {
    let mut input = String::new();
    for i in 0..3000 {
        match i % 5 {
            0 => input.push_str(&PATIENT.replace("p1", &format!("p{i}"))),
            1 => input.push_str(OBSERVATION),
            2 => input.push_str(&format!("{{\"resourceType\":\"Patient\",\"id\":\"x_{i}\"}}")),
            3 => input.push_str("{\"resourceType\":\"Patient\",\"id\":\"t\","),
            _ => input.push_str("   "),
        }
        input.push(if i % 7 == 0 { '\r' } else { ' ' });
        input.push('\n');
    }
    let (report, _) = all_ways_equal(input.as_bytes());
    assert_eq!(report.resources_scanned, 2400);
    assert_eq!(report.resources_imported, 1200);
    assert_eq!(report.blank_lines, 600);
}

#[test]
fn reader_with_a_read_error_keeps_validated_lines() {
    struct Failing<'a>(&'a [u8]);
    impl std::io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let input = format!("{PATIENT}\n{OBSERVATION}\n{{\"resourceType\":\"Pat");
    let mut seen = Vec::new();
    let mut sink = |line: &LineResult<'_>| seen.push(line.line);
    let options = Options::default().with_chunk_bytes(10).expect("chunk");
    let err = validate_reader(Failing(input.as_bytes()), &options, &mut sink).expect_err("read error");
    let fhir_preflight::Error::Read { partial, .. } = err else { panic!("not a read error") };
    assert_eq!(seen, vec![1, 2], "the cut-off third line is not judged");
    assert_eq!(partial.resources_imported, 2);
    assert_eq!(partial.bytes_scanned, input.len() as u64);
}

#[test]
fn injected_panic_is_contained_to_its_line() {
    let input = format!("{PATIENT}\n{}\n{OBSERVATION}\n", PATIENT.replace("p1", "BOOM"));
    for threads in [1, 2] {
        let options = Options::default().with_panic_marker(b"BOOM").with_threads(threads);
        let mut records = Vec::new();
        let mut sink = |line: &LineResult<'_>| write_record(&mut records, line);
        let report = validate_bytes(input.as_bytes(), &options, &mut sink);
        assert_eq!((report.resources_imported, report.resources_server_error), (2, 1));
        let record = &lines_of(&records)[1];
        assert_eq!(record["lineId"], 2);
        assert_eq!(record["UpdateResourceResponse"]["statusCode"], 500);
    }
}

/// Every line's record, number, offset and diagnostics, and the counts.
/// `at`: the part's first line and offset (None: the file from its start).
fn observed(input: &[u8], at: Option<(u64, u64)>, options: &Options) -> (Vec<u8>, Vec<String>, FileReport) {
    let (mut records, mut lines) = (Vec::new(), Vec::new());
    let mut sink = |l: &LineResult<'_>| {
        write_record(&mut records, l);
        lines.push(format!("{} {} {} {:?}", l.line, l.byte_offset, l.byte_len, l.diagnostics));
    };
    let mut validator = match at {
        None => Validator::new(options, &mut sink),
        Some((line, offset)) => Validator::continuing(options, &mut sink, line, offset),
    };
    for piece in input.chunks(4096) {
        validator.feed(piece);
    }
    let report = validator.finish();
    (records, lines, report)
}

#[test]
fn parts_of_a_file_add_up_to_the_file() {
    // Every fixture file cut at newlines into 2, 3 and 5 parts (where it has that many lines):
    // validated part by part, each continuing at its first line's number and offset, the
    // records, line numbers, offsets and diagnostics are the whole file's, and the reports add
    // up (`FileReport::then`) to the whole file's, its notes included.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut files = Vec::new();
    for folder in ["valid", "invalid", "edge", "rules", "synthea"] {
        for entry in std::fs::read_dir(root.join(folder)).expect("fixture folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "ndjson") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 10, "fixtures found: {}", files.len());
    let options = Options::default().with_threads(2);
    for path in &files {
        let file = std::fs::read(path).expect("fixture");
        let whole = observed(&file, None, &options);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(memchr_newlines(&file).into_iter().map(|i| i + 1).filter(|&s| s < file.len()))
            .collect();
        for parts in [2, 3, 5] {
            if starts.len() < parts {
                continue;
            }
            let mut cuts: Vec<usize> = (0..parts).map(|k| starts[k * starts.len() / parts]).collect();
            cuts.push(file.len());
            let (mut records, mut lines, mut report) = (Vec::new(), Vec::new(), None::<FileReport>);
            for pair in cuts.windows(2) {
                let first_line = 1 + file[..pair[0]].iter().filter(|&&b| b == b'\n').count() as u64;
                // The first part is the file's start (a byte-order mark is said of it).
                let at = (pair[0] > 0).then_some((first_line, pair[0] as u64));
                let (r, l, c) = observed(&file[pair[0]..pair[1]], at, &options);
                records.extend(r);
                lines.extend(l);
                match &mut report {
                    None => report = Some(c),
                    Some(whole) => whole.then(c),
                }
            }
            let name = path.display();
            assert_eq!(records, whole.0, "{name} in {parts} parts: records");
            assert_eq!(lines, whole.1, "{name} in {parts} parts: lines");
            assert_eq!(report.as_ref(), Some(&whole.2), "{name} in {parts} parts: report");
        }
    }
}

fn memchr_newlines(bytes: &[u8]) -> Vec<usize> {
    bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i).collect()
}
