//! `resourceType` of the line's resource: present, a string, `[A-Za-z]{1,256}` (HealthLake's rule)
//! and one of the 146 FHIR R4 resource types. It may stand anywhere in the object.
//!
//! Missing, not a string and unknown are *fatal* as in the HL7 validator (the resource cannot be
//! read as any type); a bad shape is an error. Example failing line: `{"resourceType":"Patients","id":"1"}`.

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::LineFacts;
use crate::json::scan::Token;

/// Line rule.
pub(crate) fn check(line: &str, facts: &LineFacts, f: &mut Findings) {
    let Some(member) = facts.resource_type else {
        if facts.complete {
            missing(f);
        }
        return;
    };
    let path = || Some(super::member_path(facts.path_root, "resourceType"));
    let Token::String(s) = member.value else {
        let message = format!("resourceType must be a string, found {}", member.value.kind_name());
        f.push(Finding::new(Code::ResourceTypeNotString, message.into()).at(member.value_offset).on(path()));
        return;
    };
    let name = s.str_in(line);
    if !is_type_name_shaped(name.as_bytes()) {
        let message = Message::new("resourceType {} does not match [A-Za-z]{1,256}", [q(name)]);
        f.push(Finding::new(Code::ResourceTypeInvalid, message).at(member.value_offset).on(path()));
    } else if !crate::is_resource_type(&name) {
        let message = Message::new("{} is not a FHIR R4 resource type (names are case-sensitive)", [q(name)]);
        f.push(Finding::new(Code::ResourceUnknownType, message).at(member.value_offset).on(path()));
    }
}

/// Does `name` match HealthLake's `resourceType` pattern `[A-Za-z]{1,256}`?
pub(crate) fn is_type_name_shaped(name: &[u8]) -> bool {
    (1..=256).contains(&name.len()) && name.iter().all(u8::is_ascii_alphabetic)
}

#[cold]
fn missing(f: &mut Findings) {
    f.push(Finding::new(Code::ResourceTypeMissing, "the resource has no resourceType property".into()).at(0));
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::codes;
    use crate::diagnostic::Code;

    #[test]
    fn pass() {
        for line in [
            r#"{"resourceType":"Patient","id":"a"}"#,
            r#"{"id":"a","status":"final","code":{"text":"x"},"resourceType":"Observation"}"#,
            r#"{"id":"a","resourceType":"Account","status":"active"}"#,
            r#"{"id":"a","resourceType":"Pati\u0065nt"}"#,
        ] {
            assert_eq!(codes(line), vec![], "{line}");
        }
    }

    #[test]
    fn fail() {
        let cases = [
            (r#"{"id":"a"}"#, Code::ResourceTypeMissing),
            (r#"{"resourceType":1,"id":"a"}"#, Code::ResourceTypeNotString),
            (r#"{"resourceType":null,"id":"a"}"#, Code::ResourceTypeNotString),
            (r#"{"resourceType":"","id":"a"}"#, Code::ResourceTypeInvalid),
            (r#"{"resourceType":"Pa tient","id":"a"}"#, Code::ResourceTypeInvalid),
            (r#"{"resourceType":"patient","id":"a"}"#, Code::ResourceUnknownType),
            (r#"{"resourceType":"Resource","id":"a"}"#, Code::ResourceUnknownType),
        ];
        for (line, code) in cases {
            assert_eq!(codes(line), vec![code], "{line}");
        }
    }

    #[test]
    fn missing_only_judged_on_a_complete_object() {
        assert_eq!(codes(r#"{"id":"a","#), vec![Code::JsonSyntax]);
    }

    #[test]
    fn shape() {
        assert!(super::is_type_name_shaped(b"a"));
        assert!(!super::is_type_name_shaped(b""));
        assert!(!super::is_type_name_shaped(b"Pa tient"));
        assert!(!super::is_type_name_shaped(b"Patient1"));
        assert!(super::is_type_name_shaped("A".repeat(256).as_bytes()));
        assert!(!super::is_type_name_shaped("A".repeat(257).as_bytes()));
    }
}
