//! The typed key-value store: a record cache (typed overlay) over a byte backend (RocksDB or
//! memory), with a changelog topic.
//!
//! Writes land in the overlay. A flush writes every dirty entry to the backend in one batch and
//! to the changelog, in one pass. With caching on, clean entries stay in the overlay as a read
//! cache, and a DSL processor emits each key's latest value once per commit. With caching off,
//! the overlay is only a write buffer: a processor emits every update, and the overlay is
//! flushed every `WRITE_BUFFER_ENTRIES` writes and at each commit.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::processor::internals::collector::OutRecord;
use crate::record::Headers;
use crate::serdes::Serde;
use crate::state::internals::{BatchOp, BytesStore, StoreType, Visitor};
use crate::state::{
    CacheBudget, ChangelogRecord, SharedCollector, StateStore, StoreBuilder, StoreContext,
};

/// Dirty entries an uncached store buffers before it writes a batch.
const WRITE_BUFFER_ENTRIES: usize = 10_000;
/// Bookkeeping bytes charged per cached entry besides its key and value.
const ENTRY_OVERHEAD: usize = 64;

/// Factories for store builders, as Kafka Streams' `Stores`.
pub struct Stores;

impl Stores {
    /// A RocksDB key-value store, logged to a changelog, not cached.
    pub fn persistent_key_value_store<K: 'static, V: 'static>(
        name: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> KeyValueStoreBuilder<K, V> {
        KeyValueStoreBuilder::new(name, Arc::new(key_serde), Arc::new(value_serde))
    }

    /// An in-memory key-value store, logged to a changelog, not cached. Keys are ordered by
    /// their serialized bytes, as in Kafka Streams.
    pub fn in_memory_key_value_store<K: 'static, V: 'static>(
        name: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> KeyValueStoreBuilder<K, V> {
        Self::persistent_key_value_store(name, key_serde, value_serde)
            .store_type(StoreType::InMemory)
    }

    /// A RocksDB window store keeping windows of `window_size` for `retention` (at least the
    /// window size), logged to a changelog. Errors name the store when a duration is invalid.
    pub fn persistent_window_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        window_size: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<crate::state::WindowStoreBuilder<K, V>> {
        crate::state::window::window_builder(
            name,
            retention,
            window_size,
            Arc::new(key_serde),
            Arc::new(value_serde),
        )
    }

    /// An in-memory window store (see [`Stores::persistent_window_store`]).
    pub fn in_memory_window_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        window_size: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<crate::state::WindowStoreBuilder<K, V>> {
        Ok(
            Self::persistent_window_store(name, retention, window_size, key_serde, value_serde)?
                .store_type(StoreType::InMemory),
        )
    }

    /// A RocksDB session store keeping sessions that ended within `retention`, logged.
    pub fn persistent_session_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<crate::state::SessionStoreBuilder<K, V>> {
        crate::state::window::session_builder(
            name,
            retention,
            Arc::new(key_serde),
            Arc::new(value_serde),
        )
    }

    /// An in-memory session store (see [`Stores::persistent_session_store`]).
    pub fn in_memory_session_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<crate::state::SessionStoreBuilder<K, V>> {
        Ok(
            Self::persistent_session_store(name, retention, key_serde, value_serde)?
                .store_type(StoreType::InMemory),
        )
    }
}

/// Builds [`KeyValueStore`]s, one per task.
pub struct KeyValueStoreBuilder<K, V> {
    name: String,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    store_type: StoreType,
    logging: bool,
    caching: bool,
    windowing: Option<Windowing>,
}

/// How a window or session store finds the time in a store key and drops old entries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Windowing {
    /// The time (window start, session end) is the 8 bytes at `len - ts_from_end`.
    pub ts_from_end: usize,
    /// Entries whose time is `<= observed - retention` are dropped.
    pub retention_ms: i64,
}

impl Windowing {
    fn time_of(&self, key: &[u8]) -> Option<i64> {
        let at = key.len().checked_sub(self.ts_from_end)?;
        let bytes: [u8; 8] = key.get(at..at + 8)?.try_into().ok()?;
        Some(i64::from_be_bytes(bytes))
    }
}

/// Expiry state of a windowed store.
struct Expiry {
    windowing: Windowing,
    /// The largest time seen in a key (Kafka's `observedStreamTime` of segmented stores).
    observed: i64,
    /// Entries with a time below this were removed.
    removed_below: i64,
}

impl<K: 'static, V: 'static> KeyValueStoreBuilder<K, V> {
    pub(crate) fn new(
        name: &str,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        KeyValueStoreBuilder {
            name: name.to_string(),
            key_serde,
            value_serde,
            store_type: StoreType::RocksDb,
            logging: true,
            caching: false,
            windowing: None,
        }
    }
    pub(crate) fn windowed(mut self, windowing: Windowing) -> Self {
        self.windowing = Some(windowing);
        self
    }
    /// RocksDB (default) or in memory.
    pub fn store_type(mut self, store_type: StoreType) -> Self {
        self.store_type = store_type;
        self
    }
    /// No changelog: the store is not restored after a crash or a move.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }
    /// Keeps recently used entries in the thread's record cache
    /// (`statestore.cache.max.bytes`); ignored when that is 0.
    pub fn with_caching_enabled(mut self) -> Self {
        self.caching = true;
        self
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StoreBuilder for KeyValueStoreBuilder<K, V> {
    fn name(&self) -> &str {
        &self.name
    }
    fn logged(&self) -> bool {
        self.logging
    }
    fn persistent(&self) -> bool {
        self.store_type == StoreType::RocksDb
    }
    fn build(&self, ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>> {
        Ok(Box::new(self.build_store(ctx)?))
    }
    fn changelog_topic_config(&self) -> Vec<(String, String)> {
        match &self.windowing {
            None => vec![("cleanup.policy".into(), "compact".into())],
            // Window changelogs also expire, a day after the store does (Kafka's
            // `windowstore.changelog.additional.retention.ms`).
            Some(w) => vec![
                ("cleanup.policy".into(), "compact,delete".into()),
                (
                    "retention.ms".into(),
                    w.retention_ms.saturating_add(86_400_000).to_string(),
                ),
            ],
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KeyValueStoreBuilder<K, V> {
    pub(crate) fn build_store(&self, ctx: &StoreContext<'_>) -> Result<KeyValueStore<K, V>> {
        let dir = ctx.task_dir.join(&self.name);
        let backend = ctx.backends.open(self.store_type, &self.name, &dir)?;
        Ok(KeyValueStore {
            name: Rc::from(self.name.as_str()),
            inner: Rc::new(RefCell::new(KvInner {
                name: self.name.clone(),
                key_serde: self.key_serde.clone(),
                value_serde: self.value_serde.clone(),
                backend,
                overlay: HashMap::new(),
                dirty: 0,
                charged: 0,
                caching: self.caching && ctx.budget.enabled(),
                budget: ctx.budget.clone(),
                changelog: self.logging.then(|| Changelog {
                    topic: ctx.changelog_topic(&self.name),
                    partition: ctx.task_id.partition,
                    collector: ctx.collector.clone(),
                }),
                clock: ctx.clock.clone(),
                key_buf: Vec::with_capacity(64),
                value_estimate: 16,
                seq: 0,
                expiry: self.windowing.map(|windowing| Expiry {
                    windowing,
                    observed: i64::MIN,
                    removed_below: i64::MIN,
                }),
            })),
        })
    }
}

/// The backend of a closed store: every access is an error.
struct ClosedStore(String);

impl ClosedStore {
    fn err(&self) -> StreamsError {
        StreamsError::Store {
            store: self.0.clone(),
            reason: "the store is closed (its task was closed, restarted or moved); get a new \
                     handle from the context or the driver"
                .into(),
        }
    }
}

impl BytesStore for ClosedStore {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>> {
        Err(self.err())
    }
    fn write_batch(&mut self, _ops: &[BatchOp<'_>]) -> Result<()> {
        Err(self.err())
    }
    fn scan(&self, _: Option<&[u8]>, _: Option<&[u8]>, _: &mut Visitor<'_>) -> Result<()> {
        Err(self.err())
    }
    fn approximate_num_entries(&self) -> Result<u64> {
        Err(self.err())
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    fn persistent(&self) -> bool {
        false
    }
}

struct Changelog {
    topic: String,
    partition: i32,
    collector: SharedCollector,
}

struct Entry<K, V> {
    key: K,
    /// `None`: deleted.
    value: Option<V>,
    timestamp: i64,
    /// Not yet in the backend and changelog.
    dirty: bool,
    /// Changed since the owning processor last emitted it (caching mode).
    unemitted: bool,
    /// The value as of the last emission: the old value of the next change (caching mode).
    emitted: Option<V>,
    /// Order of the last write (emission order).
    seq: u64,
}

struct KvInner<K, V> {
    name: String,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    backend: Box<dyn BytesStore>,
    overlay: HashMap<Vec<u8>, Entry<K, V>>,
    dirty: usize,
    charged: usize,
    caching: bool,
    budget: Rc<CacheBudget>,
    changelog: Option<Changelog>,
    clock: Rc<Cell<i64>>,
    key_buf: Vec<u8>,
    value_estimate: usize,
    seq: u64,
    expiry: Option<Expiry>,
}

/// A dirty entry in a flush: key, the value's byte range in the arena (`None`: delete),
/// timestamp.
type Span<'a> = (&'a [u8], Option<(usize, usize)>, i64);

/// One emitted change of a cached store: key, new and old value, timestamp.
pub(crate) type Emit<K, V> = (K, Option<V>, Option<V>, i64);

/// A typed key-value store handle. Clones share the task's store.
///
/// Values carry the timestamp of the record that wrote them (Kafka's timestamped store).
pub struct KeyValueStore<K, V> {
    name: Rc<str>,
    inner: Rc<RefCell<KvInner<K, V>>>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        KeyValueStore {
            name: self.name.clone(),
            inner: self.inner.clone(),
        }
    }
}

fn decode_ts<'a>(name: &str, bytes: &'a [u8]) -> Result<(i64, &'a [u8])> {
    if bytes.len() < 8 {
        return Err(StreamsError::Store {
            store: name.to_string(),
            reason: format!(
                "stored value has {} bytes, expected an 8-byte timestamp prefix; the store's data \
                 is corrupt: delete the task's state directory to restore it from the changelog",
                bytes.len()
            ),
        });
    }
    let (ts, v) = bytes.split_at(8);
    let mut a = [0u8; 8];
    a.copy_from_slice(ts);
    Ok((i64::from_be_bytes(a), v))
}

impl<K: Clone + 'static, V: Clone + 'static> KvInner<K, V> {
    fn err(&self, reason: impl std::fmt::Display) -> StreamsError {
        StreamsError::Store {
            store: self.name.clone(),
            reason: reason.to_string(),
        }
    }

    fn encode_key(&mut self, key: &K) -> Result<()> {
        self.key_buf.clear();
        let (buf, serde) = (&mut self.key_buf, &self.key_serde);
        serde.serialize(key, buf).map_err(|e| StreamsError::Store {
            store: self.name.clone(),
            reason: format!("cannot serialize a key: {e}"),
        })
    }

    /// Reads `key_buf` from the backend.
    fn load(&self) -> Result<Option<(V, i64)>> {
        match self.backend.get(&self.key_buf)? {
            None => Ok(None),
            Some(bytes) => {
                let (ts, v) = decode_ts(&self.name, &bytes)?;
                let value = self
                    .value_serde
                    .deserialize(v)
                    .map_err(|e| self.err(format!("cannot deserialize a stored value: {e}")))?;
                Ok(Some((value, ts)))
            }
        }
    }

    fn get(&mut self, key: &K) -> Result<Option<(V, i64)>> {
        self.encode_key(key)?;
        if let Some(e) = self.overlay.get(self.key_buf.as_slice()) {
            return Ok(e.value.clone().map(|v| (v, e.timestamp)));
        }
        let loaded = self.load()?;
        if self.caching {
            let (value, timestamp) = match &loaded {
                Some((v, ts)) => (Some(v.clone()), *ts),
                None => (None, -1),
            };
            let charge = self.key_buf.len() + self.value_estimate + ENTRY_OVERHEAD;
            self.charged += charge;
            self.budget.charge(charge);
            self.overlay.insert(
                self.key_buf.clone(),
                Entry {
                    key: key.clone(),
                    emitted: value.clone(),
                    value,
                    timestamp,
                    dirty: false,
                    unemitted: false,
                    seq: 0,
                },
            );
        }
        Ok(loaded)
    }

    fn write(&mut self, key: &K, value: Option<V>, timestamp: i64) -> Result<Option<V>> {
        self.encode_key(key)?;
        if let Some(x) = &mut self.expiry {
            if let Some(t) = x.windowing.time_of(&self.key_buf) {
                x.observed = x.observed.max(t);
            }
        }
        self.seq += 1;
        let seq = self.seq;
        let old = match self.overlay.get_mut(self.key_buf.as_slice()) {
            Some(e) => {
                if !e.dirty {
                    self.dirty += 1;
                }
                e.dirty = true;
                e.unemitted = true;
                e.timestamp = timestamp;
                e.seq = seq;
                std::mem::replace(&mut e.value, value)
            }
            None => {
                // The old value is needed as the change's old value, and it is read anyway by
                // every DSL processor before it writes (so this is a cache hit there).
                let old = self.load()?.map(|(v, _)| v);
                let charge = self.key_buf.len() + self.value_estimate + ENTRY_OVERHEAD;
                self.charged += charge;
                self.budget.charge(charge);
                self.dirty += 1;
                self.overlay.insert(
                    self.key_buf.clone(),
                    Entry {
                        key: key.clone(),
                        value,
                        timestamp,
                        dirty: true,
                        unemitted: true,
                        emitted: old.clone(),
                        seq,
                    },
                );
                old
            }
        };
        if !self.caching && self.dirty >= WRITE_BUFFER_ENTRIES {
            self.flush()?;
        }
        Ok(old)
    }

    /// Writes dirty entries to the backend (one batch) and the changelog. Without caching,
    /// the overlay is emptied.
    fn flush(&mut self) -> Result<()> {
        if self.dirty > 0 {
            let mut arena: Vec<u8> = Vec::with_capacity(self.dirty * (self.value_estimate + 8));
            let mut spans: Vec<Span<'_>> = Vec::with_capacity(self.dirty);
            for (k, e) in self.overlay.iter().filter(|(_, e)| e.dirty) {
                match &e.value {
                    Some(v) => {
                        let start = arena.len();
                        arena.extend_from_slice(&e.timestamp.to_be_bytes());
                        self.value_serde.serialize(v, &mut arena).map_err(|err| {
                            StreamsError::Store {
                                store: self.name.clone(),
                                reason: format!("cannot serialize a value: {err}"),
                            }
                        })?;
                        spans.push((k.as_slice(), Some((start, arena.len())), e.timestamp));
                    }
                    None => spans.push((k.as_slice(), None, e.timestamp)),
                }
            }
            let ops: Vec<BatchOp<'_>> = spans
                .iter()
                .map(|(k, span, _)| (*k, span.map(|(a, b)| &arena[a..b])))
                .collect();
            self.backend.write_batch(&ops)?;
            if let Some(log) = &self.changelog {
                let mut collector = log.collector.borrow_mut();
                let headers = Headers::new();
                for (k, span, ts) in &spans {
                    collector.send(OutRecord {
                        topic: &log.topic,
                        partition: Some(log.partition),
                        key: Some(k),
                        // The changelog holds the plain value; the timestamp is the record's.
                        value: span.map(|(a, b)| &arena[a + 8..b]),
                        timestamp: *ts,
                        headers: &headers,
                    })?;
                }
            }
            let values = spans.iter().filter(|s| s.1.is_some()).count();
            if values > 0 {
                let value_bytes = arena.len() - 8 * values;
                self.value_estimate = (value_bytes / values).max(1);
            }
            drop(ops);
            drop(spans);
            for e in self.overlay.values_mut() {
                e.dirty = false;
            }
            self.dirty = 0;
        }
        self.expire()?;
        if !self.caching {
            self.clear_overlay();
        }
        Ok(())
    }

    /// The smallest time a windowed store still returns: `observed - retention + 1`.
    fn live_from(&self) -> i64 {
        match &self.expiry {
            Some(x) if x.observed != i64::MIN => x
                .observed
                .saturating_sub(x.windowing.retention_ms)
                .saturating_add(1),
            _ => i64::MIN,
        }
    }

    /// Removes windows older than the retention. Runs after a flush (nothing dirty), at most
    /// once per half retention of stream time, so each entry is visited a few times in its
    /// life; Kafka drops whole segments instead, at the same granularity.
    fn expire(&mut self) -> Result<()> {
        let cutoff = self.live_from();
        let Some(x) = &mut self.expiry else {
            return Ok(());
        };
        let step = (x.windowing.retention_ms / 2).max(1);
        if cutoff == i64::MIN || cutoff.saturating_sub(x.removed_below) < step {
            return Ok(());
        }
        x.removed_below = cutoff;
        let windowing = x.windowing;
        let mut doomed: Vec<Vec<u8>> = Vec::new();
        self.backend.scan(None, None, &mut |k, _| {
            if windowing.time_of(k).is_some_and(|t| t < cutoff) {
                doomed.push(k.to_vec());
            }
            Ok(true)
        })?;
        let ops: Vec<BatchOp<'_>> = doomed.iter().map(|k| (k.as_slice(), None)).collect();
        self.backend.write_batch(&ops)?;
        let before = self.overlay.len();
        self.overlay.retain(|k, e| {
            e.unemitted || e.dirty || windowing.time_of(k).is_none_or(|t| t >= cutoff)
        });
        if self.caching && self.overlay.len() < before {
            let per_entry = self.charged / before.max(1);
            let released = per_entry * (before - self.overlay.len());
            self.charged -= released;
            self.budget.release(released);
        }
        Ok(())
    }

    fn clear_overlay(&mut self) {
        self.overlay.clear();
        self.budget.release(self.charged);
        self.charged = 0;
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KeyValueStore<K, V> {
    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        Ok(self.inner.borrow_mut().get(key)?.map(|(v, _)| v))
    }

    /// The value of `key` and the timestamp of the record that wrote it.
    pub fn get_with_timestamp(&self, key: &K) -> Result<Option<(V, i64)>> {
        self.inner.borrow_mut().get(key)
    }

    /// Sets the value of `key`, stamped with the current record's timestamp.
    pub fn put(&self, key: &K, value: V) -> Result<()> {
        let ts = self.inner.borrow().clock.get();
        self.put_with_timestamp(key, value, ts)
    }

    /// Sets the value of `key` with an explicit timestamp.
    pub fn put_with_timestamp(&self, key: &K, value: V, timestamp: i64) -> Result<()> {
        self.inner
            .borrow_mut()
            .write(key, Some(value), timestamp)
            .map(|_| ())
    }

    /// Removes `key`, returning its old value (a tombstone goes to the changelog).
    pub fn delete(&self, key: &K) -> Result<Option<V>> {
        let mut inner = self.inner.borrow_mut();
        let ts = inner.clock.get();
        inner.write(key, None, ts)
    }

    /// Entries with `from <= key <= to` by serialized key bytes, in key order.
    pub fn range(&self, from: &K, to: &K) -> Result<Vec<(K, V)>> {
        let mut inner = self.inner.borrow_mut();
        inner.encode_key(from)?;
        let lo = inner.key_buf.clone();
        inner.encode_key(to)?;
        let mut hi = inner.key_buf.clone();
        hi.push(0); // inclusive upper bound: the smallest key greater than `to`
        self.scan(&mut inner, Some(&lo), Some(&hi))
    }

    /// Every entry, in key order.
    pub fn all(&self) -> Result<Vec<(K, V)>> {
        let mut inner = self.inner.borrow_mut();
        self.scan(&mut inner, None, None)
    }

    fn scan(
        &self,
        inner: &mut KvInner<K, V>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
    ) -> Result<Vec<(K, V)>> {
        let rows = Self::scan_where(inner, lo, hi, &|_| true)?;
        Ok(rows.into_iter().map(|(k, v, _)| (k, v)).collect())
    }

    /// Entries with `lo <= key < hi` whose key bytes pass `keep`, with their timestamps; in a
    /// windowed store, only windows within the retention.
    fn scan_where(
        inner: &mut KvInner<K, V>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<(K, V, i64)>> {
        inner.flush()?;
        let live_from = inner.live_from();
        let windowing = inner.expiry.as_ref().map(|x| x.windowing);
        let mut out = Vec::new();
        let (name, ks, vs) = (
            inner.name.clone(),
            inner.key_serde.clone(),
            inner.value_serde.clone(),
        );
        inner.backend.scan(lo, hi, &mut |k, v| {
            if !keep(k) {
                return Ok(true);
            }
            if let Some(w) = &windowing {
                if w.time_of(k).is_some_and(|t| t < live_from) {
                    return Ok(true);
                }
            }
            let err = |what: &str, e: crate::error::SerdeError| StreamsError::Store {
                store: name.clone(),
                reason: format!("cannot deserialize a stored {what}: {e}"),
            };
            let key = ks.deserialize(k).map_err(|e| err("key", e))?;
            let (ts, v) = decode_ts(&name, v)?;
            out.push((key, vs.deserialize(v).map_err(|e| err("value", e))?, ts));
            Ok(true)
        })?;
        Ok(out)
    }

    /// [`Self::scan_where`] for the window and session stores, by typed bounds (inclusive).
    pub(crate) fn range_where(
        &self,
        from: &K,
        to: &K,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<(K, V, i64)>> {
        let mut inner = self.inner.borrow_mut();
        inner.encode_key(from)?;
        let lo = inner.key_buf.clone();
        inner.encode_key(to)?;
        let mut hi = inner.key_buf.clone();
        hi.push(0);
        Self::scan_where(&mut inner, Some(&lo), Some(&hi), keep)
    }

    /// Entries whose serialized key starts with `prefix`, in key order, with their timestamps
    /// (one seek: the range from `prefix` to the smallest key above every key with it).
    pub(crate) fn prefix_scan(&self, prefix: &[u8]) -> Result<Vec<(K, V, i64)>> {
        let mut hi = prefix.to_vec();
        // The prefix "incremented": drop trailing 0xff bytes, then add one to the last byte.
        while hi.last() == Some(&0xff) {
            hi.pop();
        }
        if let Some(last) = hi.last_mut() {
            *last += 1;
        }
        let mut inner = self.inner.borrow_mut();
        let hi = (!hi.is_empty()).then_some(hi.as_slice());
        Self::scan_where(&mut inner, Some(prefix), hi, &|k| k.starts_with(prefix))
    }

    /// Every live entry with its timestamp.
    pub(crate) fn all_with_timestamps(&self) -> Result<Vec<(K, V, i64)>> {
        let mut inner = self.inner.borrow_mut();
        Self::scan_where(&mut inner, None, None, &|_| true)
    }

    /// The oldest time a windowed store still holds (`observed - retention + 1`).
    pub(crate) fn live_from(&self) -> i64 {
        self.inner.borrow().live_from()
    }

    /// Number of entries (after writing buffered changes).
    pub fn approximate_num_entries(&self) -> Result<u64> {
        let mut inner = self.inner.borrow_mut();
        inner.flush()?;
        inner.backend.approximate_num_entries()
    }

    /// True when the owning processor must emit and evict (the thread's cache is full).
    pub(crate) fn over_budget(&self) -> bool {
        let inner = self.inner.borrow();
        inner.caching && inner.budget.exceeded()
    }

    /// True when updates are cached and emitted at commit rather than on every write.
    pub(crate) fn caching(&self) -> bool {
        self.inner.borrow().caching
    }

    /// Changes not yet emitted, with the value last emitted as the old value.
    pub(crate) fn take_emits(&self) -> Vec<Emit<K, V>> {
        let mut inner = self.inner.borrow_mut();
        let mut out = Vec::new();
        if !inner.caching {
            // Without caching, the owner emitted every update as it happened.
            return Vec::new();
        }
        for e in inner.overlay.values_mut().filter(|e| e.unemitted) {
            e.unemitted = false;
            let old = std::mem::replace(&mut e.emitted, e.value.clone());
            out.push((e.seq, (e.key.clone(), e.value.clone(), old, e.timestamp)));
        }
        // In the order of the last update, like Kafka's LRU cache flush.
        out.sort_by_key(|(seq, _)| *seq);
        out.into_iter().map(|(_, e)| e).collect()
    }

    /// Writes everything and empties the cache (after the owner emitted).
    pub(crate) fn evict_all(&self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.flush()?;
        inner.clear_overlay();
        Ok(())
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StateStore for KeyValueStore<K, V> {
    fn name(&self) -> &str {
        &self.name
    }
    fn persistent(&self) -> bool {
        self.inner.borrow().backend.persistent()
    }
    fn flush(&self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.flush()?;
        inner.backend.flush()
    }
    fn close(&self) -> Result<()> {
        self.flush()?;
        // Release the backend now (RocksDB: its directory lock) even if handles remain; they
        // get a "closed" error from here on.
        let mut inner = self.inner.borrow_mut();
        inner.clear_overlay();
        let closed = Box::new(ClosedStore(inner.name.clone()));
        let _open = std::mem::replace(&mut inner.backend, closed);
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn restore(&self, records: &[ChangelogRecord<'_>]) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        for r in records {
            if let Some(x) = &mut inner.expiry {
                if let Some(t) = x.windowing.time_of(r.key) {
                    x.observed = x.observed.max(t);
                }
            }
        }
        write_timestamped(&mut *inner.backend, records)?;
        // Restored data supersedes anything cached.
        inner.clear_overlay();
        inner.dirty = 0;
        Ok(())
    }
    fn wipe(&self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.clear_overlay();
        inner.dirty = 0;
        let mut keys = Vec::new();
        inner.backend.scan(None, None, &mut |k, _| {
            keys.push(k.to_vec());
            Ok(true)
        })?;
        let ops: Vec<BatchOp<'_>> = keys.iter().map(|k| (k.as_slice(), None)).collect();
        inner.backend.write_batch(&ops)
    }
}

/// Writes changelog records to a backend in one batch, each value stored behind its 8-byte
/// timestamp (the layout of every key-value store); `None` values delete.
pub(crate) fn write_timestamped(
    backend: &mut dyn BytesStore,
    records: &[ChangelogRecord<'_>],
) -> Result<()> {
    let mut arena = Vec::with_capacity(
        records
            .iter()
            .map(|r| 8 + r.value.map_or(0, <[u8]>::len))
            .sum(),
    );
    let mut spans = Vec::with_capacity(records.len());
    for r in records {
        match r.value {
            Some(v) => {
                let start = arena.len();
                arena.extend_from_slice(&r.timestamp.to_be_bytes());
                arena.extend_from_slice(v);
                spans.push((r.key, Some((start, arena.len()))));
            }
            None => spans.push((r.key, None)),
        }
    }
    let ops: Vec<BatchOp<'_>> = spans
        .iter()
        .map(|(k, s)| (*k, s.map(|(a, b)| &arena[a..b])))
        .collect();
    backend.write_batch(&ops)
}
