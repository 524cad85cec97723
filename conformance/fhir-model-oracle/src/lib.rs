//! The `fhir-model` crate (R4B) as an oracle for fhir-preflight (R4). `fhir-model` has no R4, so
//! the comparison is limited to resource types whose definitions are identical in R4 4.0.1 and
//! R4B 4.3.0 (same elements, cardinalities, types and required value sets, and only identical
//! datatypes; Extension differs only by the value types R4B added, which can only make fhir-model
//! accept more). `fhir-model` ignores unknown properties and stops at the first error, so only one
//! direction is a rule: fhir-model rejects ⇒ fhir-preflight reports an error. The other direction
//! is counted per category.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

type Signature = Vec<(String, u64, String, Vec<String>, String, String)>;

fn signature(sd: &Value) -> Signature {
    sd["snapshot"]["element"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut types: Vec<String> = e["type"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["code"].as_str().map(str::to_owned))
                .collect();
            types.sort();
            let required = if e["binding"]["strength"] == "required" {
                e["binding"]["valueSet"].as_str().unwrap_or("").split('|').next().unwrap_or("").to_owned()
            } else {
                String::new()
            };
            (
                e["path"].as_str().unwrap_or("").to_owned(),
                e["min"].as_u64().unwrap_or(0),
                e["max"].as_str().unwrap_or("").to_owned(),
                types,
                e["contentReference"].as_str().unwrap_or("").rsplit('#').next().unwrap_or("").to_owned(),
                required,
            )
        })
        .collect()
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_default()).unwrap_or(Value::Null)
}

/// R4 resource types whose definitions are identical in R4B.
pub fn identical_resource_types() -> Result<BTreeSet<String>, String> {
    let r4 = xtask::hl7::package_dir()?;
    let r4b = xtask::hl7::package_dir_of(xtask::hl7::R4B)?;
    let mut r4_sds: BTreeMap<String, Value> = BTreeMap::new();
    for bundle in ["Bundle-resources.json", "Bundle-types.json"] {
        for e in read(&r4.join(bundle))["entry"].as_array().into_iter().flatten() {
            let r = &e["resource"];
            if r["resourceType"] == "StructureDefinition" {
                r4_sds.insert(r["id"].as_str().unwrap_or("").to_owned(), r.clone());
            }
        }
    }
    let r4b_signature = |id: &str| -> Option<Signature> {
        let sd = read(&r4b.join(format!("StructureDefinition-{id}.json")));
        (sd["snapshot"].is_object()).then(|| signature(&sd))
    };
    let differing: BTreeSet<String> = r4_sds
        .iter()
        .filter(|(_, sd)| sd["kind"] == "complex-type" && sd["derivation"] == "specialization")
        .filter(|(id, sd)| *id != "Extension" && r4b_signature(id) != Some(signature(sd)))
        .map(|(id, _)| id.clone())
        .collect();
    let mut same = BTreeSet::new();
    for (id, sd) in &r4_sds {
        if sd["kind"] != "resource" || sd["abstract"] == true || sd["derivation"] != "specialization" {
            continue;
        }
        let sig = signature(sd);
        let uses_differing = sig.iter().any(|(_, _, _, types, _, _)| types.iter().any(|t| differing.contains(t)));
        if !uses_differing && r4b_signature(id) == Some(sig) {
            same.insert(id.clone());
        }
    }
    Ok(same)
}

/// Every `resourceType` in a resource (nested ones included).
pub fn resource_types_in(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(t)) = map.get("resourceType") {
                out.insert(t.clone());
            }
            map.values().for_each(|v| resource_types_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| resource_types_in(v, out)),
        _ => {}
    }
}

/// Does fhir-model (R4B) accept the resource?
pub fn model_accepts(line: &str) -> Result<(), String> {
    serde_json::from_str::<fhir_model::r4b::resources::Resource>(line).map(|_| ()).map_err(|e| e.to_string())
}
