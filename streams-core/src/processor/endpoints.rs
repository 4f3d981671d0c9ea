//! How a source reads a topic ([`Consumed`]) and how a sink writes one ([`Produced`]): shared by
//! the Processor API's [`Topology`](crate::processor::Topology) and the DSL.

use std::sync::Arc;

use crate::processor::partitioner::StreamPartitioner;
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
