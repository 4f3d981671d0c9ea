//! The typed key-value store: a record cache (typed overlay) over a byte backend (RocksDB or
//! memory), with a changelog topic.
//!
//! Writes land in the overlay. A flush writes every dirty entry to the backend in one batch and
//! to the changelog, in one pass. With caching on, clean entries stay in the overlay as a read
//! cache, and a DSL processor emits each key's latest value once per commit. With caching off,
//! the overlay is only a write buffer: a processor emits every update, and the overlay is
//! flushed every `WRITE_BUFFER_ENTRIES` writes and at each commit.
//!
//! The overlay's keys are also kept in byte order, the backends' order, so a range scan merges
//! the two without flushing (overlay entries shadow the backend's). A put into an uncached
//! store does not read the old value: nothing uses it (only a cached store's emitted change
//! needs it).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::rc::Rc;
use std::sync::Arc;

use crate::collector::OutRecord;
use crate::error::{Result, StreamsError};
use crate::record::Headers;
use crate::serdes::Serde;
use crate::state::cache::CacheBudget;
use crate::state::internals::bytes_store::{BatchOp, BytesStore, StoreType, Visitor};
use crate::state::store::{
    ChangelogRecord, SharedCollector, StateStore, StoreBuilder, StoreContext,
};

/// Dirty entries an uncached store buffers before it writes a batch.
const WRITE_BUFFER_ENTRIES: usize = 10_000;
/// Bookkeeping bytes charged per cached entry besides its key and value.
const ENTRY_OVERHEAD: usize = 64;

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
        let backend_persistent = backend.persistent();
        Ok(KeyValueStore {
            name: Rc::from(self.name.as_str()),
            inner: Rc::new(RefCell::new(KvInner {
                name: self.name.clone(),
                key_serde: self.key_serde.clone(),
                value_serde: self.value_serde.clone(),
                backend,
                overlay: HashMap::new(),
                order: BTreeSet::new(),
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
                backend_newest: if backend_persistent {
                    i64::MAX
                } else {
                    i64::MIN
                },
            })),
        })
    }
}

/// The backend of a closed store: every access is an error.
struct ClosedStore(String);

impl ClosedStore {
    fn err(&self) -> StreamsError {
        StreamsError::store(
            self.0.clone(),
            "the store is closed (its task was closed, restarted or moved); get a new \
                     handle from the context or the driver",
        )
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
    /// The overlay's keys in byte order (the backends' order), for range scans. Point reads
    /// and writes, the hot path, stay hash lookups.
    order: BTreeSet<Vec<u8>>,
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
    /// Windowed stores: no entry in the backend has a time after this (`i64::MAX`: unknown,
    /// as for a persistent backend before its first expiry pass). Reads of newer times skip
    /// the backend.
    backend_newest: i64,
}

/// A dirty entry in a flush: key, the value's byte range in the arena (`None`: delete),
/// timestamp.
type Span<'a> = (&'a [u8], Option<(usize, usize)>, i64);

/// An entry met by a scan: from the overlay, or key and value bytes from the backend.
enum Row<'a, K, V> {
    Cached(&'a Entry<K, V>),
    Stored(&'a [u8], &'a [u8]),
}

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
        return Err(StreamsError::store(
            name.to_string(),
            format!(
                "stored value has {} bytes, expected an 8-byte timestamp prefix; the store's data \
                 is corrupt: delete the task's state directory to restore it from the changelog",
                bytes.len()
            ),
        ));
    }
    let (ts, v) = bytes.split_at(8);
    let mut a = [0u8; 8];
    a.copy_from_slice(ts);
    Ok((i64::from_be_bytes(a), v))
}

impl<K: Clone + 'static, V: Clone + 'static> KvInner<K, V> {
    fn err(&self, reason: impl std::fmt::Display) -> StreamsError {
        StreamsError::store(self.name.clone(), reason.to_string())
    }

    fn encode_key(&mut self, key: &K) -> Result<()> {
        self.key_buf.clear();
        let (buf, serde) = (&mut self.key_buf, &self.key_serde);
        serde
            .serialize(key, buf)
            .map_err(|e| StreamsError::store_caused(self.name.clone(), "cannot serialize a key", e))
    }

    /// Reads `key_buf` from the backend (not when its time is newer than anything there).
    fn load(&self) -> Result<Option<(V, i64)>> {
        if self.newer_than_backend(&self.key_buf) {
            return Ok(None);
        }
        match self.backend.get(&self.key_buf)? {
            None => Ok(None),
            Some(bytes) => self.decode_value(&bytes).map(Some),
        }
    }

    /// A stored value: the 8-byte timestamp, then the serialized value.
    fn decode_value(&self, bytes: &[u8]) -> Result<(V, i64)> {
        let (ts, v) = decode_ts(&self.name, bytes)?;
        let value = self
            .value_serde
            .deserialize(v)
            .map_err(|e| self.err(format!("cannot deserialize a stored value: {e}")))?;
        Ok((value, ts))
    }

    /// True when `key` is in a windowed store and its time is after every entry of the
    /// backend, so the backend cannot hold it.
    fn newer_than_backend(&self, key: &[u8]) -> bool {
        self.expiry
            .as_ref()
            .and_then(|x| x.windowing.time_of(key))
            .is_some_and(|t| t > self.backend_newest)
    }

    /// Notes that the backend now holds `key` (see `backend_newest`).
    fn note_in_backend(&mut self, key: &[u8]) {
        if let Some(x) = &self.expiry {
            let t = x.windowing.time_of(key).unwrap_or(i64::MAX);
            self.backend_newest = self.backend_newest.max(t);
        }
    }

    fn get(&mut self, key: &K) -> Result<Option<(V, i64)>> {
        self.encode_key(key)?;
        if let Some(e) = self.overlay.get(self.key_buf.as_slice()) {
            return Ok(e.value.clone().map(|v| (v, e.timestamp)));
        }
        let loaded = self.load()?;
        let charge = self.key_buf.len() + self.value_estimate + ENTRY_OVERHEAD;
        // A read is cached only while the thread's budget has room: only writes make the
        // owning processor emit and evict, so reads (a join's lookups, a processor that only
        // reads) must not grow the cache past `statestore.cache.max.bytes`.
        if self.caching && self.budget.used().saturating_add(charge) <= self.budget.max_bytes() {
            let (value, timestamp) = match &loaded {
                Some((v, ts)) => (Some(v.clone()), *ts),
                None => (None, -1),
            };
            self.charged += charge;
            self.budget.charge(charge);
            self.order.insert(self.key_buf.clone());
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

    /// Writes `key`. Returns the old value when `want_old` or the store caches (a cached
    /// change carries its old value); otherwise a key missing from the overlay is not read
    /// from the backend (a blind put) and `None` is returned.
    fn write(
        &mut self,
        key: &K,
        value: Option<V>,
        timestamp: i64,
        want_old: bool,
    ) -> Result<Option<V>> {
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
                // A cached store needs the old value as the change's old value (every DSL
                // processor reads before it writes, so this is a cache hit there). An uncached
                // store emits nothing from here, so a put skips the backend read.
                let old = if self.caching || want_old {
                    self.load()?.map(|(v, _)| v)
                } else {
                    None
                };
                let charge = self.key_buf.len() + self.value_estimate + ENTRY_OVERHEAD;
                self.charged += charge;
                self.budget.charge(charge);
                self.dirty += 1;
                self.order.insert(self.key_buf.clone());
                self.overlay.insert(
                    self.key_buf.clone(),
                    Entry {
                        key: key.clone(),
                        value,
                        timestamp,
                        dirty: true,
                        unemitted: true,
                        emitted: if self.caching { old.clone() } else { None },
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
            let windowing = self.expiry.as_ref().map(|x| x.windowing);
            let mut newest = self.backend_newest;
            for (k, e) in self.overlay.iter().filter(|(_, e)| e.dirty) {
                if let Some(w) = &windowing {
                    newest = newest.max(w.time_of(k).unwrap_or(i64::MAX));
                }
                match &e.value {
                    Some(v) => {
                        let start = arena.len();
                        arena.extend_from_slice(&e.timestamp.to_be_bytes());
                        self.value_serde.serialize(v, &mut arena).map_err(|err| {
                            StreamsError::store_caused(
                                self.name.clone(),
                                "cannot serialize a value",
                                err,
                            )
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
            self.backend_newest = newest;
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
        // The pass sees every entry, so it also learns the newest time the backend holds.
        let mut newest = i64::MIN;
        self.backend.scan(None, None, &mut |k, _| {
            match windowing.time_of(k) {
                Some(t) if t < cutoff => doomed.push(k.to_vec()),
                t => newest = newest.max(t.unwrap_or(i64::MAX)),
            }
            Ok(true)
        })?;
        self.backend_newest = newest;
        let ops: Vec<BatchOp<'_>> = doomed.iter().map(|k| (k.as_slice(), None)).collect();
        self.backend.write_batch(&ops)?;
        let before = self.overlay.len();
        self.overlay.retain(|k, e| {
            e.unemitted || e.dirty || windowing.time_of(k).is_none_or(|t| t >= cutoff)
        });
        if self.overlay.len() < before {
            let overlay = &self.overlay;
            self.order.retain(|k| overlay.contains_key(k));
        }
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
        self.order.clear();
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
            .write(key, Some(value), timestamp, false)
            .map(|_| ())
    }

    /// Removes `key`, returning its old value (a tombstone goes to the changelog).
    pub fn delete(&self, key: &K) -> Result<Option<V>> {
        let mut inner = self.inner.borrow_mut();
        let ts = inner.clock.get();
        inner.write(key, None, ts, true)
    }

    /// Removes `key` as of `timestamp` (what a caching store emits the deletion with).
    pub(crate) fn delete_with_timestamp(&self, key: &K, timestamp: i64) -> Result<Option<V>> {
        self.inner.borrow_mut().write(key, None, timestamp, true)
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
        let rows = Self::scan_where(inner, lo, hi, i64::MIN, &|_| true)?;
        Ok(rows.into_iter().map(|(k, v, _)| (k, v)).collect())
    }

    /// Visits the entries with `lo <= key < hi` whose key bytes pass `keep`, in key order; in a
    /// windowed store, only those with a time at or after `min_time` and within the retention.
    /// Merges the overlay (unflushed writes and deletes, cached entries) with the backend
    /// without flushing: an overlay entry shadows the backend's entry of the same key, and a
    /// deleted one hides it. A windowed store skips the backend when `min_time` is after
    /// everything it holds.
    fn scan_rows(
        inner: &KvInner<K, V>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
        min_time: i64,
        keep: &dyn Fn(&[u8]) -> bool,
        visit: &mut dyn FnMut(Row<'_, K, V>) -> Result<()>,
    ) -> Result<()> {
        let from = inner.live_from().max(min_time);
        Self::scan_rows_from(inner, lo, hi, from, keep, visit)
    }

    /// [`Self::scan_rows`] from exactly `from` (windowed stores), retention or not.
    fn scan_rows_from(
        inner: &KvInner<K, V>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
        from: i64,
        keep: &dyn Fn(&[u8]) -> bool,
        visit: &mut dyn FnMut(Row<'_, K, V>) -> Result<()>,
    ) -> Result<()> {
        if let (Some(l), Some(h)) = (lo, hi) {
            if l >= h {
                return Ok(());
            }
        }
        let windowing = inner.expiry.as_ref().map(|x| x.windowing);
        let wanted = |k: &[u8]| {
            keep(k)
                && windowing
                    .as_ref()
                    .and_then(|w| w.time_of(k))
                    .is_none_or(|t| t >= from)
        };
        let bounds = (
            lo.map_or(Bound::Unbounded, Bound::Included),
            hi.map_or(Bound::Unbounded, Bound::Excluded),
        );
        let mut overlay = inner
            .order
            .range::<[u8], _>(bounds)
            .filter(|k| wanted(k))
            .filter_map(|k| inner.overlay.get(k).map(|e| (k, e)))
            .peekable();
        if windowing.is_none() || from <= inner.backend_newest {
            inner.backend.scan(lo, hi, &mut |k, v| {
                while let Some((ok, e)) = overlay.next_if(|(ok, _)| ok.as_slice() <= k) {
                    if e.value.is_some() {
                        visit(Row::Cached(e))?;
                    }
                    if ok.as_slice() == k {
                        return Ok(true);
                    }
                }
                if wanted(k) {
                    visit(Row::Stored(k, v))?;
                }
                Ok(true)
            })?;
        }
        for (_, e) in overlay {
            if e.value.is_some() {
                visit(Row::Cached(e))?;
            }
        }
        Ok(())
    }

    /// [`Self::scan_rows`] as `(key, value, timestamp)` rows.
    fn scan_where(
        inner: &KvInner<K, V>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
        min_time: i64,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<(K, V, i64)>> {
        let from = inner.live_from().max(min_time);
        Self::collect_rows(inner, lo, hi, from, keep)
    }

    /// [`Self::scan_rows_from`] as `(key, value, timestamp)` rows.
    fn collect_rows(
        inner: &KvInner<K, V>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
        from: i64,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<(K, V, i64)>> {
        let mut out = Vec::new();
        Self::scan_rows_from(inner, lo, hi, from, keep, &mut |row| {
            out.push(match row {
                Row::Cached(e) => match &e.value {
                    Some(v) => (e.key.clone(), v.clone(), e.timestamp),
                    None => return Ok(()),
                },
                Row::Stored(k, v) => {
                    let key = inner
                        .key_serde
                        .deserialize(k)
                        .map_err(|e| inner.err(format!("cannot deserialize a stored key: {e}")))?;
                    let (value, ts) = inner.decode_value(v)?;
                    (key, value, ts)
                }
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Self::scan_where`] for the window and session stores, by typed bounds (inclusive);
    /// in a windowed store, only entries with a time at or after `min_time`.
    pub(crate) fn range_where(
        &self,
        from: &K,
        to: &K,
        min_time: i64,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<(K, V, i64)>> {
        let mut inner = self.inner.borrow_mut();
        inner.encode_key(from)?;
        let lo = inner.key_buf.clone();
        inner.encode_key(to)?;
        let mut hi = inner.key_buf.clone();
        hi.push(0);
        Self::scan_where(&inner, Some(&lo), Some(&hi), min_time, keep)
    }

    /// The values and timestamps of the entries with `lo <= key bytes < hi` that pass `keep`
    /// (windowed stores: with a time at or after `min_time`), in key order; keys are not
    /// deserialized.
    pub(crate) fn values_in(
        &self,
        lo: &[u8],
        hi: &[u8],
        min_time: i64,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<(V, i64)>> {
        let inner = self.inner.borrow();
        let mut out = Vec::new();
        Self::scan_rows(&inner, Some(lo), Some(hi), min_time, keep, &mut |row| {
            match row {
                Row::Cached(e) => {
                    if let Some(v) = &e.value {
                        out.push((v.clone(), e.timestamp));
                    }
                }
                Row::Stored(_, v) => out.push(inner.decode_value(v)?),
            }
            Ok(())
        })?;
        Ok(out)
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
        let inner = self.inner.borrow();
        let hi = (!hi.is_empty()).then_some(hi.as_slice());
        Self::scan_where(&inner, Some(prefix), hi, i64::MIN, &|k: &[u8]| {
            k.starts_with(prefix)
        })
    }

    /// Windowed stores: every entry whose key time (window start, session end) is in
    /// `[time_from, time_to]`, in key order, with its timestamp, including entries past the
    /// retention that the next flush has not yet removed (emit-final aggregations emit windows
    /// as they close, which can be the moment they leave the retention); keys outside the range
    /// are not deserialized. Empty for a store that is not windowed.
    pub(crate) fn all_with_time_in(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(K, V, i64)>> {
        let inner = self.inner.borrow();
        let Some(windowing) = inner.expiry.as_ref().map(|x| x.windowing) else {
            return Ok(Vec::new());
        };
        Self::collect_rows(&inner, None, None, time_from, &|k: &[u8]| {
            windowing
                .time_of(k)
                .is_some_and(|t| t >= time_from && t <= time_to)
        })
    }

    /// Every live entry with its timestamp.
    pub(crate) fn all_with_timestamps(&self) -> Result<Vec<(K, V, i64)>> {
        let inner = self.inner.borrow();
        Self::scan_where(&inner, None, None, i64::MIN, &|_| true)
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
        // Every read goes to the closed backend, which says so.
        inner.backend_newest = i64::MAX;
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
            inner.note_in_backend(r.key);
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
        inner.backend.write_batch(&ops)?;
        drop(ops);
        inner.backend_newest = i64::MIN;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::RecordCollector;
    use crate::serdes::{I64Serde, StringSerde};
    use crate::state::internals::backends::Backends;
    use crate::task_id::TaskId;

    /// Counts the changelog records a store sends.
    struct Counting(Rc<Cell<usize>>);

    impl RecordCollector for Counting {
        fn send(&mut self, _record: OutRecord<'_>) -> Result<()> {
            self.0.set(self.0.get() + 1);
            Ok(())
        }
        fn partition_count(&mut self, _topic: &str) -> Result<i32> {
            Ok(1)
        }
    }

    /// What `Stores::in_memory_key_value_store(name, StringSerde, I64Serde)` builds.
    fn in_memory(name: &str) -> KeyValueStoreBuilder<String, i64> {
        KeyValueStoreBuilder::new(name, Arc::new(StringSerde), Arc::new(I64Serde))
            .store_type(StoreType::InMemory)
    }

    /// An uncached, logged in-memory store and the count of changelog records it sent.
    fn store() -> (KeyValueStore<String, i64>, Rc<Cell<usize>>) {
        build(in_memory("s"))
    }

    /// A store from `builder` and the count of changelog records it sent.
    fn build<K: Clone + 'static, V: Clone + 'static>(
        builder: KeyValueStoreBuilder<K, V>,
    ) -> (KeyValueStore<K, V>, Rc<Cell<usize>>) {
        build_with_budget(builder, &Rc::new(CacheBudget::new(0)))
    }

    /// [`build`] with the thread's record cache budget.
    fn build_with_budget<K: Clone + 'static, V: Clone + 'static>(
        builder: KeyValueStoreBuilder<K, V>,
        budget: &Rc<CacheBudget>,
    ) -> (KeyValueStore<K, V>, Rc<Cell<usize>>) {
        let sent = Rc::new(Cell::new(0));
        let collector: SharedCollector = Rc::new(RefCell::new(Box::new(Counting(sent.clone()))));
        let ctx = StoreContext {
            application_id: "app",
            task_id: TaskId {
                subtopology: 0,
                partition: 0,
            },
            task_dir: std::path::Path::new("unused-in-memory"),
            budget,
            collector: &collector,
            clock: &Rc::new(Cell::new(0)),
            backends: &Backends::new(4 << 20),
        };
        (builder.build_store(&ctx).unwrap(), sent)
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    // Every read miss of a cached store used to be inserted into the record cache and charged
    // to the budget, with nothing to evict it: a store that is only read grew without bound.
    #[test]
    fn reads_through_a_cached_store_stay_within_the_cache_budget() {
        let budget = Rc::new(CacheBudget::new(2_000));
        let (store, _) = build_with_budget(in_memory("s").with_caching_enabled(), &budget);
        let keys: Vec<String> = (0..1_000).map(|i| format!("key-{i:04}")).collect();
        let values: Vec<[u8; 8]> = (0..1_000i64).map(i64::to_be_bytes).collect();
        let records: Vec<ChangelogRecord<'_>> = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| ChangelogRecord {
                key: k.as_bytes(),
                value: Some(v),
                timestamp: 5,
            })
            .collect();
        StateStore::restore(&store, &records).unwrap();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(store.get(k).unwrap(), Some(i as i64));
            assert!(
                budget.used() <= budget.max_bytes(),
                "after {} reads the cache holds {} bytes, over its {}",
                i + 1,
                budget.used(),
                budget.max_bytes()
            );
        }
        // The first reads were cached: they are hits now, and still right.
        assert_eq!(store.get(&keys[0]).unwrap(), Some(0));
        assert!(budget.used() > 0);
    }

    #[test]
    fn range_merges_unflushed_writes_and_deletes_without_flushing() {
        let (store, sent) = store();
        for (k, v) in [("a", 1), ("c", 3), ("e", 5), ("g", 7)] {
            store.put_with_timestamp(&s(k), v, 10).unwrap();
        }
        StateStore::flush(&store).unwrap();
        assert_eq!(sent.get(), 4);
        // Unflushed: a new key between two flushed ones, an overwrite, a delete, a new last key.
        store.put_with_timestamp(&s("b"), 2, 20).unwrap();
        store.put_with_timestamp(&s("c"), 30, 21).unwrap();
        assert_eq!(store.delete(&s("e")).unwrap(), Some(5));
        store.put_with_timestamp(&s("h"), 8, 22).unwrap();
        assert_eq!(
            store.range(&s("b"), &s("g")).unwrap(),
            vec![(s("b"), 2), (s("c"), 30), (s("g"), 7)]
        );
        let merged = vec![
            (s("a"), 1),
            (s("b"), 2),
            (s("c"), 30),
            (s("g"), 7),
            (s("h"), 8),
        ];
        assert_eq!(store.all().unwrap(), merged);
        assert_eq!(
            KeyValueStore::scan_where(&store.inner.borrow(), None, None, i64::MIN, &|k| k != b"a")
                .unwrap(),
            vec![
                (s("b"), 2, 20),
                (s("c"), 30, 21),
                (s("g"), 7, 10),
                (s("h"), 8, 22)
            ]
        );
        assert_eq!(store.range(&s("x"), &s("a")).unwrap(), vec![]);
        // Nothing was flushed by the scans: no changelog record, the backend unchanged.
        assert_eq!(sent.get(), 4);
        assert_eq!(store.inner.borrow().dirty, 4);
        assert_eq!(
            store
                .inner
                .borrow()
                .backend
                .get(b"e")
                .unwrap()
                .map(|v| v.len()),
            Some(16)
        );
        StateStore::flush(&store).unwrap();
        assert_eq!(sent.get(), 8);
        assert_eq!(store.all().unwrap(), merged);
    }

    /// A backend that fails every point read and accepts everything else.
    struct NoReads;

    impl BytesStore for NoReads {
        fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>> {
            Err(StreamsError::Internal("read from the backend".into()))
        }
        fn write_batch(&mut self, _ops: &[BatchOp<'_>]) -> Result<()> {
            Ok(())
        }
        fn scan(&self, _: Option<&[u8]>, _: Option<&[u8]>, _: &mut Visitor<'_>) -> Result<()> {
            Ok(())
        }
        fn approximate_num_entries(&self) -> Result<u64> {
            Ok(0)
        }
        fn flush(&mut self) -> Result<()> {
            Ok(())
        }
        fn persistent(&self) -> bool {
            false
        }
    }

    #[test]
    fn uncached_put_does_not_read_the_backend_but_delete_does() {
        let (store, sent) = store();
        store.put_with_timestamp(&s("k"), 1, 1).unwrap();
        StateStore::flush(&store).unwrap();
        assert_eq!(store.delete(&s("k")).unwrap(), Some(1));
        StateStore::flush(&store).unwrap();
        store.inner.borrow_mut().backend = Box::new(NoReads);
        store.put_with_timestamp(&s("k"), 2, 2).unwrap();
        store.put_with_timestamp(&s("k"), 3, 3).unwrap();
        store.put_with_timestamp(&s("m"), 4, 4).unwrap();
        StateStore::flush(&store).unwrap();
        assert_eq!(sent.get(), 4);
        let err = store.delete(&s("k")).unwrap_err();
        assert!(err.to_string().contains("read from the backend"), "{err}");
    }

    #[test]
    fn windowed_reads_skip_the_backend_after_its_newest_time() {
        // Keys are their own time (8 bytes big-endian), as in a window store's key suffix.
        let builder = KeyValueStoreBuilder::new("w", Arc::new(I64Serde), Arc::new(I64Serde))
            .store_type(StoreType::InMemory)
            .windowed(Windowing {
                ts_from_end: 8,
                retention_ms: 1_000,
            });
        let (store, _) = build(builder);
        store
            .restore(&[ChangelogRecord {
                key: &500i64.to_be_bytes(),
                value: Some(&7i64.to_be_bytes()),
                timestamp: 500,
            }])
            .unwrap();
        // Restored entries count as the backend's newest time.
        assert_eq!(store.get(&500).unwrap(), Some(7));
        store.put_with_timestamp(&100, 1, 100).unwrap();
        store.put_with_timestamp(&900, 9, 900).unwrap();
        StateStore::flush(&store).unwrap();
        store.put_with_timestamp(&950, 95, 950).unwrap();
        assert_eq!(
            store
                .range_where(&0, &2_000, 500, &|_| true)
                .unwrap()
                .into_iter()
                .map(|(k, v, _)| (k, v))
                .collect::<Vec<_>>(),
            vec![(500, 7), (900, 9), (950, 95)]
        );
        store.inner.borrow_mut().backend = Box::new(NoReads);
        // Newer than anything flushed: answered without the backend; older: the backend is read.
        assert_eq!(store.get(&901).unwrap(), None);
        assert_eq!(store.get(&950).unwrap(), Some(95));
        assert!(store.get(&899).is_err());
    }
}
