//! Restore rate of a changelog into a store, as state restoration applies it: 1,000,000
//! changelog records (distinct decimal keys of 4–7 bytes in scattered order; values an 8-byte
//! timestamp + an 8-byte count) applied with `write_batch` in batches of 1k, 10k and 50k
//! records, then one flush.
//!
//! * `rocksdb/<batch>`: into a new `RocksStore` (shared 64 MiB memory bound, WAL off); timed
//!   from opening the store to the end of the final flush.
//! * `memory/<batch>`: into a `MemoryStore`.
//!
//! Criterion's `thrpt` is the restore rate in records/s. Goal: ≥ 1M records/s into RocksDB.
//!
//! Run: `cargo bench -p streams-core --no-default-features --bench store_restore`. `ENTRIES=100000` restores fewer
//! records (for a quick check).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use streams_core::__bench::{bench_restore_memory, bench_restore_rocks};

const BATCH_SIZES: [usize; 3] = [1_000, 10_000, 50_000];

/// A directory that does not exist yet, unique per call.
fn fresh_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "streams-core-bench-restore-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn store_restore(c: &mut Criterion) {
    let n: usize = std::env::var("ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);

    let mut group = c.benchmark_group("store_restore");
    group
        .throughput(Throughput::Elements(n as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15));

    for batch in BATCH_SIZES {
        group.bench_with_input(BenchmarkId::new("rocksdb", batch), &batch, |b, &batch| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = fresh_dir();
                    total += bench_restore_rocks(n, batch, &dir).expect("restore into RocksDB");
                    std::fs::remove_dir_all(&dir).expect("remove the benchmark store");
                }
                total
            })
        });
    }
    for batch in BATCH_SIZES {
        group.bench_with_input(BenchmarkId::new("memory", batch), &batch, |b, &batch| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| bench_restore_memory(n, batch).expect("restore into memory"))
                    .sum()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, store_restore);
criterion_main!(benches);
