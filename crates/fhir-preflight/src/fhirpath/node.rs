//! The resource as FHIRPath sees it, read lazily from the line: a node is where a value starts in
//! the line and its FHIR type (from the model); its children are found by scanning that object's
//! members when an expression asks for them. No tree of the line is ever built: a constraint reads
//! a few children of a small object, and the object being checked answers "is this child there?"
//! from the walk's presence mask without any scan.

use crate::facts::Line;
use crate::json::scan::{Scanner, Token};
use crate::model::r4::ids;
use crate::model::{Prim, Ty, TypeId, TypeKind};

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
    pub(crate) line: Line<'a>,
    /// Where the value starts (`{` for an object); `None` for a primitive given only as `_x`.
    pub(crate) value: Option<usize>,
    /// Where a primitive's `_x` object starts.
    pub(crate) ext: Option<usize>,
    pub(crate) ty: NodeType,
}

impl PartialEq for Node<'_> {
    /// The same element of the same line.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.ext == other.ext && std::ptr::eq(self.line.bytes, other.line.bytes)
    }
}

/// The elements present in one object (the walk's mask), to answer without scanning.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Known {
    pub(crate) at: usize,
    pub(crate) present: u64,
}

/// One member's values while scanning an object: property index, `_x` or not, item offsets
/// (`None` for a `null` item).
struct Group {
    property: u8,
    ext: bool,
    items: Vec<Option<usize>>,
}

impl<'a> Node<'a> {
    /// The object starting at `open` (its `{`), of type `ty`.
    pub(crate) fn object(line: Line<'a>, open: usize, ty: NodeType) -> Self {
        Node { line, value: Some(open), ext: None, ty }
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
    pub(crate) fn children(&self, name: Option<&str>, known: Option<Known>) -> Vec<Node<'a>> {
        match self.ty {
            NodeType::Prim(_) => match self.ext {
                Some(at) => Node::object(self.line, at, NodeType::Complex(ids::ELEMENT)).children(name, None),
                None => Vec::new(),
            },
            NodeType::Complex(tid) | NodeType::Resource(tid) => {
                let Some(open) = self.value else { return Vec::new() };
                self.object_children(open, tid, name, known)
            }
        }
    }

    fn object_children(&self, open: usize, tid: TypeId, name: Option<&str>, known: Option<Known>) -> Vec<Node<'a>> {
        let model = self.line.model;
        let t = model.ty(tid);
        let wanted = match name {
            None => None,
            Some(name) => {
                let found = t
                    .elements
                    .iter()
                    .position(|e| e.name == name || (e.choice && e.name.strip_suffix("[x]") == Some(name)));
                match found {
                    Some(i) => Some(i),
                    None => return Vec::new(),
                }
            }
        };
        if let (Some(i), Some(k)) = (wanted, known) {
            if k.at == open && k.present & (1 << i) == 0 {
                return Vec::new();
            }
        }
        let bytes = self.line.bytes;
        let mut sc = Scanner { bytes, pos: open + 1 };
        let mut groups: Vec<Group> = Vec::new();
        if sc.peek() != Some(b'}') {
            while let Ok(key) = sc.member_key() {
                let key_text = key.str_in(self.line.text);
                let key_bytes = key_text.as_bytes();
                let found = (t.lookup)(key_bytes).map(|i| (i, false)).or_else(|| {
                    let i = (t.lookup)(key_bytes.strip_prefix(b"_")?)?;
                    matches!(t.properties[usize::from(i)].ty, Ty::Prim(_)).then_some((i, true))
                });
                let take = found
                    .filter(|(i, _)| wanted.is_none_or(|w| usize::from(t.properties[usize::from(*i)].element) == w));
                match take {
                    Some((property, ext)) => {
                        let items = array_items(&mut sc);
                        if groups.iter().all(|g| g.property != property || g.ext != ext) {
                            groups.push(Group { property, ext, items });
                        }
                    }
                    None => {
                        if sc.skip_value().is_err() {
                            break;
                        }
                    }
                }
                if sc.peek() != Some(b',') {
                    break;
                }
                sc.pos += 1;
            }
        }
        let mut out = Vec::new();
        for g in groups.iter().filter(|g| !g.ext) {
            let prop = &t.properties[usize::from(g.property)];
            let ext = groups.iter().find(|e| e.ext && e.property == g.property);
            for (i, item) in g.items.iter().enumerate() {
                let ext_at = ext.and_then(|e| e.items.get(i).copied().flatten());
                if let Some(node) = self.child_node(prop.ty, *item, ext_at) {
                    out.push(node);
                }
            }
        }
        // Primitives given only as `_x`.
        for e in groups.iter().filter(|g| g.ext && !groups.iter().any(|v| !v.ext && v.property == g.property)) {
            let prop = &t.properties[usize::from(e.property)];
            for item in e.items.iter().flatten() {
                if let Ty::Prim(p) = prop.ty {
                    out.push(Node { line: self.line, value: None, ext: Some(*item), ty: NodeType::Prim(p) });
                }
            }
        }
        out
    }

    fn child_node(&self, ty: Ty, at: Option<usize>, ext: Option<usize>) -> Option<Node<'a>> {
        match ty {
            Ty::Prim(p) => {
                let value = at.filter(|&a| self.line.bytes.get(a) != Some(&b'n'));
                (value.is_some() || ext.is_some()).then_some(Node {
                    line: self.line,
                    value,
                    ext,
                    ty: NodeType::Prim(p),
                })
            }
            Ty::Complex(tid) => {
                let at = at?;
                (self.line.bytes.get(at) == Some(&b'{')).then(|| Node::object(self.line, at, NodeType::Complex(tid)))
            }
            Ty::Resource => {
                let at = at?;
                let Some(Token::String(s)) = crate::json::scan::find_member(self.line.bytes, at, "resourceType") else {
                    return None;
                };
                let tid = self.line.model.resource_type(&s.text(self.line.bytes))?;
                Some(Node::object(self.line, at, NodeType::Resource(tid)))
            }
        }
    }

    /// The primitive's value token, if it has one.
    pub(crate) fn token(&self) -> Option<Token> {
        let at = self.value?;
        let mut sc = Scanner { bytes: self.line.bytes, pos: at };
        sc.value().ok()
    }
}

/// The start of each item of the value at the scanner (an array's items, or the value itself);
/// `None` for `null` items. Leaves the scanner after the value.
fn array_items(sc: &mut Scanner<'_>) -> Vec<Option<usize>> {
    let mut items = Vec::new();
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
