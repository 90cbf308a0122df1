//! A batch given in parts (converted by the caller as it goes) and written
//! by a second thread meanwhile: all or nothing, like any batch.

use super::commit::validate_keyed;
use super::{Producing, Store};
use crate::batch::{self, Encoder};
use crate::error::{Error, Result};
use crate::ops::{Op, Part};
use crate::writer::Writer;
use std::io;

/// Parts of a batch given to [`Store::apply_parts`] that may wait, converted,
/// for the writer thread (bounds the memory the producer runs ahead by).
const PARTS_IN_FLIGHT: usize = 4;

impl Store {
    /// Appends a batch of puts that the caller produces in parts: each part
    /// is validated and written, on a second thread, while the caller
    /// produces the next. For a caller whose conversion costs about as much
    /// as the append (the Node binding reading JS arrays), the batch takes
    /// about the longer of the two instead of their sum. The contract of
    /// [`Store::apply`] holds: all or nothing. If a part is invalid or holds
    /// a delete, the caller aborts, or an I/O error occurs, the file is cut
    /// back and nothing is published; the caller is not asked for more parts
    /// once the batch has failed (nor at all if no thread can be started:
    /// the OS error is returned). Returns the tail after the batch.
    pub fn apply_parts<'a>(&self, allow_null: bool, mut next: impl FnMut() -> Part<'a>) -> Result<u64> {
        let mut w = self.writer()?;
        let base = w.tail;
        let durable = self.durable;
        let keyed = self.records_keys();
        let _producing = Producing::mark(&self.producer);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Vec<Op<'a>>>>(PARTS_IN_FLIGHT);
        let writer: &mut Writer = &mut w;
        let written = std::thread::scope(|scope| {
            // No thread to be had (resource limits): the batch fails, writing nothing.
            let appender = std::thread::Builder::new()
                .spawn_scoped(scope, move || write_parts(writer, durable, base, allow_null, keyed, rx))?;
            // A failed send: the appender failed and stopped listening.
            produce(&mut next, |part| tx.send(part).is_ok());
            drop(tx);
            appender.join().unwrap_or_else(|_| Err(io::Error::other("the batch writer thread panicked").into()))
        });
        let (parts, enc) = written.map_err(|e| e.on_path(&self.path))?;
        w.tail = enc.tail;
        let count = enc.tails.len();
        self.publish(enc.tail, count, batch::updates(base, parts.iter().flatten().copied(), &enc.tails));
        Ok(enc.tail)
    }
}

/// Hands the parts of a producer to `take` (`None` if it aborts) until it
/// ends, aborts, or `take` refuses one.
fn produce<'a>(mut next: impl FnMut() -> Part<'a>, mut take: impl FnMut(Option<Vec<Op<'a>>>) -> bool) {
    loop {
        match next() {
            Part::Puts(ops) => {
                if !take(Some(ops)) {
                    return;
                }
            }
            Part::End => return,
            Part::Abort => {
                take(None);
                return;
            }
        }
    }
}

/// Validates and writes the parts of a batch at `base` as they come
/// (`None`: the producer aborted); on any failure the file is cut back.
/// Returns the parts (for the index) and the encoder (for the tails).
fn write_parts<'a>(
    writer: &mut Writer,
    durable: bool,
    base: u64,
    allow_null: bool,
    keyed: bool,
    parts: impl IntoIterator<Item = Option<Vec<Op<'a>>>>,
) -> Result<(Vec<Vec<Op<'a>>>, Encoder)> {
    // A tombstone put (allow_null) in a store that records keys is followed
    // by the delete of its record (`commit::expand`).
    let mut enc = Encoder::new(base, &[], keyed && allow_null);
    let mut kept = Vec::new();
    writer.append_or_roll_back(durable, |file| {
        for part in parts {
            let ops = part.ok_or_else(|| Error::invalid("the batch was aborted"))?;
            validate_keyed(keyed, &ops, allow_null)?;
            if ops.iter().any(|op| matches!(op, Op::Delete(_))) {
                return Err(Error::invalid("a batch given in parts holds puts only"));
            }
            // (Only a store that records keys copies the part, expanded.)
            let ops = if keyed { super::commit::expand(true, &ops).into_owned() } else { ops };
            enc.push(file, &ops, |_| false)?;
            kept.push(ops);
        }
        Ok(enc.finish(file)?)
    })?;
    Ok((kept, enc))
}
