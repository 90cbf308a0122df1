//! What `repair` did to a damaged file, as JS objects (the engine's
//! `salvage::RepairReport`).

use napi::bindgen_prelude::BigInt;
use napi_derive::napi;

/// What `repair` did to a damaged file (the engine's `salvage::RepairReport`).
#[napi(object)]
pub struct RepairReport {
    /// The damaged file as it was, kept beside the store.
    pub backup: String,
    /// Bytes kept as they were: every entry before the damage.
    pub kept_prefix: f64,
    /// Entries kept from past the damage (each proven by its checksum).
    pub salvaged_entries: u32,
    /// Byte ranges of the damaged file that were dropped.
    pub lost_ranges: Vec<LostRange>,
    /// Entries in those ranges whose metadata was still readable.
    pub lost_entries: Vec<LostEntry>,
    /// Size of the repaired file.
    pub new_size: f64,
}

#[napi(object)]
pub struct LostRange {
    pub start: f64,
    pub end: f64,
}

#[napi(object)]
pub struct LostEntry {
    pub key_hash: BigInt,
    /// Offset of its metadata in the damaged file.
    pub offset: f64,
}

impl From<&srd_engine::salvage::RepairReport> for RepairReport {
    fn from(r: &srd_engine::salvage::RepairReport) -> RepairReport {
        RepairReport {
            backup: r.backup.to_string_lossy().into_owned(),
            kept_prefix: r.kept_prefix as f64,
            salvaged_entries: r.salvaged_entries as u32,
            lost_ranges: r
                .lost_ranges
                .iter()
                .map(|&(start, end)| LostRange { start: start as f64, end: end as f64 })
                .collect(),
            lost_entries: r
                .lost_entries
                .iter()
                .map(|e| LostEntry { key_hash: BigInt::from(e.key_hash), offset: e.meta as f64 })
                .collect(),
            new_size: r.new_len as f64,
        }
    }
}
