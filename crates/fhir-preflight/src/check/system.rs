//! `Coding.system`, `Identifier.system` and `Quantity.system` must be absolute URIs: a system such
//! as `"loinc.org"` is a local reference, and the HL7 validator rejects it — HealthLake's 2020 build
//! as today's ("Coding.system must be an absolute reference, not a local reference";
//! `Terminology_TX_System_Relative` for Coding and Quantity, `Type_Specific_Checks_DT_Identifier_System`
//! for Identifier; InstanceValidator 5.1.15 L1188, L1405, L1859, L2328).
//!
//! Absolute, as that build's `isAbsolute` (L2953–2960) has it: `http:`, `https:`, any `urn:`
//! (`urn:oid:`, `urn:uuid:`, `urn:ietf:`, …) or `mailto:`. (Later builds narrowed the accepted
//! schemes; anything they reject that this accepts would be a warning, and none is known.) The
//! check applies where the element's type is exactly Coding, Identifier or Quantity (a `Duration`
//! or an `Age` is not checked, as in the HL7 validator).
//!
//! Example failing value: `"coding":[{"system":"loinc.org","code":"1234-5"}]`.

use crate::diagnostic::{Code, Finding, Findings, Message};
use crate::facts::{ObjectFacts, Path};
use crate::model::r4::ids;

/// The schemes of an absolute system.
const SCHEMES: [&str; 4] = ["http:", "https:", "urn:", "mailto:"];

/// Is `uri` absolute, as HL7's 2020 validator decides?
fn is_absolute(uri: &str) -> bool {
    uri.is_empty() || SCHEMES.iter().any(|scheme| uri.starts_with(scheme))
}

/// Object rule on Coding, Identifier and Quantity.
pub(crate) fn absolute(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let Some(at) = o.first_offset("system") else { return };
    // The usual case, on the raw bytes: an absolute scheme right after the opening quote.
    if o.line.bytes.get(at + 1..).is_some_and(|raw| SCHEMES.iter().any(|s| raw.starts_with(s.as_bytes()))) {
        return;
    }
    let Some((system, offset)) = o.string("system") else { return };
    if is_absolute(&system) {
        return;
    }
    let message = if o.line.model.base_of(o.type_id) == ids::IDENTIFIER {
        "Identifier.system must be an absolute reference, not a local reference"
    } else {
        "Coding.system must be an absolute reference, not a local reference"
    };
    let path = Path::Member(o.path, "system").render();
    f.push(Finding::new(Code::SystemNotAbsolute, Message::plain(message)).at(offset).on(path));
}

#[cfg(test)]
mod tests {
    use super::is_absolute;
    use crate::check::test_support::codes;
    use crate::diagnostic::Code;

    #[test]
    fn absolute_as_the_2020_validator_decides() {
        for ok in [
            "http://loinc.org",
            "https://x.org/cs",
            "urn:oid:2.16.840.1",
            "urn:uuid:x",
            "urn:ietf:rfc:3986",
            "mailto:a@b.org",
        ] {
            assert!(is_absolute(ok), "{ok}");
        }
        for bad in ["loinc.org", "LOINC", "ftp://x.org", "oid:1.2.3", "www.example.org", "http//x"] {
            assert!(!is_absolute(bad), "{bad}");
        }
    }

    #[test]
    fn pass_and_fail() {
        let line =
            |value: &str| format!(r#"{{"resourceType":"Observation","id":"o","status":"final","code":{value}}}"#);
        assert_eq!(codes(&line(r#"{"coding":[{"system":"http://loinc.org","code":"1-8"}]}"#)), vec![]);
        assert_eq!(codes(&line(r#"{"coding":[{"system":"loinc.org","code":"1-8"}]}"#)), vec![Code::SystemNotAbsolute]);
        let identifier = r#"{"resourceType":"Patient","id":"p","identifier":[{"system":"hospital","value":"1"}]}"#;
        assert_eq!(codes(identifier), vec![Code::SystemNotAbsolute]);
        let quantity = r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"valueQuantity":{"value":1,"system":"ucum","code":"mg"}}"#;
        assert_eq!(codes(quantity), vec![Code::SystemNotAbsolute]);
        // A Duration is not a Quantity for this rule (nor for the HL7 validator).
        let duration = r#"{"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","medicationCodeableConcept":{"text":"x"},"subject":{"reference":"Patient/p"},"dispenseRequest":{"expectedSupplyDuration":{"value":30,"system":"local"}}}"#;
        assert_eq!(codes(duration), vec![]);
    }
}
