//! `fhir_preflight` for Python: the core's verdicts, manifests and records, as the CLI gives them.
//!
//! Work runs without the GIL (on the core's rayon threads); between chunks of input the GIL is
//! taken back just long enough to see a pending Ctrl-C, so `KeyboardInterrupt` stops a long call.
//! Failed lines are spilled to a private temporary file as they come and read back one at a time
//! by `Report.failed_lines()`, so a file with millions of bad lines costs no memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fhir_preflight::{Counts, FileRead, LineResult, LineStatus, Manifest, Options, Sink};
use pyo3::exceptions::{PyFileExistsError, PyOSError, PyValueError};
use pyo3::prelude::*;

/// Bytes given to the core at a time (and how often a pending Ctrl-C is looked for).
const CHUNK: usize = 8 << 20;

fn options(level: &str, threads: Option<usize>) -> PyResult<Options> {
    let level = level.parse().map_err(|e: String| PyValueError::new_err(format!("--level: {e}")))?;
    // 0: the core's own pool (all cores); 1: the calling thread.
    Ok(Options::default().with_level(level).with_threads(threads.unwrap_or(0)))
}

/// One diagnostic of a failed line.
#[pyclass(frozen, get_all, module = "fhir_preflight")]
#[derive(Clone, Debug)]
struct Diagnostic {
    /// `resource/id-missing`, `invariant/failed`, …
    code: String,
    /// `fatal`, `error`, `warning` or `information`.
    severity: String,
    message: String,
    /// The FHIR path of the element (`Patient.name[0].given`), when there is one.
    path: Option<String>,
    /// 1-based column (in bytes) in the line.
    column: Option<u64>,
    /// An invariant's HL7 key (`per-1`).
    key: Option<String>,
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        format!("Diagnostic({} {}: {})", self.severity, self.code, self.message)
    }
}

/// A line HealthLake would reject.
#[pyclass(frozen, get_all, module = "fhir_preflight")]
#[derive(Clone, Debug)]
struct FailedLine {
    /// The input it is in (as given).
    input: String,
    /// 1-based line number (HealthLake's `lineId`).
    line: u64,
    resource_type: Option<String>,
    id: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

#[pymethods]
impl FailedLine {
    fn __repr__(&self) -> String {
        format!("FailedLine({}:{} {} diagnostics)", self.input, self.line, self.diagnostics.len())
    }
}

/// The failed lines of one input, spilled as they came (one JSON object per line).
#[derive(Debug)]
struct Spill {
    input: String,
    file: tempfile::NamedTempFile,
}

fn spill_json(line: &LineResult<'_>) -> serde_json::Value {
    let diagnostics: Vec<serde_json::Value> = line
        .diagnostics
        .iter()
        .map(|d| {
            serde_json::json!({
                "code": d.code().as_str(), "severity": d.severity().as_str(), "message": d.message(),
                "path": d.path(), "column": d.column(), "key": d.key(),
            })
        })
        .collect();
    serde_json::json!({"line": line.line, "resourceType": line.resource_type, "id": line.resource_id, "diagnostics": diagnostics})
}

fn from_spill(input: &str, v: &serde_json::Value) -> FailedLine {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    FailedLine {
        input: input.to_owned(),
        line: v["line"].as_u64().unwrap_or(0),
        resource_type: text(&v["resourceType"]),
        id: text(&v["id"]),
        diagnostics: v["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| Diagnostic {
                code: text(&d["code"]).unwrap_or_default(),
                severity: text(&d["severity"]).unwrap_or_default(),
                message: text(&d["message"]).unwrap_or_default(),
                path: text(&d["path"]),
                column: d["column"].as_u64(),
                key: text(&d["key"]),
            })
            .collect(),
    }
}

/// Records being written for an output folder, as the CLI writes them (files made on their
/// first record).
#[derive(Debug)]
struct Records {
    staging: PathBuf,
    name: String,
    success: Option<BufWriter<File>>,
    failure: Option<BufWriter<File>>,
}

/// What the core's lines go to: the spill of failed lines, and the records.
#[derive(Debug)]
struct Collect {
    spill: BufWriter<File>,
    records: Option<Records>,
    buf: Vec<u8>,
    error: Option<io::Error>,
}

impl Collect {
    fn record(&mut self, line: &LineResult<'_>) -> io::Result<()> {
        let Some(records) = self.records.as_mut() else { return Ok(()) };
        self.buf.clear();
        fhir_preflight::write_record(&mut self.buf, line);
        let (slot, folder) = if fhir_preflight::is_failure_record(line) {
            (&mut records.failure, "FAILURE")
        } else {
            (&mut records.success, "SUCCESS")
        };
        if slot.is_none() {
            let dir = records.staging.join(folder);
            private_dir(&dir)?;
            *slot = Some(BufWriter::new(private_file(&dir.join(&records.name))?));
        }
        match slot {
            Some(w) => w.write_all(&self.buf),
            None => Ok(()),
        }
    }
}

impl Sink for Collect {
    fn line(&mut self, line: &LineResult<'_>) {
        if self.error.is_some() {
            return;
        }
        let mut result = self.record(line);
        if result.is_ok() && line.status != LineStatus::Imported {
            result = serde_json::to_writer(&mut self.spill, &spill_json(line))
                .map_err(io::Error::other)
                .and_then(|()| self.spill.write_all(b"\n"));
        }
        if let Err(e) = result {
            self.error = Some(e);
        }
    }
}

#[cfg(unix)]
fn private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn private_dir(path: &Path) -> io::Result<()> {
    std::fs::create_dir_all(path)
}

#[cfg(unix)]
fn private_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

fn os_error(e: io::Error) -> PyErr {
    PyOSError::new_err(e.to_string())
}

impl Collect {
    fn new(records: Option<Records>) -> PyResult<(Self, tempfile::NamedTempFile)> {
        let spill = tempfile::Builder::new().prefix("fhir-preflight-failed-").tempfile().map_err(os_error)?;
        let writer = BufWriter::new(spill.reopen().map_err(os_error)?);
        Ok((Collect { spill: writer, records, buf: Vec::new(), error: None }, spill))
    }

    /// Flush everything; the first error wins.
    fn close(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.spill.flush()?;
        if let Some(mut r) = self.records.take() {
            for w in [r.success.take(), r.failure.take()].into_iter().flatten() {
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            }
        }
        Ok(())
    }
}

/// The result of validating: the manifest's counts, and the failed lines.
#[pyclass(frozen, module = "fhir_preflight")]
#[derive(Debug)]
struct Report {
    manifest: Manifest,
    spills: Vec<Arc<Spill>>,
    /// What the files are (gzip, UTF-16, a JSON array…): the core's file-level diagnostics.
    notes: Vec<Diagnostic>,
}

fn note(d: &fhir_preflight::Diagnostic) -> Diagnostic {
    Diagnostic {
        code: d.code().as_str().to_owned(),
        severity: d.severity().as_str().to_owned(),
        message: d.message(),
        path: d.path(),
        column: d.column(),
        key: d.key().map(str::to_owned),
    }
}

/// The report of one input.
fn one(
    input: &str,
    output_dir: Option<String>,
    report: &fhir_preflight::FileReport,
    spill: tempfile::NamedTempFile,
) -> Report {
    let mut counts = Counts::default();
    counts.add_file(report, FileRead::Success);
    Report {
        manifest: Manifest { input_uri: input.to_owned(), output_dir, counts },
        spills: vec![Arc::new(Spill { input: input.to_owned(), file: spill })],
        notes: report.diagnostics.iter().map(note).collect(),
    }
}

#[pymethods]
impl Report {
    /// The manifest's counts under HealthLake's names (`numberOfResourcesScanned`, …).
    #[getter]
    fn counts(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let json: serde_json::Value =
            serde_json::from_str(&self.manifest.to_json()).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let module = py.import("json")?;
        let mut counts = serde_json::Map::new();
        for (k, v) in json.as_object().into_iter().flatten() {
            if k.starts_with("numberOf") || k.starts_with("sizeOf") {
                counts.insert(k.clone(), v.clone());
            }
        }
        Ok(module.call_method1("loads", (serde_json::Value::Object(counts).to_string(),))?.unbind())
    }

    #[getter]
    fn resources_scanned(&self) -> u64 {
        self.manifest.counts.resources_scanned
    }

    #[getter]
    fn resources_imported(&self) -> u64 {
        self.manifest.counts.resources_imported
    }

    #[getter]
    fn resources_failed(&self) -> u64 {
        self.manifest.counts.resources_customer_error + self.manifest.counts.resources_server_error
    }

    #[getter]
    fn files_scanned(&self) -> u64 {
        self.manifest.counts.files_scanned
    }

    /// `inputDataConfig.s3Uri`: the input as given.
    #[getter]
    fn input_uri(&self) -> String {
        self.manifest.input_uri.clone()
    }

    /// The manifest, byte-identical to the CLI's `manifest.json` (and `--format json`).
    fn to_manifest_json(&self) -> String {
        self.manifest.to_json()
    }

    /// Diagnostics about the files themselves (gzip-compressed, UTF-16, a JSON array, …).
    #[getter]
    fn notes(&self) -> Vec<Diagnostic> {
        self.notes.clone()
    }

    /// The failed lines, in input order, read back one at a time.
    fn failed_lines(&self) -> FailedLines {
        FailedLines { spills: self.spills.clone(), next: 0, reader: None }
    }

    fn __repr__(&self) -> String {
        let c = &self.manifest.counts;
        format!(
            "Report({} of {} resources would import; {} rejected, in {} file(s))",
            c.resources_imported,
            c.resources_scanned,
            c.resources_customer_error + c.resources_server_error,
            c.files_scanned
        )
    }
}

/// An iterator over failed lines (see `Report.failed_lines`).
#[pyclass(module = "fhir_preflight")]
struct FailedLines {
    spills: Vec<Arc<Spill>>,
    next: usize,
    reader: Option<(Arc<Spill>, BufReader<File>)>,
}

#[pymethods]
impl FailedLines {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> PyResult<Option<FailedLine>> {
        loop {
            if self.reader.is_none() {
                let Some(spill) = self.spills.get(self.next).cloned() else { return Ok(None) };
                self.next += 1;
                let file = spill.file.reopen().map_err(os_error)?;
                self.reader = Some((spill, BufReader::new(file)));
            }
            let Some((spill, reader)) = self.reader.as_mut() else { continue };
            let mut text = String::new();
            if reader.read_line(&mut text).map_err(os_error)? == 0 {
                self.reader = None;
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| PyValueError::new_err(e.to_string()))?;
            return Ok(Some(from_spill(&spill.input, &v)));
        }
    }
}

/// Feed `reader` to a validator in chunks, without the GIL, looking for Ctrl-C between chunks.
fn run(
    py: Python<'_>,
    mut reader: Box<dyn Read + Send + '_>,
    options: &Options,
    at: Option<(u64, u64)>,
    sink: Collect,
) -> PyResult<(fhir_preflight::FileReport, Collect)> {
    py.detach(|| {
        let mut validator = match at {
            None => fhir_preflight::Validator::new(options, sink),
            Some((line, offset)) => fhir_preflight::Validator::continuing(options, sink, line, offset),
        };
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(os_error(e)),
            };
            validator.feed(&buf[..n]);
            Python::attach(|py| py.check_signals())?;
        }
        Ok(validator.finish_with_sink())
    })
}

/// The record name of an input: its file name, a final `.gz` dropped.
fn record_name(path: &Path) -> String {
    let name = path.file_name().map_or_else(|| "input.ndjson".into(), |n| n.to_string_lossy().into_owned());
    name.strip_suffix(".gz").map_or(name.clone(), str::to_owned)
}

/// An output folder: absent or empty, as the CLI requires (it has no `--force` here).
fn prepare_output(dir: &Path) -> PyResult<PathBuf> {
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(PyFileExistsError::new_err(format!("output folder {} is not empty", dir.display())));
        }
    } else if dir.exists() {
        return Err(PyFileExistsError::new_err(format!("output path {} exists and is not a folder", dir.display())));
    }
    private_dir(dir).map_err(|e| PyOSError::new_err(format!("cannot prepare output folder {}: {e}", dir.display())))?;
    let staging = dir.join(format!(".fhir-preflight-staging-{}", std::process::id()));
    private_dir(&staging).map_err(os_error)?;
    Ok(staging)
}

/// Publish: records moved in, the manifest last.
fn publish(dir: &Path, staging: &Path, manifest: &str) -> io::Result<()> {
    for folder in ["SUCCESS", "FAILURE"] {
        if staging.join(folder).exists() {
            std::fs::rename(staging.join(folder), dir.join(folder))?;
        }
    }
    let mut file = private_file(&staging.join("manifest.json"))?;
    file.write_all(manifest.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(staging.join("manifest.json"), dir.join("manifest.json"))?;
    std::fs::remove_dir(staging)
}

/// Open `path` for reading (not a folder), errors naming it as the CLI does.
fn open_input(path: &Path) -> PyResult<File> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| PyOSError::new_err(format!("cannot read {shown}: {e}")))?;
    if file.metadata().map_err(os_error)?.is_dir() {
        return Err(PyOSError::new_err(format!("cannot read {shown}: is a directory")));
    }
    Ok(file)
}

/// Where the part of a file to validate starts: its first line's number and byte offset (`None`:
/// the file from its start), and how many bytes it has (`None`: to the end).
type Part = (Option<(u64, u64)>, Option<u64>);

/// The part of `path` that `byte_range` and `first_line` name, checked: an uncompressed file, cut
/// at newlines (as `plan_parts` cuts it).
fn part_of(path: &Path, file: &mut File, byte_range: Option<(u64, u64)>, first_line: Option<u64>) -> PyResult<Part> {
    let shown = path.display();
    let Some((start, end)) = byte_range else {
        if first_line.is_some_and(|l| l != 1) {
            return Err(PyValueError::new_err("first_line is for a byte_range"));
        }
        return Ok((None, None));
    };
    if path.extension().is_some_and(|e| e == "gz") {
        return Err(PyValueError::new_err(format!(
            "{shown}: a byte range of a compressed file cannot be read on its own; validate it whole"
        )));
    }
    let size = file.metadata().map_err(os_error)?.len();
    if start > end {
        return Err(PyValueError::new_err(format!("{shown}: byte range ({start}, {end}) ends before it starts")));
    }
    if end > size {
        return Err(PyValueError::new_err(format!("{shown}: byte range ({start}, {end}) is outside its {size} bytes")));
    }
    let byte_before = |file: &mut File, at: u64| -> PyResult<bool> {
        let mut byte = [0u8];
        file.seek(SeekFrom::Start(at - 1)).and_then(|_| file.read_exact(&mut byte)).map_err(os_error)?;
        Ok(byte[0] == b'\n')
    };
    for (at, what) in [(start, "start"), (end, "end")] {
        if at > 0 && at < size && !byte_before(file, at)? {
            return Err(PyValueError::new_err(format!(
                "{shown}: byte range ({start}, {end}) does not {what} at a line start; cut it with scan_range() and plan_parts()"
            )));
        }
    }
    file.seek(SeekFrom::Start(start)).map_err(os_error)?;
    let at = match (start, first_line) {
        (0, None | Some(1)) => None,
        (0, Some(_)) => return Err(PyValueError::new_err("the part at byte 0 starts at line 1")),
        (_, None) => return Err(PyValueError::new_err("a byte_range after byte 0 needs its first_line (plan_parts)")),
        (_, Some(0)) => return Err(PyValueError::new_err("first_line is 1-based")),
        (_, Some(line)) => Some((line, start)),
    };
    Ok((at, Some(end - start)))
}

/// Validate one NDJSON file (`.ndjson.gz` read transparently). With `output_dir`, also write the
/// CLI's `manifest.json`, `SUCCESS/` and `FAILURE/` there (an absent or empty folder). With
/// `byte_range=(start, end)` and `first_line`, only that part of an uncompressed file, cut at
/// newlines (`scan_range` and `plan_parts` cut a file so): its line numbers and records are the whole file's.
#[pyfunction]
#[pyo3(signature = (path, *, level = "strict", output_dir = None, threads = None, byte_range = None, first_line = None))]
fn validate_file(
    py: Python<'_>,
    path: PathBuf,
    level: &str,
    output_dir: Option<PathBuf>,
    threads: Option<usize>,
    byte_range: Option<(u64, u64)>,
    first_line: Option<u64>,
) -> PyResult<Report> {
    let options = options(level, threads)?;
    let shown = path.display().to_string();
    let mut file = open_input(&path)?;
    let (at, length) = part_of(&path, &mut file, byte_range, first_line)?;
    let reader: Box<dyn Read + Send> = if let Some(length) = length {
        Box::new(file.take(length))
    } else if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, file)))
    } else {
        Box::new(file)
    };
    let staging = output_dir.as_deref().map(prepare_output).transpose()?;
    let records =
        staging.clone().map(|staging| Records { staging, name: record_name(&path), success: None, failure: None });
    let (sink, spill) = Collect::new(records)?;
    let result = run(py, reader, &options, at, sink);
    let cleanup = |staging: &Option<PathBuf>| {
        if let Some(s) = staging {
            let _ = std::fs::remove_dir_all(s);
        }
    };
    let (report, sink) = match result {
        Ok(done) => done,
        Err(e) => {
            cleanup(&staging);
            return Err(e);
        }
    };
    if let Err(e) = sink.close() {
        cleanup(&staging);
        return Err(PyOSError::new_err(format!("cannot write records: {e}; no manifest was written")));
    }
    let done = one(&shown, output_dir.as_ref().map(|d| d.display().to_string()), &report, spill);
    if let (Some(dir), Some(staging)) = (&output_dir, &staging) {
        if let Err(e) = publish(dir, staging, &done.manifest.to_json()) {
            cleanup(&Some(staging.clone()));
            return Err(PyOSError::new_err(format!("cannot write the outputs: {e}; no manifest was written")));
        }
    }
    Ok(done)
}

/// Validate NDJSON bytes in memory, named `name` in the manifest.
#[pyfunction]
#[pyo3(signature = (data, *, name = "input.ndjson", level = "strict", threads = None))]
fn validate_bytes(py: Python<'_>, data: &[u8], name: &str, level: &str, threads: Option<usize>) -> PyResult<Report> {
    let options = options(level, threads)?;
    let (sink, spill) = Collect::new(None)?;
    let (report, sink) = run(py, Box::new(io::Cursor::new(data)), &options, None, sink)?;
    sink.close().map_err(os_error)?;
    Ok(one(name, None, &report, spill))
}

/// A validator for data arriving in chunks (an S3 body, a Kafka stream): `feed(bytes)`, then
/// `finish()`. Lines may be cut anywhere between chunks.
#[pyclass(module = "fhir_preflight", unsendable)]
struct Validator {
    name: String,
    inner: Option<(fhir_preflight::Validator<Collect>, tempfile::NamedTempFile)>,
}

#[pymethods]
impl Validator {
    #[new]
    #[pyo3(signature = (*, name = "stream.ndjson", level = "strict", threads = None))]
    fn new(name: &str, level: &str, threads: Option<usize>) -> PyResult<Self> {
        let options = options(level, threads)?;
        let (sink, spill) = Collect::new(None)?;
        Ok(Validator { name: name.to_owned(), inner: Some((fhir_preflight::Validator::new(&options, sink), spill)) })
    }

    /// Validate the lines this chunk completes (without the GIL).
    fn feed(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        let Some((validator, _)) = self.inner.as_mut() else {
            return Err(PyValueError::new_err("feed() after finish()"));
        };
        py.detach(|| validator.feed(data));
        Ok(())
    }

    /// The last line, and the report.
    fn finish(&mut self, py: Python<'_>) -> PyResult<Report> {
        let Some((validator, spill)) = self.inner.take() else {
            return Err(PyValueError::new_err("finish() called twice"));
        };
        let (report, sink) = py.detach(|| validator.finish_with_sink());
        sink.close().map_err(os_error)?;
        Ok(one(&self.name, None, &report, spill))
    }
}

/// Several inputs as `inputDataConfig.s3Uri` names them, as the CLI does: one as given; several,
/// their common parent folder and `/`.
fn common_input(inputs: &[&str]) -> String {
    if let [only] = inputs {
        return (*only).to_owned();
    }
    let parents: Vec<Vec<String>> = inputs
        .iter()
        .map(|i| {
            Path::new(i)
                .parent()
                .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
                .unwrap_or_default()
        })
        .collect();
    let Some(first) = parents.first() else { return "-".into() };
    let common = parents[1..]
        .iter()
        .fold(first.len(), |n, p| n.min(p.len()).min(first.iter().zip(p).take_while(|(a, b)| a == b).count()));
    let prefix: PathBuf = first[..common].iter().collect();
    match prefix.display().to_string().as_str() {
        "" => "./".into(),
        "/" => "/".into(),
        p => format!("{p}/"),
    }
}

/// Reports of separate inputs combined, as the CLI's `merge` combines manifests.
#[pyfunction]
fn merge(reports: Vec<PyRef<'_, Report>>) -> PyResult<Report> {
    if reports.is_empty() {
        return Err(PyValueError::new_err("merge() needs at least one report"));
    }
    let mut counts = Counts::default();
    let (mut spills, mut notes) = (Vec::new(), Vec::new());
    for r in &reports {
        counts.merge(&r.manifest.counts);
        spills.extend(r.spills.iter().cloned());
        notes.extend(r.notes.iter().cloned());
    }
    let inputs: Vec<&str> = reports.iter().map(|r| r.manifest.input_uri.as_str()).collect();
    Ok(Report { manifest: Manifest { input_uri: common_input(&inputs), output_dir: None, counts }, spills, notes })
}

/// Manifests (their JSON text, as `manifest.json` holds them) of separate inputs combined into the
/// manifest of one run, as the CLI's `merge -o` writes it: counts added exactly, `input_uri` (default:
/// the inputs' common parent, as the CLI names several inputs) and `output_dir` as given.
#[pyfunction]
#[pyo3(signature = (manifests, *, input_uri = None, output_dir = None))]
fn merge_manifests(manifests: Vec<String>, input_uri: Option<String>, output_dir: Option<String>) -> PyResult<String> {
    let mut counts = Counts::default();
    let mut inputs = Vec::new();
    for (i, text) in manifests.iter().enumerate() {
        let m = Manifest::from_json(text).map_err(|e| PyValueError::new_err(format!("manifest {i}: {e}")))?;
        counts.merge(&m.counts);
        inputs.push(m.input_uri);
    }
    if inputs.is_empty() {
        return Err(PyValueError::new_err("merge_manifests() needs at least one manifest"));
    }
    let names: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let input_uri = input_uri.unwrap_or_else(|| common_input(&names));
    Ok(Manifest { input_uri, output_dir, counts }.to_json())
}

/// The first step of cutting an uncompressed NDJSON file into parts at newlines, for the byte
/// range `[start, end)` of a cut: `(first, newlines)`, where `first` is the first line start in the
/// range (`None` when no line starts there: the range is inside one long line) and `newlines` the
/// newlines in bytes `[start - 1, end - 1)` (from byte 0 for the first range). Only those bytes
/// are read, so a file cut into ranges is read once. `plan_parts` turns the ranges' results into
/// the parts `validate_file(byte_range=..., first_line=...)` takes.
#[pyfunction]
fn scan_range(py: Python<'_>, path: PathBuf, start: u64, end: u64) -> PyResult<(Option<u64>, u64)> {
    let shown = path.display().to_string();
    let mut file = open_input(&path)?;
    if path.extension().is_some_and(|e| e == "gz") {
        return Err(PyValueError::new_err(format!("{shown}: a compressed file cannot be cut into byte ranges")));
    }
    if start > end {
        return Err(PyValueError::new_err(format!("{shown}: byte range ({start}, {end}) ends before it starts")));
    }
    py.detach(|| {
        let size = file.metadata()?.len();
        let end = end.min(size);
        if start >= end {
            return Ok((None, 0));
        }
        // A line starts at p when p is 0 or byte p - 1 is a newline.
        let from = start.saturating_sub(1);
        let to = end - 1;
        let mut first = (start == 0).then_some(0);
        let mut newlines = 0;
        file.seek(SeekFrom::Start(from))?;
        let mut buf = vec![0u8; CHUNK];
        let mut reader = (&mut file).take(to - from);
        let mut at = from;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if first.is_none() {
                first = memchr::memchr(b'\n', &buf[..n]).map(|i| at + i as u64 + 1);
            }
            newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            at += n as u64;
        }
        Ok((first, newlines))
    })
    .map_err(|e| PyOSError::new_err(format!("cannot read {shown}: {e}")))
}

/// Manifests (JSON text) of the consecutive byte ranges of one file, as the manifest of that file
/// validated whole: counts added, the file counted once.
#[pyfunction]
#[pyo3(signature = (manifests, *, output_dir = None))]
fn merge_parts(manifests: Vec<String>, output_dir: Option<String>) -> PyResult<String> {
    let mut counts = Counts::default();
    let mut input: Option<String> = None;
    for (i, text) in manifests.iter().enumerate() {
        let m = Manifest::from_json(text).map_err(|e| PyValueError::new_err(format!("manifest {i}: {e}")))?;
        if m.counts.files_scanned != 1 || m.counts.files_read_with_success != 1 {
            return Err(PyValueError::new_err(format!("manifest {i} is not of one part of one file")));
        }
        match &input {
            Some(first) if *first != m.input_uri => {
                return Err(PyValueError::new_err(format!(
                    "manifest {i} is of {}, not of {first}: parts of one file only",
                    m.input_uri
                )))
            }
            _ => input = Some(m.input_uri),
        }
        counts.merge(&m.counts);
    }
    let Some(input_uri) = input else {
        return Err(PyValueError::new_err("merge_parts() needs at least one manifest"));
    };
    counts.files_scanned = 1;
    counts.files_read_with_success = 1;
    counts.files_imported = u64::from(counts.resources_imported > 0);
    Ok(Manifest { input_uri, output_dir, counts }.to_json())
}

#[pymodule]
fn _fhir_preflight(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(validate_file, m)?)?;
    m.add_function(wrap_pyfunction!(validate_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(merge_manifests, m)?)?;
    m.add_function(wrap_pyfunction!(merge_parts, m)?)?;
    m.add_function(wrap_pyfunction!(scan_range, m)?)?;
    m.add_class::<Validator>()?;
    m.add_class::<Report>()?;
    m.add_class::<FailedLine>()?;
    m.add_class::<FailedLines>()?;
    m.add_class::<Diagnostic>()?;
    Ok(())
}
