//! Declared profiles (`meta.profile`): HealthLake's `strict` level validates each resource against
//! the profiles it declares; fhir-preflight checks base R4 only, so at `strict` it says so, once per
//! declared profile list (`profile/unchecked`, a warning).

use crate::diagnostic::{Code, Finding, Findings, Level, Message};
use crate::facts::MemberFacts;
use crate::model::Role;

/// Member rule on Meta.profile.
pub(crate) fn unchecked(m: &MemberFacts<'_, '_>, f: &mut Findings) {
    if m.ext || m.element.role != Role::Profile || f.level() != Level::Strict {
        return;
    }
    let message = "meta.profile declares a profile: HealthLake's strict level validates it, fhir-preflight checks base R4 only (use --level structure-only to silence)";
    f.push(Finding::new(Code::ProfileUnchecked, Message::plain(message)).at(m.key_offset).on(m.path.render()));
}
