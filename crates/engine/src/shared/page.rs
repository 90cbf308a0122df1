//! The layout of the shared page (`<store>.shm`): a small file every
//! process with the store open maps shared. Ours alone (the Rust crate
//! knows nothing of it); the store file itself is unchanged.
//!
//! ```text
//! offset  size  field
//!      0     8  MAGIC: "SRDSHM" 0x00 VERSION, written last by the first opener
//!      8     8  STATE: the committed tail and the file generation, packed
//!               in one word so a read checks both with one atomic load:
//!               bits 0..48 tail, bits 48..63 generation, bit 63 CHANGING
//!     16     8  PENDING: 1 while a writer holds the append lock (a holder
//!               that died leaves it set: the next writer cuts its torn tail)
//!     24     8  DEVICE, 32 8 INODE: the identity of the store file the page
//!               speaks of (0, 0 where the OS gives none), so a file
//!               deleted and created again at the path is told apart
//!     64    64  the append lock (a robust pthread mutex on Linux; see
//!               `platform::AppendLock`)
//! ```

pub(crate) const SIZE: u64 = 4096;
pub(crate) const MAGIC_AT: usize = 0;
pub(crate) const STATE_AT: usize = 8;
pub(crate) const PENDING_AT: usize = 16;
pub(crate) const DEVICE_AT: usize = 24;
pub(crate) const INODE_AT: usize = 32;
pub(crate) const LOCK_AT: usize = 64;
pub(crate) const VERSION: u8 = 1;
pub(crate) const MAGIC: u64 = u64::from_le_bytes([b'S', b'R', b'D', b'S', b'H', b'M', 0, VERSION]);

const TAIL_BITS: u32 = 48;
const TAIL_MASK: u64 = (1 << TAIL_BITS) - 1;
const GENERATION_MASK: u64 = (1 << 15) - 1;
const CHANGING: u64 = 1 << 63;

/// What the STATE word says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    /// End of the last committed entry: every byte below it is written whole.
    pub(crate) tail: u64,
    /// Changes when the file at the store's path is replaced (compaction,
    /// repair, a first opener rebuilding the page). 15 bits, wrapping: a
    /// process would have to miss 32,768 replacements between two of its
    /// reads to mistake one generation for another.
    pub(crate) generation: u64,
    /// A compaction is replacing the file: readers keep their current
    /// state (the old file stays valid for them) until it is cleared.
    pub(crate) changing: bool,
}

impl State {
    pub(crate) fn unpack(word: u64) -> State {
        State {
            tail: word & TAIL_MASK,
            generation: (word >> TAIL_BITS) & GENERATION_MASK,
            changing: word & CHANGING != 0,
        }
    }

    pub(crate) fn pack(self) -> u64 {
        debug_assert!(self.tail <= TAIL_MASK);
        (self.tail & TAIL_MASK)
            | ((self.generation & GENERATION_MASK) << TAIL_BITS)
            | if self.changing { CHANGING } else { 0 }
    }

    /// The next generation (wrapping).
    pub(crate) fn next_generation(self) -> u64 {
        (self.generation + 1) & GENERATION_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_packs_tail_generation_and_changing_in_one_word() {
        for s in [
            State { tail: 0, generation: 0, changing: false },
            State { tail: (1 << 48) - 1, generation: GENERATION_MASK, changing: true },
            State { tail: 123_456_789, generation: 7, changing: false },
        ] {
            assert_eq!(State::unpack(s.pack()), s);
        }
        let last = State { tail: 1, generation: GENERATION_MASK, changing: false };
        assert_eq!(last.next_generation(), 0);
    }
}
