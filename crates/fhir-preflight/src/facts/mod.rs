//! What the walk tells the rules: the interface between `walk` (which parses a line against the
//! model and tracks what rules need) and `check` (the rules). The walk fills these at the hook
//! points — a member's key read, a primitive value read, an object read to its end, a resource
//! read to its end, the line read — and hands them to the rules; a rule sees nothing else.
//!
//! May import: `model`, `json` (the scanner's tokens, for rules that re-read a captured value),
//! `diagnostic`. Not `walk` or `check`.

pub(crate) mod path;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::diagnostic::Message;
use crate::json::scan::{Scanner, Token};
use crate::model::{Element, Model, Prim, Role, TypeDef, TypeId};
pub(crate) use path::Path;

/// Where the walk is, for rules that depend on context.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ctx {
    /// Inside a contained resource.
    pub(crate) contained: bool,
    /// Reading the `meta` of a contained resource.
    pub(crate) contained_meta: bool,
    /// Inside a transaction or batch Bundle (conditional references are expected there).
    pub(crate) transaction: bool,
    /// The resource being read (`%resource`): where its `{` is, and its type.
    pub(crate) resource: Option<(usize, TypeId)>,
    /// The resource that holds it (`%rootResource`): for a contained resource its container, else
    /// the resource itself.
    pub(crate) root_resource: Option<(usize, TypeId)>,
}

/// The line being read (valid UTF-8), the model it is read against, and the members of its
/// objects found so far by FHIRPath.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) text: &'a str,
    pub(crate) model: &'a Model,
    pub(crate) members: &'a MemberIndex,
}

/// Where the items of a member's value start (`None`: a `null` item); one for a single value.
pub(crate) type Items = SmallVec<[Option<usize>; 2]>;

/// Offsets in one line are their own hash (a multiplication spreads them over the buckets).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Offsets;

impl std::hash::BuildHasher for Offsets {
    type Hasher = OffsetHasher;
    fn build_hasher(&self) -> OffsetHasher {
        OffsetHasher(0)
    }
}

/// The hasher of [`Offsets`].
#[derive(Debug)]
pub(crate) struct OffsetHasher(u64);

impl std::hash::Hasher for OffsetHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

/// The members of the line's larger objects by where the object starts: kept by the walk for the
/// objects with constraints (`check/invariant.rs`), or found when a constraint first reads one
/// (`fhirpath/node.rs`), and kept for the line: a Bundle's constraints read every entry and its
/// resource, and would otherwise scan them again.
#[derive(Debug, Default)]
pub(crate) struct MemberIndex {
    objects: RefCell<HashMap<usize, Rc<[Captured]>, Offsets>>,
    /// The items of large arrays, by where the array starts.
    arrays: RefCell<HashMap<usize, Items, Offsets>>,
}

impl MemberIndex {
    /// Objects smaller than this are scanned again rather than kept.
    pub(crate) const MIN_BYTES: usize = 256;

    /// Forget the last line's objects (keeping the memory).
    pub(crate) fn clear(&mut self) {
        self.objects.get_mut().clear();
        self.arrays.get_mut().clear();
    }

    pub(crate) fn get(&self, open: usize) -> Option<Rc<[Captured]>> {
        self.objects.borrow().get(&open).cloned()
    }

    pub(crate) fn insert(&self, open: usize, members: Rc<[Captured]>) {
        self.objects.borrow_mut().insert(open, members);
    }

    pub(crate) fn array(&self, open: usize) -> Option<Items> {
        self.arrays.borrow().get(&open).cloned()
    }

    pub(crate) fn insert_array(&self, open: usize, items: &Items) {
        self.arrays.borrow_mut().insert(open, items.clone());
    }
}

impl<'a> Line<'a> {
    /// The decoded string value starting at `offset`, if it is a string.
    pub(crate) fn string_at(&self, offset: usize) -> Option<Cow<'a, str>> {
        let mut look = Scanner { bytes: self.bytes, pos: offset };
        match look.value() {
            Ok(Token::String(s)) => Some(s.str_in(self.text)),
            _ => None,
        }
    }
}

/// A member of a typed object, when its key has been read (before its value).
#[derive(Debug)]
pub(crate) struct MemberFacts<'f, 'a> {
    #[expect(dead_code, reason = "the line and type are part of what a member rule may read; today's read neither")]
    pub(crate) line: Line<'a>,
    /// The object's type.
    #[expect(dead_code, reason = "the line and type are part of what a member rule may read; today's read neither")]
    pub(crate) type_id: TypeId,
    /// The element the key names (for `_x`, the element of `x`).
    pub(crate) element: &'static Element,
    /// The key is `_x` (the primitive's id and extensions).
    pub(crate) ext: bool,
    /// Where the key's opening quote is.
    pub(crate) key_offset: usize,
    /// The member's path.
    pub(crate) path: &'f Path<'f>,
    /// The object's context.
    pub(crate) ctx: Ctx,
}

/// A primitive value read (of the right JSON kind or not).
#[derive(Debug)]
pub(crate) struct ValueFacts<'f, 'a> {
    pub(crate) line: Line<'a>,
    pub(crate) prim: Prim,
    pub(crate) token: Token,
    /// The element the value belongs to.
    pub(crate) element: &'static Element,
    pub(crate) offset: usize,
    pub(crate) path: &'f Path<'f>,
}

/// The value of an element that a type's rules read, kept by the walk: where its value starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Captured {
    /// Index in the type's elements.
    pub(crate) element: u8,
    /// Index in the type's properties (which of a choice's keys).
    pub(crate) property: u8,
    /// The `_x` member of a primitive.
    pub(crate) ext: bool,
    pub(crate) offset: usize,
    /// The value counts as present (not `null`, not `[]`).
    pub(crate) present: bool,
}

/// A `null` item of a primitive array: (element index, in `_x`, item index).
pub(crate) type NullItem = (u8, bool, u32);

/// A typed object read to its end.
#[derive(Debug)]
pub(crate) struct ObjectFacts<'f, 'a> {
    pub(crate) line: Line<'a>,
    pub(crate) type_id: TypeId,
    /// The type (`line.model.ty(type_id)`, looked up once).
    pub(crate) def: &'static TypeDef,
    /// Where its `{` is.
    pub(crate) open: usize,
    /// Just after its `}`.
    pub(crate) close: usize,
    pub(crate) path: &'f Path<'f>,
    pub(crate) ctx: Ctx,
    /// The element holding the object (`None` for a resource).
    pub(crate) holder: Option<&'static Element>,
    /// Bit `i`: `elements[i]` is present.
    pub(crate) present: u64,
    /// Values of the elements the type's rules read (`Rule::reads`), in the order read.
    pub(crate) captured: &'f [Captured],
    /// `null` items of its primitive arrays.
    pub(crate) nulls: &'f [NullItem],
}

impl<'a> ObjectFacts<'_, 'a> {
    pub(crate) fn ty(&self) -> &'static TypeDef {
        self.def
    }

    /// Is an element of this role present?
    pub(crate) fn has(&self, role: Role) -> bool {
        self.ty().elements.iter().enumerate().any(|(i, e)| e.role == role && self.present & (1 << i) != 0)
    }

    /// The first value of the element named `name`, if it is a string, and where it starts.
    pub(crate) fn string(&self, name: &str) -> Option<(Cow<'a, str>, usize)> {
        let c = self.captured_named(name).next()?;
        self.line.string_at(c.offset).map(|s| (s, c.offset))
    }

    /// Where the first value of the element named `name` starts (its first byte: `"` for a string).
    pub(crate) fn first_offset(&self, name: &str) -> Option<usize> {
        self.captured_named(name).next().map(|c| c.offset)
    }

    fn captured_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Captured> {
        let elements = self.ty().elements;
        self.captured
            .iter()
            .filter(move |c| !c.ext && elements.get(usize::from(c.element)).is_some_and(|e| e.name == name))
    }
}

/// A `#id` read inside a resource, in a `Reference.reference` or a uri: it counts for dom-3
/// (whether a `Reference.reference` resolves is ref-1, an invariant).
#[derive(Debug)]
pub(crate) struct LocalRef {
    pub(crate) id: String,
}

/// A contained resource's id, and where it is.
#[derive(Debug)]
pub(crate) struct ContainedId {
    pub(crate) id: String,
    pub(crate) offset: usize,
    pub(crate) path: Option<Message>,
}

/// A resource that is not itself contained, read to its end: the `#id` references and the
/// contained resources read inside it.
#[derive(Debug)]
pub(crate) struct ResourceFacts<'f> {
    pub(crate) local_refs: &'f [LocalRef],
    pub(crate) contained: &'f [ContainedId],
}

/// A property of the line's resource: where its value starts, and the value's first token.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    pub(crate) value_offset: usize,
    pub(crate) value: Token,
}

/// The line read: what the line's own rules need.
#[derive(Debug, Default)]
pub(crate) struct LineFacts {
    /// The root is a JSON object.
    pub(crate) is_object: bool,
    /// The root object was read to its closing brace (so "missing" checks can be trusted).
    pub(crate) complete: bool,
    pub(crate) resource_type: Option<Member>,
    pub(crate) id: Option<Member>,
    /// The type name used as the root of FHIR paths (`""` if unknown).
    pub(crate) path_root: String,
}
