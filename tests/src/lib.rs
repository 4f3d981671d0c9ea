//! End-to-end test support for streams-core.
//!
//! - [`broker::TansuBroker`]: a real Kafka-protocol broker (Tansu, in-memory) in a child
//!   process, one per test. Install it with `make tansu`; `make test` does so first.
//! - [`kafka`]: synchronous rdkafka helpers to create topics, produce and read back records.

pub mod broker;
pub mod kafka;
