//! Versioned key-value stores (Kafka's KIP-889): every key keeps its history of values, each
//! valid from its record's timestamp until the timestamp of the key's next version, so the
//! store answers "what was the value of this key at time `t`?" for any `t` within the history
//! retention.
//!
//! Semantics follow Kafka's `RocksDBVersionedStore`: a put older than the history retention
//! (relative to the largest timestamp put so far, the store's observed stream time) is not put;
//! out-of-order puts within the retention are inserted into the history; deletions are versions
//! too (tombstones); a lookup as of a time older than the retention answers only from the
//! latest version.
//!
//! Layout in one byte backend (RocksDB or memory), instead of Kafka's segments:
//!
//! ```text
//! 0x00 key                               -> latest version: timestamp, flag, value
//! 0x01 len(key) key sortable(valid_to)   -> older version: valid_from, flag, value
//! 0x02 sortable(time) kind len(key) key  -> expiry index: an older version ending at `time`
//!                                           (kind 0), or a latest tombstone put at `time` (1)
//! 0x03                                   -> the observed stream time
//! ```
//!
//! Older versions are keyed by their `valid_to`, so a lookup as of `t` is one seek (the first
//! version of the key ending after `t`), and an out-of-order put splits one version. The expiry
//! index is ordered by time: each flush removes exactly the versions that ended at or before
//! `observed - retention`, bounded work. Writes are buffered and written in one batch per
//! flush, together with the changelog records (key, value, the put's timestamp); restoration
//! replays the changelog as puts.

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::collector::OutRecord;
use crate::error::{Result, StreamsError};
use crate::record::Headers;
use crate::serdes::Serde;
use crate::state::internals::bytes_store::{BatchOp, BytesStore, StoreType};
use crate::state::store::{
    ChangelogRecord, SharedCollector, StateStore, StoreBuilder, StoreContext,
};

/// Returned by [`VersionedKeyValueStore::put`] when the put record is the key's latest version
/// (it has no `valid_to`): Kafka's `PUT_RETURN_CODE_VALID_TO_UNDEFINED`.
pub const PUT_RETURN_CODE_VALID_TO_UNDEFINED: i64 = -1;
/// Returned by [`VersionedKeyValueStore::put`] when the record was not put because it is older
/// than the history retention: Kafka's `PUT_RETURN_CODE_NOT_PUT`.
pub const PUT_RETURN_CODE_NOT_PUT: i64 = i64::MIN;

const LATEST: u8 = 0;
const HISTORY: u8 = 1;
const EXPIRY: u8 = 2;
const META: u8 = 3;
const KIND_HISTORY: u8 = 0;
const KIND_TOMBSTONE: u8 = 1;
/// Buffered writes after which a put writes the batch (as an uncached key-value store does).
const WRITE_BUFFER_ENTRIES: usize = 10_000;
/// Kafka's `windowstore.changelog.additional.retention.ms` default, added to the changelog's
/// compaction lag.
const CHANGELOG_ADDITIONAL_RETENTION_MS: i64 = 86_400_000;

/// One version of a key's value: the value, the timestamp it is valid from, and the timestamp
/// of the key's next version (`None` for the latest version), as Kafka's `VersionedRecord`.
///
/// ```
/// use streams_core::VersionedRecord;
/// // "blue" was the value from 10 until the key's next version at 25.
/// let r = VersionedRecord::new("blue", 10, Some(25));
/// assert_eq!((r.value, r.timestamp, r.valid_to), ("blue", 10, Some(25)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedRecord<V> {
    /// The value.
    pub value: V,
    /// The timestamp of the record that put it: the version is valid from here (inclusive).
    pub timestamp: i64,
    /// The timestamp of the key's next version (exclusive end of validity); `None` while this
    /// is the latest version.
    pub valid_to: Option<i64>,
}

impl<V> VersionedRecord<V> {
    /// A version valid from `timestamp` until `valid_to`.
    pub fn new(value: V, timestamp: i64, valid_to: Option<i64>) -> Self {
        VersionedRecord {
            value,
            timestamp,
            valid_to,
        }
    }
}

/// What [`crate::Stores::persistent_versioned_key_value_store`] returns: a name and a history
/// retention, to pass to [`crate::Materialized::versioned`] (a versioned table) or to
/// [`crate::Stores::versioned_key_value_store_builder`] with serdes (a store for the Processor
/// API). Kafka's `VersionedBytesStoreSupplier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedStoreSupplier {
    pub(crate) name: String,
    pub(crate) history_retention_ms: i64,
}

impl VersionedStoreSupplier {
    pub(crate) fn new(name: &str, history_retention: Duration) -> Self {
        VersionedStoreSupplier {
            name: name.to_string(),
            history_retention_ms: i64::try_from(history_retention.as_millis()).unwrap_or(i64::MAX),
        }
    }
    /// The store name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// How long old versions stay queryable, in milliseconds.
    pub fn history_retention_ms(&self) -> i64 {
        self.history_retention_ms
    }
}

/// Builds [`VersionedKeyValueStore`]s, one per task. From
/// [`crate::Stores::versioned_key_value_store_builder`].
///
/// ```
/// use std::time::Duration;
/// use streams_core::*;
/// let builder = Stores::versioned_key_value_store_builder(
///     Stores::persistent_versioned_key_value_store("scratch", Duration::from_secs(60)),
///     StringSerde,
///     I64Serde,
/// )
/// .store_type(StoreType::InMemory)
/// .with_logging_disabled();
/// assert_eq!(builder.history_retention_ms(), 60_000);
/// assert!(!StoreBuilder::logged(&builder));
/// ```
pub struct VersionedKeyValueStoreBuilder<K, V> {
    name: String,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    retention_ms: i64,
    store_type: StoreType,
    logging: bool,
}

impl<K: 'static, V: 'static> VersionedKeyValueStoreBuilder<K, V> {
    pub(crate) fn new(
        supplier: VersionedStoreSupplier,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        VersionedKeyValueStoreBuilder {
            name: supplier.name,
            key_serde,
            value_serde,
            retention_ms: supplier.history_retention_ms,
            store_type: StoreType::RocksDb,
            logging: true,
        }
    }
    /// RocksDB (default) or in memory (Kafka has only the RocksDB one).
    pub fn store_type(mut self, store_type: StoreType) -> Self {
        self.store_type = store_type;
        self
    }
    /// No changelog: the store is not restored after a crash or a move.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }
    /// The history retention in milliseconds.
    pub fn history_retention_ms(&self) -> i64 {
        self.retention_ms
    }

    pub(crate) fn build_store(
        &self,
        ctx: &StoreContext<'_>,
    ) -> Result<VersionedKeyValueStore<K, V>> {
        let dir = ctx.task_dir.join(&self.name);
        let backend = ctx.backends.open(self.store_type, &self.name, &dir)?;
        let observed = match backend.get(&[META])? {
            Some(b) => read_i64(&b).ok_or_else(|| {
                StreamsError::store(
                    self.name.clone(),
                    "the stored stream time is corrupt: delete the task's state directory \
                         to restore the store from its changelog",
                )
            })?,
            None => i64::MIN,
        };
        Ok(VersionedKeyValueStore {
            name: Rc::from(self.name.as_str()),
            inner: Rc::new(RefCell::new(Inner {
                name: self.name.clone(),
                key_serde: self.key_serde.clone(),
                value_serde: self.value_serde.clone(),
                retention: self.retention_ms,
                backend: Some(backend),
                pending: BTreeMap::new(),
                log_arena: Vec::new(),
                log: Vec::new(),
                changelog: self.logging.then(|| Changelog {
                    topic: ctx.changelog_topic(&self.name),
                    partition: ctx.task_id.partition,
                    collector: ctx.collector.clone(),
                }),
                observed,
                flushed_observed: observed,
                expired_through: i64::MIN,
            })),
        })
    }
}

impl<K: 'static, V: 'static> StoreBuilder for VersionedKeyValueStoreBuilder<K, V> {
    fn name(&self) -> &str {
        &self.name
    }
    fn logged(&self) -> bool {
        self.logging
    }
    fn persistent(&self) -> bool {
        self.store_type == StoreType::RocksDb
    }
    fn build(&self, ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>> {
        Ok(Box::new(self.build_store(ctx)?))
    }
    fn versioned(&self) -> bool {
        true
    }
    fn changelog_topic_config(&self) -> Vec<(String, String)> {
        // Kafka's versioned changelog: compacted, but not before the history retention (plus a
        // day) has passed, so a restore sees every version still in the history.
        vec![
            ("cleanup.policy".into(), "compact".into()),
            (
                "min.compaction.lag.ms".into(),
                self.retention_ms
                    .saturating_add(CHANGELOG_ADDITIONAL_RETENTION_MS)
                    .to_string(),
            ),
        ]
    }
}

struct Changelog {
    topic: String,
    partition: i32,
    collector: SharedCollector,
}

/// A changelog record waiting for the flush: key and value spans in the arena, timestamp.
type LogEntry = ((usize, usize), Option<(usize, usize)>, i64);

struct Inner<K, V> {
    name: String,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    retention: i64,
    /// `None` once closed.
    backend: Option<Box<dyn BytesStore>>,
    /// Writes since the last flush (`None`: delete), shadowing the backend.
    pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    log_arena: Vec<u8>,
    log: Vec<LogEntry>,
    changelog: Option<Changelog>,
    /// The largest timestamp put (Kafka's `observedStreamTime`); `i64::MIN` before the first.
    observed: i64,
    flushed_observed: i64,
    /// Expiry has removed everything that ended at or before this.
    expired_through: i64,
}

/// A key's version as stored: the timestamp (latest: its own; older: valid from) and the
/// value (`None`: a tombstone).
type Version<'a> = (i64, Option<&'a [u8]>);

/// A version found by a lookup: value bytes, valid from, valid to (`None`: latest).
type Found = (Vec<u8>, i64, Option<i64>);

fn read_i64(b: &[u8]) -> Option<i64> {
    let a: [u8; 8] = b.get(..8)?.try_into().ok()?;
    Some(i64::from_be_bytes(a))
}

/// Big-endian with the sign bit flipped: byte order is numeric order.
fn sortable(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn unsortable(b: &[u8]) -> Option<i64> {
    let a: [u8; 8] = b.try_into().ok()?;
    Some((u64::from_be_bytes(a) ^ (1 << 63)) as i64)
}

fn latest_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(LATEST);
    k.extend_from_slice(key);
    k
}

fn len_prefixed(out: &mut Vec<u8>, key: &[u8]) {
    // Keys longer than 4 GiB cannot be serialized by any serde in practice; saturating keeps
    // the layout well-formed.
    let len = u32::try_from(key.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(key);
}

fn history_prefix(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + 4 + key.len() + 9);
    k.push(HISTORY);
    len_prefixed(&mut k, key);
    k
}

fn history_key(key: &[u8], valid_to: i64) -> Vec<u8> {
    let mut k = history_prefix(key);
    k.extend_from_slice(&sortable(valid_to));
    k
}

/// The history entries of `key` ending after `after`: `[lo, hi)`.
fn history_after(key: &[u8], after: i64) -> Option<(Vec<u8>, Vec<u8>)> {
    let from = after.checked_add(1)?;
    let lo = history_key(key, from);
    let mut hi = history_prefix(key);
    hi.extend_from_slice(&[0xff; 9]);
    Some((lo, hi))
}

fn expiry_key(time: i64, kind: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + 8 + 1 + 4 + key.len());
    k.push(EXPIRY);
    k.extend_from_slice(&sortable(time));
    k.push(kind);
    len_prefixed(&mut k, key);
    k
}

fn encode_version(time: i64, value: Option<&[u8]>) -> Vec<u8> {
    let mut v = Vec::with_capacity(9 + value.map_or(0, <[u8]>::len));
    v.extend_from_slice(&time.to_be_bytes());
    match value {
        Some(x) => {
            v.push(1);
            v.extend_from_slice(x);
        }
        None => v.push(0),
    }
    v
}

impl<K: 'static, V: 'static> Inner<K, V> {
    fn err(&self, reason: impl std::fmt::Display) -> StreamsError {
        StreamsError::store(self.name.clone(), reason.to_string())
    }

    fn backend(&self) -> Result<&dyn BytesStore> {
        self.backend.as_deref().ok_or_else(|| self.closed())
    }

    fn closed(&self) -> StreamsError {
        self.err(
            "the store is closed (its task was closed, restarted or moved); get a new handle \
             from the context or the driver",
        )
    }

    fn decode<'a>(&self, bytes: &'a [u8]) -> Result<Version<'a>> {
        match (read_i64(bytes), bytes.get(8)) {
            (Some(t), Some(0)) => Ok((t, None)),
            (Some(t), Some(1)) => Ok((t, Some(&bytes[9..]))),
            _ => Err(self.err(
                "a stored version is corrupt: delete the task's state directory to restore the \
                 store from its changelog",
            )),
        }
    }

    fn ser_key(&self, key: &K) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.key_serde
            .serialize(key, &mut out)
            .map_err(|e| self.err(format!("cannot serialize a key: {e}")))?;
        Ok(out)
    }

    fn ser_value(&self, value: &V) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.value_serde
            .serialize(value, &mut out)
            .map_err(|e| self.err(format!("cannot serialize a value: {e}")))?;
        Ok(out)
    }

    fn de_value(&self, bytes: &[u8]) -> Result<V> {
        self.value_serde
            .deserialize(bytes)
            .map_err(|e| self.err(format!("cannot deserialize a stored value: {e}")))
    }

    /// The oldest time lookups answer from the history: `observed - retention`.
    fn history_from(&self) -> i64 {
        self.observed.saturating_sub(self.retention)
    }

    fn raw_get(&self, k: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.pending.get(k) {
            Some(v) => Ok(v.clone()),
            None => self.backend()?.get(k),
        }
    }

    /// The first live entry with `lo <= key < hi`, pending writes shadowing the backend.
    fn raw_first(&self, lo: &[u8], hi: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut pending = self
            .pending
            .range::<[u8], _>((Bound::Included(lo), Bound::Excluded(hi)))
            .peekable();
        let mut found = None;
        self.backend()?.scan(Some(lo), Some(hi), &mut |k, v| {
            while let Some((pk, pv)) = pending.next_if(|(pk, _)| pk.as_slice() <= k) {
                if let Some(pv) = pv {
                    found = Some((pk.clone(), pv.clone()));
                    return Ok(false);
                }
                if pk.as_slice() == k {
                    // Deleted since the last flush.
                    return Ok(true);
                }
            }
            found = Some((k.to_vec(), v.to_vec()));
            Ok(false)
        })?;
        if found.is_none() {
            found = pending.find_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())));
        }
        Ok(found)
    }

    fn raw_put(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.pending.insert(k, Some(v));
    }

    /// Puts a version, assuming the caller checked it is within the grace period (Kafka's
    /// `doPut`). Returns its `valid_to` or [`PUT_RETURN_CODE_VALID_TO_UNDEFINED`].
    fn do_put(&mut self, key: &[u8], value: Option<&[u8]>, ts: i64) -> Result<i64> {
        let lk = latest_key(key);
        let latest_bytes = self.raw_get(&lk)?;
        let latest = match &latest_bytes {
            Some(b) => Some(self.decode(b)?),
            None => None,
        };
        match latest {
            Some((latest_ts, _)) if ts < latest_ts => {
                // Older than the latest version: goes into the history.
                let found = match history_after(key, ts) {
                    Some((lo, hi)) => self.raw_first(&lo, &hi)?,
                    None => None,
                };
                let Some((hk, hv)) = found else {
                    // Nothing older: valid until the latest version.
                    self.raw_put(history_key(key, latest_ts), encode_version(ts, value));
                    self.raw_put(expiry_key(latest_ts, KIND_HISTORY, key), Vec::new());
                    return Ok(latest_ts);
                };
                let valid_to = hk
                    .len()
                    .checked_sub(8)
                    .and_then(|at| unsortable(&hk[at..]))
                    .ok_or_else(|| self.err("a stored history key is corrupt"))?;
                let (from, old) = self.decode(&hv)?;
                if from == ts {
                    // Replaces the version put at the same time.
                    self.raw_put(hk, encode_version(ts, value));
                    Ok(valid_to)
                } else if from < ts {
                    // Splits the version that was valid at `ts`: it now ends at `ts`.
                    let moved = encode_version(from, old);
                    self.raw_put(history_key(key, ts), moved);
                    self.raw_put(expiry_key(ts, KIND_HISTORY, key), Vec::new());
                    self.raw_put(hk, encode_version(ts, value));
                    Ok(valid_to)
                } else {
                    // Before the oldest version kept: valid until it starts.
                    self.raw_put(history_key(key, from), encode_version(ts, value));
                    self.raw_put(expiry_key(from, KIND_HISTORY, key), Vec::new());
                    Ok(from)
                }
            }
            latest => {
                if let Some((latest_ts, old)) = latest {
                    if ts > latest_ts {
                        // The latest version moves into the history, ending at `ts`.
                        let moved = encode_version(latest_ts, old);
                        self.raw_put(history_key(key, ts), moved);
                        self.raw_put(expiry_key(ts, KIND_HISTORY, key), Vec::new());
                    }
                }
                if value.is_none() {
                    self.raw_put(expiry_key(ts, KIND_TOMBSTONE, key), Vec::new());
                }
                self.raw_put(lk, encode_version(ts, value));
                Ok(PUT_RETURN_CODE_VALID_TO_UNDEFINED)
            }
        }
    }

    /// The version of `key` valid at `as_of`: value bytes, valid from, valid to.
    fn get_as_of(&self, key: &[u8], as_of: i64) -> Result<Option<Found>> {
        let latest_bytes = self.raw_get(&latest_key(key))?;
        if let Some(b) = &latest_bytes {
            let (ts, value) = self.decode(b)?;
            if ts <= as_of {
                return Ok(value.map(|v| (v.to_vec(), ts, None)));
            }
        }
        if as_of < self.history_from() {
            // Past the history retention only the latest version answers (it never expires).
            return Ok(None);
        }
        let Some((lo, hi)) = history_after(key, as_of) else {
            return Ok(None);
        };
        let Some((hk, hv)) = self.raw_first(&lo, &hi)? else {
            return Ok(None);
        };
        let valid_to = hk
            .len()
            .checked_sub(8)
            .and_then(|at| unsortable(&hk[at..]))
            .ok_or_else(|| self.err("a stored history key is corrupt"))?;
        let (from, value) = self.decode(&hv)?;
        if from > as_of {
            return Ok(None);
        }
        Ok(value.map(|v| (v.to_vec(), from, Some(valid_to))))
    }

    /// Queues a changelog record (sent at the next flush, in put order).
    fn log(&mut self, key: &[u8], value: Option<&[u8]>, ts: i64) {
        if self.changelog.is_none() {
            return;
        }
        let k0 = self.log_arena.len();
        self.log_arena.extend_from_slice(key);
        let k1 = self.log_arena.len();
        let v = value.map(|v| {
            self.log_arena.extend_from_slice(v);
            (k1, self.log_arena.len())
        });
        self.log.push(((k0, k1), v, ts));
    }

    /// Writes the buffered versions in one batch, then the changelog records, then removes
    /// what fell out of the history retention.
    fn flush(&mut self, send_log: bool) -> Result<()> {
        if self.backend.is_none() {
            return Ok(());
        }
        if self.observed != self.flushed_observed {
            self.pending
                .insert(vec![META], Some(self.observed.to_be_bytes().to_vec()));
        }
        if !self.pending.is_empty() {
            let ops: Vec<BatchOp<'_>> = self
                .pending
                .iter()
                .map(|(k, v)| (k.as_slice(), v.as_deref()))
                .collect();
            let backend = self
                .backend
                .as_mut()
                .ok_or_else(|| StreamsError::store(self.name.clone(), "closed"))?;
            backend.write_batch(&ops)?;
            drop(ops);
            self.pending.clear();
            self.flushed_observed = self.observed;
        }
        if send_log {
            if let Some(log) = &self.changelog {
                let mut collector = log.collector.borrow_mut();
                let headers = Headers::new();
                for ((k0, k1), v, ts) in &self.log {
                    collector.send(OutRecord {
                        topic: &log.topic,
                        partition: Some(log.partition),
                        key: Some(&self.log_arena[*k0..*k1]),
                        value: v.map(|(a, b)| &self.log_arena[a..b]),
                        timestamp: *ts,
                        headers: &headers,
                    })?;
                }
            }
        }
        self.log.clear();
        self.log_arena.clear();
        self.expire()
    }

    /// Removes the older versions that ended at or before `observed - retention` and the latest
    /// tombstones put by then: no lookup within the retention can reach them. Reads only the
    /// expiry index entries due, in time order.
    fn expire(&mut self) -> Result<()> {
        if self.observed == i64::MIN {
            return Ok(());
        }
        let cutoff = self.history_from();
        if cutoff <= self.expired_through {
            return Ok(());
        }
        // Entries up to the previous cutoff are gone (nothing put since can end before it):
        // start there, not at RocksDB's tombstones of what earlier passes deleted.
        let mut lo = vec![EXPIRY];
        if self.expired_through != i64::MIN {
            lo.extend_from_slice(&sortable(self.expired_through));
        }
        let hi = match cutoff.checked_add(1) {
            Some(t) => {
                let mut h = vec![EXPIRY];
                h.extend_from_slice(&sortable(t));
                h
            }
            None => vec![META],
        };
        let mut due: Vec<Vec<u8>> = Vec::new();
        self.backend()?.scan(Some(&lo), Some(&hi), &mut |k, _| {
            due.push(k.to_vec());
            Ok(true)
        })?;
        let mut deletes: Vec<Vec<u8>> = Vec::with_capacity(due.len() * 2);
        for e in due {
            let parsed = (|| {
                let time = unsortable(e.get(1..9)?)?;
                let kind = *e.get(9)?;
                let len = u32::from_be_bytes(e.get(10..14)?.try_into().ok()?) as usize;
                let key = e.get(14..14usize.checked_add(len)?)?;
                Some((time, kind, key))
            })();
            let Some((time, kind, key)) = parsed else {
                return Err(self.err("a stored expiry index key is corrupt"));
            };
            if kind == KIND_HISTORY {
                deletes.push(history_key(key, time));
            } else {
                let lk = latest_key(key);
                if let Some(b) = self.backend()?.get(&lk)? {
                    if self.decode(&b)? == (time, None) {
                        deletes.push(lk);
                    }
                }
            }
            deletes.push(e);
        }
        if !deletes.is_empty() {
            let ops: Vec<BatchOp<'_>> = deletes.iter().map(|k| (k.as_slice(), None)).collect();
            let backend = self
                .backend
                .as_mut()
                .ok_or_else(|| StreamsError::store(self.name.clone(), "closed"))?;
            backend.write_batch(&ops)?;
        }
        self.expired_through = cutoff;
        Ok(())
    }
}

/// A versioned key-value store handle (Kafka's `VersionedKeyValueStore`). Clones share the
/// task's store.
///
/// ```
/// use std::time::Duration;
/// use streams_core::*;
///
/// // A processor that keeps every price version for 10 minutes and answers "as of" lookups.
/// struct KeepPrices(Option<VersionedKeyValueStore<String, i64>>);
/// impl Processor<String, i64> for KeepPrices {
///     fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<()> {
///         self.0 = Some(ctx.get_state_store("price-history")?);
///         Ok(())
///     }
///     fn process(&mut self, r: Record<String, i64>, _: &mut ProcessorContext<'_, String, i64>) -> Result<()> {
///         if let Some(store) = &self.0 {
///             store.put(&r.key, Some(&r.value), r.timestamp)?;
///         }
///         Ok(())
///     }
/// }
///
/// let mut topology = Topology::new();
/// topology
///     .add_source("prices", Consumed::with(StringSerde, I64Serde), &["prices"])?
///     .add_processor("keep", || KeepPrices(None), &["prices"])?
///     .add_state_store(
///         Stores::versioned_key_value_store_builder(
///             Stores::persistent_versioned_key_value_store("price-history", Duration::from_secs(600)),
///             StringSerde,
///             I64Serde,
///         ),
///         &["keep"],
///     )?;
///
/// let driver = TopologyTestDriver::new(topology, StreamsConfig::new("prices-app"))?;
/// let input = driver.input_topic("prices", StringSerde, I64Serde);
/// input.pipe_input_at("apple".to_string(), 100, 1_000)?;
/// input.pipe_input_at("apple".to_string(), 120, 5_000)?;
/// input.pipe_input_at("apple".to_string(), 110, 3_000)?; // out of order: goes into the history
///
/// let store: VersionedKeyValueStore<String, i64> = driver.get_state_store("price-history")?;
/// let apple = "apple".to_string();
/// assert_eq!(store.get(&apple)?, Some(VersionedRecord::new(120, 5_000, None)));
/// assert_eq!(store.get_as_of(&apple, 4_000)?, Some(VersionedRecord::new(110, 3_000, Some(5_000))));
/// assert_eq!(store.get_as_of(&apple, 2_000)?, Some(VersionedRecord::new(100, 1_000, Some(3_000))));
/// assert_eq!(store.get_as_of(&apple, 999)?, None);
/// # Ok::<(), StreamsError>(())
/// ```
pub struct VersionedKeyValueStore<K, V> {
    name: Rc<str>,
    inner: Rc<RefCell<Inner<K, V>>>,
}

impl<K, V> Clone for VersionedKeyValueStore<K, V> {
    fn clone(&self) -> Self {
        VersionedKeyValueStore {
            name: self.name.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<K: 'static, V: 'static> VersionedKeyValueStore<K, V> {
    /// Puts a version of `key` valid from `timestamp`; `None` puts a tombstone (the key has no
    /// value from `timestamp` on). Returns the version's `valid_to` (the timestamp of the key's
    /// next version), [`PUT_RETURN_CODE_VALID_TO_UNDEFINED`] if it is the latest version, or
    /// [`PUT_RETURN_CODE_NOT_PUT`] if `timestamp` is older than the history retention allows
    /// (`observed stream time - history retention`), in which case nothing changes.
    pub fn put(&self, key: &K, value: Option<&V>, timestamp: i64) -> Result<i64> {
        let mut inner = self.inner.borrow_mut();
        let k = inner.ser_key(key)?;
        let v = match value {
            Some(v) => Some(inner.ser_value(v)?),
            None => None,
        };
        // Kafka's change-logging layer logs every put; restoration skips the expired ones.
        inner.log(&k, v.as_deref(), timestamp);
        if timestamp < inner.history_from() {
            tracing::debug!(store = %inner.name, timestamp, "skipping a put older than the history retention");
            return Ok(PUT_RETURN_CODE_NOT_PUT);
        }
        inner.observed = inner.observed.max(timestamp);
        let valid_to = inner.do_put(&k, v.as_deref(), timestamp)?;
        if inner.pending.len() >= WRITE_BUFFER_ENTRIES {
            inner.flush(true)?;
        }
        Ok(valid_to)
    }

    /// Deletes `key` as of `timestamp` (puts a tombstone) and returns the version that was
    /// valid at `timestamp`, if any. Older than the history retention: nothing is deleted and
    /// `None` is returned.
    pub fn delete(&self, key: &K, timestamp: i64) -> Result<Option<VersionedRecord<V>>> {
        let mut inner = self.inner.borrow_mut();
        let k = inner.ser_key(key)?;
        inner.log(&k, None, timestamp);
        if timestamp < inner.history_from() {
            tracing::debug!(store = %inner.name, timestamp, "skipping a delete older than the history retention");
            return Ok(None);
        }
        let existing = inner.get_as_of(&k, timestamp)?;
        inner.observed = inner.observed.max(timestamp);
        inner.do_put(&k, None, timestamp)?;
        if inner.pending.len() >= WRITE_BUFFER_ENTRIES {
            inner.flush(true)?;
        }
        match existing {
            Some((v, from, to)) => Ok(Some(VersionedRecord::new(inner.de_value(&v)?, from, to))),
            None => Ok(None),
        }
    }

    /// The latest version of `key` (`valid_to` is `None`), or `None` if the key has none or
    /// its latest version is a tombstone.
    pub fn get(&self, key: &K) -> Result<Option<VersionedRecord<V>>> {
        let inner = self.inner.borrow();
        let k = inner.ser_key(key)?;
        let Some(b) = inner.raw_get(&latest_key(&k))? else {
            return Ok(None);
        };
        match inner.decode(&b)? {
            (ts, Some(v)) => Ok(Some(VersionedRecord::new(inner.de_value(v)?, ts, None))),
            (_, None) => Ok(None),
        }
    }

    /// The version of `key` valid at `as_of` (put at or before it, and not replaced by then),
    /// or `None` (no version then, or a tombstone). Older than the history retention, only the
    /// latest version can answer, as in Kafka.
    pub fn get_as_of(&self, key: &K, as_of: i64) -> Result<Option<VersionedRecord<V>>> {
        let inner = self.inner.borrow();
        let k = inner.ser_key(key)?;
        match inner.get_as_of(&k, as_of)? {
            Some((v, from, to)) => Ok(Some(VersionedRecord::new(inner.de_value(&v)?, from, to))),
            None => Ok(None),
        }
    }

    /// The versions of `key` valid at some time in `[from, to]`, newest first, tombstones
    /// left out (Kafka's `MultiVersionedKeyQuery`). When `to` is older than the history
    /// retention, only the latest version can answer.
    pub fn get_versions(&self, key: &K, from: i64, to: i64) -> Result<Vec<VersionedRecord<V>>> {
        let inner = self.inner.borrow();
        let k = inner.ser_key(key)?;
        let mut out = Vec::new();
        if let Some(b) = inner.raw_get(&latest_key(&k))? {
            if let (ts, Some(v)) = inner.decode(&b)? {
                if ts <= to {
                    out.push(VersionedRecord::new(inner.de_value(v)?, ts, None));
                }
            }
        }
        let floor = inner.history_from();
        if to < floor {
            return Ok(out);
        }
        // Versions ending after `from` (and after the retention), oldest first.
        let Some((lo, hi)) = history_after(&k, from.max(floor)) else {
            return Ok(out);
        };
        let mut older = Vec::new();
        let mut lo = lo;
        while let Some((hk, hv)) = inner.raw_first(&lo, &hi)? {
            let valid_to = hk
                .len()
                .checked_sub(8)
                .and_then(|at| unsortable(&hk[at..]))
                .ok_or_else(|| inner.err("a stored history key is corrupt"))?;
            let (vf, value) = inner.decode(&hv)?;
            if vf > to {
                break;
            }
            if let Some(v) = value {
                older.push(VersionedRecord::new(inner.de_value(v)?, vf, Some(valid_to)));
            }
            lo = hk;
            lo.push(0);
        }
        out.extend(older.into_iter().rev());
        Ok(out)
    }

    /// How long old versions stay queryable, in milliseconds.
    pub fn history_retention_ms(&self) -> i64 {
        self.inner.borrow().retention
    }
}

impl<K: 'static, V: 'static> StateStore for VersionedKeyValueStore<K, V> {
    fn name(&self) -> &str {
        &self.name
    }
    fn persistent(&self) -> bool {
        self.inner
            .borrow()
            .backend
            .as_ref()
            .is_some_and(|b| b.persistent())
    }
    fn flush(&self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.flush(true)?;
        match inner.backend.as_mut() {
            Some(b) => b.flush(),
            None => Ok(()),
        }
    }
    fn close(&self) -> Result<()> {
        self.flush()?;
        let mut inner = self.inner.borrow_mut();
        inner.pending.clear();
        inner.backend = None;
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn restore(&self, records: &[ChangelogRecord<'_>]) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        if inner.backend.is_none() {
            return Err(inner.closed());
        }
        for r in records {
            // As in Kafka: a record older than the grace period when it was put was never
            // written; the rest are put again with their timestamps.
            if r.timestamp < inner.history_from() {
                continue;
            }
            inner.observed = inner.observed.max(r.timestamp);
            inner.do_put(r.key, r.value, r.timestamp)?;
        }
        inner.flush(false)
    }
    fn wipe(&self) -> Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.pending.clear();
        inner.log.clear();
        inner.log_arena.clear();
        let mut keys = Vec::new();
        inner.backend()?.scan(None, None, &mut |k, _| {
            keys.push(k.to_vec());
            Ok(true)
        })?;
        let ops: Vec<BatchOp<'_>> = keys.iter().map(|k| (k.as_slice(), None)).collect();
        if let Some(b) = inner.backend.as_mut() {
            b.write_batch(&ops)?;
        }
        drop(ops);
        inner.observed = i64::MIN;
        inner.flushed_observed = i64::MIN;
        inner.expired_through = i64::MIN;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::collector::RecordCollector;
    use crate::serdes::{I64Serde, StringSerde};
    use crate::state::cache::CacheBudget;
    use crate::state::internals::backends::Backends;
    use crate::task_id::TaskId;

    /// Counts the changelog records a store sends.
    struct Counting(Rc<Cell<usize>>);

    impl RecordCollector for Counting {
        fn send(&mut self, _record: OutRecord<'_>) -> Result<()> {
            self.0.set(self.0.get() + 1);
            Ok(())
        }
        fn partition_count(&mut self, _topic: &str) -> Result<i32> {
            Ok(1)
        }
    }

    fn store(retention_ms: u64) -> (VersionedKeyValueStore<String, i64>, Rc<Cell<usize>>) {
        let sent = Rc::new(Cell::new(0));
        let collector: SharedCollector = Rc::new(RefCell::new(Box::new(Counting(sent.clone()))));
        let ctx = StoreContext {
            application_id: "app",
            task_id: TaskId {
                subtopology: 0,
                partition: 0,
            },
            task_dir: std::path::Path::new("unused-in-memory"),
            budget: &Rc::new(CacheBudget::new(0)),
            collector: &collector,
            clock: &Rc::new(Cell::new(0)),
            backends: &Backends::new(4 << 20),
        };
        let builder = VersionedKeyValueStoreBuilder::new(
            VersionedStoreSupplier::new("v", Duration::from_millis(retention_ms)),
            Arc::new(StringSerde),
            Arc::new(I64Serde),
        )
        .store_type(StoreType::InMemory);
        (builder.build_store(&ctx).unwrap(), sent)
    }

    fn entries(store: &VersionedKeyValueStore<String, i64>) -> u64 {
        let inner = store.inner.borrow();
        inner.backend().unwrap().approximate_num_entries().unwrap()
    }

    #[test]
    fn history_past_the_retention_is_removed_at_flush_and_writes_are_batched() {
        let (store, sent) = store(100);
        let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
        for t in 0..1_000i64 {
            for k in &keys {
                let value = if t % 7 == 3 { None } else { Some(&t) };
                store.put(k, value, t * 10).unwrap();
            }
            if t % 50 == 49 {
                // Nothing reaches the backend or the changelog before the flush.
                assert_eq!(sent.get(), (t as usize - 49) * keys.len());
                StateStore::flush(&store).unwrap();
                assert_eq!(sent.get(), (t as usize + 1) * keys.len());
                // Per key: the latest version, the ~10 older versions within the 100 ms
                // retention, and their expiry index entries; plus the stream time.
                let bound = keys.len() as u64 * (1 + 2 * 12) + 1;
                assert!(entries(&store) <= bound, "{} entries", entries(&store));
            }
        }
        let k = &keys[0];
        assert_eq!(
            store.get(k).unwrap(),
            Some(VersionedRecord::new(999, 9_990, None))
        );
        assert_eq!(
            store.get_as_of(k, 9_895).unwrap(),
            Some(VersionedRecord::new(989, 9_890, Some(9_900)))
        );
        // t = 990 put a tombstone at 9 900.
        assert_eq!(store.get_as_of(k, 9_905).unwrap(), None);
        // Older than the retention: only the latest version answers.
        assert_eq!(store.get_as_of(k, 9_880).unwrap(), None);
    }

    #[test]
    fn deleted_keys_leave_nothing_behind_once_out_of_the_retention() {
        let (store, _) = store(100);
        for i in 0..100 {
            let k = format!("k{i}");
            store.put(&k, Some(&1), 10).unwrap();
            store.delete(&k, 20).unwrap();
        }
        store.put(&"other".to_string(), Some(&1), 500).unwrap();
        StateStore::flush(&store).unwrap();
        // Only `other` (latest) and the stream time remain.
        assert_eq!(entries(&store), 2);
        assert_eq!(store.get_as_of(&"k1".to_string(), 15).unwrap(), None);
    }
}
