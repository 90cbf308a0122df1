//! Engine errors. Each kind has a stable string code that the Node binding
//! passes through as `error.code`.

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// An OS error; `code()` names it as Node does (`ENOENT`, `EACCES`, ...).
    Io(io::Error),
    InvalidArgValue(String),
    KeyNotFound,
    StoreClosed,
    StoreLocked,
    HashCollision(String),
    NotAStore(String),
    /// Damage in the middle of a file: whole entries follow a broken part.
    CorruptStore(String),
    ChecksumMismatch { key_hash: u64, offset: u64 },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgValue(msg.into())
    }

    /// An equal error (same code and message), for reporting one failure
    /// to several callers (`io::Error` is not `Clone`).
    pub fn replicate(&self) -> Error {
        match self {
            Error::Io(e) => Error::Io(match e.raw_os_error() {
                Some(n) => io::Error::from_raw_os_error(n),
                None => io::Error::new(e.kind(), e.to_string()),
            }),
            Error::InvalidArgValue(m) => Error::InvalidArgValue(m.clone()),
            Error::KeyNotFound => Error::KeyNotFound,
            Error::StoreClosed => Error::StoreClosed,
            Error::StoreLocked => Error::StoreLocked,
            Error::HashCollision(m) => Error::HashCollision(m.clone()),
            Error::NotAStore(m) => Error::NotAStore(m.clone()),
            Error::CorruptStore(m) => Error::CorruptStore(m.clone()),
            Error::ChecksumMismatch { key_hash, offset } => Error::ChecksumMismatch { key_hash: *key_hash, offset: *offset },
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io(e) => io_code(e),
            Error::InvalidArgValue(_) => "ERR_INVALID_ARG_VALUE",
            Error::KeyNotFound => "ERR_KEY_NOT_FOUND",
            Error::StoreClosed => "ERR_STORE_CLOSED",
            Error::StoreLocked => "ERR_STORE_LOCKED",
            Error::HashCollision(_) => "ERR_HASH_COLLISION",
            Error::NotAStore(_) => "ERR_NOT_A_STORE",
            Error::CorruptStore(_) => "ERR_CORRUPT_STORE",
            Error::ChecksumMismatch { .. } => "ERR_CHECKSUM_MISMATCH",
        }
    }
}

fn io_code(e: &io::Error) -> &'static str {
    use io::ErrorKind as K;
    if let Some(n) = e.raw_os_error() {
        if let Some(name) = errno_name(n) {
            return name;
        }
    }
    match e.kind() {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::InvalidInput => "ERR_INVALID_ARG_VALUE",
        K::FileTooLarge => "EFBIG",
        K::StorageFull => "ENOSPC",
        K::UnexpectedEof => "EIO",
        _ => "EIO",
    }
}

#[cfg(unix)]
fn errno_name(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "EPERM",
        2 => "ENOENT",
        5 => "EIO",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        17 => "EEXIST",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        24 => "EMFILE",
        27 => "EFBIG",
        28 => "ENOSPC",
        30 => "EROFS",
        36 => "ENAMETOOLONG",
        _ => return None,
    })
}

#[cfg(not(unix))]
fn errno_name(_: i32) -> Option<&'static str> {
    None
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::InvalidArgValue(m) => write!(f, "{m}"),
            Error::KeyNotFound => write!(f, "key not found"),
            Error::StoreClosed => write!(f, "the store is closed"),
            Error::StoreLocked => {
                write!(f, "the store is open for writing in another process")
            }
            Error::HashCollision(m) => write!(f, "{m}"),
            Error::NotAStore(m) | Error::CorruptStore(m) => write!(f, "{m}"),
            Error::ChecksumMismatch { key_hash, offset } => write!(
                f,
                "checksum mismatch for key hash {key_hash:#018x} at offset {offset}"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}
