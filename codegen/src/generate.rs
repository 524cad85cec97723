//! `cargo codegen [--check]`: the R4 lookup tables of the core, generated from HL7's
//! StructureDefinitions and required-binding expansions (`hl7.fhir.r4.examples@4.0.1`): read by
//! `fhir-preflight-definitions` into an in-memory model, emitted as Rust by [`crate::emit`], and
//! written to `crates/fhir-preflight/src/model/r4/generated.rs`. Deterministic: same package, same
//! bytes. With `--check` it regenerates in memory and fails if the committed file differs (drift).

use std::path::{Path, PathBuf};

use crate::hl7;

pub fn output_path() -> PathBuf {
    hl7::workspace_root().join("crates/fhir-preflight/src/model/r4/generated.rs")
}

pub fn run(check: bool) -> Result<(), String> {
    let pkg = hl7::package_dir()?;
    write_or_check(&output_path(), &generate(&pkg)?, check)?;
    for (path, compact) in us_core()? {
        write_or_check(&path, &compact, check)?;
    }
    let (path, compact) = r4_profiles(&pkg)?;
    write_or_check(&path, &compact, check)?;
    Ok(())
}

fn write_or_check(path: &Path, text: &str, check: bool) -> Result<(), String> {
    if check {
        let current = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if current != text {
            return Err(format!("{} is out of date: run `cargo codegen`", path.display()));
        }
        eprintln!("{} is up to date", path.display());
    } else {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The profiles of base R4 (`vitalsigns`, `bp`, `bodyweight`, … of `hl7.fhir.r4.core`, which
/// every HL7 validator loads: data declares them, Synthea on every vital sign), with the value
/// sets they bind and the code systems those include, in the compact form: `(output path, text)`.
pub fn r4_profiles(pkg: &Path) -> Result<(PathBuf, String), String> {
    use std::collections::BTreeSet;
    let bundle = |name: &str| -> Result<Vec<serde_json::Value>, String> {
        let b = hl7::read_json(&pkg.join(name))?;
        Ok(b.get("entry")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("resource").cloned())
            .collect())
    };
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let profiles: Vec<serde_json::Value> = bundle("Bundle-profiles-others.json")?
        .into_iter()
        .filter(|r| text(r, "resourceType") == "StructureDefinition" && text(r, "derivation") == "constraint")
        .collect();
    let terminology = bundle("Bundle-valuesets.json")?;
    // The value sets bound (required or extensible), and those they include, transitively.
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for sd in &profiles {
        for e in sd.pointer("/snapshot/element").and_then(serde_json::Value::as_array).into_iter().flatten() {
            let Some(b) = e.get("binding") else { continue };
            if matches!(b.get("strength").and_then(serde_json::Value::as_str), Some("required" | "extensible")) {
                wanted.insert(text(b, "valueSet").split('|').next().unwrap_or_default().to_owned());
            }
        }
    }
    let value_sets: Vec<&serde_json::Value> =
        terminology.iter().filter(|r| text(r, "resourceType") == "ValueSet").collect();
    loop {
        let before = wanted.len();
        let mut more = Vec::new();
        for vs in value_sets.iter().filter(|vs| wanted.contains(&text(vs, "url"))) {
            for inc in vs.pointer("/compose/include").and_then(serde_json::Value::as_array).into_iter().flatten() {
                for v in inc.get("valueSet").and_then(serde_json::Value::as_array).into_iter().flatten() {
                    more.push(v.as_str().unwrap_or_default().split('|').next().unwrap_or_default().to_owned());
                }
            }
        }
        wanted.extend(more);
        if wanted.len() == before {
            break;
        }
    }
    let chosen: Vec<serde_json::Value> =
        value_sets.iter().filter(|vs| wanted.contains(&text(vs, "url"))).map(|v| (*v).clone()).collect();
    let systems: BTreeSet<String> = chosen
        .iter()
        .flat_map(|vs| {
            vs.pointer("/compose/include")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter(|inc| inc.get("concept").is_none() && inc.get("filter").is_none())
                .map(|inc| text(inc, "system"))
                .collect::<Vec<_>>()
        })
        .collect();
    let code_systems: Vec<serde_json::Value> = terminology
        .iter()
        .filter(|r| text(r, "resourceType") == "CodeSystem" && systems.contains(&text(r, "url")))
        .cloned()
        .collect();
    let package = fhir_preflight_definitions::package::Package {
        name: "hl7.fhir.r4.core".into(),
        version: "4.0.1".into(),
        dependencies: Vec::new(),
        structure_definitions: profiles,
        value_sets: chosen,
        code_systems,
    };
    let out = hl7::workspace_root().join("crates/fhir-preflight/src/profile/packages/hl7.fhir.r4.core-4.0.1.json");
    Ok((out, package.to_compact()))
}

/// The US Core packages (`fixtures/packages/us-core/*.tgz`, committed) in the compact form the
/// core embeds: `(output path, text)`, one per version.
pub fn us_core() -> Result<Vec<(PathBuf, String)>, String> {
    let root = hl7::workspace_root();
    let dir = root.join("fixtures/packages/us-core");
    let out = root.join("crates/fhir-preflight/src/profile/packages");
    let mut files = Vec::new();
    for version in ["3.1.1", "4.0.0", "5.0.1", "6.1.0", "7.0.0"] {
        let name = format!("hl7.fhir.us.core-{version}");
        let tgz = dir.join(format!("{name}.tgz"));
        let bytes = std::fs::read(&tgz).map_err(|e| format!("{}: {e}", tgz.display()))?;
        let package = fhir_preflight_definitions::package::Package::from_tgz(&bytes)
            .map_err(|e| format!("{}: {e}", tgz.display()))?;
        files.push((out.join(format!("{name}.json")), package.to_compact()));
    }
    Ok(files)
}

/// The definitions of base R4 in the package at `pkg`.
pub fn definitions(pkg: &Path) -> Result<fhir_preflight_definitions::Definitions, String> {
    let resources = hl7::read_json(&pkg.join("Bundle-resources.json"))?;
    let types = hl7::read_json(&pkg.join("Bundle-types.json"))?;
    let expansions = hl7::read_json(&pkg.join("Bundle-valueset-expansions.json"))?;
    fhir_preflight_definitions::read(&resources, &types, &expansions, Some(146))
}

/// The tables' source for the package at `pkg`.
pub fn generate(pkg: &Path) -> Result<String, String> {
    crate::emit::emit(&definitions(pkg)?)
}

#[cfg(test)]
mod tests {
    /// The committed tables are what the generator makes from the pinned package (drift check).
    /// Fetches the package with npm on first use (cached under `.cache/hl7/`).
    #[test]
    fn generated_tables_are_up_to_date() {
        let pkg = crate::hl7::package_dir().expect("HL7 package (npm pack hl7.fhir.r4.examples@4.0.1)");
        let fresh = super::generate(&pkg).expect("generate");
        let committed = std::fs::read_to_string(super::output_path()).expect("read generated.rs");
        assert!(
            fresh == committed,
            "crates/fhir-preflight/src/model/r4/generated.rs is out of date: run `cargo codegen`"
        );
    }
}
