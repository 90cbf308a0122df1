//! Payload copy into write buffers: AVX2 on x86_64, NEON on aarch64, and a
//! plain `copy_from_slice` elsewhere (or when the CPU lacks AVX2).

/// Copies `src` into `dst` (equal lengths).
#[inline]
pub fn simd_copy(dst: &mut [u8], src: &[u8]) {
    assert_eq!(dst.len(), src.len(), "simd_copy needs equal lengths");
    if !arch::copy(dst, src) {
        dst.copy_from_slice(src);
    }
}

/// Appends `src` to `buf` with [`simd_copy`].
#[inline]
pub fn extend_from_slice(buf: &mut Vec<u8>, src: &[u8]) {
    let old = buf.len();
    buf.resize(old + src.len(), 0);
    simd_copy(&mut buf[old..], src);
}

// One `arch` module per CPU family, chosen by `cfg` here; each `copy`
// returns false when it leaves the copy to `copy_from_slice`.

#[cfg(target_arch = "x86_64")]
mod arch {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_storeu_si256};

    /// AVX2 copy of 64 bytes or more, when the CPU has AVX2.
    #[inline]
    pub fn copy(dst: &mut [u8], src: &[u8]) -> bool {
        if src.len() < 64 || !std::arch::is_x86_feature_detected!("avx2") {
            return false;
        }
        // SAFETY: AVX2 was detected at run time; both slices are `len` bytes long.
        unsafe { avx2(dst, src) };
        true
    }

    #[target_feature(enable = "avx2")]
    unsafe fn avx2(dst: &mut [u8], src: &[u8]) {
        let len = src.len();
        let chunks = len / 32;
        for i in 0..chunks {
            // SAFETY: i * 32 + 32 <= len for both slices; unaligned loads/stores are used.
            unsafe {
                let v = _mm256_loadu_si256(src.as_ptr().add(i * 32) as *const __m256i);
                _mm256_storeu_si256(dst.as_mut_ptr().add(i * 32) as *mut __m256i, v);
            }
        }
        dst[chunks * 32..].copy_from_slice(&src[chunks * 32..]);
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    use std::arch::aarch64::{vld1q_u8, vst1q_u8};

    /// NEON copy (mandatory on aarch64) of 64 bytes or more.
    #[inline]
    pub fn copy(dst: &mut [u8], src: &[u8]) -> bool {
        if src.len() < 64 {
            return false;
        }
        let len = src.len();
        let chunks = len / 16;
        for i in 0..chunks {
            // SAFETY: NEON is mandatory on aarch64; i * 16 + 16 <= len for both slices.
            unsafe { vst1q_u8(dst.as_mut_ptr().add(i * 16), vld1q_u8(src.as_ptr().add(i * 16))) };
        }
        dst[chunks * 16..].copy_from_slice(&src[chunks * 16..]);
        true
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod arch {
    /// No vector copy here: `copy_from_slice` does it.
    #[inline]
    pub fn copy(_dst: &mut [u8], _src: &[u8]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn copies_every_length() {
        for len in [0usize, 1, 31, 32, 63, 64, 65, 1000, 4097] {
            let src: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut dst = vec![0u8; len];
            super::simd_copy(&mut dst, &src);
            assert_eq!(dst, src);
            let mut buf = vec![9u8];
            super::extend_from_slice(&mut buf, &src);
            assert_eq!(&buf[1..], &src[..]);
        }
    }
}
