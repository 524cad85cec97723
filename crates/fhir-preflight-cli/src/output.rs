//! The output folder: refuse to mix with anything but an earlier run's outputs, write records into
//! a private staging folder, and publish at the end with `manifest.json` written last (temporary
//! file, then rename) — so a manifest, when present, always describes complete records. Folders
//! are 0700 and files 0600: the records are about health data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const MANIFEST: &str = "manifest.json";
const SUCCESS: &str = "SUCCESS";
const FAILURE: &str = "FAILURE";
/// Prefix of our temporary entries inside the output folder.
const TEMP_PREFIX: &str = ".fhir-preflight-";

#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    #[error("output folder {0} is not empty (use --force to replace an earlier run's outputs)")]
    NotEmpty(String),
    #[error("output folder {dir} holds {entry:?}, which is not an earlier run's output; refusing to replace it")]
    NotOurs { dir: String, entry: String },
    #[error("output path {0} exists and is not a folder")]
    NotADirectory(String),
    #[error("cannot prepare output folder {dir}: {source}")]
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
    committed: bool,
}

impl OutputDir {
    /// Check and create the folder, and a fresh staging folder inside it.
    pub(crate) fn prepare(root: &Path, force: bool) -> Result<Self, OutputError> {
        let dir = root.display().to_string();
        let io_err = |source| OutputError::Io { dir: dir.clone(), source };
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
                if let Some(entry) = entries
                    .iter()
                    .find(|e| ![MANIFEST, SUCCESS, FAILURE].contains(&e.as_str()) && !e.starts_with(TEMP_PREFIX))
                {
                    return Err(OutputError::NotOurs { dir, entry: entry.clone() });
                }
                // Leftovers of interrupted runs.
                for entry in entries.iter().filter(|e| e.starts_with(TEMP_PREFIX)) {
                    remove_any(&root.join(entry)).map_err(io_err)?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_dirs(root).map_err(io_err)?,
            Err(e) => return Err(io_err(e)),
        }
        let staging = root.join(format!("{TEMP_PREFIX}staging-{}", std::process::id()));
        create_private_dir(&staging).map_err(io_err)?;
        crate::interrupt::set_staging(Some(staging.clone()));
        Ok(OutputDir { root: root.to_path_buf(), staging, committed: false })
    }

    /// Create a record file (and its folders) in the staging folder.
    pub(crate) fn create_record_file(&self, kind: RecordKind, record_name: &str) -> io::Result<File> {
        let folder = match kind {
            RecordKind::Success => SUCCESS,
            RecordKind::Failure => FAILURE,
        };
        let path = crate::inputs::record_path(&self.staging.join(folder), record_name);
        if let Some(parent) = path.parent() {
            create_dirs(parent)?;
        }
        private_file(&path)
    }

    /// Publish: drop the old manifest first, then old records, move the new records in, and
    /// write the manifest last.
    pub(crate) fn commit(mut self, manifest: &str) -> io::Result<()> {
        let old_manifest = self.root.join(MANIFEST);
        if fs::symlink_metadata(&old_manifest).is_ok() {
            fs::remove_file(&old_manifest)?;
        }
        for folder in [SUCCESS, FAILURE] {
            let old = self.root.join(folder);
            if fs::symlink_metadata(&old).is_ok() {
                remove_any(&old)?;
            }
            let new = self.staging.join(folder);
            if new.exists() {
                fs::rename(&new, &old)?;
            }
        }
        let temp = self.root.join(format!("{TEMP_PREFIX}manifest.tmp"));
        let mut file = private_file(&temp)?;
        file.write_all(manifest.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &old_manifest)?;
        fs::remove_dir_all(&self.staging)?;
        crate::interrupt::set_staging(None);
        self.committed = true;
        Ok(())
    }
}

impl Drop for OutputDir {
    /// A run that did not commit leaves the folder as it found it (best effort).
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

fn remove_any(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
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

/// `create_dir_all` with 0700 for every folder it creates.
fn create_dirs(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent)?;
    }
    match create_private_dir(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        other => other,
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
