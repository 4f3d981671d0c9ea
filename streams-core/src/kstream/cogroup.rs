//! Cogrouping (Kafka's KIP-150): several grouped streams with the same key type, each with its
//! own value type and aggregator, aggregated into one table with one store.
//!
//! As in Kafka's `CogroupedStreamAggregateBuilder`, each cogrouped stream gets its own
//! aggregating node (`COGROUPKSTREAM-AGGREGATE-…`, or `<name>-cogroup-agg-<i>`), all reading and
//! writing the one store, and a pass-through node (`COGROUPKSTREAM-MERGE-…`, or
//! `<name>-cogroup-merge`) merges their updates into the resulting table. A grouped stream whose
//! keys may have changed goes through its own repartition topic first, named after the grouped
//! stream ([`KGroupedStream::named`]) or else after the store.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::StreamsError;
use crate::kstream::builder_inner::BuilderInner;
use crate::kstream::builder_inner::INVALID;
use crate::kstream::data::Data;
use crate::kstream::internals::PassThrough;
use crate::kstream::ktable::{
    AggFn, Change, KGroupedStream, KTable, Materialized, StreamAggregate,
};
use crate::kstream::stream::KStream;
use crate::kstream::windowed::{
    session_window_aggregate, sliding_window_aggregate, time_window_aggregate,
};
use crate::kstream::windows::{
    SessionWindowedSerde, SessionWindows, SlidingWindows, TimeWindowedSerde, TimeWindows, Windowed,
};
use crate::serdes::{DynSerde, Serde};
use crate::state::internals::bytes_store::StoreType;
use crate::state::key_value::KeyValueStoreBuilder;
use crate::state::store::StoreBuilder;
use crate::state::window::{SessionStoreBuilder, WindowStoreBuilder};

const AGGREGATE_NAME: &str = "COGROUPKSTREAM-AGGREGATE-";
const MERGE_NAME: &str = "COGROUPKSTREAM-MERGE-";

type Initializer<VA> = Arc<dyn Fn() -> VA + Send + Sync>;
type Merger<K, VA> = Arc<dyn Fn(&K, VA, VA) -> VA + Send + Sync>;
type Aggregator<K, V, VA> = Arc<dyn Fn(&K, V, VA) -> VA + Send + Sync>;
/// Folds a merged session's aggregate into the running one (`None`: none yet).
type SessionMerge<K, VA> = Arc<dyn Fn(&K, Option<VA>, VA) -> VA + Send + Sync>;

/// Which aggregation the cogroup ends in.
enum Kind<K, VA> {
    Plain,
    Time(TimeWindows),
    Sliding(SlidingWindows),
    Session(SessionWindows, Merger<K, VA>),
}

/// One cogrouped stream, its value type erased.
trait CogroupInput<K, VA> {
    /// The key serde the grouped stream knows, if any.
    fn key_serde(&self) -> Option<Arc<dyn Serde<K>>>;
    /// Repartitions the grouped stream if its keys may have changed (once per cogroup: later
    /// aggregations of the same cogroup reuse the topic), through
    /// `<grouped name or store_name>-repartition`.
    fn prepare(&self, store_name: &str);
    /// Adds the aggregating node (after a repartition, if the stream needs one) named
    /// `node_name`, connected to the store `store_name`; returns its node index.
    fn add_aggregate(
        &self,
        store_name: &str,
        node_name: String,
        init: &Initializer<VA>,
        kind: &Kind<K, VA>,
        key_serde: &Arc<dyn Serde<K>>,
    ) -> usize;
}

struct Input<K, V, VA> {
    grouped: KGroupedStream<K, V>,
    aggregator: Aggregator<K, V, VA>,
    /// The stream the aggregating nodes read, once [`CogroupInput::prepare`] made it.
    input: RefCell<Option<KStream<K, V>>>,
}

impl<K: Data, V: Data, VA: Data> CogroupInput<K, VA> for Input<K, V, VA> {
    fn key_serde(&self) -> Option<Arc<dyn Serde<K>>> {
        self.grouped.stream.key_serde.clone()
    }

    fn prepare(&self, store_name: &str) {
        let mut input = self.input.borrow_mut();
        if input.is_none() {
            *input = Some(self.grouped.aggregation_input(store_name));
        } else if self.grouped.stream.repartition_required {
            // Aggregating the cogroup again reuses its repartition topic, but Kafka generates
            // the names of the repartition's sink, filter and source anyway: later generated
            // names, of stores too, stay the same as Kafka's.
            let mut b = self.grouped.stream.builder.borrow_mut();
            for prefix in ["KSTREAM-SINK-", "KSTREAM-FILTER-", "KSTREAM-SOURCE-"] {
                b.new_name(prefix);
            }
        }
    }

    fn add_aggregate(
        &self,
        store_name: &str,
        node_name: String,
        init: &Initializer<VA>,
        kind: &Kind<K, VA>,
        key_serde: &Arc<dyn Serde<K>>,
    ) -> usize {
        let prepared = self.input.borrow().clone();
        let input = match prepared {
            Some(input) => input,
            None => self.grouped.aggregation_input(store_name),
        }
        .named(node_name);
        let self_init = init.clone();
        let (aggregator, init) = (self.aggregator.clone(), init.clone());
        let agg: AggFn<K, V, VA> =
            Arc::new(move |k, v, old: Option<VA>| aggregator(k, v, old.unwrap_or_else(|| init())));
        let sn = store_name.to_string();
        let stores = [store_name];
        let ks = key_serde.clone();
        let value_serde = input.builder.borrow().serde_for(None, &input.value_serde);
        match kind {
            Kind::Plain => input.add_node::<K, Change<VA>, _, _>(
                "",
                move || {
                    StreamAggregate::new(
                        sn.clone(),
                        agg.clone(),
                        Some(ks.clone()),
                        value_serde.clone(),
                    )
                },
                &stores,
            ),
            Kind::Time(w) => {
                let w = *w;
                input.add_node::<Windowed<K>, Change<VA>, _, _>(
                    "",
                    move || time_window_aggregate(sn.clone(), w, agg.clone(), ks.clone()),
                    &stores,
                )
            }
            Kind::Sliding(w) => {
                let w = *w;
                input.add_node::<Windowed<K>, Change<VA>, _, _>(
                    "",
                    move || sliding_window_aggregate(sn.clone(), w, agg.clone(), ks.clone()),
                    &stores,
                )
            }
            Kind::Session(w, merger) => {
                let (w, merger, init) = (*w, merger.clone(), self_init.clone());
                let merge: SessionMerge<K, VA> =
                    Arc::new(move |k, a: Option<VA>, b| merger(k, a.unwrap_or_else(|| init()), b));
                input.add_node::<Windowed<K>, Change<VA>, _, _>(
                    "",
                    move || {
                        session_window_aggregate(
                            sn.clone(),
                            w,
                            agg.clone(),
                            merge.clone(),
                            ks.clone(),
                        )
                    },
                    &stores,
                )
            }
        }
    }
}

/// Several grouped streams with the same key type, each folded into one shared aggregate by
/// its own aggregator (Kafka's `CogroupedKStream`, KIP-150). Start with
/// [`KGroupedStream::cogroup`], add streams with [`CogroupedKStream::cogroup`], finish with
/// [`CogroupedKStream::aggregate`] (or window first with [`CogroupedKStream::windowed_by`]).
///
/// The aggregate lives in one store; every update of any input is one update of the table.
/// Inputs whose keys may have changed (after `map`, `select_key`, ...) are repartitioned first,
/// each through its own topic.
///
/// ```
/// use streams_core::*;
///
/// // Per customer: clicks count 1, purchases add their amount.
/// let builder = StreamsBuilder::new();
/// let clicks = builder.stream("clicks", Consumed::with(StringSerde, StringSerde)).group_by_key();
/// let purchases = builder.stream("purchases", Consumed::with(StringSerde, I64Serde)).group_by_key();
/// clicks
///     .cogroup(|_customer, _page: String, score: i64| score + 1)
///     .cogroup(&purchases, |_customer, amount: i64, score: i64| score + amount)
///     .aggregate(|| 0, Materialized::with(StringSerde, I64Serde).with_caching_disabled())
///     .to_stream()
///     .to("scores", Produced::with(StringSerde, Nullable(I64Serde)));
///
/// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
/// driver.input_topic("clicks", StringSerde, StringSerde).pipe_input_at("ann".into(), "home".into(), 1)?;
/// driver.input_topic("purchases", StringSerde, I64Serde).pipe_input_at("ann".into(), 40, 2)?;
/// let scores = driver.output_topic("scores", StringSerde, Nullable(I64Serde));
/// assert_eq!(
///     scores.read_key_values_to_list()?,
///     vec![("ann".to_string(), Some(1)), ("ann".to_string(), Some(41))]
/// );
/// # Ok::<(), StreamsError>(())
/// ```
pub struct CogroupedKStream<K, VA> {
    builder: Rc<RefCell<BuilderInner>>,
    inputs: Vec<Rc<dyn CogroupInput<K, VA>>>,
    name: Option<String>,
}

impl<K, VA> Clone for CogroupedKStream<K, VA> {
    fn clone(&self) -> Self {
        CogroupedKStream {
            builder: self.builder.clone(),
            inputs: self.inputs.clone(),
            name: self.name.clone(),
        }
    }
}

impl<K: Data, V: Data> KGroupedStream<K, V> {
    /// Starts a cogroup with this grouped stream, folded into the aggregate by
    /// `aggregator(key, value, aggregate)`. Add more grouped streams (with other value types)
    /// with [`CogroupedKStream::cogroup`].
    pub fn cogroup<VA: Data>(
        &self,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> CogroupedKStream<K, VA> {
        CogroupedKStream {
            builder: self.stream.builder.clone(),
            inputs: Vec::new(),
            name: None,
        }
        .cogroup(self, aggregator)
    }
}

impl<K: Data, VA: Data> CogroupedKStream<K, VA> {
    /// Adds a grouped stream, folded into the same aggregate by `aggregator(key, value,
    /// aggregate)`.
    pub fn cogroup<V: Data>(
        mut self,
        grouped: &KGroupedStream<K, V>,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> Self {
        self.inputs.push(Rc::new(Input {
            grouped: KGroupedStream {
                stream: grouped.stream.clone(),
                name: grouped.name.clone(),
            },
            aggregator: Arc::new(aggregator),
            input: RefCell::new(None),
        }));
        self
    }

    /// Names the nodes of the aggregation (Kafka's `Named`): the aggregating nodes are
    /// `<name>-cogroup-agg-<i>` (in cogroup order, from 0) and the merging node
    /// `<name>-cogroup-merge`.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Aggregates per key, starting each key from `initializer()`. The store is named by
    /// `materialized` (else `COGROUPKSTREAM-AGGREGATE-STATE-STORE-<n>`).
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        let (table, _) = self.build(
            Kind::Plain,
            Arc::new(initializer),
            materialized,
            |ks| ks,
            None,
        );
        table
    }

    /// Aggregates per key *and window*: [`TimeWindows`] and [`SlidingWindows`] give a
    /// [`TimeWindowedCogroupedKStream`], [`SessionWindows`] a
    /// [`SessionWindowedCogroupedKStream`].
    pub fn windowed_by<W: CogroupWindowedBy<K, VA>>(&self, windows: W) -> W::Output {
        windows.windowed(self.clone())
    }

    fn store_name(&self, m: &Materialized<K, VA>) -> String {
        match &m.name {
            Some(n) => n.clone(),
            None => self
                .builder
                .borrow_mut()
                .new_name(&format!("{AGGREGATE_NAME}STATE-STORE-")),
        }
    }

    /// The store's serdes: those of `m`, else the grouped streams' key serde and the defaults.
    fn serdes(&self, m: &Materialized<K, VA>, store_name: &str) -> Option<Serdes<K, VA>> {
        let known = self.inputs.iter().find_map(|i| i.key_serde());
        let mut b = self.builder.borrow_mut();
        let ks = b.serde_for(m.key_serde.clone(), &known);
        let vs = b.serde_for(m.value_serde.clone(), &None);
        match (ks, vs) {
            (Some(ks), Some(vs)) => Some((ks, vs)),
            _ => {
                b.fail(StreamsError::InvalidTopology(format!(
                    "store `{store_name}` does not know how to serialize ({}, {}): pass serdes \
                     with Materialized::with(key_serde, value_serde)",
                    std::any::type_name::<K>(),
                    std::any::type_name::<VA>()
                )));
                None
            }
        }
    }

    /// Adds the store (made by `store` from the store name and serdes), one aggregating node per
    /// input and the merging node; returns the table (keys serialized by `out_keys(key serde)`)
    /// and the store name.
    fn build<KO: Data>(
        &self,
        kind: Kind<K, VA>,
        init: Initializer<VA>,
        m: Materialized<K, VA>,
        out_keys: impl FnOnce(Arc<dyn Serde<K>>) -> Arc<dyn Serde<KO>>,
        store: Option<StoreFn<K, VA>>,
    ) -> (KTable<KO, VA>, String) {
        let store_name = self.store_name(&m);
        let Some((ks, vs)) = self.serdes(&m, &store_name) else {
            return (self.invalid(), store_name);
        };
        let added = match store {
            Some(make) => make(&store_name, &m, ks.clone(), vs.clone()),
            None => {
                let b = KeyValueStoreBuilder::new(&store_name, ks.clone(), vs.clone())
                    .store_type(m.store_type);
                let b = if m.logging {
                    b
                } else {
                    b.with_logging_disabled()
                };
                let b = if m.caching {
                    b.with_caching_enabled()
                } else {
                    b
                };
                self.add_store(b)
            }
        };
        if !added {
            return (self.invalid(), store_name);
        }
        for input in &self.inputs {
            input.prepare(&store_name);
        }
        let mut parents = Vec::with_capacity(self.inputs.len());
        for (i, input) in self.inputs.iter().enumerate() {
            // As Kafka, a name is generated (and the counter advanced) even when one is given.
            let generated = self.builder.borrow_mut().new_name(AGGREGATE_NAME);
            let node_name = match &self.name {
                Some(n) => format!("{n}-cogroup-agg-{i}"),
                None => generated,
            };
            parents.push(input.add_aggregate(&store_name, node_name, &init, &kind, &ks));
        }
        let mut b = self.builder.borrow_mut();
        let generated = b.new_name(MERGE_NAME);
        let merge_name = match &self.name {
            Some(n) => format!("{n}-cogroup-merge"),
            None => generated,
        };
        let node = if parents.contains(&INVALID) {
            INVALID
        } else {
            b.try_add(|t| {
                t.add_processor_node::<KO, Change<VA>, KO, Change<VA>, PassThrough, _>(
                    &merge_name,
                    || PassThrough,
                    parents,
                )
            })
        };
        drop(b);
        let key_serde = out_keys(ks);
        let table = KTable {
            stream: KStream {
                builder: self.builder.clone(),
                node,
                key_serde: Some(key_serde.clone()),
                value_serde: None,
                repartition_required: false,
                next_name: None,
            },
            store_name: Some(store_name.clone()),
            value_serde: Some(vs),
            key_serde: Some(key_serde),
            close_after_ms: None,
        };
        (table, store_name)
    }

    fn add_store(&self, store: impl StoreBuilder) -> bool {
        let mut b = self.builder.borrow_mut();
        match b.topology.add_state_store(store, &[]) {
            Ok(_) => true,
            Err(e) => {
                b.fail(e);
                false
            }
        }
    }

    fn invalid<KO: Data>(&self) -> KTable<KO, VA> {
        KTable {
            stream: KStream {
                builder: self.builder.clone(),
                node: INVALID,
                key_serde: None,
                value_serde: None,
                repartition_required: false,
                next_name: None,
            },
            store_name: None,
            value_serde: None,
            key_serde: None,
            close_after_ms: None,
        }
    }

    /// The windowed aggregations: checks the retention, adds the window or session store.
    fn build_windowed(
        &self,
        kind: Kind<K, VA>,
        init: Initializer<VA>,
        m: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        let (size_ms, min_retention, close_after, session) = match &kind {
            Kind::Time(w) => (w.size_ms(), w.retention_ms(), w.grace_ms(), false),
            Kind::Sliding(w) => (
                w.time_difference_ms(),
                w.retention_ms(),
                w.grace_ms(),
                false,
            ),
            Kind::Session(w, _) => (
                0,
                w.retention_ms(),
                w.inactivity_gap_ms().saturating_add(w.grace_ms()),
                true,
            ),
            Kind::Plain => return self.invalid(),
        };
        let this = self.clone();
        let make: StoreFn<K, VA> = Box::new(move |name, m, ks, vs| {
            let retention = m.retention_ms.unwrap_or(min_retention);
            if retention < min_retention {
                this.builder
                    .borrow_mut()
                    .fail(StreamsError::InvalidWindow(format!(
                        "store `{name}`: retention {retention} ms is shorter than the window's \
                         minimum retention ({min_retention} ms: size or gap plus grace); set \
                         Materialized::with_retention to at least that"
                    )));
                return false;
            }
            let (store_type, logging, caching) = (m.store_type, m.logging, m.caching);
            if session {
                match SessionStoreBuilder::new(name, retention, ks, vs) {
                    Ok(b) => this.add_store(configure_session(b, store_type, logging, caching)),
                    Err(e) => {
                        this.builder.borrow_mut().fail(e);
                        false
                    }
                }
            } else {
                match WindowStoreBuilder::new(name, retention, size_ms, ks, vs) {
                    Ok(b) => this.add_store(configure_window(b, store_type, logging, caching)),
                    Err(e) => {
                        this.builder.borrow_mut().fail(e);
                        false
                    }
                }
            }
        });
        let (mut table, _) = self.build(
            kind,
            init,
            m,
            move |ks| -> Arc<dyn Serde<Windowed<K>>> {
                if session {
                    Arc::new(SessionWindowedSerde::new(DynSerde(ks)))
                } else {
                    Arc::new(TimeWindowedSerde::new(DynSerde(ks), size_ms))
                }
            },
            Some(make),
        );
        if table.stream.node != INVALID {
            table.close_after_ms = Some(close_after);
        }
        table
    }
}

type Serdes<K, VA> = (Arc<dyn Serde<K>>, Arc<dyn Serde<VA>>);

/// Adds a windowed store: `(store name, materialized, key serde, value serde)`; false when it
/// failed (the error is recorded).
type StoreFn<K, VA> =
    Box<dyn FnOnce(&str, &Materialized<K, VA>, Arc<dyn Serde<K>>, Arc<dyn Serde<VA>>) -> bool>;

fn configure_window<K: Data, V: Data>(
    b: WindowStoreBuilder<K, V>,
    store_type: StoreType,
    logging: bool,
    caching: bool,
) -> WindowStoreBuilder<K, V> {
    let b = b.store_type(store_type);
    let b = if logging {
        b
    } else {
        b.with_logging_disabled()
    };
    if caching {
        b.with_caching_enabled()
    } else {
        b
    }
}

fn configure_session<K: Data, V: Data>(
    b: SessionStoreBuilder<K, V>,
    store_type: StoreType,
    logging: bool,
    caching: bool,
) -> SessionStoreBuilder<K, V> {
    let b = b.store_type(store_type);
    let b = if logging {
        b
    } else {
        b.with_logging_disabled()
    };
    if caching {
        b.with_caching_enabled()
    } else {
        b
    }
}

/// Window definitions accepted by [`CogroupedKStream::windowed_by`]: [`TimeWindows`] and
/// [`SlidingWindows`] give a [`TimeWindowedCogroupedKStream`], [`SessionWindows`] a
/// [`SessionWindowedCogroupedKStream`].
pub trait CogroupWindowedBy<K, VA>: sealed::Sealed {
    /// The windowed cogrouped stream.
    type Output;
    #[doc(hidden)]
    fn windowed(self, cogrouped: CogroupedKStream<K, VA>) -> Self::Output;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::TimeWindows {}
    impl Sealed for super::SlidingWindows {}
    impl Sealed for super::SessionWindows {}
}

#[derive(Clone, Copy)]
enum TimeKind {
    Fixed(TimeWindows),
    Sliding(SlidingWindows),
}

impl<K: Data, VA: Data> CogroupWindowedBy<K, VA> for TimeWindows {
    type Output = TimeWindowedCogroupedKStream<K, VA>;
    fn windowed(self, cogrouped: CogroupedKStream<K, VA>) -> Self::Output {
        TimeWindowedCogroupedKStream {
            cogrouped,
            windows: TimeKind::Fixed(self),
        }
    }
}

impl<K: Data, VA: Data> CogroupWindowedBy<K, VA> for SlidingWindows {
    type Output = TimeWindowedCogroupedKStream<K, VA>;
    fn windowed(self, cogrouped: CogroupedKStream<K, VA>) -> Self::Output {
        TimeWindowedCogroupedKStream {
            cogrouped,
            windows: TimeKind::Sliding(self),
        }
    }
}

impl<K: Data, VA: Data> CogroupWindowedBy<K, VA> for SessionWindows {
    type Output = SessionWindowedCogroupedKStream<K, VA>;
    fn windowed(self, cogrouped: CogroupedKStream<K, VA>) -> Self::Output {
        SessionWindowedCogroupedKStream {
            cogrouped,
            windows: self,
        }
    }
}

/// A cogrouped stream with tumbling, hopping or sliding windows (Kafka's
/// `TimeWindowedCogroupedKStream`): one aggregate per key and window, in one window store.
///
/// ```
/// use std::time::Duration;
/// use streams_core::*;
///
/// let builder = StreamsBuilder::new();
/// let a = builder.stream("a", Consumed::with(StringSerde, StringSerde)).group_by_key();
/// let b = builder.stream("b", Consumed::with(StringSerde, StringSerde)).group_by_key();
/// let windows = TimeWindows::of_size_with_no_grace(Duration::from_millis(500))?;
/// a.cogroup(|_, v: String, acc: String| acc + &v)
///     .cogroup(&b, |_, v: String, acc: String| acc + &v.to_uppercase())
///     .windowed_by(windows)
///     .aggregate(String::new, Materialized::new().with_caching_disabled())
///     .to_stream()
///     .map(|k, v| (k.key, v.unwrap_or_default()))
///     .to("out", Produced::with(StringSerde, StringSerde));
///
/// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
/// driver.input_topic("a", StringSerde, StringSerde).pipe_input_at("k".into(), "x".into(), 0)?;
/// driver.input_topic("b", StringSerde, StringSerde).pipe_input_at("k".into(), "y".into(), 1)?;
/// let out = driver.output_topic("out", StringSerde, StringSerde);
/// assert_eq!(out.read_values_to_list()?, vec!["x".to_string(), "xY".to_string()]);
/// # Ok::<(), StreamsError>(())
/// ```
pub struct TimeWindowedCogroupedKStream<K, VA> {
    cogrouped: CogroupedKStream<K, VA>,
    windows: TimeKind,
}

impl<K: Data, VA: Data> TimeWindowedCogroupedKStream<K, VA> {
    /// Names the nodes of the aggregation, as [`CogroupedKStream::named`].
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.cogrouped.name = Some(name.into());
        self
    }

    /// Aggregates per key and window, starting each window from `initializer()`; emits every
    /// update of a window.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        let kind = match self.windows {
            TimeKind::Fixed(w) => Kind::Time(w),
            TimeKind::Sliding(w) => Kind::Sliding(w),
        };
        self.cogrouped
            .build_windowed(kind, Arc::new(initializer), materialized)
    }
}

/// A cogrouped stream with session windows (Kafka's `SessionWindowedCogroupedKStream`).
///
/// ```
/// use std::time::Duration;
/// use streams_core::*;
///
/// let builder = StreamsBuilder::new();
/// let a = builder.stream("a", Consumed::with(StringSerde, I64Serde)).group_by_key();
/// let b = builder.stream("b", Consumed::with(StringSerde, I64Serde)).group_by_key();
/// a.cogroup(|_, v: i64, acc: i64| acc + v)
///     .cogroup(&b, |_, v: i64, acc: i64| acc - v)
///     .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_millis(100))?)
///     .aggregate(|| 0, |_, x, y| x + y, Materialized::with(StringSerde, I64Serde));
/// # builder.build()?;
/// # Ok::<(), StreamsError>(())
/// ```
pub struct SessionWindowedCogroupedKStream<K, VA> {
    cogrouped: CogroupedKStream<K, VA>,
    windows: SessionWindows,
}

impl<K: Data, VA: Data> SessionWindowedCogroupedKStream<K, VA> {
    /// Names the nodes of the aggregation, as [`CogroupedKStream::named`].
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.cogrouped.name = Some(name.into());
        self
    }

    /// Aggregates per key and session, starting each session from `initializer()`; when a
    /// record bridges sessions, `merger(key, aggregate1, aggregate2)` combines them.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        merger: impl Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        self.cogrouped.build_windowed(
            Kind::Session(self.windows, Arc::new(merger)),
            Arc::new(initializer),
            materialized,
        )
    }
}
