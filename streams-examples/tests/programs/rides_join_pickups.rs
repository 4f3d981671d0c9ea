//! Acceptance test of the course's stream-stream join (rides x pickup locations) through the
//! `TopologyTestDriver`, with the first row of `data/rides.csv` and exact expected outputs.

use chrono::{NaiveDate, NaiveDateTime};
use streams_core::{Json, StreamsConfig, StringSerde, TopologyTestDriver};
use streams_examples::{
    data_dir, load_rides, rides_join_pickups_topology, PickupLocation, Ride, VendorInfo,
    RIDES_LOCATION_TOPIC, RIDES_TOPIC, VENDOR_INFO_TOPIC,
};

fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2020, 7, 1)
        .unwrap()
        .and_hms_opt(h, m, s)
        .unwrap()
}

fn millis(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_millis()
}

fn driver() -> TopologyTestDriver {
    let topology =
        rides_join_pickups_topology(RIDES_TOPIC, RIDES_LOCATION_TOPIC, VENDOR_INFO_TOPIC).unwrap();
    TopologyTestDriver::new(topology, StreamsConfig::new("rides-join-pickups")).unwrap()
}

/// Line 2 of data/rides.csv: vendor 1, drop-off in zone 75 at 2020-07-01 00:33:39.
fn first_ride() -> Ride {
    let ride = load_rides(&data_dir().join("rides.csv")).unwrap()[0].clone();
    assert_eq!(
        (ride.vendor_id, ride.do_location_id, ride.dropoff_datetime),
        (1, 75, at(0, 33, 39))
    );
    ride
}

fn pickup(zone: u32, time: NaiveDateTime) -> PickupLocation {
    PickupLocation {
        pu_location_id: zone,
        pickup_datetime: time,
    }
}

#[test]
fn a_ride_and_a_pickup_in_its_dropoff_zone_give_one_vendor_info() {
    let driver = driver();
    let rides = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    let locations = driver.input_topic(
        RIDES_LOCATION_TOPIC,
        StringSerde,
        Json::<PickupLocation>::new(),
    );
    let ride = first_ride();
    rides.pipe_input("75".to_string(), ride).unwrap();
    let location = pickup(75, at(0, 40, 0));
    locations
        .pipe_input("75".to_string(), location.clone())
        .unwrap();
    let out = driver
        .output_topic(VENDOR_INFO_TOPIC, StringSerde, Json::<VendorInfo>::new())
        .read_records_to_list()
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].key, "75");
    assert_eq!(
        out[0].value,
        VendorInfo {
            vendor_id: "1".to_string(),
            pu_location_id: 75,
            pickup_time: location.pickup_datetime,
            last_dropoff_time: at(0, 33, 39),
        }
    );
    assert_eq!(out[0].timestamp, millis(at(0, 40, 0)));
}

#[test]
fn only_pickups_in_the_zone_within_ten_minutes_of_the_dropoff_match() {
    let driver = driver();
    let rides = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    let locations = driver.input_topic(
        RIDES_LOCATION_TOPIC,
        StringSerde,
        Json::<PickupLocation>::new(),
    );
    rides.pipe_input("75".to_string(), first_ride()).unwrap();
    // The key of the location events does not matter: they are re-keyed by PULocationID.
    for (key, p) in [
        ("a", pickup(75, at(0, 30, 0))),  // 3:39 before the drop-off: match
        ("b", pickup(76, at(0, 34, 0))),  // another zone
        ("c", pickup(75, at(0, 44, 39))), // 11 minutes after: joined, but not a match
        ("d", pickup(75, at(0, 43, 39))), // exactly 10 minutes after: match
        ("e", pickup(75, at(1, 0, 0))),   // outside the 20-minute join window
    ] {
        locations.pipe_input(key.to_string(), p).unwrap();
    }
    let out: Vec<(String, NaiveDateTime, i64)> = driver
        .output_topic(VENDOR_INFO_TOPIC, StringSerde, Json::<VendorInfo>::new())
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.value.pickup_time, r.timestamp))
        .collect();
    assert_eq!(
        out,
        vec![
            ("75".to_string(), at(0, 30, 0), millis(at(0, 33, 39))),
            ("75".to_string(), at(0, 43, 39), millis(at(0, 43, 39))),
        ]
    );
}
