//! The course's enrichment end to end on the embedded cluster: the taxi-zone lookup as a
//! global table (read by the global thread from all partitions before processing), the
//! payment-type table, course rides in, the enriched topic checked exactly against an
//! independent lookup; then a restart that resumes the global store from its checkpoint.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use streams_core::*;
use streams_examples::{
    data_dir, load_rides, load_zones, payment_type_records, rides_enrich_zones_topology,
    zone_records, EnrichedRide, Ride, ENRICHED_RIDES_TOPIC, PAYMENT_TYPES_STORE,
    PAYMENT_TYPES_TOPIC, RIDES_TOPIC, UNKNOWN, ZONES_TOPIC,
};
use streams_tests::kafka::{consume_all, produce_all, ProducerRecord};

const APP: &str = "enrich-e2e";

fn temp_state_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streams-e2e-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(state_dir: &Path) -> StreamsConfig {
    StreamsConfig::new(APP)
        .with("state.dir", state_dir.to_string_lossy().as_ref())
        .with("commit.interval.ms", "200")
}

fn topology() -> Topology {
    rides_enrich_zones_topology(
        RIDES_TOPIC,
        ZONES_TOPIC,
        PAYMENT_TYPES_TOPIC,
        ENRICHED_RIDES_TOPIC,
    )
    .unwrap()
}

fn json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn ride_records(rides: &[Ride]) -> Vec<ProducerRecord> {
    rides
        .iter()
        .map(|r| {
            (
                Some(r.pickup_location_key().into_bytes()),
                Some(json(r)),
                r.pickup_millis(),
            )
        })
        .collect()
}

/// What the enrichment must write for `rides`, computed from the lookup files directly.
fn expected(rides: &[Ride]) -> Vec<(String, EnrichedRide)> {
    let zones = load_zones(&data_dir().join("taxi_zone_lookup.csv")).unwrap();
    let payments: HashMap<String, String> =
        payment_type_records(&data_dir().join("payment_type_lookup.csv"))
            .unwrap()
            .into_iter()
            .collect();
    let mut out: Vec<(String, EnrichedRide)> = rides
        .iter()
        .map(|r| {
            let mut e = EnrichedRide::new(
                r,
                zones.get(&r.pu_location_id),
                zones.get(&r.do_location_id),
            );
            e.payment = payments
                .get(&r.payment_type.to_string())
                .cloned()
                .unwrap_or_else(|| UNKNOWN.to_string());
            (r.pickup_location_key(), e)
        })
        .collect();
    sort(&mut out);
    out
}

fn sort(v: &mut [(String, EnrichedRide)]) {
    v.sort_by_key(|(k, e)| (e.pickup_time, k.clone(), e.dropoff_location));
}

fn read_enriched(bootstrap: &str, n: usize) -> Vec<(String, EnrichedRide)> {
    let records = consume_all(bootstrap, ENRICHED_RIDES_TOPIC, n, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("enriched rides: {e}"));
    let mut out: Vec<(String, EnrichedRide)> = records
        .into_iter()
        .map(|r| {
            (
                String::from_utf8(r.key.expect("keyed")).unwrap(),
                serde_json::from_slice(&r.value.expect("a value")).unwrap(),
            )
        })
        .collect();
    sort(&mut out);
    out
}

/// Offsets recorded for `topic` in the global checkpoint (Kafka's text format: version, count,
/// then `topic partition offset` lines).
fn checkpointed(state_dir: &Path, topic: &str) -> i64 {
    let path = state_dir.join(APP).join("global").join(".checkpoint");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[0] == topic).then(|| f[2].parse::<i64>().unwrap())
        })
        .sum()
}

#[test]
fn course_rides_enriched_with_a_global_zone_table_on_the_embedded_cluster() {
    let dir = temp_state_dir("global-enrich");
    let mut streams = KafkaStreams::new(topology(), config(&dir)).unwrap();
    let cluster = streams.embedded_cluster().unwrap();
    // The zone topic has more partitions than the rides: a global table needs no
    // co-partitioning. The payment-type table is co-partitioned with the rides.
    cluster.create_topic(RIDES_TOPIC, 2).unwrap();
    cluster.create_topic(ZONES_TOPIC, 3).unwrap();
    cluster.create_topic(PAYMENT_TYPES_TOPIC, 2).unwrap();
    cluster.create_topic(ENRICHED_RIDES_TOPIC, 2).unwrap();
    let b = streams.bootstrap_servers().to_string();

    let zones: Vec<ProducerRecord> = zone_records(&data_dir().join("taxi_zone_lookup.csv"))
        .unwrap()
        .iter()
        .map(|(k, z)| (Some(k.clone().into_bytes()), Some(json(z)), 0))
        .collect();
    assert_eq!(zones.len(), 265);
    produce_all(&b, ZONES_TOPIC, &zones).unwrap();
    let payments: Vec<ProducerRecord> =
        payment_type_records(&data_dir().join("payment_type_lookup.csv"))
            .unwrap()
            .into_iter()
            .map(|(k, v)| (Some(k.into_bytes()), Some(v.into_bytes()), 0))
            .collect();
    produce_all(&b, PAYMENT_TYPES_TOPIC, &payments).unwrap();

    streams.start().unwrap();
    // start() returns once the global store holds the whole topic.
    assert_eq!(checkpointed(&dir, ZONES_TOPIC), 265);
    assert!(
        streams.wait_for_state(KafkaStreamsState::Running, Duration::from_secs(60)),
        "did not reach RUNNING: {:?}",
        streams.state()
    );
    // The payment-type table is a regular table: wait until its store has written all of it
    // to its changelog (so no ride is looked up before the table is loaded).
    let changelog = format!("{APP}-{PAYMENT_TYPES_STORE}-changelog");
    consume_all(&b, &changelog, payments.len(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("payment-type table not loaded: {e}"));

    let mut rides = load_rides(&data_dir().join("rides.csv")).unwrap();
    rides.truncate(40);
    let mut unknown = rides[0].clone();
    unknown.pu_location_id = 999;
    unknown.payment_type = 9;
    rides.push(unknown);
    produce_all(&b, RIDES_TOPIC, &ride_records(&rides)).unwrap();
    let got = read_enriched(&b, rides.len());
    assert_eq!(got.len(), rides.len(), "no extra records");
    assert_eq!(got, expected(&rides));
    assert!(got
        .iter()
        .any(|(k, e)| k == "999" && e.pickup_zone == UNKNOWN && e.payment == UNKNOWN));
    streams.close(Duration::from_secs(60)).unwrap();
    assert_eq!(checkpointed(&dir, ZONES_TOPIC), 265);

    // Restart on the same cluster and state: the global store resumes from its checkpoint
    // (nothing left to read) and still holds every zone.
    let cluster = streams.embedded_cluster().unwrap();
    let mut again = KafkaStreams::new(
        topology(),
        config(&dir).with("bootstrap.servers", cluster.bootstrap_servers()),
    )
    .unwrap();
    again.start().unwrap();
    assert!(again.wait_for_state(KafkaStreamsState::Running, Duration::from_secs(60)));
    let more: Vec<Ride> = load_rides(&data_dir().join("rides.csv"))
        .unwrap()
        .into_iter()
        .skip(40)
        .take(5)
        .collect();
    produce_all(&b, RIDES_TOPIC, &ride_records(&more)).unwrap();
    let mut all = rides.clone();
    all.extend(more);
    assert_eq!(read_enriched(&b, all.len()), expected(&all));
    again.close(Duration::from_secs(60)).unwrap();
    drop(streams);
    let _ = std::fs::remove_dir_all(&dir);
}
