//! Diagnostics are data: a stable code, a severity, a message and where it applies.

use std::fmt;

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

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $issue_type:literal; )*) => {
        /// The stable code of a diagnostic (`json/syntax`, `resource/id-missing`, …). The strings never
        /// change meaning; new codes may be added.
        ///
        /// ```
        /// use fhir_preflight::Code;
        /// assert_eq!(Code::ResourceIdMissing.as_str(), "resource/id-missing");
        /// assert_eq!(Code::ResourceIdMissing.issue_type(), "required"); // FHIR IssueType
        /// assert!(Code::ALL.len() > 70);
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable string, e.g. `json/syntax`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The FHIR `IssueType` code used in OperationOutcome records.
            pub fn issue_type(self) -> &'static str {
                match self { $(Code::$variant => $issue_type,)* }
            }
        }
    };
}

codes! {
    /// The file starts with a UTF-8 byte-order mark (RFC 8259 forbids senders to write one).
    NdjsonByteOrderMark = "ndjson/byte-order-mark", "structure";
    /// The file holds blank lines (reported once per file, with a count).
    NdjsonBlankLine = "ndjson/blank-line", "informational";
    /// A file holds several resource types (HealthLake accepts it; FHIR bulk data has one type per file).
    NdjsonMixedTypes = "ndjson/mixed-types", "informational";
    /// The same `(resourceType, id)` appears again (HealthLake keeps the last one).
    NdjsonDuplicateId = "ndjson/duplicate-id", "duplicate";
    /// A HealthLake import limit is exceeded (files per job, file size threshold).
    HealthlakeLimit = "healthlake/limit", "too-costly";
    /// A line is longer than `--max-line-bytes`.
    NdjsonLineTooLong = "ndjson/line-too-long", "too-long";
    /// A line is JSON, but not a JSON object.
    NdjsonNotObject = "ndjson/not-object", "structure";
    /// The file is gzip-compressed but was given as plain NDJSON.
    NdjsonCompressed = "ndjson/compressed", "structure";
    /// The file is a JSON array export, not NDJSON.
    NdjsonJsonArray = "ndjson/json-array", "structure";
    /// The file is UTF-16.
    EncodingUtf16 = "encoding/utf16", "structure";
    /// A line is not valid UTF-8.
    EncodingInvalidUtf8 = "encoding/invalid-utf8", "structure";
    /// A line is not valid JSON.
    JsonSyntax = "json/syntax", "structure";
    /// An object has the same property twice.
    JsonDuplicateKey = "json/duplicate-key", "structure";
    /// JSON nesting deeper than `--max-depth`.
    JsonTooDeep = "json/too-deep", "too-long";
    /// A `\u` escape is a lone UTF-16 surrogate: not a Unicode character.
    JsonInvalidUnicodeEscape = "json/invalid-unicode-escape", "structure";
    /// A property that the element's type does not define ("Unrecognised property").
    JsonUnknownProperty = "json/unknown-property", "structure";
    /// A single value where the element repeats (max `*`).
    JsonExpectedArray = "json/expected-array", "structure";
    /// An array where the element does not repeat (max 1).
    JsonExpectedSingle = "json/expected-single", "structure";
    /// The JSON kind is wrong for the type (a number for a string, an object for a primitive, …).
    JsonWrongType = "json/wrong-type", "structure";
    /// `null` where FHIR JSON allows none (only as a filler in primitive arrays).
    JsonNull = "json/null", "structure";
    /// `x[i]` and `_x[i]` are both `null`.
    JsonNullInBoth = "json/null-in-both", "structure";
    /// `{}`: an element with neither value nor children (ele-1).
    JsonEmptyObject = "json/empty-object", "structure";
    /// `[]` (rejected by current HL7 builds, accepted by HealthLake's: a warning).
    JsonEmptyArray = "json/empty-array", "structure";
    /// `fhir_comments` (not R4 JSON; accepted by HealthLake's validator: a warning).
    JsonFhirComments = "json/fhir-comments", "structure";
    /// A required element (min 1) is missing.
    CardinalityMin = "cardinality/min", "required";
    /// More than one variant of a choice element (`valueString` and `valueQuantity`).
    ChoiceMultiple = "choice/multiple", "structure";
    /// `""`.
    PrimitiveEmpty = "primitive/empty", "value";
    /// A string of only whitespace.
    PrimitiveWhitespaceOnly = "primitive/whitespace-only", "value";
    /// A string with leading or trailing whitespace.
    PrimitiveStringWhitespace = "primitive/string-whitespace", "value";
    /// A code with leading, trailing or repeated whitespace.
    PrimitiveCodeWhitespace = "primitive/code-whitespace", "value";
    /// An `id`-typed value that is not `[A-Za-z0-9\-\.]{1,64}`.
    PrimitiveId = "primitive/id", "value";
    /// Not a 32-bit integer (`1.0`, `1e4`, too large).
    PrimitiveInteger = "primitive/integer", "value";
    /// positiveInt below 1, unsignedInt below 0.
    PrimitiveIntegerRange = "primitive/integer-range", "value";
    /// A decimal with more than 18 digits or a 5+ digit exponent.
    PrimitiveDecimalRange = "primitive/decimal-range", "value";
    /// A date, dateTime, instant or time that is malformed or not a real date.
    PrimitiveDate = "primitive/date", "value";
    /// A dateTime with a time but no time zone.
    PrimitiveDateTimeNoZone = "primitive/datetime-no-tz", "value";
    /// A string longer than 1 MiB characters.
    PrimitiveStringTooLong = "primitive/string-too-long", "too-long";
    /// Control characters in a string.
    PrimitiveControlChar = "primitive/control-char", "value";
    /// Invalid base64.
    PrimitiveBase64 = "primitive/base64", "value";
    /// Whitespace in base64.
    PrimitiveBase64Whitespace = "primitive/base64-whitespace", "value";
    /// Whitespace in a uri, url or canonical.
    PrimitiveUriWhitespace = "primitive/uri-whitespace", "value";
    /// An invalid oid (or a uri starting `urn:oid:` that is not one).
    PrimitiveOid = "primitive/oid", "value";
    /// An invalid uuid (or a uri starting `urn:uuid:` that is not one).
    PrimitiveUuid = "primitive/uuid", "value";
    /// A uri starting `oid:` or `uuid:`.
    PrimitiveUriScheme = "primitive/uri-scheme", "value";
    /// A code outside the value set of a required binding.
    BindingRequired = "binding/required", "code-invalid";
    /// Narrative that is not XHTML.
    XhtmlParse = "xhtml/parse", "value";
    /// Narrative whose root is not a `div`.
    XhtmlRoot = "xhtml/root", "value";
    /// Narrative `div` outside the XHTML namespace.
    XhtmlNamespace = "xhtml/namespace", "value";
    /// An element FHIR narrative does not allow (`script`, `form`, …).
    XhtmlElement = "xhtml/element", "value";
    /// An attribute FHIR narrative does not allow (`onclick`, …).
    XhtmlAttribute = "xhtml/attribute", "value";
    /// txt-1: narrative with elements or attributes outside FHIR's subset.
    InvariantTxt1 = "invariant/txt-1", "invariant";
    /// txt-2: narrative without non-whitespace content.
    InvariantTxt2 = "invariant/txt-2", "invariant";
    /// ext-1: an extension has both `extension` and `value[x]`, or neither.
    InvariantExt1 = "invariant/ext-1", "invariant";
    /// A top-level extension's `url` is not an absolute URI (nested extensions may use a simple name).
    ExtensionUrl = "extension/url", "value";
    /// dom-2: a contained resource holds contained resources.
    InvariantDom2 = "invariant/dom-2", "invariant";
    /// dom-4: a contained resource has `meta.versionId` or `meta.lastUpdated`.
    InvariantDom4 = "invariant/dom-4", "invariant";
    /// dom-5: a contained resource has `meta.security`.
    InvariantDom5 = "invariant/dom-5", "invariant";
    /// A contained resource without `id`.
    ResourceContainedIdMissing = "resource/contained-id-missing", "required";
    /// `Reference.type` names a type the element does not allow.
    ReferenceTypeNotAllowed = "reference/type-not-allowed", "structure";
    /// `Reference.type` differs from the type in the literal reference.
    ReferenceTypeMismatch = "reference/type-mismatch", "structure";
    /// `#id` with no contained resource of that id.
    ReferenceContainedUnresolved = "reference/contained-unresolved", "not-found";
    /// A conditional reference (`Type?query`) outside a transaction/batch Bundle.
    ReferenceConditional = "reference/conditional", "business-rule";
    /// A conditional reference whose query is malformed.
    ReferenceConditionalQueryInvalid = "reference/conditional-query-invalid", "value";
    /// Whitespace in a reference.
    ReferenceWhitespace = "reference/whitespace", "value";
    /// A literal reference whose type (`Medication/1`) the element does not allow.
    ReferenceImpliedTypeNotAllowed = "reference/implied-type-not-allowed", "structure";
    /// `meta.profile` names a profile: HealthLake strict validates it; fhir-preflight checks base R4 only.
    ProfileUnchecked = "profile/unchecked", "informational";
    /// dom-3: a contained resource is not referenced from the resource.
    InvariantDom3 = "invariant/dom-3", "invariant";
    /// The resource has no `resourceType`.
    ResourceTypeMissing = "resource/type-missing", "required";
    /// `resourceType` is not a JSON string.
    ResourceTypeNotString = "resource/type-not-string", "structure";
    /// `resourceType` does not match `[A-Za-z]{1,256}`.
    ResourceTypeInvalid = "resource/type-invalid", "value";
    /// `resourceType` is not one of the 146 FHIR R4 resource types.
    ResourceUnknownType = "resource/unknown-type", "not-supported";
    /// The line's resource has no `id` (HealthLake requires one).
    ResourceIdMissing = "resource/id-missing", "required";
    /// `id` is not a JSON string.
    ResourceIdNotString = "resource/id-not-string", "structure";
    /// `id` does not match `[A-Za-z0-9\-\.]{1,64}`.
    ResourceIdInvalid = "resource/id-invalid", "value";
    /// More diagnostics than `--max-issues-per-line`; the rest are counted, not listed.
    LineTooManyIssues = "line/too-many-issues", "too-costly";
    /// The validator itself failed on this line (a bug): a server error, not the data's fault.
    InternalError = "internal/error", "exception";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding on one line (or, for file-level findings, on the file).
///
/// ```
/// use fhir_preflight::{validate_bytes, Code, LineResult, Options};
/// let mut found = Vec::new();
/// let mut sink = |l: &LineResult<'_>| found.extend(l.diagnostics.iter().cloned());
/// validate_bytes(b"{\"resourceType\":\"Patient\",\"id\":\"p\",\"gender\":\"F\"}", &Options::default(), &mut sink);
/// let d = &found[0];
/// assert_eq!((d.code, d.line, d.column, d.path.as_deref()), (Code::BindingRequired, 1, Some(45), Some("Patient.gender")));
/// assert!(d.to_string().starts_with("1:45: error[binding/required]"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// Severity.
    pub severity: Severity,
    /// What is wrong, for a person. Quotes only values of code, id, uri and date/time types
    /// (at most 64 characters), never free text.
    pub message: String,
    /// 1-based physical line in the input (blank lines count).
    pub line: u64,
    /// 1-based column in Unicode characters, where it applies.
    pub column: Option<u64>,
    /// 0-based byte offset in the (decompressed) input, where it applies.
    pub byte_offset: Option<u64>,
    /// FHIR path of the element (`Patient.name[0].given`), where there is one.
    pub path: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// `line:column: severity[code] message (at path)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        write!(f, ": {}[{}] {}", self.severity, self.code, self.message)?;
        if let Some(path) = &self.path {
            write!(f, " (at {path})")?;
        }
        Ok(())
    }
}

thread_local! {
    /// `--redact` for the line being validated on this thread: no value is quoted at all.
    pub(crate) static REDACT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What stands for a value (or a name that may be data) under `--redact`.
pub(crate) const REDACTED: &str = "<redacted>";

/// Is `--redact` on for the line being validated on this thread?
pub(crate) fn redacting() -> bool {
    REDACT.with(std::cell::Cell::get)
}

/// Quote a value for a message: at most 64 characters, control characters escaped.
/// Only for values of code, id, uri and date/time types, never free text.
pub(crate) fn quote(value: &str) -> String {
    if redacting() {
        return format!("'{REDACTED}'");
    }
    const MAX: usize = 64;
    let mut out = String::with_capacity(value.len().min(MAX) + 2);
    out.push('\'');
    for (n, c) in value.chars().enumerate() {
        if n == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
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
    fn quote_truncates_and_escapes() {
        assert_eq!(quote("abc"), "'abc'");
        assert_eq!(quote("a\u{1}b"), "'a\\u{1}b'");
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("'{}…'", "x".repeat(64)));
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
        let d = Diagnostic {
            code: Code::JsonSyntax,
            severity: Severity::Fatal,
            message: "expected ':'".into(),
            line: 3,
            column: Some(7),
            byte_offset: Some(40),
            path: Some("Patient.name".into()),
        };
        assert_eq!(d.to_string(), "3:7: fatal[json/syntax] expected ':' (at Patient.name)");
    }
}
