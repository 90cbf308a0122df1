//! A deterministic, bounded mutation fuzzer for the open/recover/iterate path.
//!
//! It starts from real store files written by the engine (mixed payload sizes,
//! overwrites, deletes, batches, payloads made mostly of zero bytes, payloads
//! past the 4 KiB direct-checksum limit of recovery) and applies thousands of
//! seeded mutations: bit flips, truncations, junk runs, zero runs, zero and
//! junk tails, duplicated and spliced chunks, and targeted overwrites of
//! metadata fields. On every mutant it checks, without any extra dependency:
//!
//! - `recovery::valid_prefix_len` equals a naive reference written from the
//!   contract (design.md section 2: the longest prefix ending in an entry whose
//!   `prev` chain reaches 0 through well-formed links and whose own checksum
//!   matches), and never panics;
//! - the accepted prefix keeps every original entry that ends before the first
//!   damaged byte (truncations keep exactly the longest whole prefix), and when
//!   the prefix is untouched by the damage, the live set is exactly the
//!   original store's live set at that boundary, byte for byte;
//! - for a sample of mutants, `Store::open` (also with `repair`) never panics;
//!   past the valid prefix it cuts a torn tail (no entry past it proves
//!   itself whole by a reference scan) and refuses whole entries past it
//!   with `ERR_CORRUPT_STORE` (a file with neither a prefix nor such entries
//!   with `ERR_NOT_A_STORE`), leaving a refused file untouched; with
//!   `repair` it opens the prefix plus every proven entry, re-linked, byte
//!   for byte as a reference rebuild, and keeps the damaged file as a backup; `iter()` and reads agree with a reference index built
//!   from the bytes; `verify()` reports exactly the live entries whose
//!   checksum fails; a new entry can be written and read back, and survives
//!   a reopen together with the whole prefix.
//!
//! Counts scale with `SRD_FUZZ_ITERS` (default 1000 file-level executions);
//! the in-memory recovery checks run 6 times as many. `SRD_FUZZ_SEED` picks
//! another mutation sequence (default fixed). Prints the counts.

use srd_engine::format::{checksum, pad_len, Metadata, METADATA_SIZE};
use srd_engine::recovery::valid_prefix_len;
use srd_engine::{compute_hash, Error, OpenOptions, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

const META: u64 = METADATA_SIZE as u64;

// ---- a tiny seeded PRNG (xorshift64*) ---------------------------------------

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---- reference recovery and index (naive, from the contract) -----------------

fn meta_at(bytes: &[u8], m: u64) -> Option<Metadata> {
    Metadata::decode_at(bytes, m)
}

/// Where the payload of the entry whose metadata is at `m` lies, written out
/// from the contract (not through `EntryLocation::derive`): `None` if the link
/// is impossible. Returns (start, tombstone).
fn ref_locate(bytes: &[u8], m: u64, prev: u64) -> Option<(u64, bool)> {
    if prev >= m || m + META > bytes.len() as u64 {
        return None;
    }
    if m - prev == 1 && bytes[prev as usize] == 0 {
        return Some((prev, true));
    }
    let start = prev.checked_add((64 - prev % 64) % 64)?;
    if start >= m {
        return None;
    }
    // Writers pad with zeros: a pre-pad with another byte is no entry.
    if bytes[prev as usize..start as usize].iter().any(|&b| b != 0) {
        return None;
    }
    Some((start, false))
}

/// True when the links from `tail` reach 0 (no memo: the reference).
fn ref_chain(bytes: &[u8], mut tail: u64) -> bool {
    let mut steps = 0u64;
    while tail != 0 {
        if tail < META + 1 {
            return false;
        }
        let meta = meta_at(bytes, tail - META).unwrap();
        let Some((start, _)) = ref_locate(bytes, tail - META, meta.prev_offset) else {
            return false;
        };
        // The link to 0 is the file's first entry only if its checksum matches.
        if meta.prev_offset == 0 && checksum(&bytes[start as usize..(tail - META) as usize]) != meta.checksum {
            return false;
        }
        assert!(meta.prev_offset < tail, "links go strictly backwards");
        tail = meta.prev_offset;
        steps += 1;
        assert!(steps <= bytes.len() as u64);
    }
    true
}

/// The longest valid prefix, by the contract. Candidate ends whose chain
/// reaches 0 are collected first, then checksummed by one ascending pass per
/// payload start (so a zero-filled tail, whose candidates all start at 0,
/// stays affordable); the answer is the largest end whose checksum matches.
fn ref_valid_prefix(bytes: &[u8]) -> u64 {
    let n = bytes.len() as u64;
    let mut by_start: BTreeMap<u64, Vec<(u64, u32)>> = BTreeMap::new();
    let mut end = n;
    let mut chain_memo: HashMap<u64, bool> = HashMap::new();
    while end > META {
        let m = end - META;
        let meta = meta_at(bytes, m).unwrap();
        if let Some((start, _)) = ref_locate(bytes, m, meta.prev_offset) {
            let ok = *chain_memo.entry(meta.prev_offset).or_insert_with(|| ref_chain(bytes, meta.prev_offset));
            if ok {
                by_start.entry(start).or_default().push((m, meta.checksum));
            }
        }
        end -= 1;
    }
    let mut best = 0u64;
    for (start, mut ends) in by_start {
        ends.sort_unstable();
        let mut h = crc32fast::Hasher::new();
        let mut fed = start;
        for (m, crc) in ends {
            h.update(&bytes[fed as usize..m as usize]);
            fed = m;
            if h.clone().finalize() == crc {
                best = best.max(m + META);
            }
        }
    }
    best
}

/// The entries past the valid prefix `from` that prove themselves (naive,
/// from the contract): scanning up from `from`, an entry whose metadata is
/// at `m` is proven when its link lands at or after the end of the last one
/// kept (`cursor`) and before `m`, it is well formed, and its payload
/// matches its checksum; the scan then goes on after it. Returns
/// `(prev, start, meta, key_hash, tombstone)` per entry.
fn ref_proven(bytes: &[u8], from: u64) -> Vec<(u64, u64, u64, u64, bool)> {
    let n = bytes.len() as u64;
    let mut out = Vec::new();
    let (mut cursor, mut m) = (from, from + 1);
    while m + META <= n {
        let meta = meta_at(bytes, m).unwrap();
        if meta.prev_offset >= cursor && meta.prev_offset < m {
            if let Some((start, tomb)) = ref_locate(bytes, m, meta.prev_offset) {
                if checksum(&bytes[start as usize..m as usize]) == meta.checksum {
                    out.push((meta.prev_offset, start, m, meta.key_hash, tomb));
                    cursor = m + META;
                    m = cursor + 1;
                    continue;
                }
            }
        }
        m += 1;
    }
    out
}

/// Entries of the chain of an accepted store whose checksum fails, `(key hash, metadata offset)`, oldest first.
fn ref_bad(bytes: &[u8]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut tail = bytes.len() as u64;
    while tail > 0 {
        let m = tail - META;
        let meta = meta_at(bytes, m).expect("accepted store");
        let (start, _) = ref_locate(bytes, m, meta.prev_offset).expect("accepted store");
        if checksum(&bytes[start as usize..m as usize]) != meta.checksum {
            out.push((meta.key_hash, m));
        }
        tail = meta.prev_offset;
    }
    out.reverse();
    out
}

/// What `repair` must write: the prefix, then each proven entry re-linked.
fn ref_rebuilt(bytes: &[u8], from: u64, proven: &[(u64, u64, u64, u64, bool)]) -> Vec<u8> {
    let mut out = bytes[..from as usize].to_vec();
    for &(_, start, m, h, tomb) in proven {
        let prev = out.len() as u64;
        let payload = &bytes[start as usize..m as usize];
        if !tomb {
            out.resize(out.len() + pad_len(prev) as usize, 0);
        }
        out.extend_from_slice(payload);
        out.extend_from_slice(&Metadata { key_hash: h, prev_offset: prev, checksum: checksum(payload) }.encode());
    }
    out
}

/// A live entry of the reference index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RefEntry {
    meta_offset: u64,
    start: u64,
    crc_ok: bool,
}

/// Live entries of a valid prefix: newest version per key hash, tombstones
/// remove the key. Walks the chain from the end.
fn ref_live(prefix: &[u8]) -> HashMap<u64, RefEntry> {
    let mut live = HashMap::new();
    let mut seen = HashSet::new();
    let mut tail = prefix.len() as u64;
    while tail > 0 {
        let m = tail - META;
        let meta = meta_at(prefix, m).expect("valid prefix");
        let (start, tomb) = ref_locate(prefix, m, meta.prev_offset).expect("valid prefix");
        if seen.insert(meta.key_hash) && !tomb {
            let crc_ok = checksum(&prefix[start as usize..m as usize]) == meta.checksum;
            live.insert(meta.key_hash, RefEntry { meta_offset: m, start, crc_ok });
        }
        tail = meta.prev_offset;
    }
    live
}

/// Entry boundaries (tails) of an intact store, ascending, with 0.
fn boundaries(bytes: &[u8]) -> Vec<u64> {
    let mut out = vec![0];
    let mut tail = bytes.len() as u64;
    while tail > 0 {
        out.push(tail);
        tail = meta_at(bytes, tail - META).unwrap().prev_offset;
    }
    out.sort_unstable();
    out
}

// ---- base stores ------------------------------------------------------------

struct Base {
    bytes: Vec<u8>,
    /// Every entry boundary, ascending (0 first).
    bounds: Vec<u64>,
}

impl Base {
    /// The largest boundary <= `at`.
    fn bound_below(&self, at: u64) -> u64 {
        match self.bounds.binary_search(&at) {
            Ok(i) => self.bounds[i],
            Err(i) => self.bounds[i - 1],
        }
    }
}

fn payload(rng: &mut Rng, kind: u64, len: usize) -> Vec<u8> {
    let mut p = match kind % 5 {
        0 => rng.bytes(len),
        1 => vec![0u8; len],                            // all zero (allowed unless len == 1)
        2 => (0..len).map(|i| (i % 7) as u8).collect(), // small numbers: plausible links
        3 => vec![0xFF; len],
        _ => {
            let mut v = vec![0u8; len];
            v[len - 1] = 1; // zeros then one byte
            v
        }
    };
    if p == [0u8] {
        p[0] = 0x42;
    }
    p
}

/// Writes a store with the engine itself and returns its bytes.
fn build_base(dir: &Path, name: &str, seed: u64, ops: usize, big: bool) -> Base {
    let path = dir.join(name);
    let mut rng = Rng::new(seed);
    {
        let store = Store::open(&path, OpenOptions { create: true, ..Default::default() }).unwrap();
        let keys: Vec<Vec<u8>> = (0..ops / 3 + 2).map(|i| format!("{name}-key-{i}").into_bytes()).collect();
        for i in 0..ops {
            let key = &keys[rng.below(keys.len() as u64) as usize];
            let len = match rng.below(10) {
                0..=4 => rng.range(1, 40),
                5..=7 => rng.range(41, 700),
                8 => rng.range(700, 3000),
                _ if big => rng.range(4097, 9000), // past recovery's direct-checksum limit
                _ => rng.range(1, 64),
            } as usize;
            match rng.below(12) {
                0 => {
                    store.delete(key).unwrap();
                }
                1 => {
                    let n = rng.range(2, 5) as usize;
                    let batch: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
                        .map(|j| {
                            let k = keys[(i + j * 7) % keys.len()].clone();
                            let l = rng.range(1, 200) as usize;
                            let kind = rng.next();
                            (k, payload(&mut rng, kind, l))
                        })
                        .collect();
                    let refs: Vec<(&[u8], &[u8])> = batch.iter().map(|(k, p)| (&k[..], &p[..])).collect();
                    store.batch_write(&refs).unwrap();
                }
                _ => {
                    let kind = rng.next();
                    let p = payload(&mut rng, kind, len);
                    store.write(key, &p).unwrap();
                }
            }
        }
        if rng.chance(2) {
            // A tombstone as the very last entry.
            store.delete(&keys[0]).unwrap();
            store.write(&keys[0], b"x").unwrap();
            store.delete(&keys[0]).unwrap();
        }
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(valid_prefix_len(&bytes), bytes.len() as u64, "base store {name} is intact");
    let bounds = boundaries(&bytes);
    Base { bytes, bounds }
}

// ---- mutations --------------------------------------------------------------

/// A mutant and the first offset at which it differs from its base (every
/// byte below `first` is the base's).
struct Mutant {
    bytes: Vec<u8>,
    first: u64,
    what: String,
}

fn mutate(rng: &mut Rng, base: &Base, other: &Base) -> Mutant {
    let mut b = base.bytes.clone();
    let mut first = u64::MAX;
    let mut what = Vec::new();
    let rounds = if rng.chance(3) { rng.range(2, 3) } else { 1 };
    for _ in 0..rounds {
        let n = b.len() as u64;
        match rng.below(11) {
            0 => {
                let flips = rng.range(1, 8);
                for _ in 0..flips {
                    if n == 0 {
                        break;
                    }
                    let at = rng.below(n);
                    b[at as usize] ^= 1 << rng.below(8);
                    first = first.min(at);
                }
                what.push(format!("flip x{flips}"));
            }
            1 => {
                let len = rng.below(n + 1);
                b.truncate(len as usize);
                if len < n {
                    first = first.min(len);
                }
                what.push(format!("truncate {len}"));
            }
            2 | 3 => {
                // junk or zero run, possibly past the end
                let at = rng.below(n + 1);
                let len = if rng.chance(4) { rng.range(1, 8192) } else { rng.range(1, 300) };
                let zero = rng.chance(2);
                let end = at + len;
                if end > n {
                    b.resize(end as usize, 0);
                }
                let fill = if zero { vec![0u8; len as usize] } else { rng.bytes(len as usize) };
                b[at as usize..end as usize].copy_from_slice(&fill);
                first = first.min(at);
                what.push(format!("{} run {at}+{len}", if zero { "zero" } else { "junk" }));
            }
            4 => {
                // zero or junk tail (what a power cut or preallocation leaves)
                let len = match rng.below(4) {
                    0 => rng.range(1, 64),
                    1 => rng.range(65, 4096),
                    2 => rng.range(4097, 70_000),
                    _ => 64 - n % 64 + rng.below(3) * 64,
                };
                let zero = !rng.chance(3);
                if zero {
                    b.resize((n + len) as usize, 0);
                } else {
                    let j = rng.bytes(len as usize);
                    b.extend_from_slice(&j);
                }
                first = first.min(n);
                what.push(format!("{} tail +{len}", if zero { "zero" } else { "junk" }));
            }
            5 => {
                // duplicate a chunk: insert a copy of [s, s+l) at p
                if n == 0 {
                    continue;
                }
                let s = rng.below(n);
                let l = rng.range(1, (n - s).min(2048));
                let p = rng.below(n + 1);
                let chunk = b[s as usize..(s + l) as usize].to_vec();
                b.splice(p as usize..p as usize, chunk);
                first = first.min(p);
                what.push(format!("dup {s}+{l}@{p}"));
            }
            6 => {
                // overwrite with a chunk of the same file (e.g. an entry's metadata copied elsewhere)
                if n < 2 {
                    continue;
                }
                let s = rng.below(n);
                let l = rng.range(1, (n - s).min(512));
                let p = rng.below(n - l + 1);
                let chunk = b[s as usize..(s + l) as usize].to_vec();
                if chunk != b[p as usize..(p + l) as usize] {
                    b[p as usize..(p + l) as usize].copy_from_slice(&chunk);
                    first = first.min(p);
                }
                what.push(format!("copy {s}+{l}@{p}"));
            }
            7 => {
                // splice in a chunk of another store (insert or overwrite)
                let on = other.bytes.len() as u64;
                let s = rng.below(on);
                let l = rng.range(1, (on - s).min(4096));
                let chunk = other.bytes[s as usize..(s + l) as usize].to_vec();
                let p = rng.below(n + 1);
                if rng.chance(2) {
                    b.splice(p as usize..p as usize, chunk);
                } else {
                    let end = (p + l).min(n) as usize;
                    b.splice(p as usize..end, chunk);
                }
                first = first.min(p);
                what.push(format!("splice {s}+{l}@{p}"));
            }
            8 | 9 => {
                // targeted: rewrite a field of some entry's metadata
                let bounds: Vec<u64> = base.bounds.iter().copied().filter(|&t| t >= META && t <= n).collect();
                if bounds.is_empty() {
                    continue;
                }
                let t = bounds[rng.below(bounds.len() as u64) as usize];
                let m = t - META;
                let field = rng.below(3);
                let (off, width) = [(0u64, 8usize), (8, 8), (16, 4)][field as usize];
                let pick = base.bounds[rng.below(base.bounds.len() as u64) as usize];
                let old = u64::from_le_bytes(b[(m + 8) as usize..(m + 16) as usize].try_into().unwrap());
                let value: u64 = match rng.below(8) {
                    0 => 0,
                    1 => u64::MAX,
                    2 => pick, // a real boundary elsewhere
                    3 => old.wrapping_add(1),
                    4 => old.wrapping_sub(1),
                    5 => m, // points at itself
                    6 => pick.wrapping_sub(1),
                    _ => rng.next(),
                };
                let enc = value.to_le_bytes();
                let at = (m + off) as usize;
                if b[at..at + width] != enc[..width] {
                    b[at..at + width].copy_from_slice(&enc[..width]);
                    first = first.min(m + off);
                }
                what.push(format!("field {field} of meta@{m} = {value:#x}"));
            }
            _ => {
                // zero the payload of an entry whose metadata stays (data never landed)
                let bounds: Vec<u64> = base.bounds.iter().copied().filter(|&t| t > META && t <= n).collect();
                if bounds.is_empty() {
                    continue;
                }
                let t = bounds[rng.below(bounds.len() as u64) as usize];
                let m = t - META;
                let prev = u64::from_le_bytes(b[(m + 8) as usize..(m + 16) as usize].try_into().unwrap());
                if prev < m {
                    let start = (prev + pad_len(prev)).min(m);
                    if b[start as usize..m as usize].iter().any(|&x| x != 0) {
                        b[start as usize..m as usize].fill(0);
                        first = first.min(start);
                    }
                }
                what.push(format!("zero payload before meta@{m}"));
            }
        }
    }
    // A mutation may recreate the base's bytes exactly (e.g. a no-op copy).
    if b == base.bytes {
        first = u64::MAX;
    } else if first == u64::MAX || first > b.len() as u64 {
        // Only grew: the base is a strict prefix.
        first = first.min(b.len() as u64);
    }
    Mutant { bytes: b, first, what: what.join(", ") }
}

// ---- checks -----------------------------------------------------------------

/// The in-memory properties of recovery on one mutant. Returns the prefix.
fn check_recovery(base: &Base, m: &Mutant, t_engine: &mut std::time::Duration, t_ref: &mut std::time::Duration) -> u64 {
    let t0 = Instant::now();
    let got = valid_prefix_len(&m.bytes);
    let t1 = Instant::now();
    let want = ref_valid_prefix(&m.bytes);
    *t_engine += t1 - t0;
    *t_ref += t1.elapsed();
    assert_eq!(got, want, "valid_prefix_len differs from the reference after [{}]", m.what);
    assert!(got <= m.bytes.len() as u64);
    let first = m.first.min(m.bytes.len() as u64);
    let keep = base.bound_below(first);
    // The candidate at `keep` is the base's, byte for byte: recovery must not go below it.
    assert!(got >= keep, "lost intact entries: prefix {got} < {keep} (first damaged byte {first}) after [{}]", m.what);
    if got <= first {
        assert_eq!(got, keep, "an untouched prefix must end on an original boundary after [{}]", m.what);
    }
    got
}

fn live_of_store(store: &Store) -> BTreeMap<u64, (u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for e in store.iter().unwrap() {
        assert!(!e.is_tombstone());
        let prev = out.insert(e.key_hash(), (e.end_offset(), e.payload().to_vec()));
        assert!(prev.is_none(), "iteration yields each key once");
    }
    out
}

/// Opens a mutant through the engine and checks everything about it.
fn check_open(dir: &Path, idx: usize, base: &Base, m: &Mutant, prefix: u64, repair: bool, rng: &mut Rng) {
    let path = dir.join(format!("mutant-{idx}.bin"));
    std::fs::write(&path, &m.bytes).unwrap();
    let opts = OpenOptions { create: true, repair, ..Default::default() };
    let ctx = || format!("mutant {idx} (repair {repair}) after [{}]", m.what);
    // Past the prefix: a torn tail (nothing proven) is cut; whole entries
    // past it are damage in the middle, refused unless repaired.
    // A repair also drops the first entry of the prefix whose checksum
    // fails, and everything after it that does not prove itself.
    let n = m.bytes.len() as u64;
    let checked = if repair {
        ref_bad(&m.bytes[..prefix as usize])
            .first()
            .map_or(prefix, |&(_, at)| meta_at(&m.bytes, at).unwrap().prev_offset)
    } else {
        prefix
    };
    let proven = if checked < n { ref_proven(&m.bytes, checked) } else { Vec::new() };
    let damaged = !proven.is_empty() || checked < prefix;
    let refused_code = if damaged {
        Some("CorruptStore")
    } else if checked == 0 && n > 0 {
        Some("NotAStore")
    } else {
        None
    };
    let store = match Store::open(&path, opts) {
        Ok(s) => s,
        Err(e) => {
            let code = match e {
                Error::CorruptStore(_) => "CorruptStore",
                Error::NotAStore(_) => "NotAStore",
                _ => "other",
            };
            assert_eq!(Some(code), refused_code, "{}: unexpected error {e}", ctx());
            assert!(!repair, "{}: repair must always open", ctx());
            assert_eq!(std::fs::read(&path).unwrap(), m.bytes, "{}: a refused file is left untouched", ctx());
            std::fs::remove_file(&path).unwrap();
            return;
        }
    };
    assert!(refused_code.is_none() || repair, "{}: opened a file it must refuse ({refused_code:?})", ctx());
    let rebuilt;
    let bytes: &[u8] = if refused_code.is_some() {
        // Repaired: the prefix and every proven entry, the damaged file kept as a backup.
        rebuilt = ref_rebuilt(&m.bytes, checked, &proven);
        let report = store.repair_report().unwrap_or_else(|| panic!("{}: a repair reports", ctx()));
        assert_eq!(report.kept_prefix, checked, "{}", ctx());
        assert_eq!(report.salvaged_entries, proven.len(), "{}", ctx());
        assert_eq!(std::fs::read(&report.backup).unwrap(), m.bytes, "{}: the backup is the damaged file", ctx());
        std::fs::remove_file(&report.backup).unwrap();
        &rebuilt
    } else {
        assert!(store.repair_report().is_none(), "{}", ctx());
        &m.bytes[..prefix as usize]
    };
    let prefix = bytes.len() as u64;
    assert_eq!(store.file_size(), prefix, "{}", ctx());
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "{}: the file is the prefix (or the rebuilt store)", ctx());

    // Iteration and the index against the reference.
    let want = ref_live(bytes);
    let got = live_of_store(&store);
    assert_eq!(store.len(), want.len(), "{}", ctx());
    assert_eq!(got.len(), want.len(), "{}", ctx());
    for (h, r) in &want {
        let (end, payload) = got.get(h).unwrap_or_else(|| panic!("{}: key {h:#x} missing from iteration", ctx()));
        assert_eq!(*end, r.meta_offset, "{}", ctx());
        assert_eq!(payload[..], bytes[r.start as usize..r.meta_offset as usize], "{}", ctx());
        let e = store.read_with_key_hash(*h).unwrap().expect("read of an iterated key");
        assert_eq!(e.end_offset(), r.meta_offset);
        assert_eq!(e.payload(), &payload[..]);
        assert_eq!(e.is_valid_checksum(), r.crc_ok);
    }
    // When the prefix is untouched by the damage it is the base's, entry for entry.
    if refused_code.is_none() && prefix <= m.first {
        let base_live = ref_live(&base.bytes[..prefix as usize]);
        assert_eq!(base_live, want, "{}", ctx());
        assert!(want.values().all(|r| r.crc_ok), "{}: untouched entries are intact", ctx());
    }
    // verify() reports exactly the entries of the chain whose checksum fails.
    assert_eq!(store.verify().unwrap(), ref_bad(bytes), "{}", ctx());
    let _ = store.read_last_entry().unwrap();
    let _ = store.estimate_compaction_savings().unwrap();

    // A new entry lands after the prefix, reads back, and a reopen keeps everything.
    let key = format!("fuzz-new-{idx}");
    let kind = rng.next();
    let len = rng.range(1, 300) as usize;
    let p = payload(rng, kind, len);
    let tail = store.write(key.as_bytes(), &p).unwrap();
    assert_eq!(tail, prefix + pad_len(prefix) + p.len() as u64 + META, "{}", ctx());
    assert_eq!(store.read(key.as_bytes()).unwrap().unwrap().payload(), &p[..]);
    drop(store);
    let store = Store::open(&path, OpenOptions::default()).unwrap();
    assert_eq!(store.file_size(), tail, "{}: reopen after a write keeps the whole file", ctx());
    let e = store.read(key.as_bytes()).unwrap().unwrap();
    assert_eq!(e.payload(), &p[..]);
    assert!(e.is_valid_checksum());
    assert_eq!(store.len(), want.len() + usize::from(!want.contains_key(&compute_hash(key.as_bytes()))));
    drop(store);
    std::fs::remove_file(&path).unwrap();
}

/// A scratch directory, on tmpfs when there is one: recovery fsyncs after
/// cutting a file, and thousands of disk fsyncs would dominate the run.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

fn iterations() -> usize {
    let n = std::env::var("SRD_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    if cfg!(debug_assertions) {
        n / 8
    } else {
        n
    }
}

// ---- tests ------------------------------------------------------------------

#[test]
fn reference_agrees_on_every_truncation() {
    let dir = scratch();
    let base = build_base(dir.path(), "trunc.bin", 7, 40, true);
    let n = base.bytes.len();
    for cut in 0..=n {
        let got = valid_prefix_len(&base.bytes[..cut]);
        assert_eq!(got, base.bound_below(cut as u64), "cut at {cut}");
        if cut % 97 == 0 {
            assert_eq!(got, ref_valid_prefix(&base.bytes[..cut]), "reference, cut at {cut}");
        }
    }
    println!("recovery_fuzz: {} truncations of a {n}-byte store", n + 1);
}

#[test]
fn mutated_stores_recover_open_and_iterate() {
    let started = Instant::now();
    let dir = scratch();
    let bases = [
        build_base(dir.path(), "a.bin", 1, 150, false),
        build_base(dir.path(), "b.bin", 2, 40, true),
        build_base(dir.path(), "c.bin", 3, 12, true),
        build_base(dir.path(), "d.bin", 4, 6, false),
    ];
    let sizes: Vec<usize> = bases.iter().map(|b| b.bytes.len()).collect();
    let iters = iterations();
    let seed = std::env::var("SRD_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_2024u64);
    let mut rng = Rng::new(seed);
    let (mut t_engine, mut t_ref, mut t_open) =
        (std::time::Duration::ZERO, std::time::Duration::ZERO, std::time::Duration::ZERO);
    let (mut mem_execs, mut open_execs, mut refused, mut damaged_inside) = (0usize, 0usize, 0usize, 0usize);
    for i in 0..iters * 6 {
        let bi = rng.below(bases.len() as u64) as usize;
        let oi = rng.below(bases.len() as u64) as usize;
        let m = mutate(&mut rng, &bases[bi], &bases[oi]);
        let t0 = Instant::now();
        let prefix = check_recovery(&bases[bi], &m, &mut t_engine, &mut t_ref);
        let _ = t0;
        mem_execs += 1;
        if prefix > m.first {
            damaged_inside += 1;
        }
        if i % 6 == 0 {
            let repair = rng.chance(4);
            if prefix == 0 && !m.bytes.is_empty() && !repair {
                refused += 1;
            }
            let t0 = Instant::now();
            check_open(dir.path(), i, &bases[bi], &m, prefix, repair, &mut rng);
            t_open += t0.elapsed();
            open_execs += 1;
        }
    }
    println!(
        "recovery_fuzz: seed {seed}, base stores of {sizes:?} bytes; {mem_execs} recovery executions, \
         {open_execs} open/iterate/verify/write executions ({refused} with no valid prefix, refused unless repaired), \
         {damaged_inside} accepted a prefix containing damage (caught by verify or metadata-only), {:.2?} \
         (engine recovery {t_engine:.2?}, reference {t_ref:.2?}, open path {t_open:.2?})",
        started.elapsed()
    );
}

#[test]
fn zero_and_junk_tails_of_every_alignment_keep_every_entry() {
    let dir = scratch();
    let base = build_base(dir.path(), "tails.bin", 11, 60, true);
    let n = base.bytes.len() as u64;
    let mut rng = Rng::new(99);
    let mut execs = 0;
    for extra in (1..=200u64).chain([4095, 4096, 4097, 65_536]) {
        for zero in [true, false] {
            let mut b = base.bytes.clone();
            if zero {
                b.resize((n + extra) as usize, 0);
            } else {
                b.extend(rng.bytes(extra as usize));
            }
            assert_eq!(valid_prefix_len(&b), n, "{} tail of {extra}", if zero { "zero" } else { "junk" });
            execs += 1;
        }
    }
    println!("recovery_fuzz: {execs} zero/junk tails");
}

/// A store file appended to itself (`cat s.srd s.srd > t.srd`, or a block
/// duplicated by a faulty disk) must open in time linear in its size. Every
/// metadata record of the copy links back into the original, whose chain is
/// intact, so each one is a candidate with its own payload start, and the
/// payloads span up to the whole file. Recovery memoizes checksums per
/// payload start only, so it checksums O(entries x file size) bytes:
/// quadratic (a 512 KB store doubled takes ~7 s to open; 6 MB doubled,
/// minutes). Fails until recovery shares checksum work across starts
/// (e.g. prefix CRCs combined with `crc32_combine`).
#[test]
fn concatenated_store_opens_in_linear_time() {
    let entries: u64 = if cfg!(debug_assertions) { 600 } else { 3000 };
    let mut buf = Vec::new();
    for i in 0..entries {
        srd_engine::format::encode_entry(&mut buf, 0, i, &((i as u32) | 1).to_le_bytes());
    }
    let valid = buf.len() as u64;
    let copy = buf.clone();
    buf.extend_from_slice(&copy);
    let n = buf.len() as u64;
    let started = Instant::now();
    let (len, work) = srd_engine::recovery::recover(&buf);
    println!(
        "recovery_fuzz: doubled store of {entries} entries ({n} bytes): prefix {len}, checksummed {work} bytes ({:.0}x the file) in {:.2?}",
        work as f64 / n as f64,
        started.elapsed()
    );
    assert_eq!(len, valid);
    assert!(work <= 16 * n, "recovery is not linear: {work} bytes checksummed for a {n}-byte file ({}x)", work / n);
}
