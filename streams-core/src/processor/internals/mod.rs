//! Engine internals: node instances, tasks, sources, sinks, punctuation. Not public API.

pub(crate) mod dead_letter;
pub(crate) mod node;
pub(crate) mod plan;
pub(crate) mod processor_node;
pub(crate) mod punctuation;
pub(crate) mod sink;
pub(crate) mod source;
pub(crate) mod task;
pub(crate) mod task_dirs;
pub(crate) mod task_manager;
