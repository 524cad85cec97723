//! Extensions: ext-1 (an extension has either nested extensions or a `value[x]`, not both and not
//! neither) and an absolute `url` for an extension that is not nested in another extension (nested
//! ones may use a simple name).
//!
//! Example failing value: `"extension":[{"url":"color","valueString":"red"}]`.

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::ObjectFacts;
use crate::model::r4::ids;
use crate::model::Role;

/// Object rule on Extension: the url, then ext-1.
pub(crate) fn check(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    if o.has(Role::Url) {
        url(o, f);
    }
    let (nested, value) = (o.has(Role::Extension), o.has(Role::Value));
    if nested == value {
        let message = if nested {
            "ext-1: an extension must have either extensions or value[x], not both"
        } else {
            "ext-1: an extension must have either extensions or value[x] (it has neither)"
        };
        f.push(Finding::new(Code::InvariantExt1, Message::plain(message)).at(o.open).on(o.path.render()));
    }
}

/// The url of an extension that is not nested in another extension must be absolute.
fn url(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let extension = o.line.model.ty(ids::EXTENSION);
    if o.holder.is_some_and(|h| extension.elements.iter().any(|e| std::ptr::eq(e, h))) {
        return;
    }
    let Some((url, _)) = o.string("url") else { return };
    if !url.contains(':') {
        let message = Message::new(
            "extension url {} is not an absolute URI (only extensions nested in an extension may use a simple name)",
            [q(url)],
        );
        f.push(Finding::new(Code::ExtensionUrl, message).at(o.open).on(o.path.render()));
    }
}
