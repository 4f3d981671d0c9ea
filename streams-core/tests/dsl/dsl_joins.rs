//! Stream-stream and stream-table joins through the TopologyTestDriver, with exact expected
//! outputs (key, value, timestamp).

use std::time::Duration;

use streams_core::*;

fn s(x: &str) -> String {
    x.to_string()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

type Out = (String, String, i64);

fn out(k: &str, v: &str, ts: i64) -> Out {
    (s(k), s(v), ts)
}

fn no_cache(app: &str) -> StreamsConfig {
    StreamsConfig::new(app).with("statestore.cache.max.bytes", "0")
}

fn read(driver: &TopologyTestDriver, topic: &str) -> Vec<Out> {
    driver
        .output_topic(topic, StringSerde, StringSerde)
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect()
}

fn opt(v: Option<&String>) -> &str {
    v.map_or("null", String::as_str)
}

#[derive(Clone, Copy)]
enum Kind {
    Inner,
    Left,
    Outer,
}

/// `left` joined with `right` into `out`, values `"<left>+<right>"` (`null` for a missing
/// side).
fn join_driver(kind: Kind, windows: JoinWindows, config: StreamsConfig) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let left = builder.stream("left", Consumed::with(StringSerde, StringSerde));
    let right = builder.stream("right", Consumed::with(StringSerde, StringSerde));
    let joined = match kind {
        Kind::Inner => left.join(&right, |l, r| format!("{l}+{r}"), windows),
        Kind::Left => left.left_join(&right, |l, r| format!("{l}+{}", opt(r)), windows),
        Kind::Outer => left.outer_join(&right, |l, r| format!("{}+{}", opt(l), opt(r)), windows),
    };
    joined.to("out", Produced::with(StringSerde, StringSerde));
    TopologyTestDriver::new(builder.build().unwrap(), config).unwrap()
}

struct Sides<'d> {
    left: TestInputTopic<'d, String, String>,
    right: TestInputTopic<'d, String, String>,
}

impl Sides<'_> {
    fn l(&self, k: &str, v: &str, ts: i64) {
        self.left.pipe_input_at(s(k), s(v), ts).unwrap();
    }
    fn r(&self, k: &str, v: &str, ts: i64) {
        self.right.pipe_input_at(s(k), s(v), ts).unwrap();
    }
}

fn sides(driver: &TopologyTestDriver) -> Sides<'_> {
    Sides {
        left: driver.input_topic("left", StringSerde, StringSerde),
        right: driver.input_topic("right", StringSerde, StringSerde),
    }
}

// ---------------------------------------------------------------------------------------------
// Inner joins
// ---------------------------------------------------------------------------------------------

#[test]
fn inner_join_pairs_records_within_the_window_on_both_sides() {
    let windows = JoinWindows::of_time_difference_and_grace(secs(10), secs(60)).unwrap();
    let driver = join_driver(Kind::Inner, windows, no_cache("inner"));
    let io = sides(&driver);
    io.l("a", "a1", 1_000);
    io.r("a", "b1", 5_000); // 4 s after a1
    io.r("a", "b2", 12_000); // 11 s after a1: outside
    io.l("a", "a2", 11_000); // out of order: joins b1 (6 s before) and b2 (1 s after)
    io.r("b", "b3", 11_000); // another key
    io.l("a", "a3", 25_000); // nothing within 10 s
    io.r("a", "b4", 35_000); // exactly 10 s after a3: inside
    io.r("a", "b5", 35_001); // 10.001 s after a3: outside
    io.l("a", "a4", 40_000);
    io.l("a", "a5", 40_000); // same key and timestamp: both kept
    io.r("a", "b6", 41_000);
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("a", "a1+b1", 5_000),
            out("a", "a2+b1", 11_000),
            out("a", "a2+b2", 12_000),
            out("a", "a3+b4", 35_000),
            out("a", "a4+b4", 40_000),
            out("a", "a4+b5", 40_000),
            out("a", "a5+b4", 40_000),
            out("a", "a5+b5", 40_000),
            out("a", "a4+b6", 41_000),
            out("a", "a5+b6", 41_000),
        ]
    );
    assert_eq!(driver.metrics().dropped_records, 0);
}

#[test]
fn asymmetric_windows_before_and_after() {
    // A left record at t joins right records in [t, t + 10 s] only.
    let windows = JoinWindows::of_time_difference_and_grace(secs(10), secs(60))
        .unwrap()
        .before(Duration::ZERO)
        .unwrap();
    let driver = join_driver(Kind::Inner, windows, no_cache("after-only"));
    let io = sides(&driver);
    io.l("a", "a1", 10_000);
    io.r("a", "b1", 5_000); // before a1: outside
    io.r("a", "b2", 15_000); // 5 s after a1
    io.r("a", "b3", 21_000); // 11 s after a1: outside
    io.l("a", "a2", 20_000); // b3 is 1 s later
    assert_eq!(
        read(&driver, "out"),
        vec![out("a", "a1+b2", 15_000), out("a", "a2+b3", 21_000)]
    );

    // A left record at t joins right records in [t - 10 s, t] only.
    let windows = JoinWindows::of_time_difference_and_grace(secs(10), secs(60))
        .unwrap()
        .after(Duration::ZERO)
        .unwrap();
    let driver = join_driver(Kind::Inner, windows, no_cache("before-only"));
    let io = sides(&driver);
    io.l("a", "a1", 10_000);
    io.r("a", "b1", 5_000); // 5 s before a1
    io.r("a", "b2", 15_000); // after a1: outside
    io.l("a", "a2", 26_000); // b2 is 11 s earlier: outside
    io.l("a", "a3", 25_000); // b2 is 10 s earlier: inside
    assert_eq!(
        read(&driver, "out"),
        vec![out("a", "a1+b1", 10_000), out("a", "a3+b2", 25_000)]
    );
}

#[test]
fn late_records_still_join_but_are_not_kept_past_the_store_retention() {
    // Kafka's semantics: lateness never stops a record from probing the other side's store;
    // it only decides whether the record is kept in its own store (retention before + after
    // + grace = 25 s behind that store's newest record).
    let windows = JoinWindows::of_time_difference_and_grace(secs(10), secs(5)).unwrap();
    let driver = join_driver(Kind::Inner, windows, no_cache("late"));
    let io = sides(&driver);
    io.l("a", "a1", 100_000);
    io.r("x", "x", 120_000); // stream time 120 s; the right store's newest record
                             // Its window [85 s, 105 s] closed at 105 s + 5 s grace: late, but a1 is still there, so it
                             // joins. 95 s is 25 s behind the right store's newest record: not kept, counted.
    io.r("a", "b1", 95_000);
    // Window end 116 s + grace 5 s = 121 s: out of order, still in time.
    io.l("a", "a2", 106_000);
    io.r("a", "b2", 108_000);
    // b1 would be in this record's window [86 s, 106 s], but it was not kept.
    io.l("a", "a3", 96_000);
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("a", "a1+b1", 100_000),
            out("a", "a1+b2", 108_000),
            out("a", "a2+b2", 108_000)
        ]
    );
    assert_eq!(driver.metrics().dropped_records, 1);
}

#[test]
fn describe_names_nodes_and_stores_as_kafka_and_stores_log_to_changelogs() {
    let windows = JoinWindows::of_time_difference_with_no_grace(secs(10)).unwrap();
    let driver = join_driver(Kind::Inner, windows, no_cache("app"));
    let builder = StreamsBuilder::new();
    let left = builder.stream("left", Consumed::with(StringSerde, StringSerde));
    let right = builder.stream("right", Consumed::with(StringSerde, StringSerde));
    left.join(&right, |l, r| format!("{l}+{r}"), windows)
        .to("out", Produced::with(StringSerde, StringSerde));
    let described = builder.build().unwrap().describe().to_string();
    for line in [
        "Source: KSTREAM-SOURCE-0000000000 (topics: [left])\n      --> KSTREAM-WINDOWED-0000000002",
        "Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n      --> KSTREAM-JOINTHIS-0000000004",
        "Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n      --> KSTREAM-JOINOTHER-0000000005",
        "Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-WINDOWED-0000000002",
        "Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n      --> KSTREAM-MERGE-0000000006\n      <-- KSTREAM-WINDOWED-0000000003",
        "Processor: KSTREAM-MERGE-0000000006 (stores: [])\n      --> KSTREAM-SINK-0000000007\n      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005",
    ] {
        assert!(described.contains(line), "missing\n{line}\nin\n{described}");
    }
    assert_eq!(described.matches("Sub-topology").count(), 1, "{described}");

    let io = sides(&driver);
    io.l("a", "a1", 1_000);
    io.l("a", "a2", 1_000);
    driver.commit().unwrap();
    // Kafka's window key with a sequence number: key bytes, timestamp, sequence.
    let mut changelog = driver
        .output_topic(
            "app-KSTREAM-JOINTHIS-0000000004-store-changelog",
            BytesSerde,
            StringSerde,
        )
        .read_key_values_to_list()
        .unwrap();
    changelog.sort();
    let key = |seq: u8| {
        let mut k = b"a".to_vec();
        k.extend_from_slice(&1_000i64.to_be_bytes());
        k.extend_from_slice(&[0, 0, 0, seq]);
        k
    };
    assert_eq!(changelog, vec![(key(0), s("a1")), (key(1), s("a2"))]);
}

#[test]
fn named_join_names_processors_stores_and_repartition_topics() {
    let windows = JoinWindows::of_time_difference_with_no_grace(secs(10)).unwrap();
    let builder = StreamsBuilder::new();
    let left = builder.stream("left", Consumed::with(StringSerde, StringSerde));
    let right = builder
        .stream("right", Consumed::with(StringSerde, StringSerde))
        .select_key(|_, v| v.clone());
    left.left_join_with(
        &right,
        |l, r| format!("{l}+{}", opt(r)),
        windows,
        StreamJoined::with(StringSerde, StringSerde, StringSerde)
            .with_name("rp")
            .with_store_name("rp-store")
            .in_memory(),
    )
    .to("out", Produced::with(StringSerde, StringSerde));
    let described = builder.build().unwrap().describe().to_string();
    for part in [
        "Sink: rp-right-repartition-sink (topic: rp-right-repartition)",
        "Source: rp-right-repartition-source (topics: [rp-right-repartition])",
        "Processor: rp-this-windowed (stores: [rp-store-this-join-store])",
        "Processor: rp-other-windowed (stores: [rp-store-outer-other-join-store])",
        "Processor: rp-this-join (stores: [rp-store-left-shared-join-store, rp-store-outer-other-join-store])",
        "Processor: rp-outer-other-join (stores: [rp-store-left-shared-join-store, rp-store-this-join-store])",
        "Processor: rp-merge (stores: [])",
    ] {
        assert!(described.contains(part), "missing {part} in\n{described}");
    }
}

// ---------------------------------------------------------------------------------------------
// Left and outer joins
// ---------------------------------------------------------------------------------------------

#[test]
fn left_join_emits_unmatched_records_only_after_their_window_closes() {
    let windows = JoinWindows::of_time_difference_and_grace(secs(10), secs(5)).unwrap();
    let driver = join_driver(Kind::Left, windows, no_cache("left"));
    let io = sides(&driver);
    io.l("a", "a1", 1_000);
    io.l("b", "b1", 2_000);
    io.r("a", "x1", 5_000); // a1 found its partner: no null result for it, ever
    io.l("c", "c1", 3_000); // out of order
    io.l("d", "d1", 16_000); // stream time 16 s: b1 closes at 2 + 10 + 5 = 17 s
    assert_eq!(read(&driver, "out"), vec![out("a", "a1+x1", 5_000)]);
    io.r("z", "z", 17_001); // b1 is due now
    io.r("c", "x2", 12_000); // out of order, in time for c1: joined, c1 never emitted alone
    io.l("e", "e1", 30_000); // d1 closes at 31 s
    assert_eq!(
        read(&driver, "out"),
        vec![out("b", "b1+null", 2_000), out("c", "c1+x2", 12_000)]
    );
    io.r("y", "y", 31_001);
    // After its window ended but within grace: nothing can join it any more in time, so
    // Kafka emits it at once.
    io.l("g", "g1", 20_000);
    assert_eq!(
        read(&driver, "out"),
        vec![out("d", "d1+null", 16_000), out("g", "g1+null", 20_000)]
    );
    // Right records are never emitted alone in a left join; e1 (due at 45 s) waits.
    io.r("w", "w", 44_000);
    assert!(read(&driver, "out").is_empty());
    io.r("w", "w2", 45_001);
    assert_eq!(read(&driver, "out"), vec![out("e", "e1+null", 30_000)]);
    assert_eq!(driver.metrics().dropped_records, 0);
}

#[test]
fn outer_join_emits_unmatched_records_of_both_sides_after_window_close() {
    let windows = JoinWindows::of_time_difference_with_no_grace(secs(10)).unwrap();
    let driver = join_driver(Kind::Outer, windows, no_cache("outer"));
    let io = sides(&driver);
    io.l("a", "a1", 1_000);
    io.r("b", "b1", 2_000);
    io.r("a", "x1", 3_000);
    io.r("b", "b2", 11_000); // b1 (due after 12 s) is not emitted yet; b2 is 9 s after it
    io.l("c", "c1", 20_000); // b1 is due (it had no left partner)
    io.r("c", "x2", 25_000); // b2 is due (11 + 10 < 25), then x2 joins c1
    io.l("d", "d1", 40_000);
    io.r("e", "e1", 50_001); // d1 is due; e1 waits
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("a", "a1+x1", 3_000),
            out("b", "null+b1", 2_000),
            out("b", "null+b2", 11_000),
            out("c", "c1+x2", 25_000),
            out("d", "d1+null", 40_000),
        ]
    );
}

#[test]
fn outer_join_with_asymmetric_windows_closes_each_side_at_its_own_end() {
    // Left at t joins right in [t - 2 s, t + 10 s]: a left record closes 10 s after its time,
    // a right record 2 s after.
    let windows = JoinWindows::of_time_difference_with_no_grace(secs(10))
        .unwrap()
        .before(secs(2))
        .unwrap();
    let driver = join_driver(Kind::Outer, windows, no_cache("outer-asym"));
    let io = sides(&driver);
    io.l("a", "a1", 1_000);
    io.r("b", "b1", 1_000);
    // b1 is due (1 + 2 < 3.001), but as in Kafka the left processor looks only once the
    // oldest unjoined record (1 s) plus its side's `after` (10 s) is behind stream time.
    io.l("z", "z1", 3_001);
    assert!(read(&driver, "out").is_empty());
    // The right processor looks (1 + 2 < 3.002): b1 is emitted, a1 is still open.
    io.r("y", "y1", 3_002);
    assert_eq!(read(&driver, "out"), vec![out("b", "null+b1", 1_000)]);
    // a1 is due now, but Kafka's tracker remembers the last record that check visited
    // (z1, 3.001 s): 3.001 + 10 >= 11.001, the left processor does not look.
    io.l("z", "z2", 11_001);
    assert!(read(&driver, "out").is_empty());
    // The right processor does (3.001 + 2 < 11.002): a1, then y1 (3.002 + 2 < 11.002).
    io.r("x", "x1", 11_002);
    assert_eq!(
        read(&driver, "out"),
        vec![out("a", "a1+null", 1_000), out("y", "null+y1", 3_002)]
    );
}

#[test]
fn null_keys_and_values_are_dropped_and_an_outer_side_joins_null_keys_at_once() {
    let windows = JoinWindows::of_time_difference_with_no_grace(secs(10)).unwrap();
    let builder = StreamsBuilder::new();
    let consumed = || Consumed::with(Nullable(StringSerde), Nullable(StringSerde));
    let left = builder.stream("left", consumed());
    let right = builder.stream("right", consumed());
    let show =
        |v: Option<&Option<String>>| v.and_then(|v| v.as_deref()).unwrap_or("null").to_string();
    left.left_join(
        &right,
        move |l, r| format!("{}+{}", show(Some(l)), show(r)),
        windows,
    )
    .to("out", Produced::with(Nullable(StringSerde), StringSerde));
    let driver = TopologyTestDriver::new(builder.build().unwrap(), no_cache("nulls")).unwrap();
    let l = driver.input_topic("left", Nullable(StringSerde), Nullable(StringSerde));
    let r = driver.input_topic("right", Nullable(StringSerde), Nullable(StringSerde));
    l.pipe_input_at(None, Some(s("a0")), 1_000).unwrap(); // left is outer: emitted at once
    l.pipe_input_at(Some(s("a")), None, 1_000).unwrap(); // null value: dropped
    r.pipe_input_at(None, Some(s("b0")), 1_000).unwrap(); // right is not outer: dropped
    r.pipe_input_at(Some(s("a")), None, 1_000).unwrap(); // dropped
    l.pipe_input_at(Some(s("a")), Some(s("a1")), 2_000).unwrap();
    r.pipe_input_at(Some(s("a")), Some(s("b1")), 3_000).unwrap();
    let got: Vec<(Option<String>, String, i64)> = driver
        .output_topic("out", Nullable(StringSerde), StringSerde)
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect();
    assert_eq!(
        got,
        vec![
            (None, s("a0+null"), 1_000),
            (Some(s("a")), s("a1+b1"), 3_000)
        ]
    );
    assert_eq!(driver.metrics().dropped_records, 3);
}

// ---------------------------------------------------------------------------------------------
// Restoration
// ---------------------------------------------------------------------------------------------

#[test]
fn join_stores_are_restored_after_a_restart() {
    let windows = JoinWindows::of_time_difference_and_grace(secs(10), secs(5)).unwrap();
    for wipe in [true, false] {
        let driver = join_driver(Kind::Left, windows, no_cache(&format!("restore-{wipe}")));
        let io = sides(&driver);
        io.l("a", "a1", 1_000);
        io.l("a", "a2", 1_000);
        io.l("b", "b1", 2_000);
        io.r("c", "c1", 3_000);
        assert!(read(&driver, "out").is_empty());
        let task = driver.task_ids()[0];
        driver.restart_task(task, wipe).unwrap();
        let io = sides(&driver);
        // The restored left store still holds a1 and a2 (same key and timestamp, both kept).
        io.r("a", "x1", 4_000);
        io.l("a", "a3", 4_000); // new duplicates of a's records do not overwrite the old ones
        io.r("a", "x2", 5_000);
        // b1 (restored from the store of unjoined records) closes at 17 s.
        io.r("z", "z", 17_001);
        assert_eq!(
            read(&driver, "out"),
            vec![
                out("a", "a1+x1", 4_000),
                out("a", "a2+x1", 4_000),
                out("a", "a3+x1", 4_000),
                out("a", "a1+x2", 5_000),
                out("a", "a2+x2", 5_000),
                out("a", "a3+x2", 5_000),
                out("b", "b1+null", 2_000),
            ],
            "wipe_local_state = {wipe}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Co-partitioning and repartitioning
// ---------------------------------------------------------------------------------------------

/// Rides keyed by drop-off zone joined with pickups re-keyed from their value (`zone@time`).
fn rekeyed_join() -> Topology {
    let builder = StreamsBuilder::new();
    let rides = builder.stream("rides", Consumed::with(StringSerde, StringSerde));
    let pickups = builder
        .stream("pickups", Consumed::with(StringSerde, StringSerde))
        .select_key(|_, v| v.split('@').next().unwrap_or_default().to_string());
    rides
        .join(
            &pickups,
            |ride, pickup| format!("{ride}+{pickup}"),
            JoinWindows::of_time_difference_with_no_grace(secs(60)).unwrap(),
        )
        .to("out", Produced::with(StringSerde, StringSerde));
    builder.build().unwrap()
}

#[test]
fn a_rekeyed_stream_is_repartitioned_before_the_join() {
    let topology = rekeyed_join();
    let described = topology.describe().to_string();
    assert!(
        described.contains("Sink: KSTREAM-SINK-0000000003 (topic: KSTREAM-KEY-SELECT-0000000002-repartition)")
            && described.contains("Source: KSTREAM-SOURCE-0000000005 (topics: [KSTREAM-KEY-SELECT-0000000002-repartition])\n      --> KSTREAM-WINDOWED-0000000007"),
        "{described}"
    );
    assert_eq!(described.matches("Sub-topology").count(), 2, "{described}");
    let driver = TopologyTestDriver::builder(topology, no_cache("rekey"))
        .default_partitions(4)
        .build()
        .unwrap();
    assert_eq!(
        driver.partition_count("rekey-KSTREAM-KEY-SELECT-0000000002-repartition"),
        4
    );
    let rides = driver.input_topic("rides", StringSerde, StringSerde);
    let pickups = driver.input_topic("pickups", StringSerde, StringSerde);
    rides.pipe_input_at(s("75"), s("ride1"), 1_000).unwrap();
    rides.pipe_input_at(s("76"), s("ride2"), 2_000).unwrap();
    // Keys of the pickups topic are not zones: only the re-keyed records meet the rides.
    pickups.pipe_input_at(s("p1"), s("75@3"), 3_000).unwrap();
    pickups.pipe_input_at(s("p2"), s("77@4"), 4_000).unwrap();
    pickups.pipe_input_at(s("p3"), s("76@5"), 5_000).unwrap();
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("75", "ride1+75@3", 3_000),
            out("76", "ride2+76@5", 5_000)
        ]
    );
}

#[test]
fn the_repartition_topic_of_a_join_takes_the_partition_count_of_the_other_side() {
    let driver = TopologyTestDriver::builder(rekeyed_join(), no_cache("rekey-count"))
        .partitions("rides", 2)
        .partitions("pickups", 5)
        .build()
        .unwrap();
    assert_eq!(
        driver.partition_count("rekey-count-KSTREAM-KEY-SELECT-0000000002-repartition"),
        2
    );
    let rides = driver.input_topic("rides", StringSerde, StringSerde);
    let pickups = driver.input_topic("pickups", StringSerde, StringSerde);
    rides.pipe_input_at(s("75"), s("ride1"), 1_000).unwrap();
    pickups.pipe_input_at(s("p1"), s("75@3"), 3_000).unwrap();
    assert_eq!(read(&driver, "out"), vec![out("75", "ride1+75@3", 3_000)]);
}

#[test]
fn joined_topics_with_different_partition_counts_are_an_error() {
    let windows = JoinWindows::of_time_difference_with_no_grace(secs(10)).unwrap();
    let builder = StreamsBuilder::new();
    let left = builder.stream("rides", Consumed::with(StringSerde, StringSerde));
    let right = builder.stream("pickups", Consumed::with(StringSerde, StringSerde));
    left.join(&right, |l, r| format!("{l}+{r}"), windows)
        .to("out", Produced::with(StringSerde, StringSerde));
    let err = TopologyTestDriver::builder(builder.build().unwrap(), no_cache("co"))
        .partitions("rides", 2)
        .partitions("pickups", 3)
        .build()
        .err()
        .expect("different partition counts must be refused");
    let m = err.to_string();
    assert!(
        m.contains("not co-partitioned")
            && m.contains("rides (2 partitions)")
            && m.contains("pickups (3 partitions)"),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------------
// Stream-table joins
// ---------------------------------------------------------------------------------------------

fn table_driver(left: bool, filter_bronx: bool) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let zones = builder.table(
        "zones",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("zones-store"),
    );
    let zones = if filter_bronx {
        zones.filter(|_, z| z != "Bronx")
    } else {
        zones
    };
    let rides = builder.stream("rides", Consumed::with(StringSerde, StringSerde));
    let joined = if left {
        rides.left_join_table(&zones, |ride, zone| format!("{ride}@{}", opt(zone)))
    } else {
        rides.join_table(&zones, |ride, zone| format!("{ride}@{zone}"))
    };
    joined.to("out", Produced::with(StringSerde, StringSerde));
    TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("stream-table")).unwrap()
}

fn pipe_zone_and_ride_updates(driver: &TopologyTestDriver) {
    let zones = driver.input_topic("zones", StringSerde, Nullable(StringSerde));
    let rides = driver.input_topic("rides", StringSerde, StringSerde);
    zones.pipe_input_at(s("75"), Some(s("Queens")), 0).unwrap();
    rides.pipe_input_at(s("75"), s("r1"), 1_000).unwrap();
    rides.pipe_input_at(s("76"), s("r2"), 2_000).unwrap(); // no row
    zones
        .pipe_input_at(s("75"), Some(s("Brooklyn")), 3_000)
        .unwrap(); // no output by itself
    rides.pipe_input_at(s("75"), s("r3"), 4_000).unwrap();
    zones.pipe_input_at(s("75"), None, 5_000).unwrap(); // deleted
    rides.pipe_input_at(s("75"), s("r4"), 6_000).unwrap();
    zones
        .pipe_input_at(s("76"), Some(s("Bronx")), 7_000)
        .unwrap();
    rides.pipe_input_at(s("76"), s("r5"), 8_000).unwrap();
}

#[test]
fn stream_table_join_looks_up_the_table_as_of_each_stream_record() {
    let driver = table_driver(false, false);
    pipe_zone_and_ride_updates(&driver);
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("75", "r1@Queens", 1_000),
            out("75", "r3@Brooklyn", 4_000),
            out("76", "r5@Bronx", 8_000),
        ]
    );
}

#[test]
fn stream_table_left_join_joins_missing_rows_with_none() {
    let driver = table_driver(true, false);
    pipe_zone_and_ride_updates(&driver);
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("75", "r1@Queens", 1_000),
            out("76", "r2@null", 2_000),
            out("75", "r3@Brooklyn", 4_000),
            out("75", "r4@null", 6_000),
            out("76", "r5@Bronx", 8_000),
        ]
    );
}

#[test]
fn a_table_that_is_not_materialized_is_materialized_for_the_join() {
    let driver = table_driver(true, true);
    pipe_zone_and_ride_updates(&driver);
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("75", "r1@Queens", 1_000),
            out("76", "r2@null", 2_000),
            out("75", "r3@Brooklyn", 4_000),
            out("75", "r4@null", 6_000),
            out("76", "r5@null", 8_000), // Bronx is filtered out of the table
        ]
    );
}

#[test]
fn stream_table_joins_drop_null_values_and_left_joins_keep_null_keys() {
    for left in [false, true] {
        let builder = StreamsBuilder::new();
        let zones = builder.table(
            "zones",
            Consumed::with(Nullable(StringSerde), StringSerde),
            Materialized::new(),
        );
        let rides = builder.stream(
            "rides",
            Consumed::with(Nullable(StringSerde), Nullable(StringSerde)),
        );
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| s("null"));
        let joined = if left {
            rides.left_join_table(&zones, move |r, z| format!("{}@{}", show(r), opt(z)))
        } else {
            rides.join_table(&zones, move |r, z| format!("{}@{z}", show(r)))
        };
        joined.to("out", Produced::with(Nullable(StringSerde), StringSerde));
        let driver =
            TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("nulls")).unwrap();
        driver
            .input_topic("zones", Nullable(StringSerde), Nullable(StringSerde))
            .pipe_input_at(Some(s("75")), Some(s("Queens")), 0)
            .unwrap();
        let rides = driver.input_topic("rides", Nullable(StringSerde), Nullable(StringSerde));
        rides.pipe_input_at(None, Some(s("r1")), 1_000).unwrap();
        rides.pipe_input_at(Some(s("75")), None, 2_000).unwrap();
        rides
            .pipe_input_at(Some(s("75")), Some(s("r2")), 3_000)
            .unwrap();
        let got: Vec<(Option<String>, String, i64)> = driver
            .output_topic("out", Nullable(StringSerde), StringSerde)
            .read_records_to_list()
            .unwrap()
            .into_iter()
            .map(|r| (r.key, r.value, r.timestamp))
            .collect();
        let mut expected = vec![(Some(s("75")), s("r2@Queens"), 3_000)];
        if left {
            expected.insert(0, (None, s("r1@null"), 1_000));
        }
        assert_eq!(got, expected, "left = {left}");
        assert_eq!(driver.metrics().dropped_records, if left { 1 } else { 2 });
    }
}

#[test]
fn a_rekeyed_stream_is_repartitioned_before_a_table_join() {
    let builder = StreamsBuilder::new();
    let zones = builder.table(
        "zones",
        Consumed::with(StringSerde, StringSerde),
        Materialized::new(),
    );
    builder
        .stream("rides", Consumed::with(StringSerde, StringSerde))
        .select_key(|_, ride| ride.split('@').nth(1).unwrap_or_default().to_string())
        .join_table(&zones, |ride, zone| format!("{ride} in {zone}"))
        .to("out", Produced::with(StringSerde, StringSerde));
    let topology = builder.build().unwrap();
    let described = topology.describe().to_string();
    assert!(
        described.contains("(topics: [KSTREAM-KEY-SELECT-0000000004-repartition])\n      --> KSTREAM-JOIN-0000000008"),
        "{described}"
    );
    let driver = TopologyTestDriver::builder(topology, StreamsConfig::new("rekey-table"))
        .default_partitions(3)
        .build()
        .unwrap();
    let zones = driver.input_topic("zones", StringSerde, StringSerde);
    zones.pipe_input_at(s("75"), s("Queens"), 0).unwrap();
    zones.pipe_input_at(s("238"), s("Manhattan"), 0).unwrap();
    let rides = driver.input_topic("rides", StringSerde, StringSerde);
    rides.pipe_input_at(s("x"), s("r1@238"), 1_000).unwrap();
    rides.pipe_input_at(s("y"), s("r2@75"), 2_000).unwrap();
    rides.pipe_input_at(s("z"), s("r3@1"), 3_000).unwrap();
    assert_eq!(
        read(&driver, "out"),
        vec![
            out("238", "r1@238 in Manhattan", 1_000),
            out("75", "r2@75 in Queens", 2_000),
        ]
    );
}

#[test]
fn unjoined_records_are_emitted_when_kafkas_time_tracker_says_so() {
    // Kafka checks the unjoined records only while the oldest one it last saw (its tracker's
    // `minTime`, after a check: the newest record the check visited) plus the processing
    // side's `after` plus grace is behind stream time. So a record due meanwhile can wait.
    let windows =
        JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100)).unwrap();
    let driver = join_driver(Kind::Left, windows, no_cache("tracker-left"));
    let io = sides(&driver);
    io.l("a", "a1", 0);
    io.l("b", "b1", 50);
    io.l("c", "c1", 60);
    io.r("z", "z1", 101); // a1 due; the check visits b1 and c1 (open): minTime 60
    assert_eq!(read(&driver, "out"), vec![out("a", "a1+null", 0)]);
    io.l("d", "d1", 155); // b1 is due (150 < 155), but 60 + 100 >= 155: not checked
    assert!(read(&driver, "out").is_empty());
    io.r("z", "z2", 161);
    assert_eq!(
        read(&driver, "out"),
        vec![out("b", "b1+null", 50), out("c", "c1+null", 60)]
    );

    // The check is skipped by `minTime + after + grace` with the processing side's `after`
    // (a right record's processor uses `before`).
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100))
        .unwrap()
        .before(Duration::ZERO)
        .unwrap();
    let driver = join_driver(Kind::Outer, windows, no_cache("tracker-outer"));
    let io = sides(&driver);
    io.r("a", "r1", 0); // its window [0 - 100, 0] ends at once
    io.l("b", "l1", 50); // r1 is due, but the left processor checks 0 + 100 >= 50: skipped
    assert!(read(&driver, "out").is_empty());
    io.r("c", "r2", 60); // the right processor checks 0 + 0 < 60
    assert_eq!(read(&driver, "out"), vec![out("a", "null+r1", 0)]);
}
