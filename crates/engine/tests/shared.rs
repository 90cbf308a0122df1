//! Several engines on one file through the shared page (`<store>.shm`):
//! what a writer that died holding the append lock left, a compaction that
//! died midway, a file replaced at the path, and a read-only engine
//! following a writer across appends and compactions. (Real processes,
//! killed at random moments, are `__test__/multiprocess.test.mjs`.)
//!
//! The page's layout is read and written here through its file, at the
//! offsets `shared/page.rs` documents: the engine maps it shared, so a
//! `pwrite` to the file is what another process's store would look like.

use srd_engine::format::encode_entry;
use srd_engine::{compute_hash, recovery, Error, OpenOptions, Store};
use std::fs::OpenOptions as FsOpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const STATE_AT: u64 = 8;
const PENDING_AT: u64 = 16;
const CHANGING: u64 = 1 << 63;

fn create() -> OpenOptions {
    OpenOptions { create: true, ..Default::default() }
}

fn shm(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.shm", path.display()))
}

fn page_word(path: &Path, at: u64) -> u64 {
    let mut b = [0u8; 8];
    std::fs::File::open(shm(path)).unwrap().read_exact_at(&mut b, at).unwrap();
    u64::from_le_bytes(b)
}

fn set_page_word(path: &Path, at: u64, v: u64) {
    FsOpenOptions::new().write(true).open(shm(path)).unwrap().write_all_at(&v.to_le_bytes(), at).unwrap();
}

fn append(path: &Path, bytes: &[u8]) {
    FsOpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

fn payload(s: &Store, key: &[u8]) -> Option<Vec<u8>> {
    s.read(key).unwrap().map(|e| e.payload().to_vec())
}

/// The whole file is one valid chain.
fn assert_whole(path: &Path) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(recovery::valid_prefix_len(&b), b.len() as u64, "the file must end with a whole entry");
}

#[test]
fn the_next_writer_cuts_what_a_dead_writer_tore_and_keeps_its_whole_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let s = Store::open(&path, create()).unwrap();
    for i in 0..10u32 {
        s.write(format!("k{i}").as_bytes(), format!("value {i}").as_bytes()).unwrap();
    }
    let committed = s.file_size();
    assert_eq!(page_word(&path, STATE_AT) & ((1 << 48) - 1), committed, "the page holds the committed tail");

    // A writer that died mid-append: half an entry past the committed tail, PENDING left set.
    let mut torn = Vec::new();
    encode_entry(&mut torn, committed, compute_hash(b"torn"), &[7u8; 300]);
    append(&path, &torn[..torn.len() / 2]);
    set_page_word(&path, PENDING_AT, 1);
    s.write(b"after", b"next writer").unwrap();
    assert_whole(&path);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), s.file_size());
    assert_eq!(payload(&s, b"after").as_deref(), Some(&b"next writer"[..]));
    assert_eq!(payload(&s, b"torn"), None);
    assert_eq!(page_word(&path, PENDING_AT), 0, "PENDING is cleared when the append lock is released");
    for i in 0..10u32 {
        assert_eq!(payload(&s, format!("k{i}").as_bytes()).unwrap(), format!("value {i}").as_bytes());
    }

    // One that died after writing a whole entry but before publishing it:
    // the entry reads whole to anyone, so it is kept, not cut.
    let tail = s.file_size();
    let mut whole = Vec::new();
    encode_entry(&mut whole, tail, compute_hash(b"ghost"), b"written whole, never acknowledged");
    append(&path, &whole);
    set_page_word(&path, PENDING_AT, 1);
    s.write(b"after2", b"x").unwrap();
    assert_whole(&path);
    assert_eq!(payload(&s, b"ghost").as_deref(), Some(&b"written whole, never acknowledged"[..]));
    assert_eq!(s.len(), 13);
}

#[test]
fn a_compaction_that_died_between_rename_and_publish_is_settled_as_a_new_generation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let s = Store::open(&path, create()).unwrap();
    s.write(b"old-only", b"in the old file").unwrap();
    s.write(b"both", b"old version").unwrap();

    // What the dead compaction renamed over the path: another whole store.
    let other = dir.path().join("other.srd");
    {
        let o = Store::open(&other, OpenOptions { create: true, exclusive: true, ..Default::default() }).unwrap();
        o.write(b"both", b"compacted version").unwrap();
        o.write(b"new-only", b"in the new file").unwrap();
    }
    let word = page_word(&path, STATE_AT);
    set_page_word(&path, STATE_AT, word | CHANGING);
    // Readers keep the old file while the page says a compaction is running.
    assert_eq!(payload(&s, b"old-only").as_deref(), Some(&b"in the old file"[..]));
    std::fs::rename(&other, &path).unwrap();
    set_page_word(&path, PENDING_AT, 1);

    s.write(b"after", b"lands in the new file").unwrap();
    assert_ne!(page_word(&path, STATE_AT) >> 48 & 0x7fff, word >> 48 & 0x7fff, "a new generation");
    assert_eq!(page_word(&path, STATE_AT) & CHANGING, 0);
    assert_eq!(payload(&s, b"both").as_deref(), Some(&b"compacted version"[..]));
    assert_eq!(payload(&s, b"new-only").as_deref(), Some(&b"in the new file"[..]));
    assert_eq!(payload(&s, b"old-only"), None);
    assert_eq!(payload(&s, b"after").as_deref(), Some(&b"lands in the new file"[..]));
    assert_whole(&path);
    drop(s);
    let again = Store::open(&path, create()).unwrap();
    assert_eq!(payload(&again, b"after").as_deref(), Some(&b"lands in the new file"[..]));
    assert_eq!(again.len(), 3);
}

#[test]
fn a_file_deleted_and_created_again_at_the_path_is_followed_by_the_engine_of_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let a = Store::open(&path, create()).unwrap();
    a.write(b"old", b"in the deleted file").unwrap();
    std::fs::remove_file(&path).unwrap();
    // A new file at the path: a second engine (another inode), joining the page.
    let b = Store::open(&path, create()).unwrap();
    assert_eq!(b.len(), 0);
    b.write(b"new", b"from b").unwrap();
    // The old engine moves to the file at the path, for reads and writes.
    assert_eq!(payload(&a, b"new").as_deref(), Some(&b"from b"[..]));
    assert_eq!(payload(&a, b"old"), None);
    a.write(b"from-a", b"after the move").unwrap();
    assert_eq!(payload(&b, b"from-a").as_deref(), Some(&b"after the move"[..]));
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 2);
    assert_whole(&path);
}

#[test]
fn a_read_only_engine_follows_appends_deletes_and_compactions_of_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let w = Store::open(&path, create()).unwrap();
    w.write(b"a", b"1").unwrap();
    let r = Store::open(&path, OpenOptions { read_only: true, ..Default::default() }).unwrap();
    assert!(r.is_read_only() && !w.is_read_only());
    assert_eq!(r.len(), 1);
    for i in 0..1000u32 {
        w.write(format!("k{i}").as_bytes(), &i.to_le_bytes()).unwrap();
    }
    assert_eq!(r.len(), 1001, "appends are followed without reopening");
    assert_eq!(r.file_size(), w.file_size());
    w.delete(b"k5").unwrap();
    assert!(!r.exists(b"k5"));
    let held = r.read(b"k7").unwrap().unwrap();
    for i in 0..500u32 {
        w.delete(format!("k{i}").as_bytes()).unwrap();
    }
    w.compact().unwrap();
    w.write(b"after", b"compaction").unwrap();
    assert_eq!(r.len(), 502, "the compacted file is followed (a, k500..k999, after)");
    assert_eq!(payload(&r, b"after").as_deref(), Some(&b"compaction"[..]));
    assert_eq!(payload(&r, b"k999").unwrap(), 999u32.to_le_bytes());
    assert_eq!(held.payload(), 7u32.to_le_bytes(), "a handle taken before keeps its bytes");
    assert_eq!(r.iter().unwrap().count(), 502);
    assert!(matches!(r.write(b"x", b"y"), Err(Error::ReadOnly)));
    assert!(matches!(r.delete(b"a"), Err(Error::ReadOnly)));
    assert!(matches!(r.compact(), Err(Error::ReadOnly)));
    assert_eq!(w.len(), 502);
}

#[test]
fn exclusive_and_shared_opens_never_meet_and_read_only_opens_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    let missing = Store::open(&path, OpenOptions { read_only: true, create: true, ..Default::default() });
    assert!(matches!(missing, Err(Error::Io { ref source, .. }) if source.kind() == std::io::ErrorKind::NotFound));
    assert!(!path.exists() && !shm(&path).exists(), "a read-only open creates nothing");

    let x = Store::open(&path, OpenOptions { create: true, exclusive: true, ..Default::default() }).unwrap();
    x.write(b"k", b"v").unwrap();
    assert!(!shm(&path).exists(), "an exclusive open makes no shared page");
    let r = Store::open(&path, OpenOptions { read_only: true, ..Default::default() });
    assert!(matches!(r, Err(Error::StoreLocked)), "a read-only open beside an exclusive one");
    drop(x);
    let r = Store::open(&path, OpenOptions { read_only: true, ..Default::default() }).unwrap();
    assert_eq!(payload(&r, b"k").as_deref(), Some(&b"v"[..]));
    drop(r);
    let bad = Store::open(&path, OpenOptions { read_only: true, repair: true, ..Default::default() });
    assert!(matches!(bad, Err(Error::InvalidArgument(_))));
}

#[test]
fn a_read_only_open_reads_past_a_torn_tail_without_cutting_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.srd");
    {
        let s = Store::open(&path, OpenOptions { create: true, exclusive: true, ..Default::default() }).unwrap();
        s.write(b"k", b"kept").unwrap();
    }
    append(&path, &[0xAB; 37]);
    let before = std::fs::read(&path).unwrap();
    let r = Store::open(&path, OpenOptions { read_only: true, ..Default::default() }).unwrap();
    assert_eq!(payload(&r, b"k").as_deref(), Some(&b"kept"[..]));
    assert_eq!(r.file_size() + 37, before.len() as u64);
    drop(r);
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file is left byte-identical");
}
