//! Narrative XHTML (`Narrative.div`): well-formed XML (a linear, non-recursive tokenizer: any size,
//! any nesting), a root `div` in the XHTML namespace, only the elements and attributes FHIR allows
//! (HTML 4 formatting, tables, lists, links, images; no `script`, `form`, `on*` handlers: txt-1),
//! and some non-whitespace content (txt-2). Follows the HL7 validator's lists and severities (all
//! errors).
//!
//! Example failing value: `"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>…</script></div>"`.

use crate::diagnostic::Code;

const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Elements allowed in FHIR narrative.
const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "b",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "map",
    "ol",
    "p",
    "pre",
    "q",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
    "var",
];

/// Attributes allowed on every element.
const ATTRIBUTES: &[&str] = &[
    "abbr",
    "accesskey",
    "align",
    "axis",
    "border",
    "cellpadding",
    "cellspacing",
    "char",
    "charoff",
    "class",
    "colspan",
    "dir",
    "frame",
    "headers",
    "id",
    "lang",
    "rowspan",
    "rules",
    "scope",
    "span",
    "style",
    "summary",
    "tabindex",
    "title",
    "valign",
    "width",
    "xml:lang",
    "xmlns",
];

/// Attributes allowed on some elements only.
fn element_attribute(element: &str, attribute: &str) -> bool {
    matches!(
        (element, attribute),
        ("a", "href" | "name" | "rel" | "rev" | "shape" | "coords" | "hreflang" | "type" | "charset")
            | ("img", "src" | "alt" | "height" | "usemap" | "ismap" | "longdesc")
            | ("area", "href" | "alt" | "shape" | "coords" | "nohref")
            | ("map", "name")
            | ("ol", "start" | "type")
            | ("ul" | "li", "type" | "value")
            | ("blockquote" | "q", "cite")
            | ("td" | "th", "nowrap" | "height" | "bgcolor")
            | ("table" | "tr", "bgcolor")
            | ("pre", "xml:space")
    )
}

/// One problem found in a narrative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) code: Code,
    pub(crate) message: String,
}

fn problem(code: Code, message: impl Into<String>) -> Problem {
    Problem { code, message: message.into() }
}

/// A name for a message: only the XML name's own characters, at most 32.
fn name_for(name: &str) -> String {
    let n: String =
        name.chars().filter(|c| c.is_alphanumeric() || matches!(c, ':' | '-' | '_' | '.')).take(32).collect();
    format!("'{n}'")
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.') || b >= 0x80
}

/// Check a narrative; returns every problem (empty when valid).
pub(crate) fn check(text: &str) -> Vec<Problem> {
    let b = text.as_bytes();
    let mut problems = Vec::new();
    let mut stack: Vec<&str> = Vec::new();
    let mut i = 0;
    let mut root_seen = false;
    let mut content = false;
    while i < b.len() {
        if b[i] != b'<' {
            let start = i;
            while i < b.len() && b[i] != b'<' {
                i += 1;
            }
            let chunk = &text[start..i];
            if !chunk.trim().is_empty() {
                if stack.is_empty() {
                    problems.push(problem(Code::XhtmlParse, "text outside the root div"));
                    return problems;
                }
                content = true;
                if let Some(p) = entity_problem(chunk) {
                    problems.push(p);
                    return problems;
                }
            }
            continue;
        }
        if b[i..].starts_with(b"<!--") {
            match text[i + 4..].find("-->") {
                Some(end) => i += 4 + end + 3,
                None => return vec![problem(Code::XhtmlParse, "unterminated comment")],
            }
            continue;
        }
        if b[i..].starts_with(b"<?") {
            match text[i..].find("?>") {
                Some(end) if stack.is_empty() && !root_seen => i += end + 2,
                _ => return vec![problem(Code::XhtmlParse, "misplaced or unterminated processing instruction")],
            }
            continue;
        }
        if b[i..].starts_with(b"<![CDATA[") {
            match text[i..].find("]]>") {
                Some(end) if !stack.is_empty() => {
                    content |= !text[i + 9..i + end].trim().is_empty();
                    i += end + 3;
                }
                _ => return vec![problem(Code::XhtmlParse, "misplaced or unterminated CDATA section")],
            }
            continue;
        }
        if b.get(i + 1) == Some(&b'/') {
            let start = i + 2;
            let mut j = start;
            while j < b.len() && is_name_char(b[j]) {
                j += 1;
            }
            let name = &text[start..j];
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if b.get(j) != Some(&b'>') {
                return vec![problem(Code::XhtmlParse, format!("malformed end tag {}", name_for(name)))];
            }
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => {
                    return vec![problem(
                        Code::XhtmlParse,
                        format!("end tag {} does not match start tag {}", name_for(name), name_for(open)),
                    )];
                }
                None => {
                    return vec![problem(Code::XhtmlParse, format!("end tag {} without a start tag", name_for(name)))]
                }
            }
            i = j + 1;
            continue;
        }
        // A start tag.
        let start = i + 1;
        let mut j = start;
        while j < b.len() && is_name_char(b[j]) {
            j += 1;
        }
        let name = &text[start..j];
        if name.is_empty() {
            return vec![problem(Code::XhtmlParse, "'<' that does not start a tag (write &lt;)")];
        }
        let is_root = stack.is_empty();
        if is_root {
            if root_seen {
                return vec![problem(Code::XhtmlParse, "more than one root element")];
            }
            root_seen = true;
            if name != "div" {
                problems.push(problem(
                    Code::XhtmlRoot,
                    format!("the narrative's root element must be a div, not {}", name_for(name)),
                ));
            }
        }
        if !ELEMENTS.contains(&name) {
            problems
                .push(problem(Code::XhtmlElement, format!("Illegal element name in the XHTML ({})", name_for(name))));
        }
        if name == "img" {
            content = true;
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut xmlns = None;
        loop {
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            match b.get(j) {
                None => return vec![problem(Code::XhtmlParse, format!("unterminated start tag {}", name_for(name)))],
                Some(b'>') => {
                    stack.push(name);
                    j += 1;
                    break;
                }
                Some(b'/') if b.get(j + 1) == Some(&b'>') => {
                    j += 2;
                    break;
                }
                Some(_) => {}
            }
            let a_start = j;
            while j < b.len() && is_name_char(b[j]) {
                j += 1;
            }
            let attribute = &text[a_start..j];
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if attribute.is_empty() || b.get(j) != Some(&b'=') {
                return vec![problem(Code::XhtmlParse, format!("malformed attribute in start tag {}", name_for(name)))];
            }
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let quote = match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => {
                    return vec![problem(
                        Code::XhtmlParse,
                        format!("attribute {} without a quoted value", name_for(attribute)),
                    )]
                }
            };
            let v_start = j + 1;
            let Some(len) = b[v_start..].iter().position(|&c| c == quote) else {
                return vec![problem(
                    Code::XhtmlParse,
                    format!("unterminated value of attribute {}", name_for(attribute)),
                )];
            };
            let value = &text[v_start..v_start + len];
            if value.contains('<') {
                return vec![problem(
                    Code::XhtmlParse,
                    format!("'<' in the value of attribute {}", name_for(attribute)),
                )];
            }
            if seen.contains(&attribute) {
                return vec![problem(Code::XhtmlParse, format!("attribute {} appears twice", name_for(attribute)))];
            }
            seen.push(attribute);
            if attribute == "xmlns" {
                xmlns = Some(value);
            } else if !(ATTRIBUTES.contains(&attribute)
                || element_attribute(name, attribute)
                || attribute.starts_with("xmlns:"))
            {
                problems.push(problem(
                    Code::XhtmlAttribute,
                    format!("Illegal attribute name in the XHTML ({} on {})", name_for(attribute), name_for(name)),
                ));
            }
            j = v_start + len + 1;
        }
        if is_root && name == "div" && xmlns != Some(XHTML_NS) {
            problems.push(problem(
                Code::XhtmlNamespace,
                format!("the narrative's div must be in the XHTML namespace: xmlns=\"{XHTML_NS}\""),
            ));
        }
        i = j;
    }
    if let Some(open) = stack.last() {
        return vec![problem(Code::XhtmlParse, format!("element {} is not closed", name_for(open)))];
    }
    if !root_seen {
        return vec![problem(Code::XhtmlParse, "the narrative has no element")];
    }
    if !content {
        problems.push(problem(Code::InvariantTxt2, "txt-2: the narrative must have some non-whitespace content"));
    }
    problems
}

/// `&name;`, `&#N;`, `&#xH;` only; a bare `&` is not XML.
fn entity_problem(chunk: &str) -> Option<Problem> {
    let mut rest = chunk;
    while let Some(at) = rest.find('&') {
        let after = &rest[at + 1..];
        let Some(end) = after.find(';') else {
            return Some(problem(Code::XhtmlParse, "'&' that does not start an entity (write &amp;)"));
        };
        let entity = &after[..end];
        let ok = match entity.strip_prefix('#') {
            Some(num) => match num.strip_prefix(['x', 'X']) {
                Some(hex) => !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
                None => !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()),
            },
            None => !entity.is_empty() && entity.len() <= 32 && entity.chars().all(|c| c.is_ascii_alphanumeric()),
        };
        if !ok {
            return Some(problem(Code::XhtmlParse, "'&' that does not start an entity (write &amp;)"));
        }
        rest = &after[end + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(div: &str) -> Vec<Code> {
        check(div).into_iter().map(|p| p.code).collect()
    }

    const NS: &str = "xmlns=\"http://www.w3.org/1999/xhtml\"";

    #[test]
    fn pass() {
        for body in [
            "<p>Hello</p>",
            "text &amp; more &nbsp; &#160; &#xA0;",
            "<table class=\"grid\"><tr><td colspan=\"2\">x</td></tr></table>",
            "<a href=\"http://x.org\" name=\"n\">link</a><br/><img src=\"#p\" alt=\"i\"/>",
            "<!-- comment --><b>x</b><![CDATA[ y ]]>",
            "<ul><li>a</li></ul><span style=\"color:red\" xml:lang=\"en\">x</span>",
        ] {
            let div = format!("<div {NS}>{body}</div>");
            assert_eq!(codes(&div), vec![], "{div}");
        }
        assert_eq!(codes(&format!("<?xml version=\"1.0\"?><div {NS}><img src=\"x\"/></div>")), vec![]);
    }

    #[test]
    fn fail() {
        let cases = [
            (format!("<div {NS}><p>x</div>"), vec![Code::XhtmlParse]),
            (format!("<div {NS}>x</p></div>"), vec![Code::XhtmlParse]),
            (format!("<div {NS}>a & b</div>"), vec![Code::XhtmlParse]),
            (format!("<div {NS}>a < b</div>"), vec![Code::XhtmlParse]),
            (format!("<div {NS} class=x>a</div>"), vec![Code::XhtmlParse]),
            (format!("<div {NS}>x"), vec![Code::XhtmlParse]),
            (format!("<div {NS}><script>alert(1)</script>x</div>"), vec![Code::XhtmlElement]),
            (format!("<div {NS}><p onclick=\"x()\">x</p></div>"), vec![Code::XhtmlAttribute]),
            (format!("<div {NS}><form><input/></form>x</div>"), vec![Code::XhtmlElement, Code::XhtmlElement]),
            ("<div>x</div>".to_owned(), vec![Code::XhtmlNamespace]),
            ("<div xmlns=\"http://www.w3.org/1999/html\">x</div>".to_owned(), vec![Code::XhtmlNamespace]),
            (format!("<p {NS}>x</p>"), vec![Code::XhtmlRoot]),
            (format!("<div {NS}>  <p> </p></div>"), vec![Code::InvariantTxt2]),
            (format!("<div {NS}></div><div {NS}>x</div>"), vec![Code::XhtmlParse]),
            ("plain text".to_owned(), vec![Code::XhtmlParse]),
        ];
        for (div, expected) in cases {
            assert_eq!(codes(&div), expected, "{div}");
        }
    }

    #[test]
    fn deep_nesting_is_fine() {
        let div = format!("<div {NS}>{}x{}</div>", "<span>".repeat(100_000), "</span>".repeat(100_000));
        assert_eq!(codes(&div), vec![]);
    }
}
