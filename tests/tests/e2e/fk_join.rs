//! A foreign-key table join end to end on the embedded cluster: course rides as a table keyed
//! by ride id (3 partitions) joined on their pickup location with the taxi-zone table (2
//! partitions, not co-partitioned), through the two internal topics the runtime creates. The
//! output topic is checked exactly after each phase: initial join, a zone update fanned out to
//! its rides, a foreign-key change, a ride deleted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use streams_core::*;
use streams_examples::{data_dir, load_rides, load_zones, Ride};
use streams_tests::kafka::{consume_all, consumer_from_beginning, produce_all, ProducerRecord};

const APP: &str = "fk-e2e";
const RIDES: &str = "fk-rides";
const ZONES: &str = "fk-zones";
const OUT: &str = "fk-rides-with-zone";
/// Zone rows are older than every ride (0 would make the producer stamp the current time), so
/// a joined row has its ride's timestamp.
const ZONE_TS: i64 = 1;

fn temp_state_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streams-e2e-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn label(ride: &Ride, zone: &str) -> String {
    format!("{} {zone}", ride.pickup_datetime)
}

fn topology() -> Topology {
    let builder = StreamsBuilder::new();
    let rides = builder.table(
        RIDES,
        Consumed::with(StringSerde, Json::<Ride>::new()),
        Materialized::named("fk-rides-store"),
    );
    let zones = builder.table(
        ZONES,
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("fk-zones-store"),
    );
    rides
        .join_on_foreign_key(
            &zones,
            |r: &Ride| r.pu_location_id.to_string(),
            |r: &Ride, zone: &String| label(r, zone),
        )
        .to_stream()
        .to(OUT, Produced::with(StringSerde, Nullable(StringSerde)));
    builder.build().unwrap()
}

type Row = (String, Option<String>, i64);

/// Every output record, grouped by key (stable: per-key order is the partition's order).
fn read_out(bootstrap: &str, n: usize) -> Vec<Row> {
    let records = consume_all(bootstrap, OUT, n, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("joined rides: {e}"));
    let mut out: Vec<Row> = records
        .into_iter()
        .map(|r| {
            (
                String::from_utf8(r.key.expect("keyed")).unwrap(),
                r.value.map(|v| String::from_utf8(v).unwrap()),
                r.timestamp.expect("a timestamp"),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn sorted(mut v: Vec<Row>) -> Vec<Row> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn rides_joined_with_zones_on_a_foreign_key_on_the_embedded_cluster() {
    let dir = temp_state_dir("fk-join");
    let config = StreamsConfig::new(APP)
        .with("state.dir", dir.to_string_lossy().as_ref())
        .with("commit.interval.ms", "200");
    let mut streams = KafkaStreams::new(topology(), config).unwrap();
    let cluster = streams.embedded_cluster().unwrap();
    cluster.create_topic(RIDES, 3).unwrap();
    cluster.create_topic(ZONES, 2).unwrap();
    cluster.create_topic(OUT, 3).unwrap();
    let b = streams.bootstrap_servers().to_string();

    let zones = load_zones(&data_dir().join("taxi_zone_lookup.csv")).unwrap();
    let zone_records: Vec<ProducerRecord> = zones
        .iter()
        .map(|(id, z)| {
            (
                Some(id.to_string().into_bytes()),
                Some(z.zone.clone().into_bytes()),
                ZONE_TS,
            )
        })
        .collect();
    produce_all(&b, ZONES, &zone_records).unwrap();
    streams.start().unwrap();
    assert!(
        streams.wait_for_state(KafkaStreamsState::Running, Duration::from_secs(60)),
        "did not reach RUNNING: {:?}",
        streams.state()
    );
    // The internal topics exist with the partition counts of the tables they serve.
    let internal = |t: &str| format!("{APP}-KTABLE-FK-JOIN-SUBSCRIPTION-{t}-topic");
    for (topic, partitions) in [
        (internal("REGISTRATION-0000000004"), 2),
        (internal("RESPONSE-0000000012"), 3),
    ] {
        let (_, n) = consumer_from_beginning(&b, &topic).unwrap();
        assert_eq!(n, partitions, "{topic}");
    }
    // Wait until the zone table is loaded (its changelog holds every zone).
    consume_all(
        &b,
        &format!("{APP}-fk-zones-store-changelog"),
        zone_records.len(),
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("zone table not loaded: {e}"));

    // Phase 1: 30 rides; the ones whose pickup zone exists join.
    let mut rides = load_rides(&data_dir().join("rides.csv")).unwrap();
    rides.truncate(30);
    let mut unknown = rides[2].clone();
    unknown.pu_location_id = 999;
    rides.push(unknown);
    let key = |i: usize| format!("ride-{i:02}");
    let ride_records: Vec<ProducerRecord> = rides
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                Some(key(i).into_bytes()),
                Some(serde_json::to_vec(r).unwrap()),
                r.pickup_millis(),
            )
        })
        .collect();
    produce_all(&b, RIDES, &ride_records).unwrap();
    let mut expected: Vec<Row> = rides
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let z = zones.get(&r.pu_location_id)?;
            Some((key(i), Some(label(r, &z.zone)), r.pickup_millis()))
        })
        .collect();
    assert_eq!(expected.len(), 30, "ride 30 has no zone: no joined row");
    assert_eq!(read_out(&b, expected.len()), sorted(expected.clone()));

    // Phase 2: the most frequent pickup zone is renamed; all its rides are updated.
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for r in &rides[..30] {
        *counts.entry(r.pu_location_id).or_default() += 1;
    }
    let (&busy, &n) = counts
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
        .unwrap();
    assert!(
        n >= 2,
        "a zone with several rides is needed for the fan-out"
    );
    let t = rides.iter().map(Ride::pickup_millis).max().unwrap() + 1_000;
    produce_all(
        &b,
        ZONES,
        &[(
            Some(busy.to_string().into_bytes()),
            Some(b"Renamed".to_vec()),
            t,
        )],
    )
    .unwrap();
    for (i, r) in rides.iter().enumerate() {
        if r.pu_location_id == busy {
            expected.push((key(i), Some(label(r, "Renamed")), t));
        }
    }
    assert_eq!(read_out(&b, expected.len()), sorted(expected.clone()));

    // Phase 3: ride 0 changes its pickup zone (foreign-key change); ride 1 is deleted.
    let mut moved = rides[0].clone();
    moved.pu_location_id = if rides[0].pu_location_id == 1 { 2 } else { 1 };
    let updates: Vec<ProducerRecord> = vec![
        (
            Some(key(0).into_bytes()),
            Some(serde_json::to_vec(&moved).unwrap()),
            t + 1,
        ),
        (Some(key(1).into_bytes()), None, t + 2),
    ];
    produce_all(&b, RIDES, &updates).unwrap();
    let new_zone = if moved.pu_location_id == busy {
        "Renamed"
    } else {
        zones[&moved.pu_location_id].zone.as_str()
    };
    expected.push((key(0), Some(label(&moved, new_zone)), t + 1));
    expected.push((key(1), None, t + 2));
    let got = read_out(&b, expected.len());
    assert_eq!(got.len(), expected.len(), "no extra records");
    assert_eq!(got, sorted(expected));

    streams.close(Duration::from_secs(60)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
