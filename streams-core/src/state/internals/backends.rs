//! Opening byte-level backends by [`StoreType`].

use crate::error::Result;
use crate::state::internals::bytes_store::{BytesStore, StoreType};
use crate::state::internals::{memory, rocks};

/// Opens backends; holds what RocksDB stores of one process share (block cache, write
/// buffers), created on first use.
pub(crate) struct Backends {
    rocks_memory_bytes: usize,
    rocks: std::cell::OnceCell<std::sync::Arc<rocks::RocksShared>>,
}

impl Backends {
    pub(crate) fn new(rocks_memory_bytes: usize) -> Self {
        Backends {
            rocks_memory_bytes,
            rocks: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn open(
        &self,
        kind: StoreType,
        store: &str,
        dir: &std::path::Path,
    ) -> Result<Box<dyn BytesStore>> {
        match kind {
            StoreType::InMemory => Ok(Box::new(memory::MemoryStore::default())),
            StoreType::RocksDb => {
                let shared = match self.rocks.get() {
                    Some(s) => s.clone(),
                    None => {
                        let s = rocks::RocksShared::new(self.rocks_memory_bytes)?;
                        let _ = self.rocks.set(s.clone());
                        s
                    }
                };
                Ok(Box::new(rocks::RocksStore::open(store, dir, &shared)?))
            }
        }
    }
}
