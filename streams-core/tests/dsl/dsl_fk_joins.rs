//! Foreign-key table joins (KIP-213) through the TopologyTestDriver, with exact expected
//! outputs (key, value, timestamp).
//!
//! Left table: ride id -> "zone/tag" (the foreign key is the part before '/'); right table:
//! zone -> name. Results are "left+right" ("left+null" in a left join without a right row).

use streams_core::*;

fn s(x: &str) -> String {
    x.to_string()
}

fn no_cache(app: &str) -> StreamsConfig {
    StreamsConfig::new(app).with("statestore.cache.max.bytes", "0")
}

/// Left table first, so it is sub-topology 0 (its task runs first when both have records).
fn tables(builder: &StreamsBuilder) -> (KTable<String, String>, KTable<String, String>) {
    let left = builder.table(
        "rides",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("rides-store"),
    );
    let right = builder.table(
        "zones",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("zones-store"),
    );
    (left, right)
}

/// The foreign-key extractor (a `fn` of `&String`, the table's value type).
#[allow(clippy::ptr_arg)]
fn zone_of(v: &String) -> String {
    v.split('/').next().unwrap_or_default().to_string()
}

type Out = Vec<(String, Option<String>, i64)>;

fn read(out: &TestOutputTopic<'_, String, Option<String>>) -> Out {
    out.read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect()
}

fn some(k: &str, v: &str, ts: i64) -> (String, Option<String>, i64) {
    (s(k), Some(s(v)), ts)
}

fn none(k: &str, ts: i64) -> (String, Option<String>, i64) {
    (s(k), None, ts)
}

struct Harness {
    driver: TopologyTestDriver,
}

impl Harness {
    fn new(left_join: bool, app: &str) -> Self {
        let builder = StreamsBuilder::new();
        let (left, right) = tables(&builder);
        let joined = if left_join {
            left.left_join_on_foreign_key(&right, zone_of, |l: &String, r: Option<&String>| {
                format!("{l}+{}", r.map_or("null", String::as_str))
            })
        } else {
            left.join_on_foreign_key(&right, zone_of, |l: &String, r: &String| format!("{l}+{r}"))
        };
        joined.to_stream().to("joined", Produced::new());
        let driver = TopologyTestDriver::new(builder.build().unwrap(), no_cache(app)).unwrap();
        Harness { driver }
    }
    fn ride(&self, k: &str, v: Option<&str>, ts: i64) {
        self.driver
            .input_topic("rides", StringSerde, Nullable(StringSerde))
            .pipe_input_at(s(k), v.map(s), ts)
            .unwrap();
    }
    fn zone(&self, k: &str, v: Option<&str>, ts: i64) {
        self.driver
            .input_topic("zones", StringSerde, Nullable(StringSerde))
            .pipe_input_at(s(k), v.map(s), ts)
            .unwrap();
    }
    fn out(&self) -> Out {
        read(
            &self
                .driver
                .output_topic("joined", StringSerde, Nullable(StringSerde)),
        )
    }
}

#[test]
fn inner_join_updates_fk_changes_fan_out_and_deletes() {
    let h = Harness::new(false, "fk-inner");
    h.zone("z1", Some("Queens"), 5);
    h.ride("A", Some("z1/a1"), 10);
    assert_eq!(h.out(), vec![some("A", "z1/a1+Queens", 10)]);
    // No right row: an inner join has no row and sends nothing.
    h.ride("B", Some("z2/b1"), 11);
    assert_eq!(h.out(), vec![]);
    // Left update, same foreign key.
    h.ride("A", Some("z1/a2"), 12);
    assert_eq!(h.out(), vec![some("A", "z1/a2+Queens", 12)]);
    // The right row arrives: the waiting subscriber joins.
    h.zone("z2", Some("Bronx"), 13);
    assert_eq!(h.out(), vec![some("B", "z2/b1+Bronx", 13)]);
    // Foreign-key change: A follows z2.
    h.ride("A", Some("z2/a3"), 14);
    assert_eq!(h.out(), vec![some("A", "z2/a3+Bronx", 14)]);
    // A right update fans out to every subscriber.
    h.zone("z2", Some("The Bronx"), 15);
    assert_eq!(
        h.out(),
        vec![
            some("A", "z2/a3+The Bronx", 15),
            some("B", "z2/b1+The Bronx", 15)
        ]
    );
    // A unsubscribed from z1: an update of z1 reaches nobody.
    h.zone("z1", Some("Queens!"), 16);
    assert_eq!(h.out(), vec![]);
    // Left delete: tombstone, and B no longer subscribes to z2.
    h.ride("B", None, 17);
    assert_eq!(h.out(), vec![none("B", 17)]);
    h.zone("z2", Some("BX"), 18);
    assert_eq!(h.out(), vec![some("A", "z2/a3+BX", 18)]);
    // Right delete: the joined row is deleted.
    h.zone("z2", None, 19);
    assert_eq!(h.out(), vec![none("A", 19)]);
    // Left delete without a joined row: no tombstone.
    h.ride("A", None, 20);
    assert_eq!(h.out(), vec![]);
    // Foreign-key change to a key without a row: the old result is deleted.
    h.ride("C", Some("z1/c1"), 21);
    h.ride("C", Some("z9/c2"), 22);
    assert_eq!(h.out(), vec![some("C", "z1/c1+Queens!", 21), none("C", 22)]);
    // The right row's timestamp counts when it is the later one.
    h.zone("z9", Some("Nowhere"), 30);
    h.ride("D", Some("z9/d1"), 25);
    assert_eq!(
        h.out(),
        vec![
            some("C", "z9/c2+Nowhere", 30),
            some("D", "z9/d1+Nowhere", 30)
        ]
    );
}

#[test]
fn left_join_keeps_rows_without_a_right_row() {
    let h = Harness::new(true, "fk-left");
    h.ride("A", Some("z1/a1"), 10);
    assert_eq!(h.out(), vec![some("A", "z1/a1+null", 10)]);
    h.zone("z1", Some("Queens"), 11);
    assert_eq!(h.out(), vec![some("A", "z1/a1+Queens", 11)]);
    h.ride("A", Some("z1/a2"), 12);
    h.ride("B", Some("z1/b1"), 13);
    assert_eq!(
        h.out(),
        vec![some("A", "z1/a2+Queens", 12), some("B", "z1/b1+Queens", 13)]
    );
    h.zone("z1", Some("Q"), 14);
    assert_eq!(
        h.out(),
        vec![some("A", "z1/a2+Q", 14), some("B", "z1/b1+Q", 14)]
    );
    // Foreign-key change to a key without a row.
    h.ride("A", Some("z2/a3"), 15);
    assert_eq!(h.out(), vec![some("A", "z2/a3+null", 15)]);
    // Right delete: joiner(left, None) for the remaining subscriber only.
    h.zone("z1", None, 16);
    assert_eq!(h.out(), vec![some("B", "z1/b1+null", 16)]);
    // Left delete: tombstone.
    h.ride("B", None, 17);
    assert_eq!(h.out(), vec![none("B", 17)]);
    h.zone("z2", Some("Bronx"), 18);
    h.zone("z1", Some("Queens"), 19);
    assert_eq!(h.out(), vec![some("A", "z2/a3+Bronx", 18)]);
}

#[test]
fn a_response_to_an_older_left_value_is_discarded() {
    let h = Harness::new(false, "fk-stale");
    h.zone("z1", Some("Queens"), 1);
    h.zone("z2", Some("Bronx"), 2);
    // Two updates of A processed together: the left task handles both before the right task
    // answers the first, so the answer for "z1/a1" arrives after "z2/a2" is the current row.
    let rides = h
        .driver
        .input_topic("rides", StringSerde, Nullable(StringSerde));
    rides
        .enqueue_key_value_at(s("A"), Some(s("z1/a1")), 10)
        .unwrap();
    rides
        .enqueue_key_value_at(s("A"), Some(s("z2/a2")), 11)
        .unwrap();
    h.driver.process_queued().unwrap();
    // Without the hash check, "z1/a1+Queens" would be emitted too.
    assert_eq!(h.out(), vec![some("A", "z2/a2+Bronx", 11)]);
    // And A left z1.
    h.zone("z1", Some("Queens!"), 12);
    assert_eq!(h.out(), vec![]);
    // The same race with the same foreign key: only the newer value's answer joins.
    rides
        .enqueue_key_value_at(s("A"), Some(s("z2/a3")), 13)
        .unwrap();
    rides
        .enqueue_key_value_at(s("A"), Some(s("z2/a4")), 14)
        .unwrap();
    h.driver.process_queued().unwrap();
    assert_eq!(h.out(), vec![some("A", "z2/a4+Bronx", 14)]);
}

#[test]
fn join_across_partition_counts_and_a_materialized_result() {
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    // An unmaterialized left table (map_values) is materialized for the join.
    left.map_values(|v: String| v.to_uppercase())
        .left_join_on_foreign_key_materialized(
            &right,
            |v: &String| zone_of(v).to_lowercase(),
            |l: &String, r: Option<&String>| format!("{l}+{}", r.map_or("null", String::as_str)),
            Materialized::named("fk-result").with_caching_disabled(),
        )
        .to_stream()
        .to("joined", Produced::new());
    let topology = builder.build().unwrap();
    let driver = TopologyTestDriver::builder(topology, no_cache("fk-parts"))
        .partitions("rides", 3)
        .partitions("zones", 2)
        .build()
        .unwrap();
    let description = driver_topics(&driver);
    assert_eq!(
        description,
        vec![
            (
                s("fk-parts-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007-topic"),
                2
            ),
            (
                s("fk-parts-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000015-topic"),
                3
            ),
        ]
    );
    let rides = driver.input_topic("rides", StringSerde, Nullable(StringSerde));
    let zones = driver.input_topic("zones", StringSerde, Nullable(StringSerde));
    zones.pipe_input_at(s("z1"), Some(s("Queens")), 1).unwrap();
    for (i, k) in ["A", "B", "C", "D", "E", "F"].iter().enumerate() {
        rides
            .pipe_input_at(s(k), Some(format!("z1/{k}")), 10 + i as i64)
            .unwrap();
    }
    zones.pipe_input_at(s("z1"), Some(s("Q")), 20).unwrap();
    let out = driver.output_topic("joined", StringSerde, Nullable(StringSerde));
    let mut got = read(&out);
    got.sort();
    let mut want: Out = Vec::new();
    for (i, k) in ["A", "B", "C", "D", "E", "F"].iter().enumerate() {
        want.push(some(k, &format!("Z1/{k}+Queens"), 10 + i as i64));
        want.push(some(k, &format!("Z1/{k}+Q"), 20));
    }
    want.sort();
    assert_eq!(got, want);
    // The rides are spread over the three left tasks.
    let parts: std::collections::BTreeSet<i32> = ["A", "B", "C", "D", "E", "F"]
        .iter()
        .map(|k| murmur2_partition(k.as_bytes(), 3))
        .collect();
    assert!(parts.len() > 1, "test keys must span partitions: {parts:?}");
    let mut stored = Vec::new();
    for p in 0..3 {
        let store: KeyValueStore<String, String> = driver
            .get_state_store_for_partition("fk-result", p)
            .unwrap();
        stored.extend(store.all().unwrap());
    }
    stored.sort();
    let want_store: Vec<(String, String)> = ["A", "B", "C", "D", "E", "F"]
        .iter()
        .map(|k| (s(k), format!("Z1/{k}+Q")))
        .collect();
    assert_eq!(stored, want_store);
}

/// The two internal topics of the join and their partition counts.
fn driver_topics(driver: &TopologyTestDriver) -> Vec<(String, i32)> {
    [
        "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007-topic",
        "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000015-topic",
    ]
    .iter()
    .map(|t| {
        let name = driver.internal_topic_name(t);
        let n = driver.partition_count(&name);
        (name, n)
    })
    .collect()
}

#[test]
fn describe_lists_the_two_internal_topics() {
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    left.join_on_foreign_key(&right, zone_of, |l: &String, r: &String| format!("{l}+{r}"))
        .to_stream()
        .to("joined", Produced::new());
    let text = builder.build().unwrap().describe().to_string();
    println!("{text}");
    for line in [
        // Numbered as Kafka numbers them (KTableImpl#doJoinOnForeignKey).
        "Sink: KTABLE-SINK-0000000006 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000004-topic)",
        "Source: KTABLE-SOURCE-0000000007 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000004-topic])",
        "Sink: KTABLE-SINK-0000000013 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000012-topic)",
        "Source: KTABLE-SOURCE-0000000014 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000012-topic])",
        "Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000009 (stores: [KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000008, zones-store])",
        "Processor: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000015 (stores: [rides-store])",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert_eq!(text.matches("Sub-topology:").count(), 2, "{text}");
}

#[test]
fn a_result_type_without_a_serde_is_a_build_error() {
    #[derive(Clone)]
    struct NoSerde;
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    let _ = left.join_on_foreign_key(&right, zone_of, |_: &String, _: &String| NoSerde);
    let err = builder.build().unwrap_err().to_string();
    assert!(err.contains("does not know how to serialize"), "{err}");
}
