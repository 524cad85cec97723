//! The library half of `xtask`: the conformance runner and the defect generator (HL7's pinned
//! packages come from `fhir-preflight-codegen`), shared by the `cargo xtask` commands and by the `fhir-model` oracle
//! (`conformance/fhir-model-oracle`, outside the workspace).

pub mod conformance;
pub mod defects;
pub mod golden;
pub mod invariant_oracle;
pub mod profiles;
mod route;
pub mod violations;

pub use fhir_preflight_codegen::hl7;
