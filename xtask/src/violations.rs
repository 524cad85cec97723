//! Generated violations of the R4 constraints: for every constraint key fhir-preflight evaluates,
//! a resource made to break it by mutating one of HL7's examples that holds it. Used by the
//! differential oracle (`invariant_oracle.rs`: HL7's JavaScript engine must agree that the mutated
//! resource breaks the key) and by `cargo xtask defects` (one defect kind per key).
//!
//! The search is deterministic and generic — nothing here is written for one key: for each key,
//! the smallest examples where it holds are tried in turn; at the element it holds on, single edits
//! are tried first, then pairs of edits: remove a member, set a member to a sample value of its
//! type (the string and number literals of the key's expression included: `type = 'reference'`
//! gives `'reference'`), repeat an array's first item, the same one level down. The first mutated
//! resource on which fhir-preflight reports the key is kept.

use std::collections::BTreeMap;

use fhir_preflight::oracle::{self, Evaluation, Treatment};
use fhir_preflight::schema::{self, Kind};
use serde_json::{json, Map, Value};

use crate::route::{get_mut, Step};

/// One generated violation.
#[derive(Clone, Debug)]
pub struct Violation {
    pub key: &'static str,
    /// The example it was made from.
    pub file: String,
    /// The mutated resource, one line.
    pub line: String,
    /// The element the key fails on.
    pub path: String,
    /// What was changed, for people: `remove period.end; set period.start = "2999-12-31"`.
    pub edit: String,
}

/// One edit, relative to the element.
#[derive(Clone, Debug)]
enum Edit {
    Remove(Vec<Step>),
    Set(Vec<Step>, Value),
    /// Remove one member and set another: a choice element given another type.
    Swap(Vec<Step>, Vec<Step>, Value),
}

fn describe(edits: &[&Edit]) -> String {
    let route = |r: &[Step]| {
        r.iter()
            .map(|s| match s {
                Step::Key(k) => format!(".{k}"),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect::<String>()
    };
    edits
        .iter()
        .map(|e| match e {
            Edit::Remove(r) => format!("remove {}", route(r).trim_start_matches('.')),
            Edit::Set(r, v) => format!("set {} = {v}", route(r).trim_start_matches('.')),
            Edit::Swap(old, r, v) => {
                format!("remove {}; set {} = {v}", route(old).trim_start_matches('.'), route(r).trim_start_matches('.'))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The route of a FHIR path with JSON names (`Type.a[0].b`) from the resource.
fn route_of(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in path.split('.').skip(1) {
        match part.split_once('[') {
            Some((name, rest)) => {
                out.push(Step::Key(name.to_owned()));
                if let Ok(i) = rest.trim_end_matches(']').parse() {
                    out.push(Step::Index(i));
                }
            }
            None => out.push(Step::Key(part.to_owned())),
        }
    }
    out
}

fn apply(root: &mut Value, at: &[Step], edit: &Edit) -> Option<()> {
    let (route, value) = match edit {
        Edit::Remove(r) => (r, None),
        Edit::Set(r, v) => (r, Some(v)),
        Edit::Swap(old, r, v) => {
            apply(root, at, &Edit::Remove(old.clone()))?;
            (r, Some(v))
        }
    };
    let Some((last, parent)) = route.split_last() else {
        // The element itself, replaced.
        *get_mut(root, at)? = value?.clone();
        return Some(());
    };
    let full: Vec<Step> = at.iter().chain(parent).cloned().collect();
    let target = get_mut(root, &full)?;
    match (last, value) {
        (Step::Key(k), None) => target.as_object_mut()?.remove(k).map(|_| ()),
        (Step::Key(k), Some(v)) => {
            target.as_object_mut()?.insert(k.clone(), v.clone());
            Some(())
        }
        (Step::Index(i), None) => {
            let items = target.as_array_mut()?;
            (*i < items.len()).then(|| drop(items.remove(*i)))
        }
        (Step::Index(i), Some(v)) => {
            *target.as_array_mut()?.get_mut(*i)? = v.clone();
            Some(())
        }
    }
}

/// The string and number literals of an expression.
fn literals(expression: &str) -> (Vec<String>, Vec<f64>) {
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    let mut chars = expression.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            let mut s = String::new();
            while let Some((_, d)) = chars.next() {
                match d {
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            s.push(e);
                        }
                    }
                    '\'' => break,
                    _ => s.push(d),
                }
            }
            strings.push(s);
        } else if c.is_ascii_digit() && !expression[..i].ends_with(|p: char| p.is_alphanumeric() || p == '@') {
            let end =
                expression[i..].find(|d: char| !d.is_ascii_digit() && d != '.').map_or(expression.len(), |e| i + e);
            if let Ok(n) = expression[i..end].parse() {
                numbers.push(n);
            }
            while chars.peek().is_some_and(|(j, _)| *j < end) {
                chars.next();
            }
        }
    }
    (strings, numbers)
}

/// Sample values of a primitive type, the key's literals first.
fn primitive_samples(prim: &str, strings: &[String], numbers: &[f64]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    match prim {
        "boolean" => out.extend([json!(true), json!(false)]),
        "integer" | "unsignedInt" | "positiveInt" | "decimal" => {
            for n in numbers {
                out.extend([json!(n), json!(n + 1.0), json!(n - 1.0)]);
            }
            out.extend([json!(0), json!(1), json!(-1), json!(100_000)]);
            if prim != "decimal" {
                out.retain(|v| v.as_f64().is_some_and(|f| f.fract() == 0.0));
                out = out.into_iter().map(|v| json!(v.as_f64().unwrap_or(0.0) as i64)).collect();
            }
        }
        "date" => out.extend([json!("2999-12-31"), json!("1900-01-01"), json!("2020")]),
        "dateTime" | "instant" => {
            out.extend([json!("2999-12-31T00:00:00Z"), json!("1900-01-01T00:00:00Z"), json!("2020-01-01")])
        }
        "time" => out.extend([json!("23:59:59"), json!("00:00:00")]),
        "base64Binary" => out.extend([json!("AAAA")]),
        _ => {
            out.extend(strings.iter().map(|s| json!(s)));
            out.extend([json!("x"), json!("A"), json!("#x"), json!("http://example.org/x"), json!("x x")]);
        }
    }
    out.dedup();
    out
}

/// Sample values of a complex type: a few shapes that exist, refer, measure, or order.
fn complex_samples(type_name: &str, strings: &[String]) -> Vec<Value> {
    let mut out = match type_name {
        "Reference" => vec![json!({"reference": "#x"}), json!({"reference": "Patient/x"}), json!({"display": "x"})],
        "Quantity" | "Age" | "Duration" | "Count" | "Distance" | "MoneyQuantity" | "SimpleQuantity" => vec![
            json!({"value": 1, "unit": "x"}),
            json!({"value": 1, "comparator": "<"}),
            json!({"value": 1, "system": "http://unitsofmeasure.org", "code": "a"}),
            json!({"code": "x"}),
        ],
        "Period" => vec![json!({"start": "2999-12-31"}), json!({"end": "1900-01-01"})],
        "CodeableConcept" => vec![json!({"text": "x"})],
        "Coding" => vec![json!({"system": "http://example.org/x", "code": "x"})],
        // UCUM units: engines disagree on comparing quantities without one.
        "Range" => vec![json!({
            "low": {"value": 2, "system": "http://unitsofmeasure.org", "code": "a", "unit": "a"},
            "high": {"value": 1, "system": "http://unitsofmeasure.org", "code": "a", "unit": "a"}
        })],
        "Narrative" => {
            vec![json!({"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"})]
        }
        _ => vec![],
    };
    if type_name == "CodeableConcept" || type_name == "Coding" {
        // Codes and systems from the key's literals: `system = '…' and code = 'entered-in-error'`.
        let words: Vec<&String> = strings.iter().filter(|s| !s.contains(' ')).collect();
        let systems: Vec<&str> = words.iter().map(|s| s.as_str()).chain(["http://example.org/x"]).collect();
        for code in &words {
            for system in &systems {
                let coding = json!({"system": system, "code": code});
                out.push(if type_name == "Coding" { coding } else { json!({"coding": [coding]}) });
            }
        }
    }
    out.push(json!({"id": "m"}));
    out
}

fn resource_sample() -> Value {
    json!({"resourceType": "Basic", "id": "m", "code": {"text": "x"}})
}

/// The edits of `object` (of type `type_name`) under `prefix`, and one level down when `depth` > 0.
fn edits(
    object: &Map<String, Value>,
    type_name: &str,
    prefix: &[Step],
    depth: usize,
    lits: &(Vec<String>, Vec<f64>),
    out: &mut Vec<Edit>,
) {
    let at = |key: &str| -> Vec<Step> {
        let mut r = prefix.to_vec();
        r.push(Step::Key(key.to_owned()));
        r
    };
    for key in object.keys().filter(|k| *k != "resourceType") {
        out.push(Edit::Remove(at(key)));
    }
    if prefix.is_empty() {
        // Every member removed but an id (an empty object is a JSON error of its own).
        let mut bare = Map::new();
        if let Some(t) = object.get("resourceType") {
            bare.insert("resourceType".into(), t.clone());
        }
        bare.insert("id".into(), json!("m"));
        out.push(Edit::Set(Vec::new(), Value::Object(bare)));
    }
    for p in schema::properties(type_name) {
        let samples = match p.kind {
            Kind::Primitive(prim) => primitive_samples(prim, &lits.0, &lits.1),
            Kind::Complex(t) => complex_samples(t, &lits.0),
            Kind::Resource => vec![resource_sample()],
        };
        // Another type of a choice element replaces the one given (two would be a JSON error).
        let other = schema::properties(type_name)
            .into_iter()
            .find(|q| q.element == p.element && q.key != p.key && object.contains_key(q.key));
        for v in samples {
            let v = if p.many { Value::Array(vec![v]) } else { v };
            out.push(match other {
                Some(ref q) => Edit::Swap(at(q.key), at(p.key), v),
                None => Edit::Set(at(p.key), v),
            });
        }
        if p.many {
            if let Some(Value::Array(items)) = object.get(p.key) {
                if let Some(first) = items.first() {
                    let mut twice = items.clone();
                    twice.push(first.clone());
                    out.push(Edit::Set(at(p.key), Value::Array(twice)));
                    if items.len() > 1 {
                        out.push(Edit::Set(at(p.key), Value::Array(vec![first.clone()])));
                    }
                }
            }
        }
    }
    if depth == 0 {
        return;
    }
    for (key, value) in object {
        let Some(p) = schema::property(type_name, key) else { continue };
        let (child, mut route) = match value {
            Value::Array(items) => match items.first() {
                Some(first) => (first, {
                    let mut r = at(key);
                    r.push(Step::Index(0));
                    r
                }),
                None => continue,
            },
            v => (v, at(key)),
        };
        let Value::Object(child) = child else { continue };
        let child_type = match p.kind {
            Kind::Complex(t) => t,
            Kind::Resource => match child.get("resourceType").and_then(Value::as_str) {
                Some(t) => match fhir_preflight::resource_types().find(|r| *r == t) {
                    Some(t) => t,
                    None => continue,
                },
                None => continue,
            },
            Kind::Primitive(_) => continue,
        };
        edits(child, child_type, &route, depth - 1, lits, out);
        route.clear();
    }
}

/// Keys that no resource can break, and why.
pub const UNBREAKABLE: &[(&str, &str)] = &[
    (
        "ras-2",
        "the HL7 validator evaluates its own replacement of the expression, which names `probablility` (sic) and always holds",
    ),
    (
        "eld-11",
        "`type.select((code = 'code') or …).exists()` is true whenever the element has a type: select() keeps the false results, so the expression always holds (in every engine)",
    ),
    (
        "mqty-1",
        "MoneyQuantity is a profile of Quantity that no R4 element has as its type (only profiles name it), so no resource holds an element it applies to",
    ),
];

/// Every typed object of `value` (of type `type_name`), with its type: values to copy into others.
fn typed_values(value: &Value, type_name: &'static str, out: &mut BTreeMap<&'static str, Vec<Value>>) {
    let Value::Object(map) = value else { return };
    let seen = out.entry(type_name).or_default();
    if seen.len() < 4 && !seen.contains(value) {
        seen.push(value.clone());
    }
    for (key, child) in map {
        let Some(p) = schema::property(type_name, key) else { continue };
        let Kind::Complex(t) = p.kind else { continue };
        match child {
            Value::Array(items) => items.iter().for_each(|item| typed_values(item, t, out)),
            v => typed_values(v, t, out),
        }
    }
}

/// The failures of `key` in a resource.
fn failure_count(evals: &[Evaluation], key: &str) -> usize {
    evals.iter().filter(|e| e.key == key && !e.holds).count()
}

/// A place to edit: the example (or a repaired copy), the route to the element, and its type.
struct Candidate {
    file: usize,
    resource: Value,
    failures: usize,
    at: Vec<Step>,
    base: &'static str,
}

/// Where `e` applies, as a route and a type: for a constraint on an element's items, the object
/// holding the element (its edits reach the items one level down).
fn place(e: &Evaluation) -> (Vec<Step>, &'static str) {
    let mut at = route_of(&e.path);
    if e.item.is_some() {
        if matches!(at.last(), Some(Step::Index(_))) {
            at.pop();
        }
        at.pop();
    }
    (at, e.base)
}

fn edits_at(c: &Candidate, lits: &(Vec<String>, Vec<f64>)) -> Vec<Edit> {
    let mut v = c.resource.clone();
    let Some(Value::Object(object)) = get_mut(&mut v, &c.at).map(|o| o.clone()) else { return Vec::new() };
    let mut list = Vec::new();
    edits(&object, c.base, &[], 1, lits, &mut list);
    // Values of the same type found elsewhere in the resource (obs-7: a component's code set to
    // the Observation's code).
    let mut found = BTreeMap::new();
    if let Some(t) = c
        .resource
        .get("resourceType")
        .and_then(Value::as_str)
        .and_then(|t| fhir_preflight::resource_types().find(|r| *r == t))
    {
        typed_values(&c.resource, t, &mut found);
    }
    copies(&object, c.base, &[], 1, &found, &mut list);
    list
}

/// Edits that copy values of the resource into the element's members (and one level down).
fn copies(
    object: &Map<String, Value>,
    type_name: &str,
    prefix: &[Step],
    depth: usize,
    found: &BTreeMap<&'static str, Vec<Value>>,
    out: &mut Vec<Edit>,
) {
    for p in schema::properties(type_name) {
        let Kind::Complex(t) = p.kind else { continue };
        let at = |key: &str| {
            let mut r = prefix.to_vec();
            r.push(Step::Key(key.to_owned()));
            r
        };
        let other = schema::properties(type_name)
            .into_iter()
            .find(|q| q.element == p.element && q.key != p.key && object.contains_key(q.key));
        for v in found.get(t).map(Vec::as_slice).unwrap_or_default() {
            let v = if p.many { Value::Array(vec![v.clone()]) } else { v.clone() };
            out.push(match other {
                Some(ref q) => Edit::Swap(at(q.key), at(p.key), v),
                None => Edit::Set(at(p.key), v),
            });
        }
    }
    if depth == 0 {
        return;
    }
    for (key, value) in object {
        let Some(p) = schema::property(type_name, key) else { continue };
        let Kind::Complex(t) = p.kind else { continue };
        let mut r = prefix.to_vec();
        r.push(Step::Key(key.clone()));
        let child = match value {
            Value::Array(items) => {
                r.push(Step::Index(0));
                items.first()
            }
            v => Some(v),
        };
        if let Some(Value::Object(child)) = child {
            copies(child, t, &r, depth - 1, found, out);
        }
    }
}

/// Make `key` hold where it fails (one edit), for keys that hold nowhere in the examples.
fn repaired(c: &Candidate, key: &'static str, lits: &(Vec<String>, Vec<f64>), budget: &mut usize) -> Option<Candidate> {
    for e in edits_at(c, lits) {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let mut v = c.resource.clone();
        apply(&mut v, &c.at, &e)?;
        let line = serde_json::to_string(&v).ok()?;
        let evals = oracle::evaluations(line.as_bytes());
        let failures = failure_count(&evals, key);
        let holds_here = evals.iter().any(|x| x.key == key && x.holds);
        if failures < c.failures && holds_here {
            return Some(Candidate { file: c.file, resource: v, failures, at: c.at.clone(), base: c.base });
        }
    }
    None
}

/// The identifiers an expression names (`period`, `start`, `coding`, …).
fn identifiers(expression: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_string = false;
    for c in expression.chars().chain([' ']) {
        if c == '\'' {
            in_string = !in_string;
            word.clear();
            continue;
        }
        if !in_string && (c.is_alphanumeric() || c == '_') {
            word.push(c);
        } else {
            if !word.is_empty() && !word.starts_with(|d: char| d.is_ascii_digit()) && !out.contains(&word) {
                out.push(word.clone());
            }
            word.clear();
        }
    }
    out
}

/// Does the edit touch a member the expression names (`valueQuantity` for `value`)?
fn relevant(edit: &Edit, names: &[String]) -> bool {
    let (Edit::Remove(r) | Edit::Set(r, _) | Edit::Swap(_, r, _)) = edit;
    r.is_empty()
        || r.iter().any(|s| match s {
            Step::Key(k) => names
                .iter()
                .any(|n| k == n || (k.starts_with(n.as_str()) && k[n.len()..].starts_with(char::is_uppercase))),
            Step::Index(_) => false,
        })
}

/// Try single edits, then pairs; the first resource with more failures of `key`.
fn search(
    c: &Candidate,
    key: &'static str,
    expression: &str,
    edits: &[Edit],
    budget: &mut usize,
) -> Option<(String, String, String)> {
    let try_edits = |chosen: &[&Edit], budget: &mut usize| -> Option<(String, String, String)> {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let mut v = c.resource.clone();
        for e in chosen {
            apply(&mut v, &c.at, e)?;
        }
        let line = serde_json::to_string(&v).ok()?;
        let evals = oracle::evaluations(line.as_bytes());
        if failure_count(&evals, key) <= c.failures {
            return None;
        }
        let path = evals.iter().find(|e| e.key == key && !e.holds).map(|e| e.path.clone()).unwrap_or_default();
        Some((line, path, describe(chosen)))
    };
    // The edits of members the expression names first.
    let names = identifiers(expression);
    let (first, rest): (Vec<&Edit>, Vec<&Edit>) = edits.iter().partition(|e| relevant(e, &names));
    for e in first.iter().chain(&rest) {
        if let Some(found) = try_edits(&[e], budget) {
            return Some(found);
        }
    }
    // Pairs of edits of the element's own members that the expression names.
    let own: Vec<&Edit> = first
        .into_iter()
        .filter(|e| matches!(e, Edit::Remove(r) | Edit::Set(r, _) | Edit::Swap(_, r, _) if r.len() == 1))
        .collect();
    for (i, a) in own.iter().enumerate() {
        for b in &own[i + 1..] {
            if let Some(found) = try_edits(&[a, b], budget) {
                return Some(found);
            }
        }
    }
    None
}

/// For each evaluated key, a violation if the search finds one; the keys with none are listed
/// too (except [`UNBREAKABLE`]).
pub fn generate(examples: &[(String, String)], evaluations: &[Vec<Evaluation>]) -> (Vec<Violation>, Vec<&'static str>) {
    let infos = oracle::constraints();
    let mut evaluated: BTreeMap<&'static str, &'static str> = BTreeMap::new();
    for c in &infos {
        if c.treatment == Treatment::Evaluated && !UNBREAKABLE.iter().any(|(k, _)| *k == c.key) {
            evaluated.insert(c.key, c.evaluated);
        }
    }
    // Where each key holds, and where it fails: smallest examples first, a few places each.
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| (examples[i].1.len(), i));
    type Places = BTreeMap<&'static str, Vec<(usize, usize)>>;
    let (mut holding, mut failing): (Places, Places) = (BTreeMap::new(), BTreeMap::new());
    for &i in &order {
        for (n, e) in evaluations[i].iter().enumerate() {
            let places = if e.holds { holding.entry(e.key).or_default() } else { failing.entry(e.key).or_default() };
            if places.len() < 400 && places.iter().filter(|(j, _)| *j == i).count() < 3 {
                places.push((i, n));
            }
        }
    }
    let candidate = |i: usize, n: usize, key: &str| -> Option<Candidate> {
        let resource = serde_json::from_str::<Value>(&examples[i].1).ok()?;
        let (at, base) = place(&evaluations[i][n]);
        Some(Candidate { file: i, resource, failures: failure_count(&evaluations[i], key), at, base })
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (&key, &expression) in &evaluated {
        let lits = literals(expression);
        let mut budget = 3000;
        let mut result = None;
        // The places whose element has most of the members the expression names come first.
        let names = identifiers(expression);
        let mut candidates: Vec<Candidate> = holding
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|&(i, n)| candidate(i, n, key))
            .collect();
        let score = |c: &Candidate| -> usize {
            let mut v = c.resource.clone();
            get_mut(&mut v, &c.at)
                .and_then(|o| {
                    o.as_object().map(|o| {
                        o.keys().filter(|k| relevant(&Edit::Remove(vec![Step::Key((*k).clone())]), &names)).count()
                    })
                })
                .unwrap_or(0)
        };
        candidates.sort_by_key(|c| std::cmp::Reverse(score(c)));
        candidates.truncate(24);
        if candidates.is_empty() {
            // Nowhere holds: repair a failing place first.
            let mut repair_budget = 1500;
            for &(i, n) in failing.get(key).map(Vec::as_slice).unwrap_or_default().iter().take(6) {
                if let Some(c) = candidate(i, n, key).and_then(|c| repaired(&c, key, &lits, &mut repair_budget)) {
                    candidates.push(c);
                }
            }
        }
        for c in &candidates {
            let list = edits_at(c, &lits);
            if let Some((line, path, edit)) = search(c, key, expression, &list, &mut budget) {
                result = Some(Violation { key, file: examples[c.file].0.clone(), line, path, edit });
                break;
            }
        }
        match result {
            Some(v) => found.push(v),
            None => {
                if std::env::var_os("VIOLATIONS_DEBUG").is_some() {
                    eprintln!(
                        "{key}: {} candidates, {} failing places",
                        candidates.len(),
                        failing.get(key).map_or(0, Vec::len)
                    );
                }
                missing.push(key);
            }
        }
    }
    (found, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_an_expression() {
        let (s, n) = literals("type = 'reference' and count() > 2 and name.matches('[A-Z]{0,254}') and x <= 100.5");
        assert_eq!(s, vec!["reference".to_owned(), "[A-Z]{0,254}".to_owned()]);
        assert_eq!(n, vec![2.0, 100.5]);
    }

    #[test]
    fn routes() {
        let r = route_of("Bundle.entry[2].resource.valuePeriod");
        assert_eq!(format!("{r:?}"), r#"[Key("entry"), Index(2), Key("resource"), Key("valuePeriod")]"#);
    }
}
