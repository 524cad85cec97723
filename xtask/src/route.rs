//! Routes into a JSON value (`entry`, `0`, `resource`, …), shared by the defect generator and the
//! invariant violations' generator.

use serde_json::Value;

/// A step into a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

pub(crate) fn get<'a>(root: &'a Value, route: &[Step]) -> Option<&'a Value> {
    route.iter().try_fold(root, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

pub(crate) fn get_mut<'a>(root: &'a mut Value, route: &[Step]) -> Option<&'a mut Value> {
    route.iter().try_fold(root, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}
