//! What a profile leaves to check of another after a resource passed it with nothing to report.
//!
//! Synthea declares a vital sign's profile and the profile it derives from (`bp` and then
//! `vitalsigns`), as many exports do; checking both costs twice the work for the same rules. A
//! derived profile's snapshot normally repeats every rule of its base, but not always: base R4's
//! derived vital-sign profiles leave out `vs-2` (and `bp` leaves out `vs-3`), so a clean pass of
//! `bp` says nothing of those two. [`cover`] compares two compiled profiles element by element and
//! answers exactly: every rule of the base that the derived profile holds too (the same element
//! id with the same or a tighter cardinality, the same fixed value, pattern, binding, types,
//! slicing, slices and slice tests, the same constraint) cannot fail on a resource that passed the
//! derived profile without a finding; the constraints it does not hold are listed, and only those
//! are evaluated ([`Residual`], `validate::Checker::residual`). Anything else that differs — a rule
//! the derived profile loosens or lacks, a missing constraint inside a slicing — means no cover, and
//! the base is checked in full. The output is the same either way (test `derived_then_base_profile`).
//!
//! May import: `profile::compile`.

use std::collections::HashMap;

use super::compile::{Elem, Profile, SliceTest, Test};

/// The constraints of a base profile that a derived one does not hold, by element.
#[derive(Debug)]
pub(crate) struct Residual {
    /// Per element of the base: the indexes of its constraints left to evaluate.
    pub(crate) missing: Vec<Vec<usize>>,
    /// Per element of the base: it, or an element below it, has a constraint left.
    pub(crate) below: Vec<bool>,
}

/// What `derived` leaves to check of `base` after a clean pass; `None`: check `base` in full.
pub(crate) fn cover(derived: &Profile, base: &Profile) -> Option<Residual> {
    if derived.type_name != base.type_name || base.elems.is_empty() {
        return None;
    }
    let by_id: HashMap<&str, &Elem> = derived.elems.iter().map(|e| (e.id.as_str(), e)).collect();
    // The derived profile's elements by their id without slice names: the elements that check
    // the items of a base element the derived profile slices (`Observation.component` in
    // `vitalsigns`: `component`, `component:SystolicBP`, … in `bp`), and those below them.
    let mut by_plain: HashMap<String, Vec<&Elem>> = HashMap::new();
    for e in &derived.elems {
        by_plain.entry(unsliced(&e.id)).or_default().push(e);
    }
    // The derived profile's slices: (id without slice names, id).
    let slice_roots: Vec<(String, &str)> =
        derived.elems.iter().filter(|e| e.slice_name.is_some()).map(|e| (unsliced(&e.id), e.id.as_str())).collect();
    let mut missing = vec![Vec::new(); base.elems.len()];
    // Elements inside a slicing (a slice, or below a sliced element) of the base.
    let mut in_slicing = vec![false; base.elems.len()];
    for (i, e) in base.elems.iter().enumerate() {
        if e.slicing.is_some() || in_slicing[i] {
            for &c in e.children.iter().chain(&e.slices) {
                in_slicing[c] = true;
            }
        }
        if !e.checks {
            continue;
        }
        let d = by_id.get(e.id.as_str())?;
        let sliced_in_base = in_slicing[i] || e.slice_name.is_some();
        // Inside the base's own slicing: the same element, slicing and slices.
        if !same_rules(d, e, true) || (e.slicing.is_some() || sliced_in_base) && !same_slicing(derived, d, base, e) {
            return None;
        }
        // Elsewhere, the derived profile may slice what the base does not: every element that
        // reads the same items holds the base element's rules (a slice's cardinality counts the
        // slice, not the items: it is the element's own that must hold).
        let exact = sliced_in_base || e.slicing.is_some();
        let variants: &[&Elem] = if exact { &[] } else { by_plain.get(&e.id).map_or(&[], Vec::as_slice) };
        // Each slice the derived profile adds at or above this element has its own copy of it.
        if !exact
            && slice_roots.iter().any(|(plain, id)| {
                let below = e.id.strip_prefix(plain.as_str()).filter(|r| r.is_empty() || r.starts_with('.'));
                below.is_some_and(|rest| !by_id.contains_key(format!("{id}{rest}").as_str()))
            })
        {
            return None;
        }
        for v in variants.iter().filter(|v| !std::ptr::eq(**v, *d)) {
            if !same_rules(v, e, v.slice_name.is_none()) {
                return None;
            }
        }
        let holds = |x: &Elem, inv: &super::compile::Invariant| {
            x.invariants.iter().any(|y| {
                y.key == inv.key
                    && y.human == inv.human
                    && y.error == inv.error
                    && y.best_practice == inv.best_practice
                    && y.expr == inv.expr
            })
        };
        missing[i] = e
            .invariants
            .iter()
            .enumerate()
            .filter(|(_, inv)| !holds(d, inv) || variants.iter().any(|v| !holds(v, inv)))
            .map(|(k, _)| k)
            .collect();
        // Left-over constraints are evaluated on the items of a plain path from the root.
        if !missing[i].is_empty() && exact {
            return None;
        }
    }
    let mut below = vec![false; base.elems.len()];
    mark(base, 0, &missing, &mut below);
    Some(Residual { missing, below })
}

/// Does element `e` (or one of its children) have constraints left? Children in document order,
/// as the engine reads them.
fn mark(base: &Profile, at: usize, missing: &[Vec<usize>], below: &mut [bool]) -> bool {
    let mut any = !missing[at].is_empty();
    for &c in &base.elems[at].children {
        any |= mark(base, c, missing, below);
    }
    below[at] = any;
    any
}

/// `A.b:s.c:t` → `A.b.c`.
fn unsliced(id: &str) -> String {
    id.split('.').map(|segment| segment.split(':').next().unwrap_or(segment)).collect::<Vec<_>>().join(".")
}

/// Does `d` (an element of the derived profile) hold every rule of `e` (the base's) but its
/// constraints: the same or a tighter cardinality (`card`), the same everything else?
fn same_rules(d: &Elem, e: &Elem, card: bool) -> bool {
    let max_ok = match (e.max, d.max) {
        (None, _) => true,
        (Some(b), Some(x)) => x <= b,
        (Some(_), None) => false,
    };
    (!card || d.min >= e.min && max_ok)
        && (e.fixed.is_none() || e.fixed == d.fixed)
        && (e.pattern.is_none() || e.pattern == d.pattern)
        && (e.binding.is_none() || e.binding == d.binding)
        && (e.types.is_empty() || same_types(d, e))
        && (e.slice_name.is_none() || e.slice_tests.len() == d.slice_tests.len())
        && (e.slice_name.is_none() || e.slice_tests.iter().zip(&d.slice_tests).all(|(a, b)| same_test(a, b)))
}

/// The derived element allows some of the base's types (a choice narrowed: `value[x]` to
/// `Quantity`), each with the same profiles and target profiles: an item of another type fails
/// the derived profile's type check.
fn same_types(d: &Elem, e: &Elem) -> bool {
    !d.types.is_empty()
        && d.types
            .iter()
            .all(|a| e.types.iter().any(|b| a.code == b.code && a.profiles == b.profiles && a.targets == b.targets))
}

/// The same slicing (discriminators, order, rules) with the same slices in the same order, each
/// told apart by the same tests, or no slicing in both.
fn same_slicing(derived: &Profile, d: &Elem, base: &Profile, e: &Elem) -> bool {
    match (&d.slicing, &e.slicing) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.discriminators == b.discriminators
                && a.ordered == b.ordered
                && a.rules == b.rules
                && d.slices.len() == e.slices.len()
                && d.slices.iter().zip(&e.slices).all(|(&x, &y)| {
                    let (x, y) = (&derived.elems[x], &base.elems[y]);
                    x.id == y.id
                        && x.slice_tests.len() == y.slice_tests.len()
                        && x.slice_tests.iter().zip(&y.slice_tests).all(|(a, b)| same_test(a, b))
                })
        }
        _ => false,
    }
}

fn same_test(a: &SliceTest, b: &SliceTest) -> bool {
    a.path == b.path
        && match (&a.test, &b.test) {
            (Test::Fixed(x), Test::Fixed(y)) | (Test::Pattern(x), Test::Pattern(y)) => x == y,
            (Test::Binding(x, _), Test::Binding(y, _)) => x == y,
            (Test::Type(x), Test::Type(y)) | (Test::Profile(x), Test::Profile(y)) => x == y,
            (Test::Exists(x), Test::Exists(y)) => x == y,
            (Test::Any, Test::Any) | (Test::Never, Test::Never) => true,
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::super::ProfileSet;
    use super::*;

    /// What `derived` leaves of `base`: (element id, constraint key) pairs.
    fn left(set: &ProfileSet, derived: &str, base: &str) -> Option<Vec<(String, String)>> {
        let url = |name: &str| format!("http://hl7.org/fhir/StructureDefinition/{name}");
        let (d, b) = (set.profile(&url(derived), None)?, set.profile(&url(base), None)?);
        let residual = cover(&d, &b)?;
        let mut pairs = Vec::new();
        for (i, keys) in residual.missing.iter().enumerate() {
            pairs.extend(keys.iter().map(|&k| (b.elems[i].id.clone(), b.elems[i].invariants[k].key.clone())));
        }
        Some(pairs)
    }

    #[test]
    fn derived_vital_signs_leave_vs2() {
        let set = ProfileSet::new("3.1.1".into(), Vec::new());
        let pair = |id: &str, key: &str| (id.to_owned(), key.to_owned());
        assert_eq!(
            left(&set, "bp", "vitalsigns"),
            Some(vec![pair("Observation", "vs-2"), pair("Observation.component", "vs-3")])
        );
        assert_eq!(left(&set, "heartrate", "vitalsigns"), Some(vec![pair("Observation", "vs-2")]));
        // The other way round: the base lacks the derived profile's slices.
        assert_eq!(left(&set, "vitalsigns", "bp"), None);
        // A profile covers itself.
        assert_eq!(left(&set, "vitalsigns", "vitalsigns"), Some(vec![]));
    }
}
