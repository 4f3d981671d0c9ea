//! Count-by-key throughput: 1,000,000 taxi rides keyed by `PULocationID`, counted with
//! `group_by_key().count()` into a RocksDB store (changelog on), results written to an output
//! topic, as the course's first stateful program.
//!
//! * `rocksdb_cache_on`: the default 10 MiB record cache; one commit per 10,000 records.
//! * `rocksdb_cache_off`: `statestore.cache.max.bytes = 0`: every update is emitted and goes
//!   to the changelog (what the course's tests configure).
//! * `memory_cache_on`: an in-memory store, cache on.
//!
//! Records enter as the consumer would hand them over (key bytes, the 400-byte JSON ride as the
//! value, timestamp) with `enqueue_raw`, 10,000 per `process_queued` (which commits), and the
//! output topic is drained after each batch. Values are passed through as bytes (the count
//! does not read them), so this measures the engine, the store and the cache, not JSON.
//!
//! Run: `cargo bench -p streams-core --no-default-features --bench engine_count`; `RIDES=100000` for a quick check.

mod common;

use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use streams_core::{
    BytesSerde, Consumed, Materialized, Produced, StreamsBuilder, StreamsConfig, StringSerde,
    TopologyTestDriver,
};

const BATCH: usize = 10_000;

fn driver(cache: bool, in_memory: bool, dir: &std::path::Path) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let m = Materialized::named("ride-counts");
    let m = if in_memory { m.in_memory() } else { m };
    builder
        .stream("rides", Consumed::with(StringSerde, BytesSerde))
        .group_by_key()
        .count(m)
        .to_stream()
        .to("counts", Produced::new());
    let config = StreamsConfig::new("bench-count")
        .with("state.dir", dir.to_string_lossy().as_ref())
        .with(
            "statestore.cache.max.bytes",
            if cache { "10485760" } else { "0" },
        );
    TopologyTestDriver::new(builder.build().expect("topology"), config).expect("driver")
}

fn engine_count(c: &mut Criterion) {
    let n: usize = std::env::var("RIDES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rides = common::generate(n);
    let mut group = c.benchmark_group("engine_count");
    group
        .throughput(Throughput::Elements(n as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    for (name, cache, in_memory) in [
        ("rocksdb_cache_on", true, false),
        ("rocksdb_cache_off", false, false),
        ("memory_cache_on", true, true),
    ] {
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            &(cache, in_memory),
            |b, &(cache, in_memory)| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        let dir = std::env::temp_dir()
                            .join(format!("bench-count-{}-{name}-{i}", std::process::id()));
                        let d = driver(cache, in_memory, &dir);
                        let start = Instant::now();
                        let read = common::run_batched(&d, "counts", &rides, BATCH);
                        total += start.elapsed();
                        assert!(read > 0 && read <= n, "results read back: {read}");
                        drop(d);
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    total
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, engine_count);
criterion_main!(benches);
