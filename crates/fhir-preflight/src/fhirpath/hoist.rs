//! Sub-expressions that do not depend on the item being iterated are evaluated once: in
//! `component.code.where(coding.intersect(%resource.code.coding).exists())` (obs-7) the
//! `%resource.code.coding` is the same for every component, and in `entry.all(request.exists() =
//! (%resource.type = 'batch' or …))` (bdl-3) the right side is the same for every entry. [`hoist`]
//! wraps each such sub-expression inside an iteration's argument in [`Expr::Fixed`], whose value
//! the evaluator keeps for the rest of the evaluation.

use super::parse::Expr;

/// Functions whose argument is evaluated once per item of their focus.
const ITERATING: &[&str] = &["where", "select", "all", "exists", "repeat", "any", "aggregate"];

/// Does `e` give the same value wherever it is evaluated (in one evaluation)?
fn fixed(e: &Expr) -> bool {
    match e {
        Expr::Empty
        | Expr::Bool(_)
        | Expr::Int(_)
        | Expr::Dec(_)
        | Expr::Str(_)
        | Expr::DateTime(_)
        | Expr::Quantity(..)
        | Expr::Var(_) => true,
        Expr::This | Expr::Index | Expr::Total | Expr::Ident(_) | Expr::Call(None, ..) => false,
        Expr::Fixed(..) => true,
        Expr::Member(t, _) | Expr::Neg(t) | Expr::Is(t, _) | Expr::As(t, _) => fixed(t),
        Expr::Indexer(t, i) => fixed(t) && fixed(i),
        Expr::Binary(_, a, b) => fixed(a) && fixed(b),
        Expr::Call(Some(t), f, args) => fixed(t) && (ITERATING.contains(&f.as_str()) || args.iter().all(fixed)),
    }
}

fn literal(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Empty
            | Expr::Bool(_)
            | Expr::Int(_)
            | Expr::Dec(_)
            | Expr::Str(_)
            | Expr::DateTime(_)
            | Expr::Quantity(..)
    )
}

/// `e` with the fixed sub-expressions inside iterations wrapped; slots numbered from 0.
pub(crate) fn hoist(e: Expr) -> Expr {
    let mut slots = 0;
    walk(e, false, &mut slots)
}

fn walk(e: Expr, in_iteration: bool, slots: &mut usize) -> Expr {
    if in_iteration && !literal(&e) && fixed(&e) {
        let slot = *slots;
        *slots += 1;
        return Expr::Fixed(slot, Box::new(e));
    }
    let mut go = |x: Box<Expr>, inside: bool| Box::new(walk(*x, inside, slots));
    match e {
        Expr::Member(t, name) => Expr::Member(go(t, in_iteration), name),
        Expr::Indexer(t, i) => {
            let t = go(t, in_iteration);
            Expr::Indexer(t, go(i, in_iteration))
        }
        Expr::Neg(t) => Expr::Neg(go(t, in_iteration)),
        Expr::Is(t, ty) => Expr::Is(go(t, in_iteration), ty),
        Expr::As(t, ty) => Expr::As(go(t, in_iteration), ty),
        Expr::Binary(op, a, b) => {
            let a = go(a, in_iteration);
            Expr::Binary(op, a, go(b, in_iteration))
        }
        Expr::Call(target, f, args) => {
            let target = target.map(|t| go(t, in_iteration));
            let inside = in_iteration || ITERATING.contains(&f.as_str());
            let args = args.into_iter().map(|a| walk(a, inside, slots)).collect();
            Expr::Call(target, f, args)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhirpath::parse::parse;

    #[test]
    fn hoisted() {
        let e = hoist(parse("component.code.where(coding.intersect(%resource.code.coding).exists())").unwrap());
        let text = format!("{e:?}");
        assert!(text.contains("Fixed(0, Member(Member(Var(\"resource\"), \"code\"), \"coding\"))"), "{text}");
        // Nothing outside an iteration, and no literal alone.
        let e = hoist(parse("%resource.type = 'batch' or code.where($this = 'x').exists()").unwrap());
        assert!(!format!("{e:?}").contains("Fixed"), "{e:?}");
    }
}
