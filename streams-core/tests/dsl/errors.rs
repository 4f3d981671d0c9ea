//! Bad input and bad topologies: typed errors that say what, where and what to do.

use streams_core::*;

fn s(x: &str) -> String {
    x.to_string()
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Trip {
    id: u32,
    miles: f64,
}

fn trips_driver(config: StreamsConfig) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .stream("trips", Consumed::with(StringSerde, Json::<Trip>::new()))
        .map_values(|t| t.miles)
        .to("miles", Produced::with(StringSerde, F64Serde));
    TopologyTestDriver::new(builder.build().unwrap(), config).unwrap()
}

#[test]
fn invalid_json_names_topic_partition_offset_and_serde() {
    let driver = trips_driver(StreamsConfig::new("errors"));
    driver
        .pipe_raw("trips", Some(b"k"), Some(br#"{"id":1,"miles":2.5}"#), 0)
        .unwrap();
    driver
        .pipe_raw("trips", Some(b"k"), Some(br#"{"id":2,"miles":1.0}"#), 1)
        .unwrap();
    let err = driver
        .pipe_raw("trips", Some(b"k"), Some(b"{not json"), 2)
        .unwrap_err();
    match &err {
        StreamsError::Deserialization {
            location,
            part,
            source,
        } => {
            assert_eq!(
                location,
                &RecordLocation {
                    topic: s("trips"),
                    partition: 0,
                    offset: 2
                }
            );
            assert_eq!(*part, RecordPart::Value);
            assert!(
                source.serde.starts_with("Json<") && source.serde.contains("Trip"),
                "{}",
                source.serde
            );
        }
        other => panic!("unexpected {other}"),
    }
    let text = err.to_string();
    assert!(text.contains("trips-0@2"), "{text}");
    assert!(
        text.contains("default.deserialization.exception.handler"),
        "{text}"
    );
}

#[test]
fn wrong_json_type_is_a_deserialization_error() {
    let driver = trips_driver(StreamsConfig::new("errors"));
    let err = driver
        .pipe_raw(
            "trips",
            Some(b"k"),
            Some(br#"{"id":"seven","miles":1.0}"#),
            0,
        )
        .unwrap_err();
    let StreamsError::Deserialization { source, .. } = &err else {
        panic!("unexpected {err}")
    };
    assert!(source.reason.contains("invalid type"), "{}", source.reason);
}

// A record without a key, for a key type that has no null, stopped the application under the
// default handler (LogAndFail). Kafka Streams drops such a record (at the aggregation, join or
// table it reaches) with a warning and the dropped-records metric; so does this source now.
#[test]
fn missing_key_where_one_is_required_is_dropped_and_counted_not_fatal() {
    let driver = trips_driver(StreamsConfig::new("errors"));
    driver
        .pipe_raw("trips", None, Some(br#"{"id":1,"miles":1.0}"#), 0)
        .unwrap();
    driver
        .pipe_raw("trips", Some(b"b"), Some(br#"{"id":2,"miles":3.5}"#), 1)
        .unwrap();
    let out = driver.output_topic("miles", StringSerde, F64Serde);
    assert_eq!(out.read_key_values_to_list().unwrap(), vec![(s("b"), 3.5)]);
    let m = driver.metrics();
    assert_eq!((m.processed, m.dropped_records), (1, 1));
}

#[test]
fn log_and_continue_skips_and_counts_bad_records() {
    let driver = trips_driver(StreamsConfig::new("errors").with(
        "default.deserialization.exception.handler",
        "LogAndContinue",
    ));
    driver
        .pipe_raw("trips", Some(b"a"), Some(b"garbage"), 0)
        .unwrap();
    driver
        .pipe_raw("trips", None, Some(br#"{"id":1,"miles":1.0}"#), 1)
        .unwrap();
    driver
        .pipe_raw("trips", Some(b"b"), Some(br#"{"id":2,"miles":3.5}"#), 2)
        .unwrap();
    let out = driver.output_topic("miles", StringSerde, F64Serde);
    assert_eq!(out.read_key_values_to_list().unwrap(), vec![(s("b"), 3.5)]);
    let m = driver.metrics();
    assert_eq!((m.processed, m.dropped_records), (1, 2));
}

#[test]
fn bad_config_values_name_the_key() {
    let builder = StreamsBuilder::new();
    builder
        .stream("t", Consumed::with(StringSerde, StringSerde))
        .to("o", Produced::new());
    let err = TopologyTestDriver::new(
        builder.build().unwrap(),
        StreamsConfig::new("x").with("default.deserialization.exception.handler", "Ignore"),
    )
    .err()
    .unwrap();
    assert!(
        matches!(&err, StreamsError::Config { key, .. } if key == "default.deserialization.exception.handler"),
        "{err}"
    );
    let builder = StreamsBuilder::new();
    builder
        .stream("t", Consumed::with(StringSerde, StringSerde))
        .to("o", Produced::new());
    let err = TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("bad id!"))
        .err()
        .unwrap();
    assert!(
        matches!(&err, StreamsError::Config { key, .. } if key == "application.id"),
        "{err}"
    );
}

fn timestamps_driver(policy: Option<InvalidTimestampPolicy>) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let mut consumed = Consumed::with(StringSerde, I64Serde)
        .with_timestamp_extractor(ValueTimestamp::new(|v: &i64| *v));
    if let Some(p) = policy {
        consumed = consumed.with_invalid_timestamp_policy(p);
    }
    builder
        .stream("events", consumed)
        .to("out", Produced::new());
    TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("ts")).unwrap()
}

#[test]
fn event_time_from_the_value() {
    let driver = timestamps_driver(None);
    let input = driver.input_topic("events", StringSerde, I64Serde);
    input.pipe_input_at(s("k"), 5_000, 1).unwrap();
    let r = driver
        .output_topic("out", StringSerde, I64Serde)
        .read_record()
        .unwrap();
    assert_eq!(r.timestamp, 5_000);
}

#[test]
fn invalid_timestamp_fails_by_default() {
    let driver = timestamps_driver(None);
    let input = driver.input_topic("events", StringSerde, I64Serde);
    input.pipe_input(s("k"), 10).unwrap();
    let err = input.pipe_input(s("k"), -1).unwrap_err();
    match &err {
        StreamsError::InvalidTimestamp {
            location,
            timestamp,
        } => {
            assert_eq!(
                (location.topic.as_str(), location.offset, *timestamp),
                ("events", 1, -1)
            );
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        err.to_string().contains("LogAndSkipOnInvalidTimestamp")
            || err.to_string().contains("Skip")
    );
}

#[test]
fn invalid_timestamp_skip_and_use_previous_time() {
    let driver = timestamps_driver(Some(InvalidTimestampPolicy::Skip));
    let input = driver.input_topic("events", StringSerde, I64Serde);
    input
        .pipe_key_values([(s("a"), 10), (s("b"), -5), (s("c"), 20)])
        .unwrap();
    let out = driver.output_topic("out", StringSerde, I64Serde);
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![(s("a"), 10), (s("c"), 20)]
    );
    assert_eq!(driver.metrics().dropped_records, 1);

    let driver = timestamps_driver(Some(InvalidTimestampPolicy::UsePreviousTime));
    let input = driver.input_topic("events", StringSerde, I64Serde);
    // No partition time yet: dropped. Later: gets the partition's largest timestamp.
    input
        .pipe_key_values([(s("x"), -1), (s("a"), 30), (s("b"), 10), (s("c"), -5)])
        .unwrap();
    let out = driver.output_topic("out", StringSerde, I64Serde);
    let got: Vec<(String, i64)> = out
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.timestamp))
        .collect();
    assert_eq!(got, vec![(s("a"), 30), (s("b"), 10), (s("c"), 30)]);
    assert_eq!(driver.metrics().dropped_records, 1);
}

#[test]
fn config_sets_the_default_invalid_timestamp_policy() {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            "events",
            Consumed::with(StringSerde, I64Serde)
                .with_timestamp_extractor(ValueTimestamp::new(|v: &i64| *v)),
        )
        .to("out", Produced::new());
    let driver = TopologyTestDriver::new(
        builder.build().unwrap(),
        StreamsConfig::new("ts").with(
            "default.timestamp.extractor",
            "LogAndSkipOnInvalidTimestamp",
        ),
    )
    .unwrap();
    driver
        .input_topic("events", StringSerde, I64Serde)
        .pipe_input(s("k"), -3)
        .unwrap();
    assert_eq!(driver.metrics().dropped_records, 1);
}

// ---- Topologies that cannot be built ----

fn topology_error(t: std::result::Result<Topology, StreamsError>) -> String {
    match t {
        Err(StreamsError::InvalidTopology(m)) => m,
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(_) => panic!("topology was accepted"),
    }
}

#[test]
fn a_topology_needs_a_source() {
    let m = topology_error(StreamsBuilder::new().build());
    assert!(m.contains("no source"), "{m}");
}

#[test]
fn a_sink_needs_serdes_it_can_find() {
    #[derive(Clone)]
    struct Opaque;
    let builder = StreamsBuilder::new();
    builder
        .stream("in", Consumed::with(StringSerde, StringSerde))
        .map_values(|_| Opaque)
        .to("out", Produced::new());
    let m = topology_error(builder.build());
    assert!(
        m.contains("does not know how to serialize") && m.contains("Opaque"),
        "{m}"
    );
}

#[test]
fn names_must_be_unique() {
    let builder = StreamsBuilder::new();
    let st = builder.stream("in", Consumed::with(StringSerde, StringSerde));
    st.named("same").filter(|_, _| true);
    st.named("same").filter(|_, _| false);
    let m = topology_error(builder.build());
    assert!(m.contains("`same` is used twice"), "{m}");
}

#[test]
fn a_topic_is_read_by_one_source() {
    // Streaming the same topic twice shares one source (Kafka's StreamsBuilderTest
    // .shouldAllowStreamsFromSameTopic), if the types agree.
    let builder = StreamsBuilder::new();
    builder.stream("in", Consumed::with(StringSerde, StringSerde));
    builder.stream("in", Consumed::with(StringSerde, I64Serde));
    let m = topology_error(builder.build());
    assert!(m.contains("with other key or value types"), "{m}");
    // Overlapping but different topic sets cannot share a source.
    let builder = StreamsBuilder::new();
    builder.stream("in", Consumed::with(StringSerde, StringSerde));
    builder.stream_from(&["in", "other"], Consumed::with(StringSerde, StringSerde));
    let m = topology_error(builder.build());
    assert!(m.contains("topic `in` is already read"), "{m}");
}

#[test]
fn processor_api_checks_edges() {
    struct Numbers;
    impl Processor<String, i64> for Numbers {
        fn process(
            &mut self,
            r: Record<String, i64>,
            c: &mut ProcessorContext<'_, String, i64>,
        ) -> Result<()> {
            c.forward(r)
        }
    }
    let mut t = Topology::new();
    t.add_source("src", Consumed::with(StringSerde, StringSerde), &["in"])
        .unwrap();
    let err = t.add_processor("nums", || Numbers, &["src"]).err().unwrap();
    assert!(
        err.to_string().contains("`src` forwards records of type (alloc::string::String, alloc::string::String) but its child `nums` expects (alloc::string::String, i64)"),
        "{err}"
    );
    let err = t
        .add_processor("nums", || Numbers, &["nope"])
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("parent `nope` of `nums` does not exist"),
        "{err}"
    );
    let err = t
        .add_sink("s", "", Produced::with(StringSerde, StringSerde), &["src"])
        .err()
        .unwrap();
    assert!(err.to_string().contains("sink `s` has no topic"), "{err}");
    let err = t
        .add_sink("s2", "o", Produced::<String, String>::new(), &["src"])
        .err()
        .unwrap();
    assert!(err.to_string().contains("needs serdes"), "{err}");
}

#[test]
fn merged_topics_must_be_co_partitioned() {
    let builder = StreamsBuilder::new();
    let a = builder.stream("a", Consumed::with(StringSerde, StringSerde));
    let b = builder.stream("b", Consumed::with(StringSerde, StringSerde));
    a.merge(&b).to("out", Produced::new());
    let err = TopologyTestDriver::builder(builder.build().unwrap(), StreamsConfig::new("co"))
        .partitions("a", 2)
        .partitions("b", 3)
        .build()
        .err()
        .unwrap();
    let m = err.to_string();
    assert!(
        m.contains("not co-partitioned")
            && m.contains("a (2 partitions)")
            && m.contains("b (3 partitions)"),
        "{m}"
    );
}

#[test]
fn piping_to_an_unknown_topic() {
    let driver = trips_driver(StreamsConfig::new("errors"));
    let err = driver.pipe_raw("nope", None, None, 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("`nope` is not read by the topology; its source topics are: trips"),
        "{err}"
    );
}

/// A record as bytes, key and value nullable.
type RawTestRecord = TestRecord<Option<Vec<u8>>, Option<Vec<u8>>>;

/// The header `key` of a dead-letter record, as text.
fn header(r: &RawTestRecord, key: &str) -> String {
    let h = r
        .headers
        .last(key)
        .unwrap_or_else(|| panic!("no header `{key}`"));
    String::from_utf8(h.value.clone().unwrap_or_default()).unwrap()
}

fn dead_letters(driver: &TopologyTestDriver) -> Vec<RawTestRecord> {
    driver
        .output_topic("dlq", Nullable(BytesSerde), Nullable(BytesSerde))
        .read_records_to_list()
        .unwrap()
}

/// Panics on the trip with id 2; fails (returns an error) on the trip with id 3.
fn failing_trips_driver(config: StreamsConfig) -> TopologyTestDriver {
    struct FailOnThree;
    impl Processor<String, Trip, String, Trip> for FailOnThree {
        fn process(
            &mut self,
            r: Record<String, Trip>,
            c: &mut ProcessorContext<'_, String, Trip>,
        ) -> Result<()> {
            if r.value.id == 3 {
                return Err(StreamsError::user("trip 3 is not allowed"));
            }
            c.forward(r)
        }
    }
    let builder = StreamsBuilder::new();
    builder
        .stream("trips", Consumed::with(StringSerde, Json::<Trip>::new()))
        .named("no-threes")
        .process(|| FailOnThree, &[])
        .named("miles-of")
        .map_values(|t: Trip| {
            if t.id == 2 {
                panic!("trip 2 is cursed");
            }
            t.miles
        })
        .to("miles", Produced::with(StringSerde, F64Serde));
    TopologyTestDriver::new(builder.build().unwrap(), config).unwrap()
}

fn pipe_trips(driver: &TopologyTestDriver) {
    for id in 1..=4 {
        let value = format!(r#"{{"id":{id},"miles":{id}.5}}"#);
        driver
            .pipe_raw("trips", Some(b"k"), Some(value.as_bytes()), id)
            .unwrap();
    }
}

// There was no processing exception handler (KIP-1033): an error or a panic in user code
// always stopped the application. With `LogAndContinue` the record is skipped, counted, and
// sent to the dead-letter queue as it was read, with headers that say what failed where.
#[test]
fn the_processing_handler_skips_failed_records_to_the_dead_letter_queue() {
    let driver = failing_trips_driver(
        StreamsConfig::new("errors")
            .with("processing.exception.handler", "LogAndContinue")
            .with("errors.dead.letter.queue.topic.name", "dlq"),
    );
    pipe_trips(&driver);
    let out = driver.output_topic("miles", StringSerde, F64Serde);
    assert_eq!(out.read_values_to_list().unwrap(), vec![1.5, 4.5]);
    let m = driver.metrics();
    assert_eq!((m.processed, m.dropped_records), (4, 2));

    let dlq = dead_letters(&driver);
    assert_eq!(dlq.len(), 2);
    let (panicked, failed) = (&dlq[0], &dlq[1]);
    assert_eq!(panicked.key.as_deref(), Some(&b"k"[..]));
    assert_eq!(
        panicked.value.as_deref(),
        Some(&br#"{"id":2,"miles":2.5}"#[..]),
        "the record as it was read"
    );
    assert_eq!(panicked.timestamp, 2);
    assert_eq!(header(panicked, "__streams.errors.exception"), "Processor");
    assert_eq!(header(panicked, "__streams.errors.processor"), "miles-of");
    assert_eq!(header(panicked, "__streams.errors.topic"), "trips");
    assert_eq!(header(panicked, "__streams.errors.partition"), "0");
    assert_eq!(header(panicked, "__streams.errors.offset"), "1");
    assert_eq!(
        header(panicked, "__streams.errors.stacktrace"),
        "panicked: trip 2 is cursed"
    );
    assert!(
        header(panicked, "__streams.errors.message")
            .contains("processor `miles-of` failed on record trips-0@1"),
        "{}",
        header(panicked, "__streams.errors.message")
    );
    assert_eq!(header(failed, "__streams.errors.processor"), "no-threes");
    assert_eq!(header(failed, "__streams.errors.offset"), "2");
    assert_eq!(
        header(failed, "__streams.errors.stacktrace"),
        "trip 3 is not allowed"
    );
}

#[test]
fn by_default_a_processing_error_stops_with_the_processor_and_the_record() {
    let driver = failing_trips_driver(StreamsConfig::new("errors"));
    driver
        .pipe_raw("trips", Some(b"k"), Some(br#"{"id":3,"miles":1.0}"#), 0)
        .map(|_| panic!("an error was expected"))
        .unwrap_or_else(|e| match e {
            StreamsError::Processor { node, location, .. } => {
                assert_eq!(node, "no-threes");
                assert_eq!(location.unwrap().offset, 0);
            }
            other => panic!("unexpected {other}"),
        });
}

#[test]
fn skipped_undecodable_records_go_to_the_dead_letter_queue() {
    let driver = trips_driver(
        StreamsConfig::new("errors")
            .with(
                "default.deserialization.exception.handler",
                "LogAndContinue",
            )
            .with("errors.dead.letter.queue.topic.name", "dlq"),
    );
    driver
        .pipe_raw("trips", Some(b"a"), Some(b"garbage"), 7)
        .unwrap();
    driver
        .pipe_raw("trips", Some(b"b"), Some(br#"{"id":2,"miles":3.5}"#), 8)
        .unwrap();
    let dlq = dead_letters(&driver);
    assert_eq!(dlq.len(), 1);
    let r = &dlq[0];
    assert_eq!(
        (r.key.as_deref(), r.value.as_deref(), r.timestamp),
        (Some(&b"a"[..]), Some(&b"garbage"[..]), 7)
    );
    assert_eq!(header(r, "__streams.errors.exception"), "Deserialization");
    assert_eq!(header(r, "__streams.errors.offset"), "0");
    assert!(r.headers.last("__streams.errors.processor").is_none());
    let out = driver.output_topic("miles", StringSerde, F64Serde);
    assert_eq!(out.read_values_to_list().unwrap(), vec![3.5]);
}

#[test]
fn handler_settings_are_checked() {
    for key in [
        "processing.exception.handler",
        "default.production.exception.handler",
    ] {
        let err = StreamsConfig::new("x")
            .with(key, "Retry")
            .validate()
            .unwrap_err();
        assert!(
            err.to_string().contains(key) && err.to_string().contains("LogAndContinue"),
            "{err}"
        );
    }
    StreamsConfig::new("x")
        .with(
            "processing.exception.handler",
            "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler",
        )
        .validate()
        .unwrap();
    assert!(StreamsConfig::new("x")
        .with("errors.dead.letter.queue.topic.name", " ")
        .validate()
        .is_err());
}

// Under `processing.exception.handler=LogAndContinue` a punctuator that fails (here: panics)
// is logged and the task goes on, as Kafka's processing handler does for punctuations.
#[test]
fn the_processing_handler_goes_on_past_a_failing_punctuator() {
    struct Ticking;
    impl Processor<String, String, String, String> for Ticking {
        fn init(&mut self, ctx: &mut ProcessorContext<'_, String, String>) -> Result<()> {
            ctx.schedule(
                std::time::Duration::from_secs(1),
                PunctuationType::WallClockTime,
            )?;
            Ok(())
        }
        fn process(
            &mut self,
            r: Record<String, String>,
            c: &mut ProcessorContext<'_, String, String>,
        ) -> Result<()> {
            c.forward(r)
        }
        fn punctuate(
            &mut self,
            _id: Cancellable,
            _ts: i64,
            _c: &mut ProcessorContext<'_, String, String>,
        ) -> Result<()> {
            panic!("the clock broke");
        }
    }
    let builder = StreamsBuilder::new();
    builder
        .stream("in", Consumed::with(StringSerde, StringSerde))
        .process(|| Ticking, &[])
        .to("out", Produced::with(StringSerde, StringSerde));
    let driver = TopologyTestDriver::new(
        builder.build().unwrap(),
        StreamsConfig::new("errors").with("processing.exception.handler", "LogAndContinue"),
    )
    .unwrap();
    driver
        .advance_wall_clock_time(std::time::Duration::from_secs(3))
        .unwrap();
    driver
        .input_topic("in", StringSerde, StringSerde)
        .pipe_input(s("k"), s("v"))
        .unwrap();
    let out = driver.output_topic("out", StringSerde, StringSerde);
    assert_eq!(out.read_values_to_list().unwrap(), vec![s("v")]);
    assert_eq!(driver.metrics().punctuations, 1);
}
