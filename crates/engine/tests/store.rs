//! Behaviour of our engine: argument validation, deletes, rename/copy/transfer,
//! reopen, long chains, compaction, recovery, the per-process registry,
//! streamed writes and verification.

mod common;
use common::pat;
use srd_engine::{compute_hash, Error, Group, Op, OpenOptions, Part, Store};
use std::path::Path;
use std::sync::Arc;

// ---- helpers ---------------------------------------------------------------

fn create() -> OpenOptions {
    OpenOptions { create: true, ..Default::default() }
}

fn open(path: &Path) -> Arc<Store> {
    Store::open(path, create()).expect("open")
}

/// A new store at `s.srd` in a fresh temporary directory, which lives as
/// long as the returned `TempDir`.
fn fresh() -> (tempfile::TempDir, std::path::PathBuf, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let store = open(&path);
    (dir, path, store)
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// The variant of an engine error, by name (`NotFound` for an OS "not found").
fn kind(e: &Error) -> String {
    match e {
        Error::Io { source, .. } => format!("{:?}", source.kind()),
        e => format!("{e:?}").split(['(', ' ']).next().unwrap_or_default().to_string(),
    }
}

#[track_caller]
fn assert_code<T>(r: srd_engine::Result<T>, code: &str) -> Error {
    match r {
        Ok(_) => panic!("expected an error {code}, got Ok"),
        Err(e) => {
            assert_eq!(kind(&e), code, "wrong error: {e}");
            e
        }
    }
}

/// The files in `dir`, by name (to catch leftover temporaries).
/// The files in `dir`, but for the shared pages (`<store>.shm`) that a
/// store open in the default (multi-process) mode keeps beside its file.
fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".shm"))
        .collect();
    v.sort();
    v
}

// ---- validation ------------------------------------------------------------

#[test]
fn empty_and_null_payloads_are_rejected_and_write_nothing() {
    let (_dir, path, store) = fresh();
    store.write(b"k", b"v").unwrap();
    let before = bytes(&path);
    let tail = store.file_size();

    assert_code(store.write(b"k", b""), "InvalidArgument");
    assert_code(store.write(b"k", &[0u8]), "InvalidArgument");
    assert_code(store.write(b"new", b""), "InvalidArgument");
    assert_code(store.write(b"new", &[0u8]), "InvalidArgument");
    assert_code(store.write_with_key_hash(42, &[0u8]), "InvalidArgument");
    assert_code(store.write_with_key_hash(42, b""), "InvalidArgument");
    assert_code(store.batch_write_with_key_hashes(&[(42, &[0u8][..])], false), "InvalidArgument");
    // allow_null does not make an empty payload valid.
    assert_code(store.batch_write_with_key_hashes(&[(42, &[][..])], true), "InvalidArgument");

    assert_eq!(bytes(&path), before, "a rejected write changed the file");
    assert_eq!(store.file_size(), tail);
    assert_eq!(store.read(b"k").unwrap().unwrap().payload(), b"v");
    assert!(!store.exists(b"new"));
    assert_eq!(store.len(), 1);

    // Two zero bytes are an ordinary payload, not a tombstone.
    store.write(b"zz", &[0u8, 0u8]).unwrap();
    assert_eq!(store.read(b"zz").unwrap().unwrap().payload(), &[0u8, 0u8]);
}

#[test]
fn a_batch_with_one_invalid_entry_writes_nothing() {
    let (_dir, path, store) = fresh();
    store.write(b"a", b"1").unwrap();
    let before = bytes(&path);
    let tail = store.file_size();

    assert_code(store.batch_write(&[(b"b", b"2"), (b"c", b""), (b"d", b"4")]), "InvalidArgument");
    assert_code(store.batch_write(&[(b"b", b"2"), (b"c", b"3"), (b"d", &[0u8])]), "InvalidArgument");
    assert_code(store.batch_write(&[(b"a", &[0u8]), (b"c", b"3")]), "InvalidArgument");
    // Also a large (direct-write) payload before the invalid one.
    let big = pat(1, (1 << 20) + 1);
    assert_code(store.batch_write(&[(b"big", &big[..]), (b"c", b"")]), "InvalidArgument");

    assert_eq!(bytes(&path), before);
    assert_eq!(store.file_size(), tail);
    for k in [&b"b"[..], b"c", b"d", b"big"] {
        assert!(store.read(k).unwrap().is_none());
    }
    assert_eq!(store.read(b"a").unwrap().unwrap().payload(), b"1");
    assert_eq!(store.len(), 1);

    // An empty batch is a no-op returning the tail.
    assert_eq!(store.batch_write(&[]).unwrap(), tail);
    assert_eq!(bytes(&path), before);
}

#[test]
fn deleting_an_absent_key_writes_nothing_and_returns_the_tail() {
    let (_dir, path, store) = fresh();
    // On an empty store.
    assert_eq!(store.delete(b"nothing").unwrap(), 0);
    assert_eq!(bytes(&path).len(), 0);

    let tail = store.write(b"a", b"1").unwrap();
    assert_eq!(tail, store.file_size());
    let before = bytes(&path);
    assert_eq!(store.delete(b"missing").unwrap(), tail);
    assert_eq!(store.batch_delete(&[b"x", b"y"]).unwrap(), tail);
    assert_eq!(bytes(&path), before);

    // A deleted key is absent too: deleting it again writes nothing.
    let t2 = store.delete(b"a").unwrap();
    assert_eq!(t2, tail + 21, "a tombstone is one byte plus metadata, no pre-pad");
    let before = bytes(&path);
    assert_eq!(store.delete(b"a").unwrap(), t2);
    assert_eq!(bytes(&path), before);
    // A batch naming one live key twice writes one tombstone.
    store.write(b"b", b"2").unwrap();
    let t3 = store.file_size();
    assert_eq!(store.batch_delete(&[b"b", b"b", b"missing"]).unwrap(), t3 + 21);
    assert!(store.is_empty());
}

// ---- batches given in parts ------------------------------------------------------

/// `n` puts of varied sizes (a tombstone among them when `with_null`), for
/// `apply` and `apply_parts` to write alike.
fn varied_puts(n: u64, with_null: bool) -> Vec<(u64, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let payload = if with_null && i == n / 2 { vec![0u8] } else { pat(i, 1 + (i as usize * 37) % 300) };
            (compute_hash(format!("part-{}", i % (n - 7)).as_bytes()), payload)
        })
        .collect()
}

fn ops(puts: &[(u64, Vec<u8>)]) -> Vec<Op<'_>> {
    puts.iter().map(|(h, p)| Op::Put(*h, p)).collect()
}

#[test]
fn a_batch_in_parts_writes_the_same_bytes_and_index_as_one_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (open(&dir.path().join("a.srd")), open(&dir.path().join("b.srd")));
    for s in [&a, &b] {
        s.write(b"before", b"x").unwrap();
    }
    // 3,000 puts (some keys repeated, a tombstone) in parts of 7 to 500 ops.
    let puts = varied_puts(3_000, true);
    let all = ops(&puts);
    let tail = a.apply(&all, true).unwrap();
    let mut rest: &[Op] = &all;
    let mut size = 7;
    let parts_tail = b
        .apply_parts(true, || {
            if rest.is_empty() {
                return Part::End;
            }
            let (part, tail) = rest.split_at(size.min(rest.len()));
            rest = tail;
            size = size * 3 % 500 + 1;
            Part::Puts(part.to_vec())
        })
        .unwrap();
    assert_eq!(parts_tail, tail);
    assert_eq!(b.file_size(), tail);
    assert_eq!(bytes(&dir.path().join("b.srd")), bytes(&dir.path().join("a.srd")));
    assert_eq!(b.len(), a.len());
    for (h, _) in &puts {
        let (x, y) = (a.read_with_key_hash(*h).unwrap(), b.read_with_key_hash(*h).unwrap());
        assert_eq!(x.map(|e| e.payload().to_vec()), y.map(|e| e.payload().to_vec()));
    }
    // And it is a valid store on reopen.
    drop(b);
    let b = open(&dir.path().join("b.srd"));
    assert_eq!(b.len(), a.len());
}

#[test]
fn a_batch_in_parts_that_fails_writes_nothing_and_stops_asking_for_parts() {
    let (_dir, path, store) = fresh();
    store.write(b"keep", b"kept").unwrap();
    let before = bytes(&path);
    let tail = store.file_size();
    let puts = varied_puts(2_000, false);
    let good = ops(&puts);
    let empty: &[u8] = b"";
    // Parts 0..5 are valid; part 5 holds an empty payload (invalid); a
    // tombstone payload without allow_null; a delete; the producer aborting.
    let bad_parts: [Vec<Op>; 4] =
        [vec![Op::Put(1, empty)], vec![Op::Put(2, &[0u8])], vec![Op::Delete(compute_hash(b"keep"))], Vec::new()];
    for (case, bad) in bad_parts.into_iter().enumerate() {
        let mut asked = 0;
        let r = store.apply_parts(false, || {
            asked += 1;
            match asked {
                1..=5 => Part::Puts(good[(asked - 1) * 300..asked * 300].to_vec()),
                6 if case == 3 => Part::Abort,
                6 => Part::Puts(bad.clone()),
                7..=1000 => Part::Puts(good[1500..1800].to_vec()),
                _ => Part::End,
            }
        });
        assert_code(r, "InvalidArgument");
        assert!(asked < 6 + 1 + 4 + 1, "case {case}: asked for {asked} parts after the batch failed");
        assert_eq!(store.file_size(), tail, "case {case}");
        assert_eq!(bytes(&path), before, "case {case}: the file changed");
        assert_eq!(store.len(), 1, "case {case}");
        assert!(
            store.read_with_key_hash(puts[0].0).unwrap().is_none(),
            "case {case}: an entry of the failed batch is visible"
        );
    }
    // The store still takes writes at the old tail.
    let t = store.write(b"after", b"a").unwrap();
    assert!(t > tail);
    drop(store);
    assert_eq!(open(&path).len(), 2);
}

#[test]
fn a_write_from_inside_the_production_of_a_batch_fails_instead_of_deadlocking() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("s.srd"));
    let puts = varied_puts(100, false);
    let all = ops(&puts);
    let mut asked = 0;
    let mut inner = Vec::new();
    let tail = store
        .apply_parts(false, || {
            asked += 1;
            // The producer's thread holds the writer lock: each of these
            // would wait on itself.
            inner.push(store.write(b"inner", b"x").map(|_| ()));
            inner.push(store.apply(&[Op::Put(9, b"y")], false).map(|_| ()));
            inner.push(store.sync());
            match asked {
                1 => Part::Puts(all[..50].to_vec()),
                2 => Part::Puts(all[50..].to_vec()),
                _ => Part::End,
            }
        })
        .unwrap();
    assert_eq!(inner.len(), 9);
    for r in inner {
        assert_code(r, "InvalidArgument");
    }
    assert_eq!(store.file_size(), tail);
    assert!(store.read(b"inner").unwrap().is_none());
    // Outside of it, the same thread writes again.
    assert!(store.write(b"after", b"z").unwrap() > tail);
}

// ---- rename, copy, transfer --------------------------------------------------

#[test]
fn rename_to_itself_is_rejected() {
    let (_dir, path, store) = fresh();
    store.write(b"a", b"payload").unwrap();
    let before = bytes(&path);
    assert_code(store.rename(b"a", b"a"), "InvalidArgument");
    assert_eq!(bytes(&path), before);
    assert_eq!(store.read(b"a").unwrap().unwrap().payload(), b"payload");
}

#[test]
fn rename_moves_the_payload() {
    let (_dir, path, store) = fresh();
    store.write(b"a", b"payload").unwrap();
    store.write(b"b", b"old b").unwrap();
    store.rename(b"a", b"b").unwrap();
    assert!(store.read(b"a").unwrap().is_none());
    assert_eq!(store.read(b"b").unwrap().unwrap().payload(), b"payload");
    assert_eq!(store.len(), 1);
    drop(store);
    let store = open(&path);
    assert!(store.read(b"a").unwrap().is_none());
    assert_eq!(store.read(b"b").unwrap().unwrap().payload(), b"payload");
    assert_eq!(store.len(), 1);
}

#[test]
fn rename_and_copy_of_an_absent_key_fail_with_key_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir.path().join("a.srd"));
    let b = open(&dir.path().join("b.srd"));
    a.write(b"present", b"x").unwrap();
    a.write(b"gone", b"y").unwrap();
    a.delete(b"gone").unwrap();
    let (ta, tb) = (a.file_size(), b.file_size());

    assert_code(a.rename(b"absent", b"other"), "KeyNotFound");
    assert_code(a.rename(b"gone", b"other"), "KeyNotFound");
    assert_code(a.copy(b"absent", &b), "KeyNotFound");
    assert_code(a.copy(b"gone", &b), "KeyNotFound");
    assert_code(a.transfer(b"absent", &b), "KeyNotFound");
    assert_eq!((a.file_size(), b.file_size()), (ta, tb));
    assert!(!a.exists(b"other"));
    assert!(b.is_empty());
}

#[test]
fn copy_into_the_same_store_is_rejected() {
    let (_dir, path, store) = fresh();
    store.write(b"k", b"v").unwrap();
    let before = bytes(&path);
    assert_code(store.copy(b"k", &store), "InvalidArgument");
    // The same engine reached through a second open is the same store.
    let again = open(&path);
    assert_code(store.copy(b"k", &again), "InvalidArgument");
    assert_code(store.transfer(b"k", &again), "InvalidArgument");
    assert_eq!(bytes(&path), before);
    assert_eq!(store.read(b"k").unwrap().unwrap().payload(), b"v");
}

#[test]
fn copy_keeps_the_source_and_transfer_moves_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir.path().join("a.srd"));
    let b = open(&dir.path().join("b.srd"));
    let big = pat(3, 100_000);
    a.write(b"k", &big).unwrap();
    a.write(b"other", b"stays").unwrap();

    let tb = a.copy(b"k", &b).unwrap();
    assert_eq!(tb, b.file_size());
    assert_eq!(a.read(b"k").unwrap().unwrap().payload(), &big[..]);
    assert_eq!(b.read(b"k").unwrap().unwrap().payload(), &big[..]);

    b.write(b"t", b"to move").unwrap();
    let ta = b.transfer(b"t", &a).unwrap();
    assert_eq!(ta, b.file_size(), "transfer returns the source's tail after its tombstone");
    assert!(b.read(b"t").unwrap().is_none());
    assert!(!b.exists(b"t"));
    assert_eq!(a.read(b"t").unwrap().unwrap().payload(), b"to move");
    assert_eq!(a.len(), 3);
    assert_eq!(b.len(), 1);

    // Both survive a reopen.
    let (pa, pb) = (a.path().to_path_buf(), b.path().to_path_buf());
    drop((a, b));
    let a = open(&pa);
    let b = open(&pb);
    assert_eq!(a.read(b"t").unwrap().unwrap().payload(), b"to move");
    assert!(b.read(b"t").unwrap().is_none());
    assert_eq!(b.read(b"k").unwrap().unwrap().payload(), &big[..]);
    assert_eq!((a.len(), b.len()), (3, 1));
}

// ---- reopen, long chains -------------------------------------------------------

#[test]
fn len_after_reopen_excludes_deleted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    {
        let store = open(&path);
        for i in 0..100u32 {
            store.write(format!("k{i}").as_bytes(), &pat(i as u64, 10 + i as usize)).unwrap();
        }
        for i in (0..100u32).step_by(3) {
            store.delete(format!("k{i}").as_bytes()).unwrap();
        }
        // A deleted-then-rewritten key counts once.
        store.write(b"k0", b"back").unwrap();
        // Overwrites do not count twice.
        store.write(b"k1", b"new").unwrap();
        assert_eq!(store.len(), 100 - 34 + 1);
    }
    let store = open(&path);
    assert_eq!(store.len(), 67);
    assert_eq!(store.iter().unwrap().count(), 67);
    assert!(store.read(b"k3").unwrap().is_none());
    assert_eq!(store.read(b"k0").unwrap().unwrap().payload(), b"back");
    assert_eq!(store.read(b"k1").unwrap().unwrap().payload(), b"new");
    // A store whose only key is deleted reopens as empty.
    drop(store);
    let p2 = dir.path().join("t.srd");
    {
        let s = open(&p2);
        s.write(b"only", b"x").unwrap();
        s.delete(b"only").unwrap();
    }
    let s = open(&p2);
    assert_eq!(s.len(), 0);
    assert!(s.is_empty());
    assert_eq!(s.iter().unwrap().count(), 0);
    assert!(s.read_last_entry().unwrap().is_none());
}

#[test]
fn a_million_overwrites_of_one_key_iterate_as_one_entry() {
    const N: usize = 1_000_000;
    const BATCH: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let key = compute_hash(b"hot");
    let payloads: Vec<[u8; 8]> = (0..BATCH).map(|i| ((i as u64) | 1 << 63).to_le_bytes()).collect();
    {
        let store = open(&path);
        for _ in 0..N / BATCH {
            let ops: Vec<(u64, &[u8])> = payloads.iter().map(|p| (key, &p[..])).collect();
            store.batch_write_with_key_hashes(&ops, false).unwrap();
        }
        store.write(b"hot", b"final").unwrap();
        assert_eq!(store.len(), 1);
        // 64 bytes per overwrite (8-byte payload + 20 metadata, padded to 64).
        assert_eq!(store.file_size(), N as u64 * 64 + 5 + 20);
    }
    let store = open(&path);
    assert_eq!(store.len(), 1);
    // Iterate on a small stack: a recursive walk of a million links would overflow it.
    let s = store.clone();
    let got = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let all: Vec<_> = s.iter().unwrap().collect();
            let savings = s.estimate_compaction_savings().unwrap();
            (all.into_iter().map(|e| (e.key_hash(), e.payload().to_vec())).collect::<Vec<_>>(), savings)
        })
        .unwrap()
        .join()
        .expect("iteration overflowed or panicked");
    assert_eq!(got.0, vec![(key, b"final".to_vec())]);
    assert_eq!(got.1, store.file_size() - (5 + 20));
}

// ---- compaction ----------------------------------------------------------------

#[test]
fn compaction_keeps_live_data_shrinks_the_file_and_old_handles_stay_valid() {
    let (dir, path, store) = fresh();
    for round in 0..5u64 {
        for i in 0..50u64 {
            store.write(format!("k{i}").as_bytes(), &pat(round * 1000 + i, 100 + i as usize)).unwrap();
        }
    }
    for i in 40..50u64 {
        store.delete(format!("k{i}").as_bytes()).unwrap();
    }
    let old = store.read(b"k7").unwrap().unwrap();
    let old_bytes = old.payload().to_vec();
    assert_eq!(old_bytes, pat(4007, 107));
    let deleted_handle_src = store.read(b"k1").unwrap().unwrap();

    let size_before = store.file_size();
    assert!(store.estimate_compaction_savings().unwrap() > 0);
    store.compact().unwrap();
    let size_after = store.file_size();
    assert!(size_after < size_before, "compaction did not shrink {size_before} -> {size_after}");
    assert_eq!(size_after, std::fs::metadata(&path).unwrap().len());
    assert!(!dir_names(dir.path()).iter().any(|n| n != "s.srd"), "leftover files: {:?}", dir_names(dir.path()));

    // Live data is all there; deleted keys are gone.
    assert_eq!(store.len(), 40);
    for i in 0..40u64 {
        assert_eq!(
            store.read(format!("k{i}").as_bytes()).unwrap().unwrap().payload(),
            &pat(4000 + i, 100 + i as usize)[..]
        );
    }
    for i in 40..50u64 {
        assert!(store.read(format!("k{i}").as_bytes()).unwrap().is_none());
    }
    assert!(store.verify().unwrap().is_empty());

    // Handles taken before compaction still read their bytes, also after later
    // writes and overwrites of their key.
    store.write(b"k7", b"after compaction").unwrap();
    store.delete(b"k1").unwrap();
    assert_eq!(old.payload(), &old_bytes[..]);
    assert!(old.is_valid_checksum());
    assert_eq!(deleted_handle_src.payload(), &pat(4001, 101)[..]);

    // Writes after compaction land correctly and survive a reopen.
    drop(store);
    let store = open(&path);
    assert_eq!(store.read(b"k7").unwrap().unwrap().payload(), b"after compaction");
    assert!(store.read(b"k1").unwrap().is_none());
    assert_eq!(store.len(), 39);
    assert_eq!(old.payload(), &old_bytes[..]);
    assert!(store.verify().unwrap().is_empty());
}

#[test]
fn compaction_savings_are_positive_before_and_zero_after() {
    // The estimate is what `compact()` would reclaim: positive while there are
    // overwritten or deleted entries, and zero once the file is compacted
    // (compacting a compacted file reclaims nothing).
    let (_dir, _path, store) = fresh();
    assert_eq!(store.estimate_compaction_savings().unwrap(), 0, "empty store");
    for round in 0..3u64 {
        for i in 0..10u64 {
            store.write(format!("k{i}").as_bytes(), &pat(round * 100 + i, 30 + i as usize * 7)).unwrap();
        }
    }
    store.delete(b"k9").unwrap();
    let before = store.file_size();
    let estimate = store.estimate_compaction_savings().unwrap();
    assert!(estimate > 0);
    store.compact().unwrap();
    let after = store.file_size();
    assert!(after < before);
    assert_eq!(
        store.estimate_compaction_savings().unwrap(),
        0,
        "estimate after compaction (file of {after} bytes, {} live entries)",
        store.len()
    );
    assert_eq!(estimate, before - after, "the estimate should be what compaction reclaimed");
}

#[test]
fn compaction_to_empty_and_iterators_across_compaction() {
    let (_dir, path, store) = fresh();
    store.write(b"a", b"1").unwrap();
    store.write(b"b", b"2").unwrap();
    store.write(b"a", b"3").unwrap();
    store.write(b"c", b"4").unwrap();
    store.delete(b"c").unwrap();
    // An iterator taken before compaction still reads the old generation.
    let it = store.iter().unwrap();
    store.compact().unwrap();
    store.write(b"d", b"5").unwrap();
    let mut seen: Vec<Vec<u8>> = it.map(|e| e.payload().to_vec()).collect();
    seen.sort();
    assert_eq!(seen, vec![b"2".to_vec(), b"3".to_vec()]);
    // Compacting everything away leaves an empty file that still works.
    store.batch_delete(&[b"a", b"b", b"d"]).unwrap();
    assert!(store.estimate_compaction_savings().unwrap() > 0);
    store.compact().unwrap();
    assert_eq!(store.file_size(), 0);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert!(store.is_empty());
    assert_eq!(store.estimate_compaction_savings().unwrap(), 0);
    store.write(b"z", b"fresh").unwrap();
    assert_eq!(store.read(b"z").unwrap().unwrap().payload(), b"fresh");
    drop(store);
    let store = open(&path);
    assert_eq!(store.len(), 1);
    assert_eq!(store.read(b"z").unwrap().unwrap().payload(), b"fresh");
}

// ---- recovery ------------------------------------------------------------------

#[test]
fn a_torn_tail_reopens_with_all_earlier_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let mut tails = Vec::new();
    {
        let store = open(&path);
        for i in 0..20u64 {
            tails.push(store.write(format!("k{i}").as_bytes(), &pat(i, 50 + i as usize * 13)).unwrap());
        }
        // Last entry: an overwrite of k3 (a torn overwrite must bring back the old value).
        tails.push(store.write(b"k3", &pat(99, 500)).unwrap());
    }
    let full = bytes(&path);
    let prev_tail = tails[tails.len() - 2];
    // Cut inside the last payload, inside its metadata, and right after its pre-pad.
    for cut in
        [full.len() as u64 - 1, full.len() as u64 - 10, full.len() as u64 - 20, full.len() as u64 - 300, prev_tail + 1]
    {
        std::fs::write(&path, &full[..cut as usize]).unwrap();
        let store = open(&path);
        assert_eq!(store.file_size(), prev_tail, "cut at {cut}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), prev_tail, "the torn bytes are cut off");
        assert_eq!(store.len(), 20);
        for i in 0..20u64 {
            assert_eq!(
                store.read(format!("k{i}").as_bytes()).unwrap().unwrap().payload(),
                &pat(i, 50 + i as usize * 13)[..],
                "k{i} after cut at {cut}"
            );
        }
        assert!(store.verify().unwrap().is_empty());
        // The store is writable after recovery.
        store.write(b"new", b"after recovery").unwrap();
        drop(store);
        let store = open(&path);
        assert_eq!(store.read(b"new").unwrap().unwrap().payload(), b"after recovery");
        assert_eq!(store.len(), 21);
    }
    // A tail entry whose metadata landed but whose payload did not (zeros).
    let mut z = full.clone();
    let start = (prev_tail + (64 - prev_tail % 64) % 64) as usize;
    for b in &mut z[start..full.len() - 20] {
        *b = 0;
    }
    std::fs::write(&path, &z).unwrap();
    let store = open(&path);
    assert_eq!(store.file_size(), prev_tail);
    assert_eq!(store.read(b"k3").unwrap().unwrap().payload(), &pat(3, 50 + 3 * 13)[..]);
    // Zeros appended past the end are cut as well.
    drop(store);
    let mut zeros = full.clone();
    zeros.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&path, &zeros).unwrap();
    let store = open(&path);
    assert_eq!(store.file_size(), full.len() as u64);
    assert_eq!(store.read(b"k3").unwrap().unwrap().payload(), &pat(99, 500)[..]);
}

#[test]
fn a_torn_batch_keeps_its_intact_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let payloads: Vec<Vec<u8>> = (0..5u64).map(|i| pat(50 + i, 200 + i as usize)).collect();
    let base;
    {
        let store = open(&path);
        base = store.write(b"before", b"batch").unwrap();
        let entries: Vec<(&[u8], &[u8])> =
            [&b"b0"[..], b"b1", b"b2", b"b3", b"b4"].iter().zip(&payloads).map(|(k, v)| (*k, &v[..])).collect();
        store.batch_write(&entries).unwrap();
    }
    let full = bytes(&path);
    // Cut 100 bytes into b3 (past the end of b2, found by reading it).
    let end_b2 = {
        let store = open(&path);
        store.read(b"b2").unwrap().unwrap().end_offset() + 20
    };
    assert!(end_b2 > base);
    std::fs::write(&path, &full[..end_b2 as usize + 100]).unwrap();
    let store = open(&path);
    assert_eq!(store.file_size(), end_b2);
    assert_eq!(store.read(b"before").unwrap().unwrap().payload(), b"batch");
    for (i, k) in [&b"b0"[..], b"b1", b"b2"].iter().enumerate() {
        assert_eq!(store.read(k).unwrap().unwrap().payload(), &payloads[i][..]);
    }
    assert!(store.read(b"b3").unwrap().is_none());
    assert!(store.read(b"b4").unwrap().is_none());
    assert_eq!(store.len(), 4);
}

#[test]
fn a_junk_file_is_not_a_store_and_is_left_untouched_unless_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.bin");
    let junk: Vec<u8> = b"This is a text file, not a SIMD R Drive store. ".iter().cycle().take(5000).copied().collect();
    std::fs::write(&path, &junk).unwrap();

    let e = assert_code(Store::open(&path, create()), "NotAStore");
    assert!(matches!(e, Error::NotAStore(_)));
    assert_eq!(bytes(&path), junk, "a failed open modified the file");
    // Also without `create`, and a second time (the failed open left no engine or lock behind).
    assert_code(Store::open(&path, OpenOptions::default()), "NotAStore");
    assert_eq!(bytes(&path), junk);

    // All zeros is not a store either.
    let zpath = dir.path().join("zeros.bin");
    std::fs::write(&zpath, vec![0u8; 1000]).unwrap();
    assert_code(Store::open(&zpath, create()), "NotAStore");
    assert_eq!(bytes(&zpath), vec![0u8; 1000]);

    // With repair the file is cut to its (empty) valid prefix and opens empty.
    let store = Store::open(&path, OpenOptions { create: true, repair: true, ..Default::default() }).unwrap();
    assert!(store.is_empty());
    assert_eq!(store.file_size(), 0);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(store.iter().unwrap().count(), 0);
    store.write(b"k", b"v").unwrap();
    drop(store);
    let store = open(&path);
    assert_eq!(store.read(b"k").unwrap().unwrap().payload(), b"v");

    // An empty file is an empty store; a missing file without create is ENOENT.
    let empty = dir.path().join("empty.srd");
    std::fs::write(&empty, b"").unwrap();
    assert!(Store::open(&empty, OpenOptions::default()).unwrap().is_empty());
    assert_code(Store::open(dir.path().join("missing.srd"), OpenOptions::default()), "NotFound");
    assert!(!dir.path().join("missing.srd").exists());
}

// ---- registry --------------------------------------------------------------------

#[test]
fn opening_the_same_path_twice_returns_the_same_engine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let a = open(&path);
    let b = open(&path);
    assert!(Arc::ptr_eq(&a, &b));
    // Another spelling of the same path, and an open without create.
    let c = Store::open(dir.path().join(".").join("s.srd"), OpenOptions::default()).unwrap();
    assert!(Arc::ptr_eq(&a, &c));
    // From another thread as well.
    let p2 = path.clone();
    let d = std::thread::spawn(move || open(&p2)).join().unwrap();
    assert!(Arc::ptr_eq(&a, &d));
    a.write(b"k", b"v").unwrap();
    assert_eq!(b.read(b"k").unwrap().unwrap().payload(), b"v");
    // A different file is a different engine.
    let other = open(&dir.path().join("t.srd"));
    assert!(!Arc::ptr_eq(&a, &other));
    // Once every Arc is gone, a new open makes a new engine that sees the data.
    drop((a, b, c, d));
    let e = open(&path);
    assert_eq!(e.read(b"k").unwrap().unwrap().payload(), b"v");
}

#[test]
fn opens_racing_compactions_in_other_threads_share_the_live_engine() {
    // Compaction renames a new file over the path. An open in another thread
    // that lands between its open() of the path and the registry lookup must
    // neither fail (ERR_STORE_LOCKED) nor make an engine of the old file.
    const OPENERS: u32 = 3;
    const OPENS: u32 = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let owner = open(&path);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let compactor = {
        let (s, stop) = (owner.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.compact().unwrap();
                n += 1;
            }
            n
        })
    };
    let openers: Vec<_> = (0..OPENERS)
        .map(|t| {
            let (path, owner) = (path.clone(), owner.clone());
            std::thread::spawn(move || {
                for i in 0..OPENS {
                    let s = Store::open(&path, create()).unwrap_or_else(|e| panic!("open {i} failed: {e}"));
                    assert!(Arc::ptr_eq(&s, &owner), "open {i} made a second engine");
                    s.write(format!("k{t}-{}", i % 10).as_bytes(), &i.to_le_bytes()).unwrap();
                }
            })
        })
        .collect();
    for o in openers {
        o.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(compactor.join().unwrap() > 0);
    drop(owner);
    // Every write reached the live file: the last value of each key is there.
    let s = open(&path);
    assert_eq!(s.len(), (OPENERS * 10) as usize);
    for t in 0..OPENERS {
        for k in 0..10 {
            let last = OPENS - 10 + k;
            assert_eq!(s.read(format!("k{t}-{k}").as_bytes()).unwrap().unwrap().payload(), last.to_le_bytes());
        }
    }
}

#[test]
fn threads_opening_and_dropping_one_store_never_see_it_locked() {
    // The last handle of an engine can be dropped in one thread while another
    // opens the file: that open must wait for the dying engine's file lock,
    // not fail with ERR_STORE_LOCKED.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let threads: Vec<_> = (0..3u32)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                for i in 0..3_000u32 {
                    let s = Store::open(&path, create()).unwrap_or_else(|e| panic!("open {i} failed: {e}"));
                    s.write(format!("k{t}").as_bytes(), &i.to_le_bytes()).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = open(&path);
    for t in 0..3u32 {
        assert_eq!(s.read(format!("k{t}").as_bytes()).unwrap().unwrap().payload(), 2_999u32.to_le_bytes());
    }
}

#[test]
fn the_file_ends_at_the_tail_and_a_copy_taken_while_open_opens_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let s = open(&path);
    for i in 0..1000u32 {
        s.write(format!("k{i}").as_bytes(), &pat(i as u64, i as usize % 300 + 1)).unwrap();
    }
    let tail = s.file_size();
    let open_bytes = bytes(&path);
    assert_eq!(open_bytes.len() as u64, tail, "no bytes past the tail while open");
    // A copy taken while the store is open (a crash at that moment) opens
    // with every entry.
    let copy = dir.path().join("copy.srd");
    std::fs::write(&copy, &open_bytes).unwrap();
    let c = open(&copy);
    assert_eq!(c.file_size(), tail);
    assert_eq!(c.len(), 1000);
    assert_eq!(c.read(b"k999").unwrap().unwrap().payload(), &pat(999, 999 % 300 + 1)[..]);
}

#[test]
fn the_file_is_locked_against_other_openers() {
    let (_dir, path, store) = fresh();
    store.write(b"k", b"v").unwrap();
    // Another open file description (as another process would have) cannot lock it.
    let other = std::fs::File::open(&path).unwrap();
    assert!(other.try_lock().is_err(), "the store does not hold an exclusive lock");
    drop(store);
    // Once the engine is gone the lock is released; held elsewhere, it refuses to open.
    other.try_lock().expect("lock released on drop");
    assert_code(Store::open(&path, create()), "StoreLocked");
    other.unlock().unwrap();
    let store = open(&path);
    assert_eq!(store.read(b"k").unwrap().unwrap().payload(), b"v");
    // After a compaction the new file is locked too.
    store.write(b"k", b"v2").unwrap();
    store.compact().unwrap();
    let other = std::fs::File::open(&path).unwrap();
    assert!(other.try_lock().is_err(), "the compacted file is not locked");
}

// ---- streams -------------------------------------------------------------------

#[test]
fn empty_and_all_zero_streams_are_rejected_and_write_nothing() {
    let (dir, path, store) = fresh();
    store.write(b"a", b"1").unwrap();
    let before = bytes(&path);
    let h = compute_hash(b"s");

    let w = store.stream_writer(h, None).unwrap();
    assert!(w.is_empty());
    assert_code(w.finish(), "InvalidArgument");

    let mut w = store.stream_writer(h, None).unwrap();
    w.write(b"").unwrap();
    assert_code(w.finish(), "InvalidArgument");

    let mut w = store.stream_writer(h, None).unwrap();
    w.write(&[0u8]).unwrap();
    assert_code(w.finish(), "InvalidArgument");

    let mut w = store.stream_writer(h, None).unwrap();
    for _ in 0..10 {
        w.write(&[0u8; 1000]).unwrap();
    }
    assert_eq!(w.len(), 10_000);
    assert_code(w.finish(), "InvalidArgument");

    // All zeros past the memory spool (in the spool file).
    let mut w = store.stream_writer(h, None).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..5 {
        w.write(&zeros).unwrap();
    }
    assert_code(w.finish(), "InvalidArgument");

    assert_eq!(bytes(&path), before);
    assert!(!store.exists(b"s"));
    assert_eq!(store.len(), 1);
    assert_eq!(dir_names(dir.path()), vec!["s.srd".to_string()]);

    // A stream of zeros with one non-zero byte at the very end is fine.
    let mut w = store.stream_writer(h, None).unwrap();
    w.write(&[0u8; 100]).unwrap();
    w.write(&[0u8, 7]).unwrap();
    w.finish().unwrap();
    let mut expect = vec![0u8; 101];
    expect.push(7);
    assert_eq!(store.read(b"s").unwrap().unwrap().payload(), &expect[..]);
}

#[test]
fn a_ten_mib_stream_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let payload = pat(77, 10 << 20);
    let h = compute_hash(b"big");
    {
        let store = open(&path);
        store.write(b"before", b"x").unwrap();
        let mut w = store.stream_writer(h, None).unwrap();
        // Uneven chunks, so the spill from memory to the spool file happens mid-chunk.
        let mut rest = &payload[..];
        let mut n = 0usize;
        while !rest.is_empty() {
            let take = rest.len().min(300_007 + (n % 5) * 1000);
            w.write(&rest[..take]).unwrap();
            rest = &rest[take..];
            n += 1;
        }
        assert_eq!(w.len(), payload.len() as u64);
        // Writes made while the stream is open are not interleaved with it.
        store.write(b"during", b"y").unwrap();
        let tail = w.finish().unwrap();
        assert_eq!(tail, store.file_size());
        let e = store.read(b"big").unwrap().unwrap();
        assert_eq!(e.size(), payload.len() as u64);
        assert!(e.payload() == &payload[..]);
        assert_eq!(e.start_offset() % 64, 0);
        assert!(e.is_valid_checksum());
        assert_eq!(store.read(b"during").unwrap().unwrap().payload(), b"y");
        assert_eq!(store.len(), 3);
    }
    assert_eq!(dir_names(dir.path()), vec!["s.srd".to_string()], "spool files must not be left behind");
    let store = open(&path);
    let e = store.read(b"big").unwrap().unwrap();
    assert!(e.payload() == &payload[..]);
    assert_eq!(store.read(b"before").unwrap().unwrap().payload(), b"x");
    assert!(store.verify().unwrap().is_empty());
}

#[test]
fn a_dropped_stream_writer_leaves_nothing() {
    let (dir, path, store) = fresh();
    store.write(b"a", b"1").unwrap();
    let before = bytes(&path);
    {
        let mut w = store.stream_writer(compute_hash(b"small"), None).unwrap();
        w.write(b"some bytes").unwrap();
    }
    {
        // Past the memory spool, so a spool file exists while it is open.
        let mut w = store.stream_writer(compute_hash(b"large"), None).unwrap();
        let chunk = pat(5, 1 << 20);
        for _ in 0..6 {
            w.write(&chunk).unwrap();
        }
    }
    assert_eq!(bytes(&path), before);
    assert!(!store.exists(b"small"));
    assert!(!store.exists(b"large"));
    assert_eq!(store.len(), 1);
    assert_eq!(dir_names(dir.path()), vec!["s.srd".to_string()]);
    // The store still works, and reopens the same.
    store.write(b"b", b"2").unwrap();
    drop(store);
    let store = open(&path);
    assert_eq!(store.len(), 2);
    assert!(!store.exists(b"large"));
}

// ---- verification --------------------------------------------------------------

/// A store of four entries whose second ("victim", 1,000 bytes) has one
/// payload byte changed, `back` bytes before its metadata (open checksums
/// the first and the last entry only). Returns the victim's metadata offset
/// and the damaged file's bytes.
fn store_with_a_damaged_victim(path: &Path, back: usize) -> (u64, Vec<u8>) {
    let victim_meta;
    {
        let store = open(path);
        store.write(b"first", &pat(1, 300)).unwrap();
        victim_meta = store.write(b"victim", &pat(2, 1000)).unwrap() - 20;
        store.write(b"third", &pat(3, 200)).unwrap();
        store.write(b"last", &pat(4, 100)).unwrap();
        assert!(store.verify().unwrap().is_empty());
    }
    let mut b = bytes(path);
    b[victim_meta as usize - back] ^= 0x40;
    std::fs::write(path, &b).unwrap();
    (victim_meta, b)
}

#[test]
fn verify_finds_a_corrupted_payload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let (victim_meta, b) = store_with_a_damaged_victim(&path, 500);

    let store = open(&path);
    assert_eq!(store.file_size(), b.len() as u64, "only the tail entry is checksummed on open");
    assert_eq!(store.len(), 4);
    let bad = store.verify().unwrap();
    assert_eq!(bad, vec![(compute_hash(b"victim"), victim_meta)]);
    let e = store.read(b"victim").unwrap().unwrap();
    assert!(!e.is_valid_checksum());
    for k in [&b"first"[..], b"third", b"last"] {
        assert!(store.read(k).unwrap().unwrap().is_valid_checksum());
    }
    // verify() checks superseded entries too (a damaged one can hide others
    // behind a moved link): overwriting the key leaves the old entry in the
    // file, and reported, until compaction drops it.
    store.write(b"victim", b"repaired").unwrap();
    assert_eq!(store.verify().unwrap(), vec![(compute_hash(b"victim"), victim_meta)]);
    store.compact().unwrap();
    assert!(store.verify().unwrap().is_empty());
}

// ---- group commit ------------------------------------------------------------

#[test]
fn apply_groups_drops_an_invalid_group_alone_and_reports_each_groups_tail() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir.path().join("s.srd"));
    let ops = [Op::Put(1, b"one"), Op::Put(2, b"two"), Op::Put(3, b""), Op::Put(4, b"four"), Op::Put(5, &[0])];
    let groups = [
        Group { end: 1, allow_null: false },
        Group { end: 3, allow_null: false }, // holds the empty payload: fails whole
        Group { end: 3, allow_null: false }, // empty
        Group { end: 4, allow_null: false },
        Group { end: 5, allow_null: true }, // a tombstone of key 5, allowed here
    ];
    let a = s.apply_groups(&ops, &groups);
    assert_eq!(a.failed.len(), 1);
    assert_eq!(a.failed[0].0, 1);
    assert_eq!(kind(&a.failed[0].1), "InvalidArgument");
    // Group 1 left no trace: key 2 (valid on its own) is absent too.
    assert!(s.read_with_key_hash(1).unwrap().is_some());
    assert!(s.read_with_key_hash(2).unwrap().is_none());
    assert!(s.read_with_key_hash(4).unwrap().is_some());
    // A failed or empty group reports the tail at its place; the last, the file's tail.
    let after_one = s.read_with_key_hash(1).unwrap().unwrap().end_offset() + 20;
    let after_four = s.read_with_key_hash(4).unwrap().unwrap().end_offset() + 20;
    assert_eq!(a.tails, vec![after_one, after_one, after_one, after_four, s.file_size()]);

    // One valid put per group (the async write case): the same tails and
    // bytes as writing each alone.
    let (grouped, alone) = (open(&dir.path().join("g.srd")), open(&dir.path().join("a.srd")));
    let puts: Vec<Op<'_>> =
        (0..100u64).map(|i| Op::Put(i, if i % 2 == 0 { b"even" } else { b"odd payload" })).collect();
    let ends: Vec<Group> = (1..=puts.len()).map(|end| Group { end, allow_null: false }).collect();
    let applied = grouped.apply_groups(&puts, &ends);
    assert!(applied.failed.is_empty());
    let tails: Vec<u64> = puts.iter().map(|op| alone.apply(std::slice::from_ref(op), false).unwrap()).collect();
    assert_eq!(applied.tails, tails);
    assert_eq!(bytes(&dir.path().join("g.srd")), bytes(&dir.path().join("a.srd")));
}

/// The ops of `long_store`: 12,000 writes over 50 keys, 5 of those keys
/// deleted, then 20,000 distinct keys. Open walks the newest 16,384 entries
/// (all new keys) before it sizes the index for the rest of the chain.
fn long_store_ops() -> Vec<(String, Option<Vec<u8>>)> {
    let mut ops = Vec::new();
    for i in 0..12_000u64 {
        ops.push((format!("old-{}", i % 50), Some(pat(i, 40))));
    }
    for k in [3, 14, 15, 92 % 50, 49] {
        ops.push((format!("old-{k}"), None));
    }
    for i in 0..20_000u64 {
        ops.push((format!("new-{i}"), Some(pat(100_000 + i, 24))));
    }
    ops
}

/// The live keys after the first `n` ops, with their newest payloads.
fn live_after(ops: &[(String, Option<Vec<u8>>)], n: usize) -> std::collections::HashMap<&str, &[u8]> {
    let mut live = std::collections::HashMap::new();
    for (k, v) in &ops[..n] {
        match v {
            Some(v) => live.insert(k.as_str(), v.as_slice()),
            None => live.remove(k.as_str()),
        };
    }
    live
}

#[track_caller]
fn assert_live(s: &Store, ops: &[(String, Option<Vec<u8>>)], n: usize) {
    let live = live_after(ops, n);
    assert_eq!(s.len(), live.len());
    for (k, _) in ops {
        let got = s.read(k.as_bytes()).unwrap();
        match live.get(k.as_str()) {
            Some(v) => assert_eq!(got.expect(k).payload(), *v, "{k}"),
            None => assert!(got.is_none(), "{k} should be absent"),
        }
    }
}

#[test]
fn a_store_longer_than_the_index_sizing_sample_reopens_also_with_an_old_link_broken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let ops = long_store_ops();
    let mut tails = Vec::new();
    {
        let s = open(&path);
        for (k, v) in &ops {
            tails.push(match v {
                Some(v) => s.write(k.as_bytes(), v).unwrap(),
                None => s.delete(k.as_bytes()).unwrap(),
            });
        }
    }
    assert_live(&open(&path), &ops, ops.len());

    // Break the link of entry 500 (far older than the sample): the chain of
    // every longer prefix passes through it, but the entries after it are
    // whole, so this is damage in the middle, not a torn tail: open refuses
    // it and leaves the file as it is.
    let mut b = bytes(&path);
    let m = (tails[500] - 20) as usize;
    b[m + 8..m + 16].copy_from_slice(&(m as u64 + 1).to_le_bytes());
    let damaged = dir.path().join("damaged.srd");
    std::fs::write(&damaged, &b).unwrap();
    let err = Store::open(&damaged, OpenOptions { create: true, ..Default::default() }).err().expect("refused");
    assert_eq!(kind(&err), "CorruptStore");
    assert!(err.to_string().contains(&format!("damaged at offset {}", tails[499])), "{err}");
    assert_eq!(bytes(&damaged), b, "a refused file is left untouched");
    // A repair keeps every entry but the one whose link broke.
    let s = Store::open(&damaged, OpenOptions { create: true, repair: true, ..Default::default() }).unwrap();
    let report = s.repair_report().expect("repaired");
    assert_eq!((report.kept_prefix, report.salvaged_entries), (tails[499], ops.len() - 501));
    assert_eq!(std::fs::read(&report.backup).unwrap(), b);
    let mut without: Vec<_> = ops.clone();
    without.remove(500);
    assert_live(&s, &without, without.len());
    assert!(s.verify().unwrap().is_empty());
}

#[test]
fn compaction_refuses_a_live_payload_that_fails_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let (victim_meta, b) = store_with_a_damaged_victim(&path, 10);
    let store = open(&path);
    // Copying it would give the damaged payload a fresh, valid checksum.
    let err = assert_code(store.compact(), "ChecksumMismatch");
    assert!(err.to_string().contains(&format!("at offset {victim_meta}")), "{err}");
    assert_eq!(bytes(&path), b, "nothing changed");
    assert!(!dir.path().join("s.srd.compact").exists(), "no temporary file left");
    assert_eq!(store.verify().unwrap(), vec![(compute_hash(b"victim"), victim_meta)]);
    // Once the key is overwritten, the damaged entry is no longer live: compaction drops it.
    store.write(b"victim", b"fresh").unwrap();
    store.compact().unwrap();
    assert!(store.verify().unwrap().is_empty());
    assert_eq!(store.read(b"victim").unwrap().unwrap().payload(), b"fresh");
}
