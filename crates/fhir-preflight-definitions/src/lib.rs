//! # fhir-preflight-definitions
//!
//! Reads HL7 FHIR StructureDefinitions (their snapshots) and value-set expansions into an
//! in-memory model: every concrete resource, complex datatype and backbone element as a type, with
//! its elements (cardinality, required binding, Reference targets) and its JSON properties (one per
//! element, or one per type of a choice element: `value[x]` → `valueString`, `valueQuantity`, …;
//! `contentReference` resolved), and the value sets of required bindings with their codes.
//!
//! Two users: the code generator (`codegen/`), which emits the core's static R4 tables from this
//! model, and — for packages loaded at run time (profiles) — the core itself. It depends on
//! `serde_json` only, and knows nothing of Rust code or of the core.
//!
//! ```
//! let types = serde_json::json!({"resourceType": "Bundle", "entry": []});
//! let resources = serde_json::json!({"resourceType": "Bundle", "entry": [{"resource": {
//!     "resourceType": "StructureDefinition", "id": "Basic", "type": "Basic", "kind": "resource",
//!     "abstract": false, "derivation": "specialization",
//!     "snapshot": {"element": [
//!         {"path": "Basic"},
//!         {"path": "Basic.id", "min": 0, "max": "1", "type": [{"code": "id"}]},
//!         {"path": "Basic.code", "min": 1, "max": "1", "type": [{"code": "string"}]}
//!     ]}}}]});
//! let expansions = serde_json::json!({"resourceType": "Bundle", "entry": []});
//! let defs = fhir_preflight_definitions::read(&resources, &types, &expansions, None)?;
//! let basic = &defs.types[0];
//! assert_eq!((basic.name.as_str(), basic.elements[1].name.as_str(), basic.elements[1].required), ("Basic", "code", true));
//! # Ok::<(), String>(())
//! ```

mod read;

pub use read::read;

/// What a type is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A complex datatype (`HumanName`), or `Element` itself (for primitive extensions).
    Datatype,
    /// A concrete resource (`Patient`).
    Resource,
    /// A backbone element, named by its path (`Patient.contact`).
    Backbone,
}

/// The type of a JSON property's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// A primitive type, by its FHIR name (`code`, `dateTime`).
    Primitive(String),
    /// A complex datatype or backbone element: an index into [`Definitions::types`].
    Complex(usize),
    /// Any resource (`contained`, `Bundle.entry.resource`): the value's own `resourceType` decides.
    Resource,
}

/// One element of a type (`Patient.gender`, `Observation.value[x]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// The name in paths: `gender`, `value[x]`.
    pub name: String,
    /// `min` ≥ 1.
    pub required: bool,
    /// `max` = `*` (the JSON value is an array).
    pub many: bool,
    /// The value set of a required binding (its canonical URL, without version).
    pub required_binding: Option<String>,
    /// For Reference elements: the allowed target types by name (empty: any).
    pub targets: Vec<String>,
}

/// One JSON property name allowed in a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    /// The JSON key (`valueQuantity`).
    pub key: String,
    /// Index into the type's [`TypeDef::elements`].
    pub element: usize,
    pub value: ValueType,
}

/// A resource, complex datatype or backbone element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeDef {
    pub name: String,
    pub kind: Kind,
    pub elements: Vec<Element>,
    pub properties: Vec<Property>,
}

/// How a value set of a required binding can be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueSetKind {
    /// The expansion lists every code.
    Enumerated,
    /// BCP-13 media types: a grammar, checked by shape.
    MimeTypes,
    /// UCUM: a grammar.
    Ucum,
}

/// A value set that is the target of a required binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSet {
    pub url: String,
    pub kind: ValueSetKind,
    /// `(code, system)`, sorted.
    pub codes: Vec<(String, String)>,
}

/// Everything read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Definitions {
    /// Datatypes (by name), then resources (by name), then backbone elements (in definition
    /// order); a type's index is its id.
    pub types: Vec<TypeDef>,
    /// The value sets of required bindings that can be checked offline, sorted by URL.
    pub value_sets: Vec<ValueSet>,
}

impl Definitions {
    /// The index of the type named `name`.
    pub fn type_index(&self, name: &str) -> Option<usize> {
        self.types.iter().position(|t| t.name == name)
    }
}
