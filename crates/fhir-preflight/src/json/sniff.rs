//! Recognise, from a file's first bytes, inputs that are not NDJSON but often reach an import: a
//! gzip file passed as plain text, a UTF-16 file (what PowerShell's `>` writes), and a JSON array
//! export (`[ {…}, {…} ]`). What to say about each is a file rule (`crate::check::file`).

/// How many leading bytes decide.
pub(crate) const SNIFF_BYTES: usize = 64;

/// What a file that is not NDJSON looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Gzip,
    Utf16,
    JsonArray,
}

/// What the file starting with `head` (at most [`SNIFF_BYTES`], or the whole file) is, if it is
/// recognisably not NDJSON.
pub(crate) fn sniff(head: &[u8]) -> Option<Sniffed> {
    if head.starts_with(&[0x1F, 0x8B]) {
        return Some(Sniffed::Gzip);
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Some(Sniffed::Utf16);
    }
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
    (*first == b'[').then_some(Sniffed::JsonArray)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(sniff(&[0x1F, 0x8B, 8, 0]), Some(Sniffed::Gzip));
        assert_eq!(sniff(&[0xFF, 0xFE, b'{', 0]), Some(Sniffed::Utf16));
        assert_eq!(sniff(&[0xFE, 0xFF, 0, b'{']), Some(Sniffed::Utf16));
        assert_eq!(sniff(b"  \n[{\"resourceType\":\"Patient\"}]"), Some(Sniffed::JsonArray));
        assert_eq!(sniff(b"\xEF\xBB\xBF["), Some(Sniffed::JsonArray));
        assert_eq!(sniff(b"{\"resourceType\":\"Patient\"}"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"   "), None);
    }
}
