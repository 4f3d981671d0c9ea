//! Byte-level store backends under the typed stores: in memory and RocksDB.
//!
//! The typed layer above keeps unflushed writes in its own overlay (the record cache) and hands
//! the backend one batch per flush, so a backend never sees a write per record.

#[doc(hidden)]
pub mod bench_support;
pub(crate) mod checkpoint;
pub(crate) mod memory;
pub(crate) mod rocks;

use crate::error::Result;

/// One write of a batch: a put (`Some(value)`) or a delete (`None`).
pub(crate) type BatchOp<'a> = (&'a [u8], Option<&'a [u8]>);

/// What [`BytesStore::scan`] calls per entry; `false` stops the scan.
pub(crate) type Visitor<'v> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'v;

/// A sorted byte key-value store. Keys compare as unsigned bytes.
pub(crate) trait BytesStore {
    /// The value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Applies every op atomically (one RocksDB `WriteBatch`, WAL off: the changelog is the
    /// log).
    fn write_batch(&mut self, ops: &[BatchOp<'_>]) -> Result<()>;
    /// Calls `visit` for each entry with `from <= key < to` (`None`: unbounded) in ascending key
    /// order until it returns `false`.
    fn scan(&self, from: Option<&[u8]>, to: Option<&[u8]>, visit: &mut Visitor<'_>) -> Result<()>;
    /// Estimated number of entries.
    fn approximate_num_entries(&self) -> Result<u64>;
    /// Makes written data durable (RocksDB: flush memtables).
    fn flush(&mut self) -> Result<()>;
    /// True if the data survives the process.
    fn persistent(&self) -> bool;
}

/// Where store data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreType {
    /// RocksDB under the task's state directory (the default, as in Kafka Streams).
    #[default]
    RocksDb,
    /// A sorted map in memory, restored fully from the changelog after a restart.
    InMemory,
}

/// Opens backends; holds what RocksDB stores of one process share (block cache, write
/// buffers), created on first use.
pub(crate) struct Backends {
    rocks_memory_bytes: usize,
    rocks: std::cell::OnceCell<std::sync::Arc<rocks::RocksShared>>,
}

impl Backends {
    pub(crate) fn new(rocks_memory_bytes: usize) -> Self {
        Backends {
            rocks_memory_bytes,
            rocks: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn open(
        &self,
        kind: StoreType,
        store: &str,
        dir: &std::path::Path,
    ) -> Result<Box<dyn BytesStore>> {
        match kind {
            StoreType::InMemory => Ok(Box::new(memory::MemoryStore::default())),
            StoreType::RocksDb => {
                let shared = match self.rocks.get() {
                    Some(s) => s.clone(),
                    None => {
                        let s = rocks::RocksShared::new(self.rocks_memory_bytes)?;
                        let _ = self.rocks.set(s.clone());
                        s
                    }
                };
                Ok(Box::new(rocks::RocksStore::open(store, dir, &shared)?))
            }
        }
    }
}
