//! Primitive values: the JSON kind each R4 primitive needs (boolean → JSON boolean; integer,
//! positiveInt, unsignedInt, decimal → JSON number; every other type → JSON string), then its
//! lexical rules (R4's regexes and the HL7 validator's extra rules).
//!
//! Severities follow the HL7 validator as HealthLake runs it (2020 build): wrong kind, empty
//! string, bad formats are errors; surrounding whitespace in a string, control characters,
//! whitespace in base64, over-long decimals are warnings. Example failing value: `"birthDate":"2013-04-31"`.

use std::borrow::Cow;

use super::datetime::{self, DateError};
use crate::diagnostic::{m, q, Code, Finding, Findings, Message};
use crate::facts::{Path, ValueFacts};
use crate::json::scan::Token;
use crate::model::Prim;

/// At most 1 MiB of characters in a string (the HL7 validator counts UTF-16 units).
const MAX_STRING_CHARS: usize = 1024 * 1024;

#[cold]
fn push(f: &mut Findings, code: Code, message: impl Into<Message>, offset: usize, path: &Path<'_>) {
    f.push(Finding::new(code, message.into()).at(offset).on(path.render()));
}

/// Value rule: one primitive value; returns its text when it is a well-kinded string (for bindings).
#[inline]
pub(crate) fn check<'a>(f: &mut Findings, v: &ValueFacts<'_, 'a>) -> Option<Cow<'a, str>> {
    let (prim, token, line, offset, path) = (v.prim, v.token, v.line.text, v.offset, v.path);
    let issues = f;
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Boolean,
        Number,
        String,
    }
    let expected = match prim {
        Prim::Boolean => Kind::Boolean,
        Prim::Integer | Prim::PositiveInt | Prim::UnsignedInt | Prim::Decimal => Kind::Number,
        _ => Kind::String,
    };
    match (expected, token) {
        (Kind::String, Token::String(s)) => {
            let text = s.str_in(line);
            string(issues, prim, &text, s.escaped, offset, path);
            Some(text)
        }
        (Kind::Boolean, Token::Bool(_)) => None,
        (Kind::Number, Token::Number(start, end)) => {
            number(issues, prim, line.get(start as usize..end as usize).unwrap_or(""), offset, path);
            None
        }
        _ => {
            let expected = match expected {
                Kind::Boolean => "boolean",
                Kind::Number => "number",
                Kind::String => "string",
            };
            wrong_kind(issues, prim, expected, token, offset, path);
            None
        }
    }
}

#[cold]
fn wrong_kind(issues: &mut Findings, prim: Prim, expected: &str, token: Token, offset: usize, path: &Path<'_>) {
    let message = Message::new(
        format!(
            "Error parsing JSON: the primitive value must be a {expected}, not {} ({{}} is a FHIR {})",
            token.kind_name(),
            prim.name()
        ),
        [m(path.render().unwrap_or_default())],
    );
    push(issues, Code::JsonWrongType, message, offset, path);
}

fn number(issues: &mut Findings, prim: Prim, text: &str, offset: usize, path: &Path<'_>) {
    if prim == Prim::Decimal {
        let digits = text.bytes().take_while(|&b| b != b'e' && b != b'E').filter(u8::is_ascii_digit).count();
        let exponent = text.find(['e', 'E']).map_or(0, |i| text[i + 1..].trim_start_matches(['+', '-']).len());
        if digits > 18 || exponent > 4 {
            let message = Message::new(
                "decimal {} has more precision or range than most systems keep (18 digits, 4-digit exponent)",
                [q(text)],
            );
            push(issues, Code::PrimitiveDecimalRange, message, offset, path);
        }
        return;
    }
    let whole = !text.contains(['.', 'e', 'E']);
    let value = if whole { text.parse::<i64>().ok() } else { None };
    let Some(value) = value.filter(|v| i32::try_from(*v).is_ok()) else {
        let message = Message::new(
            format!("{{}} is not a valid {}: a whole number from -2147483648 to 2147483647", prim.name()),
            [q(text)],
        );
        push(issues, Code::PrimitiveInteger, message, offset, path);
        return;
    };
    let min = match prim {
        Prim::PositiveInt => 1,
        Prim::UnsignedInt => 0,
        _ => i64::from(i32::MIN),
    };
    if value < min {
        let message =
            Message::new(format!("{{}} is not a valid {}: it must be at least {min}", prim.name()), [q(text)]);
        push(issues, Code::PrimitiveIntegerRange, message, offset, path);
    }
}

fn string(issues: &mut Findings, prim: Prim, text: &str, escaped: bool, offset: usize, path: &Path<'_>) {
    if text.is_empty() {
        push(
            issues,
            Code::PrimitiveEmpty,
            "@value cannot be empty (an empty string is not a value in FHIR)".to_owned(),
            offset,
            path,
        );
        return;
    }
    if escaped && text.chars().any(|c| c < ' ' && !matches!(c, '\t' | '\r' | '\n')) {
        let message =
            "the value holds control characters (below U+0020, other than tab, CR, LF), which FHIR does not allow"
                .to_owned();
        push(issues, Code::PrimitiveControlChar, message, offset, path);
    }
    // The 1 MiB limit is the string type's (and its specializations'); xhtml and base64Binary are
    // not strings (a Binary can be 164 MB).
    let limited = !matches!(prim, Prim::Xhtml | Prim::Base64Binary);
    if limited && text.len() > MAX_STRING_CHARS && text.encode_utf16().count() > MAX_STRING_CHARS {
        let message = format!("the value is longer than {MAX_STRING_CHARS} characters");
        push(issues, Code::PrimitiveStringTooLong, message, offset, path);
    }
    // Whitespace as the HL7 validator (Java) sees it: ASCII only (`\\s`, `String.trim`), so a
    // no-break space is content, not whitespace. All of it is ASCII: checked on bytes.
    let bytes = text.as_bytes();
    let edge_space = is_java_space_byte(bytes[0]) || is_java_space_byte(bytes[bytes.len() - 1]);
    match prim {
        Prim::String | Prim::Markdown if edge_space => {
            if bytes.iter().all(|&b| is_java_space_byte(b)) {
                push(issues, Code::PrimitiveWhitespaceOnly, "the value is only whitespace".to_owned(), offset, path);
            } else if prim == Prim::String {
                let message = "the value starts or ends with whitespace".to_owned();
                push(issues, Code::PrimitiveStringWhitespace, message, offset, path);
            }
        }
        Prim::String | Prim::Markdown => {}
        Prim::Code => {
            // Leading or trailing whitespace, two spaces in a row, or whitespace other than a
            // space: one pass over the bytes, only when there is a byte at or below a space.
            let bad = edge_space
                || (any_space_or_beyond_ascii(bytes, false)
                    && (bytes.windows(2).any(|w| w == b"  ")
                        || bytes.iter().any(|&b| is_java_space_byte(b) && b != b' ')));
            if bad {
                let message = Message::new("code {} has leading, trailing or repeated whitespace", [q(text)]);
                push(issues, Code::PrimitiveCodeWhitespace, message, offset, path);
            }
        }
        Prim::Id => {
            let ok = text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                let message = Message::new("id {} does not match [A-Za-z0-9\\-\\.]{1,64}", [q(text)]);
                push(issues, Code::PrimitiveId, message, offset, path);
            }
        }
        Prim::Uri | Prim::Url | Prim::Canonical => uri(issues, text, offset, path),
        Prim::Oid => {
            if !is_oid(text) {
                let message = Message::new(
                    "{} is not a valid oid (urn:oid: followed by a dotted number such as 2.16.840.1)",
                    [q(text)],
                );
                push(issues, Code::PrimitiveOid, message, offset, path);
            }
        }
        Prim::Uuid => {
            if !is_uuid(text) {
                let message =
                    Message::new("{} is not a valid uuid (urn:uuid: and a lowercase 8-4-4-4-12 UUID)", [q(text)]);
                push(issues, Code::PrimitiveUuid, message, offset, path);
            }
        }
        Prim::Base64Binary => base64(issues, text, offset, path),
        Prim::Date => dates(issues, datetime::date(text), text, "date", "YYYY, YYYY-MM or YYYY-MM-DD", offset, path),
        Prim::DateTime => dates(
            issues,
            datetime::date_time(text),
            text,
            "dateTime",
            "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a zone (Z or ±hh:mm)",
            offset,
            path,
        ),
        Prim::Instant => dates(
            issues,
            datetime::instant(text),
            text,
            "instant",
            "YYYY-MM-DDThh:mm:ss(.sss) with a zone",
            offset,
            path,
        ),
        Prim::Time => dates(issues, datetime::time(text), text, "time", "hh:mm:ss(.sss), without a zone", offset, path),
        Prim::Xhtml => xhtml(issues, text, offset, path),
        Prim::Boolean | Prim::Integer | Prim::PositiveInt | Prim::UnsignedInt | Prim::Decimal => {}
    }
}

/// Is any byte at or below a space (or, with `non_ascii`, at or above 0x80)? Eight bytes at a time
/// (SWAR, no `unsafe`): most values have none, and this runs on every code and URI.
fn any_space_or_beyond_ascii(bytes: &[u8], non_ascii: bool) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let high_mask = if non_ascii { HIGHS } else { 0 };
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // Bytes below 0x21: (w - 0x21 per byte) & !w & 0x80 per byte (exact for bytes below 0x80;
        // bytes at or above 0x80 never set a bit here).
        let low = w.wrapping_sub(ONES * 0x21) & !w & HIGHS;
        if low | (w & high_mask) != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b <= b' ' || (non_ascii && b >= 0x80))
}

/// Java's `\s`: space, tab, LF, VT, FF, CR.
fn is_java_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn dates(
    issues: &mut Findings,
    result: Result<(), DateError>,
    text: &str,
    ty: &str,
    form: &str,
    offset: usize,
    path: &Path<'_>,
) {
    let (code, message) = match result {
        Ok(()) => return,
        Err(DateError::MissingZone) => (
            Code::PrimitiveDateTimeNoZone,
            Message::new("dateTime {} has a time but no time zone: if hours and minutes are given, a zone (Z or ±hh:mm) is required", [q(text)]),
        ),
        Err(DateError::Calendar) => (Code::PrimitiveDate, Message::new("{} is not a real calendar date", [q(text)])),
        Err(DateError::Format) => (Code::PrimitiveDate, Message::new(format!("{{}} is not a valid {ty} ({form})"), [q(text)])),
    };
    push(issues, code, message, offset, path);
}

/// Unicode whitespace anywhere (`char::is_whitespace`), with a byte-level pass for ASCII text.
pub(crate) fn has_whitespace(text: &str) -> bool {
    // Most URIs have no byte at or below a space and none above ASCII: one quick pass.
    if !any_space_or_beyond_ascii(text.as_bytes(), true) {
        return false;
    }
    text.chars().any(char::is_whitespace)
}

fn uri(issues: &mut Findings, text: &str, offset: usize, path: &Path<'_>) {
    if has_whitespace(text) {
        push(issues, Code::PrimitiveUriWhitespace, "URI values cannot have whitespace".to_owned(), offset, path);
        return;
    }
    // Only values starting with `u` or `o` can be urn:oid:, urn:uuid:, oid: or uuid: URIs.
    if !matches!(text.as_bytes().first(), Some(b'u' | b'o')) {
        return;
    }
    if text.starts_with("urn:oid:") && !is_oid(text) {
        let message = Message::new("{} starts with urn:oid: but is not a valid OID", [q(text)]);
        push(issues, Code::PrimitiveOid, message, offset, path);
    } else if text.starts_with("urn:uuid:") && !is_uuid(text) {
        let message = Message::new("{} starts with urn:uuid: but is not a lowercase 8-4-4-4-12 UUID", [q(text)]);
        push(issues, Code::PrimitiveUuid, message, offset, path);
    } else if text.starts_with("oid:") || text.starts_with("uuid:") {
        let message = Message::new("{}: OIDs and UUIDs in URIs start with urn:oid: or urn:uuid:", [q(text)]);
        push(issues, Code::PrimitiveUriScheme, message, offset, path);
    }
}

/// `urn:oid:[0-2](\.(0|[1-9][0-9]*))+`
pub(crate) fn is_oid(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("urn:oid:") else { return false };
    let mut parts = rest.split('.');
    let first_ok = matches!(parts.next(), Some("0" | "1" | "2"));
    let mut count = 0;
    let rest_ok = parts.all(|p| {
        count += 1;
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    });
    first_ok && rest_ok && count >= 1
}

/// `urn:uuid:` + lowercase 8-4-4-4-12.
pub(crate) fn is_uuid(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("urn:uuid:") else { return false };
    // 36 bytes: hyphens at 8, 13, 18 and 23, lowercase hex digits elsewhere.
    rest.len() == 36
        && rest.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

fn base64(issues: &mut Findings, text: &str, offset: usize, path: &Path<'_>) {
    let mut has_ws = false;
    let mut n = 0usize;
    let mut padding = 0usize;
    let mut ok = true;
    for b in text.bytes() {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => has_ws = true,
            b'=' => {
                padding += 1;
                n += 1;
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if padding == 0 => n += 1,
            _ => ok = false,
        }
    }
    if !ok || n % 4 != 0 || padding > 2 {
        push(issues, Code::PrimitiveBase64, "the value is not valid base64".to_owned(), offset, path);
    } else if has_ws {
        push(
            issues,
            Code::PrimitiveBase64Whitespace,
            "base64 values should not contain whitespace".to_owned(),
            offset,
            path,
        );
    }
}

fn xhtml(issues: &mut Findings, text: &str, offset: usize, path: &Path<'_>) {
    let problems = super::xhtml::check(text);
    let txt1 = problems.iter().any(|p| matches!(p.code, Code::XhtmlElement | Code::XhtmlAttribute));
    for p in problems {
        // txt-2 is a FHIRPath `htmlChecks()` that HL7's 2020 validator (HealthLake's) does not
        // enforce for content, and HL7's own examples break: a warning (the code table's default).
        push(issues, p.code, p.message, offset, path);
    }
    if txt1 {
        let message = "txt-1: the narrative may contain only basic HTML formatting elements and attributes".to_owned();
        push(issues, Code::InvariantTxt1, message, offset, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::scan::Scanner;

    /// Codes for one JSON value checked as `prim`.
    fn codes(prim: Prim, json: &str) -> Vec<Code> {
        let mut findings = Findings::new(100);
        let token = Scanner::new(json.as_bytes()).value().unwrap();
        let root = Path::Root("Patient");
        let model = crate::model::Model::r4();
        let element = &model.ty(crate::model::r4::ids::PATIENT).elements[0];
        let members = crate::facts::MemberIndex::default();
        let line = crate::facts::Line { bytes: json.as_bytes(), text: json, model, members: &members, profiles: None };
        check(&mut findings, &ValueFacts { line, prim, token, element, offset: 0, path: &root });
        findings.finish(1, 0, json.as_bytes()).into_iter().map(|d| d.code()).collect()
    }

    #[test]
    fn swar_scan_agrees_with_a_byte_loop() {
        let mut cases: Vec<Vec<u8>> = vec![b"".to_vec(), b"final".to_vec(), b"http://example.org/fhir".to_vec()];
        for len in [1usize, 7, 8, 9, 16, 17] {
            for at in 0..len {
                for b in [0x00u8, 0x09, 0x20, 0x21, 0x7f, 0x80, 0xa0, 0xff] {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    cases.push(v);
                }
            }
        }
        for bytes in &cases {
            for non_ascii in [false, true] {
                let expected = bytes.iter().any(|&b| b <= b' ' || (non_ascii && b >= 0x80));
                assert_eq!(any_space_or_beyond_ascii(bytes, non_ascii), expected, "{bytes:?} {non_ascii}");
            }
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"));
        for bad in [
            "urn:uuid:0C3151BD-1cbf-4d64-b04d-cd9187a4c6e0",
            "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e",
            "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0a",
            "urn:uuid:0c3151bd1-cbf-4d64-b04d-cd9187a4c6e0",
            "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6g0",
            "urn:uuid:0c3151bd-1cbf-4d64-b04dcd9187a4c6e0-",
            "urn:oid:1.2.3",
            "0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn whitespace_in_uris_ascii_and_not() {
        for (text, ws) in [
            ("http://a/b", false),
            ("http://a/ b", true),
            ("http://a/\tb", true),
            ("http://a/é", false),
            ("http://a/\u{a0}b", true),
            ("http://a/é\u{2003}", true),
            ("http://a/é\u{0b}", true),
        ] {
            assert_eq!(has_whitespace(text), ws, "{text:?}");
            assert_eq!(has_whitespace(text), text.chars().any(char::is_whitespace), "{text:?}");
        }
    }

    #[test]
    fn pass() {
        let cases: &[(Prim, &[&str])] = &[
            (Prim::Boolean, &["true", "false"]),
            (Prim::Integer, &["0", "-5", "2147483647", "-2147483648"]),
            (Prim::PositiveInt, &["1", "2147483647"]),
            (Prim::UnsignedInt, &["0", "7"]),
            (Prim::Decimal, &["1.50", "-0.0", "1e3", "123456789012345678"]),
            (Prim::String, &["\"Jane\"", "\"a\\tb\"", "\"é\""]),
            (Prim::Code, &["\"final\"", "\"a b\""]),
            (Prim::Id, &["\"abc-1.2\""]),
            (
                Prim::Uri,
                &[
                    "\"http://loinc.org\"",
                    "\"urn:oid:2.16.840.1\"",
                    "\"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0\"",
                    "\"#p1\"",
                ],
            ),
            (Prim::Oid, &["\"urn:oid:1.2.3\"", "\"urn:oid:2.0\""]),
            (Prim::Uuid, &["\"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0\""]),
            (Prim::Base64Binary, &["\"AAAA\"", "\"YWJj\"", "\"YQ==\""]),
            (Prim::Date, &["\"2024-02-29\""]),
            (Prim::DateTime, &["\"2024-01-01T10:00:00+01:00\"", "\"2024\""]),
            (Prim::Instant, &["\"2024-01-01T10:00:00.123Z\""]),
            (Prim::Time, &["\"10:00:00\""]),
            (Prim::Markdown, &["\"# title\""]),
            (Prim::Xhtml, &["\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">x</div>\""]),
        ];
        for (prim, values) in cases {
            for v in *values {
                assert_eq!(codes(*prim, v), vec![], "{prim:?} {v}");
            }
        }
    }

    #[test]
    fn fail() {
        use Code::*;
        let cases: &[(Prim, &str, Code)] = &[
            (Prim::Boolean, "\"true\"", JsonWrongType),
            (Prim::Integer, "\"1\"", JsonWrongType),
            (Prim::String, "12", JsonWrongType),
            (Prim::Code, "true", JsonWrongType),
            (Prim::Integer, "1.0", PrimitiveInteger),
            (Prim::Integer, "1e4", PrimitiveInteger),
            (Prim::Integer, "2147483648", PrimitiveInteger),
            (Prim::Integer, "34534536346345345345", PrimitiveInteger),
            (Prim::PositiveInt, "0", PrimitiveIntegerRange),
            (Prim::UnsignedInt, "-1", PrimitiveIntegerRange),
            (Prim::String, "\"\"", PrimitiveEmpty),
            (Prim::Code, "\" final\"", PrimitiveCodeWhitespace),
            (Prim::Code, "\"a  b\"", PrimitiveCodeWhitespace),
            (Prim::Id, "\"a_b\"", PrimitiveId),
            (Prim::Uri, "\"http://a b\"", PrimitiveUriWhitespace),
            (Prim::Uri, "\"urn:oid:1.02\"", PrimitiveOid),
            (Prim::Uri, "\"urn:uuid:0C3151BD-1cbf-4d64-b04d-cd9187a4c6e0\"", PrimitiveUuid),
            (Prim::Uri, "\"oid:1.2\"", PrimitiveUriScheme),
            (Prim::Oid, "\"1.2.3\"", PrimitiveOid),
            (Prim::Uuid, "\"0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0\"", PrimitiveUuid),
            (Prim::Base64Binary, "\"abc\"", PrimitiveBase64),
            (Prim::Base64Binary, "\"a*bc\"", PrimitiveBase64),
            (Prim::Date, "\"2013-04-31\"", PrimitiveDate),
            (Prim::DateTime, "\"2024-01-01T10:00:00\"", PrimitiveDateTimeNoZone),
            (Prim::DateTime, "\"2024-01-01T10:00Z\"", PrimitiveDate),
            (Prim::Instant, "\"2024-01-01\"", PrimitiveDate),
            (Prim::Time, "\"10:00\"", PrimitiveDate),
            (Prim::Xhtml, "\"<p xmlns=\\\"http://www.w3.org/1999/xhtml\\\">x</p>\"", XhtmlRoot),
            (Prim::Xhtml, "\"<div>x</div>\"", XhtmlNamespace),
        ];
        for (prim, value, code) in cases {
            assert_eq!(codes(*prim, value), vec![*code], "{prim:?} {value}");
        }
    }

    #[test]
    fn warnings() {
        use Code::*;
        assert_eq!(codes(Prim::String, "\" Jane\""), vec![PrimitiveStringWhitespace]);
        assert_eq!(codes(Prim::String, "\"Jane\\u00a0\""), vec![], "a no-break space is content");
        assert_eq!(codes(Prim::Code, "\"CHEST \""), vec![]);
        assert_eq!(codes(Prim::Base64Binary, &format!("\"{}\"", "A".repeat(2 * 1024 * 1024))), vec![]);
        assert_eq!(codes(Prim::String, "\"   \""), vec![PrimitiveWhitespaceOnly]);
        assert_eq!(codes(Prim::String, "\"a\\u0001b\""), vec![PrimitiveControlChar]);
        assert_eq!(codes(Prim::Base64Binary, "\"YW Jj\""), vec![PrimitiveBase64Whitespace]);
        assert_eq!(codes(Prim::Decimal, "1.0000000000000000000001"), vec![PrimitiveDecimalRange]);
        assert_eq!(codes(Prim::Decimal, "1e999999"), vec![PrimitiveDecimalRange]);
    }
}
