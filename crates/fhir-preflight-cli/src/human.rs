//! The default report on standard output: the first errors with file:line:column, then a short
//! summary a person reads in seconds.

use std::fmt::Write;

use fhir_preflight::{format_mb, Diagnostic, Manifest};

use crate::records::ErrorList;

/// Warnings about whole files (byte-order mark, blank lines), shown with the errors.
#[derive(Debug)]
pub(crate) struct FileNote {
    pub(crate) input: String,
    pub(crate) diagnostic: Diagnostic,
}

fn location(input: &str, d: &Diagnostic) -> String {
    if d.line == 0 {
        return input.to_owned();
    }
    match d.column {
        Some(col) => format!("{input}:{}:{col}", d.line),
        None => format!("{input}:{}", d.line),
    }
}

fn line_of(input: &str, d: &Diagnostic, color: bool) -> String {
    let severity = if color {
        let ansi = match d.severity {
            fhir_preflight::Severity::Fatal | fhir_preflight::Severity::Error => "\x1b[1;31m",
            fhir_preflight::Severity::Warning => "\x1b[33m",
            _ => "\x1b[36m",
        };
        format!("{ansi}{}\x1b[0m", d.severity)
    } else {
        d.severity.to_string()
    };
    let mut s = format!("{}: {severity}[{}] {}", location(input, d), d.code, d.message);
    if let Some(path) = &d.path {
        let _ = write!(s, " (at {path})");
    }
    s
}

pub(crate) fn render(manifest: &Manifest, errors: &ErrorList, notes: &[FileNote], color: bool) -> String {
    let mut out = String::new();
    for note in notes {
        let _ = writeln!(out, "{}", line_of(&note.input, &note.diagnostic, color));
    }
    for shown in &errors.shown {
        let _ = writeln!(out, "{}", line_of(&shown.input, &shown.diagnostic, color));
    }
    if errors.total > errors.shown.len() as u64 {
        let _ = writeln!(
            out,
            "… {} more errors not shown (--max-errors {}; --output-dir writes them all)",
            errors.total - errors.shown.len() as u64,
            errors.limit
        );
    }
    if !errors.per_code.is_empty() {
        let mut codes: Vec<(&&str, &u64)> = errors.per_code.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = codes.iter().take(10).map(|(code, n)| format!("{code} {n}")).collect();
        let _ = writeln!(out, "Errors by code: {}", list.join(", "));
        let mut types: Vec<(&String, &(u64, u64))> = errors.per_type.iter().filter(|(_, v)| v.1 > 0).collect();
        types.sort_by(|a, b| (b.1).1.cmp(&(a.1).1).then(a.0.cmp(b.0)));
        let list: Vec<String> = types.iter().take(10).map(|(t, (n, bad))| format!("{t} {bad}/{n}")).collect();
        let _ = writeln!(out, "Failed lines by resource type: {}", list.join(", "));
    }
    let c = &manifest.counts;
    let _ = writeln!(
        out,
        "{} {} checked, {} resources ({} MB): {} imported, {} customer errors, {} server errors",
        c.files_scanned,
        if c.files_scanned == 1 { "file" } else { "files" },
        c.resources_scanned,
        format_mb(c.bytes_scanned),
        c.resources_imported,
        c.resources_customer_error,
        c.resources_server_error
    );
    let unread = c.files_read_with_customer_error + c.files_read_with_server_error;
    if unread > 0 {
        let _ = writeln!(out, "{unread} of them could not be read to the end (see the messages above)");
    }
    if errors.unchecked_profiles > 0 {
        let _ = writeln!(
            out,
            "{} resources declare a profile (meta.profile) that HealthLake's strict level validates and fhir-preflight does not (base R4 only)",
            errors.unchecked_profiles
        );
    }
    if let Some(dir) = &manifest.output_dir {
        let dir = dir.trim_end_matches('/');
        let _ = writeln!(out, "Wrote {dir}/manifest.json and the SUCCESS/ and FAILURE/ records");
    }
    out
}
