//! The published `simd-r-drive-extensions` 0.17.5-alpha (on the published core
//! crate 0.17.5-alpha) driven by the package's interop test,
//! `__test__/ext-interop.test.mjs`, which proves both directions: the crate
//! reads what our JavaScript wrote, and our JavaScript reads what the crate
//! wrote, for TTL entries, Option entries, imported directories, and the
//! bitcode bytes of strings, byte arrays and u64s.
//!
//!     cargo run --release -p srd-engine --example ext_interop -- <command> [store] < lines
//!
//! One request per line on stdin, one answer line per request on stdout.
//! Keys and values travel as hex (`-` is the empty value); a value's type is
//! `string` (Rust `String`), `bytes` (`Vec<u8>`) or `u64` (decimal).
//!
//! | command            | request line                 | answer                                  |
//! |--------------------|------------------------------|-----------------------------------------|
//! | `encode`           | `type value`                 | hex of `bitcode::encode(value)`         |
//! | `decode`           | `type hex`                   | `ok value` or `err`                     |
//! | `write-ttl store`  | `type key value ttl_secs`    | the tail                                |
//! | `read-ttl store`   | `type key`                   | `ok value`, `none` (expired), `absent`  |
//! | `write-option store` | `type key value` or `type key none` | the tail (or `err message`)      |
//! | `read-option store`| `type key`                   | `ok value`, `none`, `absent`, `err`     |
//! | `import store`     | `namespace dir`              | `key tail` per file, then `end`, or `err message` |
//! | `read-file store`  | `namespace relpath`          | `ok payload`, `absent`                  |
//! | `raw store`        | `key`                        | `ok payload` or `absent` (a plain read)  |
//! | `helpers`          | `hex`                        | `compute_hash compute_checksum(as u32 LE)`; last line: hash batch |
//!
//! A namespace is plain text without spaces, `-` for none; a path is the rest
//! of the line. The store is opened for each command and dropped before the
//! process exits.

use simd_r_drive_0175::traits::DataStoreReader;
use simd_r_drive_0175::{compute_checksum, compute_hash, compute_hash_batch, DataStore};
use simd_r_drive_extensions::{StorageCacheExt, StorageFileImportExt, StorageOptionExt};
use std::io::{self, BufRead, ErrorKind, Write};
use std::path::Path;

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".into();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// A typed value of a request line.
enum Value {
    Str(String),
    Bytes(Vec<u8>),
    U64(u64),
}

fn value(ty: &str, text: &str) -> Value {
    match ty {
        "string" => Value::Str(String::from_utf8(unhex(text)).expect("utf-8")),
        "bytes" => Value::Bytes(unhex(text)),
        "u64" => Value::U64(text.parse().expect("u64")),
        other => panic!("unknown type {other}"),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Str(s) => hex(s.as_bytes()),
        Value::Bytes(b) => hex(b),
        Value::U64(n) => n.to_string(),
    }
}

fn encode(v: &Value) -> Vec<u8> {
    match v {
        Value::Str(s) => bitcode::encode(s),
        Value::Bytes(b) => bitcode::encode(b),
        Value::U64(n) => bitcode::encode(n),
    }
}

fn decode(ty: &str, bytes: &[u8]) -> Option<Value> {
    match ty {
        "string" => bitcode::decode::<String>(bytes).ok().map(Value::Str),
        "bytes" => bitcode::decode::<Vec<u8>>(bytes).ok().map(Value::Bytes),
        "u64" => bitcode::decode::<u64>(bytes).ok().map(Value::U64),
        other => panic!("unknown type {other}"),
    }
}

/// The answer of a typed read: `ok value`, `none`, `absent` (NotFound) or `err`.
fn answer<T>(r: io::Result<Option<T>>, wrap: impl Fn(T) -> Value) -> String {
    match r {
        Ok(Some(v)) => format!("ok {}", show(&wrap(v))),
        Ok(None) => "none".into(),
        Err(e) if e.kind() == ErrorKind::NotFound => "absent".into(),
        Err(e) => format!("err {}", e.to_string().replace('\n', " ")),
    }
}

/// `namespace path...`: the namespace (`-`: none) and the rest of the line.
fn namespace_and_path(line: &str) -> (Option<&[u8]>, &str) {
    let (ns, path) = line.split_once(' ').expect("namespace and path");
    ((ns != "-").then_some(ns.as_bytes()), path)
}

fn open(path: Option<&String>) -> DataStore {
    DataStore::open(Path::new(path.expect("a store path"))).expect("the crate opens the store")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let command = args.get(1).map(String::as_str).unwrap_or("");
    let store = match command {
        "encode" | "decode" | "helpers" => None,
        _ => Some(open(args.get(2))),
    };
    let stdin = io::stdin();
    let mut out = io::stdout().lock();
    let mut batch: Vec<Vec<u8>> = Vec::new();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(' ').collect();
        let reply = match command {
            "encode" => hex(&encode(&value(f[0], f[1]))),
            "decode" => match decode(f[0], &unhex(f[1])) {
                Some(v) => format!("ok {}", show(&v)),
                None => "err".into(),
            },
            "helpers" => {
                let bytes = unhex(f[0]);
                let sum = u32::from_le_bytes(compute_checksum(&bytes));
                let reply = format!("{} {}", compute_hash(&bytes), sum);
                batch.push(bytes);
                reply
            }
            "write-ttl" => {
                let s = store.as_ref().unwrap();
                let (key, ttl) = (unhex(f[1]), f[3].parse::<u64>().expect("ttl"));
                let r = match value(f[0], f[2]) {
                    Value::Str(v) => s.write_with_ttl(&key, &v, ttl),
                    Value::Bytes(v) => s.write_with_ttl(&key, &v, ttl),
                    Value::U64(v) => s.write_with_ttl(&key, &v, ttl),
                };
                r.map(|t| t.to_string()).unwrap_or_else(|e| format!("err {e}"))
            }
            "read-ttl" => {
                let s = store.as_ref().unwrap();
                let key = unhex(f[1]);
                match f[0] {
                    "string" => answer(s.read_with_ttl::<String>(&key), Value::Str),
                    "bytes" => answer(s.read_with_ttl::<Vec<u8>>(&key), Value::Bytes),
                    _ => answer(s.read_with_ttl::<u64>(&key), Value::U64),
                }
            }
            "write-option" => {
                let s = store.as_ref().unwrap();
                let key = unhex(f[1]);
                let r = if f[2] == "none" {
                    s.write_option::<u64>(&key, None)
                } else {
                    match value(f[0], f[2]) {
                        Value::Str(v) => s.write_option(&key, Some(&v)),
                        Value::Bytes(v) => s.write_option(&key, Some(&v)),
                        Value::U64(v) => s.write_option(&key, Some(&v)),
                    }
                };
                r.map(|t| t.to_string()).unwrap_or_else(|e| format!("err {e}"))
            }
            "read-option" => {
                let s = store.as_ref().unwrap();
                let key = unhex(f[1]);
                match f[0] {
                    "string" => answer(s.read_option::<String>(&key), Value::Str),
                    "bytes" => answer(s.read_option::<Vec<u8>>(&key), Value::Bytes),
                    _ => answer(s.read_option::<u64>(&key), Value::U64),
                }
            }
            "import" => {
                let s = store.as_ref().unwrap();
                let (ns, dir) = namespace_and_path(&line);
                match s.import_dir_recursively(dir, ns) {
                    Ok(list) => {
                        let mut lines: Vec<String> = list.iter().map(|(k, t)| format!("{} {t}", hex(k))).collect();
                        lines.push("end".into());
                        lines.join("\n")
                    }
                    Err(e) => format!("err {}", e.to_string().replace('\n', " ")),
                }
            }
            "read-file" => {
                let s = store.as_ref().unwrap();
                let (ns, rel) = namespace_and_path(&line);
                match s.read_file_entry(rel, ns).expect("read_file_entry") {
                    Some(e) => format!("ok {}", hex(e.as_slice())),
                    None => "absent".into(),
                }
            }
            "raw" => {
                let s = store.as_ref().unwrap();
                match s.read(&unhex(f[0])).expect("read") {
                    Some(e) => format!("ok {}", hex(e.as_slice())),
                    None => "absent".into(),
                }
            }
            other => panic!("unknown command {other:?}"),
        };
        writeln!(out, "{reply}").expect("stdout");
    }
    if command == "helpers" {
        let keys: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        let hashes: Vec<String> = compute_hash_batch(&keys).iter().map(u64::to_string).collect();
        writeln!(out, "{}", hashes.join(" ")).expect("stdout");
    }
}
