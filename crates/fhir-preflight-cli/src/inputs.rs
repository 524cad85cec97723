//! Inputs as given on the command line → the list of files to read, each with its record name
//! (the name of its file under SUCCESS/ and FAILURE/), and the manifest's input URI.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::text::shown;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    /// `None` for standard input and S3 objects.
    pub(crate) path: Option<PathBuf>,
    /// An S3 object and its size (listed), or `None` when it was not found (reading it fails).
    pub(crate) s3: Option<(fhir_preflight_s3::S3Uri, Option<u64>)>,
    /// How to name it in messages (`-` for standard input).
    pub(crate) display: String,
    /// Its record file name, relative to SUCCESS/ and FAILURE/ (`/`-separated).
    pub(crate) record_name: String,
}

/// An entry of an input directory that is not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) path: String,
    pub(crate) why: String,
    /// Only in the summary (a name that is not NDJSON, a subfolder without `--recursive`); the
    /// others (links, FIFOs, the output folder) are also reported on standard error at once.
    pub(crate) quiet: bool,
}

/// The inputs found, what was skipped, and the directories that could not be listed.
#[derive(Debug, Default)]
pub(crate) struct Expanded {
    pub(crate) inputs: Vec<Input>,
    pub(crate) skipped: Vec<Skipped>,
    /// `cannot list directory …` messages: the run goes on with everything else, and exits 2.
    pub(crate) unlisted: Vec<String>,
}

/// A problem with the inputs found before validating (exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputsError {
    #[error(
        "two inputs would write the same record file {name:?}: {} and {}; validate their common parent folder with --recursive (record names keep the relative path), or each folder with its own --output-dir",
        shown(.first),
        shown(.second)
    )]
    RecordNameCollision { name: String, first: String, second: String },
}

/// Expand arguments: a directory gives its `*.ndjson` and `*.ndjson.gz` regular files (sorted; with
/// `recursive`, those of its subdirectories too, named by their relative path), `-` is standard
/// input, anything else is a file (missing ones are kept: reading them fails later and is counted
/// as a customer error). Nothing inside `output` (the output folder, if it exists) is ever an input.
pub(crate) fn expand(
    args: &[PathBuf],
    recursive: bool,
    output: Option<&Path>,
    s3: Option<&fhir_preflight_s3::S3>,
) -> Result<Expanded, InputsError> {
    let output = output.and_then(|o| o.canonicalize().ok());
    let inside_output =
        |path: &Path| output.as_deref().is_some_and(|out| path.canonicalize().is_ok_and(|p| p.starts_with(out)));
    let mut found = Expanded::default();
    for arg in args {
        let text = arg.to_string_lossy();
        if let (Some(uri), Some(s3)) = (fhir_preflight_s3::S3Uri::parse(&text), s3) {
            crate::s3::expand(s3, &uri, &mut found);
        } else if arg.as_os_str() == "-" {
            found.inputs.push(Input { path: None, s3: None, display: "-".into(), record_name: "stdin.ndjson".into() });
        } else if inside_output(arg) {
            found.skipped.push(Skipped {
                path: arg.display().to_string(),
                why: "it is inside the output folder (outputs are never inputs)".into(),
                quiet: false,
            });
        } else if arg.is_dir() {
            let mut files = Vec::new();
            let mut walk =
                Listing { root: arg, recursive, output: output.as_deref(), files: &mut files, found: &mut found };
            walk.list("");
            files.sort();
            for name in files {
                let path = record_path(arg, &name);
                found.inputs.push(Input {
                    display: path.display().to_string(),
                    path: Some(path),
                    s3: None,
                    record_name: record_name(&name),
                });
            }
        } else {
            let name = arg.file_name().map_or_else(|| arg.display().to_string(), |n| n.to_string_lossy().into_owned());
            found.inputs.push(Input {
                path: Some(arg.clone()),
                s3: None,
                display: arg.display().to_string(),
                record_name: record_name(&name),
            });
        }
    }
    Ok(found)
}

/// Two inputs may not write the same record file (checked when there is an output folder).
pub(crate) fn check_record_names(inputs: &[Input]) -> Result<(), InputsError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for input in inputs {
        if let Some(first) = seen.insert(&input.record_name, &input.display) {
            return Err(InputsError::RecordNameCollision {
                name: input.record_name.clone(),
                first: first.to_owned(),
                second: input.display.clone(),
            });
        }
    }
    Ok(())
}

/// One directory argument being listed.
struct Listing<'a> {
    root: &'a Path,
    recursive: bool,
    output: Option<&'a Path>,
    /// The `/`-separated names (relative to `root`) of the NDJSON files found.
    files: &'a mut Vec<String>,
    found: &'a mut Expanded,
}

impl Listing<'_> {
    /// List `root/rel`; a directory that cannot be listed is reported and the rest goes on.
    fn list(&mut self, rel: &str) {
        let dir = if rel.is_empty() { self.root.to_path_buf() } else { record_path(self.root, rel) };
        let entries = match std::fs::read_dir(&dir).and_then(|entries| entries.collect::<Result<Vec<_>, _>>()) {
            Ok(entries) => entries,
            Err(e) => {
                self.found.unlisted.push(format!("cannot list directory {}: {e}", shown(&dir.display().to_string())));
                return;
            }
        };
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel_name = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            let path = entry.path();
            let skip = |why: String, quiet: bool| Skipped { path: path.display().to_string(), why, quiet };
            let is_real_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if is_real_dir && self.output.is_some_and(|out| path.canonicalize().is_ok_and(|p| p == out)) {
                let why = "it is the output folder (outputs are never inputs)".to_owned();
                self.found.skipped.push(skip(why, false));
                continue;
            }
            if is_real_dir && self.recursive {
                self.list(&rel_name);
                continue;
            }
            if let Some(why) = not_ndjson(&name) {
                let why = if is_real_dir { "a folder: --recursive reads folders" } else { why };
                self.found.skipped.push(skip(why.to_owned(), true));
                continue;
            }
            // Regular files only (symlinks to regular files too); the rest is reported and skipped.
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => self.files.push(rel_name),
                Ok(meta) => {
                    let what = if meta.is_dir() { "a directory" } else { "a FIFO, socket or device" };
                    self.found.skipped.push(skip(format!("not a regular file ({what})"), false));
                }
                Err(e) => self.found.skipped.push(skip(e.to_string(), false)),
            }
        }
    }
}

impl Input {
    /// Its size in bytes, when known before reading (files, listed objects).
    pub(crate) fn size(&self) -> Option<u64> {
        match (&self.path, &self.s3) {
            (Some(path), _) => std::fs::metadata(path).ok().map(|m| m.len()),
            (None, Some((_, size))) => *size,
            (None, None) => None,
        }
    }
}

/// Is `name` one HealthLake reads? `None` when it is, else why not.
pub(crate) fn not_ndjson(name: &str) -> Option<&'static str> {
    if name.ends_with(".ndjson") || name.ends_with(".ndjson.gz") {
        None
    } else if name.to_ascii_lowercase().ends_with(".ndjson") || name.to_ascii_lowercase().ends_with(".ndjson.gz") {
        Some("names are case-sensitive: HealthLake reads .ndjson and .ndjson.gz files")
    } else {
        Some("not .ndjson or .ndjson.gz: HealthLake reads only those")
    }
}

/// A final `.gz` is dropped: the records describe the decompressed lines.
pub(crate) fn record_name(name: &str) -> String {
    name.strip_suffix(".gz").unwrap_or(name).to_owned()
}

/// `inputDataConfig.s3Uri`: one input as given; several: their common parent folder and `/`.
pub(crate) fn input_uri(args: &[PathBuf]) -> String {
    if let [only] = args {
        return only.display().to_string();
    }
    let texts: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    if texts.iter().any(|t| t.starts_with("s3://")) {
        return s3_common_prefix(&texts);
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

/// Several inputs, some in S3: the longest common prefix of the URIs, cut after a `/`.
fn s3_common_prefix(texts: &[String]) -> String {
    let first = texts[0].as_bytes();
    let mut common = first.len();
    for t in &texts[1..] {
        common = common.min(first.iter().zip(t.as_bytes()).take_while(|(a, b)| a == b).count());
    }
    let cut = texts[0][..common].rfind('/').map_or(0, |i| i + 1);
    texts[0][..cut].to_owned()
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
        assert_eq!(uri(&["s3://b/in/x/", "s3://b/in/y.ndjson"]), "s3://b/in/");
        assert_eq!(uri(&["s3://b/in/", "data/a.ndjson"]), "");
        assert_eq!(uri(&["s3://b/in/"]), "s3://b/in/");
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
        let found = expand(&[dir.path().to_path_buf(), PathBuf::from("-")], false, None, None).unwrap();
        let names: Vec<_> = found.inputs.iter().map(|i| i.record_name.as_str()).collect();
        assert_eq!(names, vec!["a.ndjson", "b.ndjson", "stdin.ndjson"]);
        assert_eq!(found.skipped.len(), 1, "notes.txt");
        assert!(found.skipped[0].quiet);
        let found = expand(&[dir.path().join("a.ndjson"), dir.path().to_path_buf()], false, None, None).unwrap();
        let err = check_record_names(&found.inputs).unwrap_err();
        assert!(matches!(err, InputsError::RecordNameCollision { .. }));
    }
}
