//! Engine vs the published `simd-r-drive` crate (0.16.3-alpha), side by side
//! in one process, same data, same disk. Run by `npm run bench` (bench/run.mjs)
//! or directly:
//!
//!     cargo run --release --example compare -p srd-engine
//!
//! Prints one JSON object on stdout (progress on stderr). Each figure is the
//! median of `SRD_BENCH_REPS` (default 3) repetitions, each in a fresh file.
//!
//! Rows: single writes (one call per entry, page cache, no fsync on either
//! side), one batch of 100,000 entries, 1,000,000 random reads of present and
//! of absent keys (payload slice touched), open + first read of a
//! 1,000,000-entry file, and open of that file with a torn last entry
//! (recovery cuts the partial entry).

use simd_r_drive::traits::{DataStoreReader, DataStoreWriter};
use simd_r_drive::DataStore;
use srd_engine::{OpenOptions, Store};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Deterministic xorshift; values never start with 0 (tombstone byte).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v: Vec<u8> = (0..n).map(|_| (self.next() >> 24) as u8).collect();
        if v[0] == 0 {
            v[0] = 1;
        }
        v
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn open_ours(p: &Path) -> std::sync::Arc<Store> {
    Store::open(p, OpenOptions { create: true, ..Default::default() }).expect("engine open")
}
fn open_crate(p: &Path) -> DataStore {
    DataStore::open(p).expect("crate open")
}

struct Data {
    keys: Vec<Vec<u8>>,
    values: Vec<Vec<u8>>,
    absent: Vec<Vec<u8>>,
    order: Vec<u32>,
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn main() {
    let reps = env_usize("SRD_BENCH_REPS", 3);
    let n = env_usize("SRD_BENCH_KEYS", 100_000);
    let n_single = env_usize("SRD_BENCH_SINGLE", 100_000);
    let n_gets = env_usize("SRD_BENCH_GETS", 1_000_000);
    let n_open = env_usize("SRD_BENCH_OPEN_KEYS", 1_000_000);
    let root: PathBuf = std::env::var_os("SRD_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new().prefix("srd-compare-").tempdir_in(&root).expect("temp dir");
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let data = Data {
        keys: (0..n).map(|i| format!("key-{i}").into_bytes()).collect(),
        values: (0..n).map(|_| rng.bytes(64)).collect(),
        absent: (0..n).map(|i| format!("absent-{i}").into_bytes()).collect(),
        order: (0..n_gets).map(|_| (rng.next() % n as u64) as u32).collect(),
    };
    let pairs: Vec<(&[u8], &[u8])> =
        data.keys.iter().zip(&data.values).map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
    let mut file_no = 0u32;
    let mut fresh = |tag: &str| {
        file_no += 1;
        dir.path().join(format!("{tag}-{file_no}.bin"))
    };

    // name -> (ours samples, crate samples)
    let mut rows: Vec<(&str, &str, Vec<f64>, Vec<f64>)> = vec![
        ("single_write", "ops/s", vec![], vec![]),
        ("batch_100k", "ops/s", vec![], vec![]),
        ("random_read", "ops/s", vec![], vec![]),
        ("absent_read", "ops/s", vec![], vec![]),
        ("open_1m", "ms", vec![], vec![]),
        ("torn_tail_pad_open_1m", "ms", vec![], vec![]),
        ("torn_tail_payload_open_1m", "ms", vec![], vec![]),
    ];
    // Live entries each engine reports after recovering each torn file (ours, crate).
    let mut live_after = [(0usize, 0usize); 2];

    // The 1,000,000-entry file both engines open (same bytes: the format is shared).
    eprintln!("[rust] building a {n_open}-entry file");
    let big = fresh("big");
    {
        let s = open_ours(&big);
        let mut r = Rng(42);
        let mut i = 0;
        while i < n_open {
            let m = (n_open - i).min(100_000);
            let ks: Vec<Vec<u8>> = (i..i + m).map(|j| format!("key-{j}").into_bytes()).collect();
            let vs: Vec<Vec<u8>> = (0..m).map(|_| r.bytes(64)).collect();
            let b: Vec<(&[u8], &[u8])> = ks.iter().zip(&vs).map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
            s.batch_write(&b).unwrap();
            i += m;
        }
    }
    let big_len = std::fs::metadata(&big).unwrap().len();

    for rep in 0..reps {
        eprintln!("[rust] repetition {}/{reps}", rep + 1);
        // ---- single writes
        {
            let p = fresh("single-ours");
            let s = open_ours(&p);
            let t = Instant::now();
            for i in 0..n_single {
                s.write(&data.keys[i % n], &data.values[i % n]).unwrap();
            }
            rows[0].2.push(n_single as f64 / secs(t));
            drop(s);
            let p = fresh("single-crate");
            let s = open_crate(&p);
            let t = Instant::now();
            for i in 0..n_single {
                s.write(&data.keys[i % n], &data.values[i % n]).unwrap();
            }
            rows[0].3.push(n_single as f64 / secs(t));
        }
        // ---- one batch each, then reads on those stores. The reads of the two
        // engines alternate in slices of 100,000, so both see the same mix of
        // this VM's fast and slow spells (they last from milliseconds to
        // seconds; one run of 1,000,000 reads per engine landed in different
        // ones and swung the ratio between 0.8x and 1.4x).
        {
            let p = fresh("batch-ours");
            let ours = open_ours(&p);
            let t = Instant::now();
            ours.batch_write(&pairs).unwrap();
            rows[1].2.push(n as f64 / secs(t));
            let p = fresh("batch-crate");
            let theirs = open_crate(&p);
            let t = Instant::now();
            theirs.batch_write(&pairs).unwrap();
            rows[1].3.push(n as f64 / secs(t));

            let (mut acc, mut acc2, mut miss, mut miss2) = (0u64, 0u64, 0u64, 0u64);
            let mut spent = [0f64; 4]; // random ours, random crate, absent ours, absent crate
                                       // Which engine goes first alternates from slice to slice: the
                                       // one that follows the other's random reads finds its index
                                       // evicted from the caches, the other does not (with the engine
                                       // always first, its absent-key reads measured 0.7x the crate's;
                                       // alternating, 1.3-1.4x).
            for (k, slice) in data.order.chunks(100_000).enumerate() {
                for engine_side in [k % 2 == 0, k % 2 == 1] {
                    let t = Instant::now();
                    if engine_side {
                        for &i in slice {
                            acc += ours.read(&data.keys[i as usize]).unwrap().unwrap().payload()[0] as u64;
                        }
                        spent[0] += secs(t);
                    } else {
                        for &i in slice {
                            acc2 += theirs.read(&data.keys[i as usize]).unwrap().unwrap().as_slice()[0] as u64;
                        }
                        spent[1] += secs(t);
                    }
                }
                for engine_side in [k % 2 == 0, k % 2 == 1] {
                    let t = Instant::now();
                    if engine_side {
                        for &i in slice {
                            miss += ours.read(&data.absent[i as usize]).unwrap().is_none() as u64;
                        }
                        spent[2] += secs(t);
                    } else {
                        for &i in slice {
                            miss2 += theirs.read(&data.absent[i as usize]).unwrap().is_none() as u64;
                        }
                        spent[3] += secs(t);
                    }
                }
            }
            assert_eq!(acc, acc2, "both engines read the same bytes");
            assert_eq!((miss as usize, miss2 as usize), (n_gets, n_gets));
            rows[2].2.push(n_gets as f64 / spent[0]);
            rows[2].3.push(n_gets as f64 / spent[1]);
            rows[3].2.push(n_gets as f64 / spent[2]);
            rows[3].3.push(n_gets as f64 / spent[3]);
        }
        // ---- open of the 1,000,000-entry file + first read (page cache warm)
        {
            let t = Instant::now();
            let s = open_ours(&big);
            black_box(s.read(b"key-0").unwrap().unwrap().payload()[0]);
            rows[4].2.push(secs(t) * 1e3);
            assert_eq!(s.len(), n_open);
            drop(s);
            let t = Instant::now();
            let s = open_crate(&big);
            black_box(s.read(b"key-0").unwrap().unwrap().as_slice()[0]);
            rows[4].3.push(secs(t) * 1e3);
            drop(s);
        }
        // ---- torn tail, as a crash mid-append leaves it. Two cuts of the last
        // entry (64-byte payload, 44 zero pad bytes before it):
        //  - "pad": only 10 bytes of its pre-pad made it to disk;
        //  - "payload": pre-pad and 54 payload bytes made it, metadata did not.
        // Both engines must keep the 999,999 entries before it. The live count
        // each engine reports after recovery is recorded next to its time.
        for (row, cut) in [(5usize, 128 - 10), (6usize, 30)] {
            for ours in [true, false] {
                let p = fresh("torn");
                std::fs::copy(&big, &p).unwrap();
                {
                    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
                    f.set_len(big_len - cut).unwrap();
                    // Flush the copy now so recovery's own fsync after the cut
                    // does not pay for writing back this setup copy.
                    f.sync_all().unwrap();
                }
                let t = Instant::now();
                let (live, first) = if ours {
                    let s = open_ours(&p);
                    let first = s.read(b"key-0").unwrap().map(|h| h.payload()[0]);
                    (s.len(), first)
                } else {
                    let s = open_crate(&p);
                    let first = s.read(b"key-0").unwrap().map(|h| h.as_slice()[0]);
                    (s.len().unwrap(), first)
                };
                let ms = secs(t) * 1e3;
                black_box(first);
                if ours {
                    rows[row].2.push(ms);
                    live_after[row - 5].0 = live;
                } else {
                    rows[row].3.push(ms);
                    live_after[row - 5].1 = live;
                }
                std::fs::remove_file(&p).ok();
            }
        }
    }

    let mut out = String::from("{\"rows\":[");
    for (i, (name, unit, ours, krate)) in rows.into_iter().enumerate() {
        let (o, c) = (median(ours), median(krate));
        // Ratio > 1 means the engine is better (higher ops/s, lower ms).
        let ratio = if unit == "ms" { c / o } else { o / c };
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"name\":\"{name}\",\"unit\":\"{unit}\",\"engine\":{o},\"crate\":{c},\"ratio\":{ratio}}}"
        ));
    }
    out.push_str(&format!(
        "],\"tornLive\":{{\"pad\":{{\"engine\":{},\"crate\":{}}},\"payload\":{{\"engine\":{},\"crate\":{}}},\"expected\":{}}}",
        live_after[0].0,
        live_after[0].1,
        live_after[1].0,
        live_after[1].1,
        n_open - 1
    ));
    out.push_str(&format!(
        ",\"reps\":{reps},\"keys\":{n},\"singleWrites\":{n_single},\"gets\":{n_gets},\"openKeys\":{n_open}}}"
    ));
    println!("{out}");
}
