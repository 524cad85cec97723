//! The JSON layer, which knows nothing of FHIR: NDJSON framing over pushed chunks ([`framing`]),
//! what a file that is not NDJSON looks like from its first bytes ([`sniff`]), and the scanner
//! that reads one line's tokens with their offsets ([`scan`]).
//!
//! May import: nothing of the crate.

pub(crate) mod framing;
pub(crate) mod scan;
pub(crate) mod sniff;
