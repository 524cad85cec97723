//! FHIRPath's three-valued logic (`and`, `or`, `implies`, `xor` with an empty side), shared by
//! the evaluator and the presence mask so that both decide a constraint alike.

use super::parse::BinOp;

/// A FHIRPath boolean: `Some(true)`, `Some(false)`, or empty (`None`).
pub(crate) type Truth = Option<bool>;

/// Is `op` one of the boolean operators?
pub(crate) fn is_boolean(op: BinOp) -> bool {
    matches!(op, BinOp::And | BinOp::Or | BinOp::Implies | BinOp::Xor)
}

/// The result from the left side alone, when it settles it: the right side is then not
/// evaluated (so an error there is never met, as in the HL7 engines).
pub(crate) fn settled(op: BinOp, a: Truth) -> Option<Truth> {
    match (op, a) {
        (BinOp::And, Some(false)) => Some(Some(false)),
        (BinOp::Or, Some(true)) | (BinOp::Implies, Some(false)) => Some(Some(true)),
        _ => None,
    }
}

/// The result from both sides.
pub(crate) fn combine(op: BinOp, a: Truth, b: Truth) -> Truth {
    match op {
        BinOp::And => match (a, b) {
            (_, Some(false)) | (Some(false), _) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        BinOp::Or => match (a, b) {
            (_, Some(true)) | (Some(true), _) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        BinOp::Implies => match (a, b) {
            (Some(false), _) | (_, Some(true)) => Some(true),
            (Some(true), Some(false)) => Some(false),
            _ => None,
        },
        _ => match (a, b) {
            (Some(x), Some(y)) => Some(x != y),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_valued() {
        assert_eq!(combine(BinOp::And, None, Some(false)), Some(false));
        assert_eq!(combine(BinOp::And, None, Some(true)), None);
        assert_eq!(combine(BinOp::Or, None, Some(true)), Some(true));
        assert_eq!(combine(BinOp::Or, Some(false), None), None);
        assert_eq!(combine(BinOp::Implies, None, Some(true)), Some(true));
        assert_eq!(combine(BinOp::Implies, Some(true), None), None);
        assert_eq!(combine(BinOp::Xor, Some(true), None), None);
        assert_eq!(settled(BinOp::Implies, Some(false)), Some(Some(true)));
        assert_eq!(settled(BinOp::And, None), None);
    }
}
