//! Rules about a whole file or a whole run, which no single line can decide: a file holding
//! several resource types (`ndjson/mixed-types`: HealthLake accepts it, FHIR bulk data has one
//! type per file), a file over a size threshold and a run over 10,000 files (`healthlake/limit`),
//! and the same `(resourceType, id)` twice in a run (`ndjson/duplicate-id`: HealthLake keeps the
//! last one). The CLI and the browser page both use them, fed in input order; memory stays flat
//! (a fixed table of 64-bit hashes, see `ids.rs`).
//!
//! [`FileChecks`] takes one file's lines (files may be validated at the same time, each with its
//! own); [`RunChecks`] takes the imported lines' pairs in input order (so the *later* line is the
//! duplicate, whatever the threads) and says what it found at the end.
//!
//! May import: `diagnostic`, `validator` (the line results), `model`.

mod ids;

use std::collections::BTreeSet;

use crate::diagnostic::{Code, Diagnostic, Message};
use crate::validator::LineResult;
pub use ids::{id_hash, MAX_IDS};

/// HealthLake's quota of files per import job.
pub const MAX_FILES_PER_JOB: u64 = 10_000;

/// How many duplicate pairs the run note names.
const DUPLICATES_NAMED: usize = 5;

/// The rules about one file, fed with each of its lines.
///
/// ```
/// use fhir_preflight::{validate_bytes, FileChecks, LineResult, Options};
/// let mut file = FileChecks::default();
/// let mut sink = |l: &LineResult<'_>| file.line(l);
/// let input = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Basic\",\"id\":\"b\",\"code\":{\"text\":\"x\"}}\n";
/// validate_bytes(input, &Options::default(), &mut sink);
/// let notes = file.finish(None, None);
/// assert_eq!(notes[0].code().as_str(), "ndjson/mixed-types");
/// ```
#[derive(Debug, Default)]
pub struct FileChecks {
    /// Resource types of the file's imported lines (R4 type names only: at most 146).
    types: BTreeSet<&'static str>,
}

impl FileChecks {
    /// One line of the file, in any order.
    pub fn line(&mut self, line: &LineResult<'_>) {
        if line.status != crate::LineStatus::Imported {
            return;
        }
        if let Some(ty) = line.resource_type {
            self.imported_type(ty);
        }
    }

    /// The resource type of an imported line (a name R4 does not define is ignored): what
    /// [`FileChecks::line`] records, for a file whose parts were checked apart.
    pub fn imported_type(&mut self, name: &str) {
        let model = crate::model::Model::r4();
        if let Some(id) = model.resource_type(name) {
            self.types.insert(model.ty(id).name);
        }
    }

    /// The resource types of the imported lines so far, by name.
    pub fn types(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.types.iter().copied()
    }

    /// The file's notes: several resource types; its size (`size`, bytes) over `warn_size`.
    pub fn finish(self, size: Option<u64>, warn_size: Option<u64>) -> Vec<Diagnostic> {
        let mut notes = Vec::new();
        if self.types.len() > 1 {
            let types: Vec<&str> = self.types.iter().copied().collect();
            let mut listed = types.iter().take(5).copied().collect::<Vec<_>>().join(", ");
            if types.len() > 5 {
                listed.push_str(&format!(" … and {} more", types.len() - 5));
            }
            let message = format!(
                "the file holds {} resource types ({listed}): HealthLake accepts it; FHIR bulk data files hold one type each",
                types.len()
            );
            notes.push(Diagnostic::note(Code::NdjsonMixedTypes, 1, message));
        }
        if let (Some(size), Some(limit)) = (size, warn_size) {
            if size > limit {
                let message = format!("the file is {size} bytes, over --warn-file-size {limit}");
                notes.push(Diagnostic::note(Code::HealthlakeLimit, 1, message));
            }
        }
        notes
    }
}

/// A duplicate pair the run note names: input, line, type, id.
#[derive(Debug)]
struct Named {
    file: String,
    line: u64,
    resource_type: String,
    id: String,
}

/// The rules about the whole run, fed in input order.
///
/// ```
/// use fhir_preflight::RunChecks;
/// let mut run = RunChecks::default();
/// run.id("a.ndjson", 1, "Patient", "p1");
/// run.id("b.ndjson", 7, "Patient", "p1");
/// run.file_done();
/// run.file_done();
/// let notes = run.finish();
/// assert_eq!(notes[0].code().as_str(), "ndjson/duplicate-id");
/// assert!(notes[0].message().ends_with("first: b.ndjson:7 Patient/p1"));
/// ```
#[derive(Debug, Default)]
pub struct RunChecks {
    ids: ids::Ids,
    duplicates: u64,
    named: Vec<Named>,
    /// The table filled up: later duplicates were not checked.
    full: bool,
    files: u64,
}

impl RunChecks {
    /// An imported line's `(resourceType, id)`, in input order: the later line of a pair is the
    /// duplicate.
    pub fn id(&mut self, file: &str, line: u64, resource_type: &str, id: &str) {
        self.id_hashed(file, line, ids::id_hash(resource_type, id), || (resource_type.to_owned(), id.to_owned()));
    }

    /// [`RunChecks::id`] of a pair already hashed ([`id_hash`], where the line was validated);
    /// `name` gives its `(resourceType, id)`, asked only when the line is a duplicate to name.
    pub fn id_hashed(&mut self, file: &str, line: u64, hash: u64, name: impl FnOnce() -> (String, String)) {
        match self.ids.see(hash) {
            ids::Seen::New => {}
            ids::Seen::NotKept => self.full = true,
            ids::Seen::Duplicate => {
                self.duplicates += 1;
                if self.named.len() < DUPLICATES_NAMED {
                    let (resource_type, id) = name();
                    self.named.push(Named { file: file.to_owned(), line, resource_type, id });
                }
            }
        }
    }

    /// A line of the run, in input order: its pair, when it was imported.
    pub fn line(&mut self, file: &str, line: &LineResult<'_>) {
        if let (crate::LineStatus::Imported, Some(ty), Some(id)) = (line.status, line.resource_type, line.resource_id) {
            self.id(file, line.line, ty, id);
        }
    }

    /// A file of the run was read (readable or not).
    pub fn file_done(&mut self) {
        self.files += 1;
    }

    /// The run's notes (line 0: no line), in a fixed order: duplicates, a full table, too many files.
    pub fn finish(self) -> Vec<Diagnostic> {
        let mut notes = Vec::new();
        if self.duplicates > 0 {
            let mut message = Message::plain(format!(
                "{} lines repeat a (resourceType, id) seen earlier: HealthLake keeps the last one; first: ",
                self.duplicates
            ));
            for (i, d) in self.named.iter().enumerate() {
                let sep = if i > 0 { ", " } else { "" };
                message.push_text(format!("{sep}{}:{} {}/", d.file, d.line, d.resource_type));
                // The id is data: redacted under --redact.
                message.push_raw(d.id.clone());
            }
            notes.push(Diagnostic::from_parts(Code::NdjsonDuplicateId, None, message, 0));
        }
        if self.full {
            let message =
                format!("more than {MAX_IDS} distinct (resourceType, id) pairs: later duplicates were not checked");
            notes.push(Diagnostic::note(Code::NdjsonDuplicateId, 0, message));
        }
        if self.files > MAX_FILES_PER_JOB {
            let message =
                format!("{} files: a HealthLake import job takes at most 10,000 files; split the input", self.files);
            notes.push(Diagnostic::note(Code::HealthlakeLimit, 0, message));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Redaction;

    #[test]
    fn duplicates_name_the_later_lines_and_redact_the_ids() {
        let mut run = RunChecks::default();
        for (file, line, id) in [("a", 1, "x"), ("a", 2, "y"), ("a", 3, "x"), ("b", 1, "y"), ("b", 2, "z")] {
            run.id(file, line, "Patient", id);
        }
        for _ in 0..=MAX_FILES_PER_JOB {
            run.file_done();
        }
        let notes = run.finish();
        assert_eq!(notes.len(), 2);
        assert_eq!(
            notes[0].message(),
            "2 lines repeat a (resourceType, id) seen earlier: HealthLake keeps the last one; first: a:3 Patient/x, b:1 Patient/y"
        );
        assert!(notes[0].message_with(Redaction::On).ends_with("a:3 Patient/<redacted>, b:1 Patient/<redacted>"));
        assert_eq!(notes[1].code(), Code::HealthlakeLimit);
        assert_eq!(notes[0].line(), 0);
    }

    #[test]
    fn file_notes() {
        assert!(FileChecks::default().finish(Some(10), Some(10)).is_empty());
        let notes = FileChecks::default().finish(Some(11), Some(10));
        assert_eq!(notes[0].message(), "the file is 11 bytes, over --warn-file-size 10");
    }
}
