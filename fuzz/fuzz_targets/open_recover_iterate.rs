//! Fuzz target: the engine's open / recover / iterate path on arbitrary bytes.
//!
//! The input is written as a store file and opened with `Store::open`
//! (`create: true`); a file with no valid prefix must fail with
//! `ERR_NOT_A_STORE` and stay untouched, and then opens with `repair: true`.
//! An opened store must agree with `recovery::valid_prefix_len`, iterate,
//! read and verify every live entry, accept one new entry and read it back,
//! and reopen with everything. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use srd_engine::format::{pad_len, METADATA_SIZE};
use srd_engine::recovery::valid_prefix_len;
use srd_engine::{OpenOptions, Store};
use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let dir = root.join(format!("srd-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch().join("input.bin");
    std::fs::write(&path, data).unwrap();
    let prefix = valid_prefix_len(data);
    assert!(prefix <= data.len() as u64);

    let store = match Store::open(&path, OpenOptions { create: true, ..Default::default() }) {
        Ok(s) => s,
        Err(e) => {
            assert_eq!(e.code(), "ERR_NOT_A_STORE", "unexpected error: {e}");
            assert_eq!(prefix, 0);
            assert_eq!(std::fs::read(&path).unwrap(), data, "a refused file is left untouched");
            Store::open(&path, OpenOptions { create: true, repair: true, ..Default::default() }).expect("repair opens")
        }
    };
    assert_eq!(store.file_size(), prefix);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), prefix);

    let mut count = 0usize;
    for e in store.iter().unwrap() {
        count += 1;
        assert!(!e.is_tombstone());
        assert!(e.end_offset() + METADATA_SIZE as u64 <= prefix);
        let r = store.read_with_key_hash(e.key_hash()).unwrap().expect("iterated key reads");
        assert_eq!(r.end_offset(), e.end_offset());
        assert_eq!(r.payload(), e.payload());
        let _ = e.is_valid_checksum();
    }
    assert_eq!(count, store.len());
    let bad = store.verify().unwrap();
    assert!(bad.len() <= count);
    let _ = store.read_last_entry().unwrap();
    let _ = store.estimate_compaction_savings().unwrap();

    let tail = store.write(b"fuzz-new-key", b"fuzz payload").unwrap();
    assert_eq!(tail, prefix + pad_len(prefix) + 12 + METADATA_SIZE as u64);
    assert_eq!(store.read(b"fuzz-new-key").unwrap().unwrap().payload(), b"fuzz payload");
    drop(store);

    let store = Store::open(&path, OpenOptions::default()).expect("reopen");
    assert_eq!(store.file_size(), tail);
    assert_eq!(store.read(b"fuzz-new-key").unwrap().unwrap().payload(), b"fuzz payload");
    drop(store);
});
