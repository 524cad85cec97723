//! Objects already read: bulk FHIR data repeats the same small objects over and over (a LOINC
//! `CodeableConcept`, a `Reference` to the line's patient, a `Money`), and an object whose rules
//! read nothing but the object itself has the same verdict wherever the same bytes stand. The
//! walk remembers such objects per thread and per run, by their bytes, when reading them found
//! nothing; the next object with the same bytes, type, holder and context bits is skipped with
//! one compare, and what reading it kept for the FHIRPath engine is kept again, moved.
//!
//! What makes an object's reading independent of where it stands, checked as it is read (the
//! walk then remembers it; otherwise not):
//! - no rule of its type or of a type inside it reads more than the object (its path, the
//!   enclosing resource, the walk's context beyond the key's bits): `check::TypeRules::context_free`,
//!   derived from each row's `check::Rule::context` (resources, `Extension` and `Meta` are not);
//! - no constraint read outside it: the FHIRPath engine notes `%resource`, `%rootResource` and the
//!   contained ids as it reads them (`MemberIndex::noted_context`);
//! - nothing was found in it (no finding of any severity), no `#id` reference was read in it, and
//!   the line's `MemberIndex` changed only by what can be recorded and replayed (the objects and
//!   arrays kept, the `Reference.reference` offsets);
//! - its holder element (a binding, a Reference's targets, an extension's place) and the walk's
//!   context bits (contained, transaction, kept) are part of the key, and it fits the depth left
//!   below `--max-depth` where it is found again.
//!
//! Not remembered: objects longer than [`MAX_BYTES`], anything while the invariant oracle traces
//! (it counts each evaluation) or with `Options::with_memo(false)`. In debug builds every object
//! found is read again and the two readings compared (its end, no finding, the same index
//! entries as the replay), so every test checks that a hit changes nothing.
//!
//! Bounded: [`SLOTS`] entries of at most [`MAX_BYTES`] each per thread, direct-mapped by a hash of
//! the key (a collision costs one compare; a crafted input can only make every lookup miss).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::facts::Recorded;
use crate::model::{Element, TypeId};

/// Objects longer than this are not remembered (a long object rarely repeats).
pub(crate) const MAX_BYTES: usize = 512;
/// Entries per thread (a power of two).
pub(crate) const SLOTS: usize = 4096;
/// How many bytes of an object (at most, up to its first `}`) its key hashes: enough to tell apart
/// the codes of one code system (`{"system":"http://loinc.org","code":"8310-5"`).
const KEY_BYTES: usize = 96;

/// An object's key: where it stands (type, holder, context bits) and a hash of its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(u64);

#[derive(Debug, Default)]
struct Entry {
    /// How deep reading the object went (at most), itself included: it is found only where as
    /// many levels are left below `--max-depth`.
    levels: u16,
    bytes: Vec<u8>,
    /// What reading it kept for the FHIRPath engine (when it was read where the walk keeps).
    index: Recorded,
}

/// Bumped when a validation starts (`Validator::new`): what one thread remembered is kept for one
/// input, not from one input to the next (a benchmark that validates the same bytes again
/// measures what a user's single run does).
static RUN: AtomicU64 = AtomicU64::new(0);

/// A validation of an input starts.
pub(crate) fn new_run() {
    RUN.fetch_add(1, Ordering::Relaxed);
}

/// A remembered object found.
#[derive(Debug)]
pub(crate) struct Found<'m> {
    pub(crate) len: usize,
    /// How deep reading it went, itself included (see `Memo::remember`).
    pub(crate) levels: usize,
    pub(crate) index: &'m Recorded,
}

/// One step of the key's hash (a multiply and a rotate: collisions cost a compare, never a
/// wrong verdict).
#[inline]
fn mix(h: u64) -> u64 {
    h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(31)
}

/// The objects remembered on one thread.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    on: bool,
    /// The key of each slot (apart from the entries: the one load of a lookup that misses).
    keys: Vec<u64>,
    slots: Vec<Entry>,
    /// What the entries were read with: the rule table and the profiles (as addresses), the run.
    owner: (usize, usize, u64),
    /// Per type: how its lookups went lately.
    tally: Vec<Tally>,
    /// Objects found (for the tests).
    #[cfg(test)]
    pub(crate) found: usize,
}

/// Lookups of one type: a type whose objects rarely repeat (a `Quantity` of measured values, a
/// `Period`) is not looked up for a while, as a lookup that misses costs a hash and a compare.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    tries: u16,
    hits: u16,
    /// Objects of the type still to read without a lookup.
    rest: u16,
}

/// Lookups per verdict on a type, at least one in [`HIT_RATE`] of which must find the object.
const TRIES: u16 = 256;
const HIT_RATE: u16 = 8;
/// Objects of a type read without a lookup after a verdict against it.
const PAUSE: u16 = 4096;

impl Memo {
    /// Before a line: remember (or not) with these rules and profiles; entries made with others
    /// are dropped.
    pub(crate) fn prepare(&mut self, on: bool, rules: usize, profiles: usize) {
        self.on = on && !crate::oracle::on();
        let owner = (rules, profiles, RUN.load(Ordering::Relaxed));
        if self.owner != owner {
            self.keys.fill(0);
            self.tally.clear();
            for entry in &mut self.slots {
                entry.bytes.clear();
                entry.index.clear();
            }
            self.owner = owner;
        }
    }

    /// Is it worth looking up an object of type `tid` (on, and its objects lately found)?
    #[inline]
    pub(crate) fn worth(&mut self, tid: TypeId) -> bool {
        if !self.on {
            return false;
        }
        let i = usize::from(tid);
        if i >= self.tally.len() {
            self.tally.resize(i + 1, Tally::default());
        }
        let t = &mut self.tally[i];
        if t.rest > 0 {
            t.rest -= 1;
            return false;
        }
        true
    }

    /// A lookup for an object of type `tid` found it (or not).
    #[inline]
    pub(crate) fn tally(&mut self, tid: TypeId, found: bool) {
        #[cfg(test)]
        {
            self.found += usize::from(found);
        }
        let Some(t) = self.tally.get_mut(usize::from(tid)) else { return };
        t.tries += 1;
        t.hits += u16::from(found);
        if t.tries == TRIES {
            if t.hits * HIT_RATE < TRIES {
                t.rest = PAUSE;
            }
            (t.tries, t.hits) = (0, 0);
        }
    }

    /// The key of the object at the start of `rest` (its `{`): its place, and its bytes up to
    /// its first `}` (a small object's end, so that what follows it does not count) or
    /// [`KEY_BYTES`], hashed a word at a time (the search for `}` in the same pass).
    #[inline]
    pub(crate) fn key(tid: TypeId, holder: &'static Element, context: u8, rest: &[u8]) -> Key {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let place =
            (u64::from(tid) << 8 | u64::from(context)) ^ (holder as *const Element as usize as u64).rotate_left(29);
        let mut h = place.wrapping_mul(K);
        let window = &rest[..rest.len().min(KEY_BYTES)];
        // Whole words, then the rest padded with zeros (the key depends on the bytes only); no
        // copy of variable length, which would be a call to `memcpy` per word.
        let words = window.chunks_exact(8);
        let mut last = [0u8; 8];
        for (w, &b) in last.iter_mut().zip(words.remainder()) {
            *w = b;
        }
        let tail = (!words.remainder().is_empty()).then_some(last);
        for word in words.map(|c| <[u8; 8]>::try_from(c).unwrap_or_default()).chain(tail) {
            let w = u64::from_le_bytes(word);
            let x = w ^ (ONES * u64::from(b'}'));
            let close = x.wrapping_sub(ONES) & !x & HIGHS;
            if close != 0 {
                // Up to and with the first `}`.
                let keep = close.trailing_zeros() + 1;
                let w = if keep >= 64 { w } else { w & ((1u64 << keep) - 1) };
                return Key(mix(h ^ w));
            }
            h = mix(h ^ w);
        }
        Key(mix(h))
    }

    /// The remembered object that `rest` starts with, if there is one under `key` that fits in
    /// `depth_left` levels: its length, its levels, and what reading it kept.
    #[inline]
    pub(crate) fn find(&self, key: Key, rest: &[u8], depth_left: usize) -> Option<Found<'_>> {
        let slot = key.0 as usize & (SLOTS - 1);
        if *self.keys.get(slot)? != key.0 {
            return None;
        }
        let entry = &self.slots[slot];
        let hit = usize::from(entry.levels) <= depth_left
            && !entry.bytes.is_empty()
            && rest.get(..entry.bytes.len()) == Some(&entry.bytes[..]);
        hit.then_some(Found { len: entry.bytes.len(), levels: usize::from(entry.levels), index: &entry.index })
    }

    /// `object` (a whole object, read without a finding, whose reading went `levels` deep, itself
    /// included) was not found under `key`. Its bytes are kept the second time its key comes (most
    /// objects never repeat: the first time only the key is noted, which costs no copy).
    /// Returns where to record what reading it kept, when its bytes are kept.
    pub(crate) fn remember(&mut self, key: Key, object: &[u8], levels: usize) -> Option<&mut Recorded> {
        if object.len() > MAX_BYTES {
            return None;
        }
        if self.slots.is_empty() {
            self.keys.resize(SLOTS, 0);
            self.slots.resize_with(SLOTS, Entry::default);
        }
        let slot = key.0 as usize & (SLOTS - 1);
        let entry = &mut self.slots[slot];
        entry.bytes.clear();
        entry.index.clear();
        if self.keys[slot] != key.0 {
            // Noted: never found (no bytes).
            self.keys[slot] = key.0;
            return None;
        }
        entry.levels = u16::try_from(levels).unwrap_or(u16::MAX);
        entry.bytes.extend_from_slice(object);
        Some(&mut entry.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Rules;
    use crate::diagnostic::{Findings, Severity};
    use crate::model::Model;
    use crate::walk::{Scratch, Walk};

    /// Each line's diagnostics (code, severity, offset, path), the lines walked one after another
    /// on one thread as a run does, and how many objects the memo found.
    fn walk_lines(lines: &[String], memo: bool, max_depth: usize) -> (Vec<Vec<String>>, usize) {
        let mut scratch = Scratch::default();
        let all = lines
            .iter()
            .map(|line| {
                scratch.memo.prepare(memo, 1, 2);
                let mut findings = Findings::new(100);
                Walk::line(line, Model::r4(), Rules::r4(), None, &mut findings, &mut scratch, max_depth);
                let found: Vec<String> = findings
                    .finish(1, 0, line.as_bytes())
                    .into_iter()
                    .filter(|d| d.severity() > Severity::Information)
                    .map(|d| {
                        format!("{} {} {:?} {:?} {}", d.code(), d.severity(), d.byte_offset(), d.path(), d.message())
                    })
                    .collect();
                found
            })
            .collect();
        (all, scratch.memo.found)
    }

    /// The lines' diagnostics, the same with the memo and without; how many objects it found.
    fn same_with_and_without(lines: &[String], max_depth: usize) -> (Vec<Vec<String>>, usize) {
        let (with, found) = walk_lines(lines, true, max_depth);
        let (without, none) = walk_lines(lines, false, max_depth);
        assert_eq!(with, without, "the memo changed a verdict");
        assert_eq!(none, 0);
        (with, found)
    }

    const CODE: &str =
        r#"{"coding":[{"system":"http://loinc.org","code":"8310-5","display":"Body temperature"}],"text":"t"}"#;

    fn observation(code: &str, extra: &str) -> String {
        format!(
            r#"{{"resourceType":"Observation","id":"o","status":"final","category":[{code}],"code":{code}{extra}}}"#
        )
    }

    #[test]
    fn repeated_objects_are_found_and_change_nothing() {
        let lines: Vec<String> = (0..4).map(|_| observation(CODE, "")).collect();
        let (diagnostics, found) = same_with_and_without(&lines, 128);
        assert!(diagnostics.iter().all(Vec::is_empty), "{diagnostics:?}");
        // Line 1 notes the objects, line 2 remembers them, lines 3 and 4 find them (the
        // category's and the code's `CodeableConcept`: one is kept for obs-7, one is not).
        assert!(found >= 4, "{found}");
    }

    #[test]
    fn objects_with_findings_are_not_remembered() {
        let code = r#"{"coding":[{"system":"loinc","code":"8310-5"}]}"#;
        let lines: Vec<String> = (0..4).map(|_| observation(code, "")).collect();
        let (diagnostics, found) = same_with_and_without(&lines, 128);
        assert!(diagnostics.iter().all(|d| d.iter().filter(|d| d.contains("system")).count() == 2), "{diagnostics:?}");
        assert_eq!(found, 0);
    }

    #[test]
    fn kept_objects_are_kept_again_for_the_constraints() {
        // obs-7: a component with the Observation's own code, and a value on both.
        let extra = format!(r#","valueString":"x","component":[{{"code":{CODE},"valueString":"y"}}]"#);
        let lines: Vec<String> = (0..4).map(|_| observation(CODE, &extra)).collect();
        let (diagnostics, found) = same_with_and_without(&lines, 128);
        assert!(diagnostics.iter().all(|d| d.iter().any(|d| d.contains("obs-7"))), "{diagnostics:?}");
        assert!(found > 0);
    }

    #[test]
    fn remembered_objects_respect_the_depth_left() {
        // The same code at depth 2 (fits), then in a Bundle entry at depth 5, where its Coding
        // passes `max_depth` 6.
        let plain = observation(CODE, "");
        let nested = format!(r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{plain}}}]}}"#);
        let lines = vec![plain.clone(), plain.clone(), plain, nested];
        let (diagnostics, found) = same_with_and_without(&lines, 6);
        assert!(diagnostics[3].iter().any(|d| d.contains("too-deep")), "{diagnostics:?}");
        assert!(found > 0);
    }

    #[test]
    fn objects_found_inside_count_for_the_depth_of_the_object_around() {
        // The Coding is remembered from codes of other texts; then a code is remembered while its
        // Coding is found (skipped); that code must still need the Coding's level.
        let coding = r#"{"system":"http://loinc.org","code":"8310-5"}"#;
        let code = |text: &str| format!(r#"{{"coding":[{coding}],"text":"{text}"}}"#);
        let observation = |code: &str| format!(r#"{{"resourceType":"Observation","status":"final","code":{code}}}"#);
        let mut lines: Vec<String> = ["a", "b", "c", "d", "d"].iter().map(|t| observation(&code(t))).collect();
        let plain = observation(&code("d"));
        lines.push(format!(r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{plain}}}]}}"#));
        let (diagnostics, found) = same_with_and_without(&lines, 6);
        assert!(diagnostics[5].iter().any(|d| d.contains("too-deep")), "{diagnostics:?}");
        assert!(found > 0);
    }

    #[test]
    fn references_are_found_only_where_they_read_the_same() {
        let subject = |reference: &str| format!(r#","subject":{{"reference":"{reference}"}}"#);
        let in_transaction = |extra: &str| {
            let entry = observation(CODE, extra);
            format!(
                r#"{{"resourceType":"Bundle","type":"transaction","entry":[{{"fullUrl":"urn:uuid:1","resource":{entry},"request":{{"method":"POST","url":"Observation"}}}}]}}"#
            )
        };
        let conditional = subject("Patient?identifier=a");
        let contained = r#","contained":[{"resourceType":"Patient","id":"p1"}]"#;
        let mut lines: Vec<String> = (0..3).map(|_| in_transaction(&conditional)).collect();
        lines.push(observation(CODE, &conditional));
        lines.extend((0..3).map(|_| observation(CODE, &format!("{contained}{}", subject("#p1")))));
        lines.push(observation(CODE, &subject("#p1")));
        lines.extend((0..3).map(|_| observation(CODE, &subject("Patient/p1"))));
        let (diagnostics, found) = same_with_and_without(&lines, 128);
        assert!(diagnostics[3].iter().any(|d| d.contains("reference/conditional")), "{diagnostics:?}");
        assert!(diagnostics[7].iter().any(|d| d.contains("reference/contained-unresolved")), "{diagnostics:?}");
        assert!(diagnostics[8..].iter().all(Vec::is_empty), "{diagnostics:?}");
        assert!(found > 0);
        // A Reference alone (Basic without its code: the finding is the resource's): noted,
        // remembered, then found.
        let basic = r#"{"resourceType":"Basic","id":"b","subject":{"reference":"Patient/p1"}}"#.to_owned();
        let (_, found) = same_with_and_without(&[basic.clone(), basic.clone(), basic], 128);
        assert_eq!(found, 1);
    }

    #[test]
    fn found_only_with_the_same_bytes_key_and_room() {
        let mut memo = Memo::default();
        memo.prepare(true, 1, 2);
        let object = br#"{"system":"http://loinc.org","code":"8310-5"}"#;
        let rest = [&object[..], b",\"x\":1}"].concat();
        let model = Model::r4();
        let concept = model.type_ids().find(|&i| model.ty(i).name == "CodeableConcept").expect("CodeableConcept");
        let (holder, other_holder) = (&model.ty(concept).elements[0], &model.ty(concept).elements[1]);
        let key = Memo::key(3, holder, 0, &rest);
        assert!(memo.find(key, &rest, 10).is_none());
        assert!(memo.remember(key, object, 1).is_none());
        assert!(memo.find(key, &rest, 10).is_none(), "the first time, only noted");
        assert!(memo.remember(key, object, 1).is_some());
        assert_eq!(memo.find(key, &rest, 10).map(|f| f.len), Some(object.len()));
        assert_eq!(memo.find(key, &rest, 1).map(|f| f.len), Some(object.len()));
        assert!(memo.find(key, &rest, 0).is_none(), "no room for its level");
        assert_ne!(Memo::key(4, holder, 0, &rest), key, "another type");
        assert_ne!(Memo::key(3, other_holder, 0, &rest), key, "another holder");
        assert_ne!(Memo::key(3, holder, 1, &rest), key, "another context");
        assert_eq!(Memo::key(3, holder, 0, object), key, "what follows the first closing brace does not count");
        let other = [&br#"{"system":"http://loinc.org","code":"8310-6"}"#[..], b",\"x\":1}"].concat();
        assert!(memo.find(key, &other, 10).is_none(), "other bytes under the same key");
        memo.prepare(true, 1, 3);
        assert!(memo.find(key, &rest, 10).is_none(), "other profiles: forgotten");
        memo.remember(key, object, 1);
        memo.remember(key, object, 1);
        assert!(memo.find(key, &rest, 10).is_some());
        new_run();
        memo.prepare(true, 1, 3);
        assert!(memo.find(key, &rest, 10).is_none(), "another run: forgotten");
        assert!(!{
            memo.prepare(false, 1, 3);
            memo.worth(3)
        });
    }
}
