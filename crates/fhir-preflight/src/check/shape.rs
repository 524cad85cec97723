//! The JSON shape FHIR gives each element, against the model, found while the walk reads it:
//! properties the type does not define ("Unrecognised property"), `fhir_comments` (not R4 JSON;
//! HealthLake's 2020 validator accepts it: a warning), an array where the element has max 1 and a
//! single value where it repeats, the wrong JSON kind (an object for a primitive, a string for a
//! complex type or a resource), `null` (only a placeholder in primitive arrays), `{}` (ele-1), `[]`
//! (rejected only by current HL7 builds: a warning), two variants of one choice element, nested
//! resources without a readable type, and — at the end of an object — `x[i]` and `_x[i]` both `null`.
//!
//! Example failing line: `{"resourceType":"Patient","id":"a","Gender":"male"}`.

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::{ObjectFacts, Path};
use crate::json::scan::Token;
use crate::model::{Element, Prim, TypeDef, TypeKind};

fn report(f: &mut Findings, code: Code, message: Message, offset: usize, path: &Path<'_>) {
    f.push(Finding::new(code, message).at(offset).on(path.render()));
}

/// A second variant of a choice element (`key`, at `key_offset`).
#[cold]
pub(crate) fn choice_multiple(f: &mut Findings, element: &Element, key: &str, key_offset: usize, path: &Path<'_>) {
    let message = Message::new(
        format!("{} is a choice element: only one of its types may be present; {{}} is a second one", element.name),
        [q(key)],
    );
    report(f, Code::ChoiceMultiple, message, key_offset, path);
}

/// `fhir_comments` (at `key_offset`).
#[cold]
pub(crate) fn fhir_comments(f: &mut Findings, key_offset: usize, path: &Path<'_>) {
    let message = "fhir_comments is not part of FHIR R4 JSON (accepted by HealthLake's validator, rejected by current HL7 validators)";
    report(f, Code::JsonFhirComments, Message::plain(message), key_offset, path);
}

/// A property (`key`, at `key_offset`) that type `t` does not define.
#[cold]
pub(crate) fn unknown_property(f: &mut Findings, t: &TypeDef, key: &str, key_offset: usize, path: &Path<'_>) {
    let what = if t.kind == TypeKind::Backbone { "element" } else { "type" };
    let message = Message::new(format!("Unrecognised property {{}} (not defined for {what} {})", t.name), [q(key)]);
    report(f, Code::JsonUnknownProperty, message, key_offset, path);
}

/// An array for an element with max 1.
#[cold]
pub(crate) fn expected_single(f: &mut Findings, element: &Element, offset: usize, path: &Path<'_>) {
    let message = format!("This property must be a single value, not an array ({} has max 1)", element.name);
    report(f, Code::JsonExpectedSingle, Message::plain(message), offset, path);
}

/// A single value for an element that repeats.
#[cold]
pub(crate) fn expected_array(f: &mut Findings, element: &Element, offset: usize, path: &Path<'_>) {
    let message = format!("This property must be an Array, not a single value ({} repeats)", element.name);
    report(f, Code::JsonExpectedArray, Message::plain(message), offset, path);
}

/// `[]` for a complex element (or `_x`).
#[cold]
pub(crate) fn empty_array(f: &mut Findings, offset: usize, path: &Path<'_>) {
    let message = "an array cannot be empty (accepted by HealthLake's validator, rejected by current HL7 validators)";
    report(f, Code::JsonEmptyArray, Message::plain(message), offset, path);
}

/// An object or array where a primitive is expected.
#[cold]
pub(crate) fn not_primitive(f: &mut Findings, prim: Prim, token: Token, offset: usize, path: &Path<'_>) {
    let message = format!("This property must be a simple value ({}), not {}", prim.name(), token.kind_name());
    report(f, Code::JsonWrongType, Message::plain(message), offset, path);
}

/// Not an object where the complex type `type_name` is expected.
#[cold]
pub(crate) fn not_object(
    f: &mut Findings,
    element: &Element,
    type_name: &str,
    token: Token,
    offset: usize,
    path: &Path<'_>,
) {
    let message =
        format!("This property must be an Object, not {} ({} is a {type_name})", token.kind_name(), element.name);
    report(f, Code::JsonWrongType, Message::plain(message), offset, path);
}

/// Not an object where a resource is expected.
#[cold]
pub(crate) fn not_resource(f: &mut Findings, token: Token, offset: usize, path: &Path<'_>) {
    let message = format!("This property must be a resource (an object), not {}", token.kind_name());
    report(f, Code::JsonWrongType, Message::plain(message), offset, path);
}

/// `null` where FHIR JSON allows none.
#[cold]
pub(crate) fn null(f: &mut Findings, offset: usize, path: &Path<'_>) {
    let message = "null is not a value in FHIR JSON (only as a placeholder in primitive arrays)";
    report(f, Code::JsonNull, Message::plain(message), offset, path);
}

/// Types whose elements can hold only an `id` (every datatype and backbone element: `id` first).
/// Not `Element`, the type of a primitive's `_x` object: there the element is the primitive, and
/// its value counts (`"birthDate":"1970","_birthDate":{"id":"b"}` holds ele-1).
pub(crate) fn has_element_id(t: &TypeDef) -> bool {
    t.kind != TypeKind::Resource && t.name != "Element" && t.elements.first().is_some_and(|e| e.name == "id")
}

/// Object rule, ele-1 on an element with nothing but an `id` (`"meta":{"id":"m"}`): no value and
/// no children besides the id (`hasValue() or (children().count() > id.count())`). An empty
/// object is `json/empty-object`, reported by the walk.
pub(crate) fn id_only(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    if o.present == 1 {
        crate::check::invariant::report_key(f, o.line.model, "ele-1", o.open, o.path.render());
    }
}

/// `{}` for an element (ele-1).
#[cold]
pub(crate) fn empty_object(f: &mut Findings, open: usize, path: &Path<'_>) {
    let message = "Object must have some content (an empty object is not a FHIR element: ele-1)";
    report(f, Code::JsonEmptyObject, Message::plain(message), open, path);
}

/// What a nested resource's `resourceType` is, when it is not a known type.
#[derive(Debug)]
pub(crate) enum NestedType {
    Missing,
    NotString,
    Unknown(String),
}

/// A resource inside another whose type cannot be read: its content is read as plain JSON.
#[cold]
pub(crate) fn nested_resource(f: &mut Findings, found: NestedType, offset: usize, path: &Path<'_>) {
    let (code, message) = match found {
        NestedType::Missing => (Code::ResourceTypeMissing, Message::plain("the resource has no resourceType property")),
        NestedType::NotString => (Code::ResourceTypeNotString, Message::plain("resourceType must be a string")),
        NestedType::Unknown(name) => {
            (Code::ResourceUnknownType, Message::new("{} is not a FHIR R4 resource type", [q(name)]))
        }
    };
    report(f, code, message, offset, path);
}

/// Object rule: `x[i]` and `_x[i]` may not both be `null`.
pub(crate) fn null_in_both(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    if o.nulls.len() < 2 {
        return;
    }
    let mut nulls = o.nulls.to_vec();
    nulls.sort_unstable_by_key(|&(element, ext, index)| (element, index, ext));
    let t = o.ty();
    for w in nulls.windows(2) {
        if w[0].0 == w[1].0 && w[0].2 == w[1].2 && w[0].1 != w[1].1 {
            let (name, index) = (t.elements[w[0].0 as usize].name, w[0].2);
            let message = format!("{name}[{index}] and _{name}[{index}] are both null: one of them must have content");
            report(f, Code::JsonNullInBoth, Message::plain(message), o.open, o.path);
        }
    }
}
