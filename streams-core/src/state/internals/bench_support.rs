//! Entry points for the benchmarks in `benches/` (the store internals are crate-private). Not
//! part of the API: hidden, unstable.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Result, StreamsError};
use crate::state::internals::bytes_store::{BatchOp, BytesStore};
use crate::state::internals::memory::MemoryStore;
use crate::state::internals::rocks::{RocksShared, RocksStore, DEFAULT_TOTAL_MEMORY_BYTES};

/// One changelog record: key and value bytes.
type ChangelogRecord = (Vec<u8>, [u8; 16]);

/// A changelog of `entries` records as restoration reads it from a (compacted) changelog
/// topic: distinct keys in a scattered order, each a decimal id of 4 to 10 bytes (like a
/// location id); values in the timestamped key-value format, an 8-byte big-endian timestamp
/// followed by an 8-byte big-endian count.
fn changelog(entries: usize) -> Vec<ChangelogRecord> {
    let n = entries as u64;
    // i -> i * step mod n is a permutation of 0..n when gcd(step, n) == 1.
    let mut step: u64 = 0x9E37_79B1;
    while n > 1 && gcd(step, n) != 1 {
        step += 2;
    }
    (0..n)
        .map(|i| {
            let id = 1_000 + (i * step) % n.max(1);
            let mut value = [0u8; 16];
            let timestamp: i64 = 1_700_000_000_000 + i as i64;
            value[..8].copy_from_slice(&timestamp.to_be_bytes());
            value[8..].copy_from_slice(&(((i % 997) + 1) as i64).to_be_bytes());
            (id.to_string().into_bytes(), value)
        })
        .collect()
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Applies the changelog in `batch`-sized `write_batch` calls and flushes, as restoration does.
fn restore(store: &mut dyn BytesStore, records: &[ChangelogRecord], batch: usize) -> Result<()> {
    let mut ops: Vec<BatchOp<'_>> = Vec::with_capacity(batch.min(records.len()));
    for chunk in records.chunks(batch) {
        ops.clear();
        ops.extend(chunk.iter().map(|(k, v)| (k.as_slice(), Some(&v[..]))));
        store.write_batch(&ops)?;
    }
    store.flush()
}

/// The last record must be readable after the restore.
fn check(store: &dyn BytesStore, records: &[ChangelogRecord]) -> Result<()> {
    if let Some((k, v)) = records.last() {
        if store.get(k)?.as_deref() != Some(&v[..]) {
            return Err(StreamsError::Internal(
                "benchmark restore lost the last record".into(),
            ));
        }
    }
    Ok(())
}

fn check_batch(batch: usize) -> Result<()> {
    if batch == 0 {
        return Err(StreamsError::Internal(
            "benchmark restore batch size must be > 0".into(),
        ));
    }
    Ok(())
}

/// Restores a changelog of `entries` records into a new RocksDB store in `dir` (which should not
/// exist yet; the caller removes it), `batch` records per write batch, with the default shared
/// memory bound. Times opening the store, every `write_batch` and the final flush; building
/// the changelog and closing the store are not timed.
#[doc(hidden)]
pub fn bench_restore_rocks(entries: usize, batch: usize, dir: &Path) -> Result<Duration> {
    check_batch(batch)?;
    let records = changelog(entries);
    let shared = RocksShared::new(DEFAULT_TOTAL_MEMORY_BYTES)?;
    let start = Instant::now();
    let mut store = RocksStore::open("bench-restore", dir, &shared)?;
    restore(&mut store, &records, batch)?;
    let elapsed = start.elapsed();
    check(&store, &records)?;
    drop(store); // waits for background compactions, outside the timing
    Ok(elapsed)
}

/// [`bench_restore_rocks`] into an in-memory store.
#[doc(hidden)]
pub fn bench_restore_memory(entries: usize, batch: usize) -> Result<Duration> {
    check_batch(batch)?;
    let records = changelog(entries);
    let start = Instant::now();
    let mut store = MemoryStore::default();
    restore(&mut store, &records, batch)?;
    let elapsed = start.elapsed();
    check(&store, &records)?;
    drop(store);
    Ok(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_keys_are_distinct_and_short() {
        let records = changelog(10_000);
        let keys: std::collections::BTreeSet<&[u8]> =
            records.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys.len(), 10_000);
        assert!(records.iter().all(|(k, _)| (4..=10).contains(&k.len())));
        assert!(changelog(0).is_empty());
        assert_eq!(changelog(1).len(), 1);
    }

    #[test]
    fn restores_run() {
        let dir = std::env::temp_dir().join(format!(
            "streams-core-bench-support-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        bench_restore_rocks(20_000, 1_000, &dir).unwrap();
        crate::state::internals::rocks::destroy(&dir).unwrap();
        bench_restore_memory(20_000, 1_000).unwrap();
        assert!(bench_restore_memory(10, 0).is_err());
    }
}
