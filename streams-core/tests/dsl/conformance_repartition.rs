//! Conformance: repartitioning. Kafka Streams' `KStreamRepartitionTest`, and the repartition
//! topic names and counts of `StreamsGraphTest` that this crate can observe (through
//! `TopologyDescription`; this crate has no topology optimization, so Kafka's
//! `NO_OPTIMIZATION` results are the ones to match), translated case by case.
//! Java sources: `streams/src/test/java/org/apache/kafka/streams/kstream/internals/`.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{cached, s};
use streams_core::*;

/// Kafka's `Sink: .*-repartition` matches in a topology description (StreamsGraphTest's
/// `getCountOfRepartitionTopicsFound`).
fn repartition_sinks(description: &str) -> usize {
    description
        .lines()
        .filter(|l| {
            l.find("Sink: ")
                .is_some_and(|at| l[at..].contains("-repartition"))
        })
        .count()
}

// KStreamRepartitionTest.shouldInvokePartitionerWhenSet (the partitioner chooses partition 1:
// Kafka's driver ignores partitions, this one checks them, so the input topic, and with it the
// repartition topic, gets two partitions)
#[test]
fn repartition_invokes_the_partitioner() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    let partitioner = move |_topic: &str, k: &i32, v: &String, _n: i32| {
        c.lock().unwrap().push((*k, v.clone()));
        Some(1)
    };
    let builder = StreamsBuilder::new();
    builder
        .stream("input-topic", Consumed::with(I32Serde, StringSerde))
        .repartition(
            Repartitioned::new()
                .with_stream_partitioner(partitioner)
                .with_name("test"),
        );
    let driver = TopologyTestDriver::builder(builder.build().unwrap(), cached("test-app"))
        .partitions("input-topic", 2)
        .build()
        .unwrap();
    let input = driver.input_topic("input-topic", I32Serde, StringSerde);
    let topic = driver.internal_topic_name("test-repartition");
    assert_eq!(topic, "test-app-test-repartition");
    let output = driver.output_topic(&topic, I32Serde, StringSerde);
    for i in 0..2 {
        input
            .pipe_input_at(i, format!("X{i}"), i64::from(i) + 10)
            .unwrap();
    }
    let first = output.read_record().unwrap();
    assert_eq!((first.key, first.value, first.timestamp), (0, s("X0"), 10));
    let second = output.read_record().unwrap();
    assert_eq!(
        (second.key, second.value, second.timestamp),
        (1, s("X1"), 11)
    );
    assert!(output.read_records_to_list().unwrap().is_empty());
    assert_eq!((first.partition, second.partition), (1, 1));
    assert_eq!(*calls.lock().unwrap(), vec![(0, s("X0")), (1, s("X1"))]);
}

// KStreamRepartitionTest.shouldThrowAnExceptionWhenNumberOfPartitionsOfRepartitionOperationsDoNotMatchWhenJoining
#[test]
fn join_of_repartitions_with_different_partition_counts_fails() {
    let builder = StreamsBuilder::new();
    let topic_b = builder
        .stream("topic-b", Consumed::with(I32Serde, StringSerde))
        .repartition(
            Repartitioned::new()
                .with_name("topic-b-scale-up")
                .with_number_of_partitions(2),
        );
    builder
        .stream("input-topic", Consumed::with(I32Serde, StringSerde))
        .repartition(
            Repartitioned::new()
                .with_name("input-topic-scale-up")
                .with_number_of_partitions(4),
        )
        .join(
            &topic_b,
            |_v1, v2| v2.clone(),
            JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(10)).unwrap(),
        )
        .to("topic-output", Produced::new());
    // Kafka fails in `builder.build(props)`; here the check may run when the driver plans the
    // partition counts.
    let err = match builder.build() {
        Err(e) => e,
        Ok(topology) => TopologyTestDriver::new(topology, cached("test-app"))
            .err()
            .expect("co-partitioning violation is an error"),
    };
    let msg = err.to_string();
    assert!(
        msg.contains("input-topic-scale-up-repartition")
            && msg.contains("topic-b-scale-up-repartition"),
        "{msg}"
    );
}

// StreamsGraphTest.shouldNotOptimizeWithValueOrKeyChangingOperatorsAfterInitialKeyChange
// (the NO_OPTIMIZATION topology: one repartition per aggregation)
#[test]
fn value_changes_after_a_key_change_repartition_per_aggregation() {
    let builder = StreamsBuilder::new();
    let mapped = builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .select_key(|k, v| format!("{k}{v}"));
    mapped
        .map_values(|v| v.to_uppercase())
        .group_by_key()
        .count(Materialized::new())
        .to_stream()
        .to("output", Produced::new());
    mapped
        .flat_map_values(|v: String| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_millis(5000)).unwrap())
        .count(Materialized::new())
        .to_stream()
        .to(
            "windowed-output",
            Produced::with(
                TimeWindowedSerde::new(StringSerde, 5000),
                Nullable(I64Serde),
            ),
        );
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 2, "{description}");
}

// StreamsGraphTest.shouldNotOptimizeWhenRepartitionOperationIsDone
#[test]
fn explicit_repartitions_are_kept() {
    let builder = StreamsBuilder::new();
    let input = builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .select_key(|k, v| format!("{k}{v}"));
    input
        .repartition(Repartitioned::new())
        .group_by_key()
        .count(Materialized::new())
        .to_stream()
        .to("output", Produced::new());
    input
        .repartition(Repartitioned::new())
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_millis(5000)).unwrap())
        .count(Materialized::new())
        .to_stream()
        .to(
            "windowed-output",
            Produced::with(
                TimeWindowedSerde::new(StringSerde, 5000),
                Nullable(I64Serde),
            ),
        );
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 2, "{description}");
}

// StreamsGraphTest.shouldBeAbleToProcessNestedMultipleKeyChangingNodes (Kafka builds it with
// optimization on; here it must build)
#[test]
fn nested_key_changing_nodes_build() {
    let builder = StreamsBuilder::new();
    let changed = builder
        .stream("inputTopic", Consumed::with(StringSerde, StringSerde))
        .select_key(|_, v| v.chars().take(5).collect::<String>());
    changed
        .group_by_key()
        .named("count-repartition")
        .count(Materialized::named("count-store"))
        .to_stream()
        .to(
            "count-topic",
            Produced::with(StringSerde, Nullable(I64Serde)),
        );
    changed
        .group_by_key()
        .named("windowed-repartition")
        .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_secs(5)).unwrap())
        .count(Materialized::named("windowed-count-store"))
        .to_stream()
        .map(|k: Windowed<String>, v| (k.key, v))
        .to(
            "windowed-count",
            Produced::with(StringSerde, Nullable(I64Serde)),
        );
    let description = builder.build().unwrap().describe().to_string();
    // A name ending in `-repartition` is not suffixed again.
    assert!(
        description.contains("Sink: count-repartition-sink (topic: count-repartition)"),
        "{description}"
    );
    assert!(
        description.contains("Sink: windowed-repartition-sink (topic: windowed-repartition)"),
        "{description}"
    );
}

// StreamsGraphTest.shouldOptimizeSeveralMergeNodesWithCommonKeyChangingParent (no
// repartition: the description is the same with or without optimization)
#[test]
fn merges_of_a_key_changed_stream_need_no_repartition() {
    let builder = StreamsBuilder::new();
    let parent = builder
        .stream("input_topic", Consumed::with(I32Serde, I32Serde))
        .select_key(|k, v| k + v);
    let child1 = parent.map_values(|v| v + 1);
    let child2 = parent.map_values(|v| v + 2);
    let child3 = parent.map_values(|v| v + 3);
    child1
        .merge(&child2)
        .merge(&child3)
        .to("output_topic", Produced::new());
    let expected = "Topologies:\n".to_string()
        + "   Sub-topology: 0\n"
        + "    Source: KSTREAM-SOURCE-0000000000 (topics: [input_topic])\n"
        + "      --> KSTREAM-KEY-SELECT-0000000001\n"
        + "    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])\n"
        + "      --> KSTREAM-MAPVALUES-0000000002, KSTREAM-MAPVALUES-0000000003, KSTREAM-MAPVALUES-0000000004\n"
        + "      <-- KSTREAM-SOURCE-0000000000\n"
        + "    Processor: KSTREAM-MAPVALUES-0000000002 (stores: [])\n"
        + "      --> KSTREAM-MERGE-0000000005\n"
        + "      <-- KSTREAM-KEY-SELECT-0000000001\n"
        + "    Processor: KSTREAM-MAPVALUES-0000000003 (stores: [])\n"
        + "      --> KSTREAM-MERGE-0000000005\n"
        + "      <-- KSTREAM-KEY-SELECT-0000000001\n"
        + "    Processor: KSTREAM-MAPVALUES-0000000004 (stores: [])\n"
        + "      --> KSTREAM-MERGE-0000000006\n"
        + "      <-- KSTREAM-KEY-SELECT-0000000001\n"
        + "    Processor: KSTREAM-MERGE-0000000005 (stores: [])\n"
        + "      --> KSTREAM-MERGE-0000000006\n"
        + "      <-- KSTREAM-MAPVALUES-0000000002, KSTREAM-MAPVALUES-0000000003\n"
        + "    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n"
        + "      --> KSTREAM-SINK-0000000007\n"
        + "      <-- KSTREAM-MERGE-0000000005, KSTREAM-MAPVALUES-0000000004\n"
        + "    Sink: KSTREAM-SINK-0000000007 (topic: output_topic)\n"
        + "      <-- KSTREAM-MERGE-0000000006\n\n";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}

// StreamsGraphTest.shouldBeAbleToBuildTopologyIncrementally (the last of its three steps: this
// crate's `build` takes the builder, so the topology cannot be built step by step)
#[test]
fn join_filter_map_values_topology_description() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(StringSerde, StringSerde));
    let stream2 = builder.stream("other-topic", Consumed::with(StringSerde, StringSerde));
    stream
        .join(
            &stream2,
            |v, v2| format!("{v}{v2}"),
            JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(5000)).unwrap(),
        )
        .filter(|_, v| v == "foo")
        .map_values(|v| v + "some value")
        .to("output-topic", Produced::new());
    let expected = "Topologies:\n".to_string()
        + "   Sub-topology: 0\n"
        + "    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])\n"
        + "      --> KSTREAM-WINDOWED-0000000002\n"
        + "    Source: KSTREAM-SOURCE-0000000001 (topics: [other-topic])\n"
        + "      --> KSTREAM-WINDOWED-0000000003\n"
        + "    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n"
        + "      --> KSTREAM-JOINTHIS-0000000004\n"
        + "      <-- KSTREAM-SOURCE-0000000000\n"
        + "    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n"
        + "      --> KSTREAM-JOINOTHER-0000000005\n"
        + "      <-- KSTREAM-SOURCE-0000000001\n"
        + "    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n"
        + "      --> KSTREAM-MERGE-0000000006\n"
        + "      <-- KSTREAM-WINDOWED-0000000003\n"
        + "    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n"
        + "      --> KSTREAM-MERGE-0000000006\n"
        + "      <-- KSTREAM-WINDOWED-0000000002\n"
        + "    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n"
        + "      --> KSTREAM-FILTER-0000000007\n"
        + "      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005\n"
        + "    Processor: KSTREAM-FILTER-0000000007 (stores: [])\n"
        + "      --> KSTREAM-MAPVALUES-0000000008\n"
        + "      <-- KSTREAM-MERGE-0000000006\n"
        + "    Processor: KSTREAM-MAPVALUES-0000000008 (stores: [])\n"
        + "      --> KSTREAM-SINK-0000000009\n"
        + "      <-- KSTREAM-FILTER-0000000007\n"
        + "    Sink: KSTREAM-SINK-0000000009 (topic: output-topic)\n"
        + "      <-- KSTREAM-MAPVALUES-0000000008\n\n";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}

// StreamsGraphTest.getTopologyWithChangingValuesAfterChangingKey, run: a key change followed by
// a value change and an aggregation repartitions once, by the new key, and counts per new key
#[test]
fn key_change_then_group_repartitions_once_and_counts_by_new_key() {
    let builder = StreamsBuilder::new();
    builder
        .stream("input", Consumed::with(StringSerde, StringSerde))
        .select_key(|k, v| format!("{k}{v}"))
        .map_values(|v| v.to_uppercase())
        .group_by_key()
        .count(Materialized::new())
        .to_stream()
        .to("output", Produced::with(StringSerde, Nullable(I64Serde)));
    let topology = builder.build().unwrap();
    let description = topology.describe().to_string();
    assert_eq!(repartition_sinks(&description), 1, "{description}");
    let driver = TopologyTestDriver::new(topology, common::uncached("graph")).unwrap();
    let input = driver.input_topic("input", StringSerde, StringSerde);
    input.pipe_input_at(s("a"), s("x"), 1).unwrap();
    input.pipe_input_at(s("b"), s("y"), 2).unwrap();
    input.pipe_input_at(s("a"), s("x"), 3).unwrap();
    assert_eq!(
        common::drain(&driver, "output", StringSerde, Nullable(I64Serde)),
        vec![
            (s("ax"), Some(1), 1),
            (s("by"), Some(1), 2),
            (s("ax"), Some(2), 3)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// RepartitionTopicNamingTest (streams/src/test/java/org/apache/kafka/streams/kstream/)

fn strings(builder: &StreamsBuilder, topic: &str) -> KStream<String, String> {
    builder.stream(topic, Consumed::with(StringSerde, StringSerde))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// RepartitionTopicNamingTest.shouldFailWithSameRepartitionTopicName
#[test]
fn same_grouping_name_on_two_streams_fails() {
    let builder = StreamsBuilder::new();
    strings(&builder, "topic")
        .select_key(|k, _| k.clone())
        .group_by_key()
        .named("grouping")
        .count(Materialized::new())
        .to_stream();
    strings(&builder, "topicII")
        .select_key(|k, _| k.clone())
        .group_by_key()
        .named("grouping")
        .count(Materialized::new())
        .to_stream();
    assert!(builder.build().is_err());
}

// RepartitionTopicNamingTest.shouldNotFailWithSameRepartitionTopicNameUsingSameKGroupedStream
#[test]
fn named_grouped_stream_reuses_its_repartition_topic() {
    let builder = StreamsBuilder::new();
    let grouped = strings(&builder, "topic")
        .select_key(|k, _| k.clone())
        .group_by_key()
        .named("grouping");
    for (size, out) in [(10, "output-one"), (30, "output-two")] {
        grouped
            .windowed_by(TimeWindows::of_size_with_no_grace(ms(size)).unwrap())
            .count(Materialized::new())
            .to_stream()
            .to(
                out,
                Produced::with(
                    TimeWindowedSerde::new(StringSerde, size as i64),
                    Nullable(I64Serde),
                ),
            );
    }
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 1, "{description}");
    assert!(description.contains("grouping-repartition"));
}

// RepartitionTopicNamingTest.shouldNotFailWithSameRepartitionTopicNameUsingSameTimeWindowStream
#[test]
fn named_time_windowed_stream_reuses_its_repartition_topic() {
    let builder = StreamsBuilder::new();
    let grouped = strings(&builder, "topic")
        .select_key(|k, _| k.clone())
        .group_by_key()
        .named("grouping");
    let windowed = grouped.windowed_by(TimeWindows::of_size_with_no_grace(ms(10)).unwrap());
    windowed.count(Materialized::new());
    windowed.reduce(|v, v2| v + &v2, Materialized::new());
    grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(30)).unwrap())
        .count(Materialized::new());
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 1, "{description}");
    assert!(description.contains("grouping-repartition"));
}

// RepartitionTopicNamingTest.shouldNotFailWithSameRepartitionTopicNameUsingSameSessionWindowStream
#[test]
fn named_session_windowed_stream_reuses_its_repartition_topic() {
    let builder = StreamsBuilder::new();
    let grouped = strings(&builder, "topic")
        .select_key(|k, _| k.clone())
        .group_by_key()
        .named("grouping");
    let sessions =
        grouped.windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(10)).unwrap());
    sessions.count(Materialized::new());
    sessions.reduce(|v, v2| v + &v2, Materialized::new());
    grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(30)).unwrap())
        .count(Materialized::new());
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 1, "{description}");
    assert!(description.contains("grouping-repartition"));
}

// RepartitionTopicNamingTest.shouldNotFailWithSameRepartitionTopicNameUsingSameKGroupedTable
#[test]
fn named_grouped_table_reuses_its_repartition_topic() {
    let builder = StreamsBuilder::new();
    let grouped = builder
        .table(
            "topic",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|k, v| (k.clone(), v.clone()))
        .named("grouping");
    grouped.count(Materialized::new());
    grouped.reduce(|_, v2| v2, |_, v2| v2, Materialized::new());
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 1, "{description}");
    assert!(description.contains("grouping-repartition"));
}

// RepartitionTopicNamingTest.shouldNotReuseRepartitionNodeWithUnnamedRepartitionTopics
#[test]
fn unnamed_grouped_stream_repartitions_per_aggregation() {
    let builder = StreamsBuilder::new();
    let grouped = strings(&builder, "topic")
        .select_key(|k, _| k.clone())
        .group_by_key();
    for size in [10, 30] {
        grouped
            .windowed_by(TimeWindows::of_size_with_no_grace(ms(size)).unwrap())
            .count(Materialized::new());
    }
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 2, "{description}");
}

// RepartitionTopicNamingTest.shouldNotReuseRepartitionNodeWithUnnamedRepartitionTopicsKGroupedTable
#[test]
fn unnamed_grouped_table_repartitions_per_aggregation() {
    let builder = StreamsBuilder::new();
    let grouped = builder
        .table(
            "topic",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        )
        .group_by(|k, v| (k.clone(), v.clone()));
    grouped.count(Materialized::new());
    grouped.reduce(|_, v2| v2, |_, v2| v2, Materialized::new());
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 2, "{description}");
}

// RepartitionTopicNamingTest.shouldNotFailWithSameRepartitionTopicNameUsingSameKGroupedStreamOptimizationsOn
// and shouldPassWithSameRepartitionTopicNameUsingSameKGroupedStreamOptimized (this crate does
// not optimize; the named grouping is reused all the same)
#[test]
fn named_grouped_stream_without_sinks_builds_with_one_repartition() {
    let builder = StreamsBuilder::new();
    let grouped = strings(&builder, "topic")
        .select_key(|k, _| k.clone())
        .group_by_key()
        .named("grouping");
    for size in [10, 30] {
        grouped
            .windowed_by(TimeWindows::of_size_with_no_grace(ms(size)).unwrap())
            .count(Materialized::new());
    }
    let description = builder.build().unwrap().describe().to_string();
    assert_eq!(repartition_sinks(&description), 1, "{description}");
}

// RepartitionTopicNamingTest.shouldFailWithSameRepartitionTopicNameInJoin
#[test]
fn same_join_name_twice_fails() {
    let builder = StreamsBuilder::new();
    let stream1 = strings(&builder, "topic").select_key(|k, _| k.clone());
    let stream2 = strings(&builder, "topic2").select_key(|k, _| k.clone());
    let stream3 = strings(&builder, "topic3").select_key(|k, _| k.clone());
    let windows = || JoinWindows::of_time_difference_with_no_grace(ms(30)).unwrap();
    let named = || {
        StreamJoined::with(StringSerde, StringSerde, StringSerde)
            .with_store_name("join-store")
            .with_name("join-repartition")
    };
    let joined = stream1.join_with(&stream2, |v1, v2| format!("{v1}{v2}"), windows(), named());
    joined.join_with(&stream3, |v1, v2| format!("{v1}{v2}"), windows(), named());
    assert!(builder.build().is_err());
}

/// RepartitionTopicNamingTest.buildStreamJoin
fn stream_join_description(other_operations: bool) -> String {
    let builder = StreamsBuilder::new();
    let one = strings(&builder, "topic-one").select_key(|k, v| format!("{k}{v}"));
    let two = strings(&builder, "topic-two").select_key(|k, v| format!("{k}{v}"));
    let (one, two) = if other_operations {
        (
            one.filter(|_, _| true).peek(|_, _| {}),
            two.filter(|_, _| true).peek(|_, _| {}),
        )
    } else {
        (one, two)
    };
    one.join_with(
        &two,
        |v1, v2| format!("{v1}{v2}"),
        JoinWindows::of_time_difference_with_no_grace(ms(1000)).unwrap(),
        StreamJoined::with(StringSerde, StringSerde, StringSerde).with_name("my-join"),
    );
    builder.build().unwrap().describe().to_string()
}

// RepartitionTopicNamingTest.shouldKeepRepartitionTopicNameForJoins
#[test]
fn join_repartition_topic_names_are_kept() {
    for other_operations in [false, true] {
        let description = stream_join_description(other_operations);
        assert!(
            description.contains("(topic: my-join-left-repartition)"),
            "{description}"
        );
        assert!(
            description.contains("(topic: my-join-right-repartition)"),
            "{description}"
        );
    }
}

/// RepartitionTopicNamingTest's grouping builders: a re-keyed stream (with a filter and a
/// `mapValues` first when `other_operations`) grouped by key or by a new key as `name`, then
/// `aggregate` applied.
fn grouped_description(
    other_operations: bool,
    group_by_key: bool,
    name: &str,
    aggregate: impl FnOnce(KGroupedStream<String, String>),
) -> String {
    let builder = StreamsBuilder::new();
    let mut stream = strings(&builder, "topic").select_key(|k, v| format!("{k}{v}"));
    if other_operations {
        stream = stream.filter(|_, _| true).map_values(|v| v);
    }
    let grouped = if group_by_key {
        stream.group_by_key()
    } else {
        stream.group_by(|k, v| format!("{k}{v}"))
    };
    aggregate(grouped.named(name));
    builder.build().unwrap().describe().to_string()
}

// RepartitionTopicNamingTest.shouldKeepRepartitionTopicNameForGroupByKeyTimeWindows and
// shouldKeepRepartitionTopicNameForGroupByTimeWindows (Kafka's by-new-key variant counts
// without windows)
#[test]
fn time_window_grouping_topic_name_is_kept() {
    for group_by_key in [true, false] {
        for other_operations in [false, true] {
            let description = grouped_description(
                other_operations,
                group_by_key,
                "time-window-grouping",
                |g| {
                    if group_by_key {
                        g.windowed_by(TimeWindows::of_size_with_no_grace(ms(10)).unwrap())
                            .count(Materialized::new());
                    } else {
                        g.count(Materialized::new());
                    }
                },
            );
            assert!(
                description.contains("(topic: time-window-grouping-repartition)"),
                "{description}"
            );
        }
    }
}

// RepartitionTopicNamingTest.shouldKeepRepartitionTopicNameForGroupByKeyNoWindows and
// shouldKeepRepartitionTopicNameForGroupByNoWindows
#[test]
fn grouping_topic_name_is_kept() {
    for group_by_key in [true, false] {
        for other_operations in [false, true] {
            let description =
                grouped_description(other_operations, group_by_key, "kstream-grouping", |g| {
                    g.count(Materialized::new());
                });
            assert!(
                description.contains("(topic: kstream-grouping-repartition)"),
                "{description}"
            );
        }
    }
}

// RepartitionTopicNamingTest.shouldKeepRepartitionTopicNameForGroupByKeySessionWindows and
// shouldKeepRepartitionTopicNameForGroupBySessionWindows
#[test]
fn session_window_grouping_topic_name_is_kept() {
    for group_by_key in [true, false] {
        for other_operations in [false, true] {
            let description = grouped_description(
                other_operations,
                group_by_key,
                "session-window-grouping",
                |g| {
                    g.windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(10)).unwrap())
                        .count(Materialized::new());
                },
            );
            assert!(
                description.contains("(topic: session-window-grouping-repartition)"),
                "{description}"
            );
        }
    }
}

// RepartitionTopicNamingTest.shouldKeepRepartitionNameForGroupByKTable
#[test]
fn table_group_by_topic_name_is_kept() {
    for other_operations in [false, true] {
        let builder = StreamsBuilder::new();
        let mut table = builder.table(
            "topic",
            Consumed::with(StringSerde, StringSerde),
            Materialized::new(),
        );
        if other_operations {
            table = table.filter(|_, _| true);
        }
        table
            .group_by(|k, v| (k.clone(), v.clone()))
            .named("ktable-group-by")
            .count(Materialized::new());
        let description = builder.build().unwrap().describe().to_string();
        assert!(
            description.contains("(topic: ktable-group-by-repartition)"),
            "{description}"
        );
    }
}

/// Counts the records it is given (RepartitionTopicNamingTest.SimpleProcessor).
struct SimpleProcessor(Arc<Mutex<Vec<String>>>);

impl Processor<String, String, (), ()> for SimpleProcessor {
    fn process(
        &mut self,
        r: Record<String, String>,
        _ctx: &mut ProcessorContext<'_, (), ()>,
    ) -> Result<()> {
        self.0.lock().unwrap().push(r.value);
        Ok(())
    }
}

// RepartitionTopicNamingTest.shouldReuseFirstRepartitionTopicNameWhenOptimizing (its
// NO_OPTIMIZATION half: this crate does not optimize, so the optimized half is not applicable)
#[test]
#[ignore = "differs from Kafka: the repartition topics, node names and sub-topologies match, \
            but (1) Kafka's count(Materialized) with an unnamed store uses up one extra number \
            (this crate's count(Materialized::new()) numbers as Kafka's count()), (2) a named \
            stream-stream join uses up three more numbers in Kafka (it generates and discards \
            the names of its windowed, join and merge nodes), and (3) Kafka lists \
            a node's successors in an order that depends on Java hash iteration; this crate \
            lists them in the order they were added"]
fn four_named_repartitions_unoptimized_description() {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let builder = StreamsBuilder::new();
    let source = builder.stream("input", Consumed::with(StringSerde, StringSerde));
    let mapped = source.map(|k: String, v| (k.to_uppercase(), v));
    let c = collected.clone();
    mapped
        .filter(|k, _| k == "B")
        .map_values(|v| v.to_uppercase())
        .process::<(), (), _>(move || SimpleProcessor(c.clone()), &[]);
    let count_stream = mapped
        .group_by_key()
        .named("count-stream")
        .count(Materialized::with(StringSerde, I64Serde))
        .to_stream();
    count_stream.to(
        "outputTopic_0",
        Produced::with(StringSerde, Nullable(I64Serde)),
    );
    mapped
        .group_by_key()
        .named("aggregate-stream")
        .aggregate(
            || 0i32,
            |_, v: String, agg| agg + v.len() as i32,
            Materialized::with(StringSerde, I32Serde),
        )
        .to_stream()
        .to(
            "outputTopic_1",
            Produced::with(StringSerde, Nullable(I32Serde)),
        );
    mapped
        .filter(|_, _| true)
        .peek(|_, _| {})
        .group_by_key()
        .named("reduced-stream")
        .reduce(
            |v1, v2| format!("{v1}:{v2}"),
            Materialized::with(StringSerde, StringSerde),
        )
        .to_stream()
        .to(
            "outputTopic_2",
            Produced::with(StringSerde, Nullable(StringSerde)),
        );
    mapped
        .filter(|k, _| k == "A")
        .join_with(
            &count_stream,
            |v1, v2| format!("{v1}:{}", v2.unwrap_or_default()),
            JoinWindows::of_time_difference_with_no_grace(ms(5000)).unwrap(),
            StreamJoined::with(StringSerde, StringSerde, Nullable(I64Serde))
                .with_store_name("joined-stream")
                .with_name("joined-stream"),
        )
        .to("outputTopicForJoin", Produced::new());
    let description = builder.build().unwrap().describe().to_string();
    let expected = "Topologies:\n".to_string()
        + "   Sub-topology: 0\n"
        + "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n"
        + "      --> KSTREAM-MAP-0000000001\n"
        + "    Processor: KSTREAM-MAP-0000000001 (stores: [])\n"
        + "      --> KSTREAM-FILTER-0000000029, KSTREAM-FILTER-0000000002, KSTREAM-FILTER-0000000020, aggregate-stream-repartition-filter, count-stream-repartition-filter\n"
        + "      <-- KSTREAM-SOURCE-0000000000\n"
        + "    Processor: KSTREAM-FILTER-0000000020 (stores: [])\n"
        + "      --> KSTREAM-PEEK-0000000021\n"
        + "      <-- KSTREAM-MAP-0000000001\n"
        + "    Processor: KSTREAM-FILTER-0000000002 (stores: [])\n"
        + "      --> KSTREAM-MAPVALUES-0000000003\n"
        + "      <-- KSTREAM-MAP-0000000001\n"
        + "    Processor: KSTREAM-FILTER-0000000029 (stores: [])\n"
        + "      --> joined-stream-left-repartition-filter\n"
        + "      <-- KSTREAM-MAP-0000000001\n"
        + "    Processor: KSTREAM-PEEK-0000000021 (stores: [])\n"
        + "      --> reduced-stream-repartition-filter\n"
        + "      <-- KSTREAM-FILTER-0000000020\n"
        + "    Processor: KSTREAM-MAPVALUES-0000000003 (stores: [])\n"
        + "      --> KSTREAM-PROCESSOR-0000000004\n"
        + "      <-- KSTREAM-FILTER-0000000002\n"
        + "    Processor: aggregate-stream-repartition-filter (stores: [])\n"
        + "      --> aggregate-stream-repartition-sink\n"
        + "      <-- KSTREAM-MAP-0000000001\n"
        + "    Processor: count-stream-repartition-filter (stores: [])\n"
        + "      --> count-stream-repartition-sink\n"
        + "      <-- KSTREAM-MAP-0000000001\n"
        + "    Processor: joined-stream-left-repartition-filter (stores: [])\n"
        + "      --> joined-stream-left-repartition-sink\n"
        + "      <-- KSTREAM-FILTER-0000000029\n"
        + "    Processor: reduced-stream-repartition-filter (stores: [])\n"
        + "      --> reduced-stream-repartition-sink\n"
        + "      <-- KSTREAM-PEEK-0000000021\n"
        + "    Processor: KSTREAM-PROCESSOR-0000000004 (stores: [])\n"
        + "      --> none\n"
        + "      <-- KSTREAM-MAPVALUES-0000000003\n"
        + "    Sink: aggregate-stream-repartition-sink (topic: aggregate-stream-repartition)\n"
        + "      <-- aggregate-stream-repartition-filter\n"
        + "    Sink: count-stream-repartition-sink (topic: count-stream-repartition)\n"
        + "      <-- count-stream-repartition-filter\n"
        + "    Sink: joined-stream-left-repartition-sink (topic: joined-stream-left-repartition)\n"
        + "      <-- joined-stream-left-repartition-filter\n"
        + "    Sink: reduced-stream-repartition-sink (topic: reduced-stream-repartition)\n"
        + "      <-- reduced-stream-repartition-filter\n"
        + "\n"
        + "  Sub-topology: 1\n"
        + "    Source: count-stream-repartition-source (topics: [count-stream-repartition])\n"
        + "      --> KSTREAM-AGGREGATE-0000000007\n"
        + "    Processor: KSTREAM-AGGREGATE-0000000007 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000006])\n"
        + "      --> KTABLE-TOSTREAM-0000000011\n"
        + "      <-- count-stream-repartition-source\n"
        + "    Processor: KTABLE-TOSTREAM-0000000011 (stores: [])\n"
        + "      --> KSTREAM-SINK-0000000012, joined-stream-other-windowed\n"
        + "      <-- KSTREAM-AGGREGATE-0000000007\n"
        + "    Source: joined-stream-left-repartition-source (topics: [joined-stream-left-repartition])\n"
        + "      --> joined-stream-this-windowed\n"
        + "    Processor: joined-stream-other-windowed (stores: [joined-stream-other-join-store])\n"
        + "      --> joined-stream-other-join\n"
        + "      <-- KTABLE-TOSTREAM-0000000011\n"
        + "    Processor: joined-stream-this-windowed (stores: [joined-stream-this-join-store])\n"
        + "      --> joined-stream-this-join\n"
        + "      <-- joined-stream-left-repartition-source\n"
        + "    Processor: joined-stream-other-join (stores: [joined-stream-this-join-store])\n"
        + "      --> joined-stream-merge\n"
        + "      <-- joined-stream-other-windowed\n"
        + "    Processor: joined-stream-this-join (stores: [joined-stream-other-join-store])\n"
        + "      --> joined-stream-merge\n"
        + "      <-- joined-stream-this-windowed\n"
        + "    Processor: joined-stream-merge (stores: [])\n"
        + "      --> KSTREAM-SINK-0000000038\n"
        + "      <-- joined-stream-this-join, joined-stream-other-join\n"
        + "    Sink: KSTREAM-SINK-0000000012 (topic: outputTopic_0)\n"
        + "      <-- KTABLE-TOSTREAM-0000000011\n"
        + "    Sink: KSTREAM-SINK-0000000038 (topic: outputTopicForJoin)\n"
        + "      <-- joined-stream-merge\n"
        + "\n"
        + "  Sub-topology: 2\n"
        + "    Source: aggregate-stream-repartition-source (topics: [aggregate-stream-repartition])\n"
        + "      --> KSTREAM-AGGREGATE-0000000014\n"
        + "    Processor: KSTREAM-AGGREGATE-0000000014 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000013])\n"
        + "      --> KTABLE-TOSTREAM-0000000018\n"
        + "      <-- aggregate-stream-repartition-source\n"
        + "    Processor: KTABLE-TOSTREAM-0000000018 (stores: [])\n"
        + "      --> KSTREAM-SINK-0000000019\n"
        + "      <-- KSTREAM-AGGREGATE-0000000014\n"
        + "    Sink: KSTREAM-SINK-0000000019 (topic: outputTopic_1)\n"
        + "      <-- KTABLE-TOSTREAM-0000000018\n"
        + "\n"
        + "  Sub-topology: 3\n"
        + "    Source: reduced-stream-repartition-source (topics: [reduced-stream-repartition])\n"
        + "      --> KSTREAM-REDUCE-0000000023\n"
        + "    Processor: KSTREAM-REDUCE-0000000023 (stores: [KSTREAM-REDUCE-STATE-STORE-0000000022])\n"
        + "      --> KTABLE-TOSTREAM-0000000027\n"
        + "      <-- reduced-stream-repartition-source\n"
        + "    Processor: KTABLE-TOSTREAM-0000000027 (stores: [])\n"
        + "      --> KSTREAM-SINK-0000000028\n"
        + "      <-- KSTREAM-REDUCE-0000000023\n"
        + "    Sink: KSTREAM-SINK-0000000028 (topic: outputTopic_2)\n"
        + "      <-- KTABLE-TOSTREAM-0000000027\n\n";
    assert_eq!(description, expected);
    assert_eq!(repartition_sinks(&description), 4);
}
