//! `cargo xtask conformance [--check]`: validate every official R4 example of
//! `hl7.fhir.r4.examples@4.0.1` as one NDJSON line each (file-name order) and write the summary
//! `conformance/r4-examples.txt`: `passed N/M` and every line with an error, sorted. Examples that
//! HL7 got wrong are listed in `conformance/xfail.tsv`, each with the spec rule it breaks (at most
//! 2% of the lines). With `--check` nothing is written: it fails when the summary would change,
//! when an example outside the xfail list has an error, or when a listed one passes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use fhir_preflight::{validate_bytes, LineResult, Options, Severity};

use crate::hl7;

/// The aggregate definition bundles of the package: conformance resources, not examples.
const DEFINITION_BUNDLES: &[&str] = &[
    "Bundle-conceptmaps.json",
    "Bundle-dataelements.json",
    "Bundle-extensions.json",
    "Bundle-profiles-others.json",
    "Bundle-resources.json",
    "Bundle-searchParams.json",
    "Bundle-terminologies.json",
    "Bundle-types.json",
    "Bundle-v2-valuesets.json",
    "Bundle-v3-valuesets.json",
    "Bundle-valueset-expansions.json",
    "Bundle-valuesets.json",
];

/// Remove the whitespace outside strings: one line, every byte of every value kept.
pub fn minify(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
    out
}

/// The examples of the package in `pkg`: their file names, and the NDJSON text of one minified line
/// per example, in file-name order.
pub fn examples(pkg: &std::path::Path) -> Result<(Vec<String>, Vec<u8>), String> {
    let mut names: Vec<String> = std::fs::read_dir(pkg)
        .map_err(|e| format!("{}: {e}", pkg.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| {
            n.ends_with(".json")
                && n != "package.json"
                && n != ".index.json"
                && !DEFINITION_BUNDLES.contains(&n.as_str())
        })
        .collect();
    names.sort();
    let mut input = Vec::new();
    for name in &names {
        let bytes = std::fs::read(pkg.join(name)).map_err(|e| format!("{name}: {e}"))?;
        input.extend_from_slice(&minify(&bytes));
        input.push(b'\n');
    }
    Ok((names, input))
}

pub fn run(check: bool) -> Result<(), String> {
    let pkg = hl7::package_dir()?;
    let root = hl7::workspace_root();
    let (names, input) = examples(&pkg)?;

    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut sink = |line: &LineResult<'_>| {
        let name = &names[(line.line - 1) as usize];
        for d in line.diagnostics.iter().filter(|d| d.severity() >= Severity::Error) {
            let mut row = format!("{name}\t{}\t{}", d.code(), d.path().as_deref().unwrap_or("-"));
            let _ = write!(row, "\t{}", d.message());
            failures.entry(name.clone()).or_default().push(row);
        }
    };
    let report = validate_bytes(&input, &Options::default(), &mut sink);

    let xfail_path = root.join("conformance/xfail.tsv");
    let xfail_text = std::fs::read_to_string(&xfail_path).unwrap_or_default();
    let xfail: BTreeMap<&str, &str> = xfail_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .collect();

    let total = names.len();
    let failed: BTreeSet<&str> = failures.keys().map(String::as_str).collect();
    let mut summary = String::new();
    summary.push_str(
        "# fhir-preflight over HL7's official FHIR R4 examples (hl7.fhir.r4.examples@4.0.1), one line per file.\n",
    );
    summary.push_str("# Written by `cargo xtask conformance`; `scripts/test` fails when it changes. Errors only.\n");
    let _ = writeln!(summary, "passed {}/{total} (xfail {}: conformance/xfail.tsv)", total - failed.len(), xfail.len());
    let _ = writeln!(summary, "resources scanned {}, imported {}", report.resources_scanned, report.resources_imported);
    for rows in failures.values() {
        for row in rows {
            summary.push_str(row);
            summary.push('\n');
        }
    }

    let mut problems = Vec::new();
    for name in &failed {
        if !xfail.contains_key(name) {
            problems.push(format!("{name} has errors and is not in conformance/xfail.tsv"));
        }
    }
    for name in xfail.keys() {
        if !failed.contains(name) {
            problems.push(format!("{name} is in conformance/xfail.tsv but passes"));
        }
    }
    if xfail.len() * 50 > total {
        problems.push(format!("{} xfail entries: more than 2% of {total}", xfail.len()));
    }
    let summary_path = root.join("conformance/r4-examples.txt");
    if check {
        let current = std::fs::read_to_string(&summary_path).unwrap_or_default();
        if current != summary {
            problems
                .push(format!("{} changed: run `cargo xtask conformance` and review the diff", summary_path.display()));
        }
    } else {
        std::fs::write(&summary_path, &summary).map_err(|e| format!("{}: {e}", summary_path.display()))?;
    }
    eprintln!("passed {}/{total}, {} with errors, xfail {}", total - failed.len(), failed.len(), xfail.len());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::minify;

    #[test]
    fn minify_keeps_strings() {
        let json = b"{\n  \"a b\" : [ 1 ,\n 2 ],\r\n \"c\": \"x \\\" y\\\\\" }";
        assert_eq!(minify(json), b"{\"a b\":[1,2],\"c\":\"x \\\" y\\\\\"}".to_vec());
    }
}
