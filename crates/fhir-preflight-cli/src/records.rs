//! The per-input sink of the CLI: writes each line's record to SUCCESS/ or FAILURE/ (when an
//! output folder is given) and keeps the first errors for the human report.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::sync::Mutex;

use fhir_preflight::{is_failure_record, write_record, Code, Diagnostic, LineResult, Severity, Sink};

use crate::ordered::{Lane, Shared};
use crate::output::{OutputDir, RecordKind};
use crate::stream::Render;

/// An error to show: the input, and the diagnostic.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    pub(crate) input: String,
    pub(crate) diagnostic: Diagnostic,
}

/// What the human report keeps: the first `limit` errors, how many there were, counts per code
/// and per resource type. Each input fills its own; [`ErrorList::absorb`] adds them up in input
/// order, which gives what one list filled by every input in turn would hold.
#[derive(Debug)]
pub(crate) struct ErrorList {
    pub(crate) limit: usize,
    pub(crate) shown: Vec<Shown>,
    pub(crate) total: u64,
    /// Resources whose declared profiles were not checked (`profile/unchecked`).
    pub(crate) unchecked_profiles: u64,
    /// Error-level diagnostics per code.
    pub(crate) per_code: BTreeMap<&'static str, u64>,
    /// Per resource type: (lines, failed lines).
    pub(crate) per_type: BTreeMap<String, (u64, u64)>,
}

impl ErrorList {
    pub(crate) fn new(limit: usize) -> Self {
        ErrorList {
            limit,
            shown: Vec::new(),
            total: 0,
            unchecked_profiles: 0,
            per_code: BTreeMap::new(),
            per_type: BTreeMap::new(),
        }
    }

    /// Add a later input's list.
    pub(crate) fn absorb(&mut self, later: ErrorList) {
        let room = self.limit.saturating_sub(self.shown.len());
        self.shown.extend(later.shown.into_iter().take(room));
        self.total += later.total;
        self.unchecked_profiles += later.unchecked_profiles;
        for (code, n) in later.per_code {
            *self.per_code.entry(code).or_default() += n;
        }
        for (ty, (n, bad)) in later.per_type {
            let entry = self.per_type.entry(ty).or_default();
            *entry = (entry.0 + n, entry.1 + bad);
        }
    }
}

/// Where one input's line verdicts go.
pub(crate) struct RecordSink<'a> {
    output: Option<&'a OutputDir>,
    record_name: &'a str,
    input: &'a str,
    /// The input's index in the run (the Bundle's fullUrls use it).
    index: usize,
    success: Option<BufWriter<std::fs::File>>,
    failure: Option<BufWriter<std::fs::File>>,
    buf: Vec<u8>,
    /// This input's errors for the human report.
    pub(crate) errors: ErrorList,
    redact: bool,
    /// Resource types of this file's imported lines.
    pub(crate) types_in_file: std::collections::BTreeSet<String>,
    /// The streamed format and where its items and the ids go, in input order.
    render: Option<Render>,
    lane: &'a Lane,
    shared: &'a Mutex<Shared>,
    /// The first failure to write a record; the run stops publishing when set.
    pub(crate) write_error: Option<io::Error>,
}

/// What a [`RecordSink`] needs besides its input.
pub(crate) struct SinkTarget<'a> {
    pub(crate) output: Option<&'a OutputDir>,
    pub(crate) render: Option<Render>,
    pub(crate) shared: &'a Mutex<Shared>,
    pub(crate) max_errors: usize,
    pub(crate) redact: bool,
}

impl<'a> RecordSink<'a> {
    pub(crate) fn new(target: &SinkTarget<'a>, input: &'a crate::inputs::Input, index: usize, lane: &'a Lane) -> Self {
        RecordSink {
            output: target.output,
            record_name: &input.record_name,
            input: &input.display,
            index,
            success: None,
            failure: None,
            buf: Vec::new(),
            errors: ErrorList::new(target.max_errors),
            redact: target.redact,
            types_in_file: Default::default(),
            render: target.render,
            lane,
            shared: target.shared,
            write_error: None,
        }
    }

    /// Flush the record files; the first error wins.
    pub(crate) fn close(&mut self) -> Result<(), io::Error> {
        self.lane.finish(self.shared, self.input);
        for writer in [self.success.take(), self.failure.take()].into_iter().flatten() {
            let result = writer.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all());
            if let Err(e) = result {
                self.write_error.get_or_insert(e);
            }
        }
        self.write_error.take().map_or(Ok(()), Err)
    }

    fn write(&mut self, line: &LineResult<'_>) -> io::Result<()> {
        let Some(output) = self.output else { return Ok(()) };
        self.buf.clear();
        if self.redact {
            write_record(&mut self.buf, &LineResult { resource_id: None, ..*line });
        } else {
            write_record(&mut self.buf, line);
        }
        let (slot, kind) = if is_failure_record(line) {
            (&mut self.failure, RecordKind::Failure)
        } else {
            (&mut self.success, RecordKind::Success)
        };
        if slot.is_none() {
            *slot = Some(BufWriter::with_capacity(256 * 1024, output.create_record_file(kind, self.record_name)?));
        }
        match slot {
            Some(writer) => writer.write_all(&self.buf),
            None => Ok(()),
        }
    }
}

impl Sink for RecordSink<'_> {
    fn line(&mut self, line: &LineResult<'_>) {
        let profiles = line.diagnostics.iter().filter(|d| d.code == Code::ProfileUnchecked).count();
        self.errors.unchecked_profiles += profiles as u64;
        let failed = line.status != fhir_preflight::LineStatus::Imported;
        if let (Some(ty), Some(id), false) = (line.resource_type, line.resource_id, failed) {
            if !self.types_in_file.contains(ty) {
                self.types_in_file.insert(ty.to_owned());
            }
            self.lane.id(self.shared, self.input, line.line, ty, id);
        }
        let ty = line.resource_type.filter(|t| fhir_preflight::is_resource_type(t)).unwrap_or("(unknown)");
        match self.errors.per_type.get_mut(ty) {
            Some(entry) => *entry = (entry.0 + 1, entry.1 + u64::from(failed)),
            None => {
                self.errors.per_type.insert(ty.to_owned(), (1, u64::from(failed)));
            }
        }
        for d in line.diagnostics.iter().filter(|d| d.severity >= Severity::Error) {
            *self.errors.per_code.entry(d.code.as_str()).or_default() += 1;
            self.errors.total += 1;
            if self.errors.shown.len() < self.errors.limit {
                self.errors.shown.push(Shown { input: self.input.to_owned(), diagnostic: d.clone() });
            }
        }
        if let Some(render) = self.render {
            let shown = if self.redact { LineResult { resource_id: None, ..*line } } else { *line };
            self.buf.clear();
            render.line(self.index, self.input, &shown, &mut self.buf);
            self.lane.items(self.shared, self.input, &self.buf);
        }
        if self.write_error.is_none() {
            if let Err(e) = self.write(line) {
                self.write_error = Some(e);
            }
        }
    }
}
