//! `cargo xtask invariant-oracle [--check]`: the differential oracle of the invariants. HL7's
//! FHIRPath engine for JavaScript (npm `fhirpath`, R4 model; `conformance/fhirpath-oracle/`)
//! evaluates every constraint fhir-preflight evaluated, on the same element of the same resource,
//! over every HL7 R4 example and over one generated violation per evaluated key
//! (`violations.rs`), and the verdicts must agree per (resource, key, element).
//!
//! Disagreements are listed in `conformance/fhirpath-xfail.tsv` (resource, key, reason), at most
//! 2% of the (resource, key) pairs; `--check` fails on any other disagreement, on a listed one that
//! now agrees, on a key with no generated violation, and when `conformance/invariant-oracle.txt`
//! (agreement per key, the keys most often broken in HL7's examples) would change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};

use fhir_preflight::oracle::{self, Evaluation};
use serde_json::{json, Value};

use crate::{conformance, hl7, violations};

/// One resource to evaluate: its name, line, and our evaluations.
struct Task {
    name: String,
    line: String,
    evals: Vec<Evaluation>,
}

/// JavaScript's verdicts per task: holds per evaluation, and error messages by index.
struct Verdicts {
    holds: Vec<bool>,
    errors: BTreeMap<usize, String>,
}

fn run_node(tasks: &[Task]) -> Result<Vec<Verdicts>, String> {
    let dir = hl7::workspace_root().join("conformance/fhirpath-oracle");
    if !dir.join("node_modules/fhirpath").exists() {
        eprintln!("installing the JavaScript engine: npm ci in {}", dir.display());
        let ok = Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("npm: {e}"))?;
        if !ok.success() {
            return Err(format!("npm ci in {} failed", dir.display()));
        }
    }
    let mut child = Command::new("node")
        .arg("oracle.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("node: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input: Vec<String> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let resource: Value = serde_json::from_str(&t.line).unwrap_or(Value::Null);
            let evals: Vec<Value> = t
                .evals
                .iter()
                .map(|e| {
                    let item = e.item.map(|(name, index)| json!({"name": name, "index": index}));
                    json!({"key": e.key, "expression": e.expression, "path": e.path, "base": e.base, "item": item})
                })
                .collect();
            json!({"id": i, "resource": resource, "evals": evals}).to_string()
        })
        .collect();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(&mut stdin);
        for line in input {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.flush()
    });
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut out = Vec::with_capacity(tasks.len());
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("node output: {e}"))?;
        let v: Value = serde_json::from_str(&line).map_err(|e| format!("node output {line}: {e}"))?;
        let holds = v["holds"].as_str().unwrap_or_default().bytes().map(|b| b == b'1').collect();
        let errors = v["errors"]
            .as_object()
            .map(|m| m.iter().filter_map(|(k, msg)| Some((k.parse().ok()?, msg.as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        out.push(Verdicts { holds, errors });
    }
    writer.join().map_err(|_| "writer panicked")?.map_err(|e| format!("node input: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() || out.len() != tasks.len() {
        return Err(format!("node oracle.mjs: {status}, {} of {} answers", out.len(), tasks.len()));
    }
    Ok(out)
}

/// Per key: evaluations, ours failing, agreements.
#[derive(Default)]
struct KeyStats {
    evaluations: usize,
    failed: usize,
    agreed: usize,
    examples_failing: BTreeSet<String>,
}

pub fn run(check: bool) -> Result<(), String> {
    let root = hl7::workspace_root();
    let pkg = hl7::package_dir()?;
    let (names, input) = conformance::examples(&pkg)?;
    let text = String::from_utf8(input).map_err(|e| e.to_string())?;
    let examples: Vec<(String, String)> = names.into_iter().zip(text.lines().map(str::to_owned)).collect();
    let evals: Vec<Vec<Evaluation>> = examples.iter().map(|(_, l)| oracle::evaluations(l.as_bytes())).collect();
    let (generated, missing) = violations::generate(&examples, &evals);
    eprintln!("{} evaluated keys broken by a generated violation, {} not", generated.len(), missing.len());

    let mut tasks: Vec<Task> =
        examples.into_iter().zip(evals).map(|((name, line), evals)| Task { name, line, evals }).collect();
    let example_count = tasks.len();
    for v in &generated {
        let evals = oracle::evaluations(v.line.as_bytes());
        tasks.push(Task { name: format!("generated:{}", v.key), line: v.line.clone(), evals });
    }
    // Hand-made violations for the keys no edit of an example broke.
    let hand_path = root.join("conformance/fhirpath-hand-violations.tsv");
    let hand_text = std::fs::read_to_string(&hand_path).map_err(|e| format!("{}: {e}", hand_path.display()))?;
    let mut hand_keys: Vec<String> = Vec::new();
    for row in hand_text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (key, line) =
            row.split_once('\t').ok_or_else(|| format!("{}: key<TAB>resource: {row}", hand_path.display()))?;
        let evals = oracle::evaluations(line.as_bytes());
        tasks.push(Task { name: format!("hand:{key}"), line: line.to_owned(), evals });
        hand_keys.push(key.to_owned());
    }
    let verdicts = run_node(&tasks)?;

    let xfail_path = root.join("conformance/fhirpath-xfail.tsv");
    let xfail_text = std::fs::read_to_string(&xfail_path).unwrap_or_default();
    let xfail: BTreeMap<(&str, &str), &str> = xfail_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            Some(((parts.next()?, parts.next()?), parts.next().unwrap_or("")))
        })
        .collect();

    let mut stats: BTreeMap<&str, KeyStats> = BTreeMap::new();
    let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut disagreements: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for (n, (task, verdict)) in tasks.iter().zip(&verdicts).enumerate() {
        for (i, e) in task.evals.iter().enumerate() {
            pairs.insert((task.name.as_str(), e.key));
            let s = stats.entry(e.key).or_default();
            s.evaluations += 1;
            let theirs = verdict.holds.get(i).copied().unwrap_or(false);
            if !e.holds {
                s.failed += 1;
                if n < example_count {
                    s.examples_failing.insert(task.name.clone());
                }
            }
            if theirs == e.holds {
                s.agreed += 1;
            } else {
                let why = verdict.errors.get(&i).map(|m| format!(" (JavaScript error: {m})")).unwrap_or_default();
                disagreements.entry((task.name.as_str(), e.key)).or_default().push(format!(
                    "{} {} at {}: fhir-preflight {}, fhirpath.js {}{why}",
                    task.name,
                    e.key,
                    e.path,
                    if e.holds { "holds" } else { "fails" },
                    if theirs { "holds" } else { "fails" }
                ));
            }
        }
    }

    // Every disagreement, for people reading them all.
    let all: Vec<&String> = disagreements.values().flatten().collect();
    let detail = root.join("target/invariant-oracle-disagreements.txt");
    let _ = std::fs::write(&detail, all.iter().map(|l| format!("{l}\n")).collect::<String>());
    let generated_lines: String = generated.iter().map(|v| format!("generated:{}\t{}\n", v.key, v.line)).collect();
    let _ = std::fs::write(root.join("target/invariant-oracle-generated.tsv"), generated_lines);
    let mut problems = Vec::new();
    for (pair, lines) in &disagreements {
        if !xfail.contains_key(pair) {
            problems.extend(lines.iter().take(3).cloned());
        }
    }
    for pair in xfail.keys() {
        if !disagreements.contains_key(pair) {
            problems.push(format!("{}\t{} is in conformance/fhirpath-xfail.tsv but agrees", pair.0, pair.1));
        }
    }
    if xfail.len() * 50 > pairs.len() {
        problems.push(format!("{} xfail pairs: more than 2% of {} (resource, key) pairs", xfail.len(), pairs.len()));
    }
    // A key no generated violation breaks must be broken by a hand-made one (on which fhir-preflight
    // reports it) or in an example (where both engines agree, as checked above).
    let broken_by_hand = |key: &str| {
        tasks.iter().any(|t| t.name == format!("hand:{key}") && t.evals.iter().any(|e| e.key == key && !e.holds))
    };
    let mut by_hand = Vec::new();
    let mut in_examples = Vec::new();
    for key in &missing {
        if broken_by_hand(key) {
            by_hand.push(*key);
        } else if stats.get(key).is_some_and(|s| !s.examples_failing.is_empty()) {
            in_examples.push(*key);
        } else {
            problems.push(format!(
                "{key}: no generated violation, no hand-made one in conformance/fhirpath-hand-violations.tsv, and no example breaks it"
            ));
        }
    }
    for key in &hand_keys {
        if !broken_by_hand(key) {
            problems.push(format!("{key}: its hand-made violation does not break it"));
        }
        if !missing.contains(&key.as_str()) {
            problems.push(format!("{key}: has a generated violation; remove its hand-made one"));
        }
    }

    let summary =
        summary(&stats, &generated, (&by_hand, &in_examples), pairs.len(), disagreements.len(), example_count);
    let summary_path = root.join("conformance/invariant-oracle.txt");
    if check {
        let current = std::fs::read_to_string(&summary_path).unwrap_or_default();
        if current != summary {
            problems.push(format!(
                "{} changed: run `cargo xtask invariant-oracle` and review the diff",
                summary_path.display()
            ));
        }
    } else {
        std::fs::write(&summary_path, &summary).map_err(|e| format!("{}: {e}", summary_path.display()))?;
    }
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).map_err(|e| format!("{}: {e}", readme_path.display()))?;
    let block = readme_block(&stats, disagreements.len(), pairs.len(), &xfail);
    let updated = replace_block(&readme, &block)?;
    if check {
        if updated != readme {
            problems.push(
                "README.md's invariant tables changed: run `cargo xtask invariant-oracle` and review the diff".into(),
            );
        }
    } else if updated != readme {
        std::fs::write(&readme_path, updated).map_err(|e| format!("{}: {e}", readme_path.display()))?;
    }
    let evaluations: usize = stats.values().map(|s| s.evaluations).sum();
    let agreed: usize = stats.values().map(|s| s.agreed).sum();
    eprintln!(
        "{} resources ({} examples, {} generated), {evaluations} evaluations, {agreed} agree; {} of {} (resource, key) pairs disagree, {} listed",
        tasks.len(),
        example_count,
        generated.len(),
        disagreements.len(),
        pairs.len(),
        xfail.len()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn summary(
    stats: &BTreeMap<&str, KeyStats>,
    generated: &[violations::Violation],
    (by_hand, in_examples): (&[&str], &[&str]),
    pairs: usize,
    disagreeing: usize,
    examples: usize,
) -> String {
    let mut s = String::new();
    s.push_str("# The invariants' differential oracle: fhir-preflight and HL7's FHIRPath engine for JavaScript (npm\n");
    s.push_str("# fhirpath, R4 model) on every HL7 R4 example and one generated violation per evaluated key.\n");
    s.push_str("# Written by `cargo xtask invariant-oracle`; scripts/test fails when it changes.\n");
    let _ = writeln!(
        s,
        "resources {} ({examples} examples, {} generated violations); (resource, key) pairs {pairs}, disagreeing {disagreeing}",
        examples + generated.len(),
        generated.len()
    );
    if !by_hand.is_empty() {
        let _ = writeln!(s, "keys broken by a hand-made violation (none generated): {}", by_hand.join(", "));
    }
    if !in_examples.is_empty() {
        let _ = writeln!(s, "keys broken only in HL7's examples (none generated): {}", in_examples.join(", "));
    }
    for (key, why) in violations::UNBREAKABLE {
        let _ = writeln!(s, "key not broken anywhere: {key}: {why}");
    }
    s.push_str("\n## per key: evaluations, failing (fhir-preflight), agreeing with fhirpath.js, generated violation\n");
    let by_key: BTreeMap<&str, &violations::Violation> = generated.iter().map(|v| (v.key, v)).collect();
    for (key, st) in stats {
        let violation = match by_key.get(key) {
            // Long edits (a whole array set) are cut: the full lines are in target/.
            Some(v) => {
                let edit: String = v.edit.chars().take(160).collect();
                format!("{}: {edit}{}", v.file, if edit.len() < v.edit.len() { "…" } else { "" })
            }
            None if by_hand.contains(key) => "hand-made (conformance/fhirpath-hand-violations.tsv)".to_owned(),
            None => "-".to_owned(),
        };
        let _ = writeln!(s, "{key}\t{}\t{}\t{}\t{violation}", st.evaluations, st.failed, st.agreed);
    }
    s.push_str("\n## the 20 keys most often broken in HL7's examples: key, severity, examples breaking it\n");
    let infos = oracle::constraints();
    let severity = |key: &str| infos.iter().find(|c| c.key == key).map_or("?", severity_name);
    for (key, count) in most_broken(stats) {
        let _ = writeln!(s, "{key}\t{}\t{count}", severity(key));
    }
    s
}

const BEGIN: &str = "<!-- invariant tables: written by `cargo xtask invariant-oracle`, do not edit -->\n";
const END: &str = "<!-- end of invariant tables -->\n";

/// `readme` with the text between the markers replaced by `block`.
fn replace_block(readme: &str, block: &str) -> Result<String, String> {
    let start = readme.find(BEGIN).ok_or("README.md has no invariant-tables marker")? + BEGIN.len();
    let end = readme[start..].find(END).ok_or("README.md has no end of the invariant tables")? + start;
    Ok(format!("{}{block}{}", &readme[..start], &readme[end..]))
}

/// The README's tables: constraints by severity and treatment (unique keys), the skipped and
/// native ones with their reasons, the 20 keys most often broken in HL7's examples, and the
/// oracle's agreement per key.
fn readme_block(
    stats: &BTreeMap<&str, KeyStats>,
    disagreeing: usize,
    pairs: usize,
    xfail: &BTreeMap<(&str, &str), &str>,
) -> String {
    use fhir_preflight::oracle::Treatment;
    let infos = oracle::constraints();
    let severity = severity_name;
    // Unique keys (a key defined in several places counts once, by its first definition).
    let mut keys: BTreeMap<&str, &oracle::ConstraintInfo> = BTreeMap::new();
    for c in &infos {
        keys.entry(c.key).or_insert(c);
    }
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for c in keys.values() {
        let column = match c.treatment {
            Treatment::Evaluated => 0,
            Treatment::Native(_) => 1,
            Treatment::Skipped(_) => 2,
        };
        counts.entry(severity(c)).or_default()[column] += 1;
    }
    let mut s = String::new();
    s.push_str("| severity (unique keys) | evaluated (FHIRPath) | decided by another rule | skipped | total |\n|---|---|---|---|---|\n");
    let mut total = [0; 3];
    for (sev, [e, n, k]) in &counts {
        let _ = writeln!(s, "| {sev} | {e} | {n} | {k} | {} |", e + n + k);
        total = [total[0] + e, total[1] + n, total[2] + k];
    }
    let _ = writeln!(s, "| all | {} | {} | {} | {} |\n", total[0], total[1], total[2], total.iter().sum::<usize>());
    s.push_str("Not evaluated by the FHIRPath engine, and why:\n\n| key | severity | treatment |\n|---|---|---|\n");
    for c in keys.values() {
        match c.treatment {
            Treatment::Evaluated => {}
            Treatment::Native(rule) => {
                let _ = writeln!(s, "| `{}` | {} | decided by `{rule}` |", c.key, severity(c));
            }
            Treatment::Skipped(why) => {
                let _ = writeln!(s, "| `{}` | {} | skipped: {why} |", c.key, severity(c));
            }
        }
    }
    s.push_str("\nThe 20 keys most often broken in HL7's R4 examples:\n\n| key | severity | examples breaking it |\n|---|---|---|\n");
    for (key, count) in most_broken(stats) {
        let sev = keys.get(key).map_or("?", |c| severity(c));
        let _ = writeln!(s, "| `{key}` | {sev} | {count} |");
    }
    let _ = writeln!(
        s,
        "\nAgreement with HL7's FHIRPath engine for JavaScript, per key (evaluations over the examples and the generated \
         violations; {disagreeing} of {pairs} (resource, key) pairs disagree, each listed with its reason in \
         `conformance/fhirpath-xfail.tsv`):\n\n<details><summary>{} keys</summary>\n\n| key | evaluations | failing | agreeing | listed disagreements |\n|---|---|---|---|---|",
        stats.len()
    );
    for (key, st) in stats {
        let listed = xfail.keys().filter(|(_, k)| k == key).count();
        let _ = writeln!(s, "| `{key}` | {} | {} | {} | {listed} |", st.evaluations, st.failed, st.agreed);
    }
    s.push_str("\n</details>\n\n");
    s
}

/// The 20 keys most often broken in HL7's examples, with how many examples break each.
fn most_broken<'k>(stats: &BTreeMap<&'k str, KeyStats>) -> Vec<(&'k str, usize)> {
    let mut broken: Vec<(&str, usize)> = stats
        .iter()
        .filter(|(_, st)| !st.examples_failing.is_empty())
        .map(|(k, st)| (*k, st.examples_failing.len()))
        .collect();
    broken.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    broken.truncate(20);
    broken
}

/// How a constraint is reported: its severity, or information for best practice.
fn severity_name(c: &oracle::ConstraintInfo) -> &'static str {
    if c.best_practice {
        "best practice (information)"
    } else if c.error {
        "error"
    } else {
        "warning"
    }
}
