//! Synchronous rdkafka helpers for end-to-end tests: create topics, produce records and read
//! them back, without an async runtime. Every wait is bounded and fails with a message that
//! says what was missing.
//!
//! Tansu's ListOffsets(LATEST) answers wrongly (`docs/testing.md`, section The brokers the
//! tests run against), so nothing here uses `fetch_watermarks`: [`consume_all`] reads until
//! partition EOF, which comes from the fetch side's high watermark.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers as _, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

/// Bound on one metadata request.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on creating a topic, until its metadata shows every partition.
const CREATE_TOPIC_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on [`produce_all`] waiting for queue space and for the last delivery report.
const PRODUCE_TIMEOUT: Duration = Duration::from_secs(60);

/// Numbers the consumers of [`consumer_from_beginning`], for unique group ids.
static CONSUMERS: AtomicU64 = AtomicU64::new(0);

/// A record to produce: key, value, timestamp (ms since the epoch).
pub type ProducerRecord = (Option<Vec<u8>>, Option<Vec<u8>>, i64);

/// A record read back by [`consume_all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch, if the record has a timestamp.
    pub timestamp: Option<i64>,
    /// Headers, in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl ConsumedRecord {
    /// The last header named `key`, as text.
    pub fn header(&self, key: &str) -> Option<String> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| String::from_utf8_lossy(v.as_deref().unwrap_or_default()).into_owned())
    }
}

/// Client settings for Tansu (`docs/testing.md`, section The brokers the tests run against):
/// the bootstrap address plus the timeouts that keep rebalances short
/// (`session.timeout.ms=6000`, `heartbeat.interval.ms=500`) and a short fetch queue backoff
/// (`fetch.queue.backoff.ms=10`). Producer and admin clients ignore the consumer settings.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .set("fetch.queue.backoff.ms", "10");
    config
}

/// Creates `name` with `partitions` partitions (replication factor 1) through the Admin API,
/// then waits until the topic's metadata shows all of them. Fails if the topic exists.
pub fn create_topic(bootstrap: &str, name: &str, partitions: i32) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap)
        .create()
        .map_err(|e| format!("create_topic({name}): cannot create an admin client: {e}"))?;
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(10)))
        .operation_timeout(Some(Duration::from_secs(10)));
    let results = block_on_timeout(
        admin.create_topics([&topic], &options),
        CREATE_TOPIC_TIMEOUT,
    )
    .ok_or_else(|| {
        format!(
            "create_topic({name}): no answer to CreateTopics from {bootstrap} within \
                 {CREATE_TOPIC_TIMEOUT:?}"
        )
    })?
    .map_err(|e| format!("create_topic({name}): CreateTopics failed: {e}"))?;
    for result in results {
        if let Err((topic, code)) = result {
            return Err(format!(
                "create_topic({name}): the broker refused to create {topic}: {code}"
            ));
        }
    }

    // Wait until the metadata agrees, so producers see every partition from the start.
    let deadline = Instant::now() + CREATE_TOPIC_TIMEOUT;
    loop {
        let seen = match admin.inner().fetch_metadata(Some(name), METADATA_TIMEOUT) {
            Ok(metadata) => match metadata.topics().iter().find(|t| t.name() == name) {
                Some(t) if t.error().is_none() && t.partitions().len() == partitions as usize => {
                    return Ok(())
                }
                Some(t) => format!(
                    "{} partitions, error {:?}",
                    t.partitions().len(),
                    t.error().map(RDKafkaErrorCode::from)
                ),
                None => "topic absent".to_string(),
            },
            Err(e) => format!("metadata request failed: {e}"),
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "create_topic({name}): created, but its metadata did not show {partitions} \
                 partitions within {CREATE_TOPIC_TIMEOUT:?} (last seen: {seen})"
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Produces `records` to `topic` in order and waits for every delivery report.
///
/// The producer partitions as the Java client does (`partitioner=murmur2_random`: murmur2 of
/// the key, a random partition for null keys), with `acks=all`, idempotence and `linger.ms=5`.
/// Returns each record's `(partition, offset)`, in the order of `records`; fails on any failed
/// delivery.
pub fn produce_all(
    bootstrap: &str,
    topic: &str,
    records: &[ProducerRecord],
) -> Result<Vec<(i32, i64)>, String> {
    produce_all_with(bootstrap, topic, records, &[])
}

/// [`produce_all`] with producer settings of its own (`message.max.bytes` for large records).
pub fn produce_all_with(
    bootstrap: &str,
    topic: &str,
    records: &[ProducerRecord],
    settings: &[(&str, &str)],
) -> Result<Vec<(i32, i64)>, String> {
    let tracker = DeliveryTracker {
        reports: Mutex::new(vec![None; records.len()]),
    };
    let mut config = client_config(bootstrap);
    for (k, v) in settings {
        config.set(*k, *v);
    }
    let producer: BaseProducer<DeliveryTracker> = config
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("acks", "all")
        // As the Java client's default: retries can neither reorder nor duplicate records.
        .set("enable.idempotence", "true")
        .create_with_context(tracker)
        .map_err(|e| format!("produce_all({topic}): cannot create a producer: {e}"))?;
    let deadline = Instant::now() + PRODUCE_TIMEOUT;

    for (index, (key, value, timestamp)) in records.iter().enumerate() {
        let mut record =
            BaseRecord::<[u8], [u8], usize>::with_opaque_to(topic, index).timestamp(*timestamp);
        if let Some(key) = key {
            record = record.key(key.as_slice());
        }
        if let Some(value) = value {
            record = record.payload(value.as_slice());
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    if Instant::now() >= deadline {
                        return Err(format!(
                            "produce_all({topic}): the producer queue stayed full for \
                             {PRODUCE_TIMEOUT:?} (record {index} of {})",
                            records.len()
                        ));
                    }
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => {
                    return Err(format!(
                        "produce_all({topic}): cannot send record {index}: {e}"
                    ))
                }
            }
        }
        producer.poll(Duration::ZERO);
    }

    // `flush` serves the delivery reports while it waits for the queue to drain.
    let remaining = deadline.saturating_duration_since(Instant::now());
    producer.flush(remaining).map_err(|e| {
        format!(
            "produce_all({topic}): {} of {} records not acknowledged within {PRODUCE_TIMEOUT:?}: \
             {e}",
            producer.in_flight_count(),
            records.len()
        )
    })?;

    let reports = producer
        .context()
        .reports
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let mut positions = Vec::with_capacity(reports.len());
    let mut failures = Vec::new();
    for (index, report) in reports.into_iter().enumerate() {
        match report {
            Some(Ok(position)) => positions.push(position),
            Some(Err(e)) => failures.push(format!("record {index}: {e}")),
            None => failures.push(format!("record {index}: no delivery report")),
        }
    }
    if failures.is_empty() {
        Ok(positions)
    } else {
        let shown: Vec<&str> = failures.iter().take(10).map(String::as_str).collect();
        Err(format!(
            "produce_all({topic}): {} of {} records failed: {}{}",
            failures.len(),
            records.len(),
            shown.join("; "),
            if failures.len() > shown.len() {
                "; ..."
            } else {
                ""
            }
        ))
    }
}

/// Reads `topic` from the beginning of every partition (manual assignment under a fresh group
/// id, nothing committed) until at least `expected_count` records were read and every partition has
/// reached its end (partition EOF, from the fetch-side high watermark).
///
/// Returns every record read, in the order received (offset order within each partition); it
/// may hold more than `expected_count` if the topic has more. Fails when `timeout` passes
/// first, saying how many records were read and which partitions had not reached their end.
pub fn consume_all(
    bootstrap: &str,
    topic: &str,
    expected_count: usize,
    timeout: Duration,
) -> Result<Vec<ConsumedRecord>, String> {
    let start = Instant::now();
    let (consumer, partitions) = consumer_from_beginning(bootstrap, topic)
        .map_err(|e| format!("consume_all({topic}): {e}"))?;

    let deadline = start + timeout;
    let mut records = Vec::with_capacity(expected_count);
    // Whether each partition has reported EOF since its last record.
    let mut at_end = vec![false; partitions as usize];
    let mut last_error = None;
    loop {
        if records.len() >= expected_count && at_end.iter().all(|&eof| eof) {
            return Ok(records);
        }
        let now = Instant::now();
        if now >= deadline {
            let not_at_end: Vec<usize> = (0..at_end.len()).filter(|&p| !at_end[p]).collect();
            return Err(format!(
                "consume_all({topic}): read {} of {expected_count} expected records in \
                 {timeout:?}; partitions not at their end: {not_at_end:?}; last client error: {}",
                records.len(),
                last_error.unwrap_or_else(|| "none".to_string())
            ));
        }
        match consumer.poll((deadline - now).min(Duration::from_millis(100))) {
            None => {}
            Some(Ok(message)) => {
                if let Some(eof) = usize::try_from(message.partition())
                    .ok()
                    .and_then(|p| at_end.get_mut(p))
                {
                    *eof = false;
                }
                records.push(ConsumedRecord {
                    key: message.key().map(<[u8]>::to_vec),
                    value: message.payload().map(<[u8]>::to_vec),
                    partition: message.partition(),
                    offset: message.offset(),
                    timestamp: message.timestamp().to_millis(),
                    headers: message.headers().map_or_else(Vec::new, |h| {
                        h.iter()
                            .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    }),
                });
            }
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                if let Some(eof) = usize::try_from(partition)
                    .ok()
                    .and_then(|p| at_end.get_mut(p))
                {
                    *eof = true;
                }
            }
            Some(Err(e @ KafkaError::MessageConsumptionFatal(_))) => {
                return Err(format!("consume_all({topic}): fatal consumer error: {e}"));
            }
            // Transient (the client retries): keep it for the timeout message.
            Some(Err(e)) => last_error = Some(e.to_string()),
        }
    }
}

/// A consumer assigned every partition of `topic` from the beginning (no group membership,
/// nothing committed), with partition EOF events on, and the topic's partition count.
///
/// librdkafka refuses `assign` without a `group.id` ("Local: Unknown group"), so the consumer
/// gets a fresh one that is never joined.
pub fn consumer_from_beginning(
    bootstrap: &str,
    topic: &str,
) -> Result<(BaseConsumer, i32), String> {
    consumer_from_beginning_with(bootstrap, topic, &[])
}

/// [`consumer_from_beginning`] with `extra` client settings applied last (they override the
/// defaults, e.g. a shorter `fetch.wait.max.ms`).
pub fn consumer_from_beginning_with(
    bootstrap: &str,
    topic: &str,
    extra: &[(&str, &str)],
) -> Result<(BaseConsumer, i32), String> {
    let group = format!(
        "streams-tests-reader-{}-{}",
        std::process::id(),
        CONSUMERS.fetch_add(1, Ordering::Relaxed)
    );
    let mut config = client_config(bootstrap);
    config
        .set("group.id", &group)
        .set("enable.partition.eof", "true")
        // Partition EOF comes with a fetch answer: don't let the broker hold fetches 500 ms.
        .set("fetch.wait.max.ms", "50")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| format!("cannot create a consumer: {e}"))?;

    let partitions = partition_count(&consumer, topic)?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment
            .add_partition_offset(topic, partition, Offset::Beginning)
            .map_err(|e| format!("cannot assign {topic} partition {partition}: {e}"))?;
    }
    consumer
        .assign(&assignment)
        .map_err(|e| format!("cannot assign the partitions of {topic}: {e}"))?;
    Ok((consumer, partitions))
}

/// The number of partitions of `topic`, from a metadata request.
fn partition_count(consumer: &BaseConsumer, topic: &str) -> Result<i32, String> {
    let metadata = consumer
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .map_err(|e| format!("metadata request for {topic} failed: {e}"))?;
    let t = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| format!("topic {topic} is not in the broker's metadata"))?;
    if let Some(error) = t.error() {
        return Err(format!(
            "metadata for topic {topic}: {}",
            RDKafkaErrorCode::from(error)
        ));
    }
    match i32::try_from(t.partitions().len()) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "topic {topic} has {} partitions in the broker's metadata",
            t.partitions().len()
        )),
    }
}

/// A record's delivery report: its `(partition, offset)`, or why it was not delivered.
type DeliveryReport = Result<(i32, i64), String>;

/// Collects the delivery report of each record, indexed by its position in the input.
struct DeliveryTracker {
    reports: Mutex<Vec<Option<DeliveryReport>>>,
}

impl ClientContext for DeliveryTracker {}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, index: usize) {
        let report = match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((e, _)) => Err(e.to_string()),
        };
        let mut reports = self
            .reports
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(slot) = reports.get_mut(index) {
            *slot = Some(report);
        }
    }
}

/// Runs `future` on this thread until it completes or `timeout` passes (`None`). rdkafka's
/// admin futures are completed by the admin client's own thread, so no runtime is needed.
fn block_on_timeout<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let deadline = Instant::now() + timeout;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::park_timeout(deadline - now);
    }
}
