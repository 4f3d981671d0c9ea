//! The RocksDB backend.
//!
//! Every store of a process shares one [`RocksShared`]: one LRU block cache and one write
//! buffer manager whose memtable memory is charged to that cache, so RocksDB's memory is bounded
//! by `rocksdb.total.memory.bytes` however many tasks and stores there are (Kafka Streams'
//! `BoundedMemoryRocksDBConfig`). Writes skip the WAL: the changelog topic is the log, and a
//! store whose memtables were lost is restored from it.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rocksdb::{
    BlockBasedOptions, Cache, DBCompressionType, LogLevel, Options, ReadOptions, WriteBatch,
    WriteBufferManager, WriteOptions, DB,
};

use crate::error::{Result, StreamsError};
use crate::state::internals::bytes_store::{BatchOp, BytesStore, Visitor};

/// Config key of the memory bound shared by all RocksDB stores of a process.
pub(crate) const TOTAL_MEMORY_CONFIG: &str = "rocksdb.total.memory.bytes";
/// Default of [`TOTAL_MEMORY_CONFIG`]: 64 MiB.
pub(crate) const DEFAULT_TOTAL_MEMORY_BYTES: usize = 64 << 20;
/// Smallest accepted [`TOTAL_MEMORY_CONFIG`]: 4 MiB.
pub(crate) const MIN_TOTAL_MEMORY_BYTES: usize = 4 << 20;
/// Largest memtable of one store. The shared write buffer manager flushes earlier when all
/// stores together hold too much.
const MAX_WRITE_BUFFER_SIZE: usize = 8 << 20;

/// Memory shared by every RocksDB store of a process: one block cache and one write buffer
/// manager charged to it.
pub(crate) struct RocksShared {
    cache: Cache,
    write_buffers: WriteBufferManager,
    total_memory_bytes: usize,
    write_buffer_bytes: usize,
}

impl std::fmt::Debug for RocksShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksShared")
            .field("total_memory_bytes", &self.total_memory_bytes)
            .field("write_buffer_bytes", &self.write_buffer_bytes)
            .finish_non_exhaustive()
    }
}

impl RocksShared {
    /// A cache of `total_memory_bytes` (memtables + data, index and filter blocks). A quarter of
    /// it may be taken by memtables (their memory is reserved in the cache, so it is not on
    /// top of it); the rest holds blocks.
    pub(crate) fn new(total_memory_bytes: usize) -> Result<Arc<RocksShared>> {
        if total_memory_bytes < MIN_TOTAL_MEMORY_BYTES {
            return Err(StreamsError::config(
                TOTAL_MEMORY_CONFIG,
                format!(
                    "{total_memory_bytes} bytes is too small for RocksDB; use at least \
                     {MIN_TOTAL_MEMORY_BYTES} (4 MiB), default {DEFAULT_TOTAL_MEMORY_BYTES} \
                     (64 MiB)"
                ),
            ));
        }
        let write_buffer_bytes = total_memory_bytes / 4;
        let cache = Cache::new_lru_cache(total_memory_bytes);
        let write_buffers = WriteBufferManager::new_write_buffer_manager_with_cache(
            write_buffer_bytes,
            false,
            cache.clone(),
        );
        Ok(Arc::new(RocksShared {
            cache,
            write_buffers,
            total_memory_bytes,
            write_buffer_bytes,
        }))
    }

    /// The configured bound.
    #[cfg(test)] // read by the memory-bound test; metrics will read it too
    pub(crate) fn total_memory_bytes(&self) -> usize {
        self.total_memory_bytes
    }

    /// Bytes held by the memtables of all stores.
    #[cfg(test)] // read by the memory-bound test; metrics will read it too
    pub(crate) fn write_buffer_usage(&self) -> usize {
        self.write_buffers.get_usage()
    }

    /// Bytes held in the block cache, memtable reservations included.
    #[cfg(test)] // read by the memory-bound test; metrics will read it too
    pub(crate) fn cache_usage(&self) -> usize {
        self.cache.get_usage()
    }

    /// The memtable size of one store.
    fn store_write_buffer_size(&self) -> usize {
        (self.write_buffer_bytes / 2).clamp(1 << 20, MAX_WRITE_BUFFER_SIZE)
    }

    fn options(&self) -> Options {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&self.cache);
        table.set_bloom_filter(10.0, false);
        table.set_cache_index_and_filter_blocks(true);
        table.set_cache_index_and_filter_blocks_with_high_priority(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_format_version(5);

        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.set_block_based_table_factory(&table);
        opts.set_write_buffer_manager(&self.write_buffers);
        opts.set_write_buffer_size(self.store_write_buffer_size());
        opts.set_max_write_buffer_number(3);
        // As Kafka Streams: no compression. Values are small (counts, timestamps) and
        // compression costs CPU in flushes and compactions that restoration competes with.
        opts.set_compression_type(DBCompressionType::None);
        // RocksDB's own LOG: small, few files, warnings only.
        opts.set_log_level(LogLevel::Warn);
        opts.set_keep_log_file_num(2);
        opts.set_max_log_file_size(1 << 20);
        opts
    }
}

/// A RocksDB instance holding one store of one task.
pub(crate) struct RocksStore {
    name: String,
    dir: PathBuf,
    db: DB,
    write_opts: WriteOptions,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("name", &self.name)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl RocksStore {
    /// Opens the store `store_name` in `dir`, creating the directory (and its parents) and the
    /// database if missing.
    ///
    /// An existing directory that RocksDB cannot open gives [`StreamsError::CorruptState`]; a
    /// directory locked by another open instance gives [`StreamsError::Store`].
    pub(crate) fn open(store_name: &str, dir: &Path, shared: &RocksShared) -> Result<RocksStore> {
        let corrupt = |reason: String, source: Option<Box<dyn std::error::Error + Send + Sync>>| {
            StreamsError::CorruptState {
                path: dir.to_path_buf(),
                store: store_name.to_string(),
                reason,
                source,
            }
        };
        let existed = match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => true,
            Ok(_) => {
                return Err(corrupt(
                    "the path exists but is not a directory".into(),
                    None,
                ))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => false,
            Err(e) => {
                return Err(corrupt(
                    format!("cannot inspect it: {e}"),
                    Some(Box::new(e)),
                ))
            }
        };
        if !existed {
            std::fs::create_dir_all(dir).map_err(|source| StreamsError::StateIo {
                action: format!("create the directory of state store `{store_name}`"),
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let db = DB::open(&shared.options(), dir).map_err(|e| {
            let reason = e.to_string();
            if is_lock_error(&reason) {
                StreamsError::store_caused(
                    store_name,
                    format!(
                        "cannot open `{}`: it is in use by another open instance of this store \
                         (another application instance with the same `state.dir` and \
                         `application.id`, or a store that was not closed)",
                        dir.display()
                    ),
                    e,
                )
            } else if existed {
                corrupt(reason, Some(Box::new(e)))
            } else {
                StreamsError::store_caused(
                    store_name,
                    format!("cannot create RocksDB in `{}`", dir.display()),
                    e,
                )
            }
        })?;
        let mut write_opts = WriteOptions::default();
        write_opts.disable_wal(true);
        Ok(RocksStore {
            name: store_name.to_string(),
            dir: dir.to_path_buf(),
            db,
            write_opts,
        })
    }

    fn failed(&self, what: &str, e: rocksdb::Error) -> StreamsError {
        StreamsError::store_caused(
            self.name.clone(),
            format!("RocksDB {what} in `{}` failed", self.dir.display()),
            e,
        )
    }
}

/// RocksDB reports a held `LOCK` file as an I/O error mentioning the lock.
fn is_lock_error(reason: &str) -> bool {
    let lower = reason.to_ascii_lowercase();
    lower.contains("lock file") || lower.contains("lock hold")
}

impl BytesStore for RocksStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.db.get_pinned(key) {
            Ok(v) => Ok(v.map(|v| v.to_vec())),
            Err(e) => Err(self.failed("get", e)),
        }
    }

    fn write_batch(&mut self, ops: &[BatchOp<'_>]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        // Each record of a batch costs its bytes plus a tag and two varint lengths.
        let bytes: usize = ops
            .iter()
            .map(|(k, v)| k.len() + v.map_or(0, <[u8]>::len) + 11)
            .sum();
        let mut batch = WriteBatch::with_capacity_bytes(bytes + 12);
        let mut add = |(k, v): &BatchOp<'_>| match v {
            Some(v) => batch.put(k, v),
            None => batch.delete(k),
        };
        // Inserting in key order is much cheaper for the memtable's skip list (it resumes the
        // search where the previous insert ended): +15-20% restore rate. The sort is stable,
        // so the last op of a key stays last and wins, as in the unsorted batch.
        if ops.windows(2).all(|w| w[0].0 <= w[1].0) {
            ops.iter().for_each(&mut add);
        } else {
            let mut sorted: Vec<&BatchOp<'_>> = ops.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            sorted.into_iter().for_each(&mut add);
        }
        self.db
            .write_opt(batch, &self.write_opts)
            .map_err(|e| self.failed("write", e))
    }

    fn scan(&self, from: Option<&[u8]>, to: Option<&[u8]>, visit: &mut Visitor<'_>) -> Result<()> {
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Ok(());
            }
        }
        let mut read_opts = ReadOptions::default();
        if let Some(f) = from {
            read_opts.set_iterate_lower_bound(f);
        }
        if let Some(t) = to {
            read_opts.set_iterate_upper_bound(t);
        }
        let mut it = self.db.raw_iterator_opt(read_opts);
        match from {
            Some(f) => it.seek(f),
            None => it.seek_to_first(),
        }
        while let Some((k, v)) = it.item() {
            if !visit(k, v)? {
                return Ok(());
            }
            it.next();
        }
        it.status().map_err(|e| self.failed("scan", e))
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.db
            .property_int_value(rocksdb::properties::ESTIMATE_NUM_KEYS)
            .map(|n| n.unwrap_or(0))
            .map_err(|e| self.failed("property `rocksdb.estimate-num-keys`", e))
    }

    fn flush(&mut self) -> Result<()> {
        self.db.flush().map_err(|e| self.failed("flush", e))
    }

    fn persistent(&self) -> bool {
        true
    }
}

/// Removes a store directory and everything in it; the store must be closed (dropped). A
/// missing directory is not an error.
#[cfg(test)]
pub(crate) fn destroy(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StreamsError::StateIo {
            action: "delete the state store directory".into(),
            path: dir.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir().join(format!(
                "streams-core-rocks-{test}-{}-{nanos}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn shared() -> Arc<RocksShared> {
        RocksShared::new(DEFAULT_TOTAL_MEMORY_BYTES).unwrap()
    }

    fn collect(s: &RocksStore, from: Option<&[u8]>, to: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut seen = Vec::new();
        s.scan(from, to, &mut |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            Ok(true)
        })
        .unwrap();
        seen
    }

    fn kv(k: &[u8], v: &[u8]) -> (Vec<u8>, Vec<u8>) {
        (k.to_vec(), v.to_vec())
    }

    #[test]
    fn batch_put_delete_get() {
        let tmp = TempDir::new("batch");
        let shared = shared();
        let mut s = RocksStore::open("counts", &tmp.path().join("a/b/counts"), &shared).unwrap();
        assert!(s.persistent());
        s.write_batch(&[(b"b", Some(b"2")), (b"a", Some(b"1")), (b"c", Some(b"3"))])
            .unwrap();
        s.write_batch(&[(b"c", None), (b"a", Some(b"11")), (b"zz", None)])
            .unwrap();
        s.write_batch(&[]).unwrap();
        assert_eq!(s.get(b"a").unwrap(), Some(b"11".to_vec()));
        assert_eq!(s.get(b"b").unwrap(), Some(b"2".to_vec()));
        assert_eq!(s.get(b"c").unwrap(), None);
        assert_eq!(s.get(b"missing").unwrap(), None);
        // A put then a delete of the same key in one batch: the last op wins.
        s.write_batch(&[(b"d", Some(b"4")), (b"d", None)]).unwrap();
        assert_eq!(s.get(b"d").unwrap(), None);
        // An estimate (memtable entries minus twice the deletes), exact here.
        assert_eq!(s.approximate_num_entries().unwrap(), 2);
        // An unsorted batch with repeated keys: the last op of each key wins.
        s.write_batch(&[
            (b"f", Some(b"1")),
            (b"e", Some(b"x")),
            (b"f", None),
            (b"e", Some(b"y")),
            (b"f", Some(b"3")),
            (b"d", Some(b"5")),
            (b"d", None),
        ])
        .unwrap();
        assert_eq!(s.get(b"d").unwrap(), None);
        assert_eq!(s.get(b"e").unwrap(), Some(b"y".to_vec()));
        assert_eq!(s.get(b"f").unwrap(), Some(b"3".to_vec()));
    }

    #[test]
    fn scan_bounds_and_order() {
        let tmp = TempDir::new("scan");
        let shared = shared();
        let mut s = RocksStore::open("s", tmp.path(), &shared).unwrap();
        // Unsigned byte order: 0x00 < "a" < "a\0" < "ab" < "b" < 0xff.
        s.write_batch(&[
            (b"b", Some(b"4")),
            (b"\xff", Some(b"5")),
            (b"a", Some(b"1")),
            (b"ab", Some(b"3")),
            (b"a\0", Some(b"2")),
            (b"\x00", Some(b"0")),
        ])
        .unwrap();
        let all = collect(&s, None, None);
        let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, vec![&b"\x00"[..], b"a", b"a\0", b"ab", b"b", b"\xff"]);
        assert_eq!(
            collect(&s, Some(b"a"), Some(b"ab")),
            vec![kv(b"a", b"1"), kv(b"a\0", b"2")]
        );
        assert_eq!(
            collect(&s, Some(b"aa"), None),
            vec![kv(b"ab", b"3"), kv(b"b", b"4"), kv(b"\xff", b"5")]
        );
        assert_eq!(collect(&s, None, Some(b"a")), vec![kv(b"\x00", b"0")]);
        assert!(collect(&s, Some(b"b"), Some(b"b")).is_empty());
        assert!(collect(&s, Some(b"c"), Some(b"a")).is_empty());
        // The visitor stops the scan ...
        let mut n = 0;
        s.scan(None, None, &mut |_, _| {
            n += 1;
            Ok(n < 2)
        })
        .unwrap();
        assert_eq!(n, 2);
        // ... and its errors come back.
        let err = s
            .scan(None, None, &mut |_, _| {
                Err(StreamsError::Internal("boom".into()))
            })
            .unwrap_err();
        assert!(matches!(err, StreamsError::Internal(m) if m == "boom"));
        // The bounds hold after a flush too (data in SST files, not the memtable).
        s.flush().unwrap();
        assert_eq!(
            collect(&s, Some(b"a\0"), Some(b"b")),
            vec![kv(b"a\0", b"2"), kv(b"ab", b"3")]
        );
    }

    #[test]
    fn reopen_after_drop_keeps_flushed_data() {
        let tmp = TempDir::new("reopen");
        let shared = shared();
        {
            let mut s = RocksStore::open("s", tmp.path(), &shared).unwrap();
            let ops: Vec<(Vec<u8>, Vec<u8>)> = (0..1000u32)
                .map(|i| (format!("k{i:04}").into_bytes(), i.to_be_bytes().to_vec()))
                .collect();
            let batch: Vec<BatchOp<'_>> = ops
                .iter()
                .map(|(k, v)| (k.as_slice(), Some(v.as_slice())))
                .collect();
            s.write_batch(&batch).unwrap();
            s.write_batch(&[(b"k0000", None)]).unwrap();
            s.flush().unwrap();
        }
        let s = RocksStore::open("s", tmp.path(), &shared).unwrap();
        assert_eq!(s.get(b"k0000").unwrap(), None);
        assert_eq!(
            s.get(b"k0999").unwrap(),
            Some(999u32.to_be_bytes().to_vec())
        );
        assert_eq!(collect(&s, None, None).len(), 999);
        drop(s);
        destroy(tmp.path()).unwrap();
        assert!(!tmp.path().exists());
        destroy(tmp.path()).unwrap(); // already gone: fine
    }

    #[test]
    fn two_stores_share_one_memory_bound() {
        let tmp = TempDir::new("shared");
        let shared = shared();
        let mut a = RocksStore::open("a", &tmp.path().join("0_0/a"), &shared).unwrap();
        let mut b = RocksStore::open("b", &tmp.path().join("0_1/b"), &shared).unwrap();
        let value = vec![7u8; 100];
        let fill = |s: &mut RocksStore| {
            let keys: Vec<Vec<u8>> = (0..5_000u32).map(|i| i.to_be_bytes().to_vec()).collect();
            let ops: Vec<BatchOp<'_>> = keys.iter().map(|k| (&k[..], Some(&value[..]))).collect();
            s.write_batch(&ops).unwrap();
        };
        let before = shared.write_buffer_usage();
        fill(&mut a);
        let after_a = shared.write_buffer_usage();
        fill(&mut b);
        let after_b = shared.write_buffer_usage();
        assert!(after_a > before, "{before} -> {after_a}");
        assert!(after_b > after_a, "{after_a} -> {after_b}");
        // Memtables are charged to the shared block cache.
        assert!(
            shared.cache_usage() >= after_b / 2,
            "{}",
            shared.cache_usage()
        );
        assert!(shared.cache_usage() <= shared.total_memory_bytes());
        assert_eq!(a.get(&4_999u32.to_be_bytes()).unwrap(), Some(value.clone()));
        assert_eq!(b.get(&0u32.to_be_bytes()).unwrap(), Some(value.clone()));
        a.flush().unwrap();
        b.flush().unwrap();
        assert_eq!(a.get(&1u32.to_be_bytes()).unwrap(), Some(value));
    }

    #[test]
    fn memory_bound_too_small_is_a_config_error() {
        let err = RocksShared::new(1024).unwrap_err();
        assert!(
            matches!(&err, StreamsError::Config { key, .. } if key == TOTAL_MEMORY_CONFIG),
            "{err}"
        );
    }

    fn assert_corrupt(err: StreamsError, dir: &Path) {
        let msg = err.to_string();
        match err {
            StreamsError::CorruptState { path, store, .. } => {
                assert_eq!(path, dir);
                assert_eq!(store, "counts");
            }
            other => panic!("expected CorruptState, got {other:?}"),
        }
        assert!(msg.contains("`counts`"), "{msg}");
        assert!(msg.contains(&dir.display().to_string()), "{msg}");
        assert!(msg.contains("delete the directory"), "{msg}");
        assert!(msg.contains("restored from its changelog"), "{msg}");
    }

    #[test]
    fn garbage_directory_is_a_typed_error() {
        let tmp = TempDir::new("garbage");
        let shared = shared();
        // A CURRENT file that is not a manifest pointer.
        std::fs::create_dir_all(tmp.path()).unwrap();
        std::fs::write(tmp.path().join("CURRENT"), b"\x00\x01junk").unwrap();
        std::fs::write(tmp.path().join("000001.sst"), b"not an sst").unwrap();
        let err = RocksStore::open("counts", tmp.path(), &shared).unwrap_err();
        // RocksDB's own error is kept as the cause, for callers that match on it.
        let cause = std::error::Error::source(&err).expect("RocksDB's error is the source");
        assert!(
            cause.downcast_ref::<rocksdb::Error>().is_some(),
            "{cause:?}"
        );
        assert_corrupt(err, tmp.path());
        // A CURRENT file that names a manifest that does not exist.
        std::fs::write(tmp.path().join("CURRENT"), b"MANIFEST-000042\n").unwrap();
        let err = RocksStore::open("counts", tmp.path(), &shared).unwrap_err();
        assert_corrupt(err, tmp.path());
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_a_typed_error() {
        let tmp = TempDir::new("file");
        std::fs::create_dir_all(tmp.path()).unwrap();
        let path = tmp.path().join("counts");
        std::fs::write(&path, b"hello").unwrap();
        let err = RocksStore::open("counts", &path, &shared()).unwrap_err();
        assert_corrupt(err, &path);
    }

    #[test]
    fn a_directory_in_use_is_not_reported_as_corrupt() {
        let tmp = TempDir::new("locked");
        let shared = shared();
        let _open = RocksStore::open("counts", tmp.path(), &shared).unwrap();
        let err = RocksStore::open("counts", tmp.path(), &shared).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StreamsError::Store { .. }), "{msg}");
        assert!(msg.contains("in use"), "{msg}");
    }
}
