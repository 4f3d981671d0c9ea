//! The task manager: the lifecycle of a thread's stream tasks, written once for the Kafka
//! stream thread and the `TopologyTestDriver`.
//!
//! A task is created (its stores opened), restores its logged stores from their changelogs,
//! runs (processors initialized, records processed, punctuators fired), commits, and is closed
//! clean (stores flushed, checkpoint written) or dirty (stores wiped: what was not committed
//! must not survive locally). The manager knows no Kafka client; what it needs from outside is
//! three small traits:
//! - [`InputPartitions`]: pause and resume input partitions (the consumer);
//! - [`ChangelogReader`]: read changelog partitions from an offset (the restore consumer);
//! - [`OutputSink`]: make what the tasks sent durable and commit the input offsets with it
//!   (flush and offset commit, or a transaction).
//!
//! # Commit order
//! 1. every running task flushes: processors emit what they hold back, stores write their
//!    batches and send their changelog records;
//! 2. the sink makes all of it durable together with the input offsets of what was processed
//!    (at-least-once: acknowledged, then offsets committed; exactly-once: one transaction);
//! 3. at-least-once only: each task's checkpoint records its changelogs' acknowledged ends.
//!    Under exactly-once a checkpoint is written on a clean close only (a crash means a wipe
//!    and a restore of committed data), and is deleted when the task is created.
//!
//! A sink that reports an aborted commit makes every task close dirty: their input is
//! processed again from the committed offsets, their state restored from the changelogs.
//!
//! # Corrupted restoration
//! A checkpointed changelog offset outside the changelog's range (the changelog was truncated
//! or recreated) cannot be trusted: the store is wiped, its checkpoint entry dropped, and it
//! restores from the beginning, with a warning and the task's `restore_restarts` counter.
// Parts of this module serve only the Kafka runtime (the `kafka` feature).
#![cfg_attr(not(feature = "kafka"), allow(dead_code))]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Result, StreamsError};
use crate::processor::internals::node::TaskMetrics;
use crate::processor::internals::plan::TopologyPlan;
use crate::processor::internals::task::{StreamTask, TaskConfig, TaskEnv, CHECKPOINT_FILE};
use crate::processor::{StateRestoreListener, TaskId};
use crate::record::RawRecord;
use crate::state::internals::checkpoint::Checkpoint;
use crate::state::internals::Backends;
use crate::state::{CacheBudget, ChangelogRecord, SharedCollector};

/// Changelog records applied per changelog topic per restore step at most.
pub(crate) const RESTORE_BATCH: usize = 10_000;

/// A changelog record as read for restoration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangelogEntry {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: i64,
    pub offset: i64,
}

/// What a [`ChangelogReader`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChangelogEvent {
    /// Records of one partition, in offset order.
    Records {
        topic: String,
        partition: i32,
        records: Vec<ChangelogEntry>,
    },
    /// The reader reached the end of the partition (everything before was delivered).
    End { topic: String, partition: i32 },
    /// The read position left the partition's range (truncated or recreated meanwhile).
    /// `None`: the reader cannot tell which partition of the topic.
    OutOfRange {
        topic: String,
        partition: Option<i32>,
    },
}

/// Where a changelog read was asked to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartPosition {
    /// Reading starts there.
    Valid,
    /// The offset is before the partition's first offset or after its end: not assigned.
    OutOfRange { first: i64, end: i64 },
}

/// Reads changelog partitions (the Kafka restore consumer, or the driver's captured logs).
pub(crate) trait ChangelogReader {
    /// Starts reading `topic` partition `partition` at `offset` (0: from the beginning, which
    /// is always valid).
    fn assign(&mut self, topic: &str, partition: i32, offset: i64) -> Result<StartPosition>;
    /// Stops reading a partition.
    fn unassign(&mut self, topic: &str, partition: i32) -> Result<()>;
    /// What is available now, at most `max_per_topic` records per topic, waiting up to `wait`
    /// when nothing is.
    fn read(&mut self, max_per_topic: usize, wait: Duration) -> Result<Vec<ChangelogEvent>>;
}

/// Pauses and resumes input partitions (fetching stops, buffered records stay).
pub(crate) trait InputPartitions {
    fn pause(&mut self, partitions: &[(String, i32)]) -> Result<()>;
    fn resume(&mut self, partitions: &[(String, i32)]) -> Result<()>;
}

/// The input offset to commit for one partition: the next record to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Makes what the tasks sent durable and commits the input offsets with it.
pub(crate) trait OutputSink {
    /// Every record sent so far durable, then the offsets committed with them. `Ok(false)`:
    /// the commit was aborted (exactly-once) and nothing since the last commit counts.
    fn commit(&mut self, offsets: &[InputOffset]) -> Result<bool>;
    /// The offset after the last acknowledged record of a changelog partition, if any.
    fn acked_end(&self, topic: &str, partition: i32) -> Option<i64>;
}

/// The listener set on the client, read at each use (it may be set after start).
#[derive(Clone, Default)]
pub(crate) struct RestoreListenerSlot(Arc<Mutex<Option<Arc<dyn StateRestoreListener>>>>);

impl RestoreListenerSlot {
    pub(crate) fn get(&self) -> Option<Arc<dyn StateRestoreListener>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub(crate) fn set(&self, listener: Arc<dyn StateRestoreListener>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(listener);
    }
}

/// How the manager runs tasks.
pub(crate) struct ManagerConfig {
    pub application_id: String,
    pub plan: Arc<TopologyPlan>,
    /// `state.dir/<application.id>`
    pub state_dir: PathBuf,
    pub task_config: TaskConfig,
    pub exactly_once: bool,
    /// `buffered.records.per.partition` (`usize::MAX`: never pause for backpressure).
    pub buffered_per_partition: usize,
    /// Records over the thread's buffer at which a partition is paused.
    pub pause_slack: usize,
    /// `max.task.idle.ms`.
    pub max_task_idle: Duration,
    pub restore_listener: RestoreListenerSlot,
}

/// One store's restoration from its changelog partition.
struct Restoration {
    store: String,
    /// The next changelog offset to read.
    next: i64,
    started: Instant,
    restored: u64,
}

struct Managed {
    task: StreamTask,
    /// Changelog topic (the task's partition) → progress; empty once restored.
    restoring: BTreeMap<String, Restoration>,
    running: bool,
    /// Persistent changelogs → next offset (everything before is in the local store).
    changelog_ends: BTreeMap<String, i64>,
    /// The task's metrics as last reported by [`TaskManager::take_metrics_delta`].
    published: TaskMetrics,
    /// Since when some input partition of this task (of several) has had nothing buffered
    /// while others had records (`max.task.idle.ms`).
    idle_since: Option<Instant>,
    /// Waiting for data on an empty input partition (`max.task.idle.ms`).
    waiting: bool,
}

impl Managed {
    fn input_partitions(&self) -> Vec<(String, i32)> {
        self.task
            .queues()
            .iter()
            .map(|q| (q.topic.to_string(), q.partition))
            .collect()
    }
}

/// The tasks of one thread and their lifecycle.
pub(crate) struct TaskManager {
    cfg: ManagerConfig,
    collector: SharedCollector,
    budget: Rc<CacheBudget>,
    backends: Backends,
    tasks: BTreeMap<TaskId, Managed>,
    /// Input topic → partition → (task, queue).
    routes: HashMap<String, HashMap<i32, (TaskId, usize)>>,
    paused: BTreeSet<(String, i32)>,
    /// What closed tasks counted since they were last reported.
    unreported: TaskMetrics,
}

fn add_metrics(sum: &mut TaskMetrics, now: &TaskMetrics, before: &TaskMetrics) {
    sum.processed += now.processed - before.processed;
    sum.dropped_records += now.dropped_records - before.dropped_records;
    sum.punctuations += now.punctuations - before.punctuations;
    sum.restore_restarts += now.restore_restarts - before.restore_restarts;
}

impl TaskManager {
    pub(crate) fn new(
        cfg: ManagerConfig,
        collector: SharedCollector,
        budget: Rc<CacheBudget>,
        backends: Backends,
    ) -> TaskManager {
        TaskManager {
            cfg,
            collector,
            budget,
            backends,
            tasks: BTreeMap::new(),
            routes: HashMap::new(),
            paused: BTreeSet::new(),
            unreported: TaskMetrics::default(),
        }
    }

    /// The id of the task of sub-topology `sub` (its index in the plan) for `partition`.
    pub(crate) fn task_id(&self, sub: usize, partition: i32) -> Result<TaskId> {
        let sp = self
            .cfg
            .plan
            .subtopologies
            .get(sub)
            .ok_or_else(|| StreamsError::Internal(format!("no sub-topology #{sub}")))?;
        Ok(TaskId {
            subtopology: sp.id,
            partition,
        })
    }

    /// Creates the task of sub-topology `sub` for `partition` (a no-op when it exists) and
    /// starts restoring its logged stores; a task with nothing to restore runs at once. The
    /// input partitions of a restoring task are paused until it runs.
    pub(crate) fn create_task(
        &mut self,
        sub: usize,
        partition: i32,
        wall_clock: i64,
        reader: &mut dyn ChangelogReader,
        input: &mut dyn InputPartitions,
    ) -> Result<TaskId> {
        let id = self.task_id(sub, partition)?;
        if self.tasks.contains_key(&id) {
            return Ok(id);
        }
        let mut task = StreamTask::new(
            self.cfg.plan.clone(),
            sub,
            partition,
            TaskEnv {
                application_id: &self.cfg.application_id,
                state_dir: &self.cfg.state_dir,
                collector: self.collector.clone(),
                budget: self.budget.clone(),
                backends: &self.backends,
                config: self.cfg.task_config.clone(),
                wall_clock,
            },
        )?;
        let starts = task.restore_start_offsets()?;
        if self.cfg.exactly_once {
            // Under exactly-once the local state may run ahead of the last committed
            // transaction until the next clean close: without the file, a crash means a wipe
            // and a restore of committed data only.
            Checkpoint::delete(&task.task_dir().join(CHECKPOINT_FILE))?;
        }
        let mut managed = Managed {
            task,
            restoring: BTreeMap::new(),
            running: false,
            changelog_ends: BTreeMap::new(),
            published: TaskMetrics::default(),
            idle_since: None,
            waiting: false,
        };
        for (c, from) in starts {
            if c.persistent {
                managed.changelog_ends.insert(c.topic.clone(), from);
            }
            managed.restoring.insert(
                c.topic,
                Restoration {
                    store: c.store,
                    next: from,
                    started: Instant::now(),
                    restored: 0,
                },
            );
        }
        for (qi, q) in managed.task.queues().iter().enumerate() {
            self.routes
                .entry(q.topic.to_string())
                .or_default()
                .insert(q.partition, (id, qi));
        }
        if managed.restoring.is_empty() {
            managed.task.initialize()?;
            managed.running = true;
        } else {
            let inputs = managed.input_partitions();
            input.pause(&inputs)?;
            self.paused.extend(inputs);
            let topics: Vec<String> = managed.restoring.keys().cloned().collect();
            for topic in topics {
                start_restoring(&mut managed, &topic, reader, &self.cfg.restore_listener)?;
            }
            tracing::info!(task = %id, stores = managed.restoring.len(), "restoring state from changelogs");
        }
        self.tasks.insert(id, managed);
        Ok(id)
    }

    /// Reads what the changelogs have and applies it; tasks whose changelogs all reached their
    /// end are initialized and their input resumed. `wait`: how long to wait when nothing is
    /// there. Returns true while some task is still restoring.
    pub(crate) fn restore(
        &mut self,
        reader: &mut dyn ChangelogReader,
        input: &mut dyn InputPartitions,
        wait: Duration,
    ) -> Result<bool> {
        if !self.tasks.values().any(|t| !t.restoring.is_empty()) {
            return Ok(false);
        }
        let listener = self.cfg.restore_listener.get();
        for event in reader.read(RESTORE_BATCH, wait)? {
            match event {
                ChangelogEvent::Records {
                    topic,
                    partition,
                    records,
                } => {
                    let Some((id, m)) = self.restoring_task(&topic, partition) else {
                        continue;
                    };
                    let Some(progress) = m.restoring.get_mut(&topic) else {
                        continue;
                    };
                    let batch: Vec<ChangelogRecord<'_>> = records
                        .iter()
                        .map(|r| ChangelogRecord {
                            key: r.key.as_deref().unwrap_or_default(),
                            value: r.value.as_deref(),
                            timestamp: r.timestamp,
                        })
                        .collect();
                    m.task.restore(&progress.store, &batch)?;
                    progress.restored += batch.len() as u64;
                    if let Some(last) = records.last() {
                        progress.next = last.offset + 1;
                        if let Some(end) = m.changelog_ends.get_mut(&topic) {
                            *end = last.offset + 1;
                        }
                    }
                    if let Some(l) = &listener {
                        l.on_batch_restored(
                            &topic,
                            partition,
                            &progress.store,
                            progress.next,
                            batch.len() as u64,
                        );
                    }
                    tracing::debug!(task = %id, store = %progress.store, records = batch.len(), "restored a batch");
                }
                ChangelogEvent::End { topic, partition } => {
                    let Some((id, m)) = self.restoring_task(&topic, partition) else {
                        continue;
                    };
                    let Some(done) = m.restoring.remove(&topic) else {
                        continue;
                    };
                    let duration = done.started.elapsed();
                    tracing::info!(
                        task = %id,
                        store = %done.store,
                        changelog = %topic,
                        end_offset = done.next,
                        records = done.restored,
                        duration_ms = duration.as_millis() as u64,
                        "store restored"
                    );
                    if let Some(l) = &listener {
                        l.on_restore_end(&topic, partition, &done.store, done.restored, duration);
                    }
                    reader.unassign(&topic, partition)?;
                }
                ChangelogEvent::OutOfRange { topic, partition } => {
                    let ids: Vec<TaskId> = self
                        .tasks
                        .iter()
                        .filter(|(id, m)| {
                            m.restoring.contains_key(&topic)
                                && partition.is_none_or(|p| p == id.partition)
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        if let Some(m) = self.tasks.get_mut(&id) {
                            reader.unassign(&topic, id.partition)?;
                            restart_restoration(m, &topic, None)?;
                            start_restoring(m, &topic, reader, &self.cfg.restore_listener)?;
                        }
                    }
                }
            }
        }
        let mut resume = Vec::new();
        for (id, m) in self.tasks.iter_mut() {
            if m.running || !m.restoring.is_empty() {
                continue;
            }
            m.task.initialize()?;
            m.running = true;
            for p in m.input_partitions() {
                self.paused.remove(&p);
                resume.push(p);
            }
            tracing::info!(task = %id, "task running");
        }
        if !resume.is_empty() {
            input.resume(&resume)?;
        }
        Ok(self.tasks.values().any(|t| !t.restoring.is_empty()))
    }

    fn restoring_task(&mut self, topic: &str, partition: i32) -> Option<(TaskId, &mut Managed)> {
        self.tasks
            .iter_mut()
            .find(|(id, m)| id.partition == partition && m.restoring.contains_key(topic))
            .map(|(id, m)| (*id, m))
    }

    /// Queues a record of an input partition in the task that owns it. `Ok(false)`: no task
    /// here owns the partition (it was revoked; its new owner reads it from the committed
    /// offset). A partition whose queue grows past the thread's buffer is paused.
    pub(crate) fn enqueue(
        &mut self,
        topic: &str,
        partition: i32,
        record: RawRecord<'_>,
        input: &mut dyn InputPartitions,
    ) -> Result<bool> {
        let Some(&(id, qi)) = self.routes.get(topic).and_then(|p| p.get(&partition)) else {
            return Ok(false);
        };
        let Some(m) = self.tasks.get_mut(&id) else {
            return Ok(false);
        };
        m.task.enqueue(qi, record)?;
        // The hard cap is at least `buffered.records.per.partition`: below that, the common
        // case, nothing more is computed for this record.
        let queued = m.task.queued_in(qi);
        if queued >= self.cfg.buffered_per_partition && queued >= self.partition_hard_cap() {
            let key = (topic.to_string(), partition);
            if !self.paused.contains(&key) {
                input.pause(std::slice::from_ref(&key))?;
                self.paused.insert(key);
            }
        }
        Ok(true)
    }

    /// Whether some task reads `topic` partition `partition`.
    pub(crate) fn owns(&self, topic: &str, partition: i32) -> bool {
        self.routes
            .get(topic)
            .is_some_and(|p| p.contains_key(&partition))
    }

    /// `buffered.records.per.partition` × the input partitions of the tasks.
    pub(crate) fn buffer_cap(&self) -> usize {
        let partitions: usize = self.routes.values().map(HashMap::len).sum();
        self.cfg
            .buffered_per_partition
            .saturating_mul(partitions.max(1))
    }

    /// A partition's queue beyond which it is paused (until it is back at
    /// `buffered.records.per.partition`).
    fn partition_hard_cap(&self) -> usize {
        self.buffer_cap().saturating_add(self.cfg.pause_slack)
    }

    /// Records waiting in every task's queues.
    pub(crate) fn queued(&self) -> usize {
        self.tasks.values().map(|t| t.task.queued()).sum()
    }

    /// Some task waits for data on an empty input partition (`max.task.idle.ms`).
    pub(crate) fn any_waiting(&self) -> bool {
        self.tasks.values().any(|t| t.waiting)
    }

    /// Something to do without new input: a restoration, or records to process.
    pub(crate) fn has_work(&self) -> bool {
        self.tasks
            .values()
            .any(|t| !t.restoring.is_empty() || (t.running && t.task.queued() > 0 && !t.waiting))
    }

    /// Every task runs (none restoring).
    pub(crate) fn all_running(&self) -> bool {
        self.tasks.values().all(|t| t.running)
    }

    /// Processes up to `max_per_task` records in each running task. A task with several input
    /// partitions, some empty, waits up to `max.task.idle.ms` for them (so that records go in
    /// timestamp order). Partitions paused for backpressure are resumed once back at
    /// `buffered.records.per.partition`.
    pub(crate) fn process(
        &mut self,
        max_per_task: usize,
        input: &mut dyn InputPartitions,
    ) -> Result<()> {
        let mut resume = Vec::new();
        let max_idle = self.cfg.max_task_idle;
        for m in self.tasks.values_mut() {
            if !m.running {
                continue;
            }
            m.waiting = false;
            let n = m.task.queues().len();
            if !max_idle.is_zero() && n > 1 {
                let empty = (0..n).any(|qi| m.task.queued_in(qi) == 0);
                if !empty {
                    m.idle_since = None;
                } else if m.task.queued() > 0 {
                    let since = *m.idle_since.get_or_insert_with(Instant::now);
                    if since.elapsed() < max_idle {
                        m.waiting = true;
                        continue;
                    }
                }
            }
            for _ in 0..max_per_task {
                if !m.task.process_one()? {
                    break;
                }
            }
            // Nothing paused (the common case): no per-queue lookups.
            if self.paused.is_empty() {
                continue;
            }
            for (qi, q) in m.task.queues().iter().enumerate() {
                let key = (q.topic.to_string(), q.partition);
                if m.task.queued_in(qi) <= self.cfg.buffered_per_partition
                    && self.paused.remove(&key)
                {
                    resume.push(key);
                }
            }
        }
        if !resume.is_empty() {
            input.resume(&resume)?;
        }
        Ok(())
    }

    /// Processes one record: the next one of the first running task (by id) that has records
    /// waiting. `false` if none has.
    pub(crate) fn process_next(&mut self) -> Result<bool> {
        match self
            .tasks
            .values_mut()
            .find(|m| m.running && m.task.queued() > 0)
        {
            Some(m) => m.task.process_one(),
            None => Ok(false),
        }
    }

    /// Moves the wall clock of every running task and fires due wall-clock punctuators.
    pub(crate) fn punctuate_wall_clock(&mut self, now: i64) -> Result<()> {
        for m in self.tasks.values_mut().filter(|m| m.running) {
            m.task.advance_wall_clock(now)?;
        }
        Ok(())
    }

    /// Commits every running task (see the [module docs](self) for the order). `Ok(false)`:
    /// the sink aborted the commit and every task was closed dirty.
    pub(crate) fn commit(
        &mut self,
        sink: &mut dyn OutputSink,
        reader: &mut dyn ChangelogReader,
    ) -> Result<bool> {
        let mut offsets = Vec::new();
        for m in self.tasks.values_mut().filter(|m| m.running) {
            m.task.commit()?;
            for q in m.task.queues() {
                if q.consumed >= 0 {
                    offsets.push(InputOffset {
                        topic: q.topic.to_string(),
                        partition: q.partition,
                        offset: q.consumed,
                    });
                }
            }
        }
        if !sink.commit(&offsets)? {
            self.close_all_dirty(reader);
            return Ok(false);
        }
        self.note_acked(sink);
        if !self.cfg.exactly_once {
            self.write_checkpoints()?;
        }
        Ok(true)
    }

    /// Commits, then closes every task clean (checkpoints written); when the commit is aborted
    /// the tasks were closed dirty already.
    pub(crate) fn commit_and_close(
        &mut self,
        sink: &mut dyn OutputSink,
        reader: &mut dyn ChangelogReader,
    ) -> Result<()> {
        if self.commit(sink, reader)? {
            if self.cfg.exactly_once {
                self.write_checkpoints()?;
            }
            self.close_all(reader)
        } else {
            Ok(())
        }
    }

    /// Closes one task clean (processors closed, stores flushed and closed) and writes its
    /// checkpoint, after the sink has acknowledged what it sent; the caller commits first.
    pub(crate) fn close_task(
        &mut self,
        id: TaskId,
        sink: &dyn OutputSink,
        reader: &mut dyn ChangelogReader,
    ) -> Result<()> {
        let Some(mut m) = self.tasks.remove(&id) else {
            return Err(StreamsError::Internal(format!("no task {id} to close")));
        };
        self.forget(id, &mut m, reader);
        let closed = m.task.close();
        note_acked_task(id, &mut m, sink);
        let written = if m.running {
            write_checkpoint(id, &m)
        } else {
            Ok(())
        };
        add_metrics(&mut self.unreported, m.task.metrics(), &m.published);
        closed.and(written)
    }

    /// Closes every task clean (processors closed, stores flushed and closed). The caller
    /// commits first.
    pub(crate) fn close_all(&mut self, reader: &mut dyn ChangelogReader) -> Result<()> {
        let mut first = None;
        for (id, mut m) in std::mem::take(&mut self.tasks) {
            self.forget(id, &mut m, reader);
            add_metrics(&mut self.unreported, m.task.metrics(), &m.published);
            if let Err(e) = m.task.close() {
                first.get_or_insert(e);
            }
        }
        self.routes.clear();
        self.paused.clear();
        first.map_or(Ok(()), Err)
    }

    /// Closes every task without committing: cached and uncommitted writes are dropped and
    /// the stores emptied (without a checkpoint they restore from their changelogs when they
    /// come back).
    pub(crate) fn close_all_dirty(&mut self, reader: &mut dyn ChangelogReader) {
        for (id, mut m) in std::mem::take(&mut self.tasks) {
            self.forget(id, &mut m, reader);
            add_metrics(&mut self.unreported, m.task.metrics(), &m.published);
            if let Err(e) = m.task.close_dirty() {
                tracing::warn!(task = %id, error = %e, "closing a task dirty failed");
            }
        }
        self.routes.clear();
        self.paused.clear();
    }

    /// Drops a closing task's routes and restorations.
    fn forget(&mut self, id: TaskId, m: &mut Managed, reader: &mut dyn ChangelogReader) {
        for q in m.task.queues() {
            if let Some(parts) = self.routes.get_mut(&*q.topic) {
                parts.remove(&q.partition);
            }
            self.paused.remove(&(q.topic.to_string(), q.partition));
        }
        for topic in std::mem::take(&mut m.restoring).into_keys() {
            if let Err(e) = reader.unassign(&topic, id.partition) {
                tracing::warn!(task = %id, changelog = %topic, error = %e, "cannot stop restoring");
            }
        }
    }

    /// What every task counted since the last call (closed tasks included).
    pub(crate) fn take_metrics_delta(&mut self) -> TaskMetrics {
        let mut sum = std::mem::take(&mut self.unreported);
        for m in self.tasks.values_mut() {
            add_metrics(&mut sum, m.task.metrics(), &m.published);
            m.published = m.task.metrics().clone();
        }
        sum
    }

    /// Moves each running task's changelog end offsets past what the sink acknowledged.
    fn note_acked(&mut self, sink: &dyn OutputSink) {
        for (id, m) in self.tasks.iter_mut().filter(|(_, m)| m.running) {
            note_acked_task(*id, m, sink);
        }
    }

    /// Writes each running task's checkpoint: its persistent changelogs' end offsets.
    fn write_checkpoints(&self) -> Result<()> {
        for (id, m) in self.tasks.iter().filter(|(_, m)| m.running) {
            write_checkpoint(*id, m)?;
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Drops every task without closing it (stores released as they are, nothing written).
    pub(crate) fn drop_tasks(&mut self) {
        self.tasks.clear();
        self.routes.clear();
        self.paused.clear();
    }

    pub(crate) fn task_ids(&self) -> Vec<TaskId> {
        self.tasks.keys().copied().collect()
    }

    pub(crate) fn tasks(&self) -> impl Iterator<Item = &StreamTask> {
        self.tasks.values().map(|m| &m.task)
    }

    pub(crate) fn task(&self, id: TaskId) -> Option<&StreamTask> {
        self.tasks.get(&id).map(|m| &m.task)
    }

    pub(crate) fn task_mut(&mut self, id: TaskId) -> Option<&mut StreamTask> {
        self.tasks.get_mut(&id).map(|m| &mut m.task)
    }

    /// Whether a task runs (restored and initialized).
    #[cfg(test)]
    pub(crate) fn is_running(&self, id: TaskId) -> bool {
        self.tasks.get(&id).is_some_and(|m| m.running)
    }
}

fn note_acked_task(id: TaskId, m: &mut Managed, sink: &dyn OutputSink) {
    for (topic, end) in m.changelog_ends.iter_mut() {
        if let Some(acked) = sink.acked_end(topic, id.partition) {
            *end = (*end).max(acked);
        }
    }
}

fn write_checkpoint(id: TaskId, m: &Managed) -> Result<()> {
    if m.changelog_ends.is_empty() {
        return Ok(());
    }
    let checkpoint = Checkpoint {
        offsets: m
            .changelog_ends
            .iter()
            .map(|(t, o)| ((t.clone(), id.partition), *o))
            .collect(),
    };
    let dir = m.task.task_dir();
    std::fs::create_dir_all(dir).map_err(|e| StreamsError::StateIo {
        action: "create the task directory".into(),
        path: dir.to_path_buf(),
        source: e,
    })?;
    checkpoint.write(&dir.join(CHECKPOINT_FILE))
}

/// Assigns a restoration's changelog partition to the reader at the restoration's offset; an
/// offset out of the changelog's range restarts the restoration from the beginning.
fn start_restoring(
    m: &mut Managed,
    topic: &str,
    reader: &mut dyn ChangelogReader,
    listener: &RestoreListenerSlot,
) -> Result<()> {
    let partition = m.task.id().partition;
    let Some(progress) = m.restoring.get(topic) else {
        return Ok(());
    };
    match reader.assign(topic, partition, progress.next)? {
        StartPosition::Valid => {}
        StartPosition::OutOfRange { first, end } => {
            restart_restoration(m, topic, Some((first, end)))?;
            match reader.assign(topic, partition, 0)? {
                StartPosition::Valid => {}
                StartPosition::OutOfRange { .. } => {
                    return Err(StreamsError::Internal(format!(
                        "the changelog reader refused to read `{topic}` partition {partition} from the beginning"
                    )))
                }
            }
        }
    }
    if let (Some(l), Some(progress)) = (listener.get(), m.restoring.get(topic)) {
        l.on_restore_start(topic, partition, &progress.store, progress.next);
    }
    Ok(())
}

/// A restoration whose changelog offset is out of range: the store is wiped, its checkpoint
/// entry dropped, and it starts over from offset 0.
fn restart_restoration(m: &mut Managed, topic: &str, range: Option<(i64, i64)>) -> Result<()> {
    let id = m.task.id();
    let Some(progress) = m.restoring.get_mut(topic) else {
        return Ok(());
    };
    match range {
        Some((first, end)) => tracing::warn!(
            task = %id,
            store = %progress.store,
            changelog = %topic,
            offset = progress.next,
            first,
            end,
            "the checkpointed changelog offset is out of the changelog's range (truncated or recreated?): wiping the store and restoring it from the beginning"
        ),
        None => tracing::warn!(
            task = %id,
            store = %progress.store,
            changelog = %topic,
            offset = progress.next,
            "the changelog position went out of range during restoration (truncated or recreated?): wiping the store and restoring it from the beginning"
        ),
    }
    m.task.restart_restoration(&progress.store)?;
    progress.next = 0;
    progress.restored = 0;
    progress.started = Instant::now();
    if let Some(end) = m.changelog_ends.get_mut(topic) {
        *end = 0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The lifecycle without a broker: fake input, changelog reader and sink around real tasks
    //! of a counting topology (a RocksDB store, logged and cached).

    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::processor::internals::collector::{OutRecord, RecordCollector};
    use crate::record::Headers;
    use crate::serdes::StringSerde;
    use crate::state::changelog_topic;
    use crate::state::KeyValueStore;
    use crate::test_support::TempDir;
    use crate::{Consumed, Materialized, StreamsBuilder};

    const APP: &str = "tm";

    /// What crossed the boundary, in order.
    #[derive(Debug, Clone, PartialEq)]
    enum Event {
        Sent {
            topic: String,
            partition: i32,
            key: Vec<u8>,
            value: Option<Vec<u8>>,
        },
        Commit(Vec<InputOffset>),
        Pause(Vec<(String, i32)>),
        Resume(Vec<(String, i32)>),
    }

    type Log = Rc<RefCell<Vec<Event>>>;

    struct Collector(Log);
    impl RecordCollector for Collector {
        fn send(&mut self, r: OutRecord<'_>) -> Result<()> {
            self.0.borrow_mut().push(Event::Sent {
                topic: r.topic.to_string(),
                partition: r.partition.unwrap_or(0),
                key: r.key.unwrap_or_default().to_vec(),
                value: r.value.map(<[u8]>::to_vec),
            });
            Ok(())
        }
        fn partition_count(&mut self, _: &str) -> Result<i32> {
            Ok(2)
        }
    }

    struct Input(Log);
    impl InputPartitions for Input {
        fn pause(&mut self, p: &[(String, i32)]) -> Result<()> {
            self.0.borrow_mut().push(Event::Pause(p.to_vec()));
            Ok(())
        }
        fn resume(&mut self, p: &[(String, i32)]) -> Result<()> {
            self.0.borrow_mut().push(Event::Resume(p.to_vec()));
            Ok(())
        }
    }

    /// Acknowledges every changelog record sent; commits succeed unless told otherwise.
    struct Sink {
        log: Log,
        accept: bool,
    }
    impl OutputSink for Sink {
        fn commit(&mut self, offsets: &[InputOffset]) -> Result<bool> {
            self.log.borrow_mut().push(Event::Commit(offsets.to_vec()));
            Ok(self.accept)
        }
        fn acked_end(&self, topic: &str, partition: i32) -> Option<i64> {
            let n = self
                .log
                .borrow()
                .iter()
                .filter(|e| matches!(e, Event::Sent { topic: t, partition: p, .. } if t == topic && *p == partition))
                .count();
            (n > 0).then_some(n as i64)
        }
    }

    /// Serves changelogs from memory; can be told that a position is out of range.
    #[derive(Default)]
    struct Reader {
        logs: BTreeMap<(String, i32), Vec<ChangelogEntry>>,
        assigned: BTreeMap<(String, i32), usize>,
        /// Report this topic out of range at the next read.
        lose: Option<String>,
        /// (topic, partition, offset) of every assign call.
        assigns: Vec<(String, i32, i64)>,
        /// Records per read at most, if less than asked.
        max: Option<usize>,
    }
    impl ChangelogReader for Reader {
        fn assign(&mut self, topic: &str, partition: i32, offset: i64) -> Result<StartPosition> {
            self.assigns.push((topic.to_string(), partition, offset));
            let key = (topic.to_string(), partition);
            let end = self.logs.get(&key).map_or(0, Vec::len);
            if offset as usize > end {
                return Ok(StartPosition::OutOfRange {
                    first: 0,
                    end: end as i64,
                });
            }
            self.assigned.insert(key, offset as usize);
            Ok(StartPosition::Valid)
        }
        fn unassign(&mut self, topic: &str, partition: i32) -> Result<()> {
            self.assigned.remove(&(topic.to_string(), partition));
            Ok(())
        }
        fn read(&mut self, max: usize, _: Duration) -> Result<Vec<ChangelogEvent>> {
            let max = self.max.unwrap_or(max).min(max);
            if let Some(topic) = self.lose.take() {
                return Ok(vec![ChangelogEvent::OutOfRange {
                    topic,
                    partition: None,
                }]);
            }
            let mut events = Vec::new();
            for ((topic, partition), next) in self.assigned.iter_mut() {
                let log = self
                    .logs
                    .get(&(topic.clone(), *partition))
                    .cloned()
                    .unwrap_or_default();
                let until = log.len().min(*next + max);
                if *next < until {
                    events.push(ChangelogEvent::Records {
                        topic: topic.clone(),
                        partition: *partition,
                        records: log[*next..until].to_vec(),
                    });
                    *next = until;
                }
                if *next == log.len() {
                    events.push(ChangelogEvent::End {
                        topic: topic.clone(),
                        partition: *partition,
                    });
                }
            }
            Ok(events)
        }
    }

    fn changelog() -> String {
        changelog_topic(APP, "counts")
    }

    fn entry(key: &str, count: i64, offset: i64) -> ChangelogEntry {
        ChangelogEntry {
            key: Some(key.as_bytes().to_vec()),
            value: Some(count.to_be_bytes().to_vec()),
            timestamp: 0,
            offset,
        }
    }

    fn count_plan() -> Arc<TopologyPlan> {
        let b = StreamsBuilder::new();
        b.stream("in", Consumed::with(StringSerde, StringSerde))
            .group_by_key()
            .count(Materialized::named("counts"));
        Arc::new(b.build().unwrap().plan().unwrap())
    }

    /// A manager of real tasks with fakes around it; `log` records what crossed the boundary.
    struct Fixture {
        dir: TempDir,
        plan: Arc<TopologyPlan>,
        exactly_once: bool,
        log: Log,
        m: TaskManager,
        reader: Reader,
    }

    impl Fixture {
        /// Tasks of the counting topology (store `counts`, input `in`).
        fn new(exactly_once: bool) -> Fixture {
            Fixture::of(count_plan(), exactly_once)
        }

        fn of(plan: Arc<TopologyPlan>, exactly_once: bool) -> Fixture {
            let dir = TempDir::new("task-manager");
            let log = Log::default();
            let m = Fixture::manager(&plan, &dir, exactly_once, &log);
            Fixture {
                dir,
                plan,
                exactly_once,
                log,
                m,
                reader: Reader::default(),
            }
        }

        fn manager(plan: &Arc<TopologyPlan>, dir: &TempDir, eos: bool, log: &Log) -> TaskManager {
            let collector: SharedCollector =
                Rc::new(RefCell::new(Box::new(Collector(log.clone()))));
            TaskManager::new(
                ManagerConfig {
                    application_id: APP.into(),
                    plan: plan.clone(),
                    state_dir: dir.path().join(APP),
                    task_config: TaskConfig::default(),
                    exactly_once: eos,
                    buffered_per_partition: 100,
                    pause_slack: 10,
                    max_task_idle: Duration::ZERO,
                    restore_listener: RestoreListenerSlot::default(),
                },
                collector,
                Rc::new(CacheBudget::new(1 << 20)),
                Backends::new(8 << 20),
            )
        }

        /// A new manager on the same state directory (a restarted instance); the old one and
        /// its tasks are dropped first.
        fn restart(&mut self) {
            self.m.drop_tasks();
            self.m = Fixture::manager(&self.plan, &self.dir, self.exactly_once, &self.log);
        }

        fn input(&self) -> Input {
            Input(self.log.clone())
        }

        fn create(&mut self, partition: i32) -> TaskId {
            let mut input = self.input();
            self.m
                .create_task(0, partition, 0, &mut self.reader, &mut input)
                .unwrap()
        }

        fn create_running(&mut self, partition: i32) -> TaskId {
            let id = self.create(partition);
            self.restore_all();
            id
        }

        fn restore_all(&mut self) {
            for _ in 0..10 {
                let mut input = self.input();
                if !self
                    .m
                    .restore(&mut self.reader, &mut input, Duration::ZERO)
                    .unwrap()
                {
                    return;
                }
            }
            panic!("restoration did not finish in 10 steps");
        }

        /// Queues a record of `in` whose timestamp is its offset.
        fn pipe(&mut self, partition: i32, offset: i64, key: &str) -> bool {
            self.pipe_at("in", partition, offset, key, offset)
        }

        fn pipe_at(
            &mut self,
            topic: &str,
            partition: i32,
            offset: i64,
            key: &str,
            ts: i64,
        ) -> bool {
            let headers = Headers::new();
            let record = RawRecord {
                key: Some(key.as_bytes()),
                value: Some(b"v"),
                timestamp: ts,
                offset,
                headers: &headers,
            };
            let mut input = self.input();
            self.m
                .enqueue(topic, partition, record, &mut input)
                .unwrap()
        }

        fn process(&mut self, max_per_task: usize) {
            let mut input = self.input();
            self.m.process(max_per_task, &mut input).unwrap();
        }

        fn sink(&self, accept: bool) -> Sink {
            Sink {
                log: self.log.clone(),
                accept,
            }
        }

        fn commit(&mut self, accept: bool) -> bool {
            let mut sink = self.sink(accept);
            self.m.commit(&mut sink, &mut self.reader).unwrap()
        }

        fn commit_and_close(&mut self) {
            let mut sink = self.sink(true);
            self.m
                .commit_and_close(&mut sink, &mut self.reader)
                .unwrap();
        }

        fn count(&self, id: TaskId, key: &str) -> Option<i64> {
            let store = self.m.task(id).unwrap().store("counts").unwrap();
            let store = store
                .as_any()
                .downcast_ref::<KeyValueStore<String, i64>>()
                .expect("a KeyValueStore<String, i64>");
            store.get(&key.to_string()).unwrap()
        }

        fn checkpoint(&self, id: TaskId) -> Option<Checkpoint> {
            let path = self
                .dir
                .path()
                .join(APP)
                .join(id.to_string())
                .join(CHECKPOINT_FILE);
            Checkpoint::read(&path).unwrap()
        }

        fn events(&self) -> Vec<Event> {
            self.log.borrow().clone()
        }
    }

    #[test]
    fn a_task_restores_with_its_input_paused_then_runs() {
        let mut f = Fixture::new(false);
        f.reader.logs.insert(
            (changelog(), 1),
            vec![entry("a", 1, 0), entry("a", 2, 1), entry("b", 1, 2)],
        );
        let id = f.create(1);
        assert!(!f.m.is_running(id));
        assert_eq!(f.events(), [Event::Pause(vec![("in".into(), 1)])]);
        assert_eq!(f.reader.assigns, [(changelog(), 1, 0)]);
        // Records queued while restoring wait.
        assert!(f.pipe(1, 0, "a"));
        f.process(100);
        assert_eq!(f.m.queued(), 1);

        f.restore_all();
        assert!(f.m.is_running(id));
        assert!(
            f.reader.assigned.is_empty(),
            "the changelog is released once restored"
        );
        assert_eq!(
            f.events().last(),
            Some(&Event::Resume(vec![("in".into(), 1)]))
        );
        assert_eq!(f.count(id, "a"), Some(2));
        f.process(100);
        assert_eq!(f.m.queued(), 0);
        assert_eq!(f.count(id, "a"), Some(3));
    }

    #[test]
    fn commit_sends_changelogs_before_offsets_then_checkpoints_the_acknowledged_ends() {
        let mut f = Fixture::new(false);
        let id = f.create_running(0);
        for (offset, key) in ["a", "b", "a"].iter().enumerate() {
            assert!(f.pipe(0, offset as i64, key));
        }
        f.process(100);
        f.log.borrow_mut().clear();
        assert!(f.commit(true));
        let events = f.events();
        let commit = events
            .iter()
            .position(|e| matches!(e, Event::Commit(_)))
            .unwrap();
        // The cache's two keys reach the changelog, then the offsets commit.
        assert_eq!(commit, 2, "{events:?}");
        assert!(events[..commit]
            .iter()
            .all(|e| matches!(e, Event::Sent { topic, .. } if *topic == changelog())));
        assert_eq!(
            events[commit],
            Event::Commit(vec![InputOffset {
                topic: "in".into(),
                partition: 0,
                offset: 3
            }])
        );
        let cp = f
            .checkpoint(id)
            .expect("a checkpoint after an at-least-once commit");
        assert_eq!(cp.offsets.get(&(changelog(), 0)), Some(&2));
    }

    #[test]
    fn exactly_once_checkpoints_on_clean_close_only() {
        let mut f = Fixture::new(true);
        let id = f.create_running(0);
        assert!(f.pipe(0, 0, "a"));
        f.process(100);
        assert!(f.commit(true));
        assert_eq!(f.checkpoint(id), None);
        f.commit_and_close();
        assert!(f.m.is_empty());
        let cp = f.checkpoint(id).expect("a checkpoint after a clean close");
        assert_eq!(cp.offsets.get(&(changelog(), 0)), Some(&1));

        // Created again, an exactly-once task deletes its checkpoint: a crash from here on
        // must not trust local state that may run ahead of the committed transactions.
        f.restart();
        f.reader
            .logs
            .insert((changelog(), 0), vec![entry("a", 1, 0)]);
        let id = f.create(0);
        assert_eq!(f.checkpoint(id), None);
        assert_eq!(f.reader.assigns.last(), Some(&(changelog(), 0, 1)));
    }

    #[test]
    fn an_aborted_commit_closes_every_task_dirty() {
        let mut f = Fixture::new(true);
        f.reader
            .logs
            .insert((changelog(), 1), vec![entry("z", 5, 0)]);
        let running = f.create_running(0);
        let restoring = f.create(1);
        assert!(f.pipe(0, 0, "a"));
        f.process(100);
        assert!(!f.commit(false));
        assert!(f.m.is_empty());
        assert!(f.reader.assigned.is_empty(), "restorations stopped");
        assert!(!f.pipe(0, 1, "a"), "no task owns the partition any more");
        for id in [running, restoring] {
            assert_eq!(f.checkpoint(id), None);
        }
        // The uncommitted count is gone from the local store: reopened, the task starts from
        // what the (empty) changelog holds.
        f.restart();
        let id = f.create_running(0);
        assert_eq!(f.count(id, "a"), None);
    }

    #[test]
    fn a_checkpoint_past_the_changelog_end_wipes_the_store_and_restores_from_the_start() {
        let mut f = Fixture::new(false);
        let id = f.create_running(0);
        for (offset, key) in ["stale", "stale", "a"].iter().enumerate() {
            assert!(f.pipe(0, offset as i64, key));
        }
        f.process(100);
        f.commit_and_close();
        let cp = f.checkpoint(id).unwrap();
        assert_eq!(cp.offsets.get(&(changelog(), 0)), Some(&2));

        // The changelog was recreated: it now holds one record, the checkpoint says 2.
        f.restart();
        f.reader = Reader::default();
        f.reader
            .logs
            .insert((changelog(), 0), vec![entry("a", 7, 0)]);
        let id = f.create(0);
        assert_eq!(f.reader.assigns, [(changelog(), 0, 2), (changelog(), 0, 0)]);
        assert_eq!(f.checkpoint(id), None, "the entry goes with the store");
        f.restore_all();
        assert_eq!(f.count(id, "stale"), None, "the store was wiped");
        assert_eq!(f.count(id, "a"), Some(7));
        assert_eq!(f.m.task(id).unwrap().metrics().restore_restarts, 1);
        assert_eq!(f.m.take_metrics_delta().restore_restarts, 1);
    }

    #[test]
    fn a_position_lost_during_restoration_starts_it_over() {
        let mut f = Fixture::new(false);
        f.reader
            .logs
            .insert((changelog(), 0), vec![entry("a", 1, 0), entry("b", 1, 1)]);
        let id = f.create(0);
        // One record restored, then the changelog is truncated and recreated under the reader.
        f.reader.max = Some(1);
        let mut input = f.input();
        assert!(f
            .m
            .restore(&mut f.reader, &mut input, Duration::ZERO)
            .unwrap());
        assert_eq!(f.count(id, "a"), Some(1));
        f.reader.max = None;
        f.reader
            .logs
            .insert((changelog(), 0), vec![entry("b", 9, 0)]);
        f.reader.lose = Some(changelog());
        assert!(f
            .m
            .restore(&mut f.reader, &mut input, Duration::ZERO)
            .unwrap());
        f.restore_all();
        assert_eq!(f.count(id, "a"), None, "wiped before restoring again");
        assert_eq!(f.count(id, "b"), Some(9));
        assert_eq!(f.m.task(id).unwrap().metrics().restore_restarts, 1);
    }

    #[test]
    fn backpressure_pauses_a_partition_past_the_buffer_and_resumes_it_once_drained() {
        let mut f = Fixture::new(false);
        f.create_running(0);
        f.log.borrow_mut().clear();
        // buffered 100 × 1 partition + slack 10.
        for offset in 0..110 {
            f.pipe(0, offset, "k");
        }
        assert_eq!(f.events(), [Event::Pause(vec![("in".into(), 0)])]);
        f.pipe(0, 110, "k");
        assert_eq!(f.events().len(), 1, "paused once");
        f.process(5);
        assert_eq!(f.events().len(), 1, "106 left: still over the buffer");
        f.process(6);
        assert_eq!(
            f.events().last(),
            Some(&Event::Resume(vec![("in".into(), 0)]))
        );
    }

    #[test]
    fn closed_tasks_metrics_are_still_reported() {
        let mut f = Fixture::new(false);
        f.create_running(0);
        f.pipe(0, 0, "k");
        f.process(10);
        assert_eq!(f.m.take_metrics_delta().processed, 1);
        f.pipe(0, 1, "k");
        f.process(10);
        f.commit_and_close();
        assert_eq!(f.m.take_metrics_delta().processed, 1);
        assert_eq!(f.m.take_metrics_delta().processed, 0);
    }

    // The join's time tracker lives outside the task (both sides share it) and was released
    // only by the processors' `close`, which a dirty close skips: the task created again took
    // over the stream time its predecessor had reached, and dropped the replayed records as
    // late.
    #[test]
    fn a_join_task_created_again_after_a_dirty_close_starts_its_stream_time_over() {
        let b = StreamsBuilder::new();
        let left = b.stream("left", Consumed::with(StringSerde, StringSerde));
        let right = b.stream("right", Consumed::with(StringSerde, StringSerde));
        left.join(
            &right,
            |l: &String, r: &String| format!("{l}+{r}"),
            crate::JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10))
                .unwrap(),
        )
        .to("joined", crate::Produced::with(StringSerde, StringSerde));
        let mut f = Fixture::of(Arc::new(b.build().unwrap().plan().unwrap()), true);
        let joined = |f: &Fixture| {
            f.events()
                .iter()
                .filter(|e| matches!(e, Event::Sent { topic, .. } if topic == "joined"))
                .count()
        };

        f.create_running(0);
        assert!(f.pipe_at("left", 0, 0, "k", 1_000));
        f.process(10);
        assert!(!f.commit(false));

        // Processing resumes from the committed offsets, with earlier timestamps.
        let id = f.create_running(0);
        assert!(f.pipe_at("left", 0, 0, "k", 100));
        assert!(f.pipe_at("right", 0, 0, "k", 105));
        f.process(10);
        assert_eq!(joined(&f), 1);
        assert_eq!(f.m.task(id).unwrap().metrics().dropped_records, 0);
    }
}
