//! `resourceType` of the line's resource: present, a string, `[A-Za-z]{1,256}` (HealthLake's rule)
//! and one of the 146 FHIR R4 resource types. It may stand anywhere in the object.
//!
//! Missing, not a string and unknown are *fatal* as in the HL7 validator (the resource cannot be
//! read as any type); a bad shape is an error. Example failing line: `{"resourceType":"Patients","id":"1"}`.

use super::{member_path, push};
use crate::diagnostic::{quote, Code, Severity};
use crate::issues::Issues;
use crate::json::scan::Token;
use crate::json::walk::RootFacts;
use crate::r4;

pub(crate) fn check(line: &[u8], facts: &RootFacts, issues: &mut Issues) {
    let Some(member) = facts.resource_type else {
        if facts.complete {
            missing(issues);
        }
        return;
    };
    let path = || member_path(&facts.path_root, "resourceType");
    let Token::String(s) = member.value else {
        let message = format!("resourceType must be a string, found {}", member.value.kind_name());
        push(issues, Code::ResourceTypeNotString, Severity::Fatal, message, member.value_offset, path());
        return;
    };
    let name = s.text(line);
    if !r4::is_type_name_shaped(name.as_bytes()) {
        let message = format!("resourceType {} does not match [A-Za-z]{{1,256}}", quote(&name));
        push(issues, Code::ResourceTypeInvalid, Severity::Error, message, member.value_offset, path());
    } else if !r4::is_resource_type(&name) {
        let message = format!("{} is not a FHIR R4 resource type (names are case-sensitive)", quote(&name));
        push(issues, Code::ResourceUnknownType, Severity::Fatal, message, member.value_offset, path());
    }
}

#[cold]
fn missing(issues: &mut Issues) {
    let message = "the resource has no resourceType property".to_owned();
    push(issues, Code::ResourceTypeMissing, Severity::Fatal, message, 0, None);
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
}
