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

use std::borrow::Cow;

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::{ObjectFacts, Path};
use crate::model::{Model, Role};

/// Object rule on Reference: its `type` against the holder element's targets, and its literal.
pub(crate) fn check(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let model = o.line.model;
    let targets = o.holder.map_or(&[][..], |h| h.targets);
    // One pass over the kept values; a duplicate key is reported elsewhere, the last value of
    // each is the one read here.
    let (mut declared, mut literal_at) = (None, None);
    let is_string = |at: usize| o.line.bytes.get(at) == Some(&b'"');
    for c in o.captured.iter().filter(|c| !c.ext && c.present && is_string(c.at())) {
        match o.ty().elements[usize::from(c.element)].role {
            Role::Type => declared = Some(c.at()),
            Role::Reference => literal_at = Some(c.at()),
            _ => {}
        }
    }
    let string = |at: Option<usize>| at.and_then(|at| o.line.string_at(at).map(|s| (s, at)));
    let declared = string(declared);
    if let Some((uri, offset)) = &declared {
        let name = type_name(uri);
        if model.resource_type(name).is_some() && !allowed(model, targets, name) {
            let message = Message::new(
                format!(
                    "Reference.type {{}} is not an allowed target here (allowed: {})",
                    target_names(model, targets)
                ),
                [q(uri.as_ref())],
            );
            let path = Path::Member(o.path, "type").render();
            f.push(Finding::new(Code::ReferenceTypeNotAllowed, message).at(*offset).on(path));
        }
    }
    let Some((text, offset)) = string(literal_at) else { return };
    literal(o, f, &text, offset, declared.as_ref().map(|(uri, _)| uri));
}

/// Checks of `Reference.reference` (`text`, at `offset`).
fn literal(o: &ObjectFacts<'_, '_>, f: &mut Findings, text: &str, offset: usize, declared: Option<&Cow<'_, str>>) {
    let model = o.line.model;
    let targets = o.holder.map_or(&[][..], |h| h.targets);
    let path = || Path::Member(o.path, "reference").render();
    let mut report = |code: Code, message: Message| f.push(Finding::new(code, message).at(offset).on(path()));
    if super::primitive::has_whitespace(text) {
        // Reference.reference is a string: its value is never quoted (a query may hold an identifier).
        report(Code::ReferenceWhitespace, Message::plain("the reference contains whitespace"));
    }
    match classify(model, text) {
        Literal::Conditional { query_ok: false, .. } => report(
            Code::ReferenceConditionalQueryInvalid,
            Message::plain("malformed conditional reference: the query after '?' must be name=value pairs joined by &"),
        ),
        Literal::Conditional { resource_type, .. } if !o.ctx.transaction => report(
            Code::ReferenceConditional,
            Message::plain(format!(
                "conditional reference ({resource_type}?…) outside a transaction or batch Bundle: HealthLake and most servers store it unresolved"
            )),
        ),
        Literal::Typed(name) => {
            if let Some(uri) = declared {
                let declared = type_name(uri);
                if model.resource_type(declared).is_some() && declared != name {
                    let message = Message::new(
                        format!("Reference.type {{}} does not match the reference, which points to a {name}"),
                        [q(uri.as_ref())],
                    );
                    report(Code::ReferenceTypeMismatch, message);
                }
            }
            if !allowed(model, targets, name) {
                let message = format!(
                    "the reference points to a {name}, which is not an allowed target here (allowed: {})",
                    target_names(model, targets)
                );
                report(Code::ReferenceImpliedTypeNotAllowed, Message::plain(message));
            }
        }
        _ => {}
    }
}

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

pub(crate) fn classify<'r>(model: &Model, reference: &'r str) -> Literal<'r> {
    if let Some(id) = reference.strip_prefix('#') {
        return Literal::Local(id);
    }
    // The first `?`, and the last four `/`, last first (memchr's searches: no byte loop).
    let bytes = reference.as_bytes();
    let question = memchr::memchr(b'?', bytes);
    let mut slash = [None::<usize>; 4];
    let mut end = bytes.len();
    for s in &mut slash {
        *s = memchr::memrchr(b'/', &bytes[..end]);
        match *s {
            Some(at) => end = at,
            None => break,
        }
    }
    if let Some(q) = question {
        let head = &reference[..q];
        if model.resource_type(head).is_some() {
            return Literal::Conditional { resource_type: head, query_ok: query_ok(&reference[q + 1..]) };
        }
    }
    if bytes.starts_with(b"urn:") {
        return Literal::Other;
    }
    // The type is the segment before the id: `…/Type/id` or `…/Type/id/_history/v` (segments
    // counted from the end).
    let segment = |start: Option<usize>, end: usize| &reference[start.map_or(0, |s| s + 1)..end];
    let before_id = slash[0].map(|last| segment(slash[1], last));
    let ty = match slash[2] {
        Some(third) if before_id == Some("_history") => Some(segment(slash[3], third)),
        _ => before_id,
    };
    match ty {
        Some(ty) if model.resource_type(ty).is_some() => Literal::Typed(ty),
        _ => Literal::Other,
    }
}

/// Is a resource type allowed by target type ids (empty = any)?
pub(crate) fn allowed(model: &Model, targets: &[u16], resource_type: &str) -> bool {
    targets.is_empty() || model.resource_type(resource_type).is_some_and(|id| targets.contains(&id))
}

/// `Reference.type` is a uri: `Patient` or `http://hl7.org/fhir/StructureDefinition/Patient`.
pub(crate) fn type_name(uri: &str) -> &str {
    uri.strip_prefix("http://hl7.org/fhir/StructureDefinition/").unwrap_or(uri)
}

/// The allowed targets, for messages.
pub(crate) fn target_names(model: &Model, targets: &[u16]) -> String {
    targets.iter().map(|&t| model.ty(t).name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(reference: &str) -> Literal<'_> {
        super::classify(Model::r4(), reference)
    }

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
