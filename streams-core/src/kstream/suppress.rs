//! `KTable::suppress`: hold back a table's updates and emit the latest per key later, either
//! once its window has closed (one final result per window) or after a time limit.
//!
//! The buffer is kept in memory, ordered by the time each key is due, and logged to a
//! changelog through an in-memory key-value store (`<application.id>-<name>-changelog`), so a
//! restarted task rebuilds it. Time is the suppression's observed stream time: the largest
//! timestamp of the records it has seen, as in Kafka Streams (a final result is emitted when a
//! later record arrives, not on a wall-clock timer).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Result, StreamsError};
use crate::kstream::data::Data;
use crate::kstream::ktable::{not_initialized, ChangeSerde};
use crate::kstream::ktable::{Change, KTable};
use crate::kstream::windows::Windowed;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::Record;
use crate::serdes::Serde;
use crate::state::internals::bytes_store::StoreType;
use crate::state::key_value::{KeyValueStore, KeyValueStoreBuilder};

/// What a full suppression buffer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhenFull {
    /// Emit the oldest entries early to make room.
    EmitEarly,
    /// Fail the task with an error naming the buffer.
    ShutDown,
}

/// Bounds of a suppression buffer (Kafka's `Suppressed.BufferConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferConfig {
    max_records: Option<usize>,
    max_bytes: Option<usize>,
    when_full: WhenFull,
}

impl BufferConfig {
    /// No bound: the buffer grows as needed (strict: results are never emitted early).
    pub fn unbounded() -> Self {
        BufferConfig {
            max_records: None,
            max_bytes: None,
            when_full: WhenFull::ShutDown,
        }
    }
    /// At most `n` keys; when full, the oldest entries are emitted early unless
    /// [`BufferConfig::shut_down_when_full`] is set.
    pub fn max_records(n: usize) -> Self {
        BufferConfig {
            max_records: Some(n),
            max_bytes: None,
            when_full: WhenFull::EmitEarly,
        }
    }
    /// At most `n` bytes of serialized keys and values.
    pub fn max_bytes(n: usize) -> Self {
        BufferConfig {
            max_records: None,
            max_bytes: Some(n),
            when_full: WhenFull::EmitEarly,
        }
    }
    /// Also bound the number of keys.
    pub fn with_max_records(mut self, n: usize) -> Self {
        self.max_records = Some(n);
        self
    }
    /// Also bound the bytes.
    pub fn with_max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = Some(n);
        self
    }
    /// When full, emit the entries due soonest before their time.
    pub fn emit_early_when_full(mut self) -> Self {
        self.when_full = WhenFull::EmitEarly;
        self
    }
    /// When full, stop the task with [`StreamsError::Store`] naming the buffer (strict:
    /// results are never emitted early).
    pub fn shut_down_when_full(mut self) -> Self {
        self.when_full = WhenFull::ShutDown;
        self
    }
}

enum Until<K> {
    /// Due at window end plus the upstream window's grace.
    WindowCloses { end_of: fn(&K) -> i64 },
    /// Due this long after the key was first buffered.
    TimeLimit { limit_ms: i64 },
}

/// How [`KTable::suppress`] holds updates back (Kafka's `Suppressed`).
///
/// ```
/// use std::time::Duration;
/// use streams_core::*;
///
/// let builder = StreamsBuilder::new();
/// let windows = TimeWindows::of_size_and_grace(Duration::from_secs(60), Duration::from_secs(10))?;
/// builder
///     .stream("rides", Consumed::with(StringSerde, StringSerde))
///     .group_by_key()
///     .windowed_by(windows)
///     .count(Materialized::new())
///     .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))
///     .to_stream()
///     .to("final-counts", Produced::with(TimeWindowedSerde::for_windows(StringSerde, &windows), Nullable(I64Serde)));
/// # builder.build()?;
/// # Ok::<(), StreamsError>(())
/// ```
pub struct Suppressed<K> {
    until: Until<K>,
    buffer: BufferConfig,
    name: Option<String>,
}

fn window_end<K>(key: &Windowed<K>) -> i64 {
    key.window.end
}

impl<K> Suppressed<Windowed<K>> {
    /// One final result per window, emitted once stream time reaches the window's end plus
    /// its grace period. The buffer must never emit early, so a bounded buffer shuts the task
    /// down when full.
    pub fn until_window_closes(buffer: BufferConfig) -> Self {
        Suppressed {
            until: Until::WindowCloses {
                end_of: window_end::<K>,
            },
            buffer: buffer.shut_down_when_full(),
            name: None,
        }
    }
}

impl<K> Suppressed<K> {
    /// Emits a key's latest value once `limit` of stream time has passed since its first
    /// buffered update (rate limiting).
    pub fn until_time_limit(limit: Duration, buffer: BufferConfig) -> Self {
        Suppressed {
            until: Until::TimeLimit {
                limit_ms: i64::try_from(limit.as_millis()).unwrap_or(i64::MAX),
            },
            buffer,
            name: None,
        }
    }
    /// Names the suppression node and its buffer store (changelog
    /// `<application.id>-<name>-store-changelog`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl<K: Data, V: Data> KTable<K, V> {
    /// Holds updates back and emits them later: see [`Suppressed`].
    ///
    /// `until_window_closes` needs a table from a windowed aggregation (its grace period says
    /// when a window closes); other tables get an error from `build()`.
    pub fn suppress(&self, suppressed: Suppressed<K>) -> KTable<K, V> {
        // As Kafka's KTableSuppressProcessorSupplier: the parent sends old values.
        self.enable_sending_old_values();
        let builder = self.stream.builder.clone();
        let mut b = builder.borrow_mut();
        let node_name = match (&suppressed.name, &self.stream.next_name) {
            (Some(n), _) | (None, Some(n)) => n.clone(),
            (None, None) => b.new_name("KTABLE-SUPPRESS-"),
        };
        let store_name = match &suppressed.name {
            Some(n) => format!("{n}-store"),
            None => b.new_name("KTABLE-SUPPRESS-STATE-STORE-"),
        };
        if self
            .store_name
            .as_deref()
            .is_some_and(|n| b.topology.store_is_versioned(n))
        {
            // Kafka's check: suppression reads tables as latest values only.
            b.fail(StreamsError::InvalidTopology(format!(
                "suppress `{node_name}`: suppress() is only supported for non-versioned KTables"
            )));
            return self.invalid();
        }
        let deadline = match (&suppressed.until, self.close_after_ms) {
            (Until::WindowCloses { end_of }, Some(grace)) => Deadline::WindowEnd {
                end_of: *end_of,
                grace,
            },
            (Until::WindowCloses { .. }, None) => {
                b.fail(StreamsError::InvalidTopology(format!(
                    "suppress `{node_name}`: until_window_closes needs a table from a windowed \
                     aggregation (windowed_by(..).count/reduce/aggregate) to know when windows close"
                )));
                return self.invalid();
            }
            (Until::TimeLimit { limit_ms }, _) => Deadline::AfterFirst {
                limit_ms: *limit_ms,
            },
        };
        let ks = b.serde_for(self.key_serde.clone(), &self.stream.key_serde);
        let vs = b.serde_for(self.value_serde.clone(), &None);
        let (Some(ks), Some(vs)) = (ks, vs) else {
            b.fail(StreamsError::InvalidTopology(format!(
                "suppress `{node_name}` does not know how to serialize ({}, {}) for its buffer's \
                 changelog: give the table's serdes with Materialized::with",
                std::any::type_name::<K>(),
                std::any::type_name::<V>()
            )));
            return self.invalid();
        };
        let change_serde: Arc<dyn Serde<Change<V>>> = Arc::new(ChangeSerde(vs.clone()));
        let store = KeyValueStoreBuilder::new(&store_name, ks.clone(), change_serde)
            .store_type(StoreType::InMemory);
        if let Err(e) = b.topology.add_state_store(store, &[]) {
            b.fail(e);
        }
        drop(b);
        let (sn, buffer) = (store_name.clone(), suppressed.buffer);
        let key_serde = ks.clone();
        let value_serde = vs.clone();
        let stream = self.stream.named(node_name).process::<K, Change<V>, _>(
            move || Suppress {
                store_name: sn.clone(),
                deadline,
                config: buffer,
                key_serde: key_serde.clone(),
                value_serde: value_serde.clone(),
                store: None,
                observed: i64::MIN,
                due: BTreeMap::new(),
                entries: HashMap::new(),
                seq: 0,
                bytes: 0,
                key_buf: Vec::new(),
            },
            &[store_name.as_str()],
        );
        KTable {
            stream,
            store_name: None,
            value_serde: Some(vs),
            key_serde: Some(ks),
            close_after_ms: self.close_after_ms,
        }
    }

    fn invalid(&self) -> KTable<K, V> {
        KTable {
            stream: self
                .stream
                .derive(crate::kstream::builder_inner::INVALID, None, None, false),
            store_name: None,
            value_serde: None,
            key_serde: None,
            close_after_ms: None,
        }
    }
}

enum Deadline<K> {
    WindowEnd { end_of: fn(&K) -> i64, grace: i64 },
    AfterFirst { limit_ms: i64 },
}

impl<K> Clone for Deadline<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Deadline<K> {}

struct Buffered<K, V> {
    due: (i64, u64),
    record: Record<K, Change<V>>,
    bytes: usize,
}

struct Suppress<K, V> {
    store_name: String,
    deadline: Deadline<K>,
    config: BufferConfig,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    store: Option<KeyValueStore<K, Change<V>>>,
    observed: i64,
    /// Keys by due time (then arrival), the emission order.
    due: BTreeMap<(i64, u64), Vec<u8>>,
    /// Buffered records by serialized key.
    entries: HashMap<Vec<u8>, Buffered<K, V>>,
    seq: u64,
    bytes: usize,
    key_buf: Vec<u8>,
}

impl<K: Data, V: Data> Suppress<K, V> {
    fn due_time(&self, key: &K, first_buffered: i64) -> i64 {
        match self.deadline {
            Deadline::WindowEnd { end_of, grace } => end_of(key).saturating_add(grace),
            Deadline::AfterFirst { limit_ms } => first_buffered.saturating_add(limit_ms),
        }
    }

    fn size_of(&self, key_len: usize, change: &Change<V>) -> usize {
        if self.config.max_bytes.is_none() {
            return 0;
        }
        let mut buf = Vec::new();
        for v in [&change.new, &change.old].into_iter().flatten() {
            // A value that cannot be serialized is counted as empty; the store write reports it.
            let _ = self.value_serde.serialize(v, &mut buf);
        }
        key_len + buf.len() + 16
    }

    fn buffer(&mut self, record: Record<K, Change<V>>) -> Result<()> {
        self.key_buf.clear();
        self.key_serde
            .serialize(&record.key, &mut self.key_buf)
            .map_err(|e| {
                StreamsError::store_caused(
                    self.store_name.clone(),
                    "cannot serialize a key for the suppression buffer",
                    e,
                )
            })?;
        let key_bytes = self.key_buf.clone();
        let (due, old) = match self.entries.remove(&key_bytes) {
            // Keep the first buffered update's old value and due time.
            Some(prev) => {
                self.bytes -= prev.bytes;
                (prev.due, prev.record.value.old)
            }
            None => {
                self.seq += 1;
                let due = (self.due_time(&record.key, record.timestamp), self.seq);
                self.due.insert(due, key_bytes.clone());
                (due, record.value.old.clone())
            }
        };
        let record = Record {
            key: record.key,
            value: Change {
                new: record.value.new,
                old,
            },
            timestamp: record.timestamp,
            headers: record.headers,
        };
        let bytes = self.size_of(key_bytes.len(), &record.value);
        self.bytes += bytes;
        if let Some(store) = &self.store {
            store.put_with_timestamp(&record.key, record.value.clone(), record.timestamp)?;
        }
        self.entries
            .insert(key_bytes, Buffered { due, record, bytes });
        Ok(())
    }

    fn over_capacity(&self) -> bool {
        self.config
            .max_records
            .is_some_and(|n| self.entries.len() > n)
            || self.config.max_bytes.is_some_and(|n| self.bytes > n)
    }

    /// Emits the entry due soonest.
    fn emit_first(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        let Some((_, key_bytes)) = self.due.pop_first() else {
            return Ok(());
        };
        if let Some(entry) = self.entries.remove(&key_bytes) {
            self.bytes -= entry.bytes;
            if let Some(store) = &self.store {
                store.delete(&entry.record.key)?;
            }
            // Final results never carry a tombstone: a window that was removed (a session
            // merged into a larger one) was never emitted, so there is nothing to retract
            // (Kafka's `safeToDropTombstones`, checked when the entry is emitted).
            let drop_tombstone = matches!(self.deadline, Deadline::WindowEnd { .. })
                && entry.record.value.new.is_none();
            if !drop_tombstone {
                ctx.forward(entry.record)?;
            }
        }
        Ok(())
    }

    fn emit_due(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        while let Some((&(due, _), _)) = self.due.first_key_value() {
            if due > self.observed {
                break;
            }
            self.emit_first(ctx)?;
        }
        Ok(())
    }
}

impl<K: Data, V: Data> Processor<K, Change<V>> for Suppress<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        let store = ctx.get_state_store::<KeyValueStore<K, Change<V>>>(&self.store_name)?;
        // After a restart the buffer comes back from the store's changelog; the time a key
        // was first buffered is taken as its latest record's timestamp.
        let rows = store.all_with_timestamps()?;
        for (key, change, ts) in rows {
            self.observed = self.observed.max(ts);
            let r = Record::new(key, change, ts);
            self.buffer(r)?;
        }
        self.store = Some(store);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<()> {
        if self.store.is_none() {
            return Err(not_initialized(&self.store_name));
        }
        self.observed = self.observed.max(r.timestamp);
        self.buffer(r)?;
        self.emit_due(ctx)?;
        while self.over_capacity() {
            match self.config.when_full {
                WhenFull::EmitEarly => self.emit_first(ctx)?,
                WhenFull::ShutDown => {
                    return Err(StreamsError::store(
                        self.store_name.clone(),
                        format!(
                            "the suppression buffer is full ({} keys, {} bytes; limits {:?} keys, \
                             {:?} bytes) and may not emit early: raise BufferConfig's limits or \
                             use BufferConfig::unbounded()",
                            self.entries.len(),
                            self.bytes,
                            self.config.max_records,
                            self.config.max_bytes
                        ),
                    ))
                }
            }
        }
        Ok(())
    }
}
