//! FHIR R4 (4.0.1) knowledge: the tables generated from HL7's definitions (`generated.rs`, by
//! `cargo codegen`) in the shapes of `../types.rs`. R4B and R5 will sit beside this module,
//! generated the same way from `hl7.fhir.r4b.core` / `hl7.fhir.r5.core`.

#[rustfmt::skip]
mod generated;
pub(crate) use generated::{ids, CONSTRAINTS, RESOURCES, TYPES, VALUE_SETS};

/// The 146 concrete resource types of FHIR R4 4.0.1, sorted byte-wise (from the generated tables).
///
/// ```
/// assert_eq!(fhir_preflight::resource_types().len(), 146);
/// assert_eq!(fhir_preflight::resource_types().next(), Some("Account"));
/// ```
pub fn resource_types() -> impl ExactSizeIterator<Item = &'static str> {
    RESOURCES.iter().map(|(name, _)| *name)
}

/// The type id of a resource type (a generated `match`).
pub(crate) fn resource_type_id(name: &[u8]) -> Option<u16> {
    generated::resource_type_id(name)
}

/// Is `name` an R4 resource type? (A generated `match`.)
///
/// ```
/// assert!(fhir_preflight::is_resource_type("Patient"));
/// assert!(!fhir_preflight::is_resource_type("patient"));
/// ```
pub fn is_resource_type(name: &str) -> bool {
    resource_type_id(name.as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique() {
        let names: Vec<_> = resource_types().collect();
        assert_eq!(names.len(), 146);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.iter().all(|n| n.bytes().all(|b| b.is_ascii_alphabetic())));
        for (name, id) in RESOURCES.iter() {
            assert_eq!(TYPES[*id as usize].name, *name);
        }
    }

    #[test]
    fn lookups_match_properties() {
        for t in TYPES.iter() {
            for (i, p) in t.properties.iter().enumerate() {
                assert_eq!((t.lookup)(p.key.as_bytes()), Some(i as u8), "{}.{}", t.name, p.key);
                assert!((p.element as usize) < t.elements.len());
            }
            assert_eq!((t.lookup)(b"noSuchProperty"), None);
        }
        let patient = &TYPES[ids::PATIENT as usize];
        let gender = (patient.lookup)(b"gender").map(|i| &patient.properties[i as usize]).unwrap();
        assert_eq!(gender.ty, crate::model::Ty::Prim(crate::model::Prim::Code));
        let element = &patient.elements[gender.element as usize];
        assert!(matches!(element.binding, crate::model::Binding::Required(_)));
        assert!((patient.lookup)(b"deceasedBoolean").is_some());
        assert!((patient.lookup)(b"deceasedDateTime").is_some());
        assert!((patient.lookup)(b"deceased").is_none());
    }

    #[test]
    fn lookup() {
        assert!(is_resource_type("Patient"));
        assert!(is_resource_type("VisionPrescription"));
        assert!(is_resource_type("Account"));
        assert!(!is_resource_type("patient"));
        assert!(!is_resource_type("Resource"));
        assert!(!is_resource_type("DomainResource"));
        assert!(!is_resource_type("MedicinalProductDefinition")); // R5 only
    }
}
