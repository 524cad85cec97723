//! Run failures. Bad *data* is never an `Err`: it is a [`Diagnostic`](crate::Diagnostic) on a line.
//! An `Err` means the run itself could not go on (bad options, an input that cannot be read).

use crate::validator::FileReport;

/// A failure of the run, not of the data.
///
/// ```
/// let err = fhir_preflight::Options::default().with_max_depth(0).unwrap_err();
/// assert!(err.to_string().contains("--max-depth"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option is out of range.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option's name as the CLI spells it.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading the input failed after `partial.bytes_scanned` bytes. Every line before the failure
    /// was validated and delivered to the sink; `partial` counts them.
    #[error("read error after {} bytes: {source}", partial.bytes_scanned)]
    Read {
        /// The I/O error.
        #[source]
        source: std::io::Error,
        /// What was validated before the failure.
        partial: Box<FileReport>,
    },
}
