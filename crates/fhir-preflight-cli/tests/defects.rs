//! Issue 11: defects found by testing the CLI as a new user and as a hostile tester would. One
//! test per numbered item of the issue; each failed on the `main` of the day the issue was filed.

mod common;

use std::path::{Path, PathBuf};

use common::{cmd, fixtures, line_ids, manifest, stderr, stdout, tree};

fn example() -> PathBuf {
    fixtures().join("example")
}

/// Item 1: `--force` replaces only what a run of this tool demonstrably wrote; anything else is
/// refused (exit 2) and nothing is touched.
#[test]
fn item_01_force_deletes_only_what_it_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let earlier = |name: &str| {
        let out = tmp.path().join(name);
        cmd().arg("validate").arg(example()).arg("-o").arg(&out).assert().code(1);
        out
    };
    // Each case: an earlier run's outputs, plus something this tool did not write.
    type Plant = fn(&Path);
    let cases: [(&str, Plant); 8] = [
        ("a file deep in FAILURE/", |out| {
            std::fs::create_dir_all(out.join("FAILURE/deep")).unwrap();
            std::fs::write(out.join("FAILURE/deep/t.docx"), "thesis").unwrap();
        }),
        ("a .ndjson in SUCCESS/ that is not a record", |out| {
            std::fs::write(out.join("SUCCESS/notes.ndjson"), "{\"resourceType\":\"Patient\"}\n").unwrap();
        }),
        ("a regular file named SUCCESS", |out| {
            std::fs::remove_dir_all(out.join("SUCCESS")).unwrap();
            std::fs::write(out.join("SUCCESS"), "mine").unwrap();
        }),
        ("a manifest.json this tool did not write", |out| {
            std::fs::write(out.join("manifest.json"), "{\"my\":\"settings\"}").unwrap();
        }),
        ("FAILURE/ as a symlink to another folder", |out| {
            let elsewhere =
                out.parent().unwrap().join(format!("{}-elsewhere", out.file_name().unwrap().to_string_lossy()));
            std::fs::create_dir(&elsewhere).unwrap();
            std::fs::write(elsewhere.join("keep.ndjson"), "{\"lineId\":1}\n").unwrap();
            std::fs::remove_dir_all(out.join("FAILURE")).unwrap();
            std::os::unix::fs::symlink(&elsewhere, out.join("FAILURE")).unwrap();
        }),
        ("an empty folder inside SUCCESS/", |out| std::fs::create_dir(out.join("SUCCESS/empty")).unwrap()),
        ("a staging-looking folder holding a document", |out| {
            std::fs::create_dir(out.join(".fhir-preflight-staging-1")).unwrap();
            std::fs::write(out.join(".fhir-preflight-staging-1/t.docx"), "thesis").unwrap();
        }),
        ("a file next to the outputs", |out| std::fs::write(out.join("README"), "mine").unwrap()),
    ];
    for (i, (what, plant)) in cases.iter().enumerate() {
        let out = earlier(&format!("out{i}"));
        plant(&out);
        let before = tree_with_links(&out);
        let assert = cmd().arg("validate").arg(example()).arg("-o").arg(&out).arg("--force").assert().code(2);
        let err = stderr(&assert);
        assert!(err.contains("refusing") || err.contains("not"), "{what}: {err}");
        assert_eq!(tree_with_links(&out), before, "{what}: the folder was changed");
        assert_eq!(stdout(&assert), "", "{what}");
    }
    // An earlier run's outputs alone are replaced.
    let out = earlier("plain");
    cmd().arg("validate").arg(fixtures().join("valid")).arg("-o").arg(&out).arg("--force").assert().code(0);
    assert_eq!(tree(&out).into_keys().collect::<Vec<_>>(), ["SUCCESS/mixed-types.ndjson", "manifest.json"]);
}

/// Every entry under `dir` (symlinks not followed): relative path → bytes, or the link target.
fn tree_with_links(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).expect("test folder") {
            let path = entry.expect("test folder").path();
            let rel = path.strip_prefix(dir).expect("test folder").display().to_string();
            let meta = std::fs::symlink_metadata(&path).expect("test folder");
            if meta.file_type().is_symlink() {
                out.insert(rel, format!("-> {}", std::fs::read_link(&path).expect("test folder").display()));
            } else if meta.is_dir() {
                out.insert(rel, "(dir)".into());
                todo.push(path);
            } else {
                out.insert(rel, String::from_utf8_lossy(&std::fs::read(&path).expect("test folder")).into_owned());
            }
        }
    }
    out
}

/// Item 2: The output folder inside an input directory is never read as input, and the run says so.
#[test]
fn item_02_outputs_are_not_read_back_as_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dd = tmp.path().join("dd");
    std::fs::create_dir(&dd).unwrap();
    std::fs::copy(example().join("bulk-export.ndjson"), dd.join("bulk-export.ndjson")).unwrap();
    let out = dd.join("out");
    let mut first = None;
    for run in 0..3 {
        let mut c = cmd();
        c.arg("validate").args(["-r", "--format", "json"]).arg(&dd).arg("-o").arg(&out);
        if run > 0 {
            c.arg("--force");
        }
        let assert = c.assert().code(1);
        let m: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
        assert_eq!(m["numberOfScannedFiles"], 1, "run {run}");
        assert_eq!(m["numberOfResourcesWithCustomerError"], 5, "run {run}");
        if run > 0 {
            assert!(stderr(&assert).contains("skipped") && stderr(&assert).contains("output folder"), "run {run}");
        }
        let files = tree(&out);
        match &first {
            None => first = Some(files.len()),
            Some(n) => assert_eq!(files.len(), *n, "run {run}"),
        }
    }
    // Named explicitly, a file inside the output folder is not an input either.
    let assert = cmd()
        .arg("validate")
        .arg(dd.join("bulk-export.ndjson"))
        .arg(out.join("FAILURE/bulk-export.ndjson"))
        .arg("-o")
        .arg(&out)
        .arg("--force")
        .args(["--format", "json"])
        .assert()
        .code(1);
    let m: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(m["numberOfScannedFiles"], 1);
}

/// Item 3: A full disk, whichever write fails, leaves no manifest, no records and no temporary file.
#[cfg(unix)]
#[test]
fn item_03_full_disk_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    // What a complete run writes, to pick disk sizes that fail at each write.
    let full = tmp.path().join("full");
    cmd().arg("validate").arg(example()).arg("-o").arg(&full).assert().code(1);
    let needed: usize = tree(&full).values().map(|b| b.len().div_ceil(4096) * 4096).sum();
    let mut failed_sizes = Vec::new();
    let mut size = 4096;
    while size <= needed + 8192 {
        let mnt = tmp.path().join(format!("small-{size}"));
        std::fs::create_dir(&mnt).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&mnt)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("SKIPPED item_03_full_disk_leaves_nothing_behind: cannot mount a tmpfs here (needs root)");
            return;
        }
        let out = mnt.join("out");
        let assert = cmd().arg("validate").arg(example()).arg("-o").arg(&out).assert();
        let code = assert.get_output().status.code();
        let left = list_all(&mnt);
        let _ = std::process::Command::new("umount").arg(&mnt).status();
        match code {
            Some(1) => assert_eq!(left.iter().filter(|p| p.ends_with(".ndjson")).count(), 2, "{size}: {left:?}"),
            Some(2) => {
                failed_sizes.push(size);
                assert!(left.is_empty(), "disk of {size} bytes: left behind {left:?}\n{}", stderr(&assert));
            }
            other => panic!("disk of {size} bytes: exit {other:?}"),
        }
        size += 4096;
    }
    assert!(failed_sizes.len() >= 3, "the sizes tried should fail at several writes: {failed_sizes:?}");
}

/// Every path under `dir`, folders included.
fn list_all(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).expect("test folder") {
            let path = entry.expect("test folder").path();
            if path.is_dir() {
                todo.push(path.clone());
            }
            out.push(path.strip_prefix(dir).expect("test folder").display().to_string());
        }
    }
    out.sort();
    out
}

/// Item 4: An unreadable subdirectory is reported; everything readable is validated and written; exit 2.
#[cfg(unix)]
#[test]
fn item_04_an_unreadable_subdirectory_does_not_stop_the_run() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(input.join("locked")).unwrap();
    std::fs::create_dir_all(input.join("open")).unwrap();
    std::fs::copy(example().join("bulk-export.ndjson"), input.join("open/a.ndjson")).unwrap();
    std::fs::write(input.join("locked/b.ndjson"), "{}\n").unwrap();
    std::fs::write(input.join("top.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"t\"}\n").unwrap();
    std::fs::set_permissions(input.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    for p in [&input, &input.join("open")] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for f in [input.join("open/a.ndjson"), input.join("top.ndjson")] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    // A folder the unprivileged user may write to.
    let writable = tmp.path().join("w");
    std::fs::create_dir(&writable).unwrap();
    std::fs::set_permissions(&writable, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = writable.join("out");
    let result =
        common::unprivileged(tmp.path()).arg("validate").arg(&input).args(["-r", "-o"]).arg(&out).output().unwrap();
    std::fs::set_permissions(input.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot list") && err.contains("locked"), "{err}");
    let m = manifest(&out);
    assert_eq!(m["numberOfScannedFiles"], 2, "a.ndjson and top.ndjson");
    assert_eq!(m["numberOfResourcesScanned"], 161);
    assert_eq!(line_ids(&std::fs::read(out.join("FAILURE/open/a.ndjson")).unwrap()), [6, 11, 22, 31, 48]);
    let report = String::from_utf8_lossy(&result.stdout);
    assert!(report.contains("could not be listed"), "the summary says so:\n{report}");
}

const MARKER: &str = "JohnSmith19700101";

/// Item 5: Under `--redact` no property name that FHIR does not define and no resource type that R4
/// does not define reaches any output: the marker stands in every key position.
#[test]
fn item_05_redact_hides_unknown_keys_and_types() {
    let m = MARKER;
    let lines = [
        format!("{{\"resourceType\":\"Patient\",\"id\":\"a\",\"{m}\":true}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"b\",\"name\":[{{\"{m}\":1}}]}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"c\",\"_{m}\":{{}}}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"d\",\"{m}\":1,\"{m}\":2}}"),
        format!("{{\"resourceType\":\"{m}\",\"id\":\"e\"}}"),
        format!("{{\"resourceType\":\"Patientx{m}\",\"id\":\"f\",\"{m}\":{{\"{m}\":[1]}}}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"g\",\"contained\":[{{\"resourceType\":\"{m}\",\"id\":\"x\",\"{m}\":1}}]}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"h\",\"contained\":[{{\"resourceType\":\"Basic\",\"id\":\"x\",\"code\":{{\"text\":\"t\"}},\"{m}\":1}}],\"text\":{{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">#x</div>\"}}}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"i\",\"extension\":[{{\"url\":\"http://e.org/x\",\"{m}\":\"v\"}}]}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"j\",\"name\":[{{\"given\":[\"x\"],\"_given\":[{{\"{m}\":1}}]}}]}}"),
        format!("{{\"resourceType\":\"Bundle\",\"id\":\"k\",\"type\":\"collection\",\"entry\":[{{\"resource\":{{\"resourceType\":\"Patient\",\"{m}\":[{{\"{m}\":1}}]}}}}]}}"),
        format!("{{\"resourceType\":\"Patient\",\"id\":\"l\",\"{m}Gender\":\"x\",\"gender\":\"male\"}}"),
        format!("{{\"{m}\":{{\"resourceType\":\"Patient\"}}}}"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("r.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    for format in ["human", "json", "ndjson", "operationoutcome", "sarif"] {
        let out = tmp.path().join(format!("out-{format}"));
        let assert = cmd()
            .arg("validate")
            .arg(&file)
            .args(["--redact", "--max-errors", "1000", "--format", format, "-o"])
            .arg(&out)
            .assert()
            .code(1);
        let mut everything = stdout(&assert) + &stderr(&assert);
        for bytes in tree(&out).values() {
            everything.push_str(&String::from_utf8_lossy(bytes));
        }
        assert!(!everything.contains(MARKER), "--format {format}: the marker leaked:\n{everything}");
        assert!(everything.contains("<redacted>"), "--format {format}");
    }
    // FHIR's own names stay: a redacted report still says where.
    let out = tmp.path().join("plain");
    cmd().arg("validate").arg(&file).args(["--redact", "-o"]).arg(&out).assert().code(1);
    let failures = String::from_utf8(std::fs::read(out.join("FAILURE/r.ndjson")).unwrap()).unwrap();
    assert!(failures.contains("\"Patient.name[0].<redacted>\""), "{failures}");
    assert!(failures.contains("\"resourceType\":\"<redacted>\""), "{failures}");
    assert!(failures.contains("\"resourceType\":\"Patient\""), "{failures}");
}

/// Item 6: The run-level and file-level notes of the human report are in every machine format too.
#[test]
fn item_06_notes_in_every_machine_format() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Basic\",\"id\":\"b\",\"code\":{\"text\":\"x\"}}\n{\"resourceType\":\"Patient\",\"id\":\"a\"}\n";
    std::fs::write(tmp.path().join("one.ndjson"), text).unwrap();
    let run = |format: &str| {
        let assert =
            cmd().arg("validate").arg(tmp.path()).args(["--format", format, "--warn-file-size", "10"]).assert().code(0);
        stdout(&assert)
    };
    let human = run("human");
    for code in ["ndjson/mixed-types", "ndjson/duplicate-id", "healthlake/limit"] {
        assert!(human.contains(code), "{human}");
    }
    for format in ["ndjson", "sarif", "operationoutcome"] {
        let out = run(format);
        for code in ["ndjson/mixed-types", "ndjson/duplicate-id", "healthlake/limit"] {
            assert!(out.contains(code), "--format {format} lacks {code}:\n{out}");
        }
    }
    // Still well-formed: one JSON object per ndjson line; one document for the others.
    for line in run("ndjson").lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    let bundle: serde_json::Value = serde_json::from_str(&run("operationoutcome")).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

/// Item 7: `merge` refuses the same shard twice and a shard without its records, and its input URI
/// equals one run's over the folder.
#[test]
fn item_07_merge_refuses_inconsistent_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let bulk = tmp.path().join("bulk");
    std::fs::create_dir(&bulk).unwrap();
    for f in ["invalid/lines.ndjson", "valid/mixed-types.ndjson"] {
        std::fs::copy(fixtures().join(f), bulk.join(Path::new(f).file_name().unwrap())).unwrap();
    }
    let shard = |input: &str, name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        cmd()
            .current_dir(tmp.path())
            .arg("validate")
            .arg(input)
            .args(extra)
            .arg("-o")
            .arg(&out)
            .assert()
            .code(predicates::ord::le(1));
        out
    };
    let s1 = shard("bulk/lines.ndjson", "s1", &[]);
    let s2 = shard("bulk/mixed-types.ndjson", "s2", &[]);
    // The same shard twice, by folder and by manifest path.
    for second in [s1.clone(), s1.join("manifest.json")] {
        let assert = cmd().arg("merge").arg(&s1).arg(&second).assert().code(2);
        assert_eq!(stdout(&assert), "");
        assert!(stderr(&assert).contains("twice"), "{}", stderr(&assert));
    }
    // A manifest without its records (--format json, no output folder), merged with -o.
    let json_only = tmp.path().join("json-only.json");
    let assert =
        cmd().current_dir(tmp.path()).args(["validate", "bulk/mixed-types.ndjson", "--format", "json"]).assert();
    std::fs::write(&json_only, &assert.get_output().stdout).unwrap();
    let merged = tmp.path().join("merged-bad");
    let assert = cmd().arg("merge").arg(&s1).arg(&json_only).arg("-o").arg(&merged).assert().code(2);
    assert!(stderr(&assert).contains("records"), "{}", stderr(&assert));
    assert!(!merged.join("manifest.json").exists());
    // Records that do not match the manifest's counts.
    let s3 = shard("bulk/mixed-types.ndjson", "s3", &[]);
    std::fs::remove_dir_all(s3.join("SUCCESS")).unwrap();
    let assert = cmd().arg("merge").arg(&s1).arg(&s3).arg("-o").arg(&merged).assert().code(2);
    assert!(stderr(&assert).contains("records"), "{}", stderr(&assert));
    // Without -o, a manifest alone merges (counts only).
    cmd().arg("merge").arg(&s1).arg(&json_only).assert().code(0);
    // Per-file shards merge to what one run over the folder gives, input URI included.
    let whole = shard("bulk", "whole", &[]);
    let assert = cmd().current_dir(tmp.path()).arg("merge").arg(&s1).arg(&s2).assert().code(0);
    let strip = |m: &str| {
        let mut v: serde_json::Value = serde_json::from_str(m).unwrap();
        for k in ["outputDataConfig", "successOutput", "failureOutput"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    let whole_manifest = std::fs::read_to_string(whole.join("manifest.json")).unwrap();
    assert_eq!(strip(&stdout(&assert)), strip(&whole_manifest));
    assert_eq!(strip(&whole_manifest)["inputDataConfig"]["s3Uri"], "bulk/");
}

/// Item 8: File names reach the terminal with control characters escaped, as values already do.
#[cfg(unix)]
#[test]
fn item_08_file_names_cannot_inject_terminal_escapes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("y\x1b[2J.ndjson"), "{\"resourceType\":\"Patient\"}\n\n").unwrap();
    std::os::unix::fs::symlink(dir.join("missing"), dir.join("z\x1b]0;owned\x07.ndjson")).unwrap();
    let missing = tmp.path().join("gone\x1b[31m.ndjson");
    let assert = cmd().arg("validate").arg(&dir).arg(&missing).assert().code(2);
    let (out, err) = (stdout(&assert), stderr(&assert));
    for text in [&out, &err] {
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "raw control characters:\n{text}");
    }
    assert!(out.contains("y\\u{1b}[2J.ndjson:1"), "{out}");
    assert!(err.contains("z\\u{1b}]0;owned\\u{7}.ndjson") && err.contains("gone\\u{1b}[31m.ndjson"), "{err}");
}

/// Item 9: Ctrl-C exits at once, whatever the reader is blocked on, and publishes nothing.
#[cfg(unix)]
#[test]
fn item_09_ctrl_c_exits_promptly() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fhir-preflight"))
        .args(["validate", "-", "-o"])
        .arg(&out)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n").unwrap();
    stdin.flush().unwrap();
    let start = std::time::Instant::now();
    while !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none() {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let sent = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(sent.elapsed() < std::time::Duration::from_secs(20), "no exit after Ctrl-C");
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let waited = sent.elapsed();
    drop(stdin);
    assert_eq!(status.code(), Some(130));
    // Standard input is still open: only the signal can have ended the run. "Promptly" is ~100 ms;
    // the bound leaves room for a loaded machine.
    assert!(waited < std::time::Duration::from_millis(1000), "exited {waited:?} after Ctrl-C");
    assert!(!out.exists() || tree(&out).is_empty(), "nothing published, nothing staged: {:?}", tree(&out));
    assert!(!out.exists(), "the output folder the run created is removed");
}

/// Item 10: Progress on standard input (size unknown): bytes, rate and lines, no bar and no ETA.
#[cfg(unix)]
#[test]
fn item_10_progress_on_standard_input_has_no_eta() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED item_10_progress_on_standard_input_has_no_eta: no `script` to give a terminal");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("fhir-preflight");
    let line = "{\\\"resourceType\\\":\\\"Patient\\\",\\\"id\\\":\\\"a\\\"}";
    // Standard error is a terminal (script's), standard input a slow pipe.
    let inner = format!(
        "(for i in 1 2 3 4 5 6; do echo \"{line}\"; sleep 0.2; done) | '{}' validate - --format json >/dev/null",
        bin.display()
    );
    let out = std::process::Command::new("script").args(["-qec", &inner, "/dev/null"]).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("lines"), "progress shows lines:\n{shown:?}");
    assert!(shown.contains("B/s"), "progress shows a rate:\n{shown:?}");
    assert!(!shown.contains("ETA"), "no ETA for an unknown size:\n{shown:?}");
    assert!(!shown.contains("0 B/0 B"), "no total for an unknown size:\n{shown:?}");
}

/// Item 11: A run that finds no input says so, names what it skipped and why, and exits 2.
#[cfg(unix)]
#[test]
fn item_11_no_input_is_not_silent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    for name in ["a.json", "b.jsonl", "c.NDJSON", "d.ndjson.GZ"] {
        std::fs::write(dir.join(name), "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n").unwrap();
    }
    std::os::unix::fs::symlink(dir.join("missing"), dir.join("dangling.ndjson")).unwrap();
    let assert = cmd().arg("validate").arg(&dir).assert().code(2);
    let text = stdout(&assert) + &stderr(&assert);
    for name in ["a.json", "b.jsonl", "c.NDJSON", "d.ndjson.GZ", "dangling.ndjson"] {
        assert!(text.contains(name), "{name} not named:\n{text}");
    }
    assert!(text.contains("no input"), "{text}");
    // With a real input beside them, skipped entries are part of the human summary.
    std::fs::write(dir.join("e.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n").unwrap();
    let assert = cmd().arg("validate").arg(&dir).assert().code(0);
    let out = stdout(&assert);
    assert!(out.contains("Skipped 5") && out.contains("dangling.ndjson") && out.contains("c.NDJSON"), "{out}");
}

/// Item 12: Warnings are shown in the human report: by code with counts, the first few, and a count
/// of lines with warnings in the totals.
#[test]
fn item_12_warnings_are_visible_in_the_human_report() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("w.ndjson");
    let mut text = String::new();
    for i in 0..7 {
        text.push_str(&format!("{{\"resourceType\":\"Patient\",\"id\":\"p{i}\",\"generalPractitioner\":[{{\"reference\":\"Practitioner?identifier=x|{i}\"}}]}}\n"));
    }
    text.push_str("{\"resourceType\":\"Patient\",\"id\":\"q\",\"name\":[{\"family\":\" Doe\"}]}\n");
    std::fs::write(&file, text).unwrap();
    let assert = cmd().arg("validate").arg(&file).assert().code(0);
    let out = stdout(&assert);
    assert!(out.contains("Warnings by code: reference/conditional 7, primitive/string-whitespace 1"), "{out}");
    assert!(
        out.contains("w.ndjson:1:") && out.contains("warning[reference/conditional]"),
        "the first are listed:\n{out}"
    );
    assert!(out.contains("8 with warnings"), "{out}");
}

/// Item 13: Lists cut short say how many more they hold.
#[test]
fn item_13_truncated_lists_say_how_many_more() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("t.ndjson");
    let mut text = String::new();
    for ty in ["Patient", "Basic", "Group", "Person", "Device", "Location"] {
        let extra = match ty {
            "Basic" => ",\"code\":{\"text\":\"x\"}",
            "Group" => ",\"type\":\"person\",\"actual\":true",
            _ => "",
        };
        text.push_str(&format!("{{\"resourceType\":\"{ty}\",\"id\":\"x\"{extra}}}\n"));
    }
    // Eleven distinct error codes.
    for bad in [
        "{\"resourceType\":\"Patient\",\"id\":\"a_b\"}",
        "{\"resourceType\":\"Patient\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"x\":1}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"gender\":\"F\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"birthDate\":\"2020-13-01\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"active\":\"true\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"name\":{}}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"gender\":[\"male\"]}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"id\":\"b\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"name\":[{\"family\":\"\"}]}",
        "{\"resourceType\":\"Observation\",\"id\":\"a\",\"code\":{\"text\":\"x\"}}",
        "[1]",
    ] {
        text.push_str(bad);
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    let assert = cmd().arg("validate").arg(&file).assert().code(1);
    let out = stdout(&assert);
    assert!(out.contains("6 resource types (") && out.contains("and 1 more)"), "{out}");
    let ndjson = cmd().arg("validate").arg(&file).args(["--format", "ndjson"]).assert().code(1);
    let codes: std::collections::BTreeSet<String> = stdout(&ndjson)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|d| d["severity"] == "error" || d["severity"] == "fatal")
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(codes.len() > 10, "{codes:?}");
    let by_code = out.lines().find(|l| l.starts_with("Errors by code:")).unwrap();
    assert!(by_code.ends_with(&format!("and {} more codes", codes.len() - 10)), "{by_code}");
}

/// Item 14: Smaller defects: `--help` names exit 130; singulars; record-name collisions only matter
/// with an output folder, and the refusal says how to fix it; `s3://` says it is not supported yet.
#[test]
fn item_14_smaller_defects() {
    let help = cmd().args(["validate", "--help"]).assert().code(0);
    assert!(stdout(&help).contains("130"), "{}", stdout(&help));
    let one = cmd().args(["validate", "-"]).write_stdin("{\"resourceType\":\"Patient\"}\n").assert().code(1);
    let out = stdout(&one);
    assert!(out.contains("1 resource (") && out.contains("1 customer error,"), "{out}");
    assert!(!out.contains("1 resources") && !out.contains("1 lines") && !out.contains("1 customer errors"), "{out}");
    let tmp = tempfile::tempdir().unwrap();
    for d in ["x", "y"] {
        std::fs::create_dir(tmp.path().join(d)).unwrap();
        std::fs::write(tmp.path().join(d).join("same.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n")
            .unwrap();
    }
    cmd().current_dir(tmp.path()).args(["validate", "x", "y"]).assert().code(0);
    let refused = cmd().current_dir(tmp.path()).args(["validate", "x", "y", "-o", "out"]).assert().code(2);
    let err = stderr(&refused);
    assert!(err.contains("same.ndjson") && err.contains("--recursive"), "{err}");
    // s3:// inputs (issue 15): without credentials, one line naming the URI, not a file error.
    let s3 = cmd()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", tmp.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", tmp.path().join("none"))
        .args(["validate", "s3://bucket/prefix/"])
        .assert()
        .code(2);
    let err = stderr(&s3);
    assert!(err.contains("s3://bucket/prefix/") && err.contains("credentials"), "{err}");
    assert!(!err.contains("No such file") && !err.contains("DispatchFailure("), "{err}");
}
