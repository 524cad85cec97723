//! The schema as a value: every lookup the walk and the rules make — types, their elements and
//! JSON properties, resource type names, bindings, value-set membership — goes through a
//! [`Model`]. Base R4 is the generated, static one ([`Model::r4`]); a profile will be a type layered
//! over its base type at run time ([`Model::with_overlay`]): the same JSON properties (its own
//! lookup or the base's), its own elements (narrowed cardinality, bindings, …), and the base type's
//! id as its [`TypeDef::base`] so that rules written for the base type apply to it.
//!
//! May import: `diagnostic` (nothing else of the crate).

pub(crate) mod r4;
pub(crate) mod types;
pub mod view;

use std::collections::HashSet;
use std::sync::OnceLock;

pub(crate) use types::{
    Binding, Constraint, Element, Prim, Property, Role, Ty, TypeDef, TypeKind, ValueSet, ValueSetKind, ON_OBJECT,
};

/// A type's id: an index into the model's types (base types first, then overlays).
pub(crate) type TypeId = u16;

/// Types, properties, bindings and value sets, by id.
#[derive(Debug)]
pub(crate) struct Model {
    /// The generated types; their ids are their indexes.
    base: &'static [TypeDef],
    /// Types layered over a base type at run time (profiles); ids follow the base types'.
    overlays: Vec<&'static TypeDef>,
    value_sets: &'static [ValueSet],
    /// The constraints (invariants) types refer to by index.
    constraints: &'static [Constraint],
    resource_type_id: fn(&[u8]) -> Option<u16>,
    /// Every JSON property name of the base types (for `--redact`), built on first use.
    names: OnceLock<HashSet<&'static str, Fnv>>,
}

/// FNV-1a for the short property names (every path segment rendered is looked up: SipHash's
/// protection against chosen keys is not needed for a fixed set of names).
#[derive(Debug, Default, Clone, Copy)]
struct Fnv;

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

impl Model {
    /// Base FHIR R4 (4.0.1), from the generated tables.
    pub(crate) fn r4() -> &'static Model {
        static R4: OnceLock<Model> = OnceLock::new();
        R4.get_or_init(|| Model {
            base: &r4::TYPES,
            overlays: Vec::new(),
            value_sets: &r4::VALUE_SETS,
            constraints: &r4::CONSTRAINTS,
            resource_type_id: r4::resource_type_id,
            names: OnceLock::new(),
        })
    }

    /// This model with `overlay` layered over its base type (`overlay.base`); returns the
    /// overlay's id. The type lives as long as the process (models are made once per run).
    #[cfg(test)]
    pub(crate) fn with_overlay(base: &Model, overlay: TypeDef) -> (Model, TypeId) {
        let mut model = Model {
            base: base.base,
            overlays: base.overlays.clone(),
            value_sets: base.value_sets,
            constraints: base.constraints,
            resource_type_id: base.resource_type_id,
            names: OnceLock::new(),
        };
        model.overlays.push(Box::leak(Box::new(overlay)));
        let id = (model.base.len() + model.overlays.len() - 1) as TypeId;
        (model, id)
    }

    /// The type with id `id`.
    #[inline]
    pub(crate) fn ty(&self, id: TypeId) -> &'static TypeDef {
        match self.base.get(usize::from(id)) {
            Some(t) => t,
            None => self.overlays[usize::from(id) - self.base.len()],
        }
    }

    /// Every type id.
    pub(crate) fn type_ids(&self) -> impl Iterator<Item = TypeId> {
        0..(self.base.len() + self.overlays.len()) as TypeId
    }

    /// The base type of `id` (itself for a base type): what rules written for a type look at.
    #[inline]
    pub(crate) fn base_of(&self, id: TypeId) -> TypeId {
        self.ty(id).base.unwrap_or(id)
    }

    /// The property `key` of type `id`: its index in the type's properties. (The walk, which has
    /// the type in hand, calls its lookup directly.)
    #[cfg(test)]
    pub(crate) fn property(&self, id: TypeId, key: &[u8]) -> Option<u8> {
        (self.ty(id).lookup)(key)
    }

    /// The type id of a resource type name (`Patient`), if it is one.
    #[inline]
    pub(crate) fn resource_type(&self, name: &str) -> Option<TypeId> {
        (self.resource_type_id)(name.as_bytes())
    }

    /// Every value set of a required binding.
    pub(crate) fn value_sets(&self) -> &'static [ValueSet] {
        self.value_sets
    }

    /// The value set of a required binding.
    #[inline]
    pub(crate) fn value_set(&self, index: u16) -> &'static ValueSet {
        &self.value_sets[usize::from(index)]
    }

    /// Every constraint (invariant) of the model; types refer to them by index.
    pub(crate) fn constraints(&self) -> &'static [Constraint] {
        self.constraints
    }

    /// Is `code` in the value set: the index in its `codes` of the code's first `(code, system)`.
    #[inline]
    pub(crate) fn member(&self, value_set: &ValueSet, code: &str) -> Option<u16> {
        (value_set.member)(code.as_bytes())
    }

    /// Is `key` a JSON property name that the model defines somewhere (`gender`, `_birthDate`,
    /// `resourceType`)? Only such names are shown in paths under `--redact`.
    pub(crate) fn is_property_name(&self, key: &str) -> bool {
        let names =
            self.names.get_or_init(|| self.base.iter().flat_map(|t| t.properties.iter().map(|p| p.key)).collect());
        key == "resourceType" || names.contains(key) || key.strip_prefix('_').is_some_and(|k| names.contains(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_go_through_the_model() {
        let m = Model::r4();
        let patient = m.resource_type("Patient").unwrap();
        assert_eq!(m.ty(patient).name, "Patient");
        assert_eq!(m.base_of(patient), patient);
        let gender = m.property(patient, b"gender").unwrap();
        let element = &m.ty(patient).elements[m.ty(patient).properties[gender as usize].element as usize];
        let Binding::Required(vs) = element.binding else { panic!("gender is bound") };
        assert!(m.member(m.value_set(vs), "female").is_some());
        assert!(m.member(m.value_set(vs), "F").is_none());
        assert!(m.is_property_name("_birthDate") && !m.is_property_name("John Smith"));
        assert_eq!(m.type_ids().count(), r4::TYPES.len());
    }

    #[test]
    fn an_overlay_is_a_type_over_its_base() {
        let base = Model::r4();
        let patient = base.resource_type("Patient").unwrap();
        let t = base.ty(patient);
        let elements: Vec<Element> = t.elements.to_vec();
        let overlay = TypeDef { base: Some(patient), elements: Box::leak(elements.into_boxed_slice()), ..*t };
        let (model, id) = Model::with_overlay(base, overlay);
        assert_eq!(model.base_of(id), patient);
        assert_eq!(model.property(id, b"gender"), base.property(patient, b"gender"));
        assert_eq!(model.ty(id).name, "Patient");
    }
}
