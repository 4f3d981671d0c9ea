//! The DSL: [`StreamsBuilder`] and [`KStream`].
//!
//! Operations are typed end to end; serdes are needed only where records cross a topic (sources,
//! sinks, repartitioning). Inside a sub-topology records pass between operations as Rust values.

pub(crate) mod branch;
pub(crate) mod builder;
pub(crate) mod builder_inner;
pub(crate) mod cogroup;
pub(crate) mod data;
pub(crate) mod fk_join;
pub(crate) mod global;
pub(crate) mod internals;
pub(crate) mod join;
pub(crate) mod join_store;
pub(crate) mod join_windows;
pub(crate) mod ktable;
pub(crate) mod options;
pub(crate) mod print;
pub(crate) mod stream;
pub(crate) mod suppress;
pub(crate) mod table_join;
pub(crate) mod table_source;
pub(crate) mod versioned;
pub(crate) mod windowed;
pub mod windows;

pub use crate::processor::endpoints::{Consumed, Produced};
pub use branch::{Branched, BranchedKStream};
pub use builder::StreamsBuilder;
pub use cogroup::{
    CogroupWindowedBy, CogroupedKStream, SessionWindowedCogroupedKStream,
    TimeWindowedCogroupedKStream,
};
pub use data::Data;
pub use global::GlobalKTable;
pub use join_windows::{JoinWindows, Joined, StreamJoined};
pub use ktable::{Change, KGroupedStream, KGroupedTable, KTable, Materialized};
pub use options::Repartitioned;
pub use print::{DisplayKeyValue, PrintMapper, Printed};
pub use stream::KStream;
pub use suppress::{BufferConfig, Suppressed};
pub use windowed::{EmitStrategy, SessionWindowedKStream, TimeWindowedKStream, WindowedBy};
