//! File rules: what the framing and the first bytes say about a whole file. A file that is not
//! NDJSON — gzip given as plain text, UTF-16, a JSON array export — gets one error that says how
//! to fix it (its lines are still judged one by one, as HealthLake would judge them); a byte-order
//! mark and blank lines get a warning each (once per file, with a count). They never change the
//! counts: every line is judged alone.

use crate::diagnostic::{Code, Diagnostic, Message};
use crate::json::sniff::Sniffed;

/// What a file that is not NDJSON is, and how to fix it.
pub(crate) fn sniffed(kind: Sniffed) -> Diagnostic {
    let (code, message) = match kind {
        Sniffed::Gzip => (
            Code::NdjsonCompressed,
            "the file is gzip-compressed: decompress it first (gunzip -k FILE), or name it .ndjson.gz",
        ),
        Sniffed::Utf16 => (
            Code::EncodingUtf16,
            "the file is UTF-16 (as PowerShell's `>` writes): FHIR JSON must be UTF-8; convert it (iconv -f UTF-16 -t UTF-8 FILE, or Out-File -Encoding utf8)",
        ),
        Sniffed::JsonArray => (
            Code::NdjsonJsonArray,
            "the file looks like a JSON array, not NDJSON (one resource per line): convert it, e.g. jq -c '.[]' FILE.json > FILE.ndjson",
        ),
    };
    Diagnostic::from_parts(code, None, Message::plain(message), 1).with_location(None, Some(0), None)
}

/// The file starts with a UTF-8 byte-order mark.
pub(crate) fn byte_order_mark() -> Diagnostic {
    let message = "the file starts with a UTF-8 byte-order mark, which JSON senders must not write; it was ignored (save as UTF-8 without BOM)";
    Diagnostic::from_parts(Code::NdjsonByteOrderMark, None, Message::plain(message), 1)
}

/// `count` blank lines, the first at line `first`.
pub(crate) fn blank_lines(count: u64, first: u64) -> Diagnostic {
    let message = if count == 1 {
        format!("1 blank line (line {first}); blank lines are not resources and are not counted")
    } else {
        format!("{count} blank lines, the first at line {first}; blank lines are not resources and are not counted")
    };
    Diagnostic::from_parts(Code::NdjsonBlankLine, None, Message::plain(message), first)
}
