//! Shared by the benchmarks: deterministic NYC taxi rides with the TLC's field names.

#![allow(dead_code)] // each benchmark uses a part

use serde::{Deserialize, Serialize};
use streams_core::{BytesSerde, TopologyTestDriver};

/// One NYC yellow-taxi trip, with the field names of the TLC trip records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ride {
    #[serde(rename = "VendorID")]
    pub vendor_id: u8,
    pub tpep_pickup_datetime: String,
    pub tpep_dropoff_datetime: String,
    pub passenger_count: u8,
    pub trip_distance: f64,
    #[serde(rename = "RatecodeID")]
    pub ratecode_id: u8,
    pub store_and_fwd_flag: String,
    #[serde(rename = "PULocationID")]
    pub pu_location_id: u16,
    #[serde(rename = "DOLocationID")]
    pub do_location_id: u16,
    pub payment_type: u8,
    pub fare_amount: f64,
    pub extra: f64,
    pub mta_tax: f64,
    pub tip_amount: f64,
    pub tolls_amount: f64,
    pub improvement_surcharge: f64,
    pub total_amount: f64,
    pub congestion_surcharge: f64,
}

/// What the stateless pipelines write per ride: five of its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub pickup_zone: u16,
    pub dropoff_zone: u16,
    pub miles: f64,
    pub total: f64,
    pub tip: f64,
}

/// The stateless pipelines' `map_values`.
pub fn summarize(r: Ride) -> Summary {
    Summary {
        pickup_zone: r.pu_location_id,
        dropoff_zone: r.do_location_id,
        miles: r.trip_distance,
        total: r.total_amount,
        tip: r.tip_amount,
    }
}

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are good enough for test data.
pub struct Lcg(u64);

impl Lcg {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }
    pub fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        f64::from(self.next_u32()) / 4_294_967_296.0
    }
}

/// Busy Manhattan zones: 70% of pickups.
pub const HOT_ZONES: [u16; 20] = [
    237, 161, 236, 162, 230, 186, 142, 48, 170, 163, 234, 79, 239, 107, 68, 141, 263, 140, 132, 138,
];

/// 2020-07-01T00:00:00Z in epoch ms.
pub const JULY_2020_MS: i64 = 1_593_561_600_000;

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `2020-07-DD HH:MM:SS` for seconds since 2020-07-01 00:00:00 (stays within July).
pub fn july_datetime(secs: i64) -> String {
    let day = 1 + secs / 86_400;
    assert!(day <= 31, "ride times must stay within July");
    let s = secs % 86_400;
    format!(
        "2020-07-{day:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

pub fn zone(rng: &mut Lcg) -> u16 {
    if rng.below(10) < 7 {
        HOT_ZONES[rng.below(HOT_ZONES.len() as u32) as usize]
    } else {
        1 + rng.below(265) as u16
    }
}

/// `n` rides with non-decreasing pickup times (on average one per second), deterministic.
/// Returns (key bytes = PULocationID, serialized ride, record timestamp in ms).
pub fn generate(n: usize) -> Vec<(Vec<u8>, Vec<u8>, i64)> {
    let mut rng = Lcg(0x5EED_2020_0701);
    let mut secs = 0_i64;
    (0..n)
        .map(|_| {
            secs += i64::from(rng.below(3));
            let duration = 120 + i64::from(rng.below(2400));
            let trip_distance = if rng.below(50) == 0 {
                0.0
            } else {
                round2(0.3 + 15.0 * rng.unit() * rng.unit())
            };
            let payment_type = match rng.below(100) {
                0..=69 => 1,
                70..=97 => 2,
                98 => 3,
                _ => 4,
            };
            let fare_amount = round2(2.5 + 2.5 * trip_distance + duration as f64 / 60.0 * 0.5);
            let extra = [0.0, 0.5, 1.0, 2.5][rng.below(4) as usize];
            let tip_amount = if payment_type == 1 {
                round2(fare_amount * 0.3 * rng.unit())
            } else {
                0.0
            };
            let tolls_amount = if rng.below(20) == 0 { 6.12 } else { 0.0 };
            let congestion_surcharge = if rng.below(10) == 0 { 0.0 } else { 2.5 };
            let ride = Ride {
                vendor_id: 1 + rng.below(2) as u8,
                tpep_pickup_datetime: july_datetime(secs),
                tpep_dropoff_datetime: july_datetime(secs + duration),
                passenger_count: [1, 1, 1, 1, 1, 2, 2, 3, 5, 6][rng.below(10) as usize],
                trip_distance,
                ratecode_id: if rng.below(20) == 0 {
                    2 + rng.below(4) as u8
                } else {
                    1
                },
                store_and_fwd_flag: if rng.below(100) == 0 { "Y" } else { "N" }.to_string(),
                pu_location_id: zone(&mut rng),
                do_location_id: zone(&mut rng),
                payment_type,
                fare_amount,
                extra,
                mta_tax: 0.5,
                tip_amount,
                tolls_amount,
                improvement_surcharge: 0.3,
                total_amount: round2(
                    fare_amount
                        + extra
                        + 0.5
                        + tip_amount
                        + tolls_amount
                        + 0.3
                        + congestion_surcharge,
                ),
                congestion_surcharge,
            };
            let key = ride.pu_location_id.to_string().into_bytes();
            let value = serde_json::to_vec(&ride).expect("serialize ride");
            (key, value, JULY_2020_MS + secs * 1000)
        })
        .collect()
}

/// Feeds `rides` into topic `rides` of `driver` as the consumer would hand them over: `batch`
/// records per `process_queued` (one commit each), draining topic `out` after each batch.
/// Returns the number of records read back.
pub fn run_batched(
    driver: &TopologyTestDriver,
    out: &str,
    rides: &[(Vec<u8>, Vec<u8>, i64)],
    batch: usize,
) -> usize {
    let out = driver.output_topic(out, BytesSerde, BytesSerde);
    let mut read = 0;
    for chunk in rides.chunks(batch) {
        for (key, value, ts) in chunk {
            driver
                .enqueue_raw("rides", Some(key), Some(value), *ts)
                .expect("enqueue");
        }
        driver.process_queued().expect("process");
        read += std::hint::black_box(out.read_records_to_list().expect("drain")).len();
    }
    read
}
