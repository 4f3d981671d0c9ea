//! Conformance: Kafka Streams' table, table-aggregation and grouped-stream unit tests
//! (`streams/src/test/java/org/apache/kafka/streams/kstream/internals/KTable*Test.java`,
//! `KGroupedStreamImplTest`, `KGroupedTableImplTest`), translated case by case with Kafka's
//! inputs and expected outputs.

mod common;

use std::sync::{Arc, Mutex};

use common::{cached, drain, s, uncached};
use streams_core::*;

/// What a capturing processor saw: `(key, change, timestamp)`.
type Seen<K, V> = Arc<Mutex<Vec<(K, Change<V>, i64)>>>;

/// Kafka's `MockApiProcessor` attached to a table node: records every change it receives.
struct Capture<K, V>(Seen<K, V>);

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, Change<V>> for Capture<K, V> {
    fn process(
        &mut self,
        r: Record<K, Change<V>>,
        _ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<()> {
        self.0.lock().unwrap().push((r.key, r.value, r.timestamp));
        Ok(())
    }
}

/// The name of the first node whose name starts with `prefix`.
fn node(topology: &Topology, prefix: &str) -> String {
    topology
        .describe()
        .subtopologies
        .iter()
        .flat_map(|st| st.nodes.iter())
        .map(|n| n.name.clone())
        .find(|n| n.starts_with(prefix))
        .unwrap_or_else(|| panic!("no node {prefix}*"))
}

/// Adds a capturing processor under the node named `parent`.
fn capture<K: Clone + Send + 'static, V: Clone + Send + 'static>(
    topology: &mut Topology,
    name: &str,
    parent: &str,
) -> Seen<K, V> {
    let seen: Seen<K, V> = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    topology
        .add_processor(name, move || Capture(s2.clone()), &[parent])
        .unwrap();
    seen
}

/// Takes what a capturing processor saw so far (Kafka's `checkAndClearProcessResult`).
fn take<K, V>(seen: &Seen<K, V>) -> Vec<(K, Change<V>, i64)> {
    std::mem::take(&mut *seen.lock().unwrap())
}

fn ch<V>(new: Option<V>, old: Option<V>) -> Change<V> {
    Change { new, old }
}

// ---------------------------------------------------------------------------------------------
// KGroupedStreamImplTest (non-windowed)
// ---------------------------------------------------------------------------------------------

/// `KGroupedStreamImplTest.processData`: the last record has a null value, which Kafka's
/// aggregations skip (counted in the dropped-records metric).
fn grouped_stream_process_data(driver: &TopologyTestDriver) {
    let input = driver.input_topic("topic", StringSerde, StringSerde);
    input.pipe_input_at(s("1"), s("A"), 5).unwrap();
    input.pipe_input_at(s("2"), s("B"), 1).unwrap();
    input.pipe_input_at(s("1"), s("C"), 3).unwrap();
    input.pipe_input_at(s("1"), s("D"), 10).unwrap();
    input.pipe_input_at(s("3"), s("E"), 8).unwrap();
    input.pipe_input_at(s("3"), s("F"), 9).unwrap();
    driver.pipe_raw("topic", Some(b"3"), None, 9).unwrap();
}

fn grouped_stream(builder: &StreamsBuilder) -> KGroupedStream<String, String> {
    builder
        .stream("topic", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
}

// KGroupedStreamImplTest.shouldCountAndMaterializeResults (+ the metric part of
// shouldLogAndMeasureSkipsInAggregate: the null-value record is skipped and counted)
#[test]
fn grouped_stream_count_and_materialize_results() {
    let builder = StreamsBuilder::new();
    grouped_stream(&builder).count(Materialized::named("count").with_key_serde(StringSerde));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgs-count")).unwrap();
    grouped_stream_process_data(&driver);
    let count: KeyValueStore<String, i64> = driver.get_state_store("count").unwrap();
    assert_eq!(count.get(&s("1")).unwrap(), Some(3));
    assert_eq!(count.get(&s("2")).unwrap(), Some(1));
    assert_eq!(count.get(&s("3")).unwrap(), Some(2));
    assert_eq!(count.get_with_timestamp(&s("1")).unwrap(), Some((3, 10)));
    assert_eq!(count.get_with_timestamp(&s("2")).unwrap(), Some((1, 1)));
    assert_eq!(count.get_with_timestamp(&s("3")).unwrap(), Some((2, 9)));
    assert_eq!(driver.metrics().dropped_records, 1);
}

// KGroupedStreamImplTest.shouldReduceAndMaterializeResults (+ the metric part of
// shouldLogAndMeasureSkipsInReduce)
#[test]
fn grouped_stream_reduce_and_materialize_results() {
    let builder = StreamsBuilder::new();
    grouped_stream(&builder).reduce(
        |a, b| format!("{a}+{b}"),
        Materialized::named("reduce")
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgs-reduce")).unwrap();
    grouped_stream_process_data(&driver);
    let reduced: KeyValueStore<String, String> = driver.get_state_store("reduce").unwrap();
    assert_eq!(
        reduced.get_with_timestamp(&s("1")).unwrap(),
        Some((s("A+C+D"), 10))
    );
    assert_eq!(
        reduced.get_with_timestamp(&s("2")).unwrap(),
        Some((s("B"), 1))
    );
    assert_eq!(
        reduced.get_with_timestamp(&s("3")).unwrap(),
        Some((s("E+F"), 9))
    );
    assert_eq!(driver.metrics().dropped_records, 1);
}

// KGroupedStreamImplTest.shouldAggregateAndMaterializeResults
#[test]
fn grouped_stream_aggregate_and_materialize_results() {
    let builder = StreamsBuilder::new();
    grouped_stream(&builder).aggregate(
        || s("0"),
        |_, v, agg| format!("{agg}+{v}"),
        Materialized::named("aggregate")
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgs-agg")).unwrap();
    grouped_stream_process_data(&driver);
    let agg: KeyValueStore<String, String> = driver.get_state_store("aggregate").unwrap();
    assert_eq!(
        agg.get_with_timestamp(&s("1")).unwrap(),
        Some((s("0+A+C+D"), 10))
    );
    assert_eq!(
        agg.get_with_timestamp(&s("2")).unwrap(),
        Some((s("0+B"), 1))
    );
    assert_eq!(
        agg.get_with_timestamp(&s("3")).unwrap(),
        Some((s("0+E+F"), 9))
    );
}

// KGroupedStreamImplTest.shouldAggregateWithDefaultSerdes (last value and timestamp per key
// of the table's stream)
#[test]
fn grouped_stream_aggregate_with_default_serdes() {
    let builder = StreamsBuilder::new();
    builder
        .stream("topic", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .aggregate(
            || s("0"),
            |_, v, agg| format!("{agg}+{v}"),
            Materialized::new(),
        )
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(StringSerde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgs-def")).unwrap();
    grouped_stream_process_data(&driver);
    let out = drain(&driver, "out", StringSerde, Nullable(StringSerde));
    let last = |k: &str| {
        out.iter()
            .rev()
            .find(|(key, _, _)| key == k)
            .map(|(_, v, ts)| (v.clone(), *ts))
    };
    assert_eq!(last("1"), Some((Some(s("0+A+C+D")), 10)));
    assert_eq!(last("2"), Some((Some(s("0+B")), 1)));
    assert_eq!(last("3"), Some((Some(s("0+E+F")), 9)));
}

// KGroupedStreamImplTest.shouldLogAndMeasureSkipsInAggregate, with a value type that has a
// null (`Nullable`): the null value reaches the aggregation, which skips and counts it.
#[test]
fn grouped_stream_skips_null_values_and_keys_of_nullable_types() {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            "topic",
            Consumed::with(Nullable(StringSerde), Nullable(StringSerde)),
        )
        .group_by_key()
        .count(Materialized::named("count"))
        .to_stream()
        .to(
            "out",
            Produced::with(Nullable(StringSerde), Nullable(I64Serde)),
        );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), uncached("kgs-null")).unwrap();
    let input = driver.input_topic("topic", Nullable(StringSerde), Nullable(StringSerde));
    input.pipe_input_at(Some(s("1")), Some(s("A")), 5).unwrap();
    input.pipe_input_at(Some(s("1")), None, 6).unwrap();
    input.pipe_input_at(None, Some(s("B")), 7).unwrap();
    assert_eq!(
        drain(&driver, "out", Nullable(StringSerde), Nullable(I64Serde)),
        vec![(Some(s("1")), Some(1), 5)]
    );
    assert_eq!(driver.metrics().dropped_records, 2);
}

// ---------------------------------------------------------------------------------------------
// KTableSourceTest
// ---------------------------------------------------------------------------------------------

// KTableSourceTest.testKTable
#[test]
fn table_source_ktable() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic1",
            Consumed::with(StringSerde, I32Serde),
            Materialized::new(),
        )
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(I32Serde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kts")).unwrap();
    let input = driver.input_topic("topic1", StringSerde, Nullable(I32Serde));
    input.pipe_input_at(s("A"), Some(1), 10).unwrap();
    input.pipe_input_at(s("B"), Some(2), 11).unwrap();
    input.pipe_input_at(s("C"), Some(3), 12).unwrap();
    input.pipe_input_at(s("D"), Some(4), 13).unwrap();
    input.pipe_input_at(s("A"), None, 14).unwrap();
    input.pipe_input_at(s("B"), None, 15).unwrap();
    assert_eq!(
        drain(&driver, "out", StringSerde, Nullable(I32Serde)),
        vec![
            (s("A"), Some(1), 10),
            (s("B"), Some(2), 11),
            (s("C"), Some(3), 12),
            (s("D"), Some(4), 13),
            (s("A"), None, 14),
            (s("B"), None, 15),
        ]
    );
}

// KTableSourceTest.kTableShouldLogAndMeterOnSkippedRecords (the metric; the log line is not
// captured here): a null key is skipped, for a key type without null (dropped at the source)
// and for one with a null (`Nullable`, dropped by the table).
#[test]
fn table_source_skips_and_meters_null_keys() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(StringSerde)));
    builder
        .table(
            "topic-nullable",
            Consumed::with(Nullable(StringSerde), StringSerde),
            Materialized::new(),
        )
        .to_stream()
        .to(
            "out-nullable",
            Produced::with(Nullable(StringSerde), Nullable(StringSerde)),
        );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kts-null")).unwrap();
    driver
        .input_topic("topic", StringSerde, StringSerde)
        .pipe_value(s("value"))
        .unwrap();
    driver
        .input_topic("topic-nullable", Nullable(StringSerde), StringSerde)
        .pipe_value(s("value"))
        .unwrap();
    assert!(drain(&driver, "out", StringSerde, Nullable(StringSerde)).is_empty());
    assert!(drain(
        &driver,
        "out-nullable",
        Nullable(StringSerde),
        Nullable(StringSerde)
    )
    .is_empty());
    assert_eq!(driver.metrics().dropped_records, 2);
}

// KTableRepartitionMap (exercised by KGroupedTableImplTest): a row whose selected key or value
// is null is not regrouped, so the aggregation never sees it.
#[test]
fn table_group_by_skips_null_selected_keys() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|_, v| (if v == "none" { None } else { Some(v.clone()) }, v.clone()))
        .with_key_serde(Nullable(StringSerde))
        .with_value_serde(StringSerde)
        .count(Materialized::new())
        .to_stream()
        .to(
            "out",
            Produced::with(Nullable(StringSerde), Nullable(I64Serde)),
        );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), uncached("ktg-null")).unwrap();
    let input = driver.input_topic("topic", StringSerde, StringSerde);
    input.pipe_input_at(s("A"), s("x"), 1).unwrap();
    input.pipe_input_at(s("B"), s("none"), 2).unwrap();
    input.pipe_input_at(s("A"), s("none"), 3).unwrap();
    assert_eq!(
        drain(&driver, "out", Nullable(StringSerde), Nullable(I64Serde)),
        vec![(Some(s("x")), Some(1), 1), (Some(s("x")), Some(0), 3)]
    );
}
