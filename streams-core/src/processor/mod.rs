//! The Processor API: write a node by hand, connect it in a [`Topology`], give it state stores
//! and punctuators. The DSL ([`crate::kstream`]) is built on exactly this.

pub(crate) mod api;
pub(crate) mod endpoints;
pub(crate) mod fixed_key;
pub(crate) mod internals;
pub(crate) mod partitioner;
pub(crate) mod restore_listener;
pub(crate) mod schedule;
pub(crate) mod task_metrics;
pub(crate) mod topology;

pub use crate::task_id::TaskId;
pub use api::{Processor, ProcessorContext};
pub use endpoints::{Consumed, Produced};
pub use fixed_key::{FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord};
pub use partitioner::{murmur2_partition, StreamPartitioner};
pub use restore_listener::StateRestoreListener;
pub use schedule::{Cancellable, PunctuationType};
pub use task_metrics::TaskMetrics;
pub use topology::{
    NodeDescription, NodeKindDescription, SubtopologyDescription, Topology, TopologyDescription,
};
