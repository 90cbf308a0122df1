//! Platforms with neither Unix nor Windows error numbers: codes come from
//! the error's kind only, with no `errno`.

pub const CODES: &[(&str, i32)] = &[];

pub fn by_number(_: i32) -> Option<(&'static str, i32)> {
    None
}

pub fn number_of(_: &str) -> i32 {
    0
}
