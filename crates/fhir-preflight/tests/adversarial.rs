//! The adversarial corpus: committed small files in `fixtures/adversarial/` (their line verdicts are
//! checked by `fixtures.rs` from the `.expect` files) and large inputs generated here, at test
//! time, by deterministic readers (never committed). Each gets a clear diagnostic, in bounded time
//! and memory, and the other lines of the file are still judged.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use fhir_preflight::{validate_bytes, validate_reader, Code, FileReport, LineResult, Options, Severity};

const OK: &str = r#"{"resourceType":"Patient","id":"ok"}"#;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/adversarial").join(name)).expect("fixture")
}

fn file_codes(report: &FileReport) -> Vec<Code> {
    report.diagnostics.iter().map(|d| d.code()).collect()
}

#[test]
fn sniffed_files_get_one_file_level_diagnostic() {
    for (name, code) in [
        ("gzip-as-plain.ndjson", Code::NdjsonCompressed),
        ("utf16-with-bom.ndjson", Code::EncodingUtf16),
        ("json-array-export.ndjson", Code::NdjsonJsonArray),
    ] {
        let report = validate_bytes(&fixture(name), &Options::default(), &mut fhir_preflight::Discard);
        assert_eq!(file_codes(&report), vec![code], "{name}");
        assert!(report.diagnostics[0].message().contains("FILE"), "{name}: the message says how to fix it");
    }
    // Ordinary files get none.
    let report = validate_bytes(&fixture("duplicate-keys.ndjson"), &Options::default(), &mut fhir_preflight::Discard);
    assert!(file_codes(&report).is_empty());
}

#[test]
fn empty_and_blank_files() {
    let report = validate_bytes(&fixture("empty.ndjson"), &Options::default(), &mut fhir_preflight::Discard);
    assert_eq!((report.resources_scanned, report.bytes_scanned), (0, 0));
    let report = validate_bytes(&fixture("only-blank-lines.ndjson"), &Options::default(), &mut fhir_preflight::Discard);
    assert_eq!((report.resources_scanned, report.blank_lines), (0, 4));
}

#[test]
fn extreme_decimals_are_valid_r4_with_a_warning() {
    let mut warnings = Vec::new();
    // Information (best-practice constraints such as dom-6, narrative) aside.
    let mut sink = |l: &LineResult<'_>| {
        warnings.extend(
            l.diagnostics
                .iter()
                .filter(|d| d.severity() > Severity::Information)
                .map(|d| (l.line, d.code(), d.severity())),
        )
    };
    let report = validate_bytes(&fixture("extreme-decimals.ndjson"), &Options::default(), &mut sink);
    assert_eq!(report.resources_imported, 3);
    assert_eq!(warnings.len(), 3);
    assert!(warnings.iter().all(|w| w.1 == Code::PrimitiveDecimalRange && w.2 == Severity::Warning), "{warnings:?}");
}

/// `prefix`, then `fill` repeated `n` times, then `suffix`, without holding it in memory.
struct Generated {
    parts: Vec<(Vec<u8>, u64)>,
    part: usize,
    done: u64,
}

impl Generated {
    fn new(parts: Vec<(Vec<u8>, u64)>) -> Self {
        Generated { parts, part: 0, done: 0 }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.part < self.parts.len() {
            let (bytes, times) = &self.parts[self.part];
            if self.done == *times {
                self.part += 1;
                self.done = 0;
                continue;
            }
            let take = bytes.len().min(buf.len() - n);
            if take < bytes.len() && n > 0 {
                break;
            }
            buf[n..n + take].copy_from_slice(&bytes[..take]);
            n += take;
            self.done += 1;
        }
        Ok(n)
    }
}

fn run(reader: impl Read, options: &Options) -> (FileReport, Vec<(u64, Vec<Code>)>, Duration) {
    let mut lines = Vec::new();
    let mut sink = |l: &LineResult<'_>| {
        lines.push((
            l.line,
            l.diagnostics.iter().filter(|d| d.severity() >= Severity::Error).map(|d| d.code()).collect(),
        ))
    };
    let start = Instant::now();
    let report = validate_reader(reader, options, &mut sink).expect("read");
    (report, lines, start.elapsed())
}

fn line(s: &str) -> (Vec<u8>, u64) {
    (s.as_bytes().to_vec(), 1)
}

#[test]
fn a_300_mb_line_is_a_customer_error_and_never_held() {
    let chunk = vec![b'A'; 1 << 20];
    let reader = Generated::new(vec![
        line(&format!("{OK}\n")),
        line(r#"{"resourceType":"Binary","id":"b","contentType":"text/plain","data":""#),
        (chunk, 300),
        line("\"}\n"),
        line(&format!("{OK}\n")),
    ]);
    let (report, lines, elapsed) = run(reader, &Options::default());
    assert_eq!(lines, vec![(1, vec![]), (2, vec![Code::NdjsonLineTooLong]), (3, vec![])]);
    assert_eq!(report.resources_imported, 2);
    assert!(report.bytes_scanned > 300 << 20);
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

#[test]
fn nesting_100000_levels_deep_is_a_customer_error() {
    let reader = Generated::new(vec![
        line(r#"{"resourceType":"Patient","id":"d","extension":"#),
        (b"[".to_vec(), 100_000),
        (b"]".to_vec(), 100_000),
        line(&format!("}}\n{OK}\n")),
    ]);
    let (_, lines, elapsed) = run(reader, &Options::default());
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].1, vec![Code::JsonTooDeep]);
    assert!(lines[1].1.is_empty());
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

#[test]
fn a_million_keys_in_one_object_stay_linear_and_capped() {
    let keys: Vec<(Vec<u8>, u64)> = (0..1_000_000u64).map(|i| (format!(",\"k{i}\":1").into_bytes(), 1)).collect();
    let mut parts = vec![line(r#"{"resourceType":"Patient","id":"k""#)];
    parts.extend(keys);
    parts.push(line(&format!("}}\n{OK}\n")));
    let mut diagnostics = 0;
    let mut sink = |l: &LineResult<'_>| {
        if l.line == 1 {
            diagnostics = l.diagnostics.len();
            assert_eq!(l.diagnostics.last().map(|d| d.code()), Some(Code::LineTooManyIssues));
            // 1,000,000 unknown properties and the best-practice dom-6 (no narrative), 100 listed.
            assert!(l.diagnostics.last().is_some_and(|d| d.message().starts_with("999901 more issues")));
        }
    };
    let start = Instant::now();
    let report = validate_reader(Generated::new(parts), &Options::default(), &mut sink).expect("read");
    assert_eq!(diagnostics, 101, "100 kept plus one 'N more'");
    assert_eq!((report.resources_customer_error, report.resources_imported), (1, 1));
    assert!(start.elapsed() < Duration::from_secs(60), "took {:?}", start.elapsed());
}
