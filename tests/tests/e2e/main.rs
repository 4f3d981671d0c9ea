//! The end-to-end tests against a broker process (Tansu) or the embedded mock cluster, in one
//! test binary so RocksDB and librdkafka are linked once. The fault campaign (`faults.rs`) is a
//! binary of its own: `make soak` runs its long scenarios alone.

mod broker_smoke;
mod fk_join;
mod global_table;
mod joins_e2e;
mod kafka_runtime;
