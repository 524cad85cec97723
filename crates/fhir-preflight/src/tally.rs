//! What a report shows at a glance, counted from the line results: diagnostics per code (errors
//! and warnings apart) and lines per resource type (all, and failed). The CLI's summary lines
//! (`Errors by code: …`) and the browser page's charts both come from it, so they agree.
//!
//! May import: `diagnostic`, `validator` (the line results), `model`.

use std::collections::BTreeMap;

use crate::diagnostic::Severity;
use crate::validator::LineResult;

/// Counts per code and per resource type, fed with each line (in any order; [`Tally::absorb`]
/// adds another's).
///
/// ```
/// use fhir_preflight::{validate_bytes, LineResult, Options, Tally};
/// let mut tally = Tally::default();
/// let input = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\"}\n";
/// validate_bytes(input, &Options::default(), &mut |l: &LineResult<'_>| tally.line(l));
/// assert_eq!(tally.errors_per_code.get("resource/id-missing"), Some(&1));
/// assert_eq!(tally.per_type["Patient"], (2, 1));
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Error and fatal diagnostics per code.
    pub errors_per_code: BTreeMap<&'static str, u64>,
    /// Warnings per code (information is not counted).
    pub warnings_per_code: BTreeMap<&'static str, u64>,
    /// Per resource type (an unknown or absent one as `(unknown)`): (lines, failed lines).
    pub per_type: BTreeMap<String, (u64, u64)>,
    /// Error and fatal diagnostics.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Imported lines with at least one warning.
    pub lines_with_warnings: u64,
}

/// How [`Tally::per_type`] names a line whose resource type is not one of R4's.
pub const UNKNOWN_TYPE: &str = "(unknown)";

impl Tally {
    /// Count one line.
    pub fn line(&mut self, line: &LineResult<'_>) {
        let failed = line.status != crate::LineStatus::Imported;
        let ty = line.resource_type.filter(|t| crate::is_resource_type(t)).unwrap_or(UNKNOWN_TYPE);
        match self.per_type.get_mut(ty) {
            Some(entry) => *entry = (entry.0 + 1, entry.1 + u64::from(failed)),
            None => {
                self.per_type.insert(ty.to_owned(), (1, u64::from(failed)));
            }
        }
        let mut warned = false;
        for d in line.diagnostics {
            if d.severity() >= Severity::Error {
                *self.errors_per_code.entry(d.code().as_str()).or_default() += 1;
                self.errors += 1;
            } else if d.severity() == Severity::Warning {
                warned = true;
                *self.warnings_per_code.entry(d.code().as_str()).or_default() += 1;
                self.warnings += 1;
            }
        }
        self.lines_with_warnings += u64::from(warned && !failed);
    }

    /// Add another tally (of a later input, or of another part).
    pub fn absorb(&mut self, other: &Tally) {
        for (code, n) in &other.errors_per_code {
            *self.errors_per_code.entry(code).or_default() += n;
        }
        for (code, n) in &other.warnings_per_code {
            *self.warnings_per_code.entry(code).or_default() += n;
        }
        for (ty, (n, bad)) in &other.per_type {
            let entry = self.per_type.entry(ty.clone()).or_default();
            *entry = (entry.0 + n, entry.1 + bad);
        }
        self.errors += other.errors;
        self.warnings += other.warnings;
        self.lines_with_warnings += other.lines_with_warnings;
    }
}
