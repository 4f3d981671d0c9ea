//! Versioned tables (Kafka's KIP-914) and what reads them: a table source backed by a
//! [`VersionedKeyValueStore`], the as-of lookup of stream-table joins, and the stream-table
//! join grace period (KIP-923), which holds stream records back so late table updates are
//! seen.

use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::kstream::builder_inner::INVALID;
use crate::kstream::data::Data;
use crate::kstream::ktable::{not_initialized, Change, KTable, Materialized};
use crate::kstream::stream::KStream;
use crate::processor::api::{Processor, ProcessorContext};
use crate::record::{Headers, Record};
use crate::serdes::{BytesSerde, Serde};
use crate::state::key_value::{KeyValueStore, KeyValueStoreBuilder};
use crate::state::versioned::{
    VersionedKeyValueStore, VersionedKeyValueStoreBuilder, VersionedStoreSupplier,
    PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED,
};

/// Kafka's message when a grace period is set on a join with a table that is not versioned.
pub(crate) const NOT_VERSIONED: &str =
    "KTable must be versioned to use a grace period in a stream table join.";
/// Kafka's message when the grace period is longer than the table's history retention.
pub(crate) const RETENTION_TOO_SHORT: &str = "History retention must be at least grace period.";

/// Adds the versioned store of `m` and the versioned table source over `input`.
pub(super) fn versioned_table<K: Data, V: Data>(
    input: &KStream<K, Option<V>>,
    m: Materialized<K, V>,
    store_name: String,
    node_name: String,
    retention_ms: i64,
) -> KTable<K, V> {
    let builder = input.builder.clone();
    let mut b = builder.borrow_mut();
    let key_serde = b.serde_for(m.key_serde.clone(), &input.key_serde);
    let value_serde = b.serde_for(m.value_serde.clone(), &None);
    let (Some(ks), Some(vs)) = (key_serde, value_serde) else {
        b.fail(StreamsError::InvalidTopology(format!(
            "versioned store `{store_name}` does not know how to serialize ({}, {}): pass serdes \
             with Materialized::with_key_serde / with_value_serde",
            std::any::type_name::<K>(),
            std::any::type_name::<V>()
        )));
        drop(b);
        return KTable {
            stream: input.derive(INVALID, None, None, false),
            store_name: None,
            value_serde: None,
            key_serde: None,
            close_after_ms: None,
        };
    };
    let supplier = VersionedStoreSupplier {
        name: store_name.clone(),
        history_retention_ms: retention_ms,
    };
    let store = VersionedKeyValueStoreBuilder::new(supplier, ks.clone(), vs.clone())
        .store_type(m.store_type);
    let store = if m.logging {
        store
    } else {
        store.with_logging_disabled()
    };
    if let Err(e) = b.topology.add_state_store(store, &[]) {
        b.fail(e);
    }
    drop(b);
    let sn = store_name.clone();
    let mut stream = input.named(node_name).process::<K, Change<V>, _>(
        move || VersionedTableSource {
            store_name: sn.clone(),
            store: None,
        },
        &[store_name.as_str()],
    );
    stream.repartition_required = false;
    stream.key_serde = Some(ks.clone());
    KTable {
        stream,
        store_name: Some(store_name),
        value_serde: Some(vs),
        key_serde: Some(ks),
        close_after_ms: None,
    }
}

/// `KTABLE-SOURCE-` of a versioned table: puts every update into the versioned store with its
/// timestamp and forwards only those that became the key's latest version (an out-of-order
/// update only changes the history; one older than the history retention is dropped).
struct VersionedTableSource<K, V> {
    store_name: String,
    store: Option<VersionedKeyValueStore<K, V>>,
}

impl<K: Data, V: Data> Processor<K, Option<V>, K, Change<V>> for VersionedTableSource<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<()> {
        self.store = Some(ctx.get_state_store(&self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        r: Record<K, Option<V>>,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<()> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| not_initialized(&self.store_name))?;
        let old = store.get(&r.key)?.map(|v| v.value);
        match store.put(&r.key, r.value.as_ref(), r.timestamp)? {
            PUT_RETURN_CODE_VALID_TO_UNDEFINED => ctx.forward(Record {
                key: r.key,
                value: Change { new: r.value, old },
                timestamp: r.timestamp,
                headers: r.headers,
            }),
            PUT_RETURN_CODE_NOT_PUT => {
                // Kafka counts the expired put in the task's dropped records.
                ctx.record_dropped();
                tracing::debug!(
                    store = %self.store_name,
                    timestamp = r.timestamp,
                    "Skipping a table update older than the history retention"
                );
                Ok(())
            }
            _ => {
                tracing::debug!(
                    store = %self.store_name,
                    timestamp = r.timestamp,
                    "Out-of-order table update: stored in the history, not forwarded"
                );
                Ok(())
            }
        }
    }
}

/// The store a stream-table join reads: a plain table's latest rows, or a versioned table
/// read as of the stream record's timestamp.
pub(crate) enum TableLookup<K, V> {
    Latest(KeyValueStore<K, V>),
    Versioned(VersionedKeyValueStore<K, V>),
}

impl<K: Data, V: Data> TableLookup<K, V> {
    /// The store `name` connected to the processor of `ctx`.
    pub(crate) fn open<KO, VO>(ctx: &ProcessorContext<'_, KO, VO>, name: &str) -> Result<Self> {
        match ctx.get_state_store::<KeyValueStore<K, V>>(name) {
            Ok(s) => Ok(TableLookup::Latest(s)),
            Err(e) => match ctx.get_state_store::<VersionedKeyValueStore<K, V>>(name) {
                Ok(s) => Ok(TableLookup::Versioned(s)),
                Err(_) => Err(e),
            },
        }
    }

    /// The row of `key` for a stream record at `timestamp`.
    pub(crate) fn get(&self, key: &K, timestamp: i64) -> Result<Option<V>> {
        match self {
            TableLookup::Latest(s) => s.get(key),
            TableLookup::Versioned(s) => Ok(s.get_as_of(key, timestamp)?.map(|r| r.value)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stream-table join with a grace period (KIP-923)
// ---------------------------------------------------------------------------------------------

/// The buffer store's key: the record timestamp (sign bit flipped, big-endian), the
/// serialized key, a sequence number: Kafka's time-first buffer order.
fn buffer_key(timestamp: i64, key: &[u8], seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16 + key.len());
    k.extend_from_slice(&((timestamp as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(key);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn buffer_time(k: &[u8]) -> Option<i64> {
    let a: [u8; 8] = k.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(a) ^ (1 << 63)) as i64)
}

/// A buffered record's value: its headers (count, then per header the key's length and bytes
/// and the value's length, -1 for null, and bytes; lengths 4 bytes big-endian), then the
/// serialized value.
fn encode_headers(headers: &Headers, out: &mut Vec<u8>) {
    let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
    out.extend_from_slice(&len32(headers.len()));
    for h in headers.iter() {
        out.extend_from_slice(&len32(h.key.len()));
        out.extend_from_slice(h.key.as_bytes());
        match &h.value {
            Some(v) => {
                out.extend_from_slice(&len32(v.len()));
                out.extend_from_slice(v);
            }
            None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
        }
    }
}

/// The headers at the start of a buffered value and the rest (the serialized value).
fn decode_headers(bytes: &[u8]) -> Option<(Headers, &[u8])> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (b.get(..n)?, b.get(n..)?);
        *b = rest;
        Some(head)
    }
    fn len(b: &mut &[u8]) -> Option<u32> {
        Some(u32::from_be_bytes(take(b, 4)?.try_into().ok()?))
    }
    let mut b = bytes;
    let count = len(&mut b)?;
    let mut headers = Headers::new();
    for _ in 0..count {
        let n = len(&mut b)? as usize;
        let key = String::from_utf8(take(&mut b, n)?.to_vec()).ok()?;
        let value = match len(&mut b)? {
            u32::MAX => None,
            n => Some(take(&mut b, n as usize)?.to_vec()),
        };
        headers.add(key, value);
    }
    Some((headers, b))
}

/// The serdes and store of a stream-table join's buffer (`<join name>-Buffer`).
pub(crate) struct GraceBuffer<K, V> {
    pub store_name: String,
    pub grace_ms: i64,
    pub key_serde: Arc<dyn Serde<K>>,
    pub value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> Clone for GraceBuffer<K, V> {
    fn clone(&self) -> Self {
        GraceBuffer {
            store_name: self.store_name.clone(),
            grace_ms: self.grace_ms,
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
        }
    }
}

/// The buffer's store: logged, so buffered records survive a restart.
pub(crate) fn grace_buffer_store(name: &str) -> KeyValueStoreBuilder<Vec<u8>, Vec<u8>> {
    KeyValueStoreBuilder::new(name, Arc::new(BytesSerde), Arc::new(BytesSerde))
}

/// What a put into the grace buffer releases: the record itself when it is already past the
/// grace period, and the buffered records now due, oldest first.
pub(crate) type Released<K, V> = (Option<Record<K, V>>, Vec<Record<K, V>>);

/// A stream-table join's record buffer: holds stream records until stream time passes their
/// timestamp plus the grace period, then hands them back in timestamp order.
pub(crate) struct GraceState<K, V> {
    def: GraceBuffer<K, V>,
    store: KeyValueStore<Vec<u8>, Vec<u8>>,
    /// The largest timestamp buffered (Kafka's buffer's `observedStreamTime`).
    observed: i64,
    /// No buffered record is older than this (`i64::MAX`: empty), so most records need no
    /// eviction scan.
    min_buffered: i64,
    seq: u64,
}

impl<K: Data, V: Data> GraceState<K, V> {
    /// Opens the buffer and checks the table: versioned, with a history retention at least the
    /// grace period (Kafka's checks).
    pub(crate) fn open<KO, VO, VT: Data>(
        def: &GraceBuffer<K, V>,
        table: &TableLookup<K, VT>,
        ctx: &ProcessorContext<'_, KO, VO>,
    ) -> Result<Self> {
        match table {
            TableLookup::Latest(_) => {
                return Err(StreamsError::InvalidTopology(NOT_VERSIONED.into()));
            }
            TableLookup::Versioned(s) if s.history_retention_ms() < def.grace_ms => {
                return Err(StreamsError::InvalidTopology(RETENTION_TOO_SHORT.into()));
            }
            TableLookup::Versioned(_) => {}
        }
        let store: KeyValueStore<Vec<u8>, Vec<u8>> = ctx.get_state_store(&def.store_name)?;
        // After a restart the buffer's stream time is the newest buffered record's: with a
        // grace period the newest record always stays buffered (it is due only once stream
        // time passes it by the grace), so this is the stream time the buffer had (with no
        // grace, every record leaves at once, and either way joins at once).
        let mut observed = i64::MIN;
        let mut min_buffered = i64::MAX;
        let mut seq = 0;
        for (k, _, _) in store.all_with_timestamps()? {
            let t = buffer_time(&k).unwrap_or(i64::MIN);
            observed = observed.max(t);
            min_buffered = min_buffered.min(t);
            if let Some(tail) = k.len().checked_sub(8).and_then(|at| k.get(at..)) {
                let a: [u8; 8] = tail.try_into().unwrap_or([0; 8]);
                seq = seq.max(u64::from_be_bytes(a).saturating_add(1));
            }
        }
        Ok(GraceState {
            def: def.clone(),
            store,
            observed,
            min_buffered,
            seq,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> StreamsError {
        StreamsError::store(self.def.store_name.clone(), e.to_string())
    }

    /// Buffers `r` unless it is already past the grace period (then it is returned, to join
    /// at once), and returns the records now due, oldest first.
    pub(crate) fn put_and_evict(&mut self, r: Record<K, V>) -> Result<Released<K, V>> {
        if self.observed.saturating_sub(self.def.grace_ms) > r.timestamp {
            return Ok((Some(r), Vec::new()));
        }
        let mut key = Vec::new();
        self.def
            .key_serde
            .serialize(&r.key, &mut key)
            .map_err(|e| self.err(format!("cannot serialize a key: {e}")))?;
        let mut value = Vec::new();
        encode_headers(&r.headers, &mut value);
        self.def
            .value_serde
            .serialize(&r.value, &mut value)
            .map_err(|e| self.err(format!("cannot serialize a value: {e}")))?;
        self.seq += 1;
        self.store.put_with_timestamp(
            &buffer_key(r.timestamp, &key, self.seq),
            value,
            r.timestamp,
        )?;
        self.observed = self.observed.max(r.timestamp);
        self.min_buffered = self.min_buffered.min(r.timestamp);
        let due_to = self.observed.saturating_sub(self.def.grace_ms);
        if self.min_buffered > due_to {
            return Ok((None, Vec::new()));
        }
        // Whatever stays buffered is newer than `due_to`.
        self.min_buffered = due_to.saturating_add(1);
        let hi = buffer_key(due_to.saturating_add(1), &[], 0);
        let due = self.store.range(&Vec::new(), &hi)?;
        let mut out = Vec::with_capacity(due.len());
        for (k, v) in due {
            if k >= hi {
                continue;
            }
            let timestamp = buffer_time(&k).ok_or_else(|| self.err("a buffer key is corrupt"))?;
            let key_bytes = k
                .get(8..k.len().saturating_sub(8))
                .ok_or_else(|| self.err("a buffer key is corrupt"))?;
            let key = self
                .def
                .key_serde
                .deserialize(key_bytes)
                .map_err(|e| self.err(format!("cannot deserialize a buffered key: {e}")))?;
            let (headers, v) =
                decode_headers(&v).ok_or_else(|| self.err("a buffered record is corrupt"))?;
            let value = self
                .def
                .value_serde
                .deserialize(v)
                .map_err(|e| self.err(format!("cannot deserialize a buffered value: {e}")))?;
            self.store.delete(&k)?;
            out.push(Record {
                key,
                value,
                timestamp,
                headers,
            });
        }
        Ok((None, out))
    }
}
