//! FHIR R4 (4.0.1) knowledge. For now the list of resource types; the generated structure tables
//! (issue #3) join it here, and R4B/R5 will sit beside this module.

/// The 146 concrete resource types of FHIR R4 4.0.1 (`kind = resource`, not abstract), sorted
/// byte-wise, as listed by `profiles-resources.json` of `hl7.fhir.r4.examples@4.0.1`.
pub const RESOURCE_TYPES: [&str; 146] = [
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// Is `name` an R4 resource type? (Binary search over the sorted list.)
pub fn is_resource_type(name: &str) -> bool {
    RESOURCE_TYPES.binary_search(&name).is_ok()
}

/// Does `name` match HealthLake's `resourceType` pattern `[A-Za-z]{1,256}`?
pub(crate) fn is_type_name_shaped(name: &[u8]) -> bool {
    (1..=256).contains(&name.len()) && name.iter().all(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique() {
        assert!(RESOURCE_TYPES.windows(2).all(|w| w[0] < w[1]));
        assert!(RESOURCE_TYPES.iter().all(|n| is_type_name_shaped(n.as_bytes())));
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

    #[test]
    fn shape() {
        assert!(is_type_name_shaped(b"a"));
        assert!(!is_type_name_shaped(b""));
        assert!(!is_type_name_shaped(b"Pa tient"));
        assert!(!is_type_name_shaped(b"Patient1"));
        assert!(is_type_name_shaped("A".repeat(256).as_bytes()));
        assert!(!is_type_name_shaped("A".repeat(257).as_bytes()));
    }
}
