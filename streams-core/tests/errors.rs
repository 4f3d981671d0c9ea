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

#[test]
fn missing_key_where_one_is_required() {
    let driver = trips_driver(StreamsConfig::new("errors"));
    let err = driver
        .pipe_raw("trips", None, Some(br#"{"id":1,"miles":1.0}"#), 0)
        .unwrap_err();
    match &err {
        StreamsError::Deserialization {
            part,
            source,
            location,
        } => {
            assert_eq!(*part, RecordPart::Key);
            assert_eq!(source.serde, "String");
            assert!(source.reason.contains("payload is null"));
            assert_eq!(location.offset, 0);
        }
        other => panic!("unexpected {other}"),
    }
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
    let builder = StreamsBuilder::new();
    builder.stream("in", Consumed::with(StringSerde, StringSerde));
    builder.stream("in", Consumed::with(StringSerde, StringSerde));
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
