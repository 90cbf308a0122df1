//! Engine errors, in the engine's terms: what went wrong and, for an OS
//! error, which call on which file. Naming them for a host (Node's `code`,
//! `errno`, `syscall`) is the binding's job.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The OS call an I/O error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    Open,
    Stat,
    Read,
    Write,
    Fsync,
    Truncate,
    Rename,
    Link,
    Copy,
    Map,
    Lock,
    Unlink,
    /// Not recorded where the error arose.
    Unknown,
}

impl Call {
    /// The call's usual (POSIX) name: `open`, `write`, `fsync`, ...
    pub fn name(self) -> &'static str {
        match self {
            Call::Open => "open",
            Call::Stat => "stat",
            Call::Read => "read",
            Call::Write => "write",
            Call::Fsync => "fsync",
            Call::Truncate => "ftruncate",
            Call::Rename => "rename",
            Call::Link => "link",
            Call::Copy => "copyfile",
            Call::Map => "mmap",
            Call::Lock => "flock",
            Call::Unlink => "unlink",
            Call::Unknown => "",
        }
    }
}

#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An OS call failed: `call` on `path` (when known).
    Io { source: io::Error, call: Call, path: Option<PathBuf> },
    /// An argument is outside what the store accepts (an empty payload, a
    /// rename onto itself, ...).
    InvalidArgument(String),
    /// No live entry for this key hash (rename, copy, transfer).
    KeyNotFound { key_hash: u64 },
    /// Another process holds the file's lock (it opened it `exclusive`, or
    /// this open asked for `exclusive` and others have it open).
    StoreLocked,
    /// A writer method was called on a store opened read-only.
    ReadOnly,
    /// What was asked needs the store closed in every other process (a
    /// repair while others have it open); the message says what.
    InUse(String),
    /// A key does not hash to the key hash given with it.
    HashCollision(String),
    /// The file holds no valid entry at all (see `salvage`).
    NotAStore(String),
    /// Damage in the middle of the file: whole entries follow a broken part (see `salvage`).
    CorruptStore(String),
    /// A payload read with verification does not match its checksum.
    ChecksumMismatch { key_hash: u64, offset: u64 },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// An OS error of `call` on `path`.
    pub fn io(source: io::Error, call: Call, path: &Path) -> Self {
        Error::Io { source, call, path: Some(path.to_path_buf()) }
    }

    /// This error with `path` recorded, if it is an OS error that has none.
    pub fn on_path(self, path: &Path) -> Self {
        match self {
            Error::Io { source, call, path: None } => Error::Io { source, call, path: Some(path.to_path_buf()) },
            e => e,
        }
    }

    /// An equal error, for reporting one failure to several callers
    /// (`io::Error` is not `Clone`).
    pub fn replicate(&self) -> Error {
        match self {
            Error::Io { source, call, path } => Error::Io {
                source: match source.raw_os_error() {
                    Some(n) => io::Error::from_raw_os_error(n),
                    None => io::Error::new(source.kind(), source.to_string()),
                },
                call: *call,
                path: path.clone(),
            },
            Error::InvalidArgument(m) => Error::InvalidArgument(m.clone()),
            Error::KeyNotFound { key_hash } => Error::KeyNotFound { key_hash: *key_hash },
            Error::StoreLocked => Error::StoreLocked,
            Error::ReadOnly => Error::ReadOnly,
            Error::InUse(m) => Error::InUse(m.clone()),
            Error::HashCollision(m) => Error::HashCollision(m.clone()),
            Error::NotAStore(m) => Error::NotAStore(m.clone()),
            Error::CorruptStore(m) => Error::CorruptStore(m.clone()),
            Error::ChecksumMismatch { key_hash, offset } => {
                Error::ChecksumMismatch { key_hash: *key_hash, offset: *offset }
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { source, call, path } => {
                write!(f, "{source}")?;
                if *call != Call::Unknown {
                    write!(f, ", {}", call.name())?;
                }
                if let Some(p) = path {
                    write!(f, " '{}'", p.display())?;
                }
                Ok(())
            }
            Error::InvalidArgument(m)
            | Error::HashCollision(m)
            | Error::NotAStore(m)
            | Error::CorruptStore(m)
            | Error::InUse(m) => {
                write!(f, "{m}")
            }
            Error::KeyNotFound { key_hash } => {
                write!(f, "key not found (key hash {key_hash:#018x})")
            }
            Error::StoreLocked => write!(f, "the store is open in another process that keeps others out (exclusive)"),
            Error::ReadOnly => write!(f, "the store was opened read-only"),
            Error::ChecksumMismatch { key_hash, offset } => {
                write!(f, "checksum mismatch for key hash {key_hash:#018x} at offset {offset}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(source: io::Error) -> Self {
        Error::Io { source, call: Call::Unknown, path: None }
    }
}

/// Records which call on which file an `io::Result` came from.
pub trait IoContext<T> {
    fn at(self, call: Call, path: &Path) -> Result<T>;
    /// The call only (the caller records the path, e.g. with [`Error::on_path`]).
    fn during(self, call: Call) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, call: Call, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(e, call, path))
    }
    fn during(self, call: Call) -> Result<T> {
        self.map_err(|source| Error::Io { source, call, path: None })
    }
}
