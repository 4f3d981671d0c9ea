//! Processors that cannot change keys (Kafka's `FixedKeyProcessor`, KIP-820), run by
//! [`crate::KStream::process_values`].
//!
//! The guarantee is in the types: a [`FixedKeyRecord`] can only be made by the engine, from a
//! record the processor received, and its key cannot be replaced; the
//! [`FixedKeyProcessorContext`] forwards only such records. So a stream after `process_values`
//! keeps its partitioning, and a later `group_by_key` or join needs no repartition.

use std::time::Duration;

use crate::error::Result;
use crate::processor::api::{Processor, ProcessorContext};
use crate::processor::internals::node::RawCtx;
use crate::processor::schedule::{Cancellable, PunctuationType};
use crate::record::{Headers, Record, RecordMetadata};
use crate::state::store::StateStore;
use crate::task_id::TaskId;

/// A record whose key is fixed: the value, timestamp and headers can change, the key cannot.
/// Only the engine makes them (from the records a [`FixedKeyProcessor`] receives).
#[derive(Debug, Clone, PartialEq)]
pub struct FixedKeyRecord<K, V> {
    key: K,
    value: V,
    timestamp: i64,
    headers: Headers,
}

impl<K, V> FixedKeyRecord<K, V> {
    pub(crate) fn from_record(r: Record<K, V>) -> Self {
        FixedKeyRecord {
            key: r.key,
            value: r.value,
            timestamp: r.timestamp,
            headers: r.headers,
        }
    }

    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }
    /// The value.
    pub fn value(&self) -> &V {
        &self.value
    }
    /// Event time in epoch milliseconds.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }
    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
    /// The value, consuming the record.
    pub fn into_value(self) -> V {
        self.value
    }
    /// The same record (same key) with another value.
    pub fn with_value<V2>(self, value: V2) -> FixedKeyRecord<K, V2> {
        FixedKeyRecord {
            key: self.key,
            value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }
    /// The same record with another timestamp.
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp;
        self
    }
    /// The same record with other headers.
    pub fn with_headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    fn into_record(self) -> Record<K, V> {
        Record {
            key: self.key,
            value: self.value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }
}

/// A node that may change values but never keys (Kafka's `FixedKeyProcessor`); run it with
/// [`crate::KStream::process_values`]. One instance per task, as [`Processor`].
///
/// ```
/// use streams_core::*;
///
/// /// Replaces each value by its length.
/// struct Length;
///
/// impl FixedKeyProcessor<String, String, i32> for Length {
///     fn process(
///         &mut self,
///         record: FixedKeyRecord<String, String>,
///         ctx: &mut FixedKeyProcessorContext<'_, String, i32>,
///     ) -> Result<()> {
///         let len = record.value().len() as i32;
///         ctx.forward(record.with_value(len))
///     }
/// }
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream("words", Consumed::with(StringSerde, StringSerde))
///     .process_values(|| Length, &[])
///     .to("lengths", Produced::with(StringSerde, I32Serde));
/// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
/// driver.input_topic("words", StringSerde, StringSerde).pipe_input("a".into(), "four".into())?;
/// let out = driver.output_topic("lengths", StringSerde, I32Serde);
/// assert_eq!(out.read_key_values_to_list()?, vec![("a".to_string(), 4)]);
/// # Ok::<(), StreamsError>(())
/// ```
pub trait FixedKeyProcessor<K, VIn, VOut = VIn>: 'static {
    /// Called once when the task starts, before any record.
    fn init(&mut self, _ctx: &mut FixedKeyProcessorContext<'_, K, VOut>) -> Result<()> {
        Ok(())
    }
    /// Called for every record, in the order the task processes them.
    fn process(
        &mut self,
        record: FixedKeyRecord<K, VIn>,
        ctx: &mut FixedKeyProcessorContext<'_, K, VOut>,
    ) -> Result<()>;
    /// Called when a punctuator scheduled by this processor fires.
    fn punctuate(
        &mut self,
        _punctuator: Cancellable,
        _timestamp: i64,
        _ctx: &mut FixedKeyProcessorContext<'_, K, VOut>,
    ) -> Result<()> {
        Ok(())
    }
    /// Called before each commit.
    fn flush(&mut self, _ctx: &mut FixedKeyProcessorContext<'_, K, VOut>) -> Result<()> {
        Ok(())
    }
    /// Called once when the task closes.
    fn close(&mut self, _ctx: &mut FixedKeyProcessorContext<'_, K, VOut>) -> Result<()> {
        Ok(())
    }
}

/// The context of a [`FixedKeyProcessor`]: as [`ProcessorContext`], but it forwards only
/// [`FixedKeyRecord`]s, so keys stay as they came in.
pub struct FixedKeyProcessorContext<'a, K, V> {
    inner: ProcessorContext<'a, K, V>,
}

impl<K, V> FixedKeyProcessorContext<'_, K, V> {
    /// Counts a record this processor dropped in the task's `dropped_records` metric.
    pub fn record_dropped(&mut self) {
        self.inner.record_dropped()
    }
    /// The name of this processor node.
    pub fn node_name(&self) -> &str {
        self.inner.node_name()
    }
    /// The task this processor instance belongs to.
    pub fn task_id(&self) -> TaskId {
        self.inner.task_id()
    }
    /// `application.id` of the running application.
    pub fn application_id(&self) -> &str {
        self.inner.application_id()
    }
    /// Topic, partition and offset of the record being processed; `None` during punctuation.
    pub fn record_metadata(&self) -> Option<&RecordMetadata> {
        self.inner.record_metadata()
    }
    /// The task's stream time.
    pub fn stream_time(&self) -> i64 {
        self.inner.stream_time()
    }
    /// Current wall-clock time in epoch ms (the mock clock in the test driver).
    pub fn wall_clock_time(&self) -> i64 {
        self.inner.wall_clock_time()
    }
    /// A state store connected to this processor, by name (see
    /// [`ProcessorContext::get_state_store`]).
    pub fn get_state_store<S: StateStore + Clone>(&self, name: &str) -> Result<S> {
        self.inner.get_state_store(name)
    }
    /// Schedules [`FixedKeyProcessor::punctuate`] every `interval` on the given clock.
    pub fn schedule(&mut self, interval: Duration, kind: PunctuationType) -> Result<Cancellable> {
        self.inner.schedule(interval, kind)
    }
    /// Stops a punctuator.
    pub fn cancel(&mut self, punctuator: &Cancellable) {
        self.inner.cancel(punctuator)
    }
}

impl<K: Clone + 'static, V: Clone + 'static> FixedKeyProcessorContext<'_, K, V> {
    /// Sends a record to every child node.
    pub fn forward(&mut self, record: FixedKeyRecord<K, V>) -> Result<()> {
        self.inner.forward(record.into_record())
    }
    /// Sends a record to the child node with this name only.
    pub fn forward_to(&mut self, child: &str, record: FixedKeyRecord<K, V>) -> Result<()> {
        self.inner.forward_to(child, record.into_record())
    }
}

/// Runs a [`FixedKeyProcessor`] as a [`Processor`] whose output key type is its input's.
pub(crate) struct FixedKeyAdapter<P>(pub P);

fn fixed<'b, K, V>(ctx: &'b mut ProcessorContext<'_, K, V>) -> FixedKeyProcessorContext<'b, K, V> {
    FixedKeyProcessorContext {
        inner: ProcessorContext::new(RawCtx {
            nodes: ctx.raw.nodes,
            plan: ctx.raw.plan,
            task: &mut *ctx.raw.task,
            node: ctx.raw.node,
        }),
    }
}

impl<K, VIn, VOut, P> Processor<K, VIn, K, VOut> for FixedKeyAdapter<P>
where
    K: 'static,
    VIn: 'static,
    VOut: 'static,
    P: FixedKeyProcessor<K, VIn, VOut>,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VOut>) -> Result<()> {
        self.0.init(&mut fixed(ctx))
    }
    fn process(
        &mut self,
        record: Record<K, VIn>,
        ctx: &mut ProcessorContext<'_, K, VOut>,
    ) -> Result<()> {
        self.0
            .process(FixedKeyRecord::from_record(record), &mut fixed(ctx))
    }
    fn punctuate(
        &mut self,
        punctuator: Cancellable,
        timestamp: i64,
        ctx: &mut ProcessorContext<'_, K, VOut>,
    ) -> Result<()> {
        self.0.punctuate(punctuator, timestamp, &mut fixed(ctx))
    }
    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, VOut>) -> Result<()> {
        self.0.flush(&mut fixed(ctx))
    }
    fn close(&mut self, ctx: &mut ProcessorContext<'_, K, VOut>) -> Result<()> {
        self.0.close(&mut fixed(ctx))
    }
}
