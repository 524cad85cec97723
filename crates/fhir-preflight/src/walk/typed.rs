//! Objects whose FHIR type is known, read against the model property by property while they are
//! parsed: each key is looked up in the type (unknown ones, `_x` primitive extensions, duplicates
//! and second choice variants found here and reported by `check::shape`), each value read with
//! its element's shape (arrays, JSON kinds, `null`s), primitives handed to the value hook, nested
//! objects read as their type, resources nested in `Resource`-typed elements (`contained`,
//! `Bundle.entry.resource`, …) read as their own type wherever their `resourceType` stands. At the
//! end of an object its type's object rules run; at the end of a resource that owns its contained
//! resources, the resource rules.

use std::borrow::Cow;

use super::memo::{Found, Memo};
use super::{Stop, Walk};
use crate::check::{self, shape, TypeRules};
use crate::facts::{
    Captured, ContainedId, Ctx, IndexMark, LineFacts, LocalRef, Member, MemberFacts, ObjectFacts, Path, ResourceFacts,
    SlotId, ValueFacts,
};
use crate::json::scan::Token;
use crate::model::r4::ids;
use crate::model::{Element, Prim, Property, Role, Ty, TypeId, TypeKind};

/// `Resource.id` read with the rules of the `id` type.
static RESOURCE_ID: Property = Property { key: "id", element: 0, ty: Ty::Prim(Prim::Id) };

/// An object the memo may skip: where it stands (`depth` of its container, its `{` at
/// `offset`) and what it is read as.
#[derive(Clone, Copy)]
struct ObjectAt<'p, 'q> {
    depth: usize,
    path: &'p Path<'q>,
    tid: TypeId,
    offset: usize,
    ctx: Ctx,
    element: &'static Element,
}

/// Where a typed object's per-object state starts in the scratch buffers.
#[derive(Clone, Copy)]
struct Bases {
    nulls: usize,
    keys: usize,
    captured: usize,
    local_refs: usize,
    contained: usize,
    /// The object's slot in the line's `MemberIndex`, when the walk keeps its members.
    slot: Option<SlotId>,
}

impl<'a> Walk<'a, '_> {
    /// An object of type `tid` whose `{` (at `open`) was consumed; `depth` counts it.
    #[expect(clippy::too_many_arguments, reason = "the walk's state for one object; a struct would only rename them")]
    pub(super) fn typed_object(
        &mut self,
        depth: usize,
        path: &Path<'_>,
        tid: TypeId,
        open: usize,
        ctx: Ctx,
        holder: Option<&'static Element>,
        mut root: Option<&mut LineFacts>,
    ) -> Result<(), Stop> {
        let model = self.line.model;
        let t = model.ty(tid);
        let type_rules = self.rules.of(tid);
        if !type_rules.context_free {
            self.contextual = true;
        }
        self.deepest = self.deepest.max(depth);
        let is_resource = t.kind == TypeKind::Resource;
        // A resource that is not contained owns the `#id` references and contained ids read inside it.
        let owner = is_resource && !ctx.contained;
        // Resources are kept (the FHIRPath engine starts there: `%resource`, Bundle entries), and
        // the objects on the paths the rules read (`TypeRules::keep`).
        let keep = is_resource || ctx.keep;
        let is_reference = model.base_of(tid) == ids::REFERENCE;
        let bases = Bases {
            nulls: self.scratch.nulls.len(),
            keys: self.scratch.keys.len(),
            captured: self.scratch.captured.len(),
            local_refs: self.scratch.local_refs.len(),
            contained: self.scratch.contained.len(),
            slot: keep.then(|| self.line.members.open_object(open)),
        };
        let owner_contained = self.owner_contained;
        if owner {
            self.owner_contained = bases.contained;
        }
        let keep_all = self.keep_all;
        let mut ctx = ctx;
        if is_resource {
            ctx.resource = Some((open as u32, tid));
            if !ctx.contained {
                ctx.root_resource = ctx.resource;
            }
        }
        if t.base.unwrap_or(tid) == ids::BUNDLE {
            ctx.transaction = matches!(
                crate::json::scan::find_member(self.line.bytes, open, "type"),
                Some(Token::String(s)) if matches!(s.raw(self.line.bytes), b"transaction" | b"batch")
            );
        }
        if self.sc.peek() == Some(b'}') {
            self.sc.pos += 1;
            if is_resource {
                self.end_of_object(tid, type_rules, 0, open, path, ctx, holder, bases, owner);
            } else {
                shape::empty_object(self.findings, open, path);
            }
            self.owner_contained = owner_contained;
            self.keep_all = keep_all;
            return Ok(());
        }
        // Bit `i`: `elements[i]` is present (types have at most 64 elements; the generator checks).
        let mut elements_present = 0u64;
        let mut big = None;
        // Known properties seen so far (bit 2i: `key`, bit 2i+1: `_key`), for duplicate keys
        // without comparing strings; unknown keys go through the generic duplicate check.
        let mut seen = [0u64; 8];
        let result = loop {
            let key = match self.sc.member_key() {
                Ok(key) => key,
                Err(e) => break Err(self.syntax_error(e, path)),
            };
            let name = key.str_in(self.line.text);
            let member_path = Path::Member(path, &name);
            let value_offset = self.value_offset();
            let key_offset = key.start() - 1;
            let name_bytes = name.as_bytes();
            let found = (t.lookup)(name_bytes).map(|i| (i, false)).or_else(|| {
                let base_key = name_bytes.strip_prefix(b"_")?;
                let i = (t.lookup)(base_key)?;
                matches!(t.properties[i as usize].ty, Ty::Prim(_)).then_some((i, true))
            });
            let duplicate = match found {
                Some((i, ext)) => {
                    let bit = 2 * usize::from(i) + usize::from(ext);
                    let (word, mask) = (bit / 64, 1u64 << (bit % 64));
                    let duplicate = seen[word] & mask != 0;
                    seen[word] |= mask;
                    if duplicate {
                        self.duplicate_key(key, &member_path);
                    }
                    duplicate
                }
                None => self.check_duplicate(bases.keys, &mut big, key, &member_path),
            };
            let property = found.map_or(0, |(i, _)| i);
            // The most common member (`TypeRules::plain`): one primitive value, read and recorded
            // with nothing else.
            let plain = match found {
                Some((i, false)) if !duplicate && type_rules.is_plain(i) => match &t.properties[usize::from(i)] {
                    Property { ty: Ty::Prim(prim), element, .. } => Some((*prim, usize::from(*element))),
                    _ => None,
                },
                _ => None,
            };
            let plain = plain.filter(|_| self.sc.peek() != Some(b'['));
            let found = found.map(|(i, ext)| (&t.properties[i as usize], ext));
            let step = if let Some((prim, ei)) = plain {
                self.primitive(depth, &member_path, prim, &t.elements[ei], value_offset).map(|present| {
                    let (element, offset) = (ei as u8, value_offset as u32);
                    self.scratch.captured.push(Captured { element, property, ext: false, offset, present });
                    elements_present |= u64::from(present) << ei;
                })
            } else if is_resource && name_bytes.len() == 12 && name_bytes == b"resourceType" {
                match self.value(depth, &member_path) {
                    Ok(value) => {
                        if let Some(facts) = root.as_deref_mut() {
                            facts.resource_type.get_or_insert(Member { value_offset, value });
                        }
                        Ok(())
                    }
                    Err(stop) => Err(stop),
                }
            } else if let Some((prop, ext)) = found {
                let ei = prop.element as usize;
                let element = &t.elements[ei];
                if elements_present & (1 << ei) != 0 && !ext && !duplicate && element.is_choice() {
                    shape::choice_multiple(self.findings, element, &name, key_offset, &member_path);
                }
                if type_rules.member_mask & (1 << ei) != 0 {
                    let facts = MemberFacts {
                        line: self.line,
                        type_id: tid,
                        element,
                        ext,
                        key_offset,
                        path: &member_path,
                        ctx,
                    };
                    for (mask, rule) in &type_rules.member {
                        if mask & (1 << ei) != 0 {
                            rule(&facts, self.findings);
                        }
                    }
                }
                // A primitive's value reads no context (its `_x` object does).
                let child_ctx = if !ext && matches!(prop.ty, Ty::Prim(_)) {
                    ctx
                } else {
                    let contained = is_resource && !ext && element.role == Role::Contained;
                    Ctx {
                        contained,
                        contained_meta: is_resource && ctx.contained && element.role == Role::Meta,
                        nested_contained: ctx.nested_contained || (contained && ctx.contained),
                        keep: self.keep_all
                            || (type_rules.keep.always | if keep { type_rules.keep.if_kept } else { 0 }) & (1 << ei)
                                != 0,
                        ..ctx
                    }
                };
                let resource_id = is_resource && !ext && element.role == Role::Id;
                let present = match root.as_deref_mut() {
                    // The line's own id: HealthLake's rule, checked by a line rule.
                    Some(facts) if resource_id => self.value(depth, &member_path).map(|value| {
                        facts.id.get_or_insert(Member { value_offset, value });
                        true
                    }),
                    // R4 types `Resource.id` as string; its rule is the id type's.
                    _ if resource_id => self.property(depth, &member_path, &RESOURCE_ID, element, child_ctx, ext, ei),
                    // The most common member: one primitive value, read here (no call per member).
                    _ => match prop.ty {
                        Ty::Prim(prim) if !ext && !element.many && self.sc.peek() != Some(b'[') => {
                            self.primitive(depth, &member_path, prim, element, value_offset)
                        }
                        _ => self.property(depth, &member_path, prop, element, child_ctx, ext, ei),
                    },
                };
                // Every member is kept: for the object rules, and for the FHIRPath engine (below).
                if !duplicate {
                    if is_reference && !ext && element.role == Role::Reference {
                        self.line.members.reference_at(value_offset);
                    }
                    if let Ok(present) = present {
                        let element = ei as u8;
                        self.scratch.captured.push(Captured {
                            element,
                            property,
                            ext,
                            offset: value_offset as u32,
                            present,
                        });
                    }
                }
                if let Ok(true) = present {
                    elements_present |= 1 << ei;
                    if is_resource && !ext && element.role == Role::Meta && !self.keep_all {
                        self.keep_all = self.names_profile(value_offset);
                    }
                    if !ext && resource_id && ctx.contained {
                        if let Some(id) = self.line.string_at(value_offset).map(Cow::into_owned) {
                            let direct = !ctx.nested_contained;
                            self.scratch.contained.push(ContainedId { id, offset: open, path: path.render(), direct });
                        }
                    }
                }
                present.map(|_| ())
            } else if name_bytes == b"fhir_comments" {
                shape::fhir_comments(self.findings, key_offset, &member_path);
                self.value(depth, &member_path).map(|_| ())
            } else {
                shape::unknown_property(self.findings, t, &name, key_offset, &member_path);
                self.value(depth, &member_path).map(|_| ())
            };
            if let Err(stop) = step {
                break Err(stop);
            }
            match self.after_member(path) {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(stop) => break Err(stop),
            }
        };
        if result.is_ok() {
            self.end_of_object(tid, type_rules, elements_present, open, path, ctx, holder, bases, owner);
        } else {
            self.drop_object_state(bases, owner);
        }
        self.owner_contained = owner_contained;
        self.keep_all = keep_all;
        result
    }

    /// Does the `meta` at `at` (kept) name a profile the run's profiles may define?
    #[cold]
    fn names_profile(&self, at: usize) -> bool {
        let Some(profiles) = self.line.profiles else { return false };
        let Some(members) = self.line.members.get(at) else { return false };
        let meta = self.line.model.ty(ids::META);
        let Some(element) = meta.elements.iter().position(|e| e.role == Role::Profile) else { return false };
        let Some(c) = members.iter().find(|c| usize::from(c.element) == element && !c.ext && c.present) else {
            return false;
        };
        let names = |at: usize| self.line.string_at(at).is_some_and(|s| profiles.may_define(&s));
        match self.line.members.array(c.at()) {
            Some(items) => items.iter().flatten().any(|&at| names(at)),
            None => names(c.at()),
        }
    }

    /// The object was read: its type's object rules, then (for a resource that owns its contained
    /// resources) the resource rules; then its state is dropped.
    #[expect(clippy::too_many_arguments, reason = "the walk's state for one object")]
    fn end_of_object(
        &mut self,
        tid: TypeId,
        type_rules: &TypeRules,
        present: u64,
        open: usize,
        path: &Path<'_>,
        ctx: Ctx,
        holder: Option<&'static Element>,
        bases: Bases,
        owner: bool,
    ) {
        if let Some(slot) = bases.slot {
            self.line.members.keep(slot, &self.scratch.captured[bases.captured..], self.sc.pos);
        }
        let object_rules = &type_rules.object;
        if object_rules.is_empty() && !owner {
            self.drop_object_state(bases, owner);
            return;
        }
        let facts = ObjectFacts {
            line: self.line,
            type_id: tid,
            def: self.line.model.ty(tid),
            open,
            path,
            ctx,
            holder,
            present,
            captured: &self.scratch.captured[bases.captured..],
            nulls: &self.scratch.nulls[bases.nulls..],
            contained: self.scratch.contained.get(self.owner_contained..).unwrap_or_default(),
        };
        for rule in object_rules {
            rule(&facts, self.findings);
        }
        if owner {
            let facts = ResourceFacts {
                local_refs: &self.scratch.local_refs[bases.local_refs..],
                contained: &self.scratch.contained[bases.contained..],
            };
            for rule in &self.rules.resource {
                rule(&facts, self.findings);
            }
        }
        self.drop_object_state(bases, owner);
    }

    fn drop_object_state(&mut self, bases: Bases, owner: bool) {
        if owner {
            self.scratch.local_refs.truncate(bases.local_refs);
            self.scratch.contained.truncate(bases.contained);
        }
        self.scratch.captured.truncate(bases.captured);
        self.scratch.nulls.truncate(bases.nulls);
        self.scratch.keys.truncate(bases.keys);
    }

    /// The value of one property. Returns whether it counts as present (for cardinality).
    #[expect(clippy::too_many_arguments, reason = "the walk's state for one property; a struct would only rename them")]
    fn property(
        &mut self,
        depth: usize,
        path: &Path<'_>,
        prop: &'static Property,
        element: &'static Element,
        ctx: Ctx,
        ext: bool,
        ei: usize,
    ) -> Result<bool, Stop> {
        let offset = self.value_offset();
        let item_ty = if ext { Ty::Complex(ids::ELEMENT) } else { prop.ty };
        let is_array = self.sc.peek() == Some(b'[');
        if !element.many {
            if is_array {
                shape::expected_single(self.findings, element, offset, path);
                self.value(depth, path)?;
                return Ok(true);
            }
            return self.item(depth, path, item_ty, element, ctx);
        }
        if !is_array {
            shape::expected_array(self.findings, element, offset, path);
            return self.item(depth, path, item_ty, element, ctx);
        }
        if depth + 1 > self.max_depth {
            return Err(self.too_deep(offset, path));
        }
        self.sc.pos += 1;
        if self.sc.peek() == Some(b']') {
            self.sc.pos += 1;
            if !matches!(prop.ty, Ty::Prim(_)) || ext {
                shape::empty_array(self.findings, offset, path);
            }
            return Ok(false);
        }
        let primitive = matches!(prop.ty, Ty::Prim(_));
        let mut present = false;
        let mut index = 0u32;
        // Where each item starts (`None`: `null`), kept for the FHIRPath engine.
        let items = self.scratch.items.len();
        let slot = ctx.keep.then(|| self.line.members.open_array(offset));
        loop {
            let item = Path::Index(path, index as usize);
            let null = self.sc.peek() == Some(b'n');
            if slot.is_some() {
                self.scratch.items.push((!null).then_some(self.sc.pos));
            }
            if primitive && self.sc.peek() == Some(b'n') {
                // `n` can only start `null` (anything else is a syntax error).
                match self.sc.value() {
                    Ok(_) => self.scratch.nulls.push((ei as u8, ext, index)),
                    Err(e) => return Err(self.syntax_error(e, &item)),
                }
            } else {
                present |= self.item(depth + 1, &item, item_ty, element, ctx)?;
            }
            index += 1;
            match self.sc.peek() {
                Some(b',') => self.sc.pos += 1,
                Some(b']') => {
                    self.sc.pos += 1;
                    if let Some(slot) = slot {
                        self.line.members.keep_array(slot, &self.scratch.items[items..], self.sc.pos);
                        self.scratch.items.truncate(items);
                    }
                    return Ok(present || primitive);
                }
                _ => {
                    let e = self.sc.unexpected("',' or ']' after an array item");
                    return Err(self.syntax_error(e, path));
                }
            }
        }
    }

    /// One value of type `ty`. Returns whether it counts as present.
    fn item(
        &mut self,
        depth: usize,
        path: &Path<'_>,
        ty: Ty,
        element: &'static Element,
        ctx: Ctx,
    ) -> Result<bool, Stop> {
        let offset = self.value_offset();
        match ty {
            Ty::Prim(prim) => self.primitive(depth, path, prim, element, offset),
            Ty::Complex(tid) => {
                if self.sc.peek() != Some(b'{') {
                    let token = self.value(depth, path)?;
                    if token == Token::Null {
                        shape::null(self.findings, offset, path);
                        return Ok(false);
                    }
                    let type_name = self.line.model.ty(tid).name;
                    shape::not_object(self.findings, element, type_name, token, offset, path);
                    return Ok(true);
                }
                if depth + 1 > self.max_depth {
                    return Err(self.too_deep(offset, path));
                }
                if self.rules.of(tid).context_free && self.memo.worth(tid) {
                    return self.object_remembered(ObjectAt { depth, path, tid, offset, ctx, element });
                }
                self.sc.pos += 1;
                self.typed_object(depth + 1, path, tid, offset, ctx, Some(element), None)?;
                Ok(true)
            }
            Ty::Resource => {
                if self.sc.peek() != Some(b'{') {
                    let token = self.value(depth, path)?;
                    if token == Token::Null {
                        shape::null(self.findings, offset, path);
                        return Ok(false);
                    }
                    shape::not_resource(self.findings, token, offset, path);
                    return Ok(true);
                }
                self.nested_resource(depth, path, offset, ctx)?;
                Ok(true)
            }
        }
    }

    /// An object of type `tid` at `offset` (its `{`, not consumed) that the walk may remember
    /// (`memo.rs`): skipped if the same bytes were read before in the same place (and what reading
    /// them kept for the FHIRPath engine kept again, moved), else read and remembered if reading
    /// it found nothing and read nothing around it.
    /// (Out of line: `item`, which the walk calls for every value, stays small.)
    #[inline(never)]
    fn object_remembered(&mut self, at: ObjectAt<'_, '_>) -> Result<bool, Stop> {
        let ctx = at.ctx;
        let rest = &self.line.bytes[at.offset..];
        let context = u8::from(ctx.contained)
            | u8::from(ctx.contained_meta) << 1
            | u8::from(ctx.nested_contained) << 2
            | u8::from(ctx.transaction) << 3
            | u8::from(ctx.keep) << 4
            | u8::from(self.keep_all) << 5;
        let key = Memo::key(at.tid, at.element, context, rest);
        let depth_left = self.max_depth - at.depth;
        if let Some(Found { len, levels, index }) = self.memo.find(key, rest, depth_left) {
            #[cfg(debug_assertions)]
            let index = &index.clone();
            #[cfg(debug_assertions)]
            let mark = self.line.members.mark();
            if self.line.members.replay(index, at.offset) {
                #[cfg(debug_assertions)]
                self.read_again(at, len, mark, index);
                self.sc.pos = at.offset + len;
                // As deep as reading it went (for the object around it, if it is being remembered).
                self.deepest = self.deepest.max(at.depth + levels - 1);
                self.memo.tally(at.tid, true);
                return Ok(true);
            }
        }
        self.memo.tally(at.tid, false);
        let before = self.state();
        let (read, contextual, deepest) = self.read_alone(at);
        if read.is_ok() && !contextual && self.unchanged_since(before) {
            // The deepest typed object read in it, less its own depth, itself, and an array of
            // primitives below the deepest (arrays of objects count one more than they need).
            let levels = deepest - (at.depth + 1) + 2;
            if let Some(recorded) = self.memo.remember(key, &self.line.bytes[at.offset..self.sc.pos], levels) {
                self.line.members.record_since(before.1, at.offset, recorded);
            }
        }
        self.contextual |= contextual;
        self.deepest = self.deepest.max(deepest);
        read.map(|()| true)
    }

    /// The object read on its own: the result, and whether it read anything around it and how
    /// deep it went (the walk's own `contextual` and `deepest` are left as they were).
    fn read_alone(&mut self, at: ObjectAt<'_, '_>) -> (Result<(), Stop>, bool, usize) {
        let outer = (std::mem::replace(&mut self.contextual, false), std::mem::replace(&mut self.deepest, 0));
        self.sc.pos = at.offset + 1;
        let read = self.typed_object(at.depth + 1, at.path, at.tid, at.offset, at.ctx, Some(at.element), None);
        let inner = (std::mem::replace(&mut self.contextual, outer.0), std::mem::replace(&mut self.deepest, outer.1));
        (read, inner.0, inner.1)
    }

    /// What reading an object may change outside it: findings, what the line's `MemberIndex`
    /// holds, the `#id` references read.
    fn state(&self) -> (u64, IndexMark, usize) {
        (self.findings.count(), self.line.members.mark(), self.scratch.local_refs.len())
    }

    /// Since `before`, nothing was found or noted but what the index records and replays.
    fn unchanged_since(&self, before: (u64, IndexMark, usize)) -> bool {
        self.findings.count() == before.0
            && self.line.members.replayable_since(before.1)
            && self.scratch.local_refs.len() == before.2
    }

    /// Debug builds: a remembered object is read again, and must read as remembered: to its
    /// end, nothing found or read around it, and the index keeping what the replay kept.
    #[cfg(debug_assertions)]
    fn read_again(&mut self, at: ObjectAt<'_, '_>, len: usize, mark: IndexMark, recorded: &crate::facts::Recorded) {
        let offset = at.offset;
        let mut replayed = crate::facts::Recorded::default();
        self.line.members.record_since(mark, offset, &mut replayed);
        assert_eq!(&replayed, recorded, "a replay keeps what was recorded");
        self.line.members.truncate(mark);
        let before = self.state();
        let (read, contextual, _) = self.read_alone(at);
        let mut again = crate::facts::Recorded::default();
        self.line.members.record_since(mark, offset, &mut again);
        assert!(
            read.is_ok()
                && self.sc.pos == offset + len
                && !contextual
                && self.unchanged_since(before)
                && &again == recorded,
            "a remembered object reads differently at {offset}: {:?}",
            self.line.text.get(offset..offset + len)
        );
    }

    /// One primitive value starting at `offset`. Returns whether it counts as present.
    #[inline(never)]
    fn primitive(
        &mut self,
        depth: usize,
        path: &Path<'_>,
        prim: Prim,
        element: &'static Element,
        offset: usize,
    ) -> Result<bool, Stop> {
        // One look at the first byte: a string (most primitives), an object or array (not a
        // primitive), or any other JSON value.
        let token = match self.sc.peek() {
            Some(b'"') => self.sc.string().map(Token::String),
            Some(b'{' | b'[') => {
                let token = self.value(depth, path)?;
                shape::not_primitive(self.findings, prim, token, offset, path);
                return Ok(true);
            }
            _ => self.sc.value(),
        };
        let token = match token {
            Ok(token) => token,
            Err(e) => return Err(self.syntax_error(e, path)),
        };
        if token == Token::Null {
            shape::null(self.findings, offset, path);
            return Ok(false);
        }
        if let Token::String(s) = token {
            if let Some(at) = s.lone_surrogate() {
                self.lone_surrogate_at(at, path);
            }
        }
        let facts = ValueFacts { line: self.line, prim, token, element, offset, path };
        if let Some(text) = check::value(self.findings, &facts) {
            self.track_local_reference(&text, prim, element);
        }
        Ok(true)
    }

    /// A `#id` in a `Reference.reference` or in a uri: it counts for dom-3.
    fn track_local_reference(&mut self, text: &str, prim: Prim, element: &Element) {
        let Some(id) = text.strip_prefix('#') else { return };
        let from_reference = prim == Prim::String && element.role == Role::Reference;
        if from_reference || matches!(prim, Prim::Uri | Prim::Url | Prim::Canonical) {
            self.scratch.local_refs.push(LocalRef { id: id.to_owned() });
        }
    }

    /// A resource inside another (`contained`, `Bundle.entry.resource`, …), read as its own type.
    fn nested_resource(&mut self, depth: usize, path: &Path<'_>, offset: usize, ctx: Ctx) -> Result<(), Stop> {
        if depth + 1 > self.max_depth {
            return Err(self.too_deep(offset, path));
        }
        let found = super::find_resource_type(self.line, offset);
        self.sc.pos = offset + 1;
        let unreadable = match found {
            super::Found::Known(tid) => return self.typed_object(depth + 1, path, tid, offset, ctx, None, None),
            super::Found::Missing => shape::NestedType::Missing,
            super::Found::NotString => shape::NestedType::NotString,
            super::Found::Unknown(name) => shape::NestedType::Unknown(name),
        };
        shape::nested_resource(self.findings, unreadable, offset, path);
        self.object_generic(depth + 1, path)
    }
}
