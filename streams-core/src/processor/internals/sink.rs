//! Sink nodes: serialize into reusable buffers, pick the partition, hand to the collector.

use std::any::Any;
use std::sync::Arc;

use crate::collector::OutRecord;
use crate::config::ExceptionHandler;
use crate::error::{RecordPart, Result, StreamsError};
use crate::processor::internals::dead_letter::dead_letter;
use crate::processor::internals::node::{take_input, NodeInstance, RawCtx};
use crate::processor::internals::plan::TopicName;
use crate::processor::partitioner::{murmur2_partition, StreamPartitioner};
use crate::record::RecordMetadata;
use crate::serdes::{serialize_into, Serde};

/// Chooses a sink's topic per record.
pub type TopicNameExtractor<K, V> =
    Arc<dyn Fn(&K, &V, Option<&RecordMetadata>) -> String + Send + Sync>;

pub(crate) enum SinkTopic<K, V> {
    Named(TopicName),
    Dynamic(TopicNameExtractor<K, V>),
}

pub(crate) struct SinkNode<K, V> {
    topic: SinkTopic<K, V>,
    resolved: String,
    partitions: Option<i32>,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    key_buf: Vec<u8>,
    value_buf: Vec<u8>,
}

impl<K, V> SinkNode<K, V> {
    pub(crate) fn new(
        topic: SinkTopic<K, V>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
        partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    ) -> Self {
        SinkNode {
            topic,
            resolved: String::new(),
            partitions: None,
            key_serde,
            value_serde,
            partitioner,
            key_buf: Vec::with_capacity(64),
            value_buf: Vec::with_capacity(256),
        }
    }
}

impl<K: 'static, V: 'static> NodeInstance for SinkNode<K, V> {
    fn init(&mut self, ctx: RawCtx<'_>) -> Result<()> {
        if let SinkTopic::Named(name) = &self.topic {
            self.resolved = name.resolve(&ctx.task.application_id);
        }
        Ok(())
    }

    fn process(&mut self, input: &mut dyn Any, ctx: RawCtx<'_>) -> Result<()> {
        let record = take_input::<K, V>(input, &ctx)?;
        let dynamic;
        let topic: &str = match &self.topic {
            SinkTopic::Named(_) => &self.resolved,
            SinkTopic::Dynamic(f) => {
                dynamic = f(&record.key, &record.value, ctx.task.current.as_ref());
                &dynamic
            }
        };
        let serialization = |part, source| StreamsError::Serialization {
            topic: topic.to_string(),
            node: ctx.name().to_string(),
            part,
            source,
        };
        let has_key = serialize_into(&*self.key_serde, &record.key, &mut self.key_buf)
            .map_err(|e| serialization(RecordPart::Key, e))?;
        let has_value = serialize_into(&*self.value_serde, &record.value, &mut self.value_buf)
            .map_err(|e| serialization(RecordPart::Value, e))?;
        let mut collector = ctx.task.collector.borrow_mut();
        let partition = if self.partitioner.is_some() || has_key {
            let count = match (&self.topic, self.partitions) {
                (SinkTopic::Named(_), Some(n)) => n,
                _ => {
                    let n = collector.partition_count(topic)?;
                    if matches!(self.topic, SinkTopic::Named(_)) {
                        self.partitions = Some(n);
                    }
                    n
                }
            };
            let custom = self
                .partitioner
                .as_ref()
                .and_then(|p| p.partition(topic, &record.key, &record.value, count));
            match custom {
                Some(p) if (0..count).contains(&p) => Some(p),
                Some(p) => {
                    return Err(StreamsError::InvalidTopology(format!(
                        "the partitioner of sink `{}` chose partition {p} but topic `{topic}` has {count}",
                        ctx.name()
                    )))
                }
                None if has_key => Some(murmur2_partition(&self.key_buf, count)),
                None => None,
            }
        } else {
            None
        };
        let sent = collector.send(OutRecord {
            topic,
            partition,
            key: has_key.then_some(self.key_buf.as_slice()),
            value: has_value.then_some(self.value_buf.as_slice()),
            timestamp: record.timestamp,
            headers: &record.headers,
        });
        drop(collector);
        let internal = matches!(self.topic, SinkTopic::Named(TopicName::Internal(_)));
        match sent {
            // A repartition record skipped would be input lost: never.
            Err(error @ StreamsError::Production { .. })
                if !internal && ctx.task.config.production == ExceptionHandler::LogAndContinue =>
            {
                tracing::warn!(node = ctx.name(), error = %error, "skipping a record the producer rejected (default.production.exception.handler: LogAndContinue)");
                ctx.task.metrics.dropped_records += 1;
                match (&ctx.task.source_raw, ctx.task.location()) {
                    (Some(raw), Some(location)) => {
                        dead_letter(ctx.task, raw, &error, Some(ctx.name()), &location)
                    }
                    _ => Ok(()),
                }
            }
            other => other,
        }
    }
}
