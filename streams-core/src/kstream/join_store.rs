//! The stores of a stream-stream join.
//!
//! - A join window store per side keeps that side's records for the join window. Several
//!   records of one key may share a timestamp, so the store key is Kafka's window key with a
//!   sequence number (`retainDuplicates`): the serialized key, the timestamp (8 bytes
//!   big-endian), then a 4-byte big-endian sequence number. Entries older than the retention
//!   (relative to the newest timestamp written) are no longer returned and are deleted at a
//!   later flush, as in the other window stores.
//! - Left and outer joins keep the records that found no partner yet in one shared key-value
//!   store, keyed as Kafka's `TimestampedKeyAndJoinSide` (timestamp, side byte, key), so a scan
//!   visits them in time order. The value holds every record of that key, side and timestamp.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::{Result, SerdeError, StreamsError};
use crate::serdes::Serde;
use crate::state::internals::bytes_store::StoreType;
use crate::state::key_value::{KeyValueStore, KeyValueStoreBuilder, Windowing};
use crate::state::store::{ChangelogRecord, StateStore, StoreBuilder, StoreContext};

/// Bytes after the serialized key in a join window store key: timestamp and sequence number.
const SUFFIX: usize = 12;

/// A key of a join window store: the record key, its timestamp and a sequence number that
/// keeps records with the same key and timestamp apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinKey<K> {
    pub key: K,
    pub timestamp: i64,
    pub seq: u32,
}

struct JoinKeySerde<K>(Arc<dyn Serde<K>>);

impl<K: 'static> Serde<JoinKey<K>> for JoinKeySerde<K> {
    fn serialize(&self, value: &JoinKey<K>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        self.0.serialize(&value.key, out)?;
        out.extend_from_slice(&value.timestamp.to_be_bytes());
        out.extend_from_slice(&value.seq.to_be_bytes());
        Ok(())
    }
    fn deserialize(&self, data: &[u8]) -> Result<JoinKey<K>, SerdeError> {
        let at = data.len().checked_sub(SUFFIX).ok_or_else(|| {
            SerdeError::new(
                self.name(),
                format!("{} bytes is too short for a join window key", data.len()),
            )
        })?;
        let (key, suffix) = data.split_at(at);
        let (ts, seq) = suffix.split_at(8);
        let mut t = [0u8; 8];
        t.copy_from_slice(ts);
        let mut s = [0u8; 4];
        s.copy_from_slice(seq);
        Ok(JoinKey {
            key: self.0.deserialize(key)?,
            timestamp: i64::from_be_bytes(t),
            seq: u32::from_be_bytes(s),
        })
    }
    fn name(&self) -> String {
        format!("JoinWindowKey<{}>", self.0.name())
    }
}

/// One side's records of a stream-stream join, by key and timestamp, duplicates kept.
pub(crate) struct JoinWindowStore<K, V> {
    kv: KeyValueStore<JoinKey<K>, V>,
    key_serde: Arc<dyn Serde<K>>,
    /// The next sequence number; `None` until the first write looked at what the store holds.
    seq: Rc<Cell<Option<u32>>>,
}

impl<K, V> Clone for JoinWindowStore<K, V> {
    fn clone(&self) -> Self {
        JoinWindowStore {
            kv: self.kv.clone(),
            key_serde: self.key_serde.clone(),
            seq: self.seq.clone(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> JoinWindowStore<K, V> {
    fn next_seq(&self) -> Result<u32> {
        let seq = match self.seq.get() {
            Some(s) => s,
            // After a restart the store may hold records of this key and timestamp already:
            // continue after the largest sequence number so none is overwritten.
            None => self
                .kv
                .all_with_timestamps()?
                .iter()
                .map(|(k, _, _)| k.seq.wrapping_add(1))
                .max()
                .unwrap_or(0),
        };
        self.seq.set(Some(seq.wrapping_add(1)));
        Ok(seq)
    }

    /// Adds a record.
    pub fn put(&self, key: &K, value: V, timestamp: i64) -> Result<()> {
        let seq = self.next_seq()?;
        let k = JoinKey {
            key: key.clone(),
            timestamp,
            seq,
        };
        self.kv.put_with_timestamp(&k, value, timestamp)
    }

    /// The oldest timestamp the store still returns (its newest timestamp minus the retention,
    /// plus one): an older record would not be kept.
    pub fn live_from(&self) -> i64 {
        self.kv.live_from()
    }

    /// The records of `key` with timestamps in `[from, to]` (`from >= 0`), by timestamp then
    /// arrival: `(value, timestamp)`. Unflushed records are included; nothing is flushed.
    pub fn fetch(&self, key: &K, from: i64, to: i64) -> Result<Vec<(V, i64)>> {
        if to < from {
            return Ok(Vec::new());
        }
        // The bounds as store keys, built from one serialization of the key: (key, from, 0)
        // and just past (key, to, u32::MAX).
        let mut lo = Vec::with_capacity(32);
        self.key_serde.serialize(key, &mut lo).map_err(|e| {
            StreamsError::store_caused(
                StateStore::name(&self.kv).to_string(),
                "cannot serialize a key",
                e,
            )
        })?;
        let key_len = lo.len();
        let mut hi = lo.clone();
        lo.extend_from_slice(&from.to_be_bytes());
        lo.extend_from_slice(&0u32.to_be_bytes());
        hi.extend_from_slice(&to.to_be_bytes());
        hi.extend_from_slice(&u32::MAX.to_be_bytes());
        hi.push(0);
        let key_bytes = &lo[..key_len];
        let len = key_len + SUFFIX;
        let same_key = |k: &[u8]| k.len() == len && k.starts_with(key_bytes);
        // An entry's timestamp is its key's (`put` writes both).
        self.kv.values_in(&lo, &hi, from, &same_key)
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StateStore for JoinWindowStore<K, V> {
    fn name(&self) -> &str {
        StateStore::name(&self.kv)
    }
    fn persistent(&self) -> bool {
        self.kv.persistent()
    }
    fn flush(&self) -> Result<()> {
        StateStore::flush(&self.kv)
    }
    fn close(&self) -> Result<()> {
        self.kv.close()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn restore(&self, records: &[ChangelogRecord<'_>]) -> Result<()> {
        self.seq.set(None);
        self.kv.restore(records)
    }
    fn wipe(&self) -> Result<()> {
        self.seq.set(None);
        self.kv.wipe()
    }
}

/// Builds one side's [`JoinWindowStore`] per task.
pub(crate) struct JoinWindowStoreBuilder<K, V> {
    kv: KeyValueStoreBuilder<JoinKey<K>, V>,
    key_serde: Arc<dyn Serde<K>>,
}

impl<K: Clone + 'static, V: Clone + 'static> JoinWindowStoreBuilder<K, V> {
    /// A store keeping records for `retention_ms` of the newest timestamp written.
    pub fn new(
        name: &str,
        retention_ms: i64,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
        store_type: StoreType,
        logging: bool,
    ) -> Self {
        let keys: Arc<dyn Serde<JoinKey<K>>> = Arc::new(JoinKeySerde(key_serde.clone()));
        let kv = KeyValueStoreBuilder::new(name, keys, value_serde)
            .store_type(store_type)
            .windowed(Windowing {
                ts_from_end: SUFFIX,
                retention_ms,
            });
        let kv = if logging {
            kv
        } else {
            kv.with_logging_disabled()
        };
        JoinWindowStoreBuilder { kv, key_serde }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> StoreBuilder for JoinWindowStoreBuilder<K, V> {
    fn name(&self) -> &str {
        self.kv.name()
    }
    fn logged(&self) -> bool {
        self.kv.logged()
    }
    fn persistent(&self) -> bool {
        self.kv.persistent()
    }
    fn build(&self, ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>> {
        Ok(Box::new(JoinWindowStore {
            kv: self.kv.build_store(ctx)?,
            key_serde: self.key_serde.clone(),
            seq: Rc::new(Cell::new(None)),
        }))
    }
    fn changelog_topic_config(&self) -> Vec<(String, String)> {
        self.kv.changelog_topic_config()
    }
}

// ---------------------------------------------------------------------------------------------
// The shared store of unjoined records (left and outer joins)
// ---------------------------------------------------------------------------------------------

/// A key of the outer join store (Kafka's `TimestampedKeyAndJoinSide`): the timestamp (8 bytes
/// big-endian), the side (1 = left, 0 = right), then the key. `key: None` serializes only the
/// first two parts: a bound for range scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OuterKey<K> {
    pub timestamp: i64,
    pub left: bool,
    pub key: Option<K>,
}

pub(crate) struct OuterKeySerde<K>(pub Arc<dyn Serde<K>>);

impl<K: 'static> Serde<OuterKey<K>> for OuterKeySerde<K> {
    fn serialize(&self, value: &OuterKey<K>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        out.extend_from_slice(&value.timestamp.to_be_bytes());
        out.push(u8::from(value.left));
        match &value.key {
            Some(k) => self.0.serialize(k, out),
            None => Ok(()),
        }
    }
    fn deserialize(&self, data: &[u8]) -> Result<OuterKey<K>, SerdeError> {
        if data.len() < 9 {
            return Err(SerdeError::new(
                self.name(),
                format!(
                    "{} bytes is too short for a timestamped key and join side",
                    data.len()
                ),
            ));
        }
        let mut t = [0u8; 8];
        t.copy_from_slice(&data[..8]);
        Ok(OuterKey {
            timestamp: i64::from_be_bytes(t),
            left: data[8] != 0,
            key: Some(self.0.deserialize(&data[9..])?),
        })
    }
    fn name(&self) -> String {
        format!("TimestampedKeyAndJoinSide<{}>", self.0.name())
    }
}

/// The unjoined records of one key, side and timestamp.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OuterValues<VL, VR> {
    Left(Vec<VL>),
    Right(Vec<VR>),
}

/// A side byte (1 = left, 0 = right), then each value as a 4-byte big-endian length and its
/// bytes.
pub(crate) struct OuterValuesSerde<VL, VR> {
    pub left: Arc<dyn Serde<VL>>,
    pub right: Arc<dyn Serde<VR>>,
}

fn write_all<V: 'static>(
    serde: &dyn Serde<V>,
    values: &[V],
    out: &mut Vec<u8>,
) -> Result<(), SerdeError> {
    for v in values {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        serde.serialize(v, out)?;
        let len = u32::try_from(out.len() - at - 4)
            .map_err(|_| SerdeError::new(serde.name(), "value longer than 4 GiB"))?;
        out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

fn read_all<V: 'static>(serde: &dyn Serde<V>, mut data: &[u8]) -> Result<Vec<V>, SerdeError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 4 {
            return Err(SerdeError::new(
                serde.name(),
                "truncated list of unjoined values",
            ));
        }
        let mut l = [0u8; 4];
        l.copy_from_slice(&data[..4]);
        let len = u32::from_be_bytes(l) as usize;
        let rest = &data[4..];
        if rest.len() < len {
            return Err(SerdeError::new(
                serde.name(),
                "truncated list of unjoined values",
            ));
        }
        out.push(serde.deserialize(&rest[..len])?);
        data = &rest[len..];
    }
    Ok(out)
}

impl<VL: 'static, VR: 'static> Serde<OuterValues<VL, VR>> for OuterValuesSerde<VL, VR> {
    fn serialize(&self, value: &OuterValues<VL, VR>, out: &mut Vec<u8>) -> Result<(), SerdeError> {
        match value {
            OuterValues::Left(vs) => {
                out.push(1);
                write_all(&*self.left, vs, out)
            }
            OuterValues::Right(vs) => {
                out.push(0);
                write_all(&*self.right, vs, out)
            }
        }
    }
    fn deserialize(&self, data: &[u8]) -> Result<OuterValues<VL, VR>, SerdeError> {
        match data.split_first() {
            Some((1, rest)) => Ok(OuterValues::Left(read_all(&*self.left, rest)?)),
            Some((0, rest)) => Ok(OuterValues::Right(read_all(&*self.right, rest)?)),
            _ => Err(SerdeError::new(
                self.name(),
                "expected a side byte (1 = left, 0 = right)",
            )),
        }
    }
    fn name(&self) -> String {
        format!(
            "LeftOrRightValues<{}, {}>",
            self.left.name(),
            self.right.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::{I64Serde, StringSerde};

    #[test]
    fn join_keys_order_by_key_then_time_then_sequence() {
        let s = JoinKeySerde::<String>(Arc::new(StringSerde));
        let bytes = |key: &str, timestamp: i64, seq: u32| {
            let mut out = Vec::new();
            s.serialize(
                &JoinKey {
                    key: key.to_string(),
                    timestamp,
                    seq,
                },
                &mut out,
            )
            .unwrap();
            out
        };
        assert_eq!(bytes("a", 1, 2), [b'a', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert!(bytes("a", 1, 9) < bytes("a", 2, 0));
        assert!(bytes("a", 5, 0) < bytes("a", 5, 1));
        let back = s.deserialize(&bytes("75", 7, 3)).unwrap();
        assert_eq!(
            back,
            JoinKey {
                key: "75".to_string(),
                timestamp: 7,
                seq: 3
            }
        );
        assert!(s.deserialize(&[1, 2, 3]).is_err());
    }

    #[test]
    fn outer_keys_order_by_time_then_side_and_values_round_trip() {
        let s = OuterKeySerde::<String>(Arc::new(StringSerde));
        let bytes = |timestamp: i64, left: bool, key: Option<&str>| {
            let mut out = Vec::new();
            s.serialize(
                &OuterKey {
                    timestamp,
                    left,
                    key: key.map(str::to_string),
                },
                &mut out,
            )
            .unwrap();
            out
        };
        assert_eq!(bytes(1, true, Some("k")), [0, 0, 0, 0, 0, 0, 0, 1, 1, b'k']);
        assert!(bytes(1, true, Some("z")) < bytes(2, false, Some("a")));
        assert!(bytes(2, false, Some("z")) < bytes(2, true, Some("a")));
        assert!(bytes(3, false, None) < bytes(3, false, Some("a")));
        let v = OuterValuesSerde::<String, i64> {
            left: Arc::new(StringSerde),
            right: Arc::new(I64Serde),
        };
        for value in [
            OuterValues::Left(vec!["x".to_string(), String::new()]),
            OuterValues::Right(vec![7, -1]),
        ] {
            let mut out = Vec::new();
            v.serialize(&value, &mut out).unwrap();
            assert_eq!(v.deserialize(&out).unwrap(), value);
        }
        assert!(v.deserialize(&[1, 0, 0, 0, 9, b'x']).is_err());
        assert!(v.deserialize(&[]).is_err());
    }
}
