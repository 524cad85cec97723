//! HealthLake's per-line records for `SUCCESS/` and `FAILURE/`, one JSON object per line:
//! `{"lineId":N,"resourceId":…,"resourceType":…,"UpdateResourceResponse":{"jsonBlob":{OperationOutcome},"statusCode":S}}`.
//! Every diagnostic becomes an OperationOutcome `issue`: FHIR IssueType in `code`, our stable
//! code in `details.coding`, the FHIR path in `location` and `expression`, line and column in the
//! standard `operationoutcome-issue-line`/`-col` extensions. The resource itself is never echoed.

use std::fmt::Write;

use crate::diagnostic::{Diagnostic, Redaction};
use crate::line::LineStatus;
use crate::report::json_string;
use crate::validator::LineResult;

/// The `Coding.system` of our diagnostic codes in OperationOutcomes.
///
/// ```
/// assert!(fhir_preflight::CODE_SYSTEM.starts_with("urn:"));
/// ```
pub const CODE_SYSTEM: &str = "urn:fhir-preflight:diagnostic";
const LINE_EXT: &str = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
const COL_EXT: &str = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";

/// Is this line's record written to `FAILURE/` (else `SUCCESS/`)?
///
/// ```
/// let mut failures = 0;
/// let mut sink = |l: &fhir_preflight::LineResult<'_>| failures += usize::from(fhir_preflight::is_failure_record(l));
/// fhir_preflight::validate_bytes(b"{}\n", &Default::default(), &mut sink);
/// assert_eq!(failures, 1);
/// ```
pub fn is_failure_record(line: &LineResult<'_>) -> bool {
    line.status != LineStatus::Imported
}

/// Append the line's record (one line of JSON and `\n`) to `out`.
///
/// ```
/// # use fhir_preflight::*;
/// let mut records = Vec::new();
/// let mut sink = |line: &LineResult<'_>| write_record(&mut records, line);
/// validate_bytes(b"{\"resourceType\":\"Patient\"}\n", &Options::default(), &mut sink);
/// let record: serde_json::Value = serde_json::from_slice(&records).unwrap();
/// assert_eq!(record["lineId"], 1);
/// assert_eq!(record["UpdateResourceResponse"]["statusCode"], 400);
/// ```
pub fn write_record(out: &mut Vec<u8>, line: &LineResult<'_>) {
    write_record_with(out, line, Redaction::Off);
}

/// [`write_record`], values shown or redacted: with [`Redaction::On`] the record carries
/// `"resourceId": null`, the resource type only when R4 defines it, and messages and paths
/// without the data's values.
///
/// ```
/// # use fhir_preflight::*;
/// let mut records = Vec::new();
/// let mut sink = |line: &LineResult<'_>| write_record_with(&mut records, line, Redaction::On);
/// validate_bytes(b"{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"F\"}\n", &Options::default(), &mut sink);
/// let text = String::from_utf8(records).unwrap();
/// assert!(text.contains("\"resourceId\":null") && !text.contains("'F'") && text.contains("<redacted>"));
/// ```
pub fn write_record_with(out: &mut Vec<u8>, line: &LineResult<'_>, redaction: Redaction) {
    let redacted;
    let line = match redaction {
        Redaction::Off => line,
        Redaction::On => {
            redacted = line.redacted();
            &redacted
        }
    };
    let mut s = String::with_capacity(256);
    let opt = |v: Option<&str>| v.map_or_else(|| "null".to_owned(), json_string);
    let _ = write!(
        s,
        "{{\"lineId\":{},\"resourceId\":{},\"resourceType\":{},\"UpdateResourceResponse\":{{\"jsonBlob\":{}",
        line.line,
        opt(line.resource_id),
        opt(line.resource_type),
        operation_outcome_with(None, line.diagnostics, redaction)
    );
    let _ = writeln!(s, ",\"statusCode\":{}}}}}", line.status.status_code());
    out.extend_from_slice(s.as_bytes());
}

/// An OperationOutcome holding `diagnostics` as issues (or one `informational` "All OK"), as JSON.
///
/// ```
/// let oo = fhir_preflight::operation_outcome(Some("oo1"), &[]);
/// assert!(oo.starts_with(r#"{"resourceType":"OperationOutcome","id":"oo1","issue":[{"#));
/// ```
pub fn operation_outcome(id: Option<&str>, diagnostics: &[Diagnostic]) -> String {
    operation_outcome_with(id, diagnostics, Redaction::Off)
}

/// [`operation_outcome`], values shown or redacted.
pub fn operation_outcome_with(id: Option<&str>, diagnostics: &[Diagnostic], redaction: Redaction) -> String {
    let mut s = String::from("{\"resourceType\":\"OperationOutcome\",");
    if let Some(id) = id {
        let _ = write!(s, "\"id\":{},", json_string(id));
    }
    s.push_str("\"issue\":[");
    if diagnostics.is_empty() {
        s.push_str("{\"severity\":\"information\",\"code\":\"informational\",\"diagnostics\":\"All OK\"}");
    }
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_issue(&mut s, d, redaction);
    }
    s.push_str("]}");
    s
}

/// One OperationOutcome issue as JSON.
pub(crate) fn write_issue(s: &mut String, d: &Diagnostic, redaction: Redaction) {
    s.push('{');
    let mut ext = Vec::new();
    // Line 0: a note about a whole file or run, on no line.
    if let Some(line) = i32::try_from(d.line()).ok().filter(|&l| l > 0) {
        ext.push(format!("{{\"url\":\"{LINE_EXT}\",\"valueInteger\":{line}}}"));
    }
    if let Some(Ok(col)) = d.column().map(i32::try_from) {
        ext.push(format!("{{\"url\":\"{COL_EXT}\",\"valueInteger\":{col}}}"));
    }
    if !ext.is_empty() {
        let _ = write!(s, "\"extension\":[{}],", ext.join(","));
    }
    let _ = write!(
        s,
        "\"severity\":\"{}\",\"code\":\"{}\",\"details\":{{\"coding\":[{{\"system\":\"{CODE_SYSTEM}\",\"code\":\"{}\"}}]}},\"diagnostics\":{}",
        d.severity().as_str(),
        d.code().issue_type(),
        d.code().as_str(),
        json_string(&d.message_with(redaction))
    );
    if let Some(path) = d.path_with(redaction) {
        let p = json_string(&path);
        let _ = write!(s, ",\"location\":[{p}],\"expression\":[{p}]");
    }
    s.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Code, Severity};

    #[test]
    fn failure_record_shape() {
        let diags = [Diagnostic::from_parts(
            Code::ResourceIdInvalid,
            Some(Severity::Error),
            crate::diagnostic::Message::plain("id 'a_b' does not match"),
            4,
        )
        .with_location(Some(30), Some(99), Some(crate::diagnostic::Message::plain("Patient.id")))];
        let line = LineResult {
            line: 4,
            byte_offset: 70,
            byte_len: 40,
            status: LineStatus::CustomerError,
            resource_type: Some("Patient"),
            resource_id: Some("a_b"),
            diagnostics: &diags,
        };
        assert!(is_failure_record(&line));
        let mut out = Vec::new();
        write_record(&mut out, &line);
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["lineId"], 4);
        assert_eq!(v["resourceId"], "a_b");
        assert_eq!(v["resourceType"], "Patient");
        let r = &v["UpdateResourceResponse"];
        assert_eq!(r["statusCode"], 400);
        let issue = &r["jsonBlob"]["issue"][0];
        assert_eq!(r["jsonBlob"]["resourceType"], "OperationOutcome");
        assert_eq!(issue["severity"], "error");
        assert_eq!(issue["code"], "value");
        assert_eq!(issue["details"]["coding"][0]["code"], "resource/id-invalid");
        assert_eq!(issue["location"][0], "Patient.id");
        assert_eq!(issue["expression"][0], "Patient.id");
        assert_eq!(issue["extension"][0]["valueInteger"], 4);
        assert_eq!(issue["extension"][1]["valueInteger"], 30);
    }

    #[test]
    fn success_record_without_diagnostics() {
        let line = LineResult {
            line: 1,
            byte_offset: 0,
            byte_len: 10,
            status: LineStatus::Imported,
            resource_type: None,
            resource_id: None,
            diagnostics: &[],
        };
        assert!(!is_failure_record(&line));
        let mut out = Vec::new();
        write_record(&mut out, &line);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert!(v["resourceId"].is_null());
        assert_eq!(v["UpdateResourceResponse"]["statusCode"], 200);
        assert_eq!(v["UpdateResourceResponse"]["jsonBlob"]["issue"][0]["code"], "informational");
    }
}
