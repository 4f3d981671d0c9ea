//! # streams-examples: the data-engineering course's taxi-ride programs on streams-core
//!
//! The course streams NYC yellow-taxi rides (`data/rides.csv`, July 2020) through Kafka.
//! This crate holds the shared pieces of its programs, written with [`streams_core`]:
//!
//! - [`Ride`]: one row of `rides.csv`, which is also the JSON value of the [`RIDES_TOPIC`];
//! - [`load_rides`] / [`read_rides`]: the CSV loaders (strict, or skipping bad rows);
//! - [`pickup_summaries_topology`]: the course's first program, which keeps the rides that
//!   went somewhere and cost something and writes a [`RideSummary`] of each.
//!
//! ```
//! use streams_core::*;
//! use streams_examples::*;
//!
//! let rides = load_rides(&data_dir().join("rides.csv"))?;
//! let topology = pickup_summaries_topology(RIDES_TOPIC, RIDE_SUMMARIES_TOPIC)?;
//! let driver = TopologyTestDriver::new(topology, StreamsConfig::new("doc"))?;
//! let input = driver.input_topic(RIDES_TOPIC, StringSerde, Json::<Ride>::new());
//! let output = driver.output_topic(RIDE_SUMMARIES_TOPIC, StringSerde, Json::<RideSummary>::new());
//!
//! let ride = rides[0].clone();
//! input.pipe_input_at(ride.pickup_location_key(), ride.clone(), ride.pickup_millis())?;
//! let out = output.read_record()?;
//! assert_eq!(out.key, "238");
//! assert_eq!(out.value, RideSummary::from(&ride));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod cli;
mod consume;
mod generate;
mod joins;
mod kafka;
mod live;
mod produce;
mod windowed;

pub use cli::{find_data_file, main_with, parse_duration, stop_on_ctrl_c, StreamsArgs};
pub use consume::{
    consume, ConsumeEnd, ConsumeOptions, KeyFormat, OutputFormat, RawRecord, RecordFormatter,
    ValueFormat,
};
pub use generate::{GeneratorConfig, RideGenerator, ZONE_COUNT};
pub use joins::{
    pickup_locations, pickups_by_time, produce_keyed, rides_by_dropoff, KeyedRecord, TopicTail,
};
pub use kafka::{client_config, ensure_topic, topic_partitions};
pub use live::{render_top_locations, CountReader};
pub use produce::{produce_rides, ProduceOptions, ProduceSummary, RideKey};
pub use windowed::{ride_count_windowed_topology, RIDE_WINDOW_COUNTS_TOPIC, RIDE_WINDOW_SIZE};

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use streams_core::{
    Consumed, Json, Produced, StreamsBuilder, StringSerde, Topology, ValueTimestamp,
};

/// The topic the rides are produced to (key: pickup location id, value: [`Ride`] as JSON).
pub const RIDES_TOPIC: &str = "rides";

/// The topic the first program writes to (key: pickup location id, value: [`RideSummary`] as
/// JSON).
pub const RIDE_SUMMARIES_TOPIC: &str = "ride-summaries";

/// The date-time format of the taxi data, used in the CSV and in every JSON message:
/// `2020-07-01 00:25:32` (no time zone; the engine treats it as UTC).
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A serde `with` module that reads and writes a [`NaiveDateTime`] as a string in
/// [`DATETIME_FORMAT`] (`2020-07-01 00:25:32`), in CSV and in JSON alike.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Event {
///     #[serde(with = "streams_examples::datetime_format")]
///     at: chrono::NaiveDateTime,
/// }
/// let e: Event = serde_json::from_str(r#"{"at":"2020-07-01 00:25:32"}"#)?;
/// assert_eq!(serde_json::to_string(&e)?, r#"{"at":"2020-07-01 00:25:32"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub mod datetime_format {
    use std::fmt;

    use chrono::NaiveDateTime;
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    use super::DATETIME_FORMAT;

    /// Writes `value` as `YYYY-MM-DD HH:MM:SS`.
    pub fn serialize<S: Serializer>(
        value: &NaiveDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.format(DATETIME_FORMAT))
    }

    /// Reads a `YYYY-MM-DD HH:MM:SS` string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<NaiveDateTime, D::Error> {
        deserializer.deserialize_str(DateTimeVisitor)
    }

    struct DateTimeVisitor;

    impl Visitor<'_> for DateTimeVisitor {
        type Value = NaiveDateTime;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date-time like \"2020-07-01 00:25:32\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDateTime, E> {
            NaiveDateTime::parse_from_str(v, DATETIME_FORMAT).map_err(|e| {
                E::custom(format_args!(
                    "`{v}` is not a date-time like \"2020-07-01 00:25:32\" (YYYY-MM-DD HH:MM:SS): {e}"
                ))
            })
        }
    }
}

/// One taxi ride: a row of `data/rides.csv` (NYC TLC yellow-taxi trip record), and the JSON
/// value of the [`RIDES_TOPIC`]. Field names in CSV and JSON are the TLC column names.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Ride {
    /// `VendorID`: the company that sent the record (1 = Creative Mobile Technologies,
    /// 2 = VeriFone).
    #[serde(rename = "VendorID")]
    pub vendor_id: u32,
    /// `tpep_pickup_datetime`: when the meter was engaged.
    #[serde(rename = "tpep_pickup_datetime", with = "datetime_format")]
    pub pickup_datetime: NaiveDateTime,
    /// `tpep_dropoff_datetime`: when the meter was disengaged.
    #[serde(rename = "tpep_dropoff_datetime", with = "datetime_format")]
    pub dropoff_datetime: NaiveDateTime,
    /// `passenger_count`, as entered by the driver.
    #[serde(rename = "passenger_count")]
    pub passenger_count: u32,
    /// `trip_distance` in miles, from the taximeter.
    #[serde(rename = "trip_distance")]
    pub trip_distance: f64,
    /// `RatecodeID`: the rate in effect at the end of the trip (1 = standard, 2 = JFK, ...).
    #[serde(rename = "RatecodeID")]
    pub ratecode_id: u32,
    /// `store_and_fwd_flag`: `Y` when the record was held in the vehicle before being sent.
    #[serde(rename = "store_and_fwd_flag")]
    pub store_and_fwd_flag: String,
    /// `PULocationID`: the TLC taxi zone of the pickup.
    #[serde(rename = "PULocationID")]
    pub pu_location_id: u32,
    /// `DOLocationID`: the TLC taxi zone of the drop-off.
    #[serde(rename = "DOLocationID")]
    pub do_location_id: u32,
    /// `payment_type` (1 = credit card, 2 = cash, 3 = no charge, 4 = dispute, ...).
    #[serde(rename = "payment_type")]
    pub payment_type: u32,
    /// `fare_amount` in dollars (negative for refunds).
    #[serde(rename = "fare_amount")]
    pub fare_amount: f64,
    /// `extra`: rush-hour and overnight surcharges, dollars.
    #[serde(rename = "extra")]
    pub extra: f64,
    /// `mta_tax`, dollars.
    #[serde(rename = "mta_tax")]
    pub mta_tax: f64,
    /// `tip_amount`, dollars (card tips only).
    #[serde(rename = "tip_amount")]
    pub tip_amount: f64,
    /// `tolls_amount`, dollars.
    #[serde(rename = "tolls_amount")]
    pub tolls_amount: f64,
    /// `improvement_surcharge`, dollars.
    #[serde(rename = "improvement_surcharge")]
    pub improvement_surcharge: f64,
    /// `total_amount` charged to the passenger, dollars (cash tips not included).
    #[serde(rename = "total_amount")]
    pub total_amount: f64,
    /// `congestion_surcharge`, dollars.
    #[serde(rename = "congestion_surcharge")]
    pub congestion_surcharge: f64,
}

impl Ride {
    /// The pickup time in epoch milliseconds, reading the (zone-less) time as UTC.
    pub fn pickup_millis(&self) -> i64 {
        self.pickup_datetime.and_utc().timestamp_millis()
    }

    /// The drop-off time in epoch milliseconds, reading the (zone-less) time as UTC.
    pub fn dropoff_millis(&self) -> i64 {
        self.dropoff_datetime.and_utc().timestamp_millis()
    }

    /// The record key of the ride in the [`RIDES_TOPIC`]: its pickup location id as a string.
    pub fn pickup_location_key(&self) -> String {
        self.pu_location_id.to_string()
    }

    /// True for the rides the first program keeps: some distance travelled and a positive
    /// total (drops zero-distance trips and refunds).
    pub fn has_distance_and_fare(&self) -> bool {
        self.trip_distance > 0.0 && self.total_amount > 0.0
    }
}

/// What the first program writes for each ride it keeps (the JSON value of the
/// [`RIDE_SUMMARIES_TOPIC`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RideSummary {
    /// Pickup zone id (`PULocationID`).
    pub pickup_location: String,
    /// Drop-off zone id (`DOLocationID`).
    pub dropoff_location: String,
    /// Pickup time, written like `2020-07-01 00:25:32`.
    #[serde(with = "datetime_format")]
    pub pickup_time: NaiveDateTime,
    /// Trip distance in miles.
    pub distance_miles: f64,
    /// Total amount charged, dollars.
    pub total_amount: f64,
}

impl From<&Ride> for RideSummary {
    fn from(ride: &Ride) -> Self {
        RideSummary {
            pickup_location: ride.pu_location_id.to_string(),
            dropoff_location: ride.do_location_id.to_string(),
            pickup_time: ride.pickup_datetime,
            distance_miles: ride.trip_distance,
            total_amount: ride.total_amount,
        }
    }
}

impl From<Ride> for RideSummary {
    fn from(ride: Ride) -> Self {
        RideSummary::from(&ride)
    }
}

/// The course's first program: reads rides from `input` (key: pickup location id as a string,
/// value: [`Ride`] as JSON, event time: the pickup time), keeps the rides with
/// [`Ride::has_distance_and_fare`], and writes a [`RideSummary`] of each to `output` under the
/// same key.
pub fn pickup_summaries_topology(input: &str, output: &str) -> streams_core::Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            input,
            Consumed::with(StringSerde, Json::<Ride>::new())
                .with_timestamp_extractor(ValueTimestamp::new(|r: &Ride| r.pickup_millis())),
        )
        .filter(|_pickup, ride| ride.has_distance_and_fare())
        .map_values(RideSummary::from)
        .to(
            output,
            Produced::with(StringSerde, Json::<RideSummary>::new()),
        );
    builder.build()
}

/// The directory of the course's data files (`rides.csv`, `taxi_zone_lookup.csv`,
/// `payment_type_lookup.csv`): `data/` in this crate's source directory.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Errors of the example programs, each saying what failed and where (cluster, topic, file).
#[derive(Debug, thiserror::Error)]
pub enum ExampleError {
    /// A data file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The streams engine failed.
    #[error(transparent)]
    Streams(#[from] streams_core::StreamsError),
    /// A Kafka client call failed.
    #[error("cannot {action}: {source}")]
    Kafka {
        /// What was being done, naming the cluster or topic.
        action: String,
        /// The client's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// A topic could not be created, written or read as needed (the message says why).
    #[error("{0}")]
    Topic(String),
    /// A command-line value is invalid (the message names the flag).
    #[error("{0}")]
    Usage(String),
    /// Writing the output failed.
    #[error("cannot write to {what}: {source}")]
    Io {
        /// Where the output went (stdout, a file).
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// A row of a ride file that could not be read as a [`Ride`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// Why the row was rejected, naming the column when known.
    pub error: String,
}

/// The result of [`read_rides`]: the rides read and the rows skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct RideFile {
    /// Rides of the good rows, in file order.
    pub rides: Vec<Ride>,
    /// Rows that could not be read, in file order.
    pub bad_rows: Vec<BadRow>,
}

/// Errors of [`load_rides`] and [`read_rides`]. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("cannot read ride file {}: {source}", path.display())]
    Io {
        /// The ride file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// The header lacks columns a [`Ride`] needs.
    #[error(
        "ride file {} has no column(s) {}; expected the TLC header {}",
        path.display(),
        missing.join(", "),
        RIDE_COLUMNS.join(",")
    )]
    MissingColumns {
        /// The ride file.
        path: PathBuf,
        /// The required columns that are missing.
        missing: Vec<String>,
    },
    /// A row could not be read as a [`Ride`] (only [`load_rides`]; [`read_rides`] skips it).
    #[error("{}:{line}: bad ride row: {error}", path.display())]
    BadRow {
        /// The ride file.
        path: PathBuf,
        /// 1-based line of the row.
        line: u64,
        /// Why the row was rejected.
        error: String,
    },
}

/// The columns of a ride file, in the TLC order.
pub const RIDE_COLUMNS: [&str; 18] = [
    "VendorID",
    "tpep_pickup_datetime",
    "tpep_dropoff_datetime",
    "passenger_count",
    "trip_distance",
    "RatecodeID",
    "store_and_fwd_flag",
    "PULocationID",
    "DOLocationID",
    "payment_type",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "congestion_surcharge",
];

/// Reads every row of a ride CSV file (with the TLC header) and fails on the first bad row.
pub fn load_rides(path: &Path) -> Result<Vec<Ride>, LoadError> {
    read_with(path, |bad| {
        Err(LoadError::BadRow {
            path: path.to_path_buf(),
            line: bad.line,
            error: bad.error,
        })
    })
}

/// Reads a ride CSV file (with the TLC header), skipping rows that are not valid rides and
/// reporting them in [`RideFile::bad_rows`]. Fails only when the file cannot be read or its
/// header lacks columns.
pub fn read_rides(path: &Path) -> Result<RideFile, LoadError> {
    let mut bad_rows = Vec::new();
    let rides = read_with(path, |bad| {
        bad_rows.push(bad);
        Ok(())
    })?;
    Ok(RideFile { rides, bad_rows })
}

fn read_with(
    path: &Path,
    mut on_bad: impl FnMut(BadRow) -> Result<(), LoadError>,
) -> Result<Vec<Ride>, LoadError> {
    let mut rides = Vec::new();
    for row in open_rides(path)? {
        match row {
            Ok(ride) => rides.push(ride),
            Err(LoadError::BadRow { line, error, .. }) => on_bad(BadRow { line, error })?,
            Err(e) => return Err(e),
        }
    }
    Ok(rides)
}

/// Opens a ride CSV file (with the TLC header) for reading row by row, without loading it
/// whole: the iterator yields each row as a [`Ride`], or [`LoadError::BadRow`] (with its line)
/// for a row that is not a valid ride, after which reading goes on. A read error
/// ([`LoadError::Io`]) is yielded once and ends the iteration.
///
/// ```
/// use streams_examples::*;
/// let mut rows = open_rides(&data_dir().join("rides.csv"))?;
/// let first = rows.next().expect("a row")?;
/// assert_eq!(first.pu_location_id, 238);
/// assert_eq!(rows.count(), 265);
/// # Ok::<(), LoadError>(())
/// ```
pub fn open_rides(path: &Path) -> Result<RideRows, LoadError> {
    let io = |source: csv::Error| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(io)?;
    let headers = reader.headers().map_err(io)?.clone();
    let missing: Vec<String> = RIDE_COLUMNS
        .iter()
        .filter(|c| !headers.iter().any(|h| h == **c))
        .map(|c| (*c).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(LoadError::MissingColumns {
            path: path.to_path_buf(),
            missing,
        });
    }
    Ok(RideRows {
        path: path.to_path_buf(),
        reader,
        headers,
        record: csv::StringRecord::new(),
        done: false,
    })
}

/// The rows of a ride file, read one at a time: see [`open_rides`].
#[derive(Debug)]
pub struct RideRows {
    path: PathBuf,
    reader: csv::Reader<std::fs::File>,
    headers: csv::StringRecord,
    record: csv::StringRecord,
    done: bool,
}

impl RideRows {
    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for RideRows {
    type Item = Result<Ride, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let parsed = match self.reader.read_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                return None;
            }
            Ok(true) => self.record.deserialize::<Ride>(Some(&self.headers)),
            Err(e) => Err(e),
        };
        Some(match parsed {
            Ok(ride) => Ok(ride),
            Err(e) if e.is_io_error() => {
                self.done = true;
                Err(LoadError::Io {
                    path: self.path.clone(),
                    source: e,
                })
            }
            Err(e) => {
                let bad = bad_row(&e, &self.headers);
                Err(LoadError::BadRow {
                    path: self.path.clone(),
                    line: bad.line,
                    error: bad.error,
                })
            }
        })
    }
}

fn bad_row(e: &csv::Error, headers: &csv::StringRecord) -> BadRow {
    let line = e.position().map_or(0, csv::Position::line);
    let error = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let column = err
                .field()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| headers.get(i));
            match column {
                Some(c) => format!("column `{c}`: {}", err.kind()),
                None => err.kind().to_string(),
            }
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields, the header has {expected_len}"),
        _ => e.to_string(),
    };
    BadRow { line, error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const HEADER: &str = "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,total_amount,congestion_surcharge";
    const ROW: &str =
        "1,2020-07-01 00:25:32,2020-07-01 00:33:39,1,1.50,1,N,238,75,2,8,0.5,0.5,0,0,0.3,9.3,0";

    fn parse_csv(text: &str) -> Vec<Ride> {
        csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn csv_to_ride_to_json_to_ride() {
        let rides = parse_csv(&format!("{HEADER}\n{ROW}\n"));
        assert_eq!(rides.len(), 1);
        let ride = &rides[0];
        let pickup = NaiveDate::from_ymd_opt(2020, 7, 1)
            .unwrap()
            .and_hms_opt(0, 25, 32)
            .unwrap();
        assert_eq!(ride.pickup_datetime, pickup);
        assert_eq!(ride.pickup_millis(), 1_593_563_132_000);
        assert_eq!(ride.dropoff_millis(), 1_593_563_619_000);

        let json = serde_json::to_string(ride).unwrap();
        assert!(
            json.contains(r#""tpep_pickup_datetime":"2020-07-01 00:25:32""#),
            "{json}"
        );
        assert!(
            json.contains(r#""tpep_dropoff_datetime":"2020-07-01 00:33:39""#),
            "{json}"
        );
        assert!(json.contains(r#""PULocationID":238"#), "{json}");
        let back: Ride = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, ride);

        // And back to CSV: the same text, apart from number formatting.
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(ride).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert!(text.starts_with(&format!("{HEADER}\n")), "{text}");
        assert!(
            text.contains(",2020-07-01 00:25:32,2020-07-01 00:33:39,"),
            "{text}"
        );
        assert_eq!(parse_csv(&text), rides);
    }

    #[test]
    fn summary_json_uses_the_same_datetime_format() {
        let ride = parse_csv(&format!("{HEADER}\n{ROW}\n")).remove(0);
        let summary = RideSummary::from(&ride);
        let json = serde_json::to_string(&summary).unwrap();
        assert_eq!(
            json,
            r#"{"pickup_location":"238","dropoff_location":"75","pickup_time":"2020-07-01 00:25:32","distance_miles":1.5,"total_amount":9.3}"#
        );
        assert_eq!(serde_json::from_str::<RideSummary>(&json).unwrap(), summary);
    }

    #[test]
    fn a_bad_datetime_is_a_clear_error() {
        let err = serde_json::from_str::<RideSummary>(
            r#"{"pickup_location":"1","dropoff_location":"2","pickup_time":"2020-07-01T00:25:32","distance_miles":1,"total_amount":2}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`2020-07-01T00:25:32` is not a date-time"),
            "{err}"
        );
    }
}

/// Topic of the per-location ride counts.
pub const RIDE_COUNTS_TOPIC: &str = "rides-pulocation-count";

/// The course's first stateful program: rides keyed by `PULocationID`, counted per key into
/// the store `rides-per-location`, every count change written to `output`.
pub fn ride_count_topology(input: &str, output: &str) -> streams_core::Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream(input, Consumed::with(StringSerde, Json::<Ride>::new()))
        .group_by_key()
        .count(streams_core::Materialized::named("rides-per-location"))
        .to_stream()
        .to(
            output,
            Produced::with(StringSerde, streams_core::Nullable(streams_core::I64Serde)),
        );
    builder.build()
}

/// A row of `taxi_zone_lookup.csv`, and the JSON value of the [`ZONES_TOPIC`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// `LocationID`.
    #[serde(alias = "locationid", alias = "LocationID")]
    pub location_id: u32,
    /// `Borough`.
    #[serde(alias = "borough", alias = "Borough")]
    pub borough: String,
    /// `Zone`.
    #[serde(alias = "zone", alias = "Zone")]
    pub zone: String,
    /// `service_zone`.
    pub service_zone: String,
}

/// Reads the taxi-zone lookup (`data/taxi_zone_lookup.csv`) into a map by location id.
pub fn load_zones(path: &Path) -> Result<std::collections::HashMap<u32, Zone>, LoadError> {
    let mut reader = csv::Reader::from_path(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut zones = std::collections::HashMap::new();
    for (i, row) in reader.deserialize::<Zone>().enumerate() {
        let zone = row.map_err(|e| LoadError::BadRow {
            path: path.to_path_buf(),
            line: i as u64 + 2,
            error: e.to_string(),
        })?;
        zones.insert(zone.location_id, zone);
    }
    Ok(zones)
}

/// The topic of the pickup-location events the course's join reads (key: anything, value:
/// [`PickupLocation`] as JSON).
pub const RIDES_LOCATION_TOPIC: &str = "rides_location";

/// The topic the course's join writes (key: location id, value: [`VendorInfo`] as JSON).
pub const VENDOR_INFO_TOPIC: &str = "vendor_info";

/// A taxi picked someone up in a zone (the course's `PickupLocation`, JSON value of the
/// [`RIDES_LOCATION_TOPIC`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PickupLocation {
    /// `PULocationID`: the zone of the pickup.
    #[serde(rename = "PULocationID")]
    pub pu_location_id: u32,
    /// `tpep_pickup_datetime`: when the pickup happened.
    #[serde(rename = "tpep_pickup_datetime", with = "datetime_format")]
    pub pickup_datetime: NaiveDateTime,
}

impl PickupLocation {
    /// The pickup time in epoch milliseconds (as UTC).
    pub fn pickup_millis(&self) -> i64 {
        self.pickup_datetime.and_utc().timestamp_millis()
    }
}

/// What the course's join emits: a vendor's taxi dropped someone off in a zone and, within
/// ten minutes, a pickup happened there (the course's `VendorInfo`, JSON value of the
/// [`VENDOR_INFO_TOPIC`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct VendorInfo {
    /// The ride's `VendorID`, as a string.
    #[serde(rename = "VendorID")]
    pub vendor_id: String,
    /// The zone (`PULocationID` of the pickup, `DOLocationID` of the ride).
    #[serde(rename = "PULocationID")]
    pub pu_location_id: u32,
    /// When the pickup happened.
    #[serde(rename = "pickupTime", with = "datetime_format")]
    pub pickup_time: NaiveDateTime,
    /// When the ride dropped off.
    #[serde(rename = "lastDropoffTime", with = "datetime_format")]
    pub last_dropoff_time: NaiveDateTime,
}

/// The course's joiner: a [`VendorInfo`] when the ride's drop-off and the pickup are at most
/// ten minutes apart (either way), else `None`.
pub fn vendor_info(ride: &Ride, pickup: &PickupLocation) -> Option<VendorInfo> {
    let apart = ride.dropoff_datetime - pickup.pickup_datetime;
    (apart.num_seconds().abs() <= 10 * 60).then(|| VendorInfo {
        vendor_id: ride.vendor_id.to_string(),
        pu_location_id: pickup.pu_location_id,
        pickup_time: pickup.pickup_datetime,
        last_dropoff_time: ride.dropoff_datetime,
    })
}

/// The course's stream-stream join: rides keyed by their drop-off zone (`DOLocationID`, read
/// from `rides` at their drop-off time) joined with the pickup events of `locations`
/// re-keyed by `PULocationID` (so repartitioned first, at their pickup time), in
/// [`streams_core::JoinWindows`] of 20 minutes with 5 minutes of grace; the matches of
/// [`vendor_info`] go to `output` keyed by the zone.
///
/// ```
/// use streams_core::*;
/// use streams_examples::*;
///
/// let topology = rides_join_pickups_topology(RIDES_TOPIC, RIDES_LOCATION_TOPIC, VENDOR_INFO_TOPIC)?;
/// assert!(topology.describe().to_string().contains("-repartition"));
/// # Ok::<(), StreamsError>(())
/// ```
pub fn rides_join_pickups_topology(
    rides: &str,
    locations: &str,
    output: &str,
) -> streams_core::Result<Topology> {
    let builder = StreamsBuilder::new();
    let rides = builder.stream(
        rides,
        Consumed::with(StringSerde, Json::<Ride>::new())
            .with_timestamp_extractor(ValueTimestamp::new(|r: &Ride| r.dropoff_millis())),
    );
    let pickups = builder
        .stream(
            locations,
            Consumed::with(StringSerde, Json::<PickupLocation>::new()).with_timestamp_extractor(
                ValueTimestamp::new(|p: &PickupLocation| p.pickup_millis()),
            ),
        )
        .select_key(|_, p| p.pu_location_id.to_string());
    let windows = streams_core::JoinWindows::of_time_difference_and_grace(
        std::time::Duration::from_secs(20 * 60),
        std::time::Duration::from_secs(5 * 60),
    )?;
    rides
        .join_with(
            &pickups,
            vendor_info,
            windows,
            streams_core::StreamJoined::with(
                StringSerde,
                Json::<Ride>::new(),
                Json::<PickupLocation>::new(),
            ),
        )
        .flat_map_values(|matched| matched)
        .to(
            output,
            Produced::with(StringSerde, Json::<VendorInfo>::new()),
        );
    builder.build()
}

/// The topic of the taxi-zone lookup (key: `LocationID` as a string, value: [`Zone`] as JSON),
/// read as a global table by [`rides_enrich_zones_topology`].
pub const ZONES_TOPIC: &str = "taxi-zones";

/// The topic of the payment-type lookup (key: `payment_type` as a string, value: its
/// description).
pub const PAYMENT_TYPES_TOPIC: &str = "payment-types";

/// The topic the enrichment writes to (key: pickup location id, value: [`EnrichedRide`] as
/// JSON).
pub const ENRICHED_RIDES_TOPIC: &str = "rides-enriched";

/// What a borough, zone or payment type reads when the lookup has no row for the id (the TLC
/// lookup's own word for unknown zones).
pub const UNKNOWN: &str = "Unknown";

/// A ride with its pickup and drop-off zones and its payment type spelled out: the value of
/// the [`ENRICHED_RIDES_TOPIC`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EnrichedRide {
    /// Pickup time, written like `2020-07-01 00:25:32`.
    #[serde(with = "datetime_format")]
    pub pickup_time: NaiveDateTime,
    /// `PULocationID`.
    pub pickup_location: u32,
    /// Borough of the pickup zone ([`UNKNOWN`] if the zone is not in the lookup).
    pub pickup_borough: String,
    /// Name of the pickup zone ([`UNKNOWN`] if not in the lookup).
    pub pickup_zone: String,
    /// `DOLocationID`.
    pub dropoff_location: u32,
    /// Borough of the drop-off zone.
    pub dropoff_borough: String,
    /// Name of the drop-off zone.
    pub dropoff_zone: String,
    /// `payment_type`.
    pub payment_type: u32,
    /// The payment type's description from `payment_type_lookup.csv` ([`UNKNOWN`] if absent).
    pub payment: String,
    /// Trip distance in miles.
    pub distance_miles: f64,
    /// Total amount charged, dollars.
    pub total_amount: f64,
}

impl EnrichedRide {
    /// The ride with the zones found for its pickup and drop-off (`None`: unknown) and the
    /// payment description still [`UNKNOWN`].
    pub fn new(ride: &Ride, pickup: Option<&Zone>, dropoff: Option<&Zone>) -> Self {
        let names = |z: Option<&Zone>| match z {
            Some(z) => (z.borough.clone(), z.zone.clone()),
            None => (UNKNOWN.to_string(), UNKNOWN.to_string()),
        };
        let (pickup_borough, pickup_zone) = names(pickup);
        let (dropoff_borough, dropoff_zone) = names(dropoff);
        EnrichedRide {
            pickup_time: ride.pickup_datetime,
            pickup_location: ride.pu_location_id,
            pickup_borough,
            pickup_zone,
            dropoff_location: ride.do_location_id,
            dropoff_borough,
            dropoff_zone,
            payment_type: ride.payment_type,
            payment: UNKNOWN.to_string(),
            distance_miles: ride.trip_distance,
            total_amount: ride.total_amount,
        }
    }
}

/// The zone lookup as records for the [`ZONES_TOPIC`]: `(LocationID as a string, zone)`, in
/// file order.
pub fn zone_records(path: &Path) -> Result<Vec<(String, Zone)>, LoadError> {
    let mut zones: Vec<Zone> = load_zones(path)?.into_values().collect();
    zones.sort_by_key(|z| z.location_id);
    Ok(zones
        .into_iter()
        .map(|z| (z.location_id.to_string(), z))
        .collect())
}

/// A row of `payment_type_lookup.csv`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
struct PaymentTypeRow {
    payment_type: u32,
    description: String,
}

/// Reads the payment-type lookup (`data/payment_type_lookup.csv`) as records for the
/// [`PAYMENT_TYPES_TOPIC`]: `(payment_type as a string, description)`, in file order.
pub fn payment_type_records(path: &Path) -> Result<Vec<(String, String)>, LoadError> {
    let mut reader = csv::Reader::from_path(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, row) in reader.deserialize::<PaymentTypeRow>().enumerate() {
        let row = row.map_err(|e| LoadError::BadRow {
            path: path.to_path_buf(),
            line: i as u64 + 2,
            error: e.to_string(),
        })?;
        out.push((row.payment_type.to_string(), row.description));
    }
    Ok(out)
}

/// Name of the store holding the zone lookup (a global store).
pub const ZONES_STORE: &str = "taxi-zones-store";

/// Name of the store holding the payment-type table.
pub const PAYMENT_TYPES_STORE: &str = "payment-types-store";

/// The course's enrichment: every ride of `rides` (key: pickup location id, value: [`Ride`] as
/// JSON, event time: pickup) gets the borough and zone of its pickup and of its drop-off from
/// the zone lookup in `zones`, read as a [`streams_core::GlobalKTable`] (left joins: an unknown
/// location id gives [`UNKNOWN`]), and the description of its payment type from the table of
/// `payment_types`. That second lookup is a stream-table left join on the payment type: the
/// rides are re-keyed by payment type, so the join repartitions them first (through
/// `<application.id>-rides-by-payment-type-repartition`, co-partitioned with
/// `payment_types`). The result is written to `output` keyed by pickup location id again.
pub fn rides_enrich_zones_topology(
    rides: &str,
    zones: &str,
    payment_types: &str,
    output: &str,
) -> streams_core::Result<Topology> {
    use streams_core::{Joined, Materialized};
    let builder = StreamsBuilder::new();
    let zone_table = builder.global_table(
        zones,
        Consumed::with(StringSerde, Json::<Zone>::new()),
        Materialized::named(ZONES_STORE),
    );
    let payment_table = builder.table(
        payment_types,
        Consumed::with(StringSerde, StringSerde),
        Materialized::named(PAYMENT_TYPES_STORE),
    );
    builder
        .stream(
            rides,
            Consumed::with(StringSerde, Json::<Ride>::new())
                .with_timestamp_extractor(ValueTimestamp::new(|r: &Ride| r.pickup_millis())),
        )
        .left_join_global(
            &zone_table,
            |_, ride| ride.pu_location_id.to_string(),
            |ride: Ride, pickup: Option<Zone>| (ride, pickup),
        )
        .left_join_global(
            &zone_table,
            |_, (ride, _)| ride.do_location_id.to_string(),
            |(ride, pickup), dropoff: Option<Zone>| {
                EnrichedRide::new(&ride, pickup.as_ref(), dropoff.as_ref())
            },
        )
        .select_key(|_, r| r.payment_type.to_string())
        .left_join_table_with(
            &payment_table,
            |ride: &EnrichedRide, description: Option<&String>| {
                let mut ride = ride.clone();
                if let Some(d) = description {
                    ride.payment = d.clone();
                }
                ride
            },
            Joined::with(StringSerde, Json::<EnrichedRide>::new())
                .with_name("rides-by-payment-type"),
        )
        .select_key(|_, r| r.pickup_location.to_string())
        .to(
            output,
            Produced::with(StringSerde, Json::<EnrichedRide>::new()),
        );
    builder.build()
}
