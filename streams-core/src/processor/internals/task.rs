//! `StreamTask`: one sub-topology instance for one partition. The Kafka runtime and the
//! `TopologyTestDriver` both run exactly this; only what feeds `enqueue` and what the collector
//! does with output differ.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::config::ExceptionHandler;
use crate::error::{panic_message, RecordLocation, Result, StreamsError, UserPanic};
use crate::processor::internals::dead_letter::dead_letter;
use crate::processor::internals::node::{Enqueued, QueueEnv};
use crate::processor::internals::node::{NodeInstance, RawCtx, TaskState};
use crate::processor::internals::plan::TopologyPlan;
use crate::processor::internals::punctuation::PunctuationQueue;
use crate::processor::internals::task_dirs::TaskDirGuard;
use crate::processor::schedule::PunctuationType;
use crate::processor::task_metrics::TaskMetrics;
use crate::record::{RawCopy, RawRecord, RecordMetadata};
use crate::state::cache::CacheBudget;
use crate::state::internals::backends::Backends;
use crate::state::internals::checkpoint::Checkpoint;
use crate::state::store::{
    changelog_topic, ChangelogRecord, SharedCollector, StateStore, StoreContext,
};
use crate::task_id::TaskId;

pub(crate) use crate::config::TaskConfig;

/// What a task gets from the thread (or test driver) that runs it.
pub(crate) struct TaskEnv<'a> {
    pub application_id: &'a str,
    /// `state.dir/<application.id>`
    pub state_dir: &'a Path,
    pub collector: SharedCollector,
    pub budget: Rc<CacheBudget>,
    pub backends: &'a Backends,
    pub config: TaskConfig,
    pub wall_clock: i64,
}

/// Task instances created in this process (see `TaskState::incarnation`).
static INCARNATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The file in a task's directory that holds its stores' changelog offsets.
pub(crate) const CHECKPOINT_FILE: &str = ".checkpoint";

/// A logged store of a task and its changelog topic.
#[derive(Debug, Clone)]
pub(crate) struct ChangelogInfo {
    pub store: String,
    pub topic: String,
    pub persistent: bool,
}

/// One source topic-partition of a task.
pub(crate) struct PartitionQueue {
    pub topic: Arc<str>,
    pub partition: i32,
    node: usize,
    slot: usize,
    /// Offset of the next record to read after everything processed or dropped (-1: none).
    pub consumed: i64,
}

pub(crate) struct StreamTask {
    plan: Arc<TopologyPlan>,
    sub: usize,
    nodes: Vec<RefCell<Box<dyn NodeInstance>>>,
    queues: Vec<PartitionQueue>,
    state: TaskState,
    closed: bool,
    initialized: bool,
    task_dir: PathBuf,
    /// The directory is in use while the task lives (the obsolete-directory cleaner skips it).
    _dir_guard: TaskDirGuard,
    changelogs: Vec<ChangelogInfo>,
    /// Persistent stores whose local directory was there before this task opened them (the
    /// others start empty, whatever the checkpoint says).
    reopened: BTreeSet<String>,
}

impl StreamTask {
    /// Creates the task's nodes and opens its stores. Restore logged stores with
    /// [`StreamTask::restore`], then call [`StreamTask::initialize`] before processing.
    pub(crate) fn new(
        plan: Arc<TopologyPlan>,
        sub: usize,
        partition: i32,
        env: TaskEnv<'_>,
    ) -> Result<Self> {
        let sp = plan
            .subtopologies
            .get(sub)
            .ok_or_else(|| StreamsError::Internal(format!("no sub-topology #{sub}")))?;
        let id = TaskId {
            subtopology: sp.id,
            partition,
        };
        let nodes = sp.factories.iter().map(|f| RefCell::new(f())).collect();
        let queues = sp
            .sources
            .iter()
            .map(|s| PartitionQueue {
                topic: Arc::from(s.topic.resolve(env.application_id)),
                partition,
                node: s.node,
                slot: s.slot,
                consumed: -1,
            })
            .collect();
        let task_dir = env.state_dir.join(id.to_string());
        let dir_guard = TaskDirGuard::new(&task_dir);
        let clock = Rc::new(Cell::new(-1));
        let store_ctx = StoreContext {
            application_id: env.application_id,
            task_id: id,
            task_dir: &task_dir,
            budget: &env.budget,
            collector: &env.collector,
            clock: &clock,
            backends: env.backends,
        };
        let mut stores: BTreeMap<String, Box<dyn StateStore>> = BTreeMap::new();
        let mut changelogs = Vec::new();
        let mut reopened = BTreeSet::new();
        for builder in &sp.stores {
            if builder.persistent() && task_dir.join(builder.name()).is_dir() {
                reopened.insert(builder.name().to_string());
            }
            stores.insert(builder.name().to_string(), builder.build(&store_ctx)?);
            if builder.logged() {
                changelogs.push(ChangelogInfo {
                    store: builder.name().to_string(),
                    topic: changelog_topic(env.application_id, builder.name()),
                    persistent: builder.persistent(),
                });
            }
        }
        for g in &plan.global_stores {
            stores.insert(g.name.clone(), (g.handle)(&g.cell));
        }
        Ok(StreamTask {
            sub,
            nodes,
            queues,
            state: TaskState {
                id,
                incarnation: INCARNATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                application_id: Arc::from(env.application_id),
                current: None,
                stream_time: -1,
                wall_clock: env.wall_clock,
                punctuation: PunctuationQueue::default(),
                stores,
                collector: env.collector,
                clock,
                metrics: TaskMetrics::default(),
                config: env.config,
                current_node: 0,
                source_raw: None,
            },
            closed: false,
            initialized: false,
            task_dir,
            _dir_guard: dir_guard,
            changelogs,
            reopened,
            plan,
        })
    }

    /// Where the restoration of each logged store starts in its changelog: the task's
    /// checkpointed offset for a persistent store whose local directory was there when the
    /// task opened, else 0 after wiping the store. A checkpoint that cannot be parsed is
    /// ignored with a warning (every store restores in full). The checkpoint is then rewritten
    /// at once without the entries of the stores that restore from 0: an entry must describe
    /// what its store holds, or a crash during this restoration would leave an offset that a
    /// later start trusts for a store that was wiped. (A store directory deleted by hand, as
    /// the corrupt-state error advises, with its `.checkpoint` left behind, used to restore only
    /// the changelog's tail into an empty store.)
    pub(crate) fn restore_start_offsets(&mut self) -> Result<Vec<(ChangelogInfo, i64)>> {
        let path = self.task_dir.join(CHECKPOINT_FILE);
        let id = self.state.id;
        let (checkpoint, unreadable) = match Checkpoint::read(&path) {
            Ok(checkpoint) => (checkpoint, false),
            Err(e @ StreamsError::CorruptCheckpoint { .. }) => {
                tracing::warn!(task = %id, error = %e, "ignoring the unreadable checkpoint: every store of the task restores from the start of its changelog");
                (None, true)
            }
            Err(e) => return Err(e),
        };
        let mut starts = Vec::with_capacity(self.changelogs.len());
        let mut kept = BTreeMap::new();
        for c in self.changelogs.clone() {
            let key = (c.topic.clone(), id.partition);
            let offset = checkpoint
                .as_ref()
                .filter(|_| c.persistent && self.reopened.contains(&c.store))
                .and_then(|cp| cp.offsets.get(&key).copied())
                .filter(|o| *o >= 0);
            match offset {
                Some(o) => {
                    kept.insert(key, o);
                    starts.push((c, o));
                }
                None => {
                    if c.persistent && checkpoint.is_some() && !self.reopened.contains(&c.store) {
                        tracing::warn!(task = %id, store = %c.store, "the store's local directory is missing: restoring it from the start of its changelog, not from the checkpoint");
                    }
                    self.wipe(&c.store)?;
                    starts.push((c, 0));
                }
            }
        }
        match checkpoint {
            Some(cp) if cp.offsets == kept => {}
            Some(_) if !kept.is_empty() => Checkpoint { offsets: kept }.write(&path)?,
            Some(_) => Checkpoint::delete(&path)?,
            None if unreadable => Checkpoint::delete(&path)?,
            None => {}
        }
        Ok(starts)
    }

    /// Starts a store's restoration over: the store is wiped and its entry dropped from the
    /// checkpoint together (an entry must describe what its store holds), and the task's
    /// `restore_restarts` counter goes up. For a changelog offset that is out of range.
    pub(crate) fn restart_restoration(&mut self, store: &str) -> Result<()> {
        let info = self
            .changelogs
            .iter()
            .find(|c| c.store == store)
            .cloned()
            .ok_or_else(|| {
                StreamsError::Internal(format!(
                    "task {} has no logged store `{store}`",
                    self.state.id
                ))
            })?;
        let path = self.task_dir.join(CHECKPOINT_FILE);
        let checkpoint = match Checkpoint::read(&path) {
            Ok(cp) => cp,
            // Unreadable: it describes nothing; the whole file goes.
            Err(StreamsError::CorruptCheckpoint { .. }) => {
                Checkpoint::delete(&path)?;
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(mut cp) = checkpoint {
            if cp
                .offsets
                .remove(&(info.topic, self.state.id.partition))
                .is_some()
            {
                if cp.offsets.is_empty() {
                    Checkpoint::delete(&path)?;
                } else {
                    cp.write(&path)?;
                }
            }
        }
        self.wipe(store)?;
        self.state.metrics.restore_restarts += 1;
        Ok(())
    }

    /// The task's state directory.
    pub(crate) fn task_dir(&self) -> &Path {
        &self.task_dir
    }

    /// Applies changelog records to a store.
    pub(crate) fn restore(&mut self, store: &str, records: &[ChangelogRecord<'_>]) -> Result<()> {
        self.state
            .stores
            .get(store)
            .ok_or_else(|| {
                StreamsError::Internal(format!("task {} has no store `{store}`", self.state.id))
            })?
            .restore(records)
    }

    /// Empties a store (before restoring it from the beginning of its changelog).
    pub(crate) fn wipe(&mut self, store: &str) -> Result<()> {
        match self.state.stores.get(store) {
            Some(s) => s.wipe(),
            None => Ok(()),
        }
    }

    /// Runs every processor's `init`. Called once, after restoration.
    pub(crate) fn initialize(&mut self) -> Result<()> {
        if self.initialized {
            return Ok(());
        }
        self.initialized = true;
        self.init()
    }

    fn init(&mut self) -> Result<()> {
        let sp = &self.plan.subtopologies[self.sub];
        for (i, cell) in self.nodes.iter().enumerate() {
            let mut node = cell
                .try_borrow_mut()
                .map_err(|_| StreamsError::Internal("node borrowed during init".into()))?;
            node.init(RawCtx {
                nodes: &self.nodes,
                plan: &sp.wiring,
                task: &mut self.state,
                node: i,
            })?;
        }
        Ok(())
    }

    /// Prepares a commit: processors emit what they hold back (in topological order, so
    /// upstream emissions reach downstream caches first), then stores write their batches and
    /// changelogs.
    pub(crate) fn commit(&mut self) -> Result<()> {
        let sp = &self.plan.subtopologies[self.sub];
        self.state.current = None;
        self.state.clock.set(self.state.stream_time);
        for (i, cell) in self.nodes.iter().enumerate() {
            let mut node = cell
                .try_borrow_mut()
                .map_err(|_| StreamsError::Internal("node busy during commit".into()))?;
            node.flush(RawCtx {
                nodes: &self.nodes,
                plan: &sp.wiring,
                task: &mut self.state,
                node: i,
            })?;
        }
        for store in self.state.stores.values() {
            store.flush()?;
        }
        Ok(())
    }

    pub(crate) fn id(&self) -> TaskId {
        self.state.id
    }

    pub(crate) fn queues(&self) -> &[PartitionQueue] {
        &self.queues
    }

    /// Deserializes a record, extracts its timestamp and queues it (or drops it by policy).
    pub(crate) fn enqueue(&mut self, queue: usize, raw: RawRecord<'_>) -> Result<()> {
        let q = self
            .queues
            .get_mut(queue)
            .ok_or_else(|| StreamsError::Internal(format!("task has no queue #{queue}")))?;
        let mut node = self.nodes[q.node]
            .try_borrow_mut()
            .map_err(|_| StreamsError::Internal("source busy during enqueue".into()))?;
        let source = node
            .as_source()
            .ok_or_else(|| StreamsError::Internal("queue bound to a non-source node".into()))?;
        let outcome = source.enqueue(
            q.slot,
            raw,
            &QueueEnv {
                topic: &q.topic,
                partition: q.partition,
                handler: self.state.config.handler,
                default_policy: self.state.config.timestamp_policy,
                keep_raw: self.state.config.dead_letter_queue.is_some(),
            },
        )?;
        let skipped = match outcome {
            Enqueued::Queued => return Ok(()),
            Enqueued::Dropped => None,
            Enqueued::Skipped(error) => Some(error),
        };
        self.state.metrics.dropped_records += 1;
        if source.queued(q.slot) == 0 {
            q.consumed = q.consumed.max(raw.offset + 1);
        }
        drop(node);
        if let Some(error) = skipped {
            let location = RecordLocation {
                topic: q.topic.to_string(),
                partition: q.partition,
                offset: raw.offset,
            };
            dead_letter(&self.state, &RawCopy::of(&raw), &error, None, &location)?;
        }
        Ok(())
    }

    /// Records waiting in one queue.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn queued_in(&self, queue: usize) -> usize {
        self.queues.get(queue).map_or(0, |q| {
            self.nodes[q.node]
                .borrow()
                .as_source_ref()
                .map_or(0, |s| s.queued(q.slot))
        })
    }

    /// Records waiting in all queues.
    pub(crate) fn queued(&self) -> usize {
        self.queues
            .iter()
            .map(|q| {
                self.nodes[q.node]
                    .borrow()
                    .as_source_ref()
                    .map_or(0, |s| s.queued(q.slot))
            })
            .sum()
    }

    /// Processes the waiting record with the lowest timestamp across the task's queues (ties:
    /// the queue listed first), then fires due stream-time punctuators. `false` if nothing
    /// was waiting.
    pub(crate) fn process_one(&mut self) -> Result<bool> {
        let mut best: Option<(i64, usize, i64)> = None;
        for (i, q) in self.queues.iter().enumerate() {
            let node = self.nodes[q.node].borrow();
            if let Some((ts, offset)) = node.as_source_ref().and_then(|s| s.head(q.slot)) {
                if best.is_none_or(|(b, _, _)| ts < b) {
                    best = Some((ts, i, offset));
                }
            }
        }
        let Some((timestamp, qi, offset)) = best else {
            return Ok(false);
        };
        let sp = &self.plan.subtopologies[self.sub];
        let q = &mut self.queues[qi];
        self.state.stream_time = self.state.stream_time.max(timestamp);
        self.state.clock.set(timestamp);
        match &mut self.state.current {
            Some(m) if Arc::ptr_eq(&m.topic, &q.topic) => {
                m.partition = q.partition;
                m.offset = offset;
            }
            current => {
                *current = Some(RecordMetadata {
                    topic: q.topic.clone(),
                    partition: q.partition,
                    offset,
                })
            }
        }
        let continue_on_error = self.state.config.processing == ExceptionHandler::LogAndContinue;
        let outcome = {
            let mut node = self.nodes[q.node]
                .try_borrow_mut()
                .map_err(|_| StreamsError::Internal("source busy".into()))?;
            let source = node
                .as_source()
                .ok_or_else(|| StreamsError::Internal("queue bound to a non-source node".into()))?;
            let mut run = || {
                source.process_head(
                    q.slot,
                    RawCtx {
                        nodes: &self.nodes,
                        plan: &sp.wiring,
                        task: &mut self.state,
                        node: q.node,
                    },
                )
            };
            if continue_on_error {
                // Caught here only when the handler continues; otherwise the stream thread
                // catches it and the uncaught-error policy decides.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(
                    |payload| {
                        let node = sp.wiring.names.get(self.state.current_node).cloned();
                        Err(StreamsError::Processor {
                            node: node.unwrap_or_default(),
                            location: self.state.location(),
                            source: Box::new(UserPanic(panic_message(&*payload))),
                        })
                    },
                )
            } else {
                run()
            }
        };
        let raw = self.state.source_raw.take();
        match outcome {
            Ok(()) => {}
            Err(error @ StreamsError::Processor { .. }) if continue_on_error => {
                self.skip_failed_record(error, raw)?;
            }
            Err(e) => return Err(e),
        }
        let q = &mut self.queues[qi];
        q.consumed = q.consumed.max(offset + 1);
        self.state.metrics.processed += 1;
        self.state.current = None;
        self.punctuate(PunctuationType::StreamTime)?;
        Ok(true)
    }

    /// A record whose processing failed, skipped by `processing.exception.handler`: logged,
    /// counted as dropped, and sent to the dead-letter queue if there is one.
    fn skip_failed_record(&mut self, error: StreamsError, raw: Option<RawCopy>) -> Result<()> {
        let StreamsError::Processor { node, location, .. } = &error else {
            return Err(error);
        };
        tracing::warn!(task = %self.state.id, error = %error, "skipping a record whose processing failed (processing.exception.handler: LogAndContinue)");
        self.state.metrics.dropped_records += 1;
        if let (Some(raw), Some(location)) = (raw, location) {
            dead_letter(&self.state, &raw, &error, Some(node), location)?;
        }
        Ok(())
    }

    /// Fires the punctuators of `kind` that are due. Stream time must be known (a record was
    /// processed) for stream-time punctuators.
    pub(crate) fn punctuate(&mut self, kind: PunctuationType) -> Result<bool> {
        let now = match kind {
            PunctuationType::StreamTime => self.state.stream_time,
            PunctuationType::WallClockTime => self.state.wall_clock,
        };
        if now < 0 || self.state.punctuation.is_empty(kind) {
            return Ok(false);
        }
        let sp = &self.plan.subtopologies[self.sub];
        let continue_on_error = self.state.config.processing == ExceptionHandler::LogAndContinue;
        let mut fired = false;
        self.state.current = None;
        self.state.clock.set(now);
        while let Some((id, node)) = self.state.punctuation.pop_due(kind, now) {
            let mut n = self.nodes[node]
                .try_borrow_mut()
                .map_err(|_| StreamsError::Internal("node busy during punctuation".into()))?;
            self.state.current_node = node;
            let mut run = || {
                n.punctuate(
                    id,
                    now,
                    RawCtx {
                        nodes: &self.nodes,
                        plan: &sp.wiring,
                        task: &mut self.state,
                        node,
                    },
                )
            };
            let outcome = if continue_on_error {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(
                    |payload| {
                        Err(StreamsError::Processor {
                            node: sp.wiring.names[node].clone(),
                            location: None,
                            source: Box::new(UserPanic(panic_message(&*payload))),
                        })
                    },
                )
            } else {
                run()
            };
            match outcome {
                Ok(()) => {}
                // No record to skip: the punctuation is logged and the task goes on, as
                // Kafka's processing handler does for punctuators.
                Err(error @ StreamsError::Processor { .. }) if continue_on_error => {
                    tracing::warn!(task = %self.state.id, error = %error, "a punctuation failed (processing.exception.handler: LogAndContinue)");
                }
                Err(e) => return Err(e),
            }
            self.state.metrics.punctuations += 1;
            fired = true;
        }
        Ok(fired)
    }

    /// Moves the task's wall clock (never backwards) and fires due wall-clock punctuators.
    pub(crate) fn advance_wall_clock(&mut self, now: i64) -> Result<bool> {
        self.state.wall_clock = self.state.wall_clock.max(now);
        self.punctuate(PunctuationType::WallClockTime)
    }

    pub(crate) fn metrics(&self) -> &TaskMetrics {
        &self.state.metrics
    }

    pub(crate) fn stream_time(&self) -> i64 {
        self.state.stream_time
    }

    pub(crate) fn store(&self, name: &str) -> Option<&dyn StateStore> {
        self.state.stores.get(name).map(|s| &**s)
    }

    /// Closes the task without flushing: cached and unflushed writes are dropped and the
    /// stores emptied, so that nothing from an aborted transaction survives locally (the task
    /// restores from its changelogs when it is created again). Idempotent.
    pub(crate) fn close_dirty(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let mut first_err = None;
        for store in self.state.stores.values() {
            if let Err(e) = store.wipe().and_then(|_| store.close()) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Closes nodes (in order) and stores. Idempotent.
    pub(crate) fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let sp = &self.plan.subtopologies[self.sub];
        let mut first_err = None;
        for (i, cell) in self.nodes.iter().enumerate() {
            let Ok(mut node) = cell.try_borrow_mut() else {
                continue;
            };
            if let Err(e) = node.close(RawCtx {
                nodes: &self.nodes,
                plan: &sp.wiring,
                task: &mut self.state,
                node: i,
            }) {
                first_err.get_or_insert(e);
            }
        }
        for store in self.state.stores.values() {
            if let Err(e) = store.flush().and_then(|_| store.close()) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}
