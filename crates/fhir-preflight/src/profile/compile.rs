//! A StructureDefinition's snapshot compiled into a tree of element rules: for each element, its
//! cardinality, the types it allows (with their profiles and target profiles), its fixed or
//! pattern value, its binding, the constraints it adds, its slicing and slices, and its child
//! elements. Each element is compared with the base R4 definition of the same path, so that only
//! what the profile adds is checked (the base rules have checked the rest): `checks` says whether
//! an element or anything below it adds something.
//!
//! May import: `model` (base R4, to compare with), `fhirpath` (constraints are parsed here).

use std::sync::{Arc, OnceLock, Weak};

use serde_json::Value;

use super::terminology::Expansion;
use crate::fhirpath::hoist::hoist;
use crate::fhirpath::mask::{self, Mask};
use crate::fhirpath::parse::{parse, Expr};
use crate::model::{Model, Ty, TypeDef, TypeId, TypeKind};

/// `max` of an element: a number, or `*`.
pub(crate) type Max = Option<u32>;

/// A profile: a constraint on a resource or datatype (or an extension definition).
#[derive(Debug)]
pub(crate) struct Profile {
    pub(crate) url: String,
    pub(crate) version: String,
    /// The type it constrains (`Patient`, `Extension`).
    pub(crate) type_name: String,
    /// An extension definition's contexts, `(type, expression)`: where it may be used
    /// (`("element", "Patient")`); see `check::extension_context`.
    pub(crate) contexts: Vec<(String, String)>,
    /// The elements; `elems[0]` is the root.
    pub(crate) elems: Vec<Elem>,
    /// The profile (or base type) it derives from: `baseDefinition`.
    pub(crate) base_definition: String,
}

impl Profile {
    /// `url|version`, as messages name a profile.
    pub(crate) fn canonical(&self) -> String {
        if self.version.is_empty() {
            self.url.clone()
        } else {
            format!("{}|{}", self.url, self.version)
        }
    }
}

/// A type an element allows.
#[derive(Debug, Clone)]
pub(crate) struct TypeRef {
    /// The type's code: `Quantity`, `string`, `Reference`, `Extension`.
    pub(crate) code: String,
    /// Profiles the value must conform to (an extension's definition, a datatype profile).
    pub(crate) profiles: Vec<String>,
    /// For `Reference` and `canonical`: the profiles (and so the types) of the target.
    pub(crate) targets: Vec<String>,
    /// `profiles` as found in the packages, resolved on first use (weak: a profile may name
    /// itself).
    pub(crate) resolved: OnceLock<Vec<Weak<Profile>>>,
    /// The resource types `targets` allow, resolved on first use (`None`: any, or a target
    /// profile not here, so not checked).
    pub(crate) target_types: OnceLock<Option<Vec<String>>>,
}

/// A binding's strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strength {
    Required,
    Extensible,
    Preferred,
    Example,
}

/// How slices are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discriminator {
    Value,
    Pattern,
    Type,
    Profile,
    Exists,
}

/// Whether items that match no slice are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    Open,
    Closed,
    /// Allowed after the slices only.
    OpenAtEnd,
}

#[derive(Debug, Clone)]
pub(crate) struct Slicing {
    pub(crate) discriminators: Vec<(Discriminator, String)>,
    pub(crate) ordered: bool,
    pub(crate) rules: Rules,
}

/// One discriminator of a slice: what the nodes at `path` (below the item; empty: the item
/// itself) must be.
#[derive(Debug)]
pub(crate) struct SliceTest {
    pub(crate) path: Vec<String>,
    pub(crate) test: Test,
}

#[derive(Debug)]
pub(crate) enum Test {
    /// A node equal to the value (`fixed[x]`).
    Fixed(Value),
    /// A node holding the pattern.
    Pattern(Value),
    /// A code of the value set (a slice told apart by a required binding, as HL7 allows), with
    /// its expansion made on first use.
    Binding(String, OnceLock<Arc<Expansion>>),
    /// A node of one of these types.
    Type(Vec<String>),
    /// A node conforming to one of these profiles.
    Profile(Vec<String>),
    /// `exists`: the nodes are present (`true`) or absent (`false`).
    Exists(bool),
    /// Any item (an `exists` the slice leaves open).
    Any,
    /// No item (the slice says nothing the discriminator can use).
    Never,
}

/// A constraint the profile adds (`us-core-8`).
#[derive(Debug)]
pub(crate) struct Invariant {
    pub(crate) key: String,
    pub(crate) error: bool,
    pub(crate) best_practice: bool,
    pub(crate) human: String,
    /// `None`: the expression does not parse (reported when it would apply).
    pub(crate) expr: Option<Expr>,
    /// What the walk's facts decide of it on items of this (complex) type, as for base R4's
    /// constraints (`fhirpath::mask`); the rest goes to the evaluator.
    pub(crate) mask: Option<(TypeId, Mask)>,
}

/// One element of the profile (or one slice of an element).
#[derive(Debug)]
pub(crate) struct Elem {
    /// `Patient.identifier:ssn.system`.
    pub(crate) id: String,
    /// The last segment of the path: `system`, `value[x]`.
    pub(crate) name: String,
    pub(crate) slice_name: Option<String>,
    pub(crate) min: u32,
    pub(crate) max: Max,
    pub(crate) types: Vec<TypeRef>,
    /// `fixed[x]`: `(fixedCode, "final")`.
    pub(crate) fixed: Option<(String, Value)>,
    pub(crate) pattern: Option<(String, Value)>,
    pub(crate) binding: Option<(Strength, String)>,
    pub(crate) invariants: Vec<Invariant>,
    pub(crate) slicing: Option<Slicing>,
    pub(crate) children: Vec<usize>,
    /// The children that check something (`checks`), for the engine: it need not read the others
    /// (an element is large; reading each child's flag was a cache miss per child).
    pub(crate) checked_children: Vec<usize>,
    pub(crate) slices: Vec<usize>,
    /// What base R4 says of the same path: min, max, its types, its required binding's value set.
    pub(crate) base: Option<BaseElem>,
    /// Its parent's base type and its index among that type's elements (its items are read by
    /// index, not by name).
    pub(crate) element: Option<(TypeId, u8)>,
    /// Its binding is checked: required or extensible, and not base R4's own required binding
    /// (which the base rules check).
    pub(crate) binding_adds: bool,
    /// The expansion of its binding's value set, made on first use.
    pub(crate) expansion: OnceLock<Arc<Expansion>>,
    /// For a slice: how an item is recognised as one of it, one test per discriminator of the
    /// slicing.
    pub(crate) slice_tests: Vec<SliceTest>,
    /// This element, or one below it, adds a rule to base R4.
    pub(crate) checks: bool,
    /// One of its types is a `Reference` with target profiles (checked per item).
    pub(crate) has_targets: bool,
    /// One of its types names profiles (an extension's definition, a datatype profile).
    pub(crate) has_type_profiles: bool,
}

/// The base R4 definition of an element's path.
#[derive(Debug, Clone)]
pub(crate) struct BaseElem {
    pub(crate) min: u32,
    pub(crate) max: Max,
    /// The base type of the element's values (one, for a non-choice complex element).
    pub(crate) ty: Option<TypeId>,
    /// The type names a choice allows (empty: not a choice).
    pub(crate) choice_types: Vec<String>,
    /// The value set of a required binding.
    pub(crate) required_binding: Option<&'static str>,
}

impl Elem {
    /// The name in FHIRPath (`value` for `value[x]`).
    pub(crate) fn fhirpath_name(&self) -> &str {
        self.name.strip_suffix("[x]").unwrap_or(&self.name)
    }

    pub(crate) fn is_choice(&self) -> bool {
        self.name.ends_with("[x]")
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// The parent id of an element id, and whether the element is a slice of the element at
/// `parent` (then `parent` is the sliced element's id): `A.b:s.c` → (`A.b:s`, false);
/// `A.b:s` → (`A.b`, true); `A.b:s/t` → (`A.b:s`, true).
fn parent_of(id: &str) -> Option<(&str, bool)> {
    let last_dot = id.rfind('.');
    let last_segment = &id[last_dot.map_or(0, |d| d + 1)..];
    if let Some(colon) = last_segment.find(':') {
        let slice = &last_segment[colon + 1..];
        let base_end = last_dot.map_or(0, |d| d + 1) + colon;
        return Some(match slice.rfind('/') {
            // A re-slice: the slice it re-slices.
            Some(slash) => (&id[..base_end + 1 + slash], true),
            None => (&id[..base_end], true),
        });
    }
    last_dot.map(|d| (&id[..d], false))
}

/// Compile a StructureDefinition with a snapshot. `Err`: why it cannot be used.
pub(crate) fn compile(sd: &Value, model: &Model) -> Result<Profile, String> {
    let url = text(sd, "url");
    let elements = sd
        .get("snapshot")
        .and_then(|s| s.get("element"))
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{url} has no snapshot"))?;
    let base_keys: std::collections::HashSet<&str> = model.constraints().iter().map(|c| c.key).collect();
    let mut elems: Vec<Elem> = Vec::with_capacity(elements.len());
    let mut by_id: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in elements {
        let path = text(e, "path");
        let id = match e.get("id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => path.clone(),
        };
        let name = path.rsplit('.').next().unwrap_or_default().to_owned();
        let min = e.get("min").and_then(Value::as_u64).map_or(0, |m| m.min(u64::from(u32::MAX)) as u32);
        let max = match e.get("max").and_then(Value::as_str) {
            Some("*") | None => None,
            Some(n) => Some(n.parse::<u32>().map_err(|_| format!("{url}: {id}: max {n} is not a number"))?),
        };
        let types = e
            .get("type")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| TypeRef {
                code: type_code(&text(t, "code")),
                profiles: strings(t.get("profile")),
                targets: strings(t.get("targetProfile")),
                resolved: OnceLock::new(),
                target_types: OnceLock::new(),
            })
            .collect();
        let mut fixed = None;
        let mut pattern = None;
        if let Some(obj) = e.as_object() {
            for (k, v) in obj {
                if k.starts_with("fixed") {
                    fixed = Some((k.clone(), v.clone()));
                } else if k.starts_with("pattern") {
                    pattern = Some((k.clone(), v.clone()));
                }
            }
        }
        let binding = e.get("binding").and_then(|b| {
            let strength = match b.get("strength")?.as_str()? {
                "required" => Strength::Required,
                "extensible" => Strength::Extensible,
                "preferred" => Strength::Preferred,
                _ => Strength::Example,
            };
            Some((strength, b.get("valueSet")?.as_str()?.to_owned()))
        });
        let invariants = e
            .get("constraint")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| {
                !c.get("source")
                    .and_then(Value::as_str)
                    .is_some_and(fhir_preflight_definitions::package::is_base_definition)
            })
            .filter(|c| !base_keys.contains(text(c, "key").as_str()))
            .filter_map(|c| {
                let expression = c.get("expression")?.as_str()?;
                // As base R4's (`check::invariant::skipped`): what needs another resource or a
                // terminology server is not evaluated offline.
                if crate::check::invariant::undecidable(expression).is_some() {
                    return None;
                }
                Some(Invariant {
                    key: text(c, "key"),
                    error: text(c, "severity") != "warning",
                    best_practice: fhir_preflight_definitions::package::best_practice(c),
                    human: text(c, "human"),
                    expr: parse(crate::check::invariant::as_evaluated(expression)).ok().map(hoist),
                    mask: None,
                })
            })
            .collect();
        let slicing = e.get("slicing").map(|s| Slicing {
            discriminators: s
                .get("discriminator")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|d| {
                    let kind = match d.get("type").and_then(Value::as_str) {
                        Some("pattern") => Discriminator::Pattern,
                        Some("type") => Discriminator::Type,
                        Some("profile") => Discriminator::Profile,
                        Some("exists") => Discriminator::Exists,
                        _ => Discriminator::Value,
                    };
                    (kind, text(d, "path"))
                })
                .collect(),
            ordered: s.get("ordered").and_then(Value::as_bool).unwrap_or(false),
            rules: match s.get("rules").and_then(Value::as_str) {
                Some("closed") => Rules::Closed,
                Some("openAtEnd") => Rules::OpenAtEnd,
                _ => Rules::Open,
            },
        });
        let index = elems.len();
        elems.push(Elem {
            id: id.clone(),
            name,
            slice_name: e.get("sliceName").and_then(Value::as_str).map(str::to_owned),
            min,
            max,
            types,
            fixed,
            pattern,
            binding,
            invariants,
            slicing,
            children: Vec::new(),
            checked_children: Vec::new(),
            slices: Vec::new(),
            base: None,
            element: None,
            binding_adds: false,
            expansion: OnceLock::new(),
            slice_tests: Vec::new(),
            checks: false,
            has_targets: false,
            has_type_profiles: false,
        });
        let elem = &mut elems[index];
        elem.has_targets = elem.types.iter().any(|t| t.code == "Reference" && !t.targets.is_empty());
        elem.has_type_profiles = elem.types.iter().any(|t| !t.profiles.is_empty());
        if index > 0 {
            let (parent, slice) = parent_of(&id).ok_or_else(|| format!("{url}: element {id} has no parent"))?;
            // A re-slice whose slice the snapshot leaves out (`category:us-core/social-history`
            // without `category:us-core`): a slice of the sliced element.
            let found = by_id.get(parent).or_else(|| slice.then(|| by_id.get(parent.split(':').next()?)).flatten());
            let parent = *found.ok_or_else(|| format!("{url}: element {id}: no element {parent}"))?;
            if slice {
                elems[parent].slices.push(index);
            } else {
                elems[parent].children.push(index);
            }
        }
        by_id.insert(id, index);
    }
    if elems.is_empty() {
        return Err(format!("{url} has an empty snapshot"));
    }
    let type_name = text(sd, "type");
    let contexts = sd
        .get("context")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| (text(c, "type"), text(c, "expression")))
        .collect();
    let base_definition = text(sd, "baseDefinition");
    let mut profile =
        Profile { url, version: text(sd, "version"), type_name: type_name.clone(), contexts, elems, base_definition };
    let root_type = model.type_ids().find(|&id| model.ty(id).name == type_name);
    let root_base = BaseElem { min: 0, max: None, ty: root_type, choice_types: Vec::new(), required_binding: None };
    profile.elems[0].base = Some(root_base);
    annotate(&mut profile.elems, 0, model);
    for e in &mut profile.elems {
        let Some(id) = e.base.as_ref().and_then(|b| b.ty) else { continue };
        let t = model.ty(id);
        let resource = (t.kind == TypeKind::Resource).then_some(t);
        for inv in &mut e.invariants {
            if let Some(expr) = &inv.expr {
                inv.mask = Some((id, mask::compile_in(expr, t, resource))).filter(|(_, m)| *m != Mask::Unknown);
            }
        }
    }
    for at in 0..profile.elems.len() {
        let checked = profile.elems[at].children.iter().copied().filter(|&c| profile.elems[c].checks).collect();
        profile.elems[at].checked_children = checked;
    }
    for at in 0..profile.elems.len() {
        let Some(slicing) = profile.elems[at].slicing.clone() else { continue };
        for s in profile.elems[at].slices.clone() {
            let tests =
                slicing.discriminators.iter().map(|(kind, path)| slice_test(&profile, s, *kind, path)).collect();
            profile.elems[s].slice_tests = tests;
        }
    }
    Ok(profile)
}

/// How discriminator `kind` at `path` recognises an item of slice `s`.
fn slice_test(profile: &Profile, s: usize, kind: Discriminator, path: &str) -> SliceTest {
    let segments: Vec<String> =
        if path == "$this" { Vec::new() } else { path.split('.').map(|n| n.trim().to_owned()).collect() };
    let test = match kind {
        Discriminator::Value | Discriminator::Pattern => match slice_value(profile, s, path) {
            Some((true, v)) => Test::Fixed(v),
            Some((false, v)) => Test::Pattern(v),
            None => match descendant(profile, s, path).and_then(|e| e.binding.as_ref()) {
                Some((Strength::Required, vs)) => Test::Binding(vs.clone(), OnceLock::new()),
                // A value set that cannot be expanded offline, or no value: matches nothing.
                _ => Test::Never,
            },
        },
        Discriminator::Type => match descendant(profile, s, path) {
            Some(e) => Test::Type(e.types.iter().map(|t| t.code.clone()).collect()),
            None => Test::Never,
        },
        Discriminator::Exists => match descendant(profile, s, path) {
            Some(e) if e.max == Some(0) => Test::Exists(false),
            Some(e) if e.min > 0 => Test::Exists(true),
            Some(_) => Test::Any,
            None => Test::Never,
        },
        Discriminator::Profile => match descendant(profile, s, path) {
            Some(e) => {
                Test::Profile(e.types.iter().flat_map(|t| t.profiles.iter().chain(&t.targets)).cloned().collect())
            }
            None => Test::Never,
        },
    };
    SliceTest { path: segments, test }
}

/// The value a slice fixes at a discriminator path: `(true, fixed)` or `(false, pattern)`;
/// for an extension's `url`, the url its definition fixes.
fn slice_value(profile: &Profile, s: usize, path: &str) -> Option<(bool, Value)> {
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
        if let Some(url) = slice.types.iter().filter(|t| t.code == "Extension").flat_map(|t| &t.profiles).next() {
            // The url is the definition's own: no need to read it.
            return Some((true, Value::String(strip_version(url).to_owned())));
        }
    }
    None
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
                walk(profile, c, rest)
                    .or_else(|| profile.elems[c].slices.iter().find_map(|&sl| walk(profile, sl, rest)))
            })
    }
    if path == "$this" {
        return descendant(profile, s, path);
    }
    let names: Vec<&str> = path.split('.').map(str::trim).collect();
    walk(profile, s, &names)
}

/// A type code as FHIR names it (`http://hl7.org/fhirpath/System.String` for `id` and
/// extension `url`s: a system string).
fn type_code(code: &str) -> String {
    match code.strip_prefix("http://hl7.org/fhirpath/System.") {
        Some("String") => "string".into(),
        Some(other) => other.to_lowercase(),
        None => code.to_owned(),
    }
}

/// Give each element below `at` its base R4 definition, and mark what adds to it.
fn annotate(elems: &mut Vec<Elem>, at: usize, model: &Model) -> bool {
    let parent_type = elems[at].base.as_ref().and_then(|b| b.ty).map(|id| model.ty(id));
    let children = elems[at].children.clone();
    let mut checks = false;
    for c in children {
        let mut base = parent_type.and_then(|t| base_elem(t, &elems[c].name, model));
        // A choice the profile narrows to one type: its children are that type's.
        if let (Some(b), [only]) = (&mut base, elems[c].types.as_slice()) {
            if !b.choice_types.is_empty() {
                b.ty = model.type_ids().find(|&id| model.ty(id).name == only.code);
            }
        }
        elems[c].base = base;
        let parent_id = elems[at].base.as_ref().and_then(|b| b.ty);
        elems[c].element = parent_id.zip(parent_type).and_then(|(id, t)| {
            let i = t.elements.iter().position(|e| e.name == elems[c].name)?;
            Some((id, u8::try_from(i).ok()?))
        });
        checks |= annotate(elems, c, model);
    }
    // A slice's base is the sliced element's (its own type when it narrows a choice).
    let slices = elems[at].slices.clone();
    for s in slices {
        let mut base = elems[at].base.clone();
        if let (Some(b), [only]) = (&mut base, elems[s].types.as_slice()) {
            if !b.choice_types.is_empty() {
                b.ty = model.type_ids().find(|&id| model.ty(id).name == only.code);
            }
        }
        elems[s].base = base;
        elems[s].element = elems[at].element;
        annotate(elems, s, model);
        checks = true;
    }
    let e = &elems[at];
    let own = adds(e);
    elems[at].binding_adds = match &elems[at].binding {
        Some((Strength::Required | Strength::Extensible, vs)) => {
            elems[at].base.as_ref().and_then(|b| b.required_binding) != Some(strip_version(vs))
        }
        _ => false,
    };
    elems[at].checks = own || checks;
    elems[at].checks
}

/// Does the element add a rule to its base definition?
fn adds(e: &Elem) -> bool {
    let Some(base) = &e.base else {
        // No base R4 element at this path: a profile-only element (an extension's url, a slice's
        // child of a type the base does not know). Check what it says.
        return e.min > 0 || e.max.is_some() || e.fixed.is_some() || e.pattern.is_some() || e.binding.is_some();
    };
    e.min > base.min
        || matches!((e.max, base.max), (Some(_), None))
        || matches!((e.max, base.max), (Some(m), Some(b)) if m < b)
        || e.fixed.is_some()
        || e.pattern.is_some()
        || !e.invariants.is_empty()
        || e.slicing.is_some() && !e.slices.is_empty()
        || binding_adds(e, base)
        || types_add(e, base)
}

fn binding_adds(e: &Elem, base: &BaseElem) -> bool {
    match &e.binding {
        Some((Strength::Required, vs)) => base.required_binding != Some(strip_version(vs)),
        Some((Strength::Extensible, _)) => true,
        _ => false,
    }
}

fn types_add(e: &Elem, base: &BaseElem) -> bool {
    let profiled = e.types.iter().any(|t| !t.profiles.is_empty() || !t.targets.is_empty());
    let narrowed = !base.choice_types.is_empty() && e.types.len() < base.choice_types.len();
    profiled || narrowed
}

/// A canonical without its `|version`.
pub(crate) fn strip_version(canonical: &str) -> &str {
    canonical.split('|').next().unwrap_or(canonical)
}

/// The base R4 element `name` (`value[x]`, `identifier`) of type `t`.
fn base_elem(t: &TypeDef, name: &str, model: &Model) -> Option<BaseElem> {
    let (i, element) = t.elements.iter().enumerate().find(|(_, e)| e.name == name)?;
    let props: Vec<_> = t.properties.iter().filter(|p| usize::from(p.element) == i).collect();
    let ty = match props.as_slice() {
        [one] => match one.ty {
            Ty::Complex(id) => Some(id),
            _ => None,
        },
        _ => None,
    };
    let choice_types = if element.choice {
        props
            .iter()
            .map(|p| {
                let suffix = p.key.strip_prefix(name.trim_end_matches("[x]")).unwrap_or(p.key);
                match p.ty {
                    Ty::Prim(prim) => prim.name().to_owned(),
                    _ => suffix.to_owned(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let required_binding = match element.binding {
        crate::model::Binding::Required(vs) => Some(model.value_set(vs).url),
        _ => None,
    };
    Some(BaseElem {
        min: u32::from(element.required),
        max: if element.many { None } else { Some(1) },
        ty,
        choice_types,
        required_binding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents() {
        assert_eq!(parent_of("Patient.identifier"), Some(("Patient", false)));
        assert_eq!(parent_of("Patient.extension:race"), Some(("Patient.extension", true)));
        assert_eq!(parent_of("Patient.extension:race.url"), Some(("Patient.extension:race", false)));
        assert_eq!(parent_of("Observation.category:a/b"), Some(("Observation.category:a", true)));
        assert_eq!(parent_of("Patient"), None);
    }
}
