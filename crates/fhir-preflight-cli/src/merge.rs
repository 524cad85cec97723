//! `fhir-preflight merge [--output-dir DIR] MANIFEST|DIR...`: combine the manifests of shards
//! validated separately (many machines, many batch jobs) into the manifest of validating everything
//! at once, printed on standard output; with `--output-dir`, also gather the shards' record files
//! (a record-name collision is refused, exit 2). Counts add up exactly (MB are integer bytes).
//!
//! Inconsistent shards are refused (exit 2, one line, nothing written): the same shard twice, two
//! shards of the same input, and — when records are gathered — a shard without records (validated
//! without `--output-dir`) or whose records do not match its manifest's counts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fhir_preflight::{Counts, Manifest};

use crate::args::MergeArgs;
use crate::output::{record_files, OutputDir, RecordKind};

const EXIT_TROUBLE: u8 = 2;

fn complain(message: impl std::fmt::Display) -> ExitCode {
    crate::validate::complain(message);
    ExitCode::from(EXIT_TROUBLE)
}

/// A shard: its manifest, the manifest's own path, and the folder holding its records, if any.
struct Shard {
    manifest: Manifest,
    file: PathBuf,
    dir: Option<PathBuf>,
}

fn read_shard(arg: &Path) -> Result<Shard, String> {
    let (file, dir) = if arg.is_dir() {
        (arg.join("manifest.json"), Some(arg.to_path_buf()))
    } else {
        (arg.to_path_buf(), arg.parent().map(Path::to_path_buf))
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let manifest = Manifest::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(Shard { manifest, file, dir })
}

/// The same shard twice, or two shards of one input, would count lines twice — except the parts
/// of one input validated with `--shard` when their records are gathered (`parts`): then the
/// records show that no file was validated twice (no record file in two shards, and each shard's
/// records match its counts).
fn check_distinct(shards: &[Shard], parts: bool) -> Result<(), String> {
    let mut files = std::collections::BTreeMap::new();
    let mut inputs = std::collections::BTreeMap::new();
    for shard in shards {
        let file = shard.file.canonicalize().unwrap_or_else(|_| shard.file.clone());
        if let Some(first) = files.insert(file, &shard.file) {
            return Err(format!(
                "the shard {} is given twice ({} and {}); its lines would be counted twice",
                shard.file.display(),
                first.display(),
                shard.file.display()
            ));
        }
        let input = shard.manifest.input_uri.as_str();
        if input == "-" {
            continue;
        }
        if let Some(first) = inputs.insert(input, &shard.file) {
            if parts {
                continue;
            }
            return Err(format!(
                "the shards {} and {} both validated {input}: its lines would be counted twice (parts of one input made with --shard are merged with -o DIR, which checks their records)",
                first.display(),
                shard.file.display()
            ));
        }
    }
    Ok(())
}

/// Gathering records: every shard has them, and they match its manifest's counts.
fn check_records(shard: &Shard, files: &[(RecordKind, String, PathBuf)]) -> Result<(), String> {
    let name = shard.file.display();
    if shard.manifest.output_dir.is_none() {
        return Err(format!(
            "{name} has no records (it was validated without --output-dir); merge without -o to add up its counts only"
        ));
    }
    let mut lines = [0u64; 2];
    for (kind, _, path) in files {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        lines[usize::from(*kind == RecordKind::Failure)] += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    let c = &shard.manifest.counts;
    let expected = [c.resources_imported, c.resources_customer_error + c.resources_server_error];
    if lines != expected {
        return Err(format!(
            "the records beside {name} do not match it: {} SUCCESS and {} FAILURE records for {} imported and {} failed lines",
            lines[0], lines[1], expected[0], expected[1]
        ));
    }
    Ok(())
}

pub(crate) fn run(args: &MergeArgs) -> ExitCode {
    crate::interrupt::install();
    // Shards and the output folder may be in S3: shards are copied to a private local folder
    // (manifests and records only), and an s3:// output is written from one, as by `validate`.
    let is_s3 = |p: &Path| p.to_string_lossy().starts_with("s3://");
    let s3_output_uri = args.output_dir.as_deref().and_then(|d| fhir_preflight_s3::S3Uri::parse(&d.to_string_lossy()));
    let s3 = match crate::s3::connect(s3_output_uri.is_some() || args.shards.iter().any(|s| is_s3(s)), &args.s3) {
        Ok(s3) => s3,
        Err(e) => return complain(e),
    };
    let local = match s3.as_ref().map(|_| tempfile::Builder::new().prefix("fhir-preflight-merge-").tempdir()) {
        Some(Err(e)) => return complain(format!("cannot make a local staging folder: {e}")),
        Some(Ok(dir)) => Some(dir),
        None => None,
    };
    let s3_output = match crate::s3::output(s3.as_ref(), s3_output_uri.as_ref(), args.force, &args.s3) {
        Ok(out) => out,
        Err(e) => return complain(e),
    };
    let mut shards = Vec::new();
    for (i, arg) in args.shards.iter().enumerate() {
        let arg = match (fhir_preflight_s3::S3Uri::parse(&arg.to_string_lossy()), &s3, &local) {
            (Some(uri), Some(s3), Some(local)) => {
                let dest = local.path().join(format!("shard-{i}"));
                if let Err(e) = crate::s3::download_folder(s3, &uri, &dest) {
                    return complain(e);
                }
                dest
            }
            _ => arg.clone(),
        };
        match read_shard(&arg) {
            Ok(shard) => shards.push(shard),
            Err(e) => return complain(e),
        }
    }
    if let Err(e) = check_distinct(&shards, args.output_dir.is_some()) {
        return complain(e);
    }
    let mut counts = Counts::default();
    for shard in &shards {
        counts.merge(&shard.manifest.counts);
    }
    let mut seen = std::collections::BTreeSet::new();
    // The parts of one input name it once.
    let inputs: Vec<PathBuf> = shards
        .iter()
        .filter(|s| seen.insert(&s.manifest.input_uri))
        .map(|s| PathBuf::from(&s.manifest.input_uri))
        .collect();
    let manifest = Manifest {
        input_uri: crate::inputs::input_uri(&inputs),
        output_dir: args.output_dir.as_ref().map(|d| d.display().to_string()),
        counts,
    };
    let json = match (&s3_output, &args.s3.kms_key_id) {
        (Some(_), Some(key)) => crate::s3::with_encryption_key(&manifest.to_json(), key),
        _ => manifest.to_json(),
    };
    let local_output = match (&s3_output, &local) {
        (Some(_), Some(local)) => Some(local.path().join("out")),
        _ => args.output_dir.clone(),
    };
    if let Some(dir) = &local_output {
        let mut files: Vec<(RecordKind, String, PathBuf)> = Vec::new();
        for shard in &shards {
            let own = shard.dir.as_deref().map(record_files).unwrap_or_default();
            if let Err(e) = check_records(shard, &own) {
                return complain(e);
            }
            files.extend(own);
        }
        files.sort_by(|a, b| {
            (a.1.as_str(), a.0 == RecordKind::Failure).cmp(&(b.1.as_str(), b.0 == RecordKind::Failure))
        });
        for pair in files.windows(2) {
            if pair[0].0 == pair[1].0 && pair[0].1 == pair[1].1 {
                return complain(format!(
                    "two shards have the record file {:?}: {} and {}",
                    pair[0].1,
                    pair[0].2.display(),
                    pair[1].2.display()
                ));
            }
        }
        let output = match OutputDir::prepare(dir, args.force) {
            Ok(output) => output,
            Err(e) => return complain(e),
        };
        for (kind, name, path) in &files {
            let copied = output.create_record_file(*kind, name).and_then(|mut to| {
                let mut from = std::fs::File::open(path)?;
                std::io::copy(&mut from, &mut to).map(|_| ())
            });
            if let Err(e) = copied {
                return complain(format!("cannot copy {}: {e}; no manifest was written", path.display()));
            }
        }
        if let Err(e) = output.commit(&json) {
            return complain(format!("cannot write the outputs: {e}; no manifest was written"));
        }
        if let Some(out) = &s3_output {
            if let Err(e) = out.publish(dir) {
                return complain(format!("{e}; no manifest was written"));
            }
        }
    }
    print!("{json}");
    ExitCode::SUCCESS
}
