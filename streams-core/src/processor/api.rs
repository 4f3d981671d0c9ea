//! The interface of a hand-written node: [`Processor`] and the [`ProcessorContext`] it is called
//! with.

use std::marker::PhantomData;
use std::time::Duration;

use crate::error::{Result, StreamsError};
use crate::processor::internals::node::RawCtx;
use crate::processor::schedule::{Cancellable, PunctuationType};
use crate::record::{Record, RecordMetadata};
use crate::state::store::StateStore;
use crate::task_id::TaskId;

/// A node of a topology written by hand.
///
/// One instance is created per task by the supplier given to [`Topology::add_processor`](crate::Topology::add_processor) or
/// [`crate::KStream::process`], so an instance sees one partition's records in order and may keep
/// plain fields. Errors from user code can be returned with [`StreamsError::user`]; the engine
/// adds the node name and the record's topic, partition and offset.
///
/// ```
/// use std::time::Duration;
/// use streams_core::{Processor, ProcessorContext, PunctuationType, Record, Result, Cancellable};
///
/// /// Counts records and emits the running total every 10 s of stream time.
/// struct Counter { n: i64 }
///
/// impl Processor<String, String, String, i64> for Counter {
///     fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<()> {
///         ctx.schedule(Duration::from_secs(10), PunctuationType::StreamTime)?;
///         Ok(())
///     }
///     fn process(&mut self, _r: Record<String, String>, _ctx: &mut ProcessorContext<'_, String, i64>) -> Result<()> {
///         self.n += 1;
///         Ok(())
///     }
///     fn punctuate(&mut self, _p: Cancellable, ts: i64, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<()> {
///         ctx.forward(Record::new("total".to_string(), self.n, ts))
///     }
/// }
/// ```
pub trait Processor<KIn, VIn, KOut = KIn, VOut = VIn>: 'static {
    /// Called once when the task starts, before any record. Get stores and schedule
    /// punctuators here.
    fn init(&mut self, _ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<()> {
        Ok(())
    }
    /// Called for every record, in the order the task processes them.
    fn process(
        &mut self,
        record: Record<KIn, VIn>,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
    ) -> Result<()>;
    /// Called when a punctuator scheduled by this processor fires. `timestamp` is the current
    /// stream time or wall-clock time, by the punctuator's type.
    fn punctuate(
        &mut self,
        _punctuator: Cancellable,
        _timestamp: i64,
        _ctx: &mut ProcessorContext<'_, KOut, VOut>,
    ) -> Result<()> {
        Ok(())
    }
    /// Called before each commit: emit whatever the processor holds back (the DSL's caching
    /// aggregations emit their latest results here).
    fn flush(&mut self, _ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<()> {
        Ok(())
    }
    /// Called once when the task closes.
    fn close(&mut self, _ctx: &mut ProcessorContext<'_, KOut, VOut>) -> Result<()> {
        Ok(())
    }
}

/// What a processor can do besides computing: forward records downstream, read the metadata of
/// the current record, use state stores and schedule punctuators.
pub struct ProcessorContext<'a, K, V> {
    pub(crate) raw: RawCtx<'a>,
    _types: PhantomData<fn(K, V)>,
}

impl<'a, K, V> ProcessorContext<'a, K, V> {
    pub(crate) fn new(raw: RawCtx<'a>) -> Self {
        ProcessorContext {
            raw,
            _types: PhantomData,
        }
    }

    /// Counts a record this processor dropped (a late record for a closed window, say) in the
    /// task's `dropped_records` metric.
    pub fn record_dropped(&mut self) {
        self.raw.task.metrics.dropped_records += 1;
    }

    /// The name of this processor node.
    pub fn node_name(&self) -> &str {
        &self.raw.plan.names[self.raw.node]
    }

    /// Names of the nodes this one forwards to, in order.
    pub fn child_names(&self) -> impl Iterator<Item = &str> {
        let plan = self.raw.plan;
        plan.children[self.raw.node]
            .iter()
            .map(move |&c| plan.names[c].as_str())
    }

    /// The task this processor instance belongs to.
    pub fn task_id(&self) -> TaskId {
        self.raw.task.id
    }

    /// The instance of the task (see `TaskState::incarnation`).
    pub(crate) fn task_incarnation(&self) -> u64 {
        self.raw.task.incarnation
    }

    /// `application.id` of the running application.
    pub fn application_id(&self) -> &str {
        &self.raw.task.application_id
    }

    /// Topic, partition and offset of the record being processed; `None` during punctuation.
    pub fn record_metadata(&self) -> Option<&RecordMetadata> {
        self.raw.task.current.as_ref()
    }

    /// The task's stream time: the largest timestamp it has processed (-1 before any record).
    pub fn stream_time(&self) -> i64 {
        self.raw.task.stream_time
    }

    /// Current wall-clock time in epoch ms (the mock clock in the test driver).
    pub fn wall_clock_time(&self) -> i64 {
        self.raw.task.wall_clock
    }

    /// A state store connected to this processor, by name. `S` is the store's handle type, for
    /// example [`crate::state::KeyValueStore<K, V>`]. Handles are cheap to clone; keep the one you
    /// get in `init`.
    pub fn get_state_store<S: StateStore + Clone>(&self, name: &str) -> Result<S> {
        let node = self.node_name();
        if !self.raw.plan.node_stores[self.raw.node]
            .iter()
            .any(|s| s == name)
        {
            return Err(StreamsError::StoreAccess {
                node: node.to_string(),
                store: name.to_string(),
                reason: "the store is not connected to this processor; pass its name when \
                         adding the processor (Topology::add_state_store / KStream::process)"
                    .into(),
            });
        }
        let store = self
            .raw
            .task
            .stores
            .get(name)
            .ok_or_else(|| StreamsError::StoreAccess {
                node: node.to_string(),
                store: name.to_string(),
                reason: "no store of that name exists in this task".into(),
            })?;
        store
            .as_any()
            .downcast_ref::<S>()
            .or_else(|| store.key_value_view()?.downcast_ref::<S>())
            .cloned()
            .ok_or_else(|| StreamsError::StoreAccess {
                node: node.to_string(),
                store: name.to_string(),
                reason: format!(
                    "the store is not a `{}`; check the key and value types",
                    std::any::type_name::<S>()
                ),
            })
    }

    /// Schedules [`Processor::punctuate`] every `interval` on the given clock.
    pub fn schedule(&mut self, interval: Duration, kind: PunctuationType) -> Result<Cancellable> {
        let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        if interval_ms < 1 {
            return Err(StreamsError::InvalidTopology(format!(
                "processor `{}` scheduled a punctuator with interval {interval:?}; it must be at least 1 ms",
                self.node_name()
            )));
        }
        let node = self.raw.node;
        let task = &mut *self.raw.task;
        let start = match kind {
            // Aligned to 0: fires as soon as there is stream time.
            PunctuationType::StreamTime => 0,
            PunctuationType::WallClockTime => task.wall_clock.saturating_add(interval_ms),
        };
        Ok(task.punctuation.schedule(node, kind, start, interval_ms))
    }

    /// Stops a punctuator.
    pub fn cancel(&mut self, punctuator: &Cancellable) {
        self.raw.task.punctuation.cancel(punctuator.id);
    }
}

impl<K: Clone + 'static, V: Clone + 'static> ProcessorContext<'_, K, V> {
    /// Sends a record to every child node.
    pub fn forward(&mut self, record: Record<K, V>) -> Result<()> {
        let plan = self.raw.plan;
        let children = &plan.children[self.raw.node];
        match children.split_last() {
            None => Ok(()),
            Some((&last, rest)) => {
                for &child in rest {
                    self.raw.call(child, record.clone())?;
                }
                self.raw.call(last, record)
            }
        }
    }

    /// Sends a record to the child node with this name only.
    pub fn forward_to(&mut self, child: &str, record: Record<K, V>) -> Result<()> {
        let plan = self.raw.plan;
        let target = plan.children[self.raw.node]
            .iter()
            .copied()
            .find(|&c| plan.names[c] == child)
            .ok_or_else(|| {
                StreamsError::InvalidTopology(format!(
                    "processor `{}` forwarded to `{child}`, which is not one of its children ({})",
                    self.node_name(),
                    plan.children[self.raw.node]
                        .iter()
                        .map(|&c| plan.names[c].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        self.raw.call(target, record)
    }

    /// Sends a record to the `index`-th child (in the order children were connected).
    pub(crate) fn forward_to_index(&mut self, index: usize, record: Record<K, V>) -> Result<()> {
        let plan = self.raw.plan;
        match plan.children[self.raw.node].get(index) {
            Some(&child) => self.raw.call(child, record),
            None => Err(StreamsError::Internal(format!(
                "node `{}` has no child #{index}",
                self.node_name()
            ))),
        }
    }
}
