//! Open-time recovery: find the longest prefix of a file that is a store.
//!
//! A prefix ending at `E` is accepted when the metadata at `E - 20` links back
//! through intact `prev` pointers to offset 0 (the chain) AND the payload of
//! that last entry matches its checksum. A link is intact when its entry is
//! well formed (`EntryLocation::derive`: a non-empty span, a pre-pad of
//! zeros) and, for the link to 0, when that first entry matches its
//! checksum ([`first_entry_ok`]). Other entries are not checksummed here
//! (see `Store::verify`). What lies past the prefix is told apart (torn tail
//! or damage in the middle) by [`crate::salvage`].
//!
//! Linear in the file size on any input:
//! - chain verdicts are memoized per link target, so each offset is walked once;
//! - a candidate's checksum comes from prefix checksums (CRC32 is affine:
//!   `crc(A ++ B) = shift(crc(A), |B|) ^ crc(B)`), so a long payload costs
//!   O(step + log n), not its length (a store appended to itself makes every
//!   old entry such a candidate);
//! - candidates whose payloads share a start offset (a zero-filled tail makes
//!   every byte such a candidate, all starting at 0) are checked by one
//!   ascending pass over the span asked about, not once per candidate.

use crate::format::{self, checksum, EntryLocation, Metadata, METADATA_SIZE};
use hashbrown::{HashMap, HashSet};

const META: u64 = METADATA_SIZE as u64;
/// Payloads shorter than this are checksummed directly.
pub(crate) const DIRECT_CRC_LIMIT: u64 = 4096;

/// The length of the longest valid store prefix of `bytes` (0 if none).
pub fn valid_prefix_len(bytes: &[u8]) -> u64 {
    recover(bytes).0
}

/// The valid prefix length and the number of payload bytes checksummed to find it.
pub fn recover(bytes: &[u8]) -> (u64, u64) {
    let n = bytes.len() as u64;
    if n < META + 1 {
        return (0, 0);
    }
    // Fast path: the whole file is intact (the common case on every open).
    if let Some(meta) = Metadata::decode_at(bytes, n - META) {
        if let Some(loc) = EntryLocation::derive(bytes, n - META, meta.prev_offset) {
            if checksum(&bytes[loc.range()]) == meta.checksum && chain_len(bytes, meta.prev_offset).is_some() {
                return (n, loc.end - loc.start);
            }
        }
    }
    let mut r = Recovery::new(bytes);
    let len = r.scan(n - 1);
    (len, r.crc_bytes + n)
}

/// True when the file's last entry is well formed and matches its checksum
/// (the part of the fast path that the chain walk of the index build does not check).
pub fn tail_entry_intact(bytes: &[u8]) -> bool {
    let n = bytes.len() as u64;
    if n < META + 1 {
        return false;
    }
    let Some(meta) = Metadata::decode_at(bytes, n - META) else {
        return false;
    };
    let Some(loc) = EntryLocation::derive(bytes, n - META, meta.prev_offset) else {
        return false;
    };
    checksum(&bytes[loc.range()]) == meta.checksum
}

/// A link to offset 0 says its entry is the first of the file. Zeroed or
/// rewritten metadata in the middle of a file reads that way too (key hash
/// 0, prev 0: a phantom entry spanning every earlier one), so such a link
/// is believed only when its payload matches its checksum: the real first
/// entry does, a phantom does not. Costs one payload per open.
#[inline]
pub(crate) fn first_entry_ok(bytes: &[u8], loc: &EntryLocation, meta: &Metadata) -> bool {
    meta.prev_offset != 0 || checksum(&bytes[loc.range()]) == meta.checksum
}

/// Entries of the chain ending at `tail`, walking `prev` links to 0 without
/// memo, each link well formed (`EntryLocation::derive`, and the first
/// entry checked by [`first_entry_ok`]); `None` if it does not reach 0. Used on the fast path of open: once here, and by the index
/// build to size its table (`KeyIndex::size_for_rest`).
pub(crate) fn chain_len(bytes: &[u8], mut tail: u64) -> Option<usize> {
    let mut n = 0;
    while tail != 0 {
        if tail < META + 1 {
            return None;
        }
        let meta = Metadata::decode_at(bytes, tail - META)?;
        let loc = EntryLocation::derive(bytes, tail - META, meta.prev_offset)?;
        if !first_entry_ok(bytes, &loc, &meta) {
            return None;
        }
        n += 1;
        tail = meta.prev_offset;
    }
    Some(n)
}

/// The entries of the chain ending at the end of `bytes` that lie past
/// `from` (appended since a chain ended there), oldest first: key hash,
/// metadata offset and location, each link well formed as in [`chain_len`].
/// `None` if the chain from the end does not lead exactly to `from`. Time is
/// linear in those entries, not in the file.
pub(crate) fn appended(bytes: &[u8], from: u64) -> Option<Vec<(u64, u64, EntryLocation)>> {
    let mut found = Vec::new();
    let mut tail = bytes.len() as u64;
    while tail > from {
        let m = tail.checked_sub(META)?;
        let meta = Metadata::decode_at(bytes, m)?;
        if meta.prev_offset < from {
            return None;
        }
        let loc = EntryLocation::derive(bytes, m, meta.prev_offset)?;
        if !first_entry_ok(bytes, &loc, &meta) {
            return None;
        }
        found.push((meta.key_hash, m, loc));
        tail = meta.prev_offset;
    }
    if tail != from {
        return None;
    }
    found.reverse();
    Some(found)
}

/// CRC32 of any range of `bytes` from checksums of prefixes taken every
/// `step` bytes (one pass to build, on the slow path only).
pub(crate) struct Prefix {
    step: usize,
    /// `at[i]` = crc32 of `bytes[..i * step]`.
    at: Vec<u32>,
}

impl Prefix {
    pub(crate) fn new(bytes: &[u8]) -> Prefix {
        // 256-byte steps, widened so the table stays under ~16M entries (64 MiB).
        let step = (bytes.len() >> 24).next_power_of_two().max(256);
        let mut at = Vec::with_capacity(bytes.len() / step + 1);
        let mut h = crc32fast::Hasher::new();
        for chunk in bytes.chunks(step) {
            at.push(h.clone().finalize());
            h.update(chunk);
        }
        at.push(h.finalize());
        Prefix { step, at }
    }

    /// crc32 of `bytes[..x]`; reads at most `step` bytes.
    fn crc_to(&self, bytes: &[u8], x: usize) -> u32 {
        let i = x / self.step;
        let mut h = crc32fast::Hasher::new_with_initial(self.at[i]);
        h.update(&bytes[i * self.step..x]);
        h.finalize()
    }

    /// crc32 of `bytes[a..b]`.
    pub(crate) fn crc_range(&self, bytes: &[u8], a: usize, b: usize) -> u32 {
        self.crc_to(bytes, b) ^ shift(self.crc_to(bytes, a), (b - a) as u64)
    }
}

/// The contribution of a checksum `crc` of a block followed by `len` more
/// bytes (zlib's `crc32_combine` with an empty second checksum).
fn shift(crc: u32, len: u64) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial_len(crc, 0);
    h.combine(&crc32fast::Hasher::new_with_initial_len(0, len));
    h.finalize()
}

/// Candidates with one start closer than this to the previous one form a run.
const DENSE: u64 = 256;

struct Scanned {
    lo: u64,
    hi: u64,
    found: HashSet<u64>,
}

/// First window of positions examined per payload start; it doubles when a
/// lower candidate shows up, so work stays near the size of the junk tail.
const SCAN_WINDOW: u64 = 4 * 1024;

struct Recovery<'a> {
    bytes: &'a [u8],
    /// Chain verdict for each link target already walked.
    chains: HashMap<u64, bool>,
    /// Payload start -> the span `[lo, hi]` of metadata offsets already
    /// examined for it, and those whose checksum matched.
    scanned: HashMap<u64, Scanned>,
    /// Per payload start: the last candidate asked about, and crc32 of the
    /// bytes before the start.
    asks: HashMap<u64, (u64, u32)>,
    /// Built on the first long candidate.
    prefix: Option<Prefix>,
    /// Payload bytes fed to CRC so far (the work bound the tests check).
    crc_bytes: u64,
}

impl<'a> Recovery<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            chains: HashMap::new(),
            scanned: HashMap::new(),
            asks: HashMap::new(),
            prefix: None,
            crc_bytes: 0,
        }
    }

    /// Examines candidate ends from `from` down to 21 and returns the first
    /// (longest) accepted one, or 0.
    fn scan(&mut self, from: u64) -> u64 {
        let mut end = from;
        while end > META {
            let m = end - META;
            if let Some(meta) = Metadata::decode_at(self.bytes, m) {
                if let Some(loc) = EntryLocation::derive(self.bytes, m, meta.prev_offset) {
                    if self.chain_valid(meta.prev_offset) && self.checksum_ok(&loc, meta.checksum) {
                        return end;
                    }
                }
            }
            end -= 1;
        }
        0
    }

    /// True when the chain of links from `tail` reaches 0. Iterative and memoized.
    fn chain_valid(&mut self, tail: u64) -> bool {
        let mut path = Vec::new();
        let mut cur = tail;
        let verdict = loop {
            if cur == 0 {
                break true;
            }
            if let Some(&v) = self.chains.get(&cur) {
                break v;
            }
            path.push(cur);
            if cur < META + 1 {
                break false;
            }
            let meta = Metadata::decode_at(self.bytes, cur - META).expect("cur <= len");
            match EntryLocation::derive(self.bytes, cur - META, meta.prev_offset) {
                // The first entry's checksum, as in `first_entry_ok` (by prefix math here).
                Some(loc) if meta.prev_offset == 0 && !self.checksum_ok(&loc, meta.checksum) => break false,
                Some(_) => cur = meta.prev_offset,
                None => break false,
            }
        };
        for p in path {
            self.chains.insert(p, verdict);
        }
        verdict
    }

    fn checksum_ok(&mut self, loc: &EntryLocation, expected: u32) -> bool {
        let (start, m) = (loc.start, loc.end);
        if m - start <= DIRECT_CRC_LIMIT {
            self.crc_bytes += m - start;
            return checksum(&self.bytes[loc.range()]) == expected;
        }
        if self.prefix.is_none() {
            self.prefix = Some(Prefix::new(self.bytes));
            self.crc_bytes += self.bytes.len() as u64;
        }
        if let Some(sc) = self.scanned.get(&start) {
            if sc.lo <= m && m <= sc.hi {
                return sc.found.contains(&m);
            }
        }
        // Candidates arrive in descending order. One far from the last asked
        // about with the same start is checked alone by prefix math; a run of
        // close ones (a zero-filled tail) is checked by scanning a window
        // below it, which doubles while the run goes on.
        let prefix = self.prefix.as_ref().expect("built above");
        let (last, crc_start) = match self.asks.get(&start) {
            Some(&(last, crc)) => (Some(last), crc),
            None => {
                self.crc_bytes += prefix.step as u64;
                (None, prefix.crc_to(self.bytes, start as usize))
            }
        };
        self.asks.insert(start, (m, crc_start));
        let dense = last.is_some_and(|l| l > m && l - m <= DENSE);
        let window = match self.scanned.get(&start) {
            Some(sc) if dense && sc.lo > m && sc.lo - m <= DENSE => {
                Some(((sc.lo - 1).saturating_sub((sc.hi - sc.lo).max(SCAN_WINDOW)).max(start + 1), sc.lo - 1))
            }
            None if dense => Some((m.saturating_sub(SCAN_WINDOW).max(start + 1), m)),
            _ => None,
        };
        let Some((lo, hi)) = window else {
            self.crc_bytes += prefix.step as u64;
            return prefix.crc_to(self.bytes, m as usize) ^ shift(crc_start, m - start) == expected;
        };
        let found = self.scan_start(start, lo, hi);
        let sc = self.scanned.entry(start).or_insert_with(|| Scanned { lo, hi, found: HashSet::new() });
        sc.lo = sc.lo.min(lo);
        sc.hi = sc.hi.max(hi);
        sc.found.extend(found);
        sc.found.contains(&m)
    }

    /// Metadata offsets `m` in `[lo, hi]` whose entry would start at `start`
    /// and whose checksum matches `crc(bytes[start..m])`. One bulk CRC pass up
    /// to `lo`, then position by position with a cheap pre-check.
    fn scan_start(&mut self, start: u64, lo: u64, hi: u64) -> HashSet<u64> {
        let mut found = HashSet::new();
        let bytes = self.bytes;
        let prefix = self.prefix.as_ref().expect("built before any scan");
        let mut hasher = crc32fast::Hasher::new_with_initial(prefix.crc_range(bytes, start as usize, lo as usize));
        self.crc_bytes += 2 * prefix.step as u64;
        let mut fed = lo as usize;
        let end = (hi as usize).min(bytes.len().saturating_sub(METADATA_SIZE));
        for m in lo as usize..=end {
            // A regular entry starting at `start` has its previous tail in
            // (start - 64, start] (tombstones are never long candidates).
            let prev = format::prev_at(bytes, m).expect("m + 20 <= len");
            if prev > start || prev + 64 <= start {
                continue;
            }
            let meta = Metadata::decode_at(bytes, m as u64).expect("m + 20 <= len");
            let same_start = EntryLocation::derive(bytes, m as u64, meta.prev_offset)
                .is_some_and(|l| l.start == start && !l.tombstone);
            if same_start {
                hasher.update(&bytes[fed..m]);
                self.crc_bytes += (m - fed) as u64;
                fed = m;
                if hasher.clone().finalize() == meta.checksum {
                    found.insert(m as u64);
                }
            }
        }
        found
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn range_checksums_from_prefixes_match_direct_ones() {
        let bytes: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let p = Prefix::new(&bytes);
        for (a, b) in [(0, 0), (0, 1), (3, 300), (256, 512), (255, 4999), (1000, 5000), (4999, 5000)] {
            assert_eq!(p.crc_range(&bytes, a, b), checksum(&bytes[a..b]), "range {a}..{b}");
        }
    }
    use crate::format::{encode_entry, encode_tombstone};

    fn sample() -> (Vec<u8>, Vec<u64>) {
        sample_of(50, false)
    }

    /// A store of `n` entries over 7 key hashes with some tombstones, and its
    /// entry boundaries (tails); with `big`, every 13th payload is past the
    /// 4 KiB direct-checksum limit.
    pub(crate) fn sample_of(n: u64, big: bool) -> (Vec<u8>, Vec<u64>) {
        let mut buf = Vec::new();
        let mut tails = Vec::new();
        for i in 0..n {
            let len = if big && i % 13 == 5 { 5000 } else { i * 37 % 300 + 1 };
            let payload: Vec<u8> = (0..len).map(|j| (j as u8) ^ (i as u8) | 1).collect();
            tails.push(encode_entry(&mut buf, 0, i % 7, &payload));
            if i % 9 == 0 {
                tails.push(encode_tombstone(&mut buf, 0, i % 7));
            }
        }
        (buf, tails)
    }

    #[test]
    fn intact_file_is_whole() {
        let (buf, _) = sample();
        assert_eq!(valid_prefix_len(&buf), buf.len() as u64);
    }

    #[test]
    fn every_truncation_keeps_the_longest_whole_prefix() {
        let (buf, tails) = sample();
        for cut in 0..buf.len() {
            let expect = tails.iter().copied().filter(|&t| t <= cut as u64).max().unwrap_or(0);
            assert_eq!(valid_prefix_len(&buf[..cut]), expect, "cut at {cut}");
        }
    }

    #[test]
    fn zero_and_junk_tails_are_cut() {
        let (buf, _) = sample();
        for tail_len in [1usize, 20, 63, 64, 4096, 100_000] {
            let mut z = buf.clone();
            z.resize(buf.len() + tail_len, 0);
            assert_eq!(valid_prefix_len(&z), buf.len() as u64, "zero tail {tail_len}");
            let mut j = buf.clone();
            let mut x: u32 = 12345;
            for _ in 0..tail_len {
                x = x.wrapping_mul(1664525).wrapping_add(1013904223);
                j.push((x >> 24) as u8);
            }
            assert_eq!(valid_prefix_len(&j), buf.len() as u64, "junk tail {tail_len}");
        }
    }

    #[test]
    fn a_payload_that_never_landed_is_rejected() {
        let (buf, tails) = sample();
        // The last entry's payload bytes are zeroed (metadata written, data not).
        let mut z = buf.clone();
        let last_start = tails[tails.len() - 2] + crate::format::pad_len(tails[tails.len() - 2]);
        for b in &mut z[last_start as usize..buf.len() - 20] {
            *b = 0;
        }
        assert_eq!(valid_prefix_len(&z), tails[tails.len() - 2]);
    }

    #[test]
    fn not_a_store_has_no_prefix() {
        assert_eq!(valid_prefix_len(b"hello world, this is not a store at all"), 0);
        assert_eq!(valid_prefix_len(&[0u8; 10_000]), 0);
    }

    #[test]
    fn recovery_work_is_linear_in_file_size() {
        let (buf, _) = sample();
        for extra in [1usize << 16, 1 << 20, 4 << 20] {
            let mut z = buf.clone();
            z.resize(buf.len() + extra, 0);
            let (len, work) = recover(&z);
            assert_eq!(len, buf.len() as u64);
            // Rescanning per candidate would checksum ~extra^2/2 bytes.
            assert!(work <= 3 * z.len() as u64, "work {work} for {} bytes", z.len());
        }
    }
}
