//! Byte-level store backends under the typed stores: in memory and RocksDB.
//!
//! The typed layer above keeps unflushed writes in its own overlay (the record cache) and hands
//! the backend one batch per flush, so a backend never sees a write per record.

pub(crate) mod backends;
#[doc(hidden)]
pub mod bench_support;
pub(crate) mod bytes_store;
pub(crate) mod checkpoint;
pub(crate) mod memory;
pub(crate) mod rocks;

pub use bytes_store::StoreType;
