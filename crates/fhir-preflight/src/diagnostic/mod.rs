//! Diagnostics are data: a stable code (from one table, with its default severity and rule key),
//! a severity, a structured message and where it applies. Rules push [`Finding`]s into the line's
//! [`Findings`]; the line's [`Diagnostic`]s come out of them; text is rendered at the edge, with
//! or without the data's values ([`Redaction`]).
//!
//! May import: nothing of the crate (every other module imports this one).

mod code;
mod findings;
mod level;
mod message;

use std::borrow::Cow;
use std::fmt;

pub use code::Code;
pub(crate) use findings::{Diagnostics, Finding, Findings};
pub use level::Level;
pub use message::Redaction;
pub(crate) use message::{m, q, Message, REDACTED};

/// How bad a diagnostic is. A line is a customer error iff one of its diagnostics is
/// [`Severity::Error`] or [`Severity::Fatal`]; warnings and information never change a verdict.
///
/// ```
/// use fhir_preflight::Severity;
/// assert!(Severity::Fatal > Severity::Error && Severity::Error.is_failure());
/// assert!(!Severity::Warning.is_failure());
/// assert_eq!(Severity::Information.as_str(), "information");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A remark; FHIR's `information`.
    Information,
    /// Accepted by HealthLake, but worth fixing.
    Warning,
    /// The line is rejected.
    Error,
    /// The line is rejected and could not be read further (e.g. broken JSON).
    Fatal,
}

impl Severity {
    /// The FHIR `IssueSeverity` code.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Information => "information",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
        }
    }

    /// True for [`Severity::Error`] and [`Severity::Fatal`].
    pub fn is_failure(self) -> bool {
        self >= Severity::Error
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding on one line (or, for file-level findings, on the file; for run-level ones, on
/// the run: line 0). Its message and path keep the data's values apart from our words, so that
/// they render with or without them ([`Redaction`]).
///
/// ```
/// use fhir_preflight::{validate_bytes, Code, LineResult, Options};
/// let mut found = Vec::new();
/// let mut sink = |l: &LineResult<'_>| found.extend(l.diagnostics.iter().cloned());
/// validate_bytes(b"{\"resourceType\":\"Patient\",\"id\":\"p\",\"gender\":\"F\"}", &Options::default(), &mut sink);
/// let d = &found[0];
/// assert_eq!((d.code(), d.line(), d.column(), d.path().as_deref()), (Code::BindingRequired, 1, Some(45), Some("Patient.gender")));
/// assert!(d.to_string().starts_with("1:45: error[binding/required]"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    code: Code,
    key: Option<Cow<'static, str>>,
    severity: Severity,
    message: Message,
    line: u64,
    column: Option<u64>,
    byte_offset: Option<u64>,
    path: Option<Message>,
}

impl Diagnostic {
    /// A finding about a whole file (line ≥ 1) or run (line 0), with our own words only: at the
    /// code's default severity, without column or path.
    ///
    /// ```
    /// use fhir_preflight::{Code, Diagnostic, Severity};
    /// let d = Diagnostic::note(Code::HealthlakeLimit, 0, "too many files");
    /// assert_eq!((d.severity(), d.line(), d.message()), (Severity::Warning, 0, "too many files".to_owned()));
    /// ```
    pub fn note(code: Code, line: u64, message: impl Into<String>) -> Self {
        Self::from_parts(code, None, message::Message::plain(message.into()), line)
    }

    pub(crate) fn from_parts(code: Code, severity: Option<Severity>, message: Message, line: u64) -> Self {
        Diagnostic {
            code,
            key: None,
            severity: severity.unwrap_or(code.default_severity()),
            message,
            line,
            column: None,
            byte_offset: None,
            path: None,
        }
    }

    pub(crate) fn with_location(
        mut self,
        column: Option<u64>,
        byte_offset: Option<u64>,
        path: Option<Message>,
    ) -> Self {
        self.column = column;
        self.byte_offset = byte_offset;
        self.path = path;
        self
    }

    pub(crate) fn with_key(mut self, key: Option<Cow<'static, str>>) -> Self {
        self.key = key;
        self
    }

    /// Stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The rule's key where it has one: HL7's constraint key (`ext-1`, `dom-3`; invariants and
    /// profile rules will carry theirs).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref().or(self.code.key())
    }

    /// Severity (after the validation level).
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// What is wrong, for a person, values shown. Quotes only values of code, id, uri and
    /// date/time types (at most 64 characters), never free text.
    pub fn message(&self) -> String {
        self.message.render(Redaction::Off)
    }

    /// [`Diagnostic::message`], values shown or redacted.
    pub fn message_with(&self, redaction: Redaction) -> String {
        self.message.render(redaction)
    }

    /// 1-based physical line in the input (blank lines count); 0 for a finding about a whole run.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// 1-based column in Unicode characters, where it applies.
    pub fn column(&self) -> Option<u64> {
        self.column
    }

    /// 0-based byte offset in the (decompressed) input, where it applies.
    pub fn byte_offset(&self) -> Option<u64> {
        self.byte_offset
    }

    /// FHIR path of the element (`Patient.name[0].given`), where there is one.
    pub fn path(&self) -> Option<String> {
        self.path_with(Redaction::Off)
    }

    /// [`Diagnostic::path`], with property names FHIR does not define shown or redacted.
    pub fn path_with(&self, redaction: Redaction) -> Option<String> {
        self.path.as_ref().map(|p| p.render(redaction))
    }
}

impl fmt::Display for Diagnostic {
    /// `line:column: severity[code] message (at path)`, values shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        write!(f, ": {}[{}] {}", self.severity, self.code, self.message())?;
        if let Some(path) = self.path() {
            write!(f, " (at {path})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_shaped() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            let (group, name) = s.split_once('/').expect("group/name");
            assert!(!group.is_empty() && !name.is_empty());
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b == b'/' || b == b'-' || b.is_ascii_digit()));
        }
    }

    #[test]
    fn severity_order_and_failure() {
        assert!(!Severity::Warning.is_failure());
        assert!(!Severity::Information.is_failure());
        assert!(Severity::Error.is_failure());
        assert!(Severity::Fatal.is_failure());
    }

    #[test]
    fn display() {
        let d = Diagnostic::from_parts(Code::JsonSyntax, None, Message::plain("expected ':'"), 3).with_location(
            Some(7),
            Some(40),
            Some(Message::plain("Patient.name")),
        );
        assert_eq!(d.to_string(), "3:7: fatal[json/syntax] expected ':' (at Patient.name)");
        assert_eq!(d.key(), None);
        assert_eq!(Diagnostic::note(Code::InvariantDom3, 1, "x").key(), Some("dom-3"));
    }
}
