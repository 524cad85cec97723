//! Validation levels, named as HealthLake's `ValidationLevel`:
//! - `strict` (the default): base R4, plus a warning `profile/unchecked` on each resource whose
//!   `meta.profile` names a profile (HealthLake strict validates declared profiles; fhir-preflight
//!   checks base R4 only);
//! - `structure-only`: base R4, profiles ignored;
//! - `minimal`: the line rules (NDJSON, UTF-8, JSON syntax, duplicate keys, depth, `resourceType`,
//!   `id`) and the JSON kinds of primitives stay errors; every other error becomes a warning.

use std::fmt;
use std::str::FromStr;

use super::{Code, Severity};

/// How much of FHIR R4 a line must satisfy.
///
/// ```
/// use fhir_preflight::{Level, Options};
/// let options = Options::default().with_level("minimal".parse::<Level>()?);
/// assert_eq!(options.level(), Level::Minimal);
/// assert_eq!(Level::default().as_str(), "strict");
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Level {
    /// Line rules and JSON kinds only; other findings are warnings.
    Minimal,
    /// Base R4 structure.
    StructureOnly,
    /// Base R4 structure, and a warning for each declared profile (not checked).
    #[default]
    Strict,
}

impl Level {
    /// The name HealthLake uses (`strict`, `structure-only`, `minimal`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Minimal => "minimal",
            Level::StructureOnly => "structure-only",
            Level::Strict => "strict",
        }
    }

    /// The severity a finding has at this level.
    pub(crate) fn severity(self, code: Code, severity: Severity) -> Severity {
        if self == Level::Minimal && severity == Severity::Error && !kept_in_minimal(code) {
            Severity::Warning
        } else {
            severity
        }
    }
}

/// Codes that stay errors at `minimal`: HealthLake's line rules and JSON kinds.
fn kept_in_minimal(code: Code) -> bool {
    let s = code.as_str();
    s.starts_with("ndjson/")
        || s.starts_with("encoding/")
        || s.starts_with("resource/type")
        || s.starts_with("resource/unknown")
        || s.starts_with("resource/id")
        || s.starts_with("internal/")
        || matches!(
            code,
            Code::JsonSyntax
                | Code::JsonDuplicateKey
                | Code::JsonTooDeep
                | Code::JsonInvalidUnicodeEscape
                | Code::JsonWrongType
        )
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "minimal" => Ok(Level::Minimal),
            "structure-only" => Ok(Level::StructureOnly),
            "strict" => Ok(Level::Strict),
            other => Err(format!("unknown level {other:?} (minimal, structure-only, strict)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_downgrades_structure_only() {
        assert_eq!(Level::Minimal.severity(Code::CardinalityMin, Severity::Error), Severity::Warning);
        assert_eq!(Level::Minimal.severity(Code::JsonUnknownProperty, Severity::Error), Severity::Warning);
        assert_eq!(Level::Minimal.severity(Code::JsonWrongType, Severity::Error), Severity::Error);
        assert_eq!(Level::Minimal.severity(Code::ResourceIdMissing, Severity::Error), Severity::Error);
        assert_eq!(Level::Minimal.severity(Code::ResourceUnknownType, Severity::Fatal), Severity::Fatal);
        assert_eq!(Level::Minimal.severity(Code::JsonSyntax, Severity::Fatal), Severity::Fatal);
        assert_eq!(Level::StructureOnly.severity(Code::CardinalityMin, Severity::Error), Severity::Error);
        assert_eq!(Level::Strict.severity(Code::CardinalityMin, Severity::Error), Severity::Error);
    }

    #[test]
    fn names_round_trip() {
        for level in [Level::Minimal, Level::StructureOnly, Level::Strict] {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
        }
        assert!("lenient".parse::<Level>().is_err());
    }
}
