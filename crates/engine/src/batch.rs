//! Encoding a batch of ops at the tail. Entries are laid out in a buffer of
//! about [`WRITE_CHUNK`] bytes that is written out each time it fills: it
//! stays in the CPU cache, and a large batch needs no batch-sized allocation
//! (whose fresh pages each cost a page fault). Nothing here publishes: the
//! store makes a batch visible (index and tail) once all of it is written.

use crate::format::{self, Metadata, METADATA_SIZE, TOMBSTONE};
use crate::ops::Op;
use std::io::{self, Write};

/// Payloads at least this large are written straight from the caller's
/// slice instead of being copied into the batch buffer.
const DIRECT_WRITE_MIN: usize = 1 << 20;

/// The size the batch buffer is written out at.
const WRITE_CHUNK: usize = 256 << 10;

/// A batch being written at the tail.
pub(crate) struct Encoder {
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    pos: u64,
    /// The tail after the last op encoded.
    pub(crate) tail: u64,
    /// The tail after each op encoded (a delete that wrote nothing repeats
    /// the tail before it).
    pub(crate) tails: Vec<u64>,
    /// Liveness of keys written earlier in this batch, for `Op::Delete`;
    /// `None` when the batch has no delete (puts alone never read it).
    overlay: Option<hashbrown::HashMap<u64, bool>>,
}

impl Encoder {
    /// A batch starting at tail `base`, of about `ops` ops (sizes the
    /// buffers), keeping key liveness if `deletes` may come.
    pub(crate) fn new(base: u64, ops: &[Op<'_>], deletes: bool) -> Encoder {
        Encoder {
            buf: Vec::with_capacity(buffer_size(ops)),
            pos: base,
            tail: base,
            tails: Vec::with_capacity(ops.len()),
            overlay: deletes.then(hashbrown::HashMap::new),
        }
    }

    /// Encodes validated `ops` after those encoded so far, writing the buffer
    /// to `file` each time it fills. `live(h)`: whether key `h` is live in the
    /// published index (asked only for a delete of a key this batch has not
    /// written; a batch with deletes must be made with `deletes`).
    pub(crate) fn push(&mut self, file: &mut impl Write, ops: &[Op<'_>], live: impl Fn(u64) -> bool) -> io::Result<()> {
        for op in ops {
            match *op {
                Op::Delete(h) => {
                    let overlay = self
                        .overlay
                        .as_mut()
                        .ok_or_else(|| io::Error::other("a delete in a batch made without deletes"))?;
                    if overlay.get(&h).copied().unwrap_or_else(|| live(h)) {
                        self.tail = format::encode_tombstone(&mut self.buf, self.pos, h);
                        overlay.insert(h, false);
                    }
                }
                Op::Put(h, p) | Op::KeyedPut(h, _, p) if p == TOMBSTONE => {
                    self.tail = format::encode_tombstone(&mut self.buf, self.pos, h);
                    self.note(h, false);
                }
                Op::Record(h, key) => {
                    self.tail = crate::keys::encode_record(&mut self.buf, self.pos, h, key);
                    self.note(crate::keys::record_hash(h), true);
                }
                Op::Put(h, p) | Op::KeyedPut(h, _, p) if p.len() >= DIRECT_WRITE_MIN => {
                    // Large payload: write it from the caller's memory.
                    let pad = format::pad_len(self.tail);
                    self.buf.resize(self.buf.len() + pad as usize, 0);
                    file.write_all(&self.buf)?;
                    file.write_all(p)?;
                    let m = self.tail + pad + p.len() as u64;
                    self.buf.clear();
                    let meta = Metadata { key_hash: h, prev_offset: self.tail, checksum: format::checksum(p) };
                    self.buf.extend_from_slice(&meta.encode());
                    self.pos = m;
                    self.tail = m + METADATA_SIZE as u64;
                    self.note(h, true);
                }
                Op::Put(h, p) | Op::KeyedPut(h, _, p) => {
                    self.tail = format::encode_entry(&mut self.buf, self.pos, h, p);
                    self.note(h, true);
                }
            }
            self.tails.push(self.tail);
            if self.tail > crate::index::MAX_OFFSET {
                return Err(io::Error::new(io::ErrorKind::FileTooLarge, "the store would exceed 256 TiB"));
            }
            if self.buf.len() >= WRITE_CHUNK {
                file.write_all(&self.buf)?;
                self.pos += self.buf.len() as u64;
                self.buf.clear();
            }
        }
        Ok(())
    }

    #[inline]
    fn note(&mut self, h: u64, live: bool) {
        if let Some(overlay) = &mut self.overlay {
            overlay.insert(h, live);
        }
    }

    /// Writes what is left in the buffer.
    pub(crate) fn finish(&mut self, file: &mut impl Write) -> io::Result<()> {
        file.write_all(&self.buf)?;
        self.pos += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Each op's index update, read back from its tail (`tails`, from an
/// [`Encoder`] that started at `base`): a put's metadata ends at its tail; a
/// delete that wrote nothing left the tail as it was.
pub(crate) fn updates<'a, 't, I>(
    base: u64,
    ops: I,
    tails: &'t [u64],
) -> impl Iterator<Item = (u64, Option<u64>)> + use<'a, 't, I>
where
    I: Iterator<Item = Op<'a>>,
{
    let mut prev = base;
    ops.zip(tails).filter_map(move |(op, &t)| {
        let wrote = t != prev;
        prev = t;
        match op {
            Op::Put(h, p) | Op::KeyedPut(h, _, p) if p == TOMBSTONE => Some((h, None)),
            Op::Put(h, _) | Op::KeyedPut(h, _, _) => Some((h, Some(t - METADATA_SIZE as u64))),
            Op::Record(h, _) => Some((crate::keys::record_hash(h), Some(t - METADATA_SIZE as u64))),
            Op::Delete(h) => wrote.then_some((h, None)),
        }
    })
}

/// Buffer capacity for `ops`: their encoded size, capped at a chunk plus
/// the largest entry copied into it.
fn buffer_size(ops: &[Op<'_>]) -> usize {
    let cap = WRITE_CHUNK + DIRECT_WRITE_MIN + 64;
    let mut size = 0;
    for op in ops {
        size += match op {
            Op::Put(_, p) | Op::KeyedPut(_, _, p) if p.len() < DIRECT_WRITE_MIN => p.len() + 64 + METADATA_SIZE,
            Op::Record(_, key) => key.len() + crate::keys::PREFIX.len() + 64 + METADATA_SIZE,
            _ => 64 + METADATA_SIZE,
        };
        if size >= cap {
            return cap;
        }
    }
    size
}
