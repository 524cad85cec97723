//! The constraints (invariants) of the R4 definitions — `per-1` on every Period, `obs-6` on every
//! Observation, `bdl-3` on every Bundle, … — evaluated with the FHIRPath engine (`crate::fhirpath`)
//! wherever their type is used: at any depth, in contained resources, in Bundle entries. The
//! expressions come from the definitions through the code generator; none is retyped here.
//!
//! As the HL7 validator (HealthLake's messages come from it): a constraint holds only when its
//! expression evaluates to `true`; `false`, an empty result, or an error in the evaluation fail it
//! (`FHIRPathEngine.convertToBoolean` makes an empty result `false`, and `checkInvariant` counts an
//! exception as a failure: InstanceValidator 5.1.15 L4742–4752, the same today). The finding has
//! the constraint's severity — error or warning — except the ones HL7 marks best practice
//! (`dom-6`, …), which are information unless raised (`Options::with_best_practice`).
//!
//! Not evaluated here: the keys that the JSON shape and other rules already decide (`ele-1`,
//! `ext-1`, `dom-2`–`dom-5`, `txt-1`, `txt-2`: see [`native`]) and the ones that cannot be
//! decided offline (see [`skipped`]): both tables are in the README.

use std::sync::OnceLock;

use crate::diagnostic::{Code, Finding, Findings, Message, Severity};
use crate::facts::{ObjectFacts, Path};
use crate::fhirpath::eval::{eval, passes, Env, Item, UNDECIDABLE};
use crate::fhirpath::node::{Known, Node, NodeType};
use crate::fhirpath::parse::{parse, Expr};
use crate::model::{Constraint, Model, TypeKind, ON_OBJECT};

/// Keys decided by other rules, where each one says so: the rule that implements it.
pub(crate) fn native(key: &str) -> Option<&'static str> {
    Some(match key {
        "ext-1" => "check/extension.rs (invariant/ext-1)",
        "dom-2" | "dom-4" | "dom-5" => "check/contained.rs (invariant/dom-2, dom-4, dom-5)",
        "dom-3" => "check/contained.rs (invariant/dom-3)",
        "txt-1" | "txt-2" => "check/xhtml.rs (invariant/txt-1, invariant/txt-2)",
        _ => return None,
    })
}

/// Why a constraint is not evaluated offline, if it is not.
pub(crate) fn skipped(c: &Constraint) -> Option<&'static str> {
    if c.expression.contains("resolve()") {
        return Some("resolves a reference to another resource, which is not in the line");
    }
    if c.expression.contains("memberOf(") || c.expression.contains("conformsTo(") {
        return Some("needs a terminology server or another profile");
    }
    if c.defined_in.starts_with("MetadataResource:") {
        return Some("MetadataResource is a logical model in R4, not a type any resource has");
    }
    None
}

/// Expressions of the R4 definitions that the HL7 validator replaces before it evaluates them
/// ("a hack work around for past publication of wrong FHIRPath expressions"): its
/// `InstanceValidator.fixExpr`, 5.1.15 L4914–4962, the R4 entries that match an R4 expression.
/// The ras-2 replacement names `probablility` (sic), which is always empty: ras-2 always holds.
const VALIDATOR_FIXES: &[(&str, &str)] = &[
    (
        "probability is decimal implies (probability as decimal) <= 100",
        "probablility.empty() or ((probability is decimal) implies ((probability as decimal) <= 100))",
    ),
    (
        "enableWhen.count() > 2 implies enableBehavior.exists()",
        "enableWhen.count() >= 2 implies enableBehavior.exists()",
    ),
];

/// The expression the HL7 validator evaluates for `expression`.
pub(crate) fn as_evaluated(expression: &'static str) -> &'static str {
    VALIDATOR_FIXES.iter().find(|(from, _)| *from == expression).map_or(expression, |(_, to)| to)
}

/// The parsed expression of each constraint of the model (`None`: not evaluated here).
fn compiled(model: &Model) -> &'static [Option<Expr>] {
    static R4: OnceLock<Vec<Option<Expr>>> = OnceLock::new();
    R4.get_or_init(|| {
        model
            .constraints()
            .iter()
            .map(|c| {
                if native(c.key).is_some() || skipped(c).is_some() {
                    return None;
                }
                // A test parses every expression: a failure here is a bug.
                parse(as_evaluated(c.expression)).ok()
            })
            .collect()
    })
}

/// Types with constraints to evaluate here.
pub(crate) fn has_constraints(t: &crate::model::TypeDef) -> bool {
    let model = Model::r4();
    let exprs = compiled(model);
    t.constraints.iter().any(|&(i, _)| exprs.get(usize::from(i)).is_some_and(Option::is_some))
}

/// The node type of an object of type `id`.
fn node_type(model: &Model, id: crate::model::TypeId) -> NodeType {
    if model.ty(id).kind == TypeKind::Resource {
        NodeType::Resource(id)
    } else {
        NodeType::Complex(id)
    }
}

/// Object rule: every constraint of the object's type, and of its elements' items.
pub(crate) fn check(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let model = o.line.model;
    let exprs = compiled(model);
    let object = Node::object(o.line, o.open, node_type(model, o.type_id));
    let resource = |at: Option<(usize, crate::model::TypeId)>| {
        at.map(|(offset, id)| Node::object(o.line, offset, NodeType::Resource(id)))
    };
    for &(index, on) in o.def.constraints {
        let Some(expr) = exprs.get(usize::from(index)).and_then(Option::as_ref) else { continue };
        let constraint = &model.constraints()[usize::from(index)];
        if on == ON_OBJECT {
            let env = Env {
                resource: resource(o.ctx.resource),
                root: resource(o.ctx.root_resource),
                context: Some(object),
                known: Some(Known { at: o.open, present: o.present }),
            };
            if !holds(expr, object, &env) {
                report(f, constraint, o.open, o.path.render());
            }
            continue;
        }
        let Some(element) = o.def.elements.get(usize::from(on)) else { continue };
        let name = element.name.strip_suffix("[x]").unwrap_or(element.name);
        let items = object.children(Some(name), Some(Known { at: o.open, present: o.present }));
        let member = Path::Member(o.path, name);
        for (i, item) in items.iter().enumerate() {
            let env = Env {
                resource: resource(o.ctx.resource),
                root: resource(o.ctx.root_resource),
                context: Some(*item),
                known: None,
            };
            if !holds(expr, *item, &env) {
                let path = if element.many { Path::Index(&member, i).render() } else { member.render() };
                report(f, constraint, item.value.or(item.ext).unwrap_or(o.open), path);
            }
        }
    }
}

/// Does the constraint hold on `focus`? An evaluation error fails it, as in the HL7 validator,
/// except what cannot be decided offline (quantities in different units), which never fails.
fn holds<'a>(expr: &Expr, focus: Node<'a>, env: &Env<'a>) -> bool {
    match eval(expr, &vec![Item::Node(focus)], env) {
        Ok(result) => passes(&result),
        Err(e) => e.0 == UNDECIDABLE,
    }
}

/// Constraints reported under a code of their own (the code a rule had before the constraint was
/// evaluated as such): the rest are `invariant/failed`.
fn code_of(c: &Constraint) -> Code {
    match c.key {
        "ref-1" => Code::ReferenceContainedUnresolved,
        _ => Code::InvariantFailed,
    }
}

#[cold]
fn report(f: &mut Findings, c: &Constraint, offset: usize, path: Option<Message>) {
    let severity = if c.best_practice {
        f.best_practice()
    } else if c.error {
        Severity::Error
    } else {
        Severity::Warning
    };
    // The HL7 validator's wording: `Constraint failed: per-1: 'If present, …'`.
    let message = Message::plain(format!("Constraint failed: {}: '{}'", c.key, c.human));
    let mut finding = Finding::new(code_of(c), message).at(offset).on(path).severity(severity);
    finding.key = Some(c.key.into());
    f.push(finding);
}
