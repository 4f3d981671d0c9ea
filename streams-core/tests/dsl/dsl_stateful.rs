//! Aggregations and tables through the TopologyTestDriver, with exact expected outputs.

use streams_core::*;

fn s(x: &str) -> String {
    x.to_string()
}

/// The course's ride count: rides keyed by location, counted per key, caching off so every
/// update is emitted (as the course's tests expect).
fn count_driver(config: StreamsConfig) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .stream("rides", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .count(Materialized::named("ride-counts"))
        .to_stream()
        .to("rides-pulocation-count", Produced::new());
    TopologyTestDriver::new(builder.build().unwrap(), config).unwrap()
}

fn no_cache(app: &str) -> StreamsConfig {
    StreamsConfig::new(app).with("statestore.cache.max.bytes", "0")
}

#[test]
fn course_count_one_ride() {
    let driver = count_driver(no_cache("count-1"));
    driver
        .input_topic("rides", StringSerde, StringSerde)
        .pipe_input(s("75"), s("ride"))
        .unwrap();
    let out = driver.output_topic("rides-pulocation-count", StringSerde, I64Serde);
    assert_eq!(out.read_key_value().unwrap(), (s("75"), 1));
    assert!(out.is_empty());
}

#[test]
fn course_count_two_keys() {
    let driver = count_driver(no_cache("count-2"));
    let input = driver.input_topic("rides", StringSerde, StringSerde);
    input.pipe_input(s("100"), s("a")).unwrap();
    input.pipe_input(s("200"), s("b")).unwrap();
    let out = driver.output_topic("rides-pulocation-count", StringSerde, I64Serde);
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![(s("100"), 1), (s("200"), 1)]
    );
}

#[test]
fn course_count_same_key_twice() {
    let driver = count_driver(no_cache("count-3"));
    let input = driver.input_topic("rides", StringSerde, StringSerde);
    input.pipe_input(s("100"), s("a")).unwrap();
    input.pipe_input(s("100"), s("b")).unwrap();
    let out = driver.output_topic("rides-pulocation-count", StringSerde, I64Serde);
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![(s("100"), 1), (s("100"), 2)]
    );
    let store: KeyValueStore<String, i64> = driver.get_state_store("ride-counts").unwrap();
    assert_eq!(store.get(&s("100")).unwrap(), Some(2));
}

#[test]
fn caching_coalesces_updates_between_commits() {
    // With the cache on, a batch piped at once is committed once: one result per key.
    let driver = count_driver(StreamsConfig::new("cached"));
    let input = driver.input_topic("rides", StringSerde, StringSerde);
    input
        .pipe_key_values([
            (s("a"), s("1")),
            (s("b"), s("2")),
            (s("a"), s("3")),
            (s("a"), s("4")),
        ])
        .unwrap();
    let out = driver.output_topic("rides-pulocation-count", StringSerde, I64Serde);
    // Emitted in the order of each key's last update.
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![(s("b"), 1), (s("a"), 3)]
    );
    // Without the cache, every update.
    let driver = count_driver(no_cache("uncached"));
    let input = driver.input_topic("rides", StringSerde, StringSerde);
    input
        .pipe_key_values([
            (s("a"), s("1")),
            (s("b"), s("2")),
            (s("a"), s("3")),
            (s("a"), s("4")),
        ])
        .unwrap();
    let out = driver.output_topic("rides-pulocation-count", StringSerde, I64Serde);
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![(s("a"), 1), (s("b"), 1), (s("a"), 2), (s("a"), 3)]
    );
}

#[test]
fn count_writes_the_changelog_and_the_timestamp_is_the_latest() {
    let driver = count_driver(no_cache("changelog"));
    let input = driver.input_topic("rides", StringSerde, StringSerde);
    input.pipe_input_at(s("k"), s("a"), 500).unwrap();
    input.pipe_input_at(s("k"), s("b"), 100).unwrap();
    let out = driver.output_topic("rides-pulocation-count", StringSerde, I64Serde);
    let ts: Vec<i64> = out
        .read_records_to_list()
        .unwrap()
        .iter()
        .map(|r| r.timestamp)
        .collect();
    // An aggregate keeps the largest timestamp of its inputs.
    assert_eq!(ts, vec![500, 500]);
    let changelog = driver.output_topic("changelog-ride-counts-changelog", StringSerde, I64Serde);
    assert_eq!(
        changelog.read_key_values_to_list().unwrap(),
        vec![(s("k"), 1), (s("k"), 2)]
    );
}

#[test]
fn reduce_and_aggregate_to_a_struct() {
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Stats {
        rides: u32,
        total: f64,
    }
    let builder = StreamsBuilder::new();
    let fares = builder.stream("fares", Consumed::with(StringSerde, F64Serde));
    fares
        .group_by_key()
        .reduce(
            |a, b| a.max(b),
            Materialized::named("max-fare").with_caching_disabled(),
        )
        .to_stream()
        .to("max-fares", Produced::new());
    fares
        .group_by_key()
        .aggregate(
            || Stats {
                rides: 0,
                total: 0.0,
            },
            |_, fare, acc| Stats {
                rides: acc.rides + 1,
                total: acc.total + fare,
            },
            Materialized::with(StringSerde, Json::<Stats>::new()).with_caching_disabled(),
        )
        .to_stream()
        .to(
            "stats",
            Produced::with(StringSerde, Nullable(Json::<Stats>::new())),
        );
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("agg")).unwrap();
    let input = driver.input_topic("fares", StringSerde, F64Serde);
    input.pipe_input(s("75"), 10.0).unwrap();
    input.pipe_input(s("75"), 30.0).unwrap();
    input.pipe_input(s("75"), 20.0).unwrap();
    assert_eq!(
        driver
            .output_topic("max-fares", StringSerde, F64Serde)
            .read_values_to_list()
            .unwrap(),
        vec![10.0, 30.0, 30.0]
    );
    assert_eq!(
        driver
            .output_topic("stats", StringSerde, Json::<Stats>::new())
            .read_values_to_list()
            .unwrap(),
        vec![
            Stats {
                rides: 1,
                total: 10.0
            },
            Stats {
                rides: 2,
                total: 40.0
            },
            Stats {
                rides: 3,
                total: 60.0
            },
        ]
    );
}

#[test]
fn group_by_a_new_key_repartitions() {
    let builder = StreamsBuilder::new();
    builder
        .stream("rides", Consumed::with(StringSerde, StringSerde))
        .group_by(|_, dropoff| dropoff.clone())
        .count(Materialized::named("by-dropoff").with_caching_disabled())
        .to_stream()
        .to("counts", Produced::new());
    let topology = builder.build().unwrap();
    assert_eq!(topology.describe().subtopologies.len(), 2);
    let driver = TopologyTestDriver::builder(topology, StreamsConfig::new("regroup"))
        .partitions("rides", 2)
        .build()
        .unwrap();
    assert_eq!(driver.partition_count("regroup-by-dropoff-repartition"), 2);
    let input = driver.input_topic("rides", StringSerde, StringSerde);
    input.pipe_input(s("1"), s("75")).unwrap();
    input.pipe_input(s("2"), s("75")).unwrap();
    input.pipe_input(s("3"), s("88")).unwrap();
    assert_eq!(
        driver
            .output_topic("counts", StringSerde, I64Serde)
            .read_key_values_to_list()
            .unwrap(),
        vec![(s("75"), 1), (s("75"), 2), (s("88"), 1)]
    );
}

#[test]
fn table_from_a_topic_with_updates_and_tombstones() {
    let builder = StreamsBuilder::new();
    let zones = builder.table(
        "zones",
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("zones-store").with_caching_disabled(),
    );
    zones.to_stream().to("zones-changes", Produced::new());
    zones
        .filter(|_, borough| borough == "Queens")
        .to_stream()
        .to("queens", Produced::new());
    zones
        .map_values(|b| b.len() as i64)
        .to_stream()
        .to("lengths", Produced::new());
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("tables")).unwrap();
    let input = driver.input_topic("zones", StringSerde, Nullable(StringSerde));
    input.pipe_input(s("2"), Some(s("Queens"))).unwrap();
    input.pipe_input(s("4"), Some(s("Manhattan"))).unwrap();
    input.pipe_input(s("2"), Some(s("Brooklyn"))).unwrap();
    input.pipe_input(s("4"), None).unwrap();
    let changes = driver.output_topic("zones-changes", StringSerde, Nullable(StringSerde));
    assert_eq!(
        changes.read_key_values_to_list().unwrap(),
        vec![
            (s("2"), Some(s("Queens"))),
            (s("4"), Some(s("Manhattan"))),
            (s("2"), Some(s("Brooklyn"))),
            (s("4"), None),
        ]
    );
    // A row that stops matching the filter is deleted downstream.
    let queens = driver.output_topic("queens", StringSerde, Nullable(StringSerde));
    assert_eq!(
        queens.read_key_values_to_list().unwrap(),
        vec![(s("2"), Some(s("Queens"))), (s("2"), None)]
    );
    let lengths = driver.output_topic("lengths", StringSerde, Nullable(I64Serde));
    assert_eq!(
        lengths.read_key_values_to_list().unwrap(),
        vec![
            (s("2"), Some(6)),
            (s("4"), Some(9)),
            (s("2"), Some(8)),
            (s("4"), None)
        ]
    );
    let store: KeyValueStore<String, String> = driver.get_state_store("zones-store").unwrap();
    assert_eq!(store.all().unwrap(), vec![(s("2"), s("Brooklyn"))]);
}

#[test]
fn table_group_by_uses_the_subtractor_when_a_key_moves_group() {
    // zone -> borough table; count zones per borough.
    let builder = StreamsBuilder::new();
    builder
        .table(
            "zones",
            Consumed::with(StringSerde, StringSerde),
            Materialized::named("zones-store").with_caching_disabled(),
        )
        .group_by(|_zone, borough| (borough.clone(), 1i64))
        .count(Materialized::named("zones-per-borough").with_caching_disabled())
        .to_stream()
        .to("per-borough", Produced::new());
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("moves")).unwrap();
    let input = driver.input_topic("zones", StringSerde, Nullable(StringSerde));
    input.pipe_input(s("z1"), Some(s("Queens"))).unwrap();
    input.pipe_input(s("z2"), Some(s("Queens"))).unwrap();
    input.pipe_input(s("z1"), Some(s("Bronx"))).unwrap(); // z1 moves: Queens -1, Bronx +1
    input.pipe_input(s("z2"), None).unwrap(); // z2 deleted: Queens -1
    let out = driver.output_topic("per-borough", StringSerde, I64Serde);
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![
            (s("Queens"), 1),
            (s("Queens"), 2),
            (s("Queens"), 1),
            (s("Bronx"), 1),
            (s("Queens"), 0),
        ]
    );
}

#[test]
fn table_group_by_reduce_and_aggregate_with_subtractor() {
    let builder = StreamsBuilder::new();
    let fares = builder.table(
        "fares",
        Consumed::with(StringSerde, I64Serde),
        Materialized::named("fares-store").with_caching_disabled(),
    );
    fares
        .group_by(|ride, fare| (ride[..1].to_string(), *fare))
        .reduce(
            |a, b| a + b,
            |a, b| a - b,
            Materialized::named("sum").with_caching_disabled(),
        )
        .to_stream()
        .to("sums", Produced::new());
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("red")).unwrap();
    let input = driver.input_topic("fares", StringSerde, I64Serde);
    input.pipe_input(s("a1"), 10).unwrap();
    input.pipe_input(s("a2"), 5).unwrap();
    input.pipe_input(s("a1"), 7).unwrap(); // same group: one update, 15 - 10 + 7
    assert_eq!(
        driver
            .output_topic("sums", StringSerde, I64Serde)
            .read_key_values_to_list()
            .unwrap(),
        vec![(s("a"), 10), (s("a"), 15), (s("a"), 12)]
    );
}

#[test]
fn stream_to_table() {
    let builder = StreamsBuilder::new();
    builder
        .stream("locations", Consumed::with(StringSerde, StringSerde))
        .to_table(Materialized::named("latest").with_caching_disabled())
        .to_stream()
        .to("latest-out", Produced::new());
    let driver =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("tt")).unwrap();
    let input = driver.input_topic("locations", StringSerde, StringSerde);
    input
        .pipe_key_values([(s("v1"), s("75")), (s("v1"), s("88"))])
        .unwrap();
    let store: KeyValueStore<String, String> = driver.get_state_store("latest").unwrap();
    assert_eq!(store.get(&s("v1")).unwrap(), Some(s("88")));
    assert_eq!(
        driver
            .output_topic("latest-out", StringSerde, StringSerde)
            .read_values_to_list()
            .unwrap(),
        vec![s("75"), s("88")]
    );
}

fn restore_case(store_type_in_memory: bool, wipe: bool) {
    let builder = StreamsBuilder::new();
    let m = Materialized::named("counts").with_caching_disabled();
    let m = if store_type_in_memory {
        m.in_memory()
    } else {
        m
    };
    builder
        .stream("rides", Consumed::with(StringSerde, StringSerde))
        .group_by_key()
        .count(m)
        .to_stream()
        .to("out", Produced::new());
    let driver =
        TopologyTestDriver::builder(builder.build().unwrap(), StreamsConfig::new("restore"))
            .partitions("rides", 2)
            .build()
            .unwrap();
    let input = driver.input_topic("rides", StringSerde, StringSerde);
    let keys = ["21", "foobar", "75", "238", "21", "75", "21"];
    for k in keys {
        input.pipe_input(s(k), s("x")).unwrap();
    }
    let before: Vec<Vec<(String, i64)>> = (0..2)
        .map(|p| {
            driver
                .get_state_store_for_partition::<KeyValueStore<String, i64>>("counts", p)
                .unwrap()
                .all()
                .unwrap()
        })
        .collect();
    assert_eq!(before.iter().map(Vec::len).sum::<usize>(), 4);
    for t in driver.task_ids() {
        driver.restart_task(t, wipe).unwrap();
    }
    for p in 0..2 {
        let after = driver
            .get_state_store_for_partition::<KeyValueStore<String, i64>>("counts", p)
            .unwrap()
            .all()
            .unwrap();
        assert_eq!(after, before[p as usize], "partition {p} after restore");
    }
    // Further output continues from the restored counts.
    let out = driver.output_topic("out", StringSerde, I64Serde);
    out.read_records_to_list().unwrap();
    input.pipe_input(s("21"), s("x")).unwrap();
    assert_eq!(out.read_key_value().unwrap(), (s("21"), 4));
}

#[test]
fn restore_rocksdb_store_from_checkpoint() {
    restore_case(false, false);
}

#[test]
fn restore_rocksdb_store_from_the_whole_changelog_after_wiping_state() {
    restore_case(false, true);
}

#[test]
fn restore_in_memory_store() {
    restore_case(true, false);
}
