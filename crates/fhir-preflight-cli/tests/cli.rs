//! The `fhir-preflight validate` command end to end: outputs, exit codes, output-folder safety.

mod common;

use std::path::Path;

use common::{cmd, fixtures, line_ids, manifest, tree};
use predicates::prelude::*;

#[test]
fn example_writes_healthlake_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let example = fixtures().join("example");
    // Standard error is not a terminal here: no progress bar, nothing at all.
    cmd().arg("validate").arg(&example).arg("--output-dir").arg(&out).assert().code(1).stderr("");
    let files = tree(&out);
    let names: Vec<_> = files.keys().cloned().collect();
    assert_eq!(names, vec!["FAILURE/bulk-export.ndjson", "SUCCESS/bulk-export.ndjson", "manifest.json"]);
    assert_eq!(line_ids(&files["FAILURE/bulk-export.ndjson"]), vec![6, 11, 22, 31, 48]);
    assert_eq!(line_ids(&files["SUCCESS/bulk-export.ndjson"]).len(), 155);
    let m = manifest(&out);
    // A folder is named as a prefix, as S3 prefixes are.
    assert_eq!(m["inputDataConfig"]["s3Uri"], format!("{}/", example.display()));
    assert_eq!(m["outputDataConfig"]["s3Uri"], format!("{}/", out.display()));
    assert_eq!(m["failureOutput"]["failureOutputS3Uri"], format!("{}/FAILURE/", out.display()));
    assert_eq!(m["numberOfScannedFiles"], 1);
    assert_eq!(m["numberOfFilesImported"], 1);
    assert_eq!(m["numberOfResourcesScanned"], 160);
    assert_eq!(m["numberOfResourcesImportedSuccessfully"], 155);
    assert_eq!(m["numberOfResourcesWithCustomerError"], 5);
    let size = std::fs::metadata(example.join("bulk-export.ndjson")).unwrap().len();
    let text = String::from_utf8(files["manifest.json"].clone()).unwrap();
    assert!(text.contains(&format!("\"sizeOfScannedFilesInMB\": {},", fhir_preflight::format_mb(size))), "{text}");
}

#[cfg(unix)]
#[test]
fn outputs_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a/b/out");
    cmd().arg("validate").arg(fixtures().join("example")).arg("-o").arg(&out).assert().code(1);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for dir in [tmp.path().join("a"), tmp.path().join("a/b"), out.clone(), out.join("FAILURE"), out.join("SUCCESS")] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    for file in ["manifest.json", "FAILURE/bulk-export.ndjson", "SUCCESS/bulk-export.ndjson"] {
        assert_eq!(mode(&out.join(file)), 0o600, "{file}");
    }
}

#[test]
fn format_json_prints_exactly_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let assert = cmd()
        .arg("validate")
        .arg(fixtures().join("invalid/lines.ndjson"))
        .args(["--format", "json", "-o"])
        .arg(&out)
        .assert()
        .code(1);
    assert_eq!(assert.get_output().stdout, std::fs::read(out.join("manifest.json")).unwrap());
}

#[test]
fn without_output_dir_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let assert = cmd()
        .current_dir(tmp.path())
        .arg("validate")
        .arg(fixtures().join("valid"))
        .args(["--format", "json"])
        .assert()
        .code(0);
    assert!(tree(tmp.path()).is_empty());
    let m: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert!(m["outputDataConfig"]["s3Uri"].is_null());
    assert!(m["successOutput"]["successOutputS3Uri"].is_null());
    assert!(m["failureOutput"]["failureOutputS3Uri"].is_null());
    assert_eq!(m["numberOfResourcesImportedSuccessfully"], 7);
}

#[test]
fn refuses_a_non_empty_output_dir() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    for force in [false, true] {
        let mut c = cmd();
        c.arg("validate").arg(fixtures().join("example")).arg("-o").arg(tmp.path());
        if force {
            c.arg("--force");
        }
        c.assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("notes.txt").or(predicate::str::contains("not empty")));
        assert_eq!(tree(tmp.path()).keys().collect::<Vec<_>>(), vec!["notes.txt"]);
    }
    // A file where the folder should be.
    cmd()
        .arg("validate")
        .arg(fixtures().join("example"))
        .arg("-o")
        .arg(tmp.path().join("notes.txt"))
        .arg("--force")
        .assert()
        .code(2);
}

#[test]
fn force_replaces_an_earlier_run_without_mixing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    cmd().arg("validate").arg(fixtures().join("example")).arg("-o").arg(&out).assert().code(1);
    cmd().arg("validate").arg(fixtures().join("valid")).arg("-o").arg(&out).assert().code(2);
    cmd().arg("validate").arg(fixtures().join("valid")).arg("-o").arg(&out).arg("--force").assert().code(0);
    let names: Vec<_> = tree(&out).into_keys().collect();
    assert_eq!(names, vec!["SUCCESS/mixed-types.ndjson", "manifest.json"]);
    assert_eq!(manifest(&out)["numberOfResourcesScanned"], 7);
}

#[test]
fn unreadable_input_exits_2_after_validating_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let missing = tmp.path().join("missing.ndjson");
    cmd()
        .arg("validate")
        .arg(fixtures().join("valid/mixed-types.ndjson"))
        .arg(&missing)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.ndjson").and(predicate::str::contains("cannot read")));
    let m = manifest(&out);
    assert_eq!(m["numberOfScannedFiles"], 2);
    assert_eq!(m["numberOfFilesReadWithSuccess"], 1);
    assert_eq!(m["numberOfFilesReadWithCustomerError"], 1);
    assert_eq!(m["numberOfResourcesImportedSuccessfully"], 7);
}

#[test]
fn colliding_record_names_are_refused_before_validating() {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["x", "y"] {
        std::fs::create_dir(tmp.path().join(d)).unwrap();
        std::fs::write(tmp.path().join(d).join("same.ndjson"), "{}\n").unwrap();
    }
    let out = tmp.path().join("out");
    cmd()
        .arg("validate")
        .arg(tmp.path().join("x/same.ndjson"))
        .arg(tmp.path().join("y"))
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("same.ndjson"));
    assert!(!out.exists());
}

#[test]
fn standard_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    cmd()
        .args(["validate", "-", "-o"])
        .arg(&out)
        .write_stdin("{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\"}\n")
        .assert()
        .code(1);
    assert_eq!(line_ids(&std::fs::read(out.join("FAILURE/stdin.ndjson")).unwrap()), vec![2]);
    assert_eq!(manifest(&out)["inputDataConfig"]["s3Uri"], "-");
}

#[test]
fn several_inputs_share_their_parent_as_input_uri() {
    let tmp = tempfile::tempdir().unwrap();
    let assert = cmd()
        .current_dir(fixtures())
        .args(["validate", "valid/mixed-types.ndjson", "edge/crlf.ndjson", "--format", "json"])
        .arg("-o")
        .arg(tmp.path().join("o"))
        .assert()
        .code(0);
    let m: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(m["inputDataConfig"]["s3Uri"], "./");
    assert_eq!(m["numberOfScannedFiles"], 2);
}

#[test]
fn threads_and_chunk_sizes_do_not_change_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let mut reference = None;
    for (i, (threads, chunk)) in [("1", "1048576"), ("2", "7"), ("1", "1"), ("4", "4096")].into_iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        let assert = cmd()
            .arg("validate")
            .arg(fixtures().join("edge"))
            .arg(fixtures().join("invalid"))
            .arg(fixtures().join("example"))
            .args(["--threads", threads, "--chunk-bytes", chunk, "--format", "json", "-o"])
            .arg(&out)
            .assert()
            .code(1);
        let mut files = tree(&out);
        // The output folder's own name is in the manifest; compare everything else byte for byte.
        let manifest = files.remove("manifest.json").unwrap();
        assert_eq!(assert.get_output().stdout, manifest);
        let manifest = String::from_utf8(manifest).unwrap().replace(&format!("out{i}"), "OUT");
        let snapshot = (files, manifest);
        match &reference {
            None => reference = Some(snapshot),
            Some(r) => assert_eq!(&snapshot, r, "threads {threads}, chunk {chunk}"),
        }
    }
}

/// Many inputs validated at once come out as if validated one after the other: every format's
/// standard output and every record file are byte-identical for any number of threads, including
/// the run-level duplicate list (the later line is the duplicate) and each file's notes.
#[test]
fn inputs_validated_in_parallel_give_the_same_outputs_in_input_order() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    // A big first file with an error on every other line, so later files finish first and wait.
    let mut big = String::new();
    for i in 0..6000 {
        if i % 2 == 0 {
            big.push_str(&format!("{{\"resourceType\":\"Patient\",\"id\":\"p{i}\",\"gender\":\"nope\"}}\n"));
        } else {
            big.push_str(&format!("{{\"resourceType\":\"Patient\",\"id\":\"p{i}\",\"active\":true}}\n"));
        }
    }
    std::fs::write(inputs.join("a-big.ndjson"), big).unwrap();
    for f in 0..24 {
        let mut text = String::new();
        if f % 5 == 0 {
            text.push('\n'); // a blank line: a file note
        }
        for i in 0..(f * 7 % 40 + 1) {
            // Ids repeat across files (duplicates), one type per file except every third file.
            let ty = if f % 3 == 0 && i % 2 == 1 { "Observation" } else { "Patient" };
            let extra = if ty == "Observation" { ",\"status\":\"final\",\"code\":{\"text\":\"x\"}" } else { "" };
            let bad = if (i + f) % 4 == 0 { ",\"birthDate\":\"1999-13-01\"" } else { "" };
            text.push_str(&format!("{{\"resourceType\":\"{ty}\",\"id\":\"p{}\"{extra}{bad}}}\n", (i * 13 + f) % 50));
        }
        std::fs::write(inputs.join(format!("b-{f:02}.ndjson")), text).unwrap();
    }
    for format in ["human", "json", "ndjson", "operationoutcome", "sarif"] {
        let mut reference = None;
        for threads in ["1", "2", "5"] {
            let out = tmp.path().join(format!("out-{format}-{threads}"));
            let assert = cmd()
                .arg("validate")
                .arg(&inputs)
                .args(["--threads", threads, "--format", format, "--max-errors", "7", "-o"])
                .arg(&out)
                .assert()
                .code(1);
            let mut files = tree(&out);
            assert_eq!(manifest(&out)["numberOfScannedFiles"], 25, "{format}");
            let manifest_text = String::from_utf8(files.remove("manifest.json").unwrap()).unwrap();
            let stdout = String::from_utf8(assert.get_output().stdout.clone())
                .unwrap()
                .replace(&out.display().to_string(), "OUT");
            if format == "human" {
                assert!(stdout.contains("warning[ndjson/duplicate-id]"), "{stdout}");
                assert!(stdout.contains("warning[ndjson/mixed-types]"), "{stdout}");
            }
            files.insert("manifest".into(), manifest_text.replace(&out.display().to_string(), "OUT").into_bytes());
            let snapshot = (stdout.into_bytes(), files);
            match &reference {
                None => reference = Some(snapshot),
                Some(r) => assert!(&snapshot == r, "--format {format} --threads {threads} differs from --threads 1"),
            }
        }
    }
}

#[test]
fn bad_options_exit_2_without_output() {
    for args in [
        &["--max-depth", "0"][..],
        &["--threads", "0"],
        &["--max-line-bytes", "3"],
        &["--max-issues-per-line", "0"],
        &["--frobnicate"],
    ] {
        cmd().arg("validate").arg(fixtures().join("valid")).args(args).assert().code(2).stdout("");
    }
    cmd().arg("validate").assert().code(2);
    cmd().args(["validate", "--force"]).arg(fixtures().join("valid")).assert().code(2);
}

#[test]
fn human_report() {
    let assert = cmd()
        .current_dir(fixtures())
        .args(["validate", "edge/blank-lines.ndjson", "invalid/lines.ndjson", "--max-errors", "3"])
        .assert()
        .code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    insta::assert_snapshot!(stdout);
    assert!(stdout.contains("Errors by code: "), "{stdout}");
    assert!(stdout.contains("Failed lines by resource type: "), "{stdout}");
}

#[test]
fn levels_change_the_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("p.ndjson");
    std::fs::write(
        &file,
        "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"profile\":[\"http://example.org/StructureDefinition/p\"]},\"gender\":\"F\"}\n",
    )
    .unwrap();
    cmd().arg("validate").arg(&file).assert().code(1).stdout(
        predicate::str::contains("binding/required").and(predicate::str::contains("1 resource declares a profile")),
    );
    cmd().arg("validate").arg(&file).args(["--level", "minimal"]).assert().code(0);
    cmd().arg("validate").arg(&file).args(["--level", "lenient"]).assert().code(2).stdout("");
}

#[test]
fn gzip_inputs_and_recursive_directories() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("export");
    std::fs::create_dir_all(dir.join("2024/jan")).unwrap();
    let text = std::fs::read(fixtures().join("example/bulk-export.ndjson")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    std::fs::write(dir.join("2024/jan/patients.ndjson.gz"), gz.finish().unwrap()).unwrap();
    let top = "{\"resourceType\":\"Patient\",\"id\":\"t\"}\n";
    std::fs::write(dir.join("top.ndjson"), top).unwrap();
    std::fs::write(dir.join("broken.ndjson.gz"), b"\x1f\x8b\x08\x00not really gzip").unwrap();
    let out = tmp.path().join("out");
    // Without --recursive only the top level is read.
    let assert = cmd().arg("validate").arg(&dir).args(["--format", "json"]).assert().code(2);
    let m: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(m["numberOfScannedFiles"], 2);
    assert_eq!(m["numberOfFilesReadWithCustomerError"], 1, "the broken gzip");
    let assert =
        cmd().arg("validate").arg(&dir).args(["--recursive", "--format", "json", "-o"]).arg(&out).assert().code(2);
    let m: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(m["numberOfScannedFiles"], 3);
    assert_eq!(m["numberOfResourcesScanned"], 161);
    assert_eq!(
        m["sizeOfScannedFilesInMB"].to_string(),
        fhir_preflight::format_mb((text.len() + top.len()) as u64),
        "decompressed bytes"
    );
    let failures = std::fs::read(out.join("FAILURE/2024/jan/patients.ndjson")).unwrap();
    assert_eq!(
        line_ids(&failures),
        vec![6, 11, 22, 31, 48],
        "the .gz is dropped from the record name, folders mirrored"
    );
}

#[test]
fn merged_shards_equal_the_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |dirs: &[&str], out: &Path| {
        let mut c = cmd();
        c.current_dir(fixtures()).arg("validate").args(dirs).arg("-o").arg(out);
        c.assert().code(1);
    };
    let (a, b, whole) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("whole"));
    run(&["edge"], &a);
    run(&["invalid"], &b);
    run(&["edge", "invalid"], &whole);
    let merged = tmp.path().join("merged");
    let assert = cmd().arg("merge").arg(&a).arg(b.join("manifest.json")).arg("-o").arg(&merged).assert().code(0);
    let whole_manifest = std::fs::read_to_string(whole.join("manifest.json")).unwrap();
    let merged_manifest = std::fs::read_to_string(merged.join("manifest.json")).unwrap();
    assert_eq!(assert.get_output().stdout, merged_manifest.as_bytes());
    let strip = |m: &str, dir: &Path| m.replace(&dir.display().to_string(), "OUT");
    assert_eq!(strip(&merged_manifest, &merged), strip(&whole_manifest, &whole), "merged shards = the whole");
    let mut whole_files = tree(&whole);
    let mut merged_files = tree(&merged);
    whole_files.remove("manifest.json");
    merged_files.remove("manifest.json");
    assert_eq!(merged_files, whole_files, "the records are gathered unchanged");
    // A record-name collision is refused.
    cmd().arg("merge").arg(&a).arg(&a).arg("-o").arg(tmp.path().join("twice")).assert().code(2).stdout("");
    // A file that is not a manifest is refused.
    cmd().arg("merge").arg(fixtures().join("edge/crlf.ndjson")).assert().code(2).stdout("");
}

#[test]
fn format_ndjson_one_diagnostic_per_line() {
    let assert =
        cmd().current_dir(fixtures()).args(["validate", "invalid/lines.ndjson", "--format", "ndjson"]).assert().code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    insta::assert_snapshot!(stdout);
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for key in
            ["file", "line", "column", "code", "key", "severity", "message", "path", "resourceType", "resourceId"]
        {
            assert!(keys.contains(&key), "{key} missing in {line}");
        }
    }
}

/// Snapshots of the machine formats on one fixture: the manifest (`json`), the OperationOutcome
/// Bundle and SARIF's results (its rule list is every diagnostic code, checked by the schema test).
#[test]
fn machine_format_snapshots() {
    let run = |format: &str| {
        let assert = cmd()
            .current_dir(fixtures())
            .args(["validate", "invalid/lines.ndjson", "--format", format])
            .assert()
            .code(1);
        serde_json::from_slice::<serde_json::Value>(&assert.get_output().stdout).expect("one JSON document")
    };
    insta::assert_json_snapshot!("format_json", run("json"));
    insta::assert_json_snapshot!("format_operationoutcome", run("operationoutcome"));
    let sarif = run("sarif");
    insta::assert_json_snapshot!(
        "format_sarif_results",
        serde_json::json!({"version": sarif["version"], "results": sarif["runs"][0]["results"]})
    );
}

#[test]
fn format_operationoutcome_is_a_bundle_fhir_preflight_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let assert =
        cmd().arg("validate").arg(fixtures().join("invalid")).args(["--format", "operationoutcome"]).assert().code(1);
    let stdout = assert.get_output().stdout.clone();
    let bundle: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 24, "one OperationOutcome per failed line, and one for the file's notes");
    assert!(entries.iter().all(|e| e["fullUrl"].as_str().unwrap().starts_with("urn:uuid:")));
    // The report is itself valid FHIR R4 for fhir-preflight.
    let file = tmp.path().join("report.ndjson");
    std::fs::write(&file, &stdout).unwrap();
    cmd().arg("validate").arg(&file).args(["--format", "json"]).assert().code(0);
}

/// The SARIF 2.1.0 schema from the `serde-sarif` crate's sources (a registry package), located
/// with `cargo metadata`.
fn sarif_schema() -> serde_json::Value {
    let metadata = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("sarif schema");
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).expect("sarif schema");
    let package = metadata["packages"]
        .as_array()
        .expect("sarif schema")
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif");
    let manifest = Path::new(package["manifest_path"].as_str().expect("sarif schema"));
    let schema = manifest.parent().expect("sarif schema").join("src/schema.json");
    serde_json::from_slice(&std::fs::read(schema).expect("sarif schema")).expect("sarif schema")
}

#[test]
fn format_sarif_validates_against_the_sarif_2_1_0_schema() {
    let assert = cmd()
        .current_dir(fixtures())
        .args(["validate", "invalid", "edge/blank-lines.ndjson", "--format", "sarif"])
        .assert()
        .code(1);
    let sarif: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let schema = sarif_schema();
    assert!(schema["title"].as_str().unwrap().contains("2.1.0"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&sarif).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "json/syntax"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "invalid/lines.ndjson"));
    assert!(results.iter().any(|r| r["ruleId"] == "ndjson/blank-line" && r["level"] == "warning"));
}

#[test]
fn warnings_for_mixed_types_duplicates_and_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}\n{\"resourceType\":\"Patient\",\"id\":\"a\"}\n";
    std::fs::write(tmp.path().join("one.ndjson"), text).unwrap();
    std::fs::write(tmp.path().join("two.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n").unwrap();
    let assert = cmd().arg("validate").arg(tmp.path()).args(["--warn-file-size", "100"]).assert().code(0);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("warning[ndjson/mixed-types] the file holds 2 resource types (Observation, Patient)"),
        "{stdout}"
    );
    assert!(stdout.contains("warning[ndjson/duplicate-id] 2 lines repeat a (resourceType, id)"), "{stdout}");
    assert!(stdout.contains("one.ndjson:3 Patient/a") && stdout.contains("two.ndjson:1 Patient/a"), "{stdout}");
    assert!(stdout.contains("warning[healthlake/limit] the file is 149 bytes"), "{stdout}");
    assert_eq!(stdout.matches("warning[healthlake/limit]").count(), 1, "only the file over the threshold");
}

#[test]
fn colors_only_when_asked_or_on_a_terminal() {
    let run = |args: &[&str], no_color: bool| {
        let mut c = cmd();
        c.arg("validate").arg(fixtures().join("invalid/lines.ndjson")).args(args);
        if no_color {
            c.env("NO_COLOR", "1");
        }
        String::from_utf8(c.assert().code(1).get_output().stdout.clone()).unwrap()
    };
    assert!(run(&["--color", "always"], false).contains("\x1b[1;31mfatal\x1b[0m"));
    assert!(!run(&[], false).contains('\x1b'), "piped: no color");
    assert!(!run(&["--color", "never"], false).contains('\x1b'));
    assert!(!run(&[], true).contains('\x1b'));
}

/// Every `.expect` token (`code`, `code[key]`, `code:warning`) of the rule fixtures, as the CLI
/// reports it (`--format ndjson`: code, HL7 key, severity, line), and the exit code.
#[test]
fn rule_fixtures_get_their_expected_code_key_and_severity() {
    let dir = fixtures().join("rules");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let expect = entry.unwrap().path();
        if expect.extension().is_none_or(|e| e != "expect") {
            continue;
        }
        let input = expect.with_extension("ndjson");
        let output = cmd().arg("validate").arg(&input).args(["--format", "ndjson"]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", input.display());
        let got: Vec<serde_json::Value> =
            String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        for row in std::fs::read_to_string(&expect).unwrap().lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let (line, tokens) = row.split_once('\t').unwrap();
            let line: u64 = line.parse().unwrap();
            for token in tokens.split(',') {
                let (rest, severity) = token.split_once(':').unwrap_or((token, "error"));
                let (code, key) = match rest.split_once('[') {
                    Some((code, key)) => (code, Some(key.trim_end_matches(']'))),
                    None => (rest, None),
                };
                let found = got.iter().any(|d| {
                    d["line"] == line
                        && d["code"] == code
                        && (d["severity"] == severity || severity == "error" && d["severity"] == "fatal")
                        && key.is_none_or(|k| d["key"] == k)
                });
                assert!(found, "{}:{line}: no {token} in the CLI's output", input.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 12, "only {checked} expectations");
}

/// `--level minimal` turns invariant errors into warnings; `structure-only` and `strict` keep them.
#[test]
fn minimal_makes_invariant_errors_warnings() {
    let input = fixtures().join("rules/invariants-and-bundles.ndjson");
    let severities = |level: &str| -> (Option<i32>, Vec<String>) {
        let output = cmd().arg("validate").arg(&input).args(["--format", "ndjson", "--level", level]).output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let per_1: Vec<String> = stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|d| d["key"] == "per-1")
            .map(|d| d["severity"].as_str().unwrap().to_owned())
            .collect();
        (output.status.code(), per_1)
    };
    assert_eq!(severities("minimal"), (Some(0), vec!["warning".to_owned()]));
    assert_eq!(severities("structure-only"), (Some(1), vec!["error".to_owned()]));
    assert_eq!(severities("strict"), (Some(1), vec!["error".to_owned()]));
}

/// Codes bound to a value set that cannot be expanded offline (US Core 7.0.0's birth sex, bound
/// to a VSAC value set the package does not hold) are not guessed: one run note counts them,
/// once per run, in the human report and in the streamed formats, and the lines are imported.
#[test]
fn unexpandable_bindings_are_one_run_note() {
    let dir = tempfile::tempdir().unwrap();
    let line = |id: &str, sex: &str| {
        format!(
            r#"{{"resourceType":"Patient","id":"{id}","meta":{{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|7.0.0"]}},"extension":[{{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex","valueCode":"{sex}"}}],"identifier":[{{"system":"http://x","value":"1"}}],"name":[{{"family":"A"}}],"gender":"female"}}"#
        )
    };
    let input = dir.path().join("patients.ndjson");
    std::fs::write(&input, format!("{}\n{}\n{}\n", line("a", "F"), line("b", "M"), line("c", "UNK"))).unwrap();
    let out = cmd().arg("validate").arg(&input).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let notes: Vec<&str> = text.lines().filter(|l| l.contains("profile/binding-unchecked")).collect();
    assert_eq!(notes.len(), 1, "{text}");
    assert!(notes[0].contains("3 codes bound by a profile to 1 value set"), "{}", notes[0]);
    assert!(notes[0].contains("2.16.840.1.113762.1.4.1021.24 (3: not in the packages loaded)"), "{}", notes[0]);
    let out = cmd().arg("validate").arg(&input).arg("--format").arg("ndjson").output().unwrap();
    let streamed = String::from_utf8(out.stdout).unwrap();
    let run: Vec<serde_json::Value> = streamed
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|d| d["code"] == "profile/binding-unchecked")
        .collect();
    assert_eq!(run.len(), 1, "{streamed}");
    assert_eq!(run[0]["severity"], "information");
}

/// `--package FILE.tgz|DIR` loads another package's profiles (with its value sets, code systems
/// and extensions); `--us-core-version` picks the US Core of unversioned canonicals.
#[test]
fn packages_and_us_core_versions() {
    let input = fixtures().join("packages/preflight-test-ig.ndjson");
    let codes = |args: &[&str]| -> Vec<String> {
        let out = cmd().arg("validate").args(args).arg(&input).arg("--format").arg("ndjson").output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|d| d["line"].as_u64().is_some_and(|n| n > 0) && d["severity"] != "information")
            .map(|d| format!("{}:{}", d["line"], d["code"].as_str().unwrap_or_default()))
            .collect()
    };
    let expected = vec!["2:profile/min", "3:profile/binding", "4:profile/binding", "5:profile/extension-unknown"];
    for package in ["packages/preflight-test-ig", "packages/preflight.test.ig-1.0.0.tgz"] {
        let package = fixtures().join(package);
        assert_eq!(codes(&["--package", package.to_str().unwrap()]), expected, "{}", package.display());
    }
    // Without the package: each line says its profile was not checked.
    let without = codes(&[]);
    assert_eq!(without.len(), 5);
    assert!(without.iter().all(|c| c.ends_with("profile/unchecked")), "{without:?}");
    cmd()
        .arg("validate")
        .arg("--package")
        .arg(fixtures().join("example"))
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--package").and(predicate::str::contains("not a FHIR package")));
    // us-core-condition exists in US Core 3.1.1 (HealthLake's default), not in 6.1.0.
    let condition = fixtures().join("rules/us-core-profiles.ndjson");
    let line4 = |version: &str| -> Vec<String> {
        let out = cmd()
            .args(["validate", "--us-core-version", version, "--format", "ndjson"])
            .arg(&condition)
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|d| d["line"] == 4 && d["severity"] != "information")
            .map(|d| d["code"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(line4("3.1.1"), vec!["profile/min"]);
    assert_eq!(line4("6.1.0"), vec!["profile/unchecked"]);
}
