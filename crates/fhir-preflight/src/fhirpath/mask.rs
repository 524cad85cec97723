//! Constraints decided from what the walk kept of the object, before any evaluation: most R4
//! constraints are boolean combinations of `x.exists()`, `x.empty()`, `x.hasValue()`, `not()`
//! over the focus object's children (`obs-6`: `dataAbsentReason.empty() or value.empty()`),
//! answered from the presence mask (one `u64`), or compare one child's string or date with a
//! literal or another child (`ref-1`: `reference.startsWith('#')`, `per-1`: `start <= end`,
//! `bdl-10`: `type = 'document'`), answered from the value's bytes in the line.
//!
//! [`compile`] turns an expression into a [`Mask`] once per (constraint, type); [`Mask::decide`]
//! answers `Ok(result)` when what the walk kept settles it — the same three-valued result the
//! evaluator would give — and `Err(())` when the evaluator must run. The order of evaluation is
//! kept (`a or b` is decided from `b` only after `a` is decided), so an error the evaluator would
//! meet in `a` is never skipped. Anything unusual (an escaped string, an array, a `_x` without a
//! value) is left to the evaluator.

use super::logic;
use super::node::{Node, NodeType};
use super::parse::{BinOp, Expr};
use super::value::{Decimal, Moment};
use crate::facts::{Captured, ContainedId, Line};
use crate::json::scan::{Scanner, Token};
use crate::model::{Model, Prim, Ty, TypeDef, TypeId};
use smallvec::SmallVec;

pub(crate) use super::logic::Truth;

/// An expression over the presence of the focus object's children.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Mask {
    /// Not decidable from the mask.
    Unknown,
    /// `x.exists()` (`empty()` is its negation).
    Exists(u8),
    /// An expression that starts at child `x` and gives `absent` when `x` is not there
    /// (`x.hasValue()`: false; `x.y.exists()`: false; `x.y.empty()`: true).
    IfAbsent(u8, bool),
    Not(Box<Mask>),
    Bool(BinOp, Box<Mask>, Box<Mask>),
    /// `x.hasValue()` on a single primitive child.
    HasValue(u8),
    /// `x.startsWith('…')`, `endsWith`, `contains` with a non-empty literal, on a single
    /// string-like child (absent: `false`, as the HL7 validator's string functions give).
    Text(u8, TextOp, Box<str>),
    /// `x = '…'` (`true`: `!=`) on a single string-like child (absent: empty).
    Equals(u8, Box<str>, bool),
    /// `a < b` (`<=`, `>`, `>=`) between two single date, dateTime or instant children.
    Order(u8, BinOp, u8),
    /// `x >= 0` (`<`, `<=`, `>`) between a single decimal child and a number literal (`tim-5`).
    Number(u8, BinOp, Box<str>),
    /// `x.y.intersect(%resource.u.v).exists()` on objects of one complex type: does an object
    /// that `steps` reach from the focus equal (FHIRPath `=`, property by property) one that
    /// `from_resource` reaches from `%resource`? (`obs-7`: `coding.intersect(%resource.code.coding)`.)
    Intersects {
        steps: Box<[u8]>,
        from_resource: Box<[u8]>,
        tid: TypeId,
    },
    /// `x.substring(1) in %rootResource.contained.id` (`ref-1`) on a single string child, decided
    /// when the id is among the contained resources read so far (else the evaluator, which
    /// reads the whole resource, decides).
    InContained(u8),
    /// `x.y.all(criteria)`: every object the steps reach passes the criteria (none: `true`).
    All {
        steps: Box<[u8]>,
        criteria: Box<Mask>,
    },
    /// `a = b` between two boolean expressions (either empty: empty).
    BoolEq(Box<Mask>, Box<Mask>),
    /// An expression on `%resource` alone (`%resource.type = 'batch'`), decided on its members.
    OnResource(Box<Mask>),
    /// `x.where(…).select(p & q …).isDistinct()` (`bdl-7`: `entry.where(fullUrl.exists())
    /// .select(fullUrl & resource.meta.versionId)`): are the strings the projection gives for the
    /// objects that `steps` reach (of type `tid`, passing `filter`) all different? Each part of
    /// the projection is a path of names ending in one string (absent: `''`, as FHIRPath's `&`
    /// gives), through single objects the walk kept, resources included (typed by their
    /// `resourceType`).
    Distinct {
        steps: Box<[u8]>,
        filter: Option<Box<Mask>>,
        tid: TypeId,
        parts: Box<[Box<[Box<str>]>]>,
    },
    /// `x.y.z.exists()` (`true`), `.empty()` (`false`), with a `where(…)` on the last step whose
    /// criteria are themselves decided from what the walk kept of each item
    /// (`verificationStatus.coding.where(system = '…' and code = '…').empty()`).
    Path {
        steps: Box<[u8]>,
        filter: Option<Box<Mask>>,
        exists: bool,
    },
}

/// A string test of [`Mask::Text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextOp {
    StartsWith,
    EndsWith,
    Contains,
}

/// What the walk kept of the object: which elements are present, where each member's value
/// starts, and the line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kept<'a> {
    pub(crate) present: u64,
    pub(crate) members: &'a [Captured],
    pub(crate) bytes: &'a [u8],
    /// The line, with what the walk kept of the objects inside (for paths such as
    /// `text.div.exists()`).
    pub(crate) line: Option<&'a Line<'a>>,
    /// The members of `%resource`, when the constraint is on a resource (the object itself).
    pub(crate) resource: Option<&'a [Captured]>,
    /// The contained resources of `%rootResource` read so far (the walk has not finished it).
    pub(crate) contained: Option<&'a [ContainedId]>,
}

impl<'a> Kept<'a> {
    /// The text of child `element`'s value when it is one JSON number.
    fn number(&self, element: u8) -> Option<&'a str> {
        let mut values = self.members.iter().filter(|c| c.element == element && !c.ext);
        let c = values.next()?;
        if values.next().is_some() || !c.present {
            return None;
        }
        match (Scanner { bytes: self.bytes, pos: c.at() }).value() {
            Ok(Token::Number(s, e)) => std::str::from_utf8(self.bytes.get(s as usize..e as usize)?).ok(),
            _ => None,
        }
    }

    /// Does child `element`'s value, one string, start with `prefix`? Read from the first bytes
    /// only (`ref-1` asks it of every reference); `None` when an escape or a quote comes first, or
    /// the value is not one string.
    fn starts_with(&self, element: u8, prefix: &str) -> Option<bool> {
        let mut values = self.members.iter().filter(|c| c.element == element && !c.ext);
        let c = values.next()?;
        if values.next().is_some() || !c.present || self.bytes.get(c.at()) != Some(&b'"') {
            return None;
        }
        let head = self.bytes.get(c.at() + 1..)?.get(..prefix.len())?;
        if head.iter().any(|&b| b == b'"' || b == b'\\') || prefix.bytes().any(|b| b == b'"' || b == b'\\') {
            return None;
        }
        Some(head == prefix.as_bytes())
    }

    /// The raw bytes of child `element`'s value when it is one string without escapes (UTF-8: a
    /// line is checked as a whole before it is walked).
    fn raw(&self, element: u8) -> Option<&'a [u8]> {
        let mut values = self.members.iter().filter(|c| c.element == element && !c.ext);
        let c = values.next()?;
        if values.next().is_some() || !c.present {
            return None;
        }
        crate::json::scan::unescaped_string(self.bytes, c.at())
    }

    /// [`Kept::raw`] as text (sliced from the line's text when it is known: no second UTF-8 check).
    fn text(&self, element: u8) -> Option<&'a str> {
        let raw = self.raw(element)?;
        match self.line {
            // The same buffer: the raw bytes are a span of the line's text.
            Some(line) if std::ptr::eq(line.bytes, self.bytes) => {
                let start = raw.as_ptr() as usize - line.bytes.as_ptr() as usize;
                line.text.get(start..start + raw.len())
            }
            _ => std::str::from_utf8(raw).ok(),
        }
    }
}

impl<'a> Kept<'a> {
    /// Does any item that `steps` reach from this object pass `filter` (without one: exist)? All
    /// items are decided, as the evaluator evaluates the criteria on each; `Err(())` when one is
    /// not decided or an object on the way was not kept.
    fn any(&self, steps: &[u8], filter: Option<&Mask>) -> Result<bool, ()> {
        let Some((&i, rest)) = steps.split_first() else {
            return match filter {
                None => Ok(true),
                Some(m) => Ok(m.decide(self)? == Some(true)),
            };
        };
        if self.present & (1 << i) == 0 {
            return Ok(false);
        }
        if rest.is_empty() && filter.is_none() {
            return Ok(true);
        }
        let line = self.line.ok_or(())?;
        let index = line.members;
        let mut found = false;
        for c in self.members.iter().filter(|c| c.element == i) {
            if c.ext {
                return Err(());
            }
            if !c.present {
                continue;
            }
            let single = [Some(c.at())];
            let array;
            let items: &[Option<usize>] = if self.bytes.get(c.at()) == Some(&b'[') {
                array = index.array(c.at()).ok_or(())?;
                &array
            } else {
                &single
            };
            for &at in items.iter().flatten() {
                if self.bytes.get(at) != Some(&b'{') {
                    return Err(());
                }
                let members = index.get(at).ok_or(())?;
                let present = present_bits(&members);
                let item = Kept { present, members: &members, ..*self };
                found |= item.any(rest, filter)?;
            }
        }
        Ok(found)
    }
}

impl Kept<'_> {
    /// [`Mask::Distinct`]: the projection's string for each object reached that passes the
    /// filter (in order, each decided, as the evaluator), then whether two are equal.
    fn distinct(
        &self,
        steps: &[u8],
        filter: Option<&Mask>,
        tid: TypeId,
        parts: &[Box<[Box<str>]>],
    ) -> Result<bool, ()> {
        let mut objects = SmallVec::new();
        self.reach(steps, &mut objects)?;
        if objects.is_empty() {
            return Ok(true);
        }
        let line = self.line.ok_or(())?;
        let mut texts: Vec<Vec<u8>> = Vec::with_capacity(objects.len());
        for at in objects {
            let members = line.members.get(at).ok_or(())?;
            if let Some(f) = filter {
                if f.decide(&Kept { present: present_bits(&members), members: &members, ..*self })? != Some(true) {
                    continue;
                }
            }
            let mut text = Vec::new();
            for names in parts {
                text.extend_from_slice(path_text(line, &members, line.model.ty(tid), names)?.unwrap_or_default());
            }
            texts.push(text);
        }
        texts.sort_unstable();
        Ok(texts.windows(2).all(|w| w[0] != w[1]))
    }

    /// Do all the objects that `steps` reach pass `criteria`? (As the evaluator: in order, each
    /// decided.)
    fn all(&self, steps: &[u8], criteria: &Mask) -> Result<bool, ()> {
        let mut objects = SmallVec::new();
        self.reach(steps, &mut objects)?;
        let index = self.line.ok_or(())?.members;
        for at in objects {
            let members = index.get(at).ok_or(())?;
            let present = present_bits(&members);
            if criteria.decide(&Kept { present, members: &members, ..*self })? != Some(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Where each object that `steps` reach from this object starts, in document order.
    /// `Err(())` when a value on the way is not an object or was not kept.
    fn reach(&self, steps: &[u8], out: &mut SmallVec<[usize; 4]>) -> Result<(), ()> {
        let Some((&i, rest)) = steps.split_first() else { return Ok(()) };
        if self.present & (1 << i) == 0 {
            return Ok(());
        }
        let index = self.line.ok_or(())?.members;
        for c in self.members.iter().filter(|c| c.element == i) {
            if c.ext {
                return Err(());
            }
            if !c.present {
                continue;
            }
            let single = [Some(c.at())];
            let array;
            let items: &[Option<usize>] = if self.bytes.get(c.at()) == Some(&b'[') {
                array = index.array(c.at()).ok_or(())?;
                &array
            } else {
                &single
            };
            for &at in items.iter().flatten() {
                if self.bytes.get(at) != Some(&b'{') {
                    return Err(());
                }
                if rest.is_empty() {
                    out.push(at);
                    continue;
                }
                let members = index.get(at).ok_or(())?;
                let present = present_bits(&members);
                Kept { present, members: &members, ..*self }.reach(rest, out)?;
            }
        }
        Ok(())
    }

    /// [`Mask::Intersects`]: objects of type `tid` reached from the focus and from `%resource`,
    /// compared as the evaluator compares them (`eval::nodes_equal`).
    fn intersects(&self, steps: &[u8], from_resource: &[u8], tid: TypeId) -> Result<bool, ()> {
        let (line, resource) = (self.line.ok_or(())?, self.resource.ok_or(())?);
        line.members.noted_context();
        let mut mine = SmallVec::new();
        self.reach(steps, &mut mine)?;
        if mine.is_empty() {
            return Ok(false);
        }
        let present = present_bits(resource);
        let mut theirs = SmallVec::new();
        Kept { present, members: resource, ..*self }.reach(from_resource, &mut theirs)?;
        let node = |at: usize| Node::object(line, at, NodeType::Complex(tid));
        let t = line.model.ty(tid);
        for &a in &mine {
            let ma = line.members.get(a);
            for &b in &theirs {
                let mb = line.members.get(b);
                // Property by property from the kept members when each is one unescaped string (a
                // Coding's system and code), as `Node::deep_equal` compares them; else the nodes.
                let quick = match (&ma, &mb) {
                    (Some(ma), Some(mb)) => node(a).same_members(ma, mb, t),
                    _ => None,
                };
                if quick.unwrap_or_else(|| super::eval::nodes_equal(&node(a), &node(b))) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// The string that the path `names` gives from an object of type `t` with these kept members:
/// `None` when a step is absent; `Err(())` unless each step is one member (no `_x`, no `null`, no
/// array, no choice) of an object the walk kept, and the last one string without escapes.
fn path_text<'l>(
    line: &'l Line<'l>,
    members: &[Captured],
    t: &'static TypeDef,
    names: &[Box<str>],
) -> Result<Option<&'l [u8]>, ()> {
    let Some((name, rest)) = names.split_first() else { return Err(()) };
    let i = element(t, name).filter(|&i| !t.elements[usize::from(i)].choice).ok_or(())?;
    let mut found = members.iter().filter(|c| c.element == i);
    let Some(c) = found.next() else { return Ok(None) };
    if found.next().is_some() || c.ext || !c.present {
        return Err(());
    }
    let at = c.at();
    let next = match t.properties[usize::from(c.property)].ty {
        Ty::Prim(_) if rest.is_empty() => {
            return crate::json::scan::unescaped_string(line.bytes, at).map(Some).ok_or(())
        }
        Ty::Complex(id) if !rest.is_empty() => line.model.ty(id),
        Ty::Resource if !rest.is_empty() => line.model.ty(super::node::resource_at(line, at).ok_or(())?),
        _ => return Err(()),
    };
    let members = line.members.get(at).ok_or(())?;
    path_text(line, &members, next, rest)
}

/// `x.where(…).select(p & q …).isDistinct()` as a [`Mask::Distinct`], when the path to the
/// objects (and its filter) compiles and each part of the projection is a path of names whose
/// first step is a child of those objects.
fn distinct(target: &Expr, t: &'static TypeDef, resource: Option<&'static TypeDef>) -> Mask {
    let Expr::Call(Some(source), f, args) = untraced(target) else { return Mask::Unknown };
    let ("select", [projection]) = (f.as_str(), args.as_slice()) else { return Mask::Unknown };
    let Some((steps, Some(end), filter)) = chain(source, t, resource) else { return Mask::Unknown };
    let model = Model::r4();
    let Some(tid) = model.type_ids().find(|&id| std::ptr::eq(model.ty(id), end)) else { return Mask::Unknown };
    let mut parts = Vec::new();
    if !concat_parts(projection, &mut parts) || !parts.iter().all(|p| element(end, &p[0]).is_some()) {
        return Mask::Unknown;
    }
    Mask::Distinct { steps: steps.into(), filter: filter.map(Box::new), tid, parts: parts.into() }
}

/// The operands of `a & b & …`, each a path of names (`resource.meta.versionId`).
fn concat_parts(e: &Expr, out: &mut Vec<Box<[Box<str>]>>) -> bool {
    fn names(e: &Expr, out: &mut Vec<Box<str>>) -> bool {
        let (ok, name) = match e {
            Expr::Ident(name) => (true, name),
            Expr::Member(target, name) => (names(target, out), name),
            _ => return false,
        };
        out.push(name.as_str().into());
        ok
    }
    match untraced(e) {
        Expr::Binary(BinOp::Concat, a, b) => concat_parts(a, out) && concat_parts(b, out),
        e => {
            let mut path = Vec::new();
            let ok = names(e, &mut path);
            out.push(path.into());
            ok
        }
    }
}

/// The element index of child `name` of `t` (FHIRPath names: `value` for `value[x]`).
fn element(t: &TypeDef, name: &str) -> Option<u8> {
    let i = super::node::element_named(t, name)?;
    u8::try_from(i).ok().filter(|&i| i < 64)
}

/// The child of the focus a path starts with (`x` in `x.y.z`), if it is a path whose steps give
/// an empty result on an empty input: members, and functions such as `where(…)`, `select(…)`,
/// `ofType(…)`, `first()` (whose arguments are then never evaluated). `obs-7`'s
/// `component.code.where(…).empty()` is true when the Observation has no `component`.
fn path_root(e: &Expr) -> Option<&str> {
    const EMPTY_ON_EMPTY: [&str; 15] = [
        "where",
        "select",
        "ofType",
        "as",
        "first",
        "last",
        "tail",
        "skip",
        "take",
        "distinct",
        "single",
        "children",
        "descendants",
        "repeat",
        "extension",
    ];
    match e {
        Expr::Ident(name) => Some(name),
        Expr::Member(target, _) => path_root(target),
        Expr::Call(Some(target), f, _) if EMPTY_ON_EMPTY.contains(&f.as_str()) => path_root(target),
        _ => None,
    }
}

/// Child `e` (an identifier) of `t`, if it is a single primitive of one of the types `want`.
fn single_prim(e: &Expr, t: &TypeDef, want: &[Prim]) -> Option<u8> {
    let Expr::Ident(name) = e else { return None };
    let i = element(t, name)?;
    let element = &t.elements[usize::from(i)];
    if element.many || element.choice {
        return None;
    }
    let prop = t.properties.iter().find(|p| p.element == i)?;
    matches!(prop.ty, Ty::Prim(p) if want.contains(&p)).then_some(i)
}

const TEXT: &[Prim] =
    &[Prim::String, Prim::Code, Prim::Id, Prim::Uri, Prim::Url, Prim::Canonical, Prim::Oid, Prim::Uuid, Prim::Markdown];
const DATES: &[Prim] = &[Prim::Date, Prim::DateTime, Prim::Instant];
/// Decimals only: an integer the evaluator cannot read as an `i64` is empty there, not a number.
const NUMBERS: &[Prim] = &[Prim::Decimal];
const ALL_PRIMS: &[Prim] = &[
    Prim::Base64Binary,
    Prim::Boolean,
    Prim::Canonical,
    Prim::Code,
    Prim::Date,
    Prim::DateTime,
    Prim::Decimal,
    Prim::Id,
    Prim::Instant,
    Prim::Integer,
    Prim::Markdown,
    Prim::Oid,
    Prim::PositiveInt,
    Prim::String,
    Prim::Time,
    Prim::UnsignedInt,
    Prim::Uri,
    Prim::Url,
    Prim::Uuid,
];

/// The mask of `e` on an object of type `t`.
pub(crate) fn compile(e: &Expr, t: &'static TypeDef) -> Mask {
    compile_in(e, t, None)
}

/// The mask of `e` on an object of type `t`, where `%resource` is of type `resource` when the
/// object is itself a resource (`%resource` is then the object).
pub(crate) fn compile_in(e: &Expr, t: &'static TypeDef, resource: Option<&'static TypeDef>) -> Mask {
    let e = match e {
        Expr::Fixed(_, inner) => inner,
        e => e,
    };
    if let (Some(r), Some(rebased)) = (resource, on_resource(e)) {
        return match compile_in(&rebased, r, resource) {
            Mask::Unknown => Mask::Unknown,
            m => Mask::OnResource(Box::new(m)),
        };
    }
    match e {
        Expr::Binary(BinOp::Eq, a, b) if boolean(a, t, resource) && boolean(b, t, resource) => {
            Mask::BoolEq(Box::new(compile_in(a, t, resource)), Box::new(compile_in(b, t, resource)))
        }
        Expr::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) => match (single_prim(a, t, TEXT), &**b) {
            (Some(i), Expr::Str(lit)) => Mask::Equals(i, lit.as_str().into(), *op == BinOp::Ne),
            _ => Mask::Unknown,
        },
        Expr::Binary(BinOp::In, a, b) => match (untraced(a), untraced(b)) {
            (Expr::Call(Some(x), f, args), haystack)
                if f == "substring" && matches!(args.as_slice(), [Expr::Int(1)]) && is_root_contained_id(haystack) =>
            {
                single_prim(untraced(x), t, TEXT).map_or(Mask::Unknown, Mask::InContained)
            }
            _ => Mask::Unknown,
        },
        Expr::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
            match (single_prim(a, t, DATES), single_prim(b, t, DATES)) {
                (Some(x), Some(y)) => Mask::Order(x, *op, y),
                _ => match (single_prim(a, t, NUMBERS), &**b) {
                    (Some(x), Expr::Int(n)) => Mask::Number(x, *op, n.to_string().into()),
                    (Some(x), Expr::Dec(d)) => Mask::Number(x, *op, d.as_str().into()),
                    _ => Mask::Unknown,
                },
            }
        }
        Expr::Call(Some(target), f, args) if args.len() == 1 => {
            let op = match f.as_str() {
                "startsWith" => TextOp::StartsWith,
                "endsWith" => TextOp::EndsWith,
                "contains" => TextOp::Contains,
                _ => return compile_presence(e, t, resource),
            };
            match (single_prim(target, t, TEXT), &args[0]) {
                (Some(i), Expr::Str(lit)) if !lit.is_empty() => Mask::Text(i, op, lit.as_str().into()),
                _ => Mask::Unknown,
            }
        }
        Expr::Call(Some(target), f, args) if f == "hasValue" && args.is_empty() => {
            match single_prim(target, t, ALL_PRIMS) {
                Some(i) => Mask::HasValue(i),
                None => compile_presence(e, t, resource),
            }
        }
        Expr::Call(Some(target), f, args) if f == "isDistinct" && args.is_empty() => distinct(target, t, resource),
        _ => compile_presence(e, t, resource),
    }
}

/// A path of children from an object of type `t` (`x.y.z`, optionally ending in `where(…)` with
/// criteria the walk's facts decide): its element indexes, the type of its last step (`None`: a
/// primitive), and the criteria. Choice elements and resources are left to the evaluator.
fn chain(
    e: &Expr,
    t: &'static TypeDef,
    resource: Option<&'static TypeDef>,
) -> Option<(Vec<u8>, Option<&'static TypeDef>, Option<Mask>)> {
    let step = |t: &'static TypeDef, name: &str| -> Option<(u8, Option<&'static TypeDef>)> {
        let i = element(t, name)?;
        if t.elements[usize::from(i)].choice {
            return None;
        }
        match t.properties.iter().find(|p| p.element == i)?.ty {
            Ty::Complex(id) => Some((i, Some(Model::r4().ty(id)))),
            Ty::Prim(_) => Some((i, None)),
            Ty::Resource => None,
        }
    };
    match e {
        Expr::Ident(name) => {
            let (i, next) = step(t, name)?;
            Some((vec![i], next, None))
        }
        Expr::Member(target, name) => {
            let (mut steps, Some(at), None) = chain(target, t, resource)? else { return None };
            let (i, next) = step(at, name)?;
            steps.push(i);
            Some((steps, next, None))
        }
        Expr::Call(Some(target), f, args) if f == "where" && args.len() == 1 => {
            let (steps, Some(at), None) = chain(target, t, resource)? else { return None };
            let filter = compile_in(&args[0], at, resource);
            (filter != Mask::Unknown).then_some((steps, Some(at), Some(filter)))
        }
        _ => None,
    }
}

/// Does `e` compile to a mask (a boolean expression the walk's facts decide)?
fn boolean(e: &Expr, t: &'static TypeDef, resource: Option<&'static TypeDef>) -> bool {
    compile_in(e, t, resource) != Mask::Unknown
}

/// `e` rewritten on `%resource` as its focus (`%resource.type = 'batch'`: `type = 'batch'`), when
/// it reads nothing else: no path from the focus, no other variable.
fn on_resource(e: &Expr) -> Option<Expr> {
    let mut mentions = false;
    let rebased = rebase(e, &mut mentions)?;
    mentions.then_some(rebased)
}

fn rebase(e: &Expr, mentions: &mut bool) -> Option<Expr> {
    let mut go = |x: &Expr| rebase(x, mentions).map(Box::new);
    Some(match e {
        Expr::Member(target, name) if matches!(&**target, Expr::Var(v) if v == "resource") => {
            *mentions = true;
            Expr::Ident(name.clone())
        }
        Expr::Member(target, name) => Expr::Member(go(target)?, name.clone()),
        Expr::Binary(op, a, b) => Expr::Binary(*op, go(a)?, go(b)?),
        Expr::Call(Some(target), f, args) if args.iter().all(literal) => {
            Expr::Call(Some(go(target)?), f.clone(), args.clone())
        }
        Expr::Fixed(_, inner) => return rebase(inner, mentions),
        e if literal(e) => e.clone(),
        _ => return None,
    })
}

fn literal(e: &Expr) -> bool {
    matches!(e, Expr::Str(_) | Expr::Int(_) | Expr::Dec(_) | Expr::Bool(_))
}

/// `e` without `.trace(…)` calls (and the hoisting's [`Expr::Fixed`]), which do not change its value.
fn untraced(e: &Expr) -> &Expr {
    match e {
        Expr::Call(Some(inner), f, _) if f == "trace" => untraced(inner),
        Expr::Fixed(_, inner) => untraced(inner),
        e => e,
    }
}

/// `%rootResource.contained.id`.
fn is_root_contained_id(e: &Expr) -> bool {
    let Expr::Member(contained, id) = e else { return false };
    let Expr::Member(root, name) = untraced(contained) else { return false };
    id == "id" && name == "contained" && matches!(untraced(root), Expr::Var(v) if v == "rootResource")
}

/// The id of a type of base R4.
fn type_id_of(t: &'static TypeDef) -> Option<TypeId> {
    let model = Model::r4();
    model.type_ids().find(|&id| std::ptr::eq(model.ty(id), t))
}

/// `a.intersect(b)`: `(a, b)`.
fn intersect(e: &Expr) -> Option<(&Expr, &Expr)> {
    match e {
        Expr::Call(Some(a), f, args) if f == "intersect" && args.len() == 1 => Some((a, &args[0])),
        _ => None,
    }
}

/// `%resource.x.y` on a resource of type `r`: the steps and the type of the last one.
fn from_resource(e: &Expr, r: &'static TypeDef) -> Option<(Vec<u8>, Option<&'static TypeDef>)> {
    match e {
        Expr::Member(target, name) if matches!(&**target, Expr::Var(v) if v == "resource") => {
            let (steps, end, None) = chain(&Expr::Ident(name.clone()), r, None)? else { return None };
            Some((steps, end))
        }
        Expr::Member(target, name) => {
            let (mut steps, Some(at)) = from_resource(target, r)? else { return None };
            let (more, end, None) = chain(&Expr::Ident(name.clone()), at, None)? else { return None };
            steps.extend(more);
            Some((steps, end))
        }
        _ => None,
    }
}

fn compile_presence(e: &Expr, t: &'static TypeDef, resource: Option<&'static TypeDef>) -> Mask {
    let compile = |e: &Expr, t: &'static TypeDef| compile_in(e, t, resource);
    match e {
        Expr::Binary(op @ (BinOp::And | BinOp::Or | BinOp::Implies | BinOp::Xor), a, b) => {
            let (a, b) = (compile(a, t), compile(b, t));
            if a == Mask::Unknown {
                Mask::Unknown
            } else {
                Mask::Bool(*op, Box::new(a), Box::new(b))
            }
        }
        // `x.all(criteria)`: true when `x` is absent.
        Expr::Call(Some(target), f, args) if f == "all" && args.len() == 1 => {
            if let Some((steps, Some(end), None)) = chain(target, t, resource) {
                let criteria = compile_in(&args[0], end, resource);
                if criteria != Mask::Unknown {
                    return Mask::All { steps: steps.into(), criteria: Box::new(criteria) };
                }
            }
            Mask::Unknown
        }
        // `x.exists(criteria)` is `x.where(criteria).exists()`: false when `x` is absent.
        Expr::Call(Some(target), f, args) if f == "exists" && args.len() == 1 => {
            if let Some((steps, Some(end), None)) = chain(target, t, resource) {
                let filter = compile(&args[0], end);
                if filter != Mask::Unknown {
                    return Mask::Path { steps: steps.into(), filter: Some(Box::new(filter)), exists: true };
                }
            }
            match path_root(target).and_then(|name| element(t, name)) {
                Some(i) => Mask::IfAbsent(i, false),
                None => Mask::Unknown,
            }
        }
        Expr::Call(Some(target), f, args) if f == "exists" && args.is_empty() && intersect(target).is_some() => {
            let Some((a, b)) = intersect(target) else { return Mask::Unknown };
            let (Some((steps, Some(x), None)), Some(r)) = (chain(a, t, resource), resource) else {
                return Mask::Unknown;
            };
            let from = match b {
                Expr::Fixed(_, b) => b,
                b => b,
            };
            match from_resource(from, r) {
                Some((from_resource, Some(y))) if std::ptr::eq(x, y) => match type_id_of(x) {
                    Some(tid) => Mask::Intersects { steps: steps.into(), from_resource: from_resource.into(), tid },
                    None => Mask::Unknown,
                },
                _ => Mask::Unknown,
            }
        }
        Expr::Call(Some(target), f, args) if args.is_empty() => match f.as_str() {
            "not" => match compile(target, t) {
                Mask::Unknown => Mask::Unknown,
                m => Mask::Not(Box::new(m)),
            },
            "exists" | "empty" | "hasValue" => {
                let Some(i) = path_root(target).and_then(|name| element(t, name)) else { return Mask::Unknown };
                let direct = matches!(**target, Expr::Ident(_));
                if !direct && f != "hasValue" {
                    if let Some((steps, _, filter)) = chain(target, t, resource) {
                        return Mask::Path { steps: steps.into(), filter: filter.map(Box::new), exists: f == "exists" };
                    }
                }
                match (f.as_str(), direct) {
                    ("exists", true) => Mask::Exists(i),
                    ("empty", true) => Mask::Not(Box::new(Mask::Exists(i))),
                    ("empty", false) => Mask::IfAbsent(i, true),
                    _ => Mask::IfAbsent(i, false),
                }
            }
            _ => Mask::Unknown,
        },
        _ => Mask::Unknown,
    }
}

impl Mask {
    /// The result from what the walk kept, if it settles it. `Err(())`: not decidable.
    pub(crate) fn decide(&self, kept: &Kept<'_>) -> Result<Truth, ()> {
        let present = kept.present;
        let absent = |i: &u8| present & (1 << i) == 0;
        match self {
            Mask::Unknown => Err(()),
            Mask::Exists(i) => Ok(Some(!absent(i))),
            Mask::HasValue(i) => {
                if absent(i) {
                    return Ok(Some(false));
                }
                let mut values = kept.members.iter().filter(|c| c.element == *i);
                match (values.next(), values.next()) {
                    (Some(c), None) if !c.ext && c.present => Ok(Some(true)),
                    _ => Err(()),
                }
            }
            Mask::Text(i, op, lit) => {
                if absent(i) {
                    return Ok(Some(false));
                }
                kept.text_test(*i, *op, lit)
            }
            Mask::Equals(i, lit, negate) => {
                if absent(i) {
                    return Ok(None);
                }
                Ok(Some((kept.raw(*i).ok_or(())? == lit.as_bytes()) != *negate))
            }
            Mask::Order(a, op, b) => {
                if absent(a) || absent(b) {
                    return Ok(None);
                }
                kept.order(*a, *op, *b)
            }
            Mask::Number(i, op, literal) => {
                if absent(i) {
                    return Ok(None);
                }
                kept.compare_number(*i, *op, literal)
            }
            Mask::IfAbsent(i, absent) => {
                if present & (1 << i) == 0 {
                    Ok(Some(*absent))
                } else {
                    Err(())
                }
            }
            Mask::All { steps, criteria } => Ok(Some(kept.all(steps, criteria)?)),
            Mask::Distinct { steps, filter, tid, parts } => {
                Ok(Some(kept.distinct(steps, filter.as_deref(), *tid, parts)?))
            }
            Mask::BoolEq(a, b) => {
                let (a, b) = (a.decide(kept)?, b.decide(kept)?);
                Ok(a.zip(b).map(|(a, b)| a == b))
            }
            Mask::OnResource(m) => {
                let resource = kept.resource.ok_or(())?;
                let present = present_bits(resource);
                m.decide(&Kept { present, members: resource, ..*kept })
            }
            Mask::InContained(i) => {
                if absent(i) {
                    return Ok(None);
                }
                kept.in_contained(*i)
            }
            Mask::Intersects { steps, from_resource, tid } => Ok(Some(kept.intersects(steps, from_resource, *tid)?)),
            Mask::Path { steps, filter, exists } => {
                let found = kept.any(steps, filter.as_deref())?;
                Ok(Some(found == *exists))
            }
            Mask::Not(m) => Ok(m.decide(kept)?.map(|b| !b)),
            Mask::Bool(op, a, b) => {
                let a = a.decide(kept)?;
                // The evaluator's short cuts: the right side is not read.
                if let Some(result) = logic::settled(*op, a) {
                    return Ok(result);
                }
                Ok(logic::combine(*op, a, b.decide(kept)?))
            }
        }
    }
}

/// The arms of [`Mask::decide`] that read values, out of line: most objects are decided by the
/// presence arms, and the code that reads values (dates, decimals) stays out of their way.
impl Kept<'_> {
    /// [`Mask::Text`] on a present child.
    #[inline(never)]
    fn text_test(&self, i: u8, op: TextOp, lit: &str) -> Result<Truth, ()> {
        if op == TextOp::StartsWith {
            if let Some(starts) = self.starts_with(i, lit) {
                return Ok(Some(starts));
            }
        }
        // Bytes against the literal's bytes: UTF-8 text is equal where its bytes are.
        let (text, lit) = (self.raw(i).ok_or(())?, lit.as_bytes());
        Ok(Some(match op {
            TextOp::StartsWith => text.starts_with(lit),
            TextOp::EndsWith => text.ends_with(lit),
            TextOp::Contains => memchr::memmem::find(text, lit).is_some(),
        }))
    }

    /// [`Mask::Order`] between two present children.
    #[inline(never)]
    fn order(&self, a: u8, op: BinOp, b: u8) -> Result<Truth, ()> {
        let (x, y) = (self.text(a).ok_or(())?, self.text(b).ok_or(())?);
        let o = match super::value::same_shape_order(x.as_bytes(), y.as_bytes()) {
            Some(o) => o,
            None => {
                let moment = |t: &str| Moment::parse_date_time(t).ok_or(());
                let Some(o) = moment(x)?.compare(&moment(y)?) else { return Ok(None) };
                o
            }
        };
        Ok(Some(op.holds(o)))
    }

    /// [`Mask::Number`] on a present child.
    #[inline(never)]
    fn compare_number(&self, i: u8, op: BinOp, literal: &str) -> Result<Truth, ()> {
        let value = self.number(i).and_then(Decimal::parse).ok_or(())?;
        let o = value.cmp(&Decimal::parse(literal).ok_or(())?);
        Ok(Some(op.holds(o)))
    }

    /// [`Mask::InContained`] on a present child.
    #[inline(never)]
    fn in_contained(&self, i: u8) -> Result<Truth, ()> {
        if let Some(line) = self.line {
            line.members.noted_context();
        }
        let text = self.text(i).ok_or(())?;
        // `substring(1)`: from the second character; empty (so `in` is empty) when there is none.
        let Some((from, _)) = text.char_indices().nth(1) else { return Ok(None) };
        let id = &text[from..];
        match self.contained {
            Some(contained) if contained.iter().any(|c| c.direct && c.id == id) => Ok(Some(true)),
            _ => Err(()),
        }
    }
}

/// The elements present in an object, from its kept members (bit `i`: `elements[i]`).
pub(crate) fn present_bits(members: &[Captured]) -> u64 {
    members.iter().filter(|m| m.present).fold(0u64, |b, m| b | 1 << m.element)
}

/// What the walk keeps below an object of one type, for the masks that read through it (bit `i`:
/// the objects and arrays of `elements[i]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeepBits {
    /// Wherever the object is (the first step of a path from the object a constraint is on).
    pub(crate) always: u64,
    /// When the object is kept itself (the further steps of a path through it).
    pub(crate) if_kept: u64,
}

/// Mark in `keep` (by type id) the objects that `mask`, on an object of type `t` (kept itself:
/// `kept`), reads through the walk's kept members (`%resource` of type `resource`).
pub(crate) fn mark(mask: &Mask, t: TypeId, kept: bool, resource: Option<TypeId>, keep: &mut [KeepBits]) {
    let model = Model::r4();
    let path = |from: TypeId, steps: &[u8], keep: &mut [KeepBits]| -> Option<TypeId> {
        let mut at = from;
        for (n, &i) in steps.iter().enumerate() {
            if let Some(bits) = keep.get_mut(usize::from(at)) {
                if n == 0 && !kept {
                    bits.always |= 1 << i;
                } else {
                    bits.if_kept |= 1 << i;
                }
            }
            match model.ty(at).properties.iter().find(|p| p.element == i)?.ty {
                Ty::Complex(id) => at = id,
                _ => return None,
            }
        }
        Some(at)
    };
    match mask {
        Mask::Path { steps, filter, .. } => {
            if let (Some(end), Some(filter)) = (path(t, steps, keep), filter) {
                mark(filter, end, true, resource, keep);
            }
        }
        Mask::Intersects { steps, from_resource, .. } => {
            path(t, steps, keep);
            if let Some(r) = resource {
                path(r, from_resource, keep);
            }
        }
        Mask::All { steps, criteria } => {
            if let Some(end) = path(t, steps, keep) {
                mark(criteria, end, true, resource, keep);
            }
        }
        // (The parts' objects are read where the walk kept them; else the evaluator reads them.)
        Mask::Distinct { steps, filter, .. } => {
            if let (Some(end), Some(filter)) = (path(t, steps, keep), filter) {
                mark(filter, end, true, resource, keep);
            }
        }
        Mask::OnResource(m) => {
            if let Some(r) = resource {
                mark(m, r, false, resource, keep);
            }
        }
        Mask::BoolEq(a, b) => {
            mark(a, t, kept, resource, keep);
            mark(b, t, kept, resource, keep);
        }
        Mask::Not(m) => mark(m, t, kept, resource, keep),
        Mask::Bool(_, a, b) => {
            mark(a, t, kept, resource, keep);
            mark(b, t, kept, resource, keep);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhirpath::parse::parse;
    use crate::model::r4::ids;
    use crate::model::Model;

    fn decide(expr: &str, ty: crate::model::TypeId, present: &[&str]) -> Result<Truth, ()> {
        let t = Model::r4().ty(ty);
        let mask = present.iter().fold(0u64, |m, name| m | 1 << element(t, name).unwrap());
        compile(&parse(expr).unwrap(), t).decide(&Kept {
            present: mask,
            members: &[],
            bytes: b"",
            line: None,
            resource: None,
            contained: None,
        })
    }

    /// `{"start":…,"end":…}` as the walk keeps it.
    fn period(start: &str, end: &str) -> (Vec<u8>, Vec<Captured>) {
        let json = format!(r#"{{"start":"{start}","end":"{end}"}}"#);
        let t = Model::r4().ty(ids::PERIOD);
        let at = |key: &str| json.find(&format!(r#""{key}":"#)).unwrap() + key.len() + 3;
        let member = |key: &str| {
            let element = element(t, key).unwrap();
            let property = t.properties.iter().position(|p| p.element == element).unwrap() as u8;
            Captured { element, property, ext: false, offset: at(key) as u32, present: true }
        };
        let members = vec![member("start"), member("end")];
        (json.into_bytes(), members)
    }

    #[test]
    fn decided_from_values() {
        let t = Model::r4().ty(ids::PERIOD);
        let per1 = compile(&parse("start.hasValue().not() or end.hasValue().not() or (start <= end)").unwrap(), t);
        let present = 1 << element(t, "start").unwrap() | 1 << element(t, "end").unwrap();
        let run = |start: &str, end: &str| {
            let (bytes, members) = period(start, end);
            per1.decide(&Kept {
                present,
                members: &members,
                bytes: &bytes,
                line: None,
                resource: None,
                contained: None,
            })
        };
        assert_eq!(run("2020-01-01", "2021-01-01"), Ok(Some(true)));
        assert_eq!(run("2021-01-01", "2020-01-01"), Ok(Some(false)));
        // Different precisions: empty, which fails the constraint.
        assert_eq!(run("2020", "2020-06"), Ok(None));
        // An escaped string is left to the evaluator.
        assert_eq!(run("2020-01-01\\u0030", "2021"), Err(()));
    }

    #[test]
    fn decided_from_presence() {
        let obs6 = "dataAbsentReason.empty() or value.empty()";
        assert_eq!(decide(obs6, ids::OBSERVATION, &["value"]), Ok(Some(true)));
        assert_eq!(decide(obs6, ids::OBSERVATION, &["value", "dataAbsentReason"]), Ok(Some(false)));
        let per1 = "start.hasValue().not() or end.hasValue().not() or (start <= end)";
        assert_eq!(decide(per1, ids::PERIOD, &["end"]), Ok(Some(true)));
        assert_eq!(decide(per1, ids::PERIOD, &["start", "end"]), Err(()));
        // The left side is not decided: the right side is not looked at.
        assert_eq!(decide("(start.toString() <= end) or start.empty()", ids::PERIOD, &[]), Err(()));
        assert_eq!(decide("(start <= end) or start.empty()", ids::PERIOD, &[]), Ok(Some(true)));
        assert_eq!(decide("text.`div`.exists()", ids::PATIENT, &[]), Ok(Some(false)));
        assert_eq!(decide("text.`div`.exists()", ids::PATIENT, &["text"]), Err(()));
        // Steps that give empty on empty: no `component`, nothing to filter.
        // bdl-7 is decided from what the walk kept (a history Bundle at once, by its type).
        let bdl7 =
            "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()";
        let mask = compile(&parse(bdl7).unwrap(), Model::r4().ty(ids::BUNDLE));
        assert!(
            matches!(&mask, Mask::Bool(BinOp::Or, _, b) if matches!(&**b, Mask::Distinct { parts, .. } if parts.len() == 2)),
            "{mask:?}"
        );
        assert_eq!(decide(bdl7, ids::BUNDLE, &[]), Ok(Some(true)), "no entry: distinct");
        let obs7 = "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()";
        assert_eq!(decide(obs7, ids::OBSERVATION, &["value"]), Ok(Some(true)));
        assert_eq!(decide(obs7, ids::OBSERVATION, &["value", "component"]), Err(()));
        assert_eq!(decide("component.exists(code.exists())", ids::OBSERVATION, &[]), Ok(Some(false)));
        // `all()` and `count()` are not empty on empty: left to the evaluator.
        assert_eq!(decide("component.all(code.exists())", ids::OBSERVATION, &[]), Err(()));
        assert_eq!(decide("component.count() = 0", ids::OBSERVATION, &[]), Err(()));
    }
}
