//! Listening to state restoration.

use std::sync::Arc;
use std::time::Duration;

/// Notified as state stores are restored from their changelogs (Kafka Streams'
/// `StateRestoreListener`). Called on the stream thread that restores, so keep it quick.
pub trait StateRestoreListener: Send + Sync {
    /// Restoration of `store` from `changelog` partition `partition` starts at `start_offset`.
    fn on_restore_start(
        &self,
        _changelog: &str,
        _partition: i32,
        _store: &str,
        _start_offset: i64,
    ) {
    }
    /// A batch of `records` was applied; the next offset to read is `next_offset`.
    fn on_batch_restored(
        &self,
        _changelog: &str,
        _partition: i32,
        _store: &str,
        _next_offset: i64,
        _records: u64,
    ) {
    }
    /// The store caught up with the end of its changelog partition: `total` records applied in
    /// `duration`.
    fn on_restore_end(
        &self,
        _changelog: &str,
        _partition: i32,
        _store: &str,
        _total: u64,
        _duration: Duration,
    ) {
    }
}

/// A shared listener listens: keep an `Arc` to read what it gathered.
impl<T: StateRestoreListener + ?Sized> StateRestoreListener for Arc<T> {
    fn on_restore_start(&self, changelog: &str, partition: i32, store: &str, start_offset: i64) {
        (**self).on_restore_start(changelog, partition, store, start_offset)
    }
    fn on_batch_restored(
        &self,
        changelog: &str,
        partition: i32,
        store: &str,
        next_offset: i64,
        records: u64,
    ) {
        (**self).on_batch_restored(changelog, partition, store, next_offset, records)
    }
    fn on_restore_end(
        &self,
        changelog: &str,
        partition: i32,
        store: &str,
        total: u64,
        duration: Duration,
    ) {
        (**self).on_restore_end(changelog, partition, store, total, duration)
    }
}
