//! Type-erased node instances and the context passed between them.
//!
//! A task holds its nodes in an arena (`Vec<RefCell<Box<dyn NodeInstance>>>`). Forwarding a
//! record to a child passes `&mut Option<Record<K, V>>` as `&mut dyn Any`: the child takes the
//! record out after a `TypeId` check, so a hop costs no allocation and no serialization. The
//! types of every edge were checked when the topology was built.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::config::{DeserializationHandler, TaskConfig};
use crate::error::{RecordLocation, Result, StreamsError};
use crate::processor::internals::punctuation::PunctuationQueue;
use crate::processor::schedule::Cancellable;
use crate::processor::task_metrics::TaskMetrics;
use crate::record::{RawCopy, RawRecord, Record, RecordMetadata};
use crate::state::store::{SharedCollector, StateStore};
use crate::task_id::TaskId;
use crate::timestamp::InvalidTimestampPolicy;

/// Everything of a task except its nodes.
pub(crate) struct TaskState {
    pub id: TaskId,
    /// Unique per task instance in this process: a task created again (after a dirty close,
    /// or by a replaced thread) is a new incarnation, so per-task state kept outside the task
    /// (the join's time trackers) is not taken over from the old one.
    pub incarnation: u64,
    pub application_id: Arc<str>,
    pub current: Option<RecordMetadata>,
    pub stream_time: i64,
    pub wall_clock: i64,
    pub punctuation: PunctuationQueue,
    pub stores: BTreeMap<String, Box<dyn StateStore>>,
    pub collector: SharedCollector,
    /// Timestamp of the record being processed (stream time during punctuation); stores
    /// stamp plain `put`s with it.
    pub clock: Rc<Cell<i64>>,
    pub metrics: TaskMetrics,
    pub config: TaskConfig,
    /// The node being called (the innermost one when user code panics).
    pub current_node: usize,
    /// The serialized input record being processed, kept when a dead-letter queue is set.
    pub source_raw: Option<RawCopy>,
}

impl TaskState {
    pub(crate) fn location(&self) -> Option<RecordLocation> {
        self.current.as_ref().map(|m| RecordLocation {
            topic: m.topic.to_string(),
            partition: m.partition,
            offset: m.offset,
        })
    }
}

/// The nodes of one sub-topology by local index: their names, children and the stores each may
/// use (the part of the sub-topology's plan a node sees while it runs).
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeWiring {
    pub names: Vec<String>,
    pub children: Vec<Vec<usize>>,
    pub node_stores: Vec<Vec<String>>,
}

/// The untyped context handed to a node: the task's nodes, their wiring, the task's state and
/// which node is being called.
pub(crate) struct RawCtx<'a> {
    pub nodes: &'a [RefCell<Box<dyn NodeInstance>>],
    pub plan: &'a NodeWiring,
    pub task: &'a mut TaskState,
    pub node: usize,
}

impl RawCtx<'_> {
    /// Hands `record` to node `child`.
    pub(crate) fn call<K: 'static, V: 'static>(
        &mut self,
        child: usize,
        record: Record<K, V>,
    ) -> Result<()> {
        let mut slot = Some(record);
        let mut node = self.nodes[child].try_borrow_mut().map_err(|_| {
            StreamsError::Internal(format!(
                "node `{}` was re-entered; topologies must be acyclic",
                self.plan.names[child]
            ))
        })?;
        // Restored on return only: after a panic it names the node that panicked.
        let parent = std::mem::replace(&mut self.task.current_node, child);
        let result = node.process(
            &mut slot,
            RawCtx {
                nodes: self.nodes,
                plan: self.plan,
                task: &mut *self.task,
                node: child,
            },
        );
        self.task.current_node = parent;
        result
    }

    pub(crate) fn name(&self) -> &str {
        &self.plan.names[self.node]
    }
}

/// A node instance of one task.
pub(crate) trait NodeInstance {
    fn init(&mut self, ctx: RawCtx<'_>) -> Result<()>;
    /// `input` is the `&mut Option<Record<K, V>>` of the node's input types.
    fn process(&mut self, input: &mut dyn Any, ctx: RawCtx<'_>) -> Result<()>;
    fn punctuate(&mut self, _id: Cancellable, _timestamp: i64, _ctx: RawCtx<'_>) -> Result<()> {
        Ok(())
    }
    fn flush(&mut self, _ctx: RawCtx<'_>) -> Result<()> {
        Ok(())
    }
    fn close(&mut self, _ctx: RawCtx<'_>) -> Result<()> {
        Ok(())
    }
    fn as_source(&mut self) -> Option<&mut dyn SourceInstance> {
        None
    }
    fn as_source_ref(&self) -> Option<&dyn SourceInstance> {
        None
    }
}

/// Takes the typed record out of a node's input.
pub(crate) fn take_input<K: 'static, V: 'static>(
    input: &mut dyn Any,
    ctx: &RawCtx<'_>,
) -> Result<Record<K, V>> {
    input
        .downcast_mut::<Option<Record<K, V>>>()
        .and_then(Option::take)
        .ok_or_else(|| {
            StreamsError::Internal(format!(
                "node `{}` expected a Record<{}, {}>",
                ctx.name(),
                std::any::type_name::<K>(),
                std::any::type_name::<V>()
            ))
        })
}

/// Turns a user error into one that names the node and the record being processed.
pub(crate) fn attribute(err: StreamsError, node: &str, task: &TaskState) -> StreamsError {
    match err {
        StreamsError::User(source) => StreamsError::Processor {
            node: node.to_string(),
            location: task.location(),
            source,
        },
        other => other,
    }
}

/// Outcome of enqueuing one record.
#[derive(Debug)]
pub(crate) enum Enqueued {
    Queued,
    /// Dropped by policy: an invalid timestamp, a null key the key type cannot hold, or a null
    /// value the value type cannot hold on its way to aggregations only.
    Dropped,
    /// Undecodable, skipped by `LogAndContinue`: the error, for the dead-letter queue.
    Skipped(StreamsError),
}

/// What a source needs to know about the queue a record arrives on.
pub(crate) struct QueueEnv<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub handler: DeserializationHandler,
    pub default_policy: InvalidTimestampPolicy,
    /// Keep a copy of each record's bytes (for the dead-letter queue).
    pub keep_raw: bool,
}

impl QueueEnv<'_> {
    pub(crate) fn location(&self, offset: i64) -> RecordLocation {
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
