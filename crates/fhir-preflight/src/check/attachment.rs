//! `Attachment.size` must be the size of the decoded `data`: an error in HealthLake's 2020 build
//! (`TYPE_SPECIFIC_CHECKS_DT_ATT_SIZE_CORRECT`, "Stated Attachment Size {0} does not match actual
//! attachment size {1}"; InstanceValidator 5.1.15 L2344–2353) as today. As in that build, the
//! sizes are compared only when `data` passes a light base64 test (its length, whitespace aside,
//! is a multiple of 4), and the decoded length, written in decimal, must equal `size` as written.
//!
//! Example failing value: `{"contentType":"text/plain","data":"aGVsbG8=","size":6}` (5 bytes).

use crate::diagnostic::{Code, Finding, Findings, Message};
use crate::facts::{ObjectFacts, Path};
use crate::json::scan::{Scanner, Token};

/// The decoded length of base64 text, if it passes the light test.
fn decoded_len(data: &str) -> Option<usize> {
    let chars: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if chars.len() % 4 != 0 {
        return None;
    }
    let padding = chars.iter().rev().take(2).filter(|&&b| b == b'=').count();
    Some(chars.len() / 4 * 3 - padding)
}

/// Object rule on Attachment.
pub(crate) fn size(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let (Some((data, _)), Some(at)) = (o.string("data"), o.first_offset("size")) else { return };
    let Some(actual) = decoded_len(&data) else { return };
    let mut sc = Scanner { bytes: o.line.bytes, pos: at };
    let stated = match sc.value() {
        Ok(Token::Number(s, e)) => o.line.text.get(s as usize..e as usize).unwrap_or_default().to_owned(),
        Ok(Token::String(s)) => s.str_in(o.line.text).into_owned(),
        _ => return,
    };
    if stated != actual.to_string() {
        let message =
            Message::plain(format!("Stated Attachment Size {stated} does not match actual attachment size {actual}"));
        f.push(Finding::new(Code::AttachmentSize, message).at(at).on(Path::Member(o.path, "size").render()));
    }
}

#[cfg(test)]
mod tests {
    use super::decoded_len;
    use crate::check::test_support::codes;
    use crate::diagnostic::Code;

    #[test]
    fn sizes() {
        assert_eq!(decoded_len("aGVsbG8="), Some(5));
        assert_eq!(decoded_len("aGVsbG8h"), Some(6));
        assert_eq!(decoded_len("aGVsbG8"), None);
        let line = |size: u32| {
            format!(
                r#"{{"resourceType":"DocumentReference","id":"d","status":"current","content":[{{"attachment":{{"contentType":"text/plain","data":"aGVsbG8=","size":{size}}}}}]}}"#
            )
        };
        assert!(codes(&line(6)).contains(&Code::AttachmentSize));
        assert!(!codes(&line(5)).contains(&Code::AttachmentSize));
    }
}
