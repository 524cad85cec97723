//! `cargo xtask defects`: a deterministic defect generator over HL7's official R4 examples. For
//! each example (except the conformance xfail list) and each kind of defect, it injects the defect
//! at the first eligible place (pre-order over the JSON, keys in sorted order, the types known from
//! the generated tables), validates all mutated lines, and checks that each defect is reported
//! with its code and FHIR path. One violation per evaluated invariant key comes from the differential
//! oracle's generator (`violations.rs`) and must be reported with its HL7 key and path. The originals
//! produce no error (the conformance run checks that).

use std::collections::BTreeSet;

use fhir_preflight::schema::{self, Kind};
use fhir_preflight::{validate_bytes, LineResult, Options};
use serde_json::Value;

use crate::route::{get, get_mut, Step};

/// The kinds of defect the issue lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Defect {
    UnknownDeep,
    MaxCardinality,
    MinCardinality,
    BadDate,
    DateTimeNoZone,
    BadRequiredCode,
    TwoChoices,
    NullInBoth,
    EmptyString,
    WrongReferenceType,
    WrongJsonKind,
    /// A violation of one invariant, by HL7 key (one per evaluated key: `violations.rs`, the
    /// differential oracle's generator).
    Invariant(&'static str),
}

pub const ALL: [Defect; 11] = [
    Defect::UnknownDeep,
    Defect::MaxCardinality,
    Defect::MinCardinality,
    Defect::BadDate,
    Defect::DateTimeNoZone,
    Defect::BadRequiredCode,
    Defect::TwoChoices,
    Defect::NullInBoth,
    Defect::EmptyString,
    Defect::WrongReferenceType,
    Defect::WrongJsonKind,
];

/// One injected defect: the mutated resource and the (code, path) it must get.
#[derive(Debug)]
pub struct Injected {
    pub defect: Defect,
    pub file: String,
    pub line: String,
    pub code: &'static str,
    pub path: String,
    /// For an invariant, HL7's key the diagnostic must carry.
    pub key: Option<&'static str>,
}

/// A place in the resource: the JSON pointer-like route, the FHIR path, and the type there.
struct Site {
    route: Vec<Step>,
    path: String,
    type_name: &'static str,
    depth: usize,
}

/// Every typed object of the resource, pre-order, keys sorted (serde_json's map order).
fn objects(value: &Value, type_name: &'static str, path: String, route: Vec<Step>, depth: usize, out: &mut Vec<Site>) {
    let Value::Object(map) = value else { return };
    out.push(Site { route: route.clone(), path: path.clone(), type_name, depth });
    for (key, child) in map {
        let Some(p) = schema::property(type_name, key) else { continue };
        let items: Vec<(Option<usize>, &Value)> = match child {
            Value::Array(items) => items.iter().enumerate().map(|(i, v)| (Some(i), v)).collect(),
            v => vec![(None, v)],
        };
        for (index, item) in items {
            let mut r = route.clone();
            r.push(Step::Key(key.clone()));
            let mut item_path = format!("{path}.{key}");
            if let Some(i) = index {
                r.push(Step::Index(i));
                item_path = format!("{item_path}[{i}]");
            }
            match p.kind {
                Kind::Complex(t) => objects(item, t, item_path, r, depth + 1, out),
                Kind::Resource => {
                    if let Some(t) = item.get("resourceType").and_then(Value::as_str).and_then(resource_type_name) {
                        objects(item, t, item_path, r, depth + 1, out);
                    }
                }
                Kind::Primitive(_) => {}
            }
        }
    }
}

fn resource_type_name(name: &str) -> Option<&'static str> {
    fhir_preflight::resource_types().find(|t| *t == name)
}

/// Every primitive property (single-valued, present) in `sites` whose type passes `want`, in
/// pre-order; the generator picks one of them by a hash of the file and the defect.
fn primitives<'s>(
    root: &Value,
    sites: &'s [Site],
    want: impl Fn(&schema::Property, &Value) -> bool,
) -> Vec<(&'s Site, schema::Property)> {
    let mut out = Vec::new();
    for site in sites {
        let Some(object) = get(root, &site.route).and_then(Value::as_object) else { continue };
        for (key, value) in object {
            // The line's own id follows HealthLake's rules (resource/id-*), not the type's.
            if site.route.is_empty() && key == "id" {
                continue;
            }
            if let Some(p) = schema::property(site.type_name, key) {
                if matches!(p.kind, Kind::Primitive(_)) && !p.many && want(&p, value) {
                    out.push((site, p));
                }
            }
        }
    }
    out
}

/// One of `items`, chosen by `seed`.
fn pick<T>(mut items: Vec<T>, seed: u64) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    let i = (seed % items.len() as u64) as usize;
    Some(items.swap_remove(i))
}

fn set(root: &mut Value, site: &Site, key: &str, value: Value) -> Option<()> {
    get_mut(root, &site.route)?.as_object_mut()?.insert(key.to_owned(), value);
    Some(())
}

/// Inject `defect` into `resource`; returns (code, path) it must produce.
fn inject(defect: Defect, resource: &mut Value, seed: u64) -> Option<(&'static str, String)> {
    let root_type = resource_type_name(resource.get("resourceType")?.as_str()?)?;
    let mut sites = Vec::new();
    objects(resource, root_type, root_type.to_owned(), Vec::new(), 0, &mut sites);
    let snapshot = resource.clone();
    match defect {
        // Made by `invariant_defects` from the oracle's generator, not injected here.
        Defect::Invariant(_) => None,
        Defect::UnknownDeep => {
            let deepest = sites.iter().max_by_key(|s| s.depth)?;
            set(resource, deepest, "zzUnknownElement", Value::from("x"))?;
            Some(("json/unknown-property", format!("{}.zzUnknownElement", deepest.path)))
        }
        Defect::MaxCardinality => {
            let (site, p) = pick(primitives(&snapshot, &sites, |_, v| v.is_string()), seed)?;
            let value = get(&snapshot, &site.route)?.get(p.key)?.clone();
            set(resource, site, p.key, Value::Array(vec![value]))?;
            Some(("json/expected-single", format!("{}.{}", site.path, p.key)))
        }
        Defect::MinCardinality => {
            let mut candidates = Vec::new();
            for site in &sites {
                let object = get(&snapshot, &site.route)?.as_object()?;
                if object.len() < 2 {
                    continue;
                }
                for k in object.keys() {
                    let required =
                        schema::property(site.type_name, k).is_some_and(|p| p.required && !p.element.ends_with("[x]"));
                    if required && !object.contains_key(&format!("_{k}")) {
                        candidates.push((site, k.clone()));
                    }
                }
            }
            let (site, key) = pick(candidates, seed)?;
            get_mut(resource, &site.route)?.as_object_mut()?.remove(&key);
            Some(("cardinality/min", site.path.clone()))
        }
        Defect::BadDate => {
            let (site, p) = pick(
                primitives(&snapshot, &sites, |p, v| {
                    matches!(p.kind, Kind::Primitive("date" | "dateTime")) && v.is_string()
                }),
                seed,
            )?;
            let bad = if p.kind == Kind::Primitive("date") { "2019-02-30" } else { "2019-02-30T10:00:00Z" };
            set(resource, site, p.key, Value::from(bad))?;
            Some(("primitive/date", format!("{}.{}", site.path, p.key)))
        }
        Defect::DateTimeNoZone => {
            let (site, p) = pick(
                primitives(&snapshot, &sites, |p, v| p.kind == Kind::Primitive("dateTime") && v.is_string()),
                seed,
            )?;
            set(resource, site, p.key, Value::from("2019-01-01T10:00:00"))?;
            Some(("primitive/datetime-no-tz", format!("{}.{}", site.path, p.key)))
        }
        Defect::BadRequiredCode => {
            let (site, p) =
                pick(primitives(&snapshot, &sites, |p, v| p.required_codes.is_some() && v.is_string()), seed)?;
            set(resource, site, p.key, Value::from("not-a-real-code"))?;
            Some(("binding/required", format!("{}.{}", site.path, p.key)))
        }
        Defect::TwoChoices => {
            for site in &sites {
                let object = get(&snapshot, &site.route)?.as_object()?;
                for key in object.keys() {
                    let Some(p) = schema::property(site.type_name, key) else { continue };
                    if !p.element.ends_with("[x]") {
                        continue;
                    }
                    let base = p.element.trim_end_matches("[x]");
                    let (other, value) = [("String", Value::from("x")), ("Boolean", Value::from(true))]
                        .into_iter()
                        .map(|(suffix, v)| (format!("{base}{suffix}"), v))
                        .find(|(k, _)| k != key && schema::property(site.type_name, k).is_some())?;
                    if object.contains_key(&other) {
                        continue;
                    }
                    let later = if other.as_str() > key.as_str() { other.clone() } else { key.clone() };
                    set(resource, site, &other, value)?;
                    return Some(("choice/multiple", format!("{}.{later}", site.path)));
                }
            }
            None
        }
        Defect::NullInBoth => {
            let site = sites.iter().find(|s| {
                s.type_name == "HumanName"
                    && get(&snapshot, &s.route).and_then(|v| v.get("given")).is_some_and(Value::is_array)
                    && get(&snapshot, &s.route).and_then(|v| v.get("_given")).is_none()
            })?;
            let name = get_mut(resource, &site.route)?.as_object_mut()?;
            let given = name.get_mut("given")?.as_array_mut()?;
            given.push(Value::Null);
            let len = given.len();
            name.insert("_given".to_owned(), Value::Array(vec![Value::Null; len]));
            Some(("json/null-in-both", site.path.clone()))
        }
        Defect::EmptyString => {
            let (site, p) = pick(
                primitives(&snapshot, &sites, |p, v| {
                    matches!(p.kind, Kind::Primitive("string" | "code" | "uri")) && v.is_string()
                }),
                seed,
            )?;
            set(resource, site, p.key, Value::from(""))?;
            Some(("primitive/empty", format!("{}.{}", site.path, p.key)))
        }
        Defect::WrongReferenceType => {
            for site in sites.iter().filter(|s| s.type_name == "Reference") {
                let Some(Step::Key(holder_key)) = site.route.iter().rev().find(|s| matches!(s, Step::Key(_))).cloned()
                else {
                    continue;
                };
                let parent_route: Vec<Step> = {
                    let mut r = site.route.clone();
                    while let Some(step) = r.pop() {
                        if matches!(step, Step::Key(_)) {
                            break;
                        }
                    }
                    r
                };
                let Some(parent) = sites.iter().find(|s| s.route == parent_route) else {
                    continue;
                };
                let Some(p) = schema::property(parent.type_name, &holder_key) else { continue };
                if p.targets.is_empty() || get(&snapshot, &site.route)?.get("type").is_some() {
                    continue;
                }
                let wrong = ["Basic", "Linkage", "Flag"].into_iter().find(|t| !p.targets.contains(t))?;
                set(resource, site, "type", Value::from(wrong))?;
                return Some(("reference/type-not-allowed", format!("{}.type", site.path)));
            }
            None
        }
        Defect::WrongJsonKind => {
            if let Some((site, p)) =
                pick(primitives(&snapshot, &sites, |p, v| p.kind == Kind::Primitive("boolean") && v.is_boolean()), seed)
            {
                let text = get(&snapshot, &site.route)?.get(p.key)?.to_string();
                set(resource, site, p.key, Value::from(text))?;
                return Some(("json/wrong-type", format!("{}.{}", site.path, p.key)));
            }
            let (site, p) = pick(
                primitives(&snapshot, &sites, |p, v| {
                    matches!(p.kind, Kind::Primitive("string" | "code")) && v.is_string()
                }),
                seed,
            )?;
            set(resource, site, p.key, Value::from(42))?;
            Some(("json/wrong-type", format!("{}.{}", site.path, p.key)))
        }
    }
}

/// Every defect: [`generate`]'s and one violation per evaluated invariant key
/// ([`invariant_defects`], which searches for a minute in a release build).
pub fn generate_all() -> Result<Vec<Injected>, String> {
    let mut out = generate()?;
    out.extend(invariant_defects()?);
    Ok(out)
}

/// Every defect of the eleven structural kinds injectable into the examples (largest files
/// skipped to keep the run short).
pub fn generate() -> Result<Vec<Injected>, String> {
    let pkg = crate::hl7::package_dir()?;
    let xfail_text =
        std::fs::read_to_string(crate::hl7::workspace_root().join("conformance/xfail.tsv")).unwrap_or_default();
    let xfail: BTreeSet<&str> = xfail_text.lines().filter_map(|l| l.split('\t').next()).collect();
    let mut names: Vec<String> = std::fs::read_dir(&pkg)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| {
            n.ends_with(".json") && !n.starts_with("Bundle-") && n != "package.json" && !xfail.contains(n.as_str())
        })
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let bytes = std::fs::read(pkg.join(&name)).map_err(|e| format!("{name}: {e}"))?;
        if bytes.len() > 100_000 {
            continue;
        }
        let original: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{name}: {e}"))?;
        for (n, defect) in ALL.into_iter().enumerate() {
            let mut mutated = original.clone();
            let seed =
                name.bytes().fold(n as u64 + 1, |h, b| h.wrapping_mul(0x100_0000_01b3).wrapping_add(u64::from(b)));
            if let Some((code, path)) = inject(defect, &mut mutated, seed) {
                let line = serde_json::to_string(&mutated).map_err(|e| e.to_string())?;
                out.push(Injected { defect, file: name.clone(), line, code, path, key: None });
            }
        }
    }
    Ok(out)
}

/// One violation per evaluated invariant key, each made from an HL7 example that holds the key
/// (the differential oracle's generator, `violations.rs`).
fn invariant_defects() -> Result<Vec<Injected>, String> {
    let pkg = crate::hl7::package_dir()?;
    let (names, input) = crate::conformance::examples(&pkg)?;
    let text = String::from_utf8(input).map_err(|e| e.to_string())?;
    let examples: Vec<(String, String)> = names.into_iter().zip(text.lines().map(str::to_owned)).collect();
    let evaluations: Vec<_> = examples.iter().map(|(_, l)| fhir_preflight::oracle::evaluations(l.as_bytes())).collect();
    let (generated, _) = crate::violations::generate(&examples, &evaluations);
    Ok(generated
        .into_iter()
        .map(|v| Injected {
            defect: Defect::Invariant(v.key),
            file: v.file,
            line: v.line,
            code: "invariant/failed",
            path: v.path,
            key: Some(v.key),
        })
        .collect())
}

/// Validate every injected defect; returns the ones not reported with their code and path.
pub fn missed(defects: &[Injected]) -> Vec<String> {
    let mut input = String::new();
    for d in defects {
        input.push_str(&d.line);
        input.push('\n');
    }
    type Found = (String, String, Option<String>);
    let mut found: Vec<Vec<Found>> = vec![Vec::new(); defects.len()];
    let mut sink = |line: &LineResult<'_>| {
        found[(line.line - 1) as usize] = line
            .diagnostics
            .iter()
            .map(|d| (d.code().as_str().to_owned(), d.path().clone().unwrap_or_default(), d.key().map(str::to_owned)))
            .collect();
    };
    validate_bytes(input.as_bytes(), &Options::default(), &mut sink);
    defects
        .iter()
        .zip(&found)
        .filter(|(d, f)| {
            // An invariant is matched by its key (ref-1 reports as reference/contained-unresolved).
            !f.iter().any(|(c, p, k)| (c == d.code || d.key.is_some()) && *p == d.path && k.as_deref() == d.key)
        })
        .map(|(d, f)| format!("{} {:?}: expected {} at {}, got {f:?}", d.file, d.defect, d.code, d.path))
        .collect()
}

pub fn run() -> Result<(), String> {
    let defects = generate_all()?;
    let mut per_kind = std::collections::BTreeMap::new();
    for d in &defects {
        let kind = match d.defect {
            Defect::Invariant(_) => "Invariant (one per key)".to_owned(),
            other => format!("{other:?}"),
        };
        *per_kind.entry(kind).or_insert(0) += 1;
    }
    // ≥ 1,000 defects over the examples, every kind injected somewhere. (This is checked here,
    // by the test command's `cargo xtask defects` in release, and not again by a unit test: in a
    // debug build the same run took 86 s of `cargo test`.)
    let plain = defects.iter().filter(|d| d.key.is_none()).count();
    if plain < 1000 {
        return Err(format!("only {plain} defects injected"));
    }
    if let Some(kind) = ALL.into_iter().find(|k| !defects.iter().any(|d| d.defect == *k)) {
        return Err(format!("{kind:?} is injected nowhere"));
    }
    let missed = missed(&defects);
    eprintln!("{} defects injected: {per_kind:?}", defects.len());
    if missed.is_empty() {
        eprintln!("every defect was reported with its code and path");
        Ok(())
    } else {
        Err(format!(
            "{} defects not reported:\n{}",
            missed.len(),
            missed.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        ))
    }
}
