//! The walk: one recursive-descent pass over a line that parses the JSON against the model and
//! tracks what the rules need — no tree is built. Nesting is bounded by `--max-depth` before any
//! recursion, so no input can overflow the stack.
//!
//! The walk decides how to read (which type an object is, whether a key is known, whether a value
//! has the right JSON shape) and calls the rules in `crate::check` at the hook points (see there);
//! it holds no rule text and no rule body. It tracks, per object, its type, which elements are
//! present, the values its type's rules read and the `null` items of its primitive arrays; per
//! resource, the `#id` references and contained ids; per line, the root's `resourceType` and `id`.
//!
//! This file: the line, generic objects (type unknown), arrays, values; `typed.rs`: objects of a
//! known type, their properties and nested resources.
//!
//! May import: `json`, `model`, `facts`, `check`, `diagnostic`.

pub(crate) mod memo;
mod typed;

use std::borrow::Cow;
use std::collections::HashSet;

use crate::check::{self, Rules};
use crate::diagnostic::Findings;
use crate::facts::{Captured, ContainedId, Ctx, Line, LineFacts, LocalRef, Member, MemberIndex, NullItem, Path};
use crate::json::scan::{JsonStr, Scanner, SyntaxError, Token};
use crate::model::{Model, TypeId};
use crate::profile::ProfileSet;

/// The walk stopped: a fatal finding was pushed and the rest of the line is not read.
#[derive(Debug)]
pub(crate) struct Stop;

/// What one thread reuses from line to line: the walk's buffers, and the members FHIRPath found.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    buffers: Buffers,
    members: MemberIndex,
    /// Objects read before, on this thread (kept from line to line).
    pub(crate) memo: memo::Memo,
}

impl Scratch {
    pub(crate) fn clear(&mut self) {
        self.buffers.clear();
        self.members.clear();
    }
}

/// The walk's buffers.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    /// Keys of the objects being read, innermost last (for duplicate detection).
    keys: Vec<JsonStr>,
    /// `null` items of primitive arrays in the objects being read.
    nulls: Vec<NullItem>,
    /// The members of the objects being read (for their object rules and the FHIRPath engine).
    captured: Vec<Captured>,
    /// Where the items of the arrays being read start.
    items: Vec<Option<usize>>,
    /// `#id` references in the resources being read (for dom-3 and resolution).
    local_refs: Vec<LocalRef>,
    /// Ids of the contained resources being read.
    contained: Vec<ContainedId>,
}

impl Buffers {
    fn clear(&mut self) {
        self.keys.clear();
        self.nulls.clear();
        self.captured.clear();
        self.items.clear();
        self.local_refs.clear();
        self.contained.clear();
    }
}

/// Objects with more keys than this switch from a linear duplicate scan to a hash set, so that an
/// object with a million keys stays linear.
const LINEAR_KEYS: usize = 32;

pub(crate) struct Walk<'a, 'w> {
    line: Line<'a>,
    sc: Scanner<'a>,
    findings: &'w mut Findings,
    scratch: &'w mut Buffers,
    rules: &'a Rules,
    max_depth: usize,
    /// Where the contained ids of the resource that owns the object being read start in
    /// `scratch.contained`.
    owner_contained: usize,
    /// Inside a resource whose `meta.profile` names a profile here: every object is kept (the
    /// profile engine reads them through FHIRPath nodes).
    keep_all: bool,
    memo: &'w mut memo::Memo,
    /// An object whose rules read more than itself was read (since the innermost object being
    /// remembered started): that object is not remembered.
    contextual: bool,
    /// The depth of the deepest typed object read (since the innermost object being remembered
    /// started).
    deepest: usize,
}

/// What a look-ahead found as an object's `resourceType`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    Known(TypeId),
    Missing,
    NotString,
    Unknown(String),
}

impl<'a, 'w> Walk<'a, 'w> {
    /// Walk one line (valid UTF-8, not blank) against `model`, and run the line rules.
    pub(crate) fn line(
        text: &'a str,
        model: &'a Model,
        rules: &'a Rules,
        profiles: Option<&'a ProfileSet>,
        findings: &'w mut Findings,
        scratch: &'w mut Scratch,
        max_depth: usize,
    ) -> LineFacts {
        let bytes = text.as_bytes();
        let Scratch { buffers, members, memo } = scratch;
        members.clear();
        let line = Line { bytes, text, model, members, profiles };
        let mut walk = Walk {
            line,
            sc: Scanner::new(bytes),
            findings,
            scratch: buffers,
            rules,
            max_depth,
            owner_contained: 0,
            keep_all: false,
            memo,
            contextual: false,
            deepest: 0,
        };
        let facts = walk.root();
        if facts.is_object {
            for rule in &rules.line {
                rule(text, &facts, walk.findings);
            }
        }
        facts
    }

    fn root(&mut self) -> LineFacts {
        let mut facts = LineFacts::default();
        if self.sc.peek() != Some(b'{') {
            self.not_object();
            return facts;
        }
        facts.is_object = true;
        let open = self.sc.pos;
        let found = find_resource_type(self.line, open);
        let root_name = match found {
            Found::Known(tid) => self.line.model.ty(tid).name,
            _ => "",
        };
        let root = Path::Root(root_name);
        self.sc.pos += 1;
        let walked = match found {
            Found::Known(tid) => self.typed_object(1, &root, tid, open, Ctx::default(), None, Some(&mut facts)),
            _ => self.object(1, &root, Some(&mut facts)),
        };
        if walked.is_ok() {
            facts.complete = true;
            if self.sc.peek().is_some() {
                check::json::trailing(self.findings, self.sc.pos);
                facts.complete = false;
            }
        }
        facts.path_root = root_name;
        facts
    }

    #[cold]
    fn not_object(&mut self) {
        let offset = self.sc.pos;
        match self.sc.value() {
            Ok(token) => check::json::not_object(self.findings, token, offset),
            Err(e) => check::json::syntax(self.findings, e, None),
        }
    }

    #[cold]
    fn syntax_error(&mut self, e: SyntaxError, path: &Path<'_>) -> Stop {
        check::json::syntax(self.findings, e, Some(path));
        Stop
    }

    #[cold]
    fn too_deep(&mut self, offset: usize, path: &Path<'_>) -> Stop {
        check::json::too_deep(self.findings, self.max_depth, offset, path);
        Stop
    }

    /// Offset of the next value (after whitespace), or the line length at its end.
    fn value_offset(&mut self) -> usize {
        match self.sc.peek() {
            Some(_) => self.sc.pos,
            None => self.line.bytes.len(),
        }
    }

    /// A generic object whose `{` was consumed (type unknown: syntax, duplicates, depth only).
    fn object_generic(&mut self, depth: usize, path: &Path<'_>) -> Result<(), Stop> {
        self.object(depth, path, None)
    }

    /// Key text for paths: the raw (still escaped) text.
    fn key_str(&self, key: &JsonStr) -> &'a str {
        self.line.text.get(key.start()..key.end()).unwrap_or("?")
    }

    /// An object whose `{` was consumed; `depth` counts it.
    fn object(&mut self, depth: usize, path: &Path<'_>, mut root: Option<&mut LineFacts>) -> Result<(), Stop> {
        if self.sc.peek() == Some(b'}') {
            self.sc.pos += 1;
            return Ok(());
        }
        let base = self.scratch.keys.len();
        let mut big: Option<HashSet<Cow<'a, str>>> = None;
        let result = loop {
            let key = match self.sc.member_key() {
                Ok(key) => key,
                Err(e) => break Err(self.syntax_error(e, path)),
            };
            let member_path = Path::Member(path, self.key_str(&key));
            self.check_duplicate(base, &mut big, key, &member_path);
            let value_offset = self.value_offset();
            let value = match self.value(depth, &member_path) {
                Ok(token) => token,
                Err(stop) => break Err(stop),
            };
            if let Some(facts) = root.as_deref_mut() {
                let member = Member { value_offset, value };
                let text = key.text(self.line.bytes);
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
    fn after_member(&mut self, path: &Path<'_>) -> Result<bool, Stop> {
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
                Err(self.syntax_error(e, path))
            }
        }
    }

    /// Report `key` if it was already seen in this object (keys from `base` on); returns whether it was.
    fn check_duplicate(
        &mut self,
        base: usize,
        big: &mut Option<HashSet<Cow<'a, str>>>,
        key: JsonStr,
        path: &Path<'_>,
    ) -> bool {
        let line = self.line.bytes;
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
    fn duplicate_key(&mut self, key: JsonStr, path: &Path<'_>) {
        check::json::duplicate_key(self.findings, key.text(self.line.bytes).into_owned(), key.start(), path);
    }

    /// One value at `depth` (the depth of its container); containers are read to their end.
    fn value(&mut self, depth: usize, path: &Path<'_>) -> Result<Token, Stop> {
        let offset = self.sc.pos;
        let token = match self.sc.value() {
            Ok(token) => token,
            Err(e) => return Err(self.syntax_error(e, path)),
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
    fn lone_surrogate_at(&mut self, at: usize, path: &Path<'_>) {
        let escape = std::str::from_utf8(&self.line.bytes[at..at + 6]).unwrap_or("\\u????");
        check::json::lone_surrogate(self.findings, escape, at, path);
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
                    return Err(self.syntax_error(e, path));
                }
            }
        }
    }
}

/// Look ahead in the object starting at `open` (its `{`) for its top-level `"resourceType"`,
/// wherever it stands. Costs nothing when it comes first (the usual case); otherwise one
/// syntax-only skip over the members before it. A syntax error before it gives `Missing`: the
/// walk then reports the syntax error itself.
pub(crate) fn find_resource_type(line: Line<'_>, open: usize) -> Found {
    match crate::json::scan::find_member(line.bytes, open, "resourceType") {
        None => Found::Missing,
        Some(Token::String(s)) => {
            let name = s.str_in(line.text);
            match line.model.resource_type(&name) {
                Some(tid) => Found::Known(tid),
                None => Found::Unknown(name.into_owned()),
            }
        }
        Some(_) => Found::NotString,
    }
}

/// Walking a line from the tests of the rules.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Walk `line` against base R4 with its rules; the line's facts.
    pub(crate) fn walk(line: &str, findings: &mut Findings) -> LineFacts {
        walk_depth(line, findings, 128)
    }

    pub(crate) fn walk_depth(line: &str, findings: &mut Findings, max_depth: usize) -> LineFacts {
        let mut scratch = Scratch::default();
        let profiles = crate::Profiles::default();
        let facts = Walk::line(line, Model::r4(), Rules::r4(), Some(&profiles.set), findings, &mut scratch, max_depth);
        assert!(scratch.buffers.keys.is_empty(), "key stack must be empty after a line");
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::diagnostic::Code;

    /// The walk alone (no line rules: those have their own tests), at depth 8.
    fn walk(line: &str) -> (LineFacts, Vec<(Code, usize, Option<String>)>) {
        let mut findings = Findings::new(100);
        let mut scratch = Scratch::default();
        let rules = Rules::compile(Model::r4(), &[]);
        let facts = Walk::line(line, Model::r4(), &rules, None, &mut findings, &mut scratch, 8);
        assert!(scratch.buffers.keys.is_empty(), "key stack must be empty after a line");
        let diags = findings
            .finish(1, 0, line.as_bytes())
            .into_iter()
            .map(|d| (d.code(), d.byte_offset().unwrap_or(u64::MAX) as usize, d.path()))
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
