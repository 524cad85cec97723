//! The per-input sink of the CLI: writes each line's record to SUCCESS/ or FAILURE/ (when an
//! output folder is given) and keeps the first errors for the human report.

use std::io::{self, BufWriter, Write};

use fhir_preflight::{is_failure_record, write_record, Code, Diagnostic, LineResult, Severity, Sink};

use crate::output::{OutputDir, RecordKind};

/// An error to show: the input, and the diagnostic.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    pub(crate) input: String,
    pub(crate) diagnostic: Diagnostic,
}

/// What the human report keeps across inputs: the first `limit` errors, and how many there were.
#[derive(Debug)]
pub(crate) struct ErrorList {
    pub(crate) limit: usize,
    pub(crate) shown: Vec<Shown>,
    pub(crate) total: u64,
    /// Resources whose declared profiles were not checked (`profile/unchecked`).
    pub(crate) unchecked_profiles: u64,
    /// Error-level diagnostics per code.
    pub(crate) per_code: std::collections::BTreeMap<&'static str, u64>,
    /// Per resource type: (lines, failed lines).
    pub(crate) per_type: std::collections::BTreeMap<String, (u64, u64)>,
    /// 64-bit hashes of the `(resourceType, id)` pairs seen, up to [`MAX_IDS`].
    pub(crate) ids: std::collections::HashSet<u64>,
    /// Duplicate pairs found, and the first few (file, line, type/id).
    pub(crate) duplicates: u64,
    pub(crate) first_duplicates: Vec<(String, u64, String)>,
    /// The id set reached [`MAX_IDS`]: later duplicates are not detected.
    pub(crate) ids_full: bool,
}

/// Duplicate `(resourceType, id)` detection keeps at most this many 64-bit hashes (about 64 MB).
pub(crate) const MAX_IDS: usize = 4_000_000;

impl ErrorList {
    pub(crate) fn new(limit: usize) -> Self {
        ErrorList {
            limit,
            shown: Vec::new(),
            total: 0,
            unchecked_profiles: 0,
            per_code: Default::default(),
            per_type: Default::default(),
            ids: Default::default(),
            duplicates: 0,
            first_duplicates: Vec::new(),
            ids_full: false,
        }
    }
}

pub(crate) struct RecordSink<'a> {
    output: Option<&'a OutputDir>,
    record_name: &'a str,
    input: &'a str,
    success: Option<BufWriter<std::fs::File>>,
    failure: Option<BufWriter<std::fs::File>>,
    buf: Vec<u8>,
    errors: &'a mut ErrorList,
    redact: bool,
    /// Resource types of this file's imported lines.
    pub(crate) types_in_file: std::collections::BTreeSet<String>,
    stream: Option<&'a mut dyn crate::stream::Stream>,
    /// The first failure to write to standard output (a streamed format).
    pub(crate) stream_error: Option<io::Error>,
    /// The first failure to write a record; the run stops publishing when set.
    pub(crate) write_error: Option<io::Error>,
}

impl<'a> RecordSink<'a> {
    pub(crate) fn new(
        output: Option<&'a OutputDir>,
        record_name: &'a str,
        input: &'a str,
        errors: &'a mut ErrorList,
        redact: bool,
        stream: Option<&'a mut dyn crate::stream::Stream>,
    ) -> Self {
        RecordSink {
            output,
            record_name,
            input,
            success: None,
            failure: None,
            buf: Vec::new(),
            errors,
            redact,
            types_in_file: Default::default(),
            stream,
            stream_error: None,
            write_error: None,
        }
    }

    /// Flush the record files; the first error wins.
    pub(crate) fn close(mut self) -> Result<(), io::Error> {
        if let Some(e) = self.stream_error.take() {
            self.write_error.get_or_insert(e);
        }
        for writer in [self.success.take(), self.failure.take()].into_iter().flatten() {
            let result = writer.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all());
            if let Err(e) = result {
                self.write_error.get_or_insert(e);
            }
        }
        self.write_error.map_or(Ok(()), Err)
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
            self.types_in_file.insert(ty.to_owned());
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&(ty, id), &mut hasher);
            let hash = std::hash::Hasher::finish(&hasher);
            if self.errors.ids.contains(&hash) {
                self.errors.duplicates += 1;
                if self.errors.first_duplicates.len() < 5 {
                    let shown = if self.redact { format!("{ty}/<redacted>") } else { format!("{ty}/{id}") };
                    self.errors.first_duplicates.push((self.input.to_owned(), line.line, shown));
                }
            } else if self.errors.ids.len() < MAX_IDS {
                self.errors.ids.insert(hash);
            } else {
                self.errors.ids_full = true;
            }
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
        if let (Some(stream), None) = (self.stream.as_deref_mut(), &self.stream_error) {
            let shown = if self.redact { LineResult { resource_id: None, ..*line } } else { *line };
            if let Err(e) = stream.line(self.input, &shown) {
                self.stream_error = Some(e);
            }
        }
        if self.write_error.is_none() {
            if let Err(e) = self.write(line) {
                self.write_error = Some(e);
            }
        }
    }
}
