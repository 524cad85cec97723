//! The diagnostics of one line while it is validated: capped at `--max-issues-per-line`, with the
//! verdict kept over *all* issues (a dropped error still fails the line), and columns computed once
//! per line, in one sweep, only when there is something to report.

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::level::Level;

/// A diagnostic before its line is known: `offset` is a byte offset in the line.
#[derive(Debug)]
pub(crate) struct Issue {
    pub(crate) code: Code,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) offset: Option<usize>,
    pub(crate) path: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Issues {
    level: Level,
    list: Vec<Issue>,
    cap: usize,
    dropped: u64,
    dropped_worst: Severity,
    worst: Option<Severity>,
}

impl Issues {
    #[cfg(test)]
    pub(crate) fn new(cap: usize) -> Self {
        Self::with_level(cap, Level::default())
    }

    pub(crate) fn with_level(cap: usize, level: Level) -> Self {
        Issues { level, list: Vec::new(), cap, dropped: 0, dropped_worst: Severity::Information, worst: None }
    }

    pub(crate) fn level(&self) -> Level {
        self.level
    }

    /// Add an issue, at the severity the level gives it.
    #[cold]
    pub(crate) fn push(&mut self, mut issue: Issue) {
        issue.severity = self.level.severity(issue.code, issue.severity);
        self.worst = self.worst.max(Some(issue.severity));
        if self.list.len() < self.cap {
            self.list.push(issue);
        } else {
            self.dropped += 1;
            self.dropped_worst = self.dropped_worst.max(issue.severity);
        }
    }

    pub(crate) fn is_failure(&self) -> bool {
        self.worst.is_some_and(Severity::is_failure)
    }

    /// Turn the issues into diagnostics of the physical line `line` starting at file offset
    /// `line_offset`, whose bytes (after any BOM, without terminator) are `bytes`.
    pub(crate) fn finish(mut self, line: u64, line_offset: u64, bytes: &[u8]) -> Vec<Diagnostic> {
        if self.dropped > 0 {
            // Same severity as the worst dropped issue, so that the verdict reads true from the list.
            self.list.push(Issue {
                code: Code::LineTooManyIssues,
                severity: self.dropped_worst,
                message: format!(
                    "{} more issues on this line are not listed (--max-issues-per-line {})",
                    self.dropped, self.cap
                ),
                offset: None,
                path: None,
            });
        }
        let columns = columns(bytes, self.list.iter().map(|i| i.offset));
        self.list
            .into_iter()
            .zip(columns)
            .map(|(issue, column)| Diagnostic {
                code: issue.code,
                severity: issue.severity,
                message: issue.message,
                line,
                column,
                byte_offset: issue.offset.map(|o| line_offset + o as u64),
                path: issue.path,
            })
            .collect()
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
        chars += bytes[at..target].iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
        at = target;
        result[i] = Some(chars + 1);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(severity: Severity, offset: Option<usize>) -> Issue {
        Issue { code: Code::JsonSyntax, severity, message: String::new(), offset, path: None }
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
        let mut issues = Issues::new(2);
        issues.push(issue(Severity::Warning, Some(0)));
        issues.push(issue(Severity::Warning, Some(1)));
        issues.push(issue(Severity::Error, Some(2)));
        issues.push(issue(Severity::Warning, Some(3)));
        assert!(issues.is_failure());
        let diags = issues.finish(7, 100, b"abcd");
        assert_eq!(diags.len(), 3);
        assert_eq!(diags[2].code, Code::LineTooManyIssues);
        assert_eq!(diags[2].severity, Severity::Error);
        assert!(diags[2].message.starts_with("2 more issues"));
        assert_eq!(diags[1].byte_offset, Some(101));
        assert_eq!(diags[1].line, 7);
    }

    #[test]
    fn cap_of_warnings_stays_warning() {
        let mut issues = Issues::new(1);
        issues.push(issue(Severity::Warning, None));
        issues.push(issue(Severity::Information, None));
        assert!(!issues.is_failure());
        let diags = issues.finish(1, 0, b"");
        assert_eq!(diags[1].severity, Severity::Information);
    }
}
