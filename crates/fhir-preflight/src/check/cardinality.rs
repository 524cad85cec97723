//! Minimum cardinality: every element with min 1 is present, at any depth (in contained resources
//! and Bundle entries too). Presence is what the walk tracks per object: an element counts when it
//! has a value (a primitive array of only `null`s counts, as in the HL7 validator; `[]` does not).
//!
//! Example failing line: `{"resourceType":"Observation","id":"o","code":{"text":"x"}}` (no `status`).

use crate::diagnostic::{m, Code, Finding, Findings, Message};
use crate::facts::ObjectFacts;

/// Object rule: each required element is present.
pub(crate) fn min(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let t = o.ty();
    let mut missing = t.required & !o.present;
    while missing != 0 {
        let i = missing.trailing_zeros() as usize;
        missing &= missing - 1;
        let Some(element) = t.elements.get(i) else { continue };
        let full = match o.path.render() {
            Some(mut path) => {
                path.push_text(format!(".{}", element.name));
                path
            }
            None => Message::plain(element.name),
        };
        let message = Message::new("Element '{}': minimum required = 1, but only found 0", [m(full)]);
        f.push(Finding::new(Code::CardinalityMin, message).at(o.open).on(o.path.render()));
    }
}
