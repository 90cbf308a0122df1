//! Opening a store: sharing an engine already open in this process,
//! locking the file, recovering its valid prefix, telling a torn tail (cut)
//! from damage in the middle (refused, or rebuilt on repair: see
//! [`crate::salvage`]), and building the index.

use super::{Indexed, Store};
use crate::error::{Call, Error, IoContext, Result};
use crate::generation::Generation;
use crate::index::KeyIndex;
use crate::mapping::ReadMap;
use crate::platform;
use crate::recovery;
use crate::registry;
use crate::salvage;
use crate::writer::Writer;
use std::fs::{File, OpenOptions as FsOpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Create the file if it is missing (`DataStore.open`); `false` for `openExisting`.
    pub create: bool,
    /// Rebuild a damaged file (see [`crate::salvage`]) instead of failing
    /// with `CorruptStore` or `NotAStore`: the valid prefix and every proven
    /// entry past it are kept, the damaged file is kept as a backup.
    pub repair: bool,
    /// fsync after every write or batch before it returns.
    pub durable: bool,
}

/// The canonical form of a path (the file may not exist yet).
fn canonical(path: &Path) -> io::Result<PathBuf> {
    match path.canonicalize() {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let name = path.file_name().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.canonicalize()?,
                _ => std::env::current_dir()?,
            };
            Ok(parent.join(name))
        }
        Err(e) => Err(e),
    }
}

/// Takes the advisory exclusive lock that keeps a second process out.
pub(super) fn lock_file(file: &File) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::StoreLocked),
        Err(std::fs::TryLockError::Error(e)) => Err(e).during(Call::Lock),
    }
}

impl Store {
    /// Opens (or shares, if this process has it open already) the store at `path`.
    pub fn open(path: impl AsRef<Path>, opts: OpenOptions) -> Result<Arc<Store>> {
        let path = path.as_ref();
        if !opts.create && !path.exists() {
            return Err(Error::io(io::ErrorKind::NotFound.into(), Call::Open, path));
        }
        let shown = path;
        // Reported as the open it is part of (a missing folder: ENOENT, open).
        let path = canonical(path).at(Call::Open, shown)?;
        let existed = path.exists();
        let open_file = || FsOpenOptions::new().read(true).write(true).create(opts.create).truncate(false).open(&path);
        registry::get_or_open(
            &path,
            open_file,
            |file| Store::open_new(path.clone(), file, existed, opts),
            Store::file_id,
        )
        .map_err(|e| e.on_path(shown))
    }

    fn open_new(path: PathBuf, file: File, existed: bool, opts: OpenOptions) -> Result<Store> {
        // Where opening a directory for writing does not fail by itself (Windows).
        if file.metadata().at(Call::Stat, &path)?.is_dir() {
            return Err(Error::io(io::ErrorKind::IsADirectory.into(), Call::Open, &path));
        }
        lock_file(&file).map_err(|e| e.on_path(&path))?;
        let os_len = file.metadata().at(Call::Stat, &path)?.len();
        let ro = File::open(&path).at(Call::Open, &path)?;
        let map = ReadMap::new(&ro, os_len).at(Call::Map, &path)?;
        // Common case: an intact file. Checking its last entry and building the
        // index (which walks and checks the whole chain) is the only pass.
        let intact = if os_len == 0 {
            Some(KeyIndex::default())
        } else if recovery::tail_entry_intact(map.bytes()) {
            KeyIndex::build_chain(map.bytes())
        } else {
            None
        };
        let valid = if intact.is_some() { os_len } else { recovery::valid_prefix_len(map.bytes()) };
        // A repair also checks every checksum: damage that open alone cannot
        // see (a damaged payload, a link moved onto another entry's end) is
        // dropped and what follows it salvaged.
        let checked = if opts.repair { salvage::checked_prefix(map.bytes(), valid) } else { valid };
        if checked < os_len {
            // Torn tail (cut below) or damage in the middle (refused, or rebuilt on repair).
            let scan = salvage::scan(map.bytes(), checked);
            if !scan.is_torn_tail() || (checked == 0 && opts.repair) || checked < valid {
                if !opts.repair {
                    return Err(corrupt(&path, &scan));
                }
                let report = salvage::rebuild(&path, map.bytes(), &scan)?;
                drop((map, ro, file));
                let file = FsOpenOptions::new().read(true).write(true).open(&path).at(Call::Open, &path)?;
                // The rebuilt file holds proven entries only: it opens as any
                // store (no second checksum pass over it, and no second repair).
                let mut store = Store::open_new(path, file, true, OpenOptions { repair: false, ..opts })?;
                store.repair_report = Some(report);
                return Ok(store);
            }
            if valid == 0 {
                return Err(Error::NotAStore(format!(
                    "{} is not a SIMD R Drive store (no valid entry chain in its {os_len} bytes); \
                     it was left untouched (pass {{ repair: true }} to keep a backup of it and start it empty)",
                    path.display()
                )));
            }
        }
        let map = if valid < os_len {
            // Nothing else maps this file: this process has no other engine
            // for it (registry) and other processes are locked out.
            // No fsync here: an un-synced cut can only bring the cut-off tail
            // back after an OS crash, and the next open cuts it again.
            drop(map);
            file.set_len(valid).at(Call::Truncate, &path)?;
            ReadMap::new(&ro, valid).at(Call::Map, &path)?
        } else {
            map
        };
        let index = match intact {
            Some(index) => index,
            None => KeyIndex::build(map.bytes()),
        };
        let created = !existed;
        if created && opts.durable {
            platform::sync_dir(&path);
        }
        let generation = Arc::new(Generation::new(ro));
        Ok(Store {
            generation_id: AtomicU64::new(generation.id),
            dir_unsynced: std::sync::atomic::AtomicBool::new(created && !opts.durable),
            path,
            durable: opts.durable,
            writer: Mutex::new(Writer::new(file, valid)),
            index: RwLock::new(Indexed { keys: index, map: Arc::new(map) }),
            generation: RwLock::new(generation),
            tail: AtomicU64::new(valid),
            producer: std::sync::atomic::AtomicUsize::new(0),
            repair_report: None,
        })
    }
}

/// The error for a file with whole entries past a broken part (see [`crate::salvage`]).
fn corrupt(path: &Path, scan: &salvage::Scan) -> Error {
    let first = scan.proven.first().map_or(0, |p| p.prev);
    Error::CorruptStore(format!(
        "{} is damaged at offset {}: the {} bytes before it are intact, and {} entries ({} bytes) past the damage, \
         from offset {first}, are whole; open refuses to drop them, and the file was left untouched. \
         Open it with {{ repair: true }} to keep a backup of the damaged file beside it and rebuild the store \
         from every entry that can be proven intact",
        path.display(),
        scan.from,
        scan.from,
        scan.proven.len(),
        scan.proven_bytes(),
    ))
}
