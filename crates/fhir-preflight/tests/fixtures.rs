//! Every fixture with a sidecar `.expect` file: each listed line gets exactly the listed error
//! codes (and the right line number), every other line is imported. Plus snapshots of the records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fhir_preflight::{validate_bytes, write_record, LineResult, LineStatus, Options, Severity};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// One expected diagnostic: `code`, `code[key]` (an invariant's HL7 key), `code:warning`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    code: String,
    key: Option<String>,
    severity: Severity,
}

fn parse_expected(token: &str) -> Expected {
    let (rest, severity) = match token.split_once(':') {
        Some((rest, "warning")) => (rest, Severity::Warning),
        Some((rest, "information")) => (rest, Severity::Information),
        Some((rest, "error")) | Some((rest, "")) => (rest, Severity::Error),
        Some((_, other)) => panic!("unknown severity {other} in {token}"),
        None => (token, Severity::Error),
    };
    let (code, key) = match rest.split_once('[') {
        Some((code, key)) => (code, Some(key.trim_end_matches(']').to_owned())),
        None => (rest, None),
    };
    Expected { code: code.to_owned(), key, severity }
}

/// `line -> expected diagnostics` from an `.expect` file (`line<TAB>token,token`).
fn expectations(path: &Path) -> BTreeMap<u64, Vec<Expected>> {
    let text = std::fs::read_to_string(path).expect("read .expect");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (line, codes) = l.split_once('\t').expect("line<TAB>codes");
            let mut codes: Vec<Expected> = codes.split(',').map(parse_expected).collect();
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
        // Errors: exactly the listed codes. Warnings and information: at least the listed ones.
        let errors_expected: BTreeMap<u64, Vec<String>> = expected
            .iter()
            .map(|(l, e)| (*l, e.iter().filter(|e| e.severity >= Severity::Error).map(|e| e.code.clone()).collect()))
            .filter(|(_, codes): &(u64, Vec<String>)| !codes.is_empty())
            .collect();
        let bytes = std::fs::read(&file).expect("read fixture");
        let mut got: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        let mut imported = Vec::new();
        let mut sink = |line: &LineResult<'_>| {
            for d in line.diagnostics {
                assert_eq!(d.line(), line.line, "{}: diagnostic line number", file.display());
            }
            for want in expected.get(&line.line).into_iter().flatten() {
                let found = line.diagnostics.iter().any(|d| {
                    d.code().as_str() == want.code
                        && (d.severity() == want.severity
                            || want.severity == Severity::Error && d.severity() >= Severity::Error)
                        && (want.key.is_none() || d.key() == want.key.as_deref())
                });
                assert!(found, "{}:{}: no {want:?} in {:?}", file.display(), line.line, line.diagnostics);
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
        assert_eq!(got, errors_expected, "{}: lines with errors and their codes", file.display());
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
