//! S3 in the CLI: `s3://` inputs listed into objects, and an `s3://` output folder written from a
//! private local staging folder once the run succeeded (records first, `manifest.json` last, each
//! with SSE-KMS), so that a manifest in S3 always describes complete records and a run that fails
//! leaves none. The core never sees S3: an object is one more `Read`.
//!
//! Inputs: `s3://bucket/prefix/` (or the bucket) is every object under the prefix, in key order,
//! selected as files in a local folder are (`.ndjson`, `.ndjson.gz`; the others skipped and listed in
//! the summary), at any depth (S3 has no folders: HealthLake reads the whole prefix), named by the
//! key relative to the prefix. `s3://bucket/key` is that object when it exists, else the prefix
//! `key/`; a key that is neither is an input that cannot be read (exit 2, naming the URI), as a
//! missing local file.

use std::path::Path;

use fhir_preflight_s3::{Error, S3Uri, S3};

use crate::inputs::{not_ndjson, record_name, Expanded, Input, Skipped};
use crate::output::RecordKind;

/// The objects `uri` names, added to `found`.
pub(crate) fn expand(s3: &S3, uri: &S3Uri, found: &mut Expanded) {
    let prefix = if uri.key.is_empty() || uri.key.ends_with('/') {
        uri.clone()
    } else {
        match s3.size(uri) {
            Ok(Some(size)) => {
                let name = uri.key.rsplit('/').next().unwrap_or(&uri.key);
                found.inputs.push(object(uri, Some(size), name));
                return;
            }
            Ok(None) => uri.with_key(&format!("{}/", uri.key)),
            Err(e) => {
                found.unlisted.push(format!("cannot read {e}"));
                return;
            }
        }
    };
    let objects = match s3.list(&prefix) {
        Ok(objects) => objects,
        Err(e) => {
            found.unlisted.push(format!("cannot list {e}"));
            return;
        }
    };
    if objects.is_empty() && prefix.key != uri.key {
        // Neither an object nor a prefix: reading it fails, and says so.
        let name = uri.key.rsplit('/').next().unwrap_or(&uri.key);
        found.inputs.push(object(uri, None, name));
        return;
    }
    for o in objects {
        let rel = &o.key[prefix.key.len()..];
        let at = prefix.with_key(&o.key);
        if rel.is_empty() || o.key.ends_with('/') {
            continue; // a "folder" marker some tools write
        }
        match not_ndjson(rel) {
            Some(why) => found.skipped.push(Skipped { path: at.to_string(), why: why.to_owned(), quiet: true }),
            None => found.inputs.push(object(&at, Some(o.size), rel)),
        }
    }
}

fn object(uri: &S3Uri, size: Option<u64>, name: &str) -> Input {
    Input { path: None, s3: Some((uri.clone(), size)), display: uri.to_string(), record_name: record_name(name) }
}

/// An `s3://` output folder: checked before the run, written after it.
#[derive(Debug)]
pub(crate) struct S3Output {
    s3: S3,
    root: S3Uri,
    kms_key: Option<String>,
    part_bytes: u64,
    /// Objects of an earlier run's outputs, replaced (`--force`).
    earlier: Vec<S3Uri>,
}

/// The keys an earlier run's outputs may have under the folder.
fn is_ours(rel: &str) -> bool {
    rel == crate::earlier::MANIFEST
        || rel.starts_with(&format!("{}/", crate::earlier::SUCCESS))
        || rel.starts_with(&format!("{}/", crate::earlier::FAILURE))
}

/// The connection, when an input or the output is in S3.
pub(crate) fn connect(needed: bool, args: &crate::args::S3Args) -> Result<Option<S3>, String> {
    if !needed {
        return Ok(None);
    }
    S3::from_env(args.endpoint_url.as_deref()).map(Some).map_err(|e| e.to_string())
}

/// The `s3://` output folder of `output`, if it is one, checked (see [`S3Output::prepare`]).
pub(crate) fn output(
    s3: Option<&S3>,
    output: Option<&S3Uri>,
    force: bool,
    args: &crate::args::S3Args,
) -> Result<Option<S3Output>, String> {
    let (Some(s3), Some(uri)) = (s3, output) else { return Ok(None) };
    let kms = args.kms_key_id.as_deref();
    S3Output::prepare(s3, uri, force, kms, args.allow_unencrypted_output, args.s3_part_size).map(Some)
}

impl S3Output {
    /// The folder must be empty, or hold only an earlier run's outputs and `force` be given. The
    /// KMS rule: a key, unless unencrypted output was asked for.
    pub(crate) fn prepare(
        s3: &S3,
        uri: &S3Uri,
        force: bool,
        kms_key: Option<&str>,
        allow_unencrypted: bool,
        part_bytes: u64,
    ) -> Result<S3Output, String> {
        if kms_key.is_none() && !allow_unencrypted {
            return Err(format!(
                "{uri}: an s3:// output folder needs --kms-key-id (SSE-KMS: the records describe health data, and HealthLake requires a KMS key for its output); --allow-unencrypted-output writes without one"
            ));
        }
        let root = if uri.key.is_empty() || uri.key.ends_with('/') {
            uri.clone()
        } else {
            uri.with_key(&format!("{}/", uri.key))
        };
        let existing = s3.list(&root).map_err(|e| format!("cannot list the output folder {e}"))?;
        let earlier: Vec<S3Uri> = existing.iter().map(|o| root.with_key(&o.key)).collect();
        if let Some(foreign) = existing.iter().find(|o| !is_ours(&o.key[root.key.len()..])) {
            return Err(format!(
                "output folder {root} holds {}, which is not an earlier run's output; refusing to write there (nothing was changed)",
                root.with_key(&foreign.key)
            ));
        }
        if !earlier.is_empty() && !force {
            return Err(format!("output folder {root} is not empty (use --force to replace an earlier run's outputs)"));
        }
        Ok(S3Output { s3: s3.clone(), root, kms_key: kms_key.map(str::to_owned), part_bytes, earlier })
    }

    /// Publish the staged outputs (`staged`: a folder holding `manifest.json`, `SUCCESS/`,
    /// `FAILURE/`): the earlier manifest removed first, the records uploaded, the earlier records
    /// the new ones did not replace removed, and the manifest uploaded last. On failure, what
    /// this run uploaded is removed again, and no manifest is left.
    pub(crate) fn publish(&self, staged: &Path) -> Result<(), String> {
        let manifest = self.root.with_key(&format!("{}{}", self.root.key, crate::earlier::MANIFEST));
        if self.earlier.contains(&manifest) {
            self.s3.delete(&manifest).map_err(|e| e.to_string())?;
        }
        let mut written = Vec::new();
        for (kind, name, path) in crate::output::record_files(staged) {
            let folder = if kind == RecordKind::Success { crate::earlier::SUCCESS } else { crate::earlier::FAILURE };
            let at = self.root.with_key(&format!("{}{folder}/{name}", self.root.key));
            if let Err(e) = self.s3.upload(&at, &path, self.kms_key.as_deref(), self.part_bytes) {
                for w in written.iter().chain(std::iter::once(&at)) {
                    let _ = self.s3.delete(w);
                }
                return Err(upload_error(e));
            }
            written.push(at);
        }
        for old in self.earlier.iter().filter(|o| **o != manifest && !written.contains(o)) {
            self.s3.delete(old).map_err(|e| e.to_string())?;
        }
        let bytes = std::fs::read(staged.join(crate::earlier::MANIFEST)).map_err(|e| e.to_string())?;
        self.s3.put(&manifest, bytes, self.kms_key.as_deref()).map_err(upload_error)
    }
}

/// An output folder in S3 (a shard's, for `merge`) copied to `dest`: its manifest and records.
pub(crate) fn download_folder(s3: &S3, uri: &S3Uri, dest: &Path) -> Result<(), String> {
    let root =
        if uri.key.is_empty() || uri.key.ends_with('/') { uri.clone() } else { uri.with_key(&format!("{}/", uri.key)) };
    let objects = s3.list(&root).map_err(|e| format!("cannot list {e}"))?;
    if !objects.iter().any(|o| o.key[root.key.len()..] == *crate::earlier::MANIFEST) {
        return Err(format!("cannot read {root}{}: no such object", crate::earlier::MANIFEST));
    }
    for o in objects.iter().filter(|o| is_ours(&o.key[root.key.len()..])) {
        let rel = &o.key[root.key.len()..];
        if rel.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
            return Err(format!("{}: not a record name this tool writes", root.with_key(&o.key)));
        }
        let path = crate::inputs::record_path(dest, rel);
        let bytes = s3.get(&root.with_key(&o.key)).map_err(|e| format!("cannot read {e}"))?;
        let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, bytes));
        written.map_err(|e| format!("cannot copy {} to {}: {e}", root.with_key(&o.key), path.display()))?;
    }
    Ok(())
}

fn upload_error(e: Error) -> String {
    format!("cannot write {e}")
}

/// `outputDataConfig.encryptionKeyID`, as HealthLake's manifest has it, added to the core's
/// manifest text (which knows no keys).
pub(crate) fn with_encryption_key(manifest: &str, key: &str) -> String {
    let anchor = "\"outputDataConfig\": {\n    \"s3Uri\": ";
    let Some(start) = manifest.find(anchor) else { return manifest.to_owned() };
    let value_start = start + anchor.len();
    let Some(end) = manifest[value_start..].find('\n').map(|e| value_start + e) else { return manifest.to_owned() };
    let escaped = serde_json::to_string(key).unwrap_or_else(|_| "\"\"".into());
    format!("{},\n    \"encryptionKeyID\": {escaped}{}", &manifest[..end], &manifest[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_key_in_the_manifest() {
        let m = fhir_preflight::Manifest {
            input_uri: "s3://in/".into(),
            output_dir: Some("s3://out/x".into()),
            counts: Default::default(),
        };
        let text = with_encryption_key(&m.to_json(), "arn:aws:kms:us-east-1:1:key/k");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["outputDataConfig"]["encryptionKeyID"], "arn:aws:kms:us-east-1:1:key/k");
        assert_eq!(v["outputDataConfig"]["s3Uri"], "s3://out/x/");
        assert_eq!(fhir_preflight::Manifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn earlier_outputs() {
        assert!(is_ours("manifest.json") && is_ours("SUCCESS/a.ndjson") && is_ours("FAILURE/x/b.ndjson"));
        assert!(!is_ours("notes.txt") && !is_ours("SUCCESSX/a"));
    }
}
