//! # fhir-preflight-definitions
//!
//! Reads HL7 FHIR StructureDefinitions (their snapshots) and value-set expansions into an
//! in-memory model: every concrete resource, complex datatype and backbone element as a type, with
//! its elements (cardinality, required binding, Reference targets) and its JSON properties (one per
//! element, or one per type of a choice element: `value[x]` → `valueString`, `valueQuantity`, …;
//! `contentReference` resolved), and the value sets of required bindings with their codes.
//!
//! Two users: the code generator (`codegen/`), which emits the core's static R4 tables from this
//! model, and — for packages loaded at run time (profiles) — the core itself. [`package`] reads a
//! FHIR package (`.tgz`, its files, or the compact form the core embeds for US Core). It depends
//! on `serde_json` (and `flate2`, `tar` for packages), and knows nothing of Rust code or of the
//! core.
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

pub mod package;
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
    /// The constraints (invariants) that apply here: on every object of the type, or on each item
    /// of one of its elements.
    pub constraints: Vec<ConstraintUse>,
}

/// Where a constraint applies within a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintUse {
    /// The constraint's id: key and defining StructureDefinition, `inv-1@Task` (keys alone are not
    /// unique: `inv-1` is defined by Parameters, Task and TestReport). See [`Constraint::id`].
    pub id: String,
    /// `None`: on the object itself; `Some(i)`: on each item of `elements[i]`.
    pub element: Option<usize>,
}

/// A constraint (invariant) of the definitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// `per-1@Period`: the key and the StructureDefinition that defines it.
    pub id: String,
    /// `per-1`.
    pub key: String,
    /// `error` or `warning`.
    pub severity: String,
    /// HL7's text: "If present, start SHALL have a lower value than end".
    pub human: String,
    /// The FHIRPath expression.
    pub expression: String,
    /// Marked best practice (`elementdefinition-bestpractice`).
    pub best_practice: bool,
    /// The StructureDefinition that defines it (its id), and the element path it is on there.
    pub defined_in: String,
    pub path: String,
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
    /// Every constraint with an expression, sorted by id, whether or not a type here uses it.
    pub constraints: Vec<Constraint>,
}

impl Definitions {
    /// The index of the type named `name`.
    pub fn type_index(&self, name: &str) -> Option<usize> {
        self.types.iter().position(|t| t.name == name)
    }
}
