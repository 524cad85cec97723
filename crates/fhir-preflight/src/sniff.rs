//! Recognise, from a file's first bytes, inputs that are not NDJSON but often reach an import:
//! a gzip file passed as plain text, a UTF-16 file (what PowerShell's `>` writes), and a JSON
//! array export (`[ {…}, {…} ]`). Each gets one file-level diagnostic that says how to fix it; the
//! lines are still judged one by one, as HealthLake would judge them.

use crate::diagnostic::{Code, Diagnostic, Severity};

/// How many leading bytes decide.
pub(crate) const SNIFF_BYTES: usize = 64;

/// The diagnostic for a file starting with `head` (at most [`SNIFF_BYTES`], or the whole file).
pub(crate) fn sniff(head: &[u8]) -> Option<Diagnostic> {
    let (code, message) = if head.starts_with(&[0x1F, 0x8B]) {
        (
            Code::NdjsonCompressed,
            "the file is gzip-compressed: decompress it first (gunzip -k FILE), or name it .ndjson.gz".to_owned(),
        )
    } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        (
            Code::EncodingUtf16,
            "the file is UTF-16 (as PowerShell's `>` writes): FHIR JSON must be UTF-8; convert it (iconv -f UTF-16 -t UTF-8 FILE, or Out-File -Encoding utf8)".to_owned(),
        )
    } else {
        let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
        let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
        if *first != b'[' {
            return None;
        }
        (
            Code::NdjsonJsonArray,
            "the file looks like a JSON array, not NDJSON (one resource per line): convert it, e.g. jq -c '.[]' FILE.json > FILE.ndjson".to_owned(),
        )
    };
    Some(Diagnostic {
        code,
        severity: Severity::Error,
        message,
        line: 1,
        column: None,
        byte_offset: Some(0),
        path: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(sniff(&[0x1F, 0x8B, 8, 0]).map(|d| d.code), Some(Code::NdjsonCompressed));
        assert_eq!(sniff(&[0xFF, 0xFE, b'{', 0]).map(|d| d.code), Some(Code::EncodingUtf16));
        assert_eq!(sniff(&[0xFE, 0xFF, 0, b'{']).map(|d| d.code), Some(Code::EncodingUtf16));
        assert_eq!(sniff(b"  \n[{\"resourceType\":\"Patient\"}]").map(|d| d.code), Some(Code::NdjsonJsonArray));
        assert_eq!(sniff(b"\xEF\xBB\xBF[").map(|d| d.code), Some(Code::NdjsonJsonArray));
        assert_eq!(sniff(b"{\"resourceType\":\"Patient\"}"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"   "), None);
    }
}
