//! The table of diagnostic codes: each code's stable string, the FHIR `IssueType` of its
//! OperationOutcome issues, its default severity and, for the HL7 invariants it stands for, the
//! constraint key. A rule pushes a code; the severity comes from here (a level may lower it, and a
//! few findings carry their own: `line/too-many-issues`, invariants whose definition says so).

use std::fmt;

use super::Severity;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $issue_type:literal, $severity:ident, $key:expr; )*) => {
        /// The stable code of a diagnostic (`json/syntax`, `resource/id-missing`, …). The strings never
        /// change meaning; new codes may be added.
        ///
        /// ```
        /// use fhir_preflight::{Code, Severity};
        /// assert_eq!(Code::ResourceIdMissing.as_str(), "resource/id-missing");
        /// assert_eq!(Code::ResourceIdMissing.issue_type(), "required"); // FHIR IssueType
        /// assert_eq!(Code::ResourceIdMissing.default_severity(), Severity::Error);
        /// assert_eq!(Code::InvariantExt1.key(), Some("ext-1"));
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

            /// The severity of a finding of this code, before the validation level.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// The HL7 constraint key this code stands for (`ext-1`, `dom-3`), if any.
            pub fn key(self) -> Option<&'static str> {
                match self { $(Code::$variant => $key,)* }
            }
        }
    };
}

codes! {

    /// The file starts with a UTF-8 byte-order mark (RFC 8259 forbids senders to write one).
    NdjsonByteOrderMark = "ndjson/byte-order-mark", "structure", Warning, None;

    /// The file holds blank lines (reported once per file, with a count).
    NdjsonBlankLine = "ndjson/blank-line", "informational", Warning, None;

    /// A file holds several resource types (HealthLake accepts it; FHIR bulk data has one type per file).
    NdjsonMixedTypes = "ndjson/mixed-types", "informational", Warning, None;

    /// The same `(resourceType, id)` appears again (HealthLake keeps the last one).
    NdjsonDuplicateId = "ndjson/duplicate-id", "duplicate", Warning, None;

    /// A HealthLake import limit is exceeded (files per job, file size threshold).
    HealthlakeLimit = "healthlake/limit", "too-costly", Warning, None;

    /// A line is longer than `--max-line-bytes`.
    NdjsonLineTooLong = "ndjson/line-too-long", "too-long", Error, None;

    /// A line is JSON, but not a JSON object.
    NdjsonNotObject = "ndjson/not-object", "structure", Fatal, None;

    /// The file is gzip-compressed but was given as plain NDJSON.
    NdjsonCompressed = "ndjson/compressed", "structure", Error, None;

    /// The file is a JSON array export, not NDJSON.
    NdjsonJsonArray = "ndjson/json-array", "structure", Error, None;

    /// The file is UTF-16.
    EncodingUtf16 = "encoding/utf16", "structure", Error, None;

    /// A line is not valid UTF-8.
    EncodingInvalidUtf8 = "encoding/invalid-utf8", "structure", Fatal, None;

    /// A line is not valid JSON.
    JsonSyntax = "json/syntax", "structure", Fatal, None;

    /// An object has the same property twice.
    JsonDuplicateKey = "json/duplicate-key", "structure", Error, None;

    /// JSON nesting deeper than `--max-depth`.
    JsonTooDeep = "json/too-deep", "too-long", Fatal, None;

    /// A `\u` escape is a lone UTF-16 surrogate: not a Unicode character.
    JsonInvalidUnicodeEscape = "json/invalid-unicode-escape", "structure", Error, None;

    /// A property that the element's type does not define ("Unrecognised property").
    JsonUnknownProperty = "json/unknown-property", "structure", Error, None;

    /// A single value where the element repeats (max `*`).
    JsonExpectedArray = "json/expected-array", "structure", Error, None;

    /// An array where the element does not repeat (max 1).
    JsonExpectedSingle = "json/expected-single", "structure", Error, None;

    /// The JSON kind is wrong for the type (a number for a string, an object for a primitive, …).
    JsonWrongType = "json/wrong-type", "structure", Error, None;

    /// `null` where FHIR JSON allows none (only as a filler in primitive arrays).
    JsonNull = "json/null", "structure", Error, None;

    /// `x[i]` and `_x[i]` are both `null`.
    JsonNullInBoth = "json/null-in-both", "structure", Error, None;

    /// `{}`: an element with neither value nor children (ele-1).
    JsonEmptyObject = "json/empty-object", "structure", Error, Some("ele-1");

    /// `[]` (rejected by current HL7 builds, accepted by HealthLake's: a warning).
    JsonEmptyArray = "json/empty-array", "structure", Warning, None;

    /// `fhir_comments` (not R4 JSON; accepted by HealthLake's validator: a warning).
    JsonFhirComments = "json/fhir-comments", "structure", Warning, None;

    /// A required element (min 1) is missing.
    CardinalityMin = "cardinality/min", "required", Error, None;

    /// More than one variant of a choice element (`valueString` and `valueQuantity`).
    ChoiceMultiple = "choice/multiple", "structure", Error, None;

    /// `""`.
    PrimitiveEmpty = "primitive/empty", "value", Error, None;

    /// A string of only whitespace.
    PrimitiveWhitespaceOnly = "primitive/whitespace-only", "value", Warning, None;

    /// A string with leading or trailing whitespace.
    PrimitiveStringWhitespace = "primitive/string-whitespace", "value", Warning, None;

    /// A code with leading, trailing or repeated whitespace.
    PrimitiveCodeWhitespace = "primitive/code-whitespace", "value", Error, None;

    /// An `id`-typed value that is not `[A-Za-z0-9\-\.]{1,64}`.
    PrimitiveId = "primitive/id", "value", Error, None;

    /// Not a 32-bit integer (`1.0`, `1e4`, too large).
    PrimitiveInteger = "primitive/integer", "value", Error, None;

    /// positiveInt below 1, unsignedInt below 0.
    PrimitiveIntegerRange = "primitive/integer-range", "value", Error, None;

    /// A decimal with more than 18 digits or a 5+ digit exponent.
    PrimitiveDecimalRange = "primitive/decimal-range", "value", Warning, None;

    /// A date, dateTime, instant or time that is malformed or not a real date.
    PrimitiveDate = "primitive/date", "value", Error, None;

    /// A dateTime with a time but no time zone.
    PrimitiveDateTimeNoZone = "primitive/datetime-no-tz", "value", Error, None;

    /// A string longer than 1 MiB characters.
    PrimitiveStringTooLong = "primitive/string-too-long", "too-long", Error, None;

    /// Control characters in a string.
    PrimitiveControlChar = "primitive/control-char", "value", Warning, None;

    /// Invalid base64.
    PrimitiveBase64 = "primitive/base64", "value", Error, None;

    /// Whitespace in base64.
    PrimitiveBase64Whitespace = "primitive/base64-whitespace", "value", Warning, None;

    /// Whitespace in a uri, url or canonical.
    PrimitiveUriWhitespace = "primitive/uri-whitespace", "value", Error, None;

    /// An invalid oid (or a uri starting `urn:oid:` that is not one).
    PrimitiveOid = "primitive/oid", "value", Error, None;

    /// An invalid uuid (or a uri starting `urn:uuid:` that is not one).
    PrimitiveUuid = "primitive/uuid", "value", Error, None;

    /// A uri starting `oid:` or `uuid:`.
    PrimitiveUriScheme = "primitive/uri-scheme", "value", Error, None;

    /// `Coding.system`, `Identifier.system` or `Quantity.system` is not an absolute URI (`loinc.org`).
    SystemNotAbsolute = "system/not-absolute", "code-invalid", Error, None;

    /// A code outside the value set of a required binding.
    BindingRequired = "binding/required", "code-invalid", Error, None;

    /// Narrative that is not XHTML.
    XhtmlParse = "xhtml/parse", "value", Error, None;

    /// Narrative whose root is not a `div`.
    XhtmlRoot = "xhtml/root", "value", Error, None;

    /// Narrative `div` outside the XHTML namespace.
    XhtmlNamespace = "xhtml/namespace", "value", Error, None;

    /// An element FHIR narrative does not allow (`script`, `form`, …).
    XhtmlElement = "xhtml/element", "value", Error, None;

    /// An attribute FHIR narrative does not allow (`onclick`, …).
    XhtmlAttribute = "xhtml/attribute", "value", Error, None;

    /// txt-1: narrative with elements or attributes outside FHIR's subset.
    InvariantTxt1 = "invariant/txt-1", "invariant", Error, Some("txt-1");

    /// txt-2: narrative without non-whitespace content.
    InvariantTxt2 = "invariant/txt-2", "invariant", Warning, Some("txt-2");

    /// ext-1: an extension has both `extension` and `value[x]`, or neither.
    InvariantExt1 = "invariant/ext-1", "invariant", Error, Some("ext-1");

    /// A top-level extension's `url` is not an absolute URI (nested extensions may use a simple name).
    ExtensionUrl = "extension/url", "value", Error, None;

    /// dom-2: a contained resource holds contained resources.
    InvariantDom2 = "invariant/dom-2", "invariant", Error, Some("dom-2");

    /// dom-4: a contained resource has `meta.versionId` or `meta.lastUpdated`.
    InvariantDom4 = "invariant/dom-4", "invariant", Error, Some("dom-4");

    /// dom-5: a contained resource has `meta.security`.
    InvariantDom5 = "invariant/dom-5", "invariant", Error, Some("dom-5");

    /// A contained resource without `id`.
    ResourceContainedIdMissing = "resource/contained-id-missing", "required", Error, None;

    /// `Reference.type` names a type the element does not allow.
    ReferenceTypeNotAllowed = "reference/type-not-allowed", "structure", Error, None;

    /// `Reference.type` differs from the type in the literal reference.
    ReferenceTypeMismatch = "reference/type-mismatch", "structure", Error, None;

    /// `#id` with no contained resource of that id.
    ReferenceContainedUnresolved = "reference/contained-unresolved", "not-found", Error, None;

    /// A conditional reference (`Type?query`) outside a transaction/batch Bundle.
    ReferenceConditional = "reference/conditional", "business-rule", Warning, None;

    /// A conditional reference whose query is malformed.
    ReferenceConditionalQueryInvalid = "reference/conditional-query-invalid", "value", Error, None;

    /// Whitespace in a reference.
    ReferenceWhitespace = "reference/whitespace", "value", Warning, None;

    /// A literal reference whose type (`Medication/1`) the element does not allow.
    ReferenceImpliedTypeNotAllowed = "reference/implied-type-not-allowed", "structure", Warning, None;

    /// `meta.profile` names a profile no package here defines: it is not checked (the HL7 validator's
    /// `Validation_VAL_Profile_Unknown`, a warning).
    ProfileUnchecked = "profile/unchecked", "informational", Warning, None;

    /// A run note: codes bound by a profile to value sets that cannot be expanded offline (a
    /// package not here, a filter on a large code system such as SNOMED CT) were not checked.
    ProfileBindingUnchecked = "profile/binding-unchecked", "informational", Information, None;

    /// An element of a profile has fewer items than its `min` (`Validation_VAL_Profile_Minimum`).
    ProfileMin = "profile/min", "structure", Error, None;

    /// An element of a profile has more items than its `max` (`Validation_VAL_Profile_Maximum`).
    ProfileMax = "profile/max", "structure", Error, None;

    /// A slice has fewer items than its `min` (`Validation_VAL_Profile_Minimum_SLICE`).
    ProfileSliceMin = "profile/slice-min", "structure", Error, None;

    /// A slice has more items than its `max`.
    ProfileSliceMax = "profile/slice-max", "structure", Error, None;

    /// An item of a closed slicing matches no slice (`Validation_VAL_Profile_NotSlice`).
    ProfileSliceClosed = "profile/slice-closed", "structure", Error, None;

    /// An item out of the order of an ordered slicing (`Validation_VAL_Profile_SliceOrder`).
    ProfileSliceOrder = "profile/slice-order", "structure", Error, None;

    /// A value of a type the profile does not allow there.
    ProfileType = "profile/type", "structure", Error, None;

    /// A value other than the profile's `fixed[x]` (`_DT_Fixed_Wrong`).
    ProfileFixed = "profile/fixed", "value", Error, None;

    /// A value that does not hold the profile's `pattern[x]` (`TYPE_CHECKS_PATTERN_*`).
    ProfilePattern = "profile/pattern", "value", Error, None;

    /// No code in the value set of a required binding of the profile (`Terminology_TX_NoValid_1_CC`).
    ProfileBinding = "profile/binding", "code-invalid", Error, None;

    /// No code in the value set of an extensible binding of the profile (`Terminology_TX_NoValid_2_CC`).
    ProfileBindingExtensible = "profile/binding-extensible", "code-invalid", Warning, None;

    /// A Reference whose literal names a type none of the profile's target profiles has
    /// (`Reference_REF_BadTargetType2`).
    ProfileTarget = "profile/target", "structure", Error, None;

    /// An extension the profile does not define where its slicing is closed
    /// (`Extension_EXT_Unknown_NotHere`).
    ProfileExtensionUnknown = "profile/extension-unknown", "extension", Error, None;

    /// An extension a package here defines, used where its context does not allow it (US Core's
    /// race on an Observation): `Extension_EXT_Context_Wrong`, an error in the 2020 build.
    ProfileExtensionContext = "profile/extension-context", "structure", Error, None;

    /// A constraint (invariant) of the FHIR definitions does not hold; `key()` names it (`per-1`).
    InvariantFailed = "invariant/failed", "invariant", Error, None;

    /// A `document` Bundle whose first entry is not a Composition (HL7 validator 5.1.15: error).
    BundleDocumentFirst = "bundle/document-first-entry", "invalid", Error, None;

    /// A document's Composition refers to something that is not in the Bundle (5.1.15: error).
    BundleDocumentUnresolved = "bundle/document-reference-unresolved", "not-found", Error, None;

    /// An entry of a document that the Composition does not reach (5.1.15: error).
    BundleDocumentOrphan = "bundle/document-orphan", "invalid", Error, None;

    /// A `message` Bundle whose first entry is not a MessageHeader (5.1.15: error).
    BundleMessageFirst = "bundle/message-first-entry", "invalid", Error, None;

    /// An entry of a message that the MessageHeader does not reach (5.1.15: warning for R4).
    BundleMessageOrphan = "bundle/message-orphan", "informational", Warning, None;

    /// An entry without fullUrl whose resource holds references (5.1.15: error).
    BundleEntryNoFullUrl = "bundle/entry-no-fullurl", "required", Error, None;

    /// An entry without fullUrl outside transactions and batches (an error since 5.2.5).
    BundleEntryFullUrlMissing = "bundle/entry-fullurl-missing", "required", Warning, None;

    /// A relative fullUrl (an error since 6.2.4).
    BundleFullUrlRelative = "bundle/fullurl-relative", "value", Warning, None;

    /// A RESTful fullUrl that does not end in the resource's type and id (an error since 6.2.4).
    BundleFullUrlTypeId = "bundle/fullurl-type-id", "value", Warning, None;

    /// A searchset entry whose resource has no id (an error since 5.3.11).
    BundleSearchEntryNoId = "bundle/search-entry-no-id", "required", Warning, None;

    /// A link relation given twice (an error since 5.6.85).
    BundleLinkDuplicate = "bundle/link-duplicate", "invalid", Warning, None;

    /// A `urn:` reference that is not the fullUrl of an entry (every build: warning).
    ReferenceUrnNotInBundle = "reference/urn-not-in-bundle", "not-found", Warning, None;

    /// `Attachment.size` is not the size of the decoded `data` (5.1.15: error).
    AttachmentSize = "attachment/size-mismatch", "value", Error, None;

    /// Extensions on `Resource.id` (an error since 6.9.8).
    ResourceIdExtension = "resource/id-extension", "structure", Warning, None;

    /// A uri naming an example domain (an error since 5.4.3 with a resource fetcher).
    UriExample = "uri/example", "value", Warning, None;

    /// HTML tags in a markdown value (a warning since 5.6.69; information in 2020).
    MarkdownHtml = "markdown/html", "value", Warning, None;

    /// dom-3: a contained resource is not referenced from the resource.
    InvariantDom3 = "invariant/dom-3", "invariant", Error, Some("dom-3");

    /// The resource has no `resourceType`.
    ResourceTypeMissing = "resource/type-missing", "required", Fatal, None;

    /// `resourceType` is not a JSON string.
    ResourceTypeNotString = "resource/type-not-string", "structure", Fatal, None;

    /// `resourceType` does not match `[A-Za-z]{1,256}`.
    ResourceTypeInvalid = "resource/type-invalid", "value", Error, None;

    /// `resourceType` is not one of the 146 FHIR R4 resource types.
    ResourceUnknownType = "resource/unknown-type", "not-supported", Fatal, None;

    /// The line's resource has no `id` (HealthLake requires one).
    ResourceIdMissing = "resource/id-missing", "required", Error, None;

    /// `id` is not a JSON string.
    ResourceIdNotString = "resource/id-not-string", "structure", Error, None;

    /// `id` does not match `[A-Za-z0-9\-\.]{1,64}`.
    ResourceIdInvalid = "resource/id-invalid", "value", Error, None;

    /// More diagnostics than `--max-issues-per-line`; the rest are counted, not listed.
    LineTooManyIssues = "line/too-many-issues", "too-costly", Error, None;

    /// The validator itself failed on this line (a bug): a server error, not the data's fault.
    InternalError = "internal/error", "exception", Fatal, None;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
