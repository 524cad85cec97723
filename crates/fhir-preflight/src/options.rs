//! Validation options, shared by the library, the CLI and the browser build.

use crate::{Error, Level};

/// Default for [`Options::max_line_bytes`]: 256 MiB. A 164 MB HealthLake `Binary` is about 219 MB as base64.
pub const DEFAULT_MAX_LINE_BYTES: u64 = 256 * 1024 * 1024;
/// Default for [`Options::max_issues_per_line`].
pub const DEFAULT_MAX_ISSUES_PER_LINE: usize = 100;
/// Default for [`Options::max_depth`]: JSON nesting deeper than this is a customer error.
pub const DEFAULT_MAX_DEPTH: usize = 128;
/// Largest accepted [`Options::max_depth`]: the walker recurses once per level, and must not
/// overflow a 1 MiB stack (the browser's) whatever the input.
pub const MAX_MAX_DEPTH: usize = 1024;
/// Default number of bytes read at a time by [`validate_reader`](crate::validate_reader).
pub const DEFAULT_CHUNK_BYTES: usize = 1024 * 1024;

/// How to validate. Build with [`Options::default`] and the `with_*` setters, which check ranges.
///
/// ```
/// let options = fhir_preflight::Options::default().with_max_depth(64)?.with_threads(1);
/// assert_eq!(options.max_depth(), 64);
/// # Ok::<(), fhir_preflight::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub(crate) max_line_bytes: u64,
    pub(crate) max_issues_per_line: usize,
    pub(crate) max_depth: usize,
    pub(crate) threads: usize,
    pub(crate) chunk_bytes: usize,
    pub(crate) batch_bytes: usize,
    pub(crate) level: Level,
    pub(crate) best_practice: crate::Severity,
    pub(crate) profiles: crate::Profiles,
    pub(crate) memo: bool,
    #[cfg(feature = "fault-injection")]
    pub(crate) panic_marker: Option<Vec<u8>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_issues_per_line: DEFAULT_MAX_ISSUES_PER_LINE,
            max_depth: DEFAULT_MAX_DEPTH,
            threads: 0,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            batch_bytes: 4 * 1024 * 1024,
            level: Level::default(),
            best_practice: crate::Severity::Information,
            profiles: crate::Profiles::default(),
            memo: true,
            #[cfg(feature = "fault-injection")]
            panic_marker: None,
        }
    }
}

impl Options {
    /// Lines longer than this many bytes (without the line terminator) are customer errors and are
    /// never held in memory. At least 16, at most 4 GiB − 1 (offsets inside a line are 32-bit).
    ///
    /// ```
    /// use fhir_preflight::Options;
    /// assert!(Options::default().with_max_line_bytes(1 << 20).is_ok());
    /// assert!(Options::default().with_max_line_bytes(1 << 32).is_err());
    /// ```
    pub fn with_max_line_bytes(mut self, bytes: u64) -> Result<Self, Error> {
        if bytes < 16 {
            return Err(invalid("--max-line-bytes", "must be at least 16"));
        }
        // Offsets inside a line are kept as `u32` (the scanner's tokens fit in registers).
        if bytes > u64::from(u32::MAX) {
            return Err(invalid("--max-line-bytes", "must be at most 4294967295 (4 GiB - 1)"));
        }
        self.max_line_bytes = bytes;
        Ok(self)
    }

    /// At most this many diagnostics are kept per line; then one "N more" diagnostic. At least 1.
    pub fn with_max_issues_per_line(mut self, issues: usize) -> Result<Self, Error> {
        if issues == 0 {
            return Err(invalid("--max-issues-per-line", "must be at least 1"));
        }
        self.max_issues_per_line = issues;
        Ok(self)
    }

    /// JSON nesting deeper than this is a customer error. From 2 to [`MAX_MAX_DEPTH`].
    pub fn with_max_depth(mut self, depth: usize) -> Result<Self, Error> {
        if !(2..=MAX_MAX_DEPTH).contains(&depth) {
            return Err(invalid("--max-depth", &format!("must be from 2 to {MAX_MAX_DEPTH}")));
        }
        self.max_depth = depth;
        Ok(self)
    }

    /// Number of threads validating lines: 1 validates on the calling thread, 0 (the default) uses
    /// the current rayon pool. Without the `parallel` feature every value means 1.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Bytes read at a time by [`validate_reader`](crate::validate_reader) (at least 1). The result
    /// never depends on it; tests set it small to put chunk boundaries everywhere.
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Result<Self, Error> {
        if bytes == 0 {
            return Err(invalid("--chunk-bytes", "must be at least 1"));
        }
        self.chunk_bytes = bytes;
        Ok(self)
    }

    /// Bytes of complete lines gathered before a batch is validated (in parallel). The result never
    /// depends on it.
    pub fn with_batch_bytes(mut self, bytes: usize) -> Result<Self, Error> {
        if bytes == 0 {
            return Err(invalid("--batch-bytes", "must be at least 1"));
        }
        self.batch_bytes = bytes;
        Ok(self)
    }

    /// The validation level (HealthLake's `ValidationLevel`); default [`Level::Strict`].
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// See [`Options::with_level`].
    pub fn level(&self) -> Level {
        self.level
    }

    /// The severity of the constraints HL7 marks best practice (`dom-6`: a resource should have a
    /// narrative): [`Severity::Information`](crate::Severity::Information) by default, so that
    /// they do not put a warning on every line; `Warning` or `Error` raise them.
    ///
    /// ```
    /// use fhir_preflight::{Options, Severity};
    /// assert_eq!(Options::default().best_practice(), Severity::Information);
    /// assert_eq!(Options::default().with_best_practice(Severity::Warning).best_practice(), Severity::Warning);
    /// ```
    pub fn with_best_practice(mut self, severity: crate::Severity) -> Self {
        self.best_practice = severity;
        self
    }

    /// Remember, per thread, the small objects read without a finding whose verdict cannot depend
    /// on where they stand (a `Coding`, a `Quantity`: bulk data repeats them), and skip the same
    /// bytes when they come again. On by default; it never changes a verdict (off is for
    /// measuring it, and for the tests that show it changes nothing).
    ///
    /// ```
    /// assert!(fhir_preflight::Options::default().memo());
    /// assert!(!fhir_preflight::Options::default().with_memo(false).memo());
    /// ```
    pub fn with_memo(mut self, on: bool) -> Self {
        self.memo = on;
        self
    }

    /// See [`Options::with_memo`].
    pub fn memo(&self) -> bool {
        self.memo
    }

    /// See [`Options::with_best_practice`].
    pub fn best_practice(&self) -> crate::Severity {
        self.best_practice
    }

    /// The profiles `meta.profile` may name (at [`Level::Strict`], and as warnings at
    /// [`Level::Minimal`]): US Core, every version HealthLake supports, by default.
    ///
    /// ```
    /// use fhir_preflight::{Options, Profiles};
    /// let options = Options::default().with_profiles(Profiles::default().with_us_core_version("4.0.0")?);
    /// assert_eq!(options.profiles().us_core_version(), "4.0.0");
    /// # Ok::<(), String>(())
    /// ```
    pub fn with_profiles(mut self, profiles: crate::Profiles) -> Self {
        self.profiles = profiles;
        self
    }

    /// See [`Options::with_profiles`].
    pub fn profiles(&self) -> &crate::Profiles {
        &self.profiles
    }

    /// Test-only fault injection: validating a line that contains `marker` panics.
    #[cfg(feature = "fault-injection")]
    #[doc(hidden)]
    pub fn with_panic_marker(mut self, marker: &[u8]) -> Self {
        self.panic_marker = Some(marker.to_vec());
        self
    }

    /// See [`Options::with_max_line_bytes`].
    pub fn max_line_bytes(&self) -> u64 {
        self.max_line_bytes
    }
    /// See [`Options::with_max_issues_per_line`].
    pub fn max_issues_per_line(&self) -> usize {
        self.max_issues_per_line
    }
    /// See [`Options::with_max_depth`].
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }
    /// See [`Options::with_threads`].
    pub fn threads(&self) -> usize {
        self.threads
    }
    /// See [`Options::with_chunk_bytes`].
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_bytes
    }
}

fn invalid(option: &'static str, reason: &str) -> Error {
    Error::InvalidOption { option, reason: reason.to_owned() }
}
