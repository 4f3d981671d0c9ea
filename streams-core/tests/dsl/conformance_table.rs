//! Conformance: Kafka Streams' table, table-aggregation and grouped-stream unit tests
//! (`streams/src/test/java/org/apache/kafka/streams/kstream/internals/KTable*Test.java`,
//! `KGroupedStreamImplTest`, `KGroupedTableImplTest`), translated case by case with Kafka's
//! inputs and expected outputs.

use std::sync::{Arc, Mutex};

use crate::common::{cached, drain, s, uncached};
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

// ---------------------------------------------------------------------------------------------
// KTableAggregateTest, KTableReduceTest, KGroupedTableImplTest
// ---------------------------------------------------------------------------------------------

fn adder(_: &Option<String>, v: String, agg: String) -> String {
    format!("{agg}+{v}")
}
fn remover(_: &Option<String>, v: String, agg: String) -> String {
    format!("{agg}-{v}")
}

// KTableAggregateTest.testAggBasic
#[test]
fn table_aggregate_basic() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic1",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|k, v| (k.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .aggregate(
            || s("0"),
            |_, v, agg| format!("{agg}+{v}"),
            |_, v, agg| format!("{agg}-{v}"),
            Materialized::named("topic1-Canonized").with_value_serde(StringSerde),
        )
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(StringSerde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kta-basic")).unwrap();
    let input = driver.input_topic("topic1", StringSerde, StringSerde);
    for (k, v, ts) in [
        ("A", "1", 10),
        ("B", "2", 15),
        ("A", "3", 20),
        ("B", "4", 18),
        ("C", "5", 5),
        ("D", "6", 25),
        ("B", "7", 15),
        ("C", "8", 10),
    ] {
        input.pipe_input_at(s(k), s(v), ts).unwrap();
    }
    let expected: Vec<(String, Option<String>, i64)> = [
        ("A", "0+1", 10),
        ("B", "0+2", 15),
        ("A", "0+1-1+3", 20),
        ("B", "0+2-2+4", 18),
        ("C", "0+5", 5),
        ("D", "0+6", 25),
        ("B", "0+2-2+4-4+7", 18),
        ("C", "0+5-5+8", 10),
    ]
    .into_iter()
    .map(|(k, v, ts)| (s(k), Some(s(v)), ts))
    .collect();
    assert_eq!(
        drain(&driver, "out", StringSerde, Nullable(StringSerde)),
        expected
    );
}

// KTableAggregateTest.testAggRepartition (Kafka's mapper returns a null key for "null" and a
// null pair for "NULL"; both are a `None` key here)
#[test]
fn table_aggregate_repartition() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic1",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|k, v| match k.as_str() {
            "null" | "NULL" => (None, v.clone()),
            _ => (Some(v.clone()), v.clone()),
        })
        .with_key_serde(Nullable(StringSerde))
        .with_value_serde(StringSerde)
        .aggregate(
            || s("0"),
            adder,
            remover,
            Materialized::named("topic1-Canonized").with_value_serde(StringSerde),
        )
        .to_stream()
        .to(
            "out",
            Produced::with(Nullable(StringSerde), Nullable(StringSerde)),
        );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kta-rep")).unwrap();
    let input = driver.input_topic("topic1", StringSerde, Nullable(StringSerde));
    input.pipe_input_at(s("A"), Some(s("1")), 10).unwrap();
    input.pipe_input_at(s("A"), None, 15).unwrap();
    input.pipe_input_at(s("A"), Some(s("1")), 12).unwrap();
    input.pipe_input_at(s("B"), Some(s("2")), 20).unwrap();
    input.pipe_input_at(s("null"), Some(s("3")), 25).unwrap();
    input.pipe_input_at(s("B"), Some(s("4")), 23).unwrap();
    input.pipe_input_at(s("NULL"), Some(s("5")), 24).unwrap();
    input.pipe_input_at(s("B"), Some(s("7")), 22).unwrap();
    let expected: Vec<(Option<String>, Option<String>, i64)> = [
        ("1", "0+1", 10),
        ("1", "0+1-1", 15),
        ("1", "0+1-1+1", 15),
        ("2", "0+2", 20),
        ("2", "0+2-2", 23),
        ("4", "0+4", 23),
        ("4", "0+4-4", 23),
        ("7", "0+7", 22),
    ]
    .into_iter()
    .map(|(k, v, ts)| (Some(s(k)), Some(s(v)), ts))
    .collect();
    assert_eq!(
        drain(&driver, "out", Nullable(StringSerde), Nullable(StringSerde)),
        expected
    );
}

fn count_helper(builder: StreamsBuilder, app: &str) {
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached(app)).unwrap();
    let input = driver.input_topic("count-test-input", StringSerde, StringSerde);
    input.pipe_input_at(s("A"), s("green"), 10).unwrap();
    input.pipe_input_at(s("B"), s("green"), 9).unwrap();
    input.pipe_input_at(s("A"), s("blue"), 12).unwrap();
    input.pipe_input_at(s("C"), s("yellow"), 15).unwrap();
    input.pipe_input_at(s("D"), s("green"), 11).unwrap();
    assert_eq!(
        drain(&driver, "out", StringSerde, Nullable(I64Serde)),
        vec![
            (s("green"), Some(1), 10),
            (s("green"), Some(2), 10),
            (s("green"), Some(1), 12),
            (s("blue"), Some(1), 12),
            (s("yellow"), Some(1), 15),
            (s("green"), Some(2), 12),
        ]
    );
}

fn count_topology(materialized: Materialized<String, i64>) -> StreamsBuilder {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "count-test-input",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|_, v| (v.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .count(materialized)
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(I64Serde)));
    builder
}

// KTableAggregateTest.testCount
#[test]
fn table_aggregate_count() {
    count_helper(count_topology(Materialized::named("count")), "kta-count");
}

// KTableAggregateTest.testCountWithInternalStore
#[test]
fn table_aggregate_count_with_internal_store() {
    count_helper(count_topology(Materialized::new()), "kta-count-internal");
}

// KTableAggregateTest.testRemoveOldBeforeAddNew
#[test]
fn table_aggregate_remove_old_before_add_new() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "count-test-input",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|k, _| (k[0..1].to_string(), k[1..2].to_string()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .aggregate(
            String::new,
            |_, v, agg| agg + &v,
            |_, v, agg| agg.replace(&v, ""),
            Materialized::named("someStore").with_value_serde(StringSerde),
        )
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(StringSerde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kta-rob")).unwrap();
    let input = driver.input_topic("count-test-input", StringSerde, Nullable(StringSerde));
    input.pipe_input_at(s("11"), Some(s("A")), 10).unwrap();
    input.pipe_input_at(s("12"), Some(s("B")), 8).unwrap();
    input.pipe_input_at(s("11"), None, 12).unwrap();
    input.pipe_input_at(s("12"), Some(s("C")), 6).unwrap();
    assert_eq!(
        drain(&driver, "out", StringSerde, Nullable(StringSerde)),
        vec![
            (s("1"), Some(s("1")), 10),
            (s("1"), Some(s("12")), 10),
            (s("1"), Some(s("2")), 12),
            (s("1"), Some(s("2")), 12),
        ]
    );
}

// KTableAggregateTest.testShouldNotSendTransientStateIfNotUpgrading (and
// testNoEqualsAndSameObject: the key does not change, so one record, not two)
#[test]
fn table_aggregate_no_transient_state_when_key_unchanged() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "input-topic",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|k, v| (k.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .count(Materialized::new())
        .to_stream()
        .to(
            "output-topic",
            Produced::with(StringSerde, Nullable(I64Serde)),
        );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kta-upg")).unwrap();
    let input = driver.input_topic("input-topic", StringSerde, StringSerde);
    input.pipe_input_at(s("1"), s(""), 8).unwrap();
    input.pipe_input_at(s("1"), s(""), 9).unwrap();
    assert_eq!(
        drain(&driver, "output-topic", StringSerde, Nullable(I64Serde)),
        vec![(s("1"), Some(1), 8), (s("1"), Some(1), 9)]
    );
}

// KTableReduceTest.shouldAddAndSubtract (through the DSL: Kafka drives the processor with
// hand-made changes; here the table's updates produce the same changes)
#[test]
fn table_reduce_add_and_subtract() {
    use std::collections::BTreeSet;
    let builder = StreamsBuilder::new();
    builder
        .table(
            "input",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|_, v| (s("A"), BTreeSet::from([v.clone()])))
        .with_key_serde(StringSerde)
        .with_value_serde(Json::<BTreeSet<String>>::new())
        .reduce(
            |a, b| a.union(&b).cloned().collect(),
            |a, b| a.difference(&b).cloned().collect(),
            Materialized::named("myStore").with_value_serde(Json::<BTreeSet<String>>::new()),
        );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), uncached("ktr")).unwrap();
    let input = driver.input_topic("input", StringSerde, Nullable(StringSerde));
    let store: KeyValueStore<String, BTreeSet<String>> = driver.get_state_store("myStore").unwrap();
    input.pipe_input_at(s("x"), Some(s("a")), 10).unwrap();
    assert_eq!(
        store.get_with_timestamp(&s("A")).unwrap(),
        Some((BTreeSet::from([s("a")]), 10))
    );
    input.pipe_input_at(s("x"), Some(s("b")), 15).unwrap();
    assert_eq!(
        store.get_with_timestamp(&s("A")).unwrap(),
        Some((BTreeSet::from([s("b")]), 15))
    );
    input.pipe_input_at(s("x"), None, 12).unwrap();
    assert_eq!(
        store.get_with_timestamp(&s("A")).unwrap(),
        Some((BTreeSet::new(), 15))
    );
}

/// `KGroupedTableImplTest.assertReduced`: the last value and timestamp per key.
fn grouped_table_assert_reduced(driver: &TopologyTestDriver) {
    let input = driver.input_topic("input", StringSerde, F64Serde);
    let mut last = std::collections::HashMap::new();
    let read = |last: &mut std::collections::HashMap<String, (Option<i32>, i64)>| {
        for (k, v, ts) in drain(driver, "out", StringSerde, Nullable(I32Serde)) {
            last.insert(k, (v, ts));
        }
    };
    input.pipe_input_at(s("A"), 1.1, 10).unwrap();
    input.pipe_input_at(s("B"), 2.2, 11).unwrap();
    read(&mut last);
    assert_eq!(last[&s("A")], (Some(1), 10));
    assert_eq!(last[&s("B")], (Some(2), 11));
    input.pipe_input_at(s("A"), 2.6, 30).unwrap();
    input.pipe_input_at(s("B"), 1.3, 30).unwrap();
    input.pipe_input_at(s("A"), 5.7, 50).unwrap();
    input.pipe_input_at(s("B"), 6.2, 20).unwrap();
    read(&mut last);
    assert_eq!(last[&s("A")], (Some(5), 50));
    assert_eq!(last[&s("B")], (Some(6), 30));
}

fn grouped_table_reduce(
    source: Materialized<String, f64>,
    reduced: Materialized<String, i32>,
) -> StreamsBuilder {
    let builder = StreamsBuilder::new();
    let table = builder
        .table("input", Consumed::with(StringSerde, F64Serde), source)
        .group_by(|k, v| (k.clone(), *v as i32))
        .with_key_serde(StringSerde)
        .with_value_serde(I32Serde)
        .reduce(|a, b| a + b, |a, b| a - b, reduced);
    table
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(I32Serde)));
    builder
}

// KGroupedTableImplTest.shouldReduce
#[test]
fn grouped_table_reduce_named() {
    let builder =
        grouped_table_reduce(Materialized::named("store"), Materialized::named("reduced"));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgt-r")).unwrap();
    grouped_table_assert_reduced(&driver);
}

// KGroupedTableImplTest.shouldReduceWithInternalStoreName
#[test]
fn grouped_table_reduce_internal_store_name() {
    let builder = grouped_table_reduce(Materialized::named("store"), Materialized::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgt-ri")).unwrap();
    grouped_table_assert_reduced(&driver);
}

// KGroupedTableImplTest.shouldReduceAndMaterializeResults
#[test]
fn grouped_table_reduce_and_materialize_results() {
    let builder = grouped_table_reduce(
        Materialized::new(),
        Materialized::named("reduce")
            .with_key_serde(StringSerde)
            .with_value_serde(I32Serde),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgt-rm")).unwrap();
    grouped_table_assert_reduced(&driver);
    let reduce: KeyValueStore<String, i32> = driver.get_state_store("reduce").unwrap();
    assert_eq!(reduce.get_with_timestamp(&s("A")).unwrap(), Some((5, 50)));
    assert_eq!(reduce.get_with_timestamp(&s("B")).unwrap(), Some((6, 30)));
}

/// `KGroupedTableImplTest.processData`.
fn grouped_table_process_data(driver: &TopologyTestDriver) {
    let input = driver.input_topic("input", StringSerde, StringSerde);
    input.pipe_input_at(s("A"), s("1"), 10).unwrap();
    input.pipe_input_at(s("B"), s("1"), 50).unwrap();
    input.pipe_input_at(s("C"), s("1"), 30).unwrap();
    input.pipe_input_at(s("D"), s("2"), 40).unwrap();
    input.pipe_input_at(s("E"), s("2"), 60).unwrap();
}

fn grouped_table_by_value(builder: &StreamsBuilder) -> KGroupedTable<String, String> {
    builder
        .table(
            "input",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|_, v| (v.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
}

// KGroupedTableImplTest.shouldCountAndMaterializeResults
#[test]
fn grouped_table_count_and_materialize_results() {
    let builder = StreamsBuilder::new();
    grouped_table_by_value(&builder).count(
        Materialized::named("count")
            .with_key_serde(StringSerde)
            .with_value_serde(I64Serde),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgt-c")).unwrap();
    grouped_table_process_data(&driver);
    let counts: KeyValueStore<String, i64> = driver.get_state_store("count").unwrap();
    assert_eq!(counts.get_with_timestamp(&s("1")).unwrap(), Some((3, 50)));
    assert_eq!(counts.get_with_timestamp(&s("2")).unwrap(), Some((2, 60)));
}

// KGroupedTableImplTest.shouldAggregateAndMaterializeResults
#[test]
fn grouped_table_aggregate_and_materialize_results() {
    let builder = StreamsBuilder::new();
    grouped_table_by_value(&builder).aggregate(
        || s("0"),
        |_, v, agg| format!("{agg}+{v}"),
        |_, v, agg| format!("{agg}-{v}"),
        Materialized::named("aggregate")
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kgt-a")).unwrap();
    grouped_table_process_data(&driver);
    let agg: KeyValueStore<String, String> = driver.get_state_store("aggregate").unwrap();
    assert_eq!(
        agg.get_with_timestamp(&s("1")).unwrap(),
        Some((s("0+1+1+1"), 50))
    );
    assert_eq!(
        agg.get_with_timestamp(&s("2")).unwrap(),
        Some((s("0+2+2"), 60))
    );
}

// KTableSourceTest.testValueGetter (the source's store holds each key's latest value and
// timestamp; a later update wins even with an older timestamp; tombstones delete)
#[test]
fn table_source_value_getter() {
    let builder = StreamsBuilder::new();
    builder.table(
        "topic1",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("store"),
    );
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("kts-vg")).unwrap();
    let input = driver.input_topic("topic1", StringSerde, Nullable(StringSerde));
    let store: KeyValueStore<String, String> = driver.get_state_store("store").unwrap();
    let get = |k: &str| store.get_with_timestamp(&s(k)).unwrap();
    input.pipe_input_at(s("A"), Some(s("01")), 10).unwrap();
    input.pipe_input_at(s("B"), Some(s("01")), 20).unwrap();
    input.pipe_input_at(s("C"), Some(s("01")), 15).unwrap();
    assert_eq!(get("A"), Some((s("01"), 10)));
    assert_eq!(get("B"), Some((s("01"), 20)));
    assert_eq!(get("C"), Some((s("01"), 15)));
    input.pipe_input_at(s("A"), Some(s("02")), 30).unwrap();
    input.pipe_input_at(s("B"), Some(s("02")), 5).unwrap();
    assert_eq!(get("A"), Some((s("02"), 30)));
    assert_eq!(get("B"), Some((s("02"), 5)));
    assert_eq!(get("C"), Some((s("01"), 15)));
    input.pipe_input_at(s("A"), Some(s("03")), 29).unwrap();
    assert_eq!(get("A"), Some((s("03"), 29)));
    assert_eq!(get("B"), Some((s("02"), 5)));
    assert_eq!(get("C"), Some((s("01"), 15)));
    input.pipe_input_at(s("A"), None, 50).unwrap();
    input.pipe_input_at(s("B"), None, 3).unwrap();
    assert_eq!(get("A"), None);
    assert_eq!(get("B"), None);
    assert_eq!(get("C"), Some((s("01"), 15)));
}

// ---------------------------------------------------------------------------------------------
// KTableFilterTest, KTableMapValuesTest, KTableMapKeysTest, KTableImplTest
// ---------------------------------------------------------------------------------------------

type Out<V> = Vec<(String, Option<V>, i64)>;

fn out<V>(rows: &[(&str, Option<V>, i64)]) -> Out<V>
where
    V: Clone,
{
    rows.iter()
        .map(|(k, v, ts)| (s(k), v.clone(), *ts))
        .collect()
}

// KTableFilterTest.shouldPassThroughWithoutMaterialization (doTestKTable): the source has no
// store name, so the filters do not get old values and a row that does not match is a
// tombstone.
#[test]
fn table_filter_pass_through_without_materialization() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table(
        "topic1",
        Consumed::with(StringSerde, I32Serde),
        Materialized::new(),
    );
    let pred = |_: &String, v: &i32| v % 2 == 0;
    table1
        .filter(pred)
        .to_stream()
        .to("out2", Produced::with(StringSerde, Nullable(I32Serde)));
    table1
        .filter_not(pred)
        .to_stream()
        .to("out3", Produced::with(StringSerde, Nullable(I32Serde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), uncached("ktf")).unwrap();
    let input = driver.input_topic("topic1", StringSerde, Nullable(I32Serde));
    input.pipe_input_at(s("A"), Some(1), 10).unwrap();
    input.pipe_input_at(s("B"), Some(2), 5).unwrap();
    input.pipe_input_at(s("C"), Some(3), 8).unwrap();
    input.pipe_input_at(s("D"), Some(4), 14).unwrap();
    input.pipe_input_at(s("A"), None, 18).unwrap();
    input.pipe_input_at(s("B"), None, 15).unwrap();
    assert_eq!(
        drain(&driver, "out2", StringSerde, Nullable(I32Serde)),
        out(&[
            ("A", None, 10),
            ("B", Some(2), 5),
            ("C", None, 8),
            ("D", Some(4), 14),
            ("A", None, 18),
            ("B", None, 15),
        ])
    );
    assert_eq!(
        drain(&driver, "out3", StringSerde, Nullable(I32Serde)),
        out(&[
            ("A", Some(1), 10),
            ("B", None, 5),
            ("C", Some(3), 8),
            ("D", None, 14),
            ("A", None, 18),
            ("B", None, 15),
        ])
    );
}

// KTableFilterTest.shouldSkipNullToRepartitionWithoutMaterialization
// (doTestSkipNullOnMaterialization): the groupBy after the filter asks for old values, so rows
// that never matched send nothing on.
#[test]
fn table_filter_skips_null_to_repartition_without_materialization() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic1",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .filter(|_, v| v.eq_ignore_ascii_case("accept"))
        .group_by(|k, v| (k.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .reduce(|a, b| a + &b, |a, b| a.replace(&b, ""), Materialized::new());
    let mut topology = builder.build().unwrap();
    let source = node(&topology, "KTABLE-SOURCE-");
    let filter = node(&topology, "KTABLE-FILTER-");
    let proc1 = capture::<String, String>(&mut topology, "proc1", &source);
    let proc2 = capture::<String, String>(&mut topology, "proc2", &filter);
    let driver = TopologyTestDriver::new(topology, uncached("ktf-rep")).unwrap();
    let input = driver.input_topic("topic1", StringSerde, StringSerde);
    input.pipe_input_at(s("A"), s("reject"), 5).unwrap();
    input.pipe_input_at(s("B"), s("reject"), 10).unwrap();
    input.pipe_input_at(s("C"), s("reject"), 20).unwrap();
    assert_eq!(
        take(&proc1),
        vec![
            (s("A"), ch(Some(s("reject")), None), 5),
            (s("B"), ch(Some(s("reject")), None), 10),
            (s("C"), ch(Some(s("reject")), None), 20),
        ]
    );
    assert!(take(&proc2).is_empty());
}

// KTableMapValuesTest.testKTable
#[test]
fn table_map_values() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic1",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .map_values(|v| v.as_bytes()[0] as i32 - 48)
        .to_stream()
        .to("out", Produced::with(StringSerde, Nullable(I32Serde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("ktmv")).unwrap();
    let input = driver.input_topic("topic1", StringSerde, StringSerde);
    input.pipe_input_at(s("A"), s("1"), 5).unwrap();
    input.pipe_input_at(s("B"), s("2"), 25).unwrap();
    input.pipe_input_at(s("C"), s("3"), 20).unwrap();
    input.pipe_input_at(s("D"), s("4"), 10).unwrap();
    assert_eq!(
        drain(&driver, "out", StringSerde, Nullable(I32Serde)),
        out(&[
            ("A", Some(1), 5),
            ("B", Some(2), 25),
            ("C", Some(3), 20),
            ("D", Some(4), 10),
        ])
    );
}

// KTableMapKeysTest.testMapKeysConvertingToStream (Kafka's `toStream(mapper)` is
// `to_stream().select_key(..)` here)
#[test]
fn table_map_keys_converting_to_stream() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "topic_map_keys",
            Consumed::with(I32Serde, StringSerde),
            Materialized::new(),
        )
        .to_stream()
        .select_key(|k, _| match k {
            1 => s("ONE"),
            2 => s("TWO"),
            _ => s("THREE"),
        })
        .to("out", Produced::with(StringSerde, Nullable(StringSerde)));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached("ktmk")).unwrap();
    let input = driver.input_topic("topic_map_keys", I32Serde, StringSerde);
    for (i, (k, v)) in [(1, "V_ONE"), (2, "V_TWO"), (3, "V_THREE")]
        .into_iter()
        .enumerate()
    {
        input.pipe_input_at(k, s(v), 5 + i as i64 * 5).unwrap();
    }
    assert_eq!(
        drain(&driver, "out", StringSerde, Nullable(StringSerde)),
        out(&[
            ("ONE", Some(s("V_ONE")), 5),
            ("TWO", Some(s("V_TWO")), 10),
            ("THREE", Some(s("V_THREE")), 15),
        ])
    );
}

fn ktable_impl_topology(source: Materialized<String, String>) -> StreamsBuilder {
    let builder = StreamsBuilder::new();
    let table1 = builder.table("topic1", Consumed::with(StringSerde, StringSerde), source);
    table1
        .to_stream()
        .to("p0", Produced::with(StringSerde, Nullable(StringSerde)));
    let table2 = table1.map_values(|v| v.parse::<i32>().unwrap());
    table2
        .to_stream()
        .to("p1", Produced::with(StringSerde, Nullable(I32Serde)));
    table2
        .filter(|_, v| v % 2 == 0)
        .to_stream()
        .to("p2", Produced::with(StringSerde, Nullable(I32Serde)));
    table1
        .to_stream()
        .to("topic2", Produced::with(StringSerde, Nullable(StringSerde)));
    builder
        .table(
            "topic2",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .to_stream()
        .to("p3", Produced::with(StringSerde, Nullable(StringSerde)));
    builder
}

fn ktable_impl_run(builder: StreamsBuilder, app: &str) -> TopologyTestDriver {
    let driver = TopologyTestDriver::new(builder.build().unwrap(), cached(app)).unwrap();
    let input = driver.input_topic("topic1", StringSerde, StringSerde);
    for (k, v, ts) in [
        ("A", "01", 5),
        ("B", "02", 100),
        ("C", "03", 0),
        ("D", "04", 0),
        ("A", "05", 10),
        ("A", "06", 8),
    ] {
        input.pipe_input_at(s(k), s(v), ts).unwrap();
    }
    let strings = out(&[
        ("A", Some(s("01")), 5),
        ("B", Some(s("02")), 100),
        ("C", Some(s("03")), 0),
        ("D", Some(s("04")), 0),
        ("A", Some(s("05")), 10),
        ("A", Some(s("06")), 8),
    ]);
    assert_eq!(
        drain(&driver, "p0", StringSerde, Nullable(StringSerde)),
        strings
    );
    assert_eq!(
        drain(&driver, "p1", StringSerde, Nullable(I32Serde)),
        out(&[
            ("A", Some(1), 5),
            ("B", Some(2), 100),
            ("C", Some(3), 0),
            ("D", Some(4), 0),
            ("A", Some(5), 10),
            ("A", Some(6), 8),
        ])
    );
    assert_eq!(
        drain(&driver, "p3", StringSerde, Nullable(StringSerde)),
        strings
    );
    driver
}

// KTableImplTest.testKTable: the source has no store name, so the filter after map_values
// sends tombstones for rows that do not match.
#[test]
fn table_impl_ktable() {
    let driver = ktable_impl_run(ktable_impl_topology(Materialized::new()), "kti");
    assert_eq!(
        drain(&driver, "p2", StringSerde, Nullable(I32Serde)),
        out(&[
            ("A", None, 5),
            ("B", Some(2), 100),
            ("C", None, 0),
            ("D", Some(4), 0),
            ("A", None, 10),
            ("A", Some(6), 8),
        ])
    );
}

// KTableImplTest.testMaterializedKTable: the source has a store ("fred"), so the filter gets
// old values and sends nothing for rows that neither match nor matched.
#[test]
fn table_impl_materialized_ktable() {
    let driver = ktable_impl_run(ktable_impl_topology(Materialized::named("fred")), "kti-m");
    assert_eq!(
        drain(&driver, "p2", StringSerde, Nullable(I32Serde)),
        out(&[("B", Some(2), 100), ("D", Some(4), 0), ("A", Some(6), 8)])
    );
}

// KGroupedStreamImplTest.shouldNotHaveInvalidStoreNameOnReduce / OnAggregate,
// KGroupedTableImplTest.shouldNotAllowInvalidStoreNameOnAggregate / OnReduce: a store name
// that is not a legal topic name fails the build.
#[test]
fn invalid_store_names_fail_the_build() {
    const INVALID_STORE_NAME: &str = "~foo bar~";
    let builder = StreamsBuilder::new();
    grouped_stream(&builder).reduce(|a, b| a + &b, Materialized::named(INVALID_STORE_NAME));
    assert!(matches!(
        builder.build(),
        Err(StreamsError::InvalidTopology(_))
    ));
    let builder = StreamsBuilder::new();
    grouped_stream(&builder).aggregate(
        || s("0"),
        |_, v, agg| agg + &v,
        Materialized::named(INVALID_STORE_NAME),
    );
    assert!(matches!(
        builder.build(),
        Err(StreamsError::InvalidTopology(_))
    ));
    let builder = StreamsBuilder::new();
    grouped_table_by_value(&builder).aggregate(
        || s("0"),
        |_, v, agg| agg + &v,
        |_, v, agg| agg + &v,
        Materialized::named(INVALID_STORE_NAME),
    );
    assert!(matches!(
        builder.build(),
        Err(StreamsError::InvalidTopology(_))
    ));
    let builder = StreamsBuilder::new();
    grouped_table_by_value(&builder).reduce(
        |a, b| a + &b,
        |a, b| a + &b,
        Materialized::named(INVALID_STORE_NAME),
    );
    assert!(matches!(
        builder.build(),
        Err(StreamsError::InvalidTopology(_))
    ));
}

// KTableImplTest.shouldCreateSourceAndSinkNodesForRepartitioningTopic (the repartition sink
// and source of each group_by, named as Kafka names them; 3 stores)
#[test]
fn table_group_by_creates_repartition_sink_and_source_nodes() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table(
        "topic1",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("storeName1")
            .with_key_serde(StringSerde)
            .with_value_serde(StringSerde),
    );
    table1
        .group_by(|k, v| (k.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .aggregate(
            || s("0"),
            |_, v, agg| agg + &v,
            |_, v, agg| agg + &v,
            Materialized::named("mock-result1"),
        );
    table1
        .group_by(|k, v| (k.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .reduce(
            |a, b| a + &b,
            |a, b| a + &b,
            Materialized::named("mock-result2"),
        );
    let topology = builder.build().unwrap();
    let text = topology.describe().to_string();
    println!("{text}");
    for name in [
        "Sink: KSTREAM-SINK-0000000003",
        "Source: KSTREAM-SOURCE-0000000004",
        "Sink: KSTREAM-SINK-0000000007",
        "Source: KSTREAM-SOURCE-0000000008",
    ] {
        assert!(text.contains(name), "missing {name} in {text}");
    }
    let stores: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.split("stores: [").nth(1))
        .flat_map(|l| l.trim_end_matches(")").trim_end_matches(']').split(", "))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(stores.len(), 3, "{stores:?}");
}

/// The names of the stores the topology's nodes use.
fn store_names(topology: &Topology) -> std::collections::BTreeSet<String> {
    topology
        .describe()
        .to_string()
        .lines()
        .filter_map(|l| l.split("stores: [").nth(1))
        .flat_map(|l| {
            l.trim_end_matches(')')
                .trim_end_matches(']')
                .split(", ")
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

// KTableImplTest.testStateStoreLazyEval: Kafka creates no store for source tables nothing reads.
#[test]
#[ignore = "differs from Kafka: every source table here has a store (and changelog), Kafka materializes one only when a downstream operation or Materialized::as needs it"]
fn table_impl_state_store_lazy_eval() {
    let builder = StreamsBuilder::new();
    let consumed = || Consumed::with(StringSerde, StringSerde);
    let table1 = builder.table("topic1", consumed(), Materialized::new());
    builder.table("topic2", consumed(), Materialized::new());
    table1
        .map_values(|v| v.parse::<i32>().unwrap_or(0))
        .filter(|_, v| v % 2 == 0);
    assert_eq!(store_names(&builder.build().unwrap()).len(), 0);
}

// KTableImplTest.testStateStore: the join reads table1's store through map_values and filter.
#[test]
#[ignore = "differs from Kafka: a join of a table without a store of its own (after map_values/filter) materializes it in an extra store; Kafka reads through the parents' value getters"]
fn table_impl_state_store() {
    let builder = StreamsBuilder::new();
    let consumed = || Consumed::with(StringSerde, StringSerde);
    let table1 = builder.table("topic1", consumed(), Materialized::new());
    let table2 = builder.table("topic2", consumed(), Materialized::new());
    let filtered = table1
        .map_values(|v| v.parse::<i32>().unwrap_or(0))
        .filter(|_, v| v % 2 == 0);
    table2.join(&filtered, |a: &String, b: &i32| format!("{a}{b}"));
    assert_eq!(store_names(&builder.build().unwrap()).len(), 2);
}
