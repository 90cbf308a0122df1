//! Streamed writes. The payload is spooled first (in memory up to
//! `MEMORY_SPOOL`, then in an unnamed temporary file beside the store) and
//! appended in one go under the writer lock when the stream ends. So a
//! stream never holds the writer lock while its source produces data (other
//! writes, from any thread, neither interleave with it nor wait on it), a
//! source that fails midway leaves nothing behind, and memory stays bounded
//! whatever the stream's length.

use super::Store;
use crate::error::{Call, IoContext};
use crate::error::{Error, Result};
use crate::format::{self, Metadata, METADATA_SIZE};
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::sync::Arc;

const MEMORY_SPOOL: usize = 4 << 20;

pub(crate) enum Spool {
    Memory(Vec<u8>),
    File(File),
}

impl Spool {
    pub(crate) fn copy_into(&mut self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Spool::Memory(v) => out.write_all(v),
            Spool::File(f) => {
                f.seek(SeekFrom::Start(0))?;
                io::copy(f, out).map(|_| ())
            }
        }
    }
}

pub struct StreamWriter {
    store: Arc<Store>,
    key_hash: u64,
    /// The key's bytes, when known (recorded before the entry in a store
    /// that records keys: see [`crate::keys`]).
    key: Option<Vec<u8>>,
    spool: Spool,
    crc: crc32fast::Hasher,
    len: u64,
    any_nonzero: bool,
}

impl StreamWriter {
    pub(crate) fn new(store: Arc<Store>, key_hash: u64, key: Option<Vec<u8>>) -> StreamWriter {
        StreamWriter {
            store,
            key_hash,
            key,
            spool: Spool::Memory(Vec::new()),
            crc: crc32fast::Hasher::new(),
            len: 0,
            any_nonzero: false,
        }
    }

    /// Adds a chunk of the payload.
    pub fn write(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.crc.update(chunk);
        self.len += chunk.len() as u64;
        if !self.any_nonzero {
            self.any_nonzero = chunk.iter().any(|&b| b != 0);
        }
        if let Spool::Memory(v) = &mut self.spool {
            if v.len() + chunk.len() <= MEMORY_SPOOL {
                v.extend_from_slice(chunk);
                return Ok(());
            }
            let dir = self.store.dir();
            let mut f = tempfile::tempfile_in(&dir).at(Call::Open, &dir)?;
            f.write_all(v).at(Call::Write, &dir)?;
            self.spool = Spool::File(f);
        }
        if let Spool::File(f) = &mut self.spool {
            f.write_all(chunk).at(Call::Write, &self.store.dir())?;
        }
        Ok(())
    }

    /// Payload bytes received so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the entry; returns the tail. An empty or all-`0x00` stream is
    /// rejected and writes nothing. Dropping a writer without `finish` discards it.
    pub fn finish(mut self) -> Result<u64> {
        if self.len == 0 {
            return Err(Error::invalid("a streamed payload must not be empty"));
        }
        if !self.any_nonzero {
            return Err(Error::invalid("a streamed payload made only of 0x00 bytes is rejected"));
        }
        let crc = self.crc.clone().finalize();
        let key = self.key.as_deref().filter(|_| self.store.records_keys());
        self.store.append_spooled(self.key_hash, key, &mut self.spool, self.len, crc)
    }
}

impl Store {
    /// Begins a streamed write of one entry (see [`StreamWriter`]), of a
    /// key given by its hash, and its bytes when known; a read-only store
    /// refuses before any of the stream is read.
    pub fn stream_writer(self: &Arc<Self>, key_hash: u64, key: Option<&[u8]>) -> Result<StreamWriter> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        if let Some(key) = key {
            super::commit::validate_keyed(
                self.records_keys(),
                &[crate::ops::Op::KeyedPut(key_hash, key, b"-")],
                false,
            )?;
        }
        Ok(StreamWriter::new(self.clone(), key_hash, key.map(<[u8]>::to_vec)))
    }

    /// Appends a streamed entry whose payload is in `spool`. Used by `StreamWriter::finish`.
    /// With `key`, the key's record goes first, in the same append.
    pub(crate) fn append_spooled(
        &self,
        key_hash: u64,
        key: Option<&[u8]>,
        spool: &mut Spool,
        len: u64,
        crc: u32,
    ) -> Result<u64> {
        let mut w = self.writer()?;
        let mut record = Vec::new();
        let record_tail = match key {
            Some(key) => crate::keys::encode_record(&mut record, w.tail, key_hash, key),
            None => w.tail,
        };
        let base = record_tail;
        let pad = format::pad_len(base);
        let m = base + pad + len;
        let meta = Metadata { key_hash, prev_offset: base, checksum: crc };
        w.append_or_roll_back(self.durable, |file| {
            file.write_all(&record)?;
            file.write_all(&[0u8; 64][..pad as usize])?;
            spool.copy_into(file)?;
            file.write_all(&meta.encode())
        })
        .map_err(|e| e.on_path(&self.path))?;
        let tail = m + METADATA_SIZE as u64;
        w.tail = tail;
        let record_update = key.map(|_| (crate::keys::record_hash(key_hash), Some(record_tail - METADATA_SIZE as u64)));
        self.publish(tail, 2, record_update.into_iter().chain([(key_hash, Some(m))]));
        Ok(tail)
    }
}
