//! The DSL and Processor API through the `TopologyTestDriver`: one test binary (one link of
//! RocksDB) for every driver-level test of `streams-core`. `conformance_*` are cases translated
//! from Kafka Streams' own tests; the others are this project's.

mod common;
mod conformance_cogroup;
mod conformance_process;
mod conformance_repartition;
mod conformance_session;
mod conformance_stream_ops;
mod conformance_stream_stream_join;
mod conformance_stream_table_join;
mod conformance_suppress;
mod conformance_table;
mod conformance_table_join;
mod conformance_test_driver;
mod conformance_versioned;
mod conformance_windowed;
mod dsl_fk_joins;
mod dsl_joins;
mod dsl_stateful;
mod dsl_stateless;
mod dsl_table_joins;
mod dsl_windowed;
mod errors;
mod processor_api;
