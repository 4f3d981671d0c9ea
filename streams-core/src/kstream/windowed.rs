//! Windowed aggregations: `group_by_key().windowed_by(..)` then `count`, `reduce` or
//! `aggregate`, for tumbling and hopping [`TimeWindows`], [`SlidingWindows`] and
//! [`SessionWindows`]; results are tables keyed by [`Windowed`] keys.
//!
//! Each aggregation keeps the task's *observed stream time* (the largest timestamp it has
//! seen, including the current record). A record whose window is already closed (stream time
//! past the window end plus grace) is dropped for that window: counted in the task's
//! `dropped_records` metric and logged at debug level with its key, timestamp and lateness.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::kstream::data::Data;
use crate::kstream::ktable::{
    emit_cached, names, not_initialized, write_row, AggFn, Change, KGroupedStream, KTable,
    Materialized,
};
use crate::kstream::options::Repartitioned;
use crate::kstream::stream::KStream;
use crate::kstream::windows::{
    sliding_fetch_range, ExistingSlidingWindow, SessionWindowedSerde, SessionWindows, SlidingSeed,
    SlidingStep, SlidingWindows, TimeWindowedSerde, TimeWindows, Window, Windowed,
};
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::{Headers, Record};
use crate::serdes::{DynSerde, I64Serde, Serde};
use crate::state::store::StoreBuilder;
use crate::state::window::{SessionStore, SessionStoreBuilder, WindowStore, WindowStoreBuilder};

/// When a windowed aggregation emits its results (Kafka's `EmitStrategy`, KIP-825), set with
/// [`TimeWindowedKStream::emit_strategy`] or [`SessionWindowedKStream::emit_strategy`].
///
/// - [`EmitStrategy::on_window_update`] (the default): every update of a window's aggregate
///   goes downstream (through the record cache when it is on).
/// - [`EmitStrategy::on_window_close`]: only final results. The aggregation emits a window
///   once, when stream time passes its end plus the grace period, straight from its store: no
///   separate suppression buffer and no record cache. Its changelog and store are as with
///   updates; what it emits is what `suppress(Suppressed::until_window_closes(..))` would emit
///   after an update-emitting aggregation, with less state.
///
/// As in Kafka, a window is emitted when a record moves stream time past its close, by the
/// aggregation that owns it; the emitted record carries the window's timestamp (its latest
/// record's) and the headers of the record that closed it.
///
/// ```
/// use std::time::Duration;
/// use streams_core::*;
///
/// let windows = TimeWindows::of_size_and_grace(Duration::from_millis(10), Duration::ZERO)?;
/// let builder = StreamsBuilder::new();
/// builder
///     .stream("clicks", Consumed::with(StringSerde, StringSerde))
///     .group_by_key()
///     .windowed_by(windows)
///     .emit_strategy(EmitStrategy::on_window_close())
///     .count(Materialized::new())
///     .to_stream()
///     .to("final-counts", Produced::with(TimeWindowedSerde::for_windows(StringSerde, &windows), Nullable(I64Serde)));
/// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("emit-final"))?;
/// let clicks = driver.input_topic("clicks", StringSerde, StringSerde);
/// clicks.pipe_input_at("a".to_string(), "x".to_string(), 1)?;
/// clicks.pipe_input_at("a".to_string(), "y".to_string(), 4)?;
/// let out = driver.output_topic("final-counts", TimeWindowedSerde::for_windows(StringSerde, &windows), I64Serde);
/// // Window [0, 10) is still open: nothing yet.
/// assert!(out.is_empty());
/// // Stream time 10 closes it: its one final count.
/// clicks.pipe_input_at("b".to_string(), "z".to_string(), 10)?;
/// let record = out.read_record()?;
/// assert_eq!((record.key, record.value, record.timestamp), (Windowed::new("a".to_string(), Window::new(0, 10)), 2, 4));
/// assert!(out.is_empty());
/// # Ok::<(), StreamsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmitStrategy {
    on_close: bool,
}

impl EmitStrategy {
    /// Emit every update of a window's aggregate (the default).
    pub const fn on_window_update() -> Self {
        EmitStrategy { on_close: false }
    }

    /// Emit each window once, when it closes (stream time reaches window end plus grace).
    pub const fn on_window_close() -> Self {
        EmitStrategy { on_close: true }
    }

    /// True for [`EmitStrategy::on_window_close`].
    pub fn is_on_window_close(&self) -> bool {
        self.on_close
    }
}

/// Window definitions accepted by [`KGroupedStream::windowed_by`]: [`TimeWindows`] and
/// [`SlidingWindows`] give a [`TimeWindowedKStream`], [`SessionWindows`] a
/// [`SessionWindowedKStream`].
pub trait WindowedBy<K, V>: sealed::Sealed {
    /// The windowed stream.
    type Output;
    #[doc(hidden)]
    fn windowed(self, grouped: KGroupedStream<K, V>) -> Self::Output;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::TimeWindows {}
    impl Sealed for super::SlidingWindows {}
    impl Sealed for super::SessionWindows {}
}

impl<K: Data, V: Data> WindowedBy<K, V> for TimeWindows {
    type Output = TimeWindowedKStream<K, V>;
    fn windowed(self, grouped: KGroupedStream<K, V>) -> Self::Output {
        TimeWindowedKStream {
            grouped,
            windows: TimeKind::Fixed(self),
            emit: EmitStrategy::default(),
        }
    }
}

impl<K: Data, V: Data> WindowedBy<K, V> for SlidingWindows {
    type Output = TimeWindowedKStream<K, V>;
    fn windowed(self, grouped: KGroupedStream<K, V>) -> Self::Output {
        TimeWindowedKStream {
            grouped,
            windows: TimeKind::Sliding(self),
            emit: EmitStrategy::default(),
        }
    }
}

impl<K: Data, V: Data> WindowedBy<K, V> for SessionWindows {
    type Output = SessionWindowedKStream<K, V>;
    fn windowed(self, grouped: KGroupedStream<K, V>) -> Self::Output {
        SessionWindowedKStream {
            grouped,
            windows: self,
            emit: EmitStrategy::default(),
        }
    }
}

impl<K: Data, V: Data> KGroupedStream<K, V> {
    /// Aggregates per key *and window*: tumbling or hopping [`TimeWindows`], [`SlidingWindows`]
    /// or [`SessionWindows`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let windows = TimeWindows::of_size_and_grace(Duration::from_secs(10), Duration::from_secs(5))?;
    /// builder
    ///     .stream("rides", Consumed::with(StringSerde, StringSerde))
    ///     .group_by_key()
    ///     .windowed_by(windows)
    ///     .count(Materialized::new())
    ///     .to_stream()
    ///     .to("counts", Produced::with(TimeWindowedSerde::for_windows(StringSerde, &windows), Nullable(I64Serde)));
    /// # builder.build()?;
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn windowed_by<W: WindowedBy<K, V>>(&self, windows: W) -> W::Output {
        windows.windowed(KGroupedStream {
            stream: self.stream.clone(),
            name: self.name.clone(),
        })
    }

    /// The stream to aggregate: repartitioned first when keys may have changed.
    pub(crate) fn aggregation_input(&self, store_name: &str) -> KStream<K, V> {
        if self.stream.repartition_required {
            let name = self.name.clone().unwrap_or_else(|| store_name.to_string());
            self.stream
                .repartition(Repartitioned::new().with_name(name))
        } else {
            self.stream.clone()
        }
    }
}

#[derive(Clone, Copy)]
enum TimeKind {
    Fixed(TimeWindows),
    Sliding(SlidingWindows),
}

impl TimeKind {
    fn size_ms(&self) -> i64 {
        match self {
            TimeKind::Fixed(w) => w.size_ms(),
            TimeKind::Sliding(w) => w.time_difference_ms(),
        }
    }
    fn grace_ms(&self) -> i64 {
        match self {
            TimeKind::Fixed(w) => w.grace_ms(),
            TimeKind::Sliding(w) => w.grace_ms(),
        }
    }
    fn min_retention_ms(&self) -> i64 {
        match self {
            TimeKind::Fixed(w) => w.size_ms().saturating_add(w.grace_ms()),
            TimeKind::Sliding(w) => w.retention_ms(),
        }
    }
}

/// A grouped stream with time windows: tumbling, hopping or sliding (Kafka's
/// `TimeWindowedKStream`). Aggregations give a table keyed by [`Windowed`] keys.
pub struct TimeWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: TimeKind,
    emit: EmitStrategy,
}

impl<K: Data, V: Data> TimeWindowedKStream<K, V> {
    /// When the aggregations of this stream emit: every update (the default) or only final
    /// results when each window closes. See [`EmitStrategy`].
    pub fn emit_strategy(mut self, strategy: EmitStrategy) -> Self {
        self.emit = strategy;
        self
    }

    /// Counts records per key and window.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<Windowed<K>, i64> {
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

    /// Combines the values of each key and window with `reducer(aggregate, value)`.
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = self.grouped.stream.value_serde.clone();
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

    /// Folds the values of each key and window into an aggregate:
    /// `aggregator(key, value, aggregate)`, starting from `initializer()`.
    pub fn aggregate<VA: Data>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
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
    ) -> KTable<Windowed<K>, VA> {
        let (store_name, node_name) = names(&self.grouped.stream, &m, prefix);
        let input = self.grouped.aggregation_input(&store_name);
        let windows = self.windows;
        let emit_final = self.emit.is_on_window_close();
        let Some((ks, vs)) = resolve_serdes(&input, &m, &store_name) else {
            return invalid_table(&input);
        };
        let retention = m.retention_ms.unwrap_or_else(|| windows.min_retention_ms());
        if retention < windows.min_retention_ms() {
            input
                .builder
                .borrow_mut()
                .fail(StreamsError::InvalidWindow(format!(
                "store `{store_name}`: retention {retention} ms is shorter than window size plus \
                 grace ({} ms); set Materialized::with_retention to at least that",
                windows.min_retention_ms()
            )));
            return invalid_table(&input);
        }
        let builder = match WindowStoreBuilder::new(
            &store_name,
            retention,
            windows.size_ms(),
            ks.clone(),
            vs.clone(),
        ) {
            Ok(b) => b.store_type(m.store_type),
            Err(e) => {
                input.builder.borrow_mut().fail(e);
                return invalid_table(&input);
            }
        };
        let builder = if m.logging {
            builder
        } else {
            builder.with_logging_disabled()
        };
        // Final results come straight from the store: no record cache (as in Kafka).
        let builder = if m.caching && !emit_final {
            builder.with_caching_enabled()
        } else {
            builder
        };
        let sn = store_name.clone();
        let key_serde = ks.clone();
        let stream = attach(&input, builder, &store_name, node_name, move || {
            WindowAggregate {
                store_name: sn.clone(),
                windows,
                agg: agg.clone(),
                key_serde: key_serde.clone(),
                store: None,
                observed: i64::MIN,
                emit_final,
                last_emit_close: i64::MIN,
            }
        });
        let out_keys: Arc<dyn Serde<Windowed<K>>> =
            Arc::new(TimeWindowedSerde::new(DynSerde(ks), windows.size_ms()));
        windowed_table(stream, store_name, out_keys, vs, windows.grace_ms())
    }
}

/// A grouped stream with session windows (Kafka's `SessionWindowedKStream`).
pub struct SessionWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: SessionWindows,
    emit: EmitStrategy,
}

/// Merges a session's aggregate into the running one (`None`: nothing merged yet).
type MergeFn<K, VA> = Arc<dyn Fn(&K, Option<VA>, VA) -> VA + Send + Sync>;

impl<K: Data, V: Data> SessionWindowedKStream<K, V> {
    /// When the aggregations of this stream emit: every update (the default) or only final
    /// results when each session closes (stream time past its end plus gap plus grace). See
    /// [`EmitStrategy`].
    pub fn emit_strategy(mut self, strategy: EmitStrategy) -> Self {
        self.emit = strategy;
        self
    }
    /// Counts records per key and session.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<Windowed<K>, i64> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = Some(Arc::new(I64Serde));
        }
        self.aggregate_with(
            m,
            Arc::new(|_, _, old: Option<i64>| old.unwrap_or(0) + 1),
            Arc::new(|_, a: Option<i64>, b| a.unwrap_or(0) + b),
            "KSTREAM-AGGREGATE-",
        )
    }

    /// Combines the values of each session with `reducer(aggregate, value)`; merging sessions
    /// combines their aggregates with the reducer too.
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        let mut m = materialized;
        if m.value_serde.is_none() {
            m.value_serde = self.grouped.stream.value_serde.clone();
        }
        let reducer = Arc::new(reducer);
        let r2 = reducer.clone();
        self.aggregate_with(
            m,
            Arc::new(move |_, v, old: Option<V>| match old {
                None => v,
                Some(acc) => reducer(acc, v),
            }),
            Arc::new(move |_, a: Option<V>, b| match a {
                None => b,
                Some(a) => r2(a, b),
            }),
            "KSTREAM-REDUCE-",
        )
    }

    /// Folds the values of each session into an aggregate; when a record bridges sessions,
    /// `merger(key, aggregate1, aggregate2)` combines them.
    pub fn aggregate<VA: Data>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        merger: impl Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        let init = Arc::new(initializer);
        let init2 = init.clone();
        self.aggregate_with(
            materialized,
            Arc::new(move |k, v, old: Option<VA>| aggregator(k, v, old.unwrap_or_else(|| init()))),
            Arc::new(move |k, a: Option<VA>, b| merger(k, a.unwrap_or_else(|| init2()), b)),
            "KSTREAM-AGGREGATE-",
        )
    }

    fn aggregate_with<VA: Data>(
        &self,
        m: Materialized<K, VA>,
        agg: AggFn<K, V, VA>,
        merge: MergeFn<K, VA>,
        prefix: &str,
    ) -> KTable<Windowed<K>, VA> {
        let (store_name, node_name) = names(&self.grouped.stream, &m, prefix);
        let input = self.grouped.aggregation_input(&store_name);
        let windows = self.windows;
        let emit_final = self.emit.is_on_window_close();
        let Some((ks, vs)) = resolve_serdes(&input, &m, &store_name) else {
            return invalid_table(&input);
        };
        let retention = m.retention_ms.unwrap_or_else(|| windows.retention_ms());
        if retention < windows.retention_ms() {
            input
                .builder
                .borrow_mut()
                .fail(StreamsError::InvalidWindow(format!(
                "store `{store_name}`: retention {retention} ms is shorter than inactivity gap \
                 plus grace ({} ms)",
                windows.retention_ms()
            )));
            return invalid_table(&input);
        }
        let builder = match SessionStoreBuilder::new(&store_name, retention, ks.clone(), vs.clone())
        {
            Ok(b) => b.store_type(m.store_type),
            Err(e) => {
                input.builder.borrow_mut().fail(e);
                return invalid_table(&input);
            }
        };
        let builder = if m.logging {
            builder
        } else {
            builder.with_logging_disabled()
        };
        // Final results come straight from the store: no record cache (as in Kafka).
        let builder = if m.caching && !emit_final {
            builder.with_caching_enabled()
        } else {
            builder
        };
        let sn = store_name.clone();
        let key_serde = ks.clone();
        let stream = attach(&input, builder, &store_name, node_name, move || {
            SessionAggregate {
                store_name: sn.clone(),
                windows,
                agg: agg.clone(),
                merge: merge.clone(),
                key_serde: key_serde.clone(),
                store: None,
                observed: i64::MIN,
                emit_final,
                last_emit_close: i64::MIN,
            }
        });
        let out_keys: Arc<dyn Serde<Windowed<K>>> =
            Arc::new(SessionWindowedSerde::new(DynSerde(ks)));
        // A session is final once stream time passes its end plus gap plus grace.
        let close_after = windows
            .inactivity_gap_ms()
            .saturating_add(windows.grace_ms());
        windowed_table(stream, store_name, out_keys, vs, close_after)
    }
}

type Serdes<K, VA> = (Arc<dyn Serde<K>>, Arc<dyn Serde<VA>>);

fn resolve_serdes<K: Data, V: Data, VA: Data>(
    input: &KStream<K, V>,
    m: &Materialized<K, VA>,
    store_name: &str,
) -> Option<Serdes<K, VA>> {
    let mut b = input.builder.borrow_mut();
    let ks = b.serde_for(m.key_serde.clone(), &input.key_serde);
    let vs = b.serde_for(m.value_serde.clone(), &None);
    match (ks, vs) {
        (Some(ks), Some(vs)) => Some((ks, vs)),
        _ => {
            b.fail(StreamsError::InvalidTopology(format!(
                "store `{store_name}` does not know how to serialize ({}, {}): pass serdes with \
                 Materialized::with(key_serde, value_serde)",
                std::any::type_name::<K>(),
                std::any::type_name::<VA>()
            )));
            None
        }
    }
}

fn invalid_table<K: Data, V: Data, VA: Data>(input: &KStream<K, V>) -> KTable<Windowed<K>, VA> {
    KTable {
        stream: input.derive(crate::kstream::builder_inner::INVALID, None, None, false),
        store_name: None,
        value_serde: None,
        key_serde: None,
        close_after_ms: None,
    }
}

/// Adds the store and the aggregating processor.
fn attach<K: Data, V: Data, KO: Data, VA: Data, P>(
    input: &KStream<K, V>,
    store: impl StoreBuilder,
    store_name: &str,
    node_name: String,
    supplier: impl Fn() -> P + Send + Sync + 'static,
) -> KStream<KO, Change<VA>>
where
    P: Processor<K, V, KO, Change<VA>>,
{
    {
        let mut b = input.builder.borrow_mut();
        if let Err(e) = b.topology.add_state_store(store, &[]) {
            b.fail(e);
        }
    }
    let mut stream = input
        .named(node_name)
        .process::<KO, Change<VA>, P>(supplier, &[store_name]);
    stream.repartition_required = false;
    stream
}

fn windowed_table<K: Data, VA: Data>(
    mut stream: KStream<Windowed<K>, Change<VA>>,
    store_name: String,
    key_serde: Arc<dyn Serde<Windowed<K>>>,
    value_serde: Arc<dyn Serde<VA>>,
    close_after_ms: i64,
) -> KTable<Windowed<K>, VA> {
    stream.key_serde = Some(key_serde.clone());
    KTable {
        stream,
        store_name: Some(store_name),
        value_serde: Some(value_serde),
        key_serde: Some(key_serde),
        close_after_ms: Some(close_after_ms),
    }
}

/// Counts a record dropped for a closed window and logs it at debug level.
fn drop_late<KO, VO, K: 'static>(
    ctx: &mut ProcessorContext<'_, KO, VO>,
    key_serde: &dyn Serde<K>,
    key: &K,
    timestamp: i64,
    window: Window,
    closed_at: i64,
    observed: i64,
) {
    ctx.record_dropped();
    if tracing::enabled!(tracing::Level::DEBUG) {
        let mut bytes = Vec::new();
        let key = match key_serde.serialize(key, &mut bytes) {
            Ok(()) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => "<unserializable key>".to_string(),
        };
        let (topic, partition, offset) = match ctx.record_metadata() {
            Some(m) => (m.topic.to_string(), m.partition, m.offset),
            None => (String::new(), -1, -1),
        };
        tracing::debug!(
            node = ctx.node_name(),
            key = %key,
            timestamp,
            window = %window,
            expiration = closed_at,
            stream_time = observed,
            lateness_ms = observed.saturating_sub(closed_at),
            topic = %topic,
            partition,
            offset,
            "Skipping record for expired window: the window closed (stream time passed window end + grace)"
        );
    }
}

/// Tumbling, hopping and sliding window aggregation.
struct WindowAggregate<K, V, VA> {
    store_name: String,
    windows: TimeKind,
    agg: AggFn<K, V, VA>,
    key_serde: Arc<dyn Serde<K>>,
    store: Option<WindowStore<K, VA>>,
    observed: i64,
    /// [`EmitStrategy::on_window_close`]: updates are only stored; closed windows are emitted
    /// from the store.
    emit_final: bool,
    /// The window close time (stream time minus grace) of the last final-results emission
    /// (`i64::MIN`: none yet; Kafka's `lastEmitWindowCloseTime`).
    last_emit_close: i64,
}

impl<K: Data, V: Data, VA: Data> WindowAggregate<K, V, VA> {
    /// Writes one window's new aggregate and, without caching, forwards it with `old`, the
    /// aggregate it replaces (already read by the caller: no second store read). With
    /// `emit_final` the aggregate is only stored.
    #[allow(clippy::too_many_arguments)]
    fn update(
        store: &WindowStore<K, VA>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        r: &Record<K, V>,
        window: Window,
        new: VA,
        old: Option<VA>,
        timestamp: i64,
        emit_final: bool,
    ) -> Result<()> {
        let key = Windowed::new(r.key.clone(), window);
        if emit_final {
            return store.kv().put_with_timestamp(&key, new, timestamp);
        }
        let row = Record {
            key,
            value: (),
            timestamp: r.timestamp,
            headers: r.headers.clone(),
        };
        write_row(store.kv(), ctx, row, Some(new), old, timestamp)
    }

    fn process_fixed(
        &mut self,
        windows: TimeWindows,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        for window in windows.windows_for(r.timestamp) {
            if windows.is_window_closed(&window, self.observed) {
                let closed_at = windows.close_time(&window);
                drop_late(
                    ctx,
                    self.key_serde.as_ref(),
                    &r.key,
                    r.timestamp,
                    window,
                    closed_at,
                    self.observed,
                );
                continue;
            }
            let (old, old_ts) = match store.fetch_with_timestamp(&r.key, window.start)? {
                Some((v, ts)) => (Some(v), ts),
                None => (None, i64::MIN),
            };
            let forwarded_old = if store.kv().caching() {
                None
            } else {
                old.clone()
            };
            let new = (self.agg)(&r.key, r.value.clone(), old);
            Self::update(
                store,
                ctx,
                &r,
                window,
                new,
                forwarded_old,
                r.timestamp.max(old_ts),
                self.emit_final,
            )?;
        }
        Ok(())
    }

    fn process_sliding(
        &mut self,
        windows: SlidingWindows,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        let ts = r.timestamp;
        if windows.is_record_expired(ts, self.observed) {
            let window = Window::new(ts.saturating_sub(windows.time_difference_ms()), ts);
            let closed_at = ts.saturating_add(windows.grace_ms());
            drop_late(
                ctx,
                self.key_serde.as_ref(),
                &r.key,
                ts,
                window,
                closed_at,
                self.observed,
            );
            return Ok(());
        }
        let diff = windows.time_difference_ms();
        let (lo, hi) = sliding_fetch_range(diff, ts);
        let existing = store.fetch_range(&r.key, lo, hi)?;
        let snapshot: HashMap<i64, (VA, i64)> = existing
            .iter()
            .map(|(s, v, t)| (*s, (v.clone(), *t)))
            .collect();
        let windows_seen: Vec<ExistingSlidingWindow> = existing
            .iter()
            .map(|(s, _, t)| ExistingSlidingWindow {
                start: *s,
                max_timestamp: *t,
            })
            .collect();
        let plan = windows.plan(&windows_seen, ts);
        for step in plan.steps {
            match step {
                SlidingStep::Update(w) => {
                    if windows.is_window_closed(&w, self.observed) {
                        drop_late(
                            ctx,
                            self.key_serde.as_ref(),
                            &r.key,
                            ts,
                            w,
                            w.end.saturating_add(windows.grace_ms()),
                            self.observed,
                        );
                        continue;
                    }
                    let (old, old_ts) = match store.fetch_with_timestamp(&r.key, w.start)? {
                        Some((v, t)) => (Some(v), t),
                        None => (None, i64::MIN),
                    };
                    let forwarded_old = if store.kv().caching() {
                        None
                    } else {
                        old.clone()
                    };
                    let new = (self.agg)(&r.key, r.value.clone(), old);
                    Self::update(
                        store,
                        ctx,
                        &r,
                        w,
                        new,
                        forwarded_old,
                        ts.max(old_ts),
                        self.emit_final,
                    )?;
                }
                SlidingStep::Create { window, seed } => {
                    if windows.is_window_closed(&window, self.observed) {
                        continue;
                    }
                    let base = match seed {
                        SlidingSeed::Initializer => None,
                        SlidingSeed::CopyOf(from) => {
                            snapshot.get(&from.start).map(|(v, _)| v.clone())
                        }
                    };
                    let new = (self.agg)(&r.key, r.value.clone(), base);
                    // The plan creates windows that do not exist: nothing is replaced.
                    Self::update(store, ctx, &r, window, new, None, ts, self.emit_final)?;
                }
                SlidingStep::CopyToRight { window, from } => {
                    if let Some((v, t)) = snapshot.get(&from.start) {
                        Self::update(store, ctx, &r, window, v.clone(), None, *t, self.emit_final)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<K: Data, V: Data, VA: Data> WindowAggregate<K, V, VA> {
    /// [`EmitStrategy::on_window_close`]: emits the windows that closed since the last
    /// emission, from the store, by start then key (Kafka's
    /// `AbstractKStreamTimeWindowAggregateProcessor.maybeForwardFinalResult`). Time windows
    /// `[start, end)` are closed once `end <= stream time - grace`, sliding windows
    /// `[start, end]` once `end < stream time - grace`.
    fn emit_final(
        &mut self,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<()> {
        let close = self.observed.saturating_sub(self.windows.grace_ms());
        let last = self.last_emit_close;
        if last != i64::MIN && last >= close {
            return Ok(());
        }
        let (lower, upper) = match self.windows {
            TimeKind::Fixed(w) => {
                let size = w.size_ms();
                let upper = close.saturating_sub(size);
                let lower = if last == i64::MIN {
                    0
                } else {
                    last.saturating_sub(size).max(0).saturating_add(1)
                };
                if upper >= 0 && last != i64::MIN {
                    // No window starts in [lower, upper]: nothing new closed (the last
                    // emission time stays, as in Kafka).
                    let advance = w.advance_ms();
                    let first_start = lower.saturating_add(advance - 1) / advance * advance;
                    if first_start > upper {
                        return Ok(());
                    }
                }
                (lower, upper)
            }
            TimeKind::Sliding(w) => {
                let diff = w.time_difference_ms();
                let upper = close.saturating_sub(diff).saturating_sub(1);
                let lower = if last == i64::MIN {
                    0
                } else {
                    last.saturating_sub(diff).max(0)
                };
                (lower, upper)
            }
        };
        if upper < 0 {
            return Ok(());
        }
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        for (key, value, timestamp) in store.fetch_all_in(lower, upper)? {
            ctx.forward(Record {
                key,
                value: Change {
                    new: Some(value),
                    old: None,
                },
                timestamp,
                headers: headers.clone(),
            })?;
        }
        self.last_emit_close = close;
        Ok(())
    }
}

impl<K: Data, V: Data, VA: Data> Processor<K, V, Windowed<K>, Change<VA>>
    for WindowAggregate<K, V, VA>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>) -> Result<()> {
        self.store = Some(ctx.get_state_store::<WindowStore<K, VA>>(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<()> {
        self.observed = self.observed.max(r.timestamp);
        let headers = self.emit_final.then(|| r.headers.clone());
        match self.windows {
            TimeKind::Fixed(w) => self.process_fixed(w, r, ctx)?,
            TimeKind::Sliding(w) => self.process_sliding(w, r, ctx)?,
        }
        if let Some(headers) = headers {
            self.emit_final(&headers, ctx)?;
        }
        if let Some(store) = &self.store {
            if store.kv().over_budget() {
                emit_cached(store.kv(), ctx)?;
                store.kv().evict_all()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>) -> Result<()> {
        match &self.store {
            Some(s) => emit_cached(s.kv(), ctx),
            None => Ok(()),
        }
    }
}

/// Emits a session store's cached changes. Like Kafka's session cache flush listener, every
/// change is stamped with its session's end (a removed session's tombstone included, whatever
/// record removed it), and a removal of a session that was never emitted is not forwarded.
fn emit_cached_sessions<K: Data, VA: Data>(
    store: &SessionStore<K, VA>,
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
) -> Result<()> {
    for (key, new, old, _) in store.kv().take_emits() {
        if new.is_none() && old.is_none() {
            continue;
        }
        let end = key.window.end;
        ctx.forward(Record::new(key, Change { new, old }, end))?;
    }
    Ok(())
}

/// Session window aggregation.
struct SessionAggregate<K, V, VA> {
    store_name: String,
    windows: SessionWindows,
    agg: AggFn<K, V, VA>,
    merge: MergeFn<K, VA>,
    key_serde: Arc<dyn Serde<K>>,
    store: Option<SessionStore<K, VA>>,
    observed: i64,
    /// [`EmitStrategy::on_window_close`]: sessions are only stored; closed ones are emitted
    /// from the store.
    emit_final: bool,
    /// The session close time (stream time minus gap and grace) of the last final-results
    /// emission (`i64::MIN`: none yet).
    last_emit_close: i64,
}

impl<K: Data, V: Data, VA: Data> SessionAggregate<K, V, VA> {
    /// [`EmitStrategy::on_window_close`]: emits the sessions that closed since the last
    /// emission (end `< stream time - gap - grace`), by end, stamped with their end (Kafka's
    /// `KStreamSessionWindowAggregate.maybeForwardFinalResult`).
    fn emit_final(
        &mut self,
        headers: &Headers,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<()> {
        let close = self
            .observed
            .saturating_sub(self.windows.grace_ms())
            .saturating_sub(self.windows.inactivity_gap_ms());
        let last = self.last_emit_close;
        if last != i64::MIN && last >= close {
            return Ok(());
        }
        let upper = close.saturating_sub(1);
        let lower = last.max(0);
        if upper < 0 || upper < lower {
            return Ok(());
        }
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        for (key, value) in store.sessions_ending_in(lower, upper)? {
            let timestamp = key.window.end;
            ctx.forward(Record {
                key,
                value: Change {
                    new: Some(value),
                    old: None,
                },
                timestamp,
                headers: headers.clone(),
            })?;
        }
        self.last_emit_close = close;
        Ok(())
    }

    /// Merges the record into its session and, emitting updates, forwards the changes.
    fn aggregate_record(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        let ts = r.timestamp;
        self.observed = self.observed.max(ts);
        let gap = self.windows.inactivity_gap_ms();
        let found = store.find_sessions(&r.key, ts.saturating_sub(gap), ts.saturating_add(gap))?;
        let sessions: Vec<Window> = found.iter().map(|(w, _)| *w).collect();
        let plan = self.windows.plan(&sessions, ts);
        if self.windows.is_session_closed(&plan.merged, self.observed) {
            let closed_at = plan
                .merged
                .end
                .saturating_add(gap)
                .saturating_add(self.windows.grace_ms());
            drop_late(
                ctx,
                self.key_serde.as_ref(),
                &r.key,
                ts,
                plan.merged,
                closed_at,
                self.observed,
            );
            return Ok(());
        }
        let caching = store.kv().caching();
        // Updates go downstream now only without the cache and without emit-final.
        let forward = !caching && !self.emit_final;
        let mut agg: Option<VA> = None;
        for absorbed in &plan.absorbed {
            let Some((_, value)) = found.iter().find(|(w, _)| w == absorbed) else {
                continue;
            };
            agg = Some((self.merge)(&r.key, agg, value.clone()));
            if plan.remove_absorbed {
                let key = Windowed::new(r.key.clone(), *absorbed);
                store.remove(&key)?;
                if forward {
                    ctx.forward(Record {
                        key,
                        value: Change {
                            new: None,
                            old: Some(value.clone()),
                        },
                        timestamp: absorbed.end,
                        headers: r.headers.clone(),
                    })?;
                }
            }
        }
        let new = (self.agg)(&r.key, r.value, agg);
        let key = Windowed::new(r.key, plan.merged);
        store.put(&key, new.clone())?;
        if forward {
            ctx.forward(Record {
                key,
                value: Change {
                    new: Some(new),
                    old: None,
                },
                timestamp: plan.merged.end,
                headers: r.headers,
            })?;
        } else if store.kv().over_budget() {
            emit_cached_sessions(store, ctx)?;
            store.kv().evict_all()?;
        }
        Ok(())
    }
}

impl<K: Data, V: Data, VA: Data> Processor<K, V, Windowed<K>, Change<VA>>
    for SessionAggregate<K, V, VA>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>) -> Result<()> {
        self.store = Some(ctx.get_state_store::<SessionStore<K, VA>>(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, V>,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<()> {
        let headers = self.emit_final.then(|| r.headers.clone());
        self.aggregate_record(r, ctx)?;
        if let Some(headers) = headers {
            self.emit_final(&headers, ctx)?;
        }
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>) -> Result<()> {
        match &self.store {
            Some(s) => emit_cached_sessions(s, ctx),
            None => Ok(()),
        }
    }
}

// The aggregating processors for `kstream/cogroup.rs`: one instance per cogrouped stream, all
// on the one store (Kafka's cogroup emits on every window update).

/// A tumbling or hopping window aggregation into the window store `store_name`.
pub(super) fn time_window_aggregate<K: Data, V: Data, VA: Data>(
    store_name: String,
    windows: TimeWindows,
    agg: AggFn<K, V, VA>,
    key_serde: Arc<dyn Serde<K>>,
) -> impl Processor<K, V, Windowed<K>, Change<VA>> {
    WindowAggregate {
        store_name,
        windows: TimeKind::Fixed(windows),
        agg,
        key_serde,
        store: None,
        observed: i64::MIN,
        // Kafka's cogroup always emits every window update.
        emit_final: false,
        last_emit_close: i64::MIN,
    }
}

/// A sliding window aggregation into the window store `store_name`.
pub(super) fn sliding_window_aggregate<K: Data, V: Data, VA: Data>(
    store_name: String,
    windows: SlidingWindows,
    agg: AggFn<K, V, VA>,
    key_serde: Arc<dyn Serde<K>>,
) -> impl Processor<K, V, Windowed<K>, Change<VA>> {
    WindowAggregate {
        store_name,
        windows: TimeKind::Sliding(windows),
        agg,
        key_serde,
        store: None,
        observed: i64::MIN,
        // Kafka's cogroup always emits every window update.
        emit_final: false,
        last_emit_close: i64::MIN,
    }
}

/// A session window aggregation into the session store `store_name`; `merge(key, running,
/// session)` folds a merged session's aggregate into the running one (`None`: none yet).
pub(super) fn session_window_aggregate<K: Data, V: Data, VA: Data>(
    store_name: String,
    windows: SessionWindows,
    agg: AggFn<K, V, VA>,
    merge: MergeFn<K, VA>,
    key_serde: Arc<dyn Serde<K>>,
) -> impl Processor<K, V, Windowed<K>, Change<VA>> {
    SessionAggregate {
        store_name,
        windows,
        agg,
        merge,
        key_serde,
        store: None,
        observed: i64::MIN,
        // Kafka's cogroup always emits every window update.
        emit_final: false,
        last_emit_close: i64::MIN,
    }
}
