//! Contained resources: dom-2 (no nested `contained`), dom-4 (no `meta.versionId` or
//! `meta.lastUpdated`), dom-5 (no `meta.security`), an `id` on each, dom-3 (each is referenced from
//! elsewhere in the resource, or the resource references its container with `#`).
//!
//! Example failing line: `{"resourceType":"Observation",…,"subject":{"reference":"#p1"}}` with no
//! contained `p1`.

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::{MemberFacts, ObjectFacts, ResourceFacts};
use crate::model::Role;

fn at_key(m: &MemberFacts<'_, '_>, f: &mut Findings, code: Code, message: &'static str) {
    f.push(Finding::new(code, Message::plain(message)).at(m.key_offset).on(m.path.render()));
}

/// Member rule on resources: `contained` inside a contained resource (dom-2).
pub(crate) fn dom2(m: &MemberFacts<'_, '_>, f: &mut Findings) {
    if m.ctx.contained && m.element.role == Role::Contained {
        at_key(m, f, Code::InvariantDom2, "dom-2: a contained resource cannot hold contained resources");
    }
}

/// Member rule on Meta: version, last update (dom-4) or security labels (dom-5) of a contained resource.
pub(crate) fn dom4_dom5(m: &MemberFacts<'_, '_>, f: &mut Findings) {
    if !m.ctx.contained_meta || m.ext {
        return;
    }
    match m.element.role {
        Role::VersionId | Role::LastUpdated => at_key(
            m,
            f,
            Code::InvariantDom4,
            "dom-4: a contained resource cannot have meta.versionId or meta.lastUpdated",
        ),
        Role::Security => at_key(m, f, Code::InvariantDom5, "dom-5: a contained resource cannot have a security label"),
        _ => {}
    }
}

/// Object rule on resources: a contained resource has an id.
pub(crate) fn id_required(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    if o.ctx.contained && !o.has(Role::Id) {
        let message = Message::plain("a contained resource must have an id");
        f.push(Finding::new(Code::ResourceContainedIdMissing, message).at(o.open).on(o.path.render()));
    }
}

/// Resource rule: every contained resource is referenced (dom-3). (That every `#id` of a
/// `Reference.reference` resolves is ref-1, evaluated with the other constraints and reported as
/// `reference/contained-unresolved`: see `check/invariant.rs`.)
pub(crate) fn local_references(r: &ResourceFacts<'_>, f: &mut Findings) {
    let (refs, contained) = (r.local_refs, r.contained);
    if refs.is_empty() && contained.is_empty() {
        return;
    }
    if refs.iter().any(|r| r.id.is_empty()) {
        return;
    }
    for c in contained {
        if !refs.iter().any(|r| r.id == c.id) {
            let message = Message::new(
                "dom-3: the contained resource {} is not referenced from elsewhere in the resource",
                [q(c.id.clone())],
            );
            f.push(Finding::new(Code::InvariantDom3, message).at(c.offset).on(c.path.clone()));
        }
    }
}
