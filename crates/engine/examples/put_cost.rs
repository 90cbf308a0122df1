//! Engine-level cost of one 64-byte put, default (shared) vs exclusive mode,
//! interleaved rounds, median: `cargo run --release --example put_cost`.
use srd_engine::{OpenOptions, Store};
use std::time::Instant;

fn round(exclusive: bool, n: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let s =
        Store::open(dir.path().join("s.srd"), OpenOptions { create: true, exclusive, ..Default::default() }).unwrap();
    let keys: Vec<String> = (0..n).map(|i| format!("key-{i}")).collect();
    let v = [7u8; 64];
    let t = Instant::now();
    for k in &keys {
        s.write(k.as_bytes(), &v).unwrap();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let (mut d, mut e) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        d.push(round(false, 200_000));
        e.push(round(true, 200_000));
    }
    d.sort_by(f64::total_cmp);
    e.sort_by(f64::total_cmp);
    println!("ns per put: default {:.0}, exclusive {:.0}", d[4], e[4]);
}
