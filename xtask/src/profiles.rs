//! `cargo xtask profile-conformance [--check]`: US Core, each version HealthLake supports, from
//! the official packages (`fixtures/packages/us-core/*.tgz`).
//!
//! 1. **Examples**: every example instance of each package (`package/example/*.json`), one
//!    minified line, validated with that version as the default: no error, except those listed in
//!    `conformance/us-core-xfail.tsv` (each with the rule HL7's example breaks).
//! 2. **Generated violations**, per profile, from an example that declares it and passes: each
//!    element whose `min` the profile raises, removed; each `fixed[x]` and `pattern[x]` value
//!    outside slices, changed; each required slice, its element's items removed; each closed
//!    slicing, an item of another type (a choice) or another value; each must be reported with
//!    the right code, and a `profile/min` or `profile/slice-min` with the element's id.
//!
//! Writes `conformance/us-core.txt` (counts and every failure); `--check` fails when it would
//! change, when an example outside the xfail list has an error, when a listed one passes, or when
//! a generated violation is not reported.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;

use fhir_preflight::{validate_bytes, LineResult, Options, Profiles, Severity};
use serde_json::Value;

use crate::hl7;

const VERSIONS: [&str; 5] = ["3.1.1", "4.0.0", "5.0.1", "6.1.0", "7.0.0"];

/// The JSON files of a package archive under `package/` (and `package/example/`), by name.
fn archive(path: &std::path::Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files = BTreeMap::new();
    for entry in tar.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let name = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
        files.insert(name, data);
    }
    Ok(files)
}

/// An error found on a line: `(code, path, message)`.
type Found = (String, String, String);

fn errors(line: &[u8], options: &Options) -> Vec<Found> {
    let mut out = Vec::new();
    let mut sink = |l: &LineResult<'_>| {
        for d in l.diagnostics.iter().filter(|d| d.severity() >= Severity::Error) {
            out.push((d.code().as_str().to_owned(), d.path().unwrap_or_default(), d.message()));
        }
    };
    let mut input = line.to_vec();
    input.push(b'\n');
    validate_bytes(&input, options, &mut sink);
    out
}

fn declared(resource: &Value) -> Vec<String> {
    resource
        .get("meta")
        .and_then(|m| m.get("profile"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| s.split('|').next().unwrap_or(s).to_owned())
        .collect()
}

/// One generated violation and what it must give.
struct Violation {
    what: String,
    line: Vec<u8>,
    /// The codes that report it (a value of a type a closed type slicing excludes is also one the
    /// narrowed choice does not allow).
    code: &'static [&'static str],
    /// A text the finding's message must hold (the element's or slice's id).
    mentions: String,
}

/// The items at a JSON path of element names below `value` (`value[x]`: any `valueX` key).
fn items_mut<'v>(value: &'v mut Value, names: &[&str], out: &mut Vec<&'v mut Value>) {
    let Some((first, rest)) = names.split_first() else {
        out.push(value);
        return;
    };
    let Value::Object(map) = value else { return };
    for (key, v) in map.iter_mut() {
        if !key_is(key, first) {
            continue;
        }
        match v {
            Value::Array(items) => {
                for item in items {
                    items_mut(item, rest, out);
                }
            }
            one => items_mut(one, rest, out),
        }
    }
}

fn key_is(key: &str, name: &str) -> bool {
    match name.strip_suffix("[x]") {
        Some(stem) => {
            key.len() > stem.len()
                && key.starts_with(stem)
                && key[stem.len()..].starts_with(|c: char| c.is_ascii_uppercase())
        }
        None => key == name,
    }
}

/// Remove the members named `name` from every object at `parent` (a path of names).
fn remove(resource: &mut Value, parent: &[&str], name: &str) -> bool {
    let mut removed = false;
    let mut parents = Vec::new();
    items_mut(resource, parent, &mut parents);
    for p in parents {
        if let Value::Object(map) = p {
            // The value and its `_x` (a primitive's extensions count as an item).
            let keys: Vec<String> = map
                .keys()
                .filter(|k| key_is(k, name) || k.strip_prefix('_').is_some_and(|k| key_is(k, name)))
                .cloned()
                .collect();
            for k in keys {
                map.remove(&k);
                removed = true;
            }
        }
    }
    removed
}

/// Change every primitive at `path` (`fixed[x]`): strings get a suffix, numbers grow, booleans flip.
fn change(resource: &mut Value, path: &[&str]) -> bool {
    let mut found = Vec::new();
    items_mut(resource, path, &mut found);
    let mut changed = false;
    for v in found {
        changed |= change_value(v);
    }
    changed
}

fn change_value(v: &mut Value) -> bool {
    match v {
        Value::String(s) => {
            s.push_str("-changed");
            true
        }
        Value::Number(n) => {
            *v = Value::from(n.as_f64().unwrap_or(0.0) + 1.0);
            true
        }
        Value::Bool(b) => {
            *b = !*b;
            true
        }
        // A pattern's codings: change each code.
        Value::Object(map) => {
            let mut changed = false;
            for (k, inner) in map.iter_mut() {
                if k == "code" || k == "system" || k == "value" {
                    changed |= change_value(inner);
                } else if let Value::Array(items) = inner {
                    for i in items {
                        changed |= change_value(i);
                    }
                } else if inner.is_object() {
                    changed |= change_value(inner);
                }
            }
            changed
        }
        Value::Array(items) => {
            let mut changed = false;
            for i in items {
                changed |= change_value(i);
            }
            changed
        }
        Value::Null => false,
    }
}

fn minified(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// The elements of a snapshot that violations are made from.
fn violations(sd: &Value, example: &Value, url: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(elements) = sd.get("snapshot").and_then(|s| s.get("element")).and_then(Value::as_array) else {
        return out;
    };
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let num = |e: &Value, k: &str| e.get(k).and_then(Value::as_u64).unwrap_or(0);
    for e in elements {
        let id = text(e, "id");
        let path = text(e, "path");
        let segments: Vec<&str> = path.split('.').skip(1).collect();
        if segments.is_empty() || segments.len() > 3 {
            continue;
        }
        let in_slice = id.contains(':');
        let (parent, name) = segments.split_at(segments.len() - 1);
        let base_min = e.get("base").map_or(0, |b| num(b, "min"));
        // A raised min, outside slices: remove the element everywhere.
        if !in_slice && num(e, "min") > base_min && !name[0].starts_with("id") {
            let mut mutated = example.clone();
            if remove(&mut mutated, parent, name[0]) {
                out.push(Violation {
                    what: format!("{url}: {id} removed"),
                    line: minified(&mutated),
                    code: &["profile/min"],
                    mentions: format!("{id}: minimum required"),
                });
            }
        }
        // A fixed or pattern value inside a slice: changed on every item of the sliced element
        // (the items no longer match the slice when the value is its discriminator).
        if in_slice && segments.len() > 1 {
            let kind = e
                .as_object()
                .and_then(|o| o.keys().find(|k| k.starts_with("fixed") || k.starts_with("pattern")).cloned());
            let slice = id.split('.').find_map(|s| s.split_once(':')).map(|(_, s)| s.to_owned());
            // Only a required slice: an item that no longer matches an optional one is allowed.
            let slice_id = id.find(':').map(|c| &id[..c + id[c..].find('.').unwrap_or(id.len() - c)]);
            let required = slice_id.is_some_and(|sid| {
                elements.iter().any(|x| x.get("id").and_then(Value::as_str) == Some(sid) && num(x, "min") >= 1)
            });
            if let (Some(kind), Some(slice), true) = (kind, slice, required) {
                let mut mutated = example.clone();
                if change(&mut mutated, &segments) {
                    out.push(Violation {
                        what: format!("{url}: {id} {kind} changed (slice {slice})"),
                        line: minified(&mutated),
                        code: &["profile/slice-min", "profile/fixed", "profile/pattern", "profile/min"],
                        mentions: String::new(),
                    });
                }
            }
        }
        // A fixed or pattern value outside slices: changed.
        if !in_slice {
            let kind = e
                .as_object()
                .and_then(|o| o.keys().find(|k| k.starts_with("fixed") || k.starts_with("pattern")).cloned());
            if let Some(kind) = kind {
                let mut mutated = example.clone();
                if change(&mut mutated, &segments) {
                    let code: &[&str] =
                        if kind.starts_with("fixed") { &["profile/fixed"] } else { &["profile/pattern"] };
                    out.push(Violation {
                        what: format!("{url}: {id} {kind} changed"),
                        line: minified(&mutated),
                        code,
                        mentions: String::new(),
                    });
                }
            }
        }
        // A required slice: its element's items removed.
        if let (Some(slice), true) = (e.get("sliceName").and_then(Value::as_str), num(e, "min") >= 1) {
            let sliced = id.rsplit_once(':').map_or(id.as_str(), |(head, _)| head);
            if sliced.contains(':') || segments.len() > 2 {
                continue; // a slice inside a slice, or deep: left to the unit tests
            }
            let mut mutated = example.clone();
            if remove(&mut mutated, parent, name[0]) {
                out.push(Violation {
                    what: format!("{url}: slice {slice} of {sliced} removed"),
                    line: minified(&mutated),
                    code: &["profile/slice-min"],
                    mentions: format!("Slice '{id}'"),
                });
            }
        }
        // A closed type slicing of a choice: a value of another type.
        let closed_type = e.get("slicing").is_some_and(|s| {
            s.get("rules").and_then(Value::as_str) == Some("closed")
                && s.get("discriminator")
                    .and_then(Value::as_array)
                    .is_some_and(|d| d.iter().any(|d| d.get("type").and_then(Value::as_str) == Some("type")))
        });
        if closed_type && !in_slice && name[0].ends_with("[x]") && parent.is_empty() {
            let allowed: Vec<String> = e
                .get("type")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("code").and_then(Value::as_str))
                .map(str::to_lowercase)
                .collect();
            let stem = name[0].trim_end_matches("[x]");
            // A type R4 allows for the choices US Core slices this way (value[x], effective[x]),
            // and the profile does not.
            let candidates = if stem == "effective" {
                vec![
                    ("Period", serde_json::json!({"start": "2020-01-01"})),
                    ("Instant", Value::String("2020-01-01T00:00:00Z".into())),
                ]
            } else {
                vec![("String", Value::String("x".into())), ("Period", serde_json::json!({"start": "2020-01-01"}))]
            };
            let other = candidates.into_iter().find(|(t, _)| !allowed.contains(&t.to_lowercase()));
            let mut mutated = example.clone();
            if let (Some((ty, value)), true) = (other, remove(&mut mutated, parent, name[0])) {
                if let Value::Object(map) = &mut mutated {
                    map.insert(format!("{stem}{ty}"), value);
                }
                out.push(Violation {
                    what: format!("{url}: {id} of another type ({ty})"),
                    line: minified(&mutated),
                    code: &["profile/slice-closed", "profile/type"],
                    mentions: String::new(),
                });
            }
        }
    }
    out
}

/// `version<TAB>file<TAB>code<TAB>reason` → the `(version, file, code)` expected to fail.
fn xfail(root: &std::path::Path) -> Result<BTreeSet<(String, String, String)>, String> {
    let path = root.join("conformance/us-core-xfail.tsv");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cells = l.split('\t');
            Some((cells.next()?.to_owned(), cells.next()?.to_owned(), cells.next()?.to_owned()))
        })
        .collect())
}

pub fn run(check: bool) -> Result<(), String> {
    let root = hl7::workspace_root();
    let expected_failures = xfail(&root)?;
    let mut report = String::new();
    let mut problems = Vec::new();
    let mut failing = BTreeSet::new();
    let _ = writeln!(report, "# cargo xtask profile-conformance: US Core's examples and generated violations");
    for version in VERSIONS {
        let files = archive(&root.join(format!("fixtures/packages/us-core/hl7.fhir.us.core-{version}.tgz")))?;
        let options =
            Options::default().with_threads(1).with_profiles(Profiles::default().with_us_core_version(version)?);
        let sds: BTreeMap<String, Value> = files
            .iter()
            .filter(|(name, _)| name.starts_with("package/StructureDefinition-"))
            .filter_map(|(_, bytes)| serde_json::from_slice::<Value>(bytes).ok())
            .filter(|sd| sd.get("kind").and_then(Value::as_str) == Some("resource"))
            .filter_map(|sd| Some((sd.get("url")?.as_str()?.to_owned(), sd)))
            .collect();
        // 1. The examples.
        let (mut passed, mut total, mut profiled) = (0, 0, 0);
        let mut clean: BTreeMap<String, Value> = BTreeMap::new();
        for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("package/example/") && !n.contains("/.")) {
            let Ok(example) = serde_json::from_slice::<Value>(bytes) else { continue };
            let file = name.trim_start_matches("package/example/").to_owned();
            total += 1;
            let profiles = declared(&example);
            if profiles.iter().any(|p| sds.contains_key(p)) {
                profiled += 1;
            }
            let found = errors(&minified(&example), &options);
            if found.is_empty() {
                passed += 1;
                for p in profiles {
                    clean.entry(p).or_insert_with(|| example.clone());
                }
                continue;
            }
            for (code, path, message) in &found {
                let key = (version.to_owned(), file.clone(), code.clone());
                let _ = writeln!(report, "{version}\t{file}\t{code}\t{path}\t{message}");
                if !expected_failures.contains(&key) {
                    problems.push(format!("US Core {version} example {file}: {code} at {path}: {message}"));
                }
                failing.insert(key);
            }
        }
        let _ = writeln!(
            report,
            "US Core {version}: examples {passed}/{total} without error ({profiled} declare one of its profiles)"
        );
        // 2. Generated violations.
        let mut by_code: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut without_example = 0;
        for (url, sd) in &sds {
            let Some(example) = clean.get(url) else {
                without_example += 1;
                continue;
            };
            for v in violations(sd, example, url) {
                let found = errors(&v.line, &options);
                let ok = found
                    .iter()
                    .any(|(code, _, message)| v.code.contains(&code.as_str()) && message.contains(&v.mentions));
                let entry = by_code.entry(v.code[0]).or_default();
                entry.0 += 1;
                if ok {
                    entry.1 += 1;
                } else {
                    let got: Vec<String> = found.iter().map(|(c, p, _)| format!("{c} at {p}")).collect();
                    let _ =
                        writeln!(report, "{version}\tnot reported\t{}\t{}\tgot: {}", v.what, v.code[0], got.join("; "));
                    problems.push(format!(
                        "US Core {version}: {} should give {}; got {}",
                        v.what,
                        v.code[0],
                        got.join("; ")
                    ));
                }
            }
        }
        let counts: Vec<String> = by_code.iter().map(|(c, (n, ok))| format!("{c} {ok}/{n}")).collect();
        let _ = writeln!(
            report,
            "US Core {version}: generated violations reported: {} ({} profiles without a passing example)",
            counts.join(", "),
            without_example
        );
    }
    for listed in expected_failures.difference(&failing) {
        problems.push(format!("listed in conformance/us-core-xfail.tsv but passes: {listed:?}"));
    }
    let path = root.join("conformance/us-core.txt");
    if check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != report {
            problems.push(format!("{} is out of date: run cargo xtask profile-conformance", path.display()));
        }
    } else {
        std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprint!("{}", report.lines().filter(|l| l.starts_with("US Core")).map(|l| format!("{l}\n")).collect::<String>());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} problems:\n{}", problems.len(), problems.join("\n")))
    }
}
