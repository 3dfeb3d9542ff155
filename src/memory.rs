//! Giving memory back after a large answer. With glibc's allocator the
//! process stayed about 60 MB above its idle size after one (21 MB idle,
//! 81 MB after) until the heap was trimmed. The service's own memory is now
//! jemalloc's, which returns freed pages within a second by itself
//! (`main.rs`); SQLite still allocates with the C library, whose heap is
//! trimmed here a moment after a large answer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static LARGE_ANSWER_BUILT: AtomicBool = AtomicBool::new(false);

/// Called when a request built a large answer.
pub fn large_answer_built() {
    LARGE_ANSWER_BUILT.store(true, Ordering::Relaxed);
}

/// Trims the heap a moment after large answers, once they have been sent.
pub fn start_trimming() {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tick.tick().await;
            if LARGE_ANSWER_BUILT.swap(false, Ordering::Relaxed) {
                trim();
            }
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
