//! The walk: one recursive-descent pass over a line that parses the JSON and runs the checks on
//! each token as it is read — no tree is built. Nesting is bounded by `--max-depth` before any
//! recursion, so no input can overflow the stack.
//!
//! Checks made here, during the parse: JSON syntax (fatal, with the offset), duplicate keys at
//! every depth, lone surrogate escapes, nesting depth. The root object's `resourceType` and `id`
//! are handed to their checks (`crate::check`) once the object is read.

use std::borrow::Cow;
use std::collections::HashSet;

use super::path::Path;
use super::scan::{JsonStr, Scanner, SyntaxError, Token};
use super::typed::Ctx;
use crate::diagnostic::{quote, Code, Severity};
use crate::issues::{Issue, Issues};

/// The walk stopped: a fatal issue was pushed and the rest of the line is not read.
#[derive(Debug)]
pub(crate) struct Stop;

/// Buffers reused from line to line by one thread.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Keys of the objects being read, innermost last (for duplicate detection).
    pub(super) keys: Vec<JsonStr>,
    /// `null` items of primitive arrays in the objects being read: (element, is `_x`, index).
    pub(super) nulls: Vec<(u8, bool, u32)>,
    /// `#id` references in the resources being read (for dom-3 and resolution).
    pub(super) local_refs: Vec<LocalRef>,
    /// Ids of the contained resources being read.
    pub(super) contained: Vec<ContainedId>,
}

/// A `#id` reference: the id, and where it stands when it came from `Reference.reference`
/// (other `#id` uris count for dom-3 but are not required to resolve).
#[derive(Debug)]
pub(crate) struct LocalRef {
    pub(super) id: String,
    pub(super) at: Option<(usize, Option<String>)>,
}

/// A contained resource's id, offset and path.
#[derive(Debug)]
pub(crate) struct ContainedId {
    pub(super) id: String,
    pub(super) offset: usize,
    pub(super) path: Option<String>,
}

impl Scratch {
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.nulls.clear();
        self.local_refs.clear();
        self.contained.clear();
    }
}

/// A property of the root object: where its value starts, and the value's first token.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    pub(crate) value_offset: usize,
    pub(crate) value: Token,
}

/// What the walk learned about the root object.
#[derive(Debug, Default)]
pub(crate) struct RootFacts {
    /// The root is a JSON object.
    pub(crate) is_object: bool,
    /// The root object was read to its closing brace (so "missing" checks can be trusted).
    pub(crate) complete: bool,
    pub(crate) resource_type: Option<Member>,
    pub(crate) id: Option<Member>,
    /// The type name used as the root of FHIR paths (`""` if unknown).
    pub(crate) path_root: String,
}

/// Objects with more keys than this switch from a linear duplicate scan to a hash set, so that an
/// object with a million keys stays linear.
const LINEAR_KEYS: usize = 32;

pub(crate) struct Walk<'a, 'w> {
    /// The line, as bytes and as the `str` it was checked to be.
    pub(super) line: &'a [u8],
    pub(super) text: &'a str,
    pub(super) sc: Scanner<'a>,
    pub(super) issues: &'w mut Issues,
    pub(super) scratch: &'w mut Scratch,
    pub(super) max_depth: usize,
}

/// What a look-ahead found as an object's `resourceType`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    Known(u16),
    Missing,
    NotString,
    Unknown(String),
}

impl<'a, 'w> Walk<'a, 'w> {
    /// Walk one line (valid UTF-8, not blank).
    pub(crate) fn line(text: &'a str, issues: &'w mut Issues, scratch: &'w mut Scratch, max_depth: usize) -> RootFacts {
        let line = text.as_bytes();
        let mut walk = Walk { line, text, sc: Scanner::new(line), issues, scratch, max_depth };
        let mut facts = RootFacts::default();
        if walk.sc.peek() != Some(b'{') {
            walk.not_object();
            return facts;
        }
        facts.is_object = true;
        let open = walk.sc.pos;
        let found = find_resource_type(line, open);
        let root_name = match found {
            Found::Known(tid) => crate::r4::TYPES[tid as usize].name,
            _ => "",
        };
        let root = Path::Root(root_name);
        walk.sc.pos += 1;
        let walked = match found {
            Found::Known(tid) => walk.typed_object(1, &root, tid, open, Ctx::default(), None, Some(&mut facts)),
            _ => walk.object(1, &root, Some(&mut facts)),
        };
        if walked.is_ok() {
            facts.complete = true;
            if walk.sc.peek().is_some() {
                let offset = walk.sc.pos;
                walk.fatal(
                    Code::JsonSyntax,
                    "unexpected characters after the end of the JSON object (one resource per line)".into(),
                    offset,
                    None,
                );
                facts.complete = false;
            }
        }
        facts.path_root = root_name.to_owned();
        facts
    }

    #[cold]
    fn not_object(&mut self) {
        let offset = self.sc.pos;
        match self.sc.value() {
            Ok(token) => {
                let message =
                    format!("a line must hold one JSON object (a FHIR resource), found {}", token.kind_name());
                self.fatal(Code::NdjsonNotObject, message, offset, None);
            }
            Err(e) => {
                self.syntax(e, None);
            }
        }
    }

    #[cold]
    fn fatal(&mut self, code: Code, message: String, offset: usize, path: Option<&Path<'_>>) {
        self.issues.push(Issue {
            code,
            severity: Severity::Fatal,
            message,
            offset: Some(offset),
            path: path.and_then(Path::render),
        });
    }

    #[cold]
    fn syntax(&mut self, e: SyntaxError, path: Option<&Path<'_>>) -> Stop {
        let (offset, message) = e.into_parts();
        self.fatal(Code::JsonSyntax, message.into_owned(), offset, path);
        Stop
    }

    #[cold]
    pub(super) fn syntax_error(&mut self, e: SyntaxError, path: &Path<'_>) -> Stop {
        self.syntax(e, Some(path))
    }

    #[cold]
    pub(super) fn too_deep(&mut self, offset: usize, path: &Path<'_>) -> Stop {
        let message = format!(
            "JSON nested deeper than {} levels (--max-depth); the rest of the line is not read",
            self.max_depth
        );
        self.fatal(Code::JsonTooDeep, message, offset, Some(path));
        Stop
    }

    /// Offset of the next value (after whitespace), or the line length at its end.
    pub(super) fn value_offset(&mut self) -> usize {
        match self.sc.peek() {
            Some(_) => self.sc.pos,
            None => self.line.len(),
        }
    }

    /// A generic object whose `{` was consumed (type unknown: syntax, duplicates, depth only).
    pub(super) fn object_generic(&mut self, depth: usize, path: &Path<'_>) -> Result<(), Stop> {
        self.object(depth, path, None)
    }

    /// Key text for paths: the raw (still escaped) text.
    pub(super) fn key_str(&self, key: &JsonStr) -> &'a str {
        self.text.get(key.start()..key.end()).unwrap_or("?")
    }

    /// An object whose `{` was consumed; `depth` counts it.
    fn object(&mut self, depth: usize, path: &Path<'_>, mut root: Option<&mut RootFacts>) -> Result<(), Stop> {
        if self.sc.peek() == Some(b'}') {
            self.sc.pos += 1;
            return Ok(());
        }
        let base = self.scratch.keys.len();
        let mut big: Option<HashSet<Cow<'a, str>>> = None;
        let result = loop {
            let key = match self.sc.member_key() {
                Ok(key) => key,
                Err(e) => break Err(self.syntax(e, Some(path))),
            };
            let member_path = Path::Member(path, self.key_str(&key));
            self.check_duplicate(base, &mut big, key, &member_path);
            let value_offset = match self.sc.peek() {
                Some(_) => self.sc.pos,
                None => self.line.len(),
            };
            let value = match self.value(depth, &member_path) {
                Ok(token) => token,
                Err(stop) => break Err(stop),
            };
            if let Some(facts) = root.as_deref_mut() {
                let member = Member { value_offset, value };
                let text = key.text(self.line);
                match &*text {
                    "resourceType" if facts.resource_type.is_none() => facts.resource_type = Some(member),
                    "id" if facts.id.is_none() => facts.id = Some(member),
                    _ => {}
                }
            }
            match self.after_member(path) {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(stop) => break Err(stop),
            }
        };
        self.scratch.keys.truncate(base);
        result
    }

    /// After a member's value: `,` (another member follows: `false`) or `}` (the object ended: `true`).
    pub(super) fn after_member(&mut self, path: &Path<'_>) -> Result<bool, Stop> {
        match self.sc.peek() {
            Some(b',') => {
                self.sc.pos += 1;
                Ok(false)
            }
            Some(b'}') => {
                self.sc.pos += 1;
                Ok(true)
            }
            _ => {
                let e = self.sc.unexpected("',' or '}' after a property value");
                Err(self.syntax(e, Some(path)))
            }
        }
    }

    /// Report `key` if it was already seen in this object (keys from `base` on); returns whether it was.
    pub(super) fn check_duplicate(
        &mut self,
        base: usize,
        big: &mut Option<HashSet<Cow<'a, str>>>,
        key: JsonStr,
        path: &Path<'_>,
    ) -> bool {
        let line = self.line;
        let duplicate = if let Some(set) = big {
            !set.insert(key.text(line))
        } else {
            let seen = &self.scratch.keys[base..];
            let duplicate = seen.iter().any(|k| k.same_text(&key, line));
            if seen.len() + 1 >= LINEAR_KEYS {
                let mut set: HashSet<Cow<'a, str>> = seen.iter().map(|k| k.text(line)).collect();
                set.insert(key.text(line));
                *big = Some(set);
            }
            duplicate
        };
        if big.is_none() {
            self.scratch.keys.push(key);
        }
        if duplicate {
            self.duplicate_key(key, path);
        }
        duplicate
    }

    #[cold]
    pub(super) fn duplicate_key(&mut self, key: JsonStr, path: &Path<'_>) {
        self.issues.push(Issue {
            code: Code::JsonDuplicateKey,
            severity: Severity::Error,
            message: format!(
                "property {} appears more than once in the same object (JSON readers silently keep one of them)",
                quote(&key.text(self.line))
            ),
            offset: Some(key.start() - 1),
            path: path.render(),
        });
    }

    /// One value at `depth` (the depth of its container); containers are read to their end.
    pub(super) fn value(&mut self, depth: usize, path: &Path<'_>) -> Result<Token, Stop> {
        let offset = self.sc.pos;
        let token = match self.sc.value() {
            Ok(token) => token,
            Err(e) => return Err(self.syntax(e, Some(path))),
        };
        match token {
            Token::ObjectStart | Token::ArrayStart => {
                if depth + 1 > self.max_depth {
                    return Err(self.too_deep(offset, path));
                }
                if token == Token::ObjectStart {
                    self.object(depth + 1, path, None)?;
                } else {
                    self.array(depth + 1, path)?;
                }
            }
            Token::String(s) => {
                if let Some(at) = s.lone_surrogate() {
                    self.lone_surrogate_at(at, path);
                }
            }
            _ => {}
        }
        Ok(token)
    }

    #[cold]
    pub(super) fn lone_surrogate_at(&mut self, at: usize, path: &Path<'_>) {
        let escape = std::str::from_utf8(&self.line[at..at + 6]).unwrap_or("\\u????");
        self.issues.push(Issue {
            code: Code::JsonInvalidUnicodeEscape,
            severity: Severity::Error,
            message: format!("escape {escape} is a lone UTF-16 surrogate, not a Unicode character"),
            offset: Some(at),
            path: path.render(),
        });
    }

    /// An array whose `[` was consumed; `depth` counts it.
    fn array(&mut self, depth: usize, path: &Path<'_>) -> Result<(), Stop> {
        if self.sc.peek() == Some(b']') {
            self.sc.pos += 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            let item = Path::Index(path, index);
            self.value(depth, &item)?;
            index += 1;
            match self.sc.peek() {
                Some(b',') => self.sc.pos += 1,
                Some(b']') => {
                    self.sc.pos += 1;
                    return Ok(());
                }
                _ => {
                    let e = self.sc.unexpected("',' or ']' after an array item");
                    return Err(self.syntax(e, Some(path)));
                }
            }
        }
    }
}

/// Look ahead in the object starting at `open` (its `{`) for its top-level `"resourceType"`,
/// wherever it stands. Costs nothing when it comes first (the usual case); otherwise one
/// syntax-only skip over the members before it. A syntax error before it gives `Missing`: the
/// walk then reports the syntax error itself.
pub(crate) fn find_resource_type(line: &[u8], open: usize) -> Found {
    match find_member(line, open, "resourceType") {
        None => Found::Missing,
        Some(Token::String(s)) => {
            let name = s.text(line);
            match crate::r4::resource_type_id(&name) {
                Some(tid) => Found::Known(tid),
                None => Found::Unknown(name.into_owned()),
            }
        }
        Some(_) => Found::NotString,
    }
}

/// The first token of the top-level member `key` of the object at `open`, by look-ahead.
pub(crate) fn find_member(line: &[u8], open: usize, key: &str) -> Option<Token> {
    let mut sc = Scanner { bytes: line, pos: open + 1 };
    if sc.peek() == Some(b'}') {
        return None;
    }
    loop {
        let k = sc.member_key().ok()?;
        if k.raw(line) == key.as_bytes() || (k.escaped && k.text(line) == key) {
            return sc.value().ok();
        }
        if sc.skip_value().is_err() || sc.peek() != Some(b',') {
            return None;
        }
        sc.pos += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(line: &str) -> (RootFacts, Vec<(Code, usize, Option<String>)>) {
        let mut issues = Issues::new(100);
        let mut scratch = Scratch::default();
        let facts = Walk::line(line, &mut issues, &mut scratch, 8);
        assert!(scratch.keys.is_empty(), "key stack must be empty after a line");
        let diags = issues
            .finish(1, 0, line.as_bytes())
            .into_iter()
            .map(|d| (d.code, d.byte_offset.unwrap_or(u64::MAX) as usize, d.path))
            .collect();
        (facts, diags)
    }

    #[test]
    fn valid_lines_have_no_issue() {
        for line in [
            r#"{"resourceType":"Patient","id":"a"}"#,
            r#"  { "a" : [ 1 , 2.5e3 , true , false , null , "x\"y" , { } , [ ] ] , "b" : { "c" : { } } }  "#,
            r#"{"x":"\ud83d\ude00","y":"\u00e9"}"#,
            r#"{}"#,
        ] {
            let (facts, diags) = walk(line);
            assert!(diags.is_empty(), "{line}: {diags:?}");
            assert!(facts.complete && facts.is_object);
        }
    }

    #[test]
    fn syntax_errors_have_offsets_and_paths() {
        let cases = [
            (r#"{"a":1,}"#, 7, "object"),
            (r#"{"a" 1}"#, 5, "colon"),
            (r#"{"a":[1 2]}"#, 8, "array comma"),
            (r#"{"resourceType":"Patient","name":[{"given":[tru]}]}"#, 44, "literal"),
            (r#"{"a":1}x"#, 7, "trailing"),
            (r#"{"a":1"#, 6, "eof"),
        ];
        for (line, offset, what) in cases {
            let (facts, diags) = walk(line);
            assert_eq!(diags.len(), 1, "{what}: {diags:?}");
            assert_eq!(diags[0].0, Code::JsonSyntax, "{what}");
            assert_eq!(diags[0].1, offset, "{what}");
            assert!(!facts.complete, "{what}");
        }
        let (_, diags) = walk(r#"{"resourceType":"Patient","name":[{"given":[tru]}]}"#);
        assert_eq!(diags[0].2.as_deref(), Some("Patient.name[0].given[0]"));
    }

    #[test]
    fn not_an_object() {
        for (line, code) in [
            ("[1]", Code::NdjsonNotObject),
            ("\"x\"", Code::NdjsonNotObject),
            ("12", Code::NdjsonNotObject),
            ("}", Code::JsonSyntax),
            ("nope", Code::JsonSyntax),
        ] {
            let (facts, diags) = walk(line);
            assert_eq!(diags.len(), 1, "{line}");
            assert_eq!(diags[0].0, code, "{line}");
            assert!(!facts.is_object);
        }
    }

    #[test]
    fn duplicate_keys_at_any_depth() {
        let line = r#"{"resourceType":"Patient","name":[{"family":"a","given":["b"],"family":"c"}],"active":true,"active":false}"#;
        let (_, diags) = walk(line);
        let got: Vec<_> = diags.iter().map(|d| (d.0, d.1, d.2.clone().unwrap_or_default())).collect();
        let second_family = line.find(r#""family":"c""#).unwrap();
        let second_active = line.find(r#""active":false"#).unwrap();
        assert_eq!(
            got,
            vec![
                (Code::JsonDuplicateKey, second_family, "Patient.name[0].family".to_owned()),
                (Code::JsonDuplicateKey, second_active, "Patient.active".to_owned()),
            ]
        );
        // Escaped spelling of the same key is the same key.
        let (_, diags) = walk(r#"{"id":"a","\u0069d":"b"}"#);
        assert_eq!(diags.len(), 1);
        // Keys of sibling objects do not collide.
        let (_, diags) = walk(r#"{"a":{"x":1},"b":{"x":1}}"#);
        assert!(diags.is_empty());
    }

    #[test]
    fn duplicate_keys_in_big_objects() {
        let mut line = String::from("{");
        for i in 0..100 {
            line.push_str(&format!("\"k{i}\":{i},"));
        }
        line.push_str("\"k5\":0,\"k99\":1,\"new\":2}");
        let (_, diags) = walk(&line);
        let paths: Vec<_> = diags.iter().map(|d| d.2.clone().unwrap_or_default()).collect();
        assert_eq!(paths, vec!["k5", "k99"]);
    }

    #[test]
    fn depth_limit() {
        // max_depth 8 in these tests: root object + 7 nested levels pass.
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(7), "]".repeat(7));
        assert!(walk(&ok).1.is_empty());
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(8), "]".repeat(8));
        let (_, diags) = walk(&deep);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].0, Code::JsonTooDeep);
        assert_eq!(diags[0].1, 5 + 7);
    }

    #[test]
    fn lone_surrogates() {
        let (facts, diags) = walk(r#"{"a":"\ud800","b":"\udc00x"}"#);
        assert!(facts.complete);
        let got: Vec<_> = diags.iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(got, vec![(Code::JsonInvalidUnicodeEscape, 6), (Code::JsonInvalidUnicodeEscape, 19)]);
    }

    #[test]
    fn root_members_and_late_resource_type() {
        let (facts, diags) = walk(
            r#"{"id":"x","meta":{"versionId":"1"},"status":"final","code":{"text":"t"},"resourceType":"Observation"}"#,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(facts.path_root, "Observation");
        let Some(Member { value: Token::String(_), value_offset }) = facts.id else { panic!() };
        assert_eq!(value_offset, 6);
        assert!(facts.resource_type.is_some());
        let (_, diags) = walk(r#"{"code":{"text":"a","text":"b"},"status":"final","resourceType":"Observation"}"#);
        assert_eq!(diags[0].2.as_deref(), Some("Observation.code.text"));
        let (facts, _) = walk(r#"{"resourceType":"Bad Type"}"#);
        assert_eq!(facts.path_root, "");
    }
}
