//! The DSL: [`StreamsBuilder`] and [`KStream`].
//!
//! Operations are typed end to end; serdes are needed only where records cross a topic (sources,
//! sinks, repartitioning). Inside a sub-topology records pass between operations as Rust values.

mod cogroup;
mod fk_join;
mod global;
mod internals;
mod join;
mod join_store;
mod join_windows;
mod ktable;
mod options;
mod print;
mod suppress;
mod table_join;
mod versioned;
mod windowed;
pub mod windows;

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::processor::internals::partitioner::StreamPartitioner;
use crate::processor::internals::plan::{NullValues, TopicName, TypeSig};
use crate::processor::internals::sink::{SinkTopic, TopicNameExtractor};
use crate::processor::{FixedKeyAdapter, FixedKeyProcessor, Processor, Topology};
use crate::record::RecordMetadata;
use crate::serdes::{builtin_default, Serde};
use crate::serdes::{DynSerde, Nullable};
use crate::state::StoreBuilder;
use crate::timestamp::{RecordTimestamp, TimestampExtractor};

pub use cogroup::{
    CogroupWindowedBy, CogroupedKStream, SessionWindowedCogroupedKStream,
    TimeWindowedCogroupedKStream,
};
pub use global::GlobalKTable;
use internals::{
    Branch, Filter, FlatMap, FlatMapValues, Map, MapValues, PassThrough, Peek, Predicate, SelectKey,
};
pub use join_windows::{JoinWindows, Joined, StreamJoined};
pub use ktable::{Change, KGroupedStream, KGroupedTable, KTable, Materialized};
pub use options::{Branched, Consumed, Produced, Repartitioned};
pub use print::{DisplayKeyValue, PrintMapper, Printed};
pub use suppress::{BufferConfig, Suppressed};
pub use windowed::{EmitStrategy, SessionWindowedKStream, TimeWindowedKStream, WindowedBy};

/// Types that can flow through a stream: cloned only where a record fans out to several
/// children.
pub trait Data: Clone + 'static {}
impl<T: Clone + 'static> Data for T {}

const INVALID: usize = usize::MAX;

struct BuilderInner {
    topology: Topology,
    index: usize,
    defaults: HashMap<TypeId, Box<dyn Any>>,
    /// Repartition topic (without the application id) -> (the node written into it, the
    /// source node reading it back): a named grouping reuses its repartition.
    repartitions: HashMap<String, (usize, usize)>,
    /// Source nodes of `stream` / `stream_from` with their topics: streaming the same topics
    /// again shares the node.
    shared_sources: Vec<(Vec<TopicName>, usize)>,
    /// Tables without a store of their own (Kafka's not-materialized `KTable`s), by node: the
    /// "send old values" flags of the filters up to the nearest store, which a downstream
    /// operation that needs old values sets. A table node not listed has a store.
    unmaterialized: HashMap<usize, Vec<Arc<AtomicBool>>>,
}

impl BuilderInner {
    /// The serde to use for `T`: the one given, else the one the stream knows, else a default
    /// registered with [`StreamsBuilder::default_serde`], else the built-in one for `T`.
    fn serde_for<T: 'static>(
        &self,
        given: Option<Arc<dyn Serde<T>>>,
        known: &Option<Arc<dyn Serde<T>>>,
    ) -> Option<Arc<dyn Serde<T>>> {
        given
            .or_else(|| known.clone())
            .or_else(|| {
                self.defaults
                    .get(&TypeId::of::<T>())
                    .and_then(|d| d.downcast_ref::<Arc<dyn Serde<T>>>())
                    .cloned()
            })
            .or_else(builtin_default::<T>)
    }

    fn new_name(&mut self, prefix: &str) -> String {
        let name = format!("{prefix}{:010}", self.index);
        self.index += 1;
        name
    }
    fn fail(&mut self, err: StreamsError) {
        self.topology.deferred_error.get_or_insert(err);
    }
    /// Adds a sink writing what `parents` forward to the internal topic
    /// `<application.id>-<hop.topic>` and a source reading it back (the two halves of a
    /// repartition); returns the source node, or `INVALID` (the error is recorded).
    fn through_internal_topic<K: Data, V: Data>(
        &mut self,
        parents: Vec<usize>,
        hop: InternalHop<'_>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
        partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    ) -> usize {
        if parents.contains(&INVALID) {
            return INVALID;
        }
        let topic = TopicName::Internal(hop.topic.to_string());
        let sink = self.try_add(|t| {
            t.add_sink_node(
                &hop.sink_name,
                SinkTopic::Named(topic.clone()),
                key_serde.clone(),
                value_serde.clone(),
                partitioner,
                parents,
            )
        });
        if sink == INVALID {
            return INVALID;
        }
        self.topology.add_internal_topic(hop.topic, hop.partitions);
        let consumed = Consumed {
            key_serde,
            value_serde,
            extractor: Arc::new(RecordTimestamp),
            policy: None,
            name: None,
        };
        self.try_add(|t| t.add_source_node(&hop.source_name, consumed, vec![topic]))
    }
    /// Adds a node with `add`, recording the error (reported by `build`) on failure.
    fn try_add(&mut self, add: impl FnOnce(&mut Topology) -> Result<usize>) -> usize {
        match add(&mut self.topology) {
            Ok(i) => i,
            Err(e) => {
                self.fail(e);
                INVALID
            }
        }
    }
}

/// An internal topic between two sub-topologies, with its sink and source node names.
struct InternalHop<'a> {
    /// The topic without the `<application.id>-` prefix.
    topic: &'a str,
    partitions: Option<i32>,
    sink_name: String,
    source_name: String,
}

/// Builds a [`Topology`] with the DSL.
///
/// ```
/// use streams_core::*;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream("rides", Consumed::with(StringSerde, I64Serde))
///     .filter(|_location, distance| *distance > 2)
///     .map_values(|distance| distance * 1000)
///     .to("long-rides-m", Produced::new());
/// let topology = builder.build()?;
///
/// let driver = TopologyTestDriver::new(topology, StreamsConfig::new("doc"))?;
/// let input = driver.input_topic("rides", StringSerde, I64Serde);
/// let output = driver.output_topic("long-rides-m", StringSerde, I64Serde);
/// input.pipe_key_values([("75".to_string(), 1), ("238".to_string(), 5)])?;
/// assert_eq!(output.read_key_values_to_list()?, vec![("238".to_string(), 5000)]);
/// # Ok::<(), StreamsError>(())
/// ```
pub struct StreamsBuilder {
    inner: Rc<RefCell<BuilderInner>>,
}

impl Default for StreamsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        StreamsBuilder {
            inner: Rc::new(RefCell::new(BuilderInner {
                topology: Topology::new(),
                index: 0,
                defaults: HashMap::new(),
                repartitions: HashMap::new(),
                shared_sources: Vec::new(),
                unmaterialized: HashMap::new(),
            })),
        }
    }

    /// Registers the serde used for `T` wherever a stream's serde is unknown (after `map`,
    /// `map_values`, `select_key`, ...) and none is given: Kafka's `default.key.serde` and
    /// `default.value.serde`, per type. Built-in types (`String`, integers, `f64`, bytes, `()`)
    /// have defaults already.
    ///
    /// ```
    /// # use streams_core::*;
    /// #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// struct Fare { usd: f64 }
    /// let builder = StreamsBuilder::new();
    /// builder.default_serde(Json::<Fare>::new());
    /// builder.stream("fares", Consumed::with(StringSerde, F64Serde))
    ///     .map_values(|usd| Fare { usd })
    ///     .to("fares-json", Produced::new()); // String + Json<Fare> found by type
    /// builder.build()?;
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn default_serde<T: 'static>(&self, serde: impl Serde<T>) -> &Self {
        let serde: Arc<dyn Serde<T>> = Arc::new(serde);
        self.inner
            .borrow_mut()
            .defaults
            .insert(TypeId::of::<T>(), Box::new(serde));
        self
    }

    /// Adds a state store that [`KStream::process`] can name.
    pub fn add_state_store(&self, store: impl StoreBuilder) -> &Self {
        let mut b = self.inner.borrow_mut();
        if let Err(e) = b.topology.add_state_store(store, &[]) {
            b.fail(e);
        }
        self
    }

    /// A stream of the records of `topic`.
    pub fn stream<K: Data, V: Data>(&self, topic: &str, consumed: Consumed<K, V>) -> KStream<K, V> {
        self.stream_from(&[topic], consumed)
    }

    /// One stream of the records of several topics (read as one source; records are taken in
    /// timestamp order across the topics' partitions of a task).
    ///
    /// As in Kafka Streams, the same topics may be streamed more than once (with the same key
    /// and value types): the streams share one source node, which reads the records with the
    /// serdes of the first. Overlapping but different topic sets are an error.
    pub fn stream_from<K: Data, V: Data>(
        &self,
        topics: &[&str],
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        let topics = topics
            .iter()
            .map(|t| TopicName::User((*t).to_string()))
            .collect();
        self.source(topics, consumed, true)
    }

    /// One stream of every topic whose whole name matches the regular expression `pattern`
    /// (Kafka Streams' `stream(Pattern)`): the Kafka runtime subscribes to the topics that match
    /// when it starts (a topic created later is read from the next start on), the
    /// `TopologyTestDriver` feeds the stream whatever is piped into a matching topic. A pattern
    /// that is not a valid regular expression, or overlaps the topic of another source, fails
    /// [`StreamsBuilder::build`].
    ///
    /// ```
    /// use streams_core::{Consumed, Produced, StreamsBuilder, StreamsConfig, StringSerde, TopologyTestDriver};
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream_pattern("rides-\\d{4}", Consumed::with(StringSerde, StringSerde))
    ///     .to("all-rides", Produced::with(StringSerde, StringSerde));
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("rides"))?;
    /// driver.input_topic("rides-2025", StringSerde, StringSerde).pipe_input("k".into(), "a".into())?;
    /// let out = driver.output_topic("all-rides", StringSerde, StringSerde);
    /// assert_eq!(out.read_values_to_list()?, ["a"]);
    /// # Ok::<(), streams_core::StreamsError>(())
    /// ```
    pub fn stream_pattern<K: Data, V: Data>(
        &self,
        pattern: &str,
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        self.source(
            vec![TopicName::Pattern(pattern.to_string())],
            consumed,
            true,
        )
    }

    /// A source node for `topics`, or (`shared`, for `stream`) the existing one of an earlier
    /// `stream` of the same topics.
    fn source<K: Data, V: Data>(
        &self,
        topics: Vec<TopicName>,
        consumed: Consumed<K, V>,
        shared: bool,
    ) -> KStream<K, V> {
        let mut b = self.inner.borrow_mut();
        // Kafka uses up a number for a named source too.
        let generated = b.new_name("KSTREAM-SOURCE-");
        let name = consumed.name.clone().unwrap_or(generated);
        let key_serde = consumed.key_serde.clone();
        let value_serde = consumed.value_serde.clone();
        let existing = if shared {
            b.shared_sources
                .iter()
                .find(|(ts, _)| ts.len() == topics.len() && topics.iter().all(|t| ts.contains(t)))
                .map(|(_, node)| *node)
        } else {
            None
        };
        let node = match existing {
            Some(node) if b.topology.nodes[node].output == Some(TypeSig::of::<K, V>()) => node,
            Some(node) => {
                let first = b.topology.nodes[node].name.clone();
                b.fail(StreamsError::InvalidTopology(format!(
                    "source `{name}` reads the topics of source `{first}` with other key or \
                     value types; stream a topic with one pair of types and map the stream"
                )));
                INVALID
            }
            None => {
                let node = b.try_add(|t| t.add_source_node(&name, consumed, topics.clone()));
                if shared && node != INVALID {
                    b.shared_sources.push((topics, node));
                }
                node
            }
        };
        drop(b);
        KStream {
            builder: self.inner.clone(),
            node,
            key_serde: Some(key_serde),
            value_serde: Some(value_serde),
            repartition_required: false,
            next_name: None,
        }
    }

    /// A table of the latest value per key of `topic`; null values (tombstones) delete.
    pub fn table<K: Data, V: Data>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        let mut m = materialized;
        if m.key_serde.is_none() {
            m.key_serde = Some(consumed.key_serde.clone());
        }
        if m.value_serde.is_none() {
            m.value_serde = Some(consumed.value_serde.clone());
        }
        // Kafka names an unnamed source table's store `<topic>-STATE-STORE-<n>`, numbered
        // before the source node (so its changelog is `<app>-<topic>-STATE-STORE-<n>-changelog`).
        let generated_store = m.name.is_none().then(|| {
            self.inner
                .borrow_mut()
                .new_name(&format!("{topic}-STATE-STORE-"))
        });
        let nullable: Consumed<K, Option<V>> = Consumed {
            key_serde: consumed.key_serde,
            value_serde: Arc::new(Nullable(DynSerde(consumed.value_serde))),
            extractor: Arc::new(OptionValues(consumed.extractor)),
            policy: consumed.policy,
            name: consumed.name,
        };
        let source = self.source(vec![TopicName::User(topic.to_string())], nullable, false);
        ktable::table_from_source(&source, m, generated_store)
    }

    /// Checks the topology and returns it. Errors met while building (a name used twice, a sink
    /// without serdes, ...) are reported here.
    pub fn build(self) -> Result<Topology> {
        let topology = std::mem::take(&mut self.inner.borrow_mut().topology);
        topology.plan()?;
        Ok(topology)
    }
}

/// Runs a value's extractor on table records; deletions keep the record timestamp.
struct OptionValues<K, V>(Arc<dyn TimestampExtractor<K, V>>);

impl<K: 'static, V: 'static> TimestampExtractor<K, Option<V>> for OptionValues<K, V> {
    fn extract(
        &self,
        key: &K,
        value: &Option<V>,
        record_timestamp: i64,
        partition_time: i64,
    ) -> i64 {
        match value {
            Some(v) => self.0.extract(key, v, record_timestamp, partition_time),
            None => record_timestamp,
        }
    }
}

/// A stream of records: every record is an independent event.
///
/// Operations take `&self`, so one stream can feed several downstream operations.
pub struct KStream<K, V> {
    builder: Rc<RefCell<BuilderInner>>,
    node: usize,
    key_serde: Option<Arc<dyn Serde<K>>>,
    value_serde: Option<Arc<dyn Serde<V>>>,
    repartition_required: bool,
    next_name: Option<String>,
}

impl<K, V> Clone for KStream<K, V> {
    fn clone(&self) -> Self {
        KStream {
            builder: self.builder.clone(),
            node: self.node,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            repartition_required: self.repartition_required,
            next_name: self.next_name.clone(),
        }
    }
}

impl<K: Data, V: Data> KStream<K, V> {
    /// Names the node the next operation on the returned stream creates (Kafka's `Named`).
    ///
    /// ```
    /// # use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// builder.stream("in", Consumed::with(StringSerde, StringSerde))
    ///     .named("drop-empty").filter(|_, v| !v.is_empty())
    ///     .to("out", Produced::new());
    /// let t = builder.build()?;
    /// assert!(t.describe().to_string().contains("Processor: drop-empty"));
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn named(&self, name: impl Into<String>) -> Self {
        let mut s = self.clone();
        s.next_name = Some(name.into());
        s
    }

    /// True when an upstream operation may have changed keys, so a stateful operation must
    /// repartition first.
    pub fn repartition_required(&self) -> bool {
        self.repartition_required
    }

    fn node_name(&self, b: &mut BuilderInner, prefix: &str) -> String {
        match &self.next_name {
            Some(n) => n.clone(),
            None => b.new_name(prefix),
        }
    }

    /// Kafka Streams uses up a number for an operation named with `Named` too, so that naming
    /// one operation does not renumber the others: the public stateless operations call this
    /// before adding their node.
    fn use_up_number_if_named(&self, prefix: &str) {
        if self.next_name.is_some() {
            self.builder.borrow_mut().new_name(prefix);
        }
    }

    fn derive<K2, V2>(
        &self,
        node: usize,
        key_serde: Option<Arc<dyn Serde<K2>>>,
        value_serde: Option<Arc<dyn Serde<V2>>>,
        repartition_required: bool,
    ) -> KStream<K2, V2> {
        KStream {
            builder: self.builder.clone(),
            node,
            key_serde,
            value_serde,
            repartition_required,
            next_name: None,
        }
    }

    fn add<K2: Data, V2: Data, P, F>(
        &self,
        prefix: &str,
        supplier: F,
        key_serde: Option<Arc<dyn Serde<K2>>>,
        value_serde: Option<Arc<dyn Serde<V2>>>,
        repartition_required: bool,
    ) -> KStream<K2, V2>
    where
        P: Processor<K, V, K2, V2>,
        F: Fn() -> P + Send + Sync + 'static,
    {
        let node = self.add_node::<K2, V2, P, F>(prefix, supplier, &[]);
        self.derive(node, key_serde, value_serde, repartition_required)
    }

    fn add_node<K2: Data, V2: Data, P, F>(
        &self,
        prefix: &str,
        supplier: F,
        stores: &[&str],
    ) -> usize
    where
        P: Processor<K, V, K2, V2>,
        F: Fn() -> P + Send + Sync + 'static,
    {
        let mut b = self.builder.borrow_mut();
        let name = self.node_name(&mut b, prefix);
        if self.node == INVALID {
            return INVALID;
        }
        let parent = self.node;
        let node = b
            .try_add(|t| t.add_processor_node::<K, V, K2, V2, P, F>(&name, supplier, vec![parent]));
        if node != INVALID && !stores.is_empty() {
            if let Err(e) = b.topology.connect_processor_and_state_stores(&name, stores) {
                b.fail(e);
            }
        }
        node
    }

    /// Keeps records for which `predicate` is true.
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.use_up_number_if_named("KSTREAM-FILTER-");
        let pred = Arc::new(predicate);
        self.add(
            "KSTREAM-FILTER-",
            move || Filter {
                pred: pred.clone(),
                keep: true,
            },
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// Drops records for which `predicate` is true.
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.use_up_number_if_named("KSTREAM-FILTER-");
        let pred = Arc::new(predicate);
        self.add(
            "KSTREAM-FILTER-",
            move || Filter {
                pred: pred.clone(),
                keep: false,
            },
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// Replaces key and value. Marks the stream for repartitioning before stateful operations.
    pub fn map<K2: Data, V2: Data>(
        &self,
        mapper: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.use_up_number_if_named("KSTREAM-MAP-");
        let f = Arc::new(mapper);
        self.add("KSTREAM-MAP-", move || Map(f.clone()), None, None, true)
    }

    /// Replaces the value; the key (and partitioning) stays.
    pub fn map_values<V2: Data>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.map_values_with_key(move |_, v| mapper(v))
    }

    /// Replaces the value, reading the key.
    pub fn map_values_with_key<V2: Data>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.use_up_number_if_named("KSTREAM-MAPVALUES-");
        let f = Arc::new(mapper);
        self.add(
            "KSTREAM-MAPVALUES-",
            move || MapValues(f.clone()),
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }

    /// Replaces each record by zero or more records. Marks the stream for repartitioning.
    pub fn flat_map<K2: Data, V2: Data, I>(
        &self,
        mapper: impl Fn(K, V) -> I + Send + Sync + 'static,
    ) -> KStream<K2, V2>
    where
        I: IntoIterator<Item = (K2, V2)> + 'static,
    {
        self.use_up_number_if_named("KSTREAM-FLATMAP-");
        let f = Arc::new(mapper);
        self.add(
            "KSTREAM-FLATMAP-",
            move || FlatMap(f.clone()),
            None,
            None,
            true,
        )
    }

    /// Replaces each value by zero or more values with the same key.
    pub fn flat_map_values<V2: Data, I>(
        &self,
        mapper: impl Fn(V) -> I + Send + Sync + 'static,
    ) -> KStream<K, V2>
    where
        I: IntoIterator<Item = V2> + 'static,
    {
        self.use_up_number_if_named("KSTREAM-FLATMAPVALUES-");
        let f = Arc::new(move |_: &K, v: V| mapper(v));
        self.add(
            "KSTREAM-FLATMAPVALUES-",
            move || FlatMapValues(f.clone()),
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }

    /// Sets a new key computed from the record. Marks the stream for repartitioning.
    pub fn select_key<K2: Data>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
    ) -> KStream<K2, V> {
        self.use_up_number_if_named("KSTREAM-KEY-SELECT-");
        let f = Arc::new(selector);
        self.add(
            "KSTREAM-KEY-SELECT-",
            move || SelectKey(f.clone()),
            None,
            self.value_serde.clone(),
            true,
        )
    }

    /// Calls `action` for each record and passes the record on.
    pub fn peek(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) -> Self {
        self.use_up_number_if_named("KSTREAM-PEEK-");
        let f = Arc::new(action);
        self.add(
            "KSTREAM-PEEK-",
            move || Peek(f.clone()),
            self.key_serde.clone(),
            self.value_serde.clone(),
            self.repartition_required,
        )
    }

    /// Calls `action` for each record (a terminal operation).
    pub fn foreach(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) {
        self.use_up_number_if_named("KSTREAM-FOREACH-");
        let f = Arc::new(action);
        self.add_node::<K, V, _, _>("KSTREAM-FOREACH-", move || Peek(f.clone()), &[]);
    }

    /// One stream of the records of both. Within a task, records are taken in timestamp order.
    /// As in Kafka Streams, the result does not keep the inputs' serdes: a later sink or
    /// repartition uses the serdes it is given, else the defaults for the types.
    pub fn merge(&self, other: &KStream<K, V>) -> Self {
        let mut b = self.builder.borrow_mut();
        let name = self.node_name(&mut b, "KSTREAM-MERGE-");
        let node = if self.node == INVALID || other.node == INVALID {
            INVALID
        } else {
            let parents = vec![self.node, other.node];
            let node = b.try_add(|t| {
                t.add_processor_node::<K, V, K, V, PassThrough, _>(&name, || PassThrough, parents)
            });
            b.topology.set_null_values(node, NullValues::PassesOn);
            node
        };
        drop(b);
        // As in Kafka Streams, the merged stream knows no serdes: a sink after it uses the
        // ones given, else the defaults.
        self.derive(
            node,
            None,
            None,
            self.repartition_required || other.repartition_required,
        )
    }

    /// Splits the stream into named branches by predicates (Kafka's `split()`); the branch
    /// names start with the name set by [`KStream::named`], if any.
    ///
    /// ```
    /// # use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// let branches = builder.stream("rides", Consumed::with(StringSerde, I64Serde))
    ///     .named("fare-").split()
    ///     .branch(|_, fare| *fare >= 50, Branched::named("high"))
    ///     .default_branch(Branched::named("rest"));
    /// branches["fare-high"].to("high-fares", Produced::new());
    /// branches["fare-rest"].to("other-fares", Produced::new());
    /// # builder.build()?;
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn split(&self) -> BranchedKStream<K, V> {
        let generated = self.builder.borrow_mut().new_name("KSTREAM-BRANCH-");
        let prefix = self.next_name.clone().unwrap_or(generated);
        BranchedKStream {
            stream: KStream {
                next_name: None,
                ..self.clone()
            },
            prefix,
            branches: Vec::new(),
            finished: false,
        }
    }

    /// Writes the stream to `topic`.
    pub fn to(&self, topic: &str, produced: Produced<K, V>) {
        self.sink(
            SinkTopic::Named(TopicName::User(topic.to_string())),
            produced,
        );
    }

    /// Writes each record to the topic `extractor` names for it.
    pub fn to_dynamic(
        &self,
        extractor: impl Fn(&K, &V, Option<&RecordMetadata>) -> String + Send + Sync + 'static,
        produced: Produced<K, V>,
    ) {
        let f: TopicNameExtractor<K, V> = Arc::new(extractor);
        self.sink(SinkTopic::Dynamic(f), produced);
    }

    fn sink(&self, topic: SinkTopic<K, V>, produced: Produced<K, V>) {
        let mut b = self.builder.borrow_mut();
        // Kafka uses up a number for a named sink too.
        let generated = b.new_name("KSTREAM-SINK-");
        let name = match (&produced.name, &self.next_name) {
            (Some(n), _) | (None, Some(n)) => n.clone(),
            _ => generated,
        };
        let (Some(k), Some(v)) = (
            b.serde_for(produced.key_serde, &self.key_serde),
            b.serde_for(produced.value_serde, &self.value_serde),
        ) else {
            b.fail(StreamsError::InvalidTopology(format!(
                "sink `{name}` does not know how to serialize ({}, {}): pass serdes with \
                 Produced::with(key_serde, value_serde) or register a default with \
                 StreamsBuilder::default_serde",
                std::any::type_name::<K>(),
                std::any::type_name::<V>()
            )));
            return;
        };
        if self.node == INVALID {
            return;
        }
        let parent = self.node;
        b.try_add(|t| t.add_sink_node(&name, topic, k, v, produced.partitioner, vec![parent]));
    }

    /// Writes the stream through an internal topic `<application.id>-<name>-repartition` and
    /// reads it back, so records are partitioned by their current key. Downstream operations
    /// run in a new sub-topology, in the task that owns the key's partition.
    ///
    /// Nodes are named as Kafka Streams names them: unnamed, the topic is
    /// `KSTREAM-REPARTITION-<n>-repartition` and the nodes `KSTREAM-FILTER-<n+2>` ->
    /// `KSTREAM-SINK-<n+1>` -> `KSTREAM-SOURCE-<n+3>`; named `x`, the topic is `x-repartition`
    /// and the nodes `x-repartition-filter`, `-sink` and `-source` (the three numbers are used
    /// up all the same, so later generated names match Kafka's).
    ///
    /// ```
    /// # use streams_core::*;
    /// let builder = StreamsBuilder::new();
    /// builder.stream("in", Consumed::with(StringSerde, StringSerde))
    ///     .repartition(Repartitioned::new().with_name("by-user"))
    ///     .to("out", Produced::new());
    /// let described = builder.build()?.describe().to_string();
    /// assert!(described.contains("Sink: by-user-repartition-sink (topic: by-user-repartition)"));
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn repartition(&self, repartitioned: Repartitioned<K, V>) -> Self {
        self.repartition_as(repartitioned, true)
    }

    /// [`KStream::repartition`] with Kafka's node naming (`kafka_names`: a pass-through filter
    /// node, three numbers used up) or, for callers with a naming scheme of their own, just
    /// `<topic>-sink` and `<topic>-source`.
    pub(crate) fn repartition_as(
        &self,
        repartitioned: Repartitioned<K, V>,
        kafka_names: bool,
    ) -> Self {
        let mut b = self.builder.borrow_mut();
        let base = match (&repartitioned.name, &self.next_name) {
            (Some(n), _) | (None, Some(n)) => n.clone(),
            _ => b.new_name("KSTREAM-REPARTITION-"),
        };
        let topic = if base.ends_with("-repartition") {
            base.clone()
        } else {
            format!("{base}-repartition")
        };
        let (sink_name, filter_name, source_name) = if kafka_names {
            // Kafka always generates the three names, to keep later numbers stable.
            let sink = b.new_name("KSTREAM-SINK-");
            let filter = b.new_name("KSTREAM-FILTER-");
            let source = b.new_name("KSTREAM-SOURCE-");
            if is_generated_name(&base) {
                (sink, Some(filter), source)
            } else {
                (
                    format!("{topic}-sink"),
                    Some(format!("{topic}-filter")),
                    format!("{topic}-source"),
                )
            }
        } else {
            (format!("{topic}-sink"), None, format!("{topic}-source"))
        };
        let (Some(k), Some(v)) = (
            b.serde_for(repartitioned.key_serde, &self.key_serde),
            b.serde_for(repartitioned.value_serde, &self.value_serde),
        ) else {
            b.fail(StreamsError::InvalidTopology(format!(
                "repartition `{base}` does not know how to serialize ({}, {}): pass serdes with \
                 Repartitioned::with(key_serde, value_serde) or register a default with \
                 StreamsBuilder::default_serde",
                std::any::type_name::<K>(),
                std::any::type_name::<V>()
            )));
            return self.derive(INVALID, None, None, false);
        };
        if let Some(n) = repartitioned.partitions {
            if n < 1 {
                b.fail(StreamsError::InvalidTopology(format!(
                    "repartition `{base}`: number of partitions must be at least 1, got {n}"
                )));
                return self.derive(INVALID, None, None, false);
            }
        }
        if self.node == INVALID {
            return self.derive(INVALID, None, None, false);
        }
        // As Kafka's grouped streams and tables, several aggregations of one named grouping
        // share its repartition topic; another stream cannot write into it.
        match b.repartitions.get(&topic) {
            Some(&(writer, source)) if writer == self.node => {
                drop(b);
                return self.derive(source, Some(k), Some(v), false);
            }
            Some(_) => {
                b.fail(StreamsError::InvalidTopology(format!(
                    "repartition topic `{topic}` is used by two different streams: name their \
                     groupings, joins or repartitions differently"
                )));
                return self.derive(INVALID, None, None, false);
            }
            None => {}
        }
        let parent = match filter_name {
            // Kafka's (pass-through) null-key filter in front of the sink.
            Some(name) => {
                let parents = vec![self.node];
                b.try_add(|t| {
                    t.add_processor_node::<K, V, K, V, PassThrough, _>(
                        &name,
                        || PassThrough,
                        parents,
                    )
                })
            }
            None => self.node,
        };
        if parent == INVALID {
            return self.derive(INVALID, None, None, false);
        }
        let source = b.through_internal_topic(
            vec![parent],
            InternalHop {
                topic: &topic,
                partitions: repartitioned.partitions,
                sink_name,
                source_name,
            },
            k.clone(),
            v.clone(),
            repartitioned.partitioner,
        );
        if source != INVALID {
            b.repartitions.insert(topic, (self.node, source));
        }
        drop(b);
        self.derive(source, Some(k), Some(v), false)
    }

    /// Runs a hand-written [`Processor`] (one instance per task from `supplier`) with access to
    /// the named state stores. Marks the stream for repartitioning, since the processor may
    /// change keys.
    pub fn process<K2: Data, V2: Data, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<K2, V2>
    where
        P: Processor<K, V, K2, V2>,
    {
        let node = self.add_node::<K2, V2, P, _>("KSTREAM-PROCESSOR-", supplier, stores);
        self.derive(node, None, None, true)
    }

    /// Runs a hand-written [`FixedKeyProcessor`] (one instance per task from `supplier`) with
    /// access to the named state stores (Kafka's `processValues`). It can change values but
    /// not keys, so unlike [`KStream::process`] it does not mark the stream for repartitioning:
    /// the key serde is kept, and a later `group_by_key` or join reads the records where they
    /// are.
    pub fn process_values<V2: Data, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<K, V2>
    where
        P: FixedKeyProcessor<K, V, V2>,
    {
        let node = self.add_node::<K, V2, _, _>(
            "KSTREAM-PROCESSVALUES-",
            move || FixedKeyAdapter(supplier()),
            stores,
        );
        self.derive(
            node,
            self.key_serde.clone(),
            None,
            self.repartition_required,
        )
    }
}

/// True for names Kafka Streams generates (`KSTREAM...-<10 digits>`): a repartition based on
/// one gets generated node names too.
fn is_generated_name(name: &str) -> bool {
    let Some(dash) = name.rfind('-') else {
        return false;
    };
    let digits = &name[dash + 1..];
    name.starts_with("KSTREAM") && digits.len() == 10 && digits.bytes().all(|c| c.is_ascii_digit())
}

/// The branches of a [`KStream::split`] being defined. As in Kafka Streams, the branches
/// exist even without a terminal `default_branch` / `no_default_branch`: dropping this adds
/// them (records matching no predicate are then dropped).
pub struct BranchedKStream<K: Data, V: Data> {
    stream: KStream<K, V>,
    prefix: String,
    branches: Vec<(Predicate<K, V>, Branched<K, V>)>,
    finished: bool,
}

impl<K: Data, V: Data> Drop for BranchedKStream<K, V> {
    fn drop(&mut self) {
        // Not while unwinding: the builder may be borrowed by the code that panicked.
        if !self.finished && !std::thread::panicking() {
            self.finish(false);
        }
    }
}

impl<K: Data, V: Data> BranchedKStream<K, V> {
    /// Adds a branch for records matching `predicate` (and no earlier predicate).
    pub fn branch(
        mut self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        branched: Branched<K, V>,
    ) -> Self {
        self.branches.push((Arc::new(predicate), branched));
        self
    }

    /// Adds a branch for records matching no predicate and returns the branches by name.
    pub fn default_branch(mut self, branched: Branched<K, V>) -> HashMap<String, KStream<K, V>> {
        self.branches
            .push((Arc::new(|_: &K, _: &V| true), branched));
        self.finish(true)
    }

    /// Returns the branches by name; records matching no predicate are dropped.
    pub fn no_default_branch(mut self) -> HashMap<String, KStream<K, V>> {
        self.finish(false)
    }

    fn finish(&mut self, has_default: bool) -> HashMap<String, KStream<K, V>> {
        self.finished = true;
        let branches = std::mem::take(&mut self.branches);
        let n = branches.len();
        let names: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(i, (_, b))| {
                let index = if has_default && i + 1 == n { 0 } else { i + 1 };
                match &b.name {
                    Some(name) => format!("{}{name}", self.prefix),
                    None => format!("{}{index}", self.prefix),
                }
            })
            .collect();
        let (preds, branched): (Vec<_>, Vec<_>) = branches.into_iter().unzip();
        let preds = Arc::new(preds);
        let splitter = self
            .stream
            .named(self.prefix.clone())
            .add_node::<K, V, _, _>(
                "",
                move || Branch {
                    preds: preds.clone(),
                },
                &[],
            );
        let splitter_stream = self.stream.derive::<K, V>(
            splitter,
            self.stream.key_serde.clone(),
            self.stream.value_serde.clone(),
            self.stream.repartition_required,
        );
        let mut out = HashMap::new();
        for (name, b) in names.into_iter().zip(branched) {
            let child = splitter_stream.named(name.clone()).add::<K, V, _, _>(
                "",
                || PassThrough,
                self.stream.key_serde.clone(),
                self.stream.value_serde.clone(),
                self.stream.repartition_required,
            );
            let result = match b.chain {
                Some(chain) => chain(child),
                None => Some(child),
            };
            if let Some(s) = result {
                out.insert(name, s);
            }
        }
        out
    }
}
