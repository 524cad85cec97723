//! The run's manifest, with HealthLake's `manifest.json` keys in HealthLake's order.
//!
//! AWS does not define the counts; ours mean (also in the README):
//! - `numberOfScannedFiles`: inputs attempted, readable or not;
//! - `numberOfFilesImported`: files with at least one imported line;
//! - `numberOfFilesReadWithSuccess`: files read to the end;
//! - `numberOfFilesReadWithCustomerError`: files that could not be opened or read (missing, not a
//!   regular file, broken compression, a read error);
//! - `numberOfFilesReadWithServerError`: reading failed inside the tool;
//! - `sizeOfScannedFilesInMB`: bytes of the (decompressed) inputs; `sizeOfDataImportedSuccessfullyInMB`:
//!   bytes of imported lines without terminators. MB = 10^6 bytes, written with exactly 6 decimals
//!   from integer byte counts, so manifests merge exactly;
//! - `numberOfResources*`: non-blank lines, and how each ended.
//!
//! Counts add up associatively and commutatively ([`Counts::merge`]), so validating shards and
//! merging their manifests equals validating everything at once.

use std::fmt::Write;

use crate::validator::FileReport;

/// How reading one input ended.
///
/// ```
/// use fhir_preflight::{Counts, FileRead, FileReport};
/// let mut counts = Counts::default();
/// counts.add_file(&FileReport::default(), FileRead::CustomerError); // a missing file
/// assert_eq!((counts.files_scanned, counts.files_read_with_customer_error), (1, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileRead {
    /// Read to the end.
    Success,
    /// Could not be opened or read: the input's fault.
    CustomerError,
    /// Reading failed inside the tool.
    ServerError,
}

/// The counts of a manifest. They add up exactly: shards merged equal the whole.
///
/// ```
/// use fhir_preflight::{validate_bytes, Counts, Discard, FileRead, Options};
/// let (a, b) = (b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n", b"{}\n");
/// let mut whole = Counts::default();
/// for input in [&a[..], &b[..]] {
///     let mut shard = Counts::default();
///     shard.add_file(&validate_bytes(input, &Options::default(), &mut Discard), FileRead::Success);
///     whole.merge(&shard);
/// }
/// assert_eq!((whole.files_scanned, whole.resources_imported, whole.resources_customer_error), (2, 1, 1));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// `numberOfScannedFiles`
    pub files_scanned: u64,
    /// `numberOfFilesImported`
    pub files_imported: u64,
    /// `numberOfFilesReadWithSuccess`
    pub files_read_with_success: u64,
    /// `numberOfFilesReadWithCustomerError`
    pub files_read_with_customer_error: u64,
    /// `numberOfFilesReadWithServerError`
    pub files_read_with_server_error: u64,
    /// `sizeOfScannedFilesInMB`, in bytes
    pub bytes_scanned: u64,
    /// `sizeOfDataImportedSuccessfullyInMB`, in bytes
    pub bytes_imported: u64,
    /// `numberOfResourcesScanned`
    pub resources_scanned: u64,
    /// `numberOfResourcesImportedSuccessfully`
    pub resources_imported: u64,
    /// `numberOfResourcesWithCustomerError`
    pub resources_customer_error: u64,
    /// `numberOfResourcesWithServerError`
    pub resources_server_error: u64,
}

impl Counts {
    /// Add one input: its report (possibly partial) and how reading it ended.
    pub fn add_file(&mut self, file: &FileReport, read: FileRead) {
        self.merge(&Counts {
            files_scanned: 1,
            files_imported: u64::from(file.resources_imported > 0),
            files_read_with_success: u64::from(read == FileRead::Success),
            files_read_with_customer_error: u64::from(read == FileRead::CustomerError),
            files_read_with_server_error: u64::from(read == FileRead::ServerError),
            bytes_scanned: file.bytes_scanned,
            bytes_imported: file.bytes_imported,
            resources_scanned: file.resources_scanned,
            resources_imported: file.resources_imported,
            resources_customer_error: file.resources_customer_error,
            resources_server_error: file.resources_server_error,
        });
    }

    /// Add another set of counts (associative and commutative).
    pub fn merge(&mut self, other: &Counts) {
        self.files_scanned += other.files_scanned;
        self.files_imported += other.files_imported;
        self.files_read_with_success += other.files_read_with_success;
        self.files_read_with_customer_error += other.files_read_with_customer_error;
        self.files_read_with_server_error += other.files_read_with_server_error;
        self.bytes_scanned += other.bytes_scanned;
        self.bytes_imported += other.bytes_imported;
        self.resources_scanned += other.resources_scanned;
        self.resources_imported += other.resources_imported;
        self.resources_customer_error += other.resources_customer_error;
        self.resources_server_error += other.resources_server_error;
    }
}

/// A HealthLake-shaped manifest.
///
/// ```
/// let m = fhir_preflight::Manifest { input_uri: "in.ndjson".into(), output_dir: Some("out".into()), counts: Default::default() };
/// let json = m.to_json();
/// assert!(json.contains(r#""failureOutputS3Uri": "out/FAILURE/""#));
/// assert!(json.contains(r#""sizeOfScannedFilesInMB": 0.000000,"#));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// `inputDataConfig.s3Uri`: the input as given (several: their common parent folder and `/`;
    /// standard input: `-`).
    pub input_uri: String,
    /// The output folder, if outputs are written (`outputDataConfig.s3Uri` is it with a final `/`).
    pub output_dir: Option<String>,
    /// The counts.
    pub counts: Counts,
}

/// `bytes` as MB (10^6 bytes) with exactly 6 decimals: exact, no floating point.
///
/// ```
/// assert_eq!(fhir_preflight::format_mb(23_627), "0.023627");
/// assert_eq!(fhir_preflight::format_mb(5_000_000), "5.000000");
/// ```
pub fn format_mb(bytes: u64) -> String {
    format!("{}.{:06}", bytes / 1_000_000, bytes % 1_000_000)
}

impl Manifest {
    /// The manifest as pretty JSON (2-space indent, final newline), keys in HealthLake's order.
    pub fn to_json(&self) -> String {
        let dir = self.output_dir.as_deref().map(|d| if d.ends_with('/') { d.to_owned() } else { format!("{d}/") });
        let uri = |suffix: &str| match &dir {
            Some(d) => json_string(&format!("{d}{suffix}")),
            None => "null".to_owned(),
        };
        let c = &self.counts;
        let mut out = String::with_capacity(1024);
        out.push_str("{\n");
        let _ = writeln!(out, "  \"inputDataConfig\": {{\n    \"s3Uri\": {}\n  }},", json_string(&self.input_uri));
        let _ = writeln!(out, "  \"outputDataConfig\": {{\n    \"s3Uri\": {}\n  }},", uri(""));
        let _ = writeln!(out, "  \"successOutput\": {{\n    \"successOutputS3Uri\": {}\n  }},", uri("SUCCESS/"));
        let _ = writeln!(out, "  \"failureOutput\": {{\n    \"failureOutputS3Uri\": {}\n  }},", uri("FAILURE/"));
        let fields: [(&str, String); 11] = [
            ("numberOfScannedFiles", c.files_scanned.to_string()),
            ("numberOfFilesImported", c.files_imported.to_string()),
            ("numberOfFilesReadWithSuccess", c.files_read_with_success.to_string()),
            ("numberOfFilesReadWithCustomerError", c.files_read_with_customer_error.to_string()),
            ("numberOfFilesReadWithServerError", c.files_read_with_server_error.to_string()),
            ("sizeOfScannedFilesInMB", format_mb(c.bytes_scanned)),
            ("sizeOfDataImportedSuccessfullyInMB", format_mb(c.bytes_imported)),
            ("numberOfResourcesScanned", c.resources_scanned.to_string()),
            ("numberOfResourcesImportedSuccessfully", c.resources_imported.to_string()),
            ("numberOfResourcesWithCustomerError", c.resources_customer_error.to_string()),
            ("numberOfResourcesWithServerError", c.resources_server_error.to_string()),
        ];
        for (i, (key, value)) in fields.iter().enumerate() {
            let comma = if i + 1 < fields.len() { "," } else { "" };
            let _ = writeln!(out, "  \"{key}\": {value}{comma}");
        }
        out.push_str("}\n");
        out
    }
}

/// Bytes from a manifest's MB value, exactly (6 decimals: 1 byte = 0.000001 MB), read from the
/// text (a JSON parser would turn it into a float).
fn mb_to_bytes(text: &str, key: &str) -> Option<u64> {
    let after = &text[text.find(&format!("\"{key}\""))? + key.len() + 2..];
    let after = after.trim_start().strip_prefix(':')?.trim_start();
    let number: &str = &after[..after.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(after.len())];
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || frac.len() > 6 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = format!("{frac:0<6}").parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

impl Manifest {
    /// Read a manifest written by [`Manifest::to_json`] (or by HealthLake): its locations and counts.
    ///
    /// ```
    /// let m = fhir_preflight::Manifest { input_uri: "a.ndjson".into(), output_dir: None, counts: Default::default() };
    /// assert_eq!(fhir_preflight::Manifest::from_json(&m.to_json()), Ok(m));
    /// ```
    pub fn from_json(text: &str) -> Result<Manifest, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let count = |key: &str| v[key].as_u64().ok_or_else(|| format!("{key} is missing or not a whole number"));
        let bytes =
            |key: &str| mb_to_bytes(text, key).ok_or_else(|| format!("{key} is missing or not MB with 6 decimals"));
        let output_dir = v["outputDataConfig"]["s3Uri"].as_str().map(|d| d.strip_suffix('/').unwrap_or(d).to_owned());
        Ok(Manifest {
            input_uri: v["inputDataConfig"]["s3Uri"].as_str().ok_or("inputDataConfig.s3Uri is missing")?.to_owned(),
            output_dir,
            counts: Counts {
                files_scanned: count("numberOfScannedFiles")?,
                files_imported: count("numberOfFilesImported")?,
                files_read_with_success: count("numberOfFilesReadWithSuccess").unwrap_or(0),
                files_read_with_customer_error: count("numberOfFilesReadWithCustomerError").unwrap_or(0),
                files_read_with_server_error: count("numberOfFilesReadWithServerError").unwrap_or(0),
                bytes_scanned: bytes("sizeOfScannedFilesInMB")?,
                bytes_imported: bytes("sizeOfDataImportedSuccessfullyInMB")?,
                resources_scanned: count("numberOfResourcesScanned")?,
                resources_imported: count("numberOfResourcesImportedSuccessfully")?,
                resources_customer_error: count("numberOfResourcesWithCustomerError")?,
                resources_server_error: count("numberOfResourcesWithServerError")?,
            },
        })
    }
}

pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mb_is_exact() {
        assert_eq!(format_mb(0), "0.000000");
        assert_eq!(format_mb(1), "0.000001");
        assert_eq!(format_mb(999_999), "0.999999");
        assert_eq!(format_mb(1_234_567_891), "1234.567891");
    }

    #[test]
    fn merge_is_associative_and_commutative() {
        let file = |bytes, ok, bad| FileReport {
            bytes_scanned: bytes,
            bytes_imported: bytes / 2,
            resources_scanned: ok + bad,
            resources_imported: ok,
            resources_customer_error: bad,
            ..FileReport::default()
        };
        let parts = [
            (file(10, 1, 0), FileRead::Success),
            (file(7, 0, 3), FileRead::Success),
            (file(0, 0, 0), FileRead::CustomerError),
        ];
        let mut whole = Counts::default();
        for (f, r) in &parts {
            whole.add_file(f, *r);
        }
        let single = |i: usize| {
            let mut c = Counts::default();
            c.add_file(&parts[i].0, parts[i].1);
            c
        };
        let mut right = single(2);
        right.merge(&single(1));
        let mut left = single(0);
        left.merge(&right);
        assert_eq!(left, whole);
        assert_eq!(whole.files_scanned, 3);
        assert_eq!(whole.files_imported, 1);
        assert_eq!(whole.files_read_with_customer_error, 1);
        assert_eq!(whole.bytes_imported, 5 + 3);
    }

    #[test]
    fn round_trip_is_exact() {
        for bytes in [0, 1, 999_999, 1_000_000, 23_627, 1_288_727_978, 987_654_321_012_345] {
            let m = Manifest {
                input_uri: "x".into(),
                output_dir: Some("o".into()),
                counts: Counts {
                    bytes_scanned: bytes,
                    bytes_imported: bytes / 3,
                    files_scanned: 2,
                    ..Counts::default()
                },
            };
            assert_eq!(Manifest::from_json(&m.to_json()), Ok(m));
        }
        assert!(Manifest::from_json("{}").is_err());
        assert!(Manifest::from_json("[").is_err());
    }

    #[test]
    fn json_shape() {
        let m = Manifest {
            input_uri: "in/a \"b\".ndjson".into(),
            output_dir: Some("out".into()),
            counts: Counts { files_scanned: 1, bytes_scanned: 23_627, ..Counts::default() },
        };
        let json = m.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v["inputDataConfig"]["s3Uri"], "in/a \"b\".ndjson");
        assert_eq!(v["outputDataConfig"]["s3Uri"], "out/");
        assert_eq!(v["successOutput"]["successOutputS3Uri"], "out/SUCCESS/");
        assert_eq!(v["failureOutput"]["failureOutputS3Uri"], "out/FAILURE/");
        assert!(json.contains("\"sizeOfScannedFilesInMB\": 0.023627,"));
        assert!(json.contains("\"sizeOfDataImportedSuccessfullyInMB\": 0.000000,"));
        let keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
        assert_eq!(keys.len(), 15);
        let no_dir = Manifest { output_dir: None, ..m };
        let v: serde_json::Value = serde_json::from_str(&no_dir.to_json()).expect("valid JSON");
        assert!(v["outputDataConfig"]["s3Uri"].is_null());
        assert!(v["failureOutput"]["failureOutputS3Uri"].is_null());
    }
}
