//! The default report on standard output: file notes, the first warnings and errors with
//! file:line:column, then a short summary a person reads in seconds. Every name from the file
//! system is shown with its control characters escaped ([`shown`]); every list cut short says how
//! many more it holds.

use std::collections::BTreeMap;
use std::fmt::Write;

use fhir_preflight::{format_mb, Diagnostic, Manifest, Redaction, Severity};

use crate::inputs::Skipped;
use crate::records::ErrorList;
use crate::text::{count, list_some, shown};

/// Codes and resource types listed in the summary lines before "… and N more".
const LISTED: usize = 10;

/// Warnings about whole files and the whole run (byte-order mark, blank lines, mixed types,
/// duplicate ids), shown first.
#[derive(Debug, Clone)]
pub(crate) struct FileNote {
    /// The input's display name, or `None` for the whole run.
    pub(crate) input: Option<String>,
    pub(crate) diagnostic: Diagnostic,
}

/// Everything the report shows.
#[derive(Debug)]
pub(crate) struct Report<'a> {
    pub(crate) manifest: &'a Manifest,
    pub(crate) errors: &'a ErrorList,
    pub(crate) notes: &'a [FileNote],
    pub(crate) skipped: &'a [Skipped],
    /// Directories that could not be listed.
    pub(crate) unlisted: usize,
    pub(crate) color: bool,
    pub(crate) redaction: Redaction,
}

fn location(input: Option<&str>, d: &Diagnostic) -> String {
    let input = shown(input.unwrap_or("(run)")).into_owned();
    if d.line() == 0 {
        return input;
    }
    match d.column() {
        Some(col) => format!("{input}:{}:{col}", d.line()),
        None => format!("{input}:{}", d.line()),
    }
}

fn line_of(input: Option<&str>, d: &Diagnostic, color: bool, redaction: Redaction) -> String {
    let severity = if color {
        let ansi = match d.severity() {
            Severity::Fatal | Severity::Error => "\x1b[1;31m",
            Severity::Warning => "\x1b[33m",
            _ => "\x1b[36m",
        };
        format!("{ansi}{}\x1b[0m", d.severity())
    } else {
        d.severity().to_string()
    };
    let mut s = format!("{}: {severity}[{}] {}", location(input, d), d.code(), shown(&d.message_with(redaction)));
    if let Some(path) = &d.path_with(redaction) {
        let _ = write!(s, " (at {})", shown(path));
    }
    s
}

/// `code n, code n, … and N more codes`, most frequent first.
fn by_code(per_code: &BTreeMap<&str, u64>) -> String {
    let mut codes: Vec<(&&str, &u64)> = per_code.iter().collect();
    codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let list: Vec<String> = codes.iter().map(|(code, n)| format!("{code} {n}")).collect();
    more(list_some(&list, LISTED), list.len(), "codes")
}

/// `list_some` says "… and N more"; name what there is more of.
fn more(list: String, len: usize, what: &str) -> String {
    if len > LISTED {
        format!("{list} {what}")
    } else {
        list
    }
}

pub(crate) fn render(report: &Report<'_>) -> String {
    let Report { manifest, errors, notes, skipped, unlisted, color, redaction } = *report;
    let mut out = String::new();
    for note in notes {
        let _ = writeln!(out, "{}", line_of(note.input.as_deref(), &note.diagnostic, color, redaction));
    }
    for shown_warning in &errors.warnings {
        let _ = writeln!(out, "{}", line_of(Some(&shown_warning.input), &shown_warning.diagnostic, color, redaction));
    }
    if errors.tally.warnings > errors.warnings.len() as u64 {
        let n = errors.tally.warnings - errors.warnings.len() as u64;
        let _ = writeln!(
            out,
            "… {n} more {} not shown (--max-warnings {}; --output-dir writes them all)",
            if n == 1 { "warning" } else { "warnings" },
            errors.warning_limit
        );
    }
    for shown_error in &errors.shown {
        let _ = writeln!(out, "{}", line_of(Some(&shown_error.input), &shown_error.diagnostic, color, redaction));
    }
    if errors.tally.errors > errors.shown.len() as u64 {
        let n = errors.tally.errors - errors.shown.len() as u64;
        let _ = writeln!(
            out,
            "… {n} more {} not shown (--max-errors {}; --output-dir writes them all)",
            if n == 1 { "error" } else { "errors" },
            errors.limit
        );
    }
    if !errors.tally.errors_per_code.is_empty() {
        let _ = writeln!(out, "Errors by code: {}", by_code(&errors.tally.errors_per_code));
    }
    // Warnings by code: those of the lines and those of the notes.
    let mut warnings = errors.tally.warnings_per_code.clone();
    for note in notes.iter().filter(|n| n.diagnostic.severity() == Severity::Warning) {
        *warnings.entry(note.diagnostic.code().as_str()).or_default() += 1;
    }
    if !warnings.is_empty() {
        let _ = writeln!(out, "Warnings by code: {}", by_code(&warnings));
    }
    if !errors.tally.errors_per_code.is_empty() {
        let mut types: Vec<(&String, &(u64, u64))> = errors.tally.per_type.iter().filter(|(_, v)| v.1 > 0).collect();
        types.sort_by(|a, b| (b.1).1.cmp(&(a.1).1).then(a.0.cmp(b.0)));
        let list: Vec<String> = types.iter().map(|(t, (n, bad))| format!("{t} {bad}/{n}")).collect();
        let list = more(list_some(&list, LISTED), list.len(), "types");
        let _ = writeln!(out, "Failed lines by resource type: {list}");
    }
    let c = &manifest.counts;
    let with_warnings = if errors.tally.lines_with_warnings > 0 {
        format!(" ({} with warnings)", errors.tally.lines_with_warnings)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{} checked, {} ({} MB): {} imported{with_warnings}, {}, {}",
        count(c.files_scanned, "file", "files"),
        count(c.resources_scanned, "resource", "resources"),
        format_mb(c.bytes_scanned),
        c.resources_imported,
        count(c.resources_customer_error, "customer error", "customer errors"),
        count(c.resources_server_error, "server error", "server errors"),
    );
    let unread = c.files_read_with_customer_error + c.files_read_with_server_error;
    if unread > 0 {
        let _ = writeln!(out, "{unread} of them could not be read to the end (see the messages above)");
    }
    if unlisted > 0 {
        let what = count(unlisted as u64, "directory", "directories");
        let _ = writeln!(out, "{what} could not be listed; its files were not validated (see the messages above)");
    }
    if !skipped.is_empty() {
        let list: Vec<String> = skipped.iter().map(|s| format!("{} ({})", shown(&s.path), s.why)).collect();
        let _ =
            writeln!(out, "Skipped {}: {}", count(skipped.len() as u64, "entry", "entries"), list_some(&list, LISTED));
    }
    if errors.unchecked_profiles > 0 {
        let _ = writeln!(
            out,
            "{} a profile (meta.profile) that no package here defines, so it was not checked (US Core 3.1.1 to 7.0.0 are built in; load others with --package)",
            count(errors.unchecked_profiles, "resource declares", "resources declare")
        );
    }
    if let Some(dir) = &manifest.output_dir {
        let dir = dir.trim_end_matches('/');
        let _ = writeln!(out, "Wrote {}/manifest.json and the SUCCESS/ and FAILURE/ records", shown(dir));
    }
    out
}
