//! The findings of one line while it is validated: capped at `--max-issues-per-line`, with the
//! verdict kept over *all* findings (a dropped error still fails the line), and columns computed
//! once per line, in one sweep, only when there is something to report. [`Findings::push`] is the
//! one way a rule reports.

use std::borrow::Cow;

use super::{Code, Diagnostic, Message, Severity};

/// A diagnostic before its line is known: `offset` is a byte offset in the line.
#[derive(Debug)]
pub(crate) struct Finding {
    pub(crate) code: Code,
    /// The rule's key, when the code's own (from the table) is not it.
    pub(crate) key: Option<Cow<'static, str>>,
    /// `None`: the code's default severity.
    pub(crate) severity: Option<Severity>,
    pub(crate) message: Message,
    pub(crate) offset: Option<usize>,
    pub(crate) path: Option<Message>,
}

impl Finding {
    /// A finding of `code` at the code's default severity.
    pub(crate) fn new(code: Code, message: Message) -> Self {
        Finding { code, key: None, severity: None, message, offset: None, path: None }
    }

    /// At byte `offset` of the line.
    pub(crate) fn at(mut self, offset: usize) -> Self {
        self.offset = Some(offset);
        self
    }

    /// On the element at `path`.
    pub(crate) fn on(mut self, path: Option<Message>) -> Self {
        self.path = path;
        self
    }

    /// At another severity than the code's default.
    pub(crate) fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

/// A line's diagnostics: most lines have none or one (a best-practice note), kept inline.
pub(crate) type Diagnostics = smallvec::SmallVec<[Diagnostic; 1]>;

#[derive(Debug)]
pub(crate) struct Findings {
    level: super::Level,
    /// The severity of best-practice constraints (information unless raised).
    best_practice: Severity,
    /// Most lines have at most one finding (a best-practice note): kept inline.
    list: smallvec::SmallVec<[Finding; 1]>,
    cap: usize,
    dropped: u64,
    dropped_worst: Severity,
    worst: Option<Severity>,
}

impl Findings {
    #[cfg(test)]
    pub(crate) fn new(cap: usize) -> Self {
        Self::with_level(cap, super::Level::default())
    }

    pub(crate) fn with_level(cap: usize, level: super::Level) -> Self {
        Findings {
            level,
            best_practice: Severity::Information,
            list: smallvec::SmallVec::new(),
            cap,
            dropped: 0,
            dropped_worst: Severity::Information,
            worst: None,
        }
    }

    /// Report best-practice constraints at `severity`.
    pub(crate) fn with_best_practice(mut self, severity: Severity) -> Self {
        self.best_practice = severity;
        self
    }

    /// The severity of best-practice constraints.
    pub(crate) fn best_practice(&self) -> Severity {
        self.best_practice
    }

    /// Report a finding, at the severity the level gives it.
    #[cold]
    pub(crate) fn push(&mut self, mut finding: Finding) {
        let severity = self.level.severity(finding.code, finding.severity.unwrap_or(finding.code.default_severity()));
        finding.severity = Some(severity);
        self.worst = self.worst.max(Some(severity));
        if self.list.len() < self.cap {
            self.list.push(finding);
        } else {
            self.dropped += 1;
            self.dropped_worst = self.dropped_worst.max(severity);
        }
    }

    /// How many findings were reported so far (listed or not).
    pub(crate) fn count(&self) -> u64 {
        self.list.len() as u64 + self.dropped
    }

    pub(crate) fn is_failure(&self) -> bool {
        self.worst.is_some_and(Severity::is_failure)
    }

    /// Turn the issues into diagnostics of the physical line `line` starting at file offset
    /// `line_offset`, whose bytes (after any BOM, without terminator) are `bytes`.
    pub(crate) fn finish(mut self, line: u64, line_offset: u64, bytes: &[u8]) -> Diagnostics {
        if self.dropped > 0 {
            // Same severity as the worst dropped finding, so that the verdict reads true from the list.
            let message = format!(
                "{} more issues on this line are not listed (--max-issues-per-line {})",
                self.dropped, self.cap
            );
            self.list.push(Finding::new(Code::LineTooManyIssues, Message::plain(message)).severity(self.dropped_worst));
        }
        let diagnostic = |(f, column): (Finding, Option<u64>)| {
            Diagnostic::from_parts(f.code, f.severity, f.message, line)
                .with_location(column, f.offset.map(|o| line_offset + o as u64), f.path)
                .with_key(f.key)
        };
        if self.list.len() == 1 {
            // One finding (a line's usual number): its column, no ordering.
            let f = self.list.remove(0);
            let column = f.offset.map(|at| chars_before(bytes, at) + 1);
            return smallvec::smallvec![diagnostic((f, column))];
        }
        let columns = columns(bytes, self.list.iter().map(|i| i.offset));
        self.list.into_iter().zip(columns).map(diagnostic).collect()
    }
}

/// 1-based columns, in Unicode characters (bytes that are not UTF-8 continuation bytes), of the
/// given byte offsets; one pass over the line whatever the number of offsets.
fn columns(bytes: &[u8], offsets: impl Iterator<Item = Option<usize>>) -> Vec<Option<u64>> {
    let offsets: Vec<Option<usize>> = offsets.collect();
    let mut order: Vec<usize> = (0..offsets.len()).filter(|&i| offsets[i].is_some()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut result = vec![None; offsets.len()];
    let (mut at, mut chars) = (0usize, 0u64);
    for i in order {
        let target = offsets[i].unwrap_or(0).min(bytes.len());
        chars += chars_before(&bytes[at..], target - at);
        at = target;
        result[i] = Some(chars + 1);
    }
    result
}

/// The characters in the first `end` bytes (at most all of them).
fn chars_before(bytes: &[u8], end: usize) -> u64 {
    // Every byte but UTF-8's continuation bytes (`10xxxxxx`), eight at a time: a long line
    // (a Bundle) with findings far into it is counted once per line, but at a byte a step it
    // cost more than the findings.
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let bytes = &bytes[..end.min(bytes.len())];
    let words = bytes.chunks_exact(8);
    let rest = words.remainder().iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
    words.fold(rest, |n, c| {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default());
        // Bit 7 set and bit 6 clear: a continuation byte.
        let continuation = w & !(w << 1) & HIGHS;
        n + 8 - u64::from(continuation.count_ones())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_counted_as_utf8_decodes_them() {
        let text = "{\"a\":\"é€𝄞 plain ascii and more é\",\"b\":\"ünïcödé 𝄞𝄞\"}";
        let bytes = text.as_bytes();
        for end in 0..=bytes.len() + 3 {
            let expected = bytes[..end.min(bytes.len())].iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
            assert_eq!(chars_before(bytes, end), expected, "{end}");
        }
        assert_eq!(chars_before(bytes, bytes.len()), text.chars().count() as u64);
    }

    fn issue(severity: Severity, offset: Option<usize>) -> Finding {
        let mut f = Finding::new(Code::JsonSyntax, Message::default()).severity(severity);
        f.offset = offset;
        f
    }

    #[test]
    fn columns_count_characters() {
        let line = "aé€😀b".as_bytes();
        // offsets of a, é, €, 😀, b
        let got = columns(line, [Some(8), Some(0), None, Some(1), Some(3), Some(6), Some(99)].into_iter());
        assert_eq!(got, vec![Some(5), Some(1), None, Some(2), Some(3), Some(4), Some(6)]);
    }

    #[test]
    fn cap_keeps_verdict_of_dropped() {
        let mut issues = Findings::new(2);
        issues.push(issue(Severity::Warning, Some(0)));
        issues.push(issue(Severity::Warning, Some(1)));
        issues.push(issue(Severity::Error, Some(2)));
        issues.push(issue(Severity::Warning, Some(3)));
        assert!(issues.is_failure());
        let diags = issues.finish(7, 100, b"abcd");
        assert_eq!(diags.len(), 3);
        assert_eq!(diags[2].code(), Code::LineTooManyIssues);
        assert_eq!(diags[2].severity(), Severity::Error);
        assert!(diags[2].message().starts_with("2 more issues"));
        assert_eq!(diags[1].byte_offset(), Some(101));
        assert_eq!(diags[1].line(), 7);
    }

    #[test]
    fn cap_of_warnings_stays_warning() {
        let mut issues = Findings::new(1);
        issues.push(issue(Severity::Warning, None));
        issues.push(issue(Severity::Information, None));
        assert!(!issues.is_failure());
        let diags = issues.finish(1, 0, b"");
        assert_eq!(diags[1].severity(), Severity::Information);
    }
}
