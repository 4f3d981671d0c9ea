//! The Kafka runtime: [`KafkaStreams`] runs a topology's tasks on a Kafka cluster.
//!
//! Instances with the same `application.id` form one consumer group; each runs
//! `num.stream.threads` stream threads, each with its own consumer, producer and tasks. Tasks
//! follow the partitions the group assigns; their stores are restored from changelog topics
//! before they process. See `docs/architecture.md` and `docs/operations.md`.
//!
//! ```no_run
//! use std::time::Duration;
//! use streams_core::*;
//!
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream("rides", Consumed::with(StringSerde, StringSerde))
//!     .group_by_key()
//!     .count(Materialized::named("rides-per-location"))
//!     .to_stream()
//!     .to("rides-pulocation-count", Produced::new());
//! let config = StreamsConfig::new("ride-counts").with("bootstrap.servers", "localhost:9092");
//! let mut streams = KafkaStreams::new(builder.build()?, config)?;
//! streams.start()?;
//! // ... until Ctrl-C:
//! streams.close(Duration::from_secs(30))?;
//! # Ok::<(), StreamsError>(())
//! ```

pub(crate) mod app_dir;
pub(crate) mod control;
pub(crate) mod embedded;
pub(crate) mod global;
pub(crate) mod purge;
pub(crate) mod restore;
pub(crate) mod shared;
pub(crate) mod streams;
pub(crate) mod thread;
pub(crate) mod topics;

pub use crate::processor::restore_listener::StateRestoreListener;
pub use embedded::EmbeddedCluster;
pub use shared::{KafkaStreamsState, StreamThreadExceptionResponse};
pub use streams::KafkaStreams;
