//! The library half of `xtask`: HL7's pinned packages, the code generator, the conformance runner
//! and the defect generator, shared by the `cargo xtask` commands and by the `fhir-model` oracle
//! (`conformance/fhir-model-oracle`, outside the workspace).

pub mod codegen;
pub mod conformance;
pub mod defects;
pub mod hl7;
