//! `id` of the line's resource: HealthLake requires it on every line ("Missing required id field in
//! resource json"), as a string matching `[A-Za-z0-9\-\.]{1,64}`. This is HealthLake's rule for the
//! top-level resource only: contained and Bundle-entry resources follow FHIR's own rules.
//!
//! Example failing line: `{"resourceType":"Patient","id":"org_1"}` (underscore).

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::LineFacts;
use crate::json::scan::Token;

/// Does `id` match `[A-Za-z0-9\-\.]{1,64}`?
pub(crate) fn is_valid_id(id: &[u8]) -> bool {
    (1..=64).contains(&id.len()) && id.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Line rule.
pub(crate) fn check(line: &str, facts: &LineFacts, f: &mut Findings) {
    let Some(member) = facts.id else {
        if facts.complete {
            missing(f);
        }
        return;
    };
    let path = || Some(super::member_path(facts.path_root, "id"));
    let Token::String(s) = member.value else {
        let message = format!("id must be a string, found {}", member.value.kind_name());
        f.push(Finding::new(Code::ResourceIdNotString, message.into()).at(member.value_offset).on(path()));
        return;
    };
    let id = s.str_in(line);
    if !is_valid_id(id.as_bytes()) {
        let message = if id.len() > 64 {
            Message::plain(format!("id is {} characters long; at most 64 are allowed", id.chars().count()))
        } else {
            Message::new("id {} does not match [A-Za-z0-9\\-\\.]{1,64}", [q(id)])
        };
        f.push(Finding::new(Code::ResourceIdInvalid, message).at(member.value_offset).on(path()));
    }
}

#[cold]
fn missing(f: &mut Findings) {
    let message = "Missing required id field in resource json (HealthLake requires an id on every line)";
    f.push(Finding::new(Code::ResourceIdMissing, message.into()).at(0));
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

/// Member rule on resources (`id`): extensions on `Resource.id` (`_id`) are an error in HL7
/// validator builds since 6.9.8 (2026-05, `FHIR_RESOURCE_ID_CANT_BE_EXTENDED`); HealthLake's 2020
/// build validates them as any other extension, so this is a warning.
pub(crate) fn extension(m: &crate::facts::MemberFacts<'_, '_>, f: &mut Findings) {
    if m.ext {
        let message = Message::plain(
            "Extensions are not allowed on Resource.id (an error in HL7 validator builds since 6.9.8, 2026-05; HealthLake's 2020 build accepts them)",
        );
        f.push(Finding::new(Code::ResourceIdExtension, message).at(m.key_offset).on(m.path.render()));
    }
}

#[cfg(test)]
mod extension_tests {
    use crate::check::test_support::codes;
    use crate::diagnostic::Code;

    #[test]
    fn extensions_on_the_resource_id() {
        let line =
            r#"{"resourceType":"Patient","id":"p","_id":{"extension":[{"url":"http://x.org/e","valueString":"v"}]}}"#;
        assert!(codes(line).contains(&Code::ResourceIdExtension));
        assert!(!codes(r#"{"resourceType":"Patient","id":"p"}"#).contains(&Code::ResourceIdExtension));
    }
}
