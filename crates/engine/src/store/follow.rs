//! Following other processes (see [`crate::shared`]): a read checks the
//! shared STATE word against the one this engine reflects (one atomic
//! load); when it moved, the engine walks what others appended (linear in
//! that, not in the file) or, when the file was replaced (a compaction
//! there), reads the new file. A writer does the same under the append
//! lock, and first settles what a writer that died holding it left.

use super::{Indexed, Store};
use crate::error::{Call, Error, IoContext, Result};
use crate::index::KeyIndex;
use crate::locks::{read, write};
use crate::mapping::ReadMap;
use crate::recovery;
use crate::registry;
use crate::shared::page::State;
use crate::shared::Shared;
use crate::writer::Writer;
use std::fs::{File, OpenOptions as FsOpenOptions};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLockWriteGuard};

/// See [`Store::follow`].
const PAGE_LOOK_EVERY: u32 = 256;

impl Store {
    /// Brings the engine up to what other processes committed. Costs one
    /// atomic load and a compare when nothing changed (and one branch
    /// without other processes).
    #[inline]
    pub(super) fn follow(&self) {
        match self.shared.get() {
            Some(shared) if shared.word_now() != self.seen.load(Ordering::Acquire) => self.catch_up(shared),
            Some(_) => {}
            None if self.read_only => self.now_and_then_look_for_page(),
            None => {}
        }
    }

    /// A read-only engine opened while the store had no page (no process
    /// had opened it in the default mode since it was last used
    /// `exclusive`, or it was copied) looks for one every
    /// `PAGE_LOOK_EVERY` reads: one that appeared since is followed from
    /// then on. (Looking costs a failed `open`, ~1 µs; on every read it
    /// would cost more than the read.)
    #[cold]
    fn now_and_then_look_for_page(&self) {
        if self.page_looks.fetch_add(1, Ordering::Relaxed).is_multiple_of(PAGE_LOOK_EVERY) {
            self.look_for_page();
        }
    }

    /// See `now_and_then_look_for_page`; also called by every open that
    /// shares a read-only engine.
    pub(super) fn look_for_page(&self) {
        if !self.read_only || self.shared.get().is_some() || self.exclusive {
            return;
        }
        if let Some(page) = Shared::attach_read_only(&self.path) {
            if self.shared.set(page).is_ok() {
                self.follow();
            }
        }
    }

    /// Best effort: if following fails (the OS refuses a map, a compaction
    /// is swapping files), the engine keeps its state, older but whole, and
    /// tries again on the next read.
    #[cold]
    fn catch_up(&self, shared: &Shared) {
        let _ = self.catch_up_now(shared);
    }

    /// Follows the STATE word now. `Ok(true)` when the engine reflects it.
    fn catch_up_now(&self, shared: &Shared) -> Result<bool> {
        let mut ix = write(&self.index);
        let word = shared.word_now();
        let seen = self.seen.load(Ordering::Acquire);
        if word == seen {
            return Ok(true);
        }
        let now = State::unpack(word);
        let tail = self.tail.load(Ordering::Acquire);
        if now.generation == State::unpack(seen).generation && now.tail >= tail {
            // Appends: entries from our tail to theirs, committed whole. Also
            // while a compaction runs (`changing`): the tail it names is the
            // old file's, which holds those entries, and a write acknowledged
            // before the compaction began must be seen meanwhile.
            let map = self.map_to(&ix.map, now.tail)?;
            if ix.keys.apply_appended(map.bytes(), tail).is_some() {
                ix.map = map;
                self.tail.store(now.tail, Ordering::Release);
                self.seen.store(word, Ordering::Release);
                return Ok(true);
            }
        }
        if now.changing {
            // The new file is not in place yet: keep the old one.
            return Ok(false);
        }
        self.reload(shared, ix, word)
    }

    /// A read map of the current generation showing `[0, tail)`: `map`
    /// itself grown when it reserved room, else a new map with room.
    pub(super) fn map_to(&self, map: &Arc<ReadMap>, tail: u64) -> Result<Arc<ReadMap>> {
        if let Some(grown) = map.grown(tail) {
            return Ok(Arc::new(grown));
        }
        Ok(Arc::new(ReadMap::with_room(&read(&self.generation).file, tail).at(Call::Map, &self.path)?))
    }

    /// Reads the file at the path again: another process replaced it (or
    /// its chain does not follow on ours). The file opened is the one of
    /// the generation `word` names if the word is unchanged afterwards: a
    /// compaction marks the page `changing` before it renames.
    fn reload(&self, shared: &Shared, mut ix: RwLockWriteGuard<'_, Indexed>, word: u64) -> Result<bool> {
        let now = State::unpack(word);
        let ro = File::open(&self.path).at(Call::Open, &self.path)?;
        if ro.metadata().at(Call::Stat, &self.path)?.len() < now.tail {
            return Ok(false);
        }
        let map = ReadMap::with_room(&ro, now.tail).at(Call::Map, &self.path)?;
        let Some(keys) = KeyIndex::build_chain(map.bytes()) else {
            return Ok(false);
        };
        let after = State::unpack(shared.word_now());
        if after.changing || after.generation != now.generation {
            return Ok(false);
        }
        super::open::lock_shared(&ro).map_err(|e| e.on_path(&self.path))?;
        let id = registry::FileId::of(&ro, &self.path).at(Call::Stat, &self.path)?;
        self.install_generation(&mut ix, keys, map, ro, now.tail);
        self.seen.store(word, Ordering::Release);
        drop(ix);
        registry::moved((self as *const Store).cast(), id);
        Ok(true)
    }

    /// Under the append lock (taken by `writer()`): settles a dead writer's
    /// leftovers if `torn`, follows the committed tail, and points the
    /// writer at the current file and tail.
    pub(super) fn follow_for_write(&self, w: &mut Writer, shared: &Shared, torn: bool) -> Result<()> {
        let mut state = shared.state();
        if torn || state.changing {
            state = settle(&self.path, shared, state, false)?;
        }
        // Nothing committed elsewhere since this engine's last look (the
        // common case): no lock to take.
        if shared.word_now() != self.seen.load(Ordering::Acquire)
            && (!self.catch_up_now(shared)? || self.tail.load(Ordering::Acquire) != state.tail)
        {
            return Err(Error::io(
                std::io::Error::other("could not follow the appends of another process"),
                Call::Map,
                &self.path,
            ));
        }
        if w.generation != state.generation {
            let file = FsOpenOptions::new().read(true).write(true).open(&self.path).at(Call::Open, &self.path)?;
            *w = Writer::new(file, state.tail);
            w.generation = state.generation;
        }
        w.tail = state.tail;
        Ok(())
    }

    /// Publishes a new tail of this engine to other processes (under the
    /// index write lock, from `publish`, in shared mode).
    pub(super) fn announce(&self, tail: u64) {
        if let Some(shared) = self.shared.get() {
            if !self.read_only {
                let generation = State::unpack(self.seen.load(Ordering::Acquire)).generation;
                let word = shared.publish(State { tail, generation, changing: false });
                self.seen.store(word, Ordering::Release);
            }
        }
    }
}

/// What a writer that died holding the append lock left (called under that
/// lock, so nothing else writes the file at `path`): past the committed
/// tail, entries it wrote whole are kept (they read as whole entries to
/// any reader that opened meanwhile, so cutting them could pull bytes from
/// under its map) and the torn rest is cut. A compaction that died between
/// marking the page `changing` and publishing left either file at the
/// path, each whole: its valid prefix becomes a new generation, as does
/// that of a file `replaced` at the path by something other than a store.
/// Returns the state published.
pub(super) fn settle(path: &Path, shared: &Shared, state: State, replaced: bool) -> Result<State> {
    let file = FsOpenOptions::new().read(true).write(true).open(path).at(Call::Open, path)?;
    let len = file.metadata().at(Call::Stat, path)?.len();
    shared.set_identity(super::open::identity_of(&file, path)?);
    let valid = {
        let map = ReadMap::new(&file, len).at(Call::Map, path)?;
        recovery::valid_prefix_len(map.bytes())
    };
    let settled = if state.changing || replaced {
        State { tail: valid, generation: state.next_generation(), changing: false }
    } else {
        // Never below the committed tail: what is below it was acknowledged.
        State { tail: valid.max(state.tail), ..state }
    };
    if len > settled.tail {
        file.set_len(settled.tail).at(Call::Truncate, path)?;
    }
    shared.publish(settled);
    Ok(settled)
}
