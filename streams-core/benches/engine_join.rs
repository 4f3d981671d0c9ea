//! Stream-stream join throughput: 1,000,000 taxi rides joined with 1,000,000 pickup events in
//! 20-minute join windows (5 minutes of grace), the course's join, through RocksDB join stores
//! with changelogs.
//!
//! Rides (the 400-byte JSON ride as bytes, at its pickup time, about one per second) are keyed
//! by a drop-off zone, pickup events (a 60-byte JSON value) by a pickup zone, both drawn
//! uniformly from the 265 TLC zones, so a record meets about 2400 s / 265 ≈ 9 records of the
//! other side: 1M + 1M input records give about 18M join results. The joiner adds the two value
//! lengths (the join does not parse JSON), so this measures the join: window stores, lookups,
//! changelogs and the emitted results.
//!
//! * `inner`: `join`;
//! * `left`: `left_join`, which also keeps the unjoined rides in the shared store and emits
//!   them after their window closes.
//!
//! Records enter as the consumer would hand them over (`enqueue_raw`), in timestamp order
//! across both topics, 10,000 per `process_queued` (which commits); the output is drained after
//! each batch.
//!
//! Run: `cargo bench -p streams-core --no-default-features --bench engine_join`;
//! `RIDES=100000` for a quick check.

mod common;

use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use streams_core::{
    BytesSerde, Consumed, JoinWindows, Produced, StreamsBuilder, StreamsConfig, StringSerde,
    TopologyTestDriver, U64Serde,
};

const BATCH: usize = 10_000;

/// (topic, key, value, timestamp), in timestamp order.
type Input = Vec<(&'static str, Vec<u8>, Vec<u8>, i64)>;

fn inputs(n: usize) -> Input {
    let rides = common::generate(n);
    let mut out = Input::with_capacity(2 * n);
    for (i, (_, ride, ts)) in rides.into_iter().enumerate() {
        let ride_zone = zone(2 * i as u64);
        let pickup_zone = zone(2 * i as u64 + 1);
        out.push(("rides", ride_zone.to_string().into_bytes(), ride, ts));
        let pickup = format!(
            r#"{{"PULocationID":{pickup_zone},"tpep_pickup_datetime":"{}"}}"#,
            common::july_datetime((ts - common::JULY_2020_MS) / 1000)
        );
        out.push((
            "pickups",
            pickup_zone.to_string().into_bytes(),
            pickup.into_bytes(),
            ts,
        ));
    }
    out
}

/// A zone in 1..=265 from a SplitMix64 hash of `i`: uniform and deterministic.
fn zone(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    1 + (z ^ (z >> 31)) % 265
}

fn driver(left: bool, dir: &std::path::Path) -> TopologyTestDriver {
    let windows = JoinWindows::of_time_difference_and_grace(
        Duration::from_secs(20 * 60),
        Duration::from_secs(5 * 60),
    )
    .expect("windows");
    let builder = StreamsBuilder::new();
    let rides = builder.stream("rides", Consumed::with(StringSerde, BytesSerde));
    let pickups = builder.stream("pickups", Consumed::with(StringSerde, BytesSerde));
    let joined = if left {
        rides.left_join(
            &pickups,
            |r, p| (r.len() + p.map_or(0, Vec::len)) as u64,
            windows,
        )
    } else {
        rides.join(&pickups, |r, p| (r.len() + p.len()) as u64, windows)
    };
    joined.to("joined", Produced::with(StringSerde, U64Serde));
    let config = StreamsConfig::new("bench-join")
        .with("state.dir", dir.to_string_lossy().as_ref())
        .with("statestore.cache.max.bytes", "0");
    TopologyTestDriver::new(builder.build().expect("topology"), config).expect("driver")
}

fn run(driver: &TopologyTestDriver, input: &Input) -> usize {
    let out = driver.output_topic("joined", BytesSerde, BytesSerde);
    let mut read = 0;
    for chunk in input.chunks(BATCH) {
        for (topic, key, value, ts) in chunk {
            driver
                .enqueue_raw(topic, Some(key), Some(value), *ts)
                .expect("enqueue");
        }
        driver.process_queued().expect("process");
        read += std::hint::black_box(out.read_records_to_list().expect("drain")).len();
    }
    read
}

fn engine_join(c: &mut Criterion) {
    let n: usize = std::env::var("RIDES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let input = inputs(n);
    let mut group = c.benchmark_group("engine_join");
    group
        .throughput(Throughput::Elements(input.len() as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(30));
    for (name, left) in [("inner", false), ("left", true)] {
        group.bench_with_input(BenchmarkId::from_parameter(name), &left, |b, &left| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let dir = std::env::temp_dir()
                        .join(format!("bench-join-{}-{name}-{i}", std::process::id()));
                    let d = driver(left, &dir);
                    let start = Instant::now();
                    let results = run(&d, &input);
                    total += start.elapsed();
                    if i == 0 {
                        eprintln!(
                            "engine_join/{name}: {results} results from {} records",
                            input.len()
                        );
                    }
                    assert!(results > input.len() / 2, "join results: {results}");
                    drop(d);
                    let _ = std::fs::remove_dir_all(&dir);
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, engine_join);
criterion_main!(benches);
