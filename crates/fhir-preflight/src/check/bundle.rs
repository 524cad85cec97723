//! The HL7 validator's Bundle rules that are not FHIRPath (its `BundleValidator`), at the
//! severity HealthLake's build gave them. Evidence: `../shared/hl7-validator-2020-rules.md`, which
//! compares tag 5.1.15 (2020-09, the build nearest HealthLake's) with today's, line by line.
//!
//! Errors, as in 5.1.15:
//! - a `document` Bundle whose first entry is not a Composition (`Bundle_BUNDLE_Entry_Document`,
//!   BundleValidator L121), whose Composition refers to something not in the Bundle (subject,
//!   author, encounter, custodian, attester.party, event.detail, section.author/focus/entry;
//!   `Bundle_BUNDLE_Entry_NotFound`, L198–209), or with an entry not reachable from the
//!   Composition (`Bundle_BUNDLE_Entry_Orphan`, L65, L278);
//! - a `message` Bundle whose first entry is not a MessageHeader (`Validation_BUNDLE_Message`,
//!   L191); its orphans are warnings for R4 (L73);
//! - an entry without fullUrl whose resource holds a reference (`Bundle_BUNDLE_Entry_NoFullUrl`;
//!   not in batch-response and transaction-response).
//!
//! Warnings, for what only later builds reject (each message names the first build):
//! a relative fullUrl and a RESTful fullUrl that does not end in the entry's type/id (6.2.4), a
//! searchset entry without id (5.3.11), a link relation given twice (5.6.85), an entry without
//! fullUrl outside transactions and batches (5.2.5); and, in every build, a `urn:` reference that
//! is not in the Bundle (`Bundle_BUNDLE_Not_Local`).
//!
//! References resolve as 5.1.15's `resolveInBundle` (BaseValidator L719): an absolute reference
//! matches a fullUrl; a relative one (`Patient/1`) matches the entry whose fullUrl is the
//! referring entry's RESTful base followed by it, or else the entry whose resource has that type
//! and id. An entry is reachable when the first entry reaches it by references, or when it refers
//! to a reachable entry (the 2020 check counts reverse links).

use std::borrow::Cow;

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::Line;
use crate::facts::{ObjectFacts, Path};
use crate::fhirpath::node::{Node, NodeType};
use crate::json::scan::{find_member, Scanner, Token};
use crate::model::r4::ids;
use crate::model::{Ty, TypeId};

/// One entry of the Bundle.
/// (Its strings are borrowed from the line when they hold no escape.)
struct Entry<'a> {
    full_url: Option<Cow<'a, str>>,
    resource: Option<Node<'a>>,
    /// `Type` and `id` of the resource.
    type_id: Option<(&'static str, Cow<'a, str>)>,
    /// Every `Reference.reference` in the resource (not `#…`).
    references: Vec<Cow<'a, str>>,
    offset: usize,
}

/// The text of a primitive node.
fn text<'a>(node: &Node<'a>) -> Option<Cow<'a, str>> {
    match node.token()? {
        Token::String(s) => Some(s.str_in(node.line.text)),
        _ => None,
    }
}

fn child<'a>(node: &Node<'a>, name: &str) -> Option<Node<'a>> {
    node.children(Some(name), None).into_iter().next()
}

fn child_text<'a>(node: &Node<'a>, name: &str) -> Option<Cow<'a, str>> {
    child(node, name).as_ref().and_then(text)
}

/// Every `Reference.reference` under `node`, in document order: one typed pass over its bytes
/// (members by the model's lookup, into datatypes and nested resources), building no nodes.
fn references<'a>(node: &Node<'a>, out: &mut Vec<Cow<'a, str>>) {
    let (Some(open), NodeType::Complex(tid) | NodeType::Resource(tid)) = (node.value(), node.ty) else { return };
    // The References the walk found inside the resource; else (a line too large to keep) a pass
    // over its bytes.
    let line = node.line;
    if let Some(found) = line.members.references_within(open) {
        for at in found {
            if let Ok(Token::String(s)) = (Scanner { bytes: line.bytes, pos: at }).value() {
                out.push(s.str_in(line.text));
            }
        }
        return;
    }
    let mut refs = References { line: *node.line, out };
    let _ = refs.object(&mut Scanner { bytes: node.line.bytes, pos: open }, tid, 0);
}

/// The pass of [`references`]: each byte is read once; a syntax error ends it (the walk reported
/// it already).
struct References<'l, 'o> {
    line: Line<'l>,
    out: &'o mut Vec<Cow<'l, str>>,
}

impl References<'_, '_> {
    /// The object at the scanner (`{`), of type `tid`; leaves the scanner after it.
    fn object(&mut self, sc: &mut Scanner<'_>, tid: TypeId, depth: usize) -> Result<(), ()> {
        // The walk already rejected deeper nesting (json/too-deep); never recurse without bound.
        if depth > 256 || sc.peek() != Some(b'{') {
            return sc.skip_value().map_err(drop);
        }
        let model = self.line.model;
        let t = model.ty(tid);
        let is_reference = model.base_of(tid) == ids::REFERENCE;
        sc.pos += 1;
        if sc.peek() == Some(b'}') {
            sc.pos += 1;
            return Ok(());
        }
        loop {
            let key = sc.member_key().map_err(drop)?;
            let key_text = key.str_in(self.line.text);
            match (t.lookup)(key_text.as_bytes()).map(|i| t.properties[usize::from(i)].ty) {
                Some(Ty::Prim(_)) if is_reference && key_text == "reference" => {
                    if let Token::String(s) = sc.value().map_err(drop)? {
                        self.out.push(s.str_in(self.line.text));
                    }
                }
                Some(ty @ (Ty::Complex(_) | Ty::Resource)) => self.items(sc, ty, depth)?,
                _ => sc.skip_value().map_err(drop)?,
            }
            match sc.peek() {
                Some(b',') => sc.pos += 1,
                Some(b'}') => {
                    sc.pos += 1;
                    return Ok(());
                }
                _ => return Err(()),
            }
        }
    }

    /// A member's value of type `ty`: one item or an array of them.
    fn items(&mut self, sc: &mut Scanner<'_>, ty: Ty, depth: usize) -> Result<(), ()> {
        if sc.peek() != Some(b'[') {
            return self.item(sc, ty, depth);
        }
        sc.pos += 1;
        if sc.peek() == Some(b']') {
            sc.pos += 1;
            return Ok(());
        }
        loop {
            self.item(sc, ty, depth)?;
            match sc.peek() {
                Some(b',') => sc.pos += 1,
                Some(b']') => {
                    sc.pos += 1;
                    return Ok(());
                }
                _ => return Err(()),
            }
        }
    }

    fn item(&mut self, sc: &mut Scanner<'_>, ty: Ty, depth: usize) -> Result<(), ()> {
        let tid = match ty {
            Ty::Complex(c) => Some(c),
            _ if sc.peek() == Some(b'{') => match find_member(self.line.bytes, sc.pos, "resourceType") {
                Some(Token::String(s)) => self.line.model.resource_type(&s.str_in(self.line.text)),
                _ => None,
            },
            _ => None,
        };
        match tid {
            Some(tid) => self.object(sc, tid, depth + 1),
            None => sc.skip_value().map_err(drop),
        }
    }
}

/// Is `url` absolute, as the current `Utilities.isAbsoluteUrl`: `http`, `https`, `urn` or a
/// lower-case scheme, and a non-empty rest without spaces?
fn is_absolute(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else { return false };
    !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
        && scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && !rest.is_empty()
        && !rest.contains(' ')
}

/// The RESTful base of `full_url` when it ends in `type/id` (`http://x/fhir/` of
/// `http://x/fhir/Patient/1`).
fn restful_base<'u>(full_url: &'u str, type_id: Option<&(&'static str, Cow<'_, str>)>) -> Option<&'u str> {
    let (ty, id) = type_id?;
    let tail = format!("{ty}/{id}");
    full_url.strip_suffix(tail.as_str()).filter(|base| base.ends_with('/'))
}

impl Entry<'_> {
    fn matches_type_id(&self, reference: &str) -> bool {
        let reference = reference.split("/_history/").next().unwrap_or(reference);
        self.type_id
            .as_ref()
            .is_some_and(|(t, id)| reference.strip_prefix(t).and_then(|r| r.strip_prefix('/')).is_some_and(|r| r == id))
    }
}

/// The entries `reference` (made in entry `from`) resolves to.
fn resolve(entries: &[Entry<'_>], from: usize, reference: &str) -> Vec<usize> {
    if reference.starts_with('#') {
        return vec![from];
    }
    if is_absolute(reference) {
        return (0..entries.len()).filter(|&i| entries[i].full_url.as_deref() == Some(reference)).collect();
    }
    let base = entries[from].full_url.as_deref().and_then(|u| restful_base(u, entries[from].type_id.as_ref()));
    if let Some(base) = base {
        let wanted = format!("{base}{reference}");
        return (0..entries.len()).filter(|&i| entries[i].full_url.as_deref() == Some(wanted.as_str())).collect();
    }
    (0..entries.len()).filter(|&i| entries[i].matches_type_id(reference)).collect()
}

fn entries<'a>(bundle: &Node<'a>) -> Vec<Entry<'a>> {
    bundle
        .children(Some("entry"), None)
        .into_iter()
        .map(|entry| {
            let resource = child(&entry, "resource");
            let type_id = resource.as_ref().and_then(|r| {
                let NodeType::Resource(tid) = r.ty else { return None };
                Some((r.line.model.ty(tid).name, child_text(r, "id")?))
            });
            let mut refs = Vec::new();
            if let Some(r) = &resource {
                references(r, &mut refs);
            }
            refs.retain(|r| !r.starts_with('#'));
            Entry {
                full_url: child_text(&entry, "fullUrl"),
                resource,
                type_id,
                references: refs,
                offset: entry.value().unwrap_or(0),
            }
        })
        .collect()
}

/// Which entries the first one reaches (following references both ways, as 5.1.15).
fn reachable(entries: &[Entry<'_>]) -> Vec<bool> {
    let mut seen = vec![false; entries.len()];
    if entries.is_empty() {
        return seen;
    }
    seen[0] = true;
    let targets: Vec<Vec<usize>> = (0..entries.len())
        .map(|i| entries[i].references.iter().flat_map(|r| resolve(entries, i, r)).collect())
        .collect();
    loop {
        let mut changed = false;
        for i in 0..entries.len() {
            let reach = seen[i] || targets[i].iter().any(|&t| seen[t]);
            if reach && !seen[i] {
                seen[i] = true;
                changed = true;
            }
            if seen[i] {
                for &t in &targets[i] {
                    if !seen[t] {
                        seen[t] = true;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return seen;
        }
    }
}

/// The Composition's references 5.1.15 requires to be in the Bundle, with their paths.
fn composition_references(c: &Node<'_>, out: &mut Vec<(String, String)>) {
    let mut take = |node: &Node<'_>, path: &str| {
        if node.line.model.base_of(match node.ty {
            NodeType::Complex(t) => t,
            _ => return,
        }) == ids::REFERENCE
        {
            if let Some(r) = child_text(node, "reference") {
                out.push((r.into_owned(), path.to_owned()));
            }
        }
    };
    for name in ["subject", "author", "encounter", "custodian"] {
        for (i, n) in c.children(Some(name), None).iter().enumerate() {
            take(n, &format!("Composition.{name}[{i}]"));
        }
    }
    for (i, a) in c.children(Some("attester"), None).iter().enumerate() {
        if let Some(p) = child(a, "party") {
            take(&p, &format!("Composition.attester[{i}].party"));
        }
    }
    for (i, e) in c.children(Some("event"), None).iter().enumerate() {
        for (j, d) in e.children(Some("detail"), None).iter().enumerate() {
            take(d, &format!("Composition.event[{i}].detail[{j}]"));
        }
    }
    let mut stack: Vec<(Node<'_>, String)> = c
        .children(Some("section"), None)
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, format!("Composition.section[{i}]")))
        .collect();
    while let Some((s, path)) = stack.pop() {
        for name in ["author", "focus", "entry"] {
            for (i, n) in s.children(Some(name), None).iter().enumerate() {
                take(n, &format!("{path}.{name}[{i}]"));
            }
        }
        stack.extend(
            s.children(Some("section"), None).into_iter().enumerate().map(|(i, x)| (x, format!("{path}.section[{i}]"))),
        );
    }
}

fn entry_path<'p>(entry: &'p Path<'p>, i: usize) -> Path<'p> {
    Path::Index(entry, i)
}

/// Object rule on Bundle.
pub(crate) fn check(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let bundle = Node::object(&o.line, o.open, NodeType::Resource(o.type_id));
    let kind = child_text(&bundle, "type").unwrap_or_default();
    let list = entries(&bundle);
    let entry_member = Path::Member(o.path, "entry");
    let push = |f: &mut Findings, code: Code, message: Message, at: usize, path: Option<Message>| {
        f.push(Finding::new(code, message).at(at).on(path));
    };
    let first_type = list.first().and_then(|e| e.type_id.as_ref().map(|(t, _)| *t));
    let first_path = || entry_path(&entry_member, 0).render();
    match &*kind {
        "document" => {
            if first_type != Some("Composition") {
                let at = list.first().map_or(o.open, |e| e.offset);
                let path = if list.is_empty() { o.path.render() } else { first_path() };
                push(
                    f,
                    Code::BundleDocumentFirst,
                    Message::plain("The first entry in a document must be a Composition"),
                    at,
                    path,
                );
            } else if let Some(c) = &list[0].resource {
                let mut refs = Vec::new();
                composition_references(c, &mut refs);
                for (r, path) in refs {
                    if resolve(&list, 0, &r).is_empty() {
                        let message = Message::new(
                            "Can't find {} in the bundle ({})",
                            [q(r), crate::diagnostic::m(Message::plain(path))],
                        );
                        push(f, Code::BundleDocumentUnresolved, message, list[0].offset, first_path());
                    }
                }
                orphans(&list, &entry_member, Code::BundleDocumentOrphan, f);
            }
        }
        "message" => {
            if first_type != Some("MessageHeader") {
                let at = list.first().map_or(o.open, |e| e.offset);
                let path = if list.is_empty() { o.path.render() } else { first_path() };
                push(
                    f,
                    Code::BundleMessageFirst,
                    Message::plain("The first entry in a message must be a MessageHeader"),
                    at,
                    path,
                );
            } else {
                orphans(&list, &entry_member, Code::BundleMessageOrphan, f);
            }
        }
        _ => {}
    }
    // A `urn:` reference is absolute: it resolves only to an equal fullUrl (one set, not a scan
    // of every entry per reference).
    let full_urls: std::collections::HashSet<&str> = list.iter().filter_map(|e| e.full_url.as_deref()).collect();
    let exempt = matches!(&*kind, "batch-response" | "transaction-response");
    let transactional = matches!(&*kind, "batch" | "transaction" | "batch-response" | "transaction-response");
    for (i, e) in list.iter().enumerate() {
        let path = || Path::Member(&entry_path(&entry_member, i), "fullUrl").render();
        let at_entry = || entry_path(&entry_member, i).render();
        match &e.full_url {
            None if !exempt && !e.references.is_empty() => push(
                f,
                Code::BundleEntryNoFullUrl,
                Message::plain("The entry has no fullUrl, so the references in its resource cannot be resolved in the Bundle"),
                e.offset,
                at_entry(),
            ),
            None if !transactional && e.resource.is_some() => push(
                f,
                Code::BundleEntryFullUrlMissing,
                Message::plain("The entry has no fullUrl (an error in HL7 validator builds since 5.2.5, 2020-12; HealthLake's 2020 build accepts it)"),
                e.offset,
                at_entry(),
            ),
            Some(url) if !is_absolute(url) => push(
                f,
                Code::BundleFullUrlRelative,
                Message::new("The fullUrl must be an absolute URL, not {} (an error in HL7 validator builds since 6.2.4, 2023-11; HealthLake's 2020 build accepts it)", [q(url.as_ref())]),
                e.offset,
                path(),
            ),
            Some(url) => {
                if let Some((ty, id)) = &e.type_id {
                    if looks_restful(url) && !url.ends_with(&format!("/{ty}/{id}")) {
                        let message = Message::new(
                            "The fullUrl {} looks like a RESTful server URL, so it must end with the resource's type and id (/{}) (an error in HL7 validator builds since 6.2.4, 2023-11; HealthLake's 2020 build accepts it)",
                            [q(url.as_ref()), crate::diagnostic::m(Message::plain(format!("{ty}/{id}")))],
                        );
                        push(f, Code::BundleFullUrlTypeId, message, e.offset, path());
                    }
                }
            }
            None => {}
        }
        if kind == "searchset" && e.resource.is_some() && e.type_id.is_none() {
            push(
                f,
                Code::BundleSearchEntryNoId,
                Message::plain("Search results must have ids (an error in HL7 validator builds since 5.3.11, 2021-04; HealthLake's 2020 build accepts it)"),
                e.offset,
                at_entry(),
            );
        }
        for r in e.references.iter().filter(|r| r.starts_with("urn:")) {
            if !full_urls.contains(&**r) {
                let message = Message::new(
                    "The reference {} is a urn: but is not the fullUrl of an entry of the Bundle",
                    [q(r.clone())],
                );
                push(f, Code::ReferenceUrnNotInBundle, message, e.offset, at_entry());
            }
        }
    }
    duplicate_links(&bundle, o, f);
}

/// A fullUrl of the form `…/Type/id` (letters then an id), the shape current builds check.
fn looks_restful(url: &str) -> bool {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return false;
    }
    let mut parts = url.rsplit('/');
    let (Some(id), Some(ty)) = (parts.next(), parts.next()) else { return false };
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && crate::model::r4::is_resource_type(ty)
}

fn orphans(list: &[Entry<'_>], entry_member: &Path<'_>, code: Code, f: &mut Findings) {
    for (i, reached) in reachable(list).into_iter().enumerate() {
        if !reached {
            let e = &list[i];
            let name = e.full_url.clone().unwrap_or(Cow::Borrowed("(no fullUrl)"));
            let message =
                Message::new("Entry {} isn't reachable by traversing from the first entry of the Bundle", [q(name)]);
            f.push(Finding::new(code, message).at(e.offset).on(entry_path(entry_member, i).render()));
        }
    }
}

/// A link relation given twice (5.6.85+).
fn duplicate_links(bundle: &Node<'_>, o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let links = bundle.children(Some("link"), None);
    let mut seen: Vec<Cow<'_, str>> = Vec::new();
    let link_member = Path::Member(o.path, "link");
    for (i, l) in links.iter().enumerate() {
        let Some(relation) = child_text(l, "relation") else { continue };
        if seen.contains(&relation) {
            let message = Message::new(
                "The link relation {} occurs more than once (an error in HL7 validator builds since 5.6.85, 2022-12; HealthLake's 2020 build accepts it)",
                [q(relation.as_ref())],
            );
            f.push(
                Finding::new(Code::BundleLinkDuplicate, message).at(l.value().unwrap_or(o.open)).on(Path::Index(
                    &link_member,
                    i,
                )
                .render()),
            );
        }
        seen.push(relation);
    }
}

#[cfg(test)]
mod tests {
    use super::{is_absolute, looks_restful};
    use crate::check::test_support::codes;
    use crate::diagnostic::Code;

    #[test]
    fn absolute_urls() {
        assert!(is_absolute("http://x.org/fhir/Patient/1"));
        assert!(is_absolute("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"));
        assert!(!is_absolute("Patient/1"));
        assert!(!is_absolute("urn:"));
        assert!(!is_absolute("HTTP://x"));
        assert!(looks_restful("http://x.org/fhir/Patient/1"));
        assert!(!looks_restful("urn:uuid:1"));
    }

    fn doc(entries: &str) -> String {
        format!(
            r#"{{"resourceType":"Bundle","id":"b","type":"document","identifier":{{"system":"urn:ietf:rfc:3986","value":"urn:uuid:1"}},"timestamp":"2020-01-01T00:00:00Z","entry":[{entries}]}}"#
        )
    }

    const COMPOSITION: &str = r#"{"fullUrl":"urn:uuid:c","resource":{"resourceType":"Composition","id":"c","status":"final","type":{"text":"x"},"date":"2020","author":[{"reference":"urn:uuid:p"}],"title":"t","subject":{"reference":"urn:uuid:p"}}}"#;
    const PATIENT: &str = r#"{"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","id":"p"}}"#;

    #[test]
    fn documents() {
        assert!(!codes(&doc(&format!("{COMPOSITION},{PATIENT}"))).contains(&Code::BundleDocumentOrphan));
        let first = codes(&doc(PATIENT));
        assert!(first.contains(&Code::BundleDocumentFirst), "{first:?}");
        let unresolved = codes(&doc(COMPOSITION));
        assert!(unresolved.contains(&Code::BundleDocumentUnresolved), "{unresolved:?}");
        let orphan = r#"{"fullUrl":"urn:uuid:o","resource":{"resourceType":"Patient","id":"o"}}"#;
        let orphans = codes(&doc(&format!("{COMPOSITION},{PATIENT},{orphan}")));
        assert!(orphans.contains(&Code::BundleDocumentOrphan), "{orphans:?}");
    }

    #[test]
    fn full_urls_and_links() {
        let relative = r#"{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"fullUrl":"Patient/p","resource":{"resourceType":"Patient","id":"p"}}]}"#;
        assert!(codes(relative).contains(&Code::BundleFullUrlRelative));
        let mismatch = r#"{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"fullUrl":"http://x.org/fhir/Patient/q","resource":{"resourceType":"Patient","id":"p"}}]}"#;
        assert!(codes(mismatch).contains(&Code::BundleFullUrlTypeId));
        let links = r#"{"resourceType":"Bundle","id":"b","type":"searchset","link":[{"relation":"self","url":"http://x.org/a"},{"relation":"self","url":"http://x.org/b"}]}"#;
        assert!(codes(links).contains(&Code::BundleLinkDuplicate));
        let no_full_url = r#"{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"resource":{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"}}}]}"#;
        assert!(codes(no_full_url).contains(&Code::BundleEntryNoFullUrl));
        // 5.1.15 has no conditional-reference code: a transaction entry needs a fullUrl too.
        let conditional = r#"{"resourceType":"Bundle","id":"t","type":"transaction","entry":[{"resource":{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner?identifier=http://npi|1"}]},"request":{"method":"POST","url":"Patient"}}]}"#;
        assert!(codes(conditional).contains(&Code::BundleEntryNoFullUrl));
        let response = conditional.replace(r#""type":"transaction""#, r#""type":"transaction-response""#);
        assert!(!codes(&response).contains(&Code::BundleEntryNoFullUrl));
    }

    #[test]
    fn messages_searchsets_and_urns() {
        let message = |entries: &str| {
            format!(
                r#"{{"resourceType":"Bundle","id":"m","type":"message","timestamp":"2020-01-01T00:00:00Z","entry":[{entries}]}}"#
            )
        };
        const HEADER: &str = r#"{"fullUrl":"urn:uuid:h","resource":{"resourceType":"MessageHeader","id":"h","eventCoding":{"system":"http://x.org/e","code":"e"},"source":{"endpoint":"http://x.org/s"},"focus":[{"reference":"urn:uuid:p"}]}}"#;
        const PATIENT: &str = r#"{"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","id":"p"}}"#;
        const OTHER: &str = r#"{"fullUrl":"urn:uuid:o","resource":{"resourceType":"Patient","id":"o"}}"#;
        assert!(codes(&message(PATIENT)).contains(&Code::BundleMessageFirst));
        let reached = codes(&message(&format!("{HEADER},{PATIENT}")));
        assert!(!reached.contains(&Code::BundleMessageFirst) && !reached.contains(&Code::BundleMessageOrphan));
        assert!(codes(&message(&format!("{HEADER},{PATIENT},{OTHER}"))).contains(&Code::BundleMessageOrphan));
        let search = r#"{"resourceType":"Bundle","id":"s","type":"searchset","entry":[{"fullUrl":"http://x.org/fhir/Patient/p","resource":{"resourceType":"Patient"},"search":{"mode":"match"}}]}"#;
        assert!(codes(search).contains(&Code::BundleSearchEntryNoId));
        let urn = r#"{"resourceType":"Bundle","id":"c","type":"collection","entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient","id":"a","link":[{"other":{"reference":"urn:uuid:missing"},"type":"seealso"}]}}]}"#;
        assert!(codes(urn).contains(&Code::ReferenceUrnNotInBundle));
        assert!(!codes(&urn.replace("urn:uuid:missing", "urn:uuid:a")).contains(&Code::ReferenceUrnNotInBundle));
    }
}
