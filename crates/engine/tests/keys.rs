//! Key records (`OpenOptions::keys`): every way of writing a key by key
//! records it, every way of removing one removes it from the listing,
//! records are hidden from `len` and iteration, they survive reopen,
//! compaction and a crash mid-batch, and the Rust crate reads the file
//! with the records as ordinary entries.

use simd_r_drive::traits::{DataStoreReader, DataStoreWriter};
use simd_r_drive::utils::NamespaceHasher as CrateNamespaceHasher;
use srd_engine::keys::PREFIX;
use srd_engine::{compute_hash, Op, OpenOptions, Store};
use std::path::Path;
use std::sync::Arc;

fn keyed() -> OpenOptions {
    OpenOptions { create: true, keys: true, ..Default::default() }
}

fn open(path: &Path) -> Arc<Store> {
    Store::open(path, keyed()).unwrap()
}

fn listed(s: &Store) -> Vec<String> {
    let mut v: Vec<String> = s.keys(b"").unwrap().into_iter().map(|k| String::from_utf8(k).unwrap()).collect();
    v.sort();
    v
}

#[test]
fn every_write_by_key_is_listed_and_every_removal_unlisted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let s = open(&path);
    s.write(b"a", b"1").unwrap();
    s.batch_write(&[(b"b", b"2"), (b"c", b"3")]).unwrap();
    s.write_with_key_hash(compute_hash(b"by-hash"), b"no key bytes").unwrap();
    let mut w = s.stream_writer(compute_hash(b"streamed"), Some(b"streamed")).unwrap();
    w.write(b"chunk").unwrap();
    w.finish().unwrap();
    assert_eq!(listed(&s), ["a", "b", "c", "streamed"], "a key written by hash alone has no record");
    assert_eq!(s.len(), 5, "records are not counted");
    assert_eq!(s.iter().unwrap().count(), 5, "nor iterated");
    assert!(s.iter().unwrap().all(|e| !e.payload().starts_with(PREFIX)));

    s.delete(b"a").unwrap();
    s.rename(b"b", b"b2").unwrap();
    s.batch_delete(&[b"c"]).unwrap();
    assert_eq!(listed(&s), ["b2", "streamed"]);
    assert_eq!(s.len(), 3);

    let other_path = dir.path().join("t.srd");
    let t = open(&other_path);
    s.copy(b"b2", &t).unwrap();
    s.transfer(b"streamed", &t).unwrap();
    assert_eq!(listed(&s), ["b2"]);
    assert_eq!(listed(&t), ["b2", "streamed"]);
    assert_eq!(s.key_of(compute_hash(b"b2")).unwrap().as_deref(), Some(&b"b2"[..]));
    assert_eq!(s.key_of(compute_hash(b"by-hash")).unwrap(), None);
    assert_eq!(s.key_of(compute_hash(b"a")).unwrap(), None, "a deleted key has no key");

    // Prefixes, and the async API's group commit (one append of several groups).
    let applied = s.apply_groups(
        &[
            Op::KeyedPut(compute_hash(b"user:1"), b"user:1", b"x"),
            Op::KeyedPut(compute_hash(b"user:2"), b"user:2", b"y"),
            Op::Delete(compute_hash(b"b2")),
        ],
        &[srd_engine::Group { end: 2, allow_null: false }, srd_engine::Group { end: 3, allow_null: false }],
    );
    assert!(applied.failed.is_empty());
    assert_eq!(applied.tails[1], s.file_size());
    let users: Vec<Vec<u8>> = s.keys(b"user:").unwrap();
    assert_eq!(users, [b"user:1".to_vec(), b"user:2".to_vec()], "oldest record first, prefix only");
    assert_eq!(listed(&s), ["user:1", "user:2"]);

    // Reopen, compaction.
    drop(s);
    let s = open(&path);
    assert_eq!(listed(&s), ["user:1", "user:2"]);
    assert_eq!(s.len(), 3);
    s.compact().unwrap();
    assert_eq!(listed(&s), ["user:1", "user:2"], "compaction keeps the records");
    assert_eq!(s.len(), 3);
}

#[test]
fn a_crash_between_a_record_and_its_value_lists_nothing_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let (after_first, after_batch) = {
        let s = Store::open(&path, OpenOptions { exclusive: true, ..keyed() }).unwrap();
        let t = s.write(b"kept", b"v").unwrap();
        let end = s.batch_write(&[(b"x", b"1"), (b"y", b"2")]).unwrap();
        (t, end)
    };
    let whole = std::fs::read(&path).unwrap();
    assert_eq!(whole.len() as u64, after_batch);
    // Every prefix of the batch a crash can leave: cut at each entry boundary.
    let mut cuts = vec![after_first];
    let mut t = after_batch;
    while t > after_first {
        cuts.push(t);
        let prev = u64::from_le_bytes(whole[t as usize - 12..t as usize - 4].try_into().unwrap());
        t = prev;
    }
    for cut in cuts {
        std::fs::write(&path, &whole[..cut as usize]).unwrap();
        let s = Store::open(&path, OpenOptions { exclusive: true, ..keyed() }).unwrap();
        for k in s.keys(b"").unwrap() {
            assert!(s.read(&k).unwrap().is_some(), "cut at {cut}: {:?} is listed but unreadable", k);
        }
        for k in [&b"kept"[..], b"x", b"y"] {
            if s.read(k).unwrap().is_some() {
                assert!(s.keys(k).unwrap().contains(&k.to_vec()), "cut at {cut}: {:?} is readable but unlisted", k);
            }
        }
        assert_eq!(s.len(), s.keys(b"").unwrap().len());
    }
}

#[test]
fn the_rust_crate_reads_a_store_with_records_and_sees_them_as_entries_of_namespaced_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    {
        let s = open(&path);
        s.write(b"user:42", b"profile").unwrap();
    }
    let c = simd_r_drive::DataStore::open(&path).unwrap();
    assert_eq!(c.read(b"user:42").unwrap().unwrap().as_slice(), b"profile");
    let ns = CrateNamespaceHasher::new(PREFIX).namespace(b"user:42");
    let mut expected = PREFIX.to_vec();
    expected.extend_from_slice(b"user:42");
    assert_eq!(c.read(&ns).unwrap().unwrap().as_slice(), &expected[..]);
    assert_eq!(c.len().unwrap(), 2, "the crate counts the record as an entry");
    // And what the crate writes to it is ours to read (unlisted: it records no key).
    c.write(b"from-rust", b"r").unwrap();
    drop(c);
    let s = open(&path);
    assert_eq!(s.read(b"from-rust").unwrap().unwrap().payload(), b"r");
    assert_eq!(listed(&s), ["user:42"]);
    assert_eq!(s.len(), 2);
}

#[test]
fn a_records_key_is_neither_shown_nor_writable_in_a_store_that_records_keys() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir.path().join("s.srd"));
    s.write(b"k", b"v").unwrap();
    let rk = srd_engine::NamespaceHasher::new(PREFIX).namespace(b"k");
    assert!(!s.exists(&rk), "a record is not shown by exists");
    assert!(s.read(&rk).unwrap().is_none(), "nor by read");
    assert!(s.batch_read(&[&rk]).unwrap()[0].is_none());
    assert!(matches!(s.write(&rk, b"x"), Err(srd_engine::Error::InvalidArgument(_))), "nor written over");
    assert!(s.stream_writer(compute_hash(&rk), Some(&rk)).is_err());
    assert!(matches!(s.delete(&rk), Err(srd_engine::Error::InvalidArgument(_))), "nor deleted");
    assert!(matches!(s.batch_delete_key_hashes(&[compute_hash(&rk)]), Err(srd_engine::Error::InvalidArgument(_))));
    let groups = s.apply_groups(&[Op::Delete(compute_hash(&rk))], &[srd_engine::Group { end: 1, allow_null: false }]);
    assert!(matches!(groups.failed[..], [(0, srd_engine::Error::InvalidArgument(_))]));
    assert_eq!(listed(&s), ["k"]);
    assert_eq!(s.read(b"k").unwrap().unwrap().payload(), b"v");
}
