//! Writes the fuzz corpus seeds: small real store files made by the engine,
//! plus a few damaged ones (zero tail, torn tail), into the directory given
//! as the first argument (default `fuzz/seeds`). Deterministic. Run by
//! `fuzz/seed.sh`.

use srd_engine::{OpenOptions, Store};
use std::path::{Path, PathBuf};

fn pat(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8 | 1
        })
        .collect()
}

fn make(dir: &Path, name: &str, build: impl FnOnce(&Store)) -> Vec<u8> {
    let path = dir.join(format!("{name}.tmp"));
    let _ = std::fs::remove_file(&path);
    {
        let store = Store::open(&path, OpenOptions { create: true, ..Default::default() }).unwrap();
        build(&store);
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

fn main() {
    let out: PathBuf = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("fuzz/seeds"));
    std::fs::create_dir_all(&out).unwrap();
    let tmp = std::env::temp_dir().join(format!("srd-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();

    seeds.push(("one-entry", make(&tmp, "a", |s| {
        s.write(b"k", b"v").unwrap();
    })));
    seeds.push(("tombstone-last", make(&tmp, "b", |s| {
        s.write(b"a", b"hello").unwrap();
        s.write(b"b", b"world").unwrap();
        s.delete(b"a").unwrap();
    })));
    let mixed = make(&tmp, "c", |s| {
        for i in 0..40u64 {
            let key = format!("key-{}", i % 13);
            let len = [1, 3, 17, 63, 64, 65, 200][i as usize % 7];
            s.write(key.as_bytes(), &pat(i, len)).unwrap();
            if i % 6 == 5 {
                s.delete(format!("key-{}", (i * 7) % 13).as_bytes()).unwrap();
            }
        }
    });
    seeds.push(("mixed", mixed.clone()));
    seeds.push(("batches", make(&tmp, "d", |s| {
        for b in 0..6u64 {
            let entries: Vec<(Vec<u8>, Vec<u8>)> =
                (0..5).map(|j| (format!("b{b}-{j}").into_bytes(), pat(b * 10 + j, 1 + (j as usize * 29) % 90))).collect();
            let refs: Vec<(&[u8], &[u8])> = entries.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            s.batch_write(&refs).unwrap();
        }
        s.batch_delete(&[b"b0-0", b"b1-1", b"nope"]).unwrap();
    })));
    seeds.push(("large-payload", make(&tmp, "e", |s| {
        s.write(b"small", b"x").unwrap();
        s.write(b"large", &pat(5, 5000)).unwrap(); // past recovery's 4 KiB direct-checksum limit
        s.write(b"after", b"yz").unwrap();
    })));
    seeds.push(("zero-payloads", make(&tmp, "f", |s| {
        s.write(b"z1", &[0u8; 40]).unwrap();
        s.write(b"z2", &[0u8; 2]).unwrap();
        s.write(b"z1", &[0, 0, 0, 1]).unwrap();
    })));
    seeds.push(("renamed-compacted", make(&tmp, "g", |s| {
        for i in 0..10u64 {
            s.write(format!("r{i}").as_bytes(), &pat(i, 30)).unwrap();
        }
        s.rename(b"r1", b"r1-renamed").unwrap();
        s.delete(b"r2").unwrap();
        s.compact().unwrap();
        s.write(b"r3", b"post-compaction").unwrap();
    })));
    let mut zero_tail = mixed.clone();
    zero_tail.resize(mixed.len() + 300, 0);
    seeds.push(("mixed-zero-tail", zero_tail));
    let mut torn = mixed.clone();
    torn.truncate(mixed.len() - 7);
    seeds.push(("mixed-torn-tail", torn));
    let mut junk = mixed.clone();
    junk.extend(pat(99, 150));
    seeds.push(("mixed-junk-tail", junk));
    seeds.push(("not-a-store", b"this is not a store, just some text that a user opened by mistake\n".to_vec()));

    let mut total = 0;
    for (name, bytes) in &seeds {
        std::fs::write(out.join(format!("{name}.srd")), bytes).unwrap();
        total += bytes.len();
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!("wrote {} seeds ({total} bytes) to {}", seeds.len(), out.display());
}
