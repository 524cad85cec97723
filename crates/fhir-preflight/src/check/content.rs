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

/// Hosts and prefixes of example URLs (the current `isExampleUrl`).
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

/// The value rule: `text` is the decoded string value.
pub(crate) fn check(f: &mut Findings, v: &ValueFacts<'_, '_>, text: &str) {
    match v.prim {
        Prim::Uri | Prim::Url | Prim::Canonical => {
            // Every example domain is `example.` or `acme.`: look at the few dots (a URI has
            // some) rather than searching each value for both words.
            let bytes = text.as_bytes();
            let near_example = memchr::memchr_iter(b'.', bytes)
                .any(|i| bytes[..i].ends_with(b"example") || bytes[..i].ends_with(b"acme"));
            if !near_example && !text.starts_with("urn:oid:") {
                return;
            }
            if let Some(domain) = EXAMPLES.iter().find(|e| text.contains(*e)) {
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
        let line = r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"note":[{"text":"<b>x</b>"}]}"#;
        assert!(codes(line).contains(&Code::MarkdownHtml));
    }
}
