//! Windows: the OS reports Win32 error codes, which libuv (and so Node)
//! translates to its own negative numbers (`uv_translate_sys_error`). This
//! table follows that translation for the errors file operations meet.
//! Only Linux builds run here; this file is checked on paper against
//! libuv's `uv/errno.h` (the numbers) and `src/win/error.c` (the mapping).

/// libuv's Windows numbers for the names this package reports.
pub const CODES: &[(&str, i32)] = &[
    ("EPERM", -4048),
    ("ENOENT", -4058),
    ("EIO", -4070),
    ("ENXIO", -4033),
    ("EBADF", -4083),
    ("EAGAIN", -4088),
    ("ENOMEM", -4057),
    ("EACCES", -4092),
    ("EFAULT", -4074),
    ("EBUSY", -4082),
    ("EEXIST", -4075),
    ("EXDEV", -4037),
    ("ENODEV", -4059),
    ("ENOTDIR", -4052),
    ("EISDIR", -4068),
    ("EINVAL", -4071),
    ("ENFILE", -4061),
    ("EMFILE", -4066),
    ("ETXTBSY", -4038),
    ("EFBIG", -4036),
    ("ENOSPC", -4055),
    ("EROFS", -4043),
    ("ENAMETOOLONG", -4064),
    ("ENOSYS", -4054),
    ("ENOTEMPTY", -4051),
    ("ELOOP", -4067),
    ("EOVERFLOW", -4026),
    ("EINTR", -4072),
];

/// Win32 error codes -> the code libuv reports for them.
const WIN32: &[(i32, &str)] = &[
    (2, "ENOENT"),         // ERROR_FILE_NOT_FOUND
    (3, "ENOENT"),         // ERROR_PATH_NOT_FOUND
    (4, "EMFILE"),         // ERROR_TOO_MANY_OPEN_FILES
    (5, "EPERM"),          // ERROR_ACCESS_DENIED (libuv: EPERM)
    (6, "EBADF"),          // ERROR_INVALID_HANDLE
    (8, "ENOMEM"),         // ERROR_NOT_ENOUGH_MEMORY
    (14, "ENOMEM"),        // ERROR_OUTOFMEMORY
    (19, "EROFS"),         // ERROR_WRITE_PROTECT
    (23, "EIO"),           // ERROR_CRC
    (32, "EBUSY"),         // ERROR_SHARING_VIOLATION
    (33, "EBUSY"),         // ERROR_LOCK_VIOLATION
    (39, "ENOSPC"),        // ERROR_HANDLE_DISK_FULL
    (80, "EEXIST"),        // ERROR_FILE_EXISTS
    (87, "EINVAL"),        // ERROR_INVALID_PARAMETER
    (112, "ENOSPC"),       // ERROR_DISK_FULL
    (123, "ENOENT"),       // ERROR_INVALID_NAME
    (145, "ENOTEMPTY"),    // ERROR_DIR_NOT_EMPTY
    (161, "ENOENT"),       // ERROR_BAD_PATHNAME
    (183, "EEXIST"),       // ERROR_ALREADY_EXISTS
    (206, "ENAMETOOLONG"), // ERROR_FILENAME_EXCED_RANGE
    (267, "ENOTDIR"),      // ERROR_DIRECTORY
    (1117, "EIO"),         // ERROR_IO_DEVICE
    (1314, "EPERM"),       // ERROR_PRIVILEGE_NOT_HELD
];

/// `(code, errno)` of a Win32 error code.
pub fn by_number(n: i32) -> Option<(&'static str, i32)> {
    WIN32.iter().find(|&&(w, _)| w == n).map(|&(_, code)| (code, number_of(code)))
}

/// Node's `errno` for a code (0 if this table lacks it).
pub fn number_of(code: &str) -> i32 {
    CODES.iter().find(|&&(c, _)| c == code).map_or(0, |&(_, v)| v)
}
