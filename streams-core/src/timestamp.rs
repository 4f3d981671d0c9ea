//! Event time: which timestamp a record carries through the topology.

use std::sync::Arc;

/// Picks the event time (epoch milliseconds) of a deserialized record.
///
/// A negative result marks the timestamp invalid; what happens then is decided by the
/// [`InvalidTimestampPolicy`]. `partition_time` is the largest valid timestamp seen so far on
/// the record's partition (-1 before the first one).
pub trait TimestampExtractor<K, V>: Send + Sync + 'static {
    /// The event time of this record.
    fn extract(&self, key: &K, value: &V, record_timestamp: i64, partition_time: i64) -> i64;
}

/// The default: the timestamp the record carries in Kafka.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordTimestamp;

impl<K, V> TimestampExtractor<K, V> for RecordTimestamp {
    fn extract(&self, _key: &K, _value: &V, record_timestamp: i64, _partition_time: i64) -> i64 {
        record_timestamp
    }
}

/// An extractor that reads the event time from the value with a closure.
///
/// ```
/// use streams_core::{ValueTimestamp, TimestampExtractor};
/// struct Ride { pickup_ms: i64 }
/// let ex = ValueTimestamp::new(|r: &Ride| r.pickup_ms);
/// assert_eq!(TimestampExtractor::<(), Ride>::extract(&ex, &(), &Ride { pickup_ms: 7 }, 0, -1), 7);
/// ```
pub struct ValueTimestamp<V>(Arc<dyn Fn(&V) -> i64 + Send + Sync>);

impl<V> ValueTimestamp<V> {
    /// Wraps a closure that returns epoch milliseconds (negative = invalid).
    pub fn new(f: impl Fn(&V) -> i64 + Send + Sync + 'static) -> Self {
        ValueTimestamp(Arc::new(f))
    }
}

impl<K, V: 'static> TimestampExtractor<K, V> for ValueTimestamp<V> {
    fn extract(&self, _key: &K, value: &V, _record_timestamp: i64, _partition_time: i64) -> i64 {
        (self.0)(value)
    }
}

/// What to do with a record whose extracted timestamp is negative.
///
/// These are Kafka Streams' `FailOnInvalidTimestamp` (the default),
/// `LogAndSkipOnInvalidTimestamp` and `UsePartitionTimeOnInvalidTimestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidTimestampPolicy {
    /// Stop processing with [`crate::StreamsError::InvalidTimestamp`].
    #[default]
    Fail,
    /// Drop the record, log it at warn level and count it in `dropped-records`.
    Skip,
    /// Give the record the partition's current time (the largest timestamp seen on it); if the
    /// partition has none yet, drop it as `Skip` does.
    UsePreviousTime,
}

impl InvalidTimestampPolicy {
    /// Parses a config value (Kafka's class names are accepted too).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "fail" | "FailOnInvalidTimestamp" => Some(Self::Fail),
            "skip" | "LogAndSkipOnInvalidTimestamp" => Some(Self::Skip),
            "use_previous_time" | "UsePartitionTimeOnInvalidTimestamp" => {
                Some(Self::UsePreviousTime)
            }
            _ => None,
        }
    }
}
