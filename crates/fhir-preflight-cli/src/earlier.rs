//! What an earlier run of this tool demonstrably wrote into an output folder — the only things
//! `--force` may replace. An entry is ours when it has the exact shape this tool writes:
//! - `manifest.json`: a regular file that is byte for byte what [`Manifest::to_json`] writes for
//!   the manifest it holds (a manifest of another tool, or edited by hand, is not ours);
//! - `SUCCESS/`, `FAILURE/`: real folders (not symlinks) holding nothing but non-empty folders and
//!   regular `*.ndjson` files that start as every record line starts (`{"lineId":`);
//! - `.fhir-preflight-staging-<pid>/`: the staging folder of a run that was killed: the same record
//!   folders (files possibly empty or cut short) and possibly its staged `manifest.json`.
//!
//! Anything else — another file, a symlink, a folder of other things — is refused with the first
//! such entry named, before anything is touched.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use fhir_preflight::Manifest;

pub(crate) const MANIFEST: &str = "manifest.json";
pub(crate) const SUCCESS: &str = "SUCCESS";
pub(crate) const FAILURE: &str = "FAILURE";
/// Prefix of the staging folder inside the output folder.
pub(crate) const STAGING_PREFIX: &str = ".fhir-preflight-staging-";

/// Every record line starts with these bytes.
const RECORD_START: &[u8] = b"{\"lineId\":";
/// Manifests are small; a larger `manifest.json` is not ours.
const MAX_MANIFEST_BYTES: u64 = 64 << 10;

/// Why an entry is not an earlier run's output: its path relative to the output folder, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Foreign {
    pub(crate) entry: String,
    pub(crate) why: &'static str,
}

/// Check every entry of the output folder `root`; the first foreign one, if any.
pub(crate) fn foreign_entry(root: &Path, entries: &[String]) -> io::Result<Option<Foreign>> {
    for name in entries {
        let path = root.join(name);
        let found = match name.as_str() {
            MANIFEST => check_manifest(&path, name)?,
            SUCCESS | FAILURE => check_records(&path, name, false)?,
            _ if is_staging_name(name) => check_staging(&path, name)?,
            _ => Some(Foreign { entry: name.clone(), why: "this tool never writes it" }),
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// `.fhir-preflight-staging-` followed by a process id.
pub(crate) fn is_staging_name(name: &str) -> bool {
    name.strip_prefix(STAGING_PREFIX).is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

fn foreign(entry: &str, why: &'static str) -> io::Result<Option<Foreign>> {
    Ok(Some(Foreign { entry: entry.to_owned(), why }))
}

fn check_manifest(path: &Path, rel: &str) -> io::Result<Option<Foreign>> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
        return foreign(rel, "not a manifest this tool wrote");
    }
    let text = fs::read(path)?;
    let ours = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| Manifest::from_json(t).ok().map(|m| m.to_json() == t))
        .unwrap_or(false);
    if ours {
        Ok(None)
    } else {
        foreign(rel, "not a manifest this tool wrote")
    }
}

/// A record folder: non-empty folders and record files only. `partial`: a killed run's staging,
/// whose files may be empty or cut short.
fn check_records(path: &Path, rel: &str, partial: bool) -> io::Result<Option<Foreign>> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return foreign(rel, "not a folder of records");
    }
    let mut empty = true;
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        empty = false;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = format!("{rel}/{name}");
        let child = entry.path();
        let meta = fs::symlink_metadata(&child)?;
        if meta.is_dir() {
            if let Some(found) = check_records(&child, &child_rel, partial)? {
                return Ok(Some(found));
            }
        } else if !meta.is_file() || !name.ends_with(".ndjson") {
            return foreign(&child_rel, "not a record file");
        } else if !starts_as_record(&child, partial)? {
            return foreign(&child_rel, "not a record file (records start with {\"lineId\":)");
        }
    }
    if empty && !partial {
        return foreign(rel, "an empty folder (this tool writes none)");
    }
    Ok(None)
}

fn starts_as_record(path: &Path, partial: bool) -> io::Result<bool> {
    let mut head = Vec::with_capacity(RECORD_START.len());
    fs::File::open(path)?.take(RECORD_START.len() as u64).read_to_end(&mut head)?;
    Ok(if partial { RECORD_START.starts_with(&head) } else { head == RECORD_START })
}

fn check_staging(path: &Path, rel: &str) -> io::Result<Option<Foreign>> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return foreign(rel, "not a staging folder of this tool");
    }
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = format!("{rel}/{name}");
        let found = match name.as_str() {
            SUCCESS | FAILURE => check_records(&entry.path(), &child_rel, true)?,
            // A staged manifest, possibly cut short: a regular file is all that can be asked.
            MANIFEST if fs::symlink_metadata(entry.path())?.is_file() => None,
            _ => Some(Foreign { entry: child_rel, why: "this tool never writes it" }),
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names() {
        assert!(is_staging_name(".fhir-preflight-staging-123"));
        assert!(!is_staging_name(".fhir-preflight-staging-"));
        assert!(!is_staging_name(".fhir-preflight-staging-12a"));
        assert!(!is_staging_name(".fhir-preflight-manifest.tmp"));
    }

    #[test]
    fn record_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("SUCCESS/a")).unwrap();
        std::fs::write(root.join("SUCCESS/a/x.ndjson"), "{\"lineId\":1}\n").unwrap();
        let entries = vec!["SUCCESS".to_owned()];
        assert_eq!(foreign_entry(root, &entries).unwrap(), None);
        std::fs::write(root.join("SUCCESS/a/y.ndjson"), "").unwrap();
        let found = foreign_entry(root, &entries).unwrap().unwrap();
        assert_eq!(found.entry, "SUCCESS/a/y.ndjson");
        // In a killed run's staging folder, an empty record file is expected.
        let staging = ".fhir-preflight-staging-7".to_owned();
        std::fs::create_dir(root.join(&staging)).unwrap();
        std::fs::rename(root.join("SUCCESS"), root.join(&staging).join("SUCCESS")).unwrap();
        assert_eq!(foreign_entry(root, std::slice::from_ref(&staging)).unwrap(), None);
        std::fs::write(root.join(&staging).join("notes.txt"), "").unwrap();
        assert_eq!(foreign_entry(root, &[staging]).unwrap().unwrap().entry, ".fhir-preflight-staging-7/notes.txt");
    }
}
