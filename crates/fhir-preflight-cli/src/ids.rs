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

/// The most distinct pairs kept: 7/8 of [`SLOTS`] (3,670,016).
pub(crate) const MAX_IDS: usize = SLOTS / 8 * 7;

/// An empty slot.
const EMPTY: u64 = u64::MAX;

/// The 64-bit hash a `(resourceType, id)` pair is kept as (never [`EMPTY`]).
pub(crate) fn id_hash(resource_type: &str, id: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (resource_type, id).hash(&mut hasher);
    hasher.finish().min(EMPTY - 1)
}

/// Duplicate pairs seen so far, in input order.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    table: Vec<u64>,
    len: usize,
    /// Duplicate pairs found, and the first few (input, line, `Type/id`).
    pub(crate) duplicates: u64,
    pub(crate) first_duplicates: Vec<(String, u64, String)>,
    /// The table reached [`MAX_IDS`]: later duplicates are not detected.
    pub(crate) full: bool,
}

impl Ids {
    /// Record a pair; a pair seen before counts as a duplicate (`shown` names it, for the first few).
    pub(crate) fn see(&mut self, hash: u64, input: &str, line: u64, shown: impl FnOnce() -> String) {
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
                self.duplicates += 1;
                if self.first_duplicates.len() < 5 {
                    self.first_duplicates.push((input.to_owned(), line, shown()));
                }
                return;
            }
            if here == EMPTY {
                if self.len < MAX_IDS {
                    self.table[slot] = hash;
                    self.len += 1;
                } else {
                    self.full = true;
                }
                return;
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_counted_in_order_and_the_table_stops_at_its_limit() {
        let mut ids = Ids::default();
        for (line, id) in ["a", "b", "a", "c", "b", "a"].iter().enumerate() {
            ids.see(id_hash("Patient", id), "f", line as u64 + 1, || format!("Patient/{id}"));
        }
        assert_eq!(ids.duplicates, 3);
        let lines: Vec<u64> = ids.first_duplicates.iter().map(|d| d.1).collect();
        assert_eq!(lines, [3, 5, 6]);
        assert_eq!(ids.first_duplicates[0].2, "Patient/a");
        // Same id, another type: not a duplicate.
        ids.see(id_hash("Observation", "a"), "f", 7, String::new);
        assert_eq!(ids.duplicates, 3);
        assert!(!ids.full);
        // Fill the table: every new pair past MAX_IDS is not kept, and says so.
        for i in 0..MAX_IDS as u64 {
            ids.see(id_hash("Encounter", &i.to_string()), "f", 8 + i, String::new);
        }
        assert!(ids.full);
        assert_eq!(ids.len, MAX_IDS);
        assert_eq!(ids.duplicates, 3, "no false duplicate among {MAX_IDS} distinct pairs");
        // A pair kept before the table filled is still found.
        ids.see(id_hash("Patient", "c"), "f", 0, String::new);
        assert_eq!(ids.duplicates, 4);
    }
}
