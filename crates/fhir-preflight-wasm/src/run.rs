//! A validation run of one or more files, in plain Rust (tested natively): the core's streaming
//! `Validator` with a sink that keeps HealthLake records as bytes (handed to JS as Blob parts) and
//! rows for the failed-lines table. Every rule is the core's; this only converts.

use fhir_preflight::{
    is_failure_record, write_record, Counts, Diagnostic, FileChecks, FileRead, FileReport, LineResult, Manifest,
    Options, RunChecks, Severity, Sink, Tally, Validator,
};
use serde_json::{json, Value};

/// Records and table rows of the current file since the last `take_*`, and the core's run-level
/// rules, fed with each line.
#[derive(Debug, Default)]
pub struct Buffers {
    file: String,
    failure: Vec<u8>,
    success: Vec<u8>,
    rows: Vec<Value>,
    /// Warnings of imported lines, one row each (their own view on the page).
    warning_rows: Vec<Value>,
    file_checks: FileChecks,
    run: RunChecks,
    tally: Tally,
}

impl Sink for Buffers {
    fn line(&mut self, line: &LineResult<'_>) {
        self.file_checks.line(line);
        self.run.line(&self.file, line);
        self.tally.line(line);
        if is_failure_record(line) {
            write_record(&mut self.failure, line);
            let errors: Vec<&Diagnostic> =
                line.diagnostics.iter().filter(|d| d.severity() >= Severity::Error).collect();
            let first = errors.first();
            let mut codes: Vec<&str> = errors.iter().map(|d| d.code().as_str()).collect();
            codes.dedup();
            self.rows.push(json!({
                "file": self.file,
                "line": line.line,
                "status": line.status.status_code(),
                "resourceType": line.resource_type,
                "resourceId": line.resource_id,
                "severity": first.map(|d| d.severity().as_str()),
                "code": first.map(|d| d.code().as_str()),
                "codes": codes,
                "path": first.and_then(|d| d.path()),
                "message": first.map(|d| d.message()),
                "errors": errors.len(),
            }));
        } else {
            write_record(&mut self.success, line);
            for d in line.diagnostics.iter().filter(|d| d.severity() == Severity::Warning) {
                self.warning_rows.push(json!({
                    "file": self.file,
                    "line": line.line,
                    "resourceType": line.resource_type,
                    "resourceId": line.resource_id,
                    "severity": "warning",
                    "code": d.code().as_str(),
                    "path": d.path(),
                    "message": d.message(),
                }));
            }
        }
    }
}

/// Options as JSON: `{"maxLineBytes":…, "maxIssuesPerLine":…, "maxDepth":…, "level":"strict",
/// "usCoreVersion":"3.1.1"}`.
pub fn options_from_json(text: &str) -> Result<Options, String> {
    let v: Value =
        if text.trim().is_empty() { json!({}) } else { serde_json::from_str(text).map_err(|e| e.to_string())? };
    let mut options = Options::default().with_threads(1);
    if let Some(n) = v["maxLineBytes"].as_u64() {
        options = options.with_max_line_bytes(n).map_err(|e| e.to_string())?;
    }
    if let Some(n) = v["maxIssuesPerLine"].as_u64() {
        options = options.with_max_issues_per_line(n as usize).map_err(|e| e.to_string())?;
    }
    if let Some(n) = v["maxDepth"].as_u64() {
        options = options.with_max_depth(n as usize).map_err(|e| e.to_string())?;
    }
    if let Some(level) = v["level"].as_str() {
        options = options.with_level(level.parse()?);
    }
    if let Some(version) = v["usCoreVersion"].as_str() {
        options = options.with_profiles(fhir_preflight::Profiles::default().with_us_core_version(version)?);
    }
    #[cfg(feature = "fault-injection")]
    if let Some(marker) = v["panicMarker"].as_str() {
        options = options.with_panic_marker(marker.as_bytes());
    }
    Ok(options)
}

/// Several files validated one after the other, with the manifest counts of all of them.
#[derive(Debug)]
pub struct Run {
    options: Options,
    current: Option<Validator<Buffers>>,
    counts: Counts,
    /// Records of files already finished but not yet taken.
    pending: Buffers,
    /// The run-level rules between files.
    run: RunChecks,
    /// Counts per code and type of the files finished.
    tally: Tally,
}

impl Run {
    pub fn new(options: Options) -> Self {
        Run {
            options,
            current: None,
            counts: Counts::default(),
            pending: Buffers::default(),
            run: RunChecks::default(),
            tally: Tally::default(),
        }
    }

    /// Also validate against the profiles of a package (a `.tgz` as published), before the first
    /// file; returns its `name#version`.
    pub fn add_package(&mut self, tgz: &[u8]) -> Result<String, String> {
        let package = fhir_preflight::Package::from_tgz(tgz).map_err(|e| e.to_string())?;
        let name = format!("{}#{}", package.name(), package.version());
        let profiles = self.options.profiles().clone().with_package(package);
        self.options = self.options.clone().with_profiles(profiles);
        Ok(name)
    }

    /// Start a file; `name` is its record name (`FAILURE/<name>`).
    pub fn begin_file(&mut self, name: &str) {
        if self.current.is_some() {
            self.end_file(true);
        }
        let buffers = Buffers { file: name.to_owned(), run: std::mem::take(&mut self.run), ..Buffers::default() };
        self.current = Some(Validator::new(&self.options, buffers));
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(v) = &mut self.current {
            v.feed(chunk);
        }
    }

    /// End the current file (`read_ok`: read to the end); returns its report as JSON.
    pub fn end_file(&mut self, read_ok: bool) -> Value {
        let Some(v) = self.current.take() else { return Value::Null };
        let (report, buffers) = v.finish_with_sink();
        self.pending.failure.extend_from_slice(&buffers.failure);
        self.pending.success.extend_from_slice(&buffers.success);
        self.pending.rows.extend(buffers.rows);
        self.pending.warning_rows.extend(buffers.warning_rows);
        self.tally.absorb(&buffers.tally);
        self.counts.add_file(&report, if read_ok { FileRead::Success } else { FileRead::CustomerError });
        self.run = buffers.run;
        self.run.file_done();
        // The file's notes as the CLI lists them: the run-level rules' first, then the framing's.
        let mut notes = buffers.file_checks.finish(None, None);
        notes.extend(report.diagnostics.iter().cloned());
        report_json(&buffers.file, &report, &notes, &buffers.tally)
    }

    /// A file that could not be read at all.
    pub fn unreadable_file(&mut self) {
        self.counts.add_file(&FileReport::default(), FileRead::CustomerError);
        self.run.file_done();
    }

    /// The notes about the whole run (duplicate ids across files, too many files, codes of value
    /// sets that cannot be expanded offline), once, at the end.
    pub fn run_notes(&mut self) -> Vec<Value> {
        let mut notes = std::mem::take(&mut self.run).finish();
        notes.extend(self.options.profiles().unchecked_binding_notes());
        notes.iter().map(note_json).collect()
    }

    /// FAILURE record bytes produced since the last call (whole lines).
    pub fn take_failure_records(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.pending.failure);
        if let Some(v) = &mut self.current {
            out.append(&mut v.sink_mut().failure);
        }
        out
    }

    /// SUCCESS record bytes produced since the last call (whole lines).
    pub fn take_success_records(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.pending.success);
        if let Some(v) = &mut self.current {
            out.append(&mut v.sink_mut().success);
        }
        out
    }

    /// Failed-line rows produced since the last call.
    pub fn take_rows(&mut self) -> Vec<Value> {
        let mut out = std::mem::take(&mut self.pending.rows);
        if let Some(v) = &mut self.current {
            out.append(&mut v.sink_mut().rows);
        }
        out
    }

    /// Warning rows produced since the last call.
    pub fn take_warning_rows(&mut self) -> Vec<Value> {
        let mut out = std::mem::take(&mut self.pending.warning_rows);
        if let Some(v) = &mut self.current {
            out.append(&mut v.sink_mut().warning_rows);
        }
        out
    }

    /// Counts per code and resource type of the files finished (the page's charts).
    pub fn tally(&self) -> Value {
        tally_json(&self.tally)
    }

    /// Bytes and lines of the current file so far.
    pub fn progress(&self) -> Value {
        match &self.current {
            Some(v) => json!({"bytes": v.bytes_fed(), "lines": v.lines_validated()}),
            None => json!({"bytes": 0, "lines": 0}),
        }
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The manifest, byte-identical to the CLI's for the same counts and locations.
    pub fn manifest(&self, input_uri: &str, output_dir: Option<String>) -> String {
        Manifest { input_uri: input_uri.to_owned(), output_dir, counts: self.counts }.to_json()
    }
}

fn note_json(d: &Diagnostic) -> Value {
    json!({"code": d.code().as_str(), "severity": d.severity().as_str(), "line": d.line(), "message": d.message()})
}

/// `{"errorsByCode": {code: n}, "warningsByCode": {…}, "byType": {type: {"lines": n, "failed": n}},
/// "errors": n, "warnings": n, "linesWithWarnings": n}`.
fn tally_json(t: &Tally) -> Value {
    let by_type: serde_json::Map<String, Value> =
        t.per_type.iter().map(|(ty, (n, bad))| (ty.clone(), json!({"lines": n, "failed": bad}))).collect();
    json!({
        "errorsByCode": t.errors_per_code,
        "warningsByCode": t.warnings_per_code,
        "byType": by_type,
        "errors": t.errors,
        "warnings": t.warnings,
        "linesWithWarnings": t.lines_with_warnings,
    })
}

fn report_json(file: &str, r: &FileReport, notes: &[Diagnostic], tally: &Tally) -> Value {
    json!({
        "tally": tally_json(tally),
        "file": file,
        "bytesScanned": r.bytes_scanned,
        "resourcesScanned": r.resources_scanned,
        "resourcesImported": r.resources_imported,
        "resourcesWithCustomerError": r.resources_customer_error,
        "resourcesWithServerError": r.resources_server_error,
        "blankLines": r.blank_lines,
        "notes": notes.iter().map(note_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"resourceType":"Patient","id":"a"}"#;
    const BAD: &str = r#"{"resourceType":"Patient","id":"a_b","gender":"F"}"#;

    #[test]
    fn records_and_rows_match_the_core() {
        let mut run = Run::new(options_from_json("").unwrap());
        run.begin_file("one.ndjson");
        let input = format!("{GOOD}\n{BAD}\n\n{GOOD}");
        for chunk in input.as_bytes().chunks(5) {
            run.feed(chunk);
        }
        let report = run.end_file(true);
        assert_eq!(report["resourcesScanned"], 3);
        assert_eq!(report["blankLines"], 1);
        let failure = run.take_failure_records();
        let mut expected = Vec::new();
        let mut sink = |l: &LineResult<'_>| {
            if is_failure_record(l) {
                write_record(&mut expected, l)
            }
        };
        fhir_preflight::validate_bytes(input.as_bytes(), &Options::default().with_threads(1), &mut sink);
        assert_eq!(failure, expected);
        assert!(run.take_failure_records().is_empty(), "taken once");
        let rows = run.take_rows();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["line"], 2);
        assert_eq!(rows[0]["file"], "one.ndjson");
        assert_eq!(rows[0]["errors"], 2);
        assert_eq!(run.take_success_records().iter().filter(|&&b| b == b'\n').count(), 2);
        assert_eq!(run.counts().resources_customer_error, 1);
        let manifest: Value = serde_json::from_str(&run.manifest("one.ndjson", None)).unwrap();
        assert_eq!(manifest["numberOfResourcesImportedSuccessfully"], 2);
    }

    /// The run-level rules of the core, as the CLI applies them: mixed types per file, duplicate
    /// ids across files (the later line is the duplicate).
    #[test]
    fn file_and_run_notes() {
        let mut run = Run::new(options_from_json("").unwrap());
        run.begin_file("a.ndjson");
        run.feed(
            format!("{GOOD}\n{{\"resourceType\":\"Basic\",\"id\":\"b\",\"code\":{{\"text\":\"x\"}}}}\n").as_bytes(),
        );
        let report = run.end_file(true);
        assert_eq!(report["notes"][0]["code"], "ndjson/mixed-types");
        run.begin_file("b.ndjson");
        run.feed(format!("{GOOD}\n").as_bytes());
        let report = run.end_file(true);
        assert_eq!(report["notes"].as_array().map(Vec::len), Some(0));
        let notes = run.run_notes();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0]["code"], "ndjson/duplicate-id");
        assert_eq!(notes[0]["line"], 0);
        assert!(notes[0]["message"].as_str().unwrap().ends_with("first: b.ndjson:1 Patient/a"));
    }

    /// The page's charts and warning view: the core's tally of the files, and one row per warning
    /// of an imported line (a failed line's warnings stay with it).
    #[test]
    fn tally_and_warning_rows() {
        let mut run = Run::new(options_from_json("").unwrap());
        run.begin_file("a.ndjson");
        let warned = r#"{"resourceType":"Patient","id":"w","name":[{"family":" Smith"}]}"#;
        run.feed(format!("{GOOD}\n{BAD}\n{warned}\n[1]\n").as_bytes());
        let report = run.end_file(true);
        let tally = run.tally();
        assert_eq!(tally, report["tally"]);
        assert_eq!(tally["byType"]["Patient"], json!({"lines": 3, "failed": 1}));
        assert_eq!(tally["byType"]["(unknown)"], json!({"lines": 1, "failed": 1}));
        assert_eq!(
            tally["errors"],
            tally["errorsByCode"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>()
        );
        let warnings = run.take_warning_rows();
        assert_eq!(warnings.len() as u64, tally["warnings"].as_u64().unwrap(), "{warnings:?}");
        assert!(warnings.iter().all(|w| w["line"] == 3 && w["severity"] == "warning"));
        assert_eq!(tally["linesWithWarnings"], 1);
        let rows = run.take_rows();
        assert_eq!(rows[0]["codes"].as_array().map(Vec::len), Some(2), "{rows:?}");
    }

    #[test]
    fn options() {
        assert!(options_from_json(r#"{"level":"minimal","maxDepth":64}"#).is_ok());
        assert!(options_from_json(r#"{"level":"lenient"}"#).is_err());
        assert!(options_from_json(r#"{"maxDepth":1}"#).is_err());
        assert!(options_from_json("not json").is_err());
    }
}
