//! Gives the allocator's free pages back to the system after a burst.
//!
//! glibc's malloc keeps what a program frees in its arenas, resident, to serve later
//! allocations; it returns pages to the system by itself only from the top of the main
//! heap. A burst of connections leaves many freed buffers behind (the handshakes' reads,
//! the upgrade's state) in the middle of the heap, so the server's resident memory stays
//! at the burst's high-water mark although the memory is free. `malloc_trim` releases
//! the whole free pages of every arena.
//!
//! It walks the arenas' free lists with each arena locked, so it is not run on a timer
//! alone: [`Trimmer`] asks for a trim only when the free heap has grown by
//! [`TRIM_AFTER_FREED`] since the last trim (or since it was last lower) and has stopped
//! growing since the last look, that is once after a burst, never during one and never
//! while the heap is steady. The gateway's sweeps look every two seconds
//! (`gateway/sweeps.rs`).
//!
//! On other allocators and C libraries there is nothing to ask, and it does nothing.

/// Growth of the free heap, in bytes, that makes a trim worth its walk.
const TRIM_AFTER_FREED: usize = 8 << 20;
/// Growth between two looks, in bytes, below which the free heap counts as settled.
const SETTLED_WITHIN: usize = 1 << 20;

/// When to trim, from successive readings of the free heap.
#[derive(Debug, Default)]
pub struct Trimmer {
    /// The free heap at the last trim, or its lowest reading since.
    baseline: usize,
    /// The last reading.
    last: usize,
}

impl Trimmer {
    /// Whether a free heap of `free` bytes calls for a trim now.
    pub fn due(&mut self, free: usize) -> bool {
        // Still growing: a burst is under way, and a trim now would miss the rest of it.
        let settled = free <= self.last.saturating_add(SETTLED_WITHIN);
        self.last = free;
        if free < self.baseline {
            // Freed memory was reused: what is freed from here on counts again.
            self.baseline = free;
            return false;
        }
        if settled && free - self.baseline >= TRIM_AFTER_FREED {
            // A trim releases pages but leaves the chunks free: the reading stays.
            self.baseline = free;
            return true;
        }
        false
    }

    /// Reads the allocator and trims when it is due; whether it trimmed. Blocking (a
    /// trim takes milliseconds on a large heap): call it off the async workers.
    pub fn tick(&mut self) -> bool {
        match free_heap() {
            Some(free) if self.due(free) => {
                let started = std::time::Instant::now();
                let released = trim();
                tracing::debug!(
                    free,
                    released,
                    took_ms = started.elapsed().as_secs_f64() * 1e3,
                    "heap trimmed"
                );
                true
            }
            _ => false,
        }
    }
}

/// Bytes in free chunks of the allocator's arenas, where the allocator says.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn free_heap() -> Option<usize> {
    // SAFETY: `mallinfo2` only reads the allocator's statistics.
    Some(unsafe { libc::mallinfo2() }.fordblks)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn free_heap() -> Option<usize> {
    None
}

/// Releases the free pages of every arena; whether any were.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() -> bool {
    // SAFETY: `malloc_trim` is safe to call at any time from any thread.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn a_trim_is_due_once_the_free_heap_grew_and_settled() {
        let mut t = Trimmer::default();
        assert!(!t.due(MIB), "a little free heap is left alone");
        assert!(!t.due(9 * MIB), "a burst under way is not trimmed");
        assert!(!t.due(20 * MIB), "nor while it goes on");
        assert!(t.due(20 * MIB), "once it has stopped, it is");
        assert!(!t.due(20 * MIB), "the same free heap is not trimmed twice");
        assert!(!t.due(21 * MIB), "a little more is left alone");
        assert!(!t.due(27 * MIB), "growing again: wait");
        assert!(
            !t.due(27 * MIB),
            "and less than the threshold since the trim"
        );
        // Reused, then freed again: the growth counts from the lowest reading.
        assert!(!t.due(2 * MIB));
        assert!(!t.due(11 * MIB));
        assert!(t.due(11 * MIB));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_burst_freed_is_given_back_to_the_system() {
        fn resident_bytes() -> usize {
            let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
            let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
            pages * 4096
        }
        let mut t = Trimmer::default();
        t.tick();
        // 64 MiB in 16 KiB blocks, every other one kept, so the free chunks cannot merge
        // into the top of the heap and only a trim releases their pages.
        let mut blocks: Vec<Vec<u8>> = (0..4_096).map(|_| vec![1u8; 16 << 10]).collect();
        let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(2).map(std::mem::take).collect();
        drop(blocks);
        let before = resident_bytes();
        assert!(
            free_heap().unwrap() >= 32 * MIB,
            "the freed half is free heap"
        );
        assert!(
            !t.tick(),
            "the free heap is still growing at the first look"
        );
        assert!(t.tick(), "a trim is due once 32 MiB freed have settled");
        let after = resident_bytes();
        assert!(
            before - after >= 16 * MIB,
            "resident {before} → {after}: the free pages went back"
        );
        assert!(
            !t.tick(),
            "and it is not repeated while nothing more is freed"
        );
        drop(kept);
    }
}
