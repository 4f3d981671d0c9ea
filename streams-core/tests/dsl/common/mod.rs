//! Helpers shared by the conformance suite (`streams-core/tests/dsl/conformance_*.rs`): Apache
//! Kafka's own Kafka Streams unit tests, translated case by case to this crate's API. Each test
//! there names the Java file and method it comes from; the expected outputs are Kafka's.

use streams_core::{Serde, StreamsConfig, TopologyTestDriver};

/// `x` as an owned `String`, for building inputs and expected outputs tersely.
pub fn s(x: &str) -> String {
    x.to_string()
}

/// Kafka's test configuration: the record cache on, as in `StreamsTestUtils.getStreamsConfig`.
pub fn cached(app: &str) -> StreamsConfig {
    StreamsConfig::new(app)
}

/// The configuration of Kafka tests that set `statestore.cache.max.bytes` to 0.
pub fn uncached(app: &str) -> StreamsConfig {
    StreamsConfig::new(app).with("statestore.cache.max.bytes", "0")
}

/// Everything on `topic` so far as `(key, value, timestamp)`, draining it.
pub fn drain<K: 'static, V: 'static>(
    driver: &TopologyTestDriver,
    topic: &str,
    key_serde: impl Serde<K>,
    value_serde: impl Serde<V>,
) -> Vec<(K, V, i64)> {
    driver
        .output_topic(topic, key_serde, value_serde)
        .read_records_to_list()
        .expect("output records deserialize")
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect()
}
