//! The output folder: refuse to mix with anything but an earlier run's outputs
//! ([`crate::earlier`]), write records into a private staging folder, and publish at the end —
//! so a manifest, when present, always describes complete records. Folders are 0700 and files
//! 0600: the records are about health data.
//!
//! Publishing writes the manifest into the staging folder first (the last write that can fail for
//! lack of space), then, holding the interrupt lock: removes the old manifest and records, moves
//! the new records in, and moves the manifest in last. A run that fails or is interrupted at any
//! point before that leaves nothing: the staging folder, whatever was moved in, and the output
//! folder itself when the run created it are removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::earlier::{self, FAILURE, MANIFEST, STAGING_PREFIX, SUCCESS};
use crate::interrupt::Cleanup;
use crate::text::shown;

#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    #[error("output folder {} is not empty (use --force to replace an earlier run's outputs)", shown(.0))]
    NotEmpty(String),
    #[error("output folder {} holds {}: {why}; refusing to replace it (nothing was changed)", shown(.dir), shown(.entry))]
    NotOurs { dir: String, entry: String, why: &'static str },
    #[error("output path {} exists and is not a folder", shown(.0))]
    NotADirectory(String),
    #[error("cannot prepare output folder {}: {source}", shown(.dir))]
    Io { dir: String, source: io::Error },
}

/// Which record folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Success,
    Failure,
}

#[derive(Debug)]
pub(crate) struct OutputDir {
    root: PathBuf,
    staging: PathBuf,
    /// Folders this run created for the output folder, deepest first (removed again if the run
    /// fails, when empty).
    created: Vec<PathBuf>,
    /// Paths moved into the output folder while publishing (removed again if publishing fails).
    moved: Vec<PathBuf>,
    committed: bool,
}

impl OutputDir {
    /// Check and create the folder, and a fresh staging folder inside it.
    pub(crate) fn prepare(root: &Path, force: bool) -> Result<Self, OutputError> {
        let dir = root.display().to_string();
        let io_err = |source| OutputError::Io { dir: dir.clone(), source };
        let mut created = Vec::new();
        match fs::symlink_metadata(root) {
            Ok(meta) if !meta.is_dir() => return Err(OutputError::NotADirectory(dir)),
            Ok(_) => {
                let mut entries = Vec::new();
                for entry in fs::read_dir(root).map_err(io_err)? {
                    entries.push(entry.map_err(io_err)?.file_name().to_string_lossy().into_owned());
                }
                entries.sort();
                if !entries.is_empty() && !force {
                    return Err(OutputError::NotEmpty(dir));
                }
                if let Some(found) = earlier::foreign_entry(root, &entries).map_err(io_err)? {
                    return Err(OutputError::NotOurs { dir, entry: found.entry, why: found.why });
                }
                // Leftovers of killed runs.
                for entry in entries.iter().filter(|e| earlier::is_staging_name(e)) {
                    fs::remove_dir_all(root.join(entry)).map_err(io_err)?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let made = create_dirs(root, &mut created);
                created.reverse();
                if let Err(e) = made {
                    created.iter().for_each(|d| drop(fs::remove_dir(d)));
                    return Err(io_err(e));
                }
            }
            Err(e) => return Err(io_err(e)),
        }
        let staging = root.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        let output = OutputDir { root: root.to_path_buf(), staging, created, moved: Vec::new(), committed: false };
        if let Err(e) = create_private_dir(&output.staging) {
            return Err(io_err(e));
        }
        *crate::interrupt::state() =
            Cleanup::Staged { staging: output.staging.clone(), created: output.created.clone() };
        Ok(output)
    }

    /// Create a record file (and its folders) in the staging folder. The staging folder itself is
    /// never created here: once an interrupt has removed it, no record can appear again.
    pub(crate) fn create_record_file(&self, kind: RecordKind, record_name: &str) -> io::Result<File> {
        let folder = match kind {
            RecordKind::Success => SUCCESS,
            RecordKind::Failure => FAILURE,
        };
        let mut path = self.staging.clone();
        let parts: Vec<&str> = std::iter::once(folder).chain(record_name.split('/')).collect();
        for (i, part) in parts.iter().enumerate() {
            path.push(part);
            if i + 1 < parts.len() {
                match create_private_dir(&path) {
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
                    other => other?,
                }
            }
        }
        private_file(&path)
    }

    /// Publish: stage the manifest, then (holding the interrupt lock) drop the old manifest and
    /// records, move the new records in, and the manifest last.
    pub(crate) fn commit(mut self, manifest: &str) -> io::Result<()> {
        let staged_manifest = self.staging.join(MANIFEST);
        let mut file = private_file(&staged_manifest)?;
        file.write_all(manifest.as_bytes())?;
        file.sync_all()?;
        drop(file);
        let mut cleanup = crate::interrupt::state();
        if crate::interrupt::interrupted() {
            return Err(io::Error::other("interrupted"));
        }
        let old_manifest = self.root.join(MANIFEST);
        if fs::symlink_metadata(&old_manifest).is_ok() {
            fs::remove_file(&old_manifest)?;
        }
        for folder in [SUCCESS, FAILURE] {
            let old = self.root.join(folder);
            if fs::symlink_metadata(&old).is_ok() {
                fs::remove_dir_all(&old)?;
            }
            let new = self.staging.join(folder);
            if new.exists() {
                fs::rename(&new, &old)?;
                self.moved.push(old);
            }
        }
        fs::rename(&staged_manifest, &old_manifest)?;
        self.committed = true;
        *cleanup = Cleanup::Published;
        drop(cleanup);
        // The staging folder is empty now; a failure to remove it does not unpublish the run.
        let _ = fs::remove_dir(&self.staging);
        Ok(())
    }
}

impl Drop for OutputDir {
    /// A run that did not publish leaves nothing: what it moved in, its staging folder, and the
    /// output folder if it created it.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let mut cleanup = crate::interrupt::state();
        for path in &self.moved {
            let _ = fs::remove_dir_all(path);
        }
        let staged = Cleanup::Staged { staging: self.staging.clone(), created: self.created.clone() };
        staged.undo();
        *cleanup = Cleanup::Nothing;
    }
}

/// Remove a staging folder even while other threads still write records into it: it is first
/// renamed away (so no new record file can be created under its name), then removed.
pub(crate) fn remove_staging(staging: &Path) {
    let trash = staging.with_file_name(format!(
        "{}-removed",
        staging.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    let target = if fs::rename(staging, &trash).is_ok() { trash } else { staging.to_path_buf() };
    for _ in 0..3 {
        if fs::remove_dir_all(&target).is_ok() || !target.exists() {
            return;
        }
    }
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> io::Result<()> {
    fs::create_dir(path)
}

/// `create_dir_all` with 0700 for every folder it creates, which it lists in `created`.
fn create_dirs(path: &Path, created: &mut Vec<PathBuf>) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent, created)?;
    }
    match create_private_dir(path) {
        Ok(()) => {
            created.push(path.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Every record file of an output folder: (kind, record name, path), by name (SUCCESS before
/// FAILURE).
pub(crate) fn record_files(dir: &Path) -> Vec<(RecordKind, String, PathBuf)> {
    fn walk(root: &Path, at: &Path, kind: RecordKind, out: &mut Vec<(RecordKind, String, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(at) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, kind, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.push((kind, name, path));
            }
        }
    }
    let mut out = Vec::new();
    for (folder, kind) in [("SUCCESS", RecordKind::Success), ("FAILURE", RecordKind::Failure)] {
        walk(&dir.join(folder), &dir.join(folder), kind, &mut out);
    }
    out.sort_by(|a, b| (a.1.as_str(), a.0 == RecordKind::Failure).cmp(&(b.1.as_str(), b.0 == RecordKind::Failure)));
    out
}
