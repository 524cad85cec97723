//! Required bindings, checked offline from the generated value sets: a `code` (or other string
//! primitive) bound `required` must be one of the value set's codes. Grammars are handled by
//! shape: media types (BCP-13) must look like `type/subtype`; UCUM units are not checked (never a
//! false error). Value sets with no expansion in the package are not checked.
//!
//! Example failing line: `{"resourceType":"Patient","id":"a","gender":"F"}`.

use crate::diagnostic::{quote, Code, Severity};
use crate::issues::{Issue, Issues};
use crate::json::path::Path;
use crate::r4::model::{Binding, Element, ValueSetKind};
use crate::r4::VALUE_SETS;

/// `type/subtype` with RFC 6838 token characters, parameters allowed after `;`; or one of FHIR's
/// format shorthands `xml`, `json`, `ttl` (CapabilityStatement.format: "xml | json | ttl | mime type",
/// also used by HL7's TestScript examples).
fn is_media_type(text: &str) -> bool {
    if matches!(text, "xml" | "json" | "ttl") {
        return true;
    }
    let essence = text.split(';').next().unwrap_or("").trim();
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    matches!(essence.split_once('/'), Some((t, s)) if token(t) && token(s))
}

#[inline]
pub(crate) fn check(issues: &mut Issues, element: &Element, text: &str, offset: usize, path: &Path<'_>) {
    let Binding::Required(index) = element.binding else { return };
    let vs = &VALUE_SETS[index as usize];
    let ok = match vs.kind {
        ValueSetKind::Enumerated => (vs.member)(text.as_bytes()).is_some(),
        ValueSetKind::MimeTypes => is_media_type(text),
        ValueSetKind::Ucum => true,
    };
    if !ok {
        let message =
            format!("The value provided ({}) is not in the value set {} (required binding)", quote(text), vs.url);
        report(issues, message, offset, path);
    }
}

/// A required binding on a Coding or CodeableConcept: at least one coding must be in the value set
/// (same system and code). `codings` are the `(system, code)` pairs found in the value.
pub(crate) fn check_codings(
    issues: &mut Issues,
    element: &Element,
    codings: &[(Option<String>, Option<String>)],
    offset: usize,
    path: &Path<'_>,
) {
    let Binding::Required(index) = element.binding else { return };
    let vs = &VALUE_SETS[index as usize];
    if vs.kind != ValueSetKind::Enumerated {
        return;
    }
    let in_set = |system: &Option<String>, code: &str| {
        let Some(i) = (vs.member)(code.as_bytes()) else { return false };
        let mut same_code = vs.codes[usize::from(i)..].iter().take_while(|(c, _)| *c == code);
        same_code.any(|(_, s)| system.as_deref().is_none_or(|sys| sys == *s))
    };
    if codings.iter().any(|(system, code)| code.as_deref().is_some_and(|c| in_set(system, c))) {
        return;
    }
    let message = match codings.iter().find_map(|(_, code)| code.as_deref()) {
        Some(code) => {
            format!("The code provided ({}) is not in the value set {} (required binding)", quote(code), vs.url)
        }
        None => format!("No code provided, and a code is required from the value set {} (required binding)", vs.url),
    };
    report(issues, message, offset, path);
}

#[cold]
fn report(issues: &mut Issues, message: String, offset: usize, path: &Path<'_>) {
    issues.push(Issue {
        code: Code::BindingRequired,
        severity: Severity::Error,
        message,
        offset: Some(offset),
        path: path.render(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        for ok in ["xml", "json", "text/plain", "application/fhir+json", "image/svg+xml", "text/plain; charset=utf-8"] {
            assert!(is_media_type(ok), "{ok}");
        }
        for bad in ["text", "text/", "/plain", "text plain", ""] {
            assert!(!is_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn generated_membership_agrees_with_the_code_lists() {
        for vs in VALUE_SETS.iter().filter(|vs| vs.kind == ValueSetKind::Enumerated) {
            for (code, _) in vs.codes {
                let first = vs.codes.iter().position(|(c, _)| c == code).unwrap();
                assert_eq!((vs.member)(code.as_bytes()), Some(first as u16), "{} {code}", vs.url);
            }
            for other in ["", "x", "not-a-code-anywhere", "ACTIVE"] {
                assert_eq!((vs.member)(other.as_bytes()).is_some(), vs.codes.iter().any(|(c, _)| *c == other));
            }
        }
    }
}
