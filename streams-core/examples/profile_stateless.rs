//! Profiling harness for the stateless engine path measured by `benches/engine_stateless.rs`
//! (the ride generator and topologies are copies of the benchmark's).
//!
//! ```text
//! cargo build --release -p streams-core --example profile_stateless
//! valgrind --tool=callgrind --toggle-collect='*run_mode*' \
//!     target/release/examples/profile_stateless engine 100000
//! perf record -e cpu-clock target/release/examples/profile_stateless engine 200000 20
//! ```
//!
//! Modes: `engine` (stream → filter → map_values → to, `BytesSerde` drain), `typed` (the same
//! with a typed drain), `passthrough` (bytes in, bytes out), `json` (parse + map + serialize
//! without the engine); each run prints ns and heap allocations per ride.
//! The second argument is the number of rides (default 100,000), the
//! third how many times to run over them (default 1); generating the rides is not measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use streams_core::{
    BytesSerde, Consumed, Json, Produced, StreamsBuilder, StreamsConfig, StringSerde,
    TestOutputTopic, TopologyTestDriver,
};

/// The system allocator, counting allocations, reallocations and frees to report them per ride.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static REALLOCS: AtomicU64 = AtomicU64::new(0);
static FREES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREES.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCS.fetch_add(1, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Records between two drains of the output topic.
const DRAIN_EVERY: usize = 10_000;

/// One NYC yellow-taxi trip, with the field names of the TLC trip records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ride {
    #[serde(rename = "VendorID")]
    vendor_id: u8,
    tpep_pickup_datetime: String,
    tpep_dropoff_datetime: String,
    passenger_count: u8,
    trip_distance: f64,
    #[serde(rename = "RatecodeID")]
    ratecode_id: u8,
    store_and_fwd_flag: String,
    #[serde(rename = "PULocationID")]
    pu_location_id: u16,
    #[serde(rename = "DOLocationID")]
    do_location_id: u16,
    payment_type: u8,
    fare_amount: f64,
    extra: f64,
    mta_tax: f64,
    tip_amount: f64,
    tolls_amount: f64,
    improvement_surcharge: f64,
    total_amount: f64,
    congestion_surcharge: f64,
}

/// What the topology writes per ride.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Summary {
    pickup_zone: u16,
    dropoff_zone: u16,
    miles: f64,
    total: f64,
    tip: f64,
}

fn summarize(r: Ride) -> Summary {
    Summary {
        pickup_zone: r.pu_location_id,
        dropoff_zone: r.do_location_id,
        miles: r.trip_distance,
        total: r.total_amount,
        tip: r.tip_amount,
    }
}

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are good enough for test data.
struct Lcg(u64);

impl Lcg {
    fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        f64::from(self.next_u32()) / 4_294_967_296.0
    }
}

/// Busy Manhattan zones: 70% of pickups.
const HOT_ZONES: [u16; 20] = [
    237, 161, 236, 162, 230, 186, 142, 48, 170, 163, 234, 79, 239, 107, 68, 141, 263, 140, 132, 138,
];

/// 2020-07-01T00:00:00Z in epoch ms.
const JULY_2020_MS: i64 = 1_593_561_600_000;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `2020-07-DD HH:MM:SS` for seconds since 2020-07-01 00:00:00 (stays within July).
fn july_datetime(secs: i64) -> String {
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

fn zone(rng: &mut Lcg) -> u16 {
    if rng.below(10) < 7 {
        HOT_ZONES[rng.below(HOT_ZONES.len() as u32) as usize]
    } else {
        1 + rng.below(265) as u16
    }
}

/// `n` rides with non-decreasing pickup times (on average one per second), deterministic.
/// Returns (key bytes = PULocationID, serialized ride, record timestamp in ms).
fn generate(n: usize) -> Vec<(Vec<u8>, Vec<u8>, i64)> {
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

/// `stream → filter → map_values → to`, the topology of the engine benchmarks.
fn stateless_driver() -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .stream("rides", Consumed::with(StringSerde, Json::<Ride>::new()))
        .filter(|_, r| r.trip_distance > 0.0)
        .map_values(summarize)
        .to(
            "summaries",
            Produced::with(StringSerde, Json::<Summary>::new()),
        );
    let topology = builder.build().expect("topology");
    TopologyTestDriver::new(topology, StreamsConfig::new("bench-stateless")).expect("driver")
}

/// `stream(bytes) → to`: the engine with no JSON.
fn passthrough_driver() -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    builder
        .stream("rides", Consumed::with(BytesSerde, BytesSerde))
        .to("out", Produced::new());
    let topology = builder.build().expect("topology");
    TopologyTestDriver::new(topology, StreamsConfig::new("bench-passthrough")).expect("driver")
}

fn pipe_all<K: 'static, V: 'static>(
    driver: &TopologyTestDriver,
    out: &TestOutputTopic<'_, K, V>,
    rides: &[(Vec<u8>, Vec<u8>, i64)],
) -> usize {
    let mut read = 0;
    for chunk in rides.chunks(DRAIN_EVERY) {
        for (key, value, ts) in chunk {
            driver
                .pipe_raw("rides", Some(key), Some(value), *ts)
                .expect("pipe_raw");
        }
        read += black_box(out.read_records_to_list().expect("drain")).len();
    }
    read
}

/// The measured work: everything but generating the rides. Not inlined, so profilers can
/// restrict collection to it (`valgrind --tool=callgrind --toggle-collect='*run_mode*'`).
#[inline(never)]
fn run_mode(mode: &str, rides: &[(Vec<u8>, Vec<u8>, i64)]) -> usize {
    match mode {
        "engine" => {
            let driver = stateless_driver();
            let out = driver.output_topic("summaries", BytesSerde, BytesSerde);
            pipe_all(&driver, &out, rides)
        }
        "typed" => {
            let driver = stateless_driver();
            let out = driver.output_topic("summaries", StringSerde, Json::<Summary>::new());
            pipe_all(&driver, &out, rides)
        }
        "passthrough" => {
            let driver = passthrough_driver();
            let out = driver.output_topic("out", BytesSerde, BytesSerde);
            pipe_all(&driver, &out, rides)
        }
        "json" => {
            let mut buf = Vec::with_capacity(256);
            let mut written = 0;
            for (_, value, _) in rides {
                let ride: Ride = serde_json::from_slice(black_box(value)).expect("parse");
                if ride.trip_distance > 0.0 {
                    buf.clear();
                    serde_json::to_writer(&mut buf, &summarize(ride)).expect("serialize");
                    black_box(&buf);
                    written += 1;
                }
            }
            written
        }
        other => panic!("unknown mode `{other}`: engine, typed, passthrough or json"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "engine".to_string());
    let n: usize = args
        .next()
        .map_or(100_000, |s| s.parse().expect("number of rides"));
    let repeat: u32 = args.next().map_or(1, |s| s.parse().expect("repetitions"));
    let rides = generate(n);
    for _ in 0..repeat {
        let counts = || {
            (
                ALLOCS.load(Relaxed),
                REALLOCS.load(Relaxed),
                FREES.load(Relaxed),
            )
        };
        let before = counts();
        let start = Instant::now();
        let read = run_mode(&mode, &rides);
        let elapsed = start.elapsed();
        let after = counts();
        let per_ride = |a: u64, b: u64| (a - b) as f64 / n as f64;
        println!(
            "{mode}: {n} rides, {read} written, {:.0} ns/ride; per ride: {:.2} allocations, \
             {:.2} reallocations, {:.2} frees",
            elapsed.as_nanos() as f64 / n as f64,
            per_ride(after.0, before.0),
            per_ride(after.1, before.1),
            per_ride(after.2, before.2),
        );
    }
}
