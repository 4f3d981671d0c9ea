//! The contract of a byte-level store backend.

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
