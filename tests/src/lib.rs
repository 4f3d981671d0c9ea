//! End-to-end test support for streams-core.
//!
//! - [`broker::TansuBroker`]: a real Kafka-protocol broker (Tansu, in-memory) in a child
//!   process, one per test. Install it with `make tansu`; `make test` does so first.
//! - [`kafka`]: synchronous rdkafka helpers to create topics, produce and read back records.
//! - [`counts`]: the count-by-key workload the runtime and fault tests share.

pub mod broker;
pub mod counts;
pub mod kafka;
