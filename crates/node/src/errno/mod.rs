//! OS errors named as Node names them: `code` (`ENOENT`), a negative
//! `errno` (libuv's: `-errno` on Unix, libuv's own numbers on Windows) and
//! libuv's description (`no such file or directory`), for the platform the
//! addon was built for. The numbers differ per platform (11 is `EAGAIN` on
//! Linux and `EDEADLK` on macOS; Windows reports its own error codes), so
//! each platform has its table in a file of its own.

#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;
#[cfg(not(any(unix, windows)))]
#[path = "fallback.rs"]
mod os;

use std::io;

/// An OS error as Node reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named {
    pub code: &'static str,
    /// Negative, as `err.errno` of Node's own fs errors; 0 when unknown.
    pub errno: i32,
    pub description: &'static str,
}

/// The name of `e`: from its OS error number when it has one, else from its kind.
pub fn name(e: &io::Error) -> Named {
    if let Some(n) = e.raw_os_error() {
        if let Some((code, errno)) = os::by_number(n) {
            return Named { code, errno, description: description(code) };
        }
        return Named { code: "UNKNOWN", errno: 0, description: "unknown error" };
    }
    let code = by_kind(e.kind());
    Named { code, errno: os::number_of(code), description: description(code) }
}

/// The code of an error that carries no OS number (made by the engine or std).
fn by_kind(kind: io::ErrorKind) -> &'static str {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::IsADirectory => "EISDIR",
        K::NotADirectory => "ENOTDIR",
        K::ReadOnlyFilesystem => "EROFS",
        K::StorageFull => "ENOSPC",
        K::FileTooLarge => "EFBIG",
        K::InvalidInput | K::InvalidFilename => "EINVAL",
        K::OutOfMemory => "ENOMEM",
        K::ResourceBusy => "EBUSY",
        K::WouldBlock => "EAGAIN",
        _ => "EIO",
    }
}

/// libuv's description of a code (`uv_strerror`), as Node prints it.
fn description(code: &str) -> &'static str {
    match code {
        "EPERM" => "operation not permitted",
        "ENOENT" => "no such file or directory",
        "EIO" => "i/o error",
        "ENXIO" => "no such device or address",
        "EBADF" => "bad file descriptor",
        "EAGAIN" => "resource temporarily unavailable",
        "ENOMEM" => "not enough memory",
        "EACCES" => "permission denied",
        "EFAULT" => "bad address in system call argument",
        "EBUSY" => "resource busy or locked",
        "EEXIST" => "file already exists",
        "EXDEV" => "cross-device link not permitted",
        "ENODEV" => "no such device",
        "ENOTDIR" => "not a directory",
        "EISDIR" => "illegal operation on a directory",
        "EINVAL" => "invalid argument",
        "ENFILE" => "file table overflow",
        "EMFILE" => "too many open files",
        "ETXTBSY" => "text file is busy",
        "EFBIG" => "file too large",
        "ENOSPC" => "no space left on device",
        "EROFS" => "read-only file system",
        "ENAMETOOLONG" => "name too long",
        "ENOSYS" => "function not implemented",
        "ENOTEMPTY" => "directory not empty",
        "ELOOP" => "too many symbolic links encountered",
        "EOVERFLOW" => "value too large for defined data type",
        "EINTR" => "interrupted system call",
        "ENOTSUP" => "operation not supported on socket",
        _ => "unknown error",
    }
}

/// Every (errno, code, description) this platform's table knows, for the
/// test that checks it against Node's own `util.getSystemErrorMap()`.
#[cfg_attr(test, allow(dead_code))]
pub fn table() -> Vec<(i32, &'static str, &'static str)> {
    os::CODES.iter().map(|&(code, _)| (os::number_of(code), code, description(code))).collect()
}
