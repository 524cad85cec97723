//! The profile engine: a resource (or any element) checked against a compiled profile, over the
//! FHIRPath nodes of the line (`fhirpath::node`: what the walk kept, no tree of values). For each
//! element of the profile that adds a rule to base R4 (`Elem::checks`): the number of items
//! (min, max), then each item — its type among those allowed, its fixed (exact) or pattern
//! (partial, recursive, arrays by containment) value, its binding, its Reference target, the
//! profiles its type names (an extension's definition), the constraints the profile adds — and
//! its own elements. A sliced element's items are first matched to slices by the slicing's
//! discriminators (`value`, `pattern`, `type`, `profile`, `exists`): each slice's count against
//! its cardinality, items matching no slice against `closed`, `openAtEnd` and `ordered`.
//!
//! Messages are the HL7 validator's (its current `Messages.properties`), naming the profile as
//! `url|version`; counts are reported on the parent element, as HL7 does.
//!
//! May import: `fhirpath`, `facts`, `diagnostic`, `model`, `json`; `check::reference` (reading a
//! literal reference).

use std::borrow::Cow;

use serde_json::Value;

use super::compile::{Discriminator, Elem, Profile, Rules, Strength};
use super::terminology::Membership;
use super::ProfileSet;
use crate::diagnostic::{q, Code, Finding, Findings, Message, Severity};
use crate::fhirpath::eval::{eval, passes, Env, Item, UNDECIDABLE};
use crate::fhirpath::node::{Node, NodeType};
use crate::fhirpath::value::Decimal;
use crate::json::scan::Token;
use crate::model::{Prim, Ty};

/// Profiles checked inside profiles (an extension's definition inside a resource's) stop here.
const MAX_NESTING: usize = 16;

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
}

impl<'a> Checker<'_, 'a> {
    /// Check `node` against `profile` (its root element); `path` is the node's FHIR path.
    pub(crate) fn check(&mut self, node: Node<'a>, profile: &Profile, path: &str) {
        if !profile.elems[0].checks {
            return;
        }
        self.item(node, profile, 0, path);
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

    fn report(&mut self, code: Code, message: Message, at: Option<usize>, path: &str) {
        let mut finding = Finding::new(code, message).on(Some(Message::plain(path.to_owned())));
        finding.offset = at;
        self.push(finding);
    }

    /// The elements of `node`, which is an item of `profile.elems[at]`.
    fn children(&mut self, node: Node<'a>, profile: &Profile, at: usize, path: &str) {
        for &c in &profile.elems[at].children {
            if profile.elems[c].checks {
                self.child(node, profile, c, path);
            }
        }
    }

    /// Element `c` of `parent` (at `path`): its items, counted and checked.
    fn child(&mut self, parent: Node<'a>, profile: &Profile, c: usize, path: &str) {
        let elem = &profile.elems[c];
        let items = parent.children(Some(elem.fhirpath_name()), None);
        let canonical = || profile.canonical();
        let base = elem.base.as_ref();
        let min_added = base.is_none_or(|b| elem.min > b.min);
        if min_added && (items.len() as u64) < u64::from(elem.min) {
            let message = Message::plain(format!(
                "{}: minimum required = {}, but only found {} (from {})",
                elem.id,
                elem.min,
                items.len(),
                canonical()
            ));
            self.report(Code::ProfileMin, message, parent.value(), path);
        }
        if let Some(max) = elem.max {
            let max_added = base.is_none_or(|b| b.max.is_none_or(|bm| max < bm));
            if max_added && items.len() as u64 > u64::from(max) {
                let message = Message::plain(format!(
                    "{}: max allowed = {max}, but found {} (from {})",
                    elem.id,
                    items.len(),
                    canonical()
                ));
                let at = items.get(max as usize).and_then(Node::value).or(parent.value());
                self.report(Code::ProfileMax, message, at, path);
            }
        }
        let item_path = |i: usize| {
            let name = key_name(&items[i], elem);
            let many = base.is_none_or(|b| b.max.is_none());
            if many {
                format!("{path}.{name}[{i}]")
            } else {
                format!("{path}.{name}")
            }
        };
        if let Some(slicing) = elem.slicing.as_ref().filter(|_| !elem.slices.is_empty()) {
            // Which slice each item belongs to.
            let assigned: Vec<Option<usize>> = items
                .iter()
                .map(|item| {
                    elem.slices.iter().copied().find(|&s| self.in_slice(*item, profile, s, &slicing.discriminators))
                })
                .collect();
            for &s in &elem.slices {
                let slice = &profile.elems[s];
                let count = assigned.iter().filter(|a| **a == Some(s)).count();
                if (count as u64) < u64::from(slice.min) {
                    let message = if slice.min == 1 {
                        format!(
                            "Slice '{}': a matching slice is required, but not found (from {}). Note that other slices are allowed in addition to this required slice",
                            slice.id,
                            canonical()
                        )
                    } else {
                        format!(
                            "Slice '{}': minimum required = {}, but only found {count} (from {})",
                            slice.id,
                            slice.min,
                            canonical()
                        )
                    };
                    self.report(Code::ProfileSliceMin, Message::plain(message), parent.value(), path);
                }
                if let Some(max) = slice.max.filter(|&m| count as u64 > u64::from(m)) {
                    let message =
                        format!("{}: max allowed = {max}, but found {count} (from {})", slice.id, canonical());
                    self.report(Code::ProfileSliceMax, Message::plain(message), parent.value(), path);
                }
            }
            let mut last_slice = 0;
            let mut unmatched_seen = false;
            for (i, item) in items.iter().enumerate() {
                match assigned[i] {
                    Some(s) => {
                        let order = elem.slices.iter().position(|&x| x == s).unwrap_or(0);
                        if slicing.ordered && order < last_slice || slicing.rules == Rules::OpenAtEnd && unmatched_seen
                        {
                            let message = format!(
                                "As specified by profile {}, Element '{}' is out of order in ordered slice",
                                canonical(),
                                elem.name
                            );
                            self.report(Code::ProfileSliceOrder, Message::plain(message), item.value(), &item_path(i));
                        }
                        last_slice = last_slice.max(order);
                        self.item(*item, profile, s, &item_path(i));
                    }
                    None => {
                        unmatched_seen = true;
                        if slicing.rules == Rules::Closed
                            && matches!(elem.name.as_str(), "extension" | "modifierExtension")
                        {
                            let url = item.children(Some("url"), None).first().and_then(text_of).unwrap_or_default();
                            let message = Message::new(
                                format!(
                                    "The extension {{}} could not be found so is not allowed here (from {})",
                                    canonical()
                                ),
                                [q(url.as_ref())],
                            );
                            self.report(Code::ProfileExtensionUnknown, message, item.value(), &item_path(i));
                        } else if slicing.rules == Rules::Closed {
                            let message = format!(
                                "This element does not match any known slice defined in the profile {} and slicing is CLOSED: {}",
                                canonical(),
                                elem.slices
                                    .iter()
                                    .map(|&s| profile.elems[s].slice_name.clone().unwrap_or_default())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            );
                            self.report(Code::ProfileSliceClosed, Message::plain(message), item.value(), &item_path(i));
                        }
                        self.item(*item, profile, c, &item_path(i));
                    }
                }
            }
            return;
        }
        for (i, item) in items.iter().enumerate() {
            self.item(*item, profile, c, &item_path(i));
        }
    }

    /// One item of `profile.elems[at]`.
    fn item(&mut self, item: Node<'a>, profile: &Profile, at: usize, path: &str) {
        let elem = &profile.elems[at];
        if !elem.checks {
            return;
        }
        let canonical = || profile.canonical();
        let offset = item.value().or(item.ext());
        // The types a choice allows.
        if elem.is_choice() && !elem.types.is_empty() {
            let found = item.type_name();
            if !elem.types.iter().any(|t| same_type(&t.code, found)) {
                let allowed: Vec<&str> = elem.types.iter().map(|t| t.code.as_str()).collect();
                let message = Message::new(
                    format!(
                        "The type {{}} is not allowed here by the profile {} (allowed: {})",
                        canonical(),
                        allowed.join(", ")
                    ),
                    [q(found)],
                );
                self.report(Code::ProfileType, message, offset, path);
                return;
            }
        }
        if let Some((key, fixed)) = &elem.fixed {
            if !equals(&item, fixed) {
                let message = Message::new(
                    format!("Value is {{}} but is fixed to {{}} in the profile {}", canonical()),
                    [q(shown(&item)), q(shown_value(fixed))],
                );
                let _ = key;
                self.report(Code::ProfileFixed, message, offset, path);
            }
        }
        if let Some((_, pattern)) = &elem.pattern {
            if !matches_pattern(&item, pattern) {
                let message = Message::new(
                    format!("The pattern {{}} defined in the profile {} not found", canonical()),
                    [q(shown_value(pattern))],
                );
                self.report(Code::ProfilePattern, message, offset, path);
            }
        }
        if let Some((strength, vs)) = &elem.binding {
            if matches!(strength, Strength::Required | Strength::Extensible) {
                let base_same = elem
                    .base
                    .as_ref()
                    .and_then(|b| b.required_binding)
                    .is_some_and(|b| b == super::compile::strip_version(vs));
                if !base_same {
                    self.binding(item, *strength, vs, profile, offset, path);
                }
            }
        }
        for t in &elem.types {
            if t.code == "Reference" && !t.targets.is_empty() {
                self.target(item, &t.targets, profile, offset, path);
            }
        }
        for inv in &elem.invariants {
            self.invariant(item, inv, profile, offset, path);
        }
        // The profiles the type names: an extension's definition, a datatype profile.
        if self.nesting < MAX_NESTING {
            for t in &elem.types {
                if !same_type(&t.code, item.type_name()) && !(t.code == "Extension" && elem.types.len() == 1) {
                    continue;
                }
                for url in &t.profiles {
                    if let Some(inner) = self.set.profile(url, Some(profile)) {
                        self.nesting += 1;
                        self.check(item, &inner, path);
                        self.nesting -= 1;
                    }
                }
            }
        }
        self.children(item, profile, at, path);
    }

    /// Does `item` belong to slice `s` (all its discriminators agree)?
    fn in_slice(
        &self,
        item: Node<'a>,
        profile: &Profile,
        s: usize,
        discriminators: &[(Discriminator, String)],
    ) -> bool {
        discriminators.iter().all(|(kind, path)| self.discriminates(item, profile, s, *kind, path))
    }

    fn discriminates(&self, item: Node<'a>, profile: &Profile, s: usize, kind: Discriminator, path: &str) -> bool {
        let nodes = nodes_at(item, path);
        match kind {
            Discriminator::Value | Discriminator::Pattern => match self.slice_value(profile, s, path) {
                Some((fixed, value)) => {
                    nodes.iter().any(|n| if fixed { equals(n, &value) } else { matches_pattern(n, &value) })
                }
                // A slice told apart by a required binding instead (HL7 allows it): a code of the
                // value set. A value set that cannot be expanded offline matches nothing.
                None => match descendant(profile, s, path).and_then(|e| e.binding.as_ref()) {
                    Some((Strength::Required, vs)) => nodes.iter().any(|n| {
                        codings(n).iter().any(|(system, code)| {
                            self.set.contains(vs, system.as_deref(), code, Some(profile)) == Membership::In
                        })
                    }),
                    _ => false,
                },
            },
            Discriminator::Type => {
                let Some(e) = descendant(profile, s, path) else { return false };
                nodes.iter().any(|n| e.types.iter().any(|t| same_type(&t.code, n.type_name())))
            }
            Discriminator::Exists => {
                let Some(e) = descendant(profile, s, path) else { return false };
                if e.max == Some(0) {
                    nodes.is_empty()
                } else {
                    e.min == 0 || !nodes.is_empty()
                }
            }
            Discriminator::Profile => {
                let Some(e) = descendant(profile, s, path) else { return false };
                let urls: Vec<&String> = e.types.iter().flat_map(|t| t.profiles.iter().chain(&t.targets)).collect();
                nodes.iter().any(|n| {
                    urls.iter().any(|url| match self.set.profile(url, Some(profile)) {
                        Some(inner) => self.conforms(*n, &inner),
                        None => false,
                    })
                })
            }
        }
    }

    /// Does `node` conform to `profile` (no error)?
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
        };
        if probe.nesting < MAX_NESTING {
            probe.check(node, profile, "");
        }
        !probe.failed
    }

    /// The value a slice fixes at a discriminator path: `(true, fixed)` or `(false, pattern)`;
    /// for an extension's `url`, the url its definition fixes.
    fn slice_value(&self, profile: &Profile, s: usize, path: &str) -> Option<(bool, Value)> {
        if let Some(e) = valued_descendant(profile, s, path) {
            if let Some((_, v)) = &e.fixed {
                return Some((true, v.clone()));
            }
            if let Some((_, v)) = &e.pattern {
                return Some((false, v.clone()));
            }
        }
        if path == "url" {
            let slice = &profile.elems[s];
            for t in slice.types.iter().filter(|t| t.code == "Extension") {
                for url in &t.profiles {
                    // The url is the definition's own: no need to read it.
                    return Some((true, Value::String(super::compile::strip_version(url).to_owned())));
                }
            }
        }
        None
    }

    fn binding(
        &mut self,
        item: Node<'a>,
        strength: Strength,
        vs: &str,
        profile: &Profile,
        at: Option<usize>,
        path: &str,
    ) {
        let codings = codings(&item);
        if codings.is_empty() {
            return; // A text-only CodeableConcept, or no code: other rules say whether one is needed.
        }
        let mut unknown = None;
        let mut found = false;
        for (system, code) in &codings {
            match self.set.contains(vs, system.as_deref(), code, Some(profile)) {
                Membership::In => found = true,
                Membership::NotIn => {}
                Membership::Unknown(why) => unknown = Some(why),
            }
        }
        if found {
            return;
        }
        if let Some(why) = unknown {
            self.set.note_unchecked(vs, &why);
            return;
        }
        let shown: Vec<String> = codings
            .iter()
            .map(|(s, c)| match s {
                Some(s) => format!("{s}#{c}"),
                None => c.clone(),
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
        self.report(code, Message::new(message, [q(shown.join(", "))]), at, path);
    }

    /// A Reference's literal against the types of its target profiles.
    fn target(&mut self, item: Node<'a>, targets: &[String], profile: &Profile, at: Option<usize>, path: &str) {
        let Some(reference) = item.children(Some("reference"), None).first().and_then(text_of) else { return };
        let crate::check::reference::Literal::Typed(ty) =
            crate::check::reference::classify(item.line.model, &reference)
        else {
            return;
        };
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
                Some(n) if n == "Resource" => return,
                Some(n) => allowed.push(n),
                None => return, // a target profile not here: not checked
            }
        }
        if allowed.iter().any(|a| a == ty) {
            return;
        }
        let message = Message::new(
            format!(
                "The type {{}} implied by the reference URL {{}} is not a valid Target for this element (must be one of {}) (from {})",
                allowed.join(", "),
                profile.canonical()
            ),
            [q(ty), q(reference.as_ref())],
        );
        let at = item.children(Some("reference"), None).first().and_then(Node::value).or(at);
        self.report(Code::ProfileTarget, message, at, &format!("{path}.reference"));
    }

    fn invariant(
        &mut self,
        item: Node<'a>,
        inv: &super::compile::Invariant,
        profile: &Profile,
        at: Option<usize>,
        path: &str,
    ) {
        let ok = match &inv.expr {
            None => false,
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
            Finding::new(Code::InvariantFailed, message).on(Some(Message::plain(path.to_owned()))).severity(severity);
        finding.offset = at;
        finding.key = Some(Cow::Owned(inv.key.clone()));
        self.push(finding);
    }
}

/// The JSON key of an item of `elem` in paths (`valueQuantity` for `value[x]`).
fn key_name(item: &Node<'_>, elem: &Elem) -> String {
    if !elem.is_choice() {
        return elem.name.clone();
    }
    let ty = item.type_name();
    let mut suffix = ty.to_owned();
    if let Some(first) = suffix.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    format!("{}{suffix}", elem.fhirpath_name())
}

/// Is the type `code` (a profile's) the node type `found` (a node's)?
fn same_type(code: &str, found: &str) -> bool {
    code == found || (found == "BackboneElement" && code == "BackboneElement")
}

/// The element of the profile at `path` below slice (or element) `s`: `$this`, or names.
fn descendant<'p>(profile: &'p Profile, s: usize, path: &str) -> Option<&'p Elem> {
    let mut at = s;
    if path != "$this" {
        for name in path.split('.') {
            let name = name.trim();
            at = *profile.elems[at].children.iter().find(|&&c| {
                let e = &profile.elems[c];
                e.name == name || e.fhirpath_name() == name
            })?;
        }
    }
    Some(&profile.elems[at])
}

/// The element at `path` below `s` that fixes a value, looking into the slices on the way
/// (`component:SystolicBP` fixes `code.coding.code` as `code.coding:SBPCode.code`).
fn valued_descendant<'p>(profile: &'p Profile, s: usize, path: &str) -> Option<&'p Elem> {
    fn walk<'p>(profile: &'p Profile, at: usize, names: &[&str]) -> Option<&'p Elem> {
        let e = &profile.elems[at];
        let Some((name, rest)) = names.split_first() else {
            return (e.fixed.is_some() || e.pattern.is_some()).then_some(e);
        };
        e.children
            .iter()
            .filter(|&&c| profile.elems[c].name == *name || profile.elems[c].fhirpath_name() == *name)
            .find_map(|&c| {
                walk(profile, c, rest).or_else(|| profile.elems[c].slices.iter().find_map(|&sl| walk(profile, sl, rest)))
            })
    }
    if path == "$this" {
        return descendant(profile, s, path);
    }
    let names: Vec<&str> = path.split('.').map(str::trim).collect();
    walk(profile, s, &names)
}

/// The nodes at a discriminator path from `item` (`$this`, `url`, `coding.code`).
fn nodes_at<'a>(item: Node<'a>, path: &str) -> Vec<Node<'a>> {
    let mut nodes = vec![item];
    if path == "$this" {
        return nodes;
    }
    for name in path.split('.') {
        let name = name.trim();
        nodes = nodes.iter().flat_map(|n| n.children(Some(name), None)).collect();
    }
    nodes
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

/// The node's children with the JSON key `key` (`coding`, `valueCode`).
fn children_by_key<'a>(node: &Node<'a>, key: &str) -> Vec<Node<'a>> {
    let (NodeType::Complex(tid) | NodeType::Resource(tid)) = node.ty else {
        // A primitive's `id` and `extension` are on its `_x` object.
        return node.children(Some(key), None);
    };
    let t = node.line.model.ty(tid);
    let Some(p) = (t.lookup)(key.as_bytes()) else { return Vec::new() };
    let p = &t.properties[usize::from(p)];
    let element = &t.elements[usize::from(p.element)];
    let name = element.name.strip_suffix("[x]").unwrap_or(element.name);
    let children = node.children(Some(name), None);
    if !element.choice {
        return children;
    }
    children
        .into_iter()
        .filter(|c| match (p.ty, c.ty) {
            (Ty::Prim(a), NodeType::Prim(b)) => a == b,
            (Ty::Complex(a), NodeType::Complex(b)) => a == b,
            _ => false,
        })
        .collect()
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

/// The codes of a code, Coding or CodeableConcept node: `(system, code)`.
fn codings(node: &Node<'_>) -> Vec<(Option<String>, String)> {
    let one = |n: &Node<'_>, name: &str| n.children(Some(name), None).first().and_then(text_of).map(Cow::into_owned);
    match node.ty {
        NodeType::Prim(_) => text_of(node).map(|c| vec![(None, c.into_owned())]).unwrap_or_default(),
        NodeType::Complex(_) => match node.type_name() {
            "Coding" => one(node, "code").map(|c| vec![(one(node, "system"), c)]).unwrap_or_default(),
            "CodeableConcept" => node
                .children(Some("coding"), None)
                .iter()
                .filter_map(|c| one(c, "code").map(|code| (one(c, "system"), code)))
                .collect(),
            _ => Vec::new(),
        },
        NodeType::Resource(_) => Vec::new(),
    }
}
