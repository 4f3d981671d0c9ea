//! A stream thread: one consumer (group member), one producer, the tasks of its assigned
//! partitions, and the loop poll → restore → process → punctuate → commit.
//!
//! Tasks hold `Rc` store handles, so they are created, run and closed on this thread only.
//! Rebalance callbacks run inside `consumer.poll` on this thread; they reach the thread's state
//! through a thread-local, so revocation can commit and close tasks before the partitions go.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers as _, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::error::{Result, StreamsError};
use crate::kafka::{Shared, StreamThreadExceptionResponse, ThreadPhase};
use crate::processor::internals::collector::{OutRecord, RecordCollector};
use crate::processor::internals::node::TaskMetrics;
use crate::processor::internals::plan::TopologyPlan;
use crate::processor::internals::task::{StreamTask, TaskConfig, TaskEnv, CHECKPOINT_FILE};
use crate::processor::{PunctuationType, TaskId};
use crate::record::{Headers, RawRecord};
use crate::state::internals::checkpoint::Checkpoint;
use crate::state::internals::Backends;
use crate::state::{CacheBudget, ChangelogRecord, SharedCollector};

/// Records taken from the consumer per loop iteration at most.
const MAX_POLL_RECORDS: usize = 2_000;
/// Records one task processes per loop iteration at most.
const MAX_PROCESS_PER_TASK: usize = 2_000;
/// Changelog records applied per store per restore step.
const RESTORE_BATCH: usize = 10_000;
/// How long a commit waits for the producer to have every record acknowledged.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a transactional call (init, send offsets, commit, abort) may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(60);

/// A changelog record read for restoration: key, value, timestamp, offset.
type RestoredRecord = (Vec<u8>, Option<Vec<u8>>, i64, i64);

/// Everything a stream thread needs, prepared by `KafkaStreams::start`.
#[derive(Clone)]
pub(crate) struct ThreadSetup {
    pub index: usize,
    pub application_id: String,
    pub plan: Arc<TopologyPlan>,
    pub task_config: TaskConfig,
    /// `state.dir/<application.id>`
    pub state_dir: PathBuf,
    pub cache_max_bytes: usize,
    pub rocksdb_memory_bytes: usize,
    pub commit_interval: Duration,
    /// `exactly_once_v2`: a transactional producer (its config carries `transactional.id`),
    /// offsets committed inside the transaction, checkpoints only on a clean close.
    pub exactly_once: bool,
    pub buffered_per_partition: usize,
    /// `max.task.idle.ms`.
    pub max_task_idle: Duration,
    /// `task.timeout.ms`: how long offset commits may keep failing before the thread gives up.
    pub task_timeout: Duration,
    pub consumer: ClientConfig,
    pub producer: ClientConfig,
    pub restore: ClientConfig,
    /// Every topic the topology reads, resolved.
    pub source_topics: Vec<String>,
    /// Resolved topic → (sub-topology index, queue index) of the tasks reading it.
    pub readers: HashMap<String, Vec<(usize, usize)>>,
    /// Partition counts known at start (sources, internal topics, existing sinks).
    pub partition_counts: HashMap<String, i32>,
    pub changelog_topics: Vec<String>,
    /// A producer config for the control topic (application shutdown requests).
    pub control: ClientConfig,
    pub shared: Arc<Shared>,
}

// ---------------------------------------------------------------------------------------------
// Producer side
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct DeliveryState {
    failed: Option<String>,
    /// Changelog topic → partition → largest acknowledged offset.
    acked: HashMap<String, HashMap<i32, i64>>,
}

pub(crate) struct DeliveryContext {
    state: Mutex<DeliveryState>,
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        match result {
            Ok(m) => {
                if let Some(parts) = st.acked.get_mut(m.topic()) {
                    let e = parts.entry(m.partition()).or_insert(-1);
                    *e = (*e).max(m.offset());
                }
            }
            Err((e, m)) => {
                st.failed.get_or_insert_with(|| {
                    format!("topic `{}` partition {}: {e}", m.topic(), m.partition())
                });
            }
        }
    }
}

type Producer_ = BaseProducer<DeliveryContext>;

/// Sends sink and changelog records through the thread's producer.
struct ProducerCollector {
    producer: Rc<Producer_>,
    partitions: HashMap<String, i32>,
}

impl RecordCollector for ProducerCollector {
    fn send(&mut self, r: OutRecord<'_>) -> Result<()> {
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(r.topic).timestamp(r.timestamp);
        if let Some(p) = r.partition {
            record = record.partition(p);
        }
        if let Some(k) = r.key {
            record = record.key(k);
        }
        if let Some(v) = r.value {
            record = record.payload(v);
        }
        if !r.headers.is_empty() {
            let mut h = rdkafka::message::OwnedHeaders::new();
            for header in r.headers.iter() {
                h = h.insert(rdkafka::message::Header {
                    key: header.key.as_str(),
                    value: header.value.as_deref(),
                });
            }
            record = record.headers(h);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // Backpressure: serve delivery reports until the queue has room.
                    self.producer.poll(Duration::from_millis(5));
                    record = back;
                }
                Err((e, _)) => {
                    return Err(StreamsError::broker(
                        format!("send a record to topic `{}`", r.topic),
                        e,
                    ))
                }
            }
        }
    }

    fn partition_count(&mut self, topic: &str) -> Result<i32> {
        if let Some(n) = self.partitions.get(topic) {
            return Ok(*n);
        }
        let md = self
            .producer
            .client()
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(|e| StreamsError::broker(format!("read metadata of topic `{topic}`"), e))?;
        let n = md
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len() as i32)
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                StreamsError::broker(
                    format!("write to topic `{topic}`"),
                    "the topic does not exist; create output topics before starting the application",
                )
            })?;
        self.partitions.insert(topic.to_string(), n);
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Consumer side: rebalance callbacks reach the thread state through a thread-local
// ---------------------------------------------------------------------------------------------

thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<ThreadState>>>> = const { RefCell::new(None) };
}

pub(crate) struct RebalanceContext;

impl ClientContext for RebalanceContext {}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            with_state(|st| st.on_revoke(consumer, tpl));
        }
    }
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => with_state(|st| st.on_assign(tpl)),
            Rebalance::Error(e) => with_state(|st| {
                tracing::warn!(thread = st.setup.index, error = %e, "rebalance error");
                Ok(())
            }),
            Rebalance::Revoke(_) => {}
        }
    }
}

fn with_state(f: impl FnOnce(&mut ThreadState) -> Result<()>) {
    CURRENT.with(|c| {
        if let Some(state) = c.borrow().as_ref() {
            match state.try_borrow_mut() {
                Ok(mut st) => {
                    // A rebalance callback runs inside librdkafka's C code, which a panic
                    // (from user code run by closing tasks) must not cross: it would abort.
                    let thread = thread_name(&st.setup);
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut st)))
                        .unwrap_or_else(|payload| Err(panic_error(thread, &*payload)));
                    if let Err(e) = outcome {
                        st.fatal.get_or_insert(e);
                    }
                }
                Err(_) => tracing::error!("rebalance callback while the thread state is in use"),
            }
        }
    });
}

type Consumer_ = BaseConsumer<RebalanceContext>;

// ---------------------------------------------------------------------------------------------
// Thread state
// ---------------------------------------------------------------------------------------------

enum Phase {
    /// Restoring: changelog topic (the task's partition) → progress.
    Restoring(HashMap<String, Restoration>),
    Running,
}

/// One store's restoration from its changelog partition.
struct Restoration {
    store: String,
    /// The next changelog offset to read.
    next: i64,
    started: Instant,
    restored: u64,
}

struct TaskEntry {
    task: StreamTask,
    phase: Phase,
    /// Persistent changelogs → next offset (everything before is in the local store).
    changelog_ends: BTreeMap<String, i64>,
    persistent: BTreeSet<String>,
    /// The task's metrics as last added to the client's totals.
    published: TaskMetrics,
    /// Since when some input partition of this task (of several) has had nothing buffered
    /// while others had records (`max.task.idle.ms`).
    idle_since: Option<Instant>,
    /// Waiting for data on an empty input partition (`max.task.idle.ms`).
    waiting: bool,
}

impl TaskEntry {
    /// Adds what the task counted since the last call to the client's totals.
    fn publish_metrics(&mut self, shared: &Shared) {
        let m = self.task.metrics();
        let p = &mut self.published;
        shared
            .processed
            .fetch_add(m.processed - p.processed, Ordering::Relaxed);
        shared
            .dropped_records
            .fetch_add(m.dropped_records - p.dropped_records, Ordering::Relaxed);
        shared
            .punctuations
            .fetch_add(m.punctuations - p.punctuations, Ordering::Relaxed);
        *p = m.clone();
    }
}

struct ThreadState {
    setup: ThreadSetup,
    producer: Rc<Producer_>,
    collector: SharedCollector,
    budget: Rc<CacheBudget>,
    backends: Backends,
    tasks: BTreeMap<TaskId, TaskEntry>,
    /// Topic → partition → (task, queue).
    routes: HashMap<String, HashMap<i32, (TaskId, usize)>>,
    /// Partitions assigned but whose tasks are not created yet.
    pending: Vec<(String, i32)>,
    paused: BTreeSet<(String, i32)>,
    /// One restore consumer per changelog topic (partition EOF events carry no topic name).
    restorers: HashMap<String, BaseConsumer>,
    fatal: Option<StreamsError>,
    /// An assignment arrived since the last revocation.
    assigned: bool,
    last_commit: Instant,
    /// The last successful offset commit (or the thread's start).
    last_offsets_commit: Instant,
    started: Instant,
}

/// `<application.id>-StreamThread-<n>`, as the OS thread is named.
fn thread_name(setup: &ThreadSetup) -> String {
    format!("{}-StreamThread-{}", setup.application_id, setup.index)
}

/// A panic caught on a stream thread, as the error the uncaught-error policy handles.
fn panic_error(thread: String, payload: &(dyn std::any::Any + Send)) -> StreamsError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    StreamsError::Panic { thread, message }
}

/// Runs one stream thread until shutdown, or until an error the uncaught-error policy does not
/// answer with a replacement. A panic counts as an error: the thread never dies leaving the
/// client `Running`.
pub(crate) fn run(setup: ThreadSetup) {
    let shared = setup.shared.clone();
    let index = setup.index;
    loop {
        shared.set_phase(index, ThreadPhase::Starting);
        let attempt = setup.clone();
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| run_inner(attempt)))
            .unwrap_or_else(|payload| Err(panic_error(thread_name(&setup), &*payload)));
        // Drops the failed attempt's tasks and stores (RocksDB locks released).
        CURRENT.with(|c| c.borrow_mut().take());
        let e = match result {
            Ok(()) => {
                shared.set_phase(index, ThreadPhase::Dead);
                return;
            }
            Err(e) => e,
        };
        tracing::error!(thread = index, error = %e, "stream thread failed");
        match shared.response_to(&e) {
            StreamThreadExceptionResponse::ReplaceThread => {
                shared.replaced_threads.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(thread = index, "replacing the failed stream thread");
                // Pace replacements of an error that repeats at once (it may be a poison
                // record): the client can still be closed meanwhile.
                let resume = Instant::now() + Duration::from_millis(500);
                while Instant::now() < resume && !shared.shutdown.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if shared.shutdown.load(Ordering::Relaxed) {
                    shared.set_phase(index, ThreadPhase::Dead);
                    return;
                }
            }
            StreamThreadExceptionResponse::ShutdownClient => {
                shared.fail(index, e);
                return;
            }
            StreamThreadExceptionResponse::ShutdownApplication => {
                let requester = format!("{}-{}", setup.application_id, std::process::id());
                let reason = e.to_string();
                // This client's own error first: its control watcher will see the request too.
                shared.fail(index, e);
                if let Err(send) = super::control::request_shutdown(
                    &setup.application_id,
                    &setup.control,
                    &requester,
                    &reason,
                ) {
                    tracing::error!(error = %send, "cannot request the application's shutdown; shutting down this client only");
                }
                return;
            }
        }
    }
}

/// Creates the thread's producer; under `exactly_once_v2` it initializes transactions (fencing
/// any earlier producer with the same `transactional.id`) and begins the first transaction.
fn create_producer(setup: &ThreadSetup) -> Result<Rc<Producer_>> {
    let mut acked = HashMap::new();
    for t in &setup.changelog_topics {
        acked.insert(t.clone(), HashMap::new());
    }
    let producer: Producer_ = setup
        .producer
        .create_with_context(DeliveryContext {
            state: Mutex::new(DeliveryState {
                failed: None,
                acked,
            }),
        })
        .map_err(|e| StreamsError::broker("create the producer", e))?;
    if setup.exactly_once {
        producer.init_transactions(TXN_TIMEOUT).map_err(|e| {
            StreamsError::broker("initialize the transactional producer (exactly_once_v2)", e)
        })?;
        producer
            .begin_transaction()
            .map_err(|e| StreamsError::broker("begin a transaction", e))?;
    }
    Ok(Rc::new(producer))
}

fn run_inner(setup: ThreadSetup) -> Result<()> {
    let producer = create_producer(&setup)?;
    let collector: SharedCollector = Rc::new(RefCell::new(Box::new(ProducerCollector {
        producer: producer.clone(),
        partitions: setup.partition_counts.clone(),
    })));
    let consumer: Consumer_ = setup
        .consumer
        .create_with_context(RebalanceContext)
        .map_err(|e| StreamsError::broker("create the consumer", e))?;
    let topics: Vec<&str> = setup.source_topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|e| StreamsError::broker(format!("subscribe to {topics:?}"), e))?;
    let state = Rc::new(RefCell::new(ThreadState {
        budget: Rc::new(CacheBudget::new(setup.cache_max_bytes)),
        backends: Backends::new(setup.rocksdb_memory_bytes),
        setup,
        producer: producer.clone(),
        collector,
        tasks: BTreeMap::new(),
        routes: HashMap::new(),
        pending: Vec::new(),
        paused: BTreeSet::new(),
        restorers: HashMap::new(),
        fatal: None,
        assigned: false,
        last_commit: Instant::now(),
        last_offsets_commit: Instant::now(),
        started: Instant::now(),
    }));
    CURRENT.with(|c| *c.borrow_mut() = Some(state.clone()));
    let shared = state.borrow().setup.shared.clone();
    let index = state.borrow().setup.index;
    shared.set_phase(index, ThreadPhase::Rebalancing);

    let thread = thread_name(&state.borrow().setup);
    // User code runs inside (processors, punctuators, the emits of a commit): a panic there is
    // caught here, before the consumer is closed, so that it takes the failure path below,
    // which commits nothing, instead of unwinding through a revocation that would commit the
    // offsets of a half-processed batch.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        while !shared.shutdown.load(Ordering::Relaxed) {
            let (idle, budget) = {
                let st = state.borrow();
                (!st.has_work(), st.poll_budget())
            };
            // Poll without holding the state: rebalance callbacks need it.
            for i in 0..budget {
                let timeout = if i == 0 && idle {
                    Duration::from_millis(20)
                } else {
                    Duration::ZERO
                };
                match consumer.poll(timeout) {
                    None => break,
                    Some(Err(e)) => {
                        tracing::warn!(thread = index, error = %e, "consumer error (retrying)");
                        break;
                    }
                    Some(Ok(m)) => state.borrow_mut().enqueue(&consumer, &m)?,
                }
            }
            let mut st = state.borrow_mut();
            if let Some(e) = st.fatal.take() {
                return Err(e);
            }
            st.create_pending_tasks(&consumer)?;
            st.restore_step(&consumer)?;
            st.process(&consumer)?;
            st.punctuate_wall_clock()?;
            for entry in st.tasks.values_mut() {
                entry.publish_metrics(&shared);
            }
            st.producer.poll(Duration::ZERO);
            if st.last_commit.elapsed() >= st.setup.commit_interval && !st.commit_all(&consumer)? {
                st.rejoin(&consumer)?;
            }
            let phase = if st.assigned
                && st.pending.is_empty()
                && st.tasks.values().all(|t| matches!(t.phase, Phase::Running))
            {
                ThreadPhase::Running
            } else {
                ThreadPhase::Rebalancing
            };
            shared.set_phase(index, phase);
        }
        // Graceful: commit everything, close the tasks (stores flushed, checkpoints written).
        let mut st = state.borrow_mut();
        st.commit_and_close(&consumer)
    }))
    .unwrap_or_else(|payload| Err(panic_error(thread, &*payload)));
    shared.set_phase(index, ThreadPhase::PendingShutdown);
    if outcome.is_err() {
        // A failed thread commits nothing: the revocation that leaving the group triggers must
        // not reach the tasks (their last batch may be half processed), so they are dropped
        // first. Their input is processed again from the last committed offsets.
        CURRENT.with(|c| c.borrow_mut().take());
        drop(state);
    }
    // After a clean shutdown leaving the group revokes nothing left to commit: tasks are closed.
    consumer.unsubscribe();
    drop(consumer);
    outcome
}

impl ThreadState {
    /// Records to take from the consumer in this loop iteration. Backpressure works mainly by
    /// not polling: while the thread's tasks hold `buffered.records.per.partition` × its
    /// partitions, it polls nothing and librdkafka's own prefetch queue (bounded by
    /// `queued.max.messages.kbytes`) fills and stops fetching. Pausing a partition is kept for
    /// one case only, a partition past [`Self::partition_hard_cap`] (polling goes on while a
    /// task waits for another partition under `max.task.idle.ms`), because librdkafka discards
    /// a paused partition's prefetched records and fetches them again after `resume`: as the
    /// main mechanism that cost 4–5× in throughput (docs/benchmarks.md).
    fn poll_budget(&self) -> usize {
        if self.tasks.values().any(|t| t.waiting) || !self.pending.is_empty() {
            return MAX_POLL_RECORDS;
        }
        let queued: usize = self.tasks.values().map(|t| t.task.queued()).sum();
        self.thread_buffer_cap()
            .saturating_sub(queued)
            .min(MAX_POLL_RECORDS)
    }

    /// `buffered.records.per.partition` × the input partitions of this thread's tasks.
    fn thread_buffer_cap(&self) -> usize {
        let partitions: usize = self.routes.values().map(HashMap::len).sum();
        self.setup
            .buffered_per_partition
            .saturating_mul(partitions.max(1))
    }

    /// A partition's queue beyond which it is paused (until it is back at
    /// `buffered.records.per.partition`).
    fn partition_hard_cap(&self) -> usize {
        self.thread_buffer_cap().saturating_add(MAX_POLL_RECORDS)
    }

    fn has_work(&self) -> bool {
        !self.pending.is_empty()
            || self.tasks.values().any(|t| match t.phase {
                Phase::Restoring(_) => true,
                Phase::Running => t.task.queued() > 0 && !t.waiting,
            })
    }

    fn on_assign(&mut self, tpl: &TopicPartitionList) -> Result<()> {
        for e in tpl.elements() {
            self.pending.push((e.topic().to_string(), e.partition()));
        }
        self.assigned = true;
        tracing::info!(
            thread = self.setup.index,
            partitions = tpl.count(),
            "partitions assigned"
        );
        Ok(())
    }

    fn on_revoke(&mut self, consumer: &Consumer_, tpl: &TopicPartitionList) -> Result<()> {
        tracing::info!(
            thread = self.setup.index,
            partitions = tpl.count(),
            "partitions revoked"
        );
        // Eager protocol: everything is revoked. Commit, then close every task; tasks that come
        // back to this instance restore only the changelog tail past their checkpoint.
        self.commit_and_close(consumer)?;
        self.pending.clear();
        self.paused.clear();
        self.assigned = false;
        Ok(())
    }

    fn task_env(&self) -> TaskEnv<'_> {
        TaskEnv {
            application_id: &self.setup.application_id,
            state_dir: &self.setup.state_dir,
            collector: self.collector.clone(),
            budget: self.budget.clone(),
            backends: &self.backends,
            config: self.setup.task_config,
            wall_clock: now_ms(),
        }
    }

    /// Creates the tasks of newly assigned partitions and starts restoring their stores.
    fn create_pending_tasks(&mut self, consumer: &Consumer_) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let mut wanted: BTreeSet<(usize, i32)> = BTreeSet::new();
        for (topic, p) in &pending {
            if let Some(readers) = self.setup.readers.get(topic) {
                for (sub, _) in readers {
                    wanted.insert((*sub, *p));
                }
            }
        }
        let mut to_pause = TopicPartitionList::new();
        for (sub, p) in wanted {
            let id = TaskId {
                subtopology: self.setup.plan.subtopologies[sub].id,
                partition: p,
            };
            if self.tasks.contains_key(&id) {
                continue;
            }
            let mut task = StreamTask::new(self.setup.plan.clone(), sub, p, self.task_env())?;
            let starts = task.restore_start_offsets()?;
            if self.setup.exactly_once {
                // Under exactly-once the local state may run ahead of the last committed
                // transaction until the next clean close: without the file, a crash means a
                // wipe and a restore of committed data only.
                Checkpoint::delete(&task.task_dir().join(CHECKPOINT_FILE))?;
            }
            let mut restoring = HashMap::new();
            let mut changelog_ends = BTreeMap::new();
            let mut persistent = BTreeSet::new();
            for (c, from) in starts {
                if c.persistent {
                    persistent.insert(c.topic.clone());
                    changelog_ends.insert(c.topic.clone(), from);
                }
                restoring.insert(
                    c.topic.clone(),
                    Restoration {
                        store: c.store.clone(),
                        next: from,
                        started: Instant::now(),
                        restored: 0,
                    },
                );
            }
            for (qi, q) in task.queues().iter().enumerate() {
                self.routes
                    .entry(q.topic.to_string())
                    .or_default()
                    .insert(q.partition, (id, qi));
            }
            let phase = if restoring.is_empty() {
                task.initialize()?;
                Phase::Running
            } else {
                for q in task.queues() {
                    to_pause.add_partition(&q.topic, q.partition);
                    self.paused.insert((q.topic.to_string(), q.partition));
                }
                let listener = self.setup.shared.restore_listener();
                for (topic, progress) in &restoring {
                    let from = &progress.next;
                    if let Some(l) = &listener {
                        l.on_restore_start(topic, p, &progress.store, *from);
                    }
                    if !self.restorers.contains_key(topic) {
                        let r: BaseConsumer =
                            self.setup.restore.create().map_err(|e| {
                                StreamsError::broker("create a restore consumer", e)
                            })?;
                        self.restorers.insert(topic.clone(), r);
                    }
                    let Some(restorer) = self.restorers.get(topic) else {
                        continue;
                    };
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition_offset(topic, p, Offset::Offset(*from))
                        .map_err(|e| {
                            StreamsError::broker(format!("restore `{topic}` partition {p}"), e)
                        })?;
                    restorer.incremental_assign(&tpl).map_err(|e| {
                        StreamsError::broker(format!("restore `{topic}` partition {p}"), e)
                    })?;
                }
                tracing::info!(task = %id, stores = restoring.len(), "restoring state from changelogs");
                Phase::Restoring(restoring)
            };
            self.tasks.insert(
                id,
                TaskEntry {
                    task,
                    phase,
                    changelog_ends,
                    persistent,
                    published: TaskMetrics::default(),
                    idle_since: None,
                    waiting: false,
                },
            );
        }
        if to_pause.count() > 0 {
            consumer
                .pause(&to_pause)
                .map_err(|e| StreamsError::broker("pause partitions of restoring tasks", e))?;
        }
        Ok(())
    }

    /// Reads a batch from each restoring changelog and applies it; tasks whose changelogs all
    /// reached their end are initialized and resumed.
    fn restore_step(&mut self, consumer: &Consumer_) -> Result<()> {
        if !self
            .tasks
            .values()
            .any(|t| matches!(t.phase, Phase::Restoring(_)))
        {
            return Ok(());
        }
        let busy = self
            .tasks
            .values()
            .any(|t| matches!(t.phase, Phase::Running) && t.task.queued() > 0);
        let topics: Vec<String> = self.restorers.keys().cloned().collect();
        let mut finished: Vec<(TaskId, String)> = Vec::new();
        for topic in topics {
            let Some(restorer) = self.restorers.get(&topic) else {
                continue;
            };
            // partition → records read this step
            let mut batches: HashMap<i32, Vec<RestoredRecord>> = HashMap::new();
            let mut eof: Vec<i32> = Vec::new();
            for i in 0..RESTORE_BATCH {
                let timeout = if i == 0 && !busy {
                    Duration::from_millis(10)
                } else {
                    Duration::ZERO
                };
                match restorer.poll(timeout) {
                    None => break,
                    Some(Err(KafkaError::PartitionEOF(p))) => eof.push(p),
                    Some(Err(e)) => {
                        tracing::warn!(topic = %topic, error = %e, "restore consumer error (retrying)");
                        break;
                    }
                    Some(Ok(m)) => {
                        batches.entry(m.partition()).or_default().push((
                            m.key().unwrap_or_default().to_vec(),
                            m.payload().map(<[u8]>::to_vec),
                            m.timestamp().to_millis().unwrap_or(0),
                            m.offset(),
                        ));
                    }
                }
            }
            for (p, batch) in batches {
                let Some((id, entry)) = self.tasks.iter_mut().find(|(id, t)| {
                    id.partition == p
                        && matches!(&t.phase, Phase::Restoring(r) if r.contains_key(&topic))
                }) else {
                    continue;
                };
                let Phase::Restoring(r) = &mut entry.phase else {
                    continue;
                };
                let Some(progress) = r.get_mut(&topic) else {
                    continue;
                };
                let records: Vec<ChangelogRecord<'_>> = batch
                    .iter()
                    .map(|(k, v, ts, _)| ChangelogRecord {
                        key: k,
                        value: v.as_deref(),
                        timestamp: *ts,
                    })
                    .collect();
                entry.task.restore(&progress.store, &records)?;
                progress.restored += records.len() as u64;
                if let Some((_, _, _, last)) = batch.last() {
                    progress.next = last + 1;
                    if entry.persistent.contains(&topic) {
                        entry.changelog_ends.insert(topic.clone(), last + 1);
                    }
                }
                if let Some(l) = self.setup.shared.restore_listener() {
                    l.on_batch_restored(
                        &topic,
                        p,
                        &progress.store,
                        progress.next,
                        records.len() as u64,
                    );
                }
                tracing::debug!(task = %id, store = %progress.store, records = batch.len(), "restored a batch");
            }
            for p in eof {
                if let Some((id, _)) = self.tasks.iter().find(|(id, t)| {
                    id.partition == p
                        && matches!(&t.phase, Phase::Restoring(r) if r.contains_key(&topic))
                }) {
                    finished.push((*id, topic.clone()));
                }
            }
        }
        for (id, topic) in finished {
            let Some(entry) = self.tasks.get_mut(&id) else {
                continue;
            };
            let Phase::Restoring(r) = &mut entry.phase else {
                continue;
            };
            if let Some(done) = r.remove(&topic) {
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
                if let Some(l) = self.setup.shared.restore_listener() {
                    l.on_restore_end(&topic, id.partition, &done.store, done.restored, duration);
                }
                if let Some(restorer) = self.restorers.get(&topic) {
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition(&topic, id.partition);
                    restorer.incremental_unassign(&tpl).map_err(|e| {
                        StreamsError::broker(format!("stop restoring `{topic}`"), e)
                    })?;
                }
            }
            if r.is_empty() {
                entry.task.initialize()?;
                entry.phase = Phase::Running;
                let mut tpl = TopicPartitionList::new();
                for q in entry.task.queues() {
                    tpl.add_partition(&q.topic, q.partition);
                    self.paused.remove(&(q.topic.to_string(), q.partition));
                }
                consumer
                    .resume(&tpl)
                    .map_err(|e| StreamsError::broker("resume partitions of a restored task", e))?;
                tracing::info!(task = %id, elapsed_ms = self.started.elapsed().as_millis() as u64, "task running");
            }
        }
        Ok(())
    }

    fn enqueue(&mut self, consumer: &Consumer_, m: &BorrowedMessage<'_>) -> Result<()> {
        let route = |st: &Self| {
            st.routes
                .get(m.topic())
                .and_then(|parts| parts.get(&m.partition()))
                .copied()
        };
        let mut found = route(self);
        if found.is_none() && !self.pending.is_empty() {
            // The first records of a partition assigned in this very poll: create its task now
            // (the consumer's position has moved past them).
            self.create_pending_tasks(consumer)?;
            found = route(self);
        }
        let Some((id, qi)) = found else {
            // A record for a partition whose task is gone (revoked): the new owner re-reads it
            // from the committed offset.
            return Ok(());
        };
        let Some(entry) = self.tasks.get_mut(&id) else {
            return Ok(());
        };
        let headers = match m.headers() {
            None => Headers::new(),
            Some(h) => {
                let mut out = Headers::new();
                for header in h.iter() {
                    out.add(header.key, header.value.map(<[u8]>::to_vec));
                }
                out
            }
        };
        entry.task.enqueue(
            qi,
            RawRecord {
                key: m.key(),
                value: m.payload(),
                timestamp: m.timestamp().to_millis().unwrap_or(-1),
                offset: m.offset(),
                headers: &headers,
            },
        )?;
        if entry.task.queued_in(qi) >= self.partition_hard_cap() {
            let key = (m.topic().to_string(), m.partition());
            if self.paused.insert(key) {
                let mut tpl = TopicPartitionList::new();
                tpl.add_partition(m.topic(), m.partition());
                // librdkafka drops what it fetched past the last delivered record and fetches
                // from there again after `resume`: nothing is lost or delivered twice.
                consumer.pause(&tpl).map_err(|e| {
                    StreamsError::broker(
                        format!("pause `{}` partition {}", m.topic(), m.partition()),
                        e,
                    )
                })?;
            }
        }
        Ok(())
    }

    fn process(&mut self, consumer: &Consumer_) -> Result<()> {
        let mut resume = TopicPartitionList::new();
        let max_idle = self.setup.max_task_idle;
        for entry in self.tasks.values_mut() {
            if !matches!(entry.phase, Phase::Running) {
                continue;
            }
            entry.waiting = false;
            if !max_idle.is_zero() && entry.task.queues().len() > 1 {
                let n = entry.task.queues().len();
                let empty = (0..n).any(|qi| entry.task.queued_in(qi) == 0);
                if !empty {
                    entry.idle_since = None;
                } else if entry.task.queued() > 0 {
                    // Some partitions have records, some none: wait for the others (up to
                    // max.task.idle.ms) so that records are processed in timestamp order.
                    let since = *entry.idle_since.get_or_insert_with(Instant::now);
                    if since.elapsed() < max_idle {
                        entry.waiting = true;
                        continue;
                    }
                }
            }
            for _ in 0..MAX_PROCESS_PER_TASK {
                if !entry.task.process_one()? {
                    break;
                }
            }
            for (qi, q) in entry.task.queues().iter().enumerate() {
                let key = (q.topic.to_string(), q.partition);
                if self.paused.contains(&key)
                    && entry.task.queued_in(qi) <= self.setup.buffered_per_partition
                {
                    self.paused.remove(&key);
                    resume.add_partition(&q.topic, q.partition);
                }
            }
        }
        if resume.count() > 0 {
            consumer
                .resume(&resume)
                .map_err(|e| StreamsError::broker("resume partitions", e))?;
        }
        Ok(())
    }

    fn punctuate_wall_clock(&mut self) -> Result<()> {
        let now = now_ms();
        for entry in self.tasks.values_mut() {
            if matches!(entry.phase, Phase::Running) {
                entry.task.advance_wall_clock(now)?;
                entry.task.punctuate(PunctuationType::WallClockTime)?;
            }
        }
        Ok(())
    }

    /// Commits, then (when the commit went through) writes checkpoints and closes every task;
    /// a failed exactly-once commit has closed them dirty already.
    fn commit_and_close(&mut self, consumer: &Consumer_) -> Result<()> {
        if self.commit_all(consumer)? {
            if self.setup.exactly_once {
                self.write_checkpoints()?;
            }
            self.close_all()
        } else {
            Ok(())
        }
    }

    /// The commit protocol. Flush caches and stores (changelog records sent), then
    /// - at-least-once: wait until the producer has every record acknowledged, commit the input
    ///   offsets, write checkpoints;
    /// - exactly-once: add the input offsets to the open transaction and commit it (checkpoints
    ///   are written on a clean close only).
    ///
    /// Returns false when an exactly-once transaction could not commit: it was aborted, the
    /// tasks were closed dirty (their state is wiped and restored when they come back), and the
    /// caller rejoins the group so that processing resumes from the committed offsets.
    fn commit_all(&mut self, consumer: &Consumer_) -> Result<bool> {
        for entry in self.tasks.values_mut() {
            if matches!(entry.phase, Phase::Running) {
                entry.task.commit()?;
            }
        }
        let mut offsets = TopicPartitionList::new();
        for entry in self.tasks.values() {
            if !matches!(entry.phase, Phase::Running) {
                continue;
            }
            for q in entry.task.queues() {
                if q.consumed >= 0 {
                    offsets
                        .add_partition_offset(&q.topic, q.partition, Offset::Offset(q.consumed))
                        .map_err(|e| StreamsError::broker("build the offsets to commit", e))?;
                }
            }
        }
        if self.setup.exactly_once {
            return self.commit_transaction(consumer, &offsets);
        }
        self.producer.flush(FLUSH_TIMEOUT).map_err(|e| {
            StreamsError::broker("flush the producer (wait for acknowledgements)", e)
        })?;
        if let Some(why) = self.take_delivery_failure()? {
            return Err(StreamsError::broker("deliver records", why));
        }
        if offsets.count() > 0 {
            match consumer.commit(&offsets, CommitMode::Sync) {
                Ok(()) => self.last_offsets_commit = Instant::now(),
                // A failed offset commit loses nothing (the records are processed again after a
                // restart: at-least-once), so it is retried at the next commit; only a cluster
                // that refuses commits for `task.timeout.ms` stops the thread.
                Err(e) if self.last_offsets_commit.elapsed() < self.setup.task_timeout => {
                    tracing::warn!(thread = self.setup.index, error = %e, "offset commit failed; retrying at the next commit");
                }
                Err(e) => {
                    return Err(StreamsError::broker(
                        format!(
                            "commit the input offsets of {} partitions: every commit failed for \
                             {:?}, more than `task.timeout.ms` ({:?})",
                            offsets.count(),
                            self.last_offsets_commit.elapsed(),
                            self.setup.task_timeout
                        ),
                        e,
                    ))
                }
            }
        }
        self.write_checkpoints()?;
        self.last_commit = Instant::now();
        Ok(true)
    }

    fn take_delivery_failure(&self) -> Result<Option<String>> {
        let ctx = self.producer.context();
        let mut st = ctx
            .state
            .lock()
            .map_err(|_| StreamsError::Internal("delivery state poisoned".into()))?;
        Ok(st.failed.take())
    }

    /// Exactly-once: the input offsets join the open transaction, which then commits.
    fn commit_transaction(
        &mut self,
        consumer: &Consumer_,
        offsets: &TopicPartitionList,
    ) -> Result<bool> {
        if let Some(why) = self.take_delivery_failure()? {
            // librdkafka has made the transaction abortable already; the commit below fails.
            tracing::warn!(thread = self.setup.index, error = %why, "a record of this transaction was not delivered");
        }
        let group = if offsets.count() > 0 {
            Some(consumer.group_metadata().ok_or_else(|| {
                StreamsError::broker(
                    "commit a transaction",
                    "the consumer has no group metadata (not a group member)",
                )
            })?)
        } else {
            None
        };
        let mut attempt = 0;
        let result = loop {
            let r = match &group {
                Some(g) => self
                    .producer
                    .send_offsets_to_transaction(offsets, g, TXN_TIMEOUT)
                    .and_then(|()| self.producer.commit_transaction(TXN_TIMEOUT)),
                None => self.producer.commit_transaction(TXN_TIMEOUT),
            };
            match r {
                Err(KafkaError::Transaction(e)) if e.is_retriable() && attempt < 5 => {
                    attempt += 1;
                    tracing::warn!(thread = self.setup.index, error = %e, attempt, "transaction commit failed; retrying");
                }
                other => break other,
            }
        };
        match result {
            Ok(()) => {
                self.producer
                    .begin_transaction()
                    .map_err(|e| StreamsError::broker("begin a transaction", e))?;
                self.note_acked_changelog_offsets()?;
                self.last_offsets_commit = Instant::now();
                self.last_commit = Instant::now();
                Ok(true)
            }
            Err(e) => {
                let fatal = matches!(&e, KafkaError::Transaction(t) if t.is_fatal());
                tracing::warn!(
                    thread = self.setup.index,
                    error = %e,
                    fatal,
                    "the transaction could not commit: aborting it, closing the tasks dirty (their state is restored from the changelogs) and rejoining the group"
                );
                self.close_dirty_all();
                let aborted = !fatal
                    && match self.producer.abort_transaction(TXN_TIMEOUT) {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::warn!(thread = self.setup.index, error = %e, "abort failed; replacing the producer");
                            false
                        }
                    };
                if aborted {
                    self.producer
                        .begin_transaction()
                        .map_err(|e| StreamsError::broker("begin a transaction", e))?;
                } else {
                    // Fenced or otherwise fatal: a new producer (same transactional.id) fences
                    // whatever is left of the old one.
                    let producer = create_producer(&self.setup)?;
                    *self.collector.borrow_mut() = Box::new(ProducerCollector {
                        producer: producer.clone(),
                        partitions: self.setup.partition_counts.clone(),
                    });
                    self.producer = producer;
                }
                self.last_commit = Instant::now();
                Ok(false)
            }
        }
    }

    /// Leaves and rejoins the group: the new assignment restarts every partition at its
    /// committed offset.
    fn rejoin(&mut self, consumer: &Consumer_) -> Result<()> {
        self.pending.clear();
        self.paused.clear();
        self.assigned = false;
        consumer.unsubscribe();
        let topics: Vec<&str> = self
            .setup
            .source_topics
            .iter()
            .map(String::as_str)
            .collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| StreamsError::broker(format!("subscribe to {topics:?} again"), e))
    }

    /// Moves each running task's changelog end offsets past what the producer has acknowledged.
    fn note_acked_changelog_offsets(&mut self) -> Result<()> {
        let acked = {
            let ctx = self.producer.context();
            let st = ctx
                .state
                .lock()
                .map_err(|_| StreamsError::Internal("delivery state poisoned".into()))?;
            st.acked.clone()
        };
        for (id, entry) in self.tasks.iter_mut() {
            if !matches!(entry.phase, Phase::Running) {
                continue;
            }
            for topic in entry.persistent.iter() {
                if let Some(off) = acked.get(topic).and_then(|p| p.get(&id.partition)) {
                    let end = entry.changelog_ends.entry(topic.clone()).or_insert(0);
                    *end = (*end).max(off + 1);
                }
            }
        }
        Ok(())
    }

    /// Writes each running task's checkpoint: its persistent changelogs' end offsets.
    fn write_checkpoints(&mut self) -> Result<()> {
        self.note_acked_changelog_offsets()?;
        for (id, entry) in self.tasks.iter_mut() {
            if !matches!(entry.phase, Phase::Running) || entry.persistent.is_empty() {
                continue;
            }
            let checkpoint = Checkpoint {
                offsets: entry
                    .changelog_ends
                    .iter()
                    .map(|(t, o)| ((t.clone(), id.partition), *o))
                    .collect(),
            };
            std::fs::create_dir_all(entry.task.task_dir()).map_err(|e| StreamsError::StateIo {
                action: "create the task directory".into(),
                path: entry.task.task_dir().to_path_buf(),
                source: e,
            })?;
            checkpoint.write(&entry.task.task_dir().join(CHECKPOINT_FILE))?;
        }
        Ok(())
    }

    /// Closes every task without committing: cached and uncommitted writes are dropped, stores
    /// emptied (they have no checkpoint, so they restore from their changelogs when they come
    /// back).
    fn close_dirty_all(&mut self) {
        for (id, mut entry) in std::mem::take(&mut self.tasks) {
            if let Err(e) = entry.task.close_dirty() {
                tracing::warn!(task = %id, error = %e, "closing a task dirty failed");
            }
        }
        self.routes.clear();
        self.unassign_restorers();
    }

    fn close_all(&mut self) -> Result<()> {
        let mut first = None;
        for (_, mut entry) in std::mem::take(&mut self.tasks) {
            entry.publish_metrics(&self.setup.shared);
            if let Err(e) = entry.task.close() {
                first.get_or_insert(e);
            }
        }
        self.routes.clear();
        self.unassign_restorers();
        first.map_or(Ok(()), Err)
    }

    fn unassign_restorers(&self) {
        for (topic, restorer) in &self.restorers {
            if let Ok(tpl) = restorer.assignment() {
                if tpl.count() > 0 {
                    if let Err(e) = restorer.incremental_unassign(&tpl) {
                        tracing::warn!(topic = %topic, error = %e, "cannot unassign a restore consumer");
                    }
                }
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
