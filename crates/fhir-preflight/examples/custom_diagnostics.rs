//! Custom handling of diagnostics: a sink type that counts findings per code and treats chosen
//! warnings as blocking for your own pipeline (HealthLake would still import those lines).
//! `cargo run -p fhir-preflight --example custom_diagnostics`

use std::collections::BTreeMap;

use fhir_preflight::{validate_bytes, Code, LineResult, Options, Severity, Sink};

#[derive(Debug, Default)]
struct Policy {
    per_code: BTreeMap<Code, u64>,
    blocking: Vec<(u64, Code)>,
}

impl Sink for Policy {
    fn line(&mut self, line: &LineResult<'_>) {
        for d in line.diagnostics {
            *self.per_code.entry(d.code()).or_default() += 1;
            // Our pipeline refuses conditional references too, though HealthLake accepts them.
            if d.severity() >= Severity::Error || d.code() == Code::ReferenceConditional {
                self.blocking.push((line.line, d.code()));
            }
        }
    }
}

fn main() {
    let input = concat!(
        r#"{"resourceType":"Patient","id":"p1","generalPractitioner":[{"reference":"Practitioner?identifier=http://npi|1"}]}"#,
        "\n",
        r#"{"resourceType":"Patient","id":"p2","gender":"F"}"#,
        "\n",
        r#"{"resourceType":"Patient","id":"p3","name":[{"family":" Doe"}]}"#,
        "\n"
    );
    let mut policy = Policy::default();
    let report = validate_bytes(input.as_bytes(), &Options::default(), &mut |l: &LineResult<'_>| policy.line(l));
    println!("HealthLake would import {} of {}", report.resources_imported, report.resources_scanned);
    for (code, n) in &policy.per_code {
        println!("{code}: {n}");
    }
    println!("blocking for us: {:?}", policy.blocking);
    assert_eq!(policy.blocking, vec![(1, Code::ReferenceConditional), (2, Code::BindingRequired)]);
}
