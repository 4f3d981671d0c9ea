//! The embedded cluster: librdkafka's mock cluster, in-process.
//!
//! Created through the raw bindings rather than `rdkafka::mocking::MockCluster` because the
//! group's initial rebalance delay can only be set on the raw handle: with it at 100 ms a
//! consumer joins in ~0.2 s instead of ~3 s (see `docs/testing.md`, section The brokers the
//! tests run against).

use std::ffi::{CStr, CString};

use rdkafka::bindings as rd;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};

use crate::error::{Result, StreamsError};

/// An in-process Kafka cluster (librdkafka's mock cluster) for demos and tests: produce,
/// fetch, consumer groups and offset commits work, and faults can be injected; the Admin API,
/// compaction, `read_committed` and transactional offsets do not. Its address (`bootstrap_servers`) works from other processes too while it lives.
pub struct EmbeddedCluster {
    handle: *mut rd::rd_kafka_mock_cluster_t,
    bootstrap: String,
    // Owns the librdkafka instance the cluster lives in; dropped after the cluster.
    _client: BaseProducer,
}

impl std::fmt::Debug for EmbeddedCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCluster")
            .field("bootstrap", &self.bootstrap)
            .finish()
    }
}

// SAFETY: the mock cluster's functions are thread-safe (librdkafka serializes them on the
// cluster's own thread); the handle is only freed in `Drop`.
unsafe impl Send for EmbeddedCluster {}
// SAFETY: as above: every method takes `&self` and calls thread-safe librdkafka functions.
unsafe impl Sync for EmbeddedCluster {}

impl EmbeddedCluster {
    /// Starts a cluster of `brokers` brokers (1 or 3 are the tested sizes).
    pub fn start(brokers: i32) -> Result<EmbeddedCluster> {
        let client: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", "")
            .create()
            .map_err(|e| StreamsError::kafka("start the embedded cluster", e))?;
        let ptr = client.client().native_ptr();
        // SAFETY: `ptr` is a live librdkafka handle owned by `client`, which outlives the
        // cluster (dropped after it in `Drop`).
        let handle = unsafe { rd::rd_kafka_mock_cluster_new(ptr, brokers) };
        if handle.is_null() {
            return Err(StreamsError::broker(
                "start the embedded cluster",
                "librdkafka returned no mock cluster",
            ));
        }
        // SAFETY: `handle` was just created and is valid; the string it returns lives as long
        // as the cluster and is copied at once.
        let bootstrap = unsafe {
            rd::rd_kafka_mock_group_initial_rebalance_delay_ms(handle, 100);
            CStr::from_ptr(rd::rd_kafka_mock_cluster_bootstraps(handle))
                .to_string_lossy()
                .into_owned()
        };
        Ok(EmbeddedCluster {
            handle,
            bootstrap,
            _client: client,
        })
    }

    /// The cluster's address, for `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic (an existing one is left as it is).
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        let name = CString::new(topic)
            .map_err(|_| StreamsError::broker(format!("create topic `{topic}`"), "NUL in name"))?;
        // SAFETY: the cluster handle is valid while `self` lives; `name` is NUL-terminated.
        let err =
            unsafe { rd::rd_kafka_mock_topic_create(self.handle, name.as_ptr(), partitions, 1) };
        if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
            || err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
        {
            Ok(())
        } else {
            Err(StreamsError::kafka(
                format!(
                    "create topic `{topic}` with {partitions} partitions on the embedded cluster"
                ),
                rdkafka::error::RDKafkaErrorCode::from(err),
            ))
        }
    }

    /// Takes a broker down (`up = false`) or brings it back, for fault-injection tests.
    pub fn set_broker_up(&self, broker_id: i32, up: bool) -> Result<()> {
        // SAFETY: the cluster handle is valid while `self` lives.
        let err = unsafe {
            if up {
                rd::rd_kafka_mock_broker_set_up(self.handle, broker_id)
            } else {
                rd::rd_kafka_mock_broker_set_down(self.handle, broker_id)
            }
        };
        if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Ok(())
        } else {
            Err(StreamsError::kafka(
                format!("set broker {broker_id} {}", if up { "up" } else { "down" }),
                rdkafka::error::RDKafkaErrorCode::from(err),
            ))
        }
    }
}

impl EmbeddedCluster {
    /// Makes the next `errors.len()` requests of API `api` (on any broker) fail with these
    /// errors, in order, for fault-injection tests: `RDKafkaApiKey::Produce` with
    /// `RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS`, `RDKafkaApiKey::OffsetCommit` with
    /// `RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE`, and so on.
    pub fn push_request_errors(
        &self,
        api: rdkafka::types::RDKafkaApiKey,
        errors: &[rdkafka::types::RDKafkaRespErr],
    ) {
        // SAFETY: the cluster handle is valid while `self` lives; `errors` outlives the call,
        // which copies it.
        unsafe {
            rd::rd_kafka_mock_push_request_errors_array(
                self.handle,
                api as i16,
                errors.len(),
                errors.as_ptr(),
            )
        }
    }

    /// Moves consumer group `group`'s coordinator to broker `broker_id` (for clusters started
    /// with several brokers): members see NOT_COORDINATOR and must find the new one.
    pub fn set_group_coordinator(&self, group: &str, broker_id: i32) -> Result<()> {
        let action = || format!("move the coordinator of group `{group}` to broker {broker_id}");
        let kind = CString::new("group").map_err(|_| StreamsError::broker(action(), "NUL"))?;
        let key = CString::new(group).map_err(|_| StreamsError::broker(action(), "NUL in name"))?;
        // SAFETY: the cluster handle is valid while `self` lives; both strings are
        // NUL-terminated and outlive the call.
        let err = unsafe {
            rd::rd_kafka_mock_coordinator_set(self.handle, kind.as_ptr(), key.as_ptr(), broker_id)
        };
        if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Ok(())
        } else {
            Err(StreamsError::kafka(
                action(),
                rdkafka::error::RDKafkaErrorCode::from(err),
            ))
        }
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        // SAFETY: created in `start`, destroyed once, before the owning client.
        unsafe { rd::rd_kafka_mock_cluster_destroy(self.handle) };
    }
}
