//! Joins end to end on Tansu, across two instances of one application: a stream-stream join
//! (the course's rides × pickup locations, the pickups re-keyed so repartitioned first) and a
//! stream-table join (rides × the zone table). The output topics must hold exactly what the
//! `TopologyTestDriver` produces for the same input.
//!
//! The inputs are chosen so that the result does not depend on the order in which the two
//! instances happen to process partitions: the stream-stream join has a grace period longer
//! than the data's time span (no record is late, whatever the interleaving), and the table's
//! records carry timestamps older than every ride (with `max.task.idle.ms`, a task processes
//! them first, as the driver does).

use std::collections::BTreeMap;
use std::time::Duration;

use streams_core::*;
use streams_examples::{data_dir, load_rides, load_zones, vendor_info, PickupLocation, Ride};
use streams_tests::broker::TansuBroker;
use streams_tests::kafka::{consume_all, create_topic, produce_all, ProducerRecord};

const RIDES: &str = "rides";
const PICKUPS: &str = "pickups";
const ZONES: &str = "zones";
const MATCHES: &str = "matches";
const ENRICHED: &str = "enriched";
const PARTITIONS: i32 = 4;

/// Both joins in one application.
fn topology() -> Topology {
    let builder = StreamsBuilder::new();
    let rides = builder.stream(
        RIDES,
        Consumed::with(StringSerde, Json::<Ride>::new())
            .with_timestamp_extractor(ValueTimestamp::new(|r: &Ride| r.dropoff_millis())),
    );
    let pickups = builder
        .stream(
            PICKUPS,
            Consumed::with(StringSerde, Json::<PickupLocation>::new()).with_timestamp_extractor(
                ValueTimestamp::new(|p: &PickupLocation| p.pickup_millis()),
            ),
        )
        .select_key(|_, p| p.pu_location_id.to_string());
    let windows = JoinWindows::of_time_difference_and_grace(
        Duration::from_secs(20 * 60),
        Duration::from_secs(48 * 3600),
    )
    .unwrap();
    rides
        .join_with(
            &pickups,
            vendor_info,
            windows,
            StreamJoined::with(
                StringSerde,
                Json::<Ride>::new(),
                Json::<PickupLocation>::new(),
            ),
        )
        .flat_map_values(|matched| matched)
        .to(
            MATCHES,
            Produced::with(StringSerde, Json::<streams_examples::VendorInfo>::new()),
        );
    // Rides by drop-off zone (the key of `rides`) with that zone's name.
    let zones = builder.table(
        ZONES,
        Consumed::with(StringSerde, StringSerde),
        Materialized::named("zone-names"),
    );
    rides
        .left_join_table(&zones, |ride: &Ride, zone: Option<&String>| {
            format!(
                "ride of vendor {} to {}",
                ride.vendor_id,
                zone.map_or("an unknown zone", String::as_str)
            )
        })
        .to(ENRICHED, Produced::with(StringSerde, StringSerde));
    builder.build().unwrap()
}

struct Inputs {
    rides: Vec<ProducerRecord>,
    pickups: Vec<ProducerRecord>,
    zones: Vec<ProducerRecord>,
}

/// The course's rides keyed by drop-off zone, one pickup event per ride, and the zone names
/// (all but zone 75, so that some rides find no zone).
fn inputs() -> Inputs {
    let rides = load_rides(&data_dir().join("rides.csv")).unwrap();
    let ride_records = rides
        .iter()
        .map(|r| {
            (
                Some(r.do_location_id.to_string().into_bytes()),
                Some(serde_json::to_vec(r).unwrap()),
                r.dropoff_millis(),
            )
        })
        .collect();
    let pickups = rides
        .iter()
        .map(|r| {
            let p = PickupLocation {
                pu_location_id: r.pu_location_id,
                pickup_datetime: r.pickup_datetime,
            };
            (
                Some(r.vendor_id.to_string().into_bytes()),
                Some(serde_json::to_vec(&p).unwrap()),
                p.pickup_millis(),
            )
        })
        .collect();
    let mut zones: Vec<_> = load_zones(&data_dir().join("taxi_zone_lookup.csv"))
        .unwrap()
        .into_values()
        .filter(|z| z.location_id != 75)
        .collect();
    zones.sort_by_key(|z| z.location_id);
    let zone_records = zones
        .iter()
        .map(|z| {
            (
                Some(z.location_id.to_string().into_bytes()),
                Some(format!("{} ({})", z.zone, z.borough).into_bytes()),
                1_000,
            )
        })
        .collect();
    Inputs {
        rides: ride_records,
        pickups,
        zones: zone_records,
    }
}

type Output = Vec<(String, String, i64)>;

/// What the test driver writes for the same input: the zones first, then pickups and rides.
fn driver_outputs(input: &Inputs) -> (Output, Output) {
    let driver = TopologyTestDriver::new(topology(), StreamsConfig::new("joins-e2e")).unwrap();
    for (topic, records) in [
        (ZONES, &input.zones),
        (PICKUPS, &input.pickups),
        (RIDES, &input.rides),
    ] {
        let t = driver.input_topic(topic, BytesSerde, BytesSerde);
        for (k, v, ts) in records {
            t.pipe_input_at(k.clone().unwrap(), v.clone().unwrap(), *ts)
                .unwrap();
        }
    }
    let read = |topic: &str| -> Output {
        let mut out: Output = driver
            .output_topic(topic, StringSerde, StringSerde)
            .read_records_to_list()
            .unwrap()
            .into_iter()
            .map(|r| (r.key, r.value, r.timestamp))
            .collect();
        out.sort();
        out
    };
    (read(MATCHES), read(ENRICHED))
}

fn kafka_output(bootstrap: &str, topic: &str, n: usize) -> Output {
    let mut out: Output = consume_all(bootstrap, topic, n, Duration::from_secs(120))
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                String::from_utf8(r.key.unwrap()).unwrap(),
                String::from_utf8(r.value.unwrap()).unwrap(),
                r.timestamp.unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn instance(bootstrap: &str, name: &str) -> KafkaStreams {
    let dir = std::env::temp_dir().join(format!("joins-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = StreamsConfig::new("joins-e2e")
        .with("bootstrap.servers", bootstrap)
        .with("state.dir", dir.to_string_lossy().as_ref())
        .with("commit.interval.ms", "200")
        .with("max.task.idle.ms", "2000");
    KafkaStreams::new(topology(), config).unwrap()
}

#[test]
fn stream_stream_and_stream_table_joins_on_two_instances_equal_the_driver() {
    let input = inputs();
    let (matches, enriched) = driver_outputs(&input);
    assert!(
        matches.len() > 50,
        "the course data has matches: {}",
        matches.len()
    );
    assert_eq!(enriched.len(), input.rides.len(), "every ride is enriched");
    assert!(enriched
        .iter()
        .any(|(_, v, _)| v.ends_with("an unknown zone")));

    let broker = TansuBroker::start().unwrap();
    let b = broker.bootstrap();
    for t in [RIDES, PICKUPS, ZONES, MATCHES, ENRICHED] {
        create_topic(&b, t, PARTITIONS).unwrap();
    }
    produce_all(&b, ZONES, &input.zones).unwrap();
    produce_all(&b, PICKUPS, &input.pickups).unwrap();
    produce_all(&b, RIDES, &input.rides).unwrap();
    let (mut a, mut c) = (instance(&b, "a"), instance(&b, "b"));
    a.start().unwrap();
    c.start().unwrap();
    for s in [&a, &c] {
        assert!(
            s.wait_for_state(KafkaStreamsState::Running, Duration::from_secs(60)),
            "an instance did not reach RUNNING: {:?}",
            s.state()
        );
    }
    let got_matches = kafka_output(&b, MATCHES, matches.len());
    let got_enriched = kafka_output(&b, ENRICHED, enriched.len());
    a.close(Duration::from_secs(60)).unwrap();
    c.close(Duration::from_secs(60)).unwrap();
    let by_key = |o: &Output| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for (k, _, _) in o {
            *m.entry(k.clone()).or_default() += 1;
        }
        m
    };
    assert_eq!(by_key(&got_matches), by_key(&matches), "matches per zone");
    assert_eq!(got_matches, matches, "stream-stream join results");
    assert_eq!(got_enriched, enriched, "stream-table join results");
}
