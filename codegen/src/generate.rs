//! `cargo codegen [--check]`: the R4 lookup tables of the core, generated from HL7's
//! StructureDefinitions and required-binding expansions (`hl7.fhir.r4.examples@4.0.1`), written
//! to `crates/fhir-preflight/src/model/r4/generated.rs`. Deterministic: same package, same bytes. With
//! `--check` it regenerates in memory and fails if the committed file differs (drift).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::hl7;

pub fn output_path() -> PathBuf {
    hl7::workspace_root().join("crates/fhir-preflight/src/model/r4/generated.rs")
}

pub fn run(check: bool) -> Result<(), String> {
    let pkg = hl7::package_dir()?;
    let code = generate(&pkg)?;
    let path = output_path();
    if check {
        let current = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if current != code {
            return Err(format!("{} is out of date: run `cargo codegen`", path.display()));
        }
        eprintln!("{} is up to date", path.display());
    } else {
        std::fs::write(&path, code).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

const PRIMITIVES: &[(&str, &str)] = &[
    ("base64Binary", "Base64Binary"),
    ("boolean", "Boolean"),
    ("canonical", "Canonical"),
    ("code", "Code"),
    ("date", "Date"),
    ("dateTime", "DateTime"),
    ("decimal", "Decimal"),
    ("id", "Id"),
    ("instant", "Instant"),
    ("integer", "Integer"),
    ("markdown", "Markdown"),
    ("oid", "Oid"),
    ("positiveInt", "PositiveInt"),
    ("string", "String"),
    ("time", "Time"),
    ("unsignedInt", "UnsignedInt"),
    ("uri", "Uri"),
    ("url", "Url"),
    ("uuid", "Uuid"),
    ("xhtml", "Xhtml"),
];

fn prim_variant(code: &str) -> Option<&'static str> {
    PRIMITIVES.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
}

/// A StructureDefinition we generate a type from.
struct Sd<'a> {
    name: String,
    kind: &'static str,
    elements: &'a [Value],
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn structure_definitions(bundle: &Value) -> impl Iterator<Item = &Value> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["resource"])
        .filter(|r| str_of(r, "resourceType") == Some("StructureDefinition"))
}

fn collect_sds<'a>(resources: &'a Value, types: &'a Value) -> Result<Vec<Sd<'a>>, String> {
    let mut sds = Vec::new();
    for sd in structure_definitions(types) {
        let kind = str_of(sd, "kind").unwrap_or("");
        let derivation = str_of(sd, "derivation");
        let id = str_of(sd, "id").unwrap_or("");
        // Element itself is needed for primitive extensions (`_x`): id + extension.
        let wanted = (kind == "complex-type" && derivation == Some("specialization") && sd["abstract"] == false)
            || id == "Element";
        if wanted {
            let elements = sd["snapshot"]["element"].as_array().ok_or(format!("{id}: no snapshot"))?;
            sds.push(Sd { name: id.to_owned(), kind: "Datatype", elements });
        }
    }
    for sd in structure_definitions(resources) {
        if str_of(sd, "kind") == Some("resource")
            && sd["abstract"] == false
            && str_of(sd, "derivation") == Some("specialization")
        {
            let id = str_of(sd, "id").unwrap_or("");
            let elements = sd["snapshot"]["element"].as_array().ok_or(format!("{id}: no snapshot"))?;
            sds.push(Sd { name: str_of(sd, "type").unwrap_or(id).to_owned(), kind: "Resource", elements });
        }
    }
    sds.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(sds)
}

struct GenProperty {
    key: String,
    element: usize,
    ty: String,
}

struct GenElement {
    name: String,
    required: bool,
    many: bool,
    binding: Option<String>,
    targets: Vec<String>,
}

struct GenType {
    name: String,
    kind: &'static str,
    elements: Vec<GenElement>,
    properties: Vec<GenProperty>,
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(p, _)| p)
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The FHIR type of a `type` entry: System.* types carry their FHIR type in an extension.
fn type_code(t: &Value) -> String {
    let code = str_of(t, "code").unwrap_or("");
    if code.starts_with("http://hl7.org/fhirpath/System.") {
        let fhir_type = t["extension"].as_array().into_iter().flatten().find_map(|e| {
            (str_of(e, "url") == Some("http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"))
                .then(|| str_of(e, "valueUrl").or_else(|| str_of(e, "valueUri")))
                .flatten()
        });
        return fhir_type.unwrap_or("string").to_owned();
    }
    code.to_owned()
}

pub fn generate(pkg: &Path) -> Result<String, String> {
    let resources = hl7::read_json(&pkg.join("Bundle-resources.json"))?;
    let types = hl7::read_json(&pkg.join("Bundle-types.json"))?;
    let expansions = hl7::read_json(&pkg.join("Bundle-valueset-expansions.json"))?;
    let sds = collect_sds(&resources, &types)?;
    let resource_count = sds.iter().filter(|s| s.kind == "Resource").count();
    if resource_count != 146 {
        return Err(format!("expected 146 R4 resource types, found {resource_count}"));
    }

    // Pass 1: every type's id. Datatypes, then resources (both by name), then backbone elements
    // in definition order.
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut order: Vec<(String, &'static str)> = Vec::new();
    for sd in &sds {
        ids.insert(sd.name.clone(), order.len());
        order.push((sd.name.clone(), sd.kind));
    }
    let mut backbones: Vec<(usize, String)> = Vec::new(); // (sd index, path)
    for (i, sd) in sds.iter().enumerate() {
        let parents: BTreeSet<&str> = sd.elements.iter().filter_map(|e| str_of(e, "path")).map(parent_of).collect();
        for e in sd.elements.iter().skip(1) {
            let path = str_of(e, "path").unwrap_or("");
            if parents.contains(path) {
                ids.insert(path.to_owned(), order.len());
                order.push((path.to_owned(), "Backbone"));
                backbones.push((i, path.to_owned()));
            }
        }
    }

    // Pass 2: elements and properties of every type.
    let mut required_vs: BTreeSet<String> = BTreeSet::new();
    let mut gen: Vec<GenType> = Vec::new();
    let mut build = |sd: &Sd<'_>, root: &str, kind: &'static str| -> Result<GenType, String> {
        let parents: BTreeSet<&str> = sd.elements.iter().filter_map(|e| str_of(e, "path")).map(parent_of).collect();
        let mut ty = GenType { name: root.to_owned(), kind, elements: Vec::new(), properties: Vec::new() };
        for e in sd.elements.iter().filter(|e| str_of(e, "path").map(parent_of) == Some(root)) {
            let path = str_of(e, "path").unwrap_or("");
            let name = path.rsplit('.').next().unwrap_or(path);
            let required = e["min"].as_u64().unwrap_or(0) >= 1;
            let many = str_of(e, "max") == Some("*");
            let binding = (str_of(&e["binding"], "strength") == Some("required"))
                .then(|| str_of(&e["binding"], "valueSet").map(|v| v.split('|').next().unwrap_or(v).to_owned()))
                .flatten();
            if let Some(vs) = &binding {
                required_vs.insert(vs.clone());
            }
            let mut targets = Vec::new();
            let index = ty.elements.len();
            let mut add = |key: String, t: String| ty.properties.push(GenProperty { key, element: index, ty: t });
            if let Some(reference) = str_of(e, "contentReference") {
                let target = reference.trim_start_matches('#');
                let id = ids.get(target).ok_or(format!("{path}: unknown contentReference {reference}"))?;
                add(name.to_owned(), format!("Ty::Complex({id})"));
            } else {
                let type_list = e["type"].as_array().ok_or(format!("{path}: no type"))?;
                let choice = name.strip_suffix("[x]");
                for t in type_list {
                    let code = type_code(t);
                    let ty_expr = if let Some(v) = prim_variant(&code) {
                        format!("Ty::Prim(Prim::{v})")
                    } else if code == "Resource" {
                        "Ty::Resource".to_owned()
                    } else if code == "BackboneElement" || (code == "Element" && parents.contains(path)) {
                        format!("Ty::Complex({})", ids.get(path).ok_or(format!("{path}: backbone without children"))?)
                    } else {
                        format!("Ty::Complex({})", ids.get(&code).ok_or(format!("{path}: unknown type {code}"))?)
                    };
                    if code == "Reference" {
                        for p in t["targetProfile"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                            targets.push(p.rsplit('/').next().unwrap_or(p).to_owned());
                        }
                    }
                    match choice {
                        Some(base) => add(format!("{base}{}", upper_first(&code)), ty_expr),
                        None => add(name.to_owned(), ty_expr),
                    }
                }
            }
            if targets.iter().any(|t| t == "Resource") {
                targets.clear();
            }
            ty.elements.push(GenElement { name: name.to_owned(), required, many, binding, targets });
        }
        if ty.properties.len() > 255 {
            return Err(format!("{root}: more than 255 properties"));
        }
        Ok(ty)
    };
    for sd in &sds {
        gen.push(build(sd, &sd.name.clone(), sd.kind)?);
    }
    for (i, path) in &backbones {
        gen.push(build(&sds[*i], path, "Backbone")?);
    }

    // Value sets of required bindings.
    let mut expansion_by_url: BTreeMap<&str, &Value> = BTreeMap::new();
    for e in expansions["entry"].as_array().into_iter().flatten() {
        if let Some(url) = str_of(&e["resource"], "url") {
            expansion_by_url.insert(url, &e["resource"]);
        }
    }
    let mut vs_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut vs_out = String::new();
    let mut vs_fns = String::new();
    for url in &required_vs {
        let kind = if url.ends_with("/mimetypes") {
            Some("MimeTypes")
        } else if url.ends_with("/ucum-units") {
            Some("Ucum")
        } else if expansion_by_url.contains_key(url.as_str()) {
            Some("Enumerated")
        } else {
            None
        };
        let Some(kind) = kind else { continue };
        let mut codes: BTreeSet<(String, String)> = BTreeSet::new();
        if kind == "Enumerated" {
            fn walk(contains: &Value, out: &mut BTreeSet<(String, String)>) {
                for c in contains.as_array().into_iter().flatten() {
                    if let Some(code) = str_of(c, "code") {
                        out.insert((code.to_owned(), str_of(c, "system").unwrap_or("").to_owned()));
                    }
                    walk(&c["contains"], out);
                }
            }
            walk(&expansion_by_url[url.as_str()]["expansion"]["contains"], &mut codes);
        }
        let index = vs_index.len();
        vs_index.insert(url.clone(), index);
        // Membership by a generated match (no string comparisons in a binary search): the code's
        // first position in the sorted `(code, system)` list.
        let mut first: Vec<(&str, usize)> = Vec::new();
        for (i, (c, _)) in codes.iter().enumerate() {
            if first.last().is_none_or(|(prev, _)| *prev != c.as_str()) && !c.is_empty() {
                first.push((c.as_str(), i));
            }
        }
        let member = if first.is_empty() {
            "no_codes".to_owned()
        } else {
            emit_lookup(&mut vs_fns, "", &format!("value_set_{index}"), "u16", &first);
            format!("value_set_{index}")
        };
        let codes: Vec<String> = codes.iter().map(|(c, s)| format!("({c:?}, {s:?})")).collect();
        let _ = writeln!(
            vs_out,
            "    ValueSet {{ url: {url:?}, kind: ValueSetKind::{kind}, codes: &[{}], member: {member} }},",
            codes.join(", ")
        );
    }

    let mut out = String::new();
    out.push_str("// @generated by `cargo codegen` from HL7's hl7.fhir.r4.examples@4.0.1 (FHIR R4 4.0.1):\n");
    out.push_str(
        "// package/Bundle-resources.json, Bundle-types.json and Bundle-valueset-expansions.json. DO NOT EDIT.\n",
    );
    out.push_str("// Checked for drift by `cargo codegen --check` and a test.\n\n");
    out.push_str(
        "use crate::model::types::{Binding, Element, Prim, Property, Role, Ty, TypeDef, TypeKind, ValueSet, ValueSetKind};\n\n",
    );
    let _ = writeln!(
        out,
        "/// Required value sets.\npub(crate) static VALUE_SETS: [ValueSet; {}] = [\n{vs_out}];\n",
        vs_index.len()
    );
    out.push_str("/// The membership test of a value set without codes (not enumerated).\nfn no_codes(_: &[u8]) -> Option<u16> {\n    None\n}\n\n");
    out.push_str(&vs_fns);
    let _ = writeln!(
        out,
        "/// Every resource, datatype and backbone element; indexes are type ids.\npub(crate) static TYPES: [TypeDef; {}] = [",
        gen.len()
    );
    for (i, t) in gen.iter().enumerate() {
        let _ = writeln!(out, "    // {i}");
        // Which elements are present in an object is a 64-bit mask in the walk.
        if t.elements.len() > 64 {
            return Err(format!("{} has {} elements; the walk's presence mask holds 64", t.name, t.elements.len()));
        }
        let required = t.elements.iter().enumerate().filter(|(_, e)| e.required).fold(0u64, |m, (i, _)| m | 1 << i);
        let _ = writeln!(
            out,
            "    TypeDef {{ name: {:?}, kind: TypeKind::{}, base: None, required: {required:#x}, lookup: lookup_{i}, elements: &[",
            t.name, t.kind
        );
        for e in &t.elements {
            let binding = match &e.binding {
                None => "Binding::None".to_owned(),
                Some(url) => match vs_index.get(url) {
                    Some(i) => format!("Binding::Required({i})"),
                    None => format!("Binding::Unchecked({url:?})"),
                },
            };
            let mut targets = Vec::new();
            for name in &e.targets {
                targets.push(ids.get(name).ok_or(format!("{}: unknown reference target {name}", t.name))?.to_string());
            }
            let role = match e.name.as_str() {
                "id" => "Id",
                "contained" => "Contained",
                "meta" => "Meta",
                "reference" => "Reference",
                "type" => "Type",
                "extension" => "Extension",
                "profile" => "Profile",
                "versionId" => "VersionId",
                "lastUpdated" => "LastUpdated",
                "security" => "Security",
                "url" => "Url",
                "value[x]" => "Value",
                _ => "Other",
            };
            let _ = writeln!(
                out,
                "        Element {{ name: {:?}, role: Role::{role}, choice: {}, required: {}, many: {}, binding: {binding}, targets: &[{}] }},",
                e.name,
                e.name.ends_with("[x]"),
                e.required,
                e.many,
                targets.join(", ")
            );
        }
        out.push_str("    ], properties: &[\n");
        for p in &t.properties {
            let _ = writeln!(out, "        Property {{ key: {:?}, element: {}, ty: {} }},", p.key, p.element, p.ty);
        }
        out.push_str("    ] },\n");
    }
    out.push_str("];\n\n");
    for (i, t) in gen.iter().enumerate() {
        let keys: Vec<(&str, usize)> = t.properties.iter().enumerate().map(|(j, p)| (p.key.as_str(), j)).collect();
        emit_lookup(&mut out, "", &format!("lookup_{i}"), "u8", &keys);
    }
    let resources: Vec<&(String, &str)> = order.iter().filter(|(_, k)| *k == "Resource").collect();
    let _ = writeln!(
        out,
        "/// The {} resource types with their type ids, sorted by name.\npub(crate) static RESOURCES: [(&str, u16); {}] = [",
        resources.len(),
        resources.len()
    );
    for (name, _) in resources {
        let _ = writeln!(out, "    ({name:?}, {}),", ids[name]);
    }
    out.push_str("];\n\n/// The type id of a resource type name.\n");
    let resource_keys: Vec<(&str, usize)> =
        order.iter().filter(|(_, k)| *k == "Resource").map(|(n, _)| (n.as_str(), ids[n])).collect();
    emit_lookup(&mut out, "pub(crate) ", "resource_type_id", "u16", &resource_keys);
    out.push_str("/// Type ids of datatypes and resources by name.\n#[allow(dead_code)]\npub(crate) mod ids {\n");
    for (name, kind) in &order {
        if *kind != "Backbone" {
            let _ = writeln!(out, "    pub(crate) const {}: u16 = {};", screaming(name), ids[name]);
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// A lookup function from a key to a value: a `match` on (length, first byte, last byte), which
/// compiles to a jump table, then one comparison (or a small `match` where keys share all three).
fn emit_lookup(out: &mut String, visibility: &str, name: &str, value_type: &str, keys: &[(&str, usize)]) {
    type Group<'k> = Vec<(&'k str, usize)>;
    let mut groups: BTreeMap<(usize, u8, u8), Group<'_>> = BTreeMap::new();
    for &(key, value) in keys {
        let b = key.as_bytes();
        groups.entry((b.len(), b[0], b[b.len() - 1])).or_default().push((key, value));
    }
    let _ = writeln!(out, "{visibility}fn {name}(key: &[u8]) -> Option<{value_type}> {{");
    out.push_str("    let (&first, &last) = (key.first()?, key.last()?);\n    match (key.len(), first, last) {\n");
    for ((len, first, last), members) in &groups {
        // Fixed-size array comparisons: the compiler turns them into a few integer compares
        // instead of calls to memcmp.
        let _ = writeln!(out, "        ({len}, {first}, {last}) => {{");
        let _ = writeln!(out, "            let key: &[u8; {len}] = key.try_into().ok()?;");
        for (key, value) in members {
            let _ = writeln!(out, "            if key == b{key:?} {{ return Some({value}); }}");
        }
        out.push_str("            None\n        }\n");
    }
    out.push_str("        _ => None,\n    }\n}\n\n");
}

fn screaming(name: &str) -> String {
    let mut s = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            s.push('_');
        }
        s.push(c.to_ascii_uppercase());
    }
    s
}

#[cfg(test)]
mod tests {
    /// The committed tables are what the generator makes from the pinned package (drift check).
    /// Fetches the package with npm on first use (cached under `.cache/hl7/`).
    #[test]
    fn generated_tables_are_up_to_date() {
        let pkg = crate::hl7::package_dir().expect("HL7 package (npm pack hl7.fhir.r4.examples@4.0.1)");
        let fresh = super::generate(&pkg).expect("generate");
        let committed = std::fs::read_to_string(super::output_path()).expect("read generated.rs");
        assert!(
            fresh == committed,
            "crates/fhir-preflight/src/model/r4/generated.rs is out of date: run `cargo codegen`"
        );
    }
}
