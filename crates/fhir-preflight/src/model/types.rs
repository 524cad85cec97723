//! The shapes of the model's tables (the generated R4 ones in `r4/generated.rs`), hand-written. A type is a list of
//! elements (name, cardinality, binding) and of JSON properties (one per element, or one per type
//! of a choice element: `value[x]` → `valueString`, `valueQuantity`, …), with a generated `match`
//! from property name to property for lookups without hashing.

/// The 20 primitive types of FHIR R4 (with xhtml).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Prim {
    Base64Binary,
    Boolean,
    Canonical,
    Code,
    Date,
    DateTime,
    Decimal,
    Id,
    Instant,
    Integer,
    Markdown,
    Oid,
    PositiveInt,
    String,
    Time,
    UnsignedInt,
    Uri,
    Url,
    Uuid,
    Xhtml,
}

impl Prim {
    /// The FHIR type name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Prim::Base64Binary => "base64Binary",
            Prim::Boolean => "boolean",
            Prim::Canonical => "canonical",
            Prim::Code => "code",
            Prim::Date => "date",
            Prim::DateTime => "dateTime",
            Prim::Decimal => "decimal",
            Prim::Id => "id",
            Prim::Instant => "instant",
            Prim::Integer => "integer",
            Prim::Markdown => "markdown",
            Prim::Oid => "oid",
            Prim::PositiveInt => "positiveInt",
            Prim::String => "string",
            Prim::Time => "time",
            Prim::UnsignedInt => "unsignedInt",
            Prim::Uri => "uri",
            Prim::Url => "url",
            Prim::Uuid => "uuid",
            Prim::Xhtml => "xhtml",
        }
    }
}

/// The type of a JSON property's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Prim(Prim),
    /// A complex datatype or backbone element: an index into `TYPES`.
    Complex(u16),
    /// Any resource (`contained`, `Bundle.entry.resource`, …): the value's own `resourceType` decides.
    Resource,
}

/// How an element is bound to a value set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    None,
    /// Required binding to `VALUE_SETS[i]`.
    Required(u16),
    /// Required binding to a value set with no usable expansion (checked nowhere; URL for messages).
    Unchecked(&'static str),
}

/// Element names that checks single out, so that they compare an enum, not strings, per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Other,
    Id,
    Contained,
    Meta,
    Reference,
    Type,
    Extension,
    Profile,
    VersionId,
    LastUpdated,
    Security,
    Url,
    /// `value[x]`.
    Value,
}

/// One element of a type (`Patient.gender`, `Observation.value[x]`).
#[derive(Clone, Debug)]
pub(crate) struct Element {
    /// The name in paths: `gender`, `value[x]`.
    pub(crate) name: &'static str,
    pub(crate) role: Role,
    /// A choice element (`value[x]`).
    pub(crate) choice: bool,
    /// `min` = 1.
    pub(crate) required: bool,
    /// `max` = `*` (the JSON value is an array).
    pub(crate) many: bool,
    pub(crate) binding: Binding,
    /// For Reference elements: the allowed target resource types (indexes into `TYPES`); empty = any.
    #[allow(dead_code, reason = "read by the reference checks (Reference.type), next in issue #3")]
    pub(crate) targets: &'static [u16],
}

impl Element {
    pub(crate) fn is_choice(&self) -> bool {
        self.choice
    }
}

/// One JSON property name allowed in a type.
#[derive(Debug)]
pub(crate) struct Property {
    /// The JSON key (`valueQuantity`); the lookup functions encode it too.
    pub(crate) key: &'static str,
    /// Index into the type's `elements`.
    pub(crate) element: u8,
    pub(crate) ty: Ty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Resource,
    Datatype,
    /// A backbone element, named by its path (`Patient.contact`).
    Backbone,
}

/// A resource, complex datatype or backbone element.
#[derive(Debug)]
pub(crate) struct TypeDef {
    pub(crate) name: &'static str,
    pub(crate) kind: TypeKind,
    /// For a type layered over another (a profile): the base type's id. `None` for base types.
    pub(crate) base: Option<u16>,
    /// Bit `i` set: `elements[i]` has min 1. Types have at most 64 elements (the generator checks).
    pub(crate) required: u64,
    pub(crate) elements: &'static [Element],
    /// The constraints that apply: (index into the model's constraints, element index, or
    /// [`ON_OBJECT`] for the object itself).
    pub(crate) constraints: &'static [(u16, u8)],
    pub(crate) properties: &'static [Property],
    /// Property name → index into `properties`.
    pub(crate) lookup: fn(&[u8]) -> Option<u8>,
}

/// In [`TypeDef::constraints`]: the constraint is on the object itself, not on an element.
pub(crate) const ON_OBJECT: u8 = u8::MAX;

/// A constraint (invariant) of the definitions.
#[derive(Debug)]
pub(crate) struct Constraint {
    pub(crate) key: &'static str,
    /// Severity error (else warning).
    pub(crate) error: bool,
    /// Marked best practice: information unless raised.
    pub(crate) best_practice: bool,
    pub(crate) human: &'static str,
    pub(crate) expression: &'static str,
    /// `StructureDefinition:path` where it is defined.
    pub(crate) defined_in: &'static str,
}

/// How a required value set is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueSetKind {
    /// The expansion lists every code.
    Enumerated,
    /// BCP-13 media types: a grammar, checked by shape.
    MimeTypes,
    /// UCUM: a grammar; not checked (never a false error).
    Ucum,
}

/// A value set that is the target of a required binding.
#[derive(Debug)]
pub(crate) struct ValueSet {
    pub(crate) url: &'static str,
    pub(crate) kind: ValueSetKind,
    /// `(code, system)`, sorted.
    pub(crate) codes: &'static [(&'static str, &'static str)],
    /// The first index in `codes` of a code, by a generated `match` (see `emit_lookup`).
    pub(crate) member: fn(&[u8]) -> Option<u16>,
}
