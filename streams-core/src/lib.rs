//! # streams-core: Kafka Streams, in Rust
//!
//! Build a topology with the typed DSL ([`StreamsBuilder`], [`KStream`]) or by hand with the
//! Processor API ([`Topology`], [`Processor`]); test it without a broker in the
//! [`TopologyTestDriver`]. The package split follows Kafka Streams: [`kstream`] (the DSL),
//! [`processor`] (the Processor API), [`state`] (stores); engine internals are private.
//!
//! ```
//! use streams_core::*;
//!
//! // Count nothing yet: keep rides longer than 2 miles, keyed by pickup location.
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream("rides", Consumed::with(StringSerde, F64Serde))
//!     .filter(|_pickup, miles| *miles > 2.0)
//!     .to("long-rides", Produced::new());
//! let topology = builder.build()?;
//! println!("{}", topology.describe());
//! # Ok::<(), StreamsError>(())
//! ```

#![deny(missing_docs)]

pub(crate) mod collector;
pub mod config;
pub mod error;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod kstream;
pub mod processor;
pub mod record;
pub mod serdes;
pub mod state;
pub(crate) mod task_id;
pub mod test_driver;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
pub mod timestamp;
pub(crate) mod window;

pub use config::{DeserializationHandler, ExceptionHandler, ProcessingGuarantee, StreamsConfig};
pub use error::{RecordLocation, RecordPart, Result, SerdeError, StreamsError};
#[cfg(feature = "kafka")]
pub use kafka::{EmbeddedCluster, KafkaStreams, KafkaStreamsState, StreamThreadExceptionResponse};
pub use kstream::windows::{
    SessionWindowedSerde, SessionWindows, SlidingWindows, TimeWindowedSerde, TimeWindows, Window,
    Windowed,
};
pub use kstream::{
    Branched, BranchedKStream, BufferConfig, Change, CogroupWindowedBy, CogroupedKStream, Consumed,
    Data, DisplayKeyValue, EmitStrategy, GlobalKTable, JoinWindows, Joined, KGroupedStream,
    KGroupedTable, KStream, KTable, Materialized, PrintMapper, Printed, Produced, Repartitioned,
    SessionWindowedCogroupedKStream, SessionWindowedKStream, StreamJoined, StreamsBuilder,
    Suppressed, TimeWindowedCogroupedKStream, TimeWindowedKStream, WindowedBy,
};

pub use processor::{
    murmur2_partition, Cancellable, FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord,
    Processor, ProcessorContext, PunctuationType, StateRestoreListener, StreamPartitioner, TaskId,
    TaskMetrics, Topology, TopologyDescription,
};
pub use record::{Header, Headers, Record, RecordMetadata};
pub use serdes::{
    BytesSerde, DefaultSerde, DynSerde, F64Serde, I32Serde, I64Serde, Json, Nullable, Serde,
    StringSerde, U32Serde, U64Serde, UnitSerde,
};
#[doc(hidden)]
pub use state::internals::bench_support as __bench;
pub use state::{
    CacheBudget, GlobalKeyValueStore, KeyValueStore, SessionStore, SessionStoreBuilder, StateStore,
    StoreBuilder, StoreType, Stores, VersionedKeyValueStore, VersionedKeyValueStoreBuilder,
    VersionedRecord, VersionedStoreSupplier, WindowStore, WindowStoreBuilder,
};
pub use test_driver::{TestInputTopic, TestOutputTopic, TestRecord, TopologyTestDriver};
/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The DSL guide's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/dsl.md")]
pub struct DslGuideDoctests;

/// The state guide's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/state.md")]
pub struct StateGuideDoctests;

/// The operations guide's code blocks, compiled as doc tests.
#[cfg(all(doctest, feature = "kafka"))]
#[doc = include_str!("../../docs/operations.md")]
pub struct OperationsGuideDoctests;

pub use timestamp::{InvalidTimestampPolicy, RecordTimestamp, TimestampExtractor, ValueTimestamp};
