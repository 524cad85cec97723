//! StructureDefinition snapshots and value-set expansions (as HL7 packages ship them: Bundles of
//! resources) → [`Definitions`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    Constraint, ConstraintUse, Definitions, Element, Kind, Property, TypeDef, ValueSet, ValueSetKind, ValueType,
};

/// ele-1 (every element has a value or children) is on every element: the JSON shape enforces it.
const EVERY_ELEMENT: &str = "ele-1";

/// Constraint profiles of Quantity whose constraints apply where an element names them.
const QUANTITY_PROFILES: &[&str] = &["SimpleQuantity", "MoneyQuantity"];

/// The FHIR primitive types (with xhtml).
const PRIMITIVES: &[&str] = &[
    "base64Binary",
    "boolean",
    "canonical",
    "code",
    "date",
    "dateTime",
    "decimal",
    "id",
    "instant",
    "integer",
    "markdown",
    "oid",
    "positiveInt",
    "string",
    "time",
    "unsignedInt",
    "uri",
    "url",
    "uuid",
    "xhtml",
];

/// A StructureDefinition a type is read from.
struct Sd<'a> {
    /// The StructureDefinition's id.
    id: String,
    name: String,
    kind: Kind,
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
            sds.push(Sd { id: id.to_owned(), name: id.to_owned(), kind: Kind::Datatype, elements });
        }
    }
    for sd in structure_definitions(resources) {
        if str_of(sd, "kind") == Some("resource")
            && sd["abstract"] == false
            && str_of(sd, "derivation") == Some("specialization")
        {
            let id = str_of(sd, "id").unwrap_or("");
            let elements = sd["snapshot"]["element"].as_array().ok_or(format!("{id}: no snapshot"))?;
            sds.push(Sd {
                id: id.to_owned(),
                name: str_of(sd, "type").unwrap_or(id).to_owned(),
                kind: Kind::Resource,
                elements,
            });
        }
    }
    sds.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(sds)
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

/// Read the types of the StructureDefinition Bundles `resources` and `types` (FHIR's
/// `profiles-resources.json` and `profiles-types.json`), and the codes of their required value sets
/// from the expansion Bundle `expansions`. `expected_resources`: fail unless exactly that many
/// resource types are found (a guard against reading the wrong package).
pub fn read(
    resources: &Value,
    types: &Value,
    expansions: &Value,
    expected_resources: Option<usize>,
) -> Result<Definitions, String> {
    let sds = collect_sds(resources, types)?;
    let resource_count = sds.iter().filter(|s| s.kind == Kind::Resource).count();
    if let Some(expected) = expected_resources.filter(|&n| n != resource_count) {
        return Err(format!("expected {expected} resource types, found {resource_count}"));
    }

    // Pass 1: every type's id. Datatypes, then resources (both by name), then backbone elements
    // in definition order.
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut order: Vec<(String, Kind)> = Vec::new();
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
                order.push((path.to_owned(), Kind::Backbone));
                backbones.push((i, path.to_owned()));
            }
        }
    }

    // Pass 2: elements and properties of every type.
    let mut required_vs: BTreeSet<String> = BTreeSet::new();
    let mut out: Vec<TypeDef> = Vec::new();
    // Type-level constraints of each SD root and backbone element, by path (to skip them where an
    // element of that type repeats them in a snapshot).
    let mut type_level: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for sd in &sds {
        let parents: BTreeSet<&str> = sd.elements.iter().filter_map(|e| str_of(e, "path")).map(parent_of).collect();
        for e in sd.elements {
            let path = str_of(e, "path").unwrap_or("");
            if !path.contains('.') || parents.contains(path) {
                let name = if path.contains('.') { path } else { sd.name.as_str() };
                type_level.entry(name.to_owned()).or_default().extend(constraint_ids(e, &sd.id));
            }
        }
    }
    let quantity_profiles = quantity_profile_constraints(types);
    let mut build = |sd: &Sd<'_>, root: &str, kind: Kind| -> Result<TypeDef, String> {
        let parents: BTreeSet<&str> = sd.elements.iter().filter_map(|e| str_of(e, "path")).map(parent_of).collect();
        let mut ty = TypeDef {
            name: root.to_owned(),
            kind,
            elements: Vec::new(),
            properties: Vec::new(),
            constraints: Vec::new(),
        };
        if let Some(e) = sd.elements.iter().find(|e| str_of(e, "path") == Some(root)) {
            for id in constraint_ids(e, &sd.id) {
                ty.constraints.push(ConstraintUse { id, element: None });
            }
        }
        for e in sd.elements.iter().filter(|e| str_of(e, "path").map(parent_of) == Some(root)) {
            let path = str_of(e, "path").unwrap_or("");
            let name = path.rsplit('.').next().unwrap_or(path);
            let required = e["min"].as_u64().unwrap_or(0) >= 1;
            let many = str_of(e, "max") == Some("*");
            let required_binding = (str_of(&e["binding"], "strength") == Some("required"))
                .then(|| str_of(&e["binding"], "valueSet").map(|v| v.split('|').next().unwrap_or(v).to_owned()))
                .flatten();
            if let Some(vs) = &required_binding {
                required_vs.insert(vs.clone());
            }
            let mut targets = Vec::new();
            let index = ty.elements.len();
            let mut add = |key: String, value: ValueType| ty.properties.push(Property { key, element: index, value });
            if let Some(reference) = str_of(e, "contentReference") {
                let target = reference.trim_start_matches('#');
                let id = ids.get(target).ok_or(format!("{path}: unknown contentReference {reference}"))?;
                add(name.to_owned(), ValueType::Complex(*id));
            } else {
                let type_list = e["type"].as_array().ok_or(format!("{path}: no type"))?;
                let choice = name.strip_suffix("[x]");
                for t in type_list {
                    let code = type_code(t);
                    let value = if PRIMITIVES.contains(&code.as_str()) {
                        ValueType::Primitive(code.clone())
                    } else if code == "Resource" {
                        ValueType::Resource
                    } else if code == "BackboneElement" || (code == "Element" && parents.contains(path)) {
                        ValueType::Complex(*ids.get(path).ok_or(format!("{path}: backbone without children"))?)
                    } else {
                        ValueType::Complex(*ids.get(&code).ok_or(format!("{path}: unknown type {code}"))?)
                    };
                    if code == "Reference" {
                        for p in t["targetProfile"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                            targets.push(p.rsplit('/').next().unwrap_or(p).to_owned());
                        }
                    }
                    match choice {
                        Some(base) => add(format!("{base}{}", upper_first(&code)), value),
                        None => add(name.to_owned(), value),
                    }
                }
            }
            if targets.iter().any(|t| t == "Resource") {
                targets.clear();
            }
            // Constraints on this element itself (not on a backbone: those are its type's): the
            // ones its type does not bring, and those of a Quantity profile it names.
            if !parents.contains(path) {
                let own_types: Vec<String> = e["type"].as_array().into_iter().flatten().map(type_code).collect();
                let brought: BTreeSet<&String> = own_types.iter().filter_map(|t| type_level.get(t)).flatten().collect();
                for id in constraint_ids(e, &sd.id) {
                    if !brought.contains(&id) {
                        ty.constraints.push(ConstraintUse { id, element: Some(index) });
                    }
                }
                for t in e["type"].as_array().into_iter().flatten() {
                    for profile in t["profile"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                        let name = profile.rsplit('/').next().unwrap_or(profile);
                        for id in quantity_profiles.get(name).into_iter().flatten() {
                            if !ty.constraints.iter().any(|c| &c.id == id && c.element == Some(index)) {
                                ty.constraints.push(ConstraintUse { id: id.clone(), element: Some(index) });
                            }
                        }
                    }
                }
            }
            ty.elements.push(Element { name: name.to_owned(), required, many, required_binding, targets });
        }
        Ok(ty)
    };
    for sd in &sds {
        out.push(build(sd, &sd.name.clone(), sd.kind)?);
    }
    for (i, path) in &backbones {
        out.push(build(&sds[*i], path, Kind::Backbone)?);
    }
    for t in &out {
        for e in &t.elements {
            if let Some(unknown) = e.targets.iter().find(|name| !ids.contains_key(*name)) {
                return Err(format!("{}.{}: unknown reference target {unknown}", t.name, e.name));
            }
        }
    }

    // Value sets of required bindings: the ones that can be checked offline.
    let mut expansion_by_url: BTreeMap<&str, &Value> = BTreeMap::new();
    for e in expansions["entry"].as_array().into_iter().flatten() {
        if let Some(url) = str_of(&e["resource"], "url") {
            expansion_by_url.insert(url, &e["resource"]);
        }
    }
    let mut value_sets = Vec::new();
    for url in &required_vs {
        let kind = if url.ends_with("/mimetypes") {
            ValueSetKind::MimeTypes
        } else if url.ends_with("/ucum-units") {
            ValueSetKind::Ucum
        } else if expansion_by_url.contains_key(url.as_str()) {
            ValueSetKind::Enumerated
        } else {
            continue;
        };
        let mut codes: BTreeSet<(String, String)> = BTreeSet::new();
        if kind == ValueSetKind::Enumerated {
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
        value_sets.push(ValueSet { url: url.clone(), kind, codes: codes.into_iter().collect() });
    }
    let constraints = all_constraints(&[resources, types])?;
    for t in &out {
        if let Some(c) = t.constraints.iter().find(|c| constraints.binary_search_by(|d| d.id.cmp(&c.id)).is_err()) {
            return Err(format!("{}: constraint {} has no definition", t.name, c.id));
        }
    }
    Ok(Definitions { types: out, value_sets, constraints })
}

/// The StructureDefinition that defines a constraint met in `sd`'s snapshot: its `source`, else `sd`.
fn defined_in<'v>(c: &'v Value, sd: &'v str) -> &'v str {
    str_of(c, "source").map_or(sd, |s| s.rsplit('/').next().unwrap_or(s))
}

/// The ids (`key@StructureDefinition`) of the constraints with an expression on an element
/// definition of `sd` (ele-1 aside).
fn constraint_ids(e: &Value, sd: &str) -> Vec<String> {
    let mut ids: Vec<String> = e["constraint"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| str_of(c, "expression").is_some())
        .filter_map(|c| Some((str_of(c, "key")?, defined_in(c, sd))))
        .filter(|(k, _)| *k != EVERY_ELEMENT)
        .map(|(k, d)| format!("{k}@{d}"))
        .collect();
    ids.dedup();
    ids
}

/// The constraints the Quantity profiles (SimpleQuantity, MoneyQuantity) add over Quantity.
fn quantity_profile_constraints(types: &Value) -> BTreeMap<String, Vec<String>> {
    let mut quantity: BTreeSet<String> = BTreeSet::new();
    let mut out = BTreeMap::new();
    for sd in structure_definitions(types) {
        let id = str_of(sd, "id").unwrap_or("");
        let root = sd["snapshot"]["element"].as_array().and_then(|els| els.first());
        let keys = root.map(|r| constraint_ids(r, id)).unwrap_or_default();
        if id == "Quantity" {
            quantity.extend(keys);
        } else if QUANTITY_PROFILES.contains(&id) {
            out.insert(id.to_owned(), keys);
        }
    }
    for keys in out.values_mut() {
        keys.retain(|k| !quantity.contains(k));
    }
    out
}

/// Every constraint with an expression in the StructureDefinitions of `bundles`, by id; one id
/// with two expressions is an error.
fn all_constraints(bundles: &[&Value]) -> Result<Vec<Constraint>, String> {
    let mut by_id: BTreeMap<String, Constraint> = BTreeMap::new();
    for bundle in bundles {
        for sd in structure_definitions(bundle) {
            let id = str_of(sd, "id").unwrap_or("");
            for e in sd["snapshot"]["element"].as_array().into_iter().flatten() {
                for c in e["constraint"].as_array().into_iter().flatten() {
                    let (Some(key), Some(expression)) = (str_of(c, "key"), str_of(c, "expression")) else { continue };
                    let best_practice = c["extension"].as_array().into_iter().flatten().any(|x| {
                        str_of(x, "url")
                            == Some("http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice")
                            && x["valueBoolean"] == true
                    });
                    let def = defined_in(c, id);
                    let cid = format!("{key}@{def}");
                    let constraint = Constraint {
                        id: cid.clone(),
                        key: key.to_owned(),
                        severity: str_of(c, "severity").unwrap_or("error").to_owned(),
                        human: str_of(c, "human").unwrap_or("").to_owned(),
                        expression: expression.to_owned(),
                        best_practice,
                        defined_in: def.to_owned(),
                        path: str_of(e, "path").unwrap_or("").to_owned(),
                    };
                    // The definition's own element (not a copy in another snapshot) gives the path.
                    let own = def == id;
                    match by_id.get(&cid) {
                        Some(seen) if seen.expression != constraint.expression => {
                            return Err(format!("constraint {cid} has two expressions"));
                        }
                        Some(_) if !own => {}
                        _ => {
                            by_id.insert(cid, constraint);
                        }
                    }
                }
            }
        }
    }
    Ok(by_id.into_values().collect())
}
