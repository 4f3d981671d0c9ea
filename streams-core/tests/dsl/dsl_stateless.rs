//! DSL behaviour through the TopologyTestDriver, with exact expected outputs.

use std::sync::{Arc, Mutex};

use streams_core::*;

fn config() -> StreamsConfig {
    StreamsConfig::new("dsl-test")
}

fn s(x: &str) -> String {
    x.to_string()
}

fn string_stream(builder: &StreamsBuilder, topic: &str) -> KStream<String, String> {
    builder.stream(topic, Consumed::with(StringSerde, StringSerde))
}

#[test]
fn filter_and_filter_not() {
    let builder = StreamsBuilder::new();
    let input = builder.stream("in", Consumed::with(StringSerde, I64Serde));
    input.filter(|_, v| v % 2 == 0).to("even", Produced::new());
    input
        .filter_not(|_, v| v % 2 == 0)
        .to("odd", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("in", StringSerde, I64Serde);
    pipe.pipe_key_values((1..=5).map(|i| (format!("k{i}"), i)))
        .unwrap();
    let even = driver.output_topic("even", StringSerde, I64Serde);
    let odd = driver.output_topic("odd", StringSerde, I64Serde);
    assert_eq!(
        even.read_key_values_to_list().unwrap(),
        vec![(s("k2"), 2), (s("k4"), 4)]
    );
    assert_eq!(
        odd.read_key_values_to_list().unwrap(),
        vec![(s("k1"), 1), (s("k3"), 3), (s("k5"), 5)]
    );
}

#[test]
fn map_and_map_values_keep_timestamps() {
    let builder = StreamsBuilder::new();
    let input = string_stream(&builder, "in");
    input
        .map(|k, v| (v.len() as i64, format!("{k}:{v}")))
        .to("mapped", Produced::with(I64Serde, StringSerde));
    input
        .map_values(|v| v.to_uppercase())
        .to("upper", Produced::new());
    input
        .map_values_with_key(|k, v| format!("{k}={v}"))
        .to("with-key", Produced::with(StringSerde, StringSerde));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("in", StringSerde, StringSerde);
    pipe.pipe_input_at(s("a"), s("xyz"), 1000).unwrap();
    pipe.pipe_input_at(s("b"), s("hello"), 2000).unwrap();

    let mapped = driver
        .output_topic("mapped", I64Serde, StringSerde)
        .read_records_to_list()
        .unwrap();
    assert_eq!(
        mapped
            .iter()
            .map(|r| (r.key, r.value.clone(), r.timestamp))
            .collect::<Vec<_>>(),
        vec![(3, s("a:xyz"), 1000), (5, s("b:hello"), 2000)]
    );
    assert_eq!(
        driver
            .output_topic("upper", StringSerde, StringSerde)
            .read_key_values_to_list()
            .unwrap(),
        vec![(s("a"), s("XYZ")), (s("b"), s("HELLO"))]
    );
    assert_eq!(
        driver
            .output_topic("with-key", StringSerde, StringSerde)
            .read_values_to_list()
            .unwrap(),
        vec![s("a=xyz"), s("b=hello")]
    );
}

#[test]
fn flat_map_and_flat_map_values() {
    let builder = StreamsBuilder::new();
    let input = string_stream(&builder, "in");
    input
        .flat_map(|k, v| {
            v.split(',')
                .map(|w| (w.to_string(), k.clone()))
                .collect::<Vec<_>>()
        })
        .to("inverted", Produced::with(StringSerde, StringSerde));
    input
        .flat_map_values(|v| {
            v.split(',')
                .map(str::len)
                .map(|n| n as i64)
                .collect::<Vec<_>>()
        })
        .to("lengths", Produced::with(StringSerde, I64Serde));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("in", StringSerde, StringSerde);
    pipe.pipe_input(s("doc1"), s("a,bb,ccc")).unwrap();
    pipe.pipe_input(s("doc2"), s("")).unwrap();
    assert_eq!(
        driver
            .output_topic("inverted", StringSerde, StringSerde)
            .read_key_values_to_list()
            .unwrap(),
        vec![
            (s("a"), s("doc1")),
            (s("bb"), s("doc1")),
            (s("ccc"), s("doc1")),
            (s(""), s("doc2")),
        ]
    );
    assert_eq!(
        driver
            .output_topic("lengths", StringSerde, I64Serde)
            .read_key_values_to_list()
            .unwrap(),
        vec![
            (s("doc1"), 1),
            (s("doc1"), 2),
            (s("doc1"), 3),
            (s("doc2"), 0)
        ]
    );
}

#[test]
fn select_key_peek_and_foreach() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let peeked = Arc::new(Mutex::new(Vec::new()));
    let builder = StreamsBuilder::new();
    let (seen2, peeked2) = (seen.clone(), peeked.clone());
    let rekeyed = string_stream(&builder, "in")
        .select_key(|_, v| v.chars().next().map(String::from).unwrap_or_default())
        .peek(move |k, v| peeked2.lock().unwrap().push(format!("{k}/{v}")));
    assert!(rekeyed.repartition_required());
    rekeyed.foreach(move |k, v| seen2.lock().unwrap().push((k.clone(), v.clone())));
    rekeyed.to("out", Produced::with(StringSerde, StringSerde));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("in", StringSerde, StringSerde);
    pipe.pipe_key_values([(s("1"), s("apple")), (s("2"), s("banana"))])
        .unwrap();
    assert_eq!(*peeked.lock().unwrap(), vec![s("a/apple"), s("b/banana")]);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(s("a"), s("apple")), (s("b"), s("banana"))]
    );
    assert_eq!(
        driver
            .output_topic("out", StringSerde, StringSerde)
            .read_key_values_to_list()
            .unwrap(),
        vec![(s("a"), s("apple")), (s("b"), s("banana"))]
    );
}

#[test]
fn merge_takes_records_in_timestamp_order_across_partitions() {
    let builder = StreamsBuilder::new();
    let a = string_stream(&builder, "a");
    let b = string_stream(&builder, "b");
    a.merge(&b).to("merged", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let ia = driver.input_topic("a", StringSerde, StringSerde);
    let ib = driver.input_topic("b", StringSerde, StringSerde);
    // Queue both topics first: the task then picks the lowest head timestamp each time.
    ia.enqueue_key_value_at(s("a"), s("a10"), 10).unwrap();
    ia.enqueue_key_value_at(s("a"), s("a30"), 30).unwrap();
    ia.enqueue_key_value_at(s("a"), s("a5"), 5).unwrap();
    ib.enqueue_key_value_at(s("b"), s("b20"), 20).unwrap();
    ib.enqueue_key_value_at(s("b"), s("b40"), 40).unwrap();
    driver.process_queued().unwrap();
    let out = driver.output_topic("merged", StringSerde, StringSerde);
    let records = out.read_records_to_list().unwrap();
    // Per partition order is kept (a30 before a5); across partitions, lowest head first.
    assert_eq!(
        records
            .iter()
            .map(|r| (r.value.as_str(), r.timestamp))
            .collect::<Vec<_>>(),
        vec![
            ("a10", 10),
            ("b20", 20),
            ("a30", 30),
            ("a5", 5),
            ("b40", 40)
        ]
    );
}

#[test]
fn stream_from_several_topics_orders_by_timestamp() {
    let builder = StreamsBuilder::new();
    builder
        .stream_from(&["x", "y"], Consumed::with(StringSerde, StringSerde))
        .to("out", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let x = driver.input_topic("x", StringSerde, StringSerde);
    let y = driver.input_topic("y", StringSerde, StringSerde);
    y.enqueue_key_value_at(s("k"), s("y1"), 1).unwrap();
    x.enqueue_key_value_at(s("k"), s("x2"), 2).unwrap();
    y.enqueue_key_value_at(s("k"), s("y3"), 3).unwrap();
    driver.process_queued().unwrap();
    assert_eq!(
        driver
            .output_topic("out", StringSerde, StringSerde)
            .read_values_to_list()
            .unwrap(),
        vec![s("y1"), s("x2"), s("y3")]
    );
}

#[test]
fn split_with_named_and_default_branches() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream("fares", Consumed::with(StringSerde, I64Serde))
        .named("fare-")
        .split()
        .branch(|_, v| *v >= 100, Branched::named("high"))
        .branch(|_, v| *v >= 10, Branched::new())
        .default_branch(Branched::named("low"));
    let mut names: Vec<_> = branches.keys().cloned().collect();
    names.sort();
    assert_eq!(names, vec![s("fare-2"), s("fare-high"), s("fare-low")]);
    branches["fare-high"].to("high", Produced::new());
    branches["fare-2"].to("mid", Produced::new());
    branches["fare-low"].to("low", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("fares", StringSerde, I64Serde);
    pipe.pipe_key_values([
        (s("a"), 150),
        (s("b"), 5),
        (s("c"), 100),
        (s("d"), 99),
        (s("e"), 10),
    ])
    .unwrap();
    let read = |t: &str| {
        driver
            .output_topic(t, StringSerde, I64Serde)
            .read_key_values_to_list()
            .unwrap()
    };
    // First matching predicate wins: 150 and 100 go only to "high".
    assert_eq!(read("high"), vec![(s("a"), 150), (s("c"), 100)]);
    assert_eq!(read("mid"), vec![(s("d"), 99), (s("e"), 10)]);
    assert_eq!(read("low"), vec![(s("b"), 5)]);
}

#[test]
fn split_without_default_drops_unmatched_and_chains_functions() {
    let consumed = Arc::new(Mutex::new(Vec::new()));
    let consumed2 = consumed.clone();
    let builder = StreamsBuilder::new();
    let branches = string_stream(&builder, "in")
        .split()
        .branch(
            |_, v| v.starts_with('a'),
            Branched::with_function(|s| s.map_values(|v| format!("A:{v}"))).with_name("a"),
        )
        .branch(
            |_, v| v.starts_with('b'),
            Branched::with_consumer(move |s: KStream<String, String>| {
                s.foreach(move |_, v| consumed2.lock().unwrap().push(v.clone()))
            }),
        )
        .no_default_branch();
    assert_eq!(branches.len(), 1, "consumer branches are not returned");
    let (name, a) = branches.into_iter().next().unwrap();
    assert!(
        name.starts_with("KSTREAM-BRANCH-") && name.ends_with('a'),
        "{name}"
    );
    a.to("a-out", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("in", StringSerde, StringSerde);
    pipe.pipe_key_values([
        (s("1"), s("apple")),
        (s("2"), s("banana")),
        (s("3"), s("cherry")),
    ])
    .unwrap();
    assert_eq!(
        driver
            .output_topic("a-out", StringSerde, StringSerde)
            .read_values_to_list()
            .unwrap(),
        vec![s("A:apple")]
    );
    assert_eq!(*consumed.lock().unwrap(), vec![s("banana")]);
    assert_eq!(driver.metrics().processed, 3);
}

#[test]
fn sink_partitions_by_murmur2_or_custom_partitioner_and_dynamic_topics() {
    let builder = StreamsBuilder::new();
    let input = builder.stream("in", Consumed::with(StringSerde, I64Serde));
    input.to("by-key", Produced::new());
    input.to(
        "custom",
        Produced::new()
            .with_partitioner(|_: &str, _: &String, v: &i64, n: i32| Some((*v % n as i64) as i32)),
    );
    input.to_dynamic(
        |_, v, meta| {
            format!(
                "{}-{}",
                meta.map_or("?", |m| &*m.topic),
                if v % 2 == 0 { "even" } else { "odd" }
            )
        },
        Produced::new(),
    );
    let driver = TopologyTestDriver::builder(builder.build().unwrap(), config())
        .partitions("by-key", 4)
        .partitions("custom", 3)
        .build()
        .unwrap();
    let pipe = driver.input_topic("in", StringSerde, I64Serde);
    pipe.pipe_key_values([(s("21"), 1), (s("foobar"), 2), (s("75"), 5)])
        .unwrap();
    let by_key = driver
        .output_topic("by-key", StringSerde, I64Serde)
        .read_records_to_list()
        .unwrap();
    for r in &by_key {
        assert_eq!(r.partition, murmur2_partition(r.key.as_bytes(), 4), "{r:?}");
    }
    // Java's Utils.toPositive(murmur2("21")) % 4.
    assert_eq!(by_key[0].partition, (-973932308i32 & 0x7fff_ffff) % 4);
    let custom: Vec<i32> = driver
        .output_topic("custom", StringSerde, I64Serde)
        .read_records_to_list()
        .unwrap()
        .iter()
        .map(|r| r.partition)
        .collect();
    assert_eq!(custom, vec![1, 2, 2]);
    assert_eq!(
        driver
            .output_topic("in-odd", StringSerde, I64Serde)
            .read_values_to_list()
            .unwrap(),
        vec![1, 5]
    );
    assert_eq!(
        driver
            .output_topic("in-even", StringSerde, I64Serde)
            .read_values_to_list()
            .unwrap(),
        vec![2]
    );
}

/// Emits `key -> "<task partition>:<value>"` so a test can see which task processed a record.
struct TaggedByTask;
impl Processor<String, String> for TaggedByTask {
    fn process(
        &mut self,
        r: Record<String, String>,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<()> {
        let v = format!("{}:{}", ctx.task_id(), r.value);
        ctx.forward(r.with_value(v))
    }
}

#[test]
fn select_key_then_repartition_routes_to_the_task_owning_the_key() {
    let builder = StreamsBuilder::new();
    string_stream(&builder, "orders")
        .select_key(|_, v| v.split(':').next().unwrap_or("").to_string())
        .repartition(Repartitioned::with(StringSerde, StringSerde).with_name("by-customer"))
        .process(|| TaggedByTask, &[])
        .to("tagged", Produced::with(StringSerde, StringSerde));
    let topology = builder.build().unwrap();
    let driver = TopologyTestDriver::builder(topology, config())
        .partitions("orders", 3)
        .build()
        .unwrap();
    // The repartition topic inherits the source's 3 partitions: 3 tasks per sub-topology.
    assert_eq!(
        driver.partition_count("dsl-test-by-customer-repartition"),
        3
    );
    assert_eq!(driver.task_ids().len(), 6);
    let pipe = driver.input_topic("orders", StringSerde, StringSerde);
    let orders = [
        ("o1", "alice:1"),
        ("o2", "bob:2"),
        ("o3", "carol:3"),
        ("o4", "alice:4"),
        ("o5", "dave:5"),
    ];
    for (i, (k, v)) in orders.iter().enumerate() {
        pipe.pipe_input_at(s(k), s(v), i as i64).unwrap();
    }
    let out = driver
        .output_topic("tagged", StringSerde, StringSerde)
        .read_records_to_list()
        .unwrap();
    assert_eq!(out.len(), 5);
    for (r, (_, v)) in out.iter().zip(orders.iter()) {
        let owner = murmur2_partition(r.key.as_bytes(), 3);
        assert_eq!(r.value, format!("1_{owner}:{v}"), "record {r:?}");
        assert_eq!(r.timestamp, out.iter().position(|x| x == r).unwrap() as i64);
    }
    // The repartition topic is visible too, as written.
    let internal = driver.internal_topic_name("by-customer-repartition");
    let through = driver
        .output_topic(&internal, StringSerde, StringSerde)
        .read_key_values_to_list()
        .unwrap();
    assert_eq!(through[0], (s("alice"), s("alice:1")));
    // Every task processed exactly what it owns.
    let processed: u64 = driver
        .task_ids()
        .into_iter()
        .filter(|t| t.subtopology == 1)
        .map(|t| driver.task_metrics(t).unwrap().processed)
        .sum();
    assert_eq!(processed, 5);
}

#[test]
fn repartition_with_explicit_partition_count() {
    let builder = StreamsBuilder::new();
    string_stream(&builder, "in")
        .repartition(Repartitioned::new().with_number_of_partitions(5))
        .to("out", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    assert_eq!(
        driver.partition_count("dsl-test-KSTREAM-REPARTITION-0000000001-repartition"),
        5
    );
    let pipe = driver.input_topic("in", StringSerde, StringSerde);
    pipe.pipe_input(s("k"), s("v")).unwrap();
    assert_eq!(
        driver
            .output_topic("out", StringSerde, StringSerde)
            .read_key_value()
            .unwrap(),
        (s("k"), s("v"))
    );
}

#[test]
fn describe_matches_kafka_streams_format() {
    let builder = StreamsBuilder::new();
    string_stream(&builder, "input")
        .filter(|_, v| !v.is_empty())
        .to("output", Produced::new());
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-FILTER-0000000001
    Processor: KSTREAM-FILTER-0000000001 (stores: [])
      --> KSTREAM-SINK-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Sink: KSTREAM-SINK-0000000002 (topic: output)
      <-- KSTREAM-FILTER-0000000001

";
    assert_eq!(builder.build().unwrap().describe().to_string(), expected);
}

#[test]
fn describe_shows_sub_topologies_split_at_repartition_topics() {
    let builder = StreamsBuilder::new();
    string_stream(&builder, "input")
        .select_key(|_, v| v.clone())
        .repartition(Repartitioned::new())
        .map_values(|v| v.len() as i64)
        .to("output", Produced::with(StringSerde, I64Serde));
    let description = builder.build().unwrap().describe();
    assert_eq!(description.subtopologies.len(), 2);
    let expected = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-KEY-SELECT-0000000001
    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000004
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000004 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- KSTREAM-KEY-SELECT-0000000001
    Sink: KSTREAM-SINK-0000000003 (topic: KSTREAM-REPARTITION-0000000002-repartition)
      <-- KSTREAM-FILTER-0000000004

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000005 (topics: [KSTREAM-REPARTITION-0000000002-repartition])
      --> KSTREAM-MAPVALUES-0000000006
    Processor: KSTREAM-MAPVALUES-0000000006 (stores: [])
      --> KSTREAM-SINK-0000000007
      <-- KSTREAM-SOURCE-0000000005
    Sink: KSTREAM-SINK-0000000007 (topic: output)
      <-- KSTREAM-MAPVALUES-0000000006

";
    assert_eq!(description.to_string(), expected);
}

#[test]
fn headers_and_timestamps_pass_through() {
    let builder = StreamsBuilder::new();
    string_stream(&builder, "in")
        .map_values(|v| v + "!")
        .to("out", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("in", StringSerde, StringSerde);
    let mut record = Record::new(s("k"), s("v"), 1234);
    record.headers.add("trace", Some(b"abc".to_vec()));
    pipe.pipe_record(record).unwrap();
    let out = driver
        .output_topic("out", StringSerde, StringSerde)
        .read_record()
        .unwrap();
    assert_eq!(out.value, "v!");
    assert_eq!(out.timestamp, 1234);
    assert_eq!(
        out.headers.last("trace").unwrap().value.as_deref(),
        Some(&b"abc"[..])
    );
}

#[test]
fn auto_advancing_input_timestamps() {
    let builder = StreamsBuilder::new();
    string_stream(&builder, "in").to("out", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic_with_time(
        "in",
        StringSerde,
        StringSerde,
        1_000,
        std::time::Duration::from_millis(250),
    );
    pipe.pipe_input(s("a"), s("1")).unwrap();
    pipe.pipe_input(s("b"), s("2")).unwrap();
    pipe.advance_time(std::time::Duration::from_secs(1));
    pipe.pipe_input(s("c"), s("3")).unwrap();
    let ts: Vec<i64> = driver
        .output_topic("out", StringSerde, StringSerde)
        .read_records_to_list()
        .unwrap()
        .iter()
        .map(|r| r.timestamp)
        .collect();
    assert_eq!(ts, vec![1_000, 1_250, 2_500]);
}

#[test]
fn output_topic_reads() {
    let builder = StreamsBuilder::new();
    string_stream(&builder, "in").to("out", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    let pipe = driver.input_topic("in", StringSerde, StringSerde);
    let out = driver.output_topic("out", StringSerde, StringSerde);
    assert!(out.is_empty());
    assert!(
        matches!(out.read_value(), Err(StreamsError::Driver(m)) if m.contains("`out` is empty"))
    );
    pipe.pipe_key_values([(s("a"), s("1")), (s("b"), s("2")), (s("a"), s("3"))])
        .unwrap();
    assert_eq!(out.queue_size(), 3);
    assert_eq!(out.read_value().unwrap(), "1");
    let map = out.read_key_values_to_map().unwrap();
    assert_eq!(map.len(), 2);
    assert_eq!(map["a"], "3");
    assert_eq!(map["b"], "2");
    assert!(out.is_empty());
}

#[test]
fn unit_keys_and_null_keys() {
    let builder = StreamsBuilder::new();
    builder
        .stream("values", Consumed::with(UnitSerde, StringSerde))
        .map_values(|v| v.len() as i64)
        .to("lengths", Produced::with(UnitSerde, I64Serde));
    builder
        .stream("maybe", Consumed::with(Nullable(StringSerde), StringSerde))
        .map(|k: Option<String>, v| (k.unwrap_or_else(|| "<none>".into()), v))
        .to("keyed", Produced::with(StringSerde, StringSerde));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), config()).unwrap();
    driver
        .input_topic("values", UnitSerde, StringSerde)
        .pipe_values([s("abc"), s("de")])
        .unwrap();
    let lengths = driver.output_topic("lengths", Nullable(StringSerde), I64Serde);
    assert_eq!(
        lengths.read_key_values_to_list().unwrap(),
        vec![(None, 3), (None, 2)]
    );
    let maybe = driver.input_topic("maybe", Nullable(StringSerde), StringSerde);
    maybe.pipe_value(s("anonymous")).unwrap();
    maybe.pipe_input(Some(s("id")), s("known")).unwrap();
    assert_eq!(
        driver
            .output_topic("keyed", StringSerde, StringSerde)
            .read_key_values_to_list()
            .unwrap(),
        vec![(s("<none>"), s("anonymous")), (s("id"), s("known"))]
    );
}
