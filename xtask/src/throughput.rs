//! `cargo xtask throughput`: the README's throughput and peak-memory figures, measured side by side
//! in one run on one generated file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Flags;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Run `program args` under `/usr/bin/time -v` (when present); returns (seconds, peak RSS in KiB).
fn timed(program: &Path, args: &[&str]) -> Result<(f64, Option<u64>), String> {
    let gnu_time = Path::new("/usr/bin/time");
    let mut cmd = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-v").arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = cmd.output().map_err(|e| format!("{}: {e}", program.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let rss = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok());
    Ok((seconds, rss))
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// The deterministic corpus of `lines` lines under `target/corpus/`, generated once.
pub(crate) fn ensure_corpus(root: &Path, lines: u64, seed: u64) -> Result<PathBuf, String> {
    let dir = target_dir(root).join("corpus");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // The name carries a fingerprint of the generator's output, so that a changed generator never
    // reuses a corpus an older one wrote.
    let mut sample = Vec::new();
    fhir_preflight_benches::write_corpus(&mut sample, seed, 500, 20).map_err(|e| e.to_string())?;
    let fingerprint =
        sample.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let corpus = dir.join(format!("corpus-{lines}-{seed}-{:08x}.ndjson", fingerprint as u32));
    if !corpus.exists() {
        eprintln!("generating {} ...", corpus.display());
        let partial = corpus.with_extension("partial");
        let file = std::fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
        fhir_preflight_benches::write_corpus(std::io::BufWriter::new(file), seed, lines, 20)
            .map_err(|e| format!("{}: {e}", partial.display()))?;
        std::fs::rename(&partial, &corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    }
    Ok(corpus)
}

/// `files` small files of `lines_each` lines (the start of the deterministic corpus, cut up) in a
/// folder under `target/corpus/`, made once: many inputs, each smaller than one work unit.
fn ensure_many_files(root: &Path, files: u64, lines_each: u64, seed: u64) -> Result<PathBuf, String> {
    let dir = target_dir(root).join("corpus").join(format!("files-{files}x{lines_each}-{seed}"));
    if dir.exists() {
        return Ok(dir);
    }
    eprintln!("generating {} ...", dir.display());
    let mut text = Vec::new();
    fhir_preflight_benches::write_corpus(&mut text, seed, files * lines_each, 20).map_err(|e| e.to_string())?;
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    let mut lines = text.split_inclusive(|&b| b == b'\n');
    for i in 0..files {
        let chunk: Vec<u8> = lines.by_ref().take(lines_each as usize).flatten().copied().collect();
        let path = partial.join(format!("part-{i:05}.ndjson"));
        std::fs::write(&path, chunk).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    std::fs::rename(&partial, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// `cargo xtask bench-compare`: the side-by-side comparison with other readers and validators
/// (`benches/compare`, outside the workspace), on one generated file.
pub(crate) fn compare(flags: &Flags) -> Result<(), String> {
    let lines = flags.number("lines", 100_000)?;
    let seed = flags.number("seed", 42)?;
    let root = workspace_root();
    let corpus = ensure_corpus(&root, lines, seed)?;
    let corpus = corpus.to_string_lossy();
    match flags.get("against") {
        None => {
            cargo(&root, &["run", "--release", "-q", "--manifest-path", "benches/compare/Cargo.toml", "--", &corpus])
        }
        Some(rev) => before_and_after(&root, rev, &corpus, flags.number("rounds", 3)?),
    }
}

/// `cargo xtask bench-compare --against REV`: the comparison of this tree and of the commit `REV`
/// (built from a git worktree under `target/`), run alternately `rounds` times on the same file;
/// the best MB/s of each reader, side by side.
fn before_and_after(root: &Path, rev: &str, corpus: &str, rounds: u64) -> Result<(), String> {
    let base = target_dir(root).join("bench-base");
    let _ = Command::new("git").args(["worktree", "remove", "--force"]).arg(&base).current_dir(root).output();
    let added = Command::new("git")
        .args(["worktree", "add", "--detach", "--force"])
        .arg(&base)
        .arg(rev)
        .current_dir(root)
        .status()
        .map_err(|e| format!("git worktree: {e}"))?;
    if !added.success() {
        return Err(format!("cannot check out {rev} under {}", base.display()));
    }
    let build = |dir: &Path, target: &Path| -> Result<PathBuf, String> {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "-q", "--manifest-path"])
            .arg(dir.join("benches/compare/Cargo.toml"))
            .env("CARGO_TARGET_DIR", target)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("cannot build the comparison in {}", dir.display()));
        }
        Ok(target.join("release/fhir-preflight-compare"))
    };
    let before = build(&base, &target_dir(root).join("bench-base-target"))?;
    let after = build(root, &target_dir(root).join("bench-compare-target"))?;
    // reader -> (best MB/s before, best MB/s after)
    let mut best: Vec<(String, f64, f64)> = Vec::new();
    for round in 0..rounds {
        for (which, bin) in [(0, &before), (1, &after)] {
            let out = Command::new(bin).arg(corpus).output().map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out.stdout);
            eprintln!("round {} {}:\n{text}", round + 1, if which == 0 { rev } else { "this tree" });
            for row in text.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| reader")) {
                let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
                let (Some(reader), Some(mbs)) = (cells.first(), cells.get(2).and_then(|c| c.parse::<f64>().ok()))
                else {
                    continue;
                };
                let reader = reader.trim_matches('*').to_owned();
                let entry = match best.iter_mut().find(|(r, ..)| *r == reader) {
                    Some(entry) => entry,
                    None => {
                        best.push((reader, 0.0, 0.0));
                        best.last_mut().expect("just pushed")
                    }
                };
                if which == 0 {
                    entry.1 = entry.1.max(mbs);
                } else {
                    entry.2 = entry.2.max(mbs);
                }
            }
        }
    }
    let simd = best.iter().find(|(r, ..)| r.starts_with("simd-json")).map(|e| (e.1, e.2)).unwrap_or((1.0, 1.0));
    println!("{corpus}: {rev} (before) and this tree (after), alternately, {rounds} rounds, best MB/s of each");
    println!("| reader | before MB/s | after MB/s | after/before | before vs simd-json | after vs simd-json |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (reader, b, a) in &best {
        println!(
            "| {reader} | {b:.0} | {a:.0} | {:.2}× | {:.2}× | {:.2}× |",
            a / b.max(f64::MIN_POSITIVE),
            b / simd.0,
            a / simd.1
        );
    }
    let _ = Command::new("git").args(["worktree", "remove", "--force"]).arg(&base).current_dir(root).output();
    Ok(())
}

/// `cargo xtask memory`: peak RSS of the CLI (all cores, writing every record) on a ~130 MB and a
/// ~1.3 GB corpus, and their ratio: memory must not grow with the input.
pub(crate) fn memory(flags: &Flags) -> Result<(), String> {
    let root = workspace_root();
    build_cli(&root)?;
    let cli = target_dir(&root).join("release/fhir-preflight");
    let small = flags.number("small-lines", 100_000)?;
    let large = flags.number("large-lines", 1_000_000)?;
    let mut peaks = Vec::new();
    for lines in [small, large] {
        let corpus = ensure_corpus(&root, lines, 42)?;
        let out = target_dir(&root).join("corpus/memory-output");
        let file = corpus.to_string_lossy().into_owned();
        let out = out.to_string_lossy().into_owned();
        let (s, rss) = timed(&cli, &["validate", &file, "--format", "json", "--force", "--output-dir", &out])?;
        let rss = rss.ok_or("peak RSS unavailable: install GNU time (/usr/bin/time)")?;
        let bytes = std::fs::metadata(&corpus).map_err(|e| e.to_string())?.len();
        println!("{bytes:>13} bytes ({lines} lines): {s:.2} s, peak RSS {:.1} MB", rss as f64 / 1024.0);
        peaks.push(rss as f64);
    }
    println!("peak RSS ratio large/small: {:.2}", peaks[1] / peaks[0]);
    Ok(())
}

/// `cargo xtask bench-profiles [--copies N] [--runs N]`: issue 14's figure, `strict`
/// (meta.profile validated) against `structure-only` (profiles ignored) on one thread, side by side
/// in one process (`ratio FILE RUNS profiles`), on a Synthea-shaped corpus that declares US Core:
/// the vendored Synthea sample repeated N times with fresh ids (default 10: 27,740 lines, 42 MB).
pub(crate) fn profiles(flags: &Flags) -> Result<(), String> {
    let copies = flags.number("copies", 10)?;
    let runs = flags.number("runs", 15)?;
    let root = workspace_root();
    let dir = target_dir(&root).join("corpus");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let corpus = dir.join(format!("synthea-us-core-x{copies}.ndjson"));
    let partial = corpus.with_extension("partial");
    let file = std::fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    let sample = root.join("fixtures/synthea-us-core");
    let bytes = fhir_preflight_benches::write_us_core_corpus(std::io::BufWriter::new(file), &sample, copies)
        .map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, &corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    eprintln!("{}: the Synthea US Core sample x{copies}, {bytes} bytes", corpus.display());
    let (corpus, runs) = (corpus.to_string_lossy(), runs.to_string());
    cargo(
        &root,
        &["run", "--release", "-q", "-p", "fhir-preflight-benches", "--bin", "ratio", "--", &corpus, &runs, "profiles"],
    )
}

fn build_cli(root: &Path) -> Result<(), String> {
    cargo(root, &["build", "--release", "-q", "-p", "fhir-preflight-cli"])
}

/// Run `cargo args` in the workspace; an error names the command.
fn cargo(root: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo {}: {e}", args[0]))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed", args.join(" ")))
    }
}

pub(crate) fn run(flags: &Flags) -> Result<(), String> {
    let lines = flags.number("lines", 1_000_000)?;
    let seed = flags.number("seed", 42)?;
    let root = workspace_root();
    build_cli(&root)?;
    let target = target_dir(&root);
    let corpus = ensure_corpus(&root, lines, seed)?;
    let dir = target.join("corpus");
    let bytes = std::fs::metadata(&corpus).map_err(|e| e.to_string())?.len();
    let cli = target.join("release/fhir-preflight");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let file = corpus.to_string_lossy().into_owned();

    // Warm the page cache so every row reads from memory.
    timed(Path::new("/bin/cat"), &[&file])?;
    let mut rows: Vec<(String, f64, Option<u64>)> = Vec::new();
    let (s, rss) = timed(Path::new("/usr/bin/wc"), &["-l", &file])?;
    rows.push(("wc -l (framing only, reference)".into(), s, rss));
    for threads in [1, cores] {
        let t = threads.to_string();
        let (s, rss) = timed(&cli, &["validate", &file, "--threads", &t, "--format", "json"])?;
        rows.push((format!("fhir-preflight validate --threads {threads}"), s, rss));
        if cores == 1 {
            break;
        }
    }
    let out = dir.join("output").to_string_lossy().into_owned();
    let t = cores.to_string();
    let (s, rss) =
        timed(&cli, &["validate", &file, "--threads", &t, "--format", "json", "--force", "--output-dir", &out])?;
    rows.push((format!("fhir-preflight validate --threads {cores} --output-dir …"), s, rss));
    // Many inputs, each smaller than one work unit: the parallelism comes from validating several
    // inputs at once.
    let (files, lines_each) = (2_000, 50);
    let many = ensure_many_files(&root, files, lines_each, seed)?;
    let many_bytes: u64 = std::fs::read_dir(&many)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let many_arg = many.to_string_lossy().into_owned();
    timed(Path::new("/bin/sh"), &["-c", &format!("cat '{many_arg}'/* > /dev/null")])?;
    let mut many_rows = Vec::new();
    for threads in [1, cores] {
        let t = threads.to_string();
        let (s, rss) = timed(&cli, &["validate", &many_arg, "--threads", &t, "--format", "json"])?;
        many_rows.push((format!("fhir-preflight validate DIR --threads {threads}"), s, rss));
        if cores == 1 {
            break;
        }
    }
    println!("input: {} ({lines} lines, {bytes} bytes); {cores} cores", corpus.display());
    println!("| command | seconds | MB/s | lines/s | peak RSS (MB) | time vs wc -l |");
    println!("|---|---:|---:|---:|---:|---:|");
    let reference = rows[0].1;
    for (name, s, rss) in &rows {
        let mbps = bytes as f64 / 1e6 / s;
        let lps = lines as f64 / s;
        let rss = rss.map_or_else(|| "n/a".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
        println!("| `{name}` | {s:.2} | {mbps:.0} | {lps:.0} | {rss} | {:.1}× |", s / reference);
    }
    if rows.len() == 4 {
        println!("speed-up from 1 to {cores} threads: {:.2}×", rows[1].1 / rows[2].1);
    }
    println!();
    println!("input: {} ({files} files of {lines_each} lines, {many_bytes} bytes in all)", many.display());
    println!("| command | seconds | MB/s | files/s | peak RSS (MB) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, s, rss) in &many_rows {
        let rss = rss.map_or_else(|| "n/a".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
        println!("| `{name}` | {s:.2} | {:.0} | {:.0} | {rss} |", many_bytes as f64 / 1e6 / s, files as f64 / s);
    }
    if many_rows.len() == 2 {
        println!("speed-up from 1 to {cores} threads: {:.2}×", many_rows[0].1 / many_rows[1].1);
    }
    Ok(())
}
