//! Where an extension may be used: an extension whose definition a package here holds (US Core's
//! `us-core-race`, a `--package` IG's own) used where none of its contexts allows it. The HL7
//! validator checks this for every extension it knows, whatever the resource's profiles
//! (`InstanceValidator.checkExtensionContext`, tag 5.1.15 L1602–1684: `rule(...,
//! Extension_EXT_Context_Wrong)`, an error), so this runs on every Extension at `strict`.
//!
//! As 5.1.15 decides an `element` context: `Element` and `Any` allow every place, `Resource` a
//! resource; otherwise the context must equal one of the container's paths — its path without
//! indexes (`Patient.address`) or a logical path (`Address`, `Address.period` under
//! `Patient.address.period`), also with the first type replaced by a base type (`Quantity` for
//! `Age`; `DomainResource`, `Resource` for a resource). `extension` and `fhirpath` contexts, and
//! containers whose type cannot be told from the path (inside a contained resource or a Bundle
//! entry, on a primitive), are not checked: never a guessed error.
//!
//! Example failing value: `{"resourceType":"Observation",…,"extension":[{"url":
//! "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",…}]}`.

use crate::diagnostic::{q, Code, Finding, Findings, Message};
use crate::facts::path::Path;
use crate::facts::ObjectFacts;
use crate::model::{Model, Ty, TypeKind};

/// Object rule on Extension.
pub(crate) fn check(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let Some(set) = o.line.profiles else { return };
    let Some((url, _)) = o.string("url") else { return };
    if !url.contains(':') || !set.may_define(&url) {
        return;
    }
    let Some(Ok(definition)) = set.lookup(&url, None) else { return };
    if definition.type_name != "Extension" || definition.contexts.is_empty() {
        return;
    }
    let Some(container) = container(o.line.model, o.path) else { return };
    if allowed(&definition.contexts, &container) {
        return;
    }
    let contexts: Vec<String> = definition
        .contexts
        .iter()
        .map(|(kind, e)| format!("{}:{e}", if kind == "element" { "e" } else { kind.get(..1).unwrap_or("?") }))
        .collect();
    // The HL7 validator's wording, brackets included (its {2} is a Java list).
    let message = Message::new(
        format!(
            "The extension {{}} is not allowed to be used at this point (allowed = {}; this element is [[{}])",
            contexts.join(", "),
            container.paths.join(", ")
        ),
        [q(url.as_ref())],
    );
    f.push(Finding::new(Code::ProfileExtensionContext, message).at(o.open).on(o.path.render()));
}

/// The element holding an extension: its paths (literal without indexes, then logical), and
/// whether it is a resource.
#[derive(Debug, PartialEq, Eq)]
struct Container {
    paths: Vec<String>,
    /// The first segment of each path with its base types (`Age` → `Quantity`).
    bases: Vec<Vec<&'static str>>,
    resource: bool,
}

/// The container of the extension at `path` (`…extension[i]`), when its type is known.
fn container(model: &Model, path: &Path<'_>) -> Option<Container> {
    // Up from the extension: `extension[i]` (or `modifierExtension[i]`) under the container.
    let mut at = match path {
        Path::Index(Path::Member(parent, "extension" | "modifierExtension"), _) => *parent,
        _ => return None,
    };
    let mut names = Vec::new();
    let root = loop {
        match at {
            Path::Root(name) => break *name,
            Path::Member(parent, name) => {
                names.push(*name);
                at = parent;
            }
            Path::Index(parent, _) => at = parent,
        }
    };
    names.reverse();
    let mut id = model.resource_type(root)?;
    // The type at each step: (the type's name, its kind), for the root and each member.
    let mut types = vec![(model.ty(id).name, model.ty(id).kind)];
    for name in &names {
        let t = model.ty(id);
        let property = (t.lookup)(name.as_bytes())?;
        match t.properties.get(usize::from(property))?.ty {
            Ty::Complex(next) => id = next,
            // A primitive, or a resource inside (contained, entry): not told from the path.
            Ty::Prim(_) | Ty::Resource => return None,
        }
        types.push((model.ty(id).name, model.ty(id).kind));
    }
    let literal = std::iter::once(root).chain(names.iter().copied()).collect::<Vec<_>>().join(".");
    let mut paths = vec![literal];
    let mut bases = vec![base_types(root, TypeKind::Resource)];
    // Logical paths: from each datatype on the way, its name and the rest (`Address.period`).
    for (k, (name, kind)) in types.iter().enumerate().skip(1) {
        if *kind != TypeKind::Datatype {
            continue;
        }
        let rest: Vec<&str> = names[k..].to_vec();
        let logical = std::iter::once(*name).chain(rest).collect::<Vec<_>>().join(".");
        paths.push(logical);
        bases.push(base_types(name, *kind));
    }
    Some(Container { paths, bases, resource: names.is_empty() })
}

/// A type and the types it specialises, as contexts may name them.
fn base_types(name: &'static str, kind: TypeKind) -> Vec<&'static str> {
    match (kind, name) {
        (TypeKind::Resource, "Bundle" | "Binary" | "Parameters") => vec![name, "Resource"],
        (TypeKind::Resource, _) => vec![name, "DomainResource", "Resource"],
        (_, "Age" | "Count" | "Distance" | "Duration" | "MoneyQuantity" | "SimpleQuantity") => vec![name, "Quantity"],
        _ => vec![name],
    }
}

/// Does one of `contexts` allow `c`?
fn allowed(contexts: &[(String, String)], c: &Container) -> bool {
    contexts.iter().any(|(kind, e)| {
        if kind != "element" {
            return true; // `extension` and `fhirpath` contexts: not checked
        }
        if matches!(e.as_str(), "Element" | "Any") || (e == "Resource" && c.resource) {
            return true;
        }
        c.paths.iter().zip(&c.bases).any(|(p, bases)| {
            let rest = p.find('.').map_or("", |i| &p[i..]);
            p == e || bases.iter().any(|b| e.strip_prefix(b).is_some_and(|r| r == rest))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(e: &str) -> Vec<(String, String)> {
        vec![("element".to_owned(), e.to_owned())]
    }

    #[test]
    fn containers_and_contexts() {
        let model = Model::r4();
        let patient = Path::Root("Patient");
        let on_patient = Path::Index(&Path::Member(&patient, "extension"), 0);
        let c = container(model, &on_patient).unwrap();
        assert_eq!(c.paths, ["Patient"]);
        assert!(c.resource);
        assert!(allowed(&element("Patient"), &c) && allowed(&element("DomainResource"), &c));
        assert!(allowed(&element("Resource"), &c) && allowed(&element("Element"), &c));
        assert!(!allowed(&element("Observation"), &c) && !allowed(&element("Address"), &c));

        let address = Path::Member(&patient, "address");
        let first = Path::Index(&address, 0);
        let period = Path::Member(&first, "period");
        let on_period = Path::Index(&Path::Member(&period, "extension"), 0);
        let c = container(model, &on_period).unwrap();
        assert_eq!(c.paths, ["Patient.address.period", "Address.period", "Period"]);
        assert!(!c.resource);
        assert!(allowed(&element("Period"), &c) && allowed(&element("Address.period"), &c));
        assert!(!allowed(&element("Patient"), &c) && !allowed(&element("Address"), &c));
        // Other kinds of context are not checked.
        assert!(allowed(&[("extension".to_owned(), "http://x".to_owned())], &c));

        // A primitive's extension, a contained resource's: not told from the path.
        let contained = Path::Index(&Path::Member(&patient, "contained"), 0);
        assert_eq!(container(model, &Path::Index(&Path::Member(&contained, "extension"), 0)), None);
        assert_eq!(
            container(model, &Path::Index(&Path::Member(&Path::Member(&patient, "gender"), "extension"), 0)),
            None
        );
    }
}
