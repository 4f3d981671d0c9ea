//! [`KStream`]: a stream of independent events, and its stateless operations (filter, map,
//! flat-map, merge, sinks, repartitioning, processors). Operations that make tables, groups,
//! branches or joins live with the types they make.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::StreamsError;
use crate::kstream::builder_inner::{BuilderInner, InternalHop, INVALID};
use crate::kstream::data::Data;
use crate::kstream::internals::*;
use crate::kstream::options::Repartitioned;
use crate::processor::api::Processor;
use crate::processor::endpoints::Produced;
use crate::processor::fixed_key::{FixedKeyAdapter, FixedKeyProcessor};
use crate::processor::internals::plan::{NullValues, TopicName};
use crate::processor::internals::sink::{SinkTopic, TopicNameExtractor};
use crate::record::RecordMetadata;
use crate::serdes::Serde;

/// A stream of records: every record is an independent event.
///
/// Operations take `&self`, so one stream can feed several downstream operations.
pub struct KStream<K, V> {
    pub(super) builder: Rc<RefCell<BuilderInner>>,
    pub(super) node: usize,
    pub(super) key_serde: Option<Arc<dyn Serde<K>>>,
    pub(super) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(super) repartition_required: bool,
    pub(super) next_name: Option<String>,
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

    pub(super) fn node_name(&self, b: &mut BuilderInner, prefix: &str) -> String {
        match &self.next_name {
            Some(n) => n.clone(),
            None => b.new_name(prefix),
        }
    }

    /// Kafka Streams uses up a number for an operation named with `Named` too, so that naming
    /// one operation does not renumber the others: the public stateless operations call this
    /// before adding their node.
    pub(super) fn use_up_number_if_named(&self, prefix: &str) {
        if self.next_name.is_some() {
            self.builder.borrow_mut().new_name(prefix);
        }
    }

    pub(super) fn derive<K2, V2>(
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

    pub(super) fn add<K2: Data, V2: Data, P, F>(
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

    pub(super) fn add_node<K2: Data, V2: Data, P, F>(
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

    pub(super) fn sink(&self, topic: SinkTopic<K, V>, produced: Produced<K, V>) {
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
    pub(super) fn repartition_as(
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
pub(super) fn is_generated_name(name: &str) -> bool {
    let Some(dash) = name.rfind('-') else {
        return false;
    };
    let digits = &name[dash + 1..];
    name.starts_with("KSTREAM") && digits.len() == 10 && digits.bytes().all(|c| c.is_ascii_digit())
}
