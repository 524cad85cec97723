//! fhir-model rejects ⇒ fhir-preflight reports an error, over HL7's R4 examples and the injected
//! defects, for resource types identical in R4 and R4B. The reverse direction is counted per
//! category and printed (run with `--nocapture` to see it).

use std::collections::{BTreeMap, BTreeSet};

use fhir_model_oracle::{identical_resource_types, model_accepts, resource_types_in};
use fhir_preflight::{validate_bytes, LineResult, Options, Severity};

#[test]
fn fhir_model_rejects_implies_an_error() {
    let identical = identical_resource_types().expect("HL7 packages");
    assert!(identical.len() >= 100, "only {} identical types", identical.len());
    let pkg = xtask::hl7::package_dir().expect("R4 package");
    let mut lines: Vec<(String, String)> = Vec::new(); // (origin, line)
    let mut names: Vec<String> = std::fs::read_dir(&pkg)
        .expect("package")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".json") && !n.starts_with("Bundle-") && n != "package.json")
        .collect();
    names.sort();
    for name in names {
        let bytes = std::fs::read(pkg.join(&name)).expect("read");
        lines.push((name, String::from_utf8(xtask::conformance::minify(&bytes)).expect("UTF-8")));
    }
    for d in xtask::defects::generate().expect("defects") {
        lines.push((format!("{} {:?}", d.file, d.defect), d.line));
    }
    lines.retain(|(_, line)| {
        let mut types = BTreeSet::new();
        resource_types_in(&serde_json::from_str(line).unwrap_or_default(), &mut types);
        !types.is_empty() && types.iter().all(|t| identical.contains(t))
    });
    let mut input = String::new();
    for (_, line) in &lines {
        input.push_str(line);
        input.push('\n');
    }
    let mut ours: Vec<Vec<String>> = vec![Vec::new(); lines.len()];
    let mut sink = |l: &LineResult<'_>| {
        ours[(l.line - 1) as usize] = l
            .diagnostics
            .iter()
            .filter(|d| d.severity() >= Severity::Error)
            .map(|d| d.code().as_str().to_owned())
            .collect();
    };
    validate_bytes(input.as_bytes(), &Options::default(), &mut sink);

    let mut missed = Vec::new();
    let mut reverse: BTreeMap<String, u64> = BTreeMap::new();
    let (mut both, mut neither) = (0u64, 0u64);
    for ((origin, line), errors) in lines.iter().zip(&ours) {
        match (model_accepts(line), errors.is_empty()) {
            (Err(e), true) => missed.push(format!("{origin}: fhir-model rejects ({e}), fhir-preflight accepts")),
            (Err(_), false) => both += 1,
            (Ok(()), false) => {
                for code in errors.iter().collect::<BTreeSet<_>>() {
                    *reverse.entry(code.clone()).or_default() += 1;
                }
            }
            (Ok(()), true) => neither += 1,
        }
    }
    println!("{} lines of {} resource types identical in R4 and R4B", lines.len(), identical.len());
    println!("both reject: {both}; both accept: {neither}; fhir-preflight only rejects, per code:");
    for (code, n) in &reverse {
        println!("  {code}: {n}");
    }
    assert!(
        missed.is_empty(),
        "{} lines fhir-model rejects but fhir-preflight accepts:\n{}",
        missed.len(),
        missed.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}
