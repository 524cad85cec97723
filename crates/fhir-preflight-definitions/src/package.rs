//! A FHIR package as the profile engine reads it: its name, version and dependencies, and the
//! conformance resources in it — StructureDefinitions (profiles and extensions, with snapshots),
//! ValueSets and CodeSystems. Read from the package's files (a `.tgz` as published, or the files
//! of one), or from the compact form this crate embeds for US Core (the same resources, with only
//! the fields the engine reads: `cargo codegen` writes it, see `us_core.rs`).
//!

use std::io::Read;

use serde_json::{Map, Value};

/// Why a package cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The bytes are not a gzip-compressed tar archive, or a member cannot be read.
    #[error("not a FHIR package (.tgz): {0}")]
    Archive(String),
    /// There is no `package/package.json`, or it has no name or version.
    #[error("not a FHIR package: {0}")]
    Manifest(String),
    /// A conformance resource is not valid JSON.
    #[error("{file}: not JSON: {reason}")]
    Json { file: String, reason: String },
}

/// A FHIR package (`hl7.fhir.us.core#3.1.1`, a customer's own IG), its conformance resources
/// read.
///
/// ```
/// use fhir_preflight_definitions::package::Package;
/// let files = vec![
///     ("package/package.json".to_owned(), br#"{"name":"example.ig","version":"1.0.0"}"#.to_vec()),
///     ("package/StructureDefinition-x.json".to_owned(),
///      br#"{"resourceType":"StructureDefinition","url":"http://example.org/x","type":"Patient"}"#.to_vec()),
/// ];
/// let package = Package::from_files(files)?;
/// assert_eq!((package.name(), package.version(), package.resources()), ("example.ig", "1.0.0", 1));
/// # Ok::<(), fhir_preflight_definitions::package::PackageError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// `(name, version)` of the packages it depends on.
    pub dependencies: Vec<(String, String)>,
    pub structure_definitions: Vec<Value>,
    pub value_sets: Vec<Value>,
    pub code_systems: Vec<Value>,
}

/// The resource types the engine reads from a package.
const READ: [&str; 3] = ["StructureDefinition", "ValueSet", "CodeSystem"];

impl Package {
    /// A package from its files (`package/package.json`, `package/StructureDefinition-….json`, …;
    /// names as in the archive). Other files (examples, search parameters) are ignored.
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Result<Package, PackageError> {
        let mut manifest = None;
        let mut package = Package {
            name: String::new(),
            version: String::new(),
            dependencies: Vec::new(),
            structure_definitions: Vec::new(),
            value_sets: Vec::new(),
            code_systems: Vec::new(),
        };
        for (name, bytes) in files {
            let Some(file) = name.strip_prefix("package/").or_else(|| name.strip_prefix("./package/")) else {
                continue;
            };
            if file.contains('/') || !file.ends_with(".json") {
                continue; // examples, other/, openapi/: not read
            }
            if file == "package.json" {
                manifest = Some(json(&name, &bytes)?);
                continue;
            }
            // Only the types read here are parsed (a package holds megabytes of others).
            if !READ.iter().any(|t| file.starts_with(&format!("{t}-"))) {
                continue;
            }
            package.add(json(&name, &bytes)?);
        }
        let manifest = manifest.ok_or_else(|| PackageError::Manifest("no package/package.json".into()))?;
        let text = |key: &str| manifest.get(key).and_then(Value::as_str).map(str::to_owned);
        package.name = text("name").ok_or_else(|| PackageError::Manifest("package.json has no name".into()))?;
        package.version =
            text("version").ok_or_else(|| PackageError::Manifest("package.json has no version".into()))?;
        if let Some(Value::Object(deps)) = manifest.get("dependencies") {
            package.dependencies =
                deps.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect();
        }
        Ok(package)
    }

    /// A package as published: a gzip-compressed tar archive (`.tgz`).
    pub fn from_tgz(bytes: &[u8]) -> Result<Package, PackageError> {
        let archive = |e: std::io::Error| PackageError::Archive(e.to_string());
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        let mut files = Vec::new();
        for entry in tar.entries().map_err(archive)? {
            let mut entry = entry.map_err(archive)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry.path().map_err(archive)?.to_string_lossy().into_owned();
            let wanted = name.ends_with("package.json")
                || READ.iter().any(|t| name.rsplit('/').next().is_some_and(|f| f.starts_with(&format!("{t}-"))));
            if !wanted {
                continue;
            }
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(archive)?;
            files.push((name, data));
        }
        Package::from_files(files)
    }

    /// The compact form (see the module documentation, and [`Package::to_compact`]).
    pub fn from_compact(text: &str) -> Result<Package, PackageError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| PackageError::Json { file: "compact package".into(), reason: e.to_string() })?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut package = Package {
            name: text("name"),
            version: text("version"),
            dependencies: Vec::new(),
            structure_definitions: Vec::new(),
            value_sets: Vec::new(),
            code_systems: Vec::new(),
        };
        for resource in value.get("resources").and_then(Value::as_array).into_iter().flatten() {
            package.add(resource.clone());
        }
        Ok(package)
    }

    fn add(&mut self, resource: Value) {
        match resource.get("resourceType").and_then(Value::as_str) {
            Some("StructureDefinition") => self.structure_definitions.push(resource),
            Some("ValueSet") => self.value_sets.push(resource),
            Some("CodeSystem") => self.code_systems.push(resource),
            _ => {}
        }
    }

    /// The package's name (`hl7.fhir.us.core`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The package's version (`3.1.1`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The number of conformance resources read (StructureDefinitions, ValueSets, CodeSystems).
    pub fn resources(&self) -> usize {
        self.structure_definitions.len() + self.value_sets.len() + self.code_systems.len()
    }

    /// The packages this one depends on: `(name, version)`.
    pub fn dependencies(&self) -> &[(String, String)] {
        &self.dependencies
    }

    /// The compact form of this package: its conformance resources with only the fields the
    /// engine reads (for the code generator, which embeds US Core so).
    pub fn to_compact(&self) -> String {
        let mut resources: Vec<Value> = Vec::new();
        let mut sds: Vec<&Value> = self.structure_definitions.iter().collect();
        sds.sort_by_key(|v| url_of(v));
        resources.extend(sds.into_iter().filter_map(compact_structure_definition));
        let mut vss: Vec<&Value> = self.value_sets.iter().collect();
        vss.sort_by_key(|v| url_of(v));
        resources.extend(vss.into_iter().map(compact_value_set));
        let mut css: Vec<&Value> = self.code_systems.iter().collect();
        css.sort_by_key(|v| url_of(v));
        resources.extend(css.into_iter().map(compact_code_system));
        let mut out = String::from("{\"name\":");
        out.push_str(&Value::String(self.name.clone()).to_string());
        out.push_str(",\"version\":");
        out.push_str(&Value::String(self.version.clone()).to_string());
        out.push_str(",\"resources\":[\n");
        for (i, r) in resources.iter().enumerate() {
            if i > 0 {
                out.push_str(",\n");
            }
            out.push_str(&r.to_string());
        }
        out.push_str("\n]}\n");
        out
    }
}

fn json(name: &str, bytes: &[u8]) -> Result<Value, PackageError> {
    // Some published packages start their files with a byte-order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| PackageError::Json { file: name.to_owned(), reason: e.to_string() })
}

fn url_of(v: &Value) -> String {
    v.get("url").and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Copy the members of `from` named in `keys`.
fn pick(from: &Value, keys: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for key in keys {
        if let Some(v) = from.get(*key) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    out
}

/// A StructureDefinition with a snapshot, reduced to what the engine reads.
fn compact_structure_definition(sd: &Value) -> Option<Value> {
    let snapshot = sd.get("snapshot")?.get("element")?.as_array()?;
    let mut out = pick(
        sd,
        &[
            "resourceType",
            "url",
            "version",
            "name",
            "type",
            "kind",
            "abstract",
            "baseDefinition",
            "derivation",
            "context",
        ],
    );
    let elements: Vec<Value> = snapshot
        .iter()
        .map(|e| {
            let mut c = pick(e, &["id", "path", "sliceName", "min", "max", "contentReference"]);
            if let Some(types) = e.get("type").and_then(Value::as_array) {
                let types: Vec<Value> =
                    types.iter().map(|t| Value::Object(pick(t, &["code", "profile", "targetProfile"]))).collect();
                c.insert("type".into(), Value::Array(types));
            }
            if let Some(obj) = e.as_object() {
                for (k, v) in obj {
                    if k.starts_with("fixed") || k.starts_with("pattern") {
                        c.insert(k.clone(), v.clone());
                    }
                }
            }
            if let Some(b) = e.get("binding") {
                c.insert("binding".into(), Value::Object(pick(b, &["strength", "valueSet"])));
            }
            if let Some(s) = e.get("slicing") {
                c.insert("slicing".into(), Value::Object(pick(s, &["discriminator", "ordered", "rules"])));
            }
            if let Some(cs) = e.get("constraint").and_then(Value::as_array) {
                let cs: Vec<Value> = cs
                    .iter()
                    .filter(|c| !c.get("source").and_then(Value::as_str).is_some_and(is_base_definition))
                    .map(|c| {
                        let mut m = pick(c, &["key", "severity", "human", "expression"]);
                        if best_practice(c) {
                            m.insert("bestPractice".into(), Value::Bool(true));
                        }
                        Value::Object(m)
                    })
                    .collect();
                if !cs.is_empty() {
                    c.insert("constraint".into(), Value::Array(cs));
                }
            }
            Value::Object(c)
        })
        .collect();
    let mut snap = Map::new();
    snap.insert("element".into(), Value::Array(elements));
    out.insert("snapshot".into(), Value::Object(snap));
    Some(Value::Object(out))
}

/// A constraint from base FHIR (its `source` a core StructureDefinition): evaluated by the base
/// rules already.
pub fn is_base_definition(url: &str) -> bool {
    url.strip_prefix("http://hl7.org/fhir/StructureDefinition/").is_some_and(|rest| !rest.contains('/'))
}

/// Is the constraint marked best practice (`elementdefinition-bestpractice`)?
pub fn best_practice(c: &Value) -> bool {
    c.get("bestPractice").and_then(Value::as_bool).unwrap_or(false)
        || c.get("extension").and_then(Value::as_array).is_some_and(|exts| {
            exts.iter().any(|x| {
                x.get("url").and_then(Value::as_str)
                    == Some("http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice")
                    && x.get("valueBoolean").and_then(Value::as_bool) == Some(true)
            })
        })
}

fn compact_value_set(vs: &Value) -> Value {
    let mut out = pick(vs, &["resourceType", "url", "version", "compose"]);
    if let Some(contains) = vs.get("expansion").and_then(|e| e.get("contains")).and_then(Value::as_array) {
        let mut flat = Vec::new();
        flatten_contains(contains, &mut flat);
        let mut e = Map::new();
        e.insert("contains".into(), Value::Array(flat));
        out.insert("expansion".into(), Value::Object(e));
    }
    Value::Object(out)
}

fn flatten_contains(contains: &[Value], out: &mut Vec<Value>) {
    for c in contains {
        if c.get("code").is_some() {
            out.push(Value::Object(pick(c, &["system", "code"])));
        }
        if let Some(inner) = c.get("contains").and_then(Value::as_array) {
            flatten_contains(inner, out);
        }
    }
}

fn compact_code_system(cs: &Value) -> Value {
    let mut out = pick(cs, &["resourceType", "url", "version", "content", "caseSensitive"]);
    let mut codes = Vec::new();
    flatten_concepts(cs.get("concept").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default(), &mut codes);
    out.insert("concept".into(), Value::Array(codes));
    Value::Object(out)
}

fn flatten_concepts(concepts: &[Value], out: &mut Vec<Value>) {
    for c in concepts {
        if let Some(code) = c.get("code") {
            let mut m = Map::new();
            m.insert("code".into(), code.clone());
            out.push(Value::Object(m));
        }
        if let Some(inner) = c.get("concept").and_then(Value::as_array) {
            flatten_concepts(inner, out);
        }
    }
}
