//! Opening a store: sharing an engine already open in this process,
//! locking the file (exclusive, or shared with other processes through the
//! page of [`crate::shared`], or read-only), recovering its valid prefix, telling a torn tail (cut)
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
use crate::shared::{Attached, Shared};
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
    /// Keep other processes out while open (they get `StoreLocked`), as a
    /// single-process store: no shared page, no append lock.
    pub exclusive: bool,
    /// Open without write access: nothing is created, cut or locked for
    /// writing; writes fail with `Error::ReadOnly`. A torn tail is read
    /// past, not cut; other processes' commits are followed through the
    /// shared page where it can be read.
    pub read_only: bool,
    /// Record the bytes of every key written by key, so that keys can be
    /// listed (see [`crate::keys`]); the records are hidden from `len`,
    /// iteration and `exists`. Any open of an engine asking for it turns it on.
    pub keys: bool,
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

/// Takes the advisory exclusive lock that keeps every other process out (`exclusive`).
pub(super) fn lock_file(file: &File) -> Result<()> {
    lock_result(file.try_lock())
}

/// Takes the advisory shared lock every non-exclusive open holds on the
/// store file, so that an `exclusive` open and the others never meet.
pub(super) fn lock_shared(file: &File) -> Result<()> {
    lock_result(file.try_lock_shared())
}

fn lock_result(r: std::result::Result<(), std::fs::TryLockError>) -> Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::StoreLocked),
        Err(std::fs::TryLockError::Error(e)) => Err(e).during(Call::Lock),
    }
}

/// A store file read at open: its handles, a map and index of its valid
/// prefix, and what a repair did.
struct Recovered {
    file: File,
    ro: File,
    map: ReadMap,
    keys: KeyIndex,
    tail: u64,
    report: Option<salvage::RepairReport>,
}

impl Store {
    /// Opens (or shares, if this process has it open already) the store at `path`.
    pub fn open(path: impl AsRef<Path>, opts: OpenOptions) -> Result<Arc<Store>> {
        let path = path.as_ref();
        if opts.read_only && opts.repair {
            return Err(Error::invalid("a read-only open cannot repair a store (it writes nothing)"));
        }
        let create = opts.create && !opts.read_only;
        if !create && !path.exists() {
            return Err(Error::io(io::ErrorKind::NotFound.into(), Call::Open, path));
        }
        let shown = path;
        // Reported as the open it is part of (a missing folder: ENOENT, open).
        let path = canonical(path).at(Call::Open, shown)?;
        let existed = path.exists();
        let open_file = || {
            if opts.read_only {
                File::open(&path)
            } else {
                FsOpenOptions::new().read(true).write(true).create(create).truncate(false).open(&path)
            }
        };
        let store = registry::get_or_open(
            &path,
            opts.read_only,
            open_file,
            |file| Store::open_new(path.clone(), file, existed, opts),
            Store::file_id,
        )
        .map_err(|e| e.on_path(shown))?;
        // A read-only engine made while the store had no page may find one now.
        store.look_for_page();
        if opts.keys {
            store.keys.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(store)
    }

    fn open_new(path: PathBuf, file: File, existed: bool, opts: OpenOptions) -> Result<Store> {
        // Where opening a directory for writing does not fail by itself (Windows).
        if file.metadata().at(Call::Stat, &path)?.is_dir() {
            return Err(Error::io(io::ErrorKind::IsADirectory.into(), Call::Open, &path));
        }
        if opts.read_only {
            return Store::open_read_only(path, file, opts.exclusive);
        }
        let created = !existed;
        if created && opts.durable {
            platform::sync_dir(&path);
        }
        if opts.exclusive {
            lock_file(&file).map_err(|e| e.on_path(&path))?;
            let ro = File::open(&path).at(Call::Open, &path)?;
            // Nothing else maps this file: this process has no other engine
            // for it (registry) and other processes are locked out.
            let rec = recover(&path, file, ro, opts, &|file, _| lock_file(file))?;
            return Ok(Store::assemble(path, rec, opts, created, None, 0));
        }
        let ro = File::open(&path).at(Call::Open, &path)?;
        lock_shared(&ro).map_err(|e| e.on_path(&path))?;
        match Shared::attach(&path)? {
            Attached::First(shared) => {
                // No other read-write process is attached; read-only ones map
                // at most the valid prefix, which a cut never reaches.
                let rec = recover(&path, file, ro, opts, &|_, ro| lock_shared(ro))?;
                let word = shared.init(rec.tail, identity_of(&rec.ro, &path)?)?;
                shared.downgrade()?;
                Ok(Store::assemble(path, rec, opts, created, Some(shared), word))
            }
            Attached::Joined(_) if opts.repair => Err(Error::InUse(format!(
                "{} is open in another process: a repair rebuilds the file, so it needs the store closed \
                 everywhere else first (the processes that have it open read it as it is)",
                path.display()
            ))),
            Attached::Joined(shared) => {
                drop((file, ro));
                // Under the append lock, nothing appends and the path holds
                // the page's generation while the state is read.
                let torn = shared.begin_append()?;
                let joined = join(&path, &shared, torn);
                shared.end_append();
                let (rec, word) = joined?;
                Ok(Store::assemble(path, rec, opts, created, Some(shared), word))
            }
        }
    }

    /// A read-only open: the file's valid prefix (a torn tail is read past,
    /// never cut), the page mapped read-only if it can be. Its lock is the
    /// shared one, or with `exclusive` the exclusive one (no other process
    /// opens the store meanwhile, so there is nothing to follow).
    fn open_read_only(path: PathBuf, ro: File, exclusive: bool) -> Result<Store> {
        if exclusive {
            lock_file(&ro).map_err(|e| e.on_path(&path))?;
        } else {
            lock_shared(&ro).map_err(|e| e.on_path(&path))?;
        }
        let shared = if exclusive { None } else { Shared::attach_read_only(&path) };
        // Read before the file: a commit after this moves the word, and is followed.
        let word = shared.as_ref().map_or(0, |s| s.word_now());
        let opts = OpenOptions { exclusive, read_only: true, ..Default::default() };
        let file = ro.try_clone().at(Call::Open, &path)?;
        // Never a repair (refused with read_only), so nothing to relock.
        let rec = recover(&path, file, ro, opts, &|_, _| Ok(()))?;
        Ok(Store::assemble(path, rec, opts, false, shared, word))
    }

    fn assemble(
        path: PathBuf,
        rec: Recovered,
        opts: OpenOptions,
        created: bool,
        shared: Option<Shared>,
        word: u64,
    ) -> Store {
        let generation = Arc::new(Generation::new(rec.ro));
        let mut writer = Writer::new(rec.file, rec.tail);
        writer.generation = crate::shared::page::State::unpack(word).generation;
        Store {
            generation_id: AtomicU64::new(generation.id),
            dir_unsynced: std::sync::atomic::AtomicBool::new(created && !opts.durable),
            path,
            durable: opts.durable,
            writer: Mutex::new(writer),
            index: RwLock::new(Indexed { keys: rec.keys, map: Arc::new(rec.map) }),
            generation: RwLock::new(generation),
            tail: AtomicU64::new(rec.tail),
            producer: std::sync::atomic::AtomicUsize::new(0),
            repair_report: rec.report,
            shared: shared.map(std::sync::OnceLock::from).unwrap_or_default(),
            page_looks: std::sync::atomic::AtomicU32::new(0),
            seen: AtomicU64::new(word),
            read_only: opts.read_only,
            exclusive: opts.exclusive,
            keys: std::sync::atomic::AtomicBool::new(opts.keys),
            records: Mutex::new(None),
        }
    }
}

/// The index of an intact file (its last entry checks out and the chain
/// walk that builds the index reaches offset 0): the common case on every
/// open, and its only pass over the file.
fn intact_index(map: &ReadMap) -> Option<KeyIndex> {
    if map.is_empty() {
        Some(KeyIndex::default())
    } else if recovery::tail_entry_intact(map.bytes()) {
        KeyIndex::build_chain(map.bytes())
    } else {
        None
    }
}

/// Recovers the store file at open: its valid prefix, a torn tail cut
/// (read past, not cut, by a read-only open), damage in the middle refused
/// (or rebuilt on repair, after which `relock` takes the open's lock on the
/// rebuilt file). The caller holds what keeps writers of other processes away.
fn recover(
    path: &Path,
    file: File,
    ro: File,
    opts: OpenOptions,
    relock: &dyn Fn(&File, &File) -> Result<()>,
) -> Result<Recovered> {
    let os_len = file.metadata().at(Call::Stat, path)?.len();
    let map = ReadMap::new(&ro, os_len).at(Call::Map, path)?;
    let intact = intact_index(&map);
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
                return Err(corrupt(path, &scan, opts.read_only));
            }
            let report = salvage::rebuild(path, map.bytes(), &scan)?;
            drop((map, ro, file));
            let file = FsOpenOptions::new().read(true).write(true).open(path).at(Call::Open, path)?;
            let ro = File::open(path).at(Call::Open, path)?;
            relock(&file, &ro).map_err(|e| e.on_path(path))?;
            // The rebuilt file holds proven entries only: it opens as any
            // store (no second checksum pass over it, and no second repair).
            let mut rec = recover(path, file, ro, OpenOptions { repair: false, ..opts }, relock)?;
            rec.report = Some(report);
            return Ok(rec);
        }
        if valid == 0 {
            return Err(not_a_store(path, os_len));
        }
    }
    let map = if valid < os_len {
        // No fsync here: an un-synced cut can only bring the cut-off tail
        // back after an OS crash, and the next open cuts it again.
        drop(map);
        if !opts.read_only {
            file.set_len(valid).at(Call::Truncate, path)?;
        }
        ReadMap::new(&ro, valid).at(Call::Map, path)?
    } else {
        map
    };
    let keys = match intact {
        Some(keys) => keys,
        None => KeyIndex::build(map.bytes()),
    };
    Ok(Recovered { file, ro, map, keys, tail: valid, report: None })
}

/// Joins processes that have the store open (the append lock held): the
/// committed state from the page, after settling what a writer that died
/// holding the lock left. Returns the store file read to the committed
/// tail, and the STATE word.
fn join(path: &Path, shared: &Shared, torn: bool) -> Result<(Recovered, u64)> {
    let mut state = shared.state();
    if torn || state.changing {
        state = super::follow::settle(path, shared, state, false)?;
    }
    let file = FsOpenOptions::new().read(true).write(true).open(path).at(Call::Open, path)?;
    let ro = File::open(path).at(Call::Open, path)?;
    lock_shared(&ro).map_err(|e| e.on_path(path))?;
    let identity = identity_of(&ro, path)?;
    if identity != (0, 0) && identity != shared.identity() {
        // The file was deleted and created again (or moved) by something
        // other than a store: it starts a generation of its own, which the
        // processes attached to the old file move to.
        state = super::follow::settle(path, shared, state, true)?;
    }
    if ro.metadata().at(Call::Stat, path)?.len() < state.tail {
        return Err(Error::CorruptStore(format!(
            "{} is shorter than the tail other processes committed ({} bytes): it was cut or replaced \
             by a program that does not take the store's locks",
            path.display(),
            state.tail
        )));
    }
    let map = ReadMap::with_room(&ro, state.tail).at(Call::Map, path)?;
    let keys = KeyIndex::build_chain(map.bytes()).ok_or_else(|| {
        Error::CorruptStore(format!(
            "the {} bytes of {} that other processes committed do not read as a store: it was changed \
             by a program that does not take the store's locks",
            state.tail,
            path.display()
        ))
    })?;
    Ok((Recovered { file, ro, map, keys, tail: state.tail, report: None }, shared.word_now()))
}

/// The identity of an open store file, as the shared page records it.
pub(super) fn identity_of(file: &File, path: &Path) -> Result<(u64, u64)> {
    Ok(platform::file_identity(&file.metadata().at(Call::Stat, path)?))
}

/// The error for a file with no valid entry chain at all.
fn not_a_store(path: &Path, os_len: u64) -> Error {
    Error::NotAStore(format!(
        "{} is not a SIMD R Drive store (no valid entry chain in its {os_len} bytes); \
         it was left untouched (pass {{ repair: true }} to keep a backup of it and start it empty)",
        path.display()
    ))
}

/// The error for a file with whole entries past a broken part (see [`crate::salvage`]).
fn corrupt(path: &Path, scan: &salvage::Scan, read_only: bool) -> Error {
    let how = if read_only { "Open it (not read-only) with" } else { "Open it with" };
    let first = scan.proven.first().map_or(0, |p| p.prev);
    Error::CorruptStore(format!(
        "{} is damaged at offset {}: the {} bytes before it are intact, and {} entries ({} bytes) past the damage, \
         from offset {first}, are whole; open refuses to drop them, and the file was left untouched. \
         {how} {{ repair: true }} to keep a backup of the damaged file beside it and rebuild the store \
         from every entry that can be proven intact",
        path.display(),
        scan.from,
        scan.from,
        scan.proven.len(),
        scan.proven_bytes(),
    ))
}
