//! Table-table joins, foreign-key joins and global tables through the TopologyTestDriver, with
//! exact expected outputs (key, value, timestamp).

use streams_core::*;

fn s(x: &str) -> String {
    x.to_string()
}

fn no_cache(app: &str) -> StreamsConfig {
    StreamsConfig::new(app).with("statestore.cache.max.bytes", "0")
}

fn tables(builder: &StreamsBuilder) -> (KTable<String, String>, KTable<String, String>) {
    let left = builder.table(
        "left",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("left-store"),
    );
    let right = builder.table(
        "right",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("right-store"),
    );
    (left, right)
}

fn show(v: Option<&String>) -> String {
    v.cloned().unwrap_or_else(|| s("null"))
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

#[test]
fn inner_join_updates_and_deletes_on_both_sides() {
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    left.join(&right, |l: &String, r: &String| format!("{l}+{r}"))
        .to_stream()
        .to("joined", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), no_cache("tt-inner")).unwrap();
    let l = driver.input_topic("left", StringSerde, Nullable(StringSerde));
    let r = driver.input_topic("right", StringSerde, Nullable(StringSerde));
    let out = driver.output_topic("joined", StringSerde, Nullable(StringSerde));

    l.pipe_input_at(s("A"), Some(s("a1")), 10).unwrap();
    assert_eq!(read(&out), vec![], "no right row yet");
    r.pipe_input_at(s("A"), Some(s("r1")), 20).unwrap();
    l.pipe_input_at(s("A"), Some(s("a2")), 15).unwrap();
    r.pipe_input_at(s("B"), Some(s("rb")), 30).unwrap();
    assert_eq!(
        read(&out),
        vec![some("A", "a1+r1", 20), some("A", "a2+r1", 20)],
        "timestamps are the larger of the two rows'"
    );
    // Deleting the right row deletes the joined row.
    r.pipe_input_at(s("A"), None, 40).unwrap();
    assert_eq!(read(&out), vec![none("A", 40)]);
    // Deleting the left row now: there is no joined row, so no tombstone.
    l.pipe_input_at(s("A"), None, 50).unwrap();
    // Deleting a left row that never existed: nothing.
    l.pipe_input_at(s("B"), None, 60).unwrap();
    assert_eq!(read(&out), vec![]);
    // The left side comes back after the right one.
    l.pipe_input_at(s("B"), Some(s("b1")), 70).unwrap();
    // Deleting the left side with a right row present emits the tombstone.
    l.pipe_input_at(s("B"), None, 80).unwrap();
    assert_eq!(read(&out), vec![some("B", "b1+rb", 70), none("B", 80)]);
}

#[test]
fn left_join_updates_and_deletes_on_both_sides() {
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    left.left_join(&right, |l: &String, r: Option<&String>| {
        format!("{l}+{}", show(r))
    })
    .to_stream()
    .to("joined", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), no_cache("tt-left")).unwrap();
    let l = driver.input_topic("left", StringSerde, Nullable(StringSerde));
    let r = driver.input_topic("right", StringSerde, Nullable(StringSerde));
    let out = driver.output_topic("joined", StringSerde, Nullable(StringSerde));

    l.pipe_input_at(s("A"), Some(s("a1")), 10).unwrap();
    r.pipe_input_at(s("A"), Some(s("r1")), 20).unwrap();
    r.pipe_input_at(s("A"), None, 30).unwrap();
    r.pipe_input_at(s("B"), Some(s("rb")), 35).unwrap();
    l.pipe_input_at(s("A"), None, 40).unwrap();
    l.pipe_input_at(s("B"), Some(s("b1")), 45).unwrap();
    r.pipe_input_at(s("B"), Some(s("rb2")), 25).unwrap();
    l.pipe_input_at(s("C"), None, 50).unwrap();
    assert_eq!(
        read(&out),
        vec![
            some("A", "a1+null", 10),
            some("A", "a1+r1", 20),
            // Deleting the right side: joiner(left, None).
            some("A", "a1+null", 30),
            // Deleting the left side: a tombstone.
            none("A", 40),
            some("B", "b1+rb", 45),
            some("B", "b1+rb2", 45),
        ]
    );
}

#[test]
fn outer_join_updates_and_deletes_on_both_sides() {
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    left.outer_join(&right, |l: Option<&String>, r: Option<&String>| {
        format!("{}+{}", show(l), show(r))
    })
    .to_stream()
    .to("joined", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), no_cache("tt-outer")).unwrap();
    let l = driver.input_topic("left", StringSerde, Nullable(StringSerde));
    let r = driver.input_topic("right", StringSerde, Nullable(StringSerde));
    let out = driver.output_topic("joined", StringSerde, Nullable(StringSerde));

    l.pipe_input_at(s("A"), Some(s("a1")), 10).unwrap();
    r.pipe_input_at(s("B"), Some(s("rb")), 20).unwrap();
    r.pipe_input_at(s("A"), Some(s("r1")), 30).unwrap();
    l.pipe_input_at(s("A"), None, 40).unwrap();
    r.pipe_input_at(s("A"), None, 50).unwrap();
    r.pipe_input_at(s("A"), None, 60).unwrap();
    l.pipe_input_at(s("C"), None, 70).unwrap();
    assert_eq!(
        read(&out),
        vec![
            some("A", "a1+null", 10),
            some("B", "null+rb", 20),
            some("A", "a1+r1", 30),
            some("A", "null+r1", 40),
            none("A", 50),
        ]
    );
}

#[test]
fn join_result_feeds_a_table_aggregation_with_old_values() {
    // Count joined rows per joined value: an update must subtract from the old value's count.
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    left.join(&right, |l: &String, r: &String| format!("{l}{r}"))
        .group_by(|_, v| (v.clone(), v.clone()))
        .with_key_serde(StringSerde)
        .with_value_serde(StringSerde)
        .count(Materialized::named("per-value"))
        .to_stream()
        .to("counts", Produced::new());
    let driver = TopologyTestDriver::new(builder.build().unwrap(), no_cache("tt-agg")).unwrap();
    let l = driver.input_topic("left", StringSerde, Nullable(StringSerde));
    let r = driver.input_topic("right", StringSerde, Nullable(StringSerde));
    l.pipe_input_at(s("A"), Some(s("x")), 1).unwrap();
    l.pipe_input_at(s("B"), Some(s("x")), 2).unwrap();
    r.pipe_input_at(s("A"), Some(s("1")), 3).unwrap();
    r.pipe_input_at(s("B"), Some(s("1")), 4).unwrap();
    r.pipe_input_at(s("A"), Some(s("2")), 5).unwrap();
    l.pipe_input_at(s("B"), None, 6).unwrap();
    let out = driver.output_topic("counts", StringSerde, Nullable(I64Serde));
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![
            (s("x1"), Some(1)),
            (s("x1"), Some(2)),
            (s("x1"), Some(1)),
            (s("x2"), Some(1)),
            (s("x1"), Some(0)),
        ]
    );
}

#[test]
fn unmaterialized_sides_are_materialized_and_the_result_can_be_queried() {
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    let long = left.filter(|_, v| v.len() > 1);
    let upper = right.map_values(|v| v.to_uppercase());
    let joined = long.join_materialized(
        &upper,
        |l: &String, r: &String| format!("{l}/{r}"),
        Materialized::named("joined-store").with_caching_disabled(),
    );
    assert_eq!(joined.store_name(), Some("joined-store"));
    joined.to_stream().to("joined", Produced::new());
    let topology = builder.build().unwrap();
    // One sub-topology: both join processors share both stores.
    assert_eq!(topology.describe().subtopologies.len(), 1);
    let driver = TopologyTestDriver::new(topology, no_cache("tt-mat")).unwrap();
    let l = driver.input_topic("left", StringSerde, Nullable(StringSerde));
    let r = driver.input_topic("right", StringSerde, Nullable(StringSerde));
    let out = driver.output_topic("joined", StringSerde, Nullable(StringSerde));
    r.pipe_input_at(s("A"), Some(s("ra")), 1).unwrap();
    r.pipe_input_at(s("B"), Some(s("rb")), 2).unwrap();
    l.pipe_input_at(s("A"), Some(s("aa")), 3).unwrap();
    // Filtered out on the left: no row, nothing to delete.
    l.pipe_input_at(s("B"), Some(s("b")), 4).unwrap();
    l.pipe_input_at(s("B"), Some(s("bb")), 5).unwrap();
    // Stops matching the filter: the joined row is deleted.
    l.pipe_input_at(s("A"), Some(s("a")), 6).unwrap();
    assert_eq!(
        read(&out),
        vec![some("A", "aa/RA", 3), some("B", "bb/RB", 5), none("A", 6)]
    );
    let store: KeyValueStore<String, String> = driver.get_state_store("joined-store").unwrap();
    assert_eq!(store.all().unwrap(), vec![(s("B"), s("bb/RB"))]);
}

#[test]
fn cached_tables_emit_joined_rows_at_commit() {
    // With caching on (the default), updates between commits collapse before the join sees
    // them; the driver commits after each pipe call.
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    left.join(&right, |l: &String, r: &String| format!("{l}+{r}"))
        .to_stream()
        .to("joined", Produced::new());
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("tt-cache")).unwrap();
    let l = driver.input_topic("left", StringSerde, Nullable(StringSerde));
    let r = driver.input_topic("right", StringSerde, Nullable(StringSerde));
    let out = driver.output_topic("joined", StringSerde, Nullable(StringSerde));
    r.pipe_input_at(s("A"), Some(s("r1")), 1).unwrap();
    l.pipe_records([
        Record::new(s("A"), Some(s("a1")), 2),
        Record::new(s("A"), Some(s("a2")), 3),
    ])
    .unwrap();
    assert_eq!(read(&out), vec![some("A", "a2+r1", 3)]);
}

#[test]
fn tables_that_are_not_co_partitioned_fail_at_driver_start() {
    let builder = StreamsBuilder::new();
    let (left, right) = tables(&builder);
    left.join(&right, |l: &String, r: &String| format!("{l}{r}"))
        .to_stream()
        .to("joined", Produced::new());
    let err = TopologyTestDriver::builder(builder.build().unwrap(), no_cache("tt-copart"))
        .partitions("left", 2)
        .partitions("right", 3)
        .build()
        .err()
        .expect("the join's topics have different partition counts");
    assert!(
        err.to_string().contains("not co-partitioned"),
        "unexpected error: {err}"
    );
}

fn global_join_driver(config: StreamsConfig) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let zones = builder.global_table(
        "zones",
        Consumed::with(I64Serde, StringSerde),
        Materialized::named("zones-store"),
    );
    let rides = builder.stream("rides", Consumed::with(StringSerde, I64Serde));
    rides
        .join_global(
            &zones,
            |_, zone| *zone,
            |zone, name: String| format!("{zone}:{name}"),
        )
        .to("inner", Produced::new());
    rides
        .left_join_global(
            &zones,
            |_, zone| *zone,
            |zone, name: Option<String>| format!("{zone}:{}", name.unwrap_or_else(|| s("unknown"))),
        )
        .to("left", Produced::new());
    // Rides and zones are not co-partitioned: a global table needs no co-partitioning.
    TopologyTestDriver::builder(builder.build().unwrap(), config)
        .partitions("rides", 2)
        .partitions("zones", 3)
        .build()
        .unwrap()
}

fn read_strings(out: &TestOutputTopic<'_, String, String>) -> Vec<(String, String, i64)> {
    out.read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect()
}

#[test]
fn stream_global_table_join_and_left_join_with_updates_of_the_global_table() {
    let driver = global_join_driver(StreamsConfig::new("global-join"));
    let zones = driver.input_topic("zones", I64Serde, Nullable(StringSerde));
    let rides = driver.input_topic("rides", StringSerde, I64Serde);
    let inner = driver.output_topic("inner", StringSerde, StringSerde);
    let left = driver.output_topic("left", StringSerde, StringSerde);
    zones.pipe_input_at(1, Some(s("Newark")), 1).unwrap();
    zones.pipe_input_at(4, Some(s("Manhattan")), 2).unwrap();
    rides.pipe_input_at(s("r1"), 4, 10).unwrap();
    rides.pipe_input_at(s("r2"), 999, 11).unwrap();
    rides.pipe_input_at(s("r3"), 1, 12).unwrap();
    // The global table changes: every task sees it at once.
    zones
        .pipe_input_at(4, Some(s("Alphabet City")), 20)
        .unwrap();
    zones.pipe_input_at(1, None, 21).unwrap();
    rides.pipe_input_at(s("r4"), 4, 30).unwrap();
    rides.pipe_input_at(s("r5"), 1, 31).unwrap();
    let t = |k: &str, v: &str, ts| (s(k), s(v), ts);
    assert_eq!(
        read_strings(&inner),
        vec![
            t("r1", "4:Manhattan", 10),
            t("r3", "1:Newark", 12),
            t("r4", "4:Alphabet City", 30),
        ]
    );
    assert_eq!(
        read_strings(&left),
        vec![
            t("r1", "4:Manhattan", 10),
            t("r2", "999:unknown", 11),
            t("r3", "1:Newark", 12),
            t("r4", "4:Alphabet City", 30),
            t("r5", "1:unknown", 31),
        ]
    );
    // Both ride tasks ran.
    assert_eq!(driver.task_ids().len(), 2);
    let store: GlobalKeyValueStore<i64, String> = driver.get_state_store("zones-store").unwrap();
    assert_eq!(store.all().unwrap(), vec![(4, s("Alphabet City"))]);
    assert_eq!(
        store.get_with_timestamp(&4).unwrap(),
        Some((s("Alphabet City"), 20))
    );
    assert_eq!(store.get(&1).unwrap(), None);
    // The same store from the other partition's task.
    let other: GlobalKeyValueStore<i64, String> = driver
        .get_state_store_for_partition("zones-store", 1)
        .unwrap();
    assert_eq!(other.get(&4).unwrap(), Some(s("Alphabet City")));
}

#[test]
fn undecodable_global_table_records_fail_or_are_skipped_by_the_handler() {
    let driver = global_join_driver(StreamsConfig::new("global-bad"));
    let bad = driver.input_topic("zones", StringSerde, StringSerde);
    let err = bad
        .pipe_input(s("not-an-i64"), s("Queens"))
        .expect_err("a key that is not 8 bytes must fail with LogAndFail");
    assert!(
        err.to_string().contains("zones"),
        "the error names the topic: {err}"
    );

    let driver = global_join_driver(StreamsConfig::new("global-skip").with(
        "default.deserialization.exception.handler",
        "LogAndContinue",
    ));
    driver
        .input_topic("zones", StringSerde, StringSerde)
        .pipe_input(s("not-an-i64"), s("Queens"))
        .unwrap();
    driver
        .input_topic("zones", I64Serde, StringSerde)
        .pipe_input(2, s("Jamaica Bay"))
        .unwrap();
    let store: GlobalKeyValueStore<i64, String> = driver.get_state_store("zones-store").unwrap();
    assert_eq!(store.all().unwrap(), vec![(2, s("Jamaica Bay"))]);
}

#[test]
fn a_global_table_needs_a_topic_of_its_own() {
    let builder = StreamsBuilder::new();
    builder.global_table(
        "zones",
        Consumed::with(I64Serde, StringSerde),
        Materialized::new(),
    );
    builder
        .stream("zones", Consumed::with(I64Serde, StringSerde))
        .to("copy", Produced::new());
    // The stream reads the topic after the global table: reported by the source check.
    let err = builder.build().expect_err("one topic read twice");
    assert!(err.to_string().contains("zones"), "{err}");

    let builder = StreamsBuilder::new();
    builder
        .stream("zones", Consumed::with(I64Serde, StringSerde))
        .to("copy", Produced::new());
    builder.global_table(
        "zones",
        Consumed::with(I64Serde, StringSerde),
        Materialized::new(),
    );
    let err = builder.build().expect_err("one topic read twice");
    assert!(
        err.to_string()
            .contains("a global table needs a topic of its own"),
        "{err}"
    );
}
