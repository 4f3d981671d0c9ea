//! Windowed count throughput: 1,000,000 taxi rides keyed by `PULocationID`, counted in
//! 1-minute tumbling event-time windows (`windowed_by(TimeWindows::of_size_with_no_grace(60 s))
//! .count()`) into a RocksDB window store with changelog and the 10 MiB record cache, results
//! written to an output topic. Pickup times advance about one second per ride, so about 11.5 days
//! of windows pass through the store and old windows are expired as stream time moves on.
//!
//! * `tumbling_1min_cache_on` / `tumbling_1min_cache_off` (every update emitted).
//! * Final results only, two ways: `tumbling_1min_suppress_final` (the cached count followed
//!   by `suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))`) and
//!   `tumbling_1min_emit_final` (`emit_strategy(EmitStrategy::on_window_close())`: no cache, no
//!   suppression buffer, closed windows read back from the store). Both emit the same records.
//!
//! Same feeding as `engine_count`: 10,000 records per `process_queued` (one commit), output
//! drained after each batch, values passed through as bytes.
//!
//! Run: `cargo bench -p streams-core --no-default-features --bench engine_window`; `RIDES=100000` for a quick check.

mod common;

use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use streams_core::{
    BufferConfig, BytesSerde, Consumed, EmitStrategy, I64Serde, Materialized, Nullable, Produced,
    StreamsBuilder, StreamsConfig, StringSerde, Suppressed, TimeWindowedSerde, TimeWindows,
    TopologyTestDriver,
};

const BATCH: usize = 10_000;

/// What the windowed count emits.
#[derive(Clone, Copy)]
enum Emit {
    /// Every update (through the cache when it is on).
    Updates,
    /// Final results through a suppression buffer after the cached count.
    Suppress,
    /// Final results with `EmitStrategy::on_window_close()`.
    OnWindowClose,
}

fn driver(cache: bool, emit: Emit, dir: &std::path::Path) -> TopologyTestDriver {
    let windows = TimeWindows::of_size_with_no_grace(Duration::from_secs(60)).expect("windows");
    let builder = StreamsBuilder::new();
    let windowed = builder
        .stream("rides", Consumed::with(StringSerde, BytesSerde))
        .group_by_key()
        .windowed_by(windows);
    let counts = match emit {
        Emit::Updates => windowed.count(Materialized::named("rides-per-minute")),
        Emit::Suppress => windowed
            .count(Materialized::named("rides-per-minute"))
            .suppress(Suppressed::until_window_closes(BufferConfig::unbounded())),
        Emit::OnWindowClose => windowed
            .emit_strategy(EmitStrategy::on_window_close())
            .count(Materialized::named("rides-per-minute")),
    };
    counts.to_stream().to(
        "counts",
        Produced::with(
            TimeWindowedSerde::for_windows(StringSerde, &windows),
            Nullable(I64Serde),
        ),
    );
    let config = StreamsConfig::new("bench-window")
        .with("state.dir", dir.to_string_lossy().as_ref())
        .with(
            "statestore.cache.max.bytes",
            if cache { "10485760" } else { "0" },
        );
    TopologyTestDriver::new(builder.build().expect("topology"), config).expect("driver")
}

fn engine_window(c: &mut Criterion) {
    let n: usize = std::env::var("RIDES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rides = common::generate(n);
    let mut group = c.benchmark_group("engine_window");
    group
        .throughput(Throughput::Elements(n as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    for (name, cache, emit) in [
        ("tumbling_1min_cache_on", true, Emit::Updates),
        ("tumbling_1min_cache_off", false, Emit::Updates),
        ("tumbling_1min_suppress_final", true, Emit::Suppress),
        ("tumbling_1min_emit_final", true, Emit::OnWindowClose),
    ] {
        group.bench_with_input(BenchmarkId::from_parameter(name), &cache, |b, &cache| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let dir = std::env::temp_dir()
                        .join(format!("bench-window-{}-{name}-{i}", std::process::id()));
                    let d = driver(cache, emit, &dir);
                    let start = Instant::now();
                    let read = common::run_batched(&d, "counts", &rides, BATCH);
                    total += start.elapsed();
                    assert!(read > 0 && read <= n, "results read back: {read}");
                    drop(d);
                    let _ = std::fs::remove_dir_all(&dir);
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, engine_window);
criterion_main!(benches);
