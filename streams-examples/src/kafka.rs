//! Kafka client helpers shared by the example programs: client settings, topic metadata and
//! topic creation, without an async runtime.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::ExampleError;

/// Bound on one metadata request.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on creating a topic until its metadata shows every partition.
const CREATE_TIMEOUT: Duration = Duration::from_secs(30);

/// Client settings for `bootstrap`: the address plus what keeps clients quick on the brokers
/// that run here (`session.timeout.ms=6000`, `heartbeat.interval.ms=500`,
/// `fetch.queue.backoff.ms=10`; see the operations guide). Producers ignore the consumer keys.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .set("fetch.queue.backoff.ms", "10")
        .set("log_level", "3");
    config
}

pub(crate) fn kafka_error(
    action: impl Into<String>,
) -> impl FnOnce(rdkafka::error::KafkaError) -> ExampleError {
    let action = action.into();
    move |source| ExampleError::Kafka { action, source }
}

/// A consumer that never joins its group (for `assign`, which librdkafka refuses without a
/// `group.id`) and never commits.
pub(crate) fn standalone_consumer(
    bootstrap: &str,
    purpose: &str,
) -> Result<BaseConsumer, ExampleError> {
    client_config(bootstrap)
        .set(
            "group.id",
            format!("streams-examples-{purpose}-{}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("allow.auto.create.topics", "false")
        .create()
        .map_err(kafka_error(format!("create a consumer for {bootstrap}")))
}

/// The partition count of `topic` on the cluster at `bootstrap`, or `None` when the topic does
/// not exist.
pub fn topic_partitions(bootstrap: &str, topic: &str) -> Result<Option<i32>, ExampleError> {
    let consumer = standalone_consumer(bootstrap, "metadata")?;
    partitions_of(&consumer, bootstrap, topic)
}

pub(crate) fn partitions_of(
    consumer: &BaseConsumer,
    bootstrap: &str,
    topic: &str,
) -> Result<Option<i32>, ExampleError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .map_err(kafka_error(format!(
            "read the metadata of topic `{topic}` from {bootstrap} (is the cluster up?)"
        )))?;
    Ok(metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .map(|t| t.partitions().len() as i32))
}

/// Creates `topic` with `partitions` partitions (replication factor 1) through the Admin API
/// unless it exists, then waits until its metadata shows every partition. Returns the topic's
/// partition count (the existing one if it was there already).
///
/// For the embedded cluster use [`streams_core::EmbeddedCluster::create_topic`]: its Admin API
/// does not work.
pub fn ensure_topic(bootstrap: &str, topic: &str, partitions: i32) -> Result<i32, ExampleError> {
    let consumer = standalone_consumer(bootstrap, "metadata")?;
    if let Some(n) = partitions_of(&consumer, bootstrap, topic)? {
        return Ok(n);
    }
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap)
        .create()
        .map_err(kafka_error("create an admin client"))?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(10)))
        .operation_timeout(Some(Duration::from_secs(10)));
    let results = futures::executor::block_on(admin.create_topics([&new], &options)).map_err(
        kafka_error(format!("create topic `{topic}` on {bootstrap}")),
    )?;
    for result in results {
        match result {
            Ok(_) => {}
            // Created meanwhile by someone else (or auto-created): fine.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(ExampleError::Topic(format!(
                    "the cluster at {bootstrap} refused to create topic `{name}` with \
                     {partitions} partitions: {code}"
                )))
            }
        }
    }
    let deadline = Instant::now() + CREATE_TIMEOUT;
    loop {
        if let Some(n) = partitions_of(&consumer, bootstrap, topic)? {
            return Ok(n);
        }
        if Instant::now() >= deadline {
            return Err(ExampleError::Topic(format!(
                "topic `{topic}` was created on {bootstrap} but its metadata did not show it \
                 within {CREATE_TIMEOUT:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
