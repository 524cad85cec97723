//! A validation run of one or more files, in plain Rust (tested natively), in two halves so that
//! the page can validate on several Web Workers at once:
//!
//! - [`Parts`] validates parts of files — a whole file, or a byte range of one cut at newlines
//!   (the core's `Validator::continuing`, numbered as in the whole file) — and keeps their records
//!   as bytes (handed to JS as Blob parts) and rows for the tables. Each part ends in a
//!   [`PartSummary`]: its counts, tally, file facts and the `(resourceType, id)` of its imported
//!   lines, as JSON that crosses from a worker to the page.
//! - [`Merge`] takes the summaries in input order and gives the file reports, the run's notes and
//!   the manifest exactly as one pass over the files would (the core's `FileReport::then`,
//!   `FileChecks`, `RunChecks`, `Tally::absorb`).
//!
//! [`Run`] is both in one, for one thread (`PreflightRun`). Every rule is the core's; this only
//! converts and adds up.

use std::collections::BTreeMap;

use fhir_preflight::{
    is_failure_record, write_record, Code, Counts, Diagnostic, FileChecks, FileRead, FileReport, LineResult,
    LineStatus, Manifest, Options, Profiles, RunChecks, Severity, Sink, Tally, Validator,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The imported lines of a part, for the duplicate-id rule (run in input order, by the merge):
/// each line's number and its pair's hash (`fhir_preflight::id_hash`, computed where the part
/// was validated), and the pairs themselves as `Type/id` lines, read only to name a duplicate
/// (an imported line's type is a type name and its id matches `[A-Za-z0-9.-]{1,64}`, so neither
/// holds a `/` or a newline).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineIds {
    pub lines: Vec<(u64, u64)>,
    pub names: String,
}

impl LineIds {
    fn push(&mut self, line: u64, resource_type: &str, id: &str) {
        self.lines.push((line, fhir_preflight::id_hash(resource_type, id)));
        self.names.push_str(resource_type);
        self.names.push('/');
        self.names.push_str(id);
        self.names.push('\n');
    }

    /// The pair of the `k`-th line.
    fn name(&self, k: usize) -> (String, String) {
        let pair = self.names.lines().nth(k).unwrap_or_default();
        let (ty, id) = pair.split_once('/').unwrap_or((pair, ""));
        (ty.to_owned(), id.to_owned())
    }
}

/// Records, rows and facts of the part being validated, fed with each line.
#[derive(Debug, Default)]
pub struct Buffers {
    file: String,
    failure: Vec<u8>,
    success: Vec<u8>,
    rows: Vec<Value>,
    /// Warnings of imported lines, one row each (their own view on the page).
    warning_rows: Vec<Value>,
    file_checks: FileChecks,
    ids: LineIds,
    tally: Tally,
}

impl Sink for Buffers {
    fn line(&mut self, line: &LineResult<'_>) {
        self.file_checks.line(line);
        if let (LineStatus::Imported, Some(ty), Some(id)) = (line.status, line.resource_type, line.resource_id) {
            self.ids.push(line.line, ty, id);
        }
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

/// What one part of a file adds to the run, for [`Merge::add_part`] (JSON between a worker and the
/// page).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartSummary {
    /// The part was read to its end.
    pub read_ok: bool,
    pub bytes_scanned: u64,
    pub bytes_imported: u64,
    pub resources_scanned: u64,
    pub resources_imported: u64,
    pub resources_with_customer_error: u64,
    pub resources_with_server_error: u64,
    pub blank_lines: u64,
    pub first_blank_line: Option<u64>,
    /// What the file's first bytes say (kind of file, byte-order mark: only the first part has
    /// them), as notes.
    pub framing: Vec<Value>,
    /// The part's tally (as [`Run::tally`] shows it).
    pub tally: Value,
    /// Resource types of the imported lines.
    pub types: Vec<String>,
    /// The imported lines not yet handed over ([`Parts::take_ids`]).
    pub ids: LineIds,
    /// Codes bound to value sets not expandable offline: (value set, why, codes).
    pub unchecked: Vec<(String, String, u64)>,
}

/// Parts of files validated one after the other, with their records and rows.
#[derive(Debug)]
pub struct Parts {
    options: Options,
    current: Option<Validator<Buffers>>,
    /// Records and rows of parts already ended but not yet taken.
    pending: Buffers,
}

impl Parts {
    pub fn new(options: Options) -> Self {
        Parts { options, current: None, pending: Buffers::default() }
    }

    /// Also validate against the profiles of a package (a `.tgz` as published), before the first
    /// part; returns its `name#version`.
    pub fn add_package(&mut self, tgz: &[u8]) -> Result<String, String> {
        let package = fhir_preflight::Package::from_tgz(tgz).map_err(|e| e.to_string())?;
        let name = format!("{}#{}", package.name(), package.version());
        let profiles = self.options.profiles().clone().with_package(package);
        self.options = self.options.clone().with_profiles(profiles);
        Ok(name)
    }

    /// Start a part of file `name` (its record name) whose first line is numbered `first_line`
    /// and starts at byte `offset` of the file; `(1, 0)` is the file's start.
    pub fn begin(&mut self, name: &str, first_line: u64, offset: u64) {
        if self.current.is_some() {
            self.end(true);
        }
        let buffers = Buffers { file: name.to_owned(), ..Buffers::default() };
        self.current = Some(if first_line <= 1 && offset == 0 {
            Validator::new(&self.options, buffers)
        } else {
            Validator::continuing(&self.options, buffers, first_line, offset)
        });
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(v) = &mut self.current {
            v.feed(chunk);
        }
    }

    /// End the current part (`read_ok`: read to its end).
    pub fn end(&mut self, read_ok: bool) -> PartSummary {
        let Some(v) = self.current.take() else { return PartSummary::default() };
        let (report, buffers) = v.finish_with_sink();
        let Buffers { failure, success, rows, warning_rows, file_checks, ids, tally, .. } = buffers;
        self.pending.failure.extend_from_slice(&failure);
        self.pending.success.extend_from_slice(&success);
        self.pending.rows.extend(rows);
        self.pending.warning_rows.extend(warning_rows);
        PartSummary {
            read_ok,
            bytes_scanned: report.bytes_scanned,
            bytes_imported: report.bytes_imported,
            resources_scanned: report.resources_scanned,
            resources_imported: report.resources_imported,
            resources_with_customer_error: report.resources_customer_error,
            resources_with_server_error: report.resources_server_error,
            blank_lines: report.blank_lines,
            first_blank_line: report.first_blank_line,
            framing: report.diagnostics.iter().filter(|d| d.code() != Code::NdjsonBlankLine).map(note_json).collect(),
            tally: tally_json(&tally),
            types: file_checks.types().map(str::to_owned).collect(),
            ids,
            unchecked: self.options.profiles().take_unchecked_bindings(),
        }
    }

    /// The current part's imported lines since the last call.
    pub fn take_ids(&mut self) -> LineIds {
        self.current.as_mut().map(|v| std::mem::take(&mut v.sink_mut().ids)).unwrap_or_default()
    }

    /// FAILURE record bytes produced since the last call (whole lines).
    pub fn take_failure_records(&mut self) -> Vec<u8> {
        self.take(|b| &mut b.failure)
    }

    /// SUCCESS record bytes produced since the last call (whole lines).
    pub fn take_success_records(&mut self) -> Vec<u8> {
        self.take(|b| &mut b.success)
    }

    /// Failed-line rows produced since the last call.
    pub fn take_rows(&mut self) -> Vec<Value> {
        self.take(|b| &mut b.rows)
    }

    /// Warning rows produced since the last call.
    pub fn take_warning_rows(&mut self) -> Vec<Value> {
        self.take(|b| &mut b.warning_rows)
    }

    /// What `field` holds of the parts ended and of the current one, taken.
    fn take<T>(&mut self, field: impl Fn(&mut Buffers) -> &mut Vec<T>) -> Vec<T> {
        let mut out = std::mem::take(field(&mut self.pending));
        if let Some(v) = &mut self.current {
            out.append(field(v.sink_mut()));
        }
        out
    }

    /// Bytes and lines of the current part so far.
    pub fn progress(&self) -> Value {
        match &self.current {
            Some(v) => json!({"bytes": v.bytes_fed(), "lines": v.lines_validated()}),
            None => json!({"bytes": 0, "lines": 0}),
        }
    }
}

/// The file being merged.
#[derive(Debug)]
struct FileMerge {
    name: String,
    /// The parts so far, added up (from an empty report: `then` says the blank-lines note).
    report: FileReport,
    checks: FileChecks,
    tally: Tally,
    framing: Vec<Value>,
    read_ok: bool,
}

/// The parts' summaries added up, in input order: file reports, run notes, manifest.
#[derive(Debug, Default)]
pub struct Merge {
    counts: Counts,
    run: RunChecks,
    tally: Tally,
    unchecked: BTreeMap<String, (String, u64)>,
    file: Option<FileMerge>,
}

impl Merge {
    /// Start the next file of the run (`name`: its record name).
    pub fn begin_file(&mut self, name: &str) {
        if self.file.is_some() {
            self.end_file();
        }
        self.file = Some(FileMerge {
            name: name.to_owned(),
            report: FileReport::default(),
            checks: FileChecks::default(),
            tally: Tally::default(),
            framing: Vec::new(),
            read_ok: true,
        });
    }

    /// Imported lines of the current file, in input order.
    pub fn ids(&mut self, ids: &LineIds) {
        let Some(file) = &self.file else { return };
        for (k, &(line, hash)) in ids.lines.iter().enumerate() {
            self.run.id_hashed(&file.name, line, hash, || ids.name(k));
        }
    }

    /// The next part of the current file.
    pub fn add_part(&mut self, part: PartSummary) -> Result<(), String> {
        let tally = tally_from_json(&part.tally)?;
        self.ids(&part.ids);
        let Some(file) = &mut self.file else { return Err("a part before its file".into()) };
        let mut report = FileReport::default();
        report.bytes_scanned = part.bytes_scanned;
        report.bytes_imported = part.bytes_imported;
        report.resources_scanned = part.resources_scanned;
        report.resources_imported = part.resources_imported;
        report.resources_customer_error = part.resources_with_customer_error;
        report.resources_server_error = part.resources_with_server_error;
        report.blank_lines = part.blank_lines;
        report.first_blank_line = part.first_blank_line;
        file.report.then(report);
        for ty in &part.types {
            file.checks.imported_type(ty);
        }
        file.tally.absorb(&tally);
        file.framing.extend(part.framing);
        file.read_ok &= part.read_ok;
        for (vs, why, n) in part.unchecked {
            self.unchecked.entry(vs).or_insert((why, 0)).1 += n;
        }
        Ok(())
    }

    /// End the current file; returns its report as JSON.
    pub fn end_file(&mut self) -> Value {
        let Some(file) = self.file.take() else { return Value::Null };
        let report = file.report;
        self.tally.absorb(&file.tally);
        let read = if file.read_ok { FileRead::Success } else { FileRead::CustomerError };
        self.counts.add_file(&report, read);
        self.run.file_done();
        // The file's notes as the CLI lists them: the run-level rules' first, then the framing's.
        let mut notes: Vec<Value> = file.checks.finish(None, None).iter().map(note_json).collect();
        notes.extend(file.framing);
        notes.extend(report.diagnostics.iter().map(note_json));
        report_json(&file.name, &report, notes, &file.tally)
    }

    /// A file that could not be read at all.
    pub fn unreadable_file(&mut self) {
        if self.file.is_some() {
            self.end_file();
        }
        self.counts.add_file(&FileReport::default(), FileRead::CustomerError);
        self.run.file_done();
    }

    /// The notes about the whole run (duplicate ids across files, too many files, codes of value
    /// sets that cannot be expanded offline), once, at the end.
    pub fn run_notes(&mut self) -> Vec<Value> {
        let mut notes = std::mem::take(&mut self.run).finish();
        let unchecked = std::mem::take(&mut self.unchecked).into_iter().map(|(vs, (why, n))| (vs, why, n)).collect();
        notes.extend(Profiles::unchecked_binding_notes_of(unchecked));
        notes.iter().map(note_json).collect()
    }

    /// Counts per code and resource type of the files finished (the page's charts).
    pub fn tally(&self) -> Value {
        tally_json(&self.tally)
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The manifest, byte-identical to the CLI's for the same counts and locations.
    pub fn manifest(&self, input_uri: &str, output_dir: Option<String>) -> String {
        Manifest { input_uri: input_uri.to_owned(), output_dir, counts: self.counts }.to_json()
    }
}

/// Several files validated one after the other on one thread: [`Parts`] (each file one part)
/// and [`Merge`], the imported lines' ids handed over as they come, so memory stays flat.
#[derive(Debug)]
pub struct Run {
    parts: Parts,
    merge: Merge,
}

impl Run {
    pub fn new(options: Options) -> Self {
        Run { parts: Parts::new(options), merge: Merge::default() }
    }

    /// Start a file; `name` is its record name (`FAILURE/<name>`).
    pub fn begin_file(&mut self, name: &str) {
        if self.merge.file.is_some() {
            self.end_file(true);
        }
        self.parts.begin(name, 1, 0);
        self.merge.begin_file(name);
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.parts.feed(chunk);
        let ids = self.parts.take_ids();
        self.merge.ids(&ids);
    }

    /// End the current file (`read_ok`: read to the end); returns its report as JSON.
    pub fn end_file(&mut self, read_ok: bool) -> Value {
        if self.merge.file.is_none() {
            return Value::Null;
        }
        let part = self.parts.end(read_ok);
        // A summary this side made: its tally is well-formed.
        let _ = self.merge.add_part(part);
        self.merge.end_file()
    }

    /// The part half: records, rows, progress.
    pub fn parts(&mut self) -> &mut Parts {
        &mut self.parts
    }

    pub fn parts_ref(&self) -> &Parts {
        &self.parts
    }

    /// The merge half: counts, tally, notes, manifest.
    pub fn merge(&mut self) -> &mut Merge {
        &mut self.merge
    }

    pub fn merge_ref(&self) -> &Merge {
        &self.merge
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

/// [`tally_json`] read back (codes are the core's).
fn tally_from_json(v: &Value) -> Result<Tally, String> {
    let bad = || format!("not a tally: {v}");
    let number = |v: &Value| v.as_u64().ok_or_else(bad);
    let codes = |key: &str| -> Result<BTreeMap<&'static str, u64>, String> {
        let mut out = BTreeMap::new();
        for (code, n) in v[key].as_object().ok_or_else(bad)? {
            let code = Code::ALL.iter().find(|c| c.as_str() == code).ok_or_else(|| format!("unknown code {code}"))?;
            out.insert(code.as_str(), number(n)?);
        }
        Ok(out)
    };
    let mut per_type = BTreeMap::new();
    for (ty, t) in v["byType"].as_object().ok_or_else(bad)? {
        per_type.insert(ty.clone(), (number(&t["lines"])?, number(&t["failed"])?));
    }
    Ok(Tally {
        errors_per_code: codes("errorsByCode")?,
        warnings_per_code: codes("warningsByCode")?,
        per_type,
        errors: number(&v["errors"])?,
        warnings: number(&v["warnings"])?,
        lines_with_warnings: number(&v["linesWithWarnings"])?,
    })
}

fn report_json(file: &str, r: &FileReport, notes: Vec<Value>, tally: &Tally) -> Value {
    json!({
        "tally": tally_json(tally),
        "file": file,
        "bytesScanned": r.bytes_scanned,
        "resourcesScanned": r.resources_scanned,
        "resourcesImported": r.resources_imported,
        "resourcesWithCustomerError": r.resources_customer_error,
        "resourcesWithServerError": r.resources_server_error,
        "blankLines": r.blank_lines,
        "notes": notes,
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
        let failure = run.parts().take_failure_records();
        let mut expected = Vec::new();
        let mut sink = |l: &LineResult<'_>| {
            if is_failure_record(l) {
                write_record(&mut expected, l)
            }
        };
        fhir_preflight::validate_bytes(input.as_bytes(), &Options::default().with_threads(1), &mut sink);
        assert_eq!(failure, expected);
        assert!(run.parts().take_failure_records().is_empty(), "taken once");
        let rows = run.parts().take_rows();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["line"], 2);
        assert_eq!(rows[0]["file"], "one.ndjson");
        assert_eq!(rows[0]["errors"], 2);
        assert_eq!(run.parts().take_success_records().iter().filter(|&&b| b == b'\n').count(), 2);
        assert_eq!(run.merge().counts().resources_customer_error, 1);
        let manifest: Value = serde_json::from_str(&run.merge().manifest("one.ndjson", None)).unwrap();
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
        let notes = run.merge().run_notes();
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
        let tally = run.merge().tally();
        assert_eq!(tally, report["tally"]);
        assert_eq!(tally["byType"]["Patient"], json!({"lines": 3, "failed": 1}));
        assert_eq!(tally["byType"]["(unknown)"], json!({"lines": 1, "failed": 1}));
        assert_eq!(
            tally["errors"],
            tally["errorsByCode"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>()
        );
        let warnings = run.parts().take_warning_rows();
        assert_eq!(warnings.len() as u64, tally["warnings"].as_u64().unwrap(), "{warnings:?}");
        assert!(warnings.iter().all(|w| w["line"] == 3 && w["severity"] == "warning"));
        assert_eq!(tally["linesWithWarnings"], 1);
        let rows = run.parts().take_rows();
        assert_eq!(rows[0]["codes"].as_array().map(Vec::len), Some(2), "{rows:?}");
    }

    /// What a run shows: each file's report, records and rows, then the run's notes, tally and
    /// manifest.
    fn shown(reports: Vec<Value>, parts: &mut Parts, merge: &mut Merge) -> Vec<String> {
        let mut out: Vec<String> = reports.iter().map(Value::to_string).collect();
        out.push(String::from_utf8_lossy(&parts.take_failure_records()).into_owned());
        out.push(String::from_utf8_lossy(&parts.take_success_records()).into_owned());
        out.push(Value::Array(parts.take_rows()).to_string());
        out.push(Value::Array(parts.take_warning_rows()).to_string());
        out.push(Value::Array(merge.run_notes()).to_string());
        out.push(merge.tally().to_string());
        out.push(merge.manifest("./", None));
        out
    }

    /// The page's workers: every fixture file (and a file made to repeat ids, hold blank lines
    /// and a byte-order mark) cut at newlines into parts, each validated on its own (in the
    /// page, on any worker) and summarised as JSON, the summaries merged in input order — the
    /// same reports, notes, records, rows, tally and manifest as one pass over the files.
    #[test]
    fn parts_merged_in_order_are_the_whole_run() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for folder in ["valid", "invalid", "edge", "rules"] {
            let mut names: Vec<_> = std::fs::read_dir(root.join(folder)).unwrap().map(|e| e.unwrap().path()).collect();
            names.sort();
            for path in names.into_iter().filter(|p| p.extension().is_some_and(|e| e == "ndjson")) {
                let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
        let repeats = format!("\u{feff}{GOOD}\n\n{BAD}\n{GOOD}\n\n\n{GOOD}\n{BAD}");
        files.push(("repeats.ndjson".into(), repeats.into_bytes()));
        assert!(files.len() > 10);
        let options = options_from_json(r#"{"usCoreVersion":"3.1.1"}"#).unwrap();

        let mut parts = Parts::new(options.clone());
        let mut merge = Merge::default();
        let mut reports = Vec::new();
        for (name, bytes) in &files {
            merge.begin_file(name);
            parts.begin(name, 1, 0);
            parts.feed(bytes);
            merge.add_part(parts.end(true)).unwrap();
            reports.push(merge.end_file());
        }
        let whole = shown(reports, &mut parts, &mut merge);
        let notes = &whole[whole.len() - 3];
        assert!(notes.contains("ndjson/duplicate-id") && notes.contains("repeats.ndjson:4 Patient/a"), "{notes}");
        assert!(whole.iter().any(|r| r.contains("ndjson/blank-line") && r.contains("the first at line 2")));

        for cut in [1, 2, 7] {
            let mut parts = Parts::new(options.clone());
            let mut merge = Merge::default();
            let mut reports = Vec::new();
            for (name, bytes) in &files {
                merge.begin_file(name);
                // A part every `cut` lines.
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1))
                    .filter(|&s| s < bytes.len())
                    .step_by(cut)
                    .chain(std::iter::once(bytes.len()))
                    .collect();
                for pair in starts.windows(2) {
                    let line = 1 + bytes[..pair[0]].iter().filter(|&&b| b == b'\n').count() as u64;
                    parts.begin(name, line, pair[0] as u64);
                    parts.feed(&bytes[pair[0]..pair[1]]);
                    // Across the worker boundary as JSON.
                    let summary = serde_json::to_string(&parts.end(true)).unwrap();
                    merge.add_part(serde_json::from_str(&summary).unwrap()).unwrap();
                }
                reports.push(merge.end_file());
            }
            let merged = shown(reports, &mut parts, &mut merge);
            for (k, (a, b)) in whole.iter().zip(&merged).enumerate() {
                assert_eq!(a, b, "a part every {cut} lines: item {k}");
            }
        }
    }

    #[test]
    fn a_summary_that_is_not_one_is_refused() {
        let mut merge = Merge::default();
        merge.begin_file("a");
        let part = PartSummary { tally: json!({"errorsByCode": {"no/such-code": 1}}), ..PartSummary::default() };
        assert!(merge.add_part(part).unwrap_err().contains("no/such-code"));
        assert!(merge.add_part(PartSummary::default()).unwrap_err().starts_with("not a tally"));
    }

    #[test]
    fn options() {
        assert!(options_from_json(r#"{"level":"minimal","maxDepth":64}"#).is_ok());
        assert!(options_from_json(r#"{"level":"lenient"}"#).is_err());
        assert!(options_from_json(r#"{"maxDepth":1}"#).is_err());
        assert!(options_from_json("not json").is_err());
    }
}
