//! Code generation for the core's FHIR R4 tables, and HL7's pinned npm packages. Deliberately
//! independent of the core crate: it must run when the generated tables are stale or broken.

pub mod generate;
pub mod hl7;
