//! FHIRPath, in one place: the parser ([`parse`]), FHIRPath's values and their comparisons
//! ([`value`]), the resource read lazily from the line as FHIRPath nodes ([`node`]), the
//! evaluator ([`eval`]), and what the walk's facts decide without it ([`mask`], tabulated by
//! presence in [`presence`]). The invariants of the R4 definitions (`crate::check::invariant`) are the
//! user; profiles' invariants will be the next.
//!
//! May import: `json` (the scanner), `model`, `facts` (the line). Not `walk` or `check`.

pub(crate) mod eval;
pub(crate) mod hoist;
pub(crate) mod logic;
pub(crate) mod mask;
pub(crate) mod node;
pub(crate) mod parse;
pub(crate) mod presence;
pub(crate) mod value;

use std::cell::RefCell;
use std::collections::HashMap;

/// The regular expression `pattern` as the 2020 HL7 validator applies `matches()`: to the whole
/// string (Java's `String.matches`), compiled once per thread.
pub(crate) fn regex(pattern: &str) -> Result<regex::Regex, eval::EvalError> {
    thread_local! {
        static CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        if let Some(re) = cache.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let re = regex::Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| eval::EvalError(format!("invalid regular expression: {e}")))?;
        cache.borrow_mut().insert(pattern.to_owned(), re.clone());
        Ok(re)
    })
}
