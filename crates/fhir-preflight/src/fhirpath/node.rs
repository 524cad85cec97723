//! The resource as FHIRPath sees it, read lazily from the line: a node is where a value starts in
//! the line and its FHIR type (from the model); its children are the members the walk kept of
//! that object (`facts::MemberIndex`: where each member's value and each array item starts), or,
//! for an object the walk did not keep, found by scanning it when an expression asks. No tree of
//! values is built: a node is an offset, and the object being checked answers "is this child
//! there?" from the walk's presence mask.

use std::cell::Ref;
use std::ops::Deref;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::facts::{Captured, Line};
use crate::json::scan::{Scanner, Token};
use crate::model::r4::ids;
use crate::model::{Prim, Ty, TypeDef, TypeId, TypeKind};

/// A node's FHIR type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeType {
    Prim(Prim),
    /// A datatype or backbone element.
    Complex(TypeId),
    Resource(TypeId),
}

/// An element of the line: where its value (and, for a primitive, its `_x` object) starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node<'a> {
    pub(crate) line: &'a Line<'a>,
    /// Where the value starts (`{` for an object); `None` for a primitive given only as `_x`.
    /// Offsets are `u32` (lines are shorter than 4 GiB): nodes are 32 bytes.
    value_at: Option<u32>,
    /// Where a primitive's `_x` object starts.
    ext_at: Option<u32>,
    pub(crate) ty: NodeType,
}

impl PartialEq for Node<'_> {
    /// The same element of the same line.
    fn eq(&self, other: &Self) -> bool {
        self.value_at == other.value_at
            && self.ext_at == other.ext_at
            && std::ptr::eq(self.line.bytes, other.line.bytes)
    }
}

/// What the walk knows of the object being checked, to answer without scanning it: which
/// elements are present, and (when the walk kept every member) where each member's value starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Known<'a> {
    pub(crate) at: usize,
    pub(crate) present: u64,
    pub(crate) members: Option<&'a [Captured]>,
}

impl<'a> Node<'a> {
    /// A node of type `ty` whose value starts at `value` and whose `_x` object (a primitive's)
    /// starts at `ext`.
    pub(crate) fn new(line: &'a Line<'a>, value: Option<usize>, ext: Option<usize>, ty: NodeType) -> Self {
        Node { line, value_at: value.map(|v| v as u32), ext_at: ext.map(|v| v as u32), ty }
    }

    /// Where the value starts (`{` for an object); `None` for a primitive given only as `_x`.
    #[inline]
    pub(crate) fn value(&self) -> Option<usize> {
        self.value_at.map(|v| v as usize)
    }

    /// Where a primitive's `_x` object starts.
    #[inline]
    pub(crate) fn ext(&self) -> Option<usize> {
        self.ext_at.map(|v| v as usize)
    }

    /// The object starting at `open` (its `{`), of type `ty`.
    pub(crate) fn object(line: &'a Line<'a>, open: usize, ty: NodeType) -> Self {
        Node::new(line, Some(open), None, ty)
    }

    /// The type's name as FHIRPath knows it: `string`, `Period`, `BackboneElement`, `Patient`.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.ty {
            NodeType::Prim(p) => p.name(),
            NodeType::Complex(tid) | NodeType::Resource(tid) => {
                let t = self.line.model.ty(tid);
                if t.kind == TypeKind::Backbone {
                    "BackboneElement"
                } else {
                    t.name
                }
            }
        }
    }

    /// The node's children named `name` (FHIRPath names: `value` for `value[x]`), or all of them,
    /// in document order. `known`: the checked object's presence mask.
    pub(crate) fn children(&self, name: Option<&str>, known: Option<Known<'_>>) -> Vec<Node<'a>> {
        let mut out = Vec::new();
        self.children_each(name, known, &mut |n| out.push(n));
        out
    }

    /// [`Node::children`], handed one by one to `each` (no collection is built).
    pub(crate) fn children_each(&self, name: Option<&str>, known: Option<Known<'_>>, each: &mut dyn FnMut(Node<'a>)) {
        match self.ty {
            NodeType::Prim(_) => {
                if let Some(at) = self.ext() {
                    Node::object(self.line, at, NodeType::Complex(ids::ELEMENT)).children_each(name, None, each);
                }
            }
            NodeType::Complex(tid) | NodeType::Resource(tid) => {
                if let Some(open) = self.value() {
                    self.object_children(open, tid, name, known, each);
                }
            }
        }
    }

    fn object_children(
        &self,
        open: usize,
        tid: TypeId,
        name: Option<&str>,
        known: Option<Known<'_>>,
        each: &mut dyn FnMut(Node<'a>),
    ) {
        let model = self.line.model;
        let t = model.ty(tid);
        let wanted = match name {
            None => None,
            Some(name) => match element_named(t, name) {
                Some(i) => Some(i),
                None => return,
            },
        };
        if let (Some(i), Some(k)) = (wanted, known) {
            if k.at == open && k.present & (1 << i) == 0 {
                return;
            }
        }
        match known.filter(|k| k.at == open).and_then(|k| k.members) {
            Some(members) => self.nodes_of(members, t, wanted, each),
            None => match self.line.members.get(open) {
                Some(kept) => self.nodes_of(&kept, t, wanted, each),
                None => match wanted.and_then(|w| self.first_member(open, t, w)) {
                    Some(member) => self.nodes_of(&[member], t, wanted, each),
                    None => self.nodes_of(&self.members(open, t), t, wanted, each),
                },
            },
        }
    }

    /// The member of element `w` of an object the walk did not keep (or has not finished: the
    /// resource around the checked object, for `ref-1`'s `%rootResource.contained`), found by
    /// scanning the object up to it: an element that is neither a choice nor a primitive has one
    /// key and no `_x`, so the first occurrence is all of it. `None`: not found that way (then
    /// the whole object is scanned once, and kept for the line).
    fn first_member(&self, open: usize, t: &TypeDef, w: usize) -> Option<Captured> {
        let element = t.elements.get(w)?;
        let mut props = t.properties.iter().enumerate().filter(|(_, p)| usize::from(p.element) == w);
        let (property, prop) = props.next()?;
        if element.choice || props.next().is_some() || matches!(prop.ty, Ty::Prim(_)) {
            return None;
        }
        if self.line.members.scanned(open).is_some() {
            return None;
        }
        let mut sc = Scanner { bytes: self.line.bytes, pos: open + 1 };
        if sc.peek() == Some(b'}') {
            return None;
        }
        while let Ok(key) = sc.member_key() {
            if key.str_in(self.line.text).as_bytes() == prop.key.as_bytes() {
                let present = !matches!(sc.peek(), Some(b'n'));
                let (element, property) = (w as u8, property as u8);
                return Some(Captured { element, property, ext: false, offset: sc.pos as u32, present });
            }
            if sc.skip_value().is_err() || sc.peek() != Some(b',') {
                return None;
            }
            sc.pos += 1;
        }
        None
    }

    /// The members of this object (kept by the walk, or scanned), and its type; `None` for a
    /// primitive or a primitive's extension object.
    pub(crate) fn object_members(&self) -> Option<(Read<'a, Captured>, &'static TypeDef)> {
        let (NodeType::Complex(tid) | NodeType::Resource(tid)) = self.ty else { return None };
        let open = self.value()?;
        let t = self.line.model.ty(tid);
        let members = match self.line.members.get(open) {
            Some(kept) => Read::Walked(kept),
            None => self.members(open, t),
        };
        Some((members, t))
    }

    /// The child nodes of element `element` of an object with these members (of type `t`).
    pub(crate) fn element_nodes(&self, members: &[Captured], t: &TypeDef, element: usize) -> SmallVec<[Node<'a>; 4]> {
        let mut out = SmallVec::new();
        self.nodes_of(members, t, Some(element), &mut |n| out.push(n));
        out
    }

    /// The child nodes of an object with these members: of element `wanted`, or all.
    fn nodes_of(&self, members: &[Captured], t: &TypeDef, wanted: Option<usize>, each: &mut dyn FnMut(Node<'a>)) {
        let is_wanted = |c: &Captured| wanted.is_none_or(|w| usize::from(c.element) == w);
        // `_x` members are rare: looked for only when a primitive is read, or at the end.
        let mut any_ext = None;
        let mut has_ext = || *any_ext.get_or_insert_with(|| members.iter().any(|c| c.ext));
        // An element that is not a choice has one key: its one member (the walk keeps the first
        // of repeated keys) ends the search, and no `_x` of its own can stand alone.
        let one_key = wanted.is_some_and(|w| t.elements.get(w).is_some_and(|e| !e.choice));
        for c in members.iter().filter(|c| !c.ext && is_wanted(c)) {
            let ty = t.properties[usize::from(c.property)].ty;
            // Only a primitive has a `_x` member.
            let ext = match ty {
                Ty::Prim(_) if has_ext() => {
                    members.iter().find(|e| e.ext && e.property == c.property).map(|e| self.items_at(e.at()))
                }
                _ => None,
            };
            for (i, item) in self.items_at(c.at()).iter().enumerate() {
                let ext_at = ext.as_ref().and_then(|e| e.get(i).copied().flatten());
                if let Some(node) = self.child_node(ty, *item, ext_at) {
                    each(node);
                }
            }
            if one_key {
                return;
            }
        }
        // Primitives given only as `_x`.
        if !has_ext() {
            return;
        }
        for e in members.iter().filter(|e| e.ext && is_wanted(e)) {
            if members.iter().any(|v| !v.ext && v.property == e.property) {
                continue;
            }
            if let Ty::Prim(p) = t.properties[usize::from(e.property)].ty {
                for item in self.items_at(e.at()).iter().flatten() {
                    each(Node::new(self.line, None, Some(*item), NodeType::Prim(p)));
                }
            }
        }
    }

    /// Every member of the object at `open` (of type `t`): as the walk kept them, or (an object
    /// the walk did not keep) by scanning it. Unknown keys are left out; a repeated key counts
    /// once, the first.
    fn members(&self, open: usize, t: &TypeDef) -> Read<'a, Captured> {
        if let Some(kept) = self.line.members.get(open) {
            return Read::Walked(kept);
        }
        if let Some(scanned) = self.line.members.scanned(open) {
            return Read::Shared(scanned);
        }
        let mut sc = Scanner { bytes: self.line.bytes, pos: open + 1 };
        let mut members: SmallVec<[Captured; 8]> = SmallVec::new();
        if sc.peek() != Some(b'}') {
            while let Ok(key) = sc.member_key() {
                let key_text = key.str_in(self.line.text);
                let key_bytes = key_text.as_bytes();
                let found = (t.lookup)(key_bytes).map(|i| (i, false)).or_else(|| {
                    let i = (t.lookup)(key_bytes.strip_prefix(b"_")?)?;
                    matches!(t.properties[usize::from(i)].ty, Ty::Prim(_)).then_some((i, true))
                });
                let offset = sc.pos;
                if let Some((property, ext)) = found {
                    if members.iter().all(|m: &Captured| m.property != property || m.ext != ext) {
                        let element = t.properties[usize::from(property)].element;
                        let present = !matches!(sc.peek(), Some(b'n'));
                        members.push(Captured { element, property, ext, offset: offset as u32, present });
                    }
                }
                if sc.skip_value().is_err() || sc.peek() != Some(b',') {
                    break;
                }
                sc.pos += 1;
            }
        }
        // An object the walk has not finished (the resource around the checked object): other
        // objects inside it will read it again.
        let members: Rc<[Captured]> = members.into_iter().collect();
        self.line.members.keep_scanned(open, Rc::clone(&members));
        Read::Shared(members)
    }

    /// Are two complex nodes equal, property by property (the HL7 Java engine's
    /// `Base.compareDeep`, which `=`, `intersect`, `distinct` use for complex values)? The same
    /// element is equal without looking further.
    pub(crate) fn deep_equal(&self, other: &Node<'a>, value_equal: &dyn Fn(&Node<'a>, &Node<'a>) -> bool) -> bool {
        if self == other {
            return true;
        }
        let (NodeType::Complex(x) | NodeType::Resource(x), NodeType::Complex(y) | NodeType::Resource(y)) =
            (self.ty, other.ty)
        else {
            return value_equal(self, other);
        };
        let (Some(a), Some(b)) = (self.value(), other.value()) else { return false };
        if x != y {
            return false;
        }
        let t = self.line.model.ty(x);
        let (ma, mb) = (self.members(a, t), self.members(b, t));
        let elements = |m: &[Captured]| m.iter().fold(0u64, |bits, c| bits | 1 << c.element);
        let (ea, eb) = (elements(&ma), elements(&mb));
        if ea != eb {
            return false;
        }
        (0..t.elements.len().min(64)).filter(|i| ea & (1 << i) != 0).all(|i| {
            if let Some(same) = self.same_string(&ma, &mb, t, i) {
                return same;
            }
            let (mut ca, mut cb) =
                (smallvec::SmallVec::<[Node<'a>; 4]>::new(), smallvec::SmallVec::<[Node<'a>; 4]>::new());
            self.nodes_of(&ma, t, Some(i), &mut |n| ca.push(n));
            other.nodes_of(&mb, t, Some(i), &mut |n| cb.push(n));
            ca.len() == cb.len() && ca.iter().zip(&cb).all(|(p, q)| p.deep_equal(q, value_equal))
        })
    }

    /// Two objects of type `t` with these members compared as [`Node::deep_equal`] compares them,
    /// when their elements differ or each element is one unescaped string in both; `None`: ask
    /// `deep_equal`.
    pub(crate) fn same_members(&self, ma: &[Captured], mb: &[Captured], t: &TypeDef) -> Option<bool> {
        let elements = |m: &[Captured]| m.iter().fold(0u64, |bits, c| bits | 1 << c.element);
        let (ea, eb) = (elements(ma), elements(mb));
        if ea != eb {
            return Some(false);
        }
        // Last element first: a Coding's `code` and `display` differ where its `system` agrees.
        for i in (0..t.elements.len().min(64)).rev().filter(|i| ea & (1 << i) != 0) {
            if !self.same_string(ma, mb, t, i)? {
                return Some(false);
            }
        }
        Some(true)
    }

    /// Element `i` of two objects of type `t` compared from the line's bytes, when both hold it as
    /// one unescaped string (a Coding's `system`, `code`): the same bytes are the same value; for
    /// a string-like type, different bytes are different values. `None`: compare the values.
    pub(crate) fn same_string(&self, ma: &[Captured], mb: &[Captured], t: &TypeDef, i: usize) -> Option<bool> {
        let one = |m: &[Captured]| {
            let mut of = m.iter().filter(|c| usize::from(c.element) == i);
            let c = of.next()?;
            (of.next().is_none() && !c.ext).then_some(*c)
        };
        let (a, b) = (one(ma)?, one(mb)?);
        let Ty::Prim(prim) = t.properties[usize::from(a.property)].ty else { return None };
        let string = |at: usize| match (Scanner { bytes: self.line.bytes, pos: at }).value() {
            Ok(Token::String(s)) if !s.escaped => Some(s.raw(self.line.bytes)),
            _ => None,
        };
        let (x, y) = (string(a.at())?, string(b.at())?);
        if x == y {
            return Some(true);
        }
        let string_like = !matches!(
            prim,
            Prim::Boolean
                | Prim::Integer
                | Prim::PositiveInt
                | Prim::UnsignedInt
                | Prim::Decimal
                | Prim::Date
                | Prim::DateTime
                | Prim::Instant
                | Prim::Time
        );
        string_like.then_some(false)
    }

    /// The items of the value at `at` (an array's, as the walk kept them or scanned now; a single
    /// value is its own item).
    fn items_at(&self, at: usize) -> Read<'a, Option<usize>> {
        let mut sc = Scanner { bytes: self.line.bytes, pos: at };
        match sc.peek() {
            Some(b'[') => {}
            Some(b'n') => return Read::One([None]),
            _ => return Read::One([Some(at)]),
        }
        match self.line.members.array(at) {
            Some(kept) => Read::Walked(kept),
            None => Read::Scanned(array_items(&mut sc)),
        }
    }

    fn child_node(&self, ty: Ty, at: Option<usize>, ext: Option<usize>) -> Option<Node<'a>> {
        match ty {
            Ty::Prim(p) => {
                let value = at.filter(|&a| self.line.bytes.get(a) != Some(&b'n'));
                (value.is_some() || ext.is_some()).then_some(Node::new(self.line, value, ext, NodeType::Prim(p)))
            }
            Ty::Complex(tid) => {
                let at = at?;
                (self.line.bytes.get(at) == Some(&b'{')).then(|| Node::object(self.line, at, NodeType::Complex(tid)))
            }
            Ty::Resource => {
                let at = at?;
                Some(Node::object(self.line, at, NodeType::Resource(resource_at(self.line, at)?)))
            }
        }
    }

    /// The primitive's value token, if it has one.
    pub(crate) fn token(&self) -> Option<Token> {
        let at = self.value()?;
        let mut sc = Scanner { bytes: self.line.bytes, pos: at };
        sc.value().ok()
    }
}

/// The type of the resource whose `{` is at `at`, by its `resourceType`.
pub(crate) fn resource_at(line: &Line<'_>, at: usize) -> Option<TypeId> {
    let Some(Token::String(s)) = crate::json::scan::find_member(line.bytes, at, "resourceType") else { return None };
    line.model.resource_type(&s.str_in(line.text))
}

/// The index of `t`'s element `name` (FHIRPath names: `value` for `value[x]`): by the type's
/// generated key lookup (a `match`, no string comparisons), else (a choice) by its name.
pub(crate) fn element_named(t: &TypeDef, name: &str) -> Option<usize> {
    if let Some(p) = (t.lookup)(name.as_bytes()) {
        let i = usize::from(t.properties[usize::from(p)].element);
        // `valueQuantity` names a key of `value[x]`, not an element.
        return (!t.elements[i].choice).then_some(i);
    }
    t.elements.iter().position(|e| e.choice && e.name.strip_suffix("[x]") == Some(name))
}

/// The start of each item of the value at the scanner (an array's items, or the value itself);
/// `None` for `null` items. Leaves the scanner after the value.
fn array_items(sc: &mut Scanner<'_>) -> SmallVec<[Option<usize>; 8]> {
    let mut items = SmallVec::new();
    if sc.peek() != Some(b'[') {
        let at = sc.pos;
        let null = sc.peek() == Some(b'n');
        let _ = sc.skip_value();
        items.push((!null).then_some(at));
        return items;
    }
    sc.pos += 1;
    if sc.peek() == Some(b']') {
        sc.pos += 1;
        return items;
    }
    loop {
        let at = sc.pos;
        let null = sc.peek() == Some(b'n');
        if sc.skip_value().is_err() {
            return items;
        }
        items.push((!null).then_some(at));
        match sc.peek() {
            Some(b',') => sc.pos += 1,
            Some(b']') => {
                sc.pos += 1;
                return items;
            }
            _ => return items,
        }
    }
}

/// Members or items of a value: borrowed from what the walk kept, or scanned now.
pub(crate) enum Read<'a, T: Copy> {
    Walked(Ref<'a, [T]>),
    /// A single value (not an array): its own item.
    One([T; 1]),
    /// Scanned once and shared for the rest of the line.
    Shared(Rc<[T]>),
    Scanned(SmallVec<[T; 8]>),
}

impl<T: Copy> Deref for Read<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Read::Walked(kept) => kept,
            Read::One(one) => one,
            Read::Shared(shared) => shared,
            Read::Scanned(scanned) => scanned,
        }
    }
}
