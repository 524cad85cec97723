//! The profile engine: a resource (or any element) checked against a compiled profile, over the
//! FHIRPath nodes of the line (`fhirpath::node`: what the walk kept, no tree of values). For each
//! element of the profile that adds a rule to base R4 (`Elem::checks`): the number of items
//! (min, max), then each item — its type among those allowed, its fixed (exact) or pattern
//! (partial, recursive, arrays by containment) value, its binding, its Reference target, the
//! profiles its type names (an extension's definition), the constraints the profile adds — and
//! its own elements. A sliced element's items are first matched to slices by the tests compiled
//! from the slicing's discriminators (`value`, `pattern`, `type`, `profile`, `exists`): each
//! slice's count against its cardinality, items matching no slice against `closed`, `openAtEnd`
//! and `ordered`.
//!
//! Speed: an object's members are read once for all the profile's elements below it, each
//! element's items by its index in the base type; what a lookup resolves (value set expansions,
//! the profiles a type names, a Reference's target types) is kept on the compiled element; paths
//! are written only for findings (`at`).
//!
//! Messages are the HL7 validator's (its current `Messages.properties`), naming the profile as
//! `url|version`; counts are reported on the parent element, as HL7 does.
//!
//! May import: `fhirpath`, `facts`, `diagnostic`, `model`, `json`; `check::reference` (reading a
//! literal reference).

use std::borrow::Cow;
use std::sync::{Arc, Weak};

use serde_json::Value;
use smallvec::SmallVec;

use super::at::At;
use super::compile::{Elem, Profile, Rules, SliceTest, Strength, Test, TypeRef};
use super::cover::Residual;
use super::terminology::{Expansion, Membership};
use super::ProfileSet;
use crate::diagnostic::{q, Code, Finding, Findings, Message, Severity};
use crate::fhirpath::eval::{eval, passes, Env, Item, UNDECIDABLE};
use crate::fhirpath::mask::Kept;
use crate::fhirpath::node::{element_named, Node, NodeType};
use crate::fhirpath::value::Decimal;
use crate::json::scan::Token;
use crate::model::{Prim, Ty};

/// Profiles checked inside profiles (an extension's definition inside a resource's) stop here.
const MAX_NESTING: usize = 16;

/// The items of one element of an object.
type Items<'a> = SmallVec<[Node<'a>; 4]>;

/// One resource checked against its profiles.
pub(crate) struct Checker<'c, 'a> {
    pub(crate) set: &'c ProfileSet,
    pub(crate) findings: &'c mut Findings,
    /// `%resource` and `%rootResource` for the profiles' constraints.
    pub(crate) resource: Node<'a>,
    pub(crate) root: Node<'a>,
    /// `Err` findings are not kept (a `profile` discriminator: does the item conform?).
    pub(crate) probe: bool,
    pub(crate) failed: bool,
    pub(crate) nesting: usize,
    /// A code was counted as unchecked (its value set cannot be expanded offline), here or in a
    /// probe.
    pub(crate) noted: std::cell::Cell<bool>,
}

impl<'a> Checker<'_, 'a> {
    /// Check `node` against `profile` (its root element); `path` is the node's FHIR path.
    pub(crate) fn check(&mut self, node: Node<'a>, profile: &Profile, path: &str) {
        self.check_at(node, profile, &At::root(path));
    }

    /// Only the constraints of `profile` that `residual` lists (what a profile derived from it
    /// does not hold: `profile::cover`), on `node` and the items below it, in the order a full
    /// check reads them. For a resource that passed the derived profile without a finding, this
    /// gives what the full check would: every other rule of `profile` is one the resource passed.
    pub(crate) fn residual(&mut self, node: Node<'a>, profile: &Profile, residual: &Residual, path: &str) {
        if residual.below[0] {
            self.residual_item(node, profile, residual, 0, &At::root(path));
        }
    }

    fn residual_item(&mut self, item: Node<'a>, profile: &Profile, residual: &Residual, at: usize, path: &At<'_>) {
        let elem = &profile.elems[at];
        let offset = item.value().or(item.ext());
        for &k in &residual.missing[at] {
            self.invariant(item, &elem.invariants[k], profile, offset, path);
        }
        for &c in elem.checked_children.iter().filter(|&&c| residual.below[c]) {
            let child = &profile.elems[c];
            let items: Items<'a> = node_items(item, child);
            let paths = ItemPaths::of(child, path);
            for (i, next) in items.iter().enumerate() {
                self.residual_item(*next, profile, residual, c, &paths.at(i, next));
            }
        }
    }

    fn check_at(&mut self, node: Node<'a>, profile: &Profile, path: &At<'_>) {
        if profile.elems[0].checks {
            self.item(node, profile, 0, path);
        }
    }

    fn push(&mut self, finding: Finding) {
        let severity = finding.severity.unwrap_or(finding.code.default_severity());
        if severity >= Severity::Error {
            self.failed = true;
        }
        if !self.probe {
            self.findings.push(finding);
        }
    }

    /// A finding: its message made only when it is kept (not for a probe), out of the hot code.
    #[cold]
    #[inline(never)]
    fn report(&mut self, code: Code, message: impl FnOnce() -> Message, at: Option<usize>, path: &At<'_>) {
        if self.probe {
            self.failed |= code.default_severity() >= Severity::Error;
            return;
        }
        let mut finding = Finding::new(code, message()).on(Some(Message::plain(path.render())));
        finding.offset = at;
        self.push(finding);
    }

    /// The elements of `node`, which is an item of `profile.elems[at]`: the node's members are
    /// read once, each element's items taken from them by index.
    fn children(&mut self, node: Node<'a>, profile: &Profile, at: usize, path: &At<'_>) {
        let wanted = &profile.elems[at].checked_children;
        if wanted.is_empty() {
            return;
        }
        let object = node.object_members().map(|(members, t)| {
            // Borrowed from the walk's storage: the walk adds nothing to it while a resource is
            // checked (the check runs between two of its members).
            // The elements that have a member (an absent one has no item to read).
            let here = members.iter().fold(0u128, |b, m| b | 1 << (m.element & 127));
            (members, t, here)
        });
        let tid = match node.ty {
            NodeType::Complex(tid) | NodeType::Resource(tid) => Some(tid),
            NodeType::Prim(_) => None,
        };
        for &c in wanted {
            let elem = &profile.elems[c];
            let items: Items<'a> = match (&object, elem.element) {
                (Some((_, _, here)), Some((id, i))) if Some(id) == tid && here & 1 << (i & 127) == 0 => Items::new(),
                (Some((members, t, _)), Some((id, i))) if Some(id) == tid => {
                    node.element_nodes(members, t, usize::from(i))
                }
                _ => node.children(Some(elem.fhirpath_name()), None).into_iter().collect(),
            };
            self.child(node, &items, profile, c, path);
        }
    }

    /// Element `c` of `parent` (at `path`): its items, counted and checked.
    fn child(&mut self, parent: Node<'a>, items: &[Node<'a>], profile: &Profile, c: usize, path: &At<'_>) {
        let elem = &profile.elems[c];
        let base = elem.base.as_ref();
        let min_added = base.is_none_or(|b| elem.min > b.min);
        if min_added && (items.len() as u64) < u64::from(elem.min) {
            let message = || {
                Message::plain(format!(
                    "{}: minimum required = {}, but only found {} (from {})",
                    elem.id,
                    elem.min,
                    items.len(),
                    profile.canonical()
                ))
            };
            self.report(Code::ProfileMin, message, parent.value(), path);
        }
        if let Some(max) = elem.max {
            let max_added = base.is_none_or(|b| b.max.is_none_or(|bm| max < bm));
            if max_added && items.len() as u64 > u64::from(max) {
                let message = || {
                    Message::plain(format!(
                        "{}: max allowed = {max}, but found {} (from {})",
                        elem.id,
                        items.len(),
                        profile.canonical()
                    ))
                };
                let at = items.get(max as usize).and_then(Node::value).or(parent.value());
                self.report(Code::ProfileMax, message, at, path);
            }
        }
        let paths = ItemPaths::of(elem, path);
        if elem.slicing.is_some() && !elem.slices.is_empty() {
            self.sliced(parent, items, profile, c, &paths);
            return;
        }
        for (i, item) in items.iter().enumerate() {
            self.item(*item, profile, c, &paths.at(i, item));
        }
    }

    /// The items of sliced element `c`: each matched to a slice, the slices counted, the
    /// unmatched ones against the slicing's rules.
    #[inline(never)]
    fn sliced(&mut self, parent: Node<'a>, items: &[Node<'a>], profile: &Profile, c: usize, paths: &ItemPaths<'_>) {
        let elem = &profile.elems[c];
        let Some(slicing) = &elem.slicing else { return };
        let path = paths.parent;
        // Which slice each item belongs to.
        let assigned: SmallVec<[Option<usize>; 8]> =
            items.iter().map(|item| elem.slices.iter().copied().find(|&s| self.in_slice(*item, profile, s))).collect();
        for &s in &elem.slices {
            let slice = &profile.elems[s];
            let count = assigned.iter().filter(|a| **a == Some(s)).count();
            if (count as u64) < u64::from(slice.min) {
                let message = || {
                    if slice.min == 1 {
                        format!(
                        "Slice '{}': a matching slice is required, but not found (from {}). Note that other slices are allowed in addition to this required slice",
                        slice.id,
                        profile.canonical()
                    )
                    } else {
                        format!(
                            "Slice '{}': minimum required = {}, but only found {count} (from {})",
                            slice.id,
                            slice.min,
                            profile.canonical()
                        )
                    }
                };
                self.report(Code::ProfileSliceMin, || Message::plain(message()), parent.value(), path);
            }
            if let Some(max) = slice.max.filter(|&m| count as u64 > u64::from(m)) {
                let message = || {
                    Message::plain(format!(
                        "{}: max allowed = {max}, but found {count} (from {})",
                        slice.id,
                        profile.canonical()
                    ))
                };
                self.report(Code::ProfileSliceMax, message, parent.value(), path);
            }
        }
        let mut last_slice = 0;
        let mut unmatched_seen = false;
        for (i, item) in items.iter().enumerate() {
            let at = paths.at(i, item);
            match assigned[i] {
                Some(s) => {
                    let order = elem.slices.iter().position(|&x| x == s).unwrap_or(0);
                    if slicing.ordered && order < last_slice || slicing.rules == Rules::OpenAtEnd && unmatched_seen {
                        let message = || {
                            Message::plain(format!(
                                "As specified by profile {}, Element '{}' is out of order in ordered slice",
                                profile.canonical(),
                                elem.name
                            ))
                        };
                        self.report(Code::ProfileSliceOrder, message, item.value(), &at);
                    }
                    last_slice = last_slice.max(order);
                    self.item(*item, profile, s, &at);
                }
                None => {
                    unmatched_seen = true;
                    if slicing.rules == Rules::Closed {
                        self.unmatched(*item, profile, elem, &at);
                    }
                    self.item(*item, profile, c, &at);
                }
            }
        }
    }

    /// An item of a closed slicing that matches no slice: an unknown extension, or not allowed.
    #[cold]
    fn unmatched(&mut self, item: Node<'a>, profile: &Profile, elem: &Elem, at: &At<'_>) {
        if matches!(elem.name.as_str(), "extension" | "modifierExtension") {
            let url = item.children(Some("url"), None).first().and_then(text_of).unwrap_or_default();
            let message = || {
                Message::new(
                    format!(
                        "The extension {{}} could not be found so is not allowed here (from {})",
                        profile.canonical()
                    ),
                    [q(url.as_ref())],
                )
            };
            self.report(Code::ProfileExtensionUnknown, message, item.value(), at);
        } else {
            let message = || {
                Message::plain(format!(
                    "This element does not match any known slice defined in the profile {} and slicing is CLOSED: {}",
                    profile.canonical(),
                    elem.slices
                        .iter()
                        .map(|&s| profile.elems[s].slice_name.clone().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            };
            self.report(Code::ProfileSliceClosed, message, item.value(), at);
        }
    }

    /// One item of `profile.elems[at]`.
    fn item(&mut self, item: Node<'a>, profile: &Profile, at: usize, path: &At<'_>) {
        let elem = &profile.elems[at];
        if !elem.checks {
            return;
        }
        let offset = item.value().or(item.ext());
        // The types a choice allows.
        if elem.is_choice() && !elem.types.is_empty() {
            let found = item.type_name();
            if !elem.types.iter().any(|t| same_type(&t.code, found)) {
                let message = || {
                    let allowed: Vec<&str> = elem.types.iter().map(|t| t.code.as_str()).collect();
                    Message::new(
                        format!(
                            "The type {{}} is not allowed here by the profile {} (allowed: {})",
                            profile.canonical(),
                            allowed.join(", ")
                        ),
                        [q(found)],
                    )
                };
                self.report(Code::ProfileType, message, offset, path);
                return;
            }
        }
        if let Some((_, fixed)) = &elem.fixed {
            if !equals(&item, fixed) {
                let message = || {
                    Message::new(
                        format!("Value is {{}} but is fixed to {{}} in the profile {}", profile.canonical()),
                        [q(shown(&item)), q(shown_value(fixed))],
                    )
                };
                self.report(Code::ProfileFixed, message, offset, path);
            }
        }
        if let Some((_, pattern)) = &elem.pattern {
            if !matches_pattern(&item, pattern) {
                let message = || {
                    Message::new(
                        format!("The pattern {{}} defined in the profile {} not found", profile.canonical()),
                        [q(shown_value(pattern))],
                    )
                };
                self.report(Code::ProfilePattern, message, offset, path);
            }
        }
        if let (Some((strength, vs)), true) = (&elem.binding, elem.binding_adds) {
            let expansion = elem.expansion.get_or_init(|| self.set.expansion(vs, Some(profile)));
            self.binding(item, *strength, vs, expansion, profile, offset, path);
        }
        if elem.has_targets {
            for t in &elem.types {
                if t.code == "Reference" && !t.targets.is_empty() {
                    self.target(item, t, profile, path);
                }
            }
        }
        for inv in &elem.invariants {
            self.invariant(item, inv, profile, offset, path);
        }
        // The profiles the type names: an extension's definition, a datatype profile.
        if elem.has_type_profiles && self.nesting < MAX_NESTING {
            for t in &elem.types {
                if t.profiles.is_empty() {
                    continue;
                }
                // A type of this item, or the one type of an extension element.
                let applies = same_type(&t.code, item.type_name()) || (t.code == "Extension" && elem.types.len() == 1);
                if !applies {
                    continue;
                }
                for inner in self.type_profiles(t, profile).iter().filter_map(Weak::upgrade) {
                    self.nesting += 1;
                    self.check_at(item, &inner, path);
                    self.nesting -= 1;
                }
            }
        }
        self.children(item, profile, at, path);
    }

    /// The profiles type `t` (of an element of `profile`) names, as found in the packages.
    fn type_profiles<'t>(&self, t: &'t TypeRef, profile: &Profile) -> &'t [Weak<Profile>] {
        t.resolved.get_or_init(|| {
            t.profiles
                .iter()
                .filter_map(|url| self.set.profile(url, Some(profile)))
                .map(|p| Arc::downgrade(&p))
                .collect()
        })
    }

    /// Does `item` belong to slice `s` (all its tests pass)?
    #[inline(never)]
    fn in_slice(&self, item: Node<'a>, profile: &Profile, s: usize) -> bool {
        profile.elems[s].slice_tests.iter().all(|t| self.passes(item, profile, t))
    }

    #[inline(never)]
    fn passes(&self, item: Node<'a>, profile: &Profile, test: &SliceTest) -> bool {
        match &test.test {
            Test::Exists(present) => any_at(item, &test.path, &mut |_| true) == *present,
            Test::Any => true,
            Test::Never => false,
            // `$this` (the usual discriminator path) is the item itself: nothing is collected.
            _ => any_at(item, &test.path, &mut |n| self.passes_on(n, profile, test)),
        }
    }

    /// Does `node` (one of the nodes at a slice test's path) pass the test?
    fn passes_on(&self, n: Node<'a>, profile: &Profile, test: &SliceTest) -> bool {
        match &test.test {
            Test::Fixed(value) => equals(&n, value),
            Test::Pattern(value) => matches_pattern(&n, value),
            Test::Binding(vs, expansion) => {
                let expansion = expansion.get_or_init(|| self.set.expansion(vs, Some(profile)));
                codings(&n).iter().any(|(system, code)| expansion.membership(system.as_deref(), code) == Membership::In)
            }
            Test::Type(types) => types.iter().any(|t| same_type(t, n.type_name())),
            Test::Exists(_) | Test::Any => true,
            Test::Never => false,
            Test::Profile(urls) => urls.iter().any(|url| match self.set.profile(url, Some(profile)) {
                Some(inner) => self.conforms(n, &inner),
                None => false,
            }),
        }
    }

    /// Does `node` conform to `profile` (no error)?
    #[inline(never)]
    fn conforms(&self, node: Node<'a>, profile: &Profile) -> bool {
        let mut scratch = Findings::with_level(1, crate::diagnostic::Level::Strict);
        let mut probe = Checker {
            set: self.set,
            findings: &mut scratch,
            resource: self.resource,
            root: self.root,
            probe: true,
            failed: false,
            nesting: self.nesting + 1,
            noted: std::cell::Cell::new(false),
        };
        if probe.nesting < MAX_NESTING {
            probe.check(node, profile, "");
        }
        if probe.noted.get() {
            self.noted.set(true);
        }
        !probe.failed
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn binding(
        &mut self,
        item: Node<'a>,
        strength: Strength,
        vs: &str,
        expansion: &Expansion,
        profile: &Profile,
        at: Option<usize>,
        path: &At<'_>,
    ) {
        let codings = codings(&item);
        if codings.is_empty() {
            return; // A text-only CodeableConcept, or no code: other rules say whether one is needed.
        }
        let mut unknown = None;
        let mut found = false;
        for (system, code) in &codings {
            match expansion.membership(system.as_deref(), code) {
                Membership::In => found = true,
                Membership::NotIn => {}
                Membership::Unknown(why) => unknown = Some(why),
            }
        }
        if found {
            return;
        }
        if let Some(why) = unknown {
            self.noted.set(true);
            self.set.note_unchecked(vs, why);
            return;
        }
        self.not_in_value_set(&codings, strength, vs, profile, at, path);
    }

    #[cold]
    fn not_in_value_set(
        &mut self,
        codings: &[(Option<Cow<'a, str>>, Cow<'a, str>)],
        strength: Strength,
        vs: &str,
        profile: &Profile,
        at: Option<usize>,
        path: &At<'_>,
    ) {
        let shown: Vec<String> = codings
            .iter()
            .map(|(s, c)| match s {
                Some(s) => format!("{s}#{c}"),
                None => c.to_string(),
            })
            .collect();
        let (code, message) = match strength {
            Strength::Required => (
                Code::ProfileBinding,
                format!(
                    "None of the codings provided are in the value set {vs}, and a coding from this value set is required (codes = {{}}) (from {})",
                    profile.canonical()
                ),
            ),
            _ => (
                Code::ProfileBindingExtensible,
                format!(
                    "None of the codings provided are in the value set {vs}, and a coding should come from this value set unless it has no suitable code (note that the validator cannot judge what is suitable) (codes = {{}}) (from {})",
                    profile.canonical()
                ),
            ),
        };
        self.report(code, || Message::new(message, [q(shown.join(", "))]), at, path);
    }

    /// A Reference's literal against the types of its target profiles.
    #[inline(never)]
    fn target(&mut self, item: Node<'a>, t: &TypeRef, profile: &Profile, path: &At<'_>) {
        let Some(allowed) = t.target_types.get_or_init(|| self.target_types(&t.targets, profile)) else { return };
        let Some((reference_at, reference)) = member_string(&item, "reference") else { return };
        let crate::check::reference::Literal::Typed(ty) =
            crate::check::reference::classify(item.line.model, &reference)
        else {
            return;
        };
        if allowed.iter().any(|a| a == ty) {
            return;
        }
        let message = || {
            Message::new(
                format!(
                    "The type {{}} implied by the reference URL {{}} is not a valid Target for this element (must be one of {}) (from {})",
                    allowed.join(", "),
                    profile.canonical()
                ),
                [q(ty), q(reference.as_ref())],
            )
        };
        self.report(Code::ProfileTarget, message, Some(reference_at), &path.member("reference"));
    }

    /// The resource types target profiles allow; `None`: any (`Resource`), or a target profile
    /// not here (not checked).
    #[inline(never)]
    fn target_types(&self, targets: &[String], profile: &Profile) -> Option<Vec<String>> {
        let mut allowed = Vec::new();
        for t in targets {
            let t = super::compile::strip_version(t);
            let name = match t.strip_prefix("http://hl7.org/fhir/StructureDefinition/") {
                Some(base) if !base.contains('/') && (base == "Resource" || crate::is_resource_type(base)) => {
                    Some(base.to_owned())
                }
                _ => self.set.profile(t, Some(profile)).map(|p| p.type_name.clone()),
            };
            match name {
                Some(n) if n == "Resource" => return None,
                Some(n) => allowed.push(n),
                None => return None,
            }
        }
        Some(allowed)
    }

    #[inline(never)]
    fn invariant(
        &mut self,
        item: Node<'a>,
        inv: &super::compile::Invariant,
        profile: &Profile,
        at: Option<usize>,
        path: &At<'_>,
    ) {
        let ok = match &inv.expr {
            None => false,
            Some(_) if decided(item, inv) == Some(true) => true,
            Some(expr) => {
                let env =
                    Env { resource: Some(self.resource), root: Some(self.root), context: Some(item), known: None };
                match eval(expr, &smallvec::smallvec![Item::Node(item)], &env) {
                    Ok(result) => passes(&result),
                    Err(e) => e.0 == UNDECIDABLE,
                }
            }
        };
        if ok {
            return;
        }
        let severity = if inv.best_practice {
            self.findings.best_practice()
        } else if inv.error {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = Message::plain(format!(
            "Constraint failed: {}: '{}' (defined in {})",
            inv.key,
            inv.human,
            profile.canonical()
        ));
        let mut finding =
            Finding::new(Code::InvariantFailed, message).on(Some(Message::plain(path.render()))).severity(severity);
        finding.offset = at;
        finding.key = Some(Cow::Owned(inv.key.clone()));
        self.push(finding);
    }
}

/// A profile constraint on `item` that the walk's facts settle (`Some(true)`: it holds), as base
/// R4's are settled (`check::invariant`); `None`: the evaluator decides (also when they say it
/// fails: the evaluator has the last word on a failure, as it has the error's details).
fn decided(item: Node<'_>, inv: &super::compile::Invariant) -> Option<bool> {
    let (id, mask) = inv.mask.as_ref()?;
    let (NodeType::Complex(tid) | NodeType::Resource(tid)) = item.ty else { return None };
    if tid != *id {
        return None;
    }
    let (members, _) = item.object_members()?;
    let present = members.iter().filter(|m| m.present).fold(0u64, |b, m| b | 1 << (m.element & 63));
    let kept = Kept {
        present,
        members: &members,
        bytes: item.line.bytes,
        line: Some(item.line),
        resource: matches!(item.ty, NodeType::Resource(_)).then_some(&members),
        contained: None,
    };
    match mask.decide(&kept) {
        Ok(Some(true)) => Some(true),
        _ => None,
    }
}

/// The paths of the items of one element.
struct ItemPaths<'p> {
    parent: &'p At<'p>,
    /// The element's name (a choice's without `[x]`).
    name: &'p str,
    choice: bool,
    /// Items are indexed (the base element repeats).
    many: bool,
}

impl<'p> ItemPaths<'p> {
    /// The paths of the items of `elem` below `parent`.
    fn of(elem: &'p Elem, parent: &'p At<'p>) -> ItemPaths<'p> {
        ItemPaths {
            parent,
            name: if elem.is_choice() { elem.fhirpath_name() } else { &elem.name },
            choice: elem.is_choice(),
            many: elem.base.as_ref().is_none_or(|b| b.max.is_none()),
        }
    }

    fn at(&self, i: usize, item: &Node<'_>) -> At<'_> {
        self.parent.item(self.name, self.choice.then(|| item.type_name()), self.many.then_some(i))
    }
}

/// The items of element `elem` of `node` (read by the element's index in the base type).
fn node_items<'a>(node: Node<'a>, elem: &Elem) -> Items<'a> {
    match (node.object_members(), elem.element, node.ty) {
        (Some((members, t)), Some((id, i)), NodeType::Complex(tid) | NodeType::Resource(tid)) if id == tid => {
            node.element_nodes(&members, t, usize::from(i))
        }
        _ => node.children(Some(elem.fhirpath_name()), None).into_iter().collect(),
    }
}

/// Is the type `code` (a profile's) the node type `found` (a node's)?
fn same_type(code: &str, found: &str) -> bool {
    code == found || (found == "BackboneElement" && code == "BackboneElement")
}

/// Does any node at a discriminator path from `item` (its names; none: the item itself) pass
/// `test`? Visited one by one, in document order, until one does: no collection is built.
fn any_at<'a>(item: Node<'a>, path: &[String], test: &mut dyn FnMut(Node<'a>) -> bool) -> bool {
    let Some((name, rest)) = path.split_first() else { return test(item) };
    let mut hit = false;
    item.children_each(Some(name), None, &mut |child| {
        if !hit {
            hit = any_at(child, rest, test);
        }
    });
    hit
}

/// A primitive node's text (strings decoded; numbers and booleans as written).
fn text_of<'a>(node: &Node<'a>) -> Option<Cow<'a, str>> {
    let line = node.line;
    match node.token()? {
        Token::String(s) => Some(s.str_in(line.text)),
        Token::Number(s, e) => line.text.get(s as usize..e as usize).map(Cow::Borrowed),
        Token::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
        _ => None,
    }
}

/// A node for messages: a primitive's text, else its JSON (at most 120 characters).
fn shown(node: &Node<'_>) -> String {
    if let NodeType::Prim(_) = node.ty {
        return text_of(node).map(Cow::into_owned).unwrap_or_default();
    }
    let Some(at) = node.value() else { return String::new() };
    let mut sc = crate::json::scan::Scanner { bytes: node.line.bytes, pos: at };
    let _ = sc.skip_value();
    let text = node.line.text.get(at..sc.pos).unwrap_or_default();
    text.chars().take(120).collect()
}

fn shown_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string().chars().take(120).collect(),
    }
}

/// Is the primitive node's value the JSON primitive `v`?
fn primitive_equals(node: &Node<'_>, v: &Value) -> bool {
    let NodeType::Prim(prim) = node.ty else { return false };
    if let (Value::String(x), Some(raw)) =
        (v, node.value().and_then(|at| crate::json::scan::unescaped_string(node.line.bytes, at)))
    {
        // No escape in the JSON text: its bytes are the value's.
        return raw == x.as_bytes();
    }
    match (node.token(), v) {
        (Some(Token::String(s)), Value::String(x)) => s.str_in(node.line.text) == x.as_str(),
        (Some(Token::Bool(b)), Value::Bool(x)) => b == *x,
        (Some(Token::Number(s, e)), Value::Number(n)) => {
            let text = node.line.text.get(s as usize..e as usize).unwrap_or_default();
            let (a, b) = (Decimal::parse(text), Decimal::parse(&n.to_string()));
            match (a, b) {
                (Some(a), Some(b)) if prim == Prim::Decimal => a.text() == b.text() || a.cmp(&b).is_eq(),
                (Some(a), Some(b)) => a.cmp(&b).is_eq(),
                _ => false,
            }
        }
        _ => false,
    }
}

/// The node's children with the JSON key `key` (`coding`, `valueCode`), collected without a heap
/// allocation for the usual few.
fn children_by_key<'a>(node: &Node<'a>, key: &str) -> Items<'a> {
    let mut out = Items::new();
    let (NodeType::Complex(tid) | NodeType::Resource(tid)) = node.ty else {
        // A primitive's `id` and `extension` are on its `_x` object.
        node.children_each(Some(key), None, &mut |c| out.push(c));
        return out;
    };
    let t = node.line.model.ty(tid);
    let Some(p) = (t.lookup)(key.as_bytes()) else { return out };
    let p = &t.properties[usize::from(p)];
    let element = &t.elements[usize::from(p.element)];
    let name = element.name.strip_suffix("[x]").unwrap_or(element.name);
    node.children_each(Some(name), None, &mut |c| {
        let wanted = !element.choice
            || match (p.ty, c.ty) {
                (Ty::Prim(a), NodeType::Prim(b)) => a == b,
                (Ty::Complex(a), NodeType::Complex(b)) => a == b,
                _ => false,
            };
        if wanted {
            out.push(c);
        }
    });
    out
}

/// Is `node` exactly `v` (fixed[x]): the same members, each equal?
fn equals(node: &Node<'_>, v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            if let NodeType::Prim(_) = node.ty {
                return false;
            }
            let mut expected = 0;
            for (key, value) in map {
                let children = children_by_key(node, key);
                let values: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    one => vec![one],
                };
                if children.len() != values.len() || !children.iter().zip(&values).all(|(c, v)| equals(c, v)) {
                    return false;
                }
                expected += values.len();
            }
            node.children(None, None).len() == expected
        }
        Value::Array(_) | Value::Null => false,
        primitive => primitive_equals(node, primitive),
    }
}

/// Does `node` hold `v` (pattern[x]): every member of the pattern present and matching,
/// arrays by containment?
fn matches_pattern(node: &Node<'_>, v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            if let NodeType::Prim(_) = node.ty {
                return false;
            }
            map.iter().all(|(key, value)| {
                let children = children_by_key(node, key);
                match value {
                    Value::Array(items) => items.iter().all(|p| children.iter().any(|c| matches_pattern(c, p))),
                    one => children.iter().any(|c| matches_pattern(c, one)),
                }
            })
        }
        Value::Array(_) | Value::Null => false,
        primitive => primitive_equals(node, primitive),
    }
}

/// A code with its system (`None` for a bare `code`), borrowed from the line where it needs no
/// decoding.
type SystemCode<'a> = (Option<Cow<'a, str>>, Cow<'a, str>);

/// The codes of a code, Coding or CodeableConcept node, borrowed from the line where they need no
/// decoding.
fn codings<'a>(node: &Node<'a>) -> SmallVec<[SystemCode<'a>; 2]> {
    let mut out = SmallVec::new();
    match node.ty {
        NodeType::Prim(_) => out.extend(text_of(node).map(|c| (None, c))),
        NodeType::Complex(_) => match node.type_name() {
            "Coding" => out.extend(coding(node)),
            "CodeableConcept" => {
                if let Some((members, t)) = node.object_members() {
                    if let Some(i) = element_named(t, "coding") {
                        out.extend(node.element_nodes(&members, t, i).iter().filter_map(coding));
                    }
                }
            }
            _ => {}
        },
        NodeType::Resource(_) => {}
    }
    out
}

/// The string value of member `name` of an object node, and where it starts.
fn member_string<'a>(node: &Node<'a>, name: &str) -> Option<(usize, Cow<'a, str>)> {
    let (members, t) = node.object_members()?;
    let i = element_named(t, name)?;
    let m = members.iter().find(|m| !m.ext && usize::from(m.element) == i)?;
    Some((m.at(), node.line.string_at(m.at())?))
}

/// A Coding's `(system, code)`, read from its members in one pass; `None` without a code.
fn coding<'a>(node: &Node<'a>) -> Option<(Option<Cow<'a, str>>, Cow<'a, str>)> {
    let (members, t) = node.object_members()?;
    let (code_at, system_at) = (element_named(t, "code")?, element_named(t, "system")?);
    let (mut code, mut system) = (None, None);
    for m in members.iter().filter(|m| !m.ext) {
        let e = usize::from(m.element);
        if e == code_at {
            code = node.line.string_at(m.at());
        } else if e == system_at {
            system = node.line.string_at(m.at());
        }
    }
    Some((system, code?))
}
