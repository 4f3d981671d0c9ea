//! Parameter objects of the DSL, as in Kafka Streams: `Consumed`, `Produced`, `Repartitioned`,
//! `Branched`.

use std::sync::Arc;

use crate::kstream::KStream;
use crate::processor::internals::partitioner::StreamPartitioner;
use crate::serdes::{DefaultSerde, Serde};
use crate::timestamp::{InvalidTimestampPolicy, RecordTimestamp, TimestampExtractor};

/// How a source reads a topic: serdes, event-time extraction, invalid-timestamp policy.
///
/// ```
/// use streams_core::{Consumed, Json, StringSerde, InvalidTimestampPolicy, ValueTimestamp};
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Ride { pickup_ms: i64 }
/// let consumed = Consumed::with(StringSerde, Json::<Ride>::new())
///     .with_timestamp_extractor(ValueTimestamp::new(|r: &Ride| r.pickup_ms))
///     .with_invalid_timestamp_policy(InvalidTimestampPolicy::Skip);
/// # let _ = consumed;
/// ```
pub struct Consumed<K, V> {
    pub(crate) key_serde: Arc<dyn Serde<K>>,
    pub(crate) value_serde: Arc<dyn Serde<V>>,
    pub(crate) extractor: Arc<dyn TimestampExtractor<K, V>>,
    pub(crate) policy: Option<InvalidTimestampPolicy>,
    pub(crate) name: Option<String>,
}

impl<K: 'static, V: 'static> Consumed<K, V> {
    /// Reads keys and values with these serdes.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Consumed {
            key_serde: Arc::new(key_serde),
            value_serde: Arc::new(value_serde),
            extractor: Arc::new(RecordTimestamp),
            policy: None,
            name: None,
        }
    }
    /// Takes event time from this extractor instead of the record timestamp.
    pub fn with_timestamp_extractor(mut self, extractor: impl TimestampExtractor<K, V>) -> Self {
        self.extractor = Arc::new(extractor);
        self
    }
    /// Overrides `default.timestamp.extractor` for this source.
    pub fn with_invalid_timestamp_policy(mut self, policy: InvalidTimestampPolicy) -> Self {
        self.policy = Some(policy);
        self
    }
    /// Names the source node.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Consumed<K, V> {
    fn default() -> Self {
        Consumed {
            key_serde: K::default_serde(),
            value_serde: V::default_serde(),
            extractor: Arc::new(RecordTimestamp),
            policy: None,
            name: None,
        }
    }
}

/// How a sink writes a topic: serdes and partitioner. Serdes left out are taken from the
/// stream when it knows them (from its source or an earlier repartition).
pub struct Produced<K, V> {
    pub(crate) key_serde: Option<Arc<dyn Serde<K>>>,
    pub(crate) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(crate) partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    pub(crate) name: Option<String>,
}

impl<K: 'static, V: 'static> Produced<K, V> {
    /// Serdes taken from the stream.
    pub fn new() -> Self {
        Produced {
            key_serde: None,
            value_serde: None,
            partitioner: None,
            name: None,
        }
    }
    /// Writes keys and values with these serdes.
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
    /// Chooses partitions with this partitioner (default: murmur2 of the key bytes).
    pub fn with_partitioner(mut self, partitioner: impl StreamPartitioner<K, V>) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }
    /// Names the sink node.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl<K: 'static, V: 'static> Default for Produced<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// How [`KStream::repartition`] writes its internal topic
/// `<application.id>-<name>-repartition`.
pub struct Repartitioned<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Option<Arc<dyn Serde<K>>>,
    pub(crate) value_serde: Option<Arc<dyn Serde<V>>>,
    pub(crate) partitions: Option<i32>,
    pub(crate) partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
}

impl<K: 'static, V: 'static> Repartitioned<K, V> {
    /// Serdes from the stream, generated name, partition count inferred from the upstream
    /// source topics.
    pub fn new() -> Self {
        Repartitioned {
            name: None,
            key_serde: None,
            value_serde: None,
            partitions: None,
            partitioner: None,
        }
    }
    /// With these serdes.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        let mut r = Self::new();
        r.key_serde = Some(Arc::new(key_serde));
        r.value_serde = Some(Arc::new(value_serde));
        r
    }
    /// The topic becomes `<application.id>-<name>-repartition`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Partition count of the repartition topic.
    pub fn with_number_of_partitions(mut self, partitions: i32) -> Self {
        self.partitions = Some(partitions);
        self
    }
    /// Partitioner for writing the repartition topic.
    pub fn with_stream_partitioner(mut self, partitioner: impl StreamPartitioner<K, V>) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }
}

impl<K: 'static, V: 'static> Default for Repartitioned<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

type Chain<K, V> = Box<dyn FnOnce(KStream<K, V>) -> Option<KStream<K, V>>>;

/// One branch of [`KStream::split`]: its name and what to do with its stream.
pub struct Branched<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) chain: Option<Chain<K, V>>,
}

impl<K: 'static, V: 'static> Branched<K, V> {
    /// An unnamed branch (named by its position: prefix + 1, 2, ...; the default branch is
    /// prefix + 0).
    pub fn new() -> Self {
        Branched {
            name: None,
            chain: None,
        }
    }
    /// A branch named prefix + `name` in the returned map.
    pub fn named(name: impl Into<String>) -> Self {
        Branched {
            name: Some(name.into()),
            chain: None,
        }
    }
    /// Applies `f` to the branch; its result goes into the returned map.
    pub fn with_function(f: impl FnOnce(KStream<K, V>) -> KStream<K, V> + 'static) -> Self {
        Branched {
            name: None,
            chain: Some(Box::new(move |s| Some(f(s)))),
        }
    }
    /// Hands the branch to `f`; the branch is left out of the returned map.
    pub fn with_consumer(f: impl FnOnce(KStream<K, V>) + 'static) -> Self {
        Branched {
            name: None,
            chain: Some(Box::new(move |s| {
                f(s);
                None
            })),
        }
    }
    /// Sets the name of a branch built with a function or consumer.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl<K: 'static, V: 'static> Default for Branched<K, V> {
    fn default() -> Self {
        Self::new()
    }
}
