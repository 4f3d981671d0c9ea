//! The stateful DSL: grouping, aggregations and tables.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::{Result, SerdeError, StreamsError};
use crate::kstream::builder_inner::INVALID;
use crate::kstream::data::Data;
use crate::kstream::options::Repartitioned;
use crate::kstream::stream::KStream;
use crate::processor::api::{Processor, ProcessorContext};
use crate::processor::internals::plan::NullValues;
use crate::record::Record;
use crate::serdes::{DynSerde, I64Serde, Serde};
use crate::state::internals::bytes_store::StoreType;
use crate::state::key_value::{KeyValueStore, KeyValueStoreBuilder};

/// An update of a table row: the new value and the value it replaces (`None`: absent or
/// deleted). Records of a [`KTable`] carry changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<V> {
    /// The value after the update; `None` is a deletion.
    pub new: Option<V>,
    /// The value before the update.
    pub old: Option<V>,
}

/// How a stateful operation keeps its store: name, serdes, RocksDB or memory, changelog,
/// caching. Kafka Streams' `Materialized`.
///
/// ```
/// use streams_core::{Materialized, StringSerde, I64Serde};
/// let m: Materialized<String, i64> = Materialized::named("counts-by-zone")
///     .with_key_serde(StringSerde)
///     .with_value_serde(I64Serde)
///     .with_caching_disabled();
/// # let _ = m;
/// ```
pub struct Materialized<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Option<Arc<dyn Serde<K>>>,
    pub(crate) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(crate) store_type: StoreType,
    pub(crate) logging: bool,
    pub(crate) caching: bool,
    pub(crate) retention_ms: Option<i64>,
    /// A versioned store with this history retention (KIP-914).
    pub(crate) versioned_retention_ms: Option<i64>,
}

impl<K: 'static, V: 'static> Default for Materialized<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: 'static, V: 'static> Materialized<K, V> {
    /// A RocksDB store with a generated name, logged and cached.
    pub fn new() -> Self {
        Materialized {
            name: None,
            key_serde: None,
            value_serde: None,
            store_type: StoreType::RocksDb,
            logging: true,
            caching: true,
            retention_ms: None,
            versioned_retention_ms: None,
        }
    }
    /// A store with this name (its changelog is `<application.id>-<name>-changelog`).
    pub fn named(name: impl Into<String>) -> Self {
        let mut m = Self::new();
        m.name = Some(name.into());
        m
    }
    /// With these serdes.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Self::new()
            .with_key_serde(key_serde)
            .with_value_serde(value_serde)
    }
    /// Sets the key serde.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(Arc::new(serde));
        self
    }
    /// Sets the value serde.
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(Arc::new(serde));
        self
    }
    /// Keeps the store in memory (restored fully from the changelog after a restart).
    pub fn in_memory(mut self) -> Self {
        self.store_type = StoreType::InMemory;
        self
    }
    /// No changelog: the state is lost with the instance.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }
    /// Every update is emitted, not only the latest per commit.
    pub fn with_caching_disabled(mut self) -> Self {
        self.caching = false;
        self
    }
    /// A versioned table (Kafka's KIP-914): the table's store is the [`crate::VersionedKeyValueStore`]
    /// of `supplier` (its name and history retention), for [`crate::StreamsBuilder::table`]
    /// and [`KStream::to_table`]. The table keeps every version within the retention; an
    /// update older than the key's latest version is stored in the history but not forwarded,
    /// and a stream-table join looks rows up as of each stream record's timestamp. Versioned
    /// stores are not cached.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// let prices = builder.table(
    ///     "prices",
    ///     Consumed::with(StringSerde, I64Serde),
    ///     Materialized::versioned(Stores::persistent_versioned_key_value_store(
    ///         "prices-store",
    ///         Duration::from_secs(600),
    ///     )),
    /// );
    /// assert_eq!(prices.store_name(), Some("prices-store"));
    /// ```
    pub fn versioned(supplier: crate::state::versioned::VersionedStoreSupplier) -> Self {
        let mut m = Self::named(supplier.name);
        m.versioned_retention_ms = Some(supplier.history_retention_ms);
        m.caching = false;
        m
    }
    /// How long a windowed store keeps windows (at least window size + grace).
    pub fn with_retention(mut self, retention: std::time::Duration) -> Self {
        self.retention_ms = Some(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        self
    }
}

/// Serializes a [`Change`] for the repartition topic of [`KTable::group_by`]: a flags byte
/// (bit 0: new present, bit 1: old present), the new value's length as 4 bytes big-endian,
/// the new value, then the old value.
pub(crate) struct ChangeSerde<V>(pub Arc<dyn Serde<V>>);

impl<V: 'static> Serde<Change<V>> for ChangeSerde<V> {
    fn serialize(&self, value: &Change<V>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        let flags = u8::from(value.new.is_some()) | (u8::from(value.old.is_some()) << 1);
        out.push(flags);
        let len_at = out.len();
        out.extend_from_slice(&[0; 4]);
        if let Some(n) = &value.new {
            self.0.serialize(n, out)?;
        }
        let len = u32::try_from(out.len() - len_at - 4)
            .map_err(|_| SerdeError::new(self.name(), "new value longer than 4 GiB"))?;
        out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
        if let Some(o) = &value.old {
            self.0.serialize(o, out)?;
        }
        Ok(())
    }
    fn deserialize(&self, data: &[u8]) -> Result<Change<V>, SerdeError> {
        let short = || {
            SerdeError::new(
                self.name(),
                format!("{} bytes is too short for a change", data.len()),
            )
        };
        let (&flags, rest) = data.split_first().ok_or_else(short)?;
        if rest.len() < 4 {
            return Err(short());
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&rest[..4]);
        let len = u32::from_be_bytes(len) as usize;
        let rest = &rest[4..];
        if rest.len() < len {
            return Err(short());
        }
        let (new, old) = rest.split_at(len);
        Ok(Change {
            new: if flags & 1 != 0 {
                Some(self.0.deserialize(new)?)
            } else {
                None
            },
            old: if flags & 2 != 0 {
                Some(self.0.deserialize(old)?)
            } else {
                None
            },
        })
    }
    fn name(&self) -> String {
        format!("Change<{}>", self.0.name())
    }
}

pub(super) type AggFn<K, V, VA> = Arc<dyn Fn(&K, V, Option<VA>) -> VA + Send + Sync>;

/// Emits what a caching store holds back.
pub(super) fn emit_cached<K: Data, V: Data>(
    store: &KeyValueStore<K, V>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
) -> Result<()> {
    for (key, new, old, ts) in store.take_emits() {
        ctx.forward(Record::new(key, Change { new, old }, ts))?;
    }
    Ok(())
}

/// Writes one table row and emits the change now (caching off) or at the next commit.
/// Writes one table update into `store` and forwards it with the old value read first (none
/// when the store caches: the cache emits at flush). With `skip_absent_delete`, a deletion of a
/// key the store does not hold is dropped.
pub(super) fn upsert_row<K: Data, V: Data>(
    store: &KeyValueStore<K, V>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
    record: Record<K, ()>,
    new: Option<V>,
    skip_absent_delete: bool,
) -> Result<()> {
    let old = if store.caching() {
        None
    } else {
        store.get(&record.key)?
    };
    if skip_absent_delete && !store.caching() && old.is_none() && new.is_none() {
        return Ok(());
    }
    let ts = record.timestamp;
    write_row(store, ctx, record, new, old, ts)
}

pub(super) fn write_row<K: Data, V: Data>(
    store: &KeyValueStore<K, V>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
    record: Record<K, ()>,
    new: Option<V>,
    old: Option<V>,
    timestamp: i64,
) -> Result<()> {
    if store.caching() {
        match new {
            Some(v) => store.put_with_timestamp(&record.key, v, timestamp)?,
            None => {
                // The deletion is emitted at flush with the result's timestamp.
                store.delete_with_timestamp(&record.key, timestamp)?;
            }
        }
        if store.over_budget() {
            emit_cached(store, ctx)?;
            store.evict_all()?;
        }
        Ok(())
    } else {
        match &new {
            Some(v) => store.put_with_timestamp(&record.key, v.clone(), timestamp)?,
            None => {
                store.delete_with_timestamp(&record.key, timestamp)?;
            }
        }
        ctx.forward(Record {
            key: record.key,
            value: Change { new, old },
            timestamp,
            headers: record.headers,
        })
    }
}

fn store_of<K: Data, V: Data, KO, VO>(
    name: &str,
    ctx: &mut ProcessorContext<'_, KO, VO>,
) -> Result<KeyValueStore<K, V>> {
    ctx.get_state_store::<KeyValueStore<K, V>>(name)
}

/// Counts a record an operation skips because of a null key or value and logs it at WARN with
/// where it was read, as Kafka Streams does ("Skipping record due to null key ...").
pub(super) fn skip_null<KO, VO>(ctx: &mut ProcessorContext<'_, KO, VO>, what: &str) {
    ctx.record_dropped();
    match ctx.record_metadata() {
        Some(m) => tracing::warn!(
            node = ctx.node_name(),
            topic = %m.topic,
            partition = m.partition,
            offset = m.offset,
            "Skipping record due to null {what}"
        ),
        None => tracing::warn!(
            node = ctx.node_name(),
            "Skipping record due to null {what}; topic, partition and offset not known"
        ),
    }
}

/// True when `serde` (if known) writes `value` as a null payload: Kafka's `null`.
pub(super) fn is_null<T: 'static>(serde: &Option<Arc<dyn Serde<T>>>, value: &T) -> bool {
    serde.as_ref().is_some_and(|s| s.is_null(value))
}

pub(super) fn not_initialized(name: &str) -> StreamsError {
    StreamsError::Internal(format!("store `{name}` used before init"))
}

/// `aggregate`, `reduce` and `count` of a grouped stream; also one input of a cogroup (several
/// instances, one per cogrouped stream, share the store).
pub(super) struct StreamAggregate<K, V, VA> {
    store_name: String,
    agg: AggFn<K, V, VA>,
    store: Option<KeyValueStore<K, VA>>,
    /// What a null key and a null value are (`None` with `Nullable`, `()` with `UnitSerde`).
    key_serde: Option<Arc<dyn Serde<K>>>,
    value_serde: Option<Arc<dyn Serde<V>>>,
}

impl<K, V, VA> StreamAggregate<K, V, VA> {
    /// Aggregates into the key-value store `store_name` with `agg`, skipping records whose
    /// key or value is null by its serde.
    pub(super) fn new(
        store_name: String,
        agg: AggFn<K, V, VA>,
        key_serde: Option<Arc<dyn Serde<K>>>,
        value_serde: Option<Arc<dyn Serde<V>>>,
    ) -> Self {
        StreamAggregate {
            store_name,
            agg,
            store: None,
            key_serde,
            value_serde,
        }
    }
}

impl<K: Data, V: Data, VA: Data> Processor<K, V, K, Change<VA>> for StreamAggregate<K, V, VA> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VA>>) -> Result<()> {
        self.store = Some(store_of(&self.store_name, ctx)?);
        Ok(())
    }
    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<()> {
        // Kafka's KStreamAggregate / KStreamReduce: a null key or value is skipped.
        if is_null(&self.key_serde, &r.key) || is_null(&self.value_serde, &r.value) {
            skip_null(ctx, "key or value");
            return Ok(());
        }
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        let (old, old_ts) = match store.get_with_timestamp(&r.key)? {
            Some((v, ts)) => (Some(v), ts),
            None => (None, i64::MIN),
        };
        let timestamp = r.timestamp.max(old_ts);
        let (row, value) = (
            Record {
                key: r.key,
                value: (),
                timestamp: r.timestamp,
                headers: r.headers,
            },
            r.value,
        );
        if store.caching() {
            let new = (self.agg)(&row.key, value, old);
            write_row(store, ctx, row, Some(new), None, timestamp)
        } else {
            let new = (self.agg)(&row.key, value, old.clone());
            write_row(store, ctx, row, Some(new), old, timestamp)
        }
    }
    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VA>>) -> Result<()> {
        match &self.store {
            Some(s) => emit_cached(s, ctx),
            None => Ok(()),
        }
    }
}

/// Materializes a stream or a topic as a table (upserts; `None` values delete).
pub(super) struct TableSource<K, V> {
    pub(super) store_name: String,
    pub(super) store: Option<KeyValueStore<K, V>>,
    /// What a null key is (Kafka's KTableSource skips it).
    pub(super) key_serde: Option<Arc<dyn Serde<K>>>,
}

impl<K: Data, V: Data> Processor<K, Option<V>, K, Change<V>> for TableSource<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        self.store = Some(store_of(&self.store_name, ctx)?);
        Ok(())
    }
    fn process(
        &mut self,
        r: Record<K, Option<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<()> {
        if is_null(&self.key_serde, &r.key) {
            skip_null(ctx, "key");
            return Ok(());
        }
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        let row = Record {
            key: r.key,
            value: (),
            timestamp: r.timestamp,
            headers: r.headers,
        };
        upsert_row(store, ctx, row, r.value, false)
    }
    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        match &self.store {
            Some(s) => emit_cached(s, ctx),
            None => Ok(()),
        }
    }
}

type SubFn<K, V, VA> = Arc<dyn Fn(&K, V, Option<VA>) -> Option<VA> + Send + Sync>;

/// `aggregate`, `reduce` and `count` of a grouped table: subtract the old value, add the new.
struct TableAggregate<K, V, VA> {
    store_name: String,
    adder: AggFn<K, V, VA>,
    subtractor: SubFn<K, V, VA>,
    store: Option<KeyValueStore<K, VA>>,
}

impl<K: Data, V: Data, VA: Data> Processor<K, Change<V>, K, Change<VA>>
    for TableAggregate<K, V, VA>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VA>>) -> Result<()> {
        self.store = Some(store_of(&self.store_name, ctx)?);
        Ok(())
    }
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        let (old, old_ts) = match store.get_with_timestamp(&r.key)? {
            Some((v, ts)) => (Some(v), ts),
            None => (None, i64::MIN),
        };
        let mut agg = old.clone();
        if let Some(removed) = r.value.old {
            agg = (self.subtractor)(&r.key, removed, agg);
        }
        if let Some(added) = r.value.new {
            agg = Some((self.adder)(&r.key, added, agg));
        }
        let timestamp = r.timestamp.max(old_ts);
        let row = Record {
            key: r.key,
            value: (),
            timestamp: r.timestamp,
            headers: r.headers,
        };
        let old = if store.caching() { None } else { old };
        write_row(store, ctx, row, agg, old, timestamp)
    }
    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VA>>) -> Result<()> {
        match &self.store {
            Some(s) => emit_cached(s, ctx),
            None => Ok(()),
        }
    }
}

/// A changelog view of a stream: each key's latest value, updated by every record.
///
/// Tables come from [`crate::StreamsBuilder::table`], from aggregations of grouped streams, and
/// from [`KStream::to_table`]. Their records are [`Change`]s; [`KTable::to_stream`] turns them
/// back into a stream of the new values (`None` for deletions).
pub struct KTable<K, V> {
    pub(crate) stream: KStream<K, Change<V>>,
    pub(crate) store_name: Option<String>,
    pub(crate) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(crate) key_serde: Option<Arc<dyn Serde<K>>>,
    /// For windowed tables: a row is final once stream time reaches its window end plus this
    /// (grace; gap plus grace for sessions). Used by `suppress(until_window_closes)`.
    pub(crate) close_after_ms: Option<i64>,
}

impl<K, V> Clone for KTable<K, V> {
    fn clone(&self) -> Self {
        KTable {
            stream: self.stream.clone(),
            store_name: self.store_name.clone(),
            value_serde: self.value_serde.clone(),
            key_serde: self.key_serde.clone(),
            close_after_ms: self.close_after_ms,
        }
    }
}

struct TableFilter<F> {
    pred: Arc<F>,
    keep: bool,
    /// Kafka's `sendOldValues`: on when the parent table has a store or a downstream operation
    /// needs old values. Off, the filter forwards the new value only, so a row that does not
    /// match becomes a tombstone even if it never matched before.
    send_old_values: Arc<AtomicBool>,
}

impl<K: Data, V: Data, F: Fn(&K, &V) -> bool + 'static> Processor<K, Change<V>> for TableFilter<F> {
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<()> {
        let keep = |v: Option<V>| v.filter(|v| (self.pred)(&r.key, v) == self.keep);
        if !self.send_old_values.load(Ordering::Relaxed) {
            let new = keep(r.value.new.clone());
            return ctx.forward(r.with_value(Change { new, old: None }));
        }
        let (new, old) = (keep(r.value.new.clone()), keep(r.value.old.clone()));
        if new.is_none() && old.is_none() {
            return Ok(());
        }
        ctx.forward(r.with_value(Change { new, old }))
    }
}

struct TableMapValues<F>(Arc<F>);

impl<K: Data, V: Data, V2: Data, F: Fn(&K, V) -> V2 + 'static>
    Processor<K, Change<V>, K, Change<V2>> for TableMapValues<F>
{
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V2>>,
    ) -> Result<()> {
        let Change { new, old } = r.value;
        let new = new.map(|v| (self.0)(&r.key, v));
        let old = old.map(|v| (self.0)(&r.key, v));
        ctx.forward(Record {
            key: r.key,
            value: Change { new, old },
            timestamp: r.timestamp,
            headers: r.headers,
        })
    }
}

struct ToStream;

impl<K: Data, V: Data> Processor<K, Change<V>, K, Option<V>> for ToStream {
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K, Option<V>>,
    ) -> Result<()> {
        let new = r.value.new;
        ctx.forward(Record {
            key: r.key,
            value: new,
            timestamp: r.timestamp,
            headers: r.headers,
        })
    }
}

/// The serdes of a [`KGroupedTable`], known once it is aggregated; they say what a null key or
/// value is for [`TableRegroup`].
type GroupSerdes<K, V> = Arc<OnceLock<(Arc<dyn Serde<K>>, Arc<dyn Serde<V>>)>>;

/// Re-keys table rows for [`KTable::group_by`]: the old row is subtracted under its old key and
/// the new row added under its new key (one record when the key stays the same). A pair whose
/// selected key or value is null is not forwarded (Kafka's `KTableRepartitionMap`).
struct TableRegroup<F, K2, V2> {
    selector: Arc<F>,
    serdes: GroupSerdes<K2, V2>,
}

impl<K, V, K2, V2, F> Processor<K, Change<V>, K2, Change<V2>> for TableRegroup<F, K2, V2>
where
    K: Data,
    V: Data,
    K2: Data + PartialEq,
    V2: Data,
    F: Fn(&K, &V) -> (K2, V2) + 'static,
{
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        ctx: &mut ProcessorContext<'_, K2, Change<V2>>,
    ) -> Result<()> {
        let serdes = self.serdes.get();
        let not_null =
            |(k, v): &(K2, V2)| serdes.is_none_or(|(ks, vs)| !ks.is_null(k) && !vs.is_null(v));
        let new = r
            .value
            .new
            .as_ref()
            .map(|v| (self.selector)(&r.key, v))
            .filter(not_null);
        let old = r
            .value
            .old
            .as_ref()
            .map(|v| (self.selector)(&r.key, v))
            .filter(not_null);
        let ts = r.timestamp;
        let rec = |k: K2, change: Change<V2>| Record {
            key: k,
            value: change,
            timestamp: ts,
            headers: r.headers.clone(),
        };
        match (new, old) {
            (Some((nk, nv)), Some((ok, ov))) if nk == ok => ctx.forward(rec(
                nk,
                Change {
                    new: Some(nv),
                    old: Some(ov),
                },
            )),
            (new, old) => {
                if let Some((ok, ov)) = old {
                    ctx.forward(rec(
                        ok,
                        Change {
                            new: None,
                            old: Some(ov),
                        },
                    ))?;
                }
                if let Some((nk, nv)) = new {
                    ctx.forward(rec(
                        nk,
                        Change {
                            new: Some(nv),
                            old: None,
                        },
                    ))?;
                }
                Ok(())
            }
        }
    }
}

impl<K: Data, V: Data> KTable<K, V> {
    /// The "send old values" flags up to this table's nearest store, if it has none of its
    /// own (Kafka's not-materialized table); `None` when it has a store.
    fn unmaterialized_flags(&self) -> Option<Vec<Arc<AtomicBool>>> {
        self.stream
            .builder
            .borrow()
            .unmaterialized
            .get(&self.stream.node)
            .cloned()
    }

    /// Kafka's `enableSendingOldValues(true)`: an operation that needs each update's old value
    /// (group_by, left and outer joins, foreign-key joins, suppress) turns it on for the
    /// filters between this table and its nearest store.
    pub(super) fn enable_sending_old_values(&self) {
        if let Some(flags) = self.unmaterialized_flags() {
            for f in flags {
                f.store(true, Ordering::Relaxed);
            }
        }
    }

    /// The name of the store that holds the table, if it is materialized.
    pub fn store_name(&self) -> Option<&str> {
        self.store_name.as_deref()
    }

    /// Keeps rows matching `predicate`; a row that stops matching is deleted downstream.
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filtered(predicate, true)
    }

    /// Drops rows matching `predicate`.
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filtered(predicate, false)
    }

    fn filtered(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        keep: bool,
    ) -> Self {
        let pred = Arc::new(predicate);
        // Kafka's KTableFilter asks its parent to send old values (without forcing a store).
        let upstream = self.unmaterialized_flags();
        let send_old_values = Arc::new(AtomicBool::new(upstream.is_none()));
        let flag = send_old_values.clone();
        let stream = self.stream.add(
            "KTABLE-FILTER-",
            move || TableFilter {
                pred: pred.clone(),
                keep,
                send_old_values: flag.clone(),
            },
            None,
            None,
            false,
        );
        if let Some(mut flags) = upstream {
            flags.push(send_old_values);
            mark_unmaterialized(&stream, flags);
        }
        KTable {
            stream,
            store_name: None,
            value_serde: self.value_serde.clone(),
            key_serde: self.key_serde.clone(),
            close_after_ms: self.close_after_ms,
        }
    }

    /// Transforms each row's value.
    pub fn map_values<V2: Data>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        let f = Arc::new(move |_: &K, v: V| mapper(v));
        let stream = self.stream.add(
            "KTABLE-MAPVALUES-",
            move || TableMapValues(f.clone()),
            None,
            None,
            false,
        );
        if let Some(flags) = self.unmaterialized_flags() {
            mark_unmaterialized(&stream, flags);
        }
        KTable {
            stream,
            store_name: None,
            value_serde: None,
            key_serde: self.key_serde.clone(),
            close_after_ms: self.close_after_ms,
        }
    }

    /// The table's updates as a stream of new values (`None` for deletions).
    pub fn to_stream(&self) -> KStream<K, Option<V>> {
        let value_serde = self.value_serde.clone().map(|v| {
            let n: Arc<dyn Serde<Option<V>>> = Arc::new(crate::serdes::Nullable(DynSerde(v)));
            n
        });
        self.stream.add(
            "KTABLE-TOSTREAM-",
            || ToStream,
            self.key_serde.clone(),
            value_serde,
            false,
        )
    }

    /// Groups rows by a new key for an aggregation with adder and subtractor
    /// ([`KGroupedTable`]). The rows go through a repartition topic.
    pub fn group_by<K2: Data + PartialEq, V2: Data>(
        &self,
        selector: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
    ) -> KGroupedTable<K2, V2> {
        self.enable_sending_old_values();
        let f = Arc::new(selector);
        let serdes: GroupSerdes<K2, V2> = Arc::new(OnceLock::new());
        let s2 = serdes.clone();
        let regrouped = self.stream.add(
            "KTABLE-SELECT-",
            move || TableRegroup {
                selector: f.clone(),
                serdes: s2.clone(),
            },
            None,
            None,
            true,
        );
        KGroupedTable {
            stream: regrouped,
            key_serde: None,
            value_serde: None,
            name: None,
            serdes,
        }
    }
}

/// A stream grouped by key, ready for aggregation.
pub struct KGroupedStream<K, V> {
    pub(crate) stream: KStream<K, V>,
    pub(crate) name: Option<String>,
}

impl<K: Data, V: Data> KGroupedStream<K, V> {
    /// Names the repartition topic (`<application.id>-<name>-repartition`) used when the
    /// stream's keys changed before grouping.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the key serde for the repartition topic and the store (Kafka's `Grouped`).
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.stream.key_serde = Some(Arc::new(serde));
        self
    }

    /// Sets the value serde for the repartition topic (Kafka's `Grouped`).
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.stream.value_serde = Some(Arc::new(serde));
        self
    }

    /// Counts records per key.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = Some(Arc::new(I64Serde));
        }
        self.aggregate_with(
            m,
            Arc::new(|_, _, old: Option<i64>| old.unwrap_or(0) + 1),
            "KSTREAM-AGGREGATE-",
        )
    }

    /// Combines each key's values with `reducer(aggregate, value)`; the first value is the
    /// initial aggregate.
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = self.stream.value_serde.clone();
        }
        self.aggregate_with(
            m,
            Arc::new(move |_, v, old: Option<V>| match old {
                None => v,
                Some(acc) => reducer(acc, v),
            }),
            "KSTREAM-REDUCE-",
        )
    }

    /// Folds each key's values into an aggregate: `aggregator(key, value, aggregate)`, starting
    /// from `initializer()`.
    pub fn aggregate<VA: Data>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        self.aggregate_with(
            materialized,
            Arc::new(move |k, v, old: Option<VA>| {
                aggregator(k, v, old.unwrap_or_else(&initializer))
            }),
            "KSTREAM-AGGREGATE-",
        )
    }

    fn aggregate_with<VA: Data>(
        &self,
        m: Materialized<K, VA>,
        agg: AggFn<K, V, VA>,
        prefix: &str,
    ) -> KTable<K, VA> {
        let (store_name, node_name) = names(&self.stream, &m, prefix);
        let input = if self.stream.repartition_required {
            let name = self.name.clone().unwrap_or_else(|| store_name.clone());
            self.stream
                .repartition(Repartitioned::new().with_name(name))
        } else {
            self.stream.clone()
        };
        let sn = store_name.clone();
        let key_serde = m.key_serde.clone().or_else(|| input.key_serde.clone());
        let value_serde = {
            let b = input.builder.borrow();
            b.serde_for(None, &input.value_serde)
        };
        let table = materialize(&input, m, store_name, node_name, move || {
            StreamAggregate::new(
                sn.clone(),
                agg.clone(),
                key_serde.clone(),
                value_serde.clone(),
            )
        });
        drops_null_values(&table.stream);
        table
    }
}

/// Records that the table of `stream` has no store of its own (see `BuilderInner`).
pub(super) fn mark_unmaterialized<K, V>(stream: &KStream<K, V>, flags: Vec<Arc<AtomicBool>>) {
    if stream.node != crate::kstream::builder_inner::INVALID {
        stream
            .builder
            .borrow_mut()
            .unmaterialized
            .insert(stream.node, flags);
    }
}

/// Declares that the node of `stream` drops records with a null value, so a source that feeds
/// only such nodes may drop them itself (see `NullValues`).
pub(super) fn drops_null_values<K, V>(stream: &KStream<K, V>) {
    if stream.node != crate::kstream::builder_inner::INVALID {
        stream
            .builder
            .borrow_mut()
            .topology
            .set_null_values(stream.node, NullValues::Drops);
    }
}

/// Store and node names of an aggregation, numbered as Kafka Streams numbers them.
pub(super) fn names<K: Data, V: Data, VA: 'static>(
    stream: &KStream<K, V>,
    m: &Materialized<K, VA>,
    prefix: &str,
) -> (String, String) {
    let mut b = stream.builder.borrow_mut();
    let store_name = match &m.name {
        Some(n) => n.clone(),
        None => b.new_name(&format!("{prefix}STATE-STORE-")),
    };
    let node_name = match &stream.next_name {
        Some(n) => n.clone(),
        None => b.new_name(prefix),
    };
    (store_name, node_name)
}

/// Kafka's rule for names given with `Materialized` (they become topic names): at most 249
/// characters, ASCII alphanumerics, '.', '_' and '-'.
fn check_store_name(name: &str) -> Result<()> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 249 || !name.chars().all(legal) {
        return Err(StreamsError::InvalidTopology(format!(
            "store name \"{name}\" is illegal: it must be 1 to 249 characters, ASCII \
             alphanumerics, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// Adds the store of `m` and the aggregating processor over `input`; the result is the table.
pub(super) fn materialize<K: Data, VI: Data, VA: Data, P>(
    input: &KStream<K, VI>,
    m: Materialized<K, VA>,
    store_name: String,
    node_name: String,
    supplier: impl Fn() -> P + Send + Sync + 'static,
) -> KTable<K, VA>
where
    P: Processor<K, VI, K, Change<VA>>,
{
    if m.versioned_retention_ms.is_some() {
        return not_versionable(input, &store_name);
    }
    let builder = input.builder.clone();
    let mut b = builder.borrow_mut();
    if let Some(name) = &m.name {
        if let Err(e) = check_store_name(name) {
            b.fail(e);
        }
    }
    let key_serde = b.serde_for(m.key_serde.clone(), &input.key_serde);
    let value_serde = b.serde_for(m.value_serde.clone(), &None);
    let (Some(ks), Some(vs)) = (key_serde, value_serde) else {
        b.fail(StreamsError::InvalidTopology(format!(
            "store `{store_name}` does not know how to serialize ({}, {}): pass serdes with \
             Materialized::with(key_serde, value_serde)",
            std::any::type_name::<K>(),
            std::any::type_name::<VA>()
        )));
        drop(b);
        return KTable {
            stream: input.derive(crate::kstream::builder_inner::INVALID, None, None, false),
            store_name: None,
            value_serde: None,
            key_serde: None,
            close_after_ms: None,
        };
    };
    let store =
        KeyValueStoreBuilder::new(&store_name, ks.clone(), vs.clone()).store_type(m.store_type);
    let store = if m.logging {
        store
    } else {
        store.with_logging_disabled()
    };
    let store = if m.caching {
        store.with_caching_enabled()
    } else {
        store
    };
    if let Err(e) = b.topology.add_state_store(store, &[]) {
        b.fail(e);
    }
    drop(b);
    let mut stream = input
        .named(node_name)
        .process::<K, Change<VA>, P>(supplier, &[store_name.as_str()]);
    stream.repartition_required = false;
    stream.key_serde = Some(ks.clone());
    KTable {
        stream,
        store_name: Some(store_name),
        value_serde: Some(vs),
        key_serde: Some(ks),
        close_after_ms: None,
    }
}

/// A table regrouped by [`KTable::group_by`], ready for aggregation with adder and subtractor.
pub struct KGroupedTable<K, V> {
    pub(crate) stream: KStream<K, Change<V>>,
    pub(crate) key_serde: Option<Arc<dyn Serde<K>>>,
    pub(crate) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(crate) name: Option<String>,
    /// Shared with the `KTABLE-SELECT-` node; set when the table is aggregated.
    serdes: GroupSerdes<K, V>,
}

impl<K: Data, V: Data> KGroupedTable<K, V> {
    /// Names the repartition topic.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Sets the key serde for the repartition topic and the store.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(Arc::new(serde));
        self
    }
    /// Sets the value serde for the repartition topic.
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(Arc::new(serde));
        self
    }

    /// Counts rows per new key: +1 when a row joins the group, -1 when it leaves.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = Some(Arc::new(I64Serde));
        }
        self.aggregate_with(
            m,
            Arc::new(|_, _, agg: Option<i64>| agg.unwrap_or(0) + 1),
            Arc::new(|_, _, agg: Option<i64>| Some(agg.unwrap_or(0) - 1)),
            "KTABLE-AGGREGATE-",
        )
    }

    /// Combines values with `adder(aggregate, value)` when a row joins the group and
    /// `subtractor(aggregate, value)` when it leaves.
    pub fn reduce(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = self.value_serde.clone();
        }
        self.aggregate_with(
            m,
            Arc::new(move |_, v, agg: Option<V>| match agg {
                None => v,
                Some(a) => adder(a, v),
            }),
            Arc::new(move |_, v, agg: Option<V>| agg.map(|a| subtractor(a, v))),
            "KTABLE-REDUCE-",
        )
    }

    /// Folds values into an aggregate with `adder(key, value, aggregate)` when a row joins the
    /// group and `subtractor(key, value, aggregate)` when it leaves.
    pub fn aggregate<VA: Data>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        adder: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        let init = Arc::new(initializer);
        let init2 = init.clone();
        self.aggregate_with(
            materialized,
            Arc::new(move |k, v, agg: Option<VA>| adder(k, v, agg.unwrap_or_else(|| init()))),
            Arc::new(move |k, v, agg: Option<VA>| {
                Some(subtractor(k, v, agg.unwrap_or_else(|| init2())))
            }),
            "KTABLE-AGGREGATE-",
        )
    }

    fn aggregate_with<VA: Data>(
        &self,
        m: Materialized<K, VA>,
        adder: AggFn<K, V, VA>,
        subtractor: SubFn<K, V, VA>,
        prefix: &str,
    ) -> KTable<K, VA> {
        // Numbered as Kafka's KGroupedTableImpl: the store (if unnamed), the repartition sink
        // and source (`KSTREAM-SINK-<n>`, `KSTREAM-SOURCE-<n>`), then the aggregation.
        let (store_name, sink_name, source_name, node_name) = {
            let mut b = self.stream.builder.borrow_mut();
            let store = match &m.name {
                Some(n) => n.clone(),
                None => b.new_name(&format!("{prefix}STATE-STORE-")),
            };
            let sink = b.new_name("KSTREAM-SINK-");
            let source = b.new_name("KSTREAM-SOURCE-");
            let node = match &self.stream.next_name {
                Some(n) => n.clone(),
                None => b.new_name(prefix),
            };
            (store, sink, source, node)
        };
        let b = self.stream.builder.borrow();
        let ks = b.serde_for(self.key_serde.clone(), &None);
        let vs = b.serde_for(self.value_serde.clone(), &None);
        drop(b);
        let (Some(ks), Some(vs)) = (ks, vs) else {
            self.stream.builder.borrow_mut().fail(StreamsError::InvalidTopology(format!(
                "KTable::group_by before `{store_name}` does not know how to serialize ({}, {}) for \
                 its repartition topic: set KGroupedTable::with_key_serde / with_value_serde",
                std::any::type_name::<K>(),
                std::any::type_name::<V>()
            )));
            return KTable {
                stream: self.stream.derive(
                    crate::kstream::builder_inner::INVALID,
                    None,
                    None,
                    false,
                ),
                store_name: None,
                value_serde: None,
                key_serde: None,
                close_after_ms: None,
            };
        };
        // A second aggregation of the same grouping keeps the first serdes.
        let _ = self.serdes.set((ks.clone(), vs.clone()));
        let name = self.name.clone().unwrap_or_else(|| store_name.clone());
        let topic = format!("{name}-repartition");
        let change_serde: Arc<dyn Serde<Change<V>>> = Arc::new(ChangeSerde(vs));
        let node = if self.stream.node == crate::kstream::builder_inner::INVALID {
            crate::kstream::builder_inner::INVALID
        } else {
            let mut b = self.stream.builder.borrow_mut();
            match b.repartitions.get(&topic) {
                // As in Kafka, aggregations of one named grouping share its repartition topic
                // (their sink and source names are generated all the same).
                Some(&(writer, source)) if writer == self.stream.node => source,
                Some(_) => {
                    b.fail(StreamsError::InvalidTopology(format!(
                        "repartition topic `{topic}` is used by two different tables: name \
                         their groupings differently"
                    )));
                    crate::kstream::builder_inner::INVALID
                }
                None => {
                    let source = b.through_internal_topic(
                        vec![self.stream.node],
                        crate::kstream::builder_inner::InternalHop {
                            topic: &topic,
                            partitions: None,
                            sink_name,
                            source_name,
                        },
                        ks.clone(),
                        change_serde.clone(),
                        None,
                    );
                    if source != crate::kstream::builder_inner::INVALID {
                        b.repartitions
                            .insert(topic.clone(), (self.stream.node, source));
                    }
                    source
                }
            }
        };
        let repartitioned: KStream<K, Change<V>> =
            self.stream
                .derive(node, Some(ks.clone()), Some(change_serde), false);
        let mut m = m;
        if m.key_serde.is_none() {
            m.key_serde = Some(ks);
        }
        let sn = store_name.clone();
        materialize(&repartitioned, m, store_name, node_name, move || {
            TableAggregate {
                store_name: sn.clone(),
                adder: adder.clone(),
                subtractor: subtractor.clone(),
                store: None,
            }
        })
    }
}

/// Tables from streams and topics.
impl<K: Data, V: Data> KStream<K, V> {
    /// Groups by the current key. If an upstream operation may have changed keys, the
    /// aggregation repartitions first (through `<application.id>-<store>-repartition`).
    pub fn group_by_key(&self) -> KGroupedStream<K, V> {
        KGroupedStream {
            stream: self.clone(),
            name: None,
        }
    }

    /// Groups by a new key computed from each record (always repartitions).
    pub fn group_by<K2: Data>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
    ) -> KGroupedStream<K2, V> {
        KGroupedStream {
            stream: self.select_key(selector),
            name: None,
        }
    }
}

/// Fails the topology: `operation` cannot materialize into a versioned store.
pub(super) fn not_versionable<K: Data, VI: Data, VA: Data>(
    input: &KStream<K, VI>,
    store_name: &str,
) -> KTable<K, VA> {
    input
        .builder
        .borrow_mut()
        .fail(StreamsError::InvalidTopology(format!(
            "store `{store_name}`: a versioned store (Materialized::versioned) can back only a \
             source table (StreamsBuilder::table) or KStream::to_table"
        )));
    KTable {
        stream: input.derive(INVALID, None, None, false),
        store_name: None,
        value_serde: None,
        key_serde: None,
        close_after_ms: None,
    }
}
