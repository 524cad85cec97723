//! Every fixture with a sidecar `.expect` file: each listed line gets exactly the listed error
//! codes (and the right line number), every other line is imported. Plus snapshots of the records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fhir_preflight::{validate_bytes, write_record, LineResult, LineStatus, Options, Severity};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// `line -> expected error codes` from an `.expect` file.
fn expectations(path: &Path) -> BTreeMap<u64, Vec<String>> {
    let text = std::fs::read_to_string(path).expect("read .expect");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (line, codes) = l.split_once('\t').expect("line<TAB>codes");
            let mut codes: Vec<String> = codes.split(',').map(str::to_owned).collect();
            codes.sort();
            (line.parse().expect("line number"), codes)
        })
        .collect()
}

fn ndjson_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read fixtures") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            ndjson_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "ndjson") {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_line_gets_its_expected_codes() {
    let mut files = Vec::new();
    ndjson_files(&fixtures_dir(), &mut files);
    files.sort();
    let mut checked = 0;
    for file in files {
        let expect_path = file.with_extension("expect");
        if !expect_path.exists() {
            continue;
        }
        let expected = expectations(&expect_path);
        let bytes = std::fs::read(&file).expect("read fixture");
        let mut got: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        let mut imported = Vec::new();
        let mut sink = |line: &LineResult<'_>| {
            for d in line.diagnostics {
                assert_eq!(d.line(), line.line, "{}: diagnostic line number", file.display());
            }
            let mut codes: Vec<String> = line
                .diagnostics
                .iter()
                .filter(|d| d.severity() >= Severity::Error)
                .map(|d| d.code().as_str().to_owned())
                .collect();
            codes.sort();
            assert_eq!(line.status == LineStatus::Imported, codes.is_empty(), "{}:{}", file.display(), line.line);
            if codes.is_empty() {
                imported.push(line.line);
            } else {
                got.insert(line.line, codes);
            }
        };
        validate_bytes(&bytes, &Options::default(), &mut sink);
        assert_eq!(got, expected, "{}: lines with errors and their codes", file.display());
        checked += 1;
    }
    assert!(checked >= 7, "expected the fixture set to have .expect files, found {checked}");
}

/// Records of a fixture file, as the CLI writes them, for snapshots.
fn records(file: &str) -> String {
    let bytes = std::fs::read(fixtures_dir().join(file)).expect("read fixture");
    let mut out = Vec::new();
    let mut sink = |line: &LineResult<'_>| {
        if line.status != LineStatus::Imported {
            write_record(&mut out, line);
        }
    };
    let report = validate_bytes(&bytes, &Options::default(), &mut sink);
    format!("{report:#?}\n{}", String::from_utf8(out).expect("records are UTF-8"))
}

#[test]
fn snapshot_invalid_lines() {
    insta::assert_snapshot!(records("invalid/lines.ndjson"));
}

#[test]
fn snapshot_pretty_printed() {
    insta::assert_snapshot!(records("edge/pretty-printed.ndjson"));
}

#[test]
fn snapshot_example() {
    insta::assert_snapshot!(records("example/bulk-export.ndjson"));
}
