//! Inputs as given on the command line → the list of files to read, each with its record name
//! (the name of its file under SUCCESS/ and FAILURE/), and the manifest's input URI.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    /// `None` for standard input.
    pub(crate) path: Option<PathBuf>,
    /// How to name it in messages (`-` for standard input).
    pub(crate) display: String,
    /// Its record file name, relative to SUCCESS/ and FAILURE/ (`/`-separated).
    pub(crate) record_name: String,
}

/// A problem with the inputs found before validating (exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputsError {
    #[error("two inputs would write the same record file {name:?}: {first} and {second}")]
    RecordNameCollision { name: String, first: String, second: String },
    #[error("cannot list directory {dir}: {source}")]
    ListDir { dir: String, source: std::io::Error },
}

/// Expand arguments: a directory gives its `*.ndjson` and `*.ndjson.gz` regular files (sorted; with
/// `recursive`, those of its subdirectories too, named by their relative path; other entries are
/// listed in `skipped`), `-` is standard input, anything else is a file (missing ones
/// are kept: reading them fails later and is counted as a customer error).
pub(crate) fn expand(args: &[PathBuf], recursive: bool, skipped: &mut Vec<String>) -> Result<Vec<Input>, InputsError> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            inputs.push(Input { path: None, display: "-".into(), record_name: "stdin.ndjson".into() });
        } else if arg.is_dir() {
            let mut files = Vec::new();
            list_dir(arg, "", recursive, &mut files, skipped)?;
            files.sort();
            for name in files {
                let path = record_path(arg, &name);
                inputs.push(Input {
                    display: path.display().to_string(),
                    path: Some(path),
                    record_name: record_name(&name),
                });
            }
        } else {
            let name = arg.file_name().map_or_else(|| arg.display().to_string(), |n| n.to_string_lossy().into_owned());
            inputs.push(Input {
                path: Some(arg.clone()),
                display: arg.display().to_string(),
                record_name: record_name(&name),
            });
        }
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for input in &inputs {
        if let Some(first) = seen.insert(&input.record_name, &input.display) {
            return Err(InputsError::RecordNameCollision {
                name: input.record_name.clone(),
                first: first.to_owned(),
                second: input.display.clone(),
            });
        }
    }
    Ok(inputs)
}

/// Collect the `/`-separated names (relative to `root`) of the NDJSON files under `root/rel`.
fn list_dir(
    root: &Path,
    rel: &str,
    recursive: bool,
    files: &mut Vec<String>,
    skipped: &mut Vec<String>,
) -> Result<(), InputsError> {
    let dir = if rel.is_empty() { root.to_path_buf() } else { record_path(root, rel) };
    let list_err = |source| InputsError::ListDir { dir: dir.display().to_string(), source };
    for entry in std::fs::read_dir(&dir).map_err(list_err)? {
        let entry = entry.map_err(list_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_name = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let is_real_dir = std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if recursive && is_real_dir {
            list_dir(root, &rel_name, recursive, files, skipped)?;
            continue;
        }
        if !(name.ends_with(".ndjson") || name.ends_with(".ndjson.gz")) {
            continue;
        }
        // Regular files only (symlinks to regular files too); the rest is reported and skipped.
        match std::fs::metadata(entry.path()) {
            Ok(meta) if meta.is_file() => files.push(rel_name),
            Ok(meta) => skipped.push(format!(
                "skipped {}: not a regular file ({})",
                entry.path().display(),
                if meta.is_dir() { "a directory" } else { "a FIFO, socket or device" }
            )),
            Err(e) => skipped.push(format!("skipped {}: {e}", entry.path().display())),
        }
    }
    Ok(())
}

/// A final `.gz` is dropped: the records describe the decompressed lines.
fn record_name(name: &str) -> String {
    name.strip_suffix(".gz").unwrap_or(name).to_owned()
}

/// `inputDataConfig.s3Uri`: one input as given; several: their common parent folder and `/`.
pub(crate) fn input_uri(args: &[PathBuf]) -> String {
    if let [only] = args {
        return only.display().to_string();
    }
    let parents: Vec<Vec<Component<'_>>> = args
        .iter()
        .filter(|a| a.as_os_str() != "-")
        .map(|a| a.parent().map(|p| p.components().collect()).unwrap_or_default())
        .collect();
    let Some(first) = parents.first() else { return "-".into() };
    let mut common = first.len();
    for p in &parents[1..] {
        common = common.min(p.len()).min(first.iter().zip(p).take_while(|(a, b)| a == b).count());
    }
    let prefix: PathBuf = first[..common].iter().collect();
    let prefix = prefix.display().to_string();
    match prefix.as_str() {
        "" => "./".into(),
        "/" => "/".into(),
        _ => format!("{prefix}/"),
    }
}

/// Record names are always `/`-separated relative names.
pub(crate) fn record_path(root: &Path, name: &str) -> PathBuf {
    name.split('/').fold(root.to_path_buf(), |p, part| p.join(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(args: &[&str]) -> String {
        input_uri(&args.iter().map(PathBuf::from).collect::<Vec<_>>())
    }

    #[test]
    fn input_uris() {
        assert_eq!(uri(&["data/a.ndjson"]), "data/a.ndjson");
        assert_eq!(uri(&["-"]), "-");
        assert_eq!(uri(&["data/x/a.ndjson", "data/y/b.ndjson"]), "data/");
        assert_eq!(uri(&["data/a.ndjson", "data/b.ndjson"]), "data/");
        assert_eq!(uri(&["a.ndjson", "b.ndjson"]), "./");
        assert_eq!(uri(&["/a/b/c.ndjson", "/a/d.ndjson"]), "/a/");
        assert_eq!(uri(&["/x.ndjson", "/y/z.ndjson"]), "/");
        assert_eq!(uri(&["data/a", "data/b"]), "data/");
    }

    #[test]
    fn record_names() {
        assert_eq!(record_name("a.ndjson.gz"), "a.ndjson");
        assert_eq!(record_name("a.ndjson"), "a.ndjson");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.ndjson"), "").unwrap();
        std::fs::write(dir.path().join("a.ndjson"), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let inputs = expand(&[dir.path().to_path_buf(), PathBuf::from("-")], false, &mut Vec::new()).unwrap();
        let names: Vec<_> = inputs.iter().map(|i| i.record_name.as_str()).collect();
        assert_eq!(names, vec!["a.ndjson", "b.ndjson", "stdin.ndjson"]);
        let err = expand(&[dir.path().join("a.ndjson"), dir.path().to_path_buf()], false, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, InputsError::RecordNameCollision { .. }));
    }
}
