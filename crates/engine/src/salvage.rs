//! What lies past the valid prefix of a file, and how `repair` keeps it.
//!
//! Recovery ([`crate::recovery`]) finds the longest prefix whose chain is
//! intact. The bytes after it are one of two things, and open treats them
//! differently:
//! - a torn tail: what a process crash leaves. An append is written front
//!   to back, so a torn one is a prefix of its entries and holds no complete
//!   entry (one would have extended the valid prefix). Cut silently.
//! - damage in the middle: a bad disk, a bad copy, another program. Entries
//!   after the damage are whole; their chain is broken only where it crosses
//!   the damage. Open refuses the file (`Error::CorruptStore`) and leaves it
//!   byte-identical; `repair` rebuilds it from every entry it can prove.
//!
//! An entry past the prefix is *proven* when it is well formed (a span
//! after everything already kept, a pre-pad of zeros: `EntryLocation::derive`)
//! and its payload matches its checksum. A random run of bytes passes that
//! with odds of about 2^-32 per candidate whose link falls in range at all,
//! so one proven entry is the evidence that tells damage from a torn tail.
//!
//! Linear in the bytes scanned: a candidate costs one 8-byte compare unless
//! its link lands in range; then a short payload is checksummed directly and
//! a long one by prefix checksums (`recovery::Prefix`, O(256) bytes each).

use crate::error::{Call, IoContext, Result};
use crate::format::{self, EntryLocation, Metadata, METADATA_SIZE};
use crate::recovery::{Prefix, DIRECT_CRC_LIMIT};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const META: u64 = METADATA_SIZE as u64;

/// An entry past the valid prefix that proved itself whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proven {
    /// Offset of its metadata in the damaged file.
    pub meta: u64,
    /// Where its pre-pad begins (the tail it was appended at).
    pub prev: u64,
    pub loc: EntryLocation,
    pub key_hash: u64,
}

/// An entry inside a lost range whose metadata still reads (best effort:
/// found by following links back from the next proven entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostEntry {
    pub key_hash: u64,
    /// Offset of its metadata in the damaged file.
    pub meta: u64,
}

/// What follows the valid prefix `from`.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// End of the valid prefix.
    pub from: u64,
    /// Proven entries, in file order, none overlapping another.
    pub proven: Vec<Proven>,
    /// Byte ranges `[a, b)` past `from` that no proven entry covers.
    pub lost_ranges: Vec<(u64, u64)>,
    /// Entries in those ranges whose metadata is readable.
    pub lost_entries: Vec<LostEntry>,
}

impl Scan {
    /// True when nothing past the prefix is proven: a torn tail.
    pub fn is_torn_tail(&self) -> bool {
        self.proven.is_empty()
    }

    /// Bytes of the proven entries (pre-pads, payloads, metadata).
    pub fn proven_bytes(&self) -> u64 {
        self.proven.iter().map(|p| p.meta + META - p.prev).sum()
    }
}

/// Scans `bytes[from..]` for proven entries (see the module doc).
///
/// First the file's intact end: the entries linked back from its last
/// byte, each proven, down to where a link breaks. That costs time linear
/// in those entries, so the byte-by-byte search (the greedy loop below)
/// covers only the gap between the prefix and them, near the damage, not
/// the whole file.
pub fn scan(bytes: &[u8], from: u64) -> Scan {
    let n = bytes.len() as u64;
    let mut prefix: Option<Prefix> = None;
    let suffix = proven_suffix(bytes, from, &mut prefix);
    let gap_end = suffix.first().map_or(n, |p| p.prev);
    let mut proven = Vec::new();
    let mut lost_ranges = Vec::new();
    let mut cursor = from;
    let mut m = from + 1;
    while m + META <= gap_end {
        let prev = format::prev_at(bytes, m as usize).expect("m + 20 <= len");
        if prev >= cursor && prev < m {
            if let Some(p) = prove(bytes, m, &mut prefix) {
                if p.prev > cursor {
                    lost_ranges.push((cursor, p.prev));
                }
                proven.push(p);
                cursor = m + META;
                m = cursor + 1;
                continue;
            }
        }
        m += 1;
    }
    if let Some(first) = suffix.first() {
        if first.prev > cursor {
            lost_ranges.push((cursor, first.prev));
        }
        cursor = n;
        proven.extend(suffix);
    }
    if cursor < n {
        lost_ranges.push((cursor, n));
    }
    let lost_entries = lost_entries(bytes, &lost_ranges);
    Scan { from, proven, lost_ranges, lost_entries }
}

/// The proven entries that end the file, in file order: from its last byte,
/// link by link, while each entry proves itself and starts at or after `from`.
fn proven_suffix(bytes: &[u8], from: u64, prefix: &mut Option<Prefix>) -> Vec<Proven> {
    let mut out = Vec::new();
    let mut tail = bytes.len() as u64;
    while tail > from + META {
        match prove(bytes, tail - META, prefix) {
            Some(p) if p.prev >= from => {
                tail = p.prev;
                out.push(p);
            }
            _ => break,
        }
    }
    out.reverse();
    out
}

/// The entry whose metadata is at `m`, if it is well formed and matches its checksum.
fn prove(bytes: &[u8], m: u64, prefix: &mut Option<Prefix>) -> Option<Proven> {
    let meta = Metadata::decode_at(bytes, m)?;
    let loc = EntryLocation::derive(bytes, m, meta.prev_offset)?;
    let crc = if loc.end - loc.start <= DIRECT_CRC_LIMIT {
        format::checksum(&bytes[loc.range()])
    } else {
        prefix.get_or_insert_with(|| Prefix::new(bytes)).crc_range(bytes, loc.start as usize, loc.end as usize)
    };
    (crc == meta.checksum).then_some(Proven { meta: m, prev: meta.prev_offset, loc, key_hash: meta.key_hash })
}

/// Entries of each lost range, found by walking links back from where the
/// range ends (the next proven entry's link, or the file's end) while they
/// stay well formed and inside the range.
fn lost_entries(bytes: &[u8], ranges: &[(u64, u64)]) -> Vec<LostEntry> {
    let mut out = Vec::new();
    for &(a, b) in ranges {
        let mut found = Vec::new();
        let mut tail = b;
        // Each step moves `tail` down by at least 21 bytes: bounded by the range.
        while tail > a + META {
            let Some(meta) = Metadata::decode_at(bytes, tail - META) else {
                break;
            };
            if meta.prev_offset < a || EntryLocation::derive(bytes, tail - META, meta.prev_offset).is_none() {
                break;
            }
            found.push(LostEntry { key_hash: meta.key_hash, meta: tail - META });
            tail = meta.prev_offset;
        }
        found.reverse();
        out.extend(found);
    }
    out
}

/// Every entry of the chain of `bytes` (an accepted store) whose payload
/// does not match its checksum, `(key hash, metadata offset)` in file
/// order; checked in parallel. Superseded entries count: a link rewritten
/// to exactly another entry's end makes a valid chain whose phantom entry
/// spans the entries it skips, and only its checksum shows it, live or not.
pub fn bad_entries(bytes: &[u8]) -> Vec<(u64, u64)> {
    // The chain, oldest first: each entry's metadata, decoded once.
    let mut chain = Vec::new();
    let mut tail = bytes.len() as u64;
    while tail > META {
        let Some(meta) = Metadata::decode_at(bytes, tail - META) else {
            break;
        };
        chain.push((meta, tail - META));
        tail = meta.prev_offset.min(tail - META - 1);
    }
    chain.reverse();
    let check = |part: &[(Metadata, u64)]| -> Vec<(u64, u64)> {
        part.iter()
            .filter(|(meta, m)| {
                EntryLocation::of_indexed(bytes, *m, meta.prev_offset)
                    .is_none_or(|loc| format::checksum(&bytes[loc.range()]) != meta.checksum)
            })
            .map(|(meta, m)| (meta.key_hash, *m))
            .collect()
    };
    // Threads only pay off for many entries (spawning costs ~0.1 ms).
    let threads = match chain.len() {
        0..4096 => 1,
        _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8),
    };
    if threads == 1 {
        return check(&chain);
    }
    let chunk = chain.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = chain.chunks(chunk).map(|part| s.spawn(move || check(part))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// The end of the longest prefix of `bytes[..valid]` (an accepted store)
/// whose every entry matches its checksum: what `repair` keeps as it is.
pub fn checked_prefix(bytes: &[u8], valid: u64) -> u64 {
    match bad_entries(&bytes[..valid as usize]).first() {
        Some(&(_, m)) => Metadata::decode_at(bytes, m).map_or(0, |meta| meta.prev_offset),
        None => valid,
    }
}

/// What `repair` did to a damaged file.
#[derive(Debug, Clone)]
pub struct RepairReport {
    /// The damaged file as it was, kept beside the store.
    pub backup: PathBuf,
    /// Bytes kept as they were (the valid prefix).
    pub kept_prefix: u64,
    /// Entries kept from past the damage.
    pub salvaged_entries: usize,
    /// Byte ranges of the damaged file that were dropped.
    pub lost_ranges: Vec<(u64, u64)>,
    /// Entries in those ranges whose metadata was readable (key hash, offset).
    pub lost_entries: Vec<LostEntry>,
    /// Length of the repaired file.
    pub new_len: u64,
}

/// Rebuilds the store at `path` (whose bytes are `bytes`) from its valid
/// prefix and the proven entries of `scan`, in their order (later versions
/// and tombstones keep winning), re-linked at their new offsets. Order of
/// steps, so that a crash at any point loses nothing: the rebuilt file is
/// written and fsynced under a temporary name; the damaged file is kept as
/// a backup (a hard link, or a fsynced copy where links are not possible)
/// and the directory fsynced; only then is the rebuilt file renamed over
/// the store.
pub(crate) fn rebuild(path: &Path, bytes: &[u8], scan: &Scan) -> Result<RepairReport> {
    let tmp = sibling(path, ".repair");
    let written = write_rebuilt(&tmp, bytes, scan);
    let new_len = match written {
        Ok(len) => len,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let backup = keep_backup(path)?;
    crate::platform::sync_dir(path);
    std::fs::rename(&tmp, path).at(Call::Rename, path)?;
    crate::platform::sync_dir(path);
    Ok(RepairReport {
        backup,
        kept_prefix: scan.from,
        salvaged_entries: scan.proven.len(),
        lost_ranges: scan.lost_ranges.clone(),
        lost_entries: scan.lost_entries.clone(),
        new_len,
    })
}

fn write_rebuilt(tmp: &Path, bytes: &[u8], scan: &Scan) -> Result<u64> {
    let mut out = OpenOptions::new().write(true).create(true).truncate(true).open(tmp).at(Call::Open, tmp)?;
    out.write_all(&bytes[..scan.from as usize]).at(Call::Write, tmp)?;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut base = scan.from;
    for p in &scan.proven {
        if p.loc.tombstone {
            format::encode_tombstone(&mut buf, base, p.key_hash);
        } else {
            format::encode_entry(&mut buf, base, p.key_hash, &bytes[p.loc.range()]);
        }
        if buf.len() >= 8 << 20 {
            out.write_all(&buf).at(Call::Write, tmp)?;
            base += buf.len() as u64;
            buf.clear();
        }
    }
    out.write_all(&buf).at(Call::Write, tmp)?;
    base += buf.len() as u64;
    out.sync_all().at(Call::Fsync, tmp)?;
    Ok(base)
}

/// Keeps the file at `path` as `<path>.corrupt-<ms since 1970>` and returns that path.
fn keep_backup(path: &Path) -> Result<PathBuf> {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let backup = sibling(path, &format!(".corrupt-{ms}"));
    if std::fs::hard_link(path, &backup).is_err() {
        std::fs::copy(path, &backup).at(Call::Copy, &backup)?;
        File::open(&backup).and_then(|f| f.sync_all()).at(Call::Fsync, &backup)?;
    }
    Ok(backup)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::valid_prefix_len;

    /// The recovery tests' store, with payloads past the direct-checksum limit; tails from 0.
    fn sample() -> (Vec<u8>, Vec<u64>) {
        let (buf, tails) = crate::recovery::tests::sample_of(60, true);
        (buf, std::iter::once(0).chain(tails).collect())
    }

    #[test]
    fn an_intact_or_torn_tail_proves_nothing() {
        let (buf, tails) = sample();
        for cut in [buf.len() - 1, buf.len() - 20, buf.len() - 40] {
            let p = valid_prefix_len(&buf[..cut]);
            assert!(tails.contains(&p));
            assert!(scan(&buf[..cut], p).is_torn_tail(), "cut at {cut}");
        }
        let mut z = buf.clone();
        z.resize(buf.len() + 70_000, 0);
        assert!(scan(&z, buf.len() as u64).is_torn_tail());
    }

    #[test]
    fn zeroed_middle_is_damage_and_every_entry_after_it_is_proven() {
        let (buf, tails) = sample();
        let (a, b) = (tails[20] as usize + 5, tails[24] as usize + 3);
        let mut z = buf.clone();
        z[a..b].fill(0);
        let p = valid_prefix_len(&z);
        assert_eq!(p, tails[20], "the prefix ends before the damage, not at a phantom");
        let s = scan(&z, p);
        assert!(!s.is_torn_tail());
        // Every entry that starts after the damage is proven.
        let after: Vec<u64> = tails.iter().copied().filter(|&t| t > b as u64 + 20).collect();
        let proven_tails: Vec<u64> = s.proven.iter().map(|p| p.meta + META).collect();
        for t in &after {
            let prev = tails[tails.iter().position(|x| x == t).unwrap() - 1];
            if prev >= b as u64 {
                assert!(proven_tails.contains(t), "entry ending at {t} proven");
            }
        }
        assert_eq!(s.lost_ranges.first().map(|r| r.0), Some(tails[20]));
    }
}
