//! Profiles: what HealthLake's default level (`strict`) adds to base R4 — each resource checked
//! against the profiles its `meta.profile` names, when an implementation guide HealthLake
//! supports defines them (US Core 3.1.1, the default, 4.0.0, 5.0.1, 6.1.0, 7.0.0), or any other
//! package loaded at run time ([`Profiles::with_package`]).
//!
//! - `fhir_preflight_definitions::package`: a FHIR package read (`.tgz`, its files, or the compact
//!   form embedded here);
//! - [`compile`]: a StructureDefinition's snapshot as a tree of element rules, compared with base
//!   R4;
//! - [`terminology`]: value sets expanded offline from the packages;
//! - [`validate`]: the engine, over the line's FHIRPath nodes;
//! - [`embedded`]: the five US Core versions and base R4's own profiles (`vitalsigns`, …),
//!   built in.
//!
//! Which profile applies (as HealthLake): a US Core canonical without a version is US Core 3.1.1
//! (or the version chosen with [`Profiles::with_us_core_version`]); `canonical|4.0.0` is that
//! version; every profile a resource names applies; one no package here defines is reported
//! (`profile/unchecked`, a warning, as the HL7 validator's `Validation_VAL_Profile_Unknown`).
//!
//! May import: `model`, `fhirpath`, `facts`, `diagnostic`, `json`, `check::reference`.

mod at;
pub(crate) mod compile;
pub(crate) mod cover;
mod embedded;
pub(crate) mod terminology;
pub(crate) mod validate;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use compile::Profile;
pub use fhir_preflight_definitions::package::{Package, PackageError};
use terminology::Terminology;

use crate::model::Model;

/// The prefix of US Core's canonicals.
const US_CORE: &str = "http://hl7.org/fhir/us/core/";

/// The prefix of base R4's canonicals (its types, and its profiles: `vitalsigns`, `bp`, …).
const R4_BASE: &str = "http://hl7.org/fhir/StructureDefinition/";

/// The profiles a run validates against: US Core (embedded, default version 3.1.1) and the
/// packages loaded. Cheap to clone (shared).
///
/// ```
/// use fhir_preflight::Profiles;
/// let profiles = Profiles::default().with_us_core_version("6.1.0")?;
/// assert_eq!(profiles.us_core_version(), "6.1.0");
/// assert!(Profiles::default().with_us_core_version("2.0.0").is_err());
/// assert_eq!(Profiles::US_CORE_VERSIONS, ["3.1.1", "4.0.0", "5.0.1", "6.1.0", "7.0.0"]);
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug)]
pub struct Profiles {
    pub(crate) set: Arc<ProfileSet>,
}

impl PartialEq for Profiles {
    /// The same US Core default and the same packages (by name and version).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.set, &other.set)
            || (self.us_core_version() == other.us_core_version() && self.packages() == other.packages())
    }
}

impl Eq for Profiles {}

impl Default for Profiles {
    /// US Core, every version, 3.1.1 for canonicals without a version (as HealthLake). One set per
    /// process: a US Core version is read once, whatever the number of runs.
    fn default() -> Self {
        static DEFAULT: OnceLock<Arc<ProfileSet>> = OnceLock::new();
        Profiles { set: Arc::clone(DEFAULT.get_or_init(|| Arc::new(ProfileSet::new("3.1.1".into(), Vec::new())))) }
    }
}

impl Profiles {
    /// The US Core versions embedded (HealthLake's supported ones).
    pub const US_CORE_VERSIONS: [&'static str; 5] = embedded::VERSIONS;

    /// Validate unversioned US Core canonicals against `version` (one of
    /// [`Profiles::US_CORE_VERSIONS`]).
    pub fn with_us_core_version(self, version: &str) -> Result<Profiles, String> {
        if !embedded::VERSIONS.contains(&version) {
            return Err(format!("US Core {version} is not one of {}", embedded::VERSIONS.join(", ")));
        }
        let packages = self.set.loaded.iter().map(|p| p.package.clone()).collect();
        Ok(Profiles { set: Arc::new(ProfileSet::new(version.to_owned(), packages)) })
    }

    /// Also validate against the profiles of `package` (give its dependencies the same way).
    pub fn with_package(self, package: Package) -> Profiles {
        let mut packages: Vec<Package> = self.set.loaded.iter().map(|p| p.package.clone()).collect();
        packages.push(package);
        Profiles { set: Arc::new(ProfileSet::new(self.set.us_core_default.clone(), packages)) }
    }

    /// The US Core version of canonicals without a version.
    pub fn us_core_version(&self) -> &str {
        &self.set.us_core_default
    }

    /// The packages loaded besides US Core: `(name, version)`.
    pub fn packages(&self) -> Vec<(String, String)> {
        self.set.loaded.iter().map(|p| (p.package.name.clone(), p.package.version.clone())).collect()
    }

    /// The value sets bound by the profiles checked so far that could not be expanded offline:
    /// `(value set, why, codes not checked)`, by value set (reported once per run; the counts are
    /// those since these profiles were made, shared by their clones).
    pub fn unchecked_bindings(&self) -> Vec<(String, String, u64)> {
        let map = self.set.unchecked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.iter().map(|(vs, (why, n))| (vs.clone(), why.clone(), *n)).collect()
    }

    /// [`Profiles::unchecked_bindings`] as one run note (line 0, `profile/binding-unchecked`), or
    /// none: what the CLI and the page print once at the end of a run.
    ///
    /// ```
    /// let profiles = fhir_preflight::Profiles::default();
    /// assert!(profiles.unchecked_binding_notes().is_empty());
    /// ```
    pub fn unchecked_binding_notes(&self) -> Vec<crate::Diagnostic> {
        Profiles::unchecked_binding_notes_of(self.unchecked_bindings())
    }

    /// [`Profiles::unchecked_bindings`] counted so far, and the count started again: for a run
    /// whose parts are validated apart (the browser page's workers), each part's share, which
    /// [`Profiles::unchecked_binding_notes_of`] turns into the run's note once added up.
    pub fn take_unchecked_bindings(&self) -> Vec<(String, String, u64)> {
        let mut map = self.set.unchecked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *map).into_iter().map(|(vs, (why, n))| (vs, why, n)).collect()
    }

    /// The run note of [`Profiles::unchecked_binding_notes`] for `unchecked` (value set, why,
    /// codes not checked; one entry per value set).
    ///
    /// ```
    /// use fhir_preflight::Profiles;
    /// let notes = Profiles::unchecked_binding_notes_of(vec![("http://x/vs".into(), "the value set http://x/vs is not here".into(), 2)]);
    /// assert_eq!(notes[0].code().as_str(), "profile/binding-unchecked");
    /// assert!(notes[0].message().starts_with("2 codes bound by a profile to 1 value set"));
    /// ```
    pub fn unchecked_binding_notes_of(mut unchecked: Vec<(String, String, u64)>) -> Vec<crate::Diagnostic> {
        if unchecked.is_empty() {
            return Vec::new();
        }
        unchecked.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let codes: u64 = unchecked.iter().map(|u| u.2).sum();
        let listed: Vec<String> = unchecked
            .iter()
            .take(UNCHECKED_LISTED)
            .map(|(vs, why, n)| format!("{vs} ({n}: {})", reason(vs, why)))
            .collect();
        let more = unchecked.len().saturating_sub(UNCHECKED_LISTED);
        let message = format!(
            "{codes} {} bound by a profile to {} value {} that cannot be expanded offline {} not checked: {}{}",
            if codes == 1 { "code" } else { "codes" },
            unchecked.len(),
            if unchecked.len() == 1 { "set" } else { "sets" },
            if codes == 1 { "was" } else { "were" },
            listed.join(", "),
            if more > 0 { format!(", and {more} more") } else { String::new() },
        );
        vec![crate::Diagnostic::note(crate::Code::ProfileBindingUnchecked, 0, message)]
    }
}

/// Why `vs` could not be expanded, without repeating its url.
fn reason<'w>(vs: &str, why: &'w str) -> &'w str {
    let own = why
        .strip_prefix("the value set ")
        .and_then(|w| w.strip_prefix(vs))
        .map(|w| w.trim_start().trim_start_matches("is "));
    own.or_else(|| why.strip_prefix(vs).and_then(|w| w.strip_prefix(": "))).unwrap_or(why)
}

/// How many unexpandable value sets the run note names.
const UNCHECKED_LISTED: usize = 5;

/// A package's StructureDefinitions by url, compiled on first use, and its terminology.
#[derive(Debug)]
struct Indexed {
    package: Package,
    /// url → (version, index in `package.structure_definitions`). Looked up for every resource
    /// that declares a profile: hashed with foldhash (the keys are the package's; the data only
    /// queries them).
    by_url: HashMap<String, Vec<(String, usize)>, foldhash::fast::RandomState>,
    compiled: Vec<OnceLock<Result<Arc<Profile>, String>>>,
    terminology: Terminology,
}

impl Indexed {
    fn new(package: Package) -> Indexed {
        let mut by_url: HashMap<String, Vec<(String, usize)>, _> = HashMap::default();
        for (i, sd) in package.structure_definitions.iter().enumerate() {
            let text = |k: &str| sd.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            by_url.entry(text("url")).or_default().push((text("version"), i));
        }
        let mut terminology = Terminology::default();
        terminology.add(&package.value_sets, &package.code_systems);
        let compiled = (0..package.structure_definitions.len()).map(|_| OnceLock::new()).collect();
        Indexed { package, by_url, compiled, terminology }
    }

    fn profile(&self, url: &str, version: Option<&str>) -> Option<Result<Arc<Profile>, String>> {
        let candidates = self.by_url.get(url)?;
        let (_, i) = match version {
            Some(v) => candidates.iter().find(|(cv, _)| cv == v)?,
            None => candidates.first()?,
        };
        Some(
            self.compiled[*i]
                .get_or_init(|| compile::compile(&self.package.structure_definitions[*i], Model::r4()).map(Arc::new))
                .clone(),
        )
    }
}

/// What a derived profile leaves of a base one (`None`: all of it).
type Covered = Option<Arc<cover::Residual>>;

/// The profiles of a run.
#[derive(Debug)]
pub(crate) struct ProfileSet {
    us_core_default: String,
    /// The US Core versions, read on first use.
    us_core: [OnceLock<Indexed>; 5],
    /// Base R4's profiles, read on first use.
    r4: OnceLock<Indexed>,
    loaded: Vec<Indexed>,
    /// Value sets that could not be expanded: why, and how many codes went unchecked.
    unchecked: Mutex<BTreeMap<String, (String, u64)>>,
    /// What a profile leaves to check of another it derives from (`cover`), by the pair's
    /// addresses (the profiles live as long as the set).
    covers: Mutex<HashMap<(usize, usize), Covered>>,
}

impl ProfileSet {
    fn new(us_core_default: String, packages: Vec<Package>) -> ProfileSet {
        ProfileSet {
            us_core_default,
            us_core: Default::default(),
            r4: OnceLock::new(),
            loaded: packages.into_iter().map(Indexed::new).collect(),
            unchecked: Mutex::default(),
            covers: Mutex::default(),
        }
    }

    /// What `derived` leaves to check of `base` after a resource passed it with nothing to
    /// report (`None`: all of it), computed once per pair.
    pub(crate) fn cover(&self, derived: &Arc<Profile>, base: &Arc<Profile>) -> Option<Arc<cover::Residual>> {
        let key = (Arc::as_ptr(derived) as usize, Arc::as_ptr(base) as usize);
        let mut covers = self.covers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        covers.entry(key).or_insert_with(|| cover::cover(derived, base).map(Arc::new)).clone()
    }

    fn us_core(&self, version: &str) -> Option<&Indexed> {
        let i = embedded::VERSIONS.iter().position(|v| *v == version)?;
        Some(self.us_core[i].get_or_init(|| Indexed::new(embedded::us_core(i))))
    }

    fn r4(&self) -> &Indexed {
        self.r4.get_or_init(|| Indexed::new(embedded::r4_profiles()))
    }

    /// Is the canonical one of base R4's types (`…/StructureDefinition/Patient`): the base rules
    /// check it.
    pub(crate) fn is_base_type(canonical: &str) -> bool {
        let (url, _) = split(canonical);
        url.strip_prefix(R4_BASE).is_some_and(crate::is_resource_type)
    }

    /// Does a canonical in `meta.profile` name a profile this set may define (cheap: no package
    /// is read)?
    pub(crate) fn may_define(&self, canonical: &str) -> bool {
        let (url, version) = split(canonical);
        if url.starts_with(US_CORE) {
            return version.is_none_or(|v| embedded::VERSIONS.contains(&v));
        }
        if url.starts_with(R4_BASE) && !Self::is_base_type(url) {
            return version.is_none_or(|v| v == "4.0.1");
        }
        self.loaded.iter().any(|p| p.by_url.contains_key(url))
    }

    /// The profile a canonical names, if a package here defines it (and it compiles). `context`:
    /// the profile it is named from (its package is searched first, so that an extension is its
    /// own version's).
    pub(crate) fn profile(&self, canonical: &str, context: Option<&Profile>) -> Option<Arc<Profile>> {
        self.lookup(canonical, context)?.ok()
    }

    /// The profile a canonical names: `None` when no package here defines it, `Err` when its
    /// definition cannot be used (why).
    pub(crate) fn lookup(&self, canonical: &str, context: Option<&Profile>) -> Option<Result<Arc<Profile>, String>> {
        let (url, version) = split(canonical);
        if url.starts_with(US_CORE) {
            let version =
                version.or_else(|| context.filter(|c| c.url.starts_with(US_CORE)).map(|c| c.version.as_str()));
            let version = version.unwrap_or(&self.us_core_default);
            return self.us_core(version)?.profile(url, Some(version));
        }
        if url.starts_with(R4_BASE) && version.is_none_or(|v| v == "4.0.1") {
            if let Some(found) = self.r4().profile(url, None) {
                return Some(found);
            }
        }
        if let Some(c) = context {
            // The package of the profile that names it, when it is a loaded one.
            if let Some(p) = self.loaded.iter().find(|p| p.by_url.contains_key(&c.url)) {
                if let Some(found) = p.profile(url, version) {
                    return Some(found);
                }
            }
        }
        self.loaded.iter().find_map(|p| p.profile(url, version))
    }

    /// The value set `vs` as the packages define it: the package of the profile that binds it
    /// first, then the others, then base R4's.
    pub(crate) fn expansion(&self, vs: &str, context: Option<&Profile>) -> Arc<terminology::Expansion> {
        let mut order: Vec<&Indexed> = Vec::new();
        if let Some(c) = context {
            if c.url.starts_with(US_CORE) {
                if let Some(p) = self.us_core(&c.version) {
                    order.push(p);
                }
            }
            if let Some(p) = self.loaded.iter().find(|p| p.by_url.contains_key(&c.url)) {
                order.push(p);
            }
        }
        order.extend(self.loaded.iter());
        if context.is_some_and(|c| c.url.starts_with(R4_BASE)) {
            order.push(self.r4());
        }
        let mut missing = None;
        for p in order {
            let e = p.terminology.expansion(vs);
            if !e.is_missing() {
                return e;
            }
            missing.get_or_insert(e);
        }
        let base = Terminology::base().expansion(vs);
        match missing {
            Some(m) if base.is_missing() => m,
            _ => base,
        }
    }

    /// A code that could not be checked against `vs` (reported once per run).
    pub(crate) fn note_unchecked(&self, vs: &str, why: &str) {
        let mut map = self.unchecked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let vs = compile::strip_version(vs);
        // Counted without allocating once the value set is listed (the usual case).
        match map.get_mut(vs) {
            Some((_, n)) => *n += 1,
            None => {
                map.insert(vs.to_owned(), (why.to_owned(), 1));
            }
        }
    }
}

/// `url|version` → (`url`, `version`).
fn split(canonical: &str) -> (&str, Option<&str>) {
    match memchr::memchr(b'|', canonical.as_bytes()) {
        Some(bar) => (&canonical[..bar], Some(&canonical[bar + 1..])),
        None => (canonical, None),
    }
}
