//! References (`Reference.reference`, `Reference.type`) and contained resources (dom-3):
//! - `Reference.type` outside the element's target profiles: error (HL7 `Reference_REF_WrongTarget`);
//! - `#id` with no contained resource of that id: error (HL7 `Reference_REF_CantResolve`);
//! - a contained resource that nothing references: error (dom-3);
//! - a conditional reference `Type?query` outside a transaction/batch Bundle: warning (the HL7
//!   validator says nothing, but HealthLake and most servers cannot resolve it); a malformed query:
//!   error (HL7 `REFERENCE_REF_QUERY_INVALID`);
//! - whitespace in a reference, and a literal whose type (`Medication/1`) is not an allowed target:
//!   warnings (the HL7 validator checks these only in some modes).
//!
//! Example failing line: `{"resourceType":"Observation",…,"subject":{"reference":"#p1"}}` with no
//! contained `p1`.

use crate::r4::{resource_type_id, TYPES};

/// What a `Reference.reference` string looks like.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Literal<'a> {
    /// `#id` (or `#` for the container).
    Local(&'a str),
    /// `Type?query`; whether the query is well formed.
    Conditional { resource_type: &'a str, query_ok: bool },
    /// `Type/id`, `Type/id/_history/v`, or an absolute URL ending so: the type named.
    Typed(&'a str),
    /// `urn:uuid:`, `urn:oid:`, or anything else not naming a type.
    Other,
}

/// `[_a-zA-Z][_a-zA-Z0-9.:-]*=value(&…)*`, values without `=`.
fn query_ok(query: &str) -> bool {
    !query.is_empty()
        && query.split('&').all(|pair| {
            let Some((name, value)) = pair.split_once('=') else { return false };
            let mut chars = name.chars();
            let first_ok = chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
            first_ok
                && chars.all(|c| c == '_' || c == '.' || c == ':' || c == '-' || c.is_ascii_alphanumeric())
                && !value.contains('=')
        })
}

pub(crate) fn classify(reference: &str) -> Literal<'_> {
    if let Some(id) = reference.strip_prefix('#') {
        return Literal::Local(id);
    }
    if let Some((head, query)) = reference.split_once('?') {
        if resource_type_id(head).is_some() {
            return Literal::Conditional { resource_type: head, query_ok: query_ok(query) };
        }
    }
    if reference.starts_with("urn:") {
        return Literal::Other;
    }
    // The type is the segment before the id: `…/Type/id` or `…/Type/id/_history/v`.
    let mut segments: Vec<&str> = reference.split('/').collect();
    if segments.len() >= 4 && segments[segments.len() - 2] == "_history" {
        segments.truncate(segments.len() - 2);
    }
    if segments.len() >= 2 {
        let ty = segments[segments.len() - 2];
        if resource_type_id(ty).is_some() {
            return Literal::Typed(ty);
        }
    }
    Literal::Other
}

/// Is a resource type allowed by target type ids (empty = any)?
pub(crate) fn allowed(targets: &[u16], resource_type: &str) -> bool {
    targets.is_empty() || targets.iter().any(|&t| TYPES[t as usize].name == resource_type)
}

/// `Reference.type` is a uri: `Patient` or `http://hl7.org/fhir/StructureDefinition/Patient`.
pub(crate) fn type_name(uri: &str) -> &str {
    uri.strip_prefix("http://hl7.org/fhir/StructureDefinition/").unwrap_or(uri)
}

/// The allowed targets, for messages.
pub(crate) fn target_names(targets: &[u16]) -> String {
    targets.iter().map(|&t| TYPES[t as usize].name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_references() {
        assert_eq!(classify("#p1"), Literal::Local("p1"));
        assert_eq!(classify("#"), Literal::Local(""));
        assert_eq!(classify("Patient/123"), Literal::Typed("Patient"));
        assert_eq!(classify("Patient/123/_history/2"), Literal::Typed("Patient"));
        assert_eq!(classify("http://example.org/fhir/Patient/123"), Literal::Typed("Patient"));
        assert_eq!(classify("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"), Literal::Other);
        assert_eq!(
            classify("Patient?identifier=http://a/b|1"),
            Literal::Conditional { resource_type: "Patient", query_ok: true }
        );
        assert_eq!(
            classify("Patient?identifier=a&name=b"),
            Literal::Conditional { resource_type: "Patient", query_ok: true }
        );
        assert_eq!(classify("Patient?"), Literal::Conditional { resource_type: "Patient", query_ok: false });
        assert_eq!(classify("Patient?novalue"), Literal::Conditional { resource_type: "Patient", query_ok: false });
        assert_eq!(classify("Patient?1x=a"), Literal::Conditional { resource_type: "Patient", query_ok: false });
        assert_eq!(classify("Foo?x=y"), Literal::Other);
        assert_eq!(classify("something"), Literal::Other);
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name("http://hl7.org/fhir/StructureDefinition/Patient"), "Patient");
        assert_eq!(type_name("Patient"), "Patient");
    }
}
