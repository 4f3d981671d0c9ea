//! Reading changelog partitions with Kafka consumers: the [`ChangelogReader`] of the stream
//! threads (restoring tasks' stores) and of the global thread (global stores).
//!
//! One assign-only consumer per topic, because partition-EOF events carry no topic name. The
//! consumers run with `auto.offset.reset=error`, so a position outside the log is reported,
//! never silently moved to an end; before a partition is assigned at a nonzero offset its
//! watermarks are read, so an out-of-range checkpoint is known at once and for that partition.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::error::{Result, StreamsError};
use crate::processor::internals::task_manager::{
    ChangelogEntry, ChangelogEvent, ChangelogReader, StartPosition,
};

/// How long reading a partition's watermarks may take before the read starts unchecked (an
/// out-of-range position is then still reported by the consumer).
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(10);

struct TopicReader {
    consumer: BaseConsumer,
    assigned: BTreeSet<i32>,
}

/// Reads changelog (or global) topics from given offsets.
pub(crate) struct KafkaChangelogReader {
    config: ClientConfig,
    /// What the consumers are for, in error messages ("restore", "global").
    purpose: &'static str,
    topics: HashMap<String, TopicReader>,
}

impl KafkaChangelogReader {
    /// `config`: the consumer settings (bootstrap servers, isolation level, user keys); the
    /// reader sets what it relies on.
    pub(crate) fn new(mut config: ClientConfig, purpose: &'static str) -> KafkaChangelogReader {
        config
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "error")
            .set("fetch.queue.backoff.ms", "10");
        KafkaChangelogReader {
            config,
            purpose,
            topics: HashMap::new(),
        }
    }

    fn reader(&mut self, topic: &str) -> Result<&mut TopicReader> {
        if !self.topics.contains_key(topic) {
            let consumer: BaseConsumer = self.config.create().map_err(|e| {
                StreamsError::kafka(format!("create a {} consumer", self.purpose), e)
            })?;
            self.topics.insert(
                topic.to_string(),
                TopicReader {
                    consumer,
                    assigned: BTreeSet::new(),
                },
            );
        }
        self.topics
            .get_mut(topic)
            .ok_or_else(|| StreamsError::Internal(format!("no reader for `{topic}`")))
    }
}

impl ChangelogReader for KafkaChangelogReader {
    fn assign(&mut self, topic: &str, partition: i32, offset: i64) -> Result<StartPosition> {
        let purpose = self.purpose;
        let r = self.reader(topic)?;
        if offset > 0 {
            match r
                .consumer
                .fetch_watermarks(topic, partition, WATERMARK_TIMEOUT)
            {
                Ok((first, end)) if offset < first || offset > end => {
                    return Ok(StartPosition::OutOfRange { first, end })
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(topic, partition, error = %e, "cannot read the partition's offsets; reading from offset {offset} unchecked")
                }
            }
        }
        let position = if offset > 0 {
            Offset::Offset(offset)
        } else {
            Offset::Beginning
        };
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, position)
            .map_err(|e| {
                StreamsError::kafka(format!("{purpose} `{topic}` partition {partition}"), e)
            })?;
        if r.assigned.contains(&partition) {
            r.consumer.incremental_unassign(&tpl).map_err(|e| {
                StreamsError::kafka(format!("{purpose} `{topic}` partition {partition}"), e)
            })?;
        }
        r.consumer.incremental_assign(&tpl).map_err(|e| {
            StreamsError::kafka(format!("{purpose} `{topic}` partition {partition}"), e)
        })?;
        r.assigned.insert(partition);
        Ok(StartPosition::Valid)
    }

    fn unassign(&mut self, topic: &str, partition: i32) -> Result<()> {
        let Some(r) = self.topics.get_mut(topic) else {
            return Ok(());
        };
        if !r.assigned.remove(&partition) {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(topic, partition);
        r.consumer.incremental_unassign(&tpl).map_err(|e| {
            StreamsError::kafka(
                format!(
                    "stop reading `{topic}` partition {partition} ({})",
                    self.purpose
                ),
                e,
            )
        })
    }

    fn read(&mut self, max_per_topic: usize, wait: Duration) -> Result<Vec<ChangelogEvent>> {
        let mut events = Vec::new();
        let mut wait = wait;
        for (topic, r) in &self.topics {
            if r.assigned.is_empty() {
                continue;
            }
            let mut batches: BTreeMap<i32, Vec<ChangelogEntry>> = BTreeMap::new();
            for i in 0..max_per_topic {
                let timeout = if i == 0 { wait } else { Duration::ZERO };
                match r.consumer.poll(timeout) {
                    None => break,
                    Some(Ok(m)) => batches
                        .entry(m.partition())
                        .or_default()
                        .push(ChangelogEntry {
                            key: m.key().map(<[u8]>::to_vec),
                            value: m.payload().map(<[u8]>::to_vec),
                            timestamp: m.timestamp().to_millis().unwrap_or(0),
                            offset: m.offset(),
                        }),
                    Some(Err(KafkaError::PartitionEOF(partition))) => {
                        // What came before the end first.
                        if let Some(records) = batches.remove(&partition) {
                            events.push(ChangelogEvent::Records {
                                topic: topic.clone(),
                                partition,
                                records,
                            });
                        }
                        events.push(ChangelogEvent::End {
                            topic: topic.clone(),
                            partition,
                        });
                    }
                    Some(Err(KafkaError::MessageConsumption(
                        RDKafkaErrorCode::AutoOffsetReset | RDKafkaErrorCode::OffsetOutOfRange,
                    ))) => {
                        // librdkafka's error names the partition, rust-rdkafka's does not.
                        tracing::warn!(topic = %topic, purpose = self.purpose, "a read position is out of the log's range");
                        events.push(ChangelogEvent::OutOfRange {
                            topic: topic.clone(),
                            partition: None,
                        });
                        break;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(topic = %topic, purpose = self.purpose, error = %e, "consumer error (retrying)");
                        break;
                    }
                }
            }
            wait = Duration::ZERO;
            for (partition, records) in batches {
                events.push(ChangelogEvent::Records {
                    topic: topic.clone(),
                    partition,
                    records,
                });
            }
        }
        Ok(events)
    }
}
