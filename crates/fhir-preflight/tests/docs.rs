//! The README documents every diagnostic code.

#[test]
fn readme_lists_every_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README.md");
    let missing: Vec<&str> =
        fhir_preflight::Code::ALL.iter().map(|c| c.as_str()).filter(|c| !readme.contains(&format!("`{c}`"))).collect();
    assert!(missing.is_empty(), "codes missing from the README's Checks table: {missing:?}");
}
