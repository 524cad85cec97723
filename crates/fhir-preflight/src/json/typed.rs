//! The schema-driven part of the walk: objects whose FHIR type is known are read against the
//! generated R4 tables, property by property, while they are parsed. Checks made here: unknown
//! properties at every depth, arrays vs single values, JSON kinds, primitive formats, choice
//! elements, primitive extensions (`_x`), `null` rules, empty objects and arrays, required
//! bindings, min cardinality, ext-1, and the rules of contained resources (id, dom-2, dom-4,
//! dom-5). Resources nested in `Resource`-typed elements (`contained`, `Bundle.entry.resource`, …)
//! are read as their own type, wherever their `resourceType` stands.

use std::borrow::Cow;

use super::path::Path;
use super::scan::Token;
use super::walk::{RootFacts, Stop, Walk};
use crate::check::{binding, primitive, reference};
use crate::diagnostic::{quote, Code, Severity};
use crate::issues::Issue;
use crate::level::Level;
use crate::r4::model::{Element, Prim, Property, Role, Ty, TypeKind};
use crate::r4::{ids, resource_type_id, TYPES};

/// `Resource.id` read with the rules of the `id` type.
static RESOURCE_ID: Property = Property { key: "id", element: 0, ty: Ty::Prim(Prim::Id) };

/// What the walk knows about where it is, for rules that depend on context.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ctx {
    /// Inside a contained resource.
    contained: bool,
    /// Reading the `meta` of a contained resource.
    contained_meta: bool,
    /// Inside a transaction or batch Bundle (conditional references are expected there).
    transaction: bool,
}

impl<'a> Walk<'a, '_> {
    #[cold]
    fn error(&mut self, code: Code, message: String, offset: usize, path: &Path<'_>) {
        self.issue(code, Severity::Error, message, offset, path);
    }

    #[cold]
    fn issue(&mut self, code: Code, severity: Severity, message: String, offset: usize, path: &Path<'_>) {
        self.issues.push(Issue { code, severity, message, offset: Some(offset), path: path.render() });
    }

    /// An object of type `tid` whose `{` (at `open`) was consumed; `depth` counts it.
    #[expect(clippy::too_many_arguments, reason = "the walk's state for one object; a struct would only rename them")]
    pub(super) fn typed_object(
        &mut self,
        depth: usize,
        path: &Path<'_>,
        tid: u16,
        open: usize,
        ctx: Ctx,
        holder: Option<&'static Element>,
        mut root: Option<&mut RootFacts>,
    ) -> Result<(), Stop> {
        let t = &TYPES[tid as usize];
        let is_resource = t.kind == TypeKind::Resource;
        // A resource that is not contained owns the `#id` references and contained ids read inside it.
        let owner = is_resource && !ctx.contained;
        let (refs_base, contained_base) = (self.scratch.local_refs.len(), self.scratch.contained.len());
        let mut ctx = ctx;
        if tid == ids::BUNDLE {
            ctx.transaction = matches!(
                super::walk::find_member(self.line, open, "type"),
                Some(Token::String(s)) if matches!(s.raw(self.line), b"transaction" | b"batch")
            );
        }
        // A Reference's `reference` and `type`: text and offset (paths are rendered only for a diagnostic).
        let mut reference: Option<(Cow<'a, str>, usize)> = None;
        let mut reference_type: Option<(Cow<'a, str>, usize)> = None;
        if self.sc.peek() == Some(b'}') {
            self.sc.pos += 1;
            if !is_resource {
                let message = "Object must have some content (an empty object is not a FHIR element: ele-1)".to_owned();
                self.error(Code::JsonEmptyObject, message, open, path);
            } else {
                self.end_of_object_checks(tid, 0, open, path, ctx, holder);
            }
            return Ok(());
        }
        // Bit `i`: `elements[i]` is present (types have at most 64 elements; the generator checks).
        let mut elements_present = 0u64;
        let nulls_base = self.scratch.nulls.len();
        let keys_base = self.scratch.keys.len();
        let mut big = None;
        // Known properties seen so far (bit 2i: `key`, bit 2i+1: `_key`), for duplicate keys
        // without comparing strings; unknown keys go through the generic duplicate check.
        let mut seen = [0u64; 8];
        let result = loop {
            let key = match self.sc.member_key() {
                Ok(key) => key,
                Err(e) => break Err(self.syntax_error(e, path)),
            };
            let name = key.str_in(self.text);
            let member_path = Path::Member(path, &name);
            let value_offset = self.value_offset();
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
                None => self.check_duplicate(keys_base, &mut big, key, &member_path),
            };
            let found = found.map(|(i, ext)| (&t.properties[i as usize], ext));
            let text = &name;
            let step = if is_resource && name_bytes.len() == 12 && name_bytes == b"resourceType" {
                match self.value(depth, &member_path) {
                    Ok(value) => {
                        if let Some(facts) = root.as_deref_mut() {
                            facts.resource_type.get_or_insert(super::walk::Member { value_offset, value });
                        }
                        Ok(())
                    }
                    Err(stop) => Err(stop),
                }
            } else if let Some((prop, ext)) = found {
                let ei = prop.element as usize;
                let element = &t.elements[ei];
                if elements_present & (1 << ei) != 0 && !ext && !duplicate && element.is_choice() {
                    let message = format!(
                        "{} is a choice element: only one of its types may be present; {} is a second one",
                        element.name,
                        quote(text)
                    );
                    self.error(Code::ChoiceMultiple, message, key.start() - 1, &member_path);
                }
                let mut child_ctx = Ctx { contained: false, contained_meta: false, transaction: ctx.transaction };
                if is_resource && ctx.contained {
                    if element.role == Role::Contained {
                        self.error(
                            Code::InvariantDom2,
                            "dom-2: a contained resource cannot hold contained resources".to_owned(),
                            key.start() - 1,
                            &member_path,
                        );
                    }
                    child_ctx.contained_meta = element.role == Role::Meta;
                }
                if tid == ids::META && !ext && self.issues.level() == Level::Strict && element.role == Role::Profile {
                    let message = "meta.profile declares a profile: HealthLake's strict level validates it, fhir-preflight checks base R4 only (use --level structure-only to silence)".to_owned();
                    self.issue(Code::ProfileUnchecked, Severity::Warning, message, key.start() - 1, &member_path);
                }
                if ctx.contained_meta && !ext {
                    match element.role {
                        Role::VersionId | Role::LastUpdated => self.error(
                            Code::InvariantDom4,
                            "dom-4: a contained resource cannot have meta.versionId or meta.lastUpdated".to_owned(),
                            key.start() - 1,
                            &member_path,
                        ),
                        Role::Security => self.error(
                            Code::InvariantDom5,
                            "dom-5: a contained resource cannot have a security label".to_owned(),
                            key.start() - 1,
                            &member_path,
                        ),
                        _ => {}
                    }
                }
                child_ctx.contained = is_resource && !ext && element.role == Role::Contained;
                let resource_id = is_resource && !ext && element.role == Role::Id;
                let present = match root.as_deref_mut() {
                    // The line's own id: HealthLake's rule, checked by `check::resource_id`.
                    Some(facts) if resource_id => self.value(depth, &member_path).map(|value| {
                        facts.id.get_or_insert(super::walk::Member { value_offset, value });
                        true
                    }),
                    // R4 types `Resource.id` as string; its rule is the id type's.
                    _ if resource_id => self.property(depth, &member_path, &RESOURCE_ID, element, child_ctx, ext, ei),
                    _ => self.property(depth, &member_path, prop, element, child_ctx, ext, ei),
                };
                if let Ok(true) = present {
                    elements_present |= 1 << ei;
                    if !ext && tid == ids::REFERENCE {
                        let wanted = match element.role {
                            Role::Reference => Some(&mut reference),
                            Role::Type => Some(&mut reference_type),
                            _ => None,
                        };
                        if let Some(slot) = wanted {
                            if let Some(text) = self.string_at(value_offset) {
                                *slot = Some((text, value_offset));
                            }
                        }
                    }
                    if !ext && resource_id && ctx.contained {
                        if let Some(id) = self.string_at(value_offset).map(Cow::into_owned) {
                            self.scratch.contained.push(super::walk::ContainedId {
                                id,
                                offset: open,
                                path: path.render(),
                            });
                        }
                    }
                }
                present.map(|_| ())
            } else if name_bytes == b"fhir_comments" {
                let message = "fhir_comments is not part of FHIR R4 JSON (accepted by HealthLake's validator, rejected by current HL7 validators)".to_owned();
                self.issue(Code::JsonFhirComments, Severity::Warning, message, key.start() - 1, &member_path);
                self.value(depth, &member_path).map(|_| ())
            } else {
                let what = if t.kind == TypeKind::Backbone { "element" } else { "type" };
                let message = format!("Unrecognised property {} (not defined for {what} {})", quote(text), t.name);
                self.error(Code::JsonUnknownProperty, message, key.start() - 1, &member_path);
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
            self.end_of_object_checks(tid, elements_present, open, path, ctx, holder);
            self.check_null_pairs(nulls_base, t, path, open);
            if tid == ids::REFERENCE {
                self.check_reference(holder, reference, reference_type, ctx, path);
            }
            if let Some(h) = holder.filter(|h| matches!(h.binding, crate::r4::model::Binding::Required(_))) {
                if tid == ids::CODEABLE_CONCEPT || tid == ids::CODING {
                    let codings = codings_of(self.line, open, tid == ids::CODEABLE_CONCEPT);
                    binding::check_codings(self.issues, h, &codings, open, path);
                }
            }
            if owner {
                self.check_local_references(refs_base, contained_base);
            }
        }
        if owner {
            self.scratch.local_refs.truncate(refs_base);
            self.scratch.contained.truncate(contained_base);
        }
        self.scratch.nulls.truncate(nulls_base);
        self.scratch.keys.truncate(keys_base);
        result
    }

    /// Checks that need the whole object: min cardinality, ext-1, the id of a contained resource.
    fn end_of_object_checks(
        &mut self,
        tid: u16,
        present: u64,
        open: usize,
        path: &Path<'_>,
        ctx: Ctx,
        holder: Option<&'static Element>,
    ) {
        let t = &TYPES[tid as usize];
        let has_role =
            |role: Role| t.elements.iter().enumerate().any(|(i, e)| e.role == role && present & (1 << i) != 0);
        let mut missing = t.required & !present;
        while missing != 0 {
            let i = missing.trailing_zeros() as usize;
            missing &= missing - 1;
            if let Some(element) = t.elements.get(i) {
                let name = element.name;
                let full = path.render().map_or_else(|| name.to_owned(), |p| format!("{p}.{name}"));
                let message = format!("Element '{full}': minimum required = 1, but only found 0");
                self.error(Code::CardinalityMin, message, open, path);
            }
        }
        if tid == ids::EXTENSION {
            if has_role(Role::Url) {
                self.check_extension_url(open, path, holder);
            }
            let (nested, value) = (has_role(Role::Extension), has_role(Role::Value));
            if nested == value {
                let message = if nested {
                    "ext-1: an extension must have either extensions or value[x], not both"
                } else {
                    "ext-1: an extension must have either extensions or value[x] (it has neither)"
                };
                self.error(Code::InvariantExt1, message.to_owned(), open, path);
            }
        }
        if ctx.contained && t.kind == TypeKind::Resource && !has_role(Role::Id) {
            self.error(Code::ResourceContainedIdMissing, "a contained resource must have an id".to_owned(), open, path);
        }
    }

    /// The url of an extension that is not nested in another extension must be absolute.
    fn check_extension_url(&mut self, open: usize, path: &Path<'_>, holder: Option<&'static Element>) {
        let extension = &TYPES[ids::EXTENSION as usize];
        let nested = holder.is_some_and(|h| extension.elements.iter().any(|e| std::ptr::eq(e, h)));
        if nested {
            return;
        }
        let Some(Token::String(s)) = super::walk::find_member(self.line, open, "url") else { return };
        let url = s.str_in(self.text);
        if !url.contains(':') {
            let message = format!("extension url {} is not an absolute URI (only extensions nested in an extension may use a simple name)", quote(&url));
            self.error(Code::ExtensionUrl, message, open, path);
        }
    }

    /// `x[i]` and `_x[i]` may not both be `null`.
    fn check_null_pairs(&mut self, nulls_base: usize, t: &crate::r4::model::TypeDef, path: &Path<'_>, open: usize) {
        let nulls = &mut self.scratch.nulls[nulls_base..];
        if nulls.len() < 2 {
            return;
        }
        nulls.sort_unstable_by_key(|&(element, ext, index)| (element, index, ext));
        let mut both = Vec::new();
        for w in nulls.windows(2) {
            if w[0].0 == w[1].0 && w[0].2 == w[1].2 && w[0].1 != w[1].1 {
                both.push((w[0].0, w[0].2));
            }
        }
        for (element, index) in both {
            let name = t.elements[element as usize].name;
            let message = format!("{name}[{index}] and _{name}[{index}] are both null: one of them must have content");
            self.error(Code::JsonNullInBoth, message, open, path);
        }
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
                let message =
                    format!("This property must be a single value, not an array ({} has max 1)", element.name);
                self.error(Code::JsonExpectedSingle, message, offset, path);
                self.value(depth, path)?;
                return Ok(true);
            }
            return self.item(depth, path, item_ty, element, ctx);
        }
        if !is_array {
            let message = format!("This property must be an Array, not a single value ({} repeats)", element.name);
            self.error(Code::JsonExpectedArray, message, offset, path);
            return self.item(depth, path, item_ty, element, ctx);
        }
        if depth + 1 > self.max_depth {
            return Err(self.too_deep(offset, path));
        }
        self.sc.pos += 1;
        if self.sc.peek() == Some(b']') {
            self.sc.pos += 1;
            if !matches!(prop.ty, Ty::Prim(_)) || ext {
                let message =
                    "an array cannot be empty (accepted by HealthLake's validator, rejected by current HL7 validators)";
                self.issue(Code::JsonEmptyArray, Severity::Warning, message.to_owned(), offset, path);
            }
            return Ok(false);
        }
        let primitive = matches!(prop.ty, Ty::Prim(_));
        let mut present = false;
        let mut index = 0u32;
        loop {
            let item = Path::Index(path, index as usize);
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
            Ty::Prim(prim) => {
                if matches!(self.sc.peek(), Some(b'{' | b'[')) {
                    let token = self.value(depth, path)?;
                    self.wrong_kind(prim, token, offset, path);
                    return Ok(true);
                }
                let token = match self.sc.value() {
                    Ok(token) => token,
                    Err(e) => return Err(self.syntax_error(e, path)),
                };
                if token == Token::Null {
                    self.null(offset, path);
                    return Ok(false);
                }
                if let Token::String(s) = token {
                    if let Some(at) = s.lone_surrogate() {
                        self.lone_surrogate_at(at, path);
                    }
                }
                let text = primitive::check(self.issues, prim, token, self.text, offset, path);
                if let Some(text) = text {
                    binding::check(self.issues, element, &text, offset, path);
                    if let Some(id) = text.strip_prefix('#') {
                        let from_reference = prim == Prim::String && element.role == Role::Reference;
                        if from_reference || matches!(prim, Prim::Uri | Prim::Url | Prim::Canonical) {
                            let at = from_reference.then(|| (offset, path.render()));
                            self.scratch.local_refs.push(super::walk::LocalRef { id: id.to_owned(), at });
                        }
                    }
                }
                Ok(true)
            }
            Ty::Complex(tid) => {
                if self.sc.peek() != Some(b'{') {
                    let token = self.value(depth, path)?;
                    if token == Token::Null {
                        self.null(offset, path);
                        return Ok(false);
                    }
                    let message = format!(
                        "This property must be an Object, not {} ({} is a {})",
                        token.kind_name(),
                        element.name,
                        TYPES[tid as usize].name
                    );
                    self.error(Code::JsonWrongType, message, offset, path);
                    return Ok(true);
                }
                if depth + 1 > self.max_depth {
                    return Err(self.too_deep(offset, path));
                }
                self.sc.pos += 1;
                self.typed_object(depth + 1, path, tid, offset, ctx, Some(element), None)?;
                Ok(true)
            }
            Ty::Resource => {
                if self.sc.peek() != Some(b'{') {
                    let token = self.value(depth, path)?;
                    if token == Token::Null {
                        self.null(offset, path);
                        return Ok(false);
                    }
                    let message = format!("This property must be a resource (an object), not {}", token.kind_name());
                    self.error(Code::JsonWrongType, message, offset, path);
                    return Ok(true);
                }
                self.nested_resource(depth, path, offset, ctx)?;
                Ok(true)
            }
        }
    }

    /// A resource inside another (`contained`, `Bundle.entry.resource`, …), read as its own type.
    fn nested_resource(&mut self, depth: usize, path: &Path<'_>, offset: usize, ctx: Ctx) -> Result<(), Stop> {
        if depth + 1 > self.max_depth {
            return Err(self.too_deep(offset, path));
        }
        let found = super::walk::find_resource_type(self.line, offset);
        self.sc.pos = offset + 1;
        let (code, message) = match found {
            super::walk::Found::Known(tid) => return self.typed_object(depth + 1, path, tid, offset, ctx, None, None),
            super::walk::Found::Missing => {
                (Code::ResourceTypeMissing, "the resource has no resourceType property".to_owned())
            }
            super::walk::Found::NotString => (Code::ResourceTypeNotString, "resourceType must be a string".to_owned()),
            super::walk::Found::Unknown(name) => {
                (Code::ResourceUnknownType, format!("{} is not a FHIR R4 resource type", quote(&name)))
            }
        };
        self.issue(code, Severity::Fatal, message, offset, path);
        self.object_generic(depth + 1, path)
    }

    /// The decoded string value starting at `offset`, if it is a string.
    fn string_at(&self, offset: usize) -> Option<Cow<'a, str>> {
        let mut look = super::scan::Scanner { bytes: self.line, pos: offset };
        match look.value() {
            Ok(Token::String(s)) => Some(s.str_in(self.text)),
            _ => None,
        }
    }

    #[cold]
    fn issue_at(&mut self, code: Code, severity: Severity, message: String, offset: usize, path: Option<String>) {
        self.issues.push(Issue { code, severity, message, offset: Some(offset), path });
    }

    /// Checks of one Reference: its `type` against the holder element's targets, and its literal.
    fn check_reference(
        &mut self,
        holder: Option<&'static Element>,
        literal: Option<(Cow<'_, str>, usize)>,
        ty: Option<(Cow<'_, str>, usize)>,
        ctx: Ctx,
        reference_path: &Path<'_>,
    ) {
        let targets = holder.map_or(&[][..], |h| h.targets);
        if let Some((uri, offset)) = &ty {
            let path = Path::Member(reference_path, "type").render();
            let name = reference::type_name(uri);
            if resource_type_id(name).is_some() && !reference::allowed(targets, name) {
                let message = format!(
                    "Reference.type {} is not an allowed target here (allowed: {})",
                    quote(uri),
                    reference::target_names(targets)
                );
                self.issue_at(Code::ReferenceTypeNotAllowed, Severity::Error, message, *offset, path);
            }
        }
        let Some((text, offset)) = literal else { return };
        let path = || Path::Member(reference_path, "reference").render();
        if text.chars().any(char::is_whitespace) {
            // Reference.reference is a string: its value is never quoted (a query may hold an identifier).
            let message = "the reference contains whitespace".to_owned();
            self.issue_at(Code::ReferenceWhitespace, Severity::Warning, message, offset, path());
        }
        match reference::classify(&text) {
            reference::Literal::Conditional { query_ok: false, .. } => {
                let message =
                    "malformed conditional reference: the query after '?' must be name=value pairs joined by &"
                        .to_owned();
                self.issue_at(Code::ReferenceConditionalQueryInvalid, Severity::Error, message, offset, path());
            }
            reference::Literal::Conditional { resource_type, .. } if !ctx.transaction => {
                let message = format!(
                    "conditional reference ({resource_type}?…) outside a transaction or batch Bundle: HealthLake and most servers store it unresolved"
                );
                self.issue_at(Code::ReferenceConditional, Severity::Warning, message, offset, path());
            }
            reference::Literal::Typed(name) => {
                if let Some((uri, ..)) = &ty {
                    let declared = reference::type_name(uri);
                    if resource_type_id(declared).is_some() && declared != name {
                        let message = format!(
                            "Reference.type {} does not match the reference, which points to a {name}",
                            quote(uri)
                        );
                        self.issue_at(Code::ReferenceTypeMismatch, Severity::Error, message, offset, path());
                    }
                }
                if !reference::allowed(targets, name) {
                    let message = format!(
                        "the reference points to a {name}, which is not an allowed target here (allowed: {})",
                        reference::target_names(targets)
                    );
                    self.issue_at(Code::ReferenceImpliedTypeNotAllowed, Severity::Warning, message, offset, path());
                }
            }
            _ => {}
        }
    }

    /// At the end of a resource: every `#id` from a Reference resolves to a contained resource,
    /// and every contained resource is referenced (dom-3).
    fn check_local_references(&mut self, refs_base: usize, contained_base: usize) {
        let refs = &self.scratch.local_refs[refs_base..];
        let contained = &self.scratch.contained[contained_base..];
        if refs.is_empty() && contained.is_empty() {
            return;
        }
        let mut problems = Vec::new();
        for r in refs {
            if let Some((offset, path)) = &r.at {
                if !r.id.is_empty() && !contained.iter().any(|c| c.id == r.id) {
                    let message = format!(
                        "reference {} points to no contained resource with that id",
                        quote(&format!("#{}", r.id))
                    );
                    problems.push((Code::ReferenceContainedUnresolved, message, *offset, path.clone()));
                }
            }
        }
        let container_referenced = refs.iter().any(|r| r.id.is_empty());
        if !container_referenced {
            for c in contained {
                if !refs.iter().any(|r| r.id == c.id) {
                    let message = format!(
                        "dom-3: the contained resource {} is not referenced from elsewhere in the resource",
                        quote(&c.id)
                    );
                    problems.push((Code::InvariantDom3, message, c.offset, c.path.clone()));
                }
            }
        }
        for (code, message, offset, path) in problems {
            self.issue_at(code, Severity::Error, message, offset, path);
        }
    }

    #[cold]
    fn wrong_kind(&mut self, prim: Prim, token: Token, offset: usize, path: &Path<'_>) {
        let message = format!("This property must be a simple value ({}), not {}", prim.name(), token.kind_name());
        self.error(Code::JsonWrongType, message, offset, path);
    }

    #[cold]
    fn null(&mut self, offset: usize, path: &Path<'_>) {
        let message = "null is not a value in FHIR JSON (only as a placeholder in primitive arrays)".to_owned();
        self.error(Code::JsonNull, message, offset, path);
    }
}

/// `(system, code)` of the Coding at `open`, or of each `coding` of the CodeableConcept at `open`
/// (a second, small look-ahead pass, only for elements with a required binding).
fn codings_of(line: &[u8], open: usize, concept: bool) -> Vec<(Option<String>, Option<String>)> {
    use super::walk::find_member;
    let string = |t: Option<Token>| match t {
        Some(Token::String(s)) => Some(s.text(line).into_owned()),
        _ => None,
    };
    let one = |at: usize| (string(find_member(line, at, "system")), string(find_member(line, at, "code")));
    if !concept {
        return vec![one(open)];
    }
    let mut out = Vec::new();
    if let Some(Token::ArrayStart) = find_member(line, open, "coding") {
        // Find the array's position again to walk its items.
        let mut sc = super::scan::Scanner { bytes: line, pos: open + 1 };
        while let Ok(key) = sc.member_key() {
            if key.raw(line) == b"coding" {
                if sc.peek() == Some(b'[') {
                    sc.pos += 1;
                    loop {
                        if sc.peek() == Some(b'{') {
                            let at = sc.pos;
                            out.push(one(at));
                        }
                        if sc.skip_value().is_err() || sc.peek() != Some(b',') {
                            break;
                        }
                        sc.pos += 1;
                    }
                }
                break;
            }
            if sc.skip_value().is_err() || sc.peek() != Some(b',') {
                break;
            }
            sc.pos += 1;
        }
    }
    out
}
