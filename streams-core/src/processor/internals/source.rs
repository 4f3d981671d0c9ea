//! Source nodes: deserialize, extract event time, and hold one typed queue per source partition.
//!
//! Records are deserialized and timestamped when they are enqueued, so the task can pick the
//! queue whose head has the lowest timestamp (Kafka Streams' rule) without boxing anything.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::config::DeserializationHandler;
use crate::error::{RecordPart, Result, SerdeError, StreamsError};
use crate::processor::api::ProcessorContext;
use crate::processor::internals::node::{Enqueued, NodeInstance, QueueEnv, RawCtx, SourceInstance};
use crate::record::{RawCopy, RawRecord, Record};
use crate::serdes::{deserialize_opt, Serde};
use crate::timestamp::{InvalidTimestampPolicy, TimestampExtractor};

struct Slot<K, V> {
    /// Record, offset, and the bytes it was read from when kept.
    queue: VecDeque<(Record<K, V>, i64, Option<RawCopy>)>,
    partition_time: i64,
}

pub(crate) struct SourceNode<K, V> {
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    extractor: Arc<dyn TimestampExtractor<K, V>>,
    policy: Option<InvalidTimestampPolicy>,
    slots: Vec<Slot<K, V>>,
    /// A null-key drop was logged at WARN (later ones go to DEBUG; all are counted).
    warned_null_key: bool,
    /// Set by `Topology::plan` when every operation this source feeds drops a record with a
    /// null value (aggregations): then such a record, which the value type cannot hold, is
    /// dropped here and counted, as Kafka Streams drops it there.
    drop_null_values: Arc<AtomicBool>,
    /// A null-value drop was logged at WARN (later ones go to DEBUG; all are counted).
    warned_null_value: bool,
}

impl<K, V> SourceNode<K, V> {
    pub(crate) fn new(
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
        extractor: Arc<dyn TimestampExtractor<K, V>>,
        policy: Option<InvalidTimestampPolicy>,
        topics: usize,
        drop_null_values: Arc<AtomicBool>,
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
            warned_null_key: false,
            drop_null_values,
            warned_null_value: false,
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
                Ok(Err(Enqueued::Skipped(err)))
            }
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> SourceInstance for SourceNode<K, V> {
    /// A record without a key, read with a key serde that has no null (`StringSerde`, ...), is
    /// dropped and counted, whatever the deserialization handler: Kafka Streams passes a null
    /// key on and drops the record at the first aggregation, join or table, with the same
    /// metric; a Rust key type that cannot be null leaves nothing to pass on. Keyless input
    /// meant to be keyed downstream is read with `Nullable(..)` or `UnitSerde` keys.
    fn enqueue(&mut self, slot: usize, raw: RawRecord<'_>, env: &QueueEnv<'_>) -> Result<Enqueued> {
        if raw.key.is_none() && self.key_serde.deserialize_null().is_err() {
            if !std::mem::replace(&mut self.warned_null_key, true) {
                tracing::warn!(
                    topic = env.topic,
                    partition = env.partition,
                    offset = raw.offset,
                    key_serde = %self.key_serde.name(),
                    "dropping a record with a null key: the key serde has no null (read the key with Nullable(..) or UnitSerde to process keyless records); later drops are logged at DEBUG and all are counted in the dropped-records metric"
                );
            } else {
                tracing::debug!(
                    topic = env.topic,
                    partition = env.partition,
                    offset = raw.offset,
                    "dropping a record with a null key"
                );
            }
            return Ok(Enqueued::Dropped);
        }
        if raw.value.is_none()
            && self.drop_null_values.load(Ordering::Relaxed)
            && self.value_serde.deserialize_null().is_err()
        {
            if !std::mem::replace(&mut self.warned_null_value, true) {
                tracing::warn!(
                    topic = env.topic,
                    partition = env.partition,
                    offset = raw.offset,
                    value_serde = %self.value_serde.name(),
                    "Skipping record due to null value: every aggregation this source feeds skips it (as Kafka Streams does); later drops are logged at DEBUG and all are counted in the dropped-records metric"
                );
            } else {
                tracing::debug!(
                    topic = env.topic,
                    partition = env.partition,
                    offset = raw.offset,
                    "Skipping record due to null value"
                );
            }
            return Ok(Enqueued::Dropped);
        }
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
        // A pattern source learns its topics when the runtime expands the pattern: it starts
        // with one slot and grows one per matched topic.
        if slot >= self.slots.len() {
            self.slots.resize_with(slot + 1, || Slot {
                queue: VecDeque::new(),
                partition_time: -1,
            });
        }
        let slot = &mut self.slots[slot];
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
                    return Ok(Enqueued::Dropped);
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
            env.keep_raw.then(|| RawCopy::of(&raw)),
        ));
        Ok(Enqueued::Queued)
    }

    fn head(&self, slot: usize) -> Option<(i64, i64)> {
        self.slots
            .get(slot)?
            .queue
            .front()
            .map(|(r, offset, _)| (r.timestamp, *offset))
    }

    fn queued(&self, slot: usize) -> usize {
        self.slots.get(slot).map_or(0, |s| s.queue.len())
    }

    fn process_head(&mut self, slot: usize, ctx: RawCtx<'_>) -> Result<()> {
        let Some((record, _, raw)) = self.slots.get_mut(slot).and_then(|s| s.queue.pop_front())
        else {
            return Ok(());
        };
        ctx.task.source_raw = raw;
        ctx.task.current_node = ctx.node;
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
