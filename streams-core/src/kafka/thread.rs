//! A stream thread: one consumer (group member), one producer, the tasks of its assigned
//! partitions, and the loop poll → restore → process → punctuate → commit.
//!
//! Tasks hold `Rc` store handles, so they are created, run and closed on this thread only.
//! Rebalance callbacks run inside `consumer.poll` on this thread; they reach the thread's state
//! through a thread-local, so revocation can commit and close tasks before the partitions go.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
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

use crate::collector::{OutRecord, RecordCollector};
use crate::config::ExceptionHandler;
use crate::error::{Result, StreamsError};
use crate::kafka::purge::Purger;
use crate::kafka::restore::KafkaChangelogReader;
use crate::kafka::shared::{Shared, StreamThreadExceptionResponse, ThreadPhase};
use crate::processor::internals::plan::TopologyPlan;
use crate::processor::internals::task::TaskConfig;
use crate::processor::internals::task_dirs::remove_obsolete;
use crate::processor::internals::task_manager::{
    InputOffset, InputPartitions, ManagerConfig, OutputSink, TaskManager,
};
use crate::record::{Headers, RawRecord};
use crate::state::cache::CacheBudget;
use crate::state::internals::backends::Backends;
use crate::state::store::SharedCollector;

/// Records taken from the consumer per loop iteration at most.
const MAX_POLL_RECORDS: usize = 2_000;
/// Records one task processes per loop iteration at most.
const MAX_PROCESS_PER_TASK: usize = 2_000;
/// How long a commit waits for the producer to have every record acknowledged.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a transactional call (init, send offsets, commit, abort) may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// `state.cleanup.delay.ms`: thread 0 deletes task directories unused for that long.
    pub state_cleanup_delay: Duration,
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
    /// Changelog and repartition topics.
    pub internal_topics: Arc<HashSet<String>>,
    /// Repartition topics: purged below the committed offsets.
    pub repartition_topics: Arc<HashSet<String>>,
    /// `repartition.purge.interval.ms`.
    pub purge_interval: Duration,
    /// Admin client settings (for DeleteRecords).
    pub admin: ClientConfig,
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
    /// Records of output topics the broker rejected, skipped by the production handler since
    /// the last look.
    skipped: u64,
    /// Changelog topic → partition → largest acknowledged offset.
    acked: HashMap<String, HashMap<i32, i64>>,
}

pub(crate) struct DeliveryContext {
    state: Mutex<DeliveryState>,
    /// `default.production.exception.handler`.
    production: ExceptionHandler,
    /// Changelog and repartition topics: a failed delivery there always fails the thread.
    internal: Arc<HashSet<String>>,
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
                if self.production == ExceptionHandler::LogAndContinue
                    && !self.internal.contains(m.topic())
                {
                    tracing::warn!(topic = m.topic(), partition = m.partition(), error = %e, "skipping a record the broker rejected (default.production.exception.handler: LogAndContinue)");
                    st.skipped += 1;
                    return;
                }
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
                    return Err(StreamsError::Production {
                        topic: r.topic.to_string(),
                        source: Box::new(e),
                    })
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
            .map_err(|e| StreamsError::kafka(format!("read metadata of topic `{topic}`"), e))?;
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
// Thread state: the task manager and the Kafka clients it works through
// ---------------------------------------------------------------------------------------------

/// The producer side of the thread: what the sink commits through.
struct Output {
    producer: Rc<Producer_>,
    collector: SharedCollector,
    /// The last successful offset commit (or the thread's start).
    last_offsets_commit: Instant,
    /// The offsets of the last successful commit, for the repartition purge.
    committed: Vec<InputOffset>,
}

struct ThreadState {
    setup: ThreadSetup,
    output: Output,
    manager: TaskManager,
    reader: KafkaChangelogReader,
    /// Partitions assigned but whose tasks are not created yet.
    pending: Vec<(String, i32)>,
    fatal: Option<StreamsError>,
    /// An assignment arrived since the last revocation.
    assigned: bool,
    last_commit: Instant,
    started: Instant,
    /// The last look for obsolete task directories.
    last_cleanup: Instant,
    purger: Purger,
}

/// Pauses and resumes the consumer's partitions.
struct KafkaInput<'a>(&'a Consumer_);

impl InputPartitions for KafkaInput<'_> {
    fn pause(&mut self, partitions: &[(String, i32)]) -> Result<()> {
        self.0
            .pause(&partition_list(partitions))
            .map_err(|e| StreamsError::kafka(format!("pause {}", describe(partitions)), e))
    }
    fn resume(&mut self, partitions: &[(String, i32)]) -> Result<()> {
        self.0
            .resume(&partition_list(partitions))
            .map_err(|e| StreamsError::kafka(format!("resume {}", describe(partitions)), e))
    }
}

fn partition_list(partitions: &[(String, i32)]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for (t, p) in partitions {
        tpl.add_partition(t, *p);
    }
    tpl
}

fn describe(partitions: &[(String, i32)]) -> String {
    let parts: Vec<String> = partitions
        .iter()
        .map(|(t, p)| format!("`{t}` partition {p}"))
        .collect();
    parts.join(", ")
}

/// Commits through the thread's producer and consumer.
struct KafkaSink<'a> {
    out: &'a mut Output,
    consumer: &'a Consumer_,
    setup: &'a ThreadSetup,
}

impl OutputSink for KafkaSink<'_> {
    fn commit(&mut self, offsets: &[InputOffset]) -> Result<bool> {
        let mut tpl = TopicPartitionList::new();
        for o in offsets {
            tpl.add_partition_offset(&o.topic, o.partition, Offset::Offset(o.offset))
                .map_err(|e| {
                    StreamsError::kafka(
                        format!(
                            "commit offset {} of `{}` partition {}",
                            o.offset, o.topic, o.partition
                        ),
                        e,
                    )
                })?;
        }
        if self.setup.exactly_once {
            return self.commit_transaction(&tpl);
        }
        self.out.producer.flush(FLUSH_TIMEOUT).map_err(|e| {
            StreamsError::kafka("flush the producer (wait for acknowledgements)", e)
        })?;
        if let Some(why) = take_delivery_failure(&self.out.producer)? {
            return Err(StreamsError::broker("deliver records", why));
        }
        if tpl.count() > 0 {
            match self.consumer.commit(&tpl, CommitMode::Sync) {
                Ok(()) => {
                    self.out.last_offsets_commit = Instant::now();
                    self.out.committed = offsets.to_vec();
                }
                // A failed offset commit loses nothing (the records are processed again after a
                // restart: at-least-once), so it is retried at the next commit; only a cluster
                // that refuses commits for `task.timeout.ms` stops the thread.
                Err(e) if self.out.last_offsets_commit.elapsed() < self.setup.task_timeout => {
                    tracing::warn!(thread = self.setup.index, error = %e, "offset commit failed; retrying at the next commit");
                }
                Err(e) => {
                    return Err(StreamsError::kafka(
                        format!(
                            "commit the input offsets of {} partitions: every commit failed for \
                             {:?}, more than `task.timeout.ms` ({:?})",
                            tpl.count(),
                            self.out.last_offsets_commit.elapsed(),
                            self.setup.task_timeout
                        ),
                        e,
                    ))
                }
            }
        }
        Ok(true)
    }

    fn acked_end(&self, topic: &str, partition: i32) -> Option<i64> {
        let ctx = self.out.producer.context();
        let st = ctx.state.lock().unwrap_or_else(|p| p.into_inner());
        st.acked
            .get(topic)
            .and_then(|parts| parts.get(&partition))
            .map(|last| last + 1)
    }
}

impl KafkaSink<'_> {
    /// Exactly-once: the input offsets join the open transaction, which then commits. A
    /// transaction that cannot commit is aborted (`Ok(false)`); a fenced or otherwise fatal
    /// producer is replaced.
    fn commit_transaction(&mut self, offsets: &TopicPartitionList) -> Result<bool> {
        let index = self.setup.index;
        if let Some(why) = take_delivery_failure(&self.out.producer)? {
            // librdkafka has made the transaction abortable already; the commit below fails.
            tracing::warn!(thread = index, error = %why, "a record of this transaction was not delivered");
        }
        let group = if offsets.count() > 0 {
            Some(self.consumer.group_metadata().ok_or_else(|| {
                StreamsError::broker(
                    "commit a transaction",
                    "the consumer has no group metadata (not a group member)",
                )
            })?)
        } else {
            None
        };
        let producer = &self.out.producer;
        let mut attempt = 0;
        let result = loop {
            let r = match &group {
                Some(g) => producer
                    .send_offsets_to_transaction(offsets, g, TXN_TIMEOUT)
                    .and_then(|()| producer.commit_transaction(TXN_TIMEOUT)),
                None => producer.commit_transaction(TXN_TIMEOUT),
            };
            match r {
                Err(KafkaError::Transaction(e)) if e.is_retriable() && attempt < 5 => {
                    attempt += 1;
                    tracing::warn!(thread = index, error = %e, attempt, "transaction commit failed; retrying");
                }
                other => break other,
            }
        };
        let e = match result {
            Ok(()) => {
                producer
                    .begin_transaction()
                    .map_err(|e| StreamsError::kafka("begin a transaction", e))?;
                self.out.last_offsets_commit = Instant::now();
                self.out.committed = offsets_list(offsets);
                return Ok(true);
            }
            Err(e) => e,
        };
        let fatal = matches!(&e, KafkaError::Transaction(t) if t.is_fatal());
        tracing::warn!(
            thread = index,
            error = %e,
            fatal,
            "the transaction could not commit: aborting it, closing the tasks dirty (their state is restored from the changelogs) and rejoining the group"
        );
        let aborted = !fatal
            && match producer.abort_transaction(TXN_TIMEOUT) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(thread = index, error = %e, "abort failed; replacing the producer");
                    false
                }
            };
        if aborted {
            producer
                .begin_transaction()
                .map_err(|e| StreamsError::kafka("begin a transaction", e))?;
        } else {
            // Fenced or otherwise fatal: a new producer (same transactional.id) fences whatever
            // is left of the old one.
            let producer = create_producer(self.setup)?;
            *self.out.collector.borrow_mut() = Box::new(ProducerCollector {
                producer: producer.clone(),
                partitions: self.setup.partition_counts.clone(),
            });
            self.out.producer = producer;
        }
        Ok(false)
    }
}

/// Records the production handler skipped since the last call.
fn take_skipped(producer: &Producer_) -> u64 {
    let ctx = producer.context();
    let mut st = ctx.state.lock().unwrap_or_else(|p| p.into_inner());
    std::mem::take(&mut st.skipped)
}

/// The input offsets in a partition list (the transaction's).
fn offsets_list(tpl: &TopicPartitionList) -> Vec<InputOffset> {
    tpl.elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(offset) => Some(InputOffset {
                topic: e.topic().to_string(),
                partition: e.partition(),
                offset,
            }),
            _ => None,
        })
        .collect()
}

fn take_delivery_failure(producer: &Producer_) -> Result<Option<String>> {
    let ctx = producer.context();
    let mut st = ctx
        .state
        .lock()
        .map_err(|_| StreamsError::Internal("delivery state poisoned".into()))?;
    Ok(st.failed.take())
}

/// `<application.id>-StreamThread-<n>`, as the OS thread is named.
fn thread_name(setup: &ThreadSetup) -> String {
    format!("{}-StreamThread-{}", setup.application_id, setup.index)
}

/// A panic caught on a stream thread, as the error the uncaught-error policy handles.
fn panic_error(thread: String, payload: &(dyn std::any::Any + Send)) -> StreamsError {
    StreamsError::Panic {
        thread,
        message: crate::error::panic_message(payload),
    }
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
                if let Err(send) = crate::kafka::control::request_shutdown(
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
                skipped: 0,
                acked,
            }),
            production: setup.task_config.production,
            internal: setup.internal_topics.clone(),
        })
        .map_err(|e| StreamsError::kafka("create the producer", e))?;
    if setup.exactly_once {
        producer.init_transactions(TXN_TIMEOUT).map_err(|e| {
            StreamsError::kafka("initialize the transactional producer (exactly_once_v2)", e)
        })?;
        producer
            .begin_transaction()
            .map_err(|e| StreamsError::kafka("begin a transaction", e))?;
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
        .map_err(|e| StreamsError::kafka("create the consumer", e))?;
    let topics: Vec<&str> = setup.source_topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|e| StreamsError::kafka(format!("subscribe to {topics:?}"), e))?;
    let manager = TaskManager::new(
        ManagerConfig {
            application_id: setup.application_id.clone(),
            plan: setup.plan.clone(),
            state_dir: setup.state_dir.clone(),
            task_config: setup.task_config.clone(),
            exactly_once: setup.exactly_once,
            buffered_per_partition: setup.buffered_per_partition,
            pause_slack: MAX_POLL_RECORDS,
            max_task_idle: setup.max_task_idle,
            restore_listener: setup.shared.restore_listener.clone(),
        },
        collector.clone(),
        Rc::new(CacheBudget::new(setup.cache_max_bytes)),
        Backends::new(setup.rocksdb_memory_bytes),
    );
    let state = Rc::new(RefCell::new(ThreadState {
        reader: KafkaChangelogReader::new(setup.restore.clone(), "restore"),
        setup,
        output: Output {
            producer,
            collector,
            last_offsets_commit: Instant::now(),
            committed: Vec::new(),
        },
        manager,
        pending: Vec::new(),
        fatal: None,
        assigned: false,
        last_commit: Instant::now(),
        started: Instant::now(),
        last_cleanup: Instant::now(),
        purger: Purger::new(),
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
            st.manager
                .process(MAX_PROCESS_PER_TASK, &mut KafkaInput(&consumer))?;
            st.manager.punctuate_wall_clock(now_ms())?;
            shared.add_metrics(&st.manager.take_metrics_delta());
            st.output.producer.poll(Duration::ZERO);
            let skipped = take_skipped(&st.output.producer);
            if skipped > 0 {
                shared.add_metrics(&crate::processor::task_metrics::TaskMetrics {
                    dropped_records: skipped,
                    ..Default::default()
                });
            }
            if st.last_commit.elapsed() >= st.setup.commit_interval && !st.commit(&consumer)? {
                st.rejoin(&consumer)?;
            }
            if st.setup.index == 0 && st.last_cleanup.elapsed() >= st.setup.state_cleanup_delay {
                st.last_cleanup = Instant::now();
                // Best effort, as Kafka Streams' cleaner: a directory that cannot be deleted
                // now is tried again next time.
                if let Err(e) = remove_obsolete(&st.setup.state_dir, st.setup.state_cleanup_delay) {
                    tracing::warn!(error = %e, "cannot delete an obsolete task directory");
                }
            }
            let phase = if st.assigned && st.pending.is_empty() && st.manager.all_running() {
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
    /// one case only, a partition past the buffer by more than a poll's worth (polling goes on
    /// while a task waits for another partition under `max.task.idle.ms`), because librdkafka
    /// discards a paused partition's prefetched records and fetches them again after `resume`:
    /// as the main mechanism that cost 4–5× in throughput (docs/benchmarks.md).
    fn poll_budget(&self) -> usize {
        if self.manager.any_waiting() || !self.pending.is_empty() {
            return MAX_POLL_RECORDS;
        }
        self.manager
            .buffer_cap()
            .saturating_sub(self.manager.queued())
            .min(MAX_POLL_RECORDS)
    }

    fn has_work(&self) -> bool {
        !self.pending.is_empty() || self.manager.has_work()
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
        self.assigned = false;
        Ok(())
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
        let mut input = KafkaInput(consumer);
        for (sub, p) in wanted {
            self.manager
                .create_task(sub, p, now_ms(), &mut self.reader, &mut input)?;
        }
        Ok(())
    }

    /// One restoration step: a batch from each restoring changelog (waiting a little when
    /// there is nothing else to do).
    fn restore_step(&mut self, consumer: &Consumer_) -> Result<()> {
        let wait = if self.manager.queued() > 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(10)
        };
        let was_restoring = !self.manager.all_running();
        let restoring = self
            .manager
            .restore(&mut self.reader, &mut KafkaInput(consumer), wait)?;
        if was_restoring && !restoring {
            tracing::info!(
                thread = self.setup.index,
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "every task restored"
            );
        }
        Ok(())
    }

    fn enqueue(&mut self, consumer: &Consumer_, m: &BorrowedMessage<'_>) -> Result<()> {
        if !self.pending.is_empty() && !self.manager.owns(m.topic(), m.partition()) {
            // The first records of a partition assigned in this very poll: create its task now
            // (the consumer's position has moved past them).
            self.create_pending_tasks(consumer)?;
        }
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
        // A record for a partition whose task is gone (revoked) is not taken: the new owner
        // re-reads it from the committed offset.
        self.manager.enqueue(
            m.topic(),
            m.partition(),
            RawRecord {
                key: m.key(),
                value: m.payload(),
                timestamp: m.timestamp().to_millis().unwrap_or(-1),
                offset: m.offset(),
                headers: &headers,
            },
            &mut KafkaInput(consumer),
        )?;
        Ok(())
    }

    /// Commits every task (see the task manager for the order). `false`: an exactly-once
    /// transaction was aborted and the tasks closed dirty; the caller rejoins the group so that
    /// processing resumes from the committed offsets.
    fn commit(&mut self, consumer: &Consumer_) -> Result<bool> {
        let mut sink = KafkaSink {
            out: &mut self.output,
            consumer,
            setup: &self.setup,
        };
        let committed = self.manager.commit(&mut sink, &mut self.reader)?;
        self.last_commit = Instant::now();
        let offsets = std::mem::take(&mut self.output.committed);
        self.purger.after_commit(
            &self.setup.admin,
            &self.setup.repartition_topics,
            self.setup.purge_interval,
            self.setup.index,
            &offsets,
        );
        Ok(committed)
    }

    /// Commits, then closes every task (checkpoints written).
    fn commit_and_close(&mut self, consumer: &Consumer_) -> Result<()> {
        let mut sink = KafkaSink {
            out: &mut self.output,
            consumer,
            setup: &self.setup,
        };
        self.manager.commit_and_close(&mut sink, &mut self.reader)?;
        self.setup
            .shared
            .add_metrics(&self.manager.take_metrics_delta());
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Leaves and rejoins the group: the new assignment restarts every partition at its
    /// committed offset.
    fn rejoin(&mut self, consumer: &Consumer_) -> Result<()> {
        self.pending.clear();
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
            .map_err(|e| StreamsError::kafka(format!("subscribe to {topics:?} again"), e))
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
