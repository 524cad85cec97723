//! Duplicate `(resourceType, id)` detection across a run (HealthLake keeps the last line of a
//! pair, so earlier ones are silently overwritten).
//!
//! Each imported line's pair is kept as a 64-bit hash in an open-addressing table that starts at
//! [`FIRST_SLOTS`] slots (512 KiB) and doubles when it is 7/8 full, up to [`SLOTS`] slots
//! (32 MiB): memory is bounded whatever the input, and a run of a few hundred thousand lines keeps
//! its table in the processor's caches (a lookup in a 32 MiB table allocated whole was a cache
//! and TLB miss per line: 4.5% of the CLI's time, and 40 ms of the page's main thread on a
//! 100 MB file). At most [`MAX_IDS`] pairs are kept (7/8 of the largest table, so probes stay
//! short); past that, a notice says later duplicates were not checked. Two distinct pairs share a
//! 64-bit hash with odds of about n²/2⁶⁵ (3·10⁻⁷ for a full table), so a reported duplicate is a
//! duplicate.

use std::hash::{Hash, Hasher};

/// Slots in the largest table: 2²² × 8 bytes = 32 MiB.
pub(crate) const SLOTS: usize = 1 << 22;

/// Slots in the first table: 2¹⁶ × 8 bytes = 512 KiB.
pub(crate) const FIRST_SLOTS: usize = 1 << 16;

/// The most distinct pairs kept: 7/8 of the table's slots (3,670,016).
pub const MAX_IDS: usize = SLOTS / 8 * 7;

/// An empty slot.
const EMPTY: u64 = u64::MAX;

/// The 64-bit hash a `(resourceType, id)` pair is kept as by [`crate::RunChecks`] (never
/// `u64::MAX`, which marks an empty slot): where lines are validated apart from the run's checks
/// (the page's workers), they hash their pairs there.
pub fn id_hash(resource_type: &str, id: &str) -> u64 {
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
            self.table = vec![EMPTY; FIRST_SLOTS];
        }
        // Room for one more first (the largest table has room for every pair kept).
        if self.len + 1 > self.table.len() / 8 * 7 {
            self.grow();
        }
        match probe(&self.table, hash) {
            Err(_) => Seen::Duplicate,
            Ok(_) if self.len >= MAX_IDS => Seen::NotKept,
            Ok(slot) => {
                self.table[slot] = hash;
                self.len += 1;
                Seen::New
            }
        }
    }

    /// Twice the slots (at most [`SLOTS`]), every hash moved to its slot there. Filled by writing
    /// a non-zero marker (a zero fill becomes a zero-mapped allocation: a page first read as the
    /// shared zero page, then written, makes the kernel flush the other threads' TLBs).
    fn grow(&mut self) {
        let slots = (self.table.len() * 2).min(SLOTS);
        if slots == self.table.len() {
            return;
        }
        let old = std::mem::replace(&mut self.table, vec![EMPTY; slots]);
        for hash in old.into_iter().filter(|&h| h != EMPTY) {
            if let Ok(slot) = probe(&self.table, hash) {
                self.table[slot] = hash;
            }
        }
    }
}

/// Where `hash` is in `table` (`Err`) or the empty slot it would go to (`Ok`). The hash's high
/// bits pick the first slot (the low bits of SipHash are as good; either works), then the next.
fn probe(table: &[u64], hash: u64) -> Result<usize, usize> {
    let mask = table.len() - 1;
    let mut slot = (hash >> 32) as usize & mask;
    loop {
        match table[slot] {
            here if here == hash => return Err(slot),
            EMPTY => return Ok(slot),
            _ => slot = (slot + 1) & mask,
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
        assert_eq!(ids.table.len(), SLOTS, "the table grew to its largest, and no further");
        assert_eq!(ids.see(id_hash("Encounter", "new")), NotKept);
        // A pair kept before the table filled is still found.
        assert_eq!(ids.see(id_hash("Patient", "c")), Duplicate);
    }
}
