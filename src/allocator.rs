//! Keeping freed memory in the process, for programs that allocate the same large tensors
//! every step.
//!
//! A CPU training step allocates and frees the same large buffers every time: the `n × n`
//! scores, their gradient, the activations. glibc's `malloc` serves a block above its
//! threshold (at most 32 MiB) with a fresh `mmap` and returns it to the system on `free`,
//! so the next step touches brand-new pages: one page fault and one zeroed page per 4 KiB,
//! every step. On the 2-core machine of the README that was a third of `loss_n4096`'s time.

/// The largest block glibc may serve from its heap instead of a fresh mapping, and how much
/// free memory at the heap's top it keeps rather than returning: 1 GiB each.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const RETAIN_BYTES: libc::c_int = 1 << 30;
/// How much extra the heap grows by each time it grows: 256 MiB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TOP_PAD_BYTES: libc::c_int = 1 << 28;

/// Tells glibc's allocator to serve blocks up to 1 GiB from its heap and keep up to 1 GiB
/// of freed memory for reuse (`mallopt`: `M_MMAP_THRESHOLD`, `M_TRIM_THRESHOLD`,
/// `M_TOP_PAD`). Returns whether it applied: `false` on other platforms and C libraries,
/// where it does nothing.
///
/// The process keeps its peak memory instead of handing it back between steps (the
/// `loss_n4096` benchmark's peak went from 160 to 222 MiB) and stops faulting fresh pages in
/// for every large tensor. Call it once, at the start of `main`, before threads allocate;
/// the examples do.
///
/// # Example
/// ```
/// let applied = infonce::allocator::retain_freed_memory();
/// assert_eq!(applied, cfg!(all(target_os = "linux", target_env = "gnu")));
/// ```
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets allocator parameters; every value is in range.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, RETAIN_BYTES) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, RETAIN_BYTES) == 1
                && libc::mallopt(libc::M_TOP_PAD, TOP_PAD_BYTES) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
