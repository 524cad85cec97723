//! Collect the failed lines of a file (line, resource type, id, first error) for your own report.
//! `cargo run -p fhir-preflight --example collect_failures -- fixtures/invalid/lines.ndjson`

use fhir_preflight::{validate_reader, LineResult, LineStatus, Options, Severity};

#[derive(Debug)]
struct Failure {
    line: u64,
    resource_type: Option<String>,
    resource_id: Option<String>,
    first_error: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "fixtures/invalid/lines.ndjson".to_owned());
    let mut failures = Vec::new();
    let mut sink = |line: &LineResult<'_>| {
        if line.status == LineStatus::Imported {
            return;
        }
        let first = line.diagnostics.iter().find(|d| d.severity() >= Severity::Error);
        failures.push(Failure {
            line: line.line,
            resource_type: line.resource_type.map(str::to_owned),
            resource_id: line.resource_id.map(str::to_owned),
            first_error: first.map(|d| format!("{}: {}", d.code(), d.message())).unwrap_or_default(),
        });
    };
    validate_reader(std::fs::File::open(&path)?, &Options::default(), &mut sink)?;
    for f in &failures {
        println!(
            "{path}:{} {}/{} {}",
            f.line,
            f.resource_type.as_deref().unwrap_or("?"),
            f.resource_id.as_deref().unwrap_or("?"),
            f.first_error
        );
    }
    println!("{} failed lines", failures.len());
    Ok(())
}
