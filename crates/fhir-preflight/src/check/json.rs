//! Findings about the JSON itself, made while the walk reads it: syntax errors (fatal: the line is
//! not read further), a line that is not an object, the same property twice in one object (JSON
//! readers silently keep one of them), nesting deeper than `--max-depth`, and `\u` escapes that
//! are lone UTF-16 surrogates. Example failing line: `{"active":tru}`.

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::Path;
use crate::json::scan::{SyntaxError, Token};

/// The line is not JSON (the offending byte and what was expected).
#[cold]
pub(crate) fn syntax(f: &mut Findings, e: SyntaxError, path: Option<&Path<'_>>) {
    let (offset, message) = e.into_parts();
    f.push(Finding::new(Code::JsonSyntax, Message::plain(message)).at(offset).on(path.and_then(Path::render)));
}

/// The line holds JSON that is not an object.
#[cold]
pub(crate) fn not_object(f: &mut Findings, token: Token, offset: usize) {
    let message = format!("a line must hold one JSON object (a FHIR resource), found {}", token.kind_name());
    f.push(Finding::new(Code::NdjsonNotObject, Message::plain(message)).at(offset));
}

/// Text after the line's object.
#[cold]
pub(crate) fn trailing(f: &mut Findings, offset: usize) {
    let message = "unexpected characters after the end of the JSON object (one resource per line)";
    f.push(Finding::new(Code::JsonSyntax, Message::plain(message)).at(offset));
}

/// The property `key` (at `key_start`, after its quote) was already in this object.
#[cold]
pub(crate) fn duplicate_key(f: &mut Findings, key: String, key_start: usize, path: &Path<'_>) {
    let message = Message::new(
        "property {} appears more than once in the same object (JSON readers silently keep one of them)",
        [q(key)],
    );
    f.push(Finding::new(Code::JsonDuplicateKey, message).at(key_start - 1).on(path.render()));
}

/// Nesting deeper than `--max-depth`.
#[cold]
pub(crate) fn too_deep(f: &mut Findings, max_depth: usize, offset: usize, path: &Path<'_>) {
    let message = format!("JSON nested deeper than {max_depth} levels (--max-depth); the rest of the line is not read");
    f.push(Finding::new(Code::JsonTooDeep, Message::plain(message)).at(offset).on(path.render()));
}

/// A `\u` escape (its six bytes, at `at`) that is a lone surrogate.
#[cold]
pub(crate) fn lone_surrogate(f: &mut Findings, escape: &str, at: usize, path: &Path<'_>) {
    let message = format!("escape {escape} is a lone UTF-16 surrogate, not a Unicode character");
    f.push(Finding::new(Code::JsonInvalidUnicodeEscape, Message::plain(message)).at(at).on(path.render()));
}
