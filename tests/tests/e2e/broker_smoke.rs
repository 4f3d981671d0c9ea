//! Tansu starts, takes a 4-partition topic and hands back everything produced to it, and
//! librdkafka's `murmur2_random` partitioner (what the Java client does) puts every key on the
//! partition `streams_core::murmur2_partition` computes.

use std::collections::BTreeMap;
use std::time::Duration;

use streams_tests::broker::TansuBroker;
use streams_tests::kafka::{consume_all, create_topic, produce_all, ProducerRecord};

const PARTITIONS: i32 = 4;
const RECORDS: usize = 2_000;
/// Taxi zone ids.
const KEYS: usize = 265;
const BASE_TIMESTAMP: i64 = 1_700_000_000_000;

fn start_broker() -> TansuBroker {
    TansuBroker::start().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn keyed_records_round_trip_on_the_java_partitions_in_order() {
    let broker = start_broker();
    let bootstrap = broker.bootstrap();
    let topic = "rides-smoke";
    create_topic(&bootstrap, topic, PARTITIONS).unwrap();

    let records: Vec<ProducerRecord> = (0..RECORDS)
        .map(|i| {
            let key = (i % KEYS).to_string().into_bytes();
            let value = format!("ride-{i}").into_bytes();
            (Some(key), Some(value), BASE_TIMESTAMP + i as i64)
        })
        .collect();
    let delivered = produce_all(&bootstrap, topic, &records).unwrap();
    assert_eq!(delivered.len(), RECORDS);

    let consumed = consume_all(&bootstrap, topic, RECORDS, Duration::from_secs(30)).unwrap();
    assert_eq!(
        consumed.len(),
        RECORDS,
        "read {} records back, produced {RECORDS}",
        consumed.len()
    );

    let mut per_partition: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for record in &consumed {
        let key = record.key.as_deref().expect("every record has a key");
        let value = std::str::from_utf8(record.value.as_deref().expect("a value")).unwrap();
        let index: usize = value.strip_prefix("ride-").unwrap().parse().unwrap();
        let expected = streams_core::murmur2_partition(key, PARTITIONS);
        assert_eq!(
            record.partition,
            expected,
            "key {:?} landed on partition {}, murmur2_partition says {expected}",
            String::from_utf8_lossy(key),
            record.partition
        );
        assert_eq!(
            key,
            records[index].0.as_deref().unwrap(),
            "{value}: key changed"
        );
        assert_eq!(
            record.timestamp,
            Some(records[index].2),
            "{value}: timestamp"
        );
        assert_eq!(
            (record.partition, record.offset),
            delivered[index],
            "{value}: read at a position other than its delivery report's"
        );
        per_partition
            .entry(record.partition)
            .or_default()
            .push(index);
    }

    // Within each partition, offsets and produce order agree, with no gap or duplicate.
    let mut seen = 0;
    for (partition, indexes) in &per_partition {
        assert!(
            indexes.windows(2).all(|w| w[0] < w[1]),
            "partition {partition}: records out of produce order: {indexes:?}"
        );
        let offsets: Vec<i64> = consumed
            .iter()
            .filter(|r| r.partition == *partition)
            .map(|r| r.offset)
            .collect();
        assert!(
            offsets.windows(2).all(|w| w[1] == w[0] + 1),
            "partition {partition}: offsets not consecutive"
        );
        seen += indexes.len();
    }
    assert_eq!(seen, RECORDS);
    // 265 keys over 4 partitions: each partition gets some.
    assert_eq!(
        per_partition.len(),
        PARTITIONS as usize,
        "{:?}",
        per_partition.keys()
    );
}

#[test]
fn consume_all_fails_clearly_when_records_are_missing() {
    let broker = start_broker();
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "empty", 2).unwrap();
    assert_eq!(
        consume_all(&bootstrap, "empty", 0, Duration::from_secs(10)).unwrap(),
        vec![]
    );
    let err = consume_all(&bootstrap, "empty", 1, Duration::from_millis(500)).unwrap_err();
    assert!(err.contains("read 0 of 1 expected records"), "{err}");
}

#[test]
fn creating_an_existing_topic_fails() {
    let broker = start_broker();
    let bootstrap = broker.bootstrap();
    create_topic(&bootstrap, "twice", 1).unwrap();
    let err = create_topic(&bootstrap, "twice", 1).unwrap_err();
    assert!(err.contains("twice"), "{err}");
}
