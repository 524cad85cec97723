//! A mask's verdicts tabulated by presence: for a constraint whose mask reads at most
//! [`MAX_BITS`] of the object's elements, the answer [`Mask::decide`] gives for each combination of
//! those elements being present or absent, wherever that answer does not depend on the values
//! (`obs-6`'s `dataAbsentReason.empty() or value.empty()` for every combination; `per-1`'s
//! `start.hasValue().not() or …` whenever `start` or `end` is absent). The invariant rule looks
//! the object's presence bits up in the table and asks the mask only where the table says "ask":
//! a few shifts instead of walking the mask's tree on most objects.
//!
//! The table is derived from the mask by [`Mask::settle`], which mirrors `Mask::decide` arm by
//! arm (its order of evaluation and its short cuts included) and gives up wherever `decide`
//! would read a member; so a looked-up answer is `decide`'s answer, by construction. A test
//! compares the two on every combination of every R4 constraint.

use super::logic::{self, Truth};
use super::mask::Mask;

/// The most elements a table covers (2 bits per combination: 64 combinations in a `u128`).
pub(crate) const MAX_BITS: usize = 6;

/// One entry: what `decide` answers for one combination of presence bits.
const TRUE: u128 = 0;
const FALSE: u128 = 1;
const EMPTY: u128 = 2;
const ASK: u128 = 3;

/// [`Mask::decide`]'s answers by presence, where they depend on presence alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PresenceTable {
    /// The elements the mask reads (their bits in the object's presence bits), `n` of them.
    bits: [u8; MAX_BITS],
    n: u8,
    /// Entry `c` (bits `2c..2c+2`): the answer when element `bits[j]` is present exactly where
    /// bit `j` of `c` is set.
    table: u128,
}

impl PresenceTable {
    /// The table of `mask`, for objects whose line is known (as the invariant rule's are: `all()`
    /// over no object is then `true`). `None` when the mask reads more than [`MAX_BITS`] elements
    /// or no combination is settled by presence.
    pub(crate) fn of(mask: &Mask) -> Option<PresenceTable> {
        let mut bits = Vec::new();
        mask.read_bits(&mut bits);
        bits.sort_unstable();
        bits.dedup();
        if bits.is_empty() || bits.len() > MAX_BITS {
            return None;
        }
        let mut table = 0u128;
        let mut settled = false;
        for c in 0..1usize << bits.len() {
            let entry = match mask.settle(combination(&bits, c)) {
                Some(Ok(Some(true))) => TRUE,
                Some(Ok(Some(false))) => FALSE,
                Some(Ok(None)) => EMPTY,
                _ => ASK,
            };
            settled |= entry != ASK;
            table |= entry << (2 * c);
        }
        let mut fixed = [0u8; MAX_BITS];
        fixed[..bits.len()].copy_from_slice(&bits);
        settled.then_some(PresenceTable { bits: fixed, n: bits.len() as u8, table })
    }

    /// `decide`'s answer for an object with these presence bits, when presence settles it.
    #[inline]
    pub(crate) fn lookup(&self, present: u64) -> Option<Truth> {
        let mut c = 0usize;
        for (j, &b) in self.bits[..usize::from(self.n)].iter().enumerate() {
            c |= (((present >> b) & 1) as usize) << j;
        }
        match (self.table >> (2 * c)) & 3 {
            TRUE => Some(Some(true)),
            FALSE => Some(Some(false)),
            EMPTY => Some(None),
            _ => None,
        }
    }
}

/// The presence bits of combination `c` of `bits`: element `bits[j]` present where bit `j` of `c`
/// is set, the others absent.
fn combination(bits: &[u8], c: usize) -> u64 {
    bits.iter().enumerate().filter(|(j, _)| c & (1 << j) != 0).fold(0u64, |p, (_, &b)| p | 1 << b)
}

#[cfg(test)]
impl PresenceTable {
    /// The presence bits of every combination of the table's elements.
    pub(crate) fn combinations(&self) -> impl Iterator<Item = u64> + '_ {
        let bits = &self.bits[..usize::from(self.n)];
        (0..1usize << bits.len()).map(move |c| combination(bits, c))
    }
}

impl Mask {
    /// The elements whose presence the mask's arms test before they read anything.
    fn read_bits(&self, out: &mut Vec<u8>) {
        match self {
            Mask::Exists(i)
            | Mask::HasValue(i)
            | Mask::Text(i, ..)
            | Mask::Equals(i, ..)
            | Mask::Number(i, ..)
            | Mask::IfAbsent(i, _)
            | Mask::InContained(i) => out.push(*i),
            Mask::Order(a, _, b) => out.extend([*a, *b]),
            Mask::All { steps, .. } | Mask::Path { steps, .. } | Mask::Distinct { steps, .. } => {
                out.extend(steps.first())
            }
            Mask::Not(m) => m.read_bits(out),
            Mask::Bool(_, a, b) | Mask::BoolEq(a, b) => {
                a.read_bits(out);
                b.read_bits(out);
            }
            Mask::Unknown | Mask::OnResource(_) | Mask::Intersects { .. } => {}
        }
    }

    /// What [`Mask::decide`] gives on an object with these presence bits (and a known line), when
    /// it reads no member to give it; `None` where it would. Arm by arm as `decide`.
    fn settle(&self, present: u64) -> Option<Result<Truth, ()>> {
        let absent = |i: &u8| present & (1 << i) == 0;
        match self {
            Mask::Unknown => Some(Err(())),
            Mask::Exists(i) => Some(Ok(Some(!absent(i)))),
            Mask::HasValue(i) | Mask::Text(i, ..) => absent(i).then_some(Ok(Some(false))),
            Mask::Equals(i, ..) | Mask::Number(i, ..) | Mask::InContained(i) => absent(i).then_some(Ok(None)),
            Mask::Order(a, _, b) => (absent(a) || absent(b)).then_some(Ok(None)),
            Mask::IfAbsent(i, value) => Some(if absent(i) { Ok(Some(*value)) } else { Err(()) }),
            // `exists()` of nothing: false; `all()` and `isDistinct()` over no object: true.
            Mask::All { steps, .. } | Mask::Distinct { steps, .. } => {
                steps.first().filter(|i| absent(i)).map(|_| Ok(Some(true)))
            }
            Mask::Path { steps, exists, .. } => steps.first().filter(|i| absent(i)).map(|_| Ok(Some(!*exists))),
            Mask::BoolEq(a, b) => {
                let a = match a.settle(present)? {
                    Ok(a) => a,
                    Err(()) => return Some(Err(())),
                };
                let b = match b.settle(present)? {
                    Ok(b) => b,
                    Err(()) => return Some(Err(())),
                };
                Some(Ok(a.zip(b).map(|(a, b)| a == b)))
            }
            Mask::OnResource(_) | Mask::Intersects { .. } => None,
            Mask::Not(m) => Some(m.settle(present)?.map(|t| t.map(|b| !b))),
            Mask::Bool(op, a, b) => {
                let a = match a.settle(present)? {
                    Ok(a) => a,
                    Err(()) => return Some(Err(())),
                };
                if let Some(result) = logic::settled(*op, a) {
                    return Some(Ok(result));
                }
                Some(b.settle(present)?.map(|b| logic::combine(*op, a, b)))
            }
        }
    }
}
