//! `cargo xtask golden [--check] [--detail FILE]`: every output of the validator over every corpus
//! the project has, reduced to one SHA-256 per corpus, compared with `conformance/golden.tsv`.
//!
//! A restructuring must not change what users see: this is the check. The corpora:
//! - `fixtures`: every committed fixture file, at each level, records written plain and redacted;
//! - `fuzz-seeds`: every seed of the three fuzz targets, validated as a file;
//! - `hl7-examples`: HL7's R4 examples, one line each (as `cargo xtask conformance` reads them),
//!   at `strict` and `minimal`;
//! - `defects`: every defect `cargo xtask defects` injects;
//! - `bench-corpus`: 20,000 lines of the benchmark corpus (seed 42, 2% invalid lines);
//! - `cli`: the CLI's every output format over the fixture tree (`--recursive`), records included.
//!
//! The fixtures and the benchmark corpus are also validated without the memo
//! (`Options::with_memo(false)`): their outputs must be the same.
//!
//! Each line's verdict is serialized in full: status, resource type and id, offsets, every
//! diagnostic (code, severity, line, column, offset, path, message) and its HealthLake record;
//! each file's counts and file-level diagnostics. `--detail FILE` also writes one hash per input, followed by its outputs,
//! (a file, an example, an example's defects) for finding what changed. With `--check` nothing is
//! written and a changed hash fails; without it `conformance/golden.tsv` is rewritten (review the
//! diff: only a change of behaviour that an issue asks for may change it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fhir_preflight::{validate_bytes, write_record_with, FileReport, Level, LineResult, Options, Redaction};
use sha2::{Digest, Sha256};

use crate::hl7;

/// One corpus: its name and the serialized outputs, per input.
struct Corpus {
    name: &'static str,
    inputs: BTreeMap<String, String>,
}

/// The full serialization of one validation of `data`.
fn serialize(data: &[u8], options: &Options, redact: bool) -> String {
    let mut out = String::new();
    let mut record = Vec::new();
    let mut sink = |line: &LineResult<'_>| {
        let _ = writeln!(
            out,
            "line {} {:?} {:?} {:?} {} {}",
            line.line, line.status, line.resource_type, line.resource_id, line.byte_offset, line.byte_len
        );
        let redaction = if redact { Redaction::On } else { Redaction::Off };
        for d in line.diagnostics {
            let _ = writeln!(
                out,
                "  {} {} {} {:?} {:?} {:?} {}",
                d.code(),
                d.severity(),
                d.line(),
                d.column(),
                d.byte_offset(),
                d.path_with(redaction),
                d.message_with(redaction)
            );
        }
        record.clear();
        write_record_with(&mut record, line, redaction);
        out.push_str(&String::from_utf8_lossy(&record));
    };
    let report = validate_bytes(data, options, &mut sink);
    file_report(&mut out, &report);
    out
}

fn file_report(out: &mut String, r: &FileReport) {
    let _ = writeln!(
        out,
        "file {} {} {} {} {} {} {}",
        r.bytes_scanned,
        r.bytes_imported,
        r.resources_scanned,
        r.resources_imported,
        r.resources_customer_error,
        r.resources_server_error,
        r.blank_lines
    );
    for d in &r.diagnostics {
        let _ = writeln!(out, "  {} {} {} {:?} {}", d.code(), d.severity(), d.line(), d.column(), d.message());
    }
}

fn levels() -> [(Level, &'static str); 3] {
    [(Level::Strict, "strict"), (Level::StructureOnly, "structure-only"), (Level::Minimal, "minimal")]
}

fn options(level: Level) -> Options {
    Options::default().with_level(level)
}

/// Every file under `dir` whose name ends with one of `exts` (all files when empty), sorted.
fn files_under(dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).map_err(|e| format!("{}: {e}", at.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                todo.push(path);
            } else if exts.is_empty() || exts.iter().any(|e| path.to_string_lossy().ends_with(e)) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn fixtures(root: &Path) -> Result<Corpus, String> {
    let mut inputs = BTreeMap::new();
    for path in files_under(&root.join("fixtures"), &[".ndjson"])? {
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        for (level, level_name) in levels() {
            for redact in [false, true] {
                let key = format!("{name} {level_name}{}", if redact { " redacted" } else { "" });
                inputs.insert(key, serialize(&data, &options(level), redact));
            }
        }
        if serialize(&data, &options(Level::Strict).with_memo(false), false) != inputs[&format!("{name} strict")] {
            return Err(format!("{name}: the outputs differ without the memo (Options::with_memo(false))"));
        }
    }
    Ok(Corpus { name: "fixtures", inputs })
}

fn fuzz_seeds(root: &Path) -> Result<Corpus, String> {
    let mut inputs = BTreeMap::new();
    for path in files_under(&root.join("fuzz/corpus"), &[])? {
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        inputs.insert(name, serialize(&data, &Options::default(), false));
    }
    Ok(Corpus { name: "fuzz-seeds", inputs })
}

/// Validate one NDJSON text made of `lines`, and split the serialization per line name.
fn per_line(names: &[String], data: &[u8], options: &Options) -> BTreeMap<String, String> {
    let text = serialize(data, options, false);
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for row in text.lines() {
        if let Some(rest) = row.strip_prefix("line ") {
            let n: usize = rest.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            current = names.get(n.wrapping_sub(1)).cloned();
        } else if row.starts_with("file ") {
            current = Some("(file)".to_owned());
        }
        let entry = inputs.entry(current.clone().unwrap_or_default()).or_default();
        entry.push_str(row);
        entry.push('\n');
    }
    inputs
}

fn hl7_examples() -> Result<Corpus, String> {
    let pkg = hl7::package_dir()?;
    let (names, data) = crate::conformance::examples(&pkg)?;
    let mut inputs = BTreeMap::new();
    for (level, level_name) in [(Level::Strict, "strict"), (Level::Minimal, "minimal")] {
        for (name, text) in per_line(&names, &data, &options(level)) {
            inputs.insert(format!("{name} {level_name}"), text);
        }
    }
    Ok(Corpus { name: "hl7-examples", inputs })
}

fn defects() -> Result<Corpus, String> {
    let injected = crate::defects::generate_all()?;
    let names: Vec<String> = injected.iter().map(|d| format!("{} {:?}", d.file, d.defect)).collect();
    let mut data = Vec::new();
    for d in &injected {
        data.extend_from_slice(d.line.as_bytes());
        data.push(b'\n');
    }
    // Grouped by example file: one entry per example's defects.
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    for (name, text) in per_line(&names, &data, &Options::default()) {
        let file = name.split(' ').next().unwrap_or("").to_owned();
        inputs.entry(file).or_default().push_str(&text);
    }
    Ok(Corpus { name: "defects", inputs })
}

fn bench_corpus() -> Result<Corpus, String> {
    let mut data = Vec::new();
    fhir_preflight_benches::write_corpus(&mut data, 42, 20_000, 20).map_err(|e| e.to_string())?;
    let names: Vec<String> = (1..=20_000).map(|i| format!("line {i:05}")).collect();
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    let outputs = per_line(&names, &data, &Options::default());
    // The memo (`Options::with_memo`, on by default) must change no output: the corpus repeats
    // its codings and names as real data does.
    if per_line(&names, &data, &Options::default().with_memo(false)) != outputs {
        return Err("bench-corpus: the outputs differ without the memo (Options::with_memo(false))".into());
    }
    // Groups of 1,000 lines.
    for (name, text) in outputs {
        let group = name
            .strip_prefix("line ")
            .and_then(|n| n.parse::<u32>().ok())
            .map_or(name.clone(), |n| format!("lines {:05}-", (n - 1) / 1000 * 1000 + 1));
        inputs.entry(group).or_default().push_str(&text);
    }
    Ok(Corpus { name: "bench-corpus", inputs })
}

/// The CLI's outputs over the fixture tree, in every format, and its records.
fn cli(root: &Path) -> Result<Corpus, String> {
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "-q", "-p", "fhir-preflight-cli"])
        .current_dir(root)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("cannot build the CLI".into());
    }
    let bin = root.join("target/release/fhir-preflight");
    let out_dir = root.join("target/golden-cli");
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut inputs = BTreeMap::new();
    let run = |args: &[&str]| -> Result<String, String> {
        let output = std::process::Command::new(&bin)
            .args(args)
            .current_dir(root.join("fixtures"))
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "exit {:?}\nstdout\n{}\nstderr\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    };
    for format in ["human", "json", "ndjson", "operationoutcome", "sarif"] {
        for redact in [false, true] {
            let mut args = vec!["validate", ".", "-r", "--max-errors", "1000", "--format", format];
            if redact {
                args.push("--redact");
            }
            inputs.insert(format!("{format}{}", if redact { " redacted" } else { "" }), run(&args)?);
        }
    }
    let out = out_dir.display().to_string();
    let with_records = run(&["validate", ".", "-r", "--format", "ndjson", "-o", &out])?;
    inputs.insert("records run".into(), with_records.replace(&out, "OUT"));
    for path in files_under(&out_dir, &[])? {
        let name = path.strip_prefix(&out_dir).unwrap_or(&path).display().to_string();
        let text = String::from_utf8_lossy(&std::fs::read(&path).map_err(|e| e.to_string())?).replace(&out, "OUT");
        inputs.insert(format!("records {name}"), text);
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    Ok(Corpus { name: "cli", inputs })
}

fn hash(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn run(check: bool, detail: Option<&Path>) -> Result<(), String> {
    let root = hl7::workspace_root();
    let corpora = vec![fixtures(&root)?, fuzz_seeds(&root)?, hl7_examples()?, defects()?, bench_corpus()?, cli(&root)?];
    let mut table = String::from(
        "# Every output over every corpus, one SHA-256 each: written by `cargo xtask golden`, checked by\n\
         # `cargo xtask golden --check` in scripts/test. A change here is a change users see.\n",
    );
    let mut details = String::new();
    for corpus in &corpora {
        let mut whole = String::new();
        for (name, text) in &corpus.inputs {
            let h = hash(text);
            let _ = writeln!(details, "{}\t{name}\t{}", corpus.name, &h[..16]);
            // The outputs themselves, indented, so that two detail files diff readably.
            for row in text.lines() {
                let _ = writeln!(details, "    {row}");
            }
            let _ = writeln!(whole, "{name}\t{h}");
        }
        let _ = writeln!(table, "{}\t{}\t{}", corpus.name, corpus.inputs.len(), hash(&whole));
    }
    if let Some(path) = detail {
        std::fs::write(path, &details).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let path = root.join("conformance/golden.tsv");
    if check {
        let committed = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if committed != table {
            return Err(format!(
                "outputs changed:\n--- committed\n{committed}--- now\n{table}(`cargo xtask golden --detail FILE` lists a hash per input; compare with one written before the change)"
            ));
        }
        eprintln!("outputs unchanged over {} corpora", corpora.len());
    } else {
        std::fs::write(&path, &table).map_err(|e| format!("{}: {e}", path.display()))?;
        eprint!("wrote {}:\n{table}", path.display());
    }
    Ok(())
}
