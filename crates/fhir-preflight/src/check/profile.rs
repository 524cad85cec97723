//! Declared profiles (`meta.profile`): HealthLake's `strict` level validates each resource against
//! the profiles it declares that an implementation guide it supports defines (US Core). Each one a
//! package here defines is checked by the profile engine (`crate::profile`) when the resource has
//! been read — the root resource, a contained one, a Bundle entry's; one no package defines is a
//! warning (`profile/unchecked`), as the HL7 validator's `Validation_VAL_Profile_Unknown`.
//! `structure-only` ignores profiles; `minimal` makes their errors warnings (the level's rule).
//!
//! The walk keeps every object of a resource that names a profile (the engine reads them through
//! FHIRPath nodes); a resource without one costs nothing more.

use crate::diagnostic::{q, Code, Finding, Findings, Message, Redaction};
use crate::facts::{ObjectFacts, Path};
use crate::fhirpath::mask::KeepBits;
use crate::fhirpath::node::{Known, Node, NodeType};
use crate::model::r4::ids;
use crate::model::{Model, Role, TypeId, TypeKind};
use crate::profile::compile::Profile;
use crate::profile::validate::Checker;
use crate::profile::ProfileSet;

/// What the walk keeps for this rule: each resource's `meta`, and its `profile`.
pub(crate) fn keeps(model: &Model, id: TypeId) -> KeepBits {
    let t = model.ty(id);
    let role = match (t.kind, model.base_of(id)) {
        (TypeKind::Resource, _) => Role::Meta,
        (_, ids::META) => Role::Profile,
        _ => return KeepBits::default(),
    };
    let always = t.elements.iter().enumerate().filter(|(_, e)| e.role == role).fold(0u64, |b, (i, _)| b | 1 << i);
    KeepBits { always, if_kept: 0 }
}

/// Object rule on resources: the profiles in `meta.profile`.
pub(crate) fn check(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    if o.present & meta_bit(o) == 0 {
        return;
    }
    let Some(set) = o.line.profiles else { return };
    let resource = Node::object(&o.line, o.open, NodeType::Resource(o.type_id));
    let known = Known { at: o.open, present: o.present, members: Some(o.captured) };
    let mut declared: smallvec::SmallVec<[(std::borrow::Cow<'_, str>, usize); 2]> = smallvec::SmallVec::new();
    for meta in resource.children(Some("meta"), Some(known)) {
        for p in meta.children(Some("profile"), None) {
            if let (Some(at), Some(crate::json::scan::Token::String(s))) = (p.value(), p.token()) {
                declared.push((s.str_in(o.line.text), at));
            }
        }
    }
    if declared.is_empty() {
        return;
    }
    let root =
        o.ctx.root_resource.map_or(resource, |(at, tid)| Node::object(&o.line, at as usize, NodeType::Resource(tid)));
    // A root resource's path is its type's name (no allocation, on every line that declares one).
    let path = match o.path {
        Path::Root(name) => std::borrow::Cow::Borrowed(*name),
        _ => std::borrow::Cow::Owned(o.path.render().map(|m| m.render(Redaction::Off)).unwrap_or_default()),
    };
    let type_name = o.def.name;
    // Profiles this resource passed with nothing to say (Synthea declares `bp` then `vitalsigns`,
    // which `bp` derives from).
    let mut clean: smallvec::SmallVec<[std::sync::Arc<Profile>; 2]> = smallvec::SmallVec::new();
    for (canonical, at) in declared {
        if crate::profile::ProfileSet::is_base_type(&canonical) {
            continue; // the base type itself: what the base rules checked
        }
        match set.lookup(&canonical, None) {
            Some(Ok(profile)) if profile.type_name == type_name => {
                // After a clean pass of a profile derived from this one, only the rules it does
                // not hold are checked (`profile::cover`: base R4's vital-sign profiles leave out
                // `vitalsigns`' vs-2). Clean: nothing reported and no code counted unchecked (the
                // run's count would change); the output is the same either way.
                let covered =
                    clean.iter().filter(|p| derives_from(set, p, &profile)).find_map(|p| set.cover(p, &profile));
                let before = f.count();
                let mut checker = Checker {
                    set,
                    findings: &mut *f,
                    resource,
                    root,
                    probe: false,
                    failed: false,
                    nesting: 0,
                    noted: std::cell::Cell::new(false),
                };
                match covered {
                    Some(residual) => checker.residual(resource, &profile, &residual, &path),
                    None => checker.check(resource, &profile, &path),
                }
                if !checker.noted.get()
                    && f.count() == before
                    && !clean.iter().any(|p| std::sync::Arc::ptr_eq(p, &profile))
                {
                    clean.push(profile);
                }
            }
            Some(Err(why)) => broken(f, &canonical, &why, at, o.path),
            Some(Ok(profile)) => {
                let message = Message::new(
                    "Specified profile type was {} in profile {}, but found type {}",
                    [q(profile.type_name.as_str()), q(&*canonical), q(type_name)],
                );
                f.push(Finding::new(Code::ProfileType, message).at(at).on(Path::Member(o.path, "meta").render()));
            }
            None => unknown(f, &canonical, at, o.path),
        }
    }
}

/// Does `derived` derive from `base` (its `baseDefinition` chain, as the packages resolve it)?
fn derives_from(set: &ProfileSet, derived: &Profile, base: &std::sync::Arc<Profile>) -> bool {
    let mut at = set.profile(&derived.base_definition, Some(derived));
    // Chains are short (`bp` → `vitalsigns` → `Observation`); a cycle in a package stops here.
    for _ in 0..16 {
        let Some(p) = at else { return false };
        if std::sync::Arc::ptr_eq(&p, base) {
            return true;
        }
        at = set.profile(&p.base_definition, Some(&p));
    }
    false
}

fn meta_bit(o: &ObjectFacts<'_, '_>) -> u64 {
    o.def.elements.iter().position(|e| e.role == Role::Meta).map_or(0, |i| 1 << i)
}

#[cold]
fn broken(f: &mut Findings, canonical: &str, why: &str, at: usize, path: &Path<'_>) {
    let message = Message::new(
        format!("Profile reference {{}} has not been checked: its definition cannot be used ({why})"),
        [q(canonical)],
    );
    let meta = Path::Member(path, "meta");
    f.push(Finding::new(Code::ProfileUnchecked, message).at(at).on(Path::Member(&meta, "profile").render()));
}

#[cold]
fn unknown(f: &mut Findings, canonical: &str, at: usize, path: &Path<'_>) {
    let message = Message::new(
        "Profile reference {} has not been checked because it could not be found (HealthLake's strict level checks the profiles of the implementation guides it supports, US Core 3.1.1 to 7.0.0; load another package with --package)",
        [q(canonical)],
    );
    let meta = Path::Member(path, "meta");
    f.push(Finding::new(Code::ProfileUnchecked, message).at(at).on(Path::Member(&meta, "profile").render()));
}
