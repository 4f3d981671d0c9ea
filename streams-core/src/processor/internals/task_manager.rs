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
use crate::processor::internals::plan::TopologyPlan;
use crate::processor::internals::task::{StreamTask, TaskConfig, TaskEnv, CHECKPOINT_FILE};
use crate::processor::restore_listener::StateRestoreListener;
use crate::processor::task_metrics::TaskMetrics;
use crate::record::RawRecord;
use crate::state::cache::CacheBudget;
use crate::state::internals::backends::Backends;
use crate::state::internals::checkpoint::Checkpoint;
use crate::state::store::{ChangelogRecord, SharedCollector};
use crate::task_id::TaskId;

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
