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

/// The US Core packages (`fixtures/packages/us-core/*.tgz`, committed) in the compact form the
/// core embeds: `(output path, text)`, one per version.
pub fn us_core() -> Result<Vec<(PathBuf, String)>, String> {
    let root = hl7::workspace_root();
    let dir = root.join("fixtures/packages/us-core");
    let out = root.join("crates/fhir-preflight/src/profile/us-core");
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
