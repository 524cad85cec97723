//! Machine outputs streamed to standard output as lines are validated, so memory stays bounded
//! however many diagnostics a run has:
//! - `ndjson`: one `{"file","line","column","code","severity","message","path","resourceType","resourceId"}`
//!   per diagnostic;
//! - `operationoutcome`: one FHIR `collection` Bundle (on one line) with an OperationOutcome per failed
//!   line, `urn:uuid:` fullUrls — a resource fhir-preflight itself accepts;
//! - `sarif`: SARIF 2.1.0, one result per diagnostic on the file and line, for CI code scanning.

use std::io::{self, Write};

use fhir_preflight::{operation_outcome, Code, Diagnostic, LineResult, Severity};
use serde_json::json;

/// Receives what the run finds, in input order.
pub(crate) trait Stream {
    fn line(&mut self, input: &str, line: &LineResult<'_>) -> io::Result<()>;
    fn notes(&mut self, input: &str, notes: &[Diagnostic]) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;
}

/// One diagnostic as a JSON object, keys in the documented order.
fn diagnostic_json(input: &str, d: &Diagnostic, resource_type: Option<&str>, resource_id: Option<&str>) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    let opt = |v: Option<&str>| v.map_or_else(|| "null".to_owned(), s);
    format!(
        "{{\"file\":{},\"line\":{},\"column\":{},\"code\":{},\"severity\":{},\"message\":{},\"path\":{},\"resourceType\":{},\"resourceId\":{}}}",
        s(input),
        d.line,
        d.column.map_or_else(|| "null".to_owned(), |c| c.to_string()),
        s(d.code.as_str()),
        s(d.severity.as_str()),
        s(&d.message),
        opt(d.path.as_deref()),
        opt(resource_type),
        opt(resource_id)
    )
}

pub(crate) struct Ndjson<W: Write>(pub(crate) W);

impl<W: Write> Stream for Ndjson<W> {
    fn line(&mut self, input: &str, line: &LineResult<'_>) -> io::Result<()> {
        for d in line.diagnostics {
            writeln!(self.0, "{}", diagnostic_json(input, d, line.resource_type, line.resource_id))?;
        }
        Ok(())
    }

    fn notes(&mut self, input: &str, notes: &[Diagnostic]) -> io::Result<()> {
        for d in notes {
            writeln!(self.0, "{}", diagnostic_json(input, d, None, None))?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A `collection` Bundle with an OperationOutcome per failed line.
pub(crate) struct Bundle<W: Write> {
    out: W,
    entries: u64,
}

impl<W: Write> Bundle<W> {
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        write!(out, "{{\"resourceType\":\"Bundle\",\"id\":\"fhir-preflight-report\",\"type\":\"collection\"")?;
        Ok(Bundle { out, entries: 0 })
    }
}

impl<W: Write> Stream for Bundle<W> {
    fn line(&mut self, input: &str, line: &LineResult<'_>) -> io::Result<()> {
        if line.diagnostics.iter().all(|d| d.severity < Severity::Error) {
            return Ok(());
        }
        self.entries += 1;
        let separator = if self.entries == 1 { ",\"entry\":[" } else { "," };
        let outcome = operation_outcome(None, line.diagnostics);
        // Where the line is: an extension on the OperationOutcome (input file and line).
        let source = json!({"url": "urn:fhir-preflight:source", "valueString": format!("{input}:{}", line.line)});
        let outcome = outcome.replacen(
            "\"resourceType\":\"OperationOutcome\",",
            &format!("\"resourceType\":\"OperationOutcome\",\"extension\":[{source}],"),
            1,
        );
        write!(
            self.out,
            "{separator}{{\"fullUrl\":\"urn:uuid:00000000-0000-4000-8000-{:012x}\",\"resource\":{outcome}}}",
            self.entries
        )
    }

    fn notes(&mut self, _: &str, _: &[Diagnostic]) -> io::Result<()> {
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        if self.entries > 0 {
            write!(self.out, "]")?;
        }
        writeln!(self.out, "}}")?;
        self.out.flush()
    }
}

/// SARIF 2.1.0 with every diagnostic code as a rule.
pub(crate) struct Sarif<W: Write> {
    out: W,
    results: u64,
}

impl<W: Write> Sarif<W> {
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        let rules: Vec<serde_json::Value> = Code::ALL
            .iter()
            .map(|c| json!({"id": c.as_str(), "name": c.as_str(), "properties": {"fhirIssueType": c.issue_type()}}))
            .collect();
        let driver = json!({
            "name": "fhir-preflight",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        });
        write!(
            out,
            "{{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":{driver}}},\"results\":["
        )?;
        Ok(Sarif { out, results: 0 })
    }

    fn result(&mut self, input: &str, d: &Diagnostic) -> io::Result<()> {
        let level = match d.severity {
            Severity::Fatal | Severity::Error => "error",
            Severity::Warning => "warning",
            _ => "note",
        };
        let mut region = json!({"startLine": d.line});
        if let Some(column) = d.column {
            region["startColumn"] = json!(column);
        }
        let mut message = d.message.clone();
        if let Some(path) = &d.path {
            message.push_str(&format!(" (at {path})"));
        }
        let result = json!({
            "ruleId": d.code.as_str(),
            "level": level,
            "message": {"text": message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": input}, "region": region}}],
        });
        let separator = if self.results == 0 { "" } else { "," };
        self.results += 1;
        write!(self.out, "{separator}{result}")
    }
}

impl<W: Write> Stream for Sarif<W> {
    fn line(&mut self, input: &str, line: &LineResult<'_>) -> io::Result<()> {
        line.diagnostics.iter().try_for_each(|d| self.result(input, d))
    }

    fn notes(&mut self, input: &str, notes: &[Diagnostic]) -> io::Result<()> {
        notes.iter().try_for_each(|d| self.result(input, d))
    }

    fn end(&mut self) -> io::Result<()> {
        writeln!(self.out, "]}}]}}")?;
        self.out.flush()
    }
}
