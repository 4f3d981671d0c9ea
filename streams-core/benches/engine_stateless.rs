//! Stateless engine throughput over 1,000,000 JSON taxi rides.
//!
//! * `json_parse_only`: `serde_json::from_slice::<Ride>` of each serialized ride (baseline).
//! * `json_parse_and_serialize_summary`: parse, filter, map to a `Summary` and serialize it with
//!   serde_json directly, no engine.
//! * `engine_stream_filter_mapvalues_to`: the same work through
//!   `stream → filter → map_values → to` in a `TopologyTestDriver`, fed with `pipe_raw`, the
//!   output drained every 10,000 records through a `BytesSerde` output topic.
//! * `engine_stream_filter_mapvalues_to_typed_drain`: the same, drained through a typed
//!   (`StringSerde`, `Json<Summary>`) output topic, which parses every summary again.
//! * `engine_passthrough_bytes`: `stream(BytesSerde, BytesSerde) → to`, no JSON at all.
//! * `driver_build`: building the topology and the driver (excluded from the timings above).
//!
//! `engine_stream_filter_mapvalues_to − json_parse_and_serialize_summary` is the engine's own
//! cost per record. See `docs/benchmarks.md`.
//!
//! Run: `cargo bench -p streams-core --bench engine_stateless`. `RIDES=100000` runs on fewer
//! rides (for a quick check).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use serde::{Deserialize, Serialize};
use streams_core::{
    BytesSerde, Consumed, Json, Produced, StreamsBuilder, StreamsConfig, StringSerde,
    TestOutputTopic, TopologyTestDriver,
};

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

/// Takes every waiting record; returns how many.
fn drain<K: 'static, V: 'static>(out: &TestOutputTopic<'_, K, V>) -> usize {
    black_box(out.read_records_to_list().expect("drain")).len()
}

/// Pipes every ride into `rides` of `driver`, draining `topic` every `DRAIN_EVERY` records
/// through an output topic with serdes `K`/`V`. Returns the records read back.
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
        read += drain(out);
    }
    read
}

/// Times `iters` runs over all rides, each on a fresh driver built (and dropped) untimed.
fn time_engine<K: 'static, V: 'static, KS, VS>(
    iters: u64,
    rides: &[(Vec<u8>, Vec<u8>, i64)],
    expected: usize,
    build: fn() -> TopologyTestDriver,
    topic: &str,
    serdes: impl Fn() -> (KS, VS),
) -> Duration
where
    KS: streams_core::Serde<K>,
    VS: streams_core::Serde<V>,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let driver = build();
        let (ks, vs) = serdes();
        let out = driver.output_topic(topic, ks, vs);
        let start = Instant::now();
        let read = pipe_all(&driver, &out, rides);
        total += start.elapsed();
        assert_eq!(read, expected, "records read back from `{topic}`");
        drop(out);
        drop(driver);
    }
    total
}

fn engine_stateless(c: &mut Criterion) {
    let n: usize = std::env::var("RIDES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rides = generate(n);
    let bytes: usize = rides.iter().map(|(_, v, _)| v.len()).sum();
    let kept = rides
        .iter()
        .filter(|(_, v, _)| serde_json::from_slice::<Ride>(v).unwrap().trip_distance > 0.0)
        .count();
    eprintln!(
        "engine_stateless: {n} rides, {:.1} bytes/ride on average (min {}, max {}), {kept} kept by the filter",
        bytes as f64 / n as f64,
        rides.iter().map(|(_, v, _)| v.len()).min().unwrap_or(0),
        rides.iter().map(|(_, v, _)| v.len()).max().unwrap_or(0),
    );

    let mut group = c.benchmark_group("engine_stateless");
    group
        .throughput(Throughput::Elements(n as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));

    group.bench_function("json_parse_only", |b| {
        b.iter(|| {
            for (_, value, _) in &rides {
                black_box(serde_json::from_slice::<Ride>(black_box(value)).expect("parse"));
            }
        })
    });

    group.bench_function("json_parse_and_serialize_summary", |b| {
        let mut buf = Vec::with_capacity(256);
        b.iter(|| {
            let mut written = 0usize;
            for (_, value, _) in &rides {
                let ride: Ride = serde_json::from_slice(black_box(value)).expect("parse");
                if ride.trip_distance > 0.0 {
                    buf.clear();
                    serde_json::to_writer(&mut buf, &summarize(ride)).expect("serialize");
                    written += black_box(&buf).len();
                }
            }
            written
        })
    });

    group.bench_function("engine_stream_filter_mapvalues_to", |b| {
        b.iter_custom(|iters| {
            time_engine(iters, &rides, kept, stateless_driver, "summaries", || {
                (BytesSerde, BytesSerde)
            })
        })
    });

    group.bench_function("engine_stream_filter_mapvalues_to_typed_drain", |b| {
        b.iter_custom(|iters| {
            time_engine(iters, &rides, kept, stateless_driver, "summaries", || {
                (StringSerde, Json::<Summary>::new())
            })
        })
    });

    group.bench_function("engine_passthrough_bytes", |b| {
        b.iter_custom(|iters| {
            time_engine(iters, &rides, n, passthrough_driver, "out", || {
                (BytesSerde, BytesSerde)
            })
        })
    });
    group.finish();

    let mut setup = c.benchmark_group("engine_setup");
    setup
        .sample_size(20)
        .measurement_time(Duration::from_secs(2));
    for (name, build) in [
        ("stateless", stateless_driver as fn() -> TopologyTestDriver),
        ("passthrough", passthrough_driver),
    ] {
        setup.bench_with_input(
            BenchmarkId::new("driver_build", name),
            &build,
            |b, build| b.iter(|| black_box(build())),
        );
    }
    setup.finish();
}

criterion_group!(benches, engine_stateless);
criterion_main!(benches);
