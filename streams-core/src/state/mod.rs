//! State stores: what processors keep between records. This module holds the store contract
//! and the key-value store; windowed, session and persistent (RocksDB) stores build on it.

pub(crate) mod cache;
pub(crate) mod global;
pub(crate) mod internals;
pub(crate) mod key_value;
pub(crate) mod store;
pub(crate) mod stores;
pub(crate) mod versioned;
pub(crate) mod window;

pub use cache::CacheBudget;
pub use global::GlobalKeyValueStore;
pub use internals::StoreType;
pub use key_value::{KeyValueStore, KeyValueStoreBuilder};
pub use stores::Stores;
pub use versioned::{
    VersionedKeyValueStore, VersionedKeyValueStoreBuilder, VersionedRecord, VersionedStoreSupplier,
    PUT_RETURN_CODE_NOT_PUT, PUT_RETURN_CODE_VALID_TO_UNDEFINED,
};
pub use window::{SessionStore, SessionStoreBuilder, WindowStore, WindowStoreBuilder};

pub use store::{ChangelogRecord, StateStore, StoreBuilder, StoreContext};
