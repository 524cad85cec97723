//! # fhir-preflight
//!
//! Validate newline-delimited JSON (NDJSON) files of FHIR R4 resources before a bulk import
//! (AWS HealthLake's `StartFHIRImportJob`), and get the verdict HealthLake would give: the same
//! manifest counts, the same `SUCCESS/` and `FAILURE/` records, and for every bad line its line
//! number, resource id, FHIR path and a clear message.
//!
//! The engine is push-based: a [`Validator`] takes chunks of bytes as they arrive and hands each
//! line's [`LineResult`] to a [`Sink`] in input order; [`validate_reader`] and [`validate_bytes`]
//! are loops over it. Lines are validated in parallel (feature `parallel`, on by default); the
//! results never depend on thread count or chunk size.
//!
//! ```
//! use fhir_preflight::{validate_bytes, Options, Severity};
//!
//! let input = br#"{"resourceType":"Patient","id":"p1"}
//! {"resourceType":"Patient","id":"p_2"}
//! "#;
//! let mut errors = Vec::new();
//! let mut sink = |line: &fhir_preflight::LineResult<'_>| {
//!     for d in line.diagnostics.iter().filter(|d| d.severity() >= Severity::Error) {
//!         errors.push(format!("{}:{} {}", d.line(), d.code(), d.path().unwrap_or_default()));
//!     }
//! };
//! let report = validate_bytes(input, &Options::default(), &mut sink);
//! assert_eq!(report.resources_imported, 1);
//! assert_eq!(errors, vec!["2:resource/id-invalid Patient.id"]);
//! ```
//!
//! ## Layout
//!
//! ```text
//! bytes ─▶ json::framing ─▶ line ─▶ walk ──(hooks: facts)──▶ check/* ─▶ diagnostic::Findings
//!          json::sniff       │       │  reads                      │
//!                            │       └─▶ json::scan   model ◀──────┘ (types, properties, bindings)
//!                            ▼
//!                  validator (batches, threads, sink) ─▶ LineResult ─▶ record / report / run
//! ```
//!
//! - `json`: NDJSON framing, file sniffing, the scanner; knows nothing of FHIR.
//! - `model`: the schema as a value (base R4 generated; profiles layered over base types).
//! - `facts`: what the walk tells the rules (the hook interface), and FHIR paths.
//! - `walk`: parses a line against the model, tracks facts, calls the hooks; no rule body.
//! - `check`: the rules, one family per file, and the table that puts them behind hooks.
//! - `diagnostic`: codes (one table: severity, key), structured messages, findings, levels.
//! - engine: `line` (one line, panics caught), `validator` and `pipeline` (batches, parallelism).
//! - outputs: `record` (HealthLake records), `report` (manifest counts), `run` (run-level rules).
//!
//! Each module's documentation says what it may import; there is no cycle between the JSON
//! layer and the rules, or between the walk and the rules.

mod check;
mod diagnostic;
mod error;
mod facts;
mod fhirpath;
mod json;
mod line;
mod model;
mod options;
#[doc(hidden)]
pub mod oracle;
#[cfg(feature = "parallel")]
mod pipeline;
mod profile;
mod record;
mod report;
mod run;
mod tally;
mod validator;
mod walk;

pub use diagnostic::{Code, Diagnostic, Level, Redaction, Severity};
pub use error::Error;
pub use line::{line_in_progress, LineStatus};
pub use model::r4::{is_resource_type, resource_types};
pub use options::{
    Options, DEFAULT_CHUNK_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ISSUES_PER_LINE, DEFAULT_MAX_LINE_BYTES, MAX_MAX_DEPTH,
};
pub use profile::{Package, PackageError, Profiles};
pub use record::{
    is_failure_record, operation_outcome, operation_outcome_with, write_record, write_record_with, CODE_SYSTEM,
};
pub use report::{format_mb, Counts, FileRead, Manifest};
pub use run::{id_hash, FileChecks, RunChecks, MAX_FILES_PER_JOB, MAX_IDS};
pub use tally::{Tally, UNKNOWN_TYPE};
pub use validator::{
    validate_bytes, validate_chunks, validate_reader, Discard, FileReport, LineResult, Sink, Validator,
};

/// The generated R4 tables, read-only, for tools; not a stable API.
#[doc(hidden)]
pub use model::view as schema;

/// Internals exposed for the benchmarks, property tests and fuzz targets; not a stable API.
#[doc(hidden)]
pub mod bench_support {
    /// Validate `data` fed in the pieces that `cuts` (sorted offsets) make; returns the report and
    /// every line's record: what must not depend on chunking or threads.
    pub fn validate_in_pieces(data: &[u8], cuts: &[usize], options: &crate::Options) -> (crate::FileReport, Vec<u8>) {
        let mut records = Vec::new();
        let sink = |l: &crate::LineResult<'_>| crate::write_record(&mut records, l);
        let mut validator = crate::Validator::new(options, sink);
        let mut at = 0;
        for &cut in cuts {
            let cut = cut.min(data.len()).max(at);
            validator.feed(&data[at..cut]);
            at = cut;
        }
        validator.feed(&data[at..]);
        let report = validator.finish();
        (report, records)
    }

    /// Validate one line, alone (no framing, no batches): whether it would be imported.
    pub fn validate_line(line: &[u8], options: &crate::Options) -> bool {
        crate::line::validate(line, 1, 0, options).status == crate::LineStatus::Imported
    }

    /// Check the JSON syntax of one line with the validator's own scanner and nothing else (no
    /// UTF-8 check, no FHIR): the floor under full validation, for the benchmarks.
    pub fn scan_only(line: &[u8]) -> bool {
        crate::json::scan::Scanner::new(line).skip_value().is_ok()
    }

    /// Frame `input` into lines (the NDJSON rules, no validation) and return the number of
    /// non-blank lines: the cost of framing alone.
    pub fn count_lines(input: &[u8]) -> u64 {
        let mut framer = crate::json::framing::Framer::new(crate::DEFAULT_MAX_LINE_BYTES);
        let mut batch = crate::json::framing::Batch::default();
        let mut rest = input;
        let mut lines = 0;
        while !rest.is_empty() {
            let used = framer.feed(rest, &mut batch, 4 << 20);
            rest = &rest[used..];
            lines += batch.lines.len() as u64;
            framer.compact(&mut batch);
        }
        framer.finish(&mut batch);
        lines + batch.lines.len() as u64
    }
}
