//! JSON reading for one line: the scanner (tokens with offsets), lazy FHIR paths, and the walk that
//! drives the checks while the line is parsed.

pub(crate) mod path;
pub(crate) mod scan;
pub(crate) mod typed;
pub(crate) mod walk;
