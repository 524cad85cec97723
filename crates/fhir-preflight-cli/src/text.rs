//! Text meant for a person at a terminal.

use std::borrow::Cow;

/// `s` with every control character escaped as the core escapes quoted values (`\u{1b}`), so that
/// a file name cannot move the cursor, clear the screen or set the window title.
///
/// Every human-facing line that holds a name from the file system goes through this.
pub(crate) fn shown(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `n` and the noun, singular for 1: `1 resource`, `2 resources`.
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Up to `max` items joined with `, `, and `… and N more` when some are left out.
pub(crate) fn list_some<T: AsRef<str>>(items: &[T], max: usize) -> String {
    let mut out = items.iter().take(max).map(AsRef::as_ref).collect::<Vec<_>>().join(", ");
    if items.len() > max {
        out.push_str(&format!(" … and {} more", items.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(shown("plain é.ndjson"), "plain é.ndjson");
        assert_eq!(shown("y\u{1b}[2J.ndjson"), "y\\u{1b}[2J.ndjson");
        assert_eq!(shown("a\u{7}\u{9b}b"), "a\\u{7}\\u{9b}b");
    }

    #[test]
    fn counts_and_lists() {
        assert_eq!(count(1, "resource", "resources"), "1 resource");
        assert_eq!(count(0, "resource", "resources"), "0 resources");
        assert_eq!(list_some(&["a", "b", "c"], 3), "a, b, c");
        assert_eq!(list_some(&["a", "b", "c"], 2), "a, b … and 1 more");
    }
}
