//! Acceptance test of the course's first program (ride summaries) through the
//! `TopologyTestDriver`, with rows of `data/rides.csv` and expected outputs written out by hand.

use chrono::{NaiveDate, NaiveDateTime};
use streams_core::{
    Json, RecordLocation, RecordPart, StreamsConfig, StreamsError, StringSerde, TestRecord,
    TopologyTestDriver,
};
use streams_examples::{
    data_dir, load_rides, pickup_summaries_topology, read_rides, BadRow, LoadError, Ride,
    RideSummary, RIDES_TOPIC, RIDE_SUMMARIES_TOPIC,
};

fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2020, 7, 1)
        .unwrap()
        .and_hms_opt(h, m, s)
        .unwrap()
}

fn all_rides() -> Vec<Ride> {
    load_rides(&data_dir().join("rides.csv")).unwrap()
}

fn driver() -> TopologyTestDriver {
    let topology = pickup_summaries_topology(RIDES_TOPIC, RIDE_SUMMARIES_TOPIC).unwrap();
    TopologyTestDriver::new(topology, StreamsConfig::new("first-program-test")).unwrap()
}

fn summary(
    pickup: &str,
    dropoff: &str,
    time: NaiveDateTime,
    miles: f64,
    total: f64,
) -> RideSummary {
    RideSummary {
        pickup_location: pickup.into(),
        dropoff_location: dropoff.into(),
        pickup_time: time,
        distance_miles: miles,
        total_amount: total,
    }
}

#[test]
fn every_row_of_rides_csv_parses() {
    let rides = all_rides();
    // data/rides.csv: a header and 266 rows (the last one without a trailing newline).
    assert_eq!(rides.len(), 266);
    let file = read_rides(&data_dir().join("rides.csv")).unwrap();
    assert!(file.bad_rows.is_empty(), "{:?}", file.bad_rows);
    assert_eq!(file.rides, rides);
}

/// Line 2 of data/rides.csv, field by field:
/// `1,2020-07-01 00:25:32,2020-07-01 00:33:39,1,1.50,1,N,238,75,2,8,0.5,0.5,0,0,0.3,9.3,0`
#[test]
fn the_first_row_parses_field_by_field() {
    let expected = Ride {
        vendor_id: 1,
        pickup_datetime: at(0, 25, 32),
        dropoff_datetime: at(0, 33, 39),
        passenger_count: 1,
        trip_distance: 1.5,
        ratecode_id: 1,
        store_and_fwd_flag: "N".into(),
        pu_location_id: 238,
        do_location_id: 75,
        payment_type: 2,
        fare_amount: 8.0,
        extra: 0.5,
        mta_tax: 0.5,
        tip_amount: 0.0,
        tolls_amount: 0.0,
        improvement_surcharge: 0.3,
        total_amount: 9.3,
        congestion_surcharge: 0.0,
    };
    let ride = &all_rides()[0];
    assert_eq!(ride, &expected);
    assert_eq!(ride.pickup_millis(), 1_593_563_132_000);
    assert_eq!(ride.dropoff_millis(), 1_593_563_619_000);
}

/// Pipes CSV lines 2-7 (the first six rides, all kept), line 14 (trip_distance `.00`: dropped)
/// and line 68 (a refund, total_amount -24.8: dropped), each keyed by its PULocationID and
/// timestamped with its pickup time.
#[test]
fn first_program_writes_summaries_of_paid_trips() {
    let rides = all_rides();
    let dropped_no_distance = rides[12].clone(); // line 14
    let dropped_refund = rides[66].clone(); // line 68
    assert_eq!(
        (
            dropped_no_distance.pu_location_id,
            dropped_no_distance.trip_distance
        ),
        (45, 0.0)
    );
    assert_eq!(
        (dropped_refund.pu_location_id, dropped_refund.total_amount),
        (137, -24.8)
    );
    let piped = [
        rides[0].clone(),
        rides[1].clone(),
        rides[2].clone(),
        dropped_no_distance,
        rides[3].clone(),
        rides[4].clone(),
        rides[5].clone(),
        dropped_refund,
    ];

    let driver = driver();
    let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    let output = driver.output_topic(
        RIDE_SUMMARIES_TOPIC,
        StringSerde,
        Json::<RideSummary>::new(),
    );
    for ride in piped {
        let key = ride.pu_location_id.to_string();
        let ts = ride.pickup_millis();
        input.pipe_input_at(key, ride, ts).unwrap();
    }

    let got: Vec<(String, RideSummary, i64)> = output
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(|r: TestRecord<String, RideSummary>| (r.key, r.value, r.timestamp))
        .collect();
    let expected = vec![
        // line 2: 1,2020-07-01 00:25:32,...,1.50,...,238,75,...,9.3,0
        (
            "238".to_string(),
            summary("238", "75", at(0, 25, 32), 1.5, 9.3),
            1_593_563_132_000,
        ),
        // line 3: 1,2020-07-01 00:03:19,...,9.50,...,138,216,...,27.8,0
        (
            "138".to_string(),
            summary("138", "216", at(0, 3, 19), 9.5, 27.8),
            1_593_561_799_000,
        ),
        // line 4: 2,2020-07-01 00:15:11,...,5.85,...,230,88,...,22.3,2.5
        (
            "230".to_string(),
            summary("230", "88", at(0, 15, 11), 5.85, 22.3),
            1_593_562_511_000,
        ),
        // line 5: 2,2020-07-01 00:30:49,...,1.90,...,88,232,...,14.16,2.5
        (
            "88".to_string(),
            summary("88", "232", at(0, 30, 49), 1.9, 14.16),
            1_593_563_449_000,
        ),
        // line 6: 2,2020-07-01 00:31:26,...,1.25,...,37,17,...,7.8,0
        (
            "37".to_string(),
            summary("37", "17", at(0, 31, 26), 1.25, 7.8),
            1_593_563_486_000,
        ),
        // line 7: 1,2020-07-01 00:09:00,...,9.70,...,140,61,...,33.8,2.5
        (
            "140".to_string(),
            summary("140", "61", at(0, 9, 0), 9.7, 33.8),
            1_593_562_140_000,
        ),
    ];
    assert_eq!(got, expected);
    assert!(output.is_empty());
    assert_eq!(driver.metrics().processed, 8);
}

/// The output timestamp is the pickup time read from the value, whatever the record's own
/// timestamp (the source's `ValueTimestamp` extractor).
#[test]
fn event_time_is_the_pickup_time() {
    let ride = all_rides().remove(0); // line 2, pickup 2020-07-01 00:25:32
    let driver = driver();
    let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    let output = driver.output_topic(
        RIDE_SUMMARIES_TOPIC,
        StringSerde,
        Json::<RideSummary>::new(),
    );
    input.pipe_input_at("238".into(), ride, 42).unwrap();
    let record = output.read_record().unwrap();
    assert_eq!(record.timestamp, 1_593_563_132_000);
    assert_eq!(record.partition, 0);
}

/// The summary is written as JSON with the course's date-time format.
#[test]
fn summaries_are_json_with_the_course_datetime_format() {
    let ride = all_rides().remove(0);
    let driver = driver();
    let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    let raw = driver.output_topic(RIDE_SUMMARIES_TOPIC, StringSerde, StringSerde);
    input.pipe_input_at("238".into(), ride, 0).unwrap();
    assert_eq!(
        raw.read_value().unwrap(),
        r#"{"pickup_location":"238","dropoff_location":"75","pickup_time":"2020-07-01 00:25:32","distance_miles":1.5,"total_amount":9.3}"#
    );
}

#[test]
fn a_value_that_is_not_json_fails_with_its_location() {
    let rides = all_rides();
    let driver = driver();
    let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
    // Offsets 0 and 1: two good rides.
    for ride in rides.into_iter().take(2) {
        let ts = ride.pickup_millis();
        input
            .pipe_input_at(ride.pu_location_id.to_string(), ride, ts)
            .unwrap();
    }
    // Offset 2: garbage.
    let err = driver
        .pipe_raw(
            RIDES_TOPIC,
            Some(b"238"),
            Some(b"not json"),
            1_593_563_132_000,
        )
        .unwrap_err();
    let text = err.to_string();
    match err {
        StreamsError::Deserialization {
            location,
            part,
            source,
        } => {
            assert_eq!(
                location,
                RecordLocation {
                    topic: "rides".into(),
                    partition: 0,
                    offset: 2,
                }
            );
            assert_eq!(part, RecordPart::Value);
            assert_eq!(source.serde, "Json<streams_examples::Ride>");
            assert!(text.contains("rides-0@2"), "{text}");
            assert!(text.contains("Json<streams_examples::Ride>"), "{text}");
        }
        other => panic!("expected a deserialization error, got {other:?}"),
    }
}

#[test]
fn a_value_that_is_not_json_is_skipped_with_log_and_continue() {
    let topology = pickup_summaries_topology(RIDES_TOPIC, RIDE_SUMMARIES_TOPIC).unwrap();
    let config = StreamsConfig::new("first-program-test").with(
        "default.deserialization.exception.handler",
        "LogAndContinue",
    );
    let driver = TopologyTestDriver::new(topology, config).unwrap();
    let output = driver.output_topic(
        RIDE_SUMMARIES_TOPIC,
        StringSerde,
        Json::<RideSummary>::new(),
    );
    driver
        .pipe_raw(RIDES_TOPIC, Some(b"238"), Some(b"not json"), 0)
        .unwrap();
    assert!(output.is_empty());
    assert_eq!(driver.metrics().dropped_records, 1);
}

struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const HEADER: &str = "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,total_amount,congestion_surcharge";

#[test]
fn read_rides_reports_malformed_rows_with_their_line() {
    let text = [
        HEADER,
        // line 2: good
        "1,2020-07-01 00:25:32,2020-07-01 00:33:39,1,1.50,1,N,238,75,2,8,0.5,0.5,0,0,0.3,9.3,0",
        // line 3: trip_distance is not a number
        "1,2020-07-01 00:03:19,2020-07-01 00:25:43,1,far,1,N,138,216,1,26.5,0.5,0.5,0,0,0.3,27.8,0",
        // line 4: ISO date-time, not the course format
        "2,2020-07-01T00:15:11,2020-07-01 00:29:24,1,5.85,1,N,230,88,2,18.5,0.5,0.5,0,0,0.3,22.3,2.5",
        // line 5: a field short
        "2,2020-07-01 00:30:49,2020-07-01 00:38:26,1,1.90,1,N,88,232,1,8,0.5,0.5,2.36,0,0.3,14.16",
        // line 6: good
        "2,2020-07-01 00:31:26,2020-07-01 00:38:02,1,1.25,1,N,37,17,2,6.5,0.5,0.5,0,0,0.3,7.8,0",
    ]
    .join("\n");
    let file = TempFile::new("malformed-rides.csv", &text);

    let read = read_rides(&file.0).unwrap();
    assert_eq!(
        read.rides
            .iter()
            .map(|r| r.pu_location_id)
            .collect::<Vec<_>>(),
        [238, 37]
    );
    let lines: Vec<u64> = read.bad_rows.iter().map(|b| b.line).collect();
    assert_eq!(lines, [3, 4, 5], "{:?}", read.bad_rows);
    assert_eq!(
        read.bad_rows[0],
        BadRow {
            line: 3,
            error: "column `trip_distance`: invalid float literal".into()
        }
    );
    assert!(
        read.bad_rows[1]
            .error
            .starts_with("`2020-07-01T00:15:11` is not a date-time like \"2020-07-01 00:25:32\""),
        "{:?}",
        read.bad_rows[1]
    );
    assert_eq!(
        read.bad_rows[2].error,
        "the row has 17 fields, the header has 18"
    );

    // The strict loader stops at the first bad row and names the file and line.
    let err = load_rides(&file.0).unwrap_err();
    assert!(matches!(err, LoadError::BadRow { line: 3, .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("malformed-rides.csv:3: bad ride row"), "{msg}");
}

#[test]
fn load_errors_name_the_file() {
    let missing = std::env::temp_dir().join("no-such-dir-streams-examples/rides.csv");
    let err = read_rides(&missing).unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
    assert!(
        err.to_string().contains("no-such-dir-streams-examples"),
        "{err}"
    );

    let file = TempFile::new("zones-not-rides.csv", "locationid,borough\n1,EWR\n");
    let err = read_rides(&file.0).unwrap_err();
    match &err {
        LoadError::MissingColumns { missing, .. } => assert_eq!(missing.len(), 18),
        other => panic!("expected MissingColumns, got {other:?}"),
    }
    assert!(err.to_string().contains("zones-not-rides.csv"), "{err}");
}
