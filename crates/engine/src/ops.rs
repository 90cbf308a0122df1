//! The write operations a batch is made of, and what applying groups of them
//! reports: shared by the store, the batch encoder and the store's callers.

use crate::error::Error;

/// One write operation of a batch.
#[derive(Clone, Copy)]
pub enum Op<'a> {
    /// Write a payload for a key hash (`[0x00]` is a tombstone, if allowed).
    Put(u64, &'a [u8]),
    /// `Put(hash, payload)` of a key whose bytes are known (`hash`, `key`,
    /// `payload`): a store that records keys (`OpenOptions::keys`) writes
    /// the key's record before it (see [`crate::keys`]); others write the put.
    KeyedPut(u64, &'a [u8], &'a [u8]),
    /// The record of the key of hash `.0`, whose bytes are `.1` (made by the
    /// store from a `KeyedPut`, see [`crate::keys`]).
    Record(u64, &'a [u8]),
    /// Write a tombstone if the key is live at that point; nothing otherwise.
    Delete(u64),
}

/// One group of [`Store::apply_groups`]: its ops end at `end` (they start
/// where the previous group's end); `allow_null` as in [`Store::apply`].
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub end: usize,
    pub allow_null: bool,
}

/// What [`Store::apply_groups`] did: per group, the tail after it (for a
/// failed or empty group, the tail at its place in the sequence), and the
/// groups that failed, in group order, with their errors.
#[derive(Debug)]
pub struct Applied {
    pub tails: Vec<u64>,
    pub failed: Vec<(usize, Error)>,
}

/// What the producer of a batch in parts hands over next ([`Store::apply_parts`]).
pub enum Part<'a> {
    /// The next puts of the batch.
    Puts(Vec<Op<'a>>),
    /// The batch is complete.
    End,
    /// The producer failed: nothing of the batch may be written.
    Abort,
}
