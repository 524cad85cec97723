//! Required bindings, checked offline from the generated value sets: a `code` (or other string
//! primitive) bound `required` must be one of the value set's codes. Grammars are handled by
//! shape: media types (BCP-13) must look like `type/subtype`; UCUM units are not checked (never a
//! false error). Value sets with no expansion in the package are not checked.
//!
//! Example failing line: `{"resourceType":"Patient","id":"a","gender":"F"}`.

use std::borrow::Cow;

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::{ObjectFacts, Path, ValueFacts};
use crate::json::scan::{Scanner, Token};
use crate::model::r4::ids;
use crate::model::{Binding, ValueSetKind};

/// `type/subtype` with RFC 6838 token characters, parameters allowed after `;`; or one of FHIR's
/// format shorthands `xml`, `json`, `ttl` (CapabilityStatement.format: "xml | json | ttl | mime type",
/// also used by HL7's TestScript examples).
fn is_media_type(text: &str) -> bool {
    if matches!(text, "xml" | "json" | "ttl") {
        return true;
    }
    let essence = text.split(';').next().unwrap_or("").trim();
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    matches!(essence.split_once('/'), Some((t, s)) if token(t) && token(s))
}

/// Value rule: a string primitive (`text`) of an element with a required binding.
#[inline]
pub(crate) fn check(f: &mut Findings, v: &ValueFacts<'_, '_>, text: &str) {
    let Binding::Required(index) = v.element.binding else { return };
    let model = v.line.model;
    let vs = model.value_set(index);
    let ok = match vs.kind {
        ValueSetKind::Enumerated => model.member(vs, text).is_some(),
        ValueSetKind::MimeTypes => is_media_type(text),
        ValueSetKind::Ucum => true,
    };
    if !ok {
        let message = Message::new(
            format!("The value provided ({{}}) is not in the value set {} (required binding)", vs.url),
            [q(text)],
        );
        report(f, message, v.offset, v.path);
    }
}

/// Object rule on CodeableConcept and Coding: under a required binding, at least one coding must be
/// in the value set (same system and code).
pub(crate) fn codings(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let Some(holder) = o.holder else { return };
    let Binding::Required(index) = holder.binding else { return };
    let model = o.line.model;
    let vs = model.value_set(index);
    if vs.kind != ValueSetKind::Enumerated {
        return;
    }
    let codings = codings_of(o.line.text, o.open, model.base_of(o.type_id) == ids::CODEABLE_CONCEPT);
    let in_set = |system: &Option<Cow<'_, str>>, code: &str| {
        let Some(i) = model.member(vs, code) else { return false };
        let mut same_code = vs.codes[usize::from(i)..].iter().take_while(|(c, _)| *c == code);
        same_code.any(|(_, s)| system.as_deref().is_none_or(|sys| sys == *s))
    };
    if codings.iter().any(|(system, code)| code.as_deref().is_some_and(|c| in_set(system, c))) {
        return;
    }
    let message = match codings.iter().find_map(|(_, code)| code.as_deref()) {
        Some(code) => Message::new(
            format!("The code provided ({{}}) is not in the value set {} (required binding)", vs.url),
            [q(code)],
        ),
        None => Message::plain(format!(
            "No code provided, and a code is required from the value set {} (required binding)",
            vs.url
        )),
    };
    report(f, message, o.open, o.path);
}

#[cold]
fn report(f: &mut Findings, message: Message, offset: usize, path: &Path<'_>) {
    f.push(Finding::new(Code::BindingRequired, message).at(offset).on(path.render()));
}

/// A coding's system and code, as found.
type SystemAndCode<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// `(system, code)` of the Coding at `open`, or of each `coding` of the CodeableConcept at `open`
/// (a second, small look-ahead pass, only for elements with a required binding).
fn codings_of(text: &str, open: usize, concept: bool) -> Vec<SystemAndCode<'_>> {
    use crate::json::scan::find_member;
    let line = text.as_bytes();
    let string = |t: Option<Token>| match t {
        Some(Token::String(s)) => Some(s.str_in(text)),
        _ => None,
    };
    let one = |at: usize| (string(find_member(line, at, "system")), string(find_member(line, at, "code")));
    if !concept {
        return vec![one(open)];
    }
    let mut out = Vec::new();
    if let Some(Token::ArrayStart) = find_member(line, open, "coding") {
        // Find the array's position again to walk its items.
        let mut sc = Scanner { bytes: line, pos: open + 1 };
        while let Ok(key) = sc.member_key() {
            if key.raw(line) == b"coding" {
                if sc.peek() == Some(b'[') {
                    sc.pos += 1;
                    loop {
                        if sc.peek() == Some(b'{') {
                            let at = sc.pos;
                            out.push(one(at));
                        }
                        if sc.skip_value().is_err() || sc.peek() != Some(b',') {
                            break;
                        }
                        sc.pos += 1;
                    }
                }
                break;
            }
            if sc.skip_value().is_err() || sc.peek() != Some(b',') {
                break;
            }
            sc.pos += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        for ok in ["xml", "json", "text/plain", "application/fhir+json", "image/svg+xml", "text/plain; charset=utf-8"] {
            assert!(is_media_type(ok), "{ok}");
        }
        for bad in ["text", "text/", "/plain", "text plain", ""] {
            assert!(!is_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn generated_membership_agrees_with_the_code_lists() {
        for vs in crate::model::r4::VALUE_SETS.iter().filter(|vs| vs.kind == ValueSetKind::Enumerated) {
            for (code, _) in vs.codes {
                let first = vs.codes.iter().position(|(c, _)| c == code).unwrap();
                assert_eq!((vs.member)(code.as_bytes()), Some(first as u16), "{} {code}", vs.url);
            }
            for other in ["", "x", "not-a-code-anywhere", "ACTIVE"] {
                assert_eq!((vs.member)(other.as_bytes()).is_some(), vs.codes.iter().any(|(c, _)| *c == other));
            }
        }
    }
}
