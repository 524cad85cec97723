//! `id` of the line's resource: HealthLake requires it on every line ("Missing required id field in
//! resource json"), as a string matching `[A-Za-z0-9\-\.]{1,64}`. This is HealthLake's rule for the
//! top-level resource only: contained and Bundle-entry resources follow FHIR's own rules.
//!
//! Example failing line: `{"resourceType":"Patient","id":"org_1"}` (underscore).

use super::{member_path, push};
use crate::diagnostic::{quote, Code, Severity};
use crate::issues::Issues;
use crate::json::scan::Token;
use crate::json::walk::RootFacts;

/// Does `id` match `[A-Za-z0-9\-\.]{1,64}`?
pub(crate) fn is_valid_id(id: &[u8]) -> bool {
    (1..=64).contains(&id.len()) && id.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

pub(crate) fn check(line: &[u8], facts: &RootFacts, issues: &mut Issues) {
    let Some(member) = facts.id else {
        if facts.complete {
            missing(issues);
        }
        return;
    };
    let path = || member_path(&facts.path_root, "id");
    let Token::String(s) = member.value else {
        let message = format!("id must be a string, found {}", member.value.kind_name());
        push(issues, Code::ResourceIdNotString, Severity::Error, message, member.value_offset, path());
        return;
    };
    let id = s.text(line);
    if !is_valid_id(id.as_bytes()) {
        let message = if id.len() > 64 {
            format!("id is {} characters long; at most 64 are allowed", id.chars().count())
        } else {
            format!("id {} does not match [A-Za-z0-9\\-\\.]{{1,64}}", quote(&id))
        };
        push(issues, Code::ResourceIdInvalid, Severity::Error, message, member.value_offset, path());
    }
}

#[cold]
fn missing(issues: &mut Issues) {
    let message = "Missing required id field in resource json (HealthLake requires an id on every line)".to_owned();
    push(issues, Code::ResourceIdMissing, Severity::Error, message, 0, None);
}

#[cfg(test)]
mod tests {
    use super::is_valid_id;
    use crate::check::test_support::codes;
    use crate::diagnostic::Code;

    #[test]
    fn pass() {
        for id in ["a", "A-1.b", "0", &"x".repeat(64), "example.with.dots"] {
            assert!(is_valid_id(id.as_bytes()), "{id}");
            let line = format!(r#"{{"resourceType":"Patient","id":"{id}"}}"#);
            assert_eq!(codes(&line), vec![], "{line}");
        }
        // id anywhere in the object, and escaped spelling
        assert_eq!(codes(r#"{"resourceType":"Patient","active":true,"\u0069d":"a"}"#), vec![]);
    }

    #[test]
    fn fail() {
        let cases = [
            (r#"{"resourceType":"Patient"}"#, Code::ResourceIdMissing),
            (r#"{"resourceType":"Patient","id":1}"#, Code::ResourceIdNotString),
            (r#"{"resourceType":"Patient","id":null}"#, Code::ResourceIdNotString),
            (r#"{"resourceType":"Patient","id":""}"#, Code::ResourceIdInvalid),
            (r#"{"resourceType":"Patient","id":"org_1"}"#, Code::ResourceIdInvalid),
            (r#"{"resourceType":"Patient","id":"a b"}"#, Code::ResourceIdInvalid),
            (r#"{"resourceType":"Patient","id":"é"}"#, Code::ResourceIdInvalid),
        ];
        for (line, code) in cases {
            assert_eq!(codes(line), vec![code], "{line}");
        }
        let long = format!(r#"{{"resourceType":"Patient","id":"{}"}}"#, "x".repeat(65));
        assert_eq!(codes(&long), vec![Code::ResourceIdInvalid]);
    }

    #[test]
    fn only_the_top_level_id_counts() {
        // A nested "id" does not satisfy HealthLake's rule; a nested bad id breaks FHIR's id rule
        // (primitive/id), not HealthLake's line rule.
        let got = codes(r#"{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"a_b"}]}"#);
        assert!(got.contains(&Code::ResourceIdMissing), "{got:?}");
        assert!(got.contains(&Code::PrimitiveId), "{got:?}");
        assert!(!got.contains(&Code::ResourceIdInvalid), "{got:?}");
    }
}
