//! Global stores: one store per application instance, filled from every partition of a topic
//! and read by every task (Kafka Streams' global state stores, behind `GlobalKTable`).
//!
//! The topic is the store's changelog: the store holds the topic's key bytes and value bytes
//! (with the record timestamp in front, as key-value stores do), written by one updater (the
//! test driver, or the runtime's global thread) and read by stream tasks on any thread. Reads
//! take a shared lock; the updater writes one batch at a time.

use std::any::Any;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, RwLock};

use crate::config::DeserializationHandler;
use crate::error::{RecordLocation, RecordPart, Result, SerdeError, StreamsError};
use crate::serdes::Serde;
use crate::state::internals::bytes_store::{BatchOp, BytesStore, StoreType};
use crate::state::internals::{memory, rocks};
use crate::state::store::{ChangelogRecord, StateStore};

/// A byte store that the updater thread and the stream threads share.
pub(crate) type SharedBytesStore = Box<dyn BytesStore + Send + Sync>;

/// The shared instance of one global store (opened by the updater before tasks run).
pub(crate) struct GlobalStoreCell {
    name: String,
    backend: RwLock<Option<SharedBytesStore>>,
}

impl GlobalStoreCell {
    pub(crate) fn new(name: &str) -> Self {
        GlobalStoreCell {
            name: name.to_string(),
            backend: RwLock::new(None),
        }
    }

    fn closed(&self) -> StreamsError {
        StreamsError::store(
            self.name.clone(),
            "the global store is not open (the application is not running or was \
                     closed)",
        )
    }

    /// Installs the backend (replacing and dropping a previous one).
    pub(crate) fn open(&self, backend: SharedBytesStore) {
        *self.backend.write().unwrap_or_else(|p| p.into_inner()) = Some(backend);
    }

    /// Flushes and drops the backend (RocksDB: releases its directory lock).
    pub(crate) fn close(&self) -> Result<()> {
        let mut b = self.backend.write().unwrap_or_else(|p| p.into_inner());
        let result = match b.as_mut() {
            Some(s) => s.flush(),
            None => Ok(()),
        };
        *b = None;
        result
    }

    /// Applies topic records: puts, and deletes for null values.
    pub(crate) fn apply(&self, records: &[ChangelogRecord<'_>]) -> Result<()> {
        let mut b = self.backend.write().unwrap_or_else(|p| p.into_inner());
        let store = b.as_mut().ok_or_else(|| self.closed())?;
        crate::state::key_value::write_timestamped(&mut **store, records)
    }

    /// Makes written data durable (before a checkpoint is written).
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn flush(&self) -> Result<()> {
        let mut b = self.backend.write().unwrap_or_else(|p| p.into_inner());
        b.as_mut().ok_or_else(|| self.closed())?.flush()
    }

    /// Deletes everything (before reading the topic from the beginning).
    pub(crate) fn wipe(&self) -> Result<()> {
        let mut b = self.backend.write().unwrap_or_else(|p| p.into_inner());
        let store = b.as_mut().ok_or_else(|| self.closed())?;
        let mut keys = Vec::new();
        store.scan(None, None, &mut |k, _| {
            keys.push(k.to_vec());
            Ok(true)
        })?;
        let ops: Vec<BatchOp<'_>> = keys.iter().map(|k| (k.as_slice(), None)).collect();
        store.write_batch(&ops)
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let b = self.backend.read().unwrap_or_else(|p| p.into_inner());
        b.as_ref().ok_or_else(|| self.closed())?.get(key)
    }

    fn scan(&self, visit: &mut crate::state::internals::bytes_store::Visitor<'_>) -> Result<()> {
        let b = self.backend.read().unwrap_or_else(|p| p.into_inner());
        b.as_ref()
            .ok_or_else(|| self.closed())?
            .scan(None, None, visit)
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        let b = self.backend.read().unwrap_or_else(|p| p.into_inner());
        b.as_ref()
            .ok_or_else(|| self.closed())?
            .approximate_num_entries()
    }
}

/// Opens the backend of a global store: RocksDB in `dir`, or memory.
pub(crate) fn open_backend(
    kind: StoreType,
    name: &str,
    dir: &Path,
    rocks_memory_bytes: usize,
) -> Result<SharedBytesStore> {
    match kind {
        StoreType::InMemory => Ok(Box::new(memory::MemoryStore::default())),
        StoreType::RocksDb => {
            let shared = rocks::RocksShared::new(rocks_memory_bytes)?;
            Ok(Box::new(rocks::RocksStore::open(name, dir, &shared)?))
        }
    }
}

/// Checks that a record of a global topic decodes: which part failed, and why.
pub(crate) type RecordCheck =
    Arc<dyn Fn(Option<&[u8]>, Option<&[u8]>) -> Option<(RecordPart, SerdeError)> + Send + Sync>;

/// Creates a task's typed read handle on a global store.
pub(crate) type HandleFactory =
    Arc<dyn Fn(&Arc<GlobalStoreCell>) -> Box<dyn StateStore> + Send + Sync>;

/// A global store as the topology declares it.
pub(crate) struct GlobalStoreDef {
    pub name: String,
    /// The topic filling it (a user topic).
    pub topic: String,
    pub store_type: StoreType,
    /// Creates a task's typed read handle.
    pub handle: HandleFactory,
    pub check: RecordCheck,
}

/// A global store of a plan: its definition and the shared instance.
#[derive(Clone)]
pub(crate) struct GlobalStorePlan {
    pub name: String,
    pub topic: String,
    pub store_type: StoreType,
    pub cell: Arc<GlobalStoreCell>,
    pub handle: HandleFactory,
    pub check: RecordCheck,
}

impl GlobalStoreDef {
    pub(crate) fn plan(&self) -> GlobalStorePlan {
        GlobalStorePlan {
            name: self.name.clone(),
            topic: self.topic.clone(),
            store_type: self.store_type,
            cell: Arc::new(GlobalStoreCell::new(&self.name)),
            handle: self.handle.clone(),
            check: self.check.clone(),
        }
    }
}

/// One record read from a global topic.
pub(crate) struct GlobalRecord<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub timestamp: i64,
    pub offset: i64,
}

impl GlobalStorePlan {
    /// Checks and writes records of one partition of the store's topic, in one batch.
    /// Records without a key are skipped (as Kafka's table sources skip them); undecodable ones
    /// fail or are skipped by `handler`. Returns how many were skipped.
    pub(crate) fn apply(
        &self,
        handler: DeserializationHandler,
        partition: i32,
        records: &[GlobalRecord<'_>],
    ) -> Result<u64> {
        let mut skipped = 0;
        let mut batch = Vec::with_capacity(records.len());
        for r in records {
            let Some(key) = r.key else {
                tracing::warn!(topic = %self.topic, partition, offset = r.offset, store = %self.name,
                    "skipping a global table record without a key");
                skipped += 1;
                continue;
            };
            if let Some((part, source)) = (self.check)(r.key, r.value) {
                let err = StreamsError::Deserialization {
                    location: RecordLocation {
                        topic: self.topic.clone(),
                        partition,
                        offset: r.offset,
                    },
                    part,
                    source,
                };
                match handler {
                    DeserializationHandler::LogAndFail => return Err(err),
                    DeserializationHandler::LogAndContinue => {
                        tracing::warn!(error = %err, store = %self.name,
                            "skipping undecodable global table record (LogAndContinue)");
                        skipped += 1;
                        continue;
                    }
                }
            }
            batch.push(ChangelogRecord {
                key,
                value: r.value,
                timestamp: r.timestamp,
            });
        }
        self.cell.apply(&batch)?;
        Ok(skipped)
    }
}

/// A read-only handle on a global store (the store behind a [`crate::GlobalKTable`]). Every
/// task of the instance sees the same data; get one in a processor with
/// `ctx.get_state_store::<GlobalKeyValueStore<K, V>>(name)` or in tests with
/// [`crate::TopologyTestDriver::get_state_store`].
pub struct GlobalKeyValueStore<K, V> {
    cell: Arc<GlobalStoreCell>,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    /// Reused for the key bytes of lookups (a handle lives in one task, on one thread).
    key_buf: Rc<RefCell<Vec<u8>>>,
}

impl<K, V> Clone for GlobalKeyValueStore<K, V> {
    fn clone(&self) -> Self {
        GlobalKeyValueStore {
            cell: self.cell.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            key_buf: self.key_buf.clone(),
        }
    }
}

impl<K: 'static, V: 'static> GlobalKeyValueStore<K, V> {
    pub(crate) fn new(
        cell: Arc<GlobalStoreCell>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        GlobalKeyValueStore {
            cell,
            key_serde,
            value_serde,
            key_buf: Rc::new(RefCell::new(Vec::new())),
        }
    }

    fn err(&self, what: &str, e: SerdeError) -> StreamsError {
        StreamsError::store_caused(self.cell.name.clone(), format!("cannot {what}"), e)
    }

    fn decode(&self, bytes: &[u8]) -> Result<(V, i64)> {
        if bytes.len() < 8 {
            return Err(StreamsError::store(
                self.cell.name.clone(),
                format!(
                    "stored value has {} bytes, expected an 8-byte timestamp prefix; delete the \
                     global store's directory (state.dir/<application.id>/global) to rebuild it \
                     from its topic",
                    bytes.len()
                ),
            ));
        }
        let (ts, v) = bytes.split_at(8);
        let mut a = [0u8; 8];
        a.copy_from_slice(ts);
        let value = self
            .value_serde
            .deserialize(v)
            .map_err(|e| self.err("deserialize a stored value", e))?;
        Ok((value, i64::from_be_bytes(a)))
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        Ok(self.get_with_timestamp(key)?.map(|(v, _)| v))
    }

    /// The value of `key` and the timestamp of the record that wrote it.
    pub fn get_with_timestamp(&self, key: &K) -> Result<Option<(V, i64)>> {
        let bytes = {
            let mut buf = self.key_buf.borrow_mut();
            buf.clear();
            self.key_serde
                .serialize(key, &mut buf)
                .map_err(|e| self.err("serialize a key for a lookup", e))?;
            self.cell.get(&buf)?
        };
        bytes.map(|b| self.decode(&b)).transpose()
    }

    /// Every entry, in key-byte order.
    pub fn all(&self) -> Result<Vec<(K, V)>> {
        let mut out = Vec::new();
        self.cell.scan(&mut |k, v| {
            let key = self
                .key_serde
                .deserialize(k)
                .map_err(|e| self.err("deserialize a stored key", e))?;
            out.push((key, self.decode(v)?.0));
            Ok(true)
        })?;
        Ok(out)
    }

    /// Estimated number of entries.
    pub fn approximate_num_entries(&self) -> Result<u64> {
        self.cell.approximate_num_entries()
    }
}

impl<K: 'static, V: 'static> StateStore for GlobalKeyValueStore<K, V> {
    fn name(&self) -> &str {
        &self.cell.name
    }
    fn persistent(&self) -> bool {
        false
    }
    /// The updater flushes a global store; a task's commit does nothing to it.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
    /// Closing a task leaves the global store open.
    fn close(&self) -> Result<()> {
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
