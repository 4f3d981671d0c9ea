//! Acceptance test of the course's enrichment (rides joined with the taxi-zone lookup as a
//! global table and with the payment-type table) through the `TopologyTestDriver`, with rows of
//! `data/rides.csv` and expected outputs written out by hand from the lookup files.

use chrono::{NaiveDate, NaiveDateTime};
use streams_core::{GlobalKeyValueStore, Json, StreamsConfig, StringSerde, TopologyTestDriver};
use streams_examples::{
    data_dir, load_rides, payment_type_records, rides_enrich_zones_topology, zone_records,
    EnrichedRide, Ride, Zone, ENRICHED_RIDES_TOPIC, PAYMENT_TYPES_TOPIC, RIDES_TOPIC, ZONES_STORE,
    ZONES_TOPIC,
};

fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2020, 7, 1)
        .unwrap()
        .and_hms_opt(h, m, s)
        .unwrap()
}

#[allow(clippy::too_many_arguments)]
fn enriched(
    time: NaiveDateTime,
    pickup: (u32, &str, &str),
    dropoff: (u32, &str, &str),
    payment: (u32, &str),
    miles: f64,
    total: f64,
) -> EnrichedRide {
    EnrichedRide {
        pickup_time: time,
        pickup_location: pickup.0,
        pickup_borough: pickup.1.into(),
        pickup_zone: pickup.2.into(),
        dropoff_location: dropoff.0,
        dropoff_borough: dropoff.1.into(),
        dropoff_zone: dropoff.2.into(),
        payment_type: payment.0,
        payment: payment.1.into(),
        distance_miles: miles,
        total_amount: total,
    }
}

fn driver() -> TopologyTestDriver {
    let topology = rides_enrich_zones_topology(
        RIDES_TOPIC,
        ZONES_TOPIC,
        PAYMENT_TYPES_TOPIC,
        ENRICHED_RIDES_TOPIC,
    )
    .unwrap();
    let driver = TopologyTestDriver::new(topology, StreamsConfig::new("enrich-test")).unwrap();
    let zones = driver.input_topic(ZONES_TOPIC, StringSerde, Json::<Zone>::new());
    zones
        .pipe_key_values(zone_records(&data_dir().join("taxi_zone_lookup.csv")).unwrap())
        .unwrap();
    let payments = driver.input_topic(PAYMENT_TYPES_TOPIC, StringSerde, StringSerde);
    payments
        .pipe_key_values(payment_type_records(&data_dir().join("payment_type_lookup.csv")).unwrap())
        .unwrap();
    driver
}

#[test]
fn every_ride_gets_its_zones_and_payment_type_and_unknown_ids_get_the_default() {
    let driver = driver();
    let rides: Vec<Ride> = load_rides(&data_dir().join("rides.csv")).unwrap();
    let mut course: Vec<Ride> = rides[..4].to_vec();
    // A ride from a location and with a payment type the lookups do not have.
    let mut unknown = rides[0].clone();
    unknown.pu_location_id = 999;
    unknown.payment_type = 9;
    course.push(unknown);
    let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    for r in &course {
        input
            .pipe_input_at(r.pickup_location_key(), r.clone(), r.pickup_millis())
            .unwrap();
    }
    let out = driver.output_topic(
        ENRICHED_RIDES_TOPIC,
        StringSerde,
        Json::<EnrichedRide>::new(),
    );
    let got: Vec<(String, EnrichedRide, i64)> = out
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect();
    let ms = |t: NaiveDateTime| t.and_utc().timestamp_millis();
    assert_eq!(
        got,
        vec![
            (
                "238".to_string(),
                enriched(
                    at(0, 25, 32),
                    (238, "Manhattan", "Upper West Side North"),
                    (75, "Manhattan", "East Harlem South"),
                    (2, "Cash"),
                    1.5,
                    9.3
                ),
                ms(at(0, 25, 32))
            ),
            (
                "138".to_string(),
                enriched(
                    at(0, 3, 19),
                    (138, "Queens", "LaGuardia Airport"),
                    (216, "Queens", "South Ozone Park"),
                    (1, "Credit card"),
                    9.5,
                    27.8
                ),
                ms(at(0, 3, 19))
            ),
            (
                "230".to_string(),
                enriched(
                    at(0, 15, 11),
                    (230, "Manhattan", "Times Sq/Theatre District"),
                    (88, "Manhattan", "Financial District South"),
                    (2, "Cash"),
                    5.85,
                    22.3
                ),
                ms(at(0, 15, 11))
            ),
            (
                "88".to_string(),
                enriched(
                    at(0, 30, 49),
                    (88, "Manhattan", "Financial District South"),
                    (232, "Manhattan", "Two Bridges/Seward Park"),
                    (1, "Credit card"),
                    1.9,
                    14.16
                ),
                ms(at(0, 30, 49))
            ),
            (
                "999".to_string(),
                enriched(
                    at(0, 25, 32),
                    (999, "Unknown", "Unknown"),
                    (75, "Manhattan", "East Harlem South"),
                    (9, "Unknown"),
                    1.5,
                    9.3
                ),
                ms(at(0, 25, 32))
            ),
        ]
    );
    // The whole lookup is in the global store.
    let zones: GlobalKeyValueStore<String, Zone> = driver.get_state_store(ZONES_STORE).unwrap();
    assert_eq!(zones.all().unwrap().len(), 265);
    assert_eq!(
        zones.get(&"1".to_string()).unwrap().map(|z| z.zone),
        Some("Newark Airport".to_string())
    );
}

#[test]
fn an_update_of_the_zone_lookup_applies_to_the_next_rides() {
    let driver = driver();
    let rides: Vec<Ride> = load_rides(&data_dir().join("rides.csv")).unwrap();
    let zones = driver.input_topic(ZONES_TOPIC, StringSerde, Json::<Zone>::new());
    zones
        .pipe_input(
            "238".into(),
            Zone {
                location_id: 238,
                borough: "Manhattan".into(),
                zone: "Upper West Side".into(),
                service_zone: "Yellow Zone".into(),
            },
        )
        .unwrap();
    let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    let r = &rides[0];
    input
        .pipe_input_at(r.pickup_location_key(), r.clone(), r.pickup_millis())
        .unwrap();
    let out = driver.output_topic(
        ENRICHED_RIDES_TOPIC,
        StringSerde,
        Json::<EnrichedRide>::new(),
    );
    assert_eq!(out.read_value().unwrap().pickup_zone, "Upper West Side");
    assert!(out.is_empty());
}
