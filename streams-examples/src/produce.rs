//! Producing rides to a topic, as the course's producer does: JSON values, keyed by a
//! location (or vendor) id, timestamped with the pickup time, `acks=all`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use crate::kafka::{client_config, kafka_error};
use crate::{ExampleError, LoadError, Ride};

/// Bound on waiting for the last delivery reports.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// Which field of a ride becomes its record key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RideKey {
    /// `PULocationID`, the pickup zone (what the counting examples group by).
    #[default]
    #[value(name = "PULocationID")]
    PickupLocation,
    /// `DOLocationID`, the drop-off zone.
    #[value(name = "DOLocationID")]
    DropoffLocation,
    /// `VendorID`.
    #[value(name = "VendorID")]
    Vendor,
    /// No key (null): the producer spreads records over the partitions at random.
    #[value(name = "none")]
    None,
}

impl RideKey {
    /// The column the key comes from (`PULocationID`, ...), or `none`.
    pub fn column(self) -> &'static str {
        match self {
            RideKey::PickupLocation => "PULocationID",
            RideKey::DropoffLocation => "DOLocationID",
            RideKey::Vendor => "VendorID",
            RideKey::None => "none",
        }
    }

    /// Writes the key of `ride` into `buf` (cleared first); `false` for [`RideKey::None`].
    pub fn write_key(self, ride: &Ride, buf: &mut String) -> bool {
        buf.clear();
        let id = match self {
            RideKey::PickupLocation => ride.pu_location_id,
            RideKey::DropoffLocation => ride.do_location_id,
            RideKey::Vendor => ride.vendor_id,
            RideKey::None => return false,
        };
        // Writing to a String cannot fail.
        let _ = write!(buf, "{id}");
        true
    }
}

/// Where and how [`produce_rides`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceOptions {
    /// The cluster (`bootstrap.servers`).
    pub bootstrap: String,
    /// The topic (it must exist, or the cluster must create topics on first use).
    pub topic: String,
    /// The record key.
    pub key: RideKey,
    /// Records per second; 0 (or less) is as fast as the cluster takes them.
    pub rate: f64,
}

/// What [`produce_rides`] did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProduceSummary {
    /// Records acknowledged by the cluster (all in-sync replicas: `acks=all`).
    pub records: u64,
    /// Key and value bytes of the acknowledged records.
    pub bytes: u64,
    /// Rows of the input that were not valid rides, skipped.
    pub bad_rows: u64,
    /// From the first record sent to the last acknowledgement.
    pub elapsed: Duration,
    /// True when the stop flag ended production before the input did.
    pub stopped: bool,
}

impl ProduceSummary {
    /// Acknowledged records per second.
    pub fn records_per_sec(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Acknowledged MiB (key and value bytes) per second.
    pub fn mib_per_sec(&self) -> f64 {
        self.bytes as f64 / (1024.0 * 1024.0) / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Counts delivery reports.
#[derive(Default)]
struct Deliveries {
    acked: AtomicU64,
    bytes: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(m) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
                let len = m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len);
                self.bytes.fetch_add(len as u64, Ordering::Relaxed);
            }
            Err((e, m)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert_with(|| format!("{e} (partition {})", m.partition()));
            }
        }
    }
}

/// Produces `rides` to `options.topic` as JSON [`Ride`]s, keyed by `options.key`, with the
/// pickup time as record timestamp, `acks=all` and the Java-compatible partitioner
/// (`murmur2_random`: a key always lands on the same partition as with Kafka's Java client).
///
/// `rides` yields rides or load errors: a [`LoadError::BadRow`] is passed to `on_bad_row` and
/// skipped (counted in [`ProduceSummary::bad_rows`]); any other error stops production and is
/// returned. `on_progress` is called after each record is handed to the producer with the
/// number sent so far. Production stops early, without error, once `stop` is set (e.g. by
/// Ctrl-C); what was sent is still flushed. Fails when a record cannot be delivered (naming
/// how many and the first reason) or the cluster does not acknowledge everything within 60 s.
pub fn produce_rides(
    options: &ProduceOptions,
    rides: impl IntoIterator<Item = Result<Ride, LoadError>>,
    stop: &AtomicBool,
    mut on_bad_row: impl FnMut(&LoadError),
    mut on_progress: impl FnMut(u64),
) -> Result<ProduceSummary, ExampleError> {
    let producer: ThreadedProducer<Deliveries> = client_config(&options.bootstrap)
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create_with_context(Deliveries::default())
        .map_err(kafka_error(format!(
            "create a producer for {}",
            options.bootstrap
        )))?;
    let deliveries: Arc<Deliveries> = producer.context().clone();
    let mut summary = ProduceSummary::default();
    let mut key = String::new();
    let mut value = Vec::new();
    let mut sent: u64 = 0;
    let start = Instant::now();
    for row in rides {
        if stop.load(Ordering::Relaxed) {
            summary.stopped = true;
            break;
        }
        let ride = match row {
            Ok(ride) => ride,
            Err(e @ LoadError::BadRow { .. }) => {
                summary.bad_rows += 1;
                on_bad_row(&e);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if options.rate > 0.0 {
            let due = start + Duration::from_secs_f64(sent as f64 / options.rate);
            let now = Instant::now();
            if due > now {
                // Pacing to the requested rate.
                std::thread::sleep(due - now);
            }
        }
        value.clear();
        serde_json::to_writer(&mut value, &ride)
            .map_err(|e| ExampleError::Topic(format!("cannot write ride {ride:?} as JSON: {e}")))?;
        let has_key = options.key.write_key(&ride, &mut key);
        let mut record: BaseRecord<'_, str, [u8]> = BaseRecord::to(&options.topic)
            .payload(value.as_slice())
            .timestamp(ride.pickup_millis());
        if has_key {
            record = record.key(key.as_str());
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // The local queue is full: wait for deliveries (back-pressure).
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => {
                    return Err(kafka_error(format!(
                        "send a ride to topic `{}`",
                        options.topic
                    ))(e))
                }
            }
        }
        sent += 1;
        on_progress(sent);
    }
    producer.flush(FLUSH_TIMEOUT).map_err(|e| {
        ExampleError::Topic(format!(
            "{} of {sent} records to topic `{}` were not acknowledged by {} within \
             {FLUSH_TIMEOUT:?}: {e}",
            sent.saturating_sub(deliveries.acked.load(Ordering::Relaxed)),
            options.topic,
            options.bootstrap
        ))
    })?;
    summary.elapsed = start.elapsed();
    summary.records = deliveries.acked.load(Ordering::Relaxed);
    summary.bytes = deliveries.bytes.load(Ordering::Relaxed);
    let failed = deliveries.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let first = deliveries
            .first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default();
        return Err(ExampleError::Topic(format!(
            "{failed} of {sent} records to topic `{}` on {} were not delivered; first error: \
             {first}",
            options.topic, options.bootstrap
        )));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{data_dir, load_rides};

    #[test]
    fn keys_are_the_chosen_ids() {
        let ride = load_rides(&data_dir().join("rides.csv")).unwrap().remove(0);
        let mut buf = String::from("stale");
        assert!(RideKey::PickupLocation.write_key(&ride, &mut buf));
        assert_eq!(buf, "238");
        assert!(RideKey::DropoffLocation.write_key(&ride, &mut buf));
        assert_eq!(buf, "75");
        assert!(RideKey::Vendor.write_key(&ride, &mut buf));
        assert_eq!(buf, "1");
        assert!(!RideKey::None.write_key(&ride, &mut buf));
        assert_eq!(buf, "");
    }

    #[test]
    fn key_columns_are_the_flag_values() {
        use clap::ValueEnum;
        let names: Vec<(&str, String)> = RideKey::value_variants()
            .iter()
            .map(|k| {
                (
                    k.column(),
                    k.to_possible_value().unwrap().get_name().to_string(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("PULocationID", "PULocationID".to_string()),
                ("DOLocationID", "DOLocationID".to_string()),
                ("VendorID", "VendorID".to_string()),
                ("none", "none".to_string()),
            ]
        );
    }

    #[test]
    fn summary_rates() {
        let s = ProduceSummary {
            records: 1000,
            bytes: 2 * 1024 * 1024,
            bad_rows: 0,
            elapsed: Duration::from_millis(500),
            stopped: false,
        };
        assert_eq!(s.records_per_sec(), 2000.0);
        assert_eq!(s.mib_per_sec(), 4.0);
    }
}
