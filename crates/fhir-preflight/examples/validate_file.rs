//! Validate one NDJSON file and print HealthLake's manifest for it.
//! `cargo run -p fhir-preflight --example validate_file -- fixtures/example/bulk-export.ndjson`

use fhir_preflight::{validate_reader, Counts, Discard, FileRead, Manifest, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "fixtures/example/bulk-export.ndjson".to_owned());
    let file = std::fs::File::open(&path)?;
    let report = validate_reader(file, &Options::default(), &mut Discard)?;
    let mut counts = Counts::default();
    counts.add_file(&report, FileRead::Success);
    print!("{}", Manifest { input_uri: path, output_dir: None, counts }.to_json());
    Ok(())
}
