//! Parameter objects of the DSL, as in Kafka Streams: `Repartitioned`, `Branched` (and
//! `Consumed`, `Produced`, which the Processor API shares: `crate::processor::endpoints`).

use std::sync::Arc;

use crate::processor::partitioner::StreamPartitioner;
use crate::serdes::Serde;

/// How [`KStream::repartition`](crate::KStream::repartition) writes its internal topic
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
