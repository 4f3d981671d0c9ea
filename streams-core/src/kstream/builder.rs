//! [`StreamsBuilder`]: where a DSL topology starts (streams, tables and global tables read from
//! topics) and ends (`build`).

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::kstream::builder_inner::{BuilderInner, INVALID};
use crate::kstream::data::Data;
use crate::processor::endpoints::Consumed;
use crate::processor::internals::plan::{TopicName, TypeSig};
use crate::processor::topology::Topology;
use crate::serdes::Serde;
use crate::serdes::{DynSerde, Nullable};
use crate::state::store::StoreBuilder;
use crate::timestamp::TimestampExtractor;

use crate::kstream::ktable::{KTable, Materialized};

use crate::kstream::stream::KStream;

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
    pub(super) inner: Rc<RefCell<BuilderInner>>,
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
        crate::kstream::table_source::table_from_source(&source, m, generated_store)
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
