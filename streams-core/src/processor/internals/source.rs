//! Source nodes: deserialize, extract event time, and hold one typed queue per source partition.
//!
//! Records are deserialized and timestamped when they are enqueued, so the task can pick the
//! queue whose head has the lowest timestamp (Kafka Streams' rule) without boxing anything.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;

use crate::config::DeserializationHandler;
use crate::error::{RecordLocation, RecordPart, Result, SerdeError, StreamsError};
use crate::processor::internals::node::{NodeInstance, RawCtx};
use crate::processor::ProcessorContext;
use crate::record::{RawRecord, Record};
use crate::serdes::{deserialize_opt, Serde};
use crate::timestamp::{InvalidTimestampPolicy, TimestampExtractor};

/// Why a record was dropped on arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    Undecodable,
    InvalidTimestamp,
}

/// Outcome of enqueuing one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enqueued {
    Queued,
    Dropped(DropReason),
}

/// What a source needs to know about the queue a record arrives on.
pub(crate) struct QueueEnv<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub handler: DeserializationHandler,
    pub default_policy: InvalidTimestampPolicy,
}

impl QueueEnv<'_> {
    fn location(&self, offset: i64) -> RecordLocation {
        RecordLocation {
            topic: self.topic.to_string(),
            partition: self.partition,
            offset,
        }
    }
}

pub(crate) trait SourceInstance {
    fn enqueue(&mut self, slot: usize, raw: RawRecord<'_>, env: &QueueEnv<'_>) -> Result<Enqueued>;
    /// Timestamp and offset of the head of a slot's queue.
    fn head(&self, slot: usize) -> Option<(i64, i64)>;
    fn queued(&self, slot: usize) -> usize;
    /// Forwards the head of a slot's queue to the source's children.
    fn process_head(&mut self, slot: usize, ctx: RawCtx<'_>) -> Result<()>;
}

struct Slot<K, V> {
    queue: VecDeque<(Record<K, V>, i64)>,
    partition_time: i64,
}

pub(crate) struct SourceNode<K, V> {
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    extractor: Arc<dyn TimestampExtractor<K, V>>,
    policy: Option<InvalidTimestampPolicy>,
    slots: Vec<Slot<K, V>>,
}

impl<K, V> SourceNode<K, V> {
    pub(crate) fn new(
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
        extractor: Arc<dyn TimestampExtractor<K, V>>,
        policy: Option<InvalidTimestampPolicy>,
        topics: usize,
    ) -> Self {
        SourceNode {
            key_serde,
            value_serde,
            extractor,
            policy,
            slots: (0..topics)
                .map(|_| Slot {
                    queue: VecDeque::new(),
                    partition_time: -1,
                })
                .collect(),
        }
    }

    fn undecodable<T>(
        env: &QueueEnv<'_>,
        offset: i64,
        part: RecordPart,
        source: SerdeError,
    ) -> Result<std::result::Result<T, Enqueued>> {
        let err = StreamsError::Deserialization {
            location: env.location(offset),
            part,
            source,
        };
        match env.handler {
            DeserializationHandler::LogAndFail => Err(err),
            DeserializationHandler::LogAndContinue => {
                tracing::warn!(error = %err, "skipping undecodable record (LogAndContinue)");
                Ok(Err(Enqueued::Dropped(DropReason::Undecodable)))
            }
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> SourceInstance for SourceNode<K, V> {
    fn enqueue(&mut self, slot: usize, raw: RawRecord<'_>, env: &QueueEnv<'_>) -> Result<Enqueued> {
        let key = match deserialize_opt(&*self.key_serde, raw.key) {
            Ok(k) => k,
            Err(e) => match Self::undecodable(env, raw.offset, RecordPart::Key, e)? {
                Ok(k) => k,
                Err(dropped) => return Ok(dropped),
            },
        };
        let value = match deserialize_opt(&*self.value_serde, raw.value) {
            Ok(v) => v,
            Err(e) => match Self::undecodable(env, raw.offset, RecordPart::Value, e)? {
                Ok(v) => v,
                Err(dropped) => return Ok(dropped),
            },
        };
        let slot = self
            .slots
            .get_mut(slot)
            .ok_or_else(|| StreamsError::Internal(format!("source has no slot {slot}")))?;
        let mut timestamp =
            self.extractor
                .extract(&key, &value, raw.timestamp, slot.partition_time);
        if timestamp < 0 {
            let policy = self.policy.unwrap_or(env.default_policy);
            match policy {
                InvalidTimestampPolicy::Fail => {
                    return Err(StreamsError::InvalidTimestamp {
                        location: env.location(raw.offset),
                        timestamp,
                    })
                }
                InvalidTimestampPolicy::UsePreviousTime if slot.partition_time >= 0 => {
                    timestamp = slot.partition_time;
                }
                _ => {
                    tracing::warn!(
                        topic = env.topic,
                        partition = env.partition,
                        offset = raw.offset,
                        timestamp,
                        "dropping record with invalid timestamp"
                    );
                    return Ok(Enqueued::Dropped(DropReason::InvalidTimestamp));
                }
            }
        }
        slot.partition_time = slot.partition_time.max(timestamp);
        slot.queue.push_back((
            Record {
                key,
                value,
                timestamp,
                headers: raw.headers.clone(),
            },
            raw.offset,
        ));
        Ok(Enqueued::Queued)
    }

    fn head(&self, slot: usize) -> Option<(i64, i64)> {
        self.slots
            .get(slot)?
            .queue
            .front()
            .map(|(r, offset)| (r.timestamp, *offset))
    }

    fn queued(&self, slot: usize) -> usize {
        self.slots.get(slot).map_or(0, |s| s.queue.len())
    }

    fn process_head(&mut self, slot: usize, ctx: RawCtx<'_>) -> Result<()> {
        let Some((record, _)) = self.slots.get_mut(slot).and_then(|s| s.queue.pop_front()) else {
            return Ok(());
        };
        ProcessorContext::<K, V>::new(ctx).forward(record)
    }
}

impl<K: Clone + 'static, V: Clone + 'static> NodeInstance for SourceNode<K, V> {
    fn init(&mut self, _ctx: RawCtx<'_>) -> Result<()> {
        Ok(())
    }
    fn process(&mut self, _input: &mut dyn Any, ctx: RawCtx<'_>) -> Result<()> {
        Err(StreamsError::Internal(format!(
            "source node `{}` was handed a record by another node",
            ctx.name()
        )))
    }
    fn as_source(&mut self) -> Option<&mut dyn SourceInstance> {
        Some(self)
    }
    fn as_source_ref(&self) -> Option<&dyn SourceInstance> {
        Some(self)
    }
}
