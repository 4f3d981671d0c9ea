//! Where sinks put serialized records: the producer in the Kafka runtime, memory in the driver.

use crate::error::Result;
use crate::record::Headers;

/// One serialized output record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutRecord<'a> {
    pub topic: &'a str,
    /// `None`: let the collector pick (records without a key).
    pub partition: Option<i32>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub timestamp: i64,
    pub headers: &'a Headers,
}

pub(crate) trait RecordCollector {
    fn send(&mut self, record: OutRecord<'_>) -> Result<()>;
    /// Partition count of an output topic.
    fn partition_count(&mut self, topic: &str) -> Result<i32>;
}
