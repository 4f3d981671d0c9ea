//! Conformance: Kafka Streams' unit tests of the stateless `KStream` operations (filter, map,
//! mapValues, flatMap, flatMapValues, selectKey, peek, foreach, split, merge, to, repartition),
//! translated case by case. Kafka's `MockApiProcessorSupplier` (a processor recording what it
//! is given) is [`capture`] here: a `process` node that records `(key, value, timestamp)`.
//! Java sources: `streams/src/test/java/org/apache/kafka/streams/kstream/internals/`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{cached, s};
use streams_core::*;

/// What a capturing processor saw: `(key, value, timestamp)` in processing order.
type Seen<K, V> = Arc<Mutex<Vec<(K, V, i64)>>>;

/// Kafka's `MockApiProcessor`: records every record it processes, forwards nothing.
struct Capture<K, V>(Seen<K, V>);

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V> for Capture<K, V> {
    fn process(&mut self, r: Record<K, V>, _ctx: &mut ProcessorContext<'_, K, V>) -> Result<()> {
        self.0
            .lock()
            .expect("capture lock")
            .push((r.key, r.value, r.timestamp));
        Ok(())
    }
}

/// `stream.process(supplier)` with Kafka's `MockApiProcessorSupplier`; returns what it saw.
fn capture<K: Data + Send, V: Data + Send>(stream: &KStream<K, V>) -> Seen<K, V> {
    let seen: Seen<K, V> = Arc::new(Mutex::new(Vec::new()));
    let handle = seen.clone();
    stream.process::<K, V, _>(move || Capture(handle.clone()), &[]);
    seen
}

fn seen<K: Clone, V: Clone>(seen: &Seen<K, V>) -> Vec<(K, V, i64)> {
    seen.lock().expect("capture lock").clone()
}

fn driver(builder: StreamsBuilder) -> TopologyTestDriver {
    TopologyTestDriver::new(
        builder.build().expect("topology builds"),
        cached("kstream-ops"),
    )
    .expect("driver starts")
}

// ---------------------------------------------------------------------------------------------
// KStreamFilterTest

// KStreamFilterTest.testFilter
#[test]
fn filter_keeps_multiples_of_three() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, StringSerde));
    let processed = capture(&stream.filter(|k, _| k % 3 == 0));
    let driver = driver(builder);
    let input = driver.input_topic("topic", I32Serde, StringSerde);
    for k in [1, 2, 3, 4, 5, 6, 7] {
        input.pipe_input(k, format!("V{k}")).unwrap();
    }
    assert_eq!(seen(&processed).len(), 2);
}

// KStreamFilterTest.testFilterNot
#[test]
fn filter_not_drops_multiples_of_three() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, StringSerde));
    let processed = capture(&stream.filter_not(|k, _| k % 3 == 0));
    let driver = driver(builder);
    for k in [1, 2, 3, 4, 5, 6, 7] {
        let input = driver.input_topic("topic", I32Serde, StringSerde);
        input.pipe_input(k, format!("V{k}")).unwrap();
    }
    assert_eq!(seen(&processed).len(), 5);
}

// ---------------------------------------------------------------------------------------------
// KStreamMapTest

// KStreamMapTest.testMap
#[test]
fn map_swaps_key_and_value_keeping_timestamps() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, StringSerde));
    let processed = capture(&stream.map(|k, v| (v, k)));
    let driver = driver(builder);
    for k in [0, 1, 2, 3] {
        let input = driver.input_topic_with_time("topic", I32Serde, StringSerde, 0, Duration::ZERO);
        input
            .pipe_input_at(k, format!("V{k}"), 10 - i64::from(k))
            .unwrap();
    }
    assert_eq!(
        seen(&processed),
        vec![
            (s("V0"), 0, 10),
            (s("V1"), 1, 9),
            (s("V2"), 2, 8),
            (s("V3"), 3, 7)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// KStreamMapValuesTest

// KStreamMapValuesTest.testFlatMapValues (it tests mapValues)
#[test]
fn map_values_to_length() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, StringSerde));
    let processed = capture(&stream.map_values(|v| v.len() as i32));
    let driver = driver(builder);
    for k in [1, 10, 100, 1000] {
        let input = driver.input_topic("topic", I32Serde, StringSerde);
        input
            .pipe_input_at(k, k.to_string(), i64::from(k) / 2)
            .unwrap();
    }
    assert_eq!(
        seen(&processed),
        vec![(1, 1, 0), (10, 2, 5), (100, 3, 50), (1000, 4, 500)]
    );
}

// KStreamMapValuesTest.testMapValuesWithKeys
#[test]
fn map_values_with_key() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, StringSerde));
    let processed = capture(&stream.map_values_with_key(|k, v| v.len() as i32 + k));
    let driver = driver(builder);
    let input = driver.input_topic("topic", I32Serde, StringSerde);
    for k in [1, 10, 100, 1000] {
        input
            .pipe_input_at(k, k.to_string(), i64::from(k) / 2)
            .unwrap();
    }
    assert_eq!(
        seen(&processed),
        vec![(1, 2, 0), (10, 12, 5), (100, 103, 50), (1000, 1004, 500)]
    );
}

// ---------------------------------------------------------------------------------------------
// KStreamFlatMapTest

// KStreamFlatMapTest.testFlatMap
#[test]
fn flat_map_emits_key_times_records() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, StringSerde));
    let processed = capture(&stream.flat_map(|k, v| {
        (0..k)
            .map(|i| ((k * 10 + i).to_string(), v.clone()))
            .collect::<Vec<_>>()
    }));
    let driver = driver(builder);
    let input = driver.input_topic_with_time("topic", I32Serde, StringSerde, 0, Duration::ZERO);
    for k in [0, 1, 2, 3] {
        input.pipe_input(k, format!("V{k}")).unwrap();
    }
    assert_eq!(
        seen(&processed),
        vec![
            (s("10"), s("V1"), 0),
            (s("20"), s("V2"), 0),
            (s("21"), s("V2"), 0),
            (s("30"), s("V3"), 0),
            (s("31"), s("V3"), 0),
            (s("32"), s("V3"), 0)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// KStreamFlatMapValuesTest

// KStreamFlatMapValuesTest.testFlatMapValues
#[test]
fn flat_map_values_two_values_each() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, I32Serde));
    let processed = capture(&stream.flat_map_values(|v| vec![format!("v{v}"), format!("V{v}")]));
    let driver = driver(builder);
    let input = driver.input_topic_with_time("topic", I32Serde, I32Serde, 0, Duration::ZERO);
    for k in [0, 1, 2, 3] {
        input.pipe_input_at(k, k, 0).unwrap();
    }
    assert_eq!(
        seen(&processed),
        vec![
            (0, s("v0"), 0),
            (0, s("V0"), 0),
            (1, s("v1"), 0),
            (1, s("V1"), 0),
            (2, s("v2"), 0),
            (2, s("V2"), 0),
            (3, s("v3"), 0),
            (3, s("V3"), 0)
        ]
    );
}

// KStreamFlatMapValuesTest.testFlatMapValuesWithKeys (the key is read through map_values_with_key
// into a Vec, then flattened: this crate's flat_map_values has no with-key variant)
#[test]
fn flat_map_values_with_keys() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, I32Serde));
    let processed = capture(
        &stream
            .map_values_with_key(|k, v| vec![format!("v{v}"), format!("k{k}")])
            .flat_map_values(|vs| vs),
    );
    let driver = driver(builder);
    let input = driver.input_topic_with_time("topic", I32Serde, I32Serde, 0, Duration::ZERO);
    for k in [0, 1, 2, 3] {
        input.pipe_input_at(k, k, 0).unwrap();
    }
    assert_eq!(
        seen(&processed),
        vec![
            (0, s("v0"), 0),
            (0, s("k0"), 0),
            (1, s("v1"), 0),
            (1, s("k1"), 0),
            (2, s("v2"), 0),
            (2, s("k2"), 0),
            (3, s("v3"), 0),
            (3, s("k3"), 0)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// KStreamSelectKeyTest

// KStreamSelectKeyTest.testSelectKey (records piped without a key: a nullable key serde)
#[test]
fn select_key_from_value() {
    let builder = StreamsBuilder::new();
    let key_map: HashMap<i32, String> = [(1, s("ONE")), (2, s("TWO")), (3, s("THREE"))].into();
    let stream = builder.stream(
        "topic_key_select",
        Consumed::with(Nullable(StringSerde), I32Serde),
    );
    let processed = capture(&stream.select_key(move |_, v| key_map[v].clone()));
    let driver = driver(builder);
    let input = driver.input_topic_with_time(
        "topic_key_select",
        Nullable(StringSerde),
        I32Serde,
        0,
        Duration::ZERO,
    );
    for v in [1, 2, 3] {
        input.pipe_value(v).unwrap();
    }
    assert_eq!(
        seen(&processed),
        vec![(s("ONE"), 1, 0), (s("TWO"), 2, 0), (s("THREE"), 3, 0)]
    );
}

// ---------------------------------------------------------------------------------------------
// KStreamPeekTest

// KStreamPeekTest.shouldObserveStreamElements
#[test]
fn peek_observes_every_record_and_forwards_it() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", Consumed::with(I32Serde, StringSerde));
    let peek_observed = Arc::new(Mutex::new(Vec::new()));
    let stream_observed = Arc::new(Mutex::new(Vec::new()));
    let (p, f) = (peek_observed.clone(), stream_observed.clone());
    stream
        .peek(move |k, v| p.lock().unwrap().push((*k, v.clone())))
        .foreach(move |k, v| f.lock().unwrap().push((*k, v.clone())));
    let driver = driver(builder);
    let input = driver.input_topic("topic", I32Serde, StringSerde);
    let mut expected = Vec::new();
    for key in 0..32 {
        let value = format!("V{key}");
        input.pipe_input(key, value.clone()).unwrap();
        expected.push((key, value));
    }
    assert_eq!(*peek_observed.lock().unwrap(), expected);
    assert_eq!(*stream_observed.lock().unwrap(), expected);
}

// ---------------------------------------------------------------------------------------------
// KStreamForeachTest

// KStreamForeachTest.testForeach
#[test]
fn foreach_calls_the_action_per_record() {
    let actual = Arc::new(Mutex::new(Vec::new()));
    let a = actual.clone();
    let builder = StreamsBuilder::new();
    builder
        .stream("topic", Consumed::with(I32Serde, StringSerde))
        .foreach(move |k, v| a.lock().unwrap().push((k * 2, v.to_uppercase())));
    let driver = driver(builder);
    let input = driver.input_topic("topic", I32Serde, StringSerde);
    for (k, v) in [(0, "zero"), (1, "one"), (2, "two"), (3, "three")] {
        input.pipe_input(k, s(v)).unwrap();
    }
    assert_eq!(
        *actual.lock().unwrap(),
        vec![
            (0, s("ZERO")),
            (2, s("ONE")),
            (4, s("TWO")),
            (6, s("THREE"))
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// KStreamSplitTest

fn split_source(builder: &StreamsBuilder) -> KStream<i32, String> {
    builder.stream("topic", Consumed::with(I32Serde, StringSerde))
}

/// KStreamSplitTest.withDriver: pipes keys -1..=7 with values "V<key>".
fn split_driver(builder: StreamsBuilder) -> TopologyTestDriver {
    let driver = driver(builder);
    let input = driver.input_topic("topic", I32Serde, StringSerde);
    for k in [-1, 0, 1, 2, 3, 4, 5, 6, 7] {
        input.pipe_input(k, format!("V{k}")).unwrap();
    }
    driver
}

fn values(driver: &TopologyTestDriver, topic: &str) -> Vec<String> {
    driver
        .output_topic(topic, I32Serde, StringSerde)
        .read_values_to_list()
        .unwrap()
}

// KStreamSplitTest.testKStreamSplit
#[test]
fn split_into_consumers() {
    let builder = StreamsBuilder::new();
    let branches = split_source(&builder)
        .split()
        .branch(
            |k, _| k % 2 == 0,
            Branched::with_consumer(|ks| ks.to("x2", Produced::new())),
        )
        .branch(
            |k, _| k % 3 == 0,
            Branched::with_consumer(|ks| ks.to("x3", Produced::new())),
        )
        .branch(
            |k, _| k % 5 == 0,
            Branched::with_consumer(|ks| ks.to("x5", Produced::new())),
        )
        .no_default_branch();
    assert_eq!(branches.len(), 0);
    let driver = split_driver(builder);
    assert_eq!(values(&driver, "x2"), ["V0", "V2", "V4", "V6"]);
    assert_eq!(values(&driver, "x3"), ["V3"]);
    assert_eq!(values(&driver, "x5"), ["V5"]);
}

// KStreamSplitTest.testResultingMap (Kafka's `Branched.withFunction(ks -> null)` has no
// equivalent: a function here always returns a stream; the "no entry" outcome it tests is the
// consumer's, so that branch is a consumer)
#[test]
fn split_resulting_map_names() {
    let builder = StreamsBuilder::new();
    let branches = split_source(&builder)
        .named("foo-")
        .split()
        // "foo-bar"
        .branch(|k, _| k % 2 == 0, Branched::named("bar"))
        // no entry: a consumer is provided
        .branch(|k, _| k % 3 == 0, Branched::with_consumer(|_| {}))
        // no entry: (Kafka: the chain function returns null)
        .branch(|k, _| k % 5 == 0, Branched::with_consumer(|_| {}))
        // "foo-4": the chain function returns a stream
        .branch(|k, _| *k < 0, Branched::with_function(|ks| ks))
        // "foo-5": named by the branch position
        .branch(|k, _| k % 7 == 0, Branched::new())
        // "foo-0": the default branch
        .default_branch(Branched::new());
    assert_eq!(branches.len(), 4);
    for (name, stream) in &branches {
        stream.to(name, Produced::new());
    }
    let driver = split_driver(builder);
    assert_eq!(values(&driver, "foo-bar"), ["V0", "V2", "V4", "V6"]);
    assert_eq!(values(&driver, "foo-4"), ["V-1"]);
    assert_eq!(values(&driver, "foo-5"), ["V7"]);
    assert_eq!(values(&driver, "foo-0"), ["V1"]);
}

// KStreamSplitTest.testBranchingWithNoTerminalOperation
#[test]
fn split_without_terminal_operation_still_branches() {
    let builder = StreamsBuilder::new();
    let _ = split_source(&builder)
        .split()
        .branch(
            |k, _| k % 2 == 0,
            Branched::with_consumer(|ks| ks.to("output", Produced::new())),
        )
        .branch(
            |k, _| k % 5 == 0,
            Branched::with_consumer(|ks| ks.to("output", Produced::new())),
        );
    let driver = split_driver(builder);
    assert_eq!(values(&driver, "output"), ["V0", "V2", "V4", "V5", "V6"]);
}

// ---------------------------------------------------------------------------------------------
// KStreamImplValueJoinerWithKeyTest

// KStreamImplValueJoinerWithKeyTest.shouldIncludeKeyInStreamSteamJoinResults
#[test]
fn value_joiner_with_key_stream_stream_join() {
    let builder = StreamsBuilder::new();
    let left = builder.stream("left", Consumed::with(StringSerde, I32Serde));
    let right = builder.stream("right", Consumed::with(StringSerde, I32Serde));
    left.join_with_key(
        &right,
        |k: &String, lv: &i32, rv: &i32| format!("{k}:{}", lv + rv),
        JoinWindows::of_time_difference_and_grace(
            Duration::from_millis(100),
            Duration::from_secs(24 * 3600),
        )
        .unwrap(),
        StreamJoined::with(StringSerde, I32Serde, I32Serde),
    )
    .to("joined-result", Produced::with(StringSerde, StringSerde));
    let driver = driver(builder);
    let right_in = driver.input_topic("right", StringSerde, I32Serde);
    let left_in = driver.input_topic("left", StringSerde, I32Serde);
    let out = driver.output_topic("joined-result", StringSerde, StringSerde);
    left_in.pipe_input(s("A"), 3).unwrap();
    right_in.pipe_input(s("A"), 2).unwrap();
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![(s("A"), s("A:5"))]
    );
}

// ---------------------------------------------------------------------------------------------
// KStreamImplTest (DSL behaviour; Java null-argument checks are not applicable)

fn string_consumed() -> Consumed<String, String> {
    Consumed::with(StringSerde, StringSerde)
}

// KStreamImplTest.shouldSendDataThroughRepartitionTopicUsingRepartitioned
#[test]
fn repartition_with_serdes_sends_data_through() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", string_consumed());
    let processed = capture(&stream.repartition(Repartitioned::with(StringSerde, StringSerde)));
    let driver = driver(builder);
    let input = driver.input_topic_with_time("topic", StringSerde, StringSerde, 0, Duration::ZERO);
    input.pipe_input(s("a"), s("b")).unwrap();
    assert_eq!(seen(&processed), vec![(s("a"), s("b"), 0)]);
}

// KStreamImplTest.shouldSendDataToTopicUsingProduced
#[test]
fn to_with_produced_is_read_back() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", string_consumed());
    stream.to("to-topic", Produced::with(StringSerde, StringSerde));
    let processed = capture(&builder.stream("to-topic", string_consumed()));
    let driver = driver(builder);
    let input = driver.input_topic_with_time("topic", StringSerde, StringSerde, 0, Duration::ZERO);
    input.pipe_input(s("e"), s("f")).unwrap();
    assert_eq!(seen(&processed), vec![(s("e"), s("f"), 0)]);
}

// KStreamImplTest.shouldSendDataToDynamicTopics
#[test]
fn to_dynamic_topics_by_extractor() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream("topic", string_consumed());
    stream.to_dynamic(
        |k: &String, v: &String, meta: Option<&RecordMetadata>| {
            let topic = meta.map(|m| m.topic.to_string()).unwrap_or_default();
            format!("{topic}-{k}-{}", &v[..1])
        },
        Produced::with(StringSerde, StringSerde),
    );
    let a = capture(&builder.stream("topic-a-v", string_consumed()));
    let b = capture(&builder.stream("topic-b-v", string_consumed()));
    let driver = driver(builder);
    let input = driver.input_topic_with_time("topic", StringSerde, StringSerde, 0, Duration::ZERO);
    input.pipe_input(s("a"), s("v1")).unwrap();
    input.pipe_input(s("a"), s("v2")).unwrap();
    input.pipe_input(s("b"), s("v1")).unwrap();
    assert_eq!(seen(&a), vec![(s("a"), s("v1"), 0), (s("a"), s("v2"), 0)]);
    assert_eq!(seen(&b), vec![(s("b"), s("v1"), 0)]);
}

// KStreamImplTest.shouldPropagateRepartitionFlagAfterGlobalKTableJoin
#[test]
fn repartition_flag_survives_global_table_join() {
    let builder = StreamsBuilder::new();
    let global = builder.global_table(
        "globalTopic",
        string_consumed(),
        Materialized::<String, String>::new(),
    );
    builder
        .stream("topic", string_consumed())
        .select_key(|_, v| v.clone())
        .join_global(
            &global,
            |k, v| format!("{k}{v}"),
            |v1, v2| format!("{v1}{v2}"),
        )
        .group_by_key()
        .count(Materialized::new());
    let description = builder.build().unwrap().describe().to_string();
    // Kafka's regex `Sink: .*-repartition`: a sink line naming a repartition topic.
    let found = description.lines().any(|l| {
        l.find("Sink: ")
            .is_some_and(|at| l[at..].contains("-repartition"))
    });
    assert!(found, "no repartition sink in\n{description}");
}

// KStreamImplTest.shouldMergeTwoStreams
#[test]
fn merge_two_streams() {
    let builder = StreamsBuilder::new();
    let source1 = builder.stream("topic-1", string_consumed());
    let source2 = builder.stream("topic-2", string_consumed());
    let processed = capture(&source1.merge(&source2));
    let driver = driver(builder);
    let in1 = driver.input_topic_with_time("topic-1", StringSerde, StringSerde, 0, Duration::ZERO);
    let in2 = driver.input_topic_with_time("topic-2", StringSerde, StringSerde, 0, Duration::ZERO);
    in1.pipe_input(s("A"), s("aa")).unwrap();
    in2.pipe_input(s("B"), s("bb")).unwrap();
    in2.pipe_input(s("C"), s("cc")).unwrap();
    in1.pipe_input(s("D"), s("dd")).unwrap();
    assert_eq!(
        seen(&processed),
        vec![
            (s("A"), s("aa"), 0),
            (s("B"), s("bb"), 0),
            (s("C"), s("cc"), 0),
            (s("D"), s("dd"), 0)
        ]
    );
}

// KStreamImplTest.shouldMergeMultipleStreams
#[test]
fn merge_multiple_streams() {
    let builder = StreamsBuilder::new();
    let sources: Vec<_> = ["topic-1", "topic-2", "topic-3", "topic-4"]
        .iter()
        .map(|t| builder.stream(t, string_consumed()))
        .collect();
    let merged = sources[0]
        .merge(&sources[1])
        .merge(&sources[2])
        .merge(&sources[3]);
    let processed = capture(&merged);
    let driver = driver(builder);
    let input =
        |t: &str| driver.input_topic_with_time(t, StringSerde, StringSerde, 0, Duration::ZERO);
    let (in1, in2, in3, in4) = (
        input("topic-1"),
        input("topic-2"),
        input("topic-3"),
        input("topic-4"),
    );
    in1.pipe_input_at(s("A"), s("aa"), 1).unwrap();
    in2.pipe_input_at(s("B"), s("bb"), 9).unwrap();
    in3.pipe_input_at(s("C"), s("cc"), 2).unwrap();
    in4.pipe_input_at(s("D"), s("dd"), 8).unwrap();
    in4.pipe_input_at(s("E"), s("ee"), 3).unwrap();
    in3.pipe_input_at(s("F"), s("ff"), 7).unwrap();
    in2.pipe_input_at(s("G"), s("gg"), 4).unwrap();
    in1.pipe_input_at(s("H"), s("hh"), 6).unwrap();
    assert_eq!(
        seen(&processed),
        vec![
            (s("A"), s("aa"), 1),
            (s("B"), s("bb"), 9),
            (s("C"), s("cc"), 2),
            (s("D"), s("dd"), 8),
            (s("E"), s("ee"), 3),
            (s("F"), s("ff"), 7),
            (s("G"), s("gg"), 4),
            (s("H"), s("hh"), 6)
        ]
    );
}

/// A string serde that marks its bytes (`<tag>:<value>`), to see which serde a sink used.
#[derive(Clone, Copy)]
struct Tagged(&'static str);

impl Serde<String> for Tagged {
    fn serialize(&self, value: &String, out: &mut Vec<u8>) -> std::result::Result<(), SerdeError> {
        out.extend_from_slice(format!("{}:{value}", self.0).as_bytes());
        Ok(())
    }
    fn deserialize(&self, data: &[u8]) -> std::result::Result<String, SerdeError> {
        let text = String::from_utf8_lossy(data);
        Ok(text
            .strip_prefix(&format!("{}:", self.0))
            .unwrap_or(&text)
            .to_string())
    }
    fn name(&self) -> String {
        format!("Tagged({})", self.0)
    }
}

// KStreamImplTest.shouldPreserveSerdesForOperators (the stateless operations; the serdes a
// stream keeps are observed through a sink without serdes: it writes with the stream's serdes,
// or the default ones where Kafka's stream has none)
#[test]
fn operators_preserve_or_drop_serdes_as_kafka() {
    let builder = StreamsBuilder::new();
    let stream1 = builder.stream("topic-1", Consumed::with(Tagged("key"), Tagged("value")));
    let sink = |stream: KStream<String, String>, topic: &str| stream.to(topic, Produced::new());
    sink(stream1.filter(|_, _| true), "filter");
    sink(stream1.filter_not(|_, _| false), "filter-not");
    sink(stream1.select_key(|k, _| k.clone()), "select-key");
    sink(stream1.map(|k, v| (k, v)), "map");
    sink(stream1.map_values(|v| v), "map-values");
    sink(stream1.flat_map(|k, v| vec![(k, v)]), "flat-map");
    sink(stream1.flat_map_values(|v| vec![v]), "flat-map-values");
    sink(stream1.merge(&stream1), "merge");
    sink(stream1.repartition(Repartitioned::new()), "repartition");
    sink(
        stream1.repartition(Repartitioned::with(Tagged("my"), Tagged("my"))),
        "repartition-with",
    );
    let driver = driver(builder);
    driver
        .input_topic("topic-1", Tagged("key"), Tagged("value"))
        .pipe_input(s("k"), s("v"))
        .unwrap();
    let raw = |topic: &str| -> Vec<(String, String)> {
        driver
            .output_topic(topic, BytesSerde, BytesSerde)
            .read_key_values_to_list()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    };
    let tagged = (s("key:k"), s("value:v"));
    assert_eq!(raw("filter"), vec![tagged.clone()]);
    assert_eq!(raw("filter-not"), vec![tagged.clone()]);
    assert_eq!(raw("select-key"), vec![(s("k"), s("value:v"))]);
    assert_eq!(raw("map"), vec![(s("k"), s("v"))]);
    assert_eq!(raw("map-values"), vec![(s("key:k"), s("v"))]);
    assert_eq!(raw("flat-map"), vec![(s("k"), s("v"))]);
    assert_eq!(raw("flat-map-values"), vec![(s("key:k"), s("v"))]);
    // Kafka's merge result has no serdes: the defaults write it.
    assert_eq!(raw("merge"), vec![(s("k"), s("v")), (s("k"), s("v"))]);
    assert_eq!(raw("repartition"), vec![tagged]);
    assert_eq!(raw("repartition-with"), vec![(s("my:k"), s("my:v"))]);
}

// ---------------------------------------------------------------------------------------------
// StreamsBuilderTest (streams/src/test/java/org/apache/kafka/streams/): the stateless cases.
// Kafka's `assertNamesForOperation` lists the topology's nodes; here they are read from the
// topology description.

/// The names of all nodes of a built topology, sorted.
fn node_names(builder: StreamsBuilder) -> Vec<String> {
    let description = builder.build().unwrap().describe().to_string();
    let mut names: Vec<String> = description
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            ["Source: ", "Processor: ", "Sink: "]
                .iter()
                .find_map(|p| l.strip_prefix(p))
                .and_then(|rest| rest.split(' ').next())
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    v.sort();
    v
}

const STREAM_TOPIC: &str = "stream-topic";
const STREAM_TOPIC_TWO: &str = "stream-topic-two";
const STREAM_OPERATION_NAME: &str = "stream-operation";

// StreamsBuilderTest.shouldProcessingFromSinkTopic
#[test]
fn processing_from_a_sink_topic() {
    let builder = StreamsBuilder::new();
    let source = builder.stream("topic-source", string_consumed());
    source.to("topic-sink", Produced::new());
    let processed = capture(&source);
    let driver = driver(builder);
    driver
        .input_topic_with_time("topic-source", StringSerde, StringSerde, 0, Duration::ZERO)
        .pipe_input(s("A"), s("aa"))
        .unwrap();
    assert_eq!(seen(&processed), vec![(s("A"), s("aa"), 0)]);
}

// StreamsBuilderTest.shouldProcessViaRepartitionTopic
#[test]
fn processing_via_a_repartition_topic() {
    let builder = StreamsBuilder::new();
    let source = builder.stream("topic-source", string_consumed());
    let through = source.repartition(Repartitioned::new());
    let source_processed = capture(&source);
    let through_processed = capture(&through);
    let driver = driver(builder);
    driver
        .input_topic_with_time("topic-source", StringSerde, StringSerde, 0, Duration::ZERO)
        .pipe_input(s("A"), s("aa"))
        .unwrap();
    assert_eq!(seen(&source_processed), vec![(s("A"), s("aa"), 0)]);
    assert_eq!(seen(&through_processed), vec![(s("A"), s("aa"), 0)]);
}

// StreamsBuilderTest.shouldMergeStreams
#[test]
fn builder_merges_streams() {
    let builder = StreamsBuilder::new();
    let source1 = builder.stream("topic-1", string_consumed());
    let source2 = builder.stream("topic-2", string_consumed());
    let processed = capture(&source1.merge(&source2));
    let driver = driver(builder);
    let in1 = driver.input_topic_with_time("topic-1", StringSerde, StringSerde, 0, Duration::ZERO);
    let in2 = driver.input_topic_with_time("topic-2", StringSerde, StringSerde, 0, Duration::ZERO);
    in1.pipe_input(s("A"), s("aa")).unwrap();
    in2.pipe_input(s("B"), s("bb")).unwrap();
    in2.pipe_input(s("C"), s("cc")).unwrap();
    in1.pipe_input(s("D"), s("dd")).unwrap();
    assert_eq!(
        seen(&processed),
        vec![
            (s("A"), s("aa"), 0),
            (s("B"), s("bb"), 0),
            (s("C"), s("cc"), 0),
            (s("D"), s("dd"), 0)
        ]
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForStreamSourceProcessor
#[test]
fn named_stream_source() {
    let builder = StreamsBuilder::new();
    builder.stream(STREAM_TOPIC, string_consumed().with_name("source-node"));
    builder.stream(STREAM_TOPIC_TWO, string_consumed());
    assert_eq!(
        node_names(builder),
        sorted(&["source-node", "KSTREAM-SOURCE-0000000001"])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForSinkProcessor
#[test]
fn named_sink() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream(STREAM_TOPIC, string_consumed());
    stream.to(
        STREAM_TOPIC_TWO,
        Produced::new().with_name("sink-processor"),
    );
    stream.to(STREAM_TOPIC_TWO, Produced::new());
    assert_eq!(
        node_names(builder),
        sorted(&[
            "KSTREAM-SOURCE-0000000000",
            "sink-processor",
            "KSTREAM-SINK-0000000002"
        ])
    );
}

/// StreamsBuilderTest's single-operation naming cases: `op` on a named stream.
fn named_operation(op: impl FnOnce(KStream<String, String>)) -> Vec<String> {
    let builder = StreamsBuilder::new();
    op(builder
        .stream(STREAM_TOPIC, string_consumed())
        .named(STREAM_OPERATION_NAME));
    node_names(builder)
}

// StreamsBuilderTest.shouldUseSpecifiedNameForMapOperation
#[test]
fn named_map() {
    assert_eq!(
        named_operation(|s| {
            s.map(|k, v| (k, v));
        }),
        sorted(&["KSTREAM-SOURCE-0000000000", STREAM_OPERATION_NAME])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForMapValuesOperation
#[test]
fn named_map_values() {
    assert_eq!(
        named_operation(|s| {
            s.map_values(|v| v);
        }),
        sorted(&["KSTREAM-SOURCE-0000000000", STREAM_OPERATION_NAME])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForMapValuesWithKeyOperation
#[test]
fn named_map_values_with_key() {
    assert_eq!(
        named_operation(|s| {
            s.map_values_with_key(|_, v| v);
        }),
        sorted(&["KSTREAM-SOURCE-0000000000", STREAM_OPERATION_NAME])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForFilterOperation
#[test]
fn named_filter() {
    assert_eq!(
        named_operation(|s| {
            s.filter(|_, _| true);
        }),
        sorted(&["KSTREAM-SOURCE-0000000000", STREAM_OPERATION_NAME])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForForEachOperation
#[test]
fn named_foreach() {
    assert_eq!(
        named_operation(|s| s.foreach(|_, _| {})),
        sorted(&["KSTREAM-SOURCE-0000000000", STREAM_OPERATION_NAME])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForSplitOperation
#[test]
fn named_split() {
    let builder = StreamsBuilder::new();
    let _ = builder
        .stream(STREAM_TOPIC, string_consumed())
        .named("branch-processor")
        .split()
        .branch(|_, _| true, Branched::named("-1"))
        .branch(|_, _| false, Branched::named("-2"));
    assert_eq!(
        node_names(builder),
        sorted(&[
            "KSTREAM-SOURCE-0000000000",
            "branch-processor",
            "branch-processor-1",
            "branch-processor-2"
        ])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForMergeOperation
#[test]
fn named_merge() {
    let builder = StreamsBuilder::new();
    let source1 = builder.stream("topic-1", string_consumed());
    let source2 = builder.stream("topic-2", string_consumed());
    source1.named("merge-processor").merge(&source2);
    assert_eq!(
        node_names(builder),
        sorted(&[
            "KSTREAM-SOURCE-0000000000",
            "KSTREAM-SOURCE-0000000001",
            "merge-processor"
        ])
    );
}

// StreamsBuilderTest.shouldUseSpecifiedNameForProcessOperation
#[test]
fn named_process() {
    let builder = StreamsBuilder::new();
    capture(
        &builder
            .stream(STREAM_TOPIC, string_consumed())
            .named("test-processor"),
    );
    assert_eq!(
        node_names(builder),
        sorted(&["KSTREAM-SOURCE-0000000000", "test-processor"])
    );
}

// StreamsBuilderTest.shouldAllowStreamsFromSameTopic (and both streams get every record)
#[test]
fn streams_from_the_same_topic() {
    let builder = StreamsBuilder::new();
    let first = capture(&builder.stream("topic", string_consumed()));
    let second = capture(&builder.stream("topic", string_consumed()));
    let driver = driver(builder);
    driver
        .input_topic("topic", StringSerde, StringSerde)
        .pipe_input_at(s("k"), s("v"), 5)
        .unwrap();
    assert_eq!(seen(&first), vec![(s("k"), s("v"), 5)]);
    assert_eq!(seen(&second), vec![(s("k"), s("v"), 5)]);
}

// StreamsBuilderTest.shouldAllowReadingFromSameCollectionOfTopics
#[test]
fn streams_from_the_same_collection_of_topics() {
    let builder = StreamsBuilder::new();
    builder.stream_from(&["topic1", "topic2"], string_consumed());
    builder.stream_from(&["topic2", "topic1"], string_consumed());
    assert!(builder.build().is_ok());
}

// StreamsBuilderTest.shouldNotAllowReadingFromOverlappingAndUnequalCollectionOfTopics
#[test]
fn streams_from_overlapping_topic_collections_fail() {
    let builder = StreamsBuilder::new();
    builder.stream_from(&["topic"], string_consumed());
    builder.stream_from(&["topic", "anotherTopic"], string_consumed());
    assert!(builder.build().is_err());
}

// StreamsBuilderTest.shouldNotAllowTablesFromSameTopic
#[test]
fn tables_from_the_same_topic_fail() {
    let builder = StreamsBuilder::new();
    builder.table("topic", string_consumed(), Materialized::new());
    builder.table("topic", string_consumed(), Materialized::new());
    assert!(builder.build().is_err());
}

// StreamsBuilderTest.shouldNowAllowStreamAndTableFromSameTopic
#[test]
fn stream_and_table_from_the_same_topic_fail() {
    let builder = StreamsBuilder::new();
    builder.stream("topic", string_consumed());
    builder.table("topic", string_consumed(), Materialized::new());
    assert!(builder.build().is_err());
}
