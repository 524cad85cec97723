//! A read-only view of the generated R4 tables for tools (the defect generator over HL7's
//! examples, fuzz dictionaries). Not a stable API: it follows the tables' shape.

use super::r4::{TYPES, VALUE_SETS};
use super::types::{Binding, Ty, TypeDef, ValueSetKind};

/// The type of a property's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A primitive type, by FHIR name (`date`, `code`, …).
    Primitive(&'static str),
    /// A complex datatype or backbone element, by type name (`HumanName`, `Patient.contact`).
    Complex(&'static str),
    /// Any resource.
    Resource,
}

/// One JSON property a type allows.
#[derive(Clone, Debug)]
pub struct Property {
    /// JSON key (`valueQuantity`).
    pub key: &'static str,
    /// Element name (`value[x]`).
    pub element: &'static str,
    /// The value's type.
    pub kind: Kind,
    /// The element repeats (JSON array).
    pub many: bool,
    /// min = 1.
    pub required: bool,
    /// Codes of a required binding whose value set is enumerated, `(code, system)` sorted.
    pub required_codes: Option<&'static [(&'static str, &'static str)]>,
    /// Allowed Reference target types (empty: any).
    pub targets: Vec<&'static str>,
}

fn type_def(name: &str) -> Option<&'static TypeDef> {
    TYPES.iter().find(|t| t.name == name)
}

fn convert(t: &'static TypeDef, p: &'static super::types::Property) -> Property {
    let e = &t.elements[p.element as usize];
    Property {
        key: p.key,
        element: e.name,
        kind: match p.ty {
            Ty::Prim(prim) => Kind::Primitive(prim.name()),
            Ty::Complex(id) => Kind::Complex(TYPES[id as usize].name),
            Ty::Resource => Kind::Resource,
        },
        many: e.many,
        required: e.required,
        required_codes: match e.binding {
            Binding::Required(i) if VALUE_SETS[i as usize].kind == ValueSetKind::Enumerated => {
                Some(VALUE_SETS[i as usize].codes)
            }
            _ => None,
        },
        targets: e.targets.iter().map(|&id| TYPES[id as usize].name).collect(),
    }
}

/// The property `key` of type `type_name`.
pub fn property(type_name: &str, key: &str) -> Option<Property> {
    let t = type_def(type_name)?;
    let i = (t.lookup)(key.as_bytes())?;
    Some(convert(t, &t.properties[i as usize]))
}

/// Every property of `type_name`, in definition order.
pub fn properties(type_name: &str) -> Vec<Property> {
    type_def(type_name).map(|t| t.properties.iter().map(|p| convert(t, p)).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let gender = property("Patient", "gender").unwrap();
        assert_eq!(gender.kind, Kind::Primitive("code"));
        assert!(gender.required_codes.unwrap().iter().any(|(c, _)| *c == "female"));
        let value = property("Observation", "valueQuantity").unwrap();
        assert_eq!((value.element, value.kind), ("value[x]", Kind::Complex("Quantity")));
        assert_eq!(property("Observation", "status").map(|p| p.required), Some(true));
        let subject = property("Observation", "subject").unwrap();
        assert!(subject.targets.contains(&"Patient"));
        assert_eq!(property("Bundle.entry", "resource").map(|p| p.kind), Some(Kind::Resource));
        assert!(property("Patient", "nope").is_none());
        assert!(properties("HumanName").iter().any(|p| p.key == "given" && p.many));
    }
}
