//! The record cache budget: one per stream thread (one per test driver), shared by every
//! caching store of the thread's tasks, sized by `statestore.cache.max.bytes`.

use std::cell::Cell;

/// Bytes the caches of one thread may hold.
#[derive(Debug)]
pub struct CacheBudget {
    max_bytes: usize,
    used: Cell<usize>,
}

impl CacheBudget {
    /// A budget of `max_bytes` (0 disables caching: every update is emitted).
    pub fn new(max_bytes: usize) -> Self {
        CacheBudget {
            max_bytes,
            used: Cell::new(0),
        }
    }
    /// The configured maximum.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }
    /// True when caching is on.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }
    /// Bytes currently charged.
    pub fn used(&self) -> usize {
        self.used.get()
    }
    pub(crate) fn charge(&self, bytes: usize) {
        self.used.set(self.used.get().saturating_add(bytes));
    }
    pub(crate) fn release(&self, bytes: usize) {
        self.used.set(self.used.get().saturating_sub(bytes));
    }
    pub(crate) fn exceeded(&self) -> bool {
        self.used.get() > self.max_bytes
    }
}
