//! Value sets expanded offline, from what the loaded packages define: codes listed in a
//! `compose.include`, every code of a code system a package defines completely, other value sets
//! included, `exclude`s taken away, a published `expansion`; and the value sets of base R4's
//! required bindings (in the generated model). Anything else — a filter (`is-a`, `=`), a code
//! system no package here defines (LOINC, SNOMED CT, CPT) — cannot be expanded offline: a
//! binding to such a value set is reported as unchecked, never guessed.
//!
//! May import: `model` (base R4's value sets).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::model::Model;

/// A value set's codes, as `(system, code)`.
#[derive(Debug)]
pub(crate) enum Expansion {
    Codes(Codes),
    /// Why it cannot be expanded offline.
    Unknown(String),
}

/// A value set's `(system, code)` pairs, looked up for every coded item a profile binds: hashed
/// with foldhash (the keys are the packages'; the data only queries them).
pub(crate) type Codes = HashSet<(String, String), foldhash::fast::RandomState>;

impl Expansion {
    /// Is `(system, code)` in it? A `None` system matches a code of any system.
    pub(crate) fn membership(&self, system: Option<&str>, code: &str) -> Membership<'_> {
        match self {
            Expansion::Codes(codes) => {
                let found = match system {
                    // No allocation per lookup: the pairs are compared through a borrowed key.
                    Some(s) => codes.contains(&(s, code) as &dyn Pair),
                    None => codes.iter().any(|(_, c)| c == code),
                };
                if found {
                    Membership::In
                } else {
                    Membership::NotIn
                }
            }
            Expansion::Unknown(why) => Membership::Unknown(why),
        }
    }

    /// Not in the packages loaded (another package may define it).
    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Expansion::Unknown(why) if why.contains("not in the packages loaded"))
    }
}

/// A `(system, code)` pair, owned or borrowed, for lookups without allocating.
trait Pair {
    fn pair(&self) -> (&str, &str);
}

impl Pair for (String, String) {
    fn pair(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl Pair for (&str, &str) {
    fn pair(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> std::borrow::Borrow<dyn Pair + 'a> for (String, String) {
    fn borrow(&self) -> &(dyn Pair + 'a) {
        self
    }
}

impl PartialEq for dyn Pair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.pair() == other.pair()
    }
}

impl Eq for dyn Pair + '_ {}

impl std::hash::Hash for dyn Pair + '_ {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the tuple `(String, String)` hashes.
        let (a, b) = self.pair();
        a.hash(state);
        b.hash(state);
    }
}

/// Is a code in a value set?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Membership<'e> {
    In,
    NotIn,
    /// The value set cannot be expanded offline (why).
    Unknown(&'e str),
}

/// The value sets and code systems of the loaded packages, expanded on first use.
#[derive(Debug, Default)]
pub(crate) struct Terminology {
    value_sets: HashMap<String, Value>,
    /// Code systems defined completely: their codes.
    code_systems: HashMap<String, HashSet<String>>,
    expansions: Mutex<HashMap<String, Arc<Expansion>>>,
}

impl Terminology {
    /// Add a package's value sets and code systems.
    pub(crate) fn add(&mut self, value_sets: &[Value], code_systems: &[Value]) {
        for vs in value_sets {
            if let Some(url) = vs.get("url").and_then(Value::as_str) {
                self.value_sets.entry(url.to_owned()).or_insert_with(|| vs.clone());
            }
        }
        for cs in code_systems {
            let Some(url) = cs.get("url").and_then(Value::as_str) else { continue };
            if cs.get("content").and_then(Value::as_str) != Some("complete") {
                continue;
            }
            let mut codes = HashSet::new();
            collect_codes(cs.get("concept"), &mut codes);
            self.code_systems.entry(url.to_owned()).or_insert(codes);
        }
    }

    /// Is `(system, code)` in the value set `url` (a canonical, `|version` ignored)? A `None`
    /// system matches a code of any system.
    #[cfg(test)]
    pub(crate) fn contains(&self, url: &str, system: Option<&str>, code: &str) -> Result<bool, String> {
        match self.expansion(url).membership(system, code) {
            Membership::In => Ok(true),
            Membership::NotIn => Ok(false),
            Membership::Unknown(why) => Err(why.to_owned()),
        }
    }

    /// The expansion of `url`, computed once.
    pub(crate) fn expansion(&self, url: &str) -> Arc<Expansion> {
        let url = super::compile::strip_version(url);
        if let Some(e) = self.expansions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(url) {
            return Arc::clone(e);
        }
        let e = Arc::new(self.expand(url, &mut HashSet::new()));
        let mut map = self.expansions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(map.entry(url.to_owned()).or_insert(e))
    }

    /// Base R4's value sets of required bindings (the generated model's), alone.
    pub(crate) fn base() -> &'static Terminology {
        static BASE: OnceLock<Terminology> = OnceLock::new();
        BASE.get_or_init(Terminology::default)
    }

    fn expand(&self, url: &str, seen: &mut HashSet<String>) -> Expansion {
        if !seen.insert(url.to_owned()) {
            return Expansion::Unknown(format!("{url} includes itself"));
        }
        let Some(vs) = self.value_sets.get(url) else {
            // Base R4's required value sets are in the generated model.
            if let Some(vs) = Model::r4().value_sets().iter().find(|vs| vs.url == url) {
                if vs.kind == crate::model::ValueSetKind::Enumerated {
                    return Expansion::Codes(
                        vs.codes.iter().map(|(c, s)| ((*s).to_owned(), (*c).to_owned())).collect(),
                    );
                }
            }
            return Expansion::Unknown(format!("the value set {url} is not in the packages loaded"));
        };
        let Some(compose) = vs.get("compose") else {
            return match vs.get("expansion").and_then(|e| e.get("contains")).and_then(Value::as_array) {
                Some(contains) => Expansion::Codes(contains.iter().filter_map(system_code).collect()),
                None => Expansion::Unknown(format!("the value set {url} has no definition")),
            };
        };
        let mut codes = Codes::default();
        for include in compose.get("include").and_then(Value::as_array).into_iter().flatten() {
            match self.part(include, seen) {
                Ok(part) => codes.extend(part),
                Err(why) => {
                    // A published expansion, when the definition cannot be followed offline.
                    if let Some(contains) =
                        vs.get("expansion").and_then(|e| e.get("contains")).and_then(Value::as_array)
                    {
                        return Expansion::Codes(contains.iter().filter_map(system_code).collect());
                    }
                    return Expansion::Unknown(format!("{url}: {why}"));
                }
            }
        }
        for exclude in compose.get("exclude").and_then(Value::as_array).into_iter().flatten() {
            match self.part(exclude, seen) {
                Ok(part) => codes.retain(|c| !part.contains(c)),
                Err(why) => return Expansion::Unknown(format!("{url}: {why}")),
            }
        }
        Expansion::Codes(codes)
    }

    /// The codes of one `include` (or `exclude`).
    fn part(&self, include: &Value, seen: &mut HashSet<String>) -> Result<Codes, String> {
        if include.get("filter").is_some() {
            return Err("a filter, which needs the code system's hierarchy (not expanded offline)".into());
        }
        let mut codes = Codes::default();
        let system = include.get("system").and_then(Value::as_str);
        match (system, include.get("concept").and_then(Value::as_array)) {
            (Some(system), Some(concepts)) => {
                for c in concepts {
                    if let Some(code) = c.get("code").and_then(Value::as_str) {
                        codes.insert((system.to_owned(), code.to_owned()));
                    }
                }
            }
            (Some(system), None) => match self.code_systems.get(system) {
                Some(all) => codes.extend(all.iter().map(|c| (system.to_owned(), c.clone()))),
                None => return Err(format!("the code system {system} is not defined by the packages loaded")),
            },
            (None, _) => {}
        }
        let imports: Vec<&str> =
            include.get("valueSet").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for (n, import) in imports.iter().enumerate() {
            let import = super::compile::strip_version(import);
            let part = match self.expand(import, seen) {
                Expansion::Codes(c) => c,
                Expansion::Unknown(why) => return Err(why),
            };
            seen.remove(import);
            if system.is_none() && n == 0 && codes.is_empty() {
                codes = part;
            } else if system.is_none() {
                // Several value sets in one include: their intersection.
                codes.retain(|c| part.contains(c));
            } else {
                codes.retain(|c| part.contains(c));
            }
        }
        Ok(codes)
    }
}

fn system_code(c: &Value) -> Option<(String, String)> {
    Some((c.get("system")?.as_str()?.to_owned(), c.get("code")?.as_str()?.to_owned()))
}

fn collect_codes(concepts: Option<&Value>, out: &mut HashSet<String>) {
    for c in concepts.and_then(Value::as_array).into_iter().flatten() {
        if let Some(code) = c.get("code").and_then(Value::as_str) {
            out.insert(code.to_owned());
        }
        collect_codes(c.get("concept"), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expands_what_is_here() {
        let mut t = Terminology::default();
        let vs = [
            json!({"url":"http://x/vs/a","compose":{"include":[{"system":"http://x/cs","concept":[{"code":"1"},{"code":"2"}]}]}}),
            json!({"url":"http://x/vs/all","compose":{"include":[{"system":"http://x/cs"}],"exclude":[{"system":"http://x/cs","concept":[{"code":"3"}]}]}}),
            json!({"url":"http://x/vs/import","compose":{"include":[{"valueSet":["http://x/vs/a|1.0"]}]}}),
            json!({"url":"http://x/vs/loinc","compose":{"include":[{"system":"http://loinc.org"}]}}),
            json!({"url":"http://x/vs/filter","compose":{"include":[{"system":"http://x/cs","filter":[{"property":"concept","op":"is-a","value":"1"}]}]}}),
        ];
        let cs = [
            json!({"url":"http://x/cs","content":"complete","concept":[{"code":"1","concept":[{"code":"3"}]},{"code":"2"}]}),
        ];
        t.add(&vs, &cs);
        assert_eq!(t.contains("http://x/vs/a", Some("http://x/cs"), "1"), Ok(true));
        assert_eq!(t.contains("http://x/vs/a|1.0", Some("http://x/cs"), "3"), Ok(false));
        assert_eq!(t.contains("http://x/vs/all", None, "3"), Ok(false));
        assert_eq!(t.contains("http://x/vs/all", None, "2"), Ok(true));
        assert_eq!(t.contains("http://x/vs/import", Some("http://x/cs"), "2"), Ok(true));
        assert!(t.contains("http://x/vs/loinc", None, "1").is_err());
        assert!(t.contains("http://x/vs/filter", None, "1").is_err());
        assert!(t.contains("http://x/vs/none", None, "1").is_err());
        // Base R4's required value sets.
        let gender = "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1";
        assert_eq!(t.contains(gender, Some("http://hl7.org/fhir/administrative-gender"), "male"), Ok(true));
        assert_eq!(t.contains(gender, None, "M"), Ok(false));
    }
}
