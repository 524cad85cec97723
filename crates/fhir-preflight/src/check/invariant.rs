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

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::diagnostic::{Code, Finding, Findings, Message, Severity};
use crate::facts::{Ctx, Line, ObjectFacts, Path};
use crate::fhirpath::eval::{eval, passes, Env, Item, UNDECIDABLE};
use crate::fhirpath::hoist::hoist;
use crate::fhirpath::mask::{self, Kept, Mask};
use crate::fhirpath::node::{Known, Node, NodeType};
use crate::fhirpath::parse::{parse, Expr};
use crate::fhirpath::presence::PresenceTable;
use crate::model::{Constraint, Model, TypeDef, TypeId, TypeKind, ON_OBJECT};

/// Keys decided by other rules, where each one says so: the rule that implements it.
pub(crate) fn native(key: &str) -> Option<&'static str> {
    Some(match key {
        "ext-1" => "check/extension.rs (invariant/ext-1)",
        "ele-1" => "the walk (json/empty-object) and check/shape.rs (an element with only an id)",
        "dom-2" | "dom-4" | "dom-5" => "check/contained.rs (invariant/dom-2, dom-4, dom-5)",
        "dom-3" => "check/contained.rs (invariant/dom-3)",
        "txt-1" | "txt-2" => "check/xhtml.rs (invariant/txt-1, invariant/txt-2)",
        _ => return None,
    })
}

/// Why an expression cannot be evaluated offline, if it cannot.
pub(crate) fn undecidable(expression: &str) -> Option<&'static str> {
    if expression.contains("resolve()") {
        return Some("resolves a reference to another resource, which is not in the line");
    }
    if expression.contains("memberOf(") || expression.contains("conformsTo(") {
        return Some("needs a terminology server or another profile");
    }
    None
}

/// Why a constraint is not evaluated offline, if it is not.
pub(crate) fn skipped(c: &Constraint) -> Option<&'static str> {
    if let Some(why) = undecidable(c.expression) {
        return Some(why);
    }
    if c.defined_in.starts_with("MetadataResource:") {
        return Some("MetadataResource is a logical model in R4, not a type any resource has");
    }
    None
}

/// Expressions that the HL7 validator replaces before it evaluates them ("a hack work around for
/// past publication of wrong FHIRPath expressions"): its `InstanceValidator.fixExpr`, 5.1.15
/// L4914–4962, every entry that replaces one expression by another (the R4 ones, and those that
/// profiles publish: US Core's `pd-1` is `telecom or endpoint`). The ras-2 replacement names
/// `probablility` (sic), which is always empty: ras-2 always holds.
const VALIDATOR_FIXES: &[(&str, &str)] = &[
    (
        "probability is decimal implies (probability as decimal) <= 100",
        "probablility.empty() or ((probability is decimal) implies ((probability as decimal) <= 100))",
    ),
    (
        "enableWhen.count() > 2 implies enableBehavior.exists()",
        "enableWhen.count() >= 2 implies enableBehavior.exists()",
    ),
    (
        "(component.empty() and hasMember.empty()) implies (dataAbsentReason or value)",
        "(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or value.exists())",
    ),
    ("isModifier implies isModifierReason.exists()", "(isModifier.exists() and isModifier) implies isModifierReason.exists()"),
    (
        "differential.element.all(id) and differential.element.id.trace('ids').isDistinct()",
        "differential.element.all(id.exists()) and differential.element.id.trace('ids').isDistinct()",
    ),
    (
        "snapshot.element.all(id) and snapshot.element.id.trace('ids').isDistinct()",
        "snapshot.element.all(id.exists()) and snapshot.element.id.trace('ids').isDistinct()",
    ),
    (
        "(code or value.empty()) and (system.empty() or system = 'urn:iso:std:iso:4217')",
        "(code.exists() or value.empty()) and (system.empty() or system = 'urn:iso:std:iso:4217')",
    ),
    ("value.empty() or code!=component.code", "value.empty() or (code in component.code).not()"),
    (
        "(code or value.empty()) and (system.empty() or system = %ucum) and (value.empty() or value > 0)",
        "(code.exists() or value.empty()) and (system.empty() or system = %ucum) and (value.empty() or value > 0)",
    ),
    ("element.all(definition and min and max)", "element.all(definition.exists() and min.exists() and max.exists())"),
    ("telecom or endpoint", "telecom.exists() or endpoint.exists()"),
    ("searchType implies type = 'string'", "searchType.exists() implies type = 'string'"),
    (
        "abatement.empty() or (abatement as boolean).not()  or clinicalStatus='resolved' or clinicalStatus='remission' or clinicalStatus='inactive'",
        "abatement.empty() or (abatement is boolean).not() or (abatement as boolean).not() or (clinicalStatus = 'resolved') or (clinicalStatus = 'remission') or (clinicalStatus = 'inactive')",
    ),
    (
        "(component.empty() and related.empty()) implies (dataAbsentReason or value)",
        "(component.empty() and related.empty()) implies (dataAbsentReason.exists() or value.exists())",
    ),
];

/// The expression the HL7 validator evaluates for `expression`.
pub(crate) fn as_evaluated(expression: &str) -> &str {
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
                parse(as_evaluated(c.expression)).ok().map(hoist)
            })
            .collect()
    })
}

/// One constraint to evaluate on objects of one type: the constraint, its parsed expression,
/// where it applies (`ON_OBJECT` or an element index), what the walk's facts decide of it, and
/// its message.
struct Planned {
    constraint: &'static Constraint,
    expr: &'static Expr,
    on: u8,
    mask: Mask,
    /// The mask's answers by presence, for a constraint on the object (`ON_OBJECT`).
    table: Option<PresenceTable>,
    /// For a constraint on an element: the mask on its items, by the property (JSON key) they
    /// are read from (a choice element has one per complex type).
    by_property: Box<[(u8, Mask)]>,
    message: String,
}

/// The HL7 validator's wording of a failed constraint: `Constraint failed: per-1: 'If present, …'`.
fn failure_message(c: &Constraint) -> String {
    format!("Constraint failed: {}: '{}'", c.key, c.human)
}

/// For each base type (by id), its constraints to evaluate, prepared once.
fn plans(model: &Model) -> &'static [Vec<Planned>] {
    static R4: OnceLock<Vec<Vec<Planned>>> = OnceLock::new();
    R4.get_or_init(|| {
        let exprs = compiled(model);
        let constraints = model.constraints();
        model
            .type_ids()
            .map(|id| {
                let t = model.ty(id);
                t.constraints
                    .iter()
                    .filter_map(|&(index, on)| {
                        let i = usize::from(index);
                        let expr = exprs.get(i)?.as_ref()?;
                        let resource = (t.kind == TypeKind::Resource).then_some(t);
                        let (mask, by_property) = match on {
                            ON_OBJECT => (mask::compile_in(expr, t, resource), Box::default()),
                            // A constraint on an element of a complex type (`sqty-1` on a
                            // SimpleQuantity element, or on `doseQuantity` of `dose[x]`):
                            // decided on each item's kept members, by the item's key.
                            _ => (Mask::Unknown, item_masks(model, t, on, expr)),
                        };
                        let constraint = &constraints[i];
                        let table = PresenceTable::of(&mask);
                        let message = failure_message(constraint);
                        Some(Planned { constraint, expr, on, mask, table, by_property, message })
                    })
                    .collect()
            })
            .collect()
    })
}

/// The masks of a constraint on element `on` of `t`, on its items of each complex type (not a
/// primitive or a resource), by property.
fn item_masks(model: &Model, t: &TypeDef, on: u8, expr: &Expr) -> Box<[(u8, Mask)]> {
    t.properties
        .iter()
        .enumerate()
        .filter(|(_, p)| p.element == on)
        .filter_map(|(i, p)| match p.ty {
            crate::model::Ty::Complex(id) => Some((i as u8, mask::compile(expr, model.ty(id)))),
            _ => None,
        })
        .filter(|(_, m)| *m != Mask::Unknown)
        .collect()
}

/// What the constraints read below the objects of type `id`, and so what the walk keeps for
/// them (`check::Keeps`): the paths their masks decide from the walk's facts, and the items of
/// the elements they are on. Whatever else the evaluator reads, it scans.
pub(crate) fn keeps(model: &Model, id: TypeId) -> mask::KeepBits {
    static R4: OnceLock<Vec<mask::KeepBits>> = OnceLock::new();
    let all = R4.get_or_init(|| {
        let mut keep = vec![mask::KeepBits::default(); model.type_ids().count()];
        for (t, plan) in plans(model).iter().enumerate() {
            let Ok(t) = TypeId::try_from(t) else { continue };
            let resource = (model.ty(t).kind == TypeKind::Resource).then_some(t);
            for p in plan {
                if p.on == ON_OBJECT {
                    mask::mark(&p.mask, t, false, resource, &mut keep);
                    continue;
                }
                keep[usize::from(t)].always |= 1 << p.on;
                for (property, m) in p.by_property.iter() {
                    if let crate::model::Ty::Complex(item) = model.ty(t).properties[usize::from(*property)].ty {
                        mask::mark(m, item, true, None, &mut keep);
                    }
                }
            }
        }
        keep
    });
    all.get(usize::from(id)).copied().unwrap_or_default()
}

/// Types with constraints to evaluate here.
pub(crate) fn has_constraints(t: &TypeDef) -> bool {
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

/// Object rule: every constraint of the object's type, and of its elements' items. The common
/// case — masks decide the object's own constraints, and they hold — stays in this small
/// function; the evaluator and the items of elements are out of line (the walk calls this on
/// most objects, and its code shares the instruction cache with the walk's).
pub(crate) fn check(o: &ObjectFacts<'_, '_>, f: &mut Findings) {
    let model = o.line.model;
    let Some(plan) = plans(model).get(usize::from(o.type_id)) else { return };
    let tracing = crate::oracle::on();
    // The walk kept every member of the object (and of the objects inside it: `facts::MemberIndex`).
    let resource = (o.def.kind == TypeKind::Resource).then_some(o.captured);
    let kept = Kept {
        present: o.present,
        members: o.captured,
        bytes: o.line.bytes,
        line: Some(&o.line),
        resource,
        contained: Some(o.contained),
    };
    for p in plan {
        if p.on == ON_OBJECT {
            let ok = match decide(&p.mask, p.table.as_ref(), &kept) {
                Ok(truth) => truth == Some(true),
                Err(()) => evaluate_object(o, p),
            };
            if tracing {
                trace(p.constraint, o.path.render(), o.def.name, None, ok);
            }
            if !ok {
                report(f, p, o.open, o.path.render());
            }
        } else if o.present & (1u64 << p.on) != 0 {
            // (No member names the element — a value, its `_x`, or only `null`s: no item to decide.)
            items(o, p, &kept, tracing, f);
        }
    }
}

/// The object's constraint `p`, evaluated.
#[inline(never)]
fn evaluate_object(o: &ObjectFacts<'_, '_>, p: &Planned) -> bool {
    let (object, known) = focus(o);
    holds(p.expr, object, &env_of(&o.line, o.ctx, object, Some(known)))
}

/// The object as the evaluator's focus, with what the walk knows of it.
fn focus<'x>(o: &'x ObjectFacts<'_, '_>) -> (Node<'x>, Known<'x>) {
    let known = Known { at: o.open, present: o.present, members: Some(o.captured) };
    (Node::object(&o.line, o.open, node_type(o.line.model, o.type_id)), known)
}

/// Constraint `p` on the items of one element of the object.
#[inline(never)]
fn items(o: &ObjectFacts<'_, '_>, p: &'static Planned, kept: &Kept<'_>, tracing: bool, f: &mut Findings) {
    let Some(element) = o.def.elements.get(usize::from(p.on)) else { return };
    let (object, known) = focus(o);
    let name = element.name.strip_suffix("[x]").unwrap_or(element.name);
    let items = object.children(Some(name), Some(known));
    // The JSON key names the element in paths (`doseQuantity` for `dose[x]`).
    let first = o.captured.iter().find(|c| c.element == p.on && !c.ext);
    let key = first.map_or(name, |c| o.def.properties[usize::from(c.property)].key);
    let item_mask = first.and_then(|c| p.by_property.iter().find(|(prop, _)| *prop == c.property)).map(|(_, m)| m);
    let member = Path::Member(o.path, key);
    for (i, item) in items.iter().enumerate() {
        let decided = match (item.value(), item_mask) {
            (None, _) | (_, None) => Err(()),
            (Some(open), Some(m)) => match o.line.members.get(open) {
                Some(members) => {
                    let present = mask::present_bits(&members);
                    decide(m, None, &Kept { present, members: &members, resource: None, ..*kept })
                }
                None => Err(()),
            },
        };
        let ok = match decided {
            Ok(truth) => truth == Some(true),
            Err(()) => holds(p.expr, *item, &env_of(&o.line, o.ctx, *item, None)),
        };
        let path = || if element.many { Path::Index(&member, i).render() } else { member.render() };
        if tracing {
            trace(p.constraint, path(), o.def.name, Some((name, i)), ok);
        }
        if !ok {
            report(f, p, item.value().or(item.ext()).unwrap_or(o.open), path());
        }
    }
}

/// What the walk's facts decide of a constraint (`Err(())`: evaluate it): the presence table's
/// answer when it has one, else the mask's. Tests turn this off to check that the evaluator gives
/// the same verdicts.
#[inline]
fn decide(mask: &Mask, table: Option<&PresenceTable>, kept: &Kept<'_>) -> Result<mask::Truth, ()> {
    #[cfg(test)]
    if tests::EVALUATE_ALL.with(std::cell::Cell::get) {
        return Err(());
    }
    if let Some(truth) = table.and_then(|t| t.lookup(kept.present)) {
        return Ok(truth);
    }
    mask.decide(kept)
}

/// What an expression on `context` can refer to besides it.
fn env_of<'x>(line: &'x Line<'x>, ctx: Ctx, context: Node<'x>, known: Option<Known<'x>>) -> Env<'x> {
    let resource = |at: Option<(u32, crate::model::TypeId)>| {
        at.map(|(offset, id)| Node::object(line, offset as usize, NodeType::Resource(id)))
    };
    Env { resource: resource(ctx.resource), root: resource(ctx.root_resource), context: Some(context), known }
}

#[cold]
fn trace(c: &Constraint, path: Option<Message>, base: &'static str, item: Option<(&'static str, usize)>, holds: bool) {
    crate::oracle::record(crate::oracle::Evaluation {
        key: c.key,
        expression: as_evaluated(c.expression),
        path: path.map(|p| p.render(crate::diagnostic::Redaction::Off)).unwrap_or_default(),
        base,
        holds,
        item,
    });
}

/// Does the constraint hold on `focus`? An evaluation error fails it, as in the HL7 validator,
/// except what cannot be decided offline (quantities in different units), which never fails.
fn holds<'a>(expr: &Expr, focus: Node<'a>, env: &Env<'a>) -> bool {
    match eval(expr, &smallvec::smallvec![Item::Node(focus)], env) {
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
fn report(f: &mut Findings, p: &'static Planned, offset: usize, path: Option<Message>) {
    push_failure(f, p.constraint, Cow::Borrowed(&p.message), offset, path);
}

fn push_failure(
    f: &mut Findings,
    c: &'static Constraint,
    message: Cow<'static, str>,
    offset: usize,
    path: Option<Message>,
) {
    let severity = if c.best_practice {
        f.best_practice()
    } else if c.error {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut finding = Finding::new(code_of(c), Message::plain(message)).at(offset).on(path).severity(severity);
    finding.key = Some(c.key.into());
    f.push(finding);
}

/// Report the constraint `key` failed, for a rule that decides it natively (`ele-1` on an element
/// with only an id), in the same wording, code and severity as an evaluated one.
#[cold]
pub(crate) fn report_key(f: &mut Findings, model: &Model, key: &str, offset: usize, path: Option<Message>) {
    if let Some(c) = model.constraints().iter().find(|c| c.key == key) {
        push_failure(f, c, Cow::Owned(failure_message(c)), offset, path);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    thread_local! {
        /// Every constraint goes to the evaluator (the presence mask is not asked).
        pub(crate) static EVALUATE_ALL: Cell<bool> = const { Cell::new(false) };
    }

    /// (key, path, holds) of every constraint evaluated on `line`.
    fn verdicts(line: &str) -> Vec<(&'static str, String, bool)> {
        crate::oracle::evaluations(line.as_bytes()).into_iter().map(|e| (e.key, e.path, e.holds)).collect()
    }

    /// An Observation with a value and a component whose code has `coding`, and the code
    /// `{"coding":[{"system":"http://loinc.org","code":"8480-6"}]}`.
    fn obs7(coding: &str) -> String {
        format!(
            r#"{{"resourceType":"Observation","id":"o","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"85354-9"}},{{"system":"http://loinc.org","code":"8480-6"}}]}},"valueString":"v","component":[{{"code":{{"coding":[{{"system":"http://loinc.org","code":"8462-4"}}]}}}},{{"code":{{"coding":[{coding}]}}}}]}}"#
        )
    }

    /// A Bundle of `type` with these entries (their resource added).
    fn bundle(ty: &str, entries: &str) -> String {
        let entries = entries.replace(r#"{"request""#, r#"{"resource":{"resourceType":"Patient","id":"p"},"request""#);
        format!(r#"{{"resourceType":"Bundle","id":"b","type":"{ty}","entry":[{entries}]}}"#)
    }

    /// Every R4 constraint's presence table gives the mask's own answer on every combination it
    /// settles (an object with no member read: `decide` sees presence only), and settles some.
    #[test]
    fn presence_tables_answer_as_the_masks() {
        use super::{plans, Kept, Line, Model, ON_OBJECT};
        let model = Model::r4();
        let members = crate::facts::MemberIndex::default();
        let line = Line { bytes: b"{}", text: "{}", model, members: &members, profiles: None };
        let (mut tables, mut settled) = (0, 0);
        for plan in plans(model) {
            for p in plan.iter().filter(|p| p.on == ON_OBJECT) {
                let Some(table) = p.table else { continue };
                tables += 1;
                // Every combination of the elements the table covers (the others absent).
                for present in table.combinations() {
                    let Some(answer) = table.lookup(present) else { continue };
                    settled += 1;
                    let kept = Kept {
                        present,
                        members: &[],
                        bytes: b"{}",
                        line: Some(&line),
                        resource: None,
                        contained: None,
                    };
                    assert_eq!(Ok(answer), p.mask.decide(&kept), "{}: presence {present:#x}", p.constraint.key);
                }
            }
        }
        assert!(tables > 200 && settled > 500, "{tables} tables, {settled} answers");
    }

    /// The verdicts decided from the walk's facts (nested paths, `where(…)` criteria, items of
    /// elements, numbers, dates) are the evaluator's, line by line.
    #[test]
    fn decided_as_evaluated() {
        let cond = r#""resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"}"#;
        let ver = |code: &str| {
            format!(
                r#""verificationStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"{code}"}}]}}"#
            )
        };
        let clinical = r#""clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}"#;
        let lines = [
            format!("{{{cond},{},{clinical}}}", ver("entered-in-error")),
            format!("{{{cond},{},{clinical}}}", ver("confirmed")),
            format!("{{{cond},{}}}", ver("entered-in-error")),
            format!(r#"{{{cond},"verificationStatus":{{"coding":[{{"code":"entered-in-error"}},null]}},{clinical}}}"#),
            format!(r#"{{{cond},"verificationStatus":{{"text":"x"}},{clinical}}}"#),
            r#"{"resourceType":"Patient","id":"p","text":{"status":"generated"}}"#.to_owned(),
            r#"{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}"#.to_owned(),
            r#"{"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p"},"medicationCodeableConcept":{"text":"x"},"dispenseRequest":{"quantity":{"value":1,"comparator":"<"}},"dosageInstruction":[{"timing":{"repeat":{"period":-1,"periodUnit":"d"}}},{"timing":{"repeat":{"period":0.5,"periodUnit":"d"}}},{"timing":{"repeat":{"period":1e400,"periodUnit":"d"}}}]}"#.to_owned(),
            r#"{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"period":{"start":"2020-01-02T11:00:00.25+01:00","end":"2020-01-02T09:30:00Z"}}"#.to_owned(),
            r#"{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"period":{"start":"2020-01-02","end":"2020-01-02T09:30:00Z"}}"#.to_owned(),
            r##"{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"contained":[{"resourceType":"Patient","id":"p"}],"subject":{"reference":"#p"},"serviceProvider":{"reference":"\u0023q"},"partOf":{"reference":"#"}}"##.to_owned(),
            // obs-7: a component's code among the Observation's codings (equal, equal but for a
            // display, escaped, with an extension), and choice items (`doseQuantity`, `doseRange`).
            obs7(r#"{"system":"http://loinc.org","code":"8480-6"}"#),
            obs7(r#"{"system":"http://loinc.org","code":"8480-6","display":"x"}"#),
            obs7(r#"{"system":"http://loinc.org","code":"8480\u002d6"}"#),
            obs7(r#"{"system":"http://loinc.org","code":"8480-6","extension":[{"url":"http://x","valueString":"y"}]}"#),
            obs7(r#"{"code":"8480-6","system":"http://loinc.org"}"#),
            r#"{"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order","subject":{"reference":"Patient/p"},"medicationCodeableConcept":{"text":"x"},"dosageInstruction":[{"doseAndRate":[{"doseQuantity":{"value":1,"comparator":"<"}},{"doseRange":{"low":{"value":1}}},{"doseQuantity":{"value":2}}]}]}"#.to_owned(),
            // ref-1: contained before the reference (decided from the ids read so far), after it,
            // nested in a contained resource (not one of %rootResource.contained), in a Bundle entry.
            r##"{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"subject":{"reference":"#p"},"contained":[{"resourceType":"Patient","id":"p"}]}"##.to_owned(),
            r##"{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"contained":[{"resourceType":"Group","id":"g","type":"person","actual":true,"contained":[{"resourceType":"Patient","id":"p"}]}],"subject":{"reference":"#p"}}"##.to_owned(),
            r##"{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},"contained":[{"resourceType":"Patient","id":"p"}],"subject":{"reference":"#p"},"partOf":{"reference":"#q"}}}]}"##.to_owned(),
            // bdl-3, bdl-4: entry.all(request.exists() = (%resource.type = …)).
            bundle("transaction", r#"{"request":{"method":"POST","url":"Patient"}},{"request":{"method":"POST","url":"Patient"}}"#),
            bundle("transaction", r#"{"request":{"method":"POST","url":"Patient"}},{"fullUrl":"urn:uuid:2"}"#),
            bundle("batch-response", r#"{"response":{"status":"200"}},null,{"response":{"status":"201"}}"#),
            bundle("collection", r#"{"request":{"method":"POST","url":"Patient"}}"#),
            bundle("history", r#"{"request":{"method":"PUT","url":"Patient/1"},"response":{"status":"200"}}"#),
            bundle("searchset", ""),
            // bdl-7: fullUrl & resource.meta.versionId distinct among the entries with a fullUrl:
            // the same fullUrl twice (no meta), with different and equal versionIds, in a
            // history Bundle, two entries without one, strings equal only once concatenated,
            // an escaped fullUrl and one with only an extension (for the evaluator).
            collection(&[entry("urn:uuid:1", ""), entry("urn:uuid:2", ""), entry("urn:uuid:1", "")]),
            collection(&[entry("urn:uuid:1", "1"), entry("urn:uuid:1", "2")]),
            collection(&[entry("urn:uuid:1", "1"), entry("urn:uuid:2", "1"), entry("urn:uuid:1", "1")]),
            r#"{"resourceType":"Bundle","id":"b","type":"history","entry":[{"fullUrl":"urn:uuid:1","request":{"method":"PUT","url":"Patient/1"},"response":{"status":"200"}},{"fullUrl":"urn:uuid:1","request":{"method":"PUT","url":"Patient/1"},"response":{"status":"200"}}]}"#.to_owned(),
            collection(&[r#"{"resource":{"resourceType":"Patient","id":"p"}}"#.to_owned(), r#"{"resource":{"resourceType":"Patient","id":"q"}}"#.to_owned()]),
            collection(&[entry("urn:uuid:11", ""), entry("urn:uuid:1", "1")]),
            collection(&[entry("urn:uuid:1", ""), entry(r"urn:uuid:\u0031", "")]),
            collection(&[entry("urn:uuid:1", ""), r#"{"_fullUrl":{"extension":[{"url":"http://x","valueString":"y"}]},"resource":{"resourceType":"Patient","id":"p"}}"#.to_owned()]),
        ];
        for line in &lines {
            let decided = verdicts(line);
            EVALUATE_ALL.with(|e| e.set(true));
            let evaluated = verdicts(line);
            EVALUATE_ALL.with(|e| e.set(false));
            assert_eq!(decided, evaluated, "{line}");
            assert!(!decided.is_empty(), "{line}");
        }
        let failed = |line: &str, key: &str| verdicts(line).iter().any(|(k, _, holds)| *k == key && !holds);
        assert!(failed(&lines[0], "con-5") && !failed(&lines[1], "con-5") && !failed(&lines[2], "con-5"));
        assert!(!failed(&lines[3], "con-5"), "a Coding without system does not match: con-5 holds");
        assert!(failed(&lines[5], "dom-6") && !failed(&lines[6], "dom-6"));
        assert!(failed(&lines[7], "sqty-1") && failed(&lines[7], "tim-5"));
        assert!(failed(&lines[8], "per-1"));
        assert!(failed(&lines[11], "obs-7") && !failed(&lines[12], "obs-7") && failed(&lines[15], "obs-7"));
        assert!(failed(&lines[16], "sqty-1"));
        assert!(!failed(&lines[17], "ref-1") && failed(&lines[18], "ref-1") && failed(&lines[19], "ref-1"));
        assert!(!failed(&lines[20], "bdl-3") && failed(&lines[21], "bdl-3") && !failed(&lines[22], "bdl-4"));
        assert!(failed(&lines[23], "bdl-3") && !failed(&lines[24], "bdl-3") && !failed(&lines[24], "bdl-4"));
        assert!(failed(&lines[26], "bdl-7") && !failed(&lines[27], "bdl-7") && failed(&lines[28], "bdl-7"));
        assert!(!failed(&lines[29], "bdl-7") && !failed(&lines[30], "bdl-7") && failed(&lines[31], "bdl-7"));
        assert!(failed(&lines[32], "bdl-7") && !failed(&lines[33], "bdl-7"));
    }

    /// A collection Bundle of these entries.
    fn collection(entries: &[String]) -> String {
        format!(r#"{{"resourceType":"Bundle","id":"b","type":"collection","entry":[{}]}}"#, entries.join(","))
    }

    /// An entry with this fullUrl, its Patient with this meta.versionId (none: no meta).
    fn entry(full_url: &str, version: &str) -> String {
        let meta = if version.is_empty() { String::new() } else { format!(r#","meta":{{"versionId":"{version}"}}"#) };
        format!(r#"{{"fullUrl":"{full_url}","resource":{{"resourceType":"Patient","id":"p"{meta}}}}}"#)
    }
}
