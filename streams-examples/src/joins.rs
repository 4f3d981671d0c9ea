//! What the join programs (`rides-join-pickups`, `rides-enrich-zones`) share: loading the
//! course's data into their input topics and following their output topic.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::kafka::{kafka_error, partitions_of, standalone_consumer};
use crate::{client_config, ExampleError, PickupLocation, Ride};

/// A record to load: key, value, timestamp (ms).
pub type KeyedRecord = (String, Vec<u8>, i64);

#[derive(Default)]
struct Failures {
    failed: AtomicUsize,
    first: std::sync::Mutex<Option<String>>,
}

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.first.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// Produces `records` to `topic` (`acks=all`, the Java client's partitioner) and waits until
/// every one is acknowledged.
pub fn produce_keyed(
    bootstrap: &str,
    topic: &str,
    records: &[KeyedRecord],
) -> Result<(), ExampleError> {
    let producer: BaseProducer<Failures> = client_config(bootstrap)
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create_with_context(Failures::default())
        .map_err(kafka_error(format!("create a producer for {bootstrap}")))?;
    for (key, value, timestamp) in records {
        let mut record = BaseRecord::to(topic)
            .key(key.as_str())
            .payload(value.as_slice())
            .timestamp(*timestamp);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((
                    rdkafka::error::KafkaError::MessageProduction(
                        rdkafka::types::RDKafkaErrorCode::QueueFull,
                    ),
                    back,
                )) => {
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
                Err((e, _)) => return Err(kafka_error(format!("write to `{topic}`"))(e)),
            }
        }
    }
    producer
        .flush(Duration::from_secs(60))
        .map_err(kafka_error(format!("flush the records for `{topic}`")))?;
    let failures = producer.context();
    match failures.failed.load(Ordering::Relaxed) {
        0 => Ok(()),
        n => Err(ExampleError::Topic(format!(
            "{n} of {} records were not delivered to `{topic}`: {}",
            records.len(),
            failures
                .first
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_default()
        ))),
    }
}

/// The course's pickup-location events, one per ride: where and when it started.
pub fn pickup_locations(rides: &[Ride]) -> Vec<PickupLocation> {
    rides
        .iter()
        .map(|r| PickupLocation {
            pu_location_id: r.pu_location_id,
            pickup_datetime: r.pickup_datetime,
        })
        .collect()
}

/// The rides as the course's join reads them: keyed by drop-off location, in drop-off order,
/// stamped with the drop-off time.
pub fn rides_by_dropoff(rides: &[Ride]) -> Result<Vec<KeyedRecord>, ExampleError> {
    let mut out = rides
        .iter()
        .map(|r| {
            Ok((
                r.do_location_id.to_string(),
                serde_json::to_vec(r).map_err(|e| ExampleError::Topic(e.to_string()))?,
                r.dropoff_millis(),
            ))
        })
        .collect::<Result<Vec<_>, ExampleError>>()?;
    out.sort_by_key(|r| r.2);
    Ok(out)
}

/// The pickup events as records keyed by location (the join re-keys them anyway), in pickup
/// order, stamped with the pickup time.
pub fn pickups_by_time(pickups: &[PickupLocation]) -> Result<Vec<KeyedRecord>, ExampleError> {
    let mut out = pickups
        .iter()
        .map(|p| {
            Ok((
                p.pu_location_id.to_string(),
                serde_json::to_vec(p).map_err(|e| ExampleError::Topic(e.to_string()))?,
                p.pickup_millis(),
            ))
        })
        .collect::<Result<Vec<_>, ExampleError>>()?;
    out.sort_by_key(|r| r.2);
    Ok(out)
}

/// Follows a topic from its beginning (every partition), handing each record's key and value
/// to the caller: how the join programs print what they write.
pub struct TopicTail {
    consumer: BaseConsumer,
    topic: String,
    seen: Arc<AtomicUsize>,
}

impl TopicTail {
    /// Starts reading `topic` (which must exist) on `bootstrap` from the beginning.
    pub fn new(bootstrap: &str, topic: &str) -> Result<TopicTail, ExampleError> {
        let consumer = standalone_consumer(bootstrap, "tail")?;
        let partitions = partitions_of(&consumer, bootstrap, topic)?.ok_or_else(|| {
            ExampleError::Topic(format!("topic `{topic}` does not exist on {bootstrap}"))
        })?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .map_err(kafka_error(format!("read `{topic}`")))?;
        }
        consumer
            .assign(&tpl)
            .map_err(kafka_error(format!("read `{topic}`")))?;
        Ok(TopicTail {
            consumer,
            topic: topic.to_string(),
            seen: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Hands every record that arrives within `wait` to `each(key, value)`; returns how many.
    pub fn poll(
        &mut self,
        wait: Duration,
        mut each: impl FnMut(&str, &[u8]),
    ) -> Result<usize, ExampleError> {
        let mut n = 0;
        let mut timeout = wait;
        while let Some(m) = self.consumer.poll(timeout) {
            let m = m.map_err(kafka_error(format!("read `{}`", self.topic)))?;
            let key = String::from_utf8_lossy(m.key().unwrap_or_default());
            each(&key, m.payload().unwrap_or_default());
            n += 1;
            timeout = Duration::ZERO;
        }
        self.seen.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    /// Records handed out so far.
    pub fn seen(&self) -> usize {
        self.seen.load(Ordering::Relaxed)
    }
}
