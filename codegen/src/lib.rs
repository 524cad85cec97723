//! Code generation for the core's FHIR R4 tables, and HL7's pinned npm packages: the definitions
//! are read by `fhir-preflight-definitions` (which the core can use at run time too) and emitted
//! as Rust by [`emit`]. Deliberately independent of the core crate: it must run when the generated
//! tables are stale or broken.

pub mod emit;
pub mod generate;
pub mod hl7;
