//! Evaluation of an [`Expr`] over lazy [`Node`]s, with FHIRPath's semantics as the HL7 Java
//! engine (`FHIRPathEngine`) and HL7's JavaScript engine (npm `fhirpath`) apply them: empty
//! collections propagate through operators and functions, `and`/`or`/`xor`/`implies` are
//! three-valued, a single non-boolean item is `true` in a boolean context, comparisons of dates
//! across precisions are empty, decimals compare as decimals, strings by code points.
//!
//! An error (a function given several items where it takes one, a comparison of a string with a
//! number, a function this engine does not have) ends the evaluation: the HL7 validator then
//! fails the constraint, and so does the caller here — except for the functions the caller
//! knows are not evaluated offline (see `crate::check::invariant`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;

use smallvec::{smallvec, SmallVec};

use super::logic;
use super::node::{Known, Node, NodeType};
use super::parse::{BinOp, Expr};
use super::value::{Decimal, Moment};
use crate::json::scan::Token;
use crate::model::Prim;

/// One item of a collection.
#[derive(Clone, Debug)]
pub(crate) enum Item<'a> {
    Node(Node<'a>),
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Str(Cow<'a, str>),
    /// Boxed, as the quantities below: items stay small (most are nodes), and evaluation moves
    /// them a lot.
    Date(Box<Moment>),
    Time(Box<Moment>),
    Quantity(Box<(Decimal, String)>),
}

/// A collection: most have zero or one item, kept inline.
pub(crate) type Coll<'a> = SmallVec<[Item<'a>; 1]>;

/// Why an evaluation stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EvalError(pub(crate) String);

/// The message of an evaluation that cannot be decided offline (quantities in different units
/// need UCUM conversion): the caller neither passes nor fails the constraint.
pub(crate) const UNDECIDABLE: &str = "undecidable offline";

type Res<'a> = Result<Coll<'a>, EvalError>;

fn err<T>(what: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(what.into()))
}

/// What an expression can refer to besides its focus.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Env<'a> {
    /// `%resource`: the resource the focus is in.
    pub(crate) resource: Option<Node<'a>>,
    /// `%rootResource`: for a contained resource, its container; else `%resource`.
    pub(crate) root: Option<Node<'a>>,
    /// `%context`: the focus the evaluation started from.
    pub(crate) context: Option<Node<'a>>,
    /// The checked object's presence mask.
    pub(crate) known: Option<Known<'a>>,
}

/// Evaluate `expr` with `focus` as `$this`.
pub(crate) fn eval<'a>(expr: &Expr, focus: &Coll<'a>, env: &Env<'a>) -> Res<'a> {
    Eval { env, fixed: RefCell::default() }.expr(expr, focus, None)
}

/// Does the result pass a constraint? Only a single `true` does, as for the HL7 validator
/// (`FHIRPathEngine.convertToBoolean`: an empty result fails; a single non-boolean item passes).
pub(crate) fn passes(result: &Coll<'_>) -> bool {
    match result.as_slice() {
        [] => false,
        [one] => match to_value(one) {
            Some(Item::Bool(b)) => b,
            _ => true,
        },
        _ => true,
    }
}

/// A primitive node's value (other items: themselves); `None` for a primitive without a value.
fn to_value<'a>(item: &Item<'a>) -> Option<Item<'a>> {
    let Item::Node(node) = item else { return Some(item.clone()) };
    let NodeType::Prim(prim) = node.ty else { return Some(item.clone()) };
    let token = node.token()?;
    let line = node.line;
    Some(match (prim, token) {
        (Prim::Boolean, Token::Bool(b)) => Item::Bool(b),
        (Prim::Integer | Prim::PositiveInt | Prim::UnsignedInt, Token::Number(s, e)) => {
            Item::Int(line.text.get(s as usize..e as usize)?.parse().ok()?)
        }
        (Prim::Decimal, Token::Number(s, e)) => Item::Dec(Decimal::parse(line.text.get(s as usize..e as usize)?)?),
        (Prim::Date | Prim::DateTime | Prim::Instant, Token::String(s)) => {
            let text = s.str_in(line.text);
            match Moment::parse_date_time(&text) {
                Some(m) => Item::Date(Box::new(m)),
                None => Item::Str(text),
            }
        }
        (Prim::Time, Token::String(s)) => {
            let text = s.str_in(line.text);
            match Moment::parse_time(&text) {
                Some(m) => Item::Time(Box::new(m)),
                None => Item::Str(text),
            }
        }
        (_, Token::String(s)) => Item::Str(s.str_in(line.text)),
        _ => return None,
    })
}

/// The items' values (primitives without a value dropped); nodes of complex types stay nodes.
fn values<'a>(coll: &Coll<'a>) -> Coll<'a> {
    coll.iter().filter_map(to_value).collect()
}

/// Three-valued truth of a collection (HL7's `asBool`).
fn truth(coll: &Coll<'_>) -> Result<Option<bool>, EvalError> {
    match coll.as_slice() {
        [] => Ok(None),
        [one] => match to_value(one) {
            Some(Item::Bool(b)) => Ok(Some(b)),
            None => Ok(None),
            _ => Ok(Some(true)),
        },
        _ => err("a collection of several items used as a boolean"),
    }
}

fn boolean<'a>(b: Option<bool>) -> Coll<'a> {
    b.map(|b| smallvec![Item::Bool(b)]).unwrap_or_default()
}

/// The single value of a collection, or `None` when empty.
fn single<'a>(coll: &Coll<'a>) -> Result<Option<Item<'a>>, EvalError> {
    match coll.as_slice() {
        [] => Ok(None),
        [one] => Ok(to_value(one)),
        _ => err("several items where one is expected"),
    }
}

fn string<'a>(coll: &Coll<'a>) -> Result<Option<Cow<'a, str>>, EvalError> {
    match single(coll)? {
        None => Ok(None),
        Some(Item::Str(s)) => Ok(Some(s)),
        Some(_) => err("a string is expected"),
    }
}

/// Equality of two values: `Some(bool)`, or `None` when it cannot be decided (dates of different
/// precision).
fn equal(a: &Item<'_>, b: &Item<'_>) -> Option<bool> {
    match (a, b) {
        (Item::Node(x), Item::Node(y)) => {
            Some(x.deep_equal(y, &|p, q| match (to_value(&Item::Node(*p)), to_value(&Item::Node(*q))) {
                (Some(a), Some(b)) => equal(&a, &b) == Some(true),
                (None, None) => true,
                _ => false,
            }))
        }
        (Item::Bool(x), Item::Bool(y)) => Some(x == y),
        (Item::Str(x), Item::Str(y)) => Some(x == y),
        (Item::Int(x), Item::Int(y)) => Some(x == y),
        (Item::Int(x), Item::Dec(y)) | (Item::Dec(y), Item::Int(x)) => {
            Some(Decimal::from_int(*x).cmp(y) == Ordering::Equal)
        }
        (Item::Dec(x), Item::Dec(y)) => Some(x.cmp(y) == Ordering::Equal),
        (Item::Date(x), Item::Date(y)) | (Item::Time(x), Item::Time(y)) => x.compare(y).map(|o| o == Ordering::Equal),
        (Item::Quantity(x), Item::Quantity(y)) => Some(x.1 == y.1 && x.0.cmp(&y.0) == Ordering::Equal),
        _ => Some(false),
    }
}

/// Are two nodes equal as `=` and `intersect` compare them (complex ones property by property)?
pub(crate) fn nodes_equal(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (to_value(&Item::Node(*a)), to_value(&Item::Node(*b))) {
        (Some(x), Some(y)) => equal(&x, &y) == Some(true),
        _ => false,
    }
}

/// Equivalence: strings ignore case and collapse whitespace; dates of different precision differ.
fn equivalent(a: &Item<'_>, b: &Item<'_>) -> bool {
    match (a, b) {
        (Item::Str(x), Item::Str(y)) => {
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            norm(x) == norm(y)
        }
        (Item::Date(x), Item::Date(y)) | (Item::Time(x), Item::Time(y)) => x.compare(y) == Some(Ordering::Equal),
        _ => equal(a, b) == Some(true),
    }
}

/// A Quantity node's value and unit (the `code` when a UCUM `system` goes with it, else `unit`).
fn quantity(n: &Node<'_>) -> Option<(Decimal, Option<String>)> {
    let one = |name: &str| n.children(Some(name), None).into_iter().next().and_then(|c| to_value(&Item::Node(c)));
    let Some(Item::Dec(value)) = one("value") else { return None };
    let text = |name: &str| match one(name) {
        Some(Item::Str(s)) => Some(s.into_owned()),
        _ => None,
    };
    let unit = match (text("system").as_deref(), text("code")) {
        (Some("http://unitsofmeasure.org"), Some(code)) => Some(code),
        _ => text("unit").or_else(|| text("code")),
    };
    Some((value, unit))
}

fn is_quantity_node(n: &Node<'_>) -> bool {
    matches!(n.type_name(), "Quantity" | "Age" | "Count" | "Distance" | "Duration" | "SimpleQuantity" | "MoneyQuantity")
}

fn order(a: &Item<'_>, b: &Item<'_>) -> Result<Option<Ordering>, EvalError> {
    Ok(match (a, b) {
        (Item::Node(x), Item::Node(y)) if is_quantity_node(x) && is_quantity_node(y) => {
            let (Some((vx, ux)), Some((vy, uy))) = (quantity(x), quantity(y)) else { return Ok(None) };
            if ux != uy {
                return err(UNDECIDABLE);
            }
            Some(vx.cmp(&vy))
        }
        (Item::Str(x), Item::Str(y)) => Some(x.cmp(y)),
        (Item::Int(x), Item::Int(y)) => Some(x.cmp(y)),
        (Item::Int(x), Item::Dec(y)) => Some(Decimal::from_int(*x).cmp(y)),
        (Item::Dec(x), Item::Int(y)) => Some(x.cmp(&Decimal::from_int(*y))),
        (Item::Dec(x), Item::Dec(y)) => Some(x.cmp(y)),
        (Item::Date(x), Item::Date(y)) | (Item::Time(x), Item::Time(y)) => x.compare(y),
        (Item::Quantity(x), Item::Quantity(y)) if x.1 == y.1 => Some(x.0.cmp(&y.0)),
        _ => return err("values that cannot be compared"),
    })
}

/// Is the item a node of type `name` (a type name starts upper case; an element name does not)?
fn is_node_of_type(item: &Item<'_>, name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && matches!(item, Item::Node(n) if n.type_name() == name)
}

/// A type name without its namespace (`FHIR.Patient`, `System.String`).
fn bare(name: &str) -> &str {
    name.strip_prefix("FHIR.").or_else(|| name.strip_prefix("System.")).unwrap_or(name)
}

/// Is the item of type `name` (as the HL7 Java engine's `hasType`: the exact type name)?
fn is_type(item: &Item<'_>, name: &str) -> bool {
    let name = bare(name);
    match item {
        Item::Node(n) => n.type_name().eq_ignore_ascii_case(name),
        Item::Bool(_) => name == "Boolean" || name == "boolean",
        Item::Int(_) => name == "Integer" || name == "integer",
        Item::Dec(_) => name == "Decimal" || name == "decimal",
        Item::Str(_) => name == "String" || name == "string",
        Item::Date(m) => matches!(name, "DateTime" | "Date" | "dateTime" | "date") && !m.is_time(),
        Item::Time(_) => name == "Time" || name == "time",
        Item::Quantity(_) => name == "Quantity",
    }
}

/// Push `item` unless an equal one is there already (for `|`, `union`, `distinct`).
fn push_distinct<'a>(out: &mut Coll<'a>, item: Item<'a>) {
    let v = to_value(&item);
    let dup = out.iter().any(|o| match (&v, to_value(o)) {
        (Some(a), Some(b)) => equal(a, &b) == Some(true),
        _ => false,
    });
    if !dup {
        out.push(item);
    }
}

struct Eval<'e, 'a> {
    env: &'e Env<'a>,
    /// The values of [`Expr::Fixed`] sub-expressions computed so far, by slot.
    fixed: RefCell<SmallVec<[(usize, Coll<'a>); 2]>>,
}

impl<'a> Eval<'_, 'a> {
    /// `index`: `$index` inside a function's argument.
    fn expr(&self, e: &Expr, this: &Coll<'a>, index: Option<usize>) -> Res<'a> {
        Ok(match e {
            Expr::Empty => SmallVec::new(),
            Expr::Bool(b) => smallvec![Item::Bool(*b)],
            Expr::Int(i) => smallvec![Item::Int(*i)],
            Expr::Dec(d) => Decimal::parse(d).map(Item::Dec).into_iter().collect(),
            Expr::Str(s) => smallvec![Item::Str(Cow::Owned(s.clone()))],
            Expr::DateTime(s) => match s.strip_prefix('T') {
                Some(t) => Moment::parse_time(t).map(|m| Item::Time(Box::new(m))).into_iter().collect(),
                None => Moment::parse_date_time(s).map(|m| Item::Date(Box::new(m))).into_iter().collect(),
            },
            Expr::Quantity(n, unit) => {
                Decimal::parse(n).map(|d| Item::Quantity(Box::new((d, unit.clone())))).into_iter().collect()
            }
            Expr::This => this.clone(),
            Expr::Index => index.map(|i| smallvec![Item::Int(i as i64)]).unwrap_or_default(),
            Expr::Total => SmallVec::new(),
            Expr::Var(v) => self.var(v)?,
            // A path may start with the focus's type: `Appointment.status` on an Appointment.
            Expr::Ident(name) if this.iter().any(|i| is_node_of_type(i, name)) => this.clone(),
            Expr::Ident(name) => self.member(this, name),
            Expr::Member(target, name) => {
                let t = self.expr(target, this, index)?;
                self.member(&t, name)
            }
            Expr::Indexer(target, i) => {
                let t = self.expr(target, this, index)?;
                let i = self.expr(i, this, index)?;
                match single(&i)? {
                    Some(Item::Int(i)) if i >= 0 => t.into_iter().nth(i as usize).into_iter().collect(),
                    _ => SmallVec::new(),
                }
            }
            Expr::Neg(x) => match single(&self.expr(x, this, index)?)? {
                None => SmallVec::new(),
                Some(Item::Int(i)) => smallvec![Item::Int(-i)],
                Some(Item::Dec(d)) => Decimal::parse(&format!("-{}", d.text())).map(Item::Dec).into_iter().collect(),
                Some(_) => return err("unary minus of a non-number"),
            },
            Expr::Is(x, ty) => {
                let v = self.expr(x, this, index)?;
                match v.as_slice() {
                    [] => SmallVec::new(),
                    [one] => smallvec![Item::Bool(is_type(one, ty))],
                    _ => return err("'is' on several items"),
                }
            }
            Expr::As(x, ty) => {
                let v = self.expr(x, this, index)?;
                v.into_iter().filter(|i| is_type(i, ty)).collect()
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r, this, index)?,
            Expr::Fixed(slot, e) => {
                if let Some((_, v)) = self.fixed.borrow().iter().find(|(s, _)| s == slot) {
                    return Ok(v.clone());
                }
                let v = self.expr(e, this, index)?;
                self.fixed.borrow_mut().push((*slot, v.clone()));
                v
            }
            Expr::Call(target, name, args) => {
                let focus = match target {
                    Some(t) => self.expr(t, this, index)?,
                    None => this.clone(),
                };
                self.call(name, &focus, args, this)?
            }
        })
    }

    fn var(&self, v: &str) -> Res<'a> {
        let node = |n: Option<Node<'a>>| n.map(|n| smallvec![Item::Node(n)]).unwrap_or_default();
        // Outside the object the constraint is on: noted (the walk does not remember the object).
        let outside = |n: Option<Node<'a>>| {
            if let Some(n) = n {
                n.line.members.noted_context();
            }
            node(n)
        };
        Ok(match v {
            "resource" => outside(self.env.resource),
            "rootResource" => outside(self.env.root.or(self.env.resource)),
            "context" => node(self.env.context),
            "ucum" => smallvec![Item::Str(Cow::Borrowed("http://unitsofmeasure.org"))],
            "sct" => smallvec![Item::Str(Cow::Borrowed("http://snomed.info/sct"))],
            "loinc" => smallvec![Item::Str(Cow::Borrowed("http://loinc.org"))],
            other => return err(format!("unknown variable %{other}")),
        })
    }

    fn member(&self, coll: &Coll<'a>, name: &str) -> Coll<'a> {
        let mut out = SmallVec::new();
        for item in coll {
            if let Item::Node(n) = item {
                n.children_each(Some(name), self.env.known, &mut |c| out.push(Item::Node(c)));
            }
        }
        out
    }

    fn binary(&self, op: BinOp, l: &Expr, r: &Expr, this: &Coll<'a>, index: Option<usize>) -> Res<'a> {
        // The boolean operators evaluate their right side only when it can change the result.
        if logic::is_boolean(op) {
            let a = truth(&self.expr(l, this, index)?)?;
            if let Some(result) = logic::settled(op, a) {
                return Ok(boolean(result));
            }
            let b = truth(&self.expr(r, this, index)?)?;
            return Ok(boolean(logic::combine(op, a, b)));
        }
        let a = self.expr(l, this, index)?;
        let b = self.expr(r, this, index)?;
        match op {
            BinOp::Union => {
                let mut out = SmallVec::new();
                for item in a.into_iter().chain(b) {
                    push_distinct(&mut out, item);
                }
                Ok(out)
            }
            BinOp::In | BinOp::Contains => {
                let (needle, hay) = if op == BinOp::In { (a, b) } else { (b, a) };
                let Some(n) = single(&needle)? else { return Ok(SmallVec::new()) };
                let hay = values(&hay);
                Ok(smallvec![Item::Bool(hay.iter().any(|h| equal(&n, h) == Some(true)))])
            }
            BinOp::Eq | BinOp::Ne => {
                let (a, b) = (values(&a), values(&b));
                if a.is_empty() || b.is_empty() {
                    return Ok(SmallVec::new());
                }
                let eq = if a.len() != b.len() {
                    Some(false)
                } else {
                    let mut all = Some(true);
                    for (x, y) in a.iter().zip(&b) {
                        match equal(x, y) {
                            Some(true) => {}
                            Some(false) => {
                                all = Some(false);
                                break;
                            }
                            None => all = None,
                        }
                    }
                    all
                };
                Ok(boolean(if op == BinOp::Eq { eq } else { eq.map(|e| !e) }))
            }
            BinOp::Equiv | BinOp::NotEquiv => {
                let (a, b) = (values(&a), values(&b));
                let eq = if a.is_empty() && b.is_empty() {
                    true
                } else {
                    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| equivalent(x, y)))
                };
                Ok(smallvec![Item::Bool(if op == BinOp::Equiv { eq } else { !eq })])
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                let (Some(x), Some(y)) = (single(&a)?, single(&b)?) else { return Ok(SmallVec::new()) };
                let Some(o) = order(&x, &y)? else { return Ok(SmallVec::new()) };
                Ok(smallvec![Item::Bool(op.holds(o))])
            }
            BinOp::Concat => {
                let s = |c: &Coll<'a>| -> Result<String, EvalError> {
                    Ok(string(c)?.map(Cow::into_owned).unwrap_or_default())
                };
                Ok(smallvec![Item::Str(Cow::Owned(s(&a)? + &s(&b)?))])
            }
            _ => self.arithmetic(op, &a, &b),
        }
    }

    fn arithmetic(&self, op: BinOp, a: &Coll<'a>, b: &Coll<'a>) -> Res<'a> {
        let (Some(x), Some(y)) = (single(a)?, single(b)?) else { return Ok(SmallVec::new()) };
        Ok(match (x, y) {
            (Item::Str(x), Item::Str(y)) if op == BinOp::Add => smallvec![Item::Str(Cow::Owned(format!("{x}{y}")))],
            (Item::Int(x), Item::Int(y)) => match op {
                BinOp::Add => x.checked_add(y).map(Item::Int).into_iter().collect(),
                BinOp::Sub => x.checked_sub(y).map(Item::Int).into_iter().collect(),
                BinOp::Mul => x.checked_mul(y).map(Item::Int).into_iter().collect(),
                BinOp::IntDiv => x.checked_div(y).map(Item::Int).into_iter().collect(),
                BinOp::Mod => x.checked_rem(y).map(Item::Int).into_iter().collect(),
                _ => {
                    if y == 0 {
                        SmallVec::new()
                    } else {
                        Decimal::from_f64(x as f64 / y as f64).map(Item::Dec).into_iter().collect()
                    }
                }
            },
            (x @ (Item::Int(_) | Item::Dec(_)), y @ (Item::Int(_) | Item::Dec(_))) => {
                let f = |i: &Item<'_>| match i {
                    Item::Int(v) => *v as f64,
                    Item::Dec(d) => d.to_f64(),
                    _ => f64::NAN,
                };
                let (x, y) = (f(&x), f(&y));
                let v = match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::Div if y != 0.0 => x / y,
                    BinOp::IntDiv if y != 0.0 => (x / y).trunc(),
                    BinOp::Mod if y != 0.0 => x % y,
                    _ => return Ok(SmallVec::new()),
                };
                Decimal::from_f64(v).map(Item::Dec).into_iter().collect()
            }
            _ => return err("arithmetic on values that are not numbers"),
        })
    }

    /// Evaluate `arg` once for each item of `focus` (with that item as `$this`).
    fn each(&self, focus: &Coll<'a>, arg: &Expr) -> Result<Vec<Coll<'a>>, EvalError> {
        focus.iter().enumerate().map(|(i, item)| self.on_item(arg, item, i)).collect()
    }

    /// `arg` with the item at `i` of a collection as `$this`.
    fn on_item(&self, arg: &Expr, item: &Item<'a>, i: usize) -> Res<'a> {
        self.expr(arg, &smallvec![item.clone()], Some(i))
    }

    fn arg(&self, args: &[Expr], i: usize, this: &Coll<'a>) -> Res<'a> {
        match args.get(i) {
            Some(a) => self.expr(a, this, None),
            None => err("a function is missing an argument"),
        }
    }

    fn call(&self, name: &str, focus: &Coll<'a>, args: &[Expr], this: &Coll<'a>) -> Res<'a> {
        let int = |i: i64| smallvec![Item::Int(i)];
        let bool1 = |b: bool| smallvec![Item::Bool(b)];
        Ok(match name {
            "empty" => bool1(values_or_nodes(focus) == 0),
            "exists" => match args.first() {
                None => bool1(values_or_nodes(focus) > 0),
                Some(criteria) => {
                    let mut any = false;
                    for (i, item) in focus.iter().enumerate() {
                        if truth(&self.on_item(criteria, item, i)?)? == Some(true) {
                            any = true;
                            break;
                        }
                    }
                    bool1(any)
                }
            },
            "hasValue" => bool1(match focus.as_slice() {
                [Item::Node(n)] => matches!(n.ty, NodeType::Prim(_)) && to_value(&focus[0]).is_some(),
                _ => false,
            }),
            "not" => boolean(truth(focus)?.map(|b| !b)),
            "count" => int(values_or_nodes(focus) as i64),
            "where" => {
                let criteria = args.first().ok_or(EvalError("where() needs criteria".into()))?;
                let mut out = SmallVec::new();
                for (i, item) in focus.iter().enumerate() {
                    if truth(&self.on_item(criteria, item, i)?)? == Some(true) {
                        out.push(item.clone());
                    }
                }
                out
            }
            "select" => {
                let projection = args.first().ok_or(EvalError("select() needs a projection".into()))?;
                self.each(focus, projection)?.into_iter().flatten().collect()
            }
            "all" => {
                let criteria = args.first().ok_or(EvalError("all() needs criteria".into()))?;
                let mut all = true;
                for (i, item) in focus.iter().enumerate() {
                    if truth(&self.on_item(criteria, item, i)?)? != Some(true) {
                        all = false;
                        break;
                    }
                }
                bool1(all)
            }
            "isDistinct" => {
                // Strings (bdl-7's fullUrls): one set, not a comparison of every pair.
                let strings: Option<Vec<&str>> = focus
                    .iter()
                    .map(|i| match i {
                        Item::Str(s) => Some(&**s),
                        _ => None,
                    })
                    .collect();
                if let Some(strings) = strings {
                    let mut seen = std::collections::HashSet::with_capacity(strings.len());
                    return Ok(bool1(strings.into_iter().all(|s| seen.insert(s))));
                }
                let mut distinct = SmallVec::new();
                for item in focus.iter().cloned() {
                    push_distinct(&mut distinct, item);
                }
                bool1(distinct.len() == focus.len())
            }
            "distinct" => {
                let mut out = SmallVec::new();
                for item in focus.iter().cloned() {
                    push_distinct(&mut out, item);
                }
                out
            }
            "first" => focus.first().cloned().into_iter().collect(),
            "last" => focus.last().cloned().into_iter().collect(),
            "tail" => focus.iter().skip(1).cloned().collect(),
            "single" => match focus.len() {
                0 | 1 => focus.clone(),
                _ => return err("single() of several items"),
            },
            "trace" => focus.clone(),
            "iif" => {
                let c = truth(&self.arg(args, 0, focus)?)?;
                if c == Some(true) {
                    self.arg(args, 1, focus)?
                } else if args.len() > 2 {
                    self.arg(args, 2, focus)?
                } else {
                    SmallVec::new()
                }
            }
            "combine" => {
                let mut out = focus.clone();
                out.extend(self.arg(args, 0, this)?);
                out
            }
            "union" => {
                let mut out = SmallVec::new();
                for item in focus.iter().cloned().chain(self.arg(args, 0, this)?) {
                    push_distinct(&mut out, item);
                }
                out
            }
            "intersect" => {
                let other = values(&self.arg(args, 0, this)?);
                let mut out = SmallVec::new();
                for item in focus {
                    let in_other = to_value(item).is_some_and(|v| other.iter().any(|o| equal(&v, o) == Some(true)));
                    if in_other {
                        push_distinct(&mut out, item.clone());
                    }
                }
                out
            }
            "exclude" => {
                let other = values(&self.arg(args, 0, this)?);
                focus
                    .iter()
                    .filter(|item| !to_value(item).is_some_and(|v| other.iter().any(|o| equal(&v, o) == Some(true))))
                    .cloned()
                    .collect()
            }
            "ofType" => {
                let Some(Expr::Ident(ty) | Expr::Member(_, ty)) = args.first() else {
                    return err("ofType() needs a type");
                };
                focus.iter().filter(|i| is_type(i, ty)).cloned().collect()
            }
            "as" | "is" => {
                let Some(Expr::Ident(ty) | Expr::Member(_, ty)) = args.first() else {
                    return err("as()/is() need a type");
                };
                if name == "as" {
                    focus.iter().filter(|i| is_type(i, ty)).cloned().collect()
                } else {
                    match focus.as_slice() {
                        [] => SmallVec::new(),
                        [one] => bool1(is_type(one, ty)),
                        _ => return err("is() on several items"),
                    }
                }
            }
            "children" => {
                let mut out = SmallVec::new();
                for item in focus {
                    if let Item::Node(n) = item {
                        n.children_each(None, self.env.known, &mut |c| out.push(Item::Node(c)));
                    }
                }
                out
            }
            "descendants" => {
                let mut out = SmallVec::new();
                let mut todo: Vec<Node<'a>> =
                    focus.iter().filter_map(|i| if let Item::Node(n) = i { Some(*n) } else { None }).collect();
                while let Some(n) = todo.pop() {
                    let children = n.children(None, None);
                    for c in children.iter().rev() {
                        todo.push(*c);
                    }
                    out.extend(children.into_iter().map(Item::Node));
                }
                out
            }
            "toString" => {
                // A date, date-time, instant or time node's text is its string (a `Moment` keeps
                // the text as written): read from the line, not parsed and written again.
                if let [Item::Node(n)] = focus.as_slice() {
                    if let (
                        NodeType::Prim(Prim::Date | Prim::DateTime | Prim::Instant | Prim::Time),
                        Some(Token::String(s)),
                    ) = (n.ty, n.token())
                    {
                        return Ok(smallvec![Item::Str(s.str_in(n.line.text))]);
                    }
                }
                match single(focus)? {
                    None => SmallVec::new(),
                    Some(Item::Str(s)) => smallvec![Item::Str(s)],
                    Some(v) => smallvec![Item::Str(Cow::Owned(text_of(&v)))],
                }
            }
            "toInteger" => match single(focus)? {
                None => SmallVec::new(),
                Some(Item::Int(i)) => int(i),
                Some(Item::Str(s)) => s.parse::<i64>().map(Item::Int).into_iter().collect(),
                Some(Item::Bool(b)) => int(i64::from(b)),
                Some(Item::Dec(d)) => d.to_int().map(Item::Int).into_iter().collect(),
                Some(_) => SmallVec::new(),
            },
            "length" => match string(focus)? {
                None => SmallVec::new(),
                Some(s) => int(s.chars().count() as i64),
            },
            // As the 2020 HL7 engine: no item (for contains, not exactly one) gives false, not
            // empty; an empty pattern gives true (FHIRPathEngine 5.1.15 funcStartsWith L4697,
            // funcEndsWith L3979, funcContains L4658).
            "startsWith" | "endsWith" | "contains" => {
                let pattern = string(&self.arg(args, 0, this)?)?.unwrap_or_default();
                let s = match (name, focus.as_slice()) {
                    ("contains", [one]) | ("startsWith" | "endsWith", [one, ..]) => to_value(one).map(|v| text_of(&v)),
                    _ => return Ok(bool1(false)),
                };
                if pattern.is_empty() {
                    return Ok(bool1(true));
                }
                let Some(s) = s else { return Ok(bool1(false)) };
                bool1(match name {
                    "startsWith" => s.starts_with(&*pattern),
                    "endsWith" => s.ends_with(&*pattern),
                    _ => s.contains(&*pattern),
                })
            }
            "substring" => {
                let Some(s) = string(focus)? else { return Ok(SmallVec::new()) };
                let start = match single(&self.arg(args, 0, this)?)? {
                    Some(Item::Int(i)) => i,
                    _ => return Ok(SmallVec::new()),
                };
                let chars: Vec<char> = s.chars().collect();
                if start < 0 || start as usize >= chars.len() {
                    return Ok(SmallVec::new());
                }
                let len = match args.get(1) {
                    Some(_) => match single(&self.arg(args, 1, this)?)? {
                        Some(Item::Int(l)) => l.max(0) as usize,
                        _ => chars.len(),
                    },
                    None => chars.len(),
                };
                let out: String = chars[start as usize..].iter().take(len).collect();
                smallvec![Item::Str(Cow::Owned(out))]
            }
            "upper" | "lower" => match string(focus)? {
                None => SmallVec::new(),
                Some(s) => {
                    smallvec![Item::Str(Cow::Owned(if name == "upper" { s.to_uppercase() } else { s.to_lowercase() }))]
                }
            },
            // As the 2020 HL7 engine (funcMatches L4640): the whole string must match, and
            // anything but one item with a value gives false.
            "matches" => {
                let Some(pattern) = string(&self.arg(args, 0, this)?)?.filter(|p| !p.is_empty()) else {
                    return Ok(bool1(false));
                };
                let s = match focus.as_slice() {
                    [one] => to_value(one).map(|v| text_of(&v)).filter(|s| !s.is_empty()),
                    _ => None,
                };
                match s {
                    Some(s) => bool1(super::regex(&pattern)?.is_match(&s)),
                    None => bool1(false),
                }
            }
            "replaceMatches" => {
                let Some(s) = string(focus)? else { return Ok(SmallVec::new()) };
                let Some(pattern) = string(&self.arg(args, 0, this)?)? else { return Ok(SmallVec::new()) };
                let re = super::regex(&pattern)?;
                {
                    let Some(with) = string(&self.arg(args, 1, this)?)? else { return Ok(SmallVec::new()) };
                    smallvec![Item::Str(Cow::Owned(re.replace_all(&s, &*with).into_owned()))]
                }
            }
            "allTrue" => bool1(values(focus).iter().all(|v| matches!(v, Item::Bool(true)))),
            "anyTrue" => bool1(values(focus).iter().any(|v| matches!(v, Item::Bool(true)))),
            other => return err(format!("function {other}() is not evaluated here")),
        })
    }
}

/// Items that count: nodes of complex types, and primitives (with a value or extensions).
fn values_or_nodes(coll: &Coll<'_>) -> usize {
    coll.len()
}

/// FHIRPath's `toString()` of a value.
fn text_of(item: &Item<'_>) -> String {
    match item {
        Item::Bool(b) => b.to_string(),
        Item::Int(i) => i.to_string(),
        Item::Dec(d) => d.text(),
        Item::Str(s) => s.to_string(),
        Item::Quantity(q) => format!("{} '{}'", q.0.text(), q.1),
        Item::Date(m) | Item::Time(m) => m.text(),
        Item::Node(n) => n.type_name().to_owned(),
    }
}
