//! The live table of `ride-count-by-location`: the latest count per location read back from
//! the output topic, and the top locations with their zone names.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::{kafka_error, partitions_of, standalone_consumer};
use crate::{ExampleError, Zone};

/// The top `top` locations of `counts` (location id → rides), most rides first (ties by id),
/// as a table with the zone names of `zones`:
///
/// ```
/// use std::collections::HashMap;
/// use streams_examples::*;
/// let zones = load_zones(&data_dir().join("taxi_zone_lookup.csv"))?;
/// let counts = HashMap::from([("236".to_string(), 9), ("1".to_string(), 2), ("4".to_string(), 9)]);
/// assert_eq!(
///     render_top_locations(&counts, &zones, 2),
///     "Top 2 of 3 pickup locations (20 rides)\n\
///      rank   id  zone                           borough          rides\n   \
///         1    4  Alphabet City                  Manhattan            9\n   \
///         2  236  Upper East Side North          Manhattan            9\n"
/// );
/// # Ok::<(), LoadError>(())
/// ```
pub fn render_top_locations(
    counts: &HashMap<String, i64>,
    zones: &HashMap<u32, Zone>,
    top: usize,
) -> String {
    let mut rows: Vec<(&String, i64)> = counts.iter().map(|(k, v)| (k, *v)).collect();
    let id_order = |k: &String| (k.parse::<u32>().unwrap_or(u32::MAX), k.clone());
    rows.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| id_order(a.0).cmp(&id_order(b.0)))
    });
    let total: i64 = counts.values().sum();
    let shown = top.min(rows.len());
    let mut out = format!(
        "Top {shown} of {} pickup locations ({total} rides)\n",
        rows.len()
    );
    let _ = writeln!(
        out,
        "{:>4} {:>4}  {:<30} {:<13} {:>8}",
        "rank", "id", "zone", "borough", "rides"
    );
    for (rank, (id, count)) in rows.into_iter().take(top).enumerate() {
        let zone = id.parse::<u32>().ok().and_then(|n| zones.get(&n));
        let (name, borough) = zone.map_or(("(unknown zone)", ""), |z| {
            (z.zone.as_str(), z.borough.as_str())
        });
        let name: String = name.chars().take(30).collect();
        let _ = writeln!(
            out,
            "{:>4} {id:>4}  {name:<30} {borough:<13} {count:>8}",
            rank + 1
        );
    }
    out
}

/// Reads a topic of counts (key: UTF-8 id, value: 8-byte big-endian count, as
/// `rides-pulocation-count`) from the beginning of every partition, keeping each key's latest
/// count. It does not join a consumer group; it waits for the topic to exist.
pub struct CountReader {
    consumer: BaseConsumer,
    bootstrap: String,
    topic: String,
    assigned: bool,
    counts: HashMap<String, i64>,
    skipped: u64,
}

impl std::fmt::Debug for CountReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountReader")
            .field("topic", &self.topic)
            .field("keys", &self.counts.len())
            .finish()
    }
}

impl CountReader {
    /// A reader of `topic` on the cluster at `bootstrap`.
    pub fn new(bootstrap: &str, topic: &str) -> Result<Self, ExampleError> {
        Ok(CountReader {
            consumer: standalone_consumer(bootstrap, "count-reader")?,
            bootstrap: bootstrap.to_string(),
            topic: topic.to_string(),
            assigned: false,
            counts: HashMap::new(),
            skipped: 0,
        })
    }

    /// Reads what arrives within `wait` and returns the number of count updates applied. Until
    /// the topic exists, it checks for it once per call and returns 0.
    pub fn poll(&mut self, wait: Duration) -> Result<usize, ExampleError> {
        let deadline = Instant::now() + wait;
        if !self.assigned {
            let Some(partitions) = partitions_of(&self.consumer, &self.bootstrap, &self.topic)?
            else {
                std::thread::sleep(wait);
                return Ok(0);
            };
            let mut tpl = TopicPartitionList::new();
            for p in 0..partitions {
                tpl.add_partition_offset(&self.topic, p, Offset::Beginning)
                    .map_err(kafka_error(format!(
                        "assign partition {p} of `{}`",
                        self.topic
                    )))?;
            }
            self.consumer.assign(&tpl).map_err(kafka_error(format!(
                "assign the partitions of `{}`",
                self.topic
            )))?;
            self.assigned = true;
        }
        let mut applied = 0;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(applied);
            }
            match self.consumer.poll(deadline - now) {
                None => return Ok(applied),
                Some(Ok(m)) => {
                    let Some(key) = m.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                        self.skipped += 1;
                        continue;
                    };
                    match m.payload().map(<[u8; 8]>::try_from) {
                        None => {
                            self.counts.remove(key);
                        }
                        Some(Ok(bytes)) => {
                            self.counts
                                .insert(key.to_string(), i64::from_be_bytes(bytes));
                        }
                        Some(Err(_)) => {
                            self.skipped += 1;
                            continue;
                        }
                    }
                    applied += 1;
                }
                Some(Err(e @ KafkaError::MessageConsumptionFatal(_))) => {
                    return Err(kafka_error(format!("read topic `{}`", self.topic))(e));
                }
                // Transient: librdkafka retries.
                Some(Err(_)) => {}
            }
        }
    }

    /// The latest count of every key read so far.
    pub fn counts(&self) -> &HashMap<String, i64> {
        &self.counts
    }

    /// Records skipped because their key was not UTF-8 or their value not 8 bytes.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{data_dir, load_zones};

    #[test]
    fn unknown_zones_and_short_lists() {
        let zones = load_zones(&data_dir().join("taxi_zone_lookup.csv")).unwrap();
        let counts = HashMap::from([("999".to_string(), 3), ("x".to_string(), 3)]);
        assert_eq!(
            render_top_locations(&counts, &zones, 10),
            "Top 2 of 2 pickup locations (6 rides)\n\
             rank   id  zone                           borough          rides\n   \
                1  999  (unknown zone)                                      3\n   \
                2    x  (unknown zone)                                      3\n"
        );
        assert_eq!(
            render_top_locations(&HashMap::new(), &zones, 10),
            "Top 0 of 0 pickup locations (0 rides)\n\
             rank   id  zone                           borough          rides\n"
        );
    }
}
