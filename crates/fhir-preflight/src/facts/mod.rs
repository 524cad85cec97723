//! What the walk tells the rules: the interface between `walk` (which parses a line against the
//! model and tracks what rules need) and `check` (the rules). The walk fills these at the hook
//! points — a member's key read, a primitive value read, an object read to its end, a resource
//! read to its end, the line read — and hands them to the rules; a rule sees nothing else.
//!
//! May import: `model`, `json` (the scanner's tokens, for rules that re-read a captured value),
//! `diagnostic`. Not `walk` or `check`.

pub(crate) mod path;

use std::borrow::Cow;
use std::cell::{Ref, RefCell};
use std::rc::Rc;

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
    /// Inside a resource contained in a contained resource.
    pub(crate) nested_contained: bool,
    /// Inside a transaction or batch Bundle (conditional references are expected there).
    pub(crate) transaction: bool,
    /// The walk keeps the members of the object being opened (and the items of the array):
    /// set along the paths that the rules read through FHIRPath nodes (`TypeRules::keep`).
    pub(crate) keep: bool,
    /// The resource being read (`%resource`): where its `{` is, and its type.
    /// (Offsets as `u32`, lines being shorter than 4 GiB: the walk copies a context per member.)
    pub(crate) resource: Option<(u32, TypeId)>,
    /// The resource that holds it (`%rootResource`): for a contained resource its container, else
    /// the resource itself.
    pub(crate) root_resource: Option<(u32, TypeId)>,
}

/// The line being read (valid UTF-8), the model it is read against, and the members of its
/// objects found so far by FHIRPath.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) text: &'a str,
    pub(crate) model: &'a Model,
    pub(crate) members: &'a MemberIndex,
    /// The profiles `meta.profile` may name (`None`: not checked).
    pub(crate) profiles: Option<&'a crate::profile::ProfileSet>,
}

/// What the walk read of the line's objects and arrays, kept for the FHIRPath engine
/// (`fhirpath/node.rs`): each typed object's members (where each value starts) and each array's
/// items, by where the object or array starts. A constraint that reads `component.code.coding`
/// finds them here instead of scanning the line again. Flat arenas, with a slot per object and
/// per array taken when the walk opens it (so the slots are in the order of their offsets, found
/// by binary search) and filled when it closes it: no allocation or hashing per object, and the
/// memory is kept from line to line. Bounded: past [`MemberIndex::MAX_KEPT`] entries (a huge
/// line) the engine scans what it reads instead.
#[derive(Debug, Default)]
pub(crate) struct MemberIndex {
    objects: Kept<Captured>,
    arrays: Kept<Option<usize>>,
    /// Members of objects the walk had not finished when a constraint read them (the resource
    /// around a Reference, for `ref-1`'s `%rootResource.contained`), scanned once per line.
    scanned: RefCell<Vec<(usize, Rc<[Captured]>)>>,
    /// Where the value of each `Reference.reference` of the line starts, in document order.
    references: RefCell<Vec<u32>>,
    /// More references than [`MemberIndex::MAX_KEPT`]: the list is not complete.
    references_full: std::cell::Cell<bool>,
    /// How many unfinished objects were scanned and reads outside an object noted on this line
    /// (see [`MemberIndex::only_kept_since`]).
    other_writes: std::cell::Cell<u32>,
}

/// Where a [`MemberIndex`] stands: how many slots and arena entries of objects and arrays, and
/// other writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexMark {
    objects: (usize, usize),
    arrays: (usize, usize),
    references: usize,
    other: u32,
}

/// What reading an object kept in a [`MemberIndex`], relative to the object's offset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Recorded {
    objects: Vec<Slot>,
    members: Vec<Captured>,
    arrays: Vec<Slot>,
    items: Vec<Option<usize>>,
    references: Vec<u32>,
}

impl Recorded {
    pub(crate) fn clear(&mut self) {
        self.objects.clear();
        self.members.clear();
        self.arrays.clear();
        self.items.clear();
        self.references.clear();
    }
}

/// An entry of a [`MemberIndex`] arena that holds an offset of the line.
trait Offsets: Copy {
    fn shifted(self, by: isize) -> Self;
}

impl Offsets for Captured {
    fn shifted(self, by: isize) -> Self {
        Captured { offset: (self.offset as isize + by) as u32, ..self }
    }
}

impl Offsets for Option<usize> {
    fn shifted(self, by: isize) -> Self {
        self.map(|at| (at as isize + by) as usize)
    }
}

/// Slots by offset, and the arena their ranges are in.
#[derive(Debug)]
struct Kept<T> {
    slots: RefCell<Vec<Slot>>,
    arena: RefCell<Vec<T>>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept { slots: RefCell::default(), arena: RefCell::default() }
    }
}

/// An object or array: where it starts and ends, and its range in the arena (`len == u32::MAX`:
/// not kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    open: usize,
    close: usize,
    start: u32,
    len: u32,
}

/// The slot the walk took for an object or array it opened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotId(usize);

impl<T: Offsets> Kept<T> {
    fn mark(&self) -> (usize, usize) {
        (self.slots.borrow().len(), self.arena.borrow().len())
    }

    fn complete_since(&self, mark: (usize, usize)) -> bool {
        self.slots.borrow()[mark.0..].iter().all(|s| s.len != u32::MAX)
    }

    fn room_for(&self, entries: usize) -> bool {
        self.arena.borrow().len() + entries <= MemberIndex::MAX_KEPT
    }

    /// The slots opened since `mark` (all filled: `complete_since`) and their entries, relative
    /// to `origin` (slot ranges relative to the arena's length at `mark`).
    fn record_since(&self, mark: (usize, usize), origin: usize, slots: &mut Vec<Slot>, entries: &mut Vec<T>) {
        let by = -(origin as isize);
        let base = mark.1 as u32;
        slots.extend(self.slots.borrow()[mark.0..].iter().map(|s| Slot {
            open: s.open - origin,
            close: s.close - origin,
            start: s.start - base,
            len: s.len,
        }));
        entries.extend(self.arena.borrow()[mark.1..].iter().map(|e| e.shifted(by)));
    }

    /// Back to `mark` (debug builds: a replay undone, to read the same object again).
    #[cfg(debug_assertions)]
    fn truncate(&self, mark: (usize, usize)) {
        self.slots.borrow_mut().truncate(mark.0);
        self.arena.borrow_mut().truncate(mark.1);
    }

    fn replay(&self, slots: &[Slot], entries: &[T], origin: usize) {
        let mut arena = self.arena.borrow_mut();
        let base = arena.len() as u32;
        let by = origin as isize;
        self.slots.borrow_mut().extend(slots.iter().map(|s| Slot {
            open: s.open + origin,
            close: s.close + origin,
            start: s.start + base,
            len: s.len,
        }));
        arena.extend(entries.iter().map(|e| e.shifted(by)));
    }

    fn clear(&mut self) {
        self.slots.get_mut().clear();
        self.arena.get_mut().clear();
    }

    fn open(&self, open: usize) -> SlotId {
        let mut slots = self.slots.borrow_mut();
        slots.push(Slot { open, close: open, start: 0, len: u32::MAX });
        SlotId(slots.len() - 1)
    }

    fn fill(&self, slot: SlotId, new: &[T], close: usize) {
        let mut arena = self.arena.borrow_mut();
        let start = arena.len();
        if start + new.len() > MemberIndex::MAX_KEPT {
            return;
        }
        arena.extend_from_slice(new);
        if let Some(s) = self.slots.borrow_mut().get_mut(slot.0) {
            (s.start, s.len, s.close) = (start as u32, new.len() as u32, close);
        }
    }

    fn slot(&self, open: usize) -> Option<Slot> {
        let slots = self.slots.borrow();
        let i = slots.binary_search_by_key(&open, |s| s.open).ok()?;
        Some(slots[i]).filter(|s| s.len != u32::MAX)
    }

    fn range(&self, slot: Slot) -> Ref<'_, [T]> {
        Ref::map(self.arena.borrow(), |a| &a[slot.start as usize..slot.start as usize + slot.len as usize])
    }

    fn get(&self, open: usize) -> Option<Ref<'_, [T]>> {
        self.slot(open).map(|slot| self.range(slot))
    }
}

impl MemberIndex {
    /// At most this many members, and as many array items, are kept per line.
    pub(crate) const MAX_KEPT: usize = 1 << 20;

    /// Forget the last line's objects (keeping the memory).
    pub(crate) fn clear(&mut self) {
        self.objects.clear();
        self.arrays.clear();
        self.scanned.get_mut().clear();
        self.references.get_mut().clear();
        self.references_full.set(false);
    }

    /// Where the index stands: see [`MemberIndex::record_since`].
    pub(crate) fn mark(&self) -> IndexMark {
        IndexMark {
            objects: self.objects.mark(),
            arrays: self.arrays.mark(),
            references: self.references.borrow().len(),
            other: self.other_writes.get(),
        }
    }

    /// Since `mark`, all that changed is what [`MemberIndex::record_since`] records and
    /// [`MemberIndex::replay`] keeps again: objects and arrays kept whole (none past
    /// [`MemberIndex::MAX_KEPT`]) and references noted, nothing scanned, nothing read outside the
    /// objects read ([`MemberIndex::noted_context`]).
    pub(crate) fn replayable_since(&self, mark: IndexMark) -> bool {
        self.other_writes.get() == mark.other
            && !self.references_full.get()
            && self.objects.complete_since(mark.objects)
            && self.arrays.complete_since(mark.arrays)
    }

    /// What was kept since `mark` (the objects and arrays read since), with offsets relative to
    /// `origin`, into `into`: [`MemberIndex::replay`] keeps the same at another place.
    pub(crate) fn record_since(&self, mark: IndexMark, origin: usize, into: &mut Recorded) {
        self.objects.record_since(mark.objects, origin, &mut into.objects, &mut into.members);
        self.arrays.record_since(mark.arrays, origin, &mut into.arrays, &mut into.items);
        into.references.extend(self.references.borrow()[mark.references..].iter().map(|&at| at - origin as u32));
    }

    /// Keep what `recorded` holds as if the same bytes were read again at `origin` (after every
    /// object and array kept so far: offsets only grow within a line). `false` (and nothing kept)
    /// when it would pass [`MemberIndex::MAX_KEPT`], where a reading keeps only part.
    pub(crate) fn replay(&self, recorded: &Recorded, origin: usize) -> bool {
        let mut references = self.references.borrow_mut();
        if !self.objects.room_for(recorded.members.len())
            || !self.arrays.room_for(recorded.items.len())
            || references.len() + recorded.references.len() > Self::MAX_KEPT
        {
            return false;
        }
        self.objects.replay(&recorded.objects, &recorded.members, origin);
        self.arrays.replay(&recorded.arrays, &recorded.items, origin);
        references.extend(recorded.references.iter().map(|&at| at + origin as u32));
        true
    }

    /// Back to `mark`: what was kept since is dropped (debug builds: a replay undone).
    #[cfg(debug_assertions)]
    pub(crate) fn truncate(&self, mark: IndexMark) {
        self.objects.truncate(mark.objects);
        self.arrays.truncate(mark.arrays);
        self.references.borrow_mut().truncate(mark.references);
    }

    /// A constraint read outside the object it is on (`%resource`, `%rootResource`, the
    /// contained resources read so far): the walk does not remember the objects being read.
    pub(crate) fn noted_context(&self) {
        self.wrote();
    }

    fn wrote(&self) {
        self.other_writes.set(self.other_writes.get().wrapping_add(1));
    }

    /// The walk read a `Reference.reference` whose value starts at `at`.
    pub(crate) fn reference_at(&self, at: usize) {
        let mut references = self.references.borrow_mut();
        if references.len() < Self::MAX_KEPT {
            references.push(at as u32);
        } else {
            self.references_full.set(true);
        }
    }

    /// Where each `Reference.reference` value inside the kept object at `open` starts, in
    /// document order; `None` when the object was not kept.
    pub(crate) fn references_within(&self, open: usize) -> Option<Vec<usize>> {
        let outer = self.objects.slot(open)?;
        if self.references_full.get() {
            return None;
        }
        let references = self.references.borrow();
        let first = references.partition_point(|&at| (at as usize) < open);
        Some(references[first..].iter().map(|&at| at as usize).take_while(|&at| at < outer.close).collect())
    }

    /// The members of an unfinished object at `open`, scanned earlier on this line.
    pub(crate) fn scanned(&self, open: usize) -> Option<Rc<[Captured]>> {
        self.scanned.borrow().iter().find(|(at, _)| *at == open).map(|(_, m)| Rc::clone(m))
    }

    /// Keep the members of an unfinished object, scanned (a handful per line; at most 64, the
    /// rest are scanned again).
    pub(crate) fn keep_scanned(&self, open: usize, members: Rc<[Captured]>) {
        self.wrote();
        let mut scanned = self.scanned.borrow_mut();
        if scanned.len() < 64 {
            scanned.push((open, members));
        }
    }

    /// The walk opened the object at `open` (offsets only grow within a line).
    pub(crate) fn open_object(&self, open: usize) -> SlotId {
        self.objects.open(open)
    }

    /// The walk read the object of `slot` to its end (`close`, just after its `}`): its members.
    pub(crate) fn keep(&self, slot: SlotId, members: &[Captured], close: usize) {
        self.objects.fill(slot, members, close);
    }

    /// The members of the object at `open`, if the walk kept them.
    pub(crate) fn get(&self, open: usize) -> Option<Ref<'_, [Captured]>> {
        self.objects.get(open)
    }

    /// The walk opened the array at `open`.
    pub(crate) fn open_array(&self, open: usize) -> SlotId {
        self.arrays.open(open)
    }

    /// The walk read the array of `slot` to its end (`close`): where its items start.
    pub(crate) fn keep_array(&self, slot: SlotId, items: &[Option<usize>], close: usize) {
        self.arrays.fill(slot, items, close);
    }

    /// The items of the array at `open`, if the walk kept them.
    pub(crate) fn array(&self, open: usize) -> Option<Ref<'_, [Option<usize>]>> {
        self.arrays.get(open)
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Captured {
    /// Index in the type's elements.
    pub(crate) element: u8,
    /// Index in the type's properties (which of a choice's keys).
    pub(crate) property: u8,
    /// The `_x` member of a primitive.
    pub(crate) ext: bool,
    /// Where the value starts (lines are shorter than 4 GiB: `Options`); 8 bytes in all, as the
    /// walk keeps one per member of the line.
    pub(crate) offset: u32,
    /// The value counts as present (not `null`, not `[]`).
    pub(crate) present: bool,
}

impl Captured {
    /// Where the value starts.
    #[inline]
    pub(crate) fn at(&self) -> usize {
        self.offset as usize
    }
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
    /// The contained resources of the resource that owns the object (`%rootResource`), read so far.
    pub(crate) contained: &'f [ContainedId],
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
        self.line.string_at(c.at()).map(|s| (s, c.at()))
    }

    /// Where the first value of the element named `name` starts (its first byte: `"` for a string).
    pub(crate) fn first_offset(&self, name: &str) -> Option<usize> {
        self.captured_named(name).next().map(|c| c.at())
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
    /// A contained resource of the resource that owns it (not one contained in a contained one).
    pub(crate) direct: bool,
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
    pub(crate) path_root: &'static str,
}
