//! Key records (opt-in: `OpenOptions::keys`): the file keeps only 64-bit
//! hashes of keys, so a store that must list its keys records each key's
//! bytes in an entry of its own, written in the same append as the value,
//! just before it. To the Rust crate a record is an ordinary entry: the
//! entry of the 16-byte key `NamespaceHasher::new(PREFIX).namespace(key)`,
//! whose payload is `PREFIX` followed by the key's bytes.
//!
//! Invariants (kept by `store::commit`'s expansion of ops):
//! - a put of a key whose bytes are known writes its record first, so after
//!   a crash (a batch keeps a prefix of its entries) a readable key written
//!   with keys on is always recorded;
//! - a delete writes the value's tombstone first, then the record's, so a
//!   record can outlive its key only after a crash: listing shows only keys
//!   that are live, so a listed key is always readable.

use crate::hash::compute_hash;

/// The record namespace and payload prefix: 0xF7 "key" 0xFD, in the style
/// of the Rust extensions' prefixes (`F7 "ttl" FD`, `F7 "option" FD`).
pub const PREFIX: &[u8; 5] = b"\xF7key\xFD";

/// The key hash of the record of a key whose hash is `key_hash`: the hash
/// of `u64le(hash(PREFIX)) ++ u64le(key_hash)`, i.e. of the crate's
/// `NamespaceHasher::new(PREFIX).namespace(key)`.
pub fn record_hash(key_hash: u64) -> u64 {
    let mut ns = [0u8; 16];
    ns[..8].copy_from_slice(&prefix_hash().to_le_bytes());
    ns[8..].copy_from_slice(&key_hash.to_le_bytes());
    compute_hash(&ns)
}

/// True for a key reserved for records: the 16-byte namespaced key whose
/// hash is a record hash (`NamespaceHasher::new(PREFIX).namespace(k)` for
/// some `k`). A store that records keys refuses to write it.
pub fn is_record_key(key: &[u8]) -> bool {
    key.len() == 16 && key[..8] == prefix_hash().to_le_bytes()
}

fn prefix_hash() -> u64 {
    static PREFIX_HASH: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| compute_hash(PREFIX));
    *PREFIX_HASH
}

/// Appends the record of the key `key` (of hash `key_hash`) to `buf`,
/// whose first byte lands at file offset `base`, as
/// [`format::encode_entry`](crate::format::encode_entry) does; returns the
/// new tail. The payload is written in two parts (no joined copy).
pub(crate) fn encode_record(buf: &mut Vec<u8>, base: u64, key_hash: u64, key: &[u8]) -> u64 {
    crate::format::encode_entry2(buf, base, record_hash(key_hash), PREFIX, key)
}

/// The payload of a key's record.
pub fn record_payload(key: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(PREFIX.len() + key.len());
    p.extend_from_slice(PREFIX);
    p.extend_from_slice(key);
    p
}

/// The key an entry of hash `hash` and payload `payload` records, if it is
/// a record: its payload starts with `PREFIX` and `hash` is the record hash
/// of the rest (a user's entry passes only by a 64-bit hash collision).
pub fn record_key(hash: u64, payload: &[u8]) -> Option<&[u8]> {
    let key = payload.strip_prefix(PREFIX.as_slice())?;
    (record_hash(compute_hash(key)) == hash).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::NamespaceHasher;

    #[test]
    fn a_record_is_the_entry_of_the_namespaced_key_and_is_recognised_only_as_such() {
        for key in [&b""[..], b"k", b"user:42", &[0xF7, 0, 0xFD][..]] {
            let ns = NamespaceHasher::new(PREFIX).namespace(key);
            assert_eq!(record_hash(compute_hash(key)), compute_hash(&ns));
            let p = record_payload(key);
            assert_eq!(record_key(record_hash(compute_hash(key)), &p), Some(key));
            assert_eq!(record_key(compute_hash(key), &p), None, "the key's own hash is not a record's");
            assert_eq!(record_key(record_hash(compute_hash(b"other")), &p), None);
        }
        assert_eq!(record_key(record_hash(compute_hash(b"x")), b"x"), None, "no prefix, no record");
    }
}
