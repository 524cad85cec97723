//! Rules on the text of primitive values that only later HL7 validator builds apply, as warnings
//! naming the build (HealthLake's 2020-era build accepts the line; `../shared/hl7-validator-2020-rules.md`
//! rows 13 and 14):
//! - a `uri`, `url` or `canonical` naming an example domain (`example.org`, `acme.com`, …): an
//!   error since 5.4.3 (2021-06) when the validator has a resource fetcher and the URL does not
//!   resolve (`TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE`; the domains of today's `isExampleUrl`);
//! - HTML tags in a `markdown` value: a warning since 5.6.69 (2022-10,
//!   `TYPE_SPECIFIC_CHECKS_DT_MARKDOWN_HTML`); 2020 gave an information message. A tag counts when
//!   another `<` follows its `>`, as the 2020 detector (`containsHtmlTags`) decides.

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::ValueFacts;
use crate::model::Prim;

/// Hosts and prefixes of example URLs (the current `isExampleUrl`): the five hosts hold `e.`, the
/// two oid prefixes do not.
const EXAMPLES: [&str; 7] = [
    "example.org",
    "example.com",
    "example.net",
    "acme.com",
    "acme.org",
    "urn:oid:2.999.",
    "urn:oid:1.3.6.1.4.1.32473.",
];

/// Does `text` hold an HTML tag followed, later, by another `<` (the 2020 detector)?
fn has_html(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(open) = memchr::memchr(b'<', &bytes[from..]).map(|i| from + i) {
        let next = bytes.get(open + 1).copied();
        if next.is_some_and(|b| b.is_ascii_alphabetic() || b == b'/') {
            if let Some(close) = memchr::memchr(b'>', &bytes[open..]).map(|i| open + i) {
                if memchr::memchr(b'<', &bytes[close..]).is_some() {
                    return true;
                }
            }
        }
        from = open + 1;
    }
    false
}

/// Does `bytes` hold `e.`? Eight bytes at a time: the bytes that may be a `.` just after an `e`
/// (a byte-wise zero test flags every true match, and now and then a byte above one), each then
/// looked at.
fn has_e_dot(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let at = |i: usize| i > 0 && bytes[i] == b'.' && bytes[i - 1] == b'e';
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let mut dots = zero(w ^ (ONES * u64::from(b'.')));
        while dots != 0 {
            if at(base + (dots.trailing_zeros() / 8) as usize) {
                return true;
            }
            dots &= dots - 1;
        }
        base += 8;
    }
    (base..bytes.len()).any(at)
}

/// The value rule: `text` is the decoded string value.
pub(crate) fn check(f: &mut Findings, v: &ValueFacts<'_, '_>, text: &str) {
    match v.prim {
        Prim::Uri | Prim::Url | Prim::Canonical => {
            // Every example domain is `example.` or `acme.`: both end in `e.`, which few URIs
            // hold (one pass, eight bytes at a time); then the words themselves.
            let bytes = text.as_bytes();
            let near_example = has_e_dot(bytes)
                && memchr::memchr_iter(b'.', bytes)
                    .any(|i| bytes[..i].ends_with(b"example") || bytes[..i].ends_with(b"acme"));
            if !near_example && !text.starts_with("urn:oid:") {
                return;
            }
            // Without `example.` or `acme.`, only the two oid prefixes can be in it.
            let candidates = if near_example { &EXAMPLES[..] } else { &EXAMPLES[5..] };
            if let Some(domain) = candidates.iter().find(|e| text.contains(*e)) {
                let message = Message::new(
                    "Example URLs are not allowed in this context ({}: {}) (an error in HL7 validator builds since 5.4.3, 2021-06, when they resolve URLs; HealthLake's 2020 build accepts it)",
                    [q(text), q(*domain)],
                );
                f.push(Finding::new(Code::UriExample, message).at(v.offset).on(v.path.render()));
            }
        }
        Prim::Markdown if has_html(text) => {
            let message = Message::plain(
                "The markdown contains HTML tags (a warning in HL7 validator builds since 5.6.69, 2022-10; information in HealthLake's 2020 build)",
            );
            f.push(Finding::new(Code::MarkdownHtml, message).at(v.offset).on(v.path.render()));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::has_html;
    use crate::check::test_support::codes;
    use crate::diagnostic::Code;

    #[test]
    fn e_dot_anywhere() {
        for (text, found) in [
            ("http://example.org", true),
            ("e.", true),
            ("http://hl7.org/fhir", false),
            ("1234567e.", true),
            ("12345678e.", true),
            ("1234567.e", false),
            ("./././././e/./.", false),
            ("", false),
            (".", false),
            ("acme.com/x/y/z/w", true),
        ] {
            assert_eq!(super::has_e_dot(text.as_bytes()), found, "{text}");
            assert_eq!(super::has_e_dot(text.as_bytes()), text.contains("e."), "{text}");
        }
    }

    #[test]
    fn html_as_the_2020_detector() {
        assert!(has_html("a <b>bold</b> word"));
        assert!(!has_html("a <b>x"));
        assert!(!has_html("x < y and y > z"));
    }

    #[test]
    fn example_urls_and_markdown() {
        let line = r#"{"resourceType":"Patient","id":"p","implicitRules":"http://example.org/rules"}"#;
        assert!(codes(line).contains(&Code::UriExample));
        let line = r#"{"resourceType":"Patient","id":"p","implicitRules":"http://hl7.org/rules"}"#;
        assert!(!codes(line).contains(&Code::UriExample));
        for (oid, example) in
            [("urn:oid:2.999.1", true), ("urn:oid:1.3.6.1.4.1.32473.5", true), ("urn:oid:2.16.840.1", false)]
        {
            let line =
                format!(r#"{{"resourceType":"Patient","id":"p","identifier":[{{"system":"{oid}","value":"1"}}]}}"#);
            assert_eq!(codes(&line).contains(&Code::UriExample), example, "{oid}");
        }
        let line = r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"note":[{"text":"<b>x</b>"}]}"#;
        assert!(codes(line).contains(&Code::MarkdownHtml));
    }
}
