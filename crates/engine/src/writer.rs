//! The append path: bytes go to the file at the tail with `pwrite`, the
//! file ends at the tail, and a failed append is cut back off.
//!
//! Tried and not kept: appending through a shared writable map of a file
//! allocated ahead of the tail (a 64-byte put 1.9 -> 0.5 µs here; commits
//! c0a484d and 95349b0). Under the crash test (SIGKILL at random moments),
//! about one kill in 300 then left an entry inside the recovered prefix with
//! 3 to 48 bytes zeroed, starting exactly where an append began (Linux 6.18,
//! ext4 with large folios; with and without `pwrite` for bulk appends, and
//! with the end-of-file folio written back before the file grew). The cause
//! was not found; a store must not trade that for speed (see the README).
//!
//! Invariant: the OS length of the file is the tail between appends.

use crate::error::{Call, IoContext};
use std::fs::File;
use std::io;

pub(crate) struct Writer {
    /// The locked read-write handle.
    pub(crate) file: File,
    /// End of the last whole entry, and the OS length of the file.
    pub(crate) tail: u64,
    /// With other processes (`crate::shared`): the file generation `file`
    /// belongs to; a writer opens the path again when the page moved on.
    pub(crate) generation: u64,
}

impl Writer {
    pub(crate) fn new(file: File, tail: u64) -> Writer {
        Writer { file, tail, generation: 0 }
    }

    /// Runs `write` (which appends at the tail through the sink), then, if
    /// `durable` and anything was written, fsyncs. On any error the file is
    /// cut back to the tail: no partial entry stays. The caller moves `tail`
    /// on success.
    /// An OS error from the sink is recorded as a `write`, from the fsync as an `fsync`.
    pub(crate) fn append_or_roll_back<E: From<io::Error>>(
        &mut self,
        durable: bool,
        write: impl FnOnce(&mut Sink<'_>) -> Result<(), E>,
    ) -> crate::Result<()>
    where
        crate::Error: From<E>,
    {
        let mut sink = Sink { file: &self.file, pos: self.tail };
        let result = write(&mut sink).map_err(|e| match crate::Error::from(e) {
            crate::Error::Io { source, call: Call::Unknown, path } => {
                crate::Error::Io { source, call: Call::Write, path }
            }
            e => e,
        });
        let end = sink.pos;
        let result = result.and_then(|()| if durable && end != self.tail { self.sync() } else { Ok(()) });
        if result.is_err() {
            let _ = self.file.set_len(self.tail);
        }
        result
    }

    /// Writes the file's data to disk.
    pub(crate) fn sync(&self) -> crate::Result<()> {
        self.file.sync_data().during(Call::Fsync)
    }
}

/// Appends at a position past the tail.
pub(crate) struct Sink<'a> {
    file: &'a File,
    pos: u64,
}

impl io::Write for Sink<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        crate::platform::write_at(self.file, bytes, self.pos)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
