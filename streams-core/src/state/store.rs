//! The store contract: what every store of a task implements, how it is built, and where it
//! writes its changelog.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;

use crate::collector::RecordCollector;
use crate::error::Result;
use crate::state::cache::CacheBudget;
use crate::task_id::TaskId;

/// The task's record collector, shared with its stores for changelog writes.
pub(crate) type SharedCollector = Rc<RefCell<Box<dyn RecordCollector>>>;

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
    /// The key-value store a window or session store keeps its rows in (keyed by
    /// [`crate::Windowed`] keys), so that a windowed table's store can be read like any table's
    /// (table-table joins look rows up through it). `None` for other stores.
    #[doc(hidden)]
    fn key_value_view(&self) -> Option<&dyn Any> {
        None
    }
    /// Applies changelog records read back from the store's changelog topic (restoration).
    /// Stores without a changelog ignore this.
    #[doc(hidden)]
    fn restore(&self, _records: &[ChangelogRecord<'_>]) -> Result<()> {
        Ok(())
    }
    /// Drops everything the store holds (before a restore from the beginning).
    #[doc(hidden)]
    fn wipe(&self) -> Result<()> {
        Ok(())
    }
}

/// One record of a changelog topic, as restoration hands it to a store.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct ChangelogRecord<'a> {
    /// Serialized key.
    pub key: &'a [u8],
    /// Serialized value; `None` is a deletion.
    pub value: Option<&'a [u8]>,
    /// Record timestamp.
    pub timestamp: i64,
}

/// Where a store instance is being created.
pub struct StoreContext<'a> {
    /// `application.id`.
    pub application_id: &'a str,
    /// The task that will own the store.
    pub task_id: TaskId,
    /// The task's state directory (`state.dir/<application.id>/<task>`).
    pub task_dir: &'a Path,
    pub(crate) budget: &'a Rc<CacheBudget>,
    pub(crate) collector: &'a SharedCollector,
    /// Timestamp of the record being processed (stream time during punctuation).
    pub(crate) clock: &'a Rc<Cell<i64>>,
    pub(crate) backends: &'a crate::state::internals::backends::Backends,
}

impl StoreContext<'_> {
    /// The changelog topic of a store: `<application.id>-<store>-changelog`.
    pub fn changelog_topic(&self, store: &str) -> String {
        changelog_topic(self.application_id, store)
    }
}

/// `<application.id>-<store>-changelog`
pub(crate) fn changelog_topic(application_id: &str, store: &str) -> String {
    format!("{application_id}-{store}-changelog")
}

/// Creates one store instance per task.
pub trait StoreBuilder: Send + Sync + 'static {
    /// The store name.
    fn name(&self) -> &str;
    /// True if the store writes a changelog topic `<application.id>-<name>-changelog`.
    fn logged(&self) -> bool {
        false
    }
    /// True if the store keeps data on disk between runs (restoration can start from the
    /// checkpoint).
    fn persistent(&self) -> bool {
        false
    }
    /// A fresh instance for one task.
    fn build(&self, ctx: &StoreContext<'_>) -> Result<Box<dyn StateStore>>;
    /// Topic configs of the changelog: compacted by default.
    #[doc(hidden)]
    fn changelog_topic_config(&self) -> Vec<(String, String)> {
        vec![("cleanup.policy".into(), "compact".into())]
    }
    /// True for versioned key-value stores (operations that need the latest value only, such
    /// as `suppress`, reject them).
    #[doc(hidden)]
    fn versioned(&self) -> bool {
        false
    }
}
