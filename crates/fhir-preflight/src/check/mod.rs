//! The rules, one family per file, behind hooks. The walk (`crate::walk`) parses a line against
//! the model and tracks what rules need ([`crate::facts`]); it calls rule code at defined points:
//!
//! | hook | when | facts | rules |
//! |---|---|---|---|
//! | JSON | a token is wrong as JSON | offsets | [`json`] |
//! | shape | a member or value does not fit the model's JSON shape | the element, the token | [`shape`] |
//! | member | a key of a typed object is read, before its value | [`MemberFacts`] | table below |
//! | value | a primitive value is read | [`ValueFacts`] | [`value`]: [`primitive`] (and [`xhtml`], [`datetime`]), [`binding`] |
//! | object | a typed object is read to its end | [`ObjectFacts`] | table below |
//! | resource | a resource that owns its contained resources is read to its end | [`ResourceFacts`] | table below |
//! | line | the line is read | [`LineFacts`] | table below |
//! | file | a file is read to its end | framing and sniffing | [`file`] |
//!
//! The member, object, resource and line hooks run the rows of [`RULES`] that apply to the type,
//! in table order (so diagnostics come in a stable order). A row says which types it looks at and
//! which elements' values it reads: the walk keeps those values for it. [`Rules`] is the table
//! compiled for one model: per type, the member and object rules and what to capture. Adding a
//! rule is one file here and one row in [`RULES`] (see the README's "Adding a rule").
//!
//! The value hook runs on every primitive value — the hottest path — so its rules are called
//! directly from [`value`], not through the table.
//!
//! May import: `facts`, `model`, `json` (the scanner, for look-ahead), `diagnostic`. Not `walk`.

pub(crate) mod attachment;
pub(crate) mod binding;
pub(crate) mod bundle;
pub(crate) mod cardinality;
pub(crate) mod contained;
pub(crate) mod content;
pub(crate) mod datetime;
pub(crate) mod extension;
pub(crate) mod extension_context;
pub(crate) mod file;
pub(crate) mod invariant;
pub(crate) mod json;
pub(crate) mod primitive;
pub(crate) mod profile;
pub(crate) mod reference;
pub(crate) mod resource_id;
pub(crate) mod resource_type;
pub(crate) mod shape;
pub(crate) mod system;
pub(crate) mod xhtml;

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::diagnostic::Findings;
use crate::facts::{LineFacts, MemberFacts, ObjectFacts, ResourceFacts, ValueFacts};
use crate::fhirpath::mask::KeepBits;
use crate::model::{Model, Ty, TypeDef, TypeId, TypeKind};

/// A member rule's body.
pub(crate) type MemberRule = fn(&MemberFacts<'_, '_>, &mut Findings);
/// An object rule's body.
pub(crate) type ObjectRule = fn(&ObjectFacts<'_, '_>, &mut Findings);
/// A resource rule's body.
pub(crate) type ResourceRule = fn(&ResourceFacts<'_>, &mut Findings);
/// A line rule's body (the line's text, what the walk found at its root).
pub(crate) type LineRule = fn(&str, &LineFacts, &mut Findings);

/// When a rule runs, and its body.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Hook {
    /// A key of an object of the rule's types was read, naming one of the rule's `reads` elements.
    Member(MemberRule),
    /// An object of the rule's types was read to its end.
    Object(ObjectRule),
    /// A resource that owns its contained resources (the line's, or one in a Bundle entry) was read to its end.
    Resource(ResourceRule),
    /// The line was read.
    Line(LineRule),
}

/// Which types a rule looks at.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Types {
    /// Every resource, datatype and backbone element.
    All,
    /// Every resource type.
    Resources,
    /// These types (by name), and the types layered over them.
    Only(&'static [&'static str]),
    /// The types for which this is true (a rule that can only fire on some types: elements with
    /// min 1, primitive arrays), so that the others never call it.
    Where(fn(&TypeDef) -> bool),
}

/// One row of the rule table.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The rule's name (its family is its file), for messages about the table itself.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the table's tests"))]
    pub(crate) name: &'static str,
    pub(crate) types: Types,
    /// Member rules: the elements whose keys trigger it. Object rules: the elements whose values it
    /// reads (checked against the model by a test; the walk keeps every member of every object,
    /// which the FHIRPath engine reads too).
    pub(crate) reads: &'static [&'static str],
    /// The elements whose objects (and arrays) the walk keeps whole for the rule, which reads
    /// them through FHIRPath nodes (`facts::MemberIndex`); other objects are scanned if read.
    pub(crate) keeps: Keeps,
    /// Whether the rule reads more than the object it is given (its path, the walk's context, the
    /// enclosing resource): the walk remembers only objects whose rules do not (`walk/memo.rs`).
    /// A path or context read only to word a finding does not count (a remembered object has none).
    pub(crate) context: Context,
    pub(crate) hook: Hook,
}

/// Whether a rule reads more than its object (`Rule::context`). The object's holder element and
/// the walk's context bits (contained, transaction, kept) are part of the memo's key: reading
/// them does not count.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Context {
    No,
    Yes,
}

/// What a rule reads through FHIRPath nodes, below the object it is given.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Keeps {
    Nothing,
    /// These elements of the rule's types.
    Elements(&'static [&'static str]),
    /// Per type, the elements: what the constraints' paths read.
    Computed(fn(&Model, TypeId) -> KeepBits),
}

/// `Rule::reads` of a rule that reads every element of the object.
pub(crate) const READS_ALL: &[&str] = &["*"];

/// Every rule run through a hook, in the order they run.
pub(crate) static RULES: &[Rule] = &[
    // Member rules, as keys are read.
    Rule {
        name: "dom-2",
        types: Types::Resources,
        reads: &["contained"],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Member(contained::dom2),
    },
    Rule {
        name: "resource/id-extension",
        types: Types::Resources,
        reads: &["id"],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Member(resource_id::extension),
    },
    Rule {
        name: "dom-4, dom-5",
        types: Types::Only(&["Meta"]),
        reads: &["versionId", "lastUpdated", "security"],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Member(contained::dom4_dom5),
    },
    // Object rules, at the end of each object.
    Rule {
        name: "cardinality/min",
        types: Types::Where(has_required),
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::No,
        hook: Hook::Object(cardinality::min),
    },
    Rule {
        name: "extension url, ext-1",
        types: Types::Only(&["Extension"]),
        reads: &["url"],
        keeps: Keeps::Nothing,
        context: Context::No,
        hook: Hook::Object(extension::check),
    },
    Rule {
        name: "extension context (definitions in the packages)",
        types: Types::Only(&["Extension"]),
        reads: &["url"],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Object(extension_context::check),
    },
    Rule {
        name: "contained id",
        types: Types::Resources,
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Object(contained::id_required),
    },
    Rule {
        name: "json/null-in-both",
        types: Types::Where(has_primitive_arrays),
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::No,
        hook: Hook::Object(shape::null_in_both),
    },
    Rule {
        name: "Reference",
        types: Types::Only(&["Reference"]),
        reads: &["reference", "type"],
        keeps: Keeps::Nothing,
        // The holder (its targets) and whether the walk is in a transaction are part of the
        // memo's key.
        context: Context::No,
        hook: Hook::Object(reference::check),
    },
    Rule {
        name: "binding/required (codings)",
        types: Types::Only(&["CodeableConcept", "Coding"]),
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::No,
        hook: Hook::Object(binding::codings),
    },
    Rule {
        name: "system/not-absolute",
        types: Types::Only(&["Coding", "Identifier", "Quantity"]),
        reads: &["system"],
        keeps: Keeps::Nothing,
        context: Context::No,
        hook: Hook::Object(system::absolute),
    },
    Rule {
        name: "ele-1 (an element with only an id)",
        types: Types::Where(shape::has_element_id),
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::No,
        hook: Hook::Object(shape::id_only),
    },
    Rule {
        name: "attachment/size-mismatch",
        types: Types::Only(&["Attachment"]),
        reads: &["data", "size"],
        keeps: Keeps::Nothing,
        context: Context::No,
        hook: Hook::Object(attachment::size),
    },
    Rule {
        name: "Bundle rules (documents, messages, fullUrl, links)",
        types: Types::Only(&["Bundle"]),
        reads: &[],
        keeps: Keeps::Elements(&["entry", "link"]),
        context: Context::Yes,
        hook: Hook::Object(bundle::check),
    },
    Rule {
        name: "invariants (FHIRPath constraints of the definitions)",
        types: Types::Where(invariant::has_constraints),
        reads: READS_ALL,
        keeps: Keeps::Computed(invariant::keeps),
        // What a constraint reads outside its object (`%resource`, `%rootResource`, the
        // contained resources) is noted as it is read (`MemberIndex::noted_context`).
        context: Context::No,
        hook: Hook::Object(invariant::check),
    },
    Rule {
        name: "profiles (meta.profile)",
        types: Types::Resources,
        reads: &["meta"],
        keeps: Keeps::Computed(profile::keeps),
        context: Context::Yes,
        hook: Hook::Object(profile::check),
    },
    // Resource rules, at the end of each resource that owns its contained resources.
    Rule {
        name: "dom-3, local references",
        types: Types::Resources,
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Resource(contained::local_references),
    },
    // Line rules.
    Rule {
        name: "resourceType",
        types: Types::All,
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Line(resource_type::check),
    },
    Rule {
        name: "id",
        types: Types::All,
        reads: &[],
        keeps: Keeps::Nothing,
        context: Context::Yes,
        hook: Hook::Line(resource_id::check),
    },
];

/// Types with an element of min 1.
fn has_required(t: &TypeDef) -> bool {
    t.required != 0
}

/// Types with a repeating primitive element (where `null` may fill an array).
fn has_primitive_arrays(t: &TypeDef) -> bool {
    t.properties.iter().any(|p| matches!(p.ty, Ty::Prim(_)) && t.elements[usize::from(p.element)].many)
}

impl Types {
    /// Does a rule for these types look at type `id` of `model`?
    fn include(self, model: &Model, id: TypeId) -> bool {
        let def = model.ty(id);
        match self {
            Types::All => true,
            Types::Resources => def.kind == TypeKind::Resource,
            Types::Only(names) => names.contains(&model.ty(model.base_of(id)).name),
            Types::Where(test) => test(def),
        }
    }
}

/// The rules of one type, compiled from [`RULES`].
#[derive(Debug, Default)]
pub(crate) struct TypeRules {
    /// Bit `i`: a key naming `elements[i]` triggers member rules.
    pub(crate) member_mask: u64,
    /// Each member rule with the elements that trigger it.
    pub(crate) member: Vec<(u64, MemberRule)>,
    /// What the walk keeps of the objects of `elements[i]` (bit `i`): always, or when it keeps
    /// this object.
    pub(crate) keep: KeepBits,
    pub(crate) object: Vec<ObjectRule>,
    /// No rule of the type reads more than the object (`Rule::context`), and it is not a
    /// resource: the walk may remember its objects (`walk/memo.rs`).
    pub(crate) context_free: bool,
    /// Bit `i` (of `properties[i]`): a single primitive of an element that is not a choice,
    /// triggers no member rule and is neither a Reference's `reference` nor a resource's `id` —
    /// the most common member, which the walk reads with nothing else.
    pub(crate) plain: [u64; 4],
}

impl TypeRules {
    /// Is `properties[i]` read with nothing else (see [`TypeRules::plain`])?
    #[inline]
    pub(crate) fn is_plain(&self, i: u8) -> bool {
        self.plain[usize::from(i) / 64] & 1 << (i % 64) != 0
    }

    /// [`TypeRules::plain`] of type `def` with these member rules.
    fn plain_of(model: &Model, id: TypeId, def: &crate::model::TypeDef, member_mask: u64) -> [u64; 4] {
        use crate::model::Role;
        let mut plain = [0u64; 4];
        let reference = model.base_of(id) == crate::model::r4::ids::REFERENCE;
        let resource = def.kind == TypeKind::Resource;
        for (i, p) in def.properties.iter().enumerate() {
            let e = &def.elements[usize::from(p.element)];
            let simple = matches!(p.ty, crate::model::Ty::Prim(_)) && !e.many && !e.choice;
            // (A resource's `meta` and `contained` are not primitives.)
            let watched = member_mask & 1 << p.element != 0
                || (reference && e.role == Role::Reference)
                || (resource && e.role == Role::Id);
            if simple && !watched {
                plain[i / 64] |= 1 << (i % 64);
            }
        }
        plain
    }
}

/// [`RULES`] compiled for a model: per type, what to call.
#[derive(Debug)]
pub(crate) struct Rules {
    types: Vec<TypeRules>,
    pub(crate) resource: Vec<ResourceRule>,
    pub(crate) line: Vec<LineRule>,
}

impl Rules {
    /// The rules for base R4.
    pub(crate) fn r4() -> &'static Rules {
        static R4: OnceLock<Rules> = OnceLock::new();
        R4.get_or_init(|| Rules::compile(Model::r4(), RULES))
    }

    pub(crate) fn compile(model: &Model, rules: &[Rule]) -> Rules {
        let mut compiled = Rules { types: Vec::new(), resource: Vec::new(), line: Vec::new() };
        for id in model.type_ids() {
            let mut t = TypeRules::default();
            let def = model.ty(id);
            t.context_free = def.kind != TypeKind::Resource;
            for rule in rules {
                // What a rule reads below its objects is kept on the types on the way, which
                // need not be the rule's own.
                if let Keeps::Computed(f) = rule.keeps {
                    let bits = f(model, id);
                    t.keep.always |= bits.always;
                    t.keep.if_kept |= bits.if_kept;
                }
                if !rule.types.include(model, id) {
                    continue;
                }
                // (Resource and line rules run on no object.)
                if matches!(rule.hook, Hook::Member(_) | Hook::Object(_)) {
                    t.context_free &= matches!(rule.context, Context::No);
                }
                if let Keeps::Elements(names) = rule.keeps {
                    t.keep.always |= def
                        .elements
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| names.contains(&e.name))
                        .fold(0u64, |m, (i, _)| m | 1 << i);
                }
                let mask = def
                    .elements
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| rule.reads == READS_ALL || rule.reads.contains(&e.name))
                    .fold(0u64, |m, (i, _)| m | 1 << i);
                match rule.hook {
                    Hook::Member(f) => {
                        t.member_mask |= mask;
                        t.member.push((mask, f));
                    }
                    Hook::Object(f) => t.object.push(f),
                    Hook::Resource(_) | Hook::Line(_) => {}
                }
            }
            t.plain = TypeRules::plain_of(model, id, def, t.member_mask);
            compiled.types.push(t);
        }
        for rule in rules {
            match rule.hook {
                Hook::Resource(f) => compiled.resource.push(f),
                Hook::Line(f) => compiled.line.push(f),
                Hook::Member(_) | Hook::Object(_) => {}
            }
        }
        compiled
    }

    /// The rules of type `id`.
    #[inline]
    pub(crate) fn of(&self, id: TypeId) -> &TypeRules {
        &self.types[usize::from(id)]
    }
}

/// `Type.member` (`Patient.id`), or `member` when the type is unknown: a path of FHIR names only.
pub(crate) fn member_path(root: &str, member: &str) -> crate::diagnostic::Message {
    crate::diagnostic::Message::plain(if root.is_empty() { member.to_owned() } else { format!("{root}.{member}") })
}

/// The value hook: the rules of one primitive value. Returns the value's text when it is a
/// well-kinded string (the walk tracks `#id` references with it).
#[inline]
pub(crate) fn value<'a>(f: &mut Findings, v: &ValueFacts<'_, 'a>) -> Option<Cow<'a, str>> {
    let text = primitive::check(f, v)?;
    binding::check(f, v, &text);
    content::check(f, v, &text);
    Some(text)
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::diagnostic::{Code, Findings};

    /// Codes reported for one line by the walk and its rules (errors and warnings: information,
    /// such as best-practice constraints, aside).
    pub(crate) fn codes(line: &str) -> Vec<Code> {
        let mut findings = Findings::new(100);
        crate::walk::test_support::walk(line, &mut findings);
        findings
            .finish(1, 0, line.as_bytes())
            .into_iter()
            .filter(|d| d.severity() > crate::diagnostic::Severity::Information)
            .map(|d| d.code())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_applies_somewhere_and_reads_real_elements() {
        let model = Model::r4();
        for rule in RULES {
            let types: Vec<TypeId> = model.type_ids().filter(|&id| rule.types.include(model, id)).collect();
            assert!(!types.is_empty(), "{} applies to no type", rule.name);
            for name in rule.reads.iter().filter(|_| rule.reads != READS_ALL) {
                assert!(
                    types.iter().any(|&id| model.ty(id).elements.iter().any(|e| e.name == *name)),
                    "{} reads {name}, which none of its types has",
                    rule.name
                );
            }
        }
    }
}
