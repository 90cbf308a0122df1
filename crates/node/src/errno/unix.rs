//! Unix (Linux, macOS, the BSDs): errno values from `libc`, which has the
//! right number of each name for the target; Node's `errno` is `-errno`.

/// The names this package reports, with this platform's numbers.
pub const CODES: &[(&str, i32)] = &[
    ("EPERM", libc::EPERM),
    ("ENOENT", libc::ENOENT),
    ("EIO", libc::EIO),
    ("ENXIO", libc::ENXIO),
    ("EBADF", libc::EBADF),
    ("EAGAIN", libc::EAGAIN),
    ("ENOMEM", libc::ENOMEM),
    ("EACCES", libc::EACCES),
    ("EFAULT", libc::EFAULT),
    ("EBUSY", libc::EBUSY),
    ("EEXIST", libc::EEXIST),
    ("EXDEV", libc::EXDEV),
    ("ENODEV", libc::ENODEV),
    ("ENOTDIR", libc::ENOTDIR),
    ("EISDIR", libc::EISDIR),
    ("EINVAL", libc::EINVAL),
    ("ENFILE", libc::ENFILE),
    ("EMFILE", libc::EMFILE),
    ("ETXTBSY", libc::ETXTBSY),
    ("EFBIG", libc::EFBIG),
    ("ENOSPC", libc::ENOSPC),
    ("EROFS", libc::EROFS),
    ("ENAMETOOLONG", libc::ENAMETOOLONG),
    ("ENOSYS", libc::ENOSYS),
    ("ENOTEMPTY", libc::ENOTEMPTY),
    ("ELOOP", libc::ELOOP),
    ("EOVERFLOW", libc::EOVERFLOW),
    ("EINTR", libc::EINTR),
];

/// `(code, errno)` of an OS error number.
pub fn by_number(n: i32) -> Option<(&'static str, i32)> {
    CODES.iter().find(|&&(_, v)| v == n).map(|&(code, v)| (code, -v))
}

/// Node's `errno` for a code (0 if this table lacks it).
pub fn number_of(code: &str) -> i32 {
    CODES.iter().find(|&&(c, _)| c == code).map_or(0, |&(_, v)| -v)
}
