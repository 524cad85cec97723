//! Every constraint evaluation of a line, passes included, for the differential oracle
//! (`cargo xtask invariant-oracle`, which has HL7's FHIRPath engine for JavaScript evaluate the same
//! expressions on the same elements) and for the README's tables of constraints. Not a stable API.
//!
//! Recording is off unless [`evaluations`] turns it on for the current thread, so validation pays
//! one thread-local read per object that has constraints.

use std::cell::{Cell, RefCell};

use crate::check::invariant;
use crate::model::Model;

/// One constraint evaluated on one element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// HL7's key: `per-1`.
    pub key: &'static str,
    /// The expression as evaluated (the HL7 validator's fixes applied).
    pub expression: &'static str,
    /// The element's FHIR path with JSON names and indexes: `Encounter.period`,
    /// `Bundle.entry[0].resource.contained[1].valuePeriod`.
    pub path: String,
    /// The element's type path, as FHIRPath engines name a partial resource's base: `Period`,
    /// `Patient.contact`, `Observation` (for an item, the holder's: see `item`).
    pub base: &'static str,
    /// The constraint holds (the expression gave `true`).
    pub holds: bool,
    /// For a constraint on an element's items (`sqty-1` on a `Quantity` element, `ras-1` on
    /// `probability[x]`): the element's FHIRPath name and the item's index, `base` then naming the
    /// object holding it (whose path is `path` without its last step).
    pub item: Option<(&'static str, usize)>,
}

/// What happens to a constraint of the R4 definitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Treatment {
    /// Evaluated by the FHIRPath engine.
    Evaluated,
    /// Decided by another rule, named.
    Native(&'static str),
    /// Not decidable offline, with the reason.
    Skipped(&'static str),
}

/// One constraint of the R4 definitions (keys repeat: `inv-1` is defined in three places).
#[derive(Clone, Debug)]
pub struct ConstraintInfo {
    pub key: &'static str,
    /// `true`: severity error; `false`: warning.
    pub error: bool,
    /// HL7 marks it best practice (reported as information by default).
    pub best_practice: bool,
    pub human: &'static str,
    /// As defined.
    pub expression: &'static str,
    /// As the HL7 validator evaluates it.
    pub evaluated: &'static str,
    /// `Type:element path` where it is defined.
    pub defined_in: &'static str,
    pub treatment: Treatment,
}

/// Every constraint of the R4 definitions and what fhir-preflight does with it.
pub fn constraints() -> Vec<ConstraintInfo> {
    Model::r4()
        .constraints()
        .iter()
        .map(|c| ConstraintInfo {
            key: c.key,
            error: c.error,
            best_practice: c.best_practice,
            human: c.human,
            expression: c.expression,
            evaluated: invariant::as_evaluated(c.expression),
            defined_in: c.defined_in,
            treatment: match (invariant::native(c.key), invariant::skipped(c)) {
                (Some(rule), _) => Treatment::Native(rule),
                (None, Some(why)) => Treatment::Skipped(why),
                (None, None) => Treatment::Evaluated,
            },
        })
        .collect()
}

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static LOG: RefCell<Vec<Evaluation>> = const { RefCell::new(Vec::new()) };
}

/// Recording is on (on this thread).
#[inline]
pub(crate) fn on() -> bool {
    ON.with(Cell::get)
}

/// Record one evaluation.
#[cold]
pub(crate) fn record(evaluation: Evaluation) {
    LOG.with(|log| log.borrow_mut().push(evaluation));
}

/// Validate one line (R4, default options) and return every constraint evaluation, in the order
/// of the walk.
pub fn evaluations(line: &[u8]) -> Vec<Evaluation> {
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            ON.with(|on| on.set(false));
        }
    }
    LOG.with(|log| log.borrow_mut().clear());
    ON.with(|on| on.set(true));
    let off = Off;
    let _ = crate::line::validate(line, 1, 0, &crate::Options::default());
    drop(off);
    LOG.with(|log| std::mem::take(&mut *log.borrow_mut()))
}
