//! Machine outputs streamed to standard output as lines are validated, so memory stays bounded
//! however many diagnostics a run has:
//! - `ndjson`: one `{"file","line","column","code","key","severity","message","path","resourceType","resourceId"}`
//!   per diagnostic (`key`: an invariant's HL7 key, `per-1`, else `null`);
//! - `operationoutcome`: one FHIR `collection` Bundle (on one line) with an OperationOutcome per failed
//!   line, `urn:uuid:` fullUrls — a resource fhir-preflight itself accepts;
//! - `sarif`: SARIF 2.1.0, one result per diagnostic on the file and line, for CI code scanning.
//!
//! Rendering is split from writing so that inputs validated at the same time can render into
//! their own spools ([`crate::ordered`]) and still come out in input order: [`Render`] turns a
//! line into *items* without any state (the Bundle's fullUrl is made of the input's index and the
//! line number, not of a running counter), and [`Out`] writes items, the header, the separators
//! and the trailer.

use std::io::{self, Write};

use fhir_preflight::{operation_outcome_with, Code, Diagnostic, LineResult, Redaction, Severity};
use serde_json::json;

/// How items look, per streamed format. Items of the Bundle and of SARIF start with `,`; the
/// writer drops (or replaces) the first one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Render {
    Ndjson,
    Bundle,
    Sarif,
}

/// One diagnostic as a JSON object, keys in the documented order. A note about the whole run has
/// no file (`null`) and no line (`null`).
fn diagnostic_json(
    input: Option<&str>,
    d: &Diagnostic,
    resource_type: Option<&str>,
    resource_id: Option<&str>,
    redaction: Redaction,
) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    let opt = |v: Option<&str>| v.map_or_else(|| "null".to_owned(), s);
    format!(
        "{{\"file\":{},\"line\":{},\"column\":{},\"code\":{},\"key\":{},\"severity\":{},\"message\":{},\"path\":{},\"resourceType\":{},\"resourceId\":{}}}",
        opt(input),
        if input.is_some() { d.line().to_string() } else { "null".to_owned() },
        d.column().map_or_else(|| "null".to_owned(), |c| c.to_string()),
        s(d.code().as_str()),
        opt(d.key()),
        s(d.severity().as_str()),
        s(&d.message_with(redaction)),
        opt(d.path_with(redaction).as_deref()),
        opt(resource_type),
        opt(resource_id)
    )
}

/// A SARIF result, with its leading separator; a note about the whole run has no location.
fn sarif_result(input: Option<&str>, d: &Diagnostic, redaction: Redaction, out: &mut Vec<u8>) {
    let level = match d.severity() {
        Severity::Fatal | Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "note",
    };
    let mut region = json!({"startLine": d.line()});
    if let Some(column) = d.column() {
        region["startColumn"] = json!(column);
    }
    let mut message = d.message_with(redaction);
    if let Some(path) = d.path_with(redaction) {
        message.push_str(&format!(" (at {path})"));
    }
    let mut result = json!({
        "ruleId": d.code().as_str(),
        "level": level,
        "message": {"text": message},
    });
    if let Some(input) = input {
        result["locations"] = json!([{"physicalLocation": {"artifactLocation": {"uri": input}, "region": region}}]);
    }
    out.push(b',');
    out.extend_from_slice(result.to_string().as_bytes());
}

impl Render {
    /// The items for one validated line (none for a clean line), appended to `out`. `file` is the
    /// input's index in the run.
    pub(crate) fn line(self, file: usize, input: &str, line: &LineResult<'_>, redaction: Redaction, out: &mut Vec<u8>) {
        match self {
            Render::Ndjson => {
                for d in line.diagnostics {
                    let json = diagnostic_json(Some(input), d, line.resource_type, line.resource_id, redaction);
                    out.extend_from_slice(json.as_bytes());
                    out.push(b'\n');
                }
            }
            Render::Sarif => line.diagnostics.iter().for_each(|d| sarif_result(Some(input), d, redaction, out)),
            Render::Bundle => {
                if line.diagnostics.iter().all(|d| d.severity() < Severity::Error) {
                    return;
                }
                let source = format!("{input}:{}", line.line);
                bundle_entry(file, line.line, &source, line.diagnostics, redaction, out);
            }
        }
    }

    /// The items for notes about a file (`at`: its index in the run and its name: byte-order mark,
    /// blank lines, mixed types, size) or, with `None`, about the whole run (duplicate ids, the
    /// file limit).
    pub(crate) fn notes(
        self,
        at: Option<(usize, &str)>,
        notes: &[Diagnostic],
        redaction: Redaction,
        out: &mut Vec<u8>,
    ) {
        let input = at.map(|(_, input)| input);
        match self {
            Render::Ndjson => {
                for d in notes {
                    out.extend_from_slice(diagnostic_json(input, d, None, None, redaction).as_bytes());
                    out.push(b'\n');
                }
            }
            Render::Sarif => notes.iter().for_each(|d| sarif_result(input, d, redaction, out)),
            // One OperationOutcome for the file's notes (line 0 in its fullUrl), or for the run's.
            Render::Bundle if notes.is_empty() => {}
            Render::Bundle => match at {
                Some((file, input)) => bundle_entry(file, 0, input, notes, redaction, out),
                None => bundle_entry(RUN_FILE, 0, "(run)", notes, redaction, out),
            },
        }
    }
}

/// The file index in the fullUrl of the run's notes (inputs are numbered from 0, far below it).
const RUN_FILE: usize = 0xffff_ffff;

/// A Bundle entry, with its leading separator: an OperationOutcome of `diagnostics`, which says
/// where they are (`source`: input and line) in an extension.
fn bundle_entry(
    file: usize,
    line: u64,
    source: &str,
    diagnostics: &[Diagnostic],
    redaction: Redaction,
    out: &mut Vec<u8>,
) {
    let outcome = operation_outcome_with(None, diagnostics, redaction);
    let source = json!({"url": "urn:fhir-preflight:source", "valueString": source});
    let outcome = outcome.replacen(
        "\"resourceType\":\"OperationOutcome\",",
        &format!("\"resourceType\":\"OperationOutcome\",\"extension\":[{source}],"),
        1,
    );
    // A version-4 UUID unique in the Bundle: the input's index and the line number.
    let _ = write!(
        out,
        ",{{\"fullUrl\":\"urn:uuid:{:08x}-0000-4000-8000-{:012x}\",\"resource\":{outcome}}}",
        file & 0xffff_ffff,
        line & 0xffff_ffff_ffff
    );
}

/// Writes a streamed format to standard output: header, items in order, trailer.
pub(crate) struct Out {
    render: Render,
    out: Box<dyn Write + Send>,
    started: bool,
}

impl Out {
    pub(crate) fn new(render: Render, mut out: Box<dyn Write + Send>) -> io::Result<Self> {
        match render {
            Render::Ndjson => {}
            Render::Bundle => {
                write!(out, "{{\"resourceType\":\"Bundle\",\"id\":\"fhir-preflight-report\",\"type\":\"collection\"")?
            }
            Render::Sarif => {
                let rules: Vec<serde_json::Value> = Code::ALL
                    .iter()
                    .map(|c| {
                        json!({"id": c.as_str(), "name": c.as_str(), "properties": {"fhirIssueType": c.issue_type()}})
                    })
                    .collect();
                let driver = json!({
                    "name": "fhir-preflight",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                });
                write!(
                    out,
                    "{{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":{driver}}},\"results\":["
                )?
            }
        }
        Ok(Out { render, out, started: false })
    }

    /// Write rendered items (any number, possibly none).
    pub(crate) fn items(&mut self, items: &[u8]) -> io::Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let first = !self.started;
        self.started = true;
        match (self.render, first) {
            (Render::Ndjson, _) | (_, false) => self.out.write_all(items),
            (Render::Bundle, true) => {
                self.out.write_all(b",\"entry\":[")?;
                self.out.write_all(&items[1..])
            }
            (Render::Sarif, true) => self.out.write_all(&items[1..]),
        }
    }

    pub(crate) fn end(&mut self) -> io::Result<()> {
        match self.render {
            Render::Ndjson => {}
            Render::Bundle => {
                if self.started {
                    write!(self.out, "]")?;
                }
                writeln!(self.out, "}}")?;
            }
            Render::Sarif => writeln!(self.out, "]}}]}}")?,
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes items split anywhere between whole items; the output is the same valid JSON.
    #[test]
    fn separators_do_not_depend_on_how_items_are_grouped() {
        for render in [Render::Bundle, Render::Sarif, Render::Ndjson] {
            let mut items = Vec::new();
            // Two failed lines in one input, one in another.
            for (file, input) in [(0, "[]\n[1]\n"), (1, "[]\n")] {
                let mut sink = |line: &LineResult<'_>| {
                    let mut one = Vec::new();
                    render.line(file, "f.ndjson", line, Redaction::Off, &mut one);
                    items.push(one);
                };
                fhir_preflight::validate_bytes(input.as_bytes(), &fhir_preflight::Options::default(), &mut sink);
            }
            let write = |groups: &[Vec<u8>]| {
                let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
                struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
                impl Write for Shared {
                    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                        self.0.lock().unwrap().extend_from_slice(b);
                        Ok(b.len())
                    }
                    fn flush(&mut self) -> io::Result<()> {
                        Ok(())
                    }
                }
                let mut out = Out::new(render, Box::new(Shared(buf.clone()))).unwrap();
                for g in groups {
                    out.items(g).unwrap();
                }
                out.end().unwrap();
                let bytes = buf.lock().unwrap().clone();
                bytes
            };
            let apart = write(&items);
            let together = write(&[items.concat()]);
            assert_eq!(apart, together, "{render:?}");
            if render != Render::Ndjson {
                let v: serde_json::Value = serde_json::from_slice(&apart).expect("valid JSON");
                let n = match render {
                    Render::Bundle => v["entry"].as_array().unwrap().len(),
                    _ => v["runs"][0]["results"].as_array().unwrap().len(),
                };
                assert_eq!(n, 3, "{render:?}");
            } else {
                assert_eq!(apart.iter().filter(|&&b| b == b'\n').count(), 3);
            }
        }
    }
}
