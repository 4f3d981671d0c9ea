//! Kafka's default partitioner for keyed records: murmur2 of the serialized key, as the Java
//! client computes it (librdkafka's `murmur2_random` gives the same for non-null keys).

/// The partition Kafka's Java client (and librdkafka's `murmur2_random`) assigns to a record
/// with these key bytes. `num_partitions` must be positive.
pub fn murmur2_partition(key: &[u8], num_partitions: i32) -> i32 {
    let hash = murmur2::murmur2(key, murmur2::KAFKA_SEED) & 0x7fff_ffff;
    (hash % num_partitions.max(1) as u32) as i32
}

/// Chooses the partition of records a sink writes.
pub trait StreamPartitioner<K, V>: Send + Sync + 'static {
    /// The partition for this record, or `None` for the default (murmur2 of the key bytes).
    fn partition(&self, topic: &str, key: &K, value: &V, num_partitions: i32) -> Option<i32>;
}

impl<K, V, F> StreamPartitioner<K, V> for F
where
    F: Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync + 'static,
{
    fn partition(&self, topic: &str, key: &K, value: &V, num_partitions: i32) -> Option<i32> {
        self(topic, key, value, num_partitions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_java_utils_murmur2() {
        // Values of org.apache.kafka.common.utils.Utils.murmur2 (Kafka's own unit test).
        let cases: [(&str, i32); 5] = [
            ("21", -973932308),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
        ];
        for (input, java) in cases {
            assert_eq!(
                murmur2::murmur2(input.as_bytes(), murmur2::KAFKA_SEED) as i32,
                java,
                "{input}"
            );
        }
    }

    #[test]
    fn partition_is_positive_and_in_range() {
        for key in ["", "a", "75", "238", "some longer key"] {
            let p = murmur2_partition(key.as_bytes(), 7);
            assert!((0..7).contains(&p));
        }
        let java = (-973932308i32 & 0x7fff_ffff) % 4;
        assert_eq!(murmur2_partition(b"21", 4), java);
    }
}
