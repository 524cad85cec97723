//! Checks, one per file. Each file: what it checks and why, its diagnostics, the check, and its
//! pass/fail tables. Checks run on facts the walk gathers while it parses (`crate::json::walk`).

pub(crate) mod binding;
pub(crate) mod datetime;
pub(crate) mod primitive;
pub(crate) mod reference;
pub(crate) mod resource_id;
pub(crate) mod resource_type;
pub(crate) mod xhtml;

use crate::diagnostic::{Code, Severity};
use crate::issues::{Issue, Issues};

/// Push an issue about the root object or one of its members (`path` is `None` for the object itself).
#[cold]
pub(crate) fn push(
    issues: &mut Issues,
    code: Code,
    severity: Severity,
    message: String,
    offset: usize,
    path: Option<String>,
) {
    issues.push(Issue { code, severity, message, offset: Some(offset), path });
}

/// `Type.member`, or `member` when the type is unknown.
pub(crate) fn member_path(root: &str, member: &str) -> Option<String> {
    Some(if root.is_empty() { member.to_owned() } else { format!("{root}.{member}") })
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::diagnostic::Code;
    use crate::issues::Issues;
    use crate::json::walk::{Scratch, Walk};

    /// Codes reported for one line by the walk plus the root checks.
    pub(crate) fn codes(line: &str) -> Vec<Code> {
        let mut issues = Issues::new(100);
        let mut scratch = Scratch::default();
        let facts = Walk::line(line, &mut issues, &mut scratch, 128);
        super::resource_type::check(line.as_bytes(), &facts, &mut issues);
        super::resource_id::check(line.as_bytes(), &facts, &mut issues);
        issues.finish(1, 0, line.as_bytes()).into_iter().map(|d| d.code).collect()
    }
}
