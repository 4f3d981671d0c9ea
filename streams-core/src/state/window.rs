//! Window and session stores: typed key-value stores whose keys carry time, with retention.
//!
//! A window store keeps one aggregate per (key, window start); its store key is Kafka's
//! window key layout, the serialized key then the start as 8 bytes big-endian, so one key's
//! windows are adjacent and ordered by start. A session store keys by (key, session end,
//! session start), Kafka's session key layout, so a key's sessions are ordered by end.
//!
//! Both sit on the same record cache, backends and changelog as [`KeyValueStore`]: writes are
//! batched, the changelog (`<application.id>-<store>-changelog`, the key bytes above and the
//! plain value) is written at each flush. Entries older than the retention (relative to the
//! largest time written, Kafka's `observedStreamTime`) are no longer returned and are removed
//! from the backend at the next flush past half a retention.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Result, StreamsError};
use crate::serdes::{DynSerde, Serde};
use crate::state::internals::bytes_store::StoreType;
use crate::state::key_value::{KeyValueStore, KeyValueStoreBuilder, Windowing};
use crate::state::store::{ChangelogRecord, StateStore, StoreBuilder, StoreContext};
use crate::window::{SessionWindowedSerde, TimeWindowedSerde, Window, Windowed};

fn millis(d: Duration, what: &str, store: &str) -> Result<i64> {
    i64::try_from(d.as_millis()).map_err(|_| {
        StreamsError::InvalidWindow(format!(
            "store `{store}`: {what} {d:?} does not fit i64 milliseconds"
        ))
    })
}

/// Keeps only stored keys of exactly `key` followed by `tail` bytes of time.
fn same_key(key: Vec<u8>, tail: usize) -> impl Fn(&[u8]) -> bool {
    move |k: &[u8]| k.len() == key.len() + tail && k.starts_with(&key)
}

// ---------------------------------------------------------------------------------------------
// Window store
// ---------------------------------------------------------------------------------------------

/// A store of one value per key and window, for windowed aggregations and joins (Kafka's
/// timestamped `WindowStore`). Clones share the task's store.
///
/// ```
/// use std::time::Duration;
/// use streams_core::{Stores, StringSerde, I64Serde};
/// let builder = Stores::persistent_window_store(
///     "counts-per-minute",
///     Duration::from_secs(3600), // retention
///     Duration::from_secs(60),   // window size
///     StringSerde,
///     I64Serde,
/// )?;
/// # let _ = builder;
/// # Ok::<(), streams_core::StreamsError>(())
/// ```
pub struct WindowStore<K, V> {
    kv: KeyValueStore<Windowed<K>, V>,
    key_serde: Arc<dyn Serde<K>>,
    size_ms: i64,
}

impl<K, V> Clone for WindowStore<K, V> {
    fn clone(&self) -> Self {
        WindowStore {
            kv: self.kv.clone(),
            key_serde: self.key_serde.clone(),
            size_ms: self.size_ms,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> WindowStore<K, V> {
    fn windowed(&self, key: &K, start: i64) -> Windowed<K> {
        Windowed::new(
            key.clone(),
            Window::new(start, start.saturating_add(self.size_ms)),
        )
    }

    /// The window size (window ends are `start + size`).
    pub fn window_size_ms(&self) -> i64 {
        self.size_ms
    }

    /// The value of `key` in the window starting at `window_start`.
    pub fn fetch(&self, key: &K, window_start: i64) -> Result<Option<V>> {
        Ok(self
            .fetch_with_timestamp(key, window_start)?
            .map(|(v, _)| v))
    }

    /// The value of `key` in the window starting at `window_start` and its timestamp.
    pub fn fetch_with_timestamp(&self, key: &K, window_start: i64) -> Result<Option<(V, i64)>> {
        if window_start < self.kv.live_from() {
            return Ok(None);
        }
        self.kv
            .get_with_timestamp(&self.windowed(key, window_start))
    }

    /// Puts the value of `key` in the window starting at `window_start` with the record's
    /// timestamp; `None` deletes it.
    pub fn put(&self, key: &K, value: Option<V>, window_start: i64, timestamp: i64) -> Result<()> {
        let k = self.windowed(key, window_start);
        match value {
            Some(v) => self.kv.put_with_timestamp(&k, v, timestamp),
            None => self.kv.delete(&k).map(|_| ()),
        }
    }

    /// The windows of `key` starting in `[time_from, time_to]`, by start: `(start, value,
    /// timestamp)`.
    pub fn fetch_range(&self, key: &K, time_from: i64, time_to: i64) -> Result<Vec<(i64, V, i64)>> {
        let mut key_bytes = Vec::new();
        self.key_serde
            .serialize(key, &mut key_bytes)
            .map_err(|e| StreamsError::store_caused(self.kv_name(), "cannot serialize a key", e))?;
        let time_from = time_from.max(0);
        let from = self.windowed(key, time_from);
        let to = self.windowed(key, time_to);
        let rows = self
            .kv
            .range_where(&from, &to, time_from, &same_key(key_bytes, 8))?;
        Ok(rows
            .into_iter()
            .map(|(k, v, ts)| (k.window.start, v, ts))
            .collect())
    }

    /// Every live window of every key: `(windowed key, value)`, by key bytes then start.
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>> {
        Ok(self
            .kv
            .all_with_timestamps()?
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect())
    }

    /// Every live window of every key starting in `[time_from, time_to]`, by start then key
    /// bytes (Kafka's `fetchAll(timeFrom, timeTo)`): `(windowed key, value, timestamp)`.
    pub(crate) fn fetch_all_in(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(Windowed<K>, V, i64)>> {
        let mut rows = self.kv.all_with_time_in(time_from, time_to)?;
        // The scan is in key byte order (key, then start): a stable sort by start keeps the
        // key order within each start.
        rows.sort_by_key(|(k, _, _)| k.window.start);
        Ok(rows)
    }

    fn kv_name(&self) -> String {
        StateStore::name(&self.kv).to_string()
    }

    pub(crate) fn kv(&self) -> &KeyValueStore<Windowed<K>, V> {
        &self.kv
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StateStore for WindowStore<K, V> {
    fn name(&self) -> &str {
        StateStore::name(&self.kv)
    }
    fn persistent(&self) -> bool {
        self.kv.persistent()
    }
    fn flush(&self) -> Result<()> {
        StateStore::flush(&self.kv)
    }
    fn close(&self) -> Result<()> {
        self.kv.close()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn key_value_view(&self) -> Option<&dyn Any> {
        Some(&self.kv)
    }
    fn restore(&self, records: &[ChangelogRecord<'_>]) -> Result<()> {
        self.kv.restore(records)
    }
    fn wipe(&self) -> Result<()> {
        self.kv.wipe()
    }
}

/// Builds [`WindowStore`]s, one per task. From [`crate::Stores::persistent_window_store`]
/// and [`crate::Stores::in_memory_window_store`].
pub struct WindowStoreBuilder<K, V> {
    kv: KeyValueStoreBuilder<Windowed<K>, V>,
    key_serde: Arc<dyn Serde<K>>,
    size_ms: i64,
}

impl<K: Clone + 'static, V: Clone + 'static> WindowStoreBuilder<K, V> {
    pub(crate) fn new(
        name: &str,
        retention_ms: i64,
        size_ms: i64,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Result<Self> {
        if size_ms <= 0 {
            return Err(StreamsError::InvalidWindow(format!(
                "window store `{name}`: window size must be at least 1 ms, got {size_ms} ms"
            )));
        }
        if retention_ms < size_ms {
            return Err(StreamsError::InvalidWindow(format!(
                "window store `{name}`: retention {retention_ms} ms is shorter than the window \
                 size {size_ms} ms; windows would expire before they close"
            )));
        }
        let store_keys: Arc<dyn Serde<Windowed<K>>> =
            Arc::new(TimeWindowedSerde::new(DynSerde(key_serde.clone()), size_ms));
        let kv = KeyValueStoreBuilder::new(name, store_keys, value_serde).windowed(Windowing {
            ts_from_end: 8,
            retention_ms,
        });
        Ok(WindowStoreBuilder {
            kv,
            key_serde,
            size_ms,
        })
    }
    /// RocksDB (default) or in memory.
    pub fn store_type(mut self, store_type: StoreType) -> Self {
        self.kv = self.kv.store_type(store_type);
        self
    }
    /// No changelog.
    pub fn with_logging_disabled(mut self) -> Self {
        self.kv = self.kv.with_logging_disabled();
        self
    }
    /// Caches updates in the thread's record cache.
    pub fn with_caching_enabled(mut self) -> Self {
        self.kv = self.kv.with_caching_enabled();
        self
    }
    pub(crate) fn build_store(&self, ctx: &StoreContext<'_>) -> Result<WindowStore<K, V>> {
        Ok(WindowStore {
            kv: self.kv.build_store(ctx)?,
            key_serde: self.key_serde.clone(),
            size_ms: self.size_ms,
        })
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StoreBuilder for WindowStoreBuilder<K, V> {
    fn name(&self) -> &str {
        self.kv.name()
    }
    fn logged(&self) -> bool {
        self.kv.logged()
    }
    fn persistent(&self) -> bool {
        self.kv.persistent()
    }
    fn build(&self, ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>> {
        Ok(Box::new(self.build_store(ctx)?))
    }
    fn changelog_topic_config(&self) -> Vec<(String, String)> {
        self.kv.changelog_topic_config()
    }
}

// ---------------------------------------------------------------------------------------------
// Session store
// ---------------------------------------------------------------------------------------------

/// A store of one aggregate per key and session (Kafka's `SessionStore`). Sessions are
/// `[start, end]`, both inclusive. Clones share the task's store.
pub struct SessionStore<K, V> {
    kv: KeyValueStore<Windowed<K>, V>,
    key_serde: Arc<dyn Serde<K>>,
}

impl<K, V> Clone for SessionStore<K, V> {
    fn clone(&self) -> Self {
        SessionStore {
            kv: self.kv.clone(),
            key_serde: self.key_serde.clone(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> SessionStore<K, V> {
    /// The sessions of `key` that end at or after `earliest_end` and start at or before
    /// `latest_start`, ordered by end then start (Kafka's `findSessions`).
    pub fn find_sessions(
        &self,
        key: &K,
        earliest_end: i64,
        latest_start: i64,
    ) -> Result<Vec<(Window, V)>> {
        let mut key_bytes = Vec::new();
        self.key_serde.serialize(key, &mut key_bytes).map_err(|e| {
            StreamsError::store_caused(
                StateStore::name(&self.kv).to_string(),
                "cannot serialize a key",
                e,
            )
        })?;
        let earliest_end = earliest_end.max(0);
        let from = Windowed::new(key.clone(), Window::new(0, earliest_end));
        let to = Windowed::new(key.clone(), Window::new(i64::MAX, i64::MAX));
        let rows = self
            .kv
            .range_where(&from, &to, earliest_end, &same_key(key_bytes, 16))?;
        Ok(rows
            .into_iter()
            .filter(|(k, _, _)| k.window.start <= latest_start)
            .map(|(k, v, _)| (k.window, v))
            .collect())
    }

    /// Every session of `key`.
    pub fn fetch(&self, key: &K) -> Result<Vec<(Window, V)>> {
        self.find_sessions(key, 0, i64::MAX)
    }

    /// The aggregate of one session.
    pub fn fetch_session(&self, key: &K, session: Window) -> Result<Option<V>> {
        self.kv.get(&Windowed::new(key.clone(), session))
    }

    /// Puts a session's aggregate, stamped with the session end.
    pub fn put(&self, session: &Windowed<K>, value: V) -> Result<()> {
        self.kv
            .put_with_timestamp(session, value, session.window.end)
    }

    /// Removes a session.
    pub fn remove(&self, session: &Windowed<K>) -> Result<()> {
        self.kv.delete(session).map(|_| ())
    }

    /// Every live session of every key ending in `[earliest_end, latest_end]`, by end then
    /// key bytes then start (Kafka's `findSessions(earliestSessionEndTime,
    /// latestSessionEndTime)`).
    pub(crate) fn sessions_ending_in(
        &self,
        earliest_end: i64,
        latest_end: i64,
    ) -> Result<Vec<(Windowed<K>, V)>> {
        let mut rows = self.kv.all_with_time_in(earliest_end, latest_end)?;
        rows.sort_by_key(|(k, _, _)| k.window.end);
        Ok(rows.into_iter().map(|(k, v, _)| (k, v)).collect())
    }

    /// Every live session of every key.
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>> {
        Ok(self
            .kv
            .all_with_timestamps()?
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect())
    }

    pub(crate) fn kv(&self) -> &KeyValueStore<Windowed<K>, V> {
        &self.kv
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StateStore for SessionStore<K, V> {
    fn name(&self) -> &str {
        StateStore::name(&self.kv)
    }
    fn persistent(&self) -> bool {
        self.kv.persistent()
    }
    fn flush(&self) -> Result<()> {
        StateStore::flush(&self.kv)
    }
    fn close(&self) -> Result<()> {
        self.kv.close()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn key_value_view(&self) -> Option<&dyn Any> {
        Some(&self.kv)
    }
    fn restore(&self, records: &[ChangelogRecord<'_>]) -> Result<()> {
        self.kv.restore(records)
    }
    fn wipe(&self) -> Result<()> {
        self.kv.wipe()
    }
}

/// Builds [`SessionStore`]s, one per task. From [`crate::Stores::persistent_session_store`]
/// and [`crate::Stores::in_memory_session_store`].
pub struct SessionStoreBuilder<K, V> {
    kv: KeyValueStoreBuilder<Windowed<K>, V>,
    key_serde: Arc<dyn Serde<K>>,
}

impl<K: Clone + 'static, V: Clone + 'static> SessionStoreBuilder<K, V> {
    pub(crate) fn new(
        name: &str,
        retention_ms: i64,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Result<Self> {
        if retention_ms < 0 {
            return Err(StreamsError::InvalidWindow(format!(
                "session store `{name}`: retention must not be negative, got {retention_ms} ms"
            )));
        }
        let store_keys: Arc<dyn Serde<Windowed<K>>> =
            Arc::new(SessionWindowedSerde::new(DynSerde(key_serde.clone())));
        // The session end is the first of the two timestamps at the end of the key.
        let kv = KeyValueStoreBuilder::new(name, store_keys, value_serde).windowed(Windowing {
            ts_from_end: 16,
            retention_ms,
        });
        Ok(SessionStoreBuilder { kv, key_serde })
    }
    /// RocksDB (default) or in memory.
    pub fn store_type(mut self, store_type: StoreType) -> Self {
        self.kv = self.kv.store_type(store_type);
        self
    }
    /// No changelog.
    pub fn with_logging_disabled(mut self) -> Self {
        self.kv = self.kv.with_logging_disabled();
        self
    }
    /// Caches updates in the thread's record cache.
    pub fn with_caching_enabled(mut self) -> Self {
        self.kv = self.kv.with_caching_enabled();
        self
    }
    pub(crate) fn build_store(&self, ctx: &StoreContext<'_>) -> Result<SessionStore<K, V>> {
        Ok(SessionStore {
            kv: self.kv.build_store(ctx)?,
            key_serde: self.key_serde.clone(),
        })
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StoreBuilder for SessionStoreBuilder<K, V> {
    fn name(&self) -> &str {
        self.kv.name()
    }
    fn logged(&self) -> bool {
        self.kv.logged()
    }
    fn persistent(&self) -> bool {
        self.kv.persistent()
    }
    fn build(&self, ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>> {
        Ok(Box::new(self.build_store(ctx)?))
    }
    fn changelog_topic_config(&self) -> Vec<(String, String)> {
        self.kv.changelog_topic_config()
    }
}

/// Window and session store factories (the [`crate::Stores`] methods).
pub(crate) fn window_builder<K: Clone + 'static, V: Clone + 'static>(
    name: &str,
    retention: Duration,
    window_size: Duration,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
) -> Result<WindowStoreBuilder<K, V>> {
    let retention_ms = millis(retention, "retention", name)?;
    let size_ms = millis(window_size, "window size", name)?;
    WindowStoreBuilder::new(name, retention_ms, size_ms, key_serde, value_serde)
}

pub(crate) fn session_builder<K: Clone + 'static, V: Clone + 'static>(
    name: &str,
    retention: Duration,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
) -> Result<SessionStoreBuilder<K, V>> {
    let retention_ms = millis(retention, "retention", name)?;
    SessionStoreBuilder::new(name, retention_ms, key_serde, value_serde)
}
