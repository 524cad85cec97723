//! The per-input sink of the CLI: writes each line's record to SUCCESS/ or FAILURE/ (when an
//! output folder is given) and keeps the first errors for the human report.

use std::io::{self, BufWriter, Write};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use fhir_preflight::{
    is_failure_record, write_record_with, Code, Diagnostic, LineResult, Redaction, Severity, Sink, Tally,
};

use crate::ordered::{Lane, Shared};
use crate::output::{OutputDir, RecordKind};
use crate::stream::Render;

/// An error to show: the input, and the diagnostic.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    pub(crate) input: String,
    pub(crate) diagnostic: Diagnostic,
}

/// What the human report keeps: the first `limit` errors and `warning_limit` warnings, and the
/// core's [`Tally`] (counts per code and per resource type). Each input fills its own;
/// [`ErrorList::absorb`] adds them up in input order, which gives what one list filled by every
/// input in turn would hold.
#[derive(Debug)]
pub(crate) struct ErrorList {
    pub(crate) limit: usize,
    pub(crate) shown: Vec<Shown>,
    pub(crate) warning_limit: usize,
    pub(crate) warnings: Vec<Shown>,
    /// Resources whose declared profiles were not checked (`profile/unchecked`).
    pub(crate) unchecked_profiles: u64,
    /// Errors and warnings per code, lines per resource type.
    pub(crate) tally: Tally,
}

impl ErrorList {
    pub(crate) fn new(limit: usize, warning_limit: usize) -> Self {
        ErrorList {
            limit,
            shown: Vec::new(),
            warning_limit,
            warnings: Vec::new(),
            unchecked_profiles: 0,
            tally: Tally::default(),
        }
    }

    /// Add a later input's list.
    pub(crate) fn absorb(&mut self, later: ErrorList) {
        let room = self.limit.saturating_sub(self.shown.len());
        self.shown.extend(later.shown.into_iter().take(room));
        let room = self.warning_limit.saturating_sub(self.warnings.len());
        self.warnings.extend(later.warnings.into_iter().take(room));
        self.unchecked_profiles += later.unchecked_profiles;
        self.tally.absorb(&later.tally);
    }

    /// Count a line, keeping the first diagnostics of each kind.
    fn line(&mut self, input: &str, line: &LineResult<'_>) {
        self.tally.line(line);
        for d in line.diagnostics {
            if d.severity() >= Severity::Error {
                if self.shown.len() < self.limit {
                    self.shown.push(Shown { input: input.to_owned(), diagnostic: d.clone() });
                }
            } else if d.severity() == Severity::Warning && self.warnings.len() < self.warning_limit {
                self.warnings.push(Shown { input: input.to_owned(), diagnostic: d.clone() });
            }
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
    /// The core's rules about this file (several resource types).
    pub(crate) file_checks: fhir_preflight::FileChecks,
    /// The streamed format and where its items and the ids go, in input order.
    render: Option<Render>,
    lane: &'a Lane,
    shared: &'a Mutex<Shared>,
    /// The first failure to write a record; the run stops publishing when set.
    pub(crate) write_error: Option<io::Error>,
    lines: Option<Arc<AtomicU64>>,
}

/// What a [`RecordSink`] needs besides its input.
pub(crate) struct SinkTarget<'a> {
    pub(crate) output: Option<&'a OutputDir>,
    pub(crate) render: Option<Render>,
    pub(crate) shared: &'a Mutex<Shared>,
    pub(crate) max_errors: usize,
    pub(crate) max_warnings: usize,
    pub(crate) redact: bool,
    /// Lines validated, for the progress display.
    pub(crate) lines: Option<Arc<AtomicU64>>,
}

impl SinkTarget<'_> {
    pub(crate) fn redaction(&self) -> Redaction {
        if self.redact {
            Redaction::On
        } else {
            Redaction::Off
        }
    }
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
            errors: ErrorList::new(target.max_errors, target.max_warnings),
            lines: target.lines.clone(),
            redact: target.redact,
            file_checks: Default::default(),
            render: target.render,
            lane,
            shared: target.shared,
            write_error: None,
        }
    }

    fn redaction(&self) -> Redaction {
        if self.redact {
            Redaction::On
        } else {
            Redaction::Off
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
        let redaction = self.redaction();
        write_record_with(&mut self.buf, line, redaction);
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
        let profiles = line.diagnostics.iter().filter(|d| d.code() == Code::ProfileUnchecked).count();
        self.errors.unchecked_profiles += profiles as u64;
        let failed = line.status != fhir_preflight::LineStatus::Imported;
        self.file_checks.line(line);
        if let (Some(ty), Some(id), false) = (line.resource_type, line.resource_id, failed) {
            self.lane.id(self.shared, self.input, line.line, ty, id);
        }
        self.errors.line(self.input, line);
        if let Some(lines) = &self.lines {
            lines.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(render) = self.render {
            let redaction = self.redaction();
            let shown = if self.redact { line.redacted() } else { *line };
            self.buf.clear();
            render.line(self.index, self.input, &shown, redaction, &mut self.buf);
            self.lane.items(self.shared, self.input, &self.buf);
        }
        if self.write_error.is_none() {
            if let Err(e) = self.write(line) {
                self.write_error = Some(e);
            }
        }
    }
}
