//! [`Stores`]: the factories of store builders, as Kafka Streams' `Stores`.

use std::sync::Arc;

use crate::error::Result;
use crate::serdes::Serde;
use crate::state::internals::bytes_store::StoreType;
use crate::state::key_value::KeyValueStoreBuilder;
use crate::state::versioned::{VersionedKeyValueStoreBuilder, VersionedStoreSupplier};
use crate::state::window::{
    session_builder, window_builder, SessionStoreBuilder, WindowStoreBuilder,
};

/// Factories for store builders, as Kafka Streams' `Stores`.
pub struct Stores;

impl Stores {
    /// A RocksDB key-value store, logged to a changelog, not cached.
    pub fn persistent_key_value_store<K: 'static, V: 'static>(
        name: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> KeyValueStoreBuilder<K, V> {
        KeyValueStoreBuilder::new(name, Arc::new(key_serde), Arc::new(value_serde))
    }

    /// An in-memory key-value store, logged to a changelog, not cached. Keys are ordered by
    /// their serialized bytes, as in Kafka Streams.
    pub fn in_memory_key_value_store<K: 'static, V: 'static>(
        name: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> KeyValueStoreBuilder<K, V> {
        Self::persistent_key_value_store(name, key_serde, value_serde)
            .store_type(StoreType::InMemory)
    }

    /// A RocksDB window store keeping windows of `window_size` for `retention` (at least the
    /// window size), logged to a changelog. Errors name the store when a duration is invalid.
    pub fn persistent_window_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        window_size: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<WindowStoreBuilder<K, V>> {
        window_builder(
            name,
            retention,
            window_size,
            Arc::new(key_serde),
            Arc::new(value_serde),
        )
    }

    /// An in-memory window store (see [`Stores::persistent_window_store`]).
    pub fn in_memory_window_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        window_size: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<WindowStoreBuilder<K, V>> {
        Ok(
            Self::persistent_window_store(name, retention, window_size, key_serde, value_serde)?
                .store_type(StoreType::InMemory),
        )
    }

    /// A RocksDB session store keeping sessions that ended within `retention`, logged.
    pub fn persistent_session_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<SessionStoreBuilder<K, V>> {
        session_builder(name, retention, Arc::new(key_serde), Arc::new(value_serde))
    }

    /// An in-memory session store (see [`Stores::persistent_session_store`]).
    pub fn in_memory_session_store<K: Clone + 'static, V: Clone + 'static>(
        name: &str,
        retention: std::time::Duration,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<SessionStoreBuilder<K, V>> {
        Ok(
            Self::persistent_session_store(name, retention, key_serde, value_serde)?
                .store_type(StoreType::InMemory),
        )
    }

    /// A RocksDB versioned key-value store (Kafka's KIP-889) keeping old versions queryable
    /// for `history_retention`: pass it to [`crate::Materialized::versioned`] for a versioned
    /// table, or to [`Stores::versioned_key_value_store_builder`] with serdes for the
    /// Processor API. See [`crate::VersionedKeyValueStore`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::Stores;
    /// let supplier = Stores::persistent_versioned_key_value_store("prices", Duration::from_secs(3600));
    /// assert_eq!(supplier.history_retention_ms(), 3_600_000);
    /// ```
    pub fn persistent_versioned_key_value_store(
        name: &str,
        history_retention: std::time::Duration,
    ) -> VersionedStoreSupplier {
        VersionedStoreSupplier::new(name, history_retention)
    }

    /// A builder of [`crate::VersionedKeyValueStore`]s from `supplier`, with serdes; logged to
    /// a changelog whose records carry each version's timestamp.
    pub fn versioned_key_value_store_builder<K: 'static, V: 'static>(
        supplier: VersionedStoreSupplier,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> VersionedKeyValueStoreBuilder<K, V> {
        VersionedKeyValueStoreBuilder::new(supplier, Arc::new(key_serde), Arc::new(value_serde))
    }
}
