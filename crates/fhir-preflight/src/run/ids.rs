//! Duplicate `(resourceType, id)` detection across a run (HealthLake keeps the last line of a
//! pair, so earlier ones are silently overwritten).
//!
//! Each imported line's pair is kept as a 64-bit hash in a fixed open-addressing table of
//! [`SLOTS`] slots (32 MiB), allocated and zeroed on the first id, so memory is flat at 32 MiB
//! however large the input — no rehashing, no growth spikes. At most [`MAX_IDS`] pairs are kept
//! (7/8 of the slots, so probes stay short); past that, a notice says later duplicates were not
//! checked. Two distinct pairs share a 64-bit hash with odds of about n²/2⁶⁵ (3·10⁻⁷ for a full
//! table), so a reported duplicate is a duplicate.

use std::hash::{Hash, Hasher};

/// Slots in the table: 2²² × 8 bytes = 32 MiB.
pub(crate) const SLOTS: usize = 1 << 22;

/// The most distinct pairs kept: 7/8 of the table's slots (3,670,016).
pub const MAX_IDS: usize = SLOTS / 8 * 7;

/// An empty slot.
const EMPTY: u64 = u64::MAX;

/// The 64-bit hash a `(resourceType, id)` pair is kept as (never [`EMPTY`]).
pub(crate) fn id_hash(resource_type: &str, id: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (resource_type, id).hash(&mut hasher);
    hasher.finish().min(EMPTY - 1)
}

/// What the table said about a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// First time: kept.
    New,
    /// Seen before.
    Duplicate,
    /// First time, but the table is full: not kept (later duplicates of it go unnoticed).
    NotKept,
}

/// The pairs seen so far, as hashes.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    table: Vec<u64>,
    len: usize,
}

impl Ids {
    /// Record a pair's hash (from [`id_hash`]).
    pub(crate) fn see(&mut self, hash: u64) -> Seen {
        if self.table.is_empty() {
            // Filled by writing, with a non-zero marker (a zero fill becomes a zero-mapped
            // allocation): a probe reads a slot before writing it, and a page first read as the
            // shared zero page, then written, makes the kernel flush the other threads' TLBs (an
            // interrupt per page, thousands of them).
            self.table = vec![EMPTY; SLOTS];
        }
        let mask = SLOTS - 1;
        // The hash's high bits pick the slot (the low bits of SipHash are as good; either works).
        let mut slot = (hash >> 32) as usize & mask;
        loop {
            let here = self.table[slot];
            if here == hash {
                return Seen::Duplicate;
            }
            if here == EMPTY {
                if self.len < MAX_IDS {
                    self.table[slot] = hash;
                    self.len += 1;
                    return Seen::New;
                }
                return Seen::NotKept;
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_and_the_table_stops_at_its_limit() {
        let mut ids = Ids::default();
        let seen: Vec<Seen> = ["a", "b", "a", "c", "b", "a"].iter().map(|id| ids.see(id_hash("Patient", id))).collect();
        use Seen::*;
        assert_eq!(seen, [New, New, Duplicate, New, Duplicate, Duplicate]);
        // Same id, another type: not a duplicate.
        assert_eq!(ids.see(id_hash("Observation", "a")), New);
        // Fill the table: every new pair past MAX_IDS is not kept, and says so.
        let mut false_duplicates = 0;
        for i in 0..MAX_IDS as u64 {
            false_duplicates += u64::from(ids.see(id_hash("Encounter", &i.to_string())) == Duplicate);
        }
        assert_eq!(false_duplicates, 0, "no false duplicate among {MAX_IDS} distinct pairs");
        assert_eq!(ids.len, MAX_IDS);
        assert_eq!(ids.see(id_hash("Encounter", "new")), NotKept);
        // A pair kept before the table filled is still found.
        assert_eq!(ids.see(id_hash("Patient", "c")), Duplicate);
    }
}
