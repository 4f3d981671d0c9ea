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
//! Run: `cargo bench -p streams-core --no-default-features --bench engine_stateless`. `RIDES=100000` runs on fewer
//! rides (for a quick check).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
mod common;

use common::{generate, summarize, Ride, Summary};
use streams_core::{
    BytesSerde, Consumed, Json, Produced, StreamsBuilder, StreamsConfig, StringSerde,
    TestOutputTopic, TopologyTestDriver,
};

/// Records between two drains of the output topic.
const DRAIN_EVERY: usize = 10_000;

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
