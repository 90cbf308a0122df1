//! Open-time recovery: find the longest prefix of a file that is a store.
//!
//! A prefix ending at `E` is accepted when the metadata at `E - 20` links back
//! through intact `prev` pointers to offset 0 (the chain) AND the payload of
//! that last entry matches its checksum. Earlier entries are not checksummed
//! here (see `Store::verify`).
//!
//! Linear in the file size on any input:
//! - chain verdicts are memoized per link target, so each offset is walked once;
//! - candidates whose payloads share a start offset (a zero-filled tail makes
//!   every byte such a candidate, all starting at 0) are checksummed by one
//!   ascending pass from that start, not once per candidate.

use crate::format::{checksum, EntryLocation, Metadata, METADATA_SIZE};
use hashbrown::{HashMap, HashSet};

const META: u64 = METADATA_SIZE as u64;
/// Payloads shorter than this are checksummed directly.
const DIRECT_CRC_LIMIT: u64 = 4096;

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
            if checksum(&bytes[loc.range()]) == meta.checksum && chain_reaches_zero(bytes, meta.prev_offset) {
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
    let Some(meta) = Metadata::decode_at(bytes, n - META) else { return false };
    let Some(loc) = EntryLocation::derive(bytes, n - META, meta.prev_offset) else { return false };
    checksum(&bytes[loc.range()]) == meta.checksum
}

/// Walks `prev` links from `tail` to 0 without memo (used once, on the fast path).
fn chain_reaches_zero(bytes: &[u8], mut tail: u64) -> bool {
    while tail != 0 {
        if tail < META + 1 {
            return false;
        }
        let Some(meta) = Metadata::decode_at(bytes, tail - META) else { return false };
        if EntryLocation::derive(bytes, tail - META, meta.prev_offset).is_none() {
            return false;
        }
        tail = meta.prev_offset;
    }
    true
}

struct Recovery<'a> {
    bytes: &'a [u8],
    /// Chain verdict for each link target already walked.
    chains: HashMap<u64, bool>,
    /// Payload start -> metadata offsets whose checksum matched, for starts
    /// already scanned (only offsets below `scanned_to` were examined).
    scanned: HashMap<u64, (u64, HashSet<u64>)>,
    /// Payload bytes fed to CRC so far (the work bound the tests check).
    crc_bytes: u64,
}

impl<'a> Recovery<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, chains: HashMap::new(), scanned: HashMap::new(), crc_bytes: 0 }
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
        if loc.end - loc.start <= DIRECT_CRC_LIMIT {
            self.crc_bytes += loc.end - loc.start;
            return checksum(&self.bytes[loc.range()]) == expected;
        }
        if let Some((scanned_to, matches)) = self.scanned.get(&loc.start) {
            if loc.end <= *scanned_to {
                return matches.contains(&loc.end);
            }
        }
        let matches = self.scan_start(loc.start, loc.end);
        self.crc_bytes += loc.end - loc.start;
        let ok = matches.contains(&loc.end);
        self.scanned.insert(loc.start, (loc.end, matches));
        ok
    }

    /// One ascending CRC pass over `[start, upto]`: every metadata offset `m`
    /// in that span whose entry would start at `start` and whose checksum
    /// matches `crc(bytes[start..m])`.
    fn scan_start(&self, start: u64, upto: u64) -> HashSet<u64> {
        let mut found = HashSet::new();
        let mut hasher = crc32fast::Hasher::new();
        let mut fed = start;
        let mut m = start + 1;
        while m <= upto {
            let Some(meta) = Metadata::decode_at(self.bytes, m) else { break };
            let same_start = EntryLocation::derive(self.bytes, m, meta.prev_offset)
                .is_some_and(|l| l.start == start && !l.tombstone);
            if same_start {
                hasher.update(&self.bytes[fed as usize..m as usize]);
                fed = m;
                if hasher.clone().finalize() == meta.checksum {
                    found.insert(m);
                }
            }
            m += 1;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{encode_entry, encode_tombstone};

    fn sample() -> (Vec<u8>, Vec<u64>) {
        let mut buf = Vec::new();
        let mut tails = Vec::new();
        for i in 0..50u64 {
            let payload: Vec<u8> = (0..(i * 37 % 300 + 1)).map(|j| (j as u8) ^ (i as u8) | 1).collect();
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
