//! `cargo xtask <task>`: project tasks that are programs, not tests.
//!
//! - `codegen [--check]`: the same as `cargo codegen` (crate `codegen/`, which does not depend on the
//!   core, so `cargo codegen` works even when the generated tables do not compile).
//! - `conformance [--check]`: validate HL7's official R4 examples; see `conformance.rs`.
//! - `golden [--check] [--detail FILE]`: every output over every corpus, one hash each, against
//!   `conformance/golden.tsv`; see `golden.rs`.
//! - `invariant-oracle [--check]`: the invariants against HL7's FHIRPath engine for JavaScript, over
//!   HL7's examples and generated violations; see `invariant_oracle.rs`.
//! - `profile-conformance [--check]`: US Core's examples against their profiles, and generated
//!   violations per profile; see `profiles.rs`.
//! - `defects`: inject ≥ 1,000 defects into HL7's examples and check each is reported (see `defects.rs`).
//! - `bench-compare [--lines N] [--against REV [--rounds N]]`: side-by-side MB/s of framing, simd-json,
//!   serde_json, fhir-preflight at 1 and all threads, and the fhirkit crate, on one generated file
//!   (`benches/compare`); with `--against REV`, the same for commit REV and this tree, alternately,
//!   in one run (before/after tables for the README).
//! - `bench-profiles [--copies N] [--runs N]`: `strict` against `structure-only`, one thread, side
//!   by side, on the vendored Synthea US Core sample repeated N times with fresh ids (issue 14).
//! - `memory`: peak RSS on a ~130 MB and a ~1.3 GB corpus, and their ratio.
//! - `gen-corpus --lines N [--seed S] [--invalid-per-mille P] --out FILE`: write the deterministic
//!   benchmark corpus (see `fhir_preflight_benches`).
//! - `throughput [--lines N] [--seed S]`: build the release CLI, generate (once, under
//!   `target/corpus/`) a corpus of N lines (default 1,000,000, about 1 GB), and time
//!   `fhir-preflight validate` on it at 1 thread and at all cores, side by side with `wc -l`, under
//!   `/usr/bin/time -v` for peak memory, and once more writing all records (`--output-dir`).
//!   Prints a table for the README.

mod throughput;

use xtask::{conformance, defects, golden, invariant_oracle, profiles};

use std::path::PathBuf;
use std::process::ExitCode;

/// `--name value` pairs after the task name.
pub(crate) struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut it = args.iter();
        while let Some(name) = it.next() {
            let Some(name) = name.strip_prefix("--") else { return Err(format!("unexpected argument {name}")) };
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            pairs.push((name.to_owned(), value.clone()));
        }
        Ok(Flags(pairs))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.replace('_', "").parse().map_err(|_| format!("--{name} must be a whole number, not {v}")),
        }
    }
}

fn gen_corpus(flags: &Flags) -> Result<(), String> {
    let lines = flags.number("lines", 100_000)?;
    let seed = flags.number("seed", 42)?;
    let invalid = flags.number("invalid-per-mille", 20)?;
    let out = PathBuf::from(flags.get("out").ok_or("--out FILE is required")?);
    let file = std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let bytes = fhir_preflight_benches::write_corpus(std::io::BufWriter::new(file), seed, lines, invalid)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("wrote {lines} lines, {bytes} bytes to {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprintln!("usage: cargo xtask <codegen [--check]|gen-corpus|throughput> [--flag value]...");
        return ExitCode::from(2);
    };
    if task == "golden" {
        let mut check = false;
        let mut detail = None;
        let mut it = rest.iter();
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--check" => check = true,
                "--detail" => detail = it.next().map(PathBuf::from),
                _ => {
                    eprintln!("usage: cargo xtask golden [--check] [--detail FILE]");
                    return ExitCode::from(2);
                }
            }
        }
        return match golden::run(check, detail.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask golden: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if task == "codegen" || task == "conformance" || task == "invariant-oracle" || task == "profile-conformance" {
        let check = match rest {
            [] => false,
            [flag] if flag == "--check" => true,
            _ => {
                eprintln!("usage: cargo xtask {task} [--check]");
                return ExitCode::from(2);
            }
        };
        let result = match task.as_str() {
            "codegen" => fhir_preflight_codegen::generate::run(check),
            "conformance" => conformance::run(check),
            "profile-conformance" => profiles::run(check),
            _ => invariant_oracle::run(check),
        };
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask {task}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let result = Flags::parse(rest).and_then(|flags| match task.as_str() {
        "gen-corpus" => gen_corpus(&flags),
        "throughput" => throughput::run(&flags),
        "bench-compare" => throughput::compare(&flags),
        "bench-profiles" => throughput::profiles(&flags),
        "memory" => throughput::memory(&flags),
        "defects" => defects::run(),
        other => Err(format!("unknown task {other}")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}
