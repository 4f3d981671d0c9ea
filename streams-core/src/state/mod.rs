//! State stores: what processors keep between records. This module holds the store contract
//! and the key-value store; windowed, session and persistent (RocksDB) stores build on it.

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::{Result, StreamsError};
use crate::processor::TaskId;
use crate::serdes::Serde;

/// A store instance of one task. Implemented by store *handles*: cheap to clone, all clones
/// see the same data (a task is single-threaded, so handles share with `Rc`).
pub trait StateStore: 'static {
    /// The store's name, unique in the topology.
    fn name(&self) -> &str;
    /// True if the store keeps data on disk.
    fn persistent(&self) -> bool;
    /// Writes buffered changes through.
    fn flush(&self) -> Result<()>;
    /// Releases resources; the store is not used afterwards.
    fn close(&self) -> Result<()>;
    /// For typed lookup by [`crate::ProcessorContext::get_state_store`].
    fn as_any(&self) -> &dyn Any;
}

/// Where a store instance is being created.
#[derive(Debug, Clone, Copy)]
pub struct StoreContext<'a> {
    /// `application.id`.
    pub application_id: &'a str,
    /// The task that will own the store.
    pub task_id: TaskId,
}

/// Creates one store instance per task.
pub trait StoreBuilder: Send + Sync + 'static {
    /// The store name.
    fn name(&self) -> &str;
    /// A fresh instance for one task.
    fn build(&self, ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>>;
}

/// Factories for store builders, as Kafka Streams' `Stores`.
pub struct Stores;

impl Stores {
    /// An in-memory key-value store builder. Keys are ordered by their serialized bytes, as in
    /// Kafka Streams.
    pub fn in_memory_key_value_store<K: 'static, V: 'static>(
        name: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> KeyValueStoreBuilder<K, V> {
        KeyValueStoreBuilder {
            name: name.to_string(),
            key_serde: Arc::new(key_serde),
            value_serde: Arc::new(value_serde),
        }
    }
}

/// Builds [`KeyValueStore`]s.
pub struct KeyValueStoreBuilder<K, V> {
    name: String,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

impl<K: 'static, V: 'static> StoreBuilder for KeyValueStoreBuilder<K, V> {
    fn name(&self) -> &str {
        &self.name
    }
    fn build(&self, _ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>> {
        Ok(Box::new(KeyValueStore {
            inner: Rc::new(KvInner {
                name: self.name.clone(),
                map: RefCell::new(BTreeMap::new()),
                key_serde: self.key_serde.clone(),
                value_serde: self.value_serde.clone(),
            }),
        }))
    }
}

struct KvInner<K, V> {
    name: String,
    map: RefCell<BTreeMap<Vec<u8>, Vec<u8>>>,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

/// A typed key-value store handle.
pub struct KeyValueStore<K, V> {
    inner: Rc<KvInner<K, V>>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        KeyValueStore {
            inner: self.inner.clone(),
        }
    }
}

impl<K: 'static, V: 'static> KeyValueStore<K, V> {
    fn err(&self, reason: impl std::fmt::Display) -> StreamsError {
        StreamsError::Store {
            store: self.inner.name.clone(),
            reason: reason.to_string(),
        }
    }
    fn key_bytes(&self, key: &K) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.inner
            .key_serde
            .serialize(key, &mut buf)
            .map_err(|e| self.err(e))?;
        Ok(buf)
    }
    fn value(&self, bytes: &[u8]) -> Result<V> {
        self.inner
            .value_serde
            .deserialize(bytes)
            .map_err(|e| self.err(e))
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        let k = self.key_bytes(key)?;
        let map = self.inner.map.borrow();
        map.get(&k).map(|v| self.value(v)).transpose()
    }

    /// Sets the value of `key`.
    pub fn put(&self, key: &K, value: &V) -> Result<()> {
        let k = self.key_bytes(key)?;
        let mut v = Vec::new();
        self.inner
            .value_serde
            .serialize(value, &mut v)
            .map_err(|e| self.err(e))?;
        self.inner.map.borrow_mut().insert(k, v);
        Ok(())
    }

    /// Removes `key`, returning its old value.
    pub fn delete(&self, key: &K) -> Result<Option<V>> {
        let k = self.key_bytes(key)?;
        let old = self.inner.map.borrow_mut().remove(&k);
        old.map(|v| self.value(&v)).transpose()
    }

    /// Entries with `from <= key <= to` (by serialized key bytes), in key order.
    pub fn range(&self, from: &K, to: &K) -> Result<Vec<(K, V)>> {
        let (f, t) = (self.key_bytes(from)?, self.key_bytes(to)?);
        if f > t {
            return Ok(Vec::new());
        }
        self.collect(Bound::Included(f), Bound::Included(t))
    }

    /// Every entry, in key order.
    pub fn all(&self) -> Result<Vec<(K, V)>> {
        self.collect(Bound::Unbounded, Bound::Unbounded)
    }

    fn collect(&self, from: Bound<Vec<u8>>, to: Bound<Vec<u8>>) -> Result<Vec<(K, V)>> {
        let map = self.inner.map.borrow();
        map.range((from, to))
            .map(|(k, v)| {
                let key = self
                    .inner
                    .key_serde
                    .deserialize(k)
                    .map_err(|e| self.err(e))?;
                Ok((key, self.value(v)?))
            })
            .collect()
    }

    /// Number of entries.
    pub fn approximate_num_entries(&self) -> u64 {
        self.inner.map.borrow().len() as u64
    }
}

impl<K: 'static, V: 'static> StateStore for KeyValueStore<K, V> {
    fn name(&self) -> &str {
        &self.inner.name
    }
    fn persistent(&self) -> bool {
        false
    }
    fn flush(&self) -> Result<()> {
        Ok(())
    }
    fn close(&self) -> Result<()> {
        Ok(())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
