//! One line, start to verdict: UTF-8, then the walk (parse + checks), then the root checks. A
//! panic inside is caught here and becomes a server error for that line only.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::check::Rules;
use crate::diagnostic::{Code, Diagnostic, Finding, Findings, Message};
use crate::facts::Member;
use crate::json::scan::Token;
use crate::model::Model;
use crate::options::Options;
use crate::walk::{Scratch, Walk};

/// What HealthLake would do with a line.
///
/// ```
/// assert_eq!(fhir_preflight::LineStatus::CustomerError.status_code(), 400);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineStatus {
    /// Imported (status 200): no error-level diagnostic.
    Imported,
    /// Rejected because of the data (status 400).
    CustomerError,
    /// The validator failed on this line (status 500); not the data's fault.
    ServerError,
}

impl LineStatus {
    /// The HTTP status HealthLake writes in the record.
    pub fn status_code(self) -> u16 {
        match self {
            LineStatus::Imported => 200,
            LineStatus::CustomerError => 400,
            LineStatus::ServerError => 500,
        }
    }
}

/// A string of the line, kept as a span when it has no escapes (no allocation per line).
#[derive(Debug)]
pub(crate) enum Text {
    /// A name of the model (a known `resourceType`): no UTF-8 check when it is read.
    Name(&'static str),
    Span(usize, usize),
    Owned(Box<str>),
}

impl Text {
    pub(crate) fn as_str<'a>(&'a self, line: &'a [u8]) -> Option<&'a str> {
        match self {
            Text::Name(name) => Some(name),
            Text::Span(start, end) => std::str::from_utf8(&line[*start..*end]).ok(),
            Text::Owned(s) => Some(s),
        }
    }

    /// The line is the `str` it was checked to be: slice it, no second UTF-8 check.
    fn of_member(line: &str, member: Option<Member>) -> Option<Text> {
        let Token::String(s) = member?.value else { return None };
        Some(match s.str_in(line) {
            Cow::Borrowed(_) => Text::Span(s.start(), s.end()),
            Cow::Owned(o) => Text::Owned(o.into_boxed_str()),
        })
    }
}

/// The verdict on one line, before it is delivered to the sink.
#[derive(Debug)]
pub(crate) struct LineOutcome {
    pub(crate) status: LineStatus,
    pub(crate) diagnostics: crate::diagnostic::Diagnostics,
    pub(crate) resource_type: Option<Text>,
    pub(crate) resource_id: Option<Text>,
}

thread_local! {
    static IN_PROGRESS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The physical line number the current thread is validating, if any: for panic hooks where
/// panics abort (wasm32), to say which line the validator failed on.
///
/// ```
/// assert_eq!(fhir_preflight::line_in_progress(), None); // not inside a validation
/// ```
pub fn line_in_progress() -> Option<u64> {
    let n = IN_PROGRESS.with(std::cell::Cell::get);
    (n != 0).then_some(n)
}

/// Validate the physical line `number` (bytes without terminator, after any BOM) that starts at
/// file offset `offset`. Never panics: a panic inside becomes a server error.
pub(crate) fn validate(line: &[u8], number: u64, offset: u64, options: &Options) -> LineOutcome {
    thread_local! {
        // The walk's reusable buffers: one per thread for its whole life (not one per batch or
        // per rayon split).
        static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => validate_with(line, number, offset, options, &mut scratch),
        // Re-entered on this thread (never expected): fresh buffers.
        Err(_) => validate_with(line, number, offset, options, &mut Scratch::default()),
    })
}

fn validate_with(line: &[u8], number: u64, offset: u64, options: &Options, scratch: &mut Scratch) -> LineOutcome {
    IN_PROGRESS.with(|c| c.set(number));
    let result = catch_unwind(AssertUnwindSafe(|| validate_inner(line, options, scratch)));
    IN_PROGRESS.with(|c| c.set(0));
    match result {
        Ok((findings, resource_type, resource_id)) => {
            let status = if findings.is_failure() { LineStatus::CustomerError } else { LineStatus::Imported };
            LineOutcome { status, diagnostics: findings.finish(number, offset, line), resource_type, resource_id }
        }
        Err(panic) => {
            scratch.clear();
            server_error(number, offset, &panic_message(panic.as_ref()))
        }
    }
}

fn validate_inner(line: &[u8], options: &Options, scratch: &mut Scratch) -> (Findings, Option<Text>, Option<Text>) {
    #[cfg(feature = "fault-injection")]
    if let Some(marker) = &options.panic_marker {
        if memchr::memmem::find(line, marker).is_some() {
            panic!("injected fault");
        }
    }
    let mut findings =
        Findings::with_level(options.max_issues_per_line, options.level).with_best_practice(options.best_practice);
    // simdutf8's fast check; std's only on failure, to locate the error.
    let text = match simdutf8::basic::from_utf8(line).or_else(|_| std::str::from_utf8(line)) {
        Ok(text) => text,
        Err(e) => {
            invalid_utf8(&mut findings, e.valid_up_to(), e.error_len());
            return (findings, None, None);
        }
    };
    let profiles = (options.level != crate::Level::StructureOnly).then_some(&*options.profiles.set);
    let rules = Rules::r4();
    let profiles_at = profiles.map_or(0, |p| p as *const _ as usize);
    scratch.memo.prepare(options.memo, rules as *const Rules as usize, profiles_at);
    let facts = Walk::line(text, Model::r4(), rules, profiles, &mut findings, scratch, options.max_depth);
    // A known type: the walk found it by this name (`path_root`), the model's own string.
    let resource_type = match facts.path_root {
        "" => Text::of_member(text, facts.resource_type),
        name => Some(Text::Name(name)),
    };
    let resource_id = Text::of_member(text, facts.id);
    (findings, resource_type, resource_id)
}

#[cold]
fn invalid_utf8(findings: &mut Findings, at: usize, len: Option<usize>) {
    let message = match len {
        Some(_) => "the line is not valid UTF-8 (FHIR JSON must be UTF-8); the line is not read further",
        None => "the line ends inside a UTF-8 sequence (FHIR JSON must be UTF-8); the line is not read further",
    };
    findings.push(Finding::new(Code::EncodingInvalidUtf8, Message::plain(message)).at(at));
}

/// The outcome of a line longer than `--max-line-bytes`, which was never held in memory.
#[cold]
pub(crate) fn too_long(number: u64, offset: u64, len: u64, max: u64) -> LineOutcome {
    let message = format!("the line is {len} bytes long, more than --max-line-bytes {max}; it was not read");
    let diagnostic = Diagnostic::from_parts(Code::NdjsonLineTooLong, None, Message::plain(message), number)
        .with_location(None, Some(offset), None);
    LineOutcome {
        status: LineStatus::CustomerError,
        diagnostics: smallvec::smallvec![diagnostic],
        resource_type: None,
        resource_id: None,
    }
}

#[cold]
pub(crate) fn server_error(number: u64, offset: u64, what: &str) -> LineOutcome {
    let message = format!("internal error while validating this line ({what}); please report it");
    let diagnostic = Diagnostic::from_parts(Code::InternalError, None, Message::plain(message), number).with_location(
        None,
        Some(offset),
        None,
    );
    LineOutcome {
        status: LineStatus::ServerError,
        diagnostics: smallvec::smallvec![diagnostic],
        resource_type: None,
        resource_id: None,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &[u8]) -> LineOutcome {
        validate(line, 3, 100, &Options::default())
    }

    #[test]
    fn imported_line() {
        let line = br#"{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">p1</div>"}}"#;
        let o = run(line);
        assert_eq!(o.status, LineStatus::Imported);
        assert!(o.diagnostics.is_empty(), "{:?}", o.diagnostics);
        assert_eq!(o.resource_type.as_ref().and_then(|t| t.as_str(line)), Some("Patient"));
        assert_eq!(o.resource_id.as_ref().and_then(|t| t.as_str(line)), Some("p1"));
        assert!(matches!(o.resource_id, Some(Text::Span(..))));
    }

    #[test]
    fn escaped_id_is_decoded() {
        let line = br#"{"resourceType":"Patient","id":"p\u0031"}"#;
        let o = run(line);
        assert_eq!(o.resource_id.as_ref().and_then(|t| t.as_str(line)), Some("p1"));
    }

    #[test]
    fn invalid_utf8_is_a_customer_error_with_column() {
        let line = b"{\"resourceType\":\"Pat\xffient\",\"id\":\"a\"}";
        let o = run(line);
        assert_eq!(o.status, LineStatus::CustomerError);
        assert_eq!(o.diagnostics.len(), 1);
        let d = &o.diagnostics[0];
        assert_eq!(d.code(), Code::EncodingInvalidUtf8);
        assert_eq!((d.line(), d.column(), d.byte_offset()), (3, Some(21), Some(120)));
        // Overlong encoding of '/' is invalid UTF-8 too.
        assert_eq!(run(b"{\"a\":\"\xc0\xaf\"}").diagnostics[0].code(), Code::EncodingInvalidUtf8);
    }

    #[test]
    fn warnings_do_not_fail_a_line() {
        // Only error/fatal fail; this line has none.
        let o = run(br#"{"resourceType":"Patient","id":"x"}"#);
        assert_eq!(o.status, LineStatus::Imported);
    }

    #[test]
    fn injected_panic_is_a_server_error() {
        let options = Options::default().with_panic_marker(b"BOOM");
        // The thread's scratch is reused after the panic.
        let o = validate(br#"{"resourceType":"Patient","id":"BOOM"}"#, 9, 0, &options);
        assert_eq!(o.status, LineStatus::ServerError);
        assert_eq!(o.diagnostics[0].code(), Code::InternalError);
        assert_eq!(o.diagnostics[0].line(), 9);
        let o = validate(br#"{"resourceType":"Patient","id":"ok"}"#, 10, 0, &options);
        assert_eq!(o.status, LineStatus::Imported);
    }
}
